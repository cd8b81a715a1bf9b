/* Multiboot v1 (-kernel with a Multiboot header): the kernel is loaded and
 * entered in 32-bit protected mode as a Multiboot boot loader leaves it,
 * without the BIOS, as QEMU's -kernel does for such images.
 *
 * Follows the Multiboot Specification 0.6.96: 3.1 (the header: magic
 * 0x1BADB002, flags, checksum, in the first 8192 bytes, 32-bit aligned;
 * the a.out-kludge address fields of flag bit 16), 3.2 (the machine state
 * at entry), 3.3 (the boot information structure, memory map, modules).
 * Images without address fields are loaded as ELF (ELF32, or ELF64 whose
 * segments and entry lie below 4 GiB) by their PT_LOAD program headers, at
 * their physical addresses.
 *
 * -append is the command line (after the kernel's path, as GRUB and QEMU
 * pass it); -initrd is a comma-separated list of modules, each "FILE
 * [ARGS]" with ",," for a literal comma; the module's string is the
 * whole item.  The files are read once, at pc_create; every reset copies
 * them into guest RAM again and re-enters the kernel.
 */
#ifndef VIREO_MACHINE_MULTIBOOT_H
#define VIREO_MACHINE_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct Pc Pc;
typedef struct Multiboot Multiboot;

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u   /* EAX at entry */

/* Look for a Multiboot header in the kernel at `path`.  Returns 0 if there
 * is none (the caller tries other formats; nothing allocated), 1 if the
 * image, its `modules` (may be NULL) and the command line `cmdline` (may
 * be NULL) were read and placed in pc's RAM (*out is set), or -errno with
 * one line in err naming the file at fault. */
int multiboot_try_load(Pc *pc, const char *path, const char *cmdline,
                       const char *modules, Multiboot **out, char *err,
                       size_t errlen);

/* After the board's reset: copy everything into RAM, turn A20 on and put
 * the CPU at the entry point (EAX = 0x2BADB002, EBX = the information
 * structure, flat 4 GiB segments, protected mode, paging and IF off). */
void multiboot_reset(Pc *pc, Multiboot *mb);

void multiboot_free(Multiboot *mb);

/* For tests and logs: where things went. */
typedef struct MultibootLayout {
    uint32_t entry;
    uint32_t info_addr;          /* EBX */
    uint32_t kernel_start, kernel_end;   /* lowest and highest + 1 byte */
    unsigned module_count;
} MultibootLayout;

void multiboot_layout(const Multiboot *mb, MultibootLayout *out);

#endif

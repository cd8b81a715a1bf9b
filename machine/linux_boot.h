/* Direct Linux boot (-kernel, -initrd, -append): a bzImage is loaded by
 * the Linux x86 boot protocol and entered without the BIOS.
 *
 * Follows the kernel's Documentation/x86/boot.rst ("The Real-Mode Kernel
 * Header", "Details of Header Fields", "The Kernel Command Line",
 * "Loading The Rest of The Kernel", "32-bit Boot Protocol", "64-bit Boot
 * Protocol") and Documentation/x86/zero-page.rst (the layout of struct
 * boot_params).  Protocol 2.06 or newer is required: it is the first to
 * give cmdline_size, and every kernel since 2.6.22 has it.
 *
 * The files are read once, at pc_create; every reset (power-on and a
 * reboot the guest asks for) copies them into guest RAM again and puts
 * the CPU at the kernel's 64-bit entry point (XLF_KERNEL_64) or else at
 * its 32-bit one, as a boot loader would have left it.
 */
#ifndef VIREO_MACHINE_LINUX_BOOT_H
#define VIREO_MACHINE_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Pc Pc;
typedef struct LinuxBoot LinuxBoot;

/* Guest-physical addresses the loader uses below 1 MiB (all inside the
 * first 640 KiB of RAM, which Linux keeps reserved). */
#define LINUX_BOOT_GDT         0x0f000ull  /* the boot GDT */
#define LINUX_BOOT_STACK       0x0f000ull  /* a stack just below it */
#define LINUX_BOOT_PARAMS      0x10000ull  /* struct boot_params */
#define LINUX_BOOT_CMDLINE     0x20000ull  /* the command line */
#define LINUX_BOOT_CMDLINE_MAX 0x10000ull
#define LINUX_BOOT_PAGE_TABLES 0x30000ull  /* identity map: 6 pages */
#define LINUX_BOOT_KERNEL      0x100000ull /* the protected-mode kernel */

/* What the e820 map keeps at the top of low RAM, as QEMU's firmware does
 * (128 KiB); the ACPI tables (acpi_reserved_range(), machine/acpi.h) are
 * at its top. */
#define LINUX_BOOT_ACPI_RESERVE 0x20000ull

/* Read and check cfg->kernel / initrd / append, and plan where each goes
 * in pc's RAM.  Returns 0, or -errno with one line in err naming the file
 * at fault. */
int linux_boot_create(Pc *pc, LinuxBoot **out, char *err, size_t errlen);

/* After the board's reset: copy the kernel, initrd, command line and
 * boot_params into RAM, set up what the firmware would have (A20, the
 * ACPI tables, a VGA text mode), and put the CPU at the
 * kernel's entry point. */
void linux_boot_reset(Pc *pc, LinuxBoot *lb);

void linux_boot_free(LinuxBoot *lb);

/* For tests and logs: where things went. */
typedef struct LinuxBootLayout {
    uint16_t protocol;          /* e.g. 0x020f */
    bool entry64;               /* the 64-bit entry point is used */
    uint64_t kernel_addr, kernel_size;   /* the protected-mode part */
    uint64_t initrd_addr, initrd_size;
    uint64_t entry;             /* RIP at entry */
} LinuxBootLayout;

void linux_boot_layout(const LinuxBoot *lb, LinuxBootLayout *out);

#endif

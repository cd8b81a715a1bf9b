/* Direct Linux boot: load a bzImage by the Linux x86 boot protocol and
 * enter it without the BIOS (see machine/linux_boot.h).
 *
 * Facts used, from the kernel's Documentation/x86/boot.rst:
 *  - "The Real-Mode Kernel Header": the setup header sits at 0x1F1 of the
 *    file, "HdrS" at 0x202, the version at 0x206; the header ends at
 *    0x202 + the byte at 0x201 (the jump's offset).
 *  - "Loading The Rest of The Kernel": the protected-mode kernel starts at
 *    (setup_sects + 1) * 512 in the file (setup_sects 0 means 4), and a
 *    LOADED_HIGH kernel is loaded at 0x100000.
 *  - "Details of Header Fields": type_of_loader 0xFF (no registered ID),
 *    cmd_line_ptr, ramdisk_image/ramdisk_size (the initrd as high as
 *    initrd_addr_max allows, page aligned), cmdline_size, init_size (the
 *    memory the kernel needs from its load address), xloadflags bit 0
 *    XLF_KERNEL_64 (a 64-bit entry at load address + 0x200).
 *  - "32-bit Boot Protocol" / "64-bit Boot Protocol": a GDT with flat
 *    __BOOT_CS (0x10) and __BOOT_DS (0x18), interrupts off, %esi/%rsi =
 *    boot_params, %ebp = %edi = %ebx = 0; for 64-bit, paging on with the
 *    kernel, boot_params and the command line identity mapped.
 * and from Documentation/x86/zero-page.rst: screen_info at 0x000,
 * acpi_rsdp_addr at 0x070, e820_entries at 0x1E8, the setup header at
 * 0x1F1, e820_table at 0x2D0 (20-byte entries, at most 128).
 *
 * Without a BIOS, what the firmware would have set up for the kernel is
 * done here too: A20 on, the ACPI tables (machine/acpi.c, which also
 * enables the PIIX4 power-management block where the FADT puts it), and
 * the VGA in 80x25 text mode.
 */
#include "machine/linux_boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/acpi.h"
#include "machine/loadfile.h"
#include "machine/pc_internal.h"
#include "util/log.h"

/* Setup header offsets, in the file and in boot_params alike. */
enum {
    HDR_SETUP_SECTS = 0x1f1, HDR_BOOT_FLAG = 0x1fe, HDR_JUMP = 0x200,
    HDR_MAGIC = 0x202, HDR_VERSION = 0x206, HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS = 0x211, HDR_CODE32_START = 0x214, HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21c, HDR_HEAP_END_PTR = 0x224,
    HDR_CMD_LINE_PTR = 0x228, HDR_INITRD_ADDR_MAX = 0x22c,
    HDR_KERNEL_ALIGNMENT = 0x230, HDR_RELOCATABLE = 0x234,
    HDR_XLOADFLAGS = 0x236, HDR_CMDLINE_SIZE = 0x238, HDR_PREF_ADDRESS = 0x258,
    HDR_INIT_SIZE = 0x260,
};

/* boot_params (zero-page.rst). */
enum {
    BP_SIZE = 4096, BP_SCREEN_INFO = 0x000, BP_ACPI_RSDP = 0x070,
    BP_EXT_RAMDISK_IMAGE = 0x0c0, BP_EXT_RAMDISK_SIZE = 0x0c4,
    BP_EXT_CMD_LINE_PTR = 0x0c8, BP_ALT_MEM_K = 0x1e0, BP_E820_ENTRIES = 0x1e8,
    BP_E820_TABLE = 0x2d0, BP_E820_MAX = 128,
};

/* screen_info fields (include/uapi/linux/screen_info.h). */
enum {
    SI_ORIG_X = 0x00, SI_ORIG_Y = 0x01, SI_EXT_MEM_K = 0x02,
    SI_VIDEO_MODE = 0x06, SI_VIDEO_COLS = 0x07, SI_VIDEO_EGA_BX = 0x0a,
    SI_VIDEO_LINES = 0x0e, SI_VIDEO_IS_VGA = 0x0f, SI_VIDEO_POINTS = 0x10,
    VIDEO_TYPE_VGAC = 0x22,
};

enum { LOADED_HIGH = 0x01, CAN_USE_HEAP = 0x80 };
enum { XLF_KERNEL_64 = 0x01 };
enum { E820_RAM = 1, E820_RESERVED = 2 };

#define PROTOCOL_MIN 0x0206
#define BOOT_CS 0x10
#define BOOT_DS 0x18
#define INITRD_ADDR_MAX_OLD 0x37ffffffu  /* before protocol 2.03 */
#define EBDA_BASE 0x9fc00ull             /* 639 KiB: RAM below ends here */

struct LinuxBoot {
    uint8_t *kernel;            /* the whole bzImage file */
    size_t kernel_size;
    size_t setup_size;          /* boot sector + real-mode setup */
    uint8_t *initrd;
    size_t initrd_size;
    char *cmdline;
    size_t cmdline_len;         /* with the terminating NUL */
    uint16_t protocol;
    bool entry64;
    uint32_t code32_start;
    uint64_t initrd_addr;
    uint8_t params[BP_SIZE];    /* boot_params as the kernel will see them */
};

/* ---- little-endian helpers ------------------------------------------------ */

static uint32_t get_le(const uint8_t *p, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- reading the files ---------------------------------------------------- */


/* Check the setup header (boot.rst, "The Real-Mode Kernel Header"). */
static int check_header(LinuxBoot *lb, const char *path, char *err, size_t errlen)
{
    const uint8_t *k = lb->kernel;
    if (lb->kernel_size < 0x1000 || get_le(k + HDR_MAGIC, 4) != 0x53726448 /* "HdrS" */ ||
        get_le(k + HDR_BOOT_FLAG, 2) != 0xaa55) {
        snprintf(err, errlen, "-kernel: '%s' is not a Linux bzImage (no \"HdrS\" setup header)",
                 path);
        return -EINVAL;
    }
    lb->protocol = (uint16_t)get_le(k + HDR_VERSION, 2);
    if (lb->protocol < PROTOCOL_MIN) {
        snprintf(err, errlen, "-kernel: '%s' uses boot protocol %u.%02u; 2.06 or newer is needed",
                 path, lb->protocol >> 8, lb->protocol & 0xff);
        return -EINVAL;
    }
    if (!(k[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "-kernel: '%s' is a zImage (not LOADED_HIGH); only bzImages boot",
                 path);
        return -EINVAL;
    }
    unsigned sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
    lb->setup_size = (sects + 1) * 512u;
    if (lb->setup_size >= lb->kernel_size) {
        snprintf(err, errlen, "-kernel: '%s' is truncated (setup_sects %u)", path, sects);
        return -EINVAL;
    }
    lb->entry64 = get_le(k + HDR_XLOADFLAGS, 2) & XLF_KERNEL_64;
    lb->code32_start = LINUX_BOOT_KERNEL;
    return 0;
}

/* ---- the memory map ------------------------------------------------------- */

typedef struct E820 {
    unsigned n;
    uint8_t *table;
} E820;

static void e820_add(E820 *m, uint64_t addr, uint64_t len, uint32_t type)
{
    if (len == 0 || m->n >= BP_E820_MAX)
        return;
    uint8_t *e = m->table + m->n++ * 20;
    put_le(e, addr, 8);
    put_le(e + 8, len, 8);
    put_le(e + 16, type, 4);
}

/* Where the ACPI tables go (machine/acpi.c): the top of low RAM. */
static void acpi_area(Pc *pc, uint64_t *base, uint64_t *size)
{
    if (acpi_reserved_range(pc, base, size)) {
        *base = pc->lowmem;
        *size = 0;
    }
}

/* The end of the RAM from 1 MiB that the kernel may use: QEMU's firmware
 * keeps the top LINUX_BOOT_ACPI_RESERVE bytes of low RAM, and the ACPI
 * tables are there. */
static uint64_t usable_top(Pc *pc)
{
    uint64_t acpi, acpi_size;
    acpi_area(pc, &acpi, &acpi_size);
    uint64_t top = (pc->lowmem & ~0xfffull) - LINUX_BOOT_ACPI_RESERVE;
    return acpi < top ? acpi : top;
}

/* The e820 map as QEMU's firmware reports it: RAM below 639 KiB, the
 * EBDA/VGA/BIOS area reserved, RAM from 1 MiB up to the top 128 KiB of
 * low RAM, that top reserved with the ACPI tables in it (type 2, as
 * SeaBIOS does on QEMU: programs such as memtest86+ count type 3, ACPI
 * reclaimable, as memory, and would report a different size), the
 * firmware ROM at the top of 4 GiB reserved, and the RAM above 4 GiB. */
static void build_e820(Pc *pc, uint8_t *params)
{
    E820 m = { 0, params + BP_E820_TABLE };
    uint64_t top = usable_top(pc);
    e820_add(&m, 0, EBDA_BASE, E820_RAM);
    e820_add(&m, EBDA_BASE, 0x100000 - EBDA_BASE, E820_RESERVED);
    e820_add(&m, 0x100000, top - 0x100000, E820_RAM);
    e820_add(&m, top, pc->lowmem - top, E820_RESERVED);
    e820_add(&m, PC_HIGHMEM_BASE - pc->bios_image, pc->bios_image, E820_RESERVED);
    if (pc->ram_size > pc->lowmem)
        e820_add(&m, PC_HIGHMEM_BASE, pc->ram_size - pc->lowmem, E820_RAM);
    params[BP_E820_ENTRIES] = (uint8_t)m.n;
}

/* ---- planning ------------------------------------------------------------- */

/* Place the initrd as high as the kernel allows, below the reserved top
 * of low RAM, page aligned, and above the memory the kernel needs
 * (init_size from its load address). */
static int place_initrd(Pc *pc, LinuxBoot *lb, const char *path, char *err,
                        size_t errlen)
{
    const uint8_t *k = lb->kernel;
    uint64_t top = usable_top(pc);
    uint64_t max = lb->protocol >= 0x203 ? get_le(k + HDR_INITRD_ADDR_MAX, 4)
                                         : INITRD_ADDR_MAX_OLD;
    if (max > top - 1)
        max = top - 1;
    uint64_t kernel_end = LINUX_BOOT_KERNEL + get_le(k + HDR_INIT_SIZE, 4);
    if (lb->initrd_size > max + 1 ||
        ((max + 1 - lb->initrd_size) & ~0xfffull) < kernel_end) {
        snprintf(err, errlen, "-initrd: '%s' (%zu MiB) does not fit in guest RAM "
                 "below %llu MiB next to the kernel (try a larger -m)", path,
                 lb->initrd_size >> 20, (unsigned long long)((max + 1) >> 20));
        return -E2BIG;
    }
    lb->initrd_addr = (max + 1 - lb->initrd_size) & ~0xfffull;
    return 0;
}

/* The screen as the VGA BIOS leaves it after mode 3: 80x25 colour text,
 * 16-line characters, cursor at the top left. */
static void fill_screen_info(Pc *pc, uint8_t *si)
{
    uint64_t ext_k = (pc->lowmem - 0x100000) >> 10;
    put_le(si + SI_EXT_MEM_K, ext_k > 0xffff ? 0xffff : ext_k, 2);
    si[SI_ORIG_X] = 0;
    si[SI_ORIG_Y] = 0;
    si[SI_VIDEO_MODE] = 3;
    si[SI_VIDEO_COLS] = 80;
    put_le(si + SI_VIDEO_EGA_BX, 3, 2);   /* colour, 256 KiB (int 10h/12h) */
    si[SI_VIDEO_LINES] = 25;
    si[SI_VIDEO_IS_VGA] = VIDEO_TYPE_VGAC;
    put_le(si + SI_VIDEO_POINTS, 16, 2);
}

/* boot_params: zeroed, the setup header copied from the file, then what
 * the loader fills in (boot.rst, "Details of Header Fields"). */
static void build_params(Pc *pc, LinuxBoot *lb)
{
    uint8_t *bp = lb->params;
    const uint8_t *k = lb->kernel;
    memset(bp, 0, BP_SIZE);
    size_t hdr_end = 0x202 + k[HDR_JUMP + 1];
    if (hdr_end > BP_SIZE || hdr_end > lb->kernel_size)
        hdr_end = 0x280;
    memcpy(bp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
    fill_screen_info(pc, bp + BP_SCREEN_INFO);
    bp[HDR_TYPE_OF_LOADER] = 0xff;
    /* No real-mode code runs, so there is no heap to speak of; the flag
     * stays as the kernel set it except CAN_USE_HEAP. */
    bp[HDR_LOADFLAGS] &= (uint8_t)~CAN_USE_HEAP;
    put_le(bp + HDR_CODE32_START, lb->code32_start, 4);
    put_le(bp + HDR_CMD_LINE_PTR, LINUX_BOOT_CMDLINE, 4);
    put_le(bp + BP_EXT_CMD_LINE_PTR, LINUX_BOOT_CMDLINE >> 32, 4);
    if (lb->initrd) {
        put_le(bp + HDR_RAMDISK_IMAGE, (uint32_t)lb->initrd_addr, 4);
        put_le(bp + HDR_RAMDISK_SIZE, (uint32_t)lb->initrd_size, 4);
        put_le(bp + BP_EXT_RAMDISK_IMAGE, lb->initrd_addr >> 32, 4);
        put_le(bp + BP_EXT_RAMDISK_SIZE, (uint64_t)lb->initrd_size >> 32, 4);
    }
    uint64_t alt_k = pc->lowmem > 0x100000 ? (pc->lowmem - 0x100000) >> 10 : 0;
    put_le(bp + BP_ALT_MEM_K, alt_k > 0xffffffffu ? 0xffffffffu : alt_k, 4);
    /* Protocol 2.14 added acpi_rsdp_addr; older kernels find the RSDP by
     * scanning the BIOS area, where there is none: they run without ACPI. */
    put_le(bp + BP_ACPI_RSDP, acpi_rsdp_address(pc), 8);
    build_e820(pc, bp);
}

int linux_boot_create(Pc *pc, LinuxBoot **out, char *err, size_t errlen)
{
    const VmConfig *cfg = pc->cfg;
    LinuxBoot *lb = calloc(1, sizeof(*lb));
    int r;
    if (!lb) {
        snprintf(err, errlen, "-kernel: out of memory");
        return -ENOMEM;
    }
    if ((r = load_file("-kernel", cfg->kernel, &lb->kernel, &lb->kernel_size, err, errlen)) ||
        (r = check_header(lb, cfg->kernel, err, errlen)))
        goto fail;
    /* The kernel needs init_size bytes from its load address (at least the
     * image itself), all below the reserved top of low RAM. */
    uint64_t need = get_le(lb->kernel + HDR_INIT_SIZE, 4);
    if (need < lb->kernel_size - lb->setup_size)
        need = lb->kernel_size - lb->setup_size;
    if (pc->lowmem < 0x400000 || LINUX_BOOT_KERNEL + need > usable_top(pc)) {
        snprintf(err, errlen, "-kernel: '%s' needs %llu MiB of RAM from 1 MiB; "
                 "the guest has %llu MiB below 4 GiB (try a larger -m)", cfg->kernel,
                 (unsigned long long)(need >> 20), (unsigned long long)(pc->lowmem >> 20));
        r = -E2BIG;
        goto fail;
    }
    const char *append = cfg->append ? cfg->append : "";
    lb->cmdline_len = strlen(append) + 1;
    uint64_t cmd_max = get_le(lb->kernel + HDR_CMDLINE_SIZE, 4);
    if (cmd_max >= LINUX_BOOT_CMDLINE_MAX)
        cmd_max = LINUX_BOOT_CMDLINE_MAX - 1;
    if (lb->cmdline_len - 1 > cmd_max) {
        snprintf(err, errlen, "-append: the command line is %zu bytes; '%s' accepts at most %llu",
                 lb->cmdline_len - 1, cfg->kernel, (unsigned long long)cmd_max);
        r = -E2BIG;
        goto fail;
    }
    if (!(lb->cmdline = strdup(append))) {
        snprintf(err, errlen, "-append: out of memory");
        r = -ENOMEM;
        goto fail;
    }
    if (cfg->initrd &&
        ((r = load_file("-initrd", cfg->initrd, &lb->initrd, &lb->initrd_size, err, errlen)) ||
         (r = place_initrd(pc, lb, cfg->initrd, err, errlen))))
        goto fail;
    build_params(pc, lb);
    *out = lb;
    return 0;
fail:
    linux_boot_free(lb);
    return r;
}

void linux_boot_free(LinuxBoot *lb)
{
    if (!lb)
        return;
    free(lb->kernel);
    free(lb->initrd);
    free(lb->cmdline);
    free(lb);
}

/* ---- what the firmware would have done -------------------------------------- */

/* VGA mode 3 (80x25 text, 720x400), the standard register values of the
 * IBM VGA BIOS mode table as FreeVGA lists them. */
static const uint8_t vga_seq3[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t vga_crtc3[25] = {
    0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e,
    0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t vga_gc3[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
static const uint8_t vga_ac3[21] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b,
    0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};

/* Program the VGA into mode 3 through its ports, as the VGA BIOS would,
 * and clear the screen.  The font is not loaded (no graphical display
 * renders it yet); the text buffer is what -screendump reads. */
static void vga_text_mode(Pc *pc)
{
    AddressSpace *io = &pc->io;
    as_write(io, 0x3c2, 0x67, 1);                 /* misc output */
    for (unsigned i = 0; i < sizeof(vga_seq3); i++) {
        as_write(io, 0x3c4, i, 1);
        as_write(io, 0x3c5, vga_seq3[i], 1);
    }
    as_write(io, 0x3d4, 0x11, 1);                 /* unlock CR0-CR7 */
    as_write(io, 0x3d5, 0x0e, 1);
    for (unsigned i = 0; i < sizeof(vga_crtc3); i++) {
        as_write(io, 0x3d4, i, 1);
        as_write(io, 0x3d5, vga_crtc3[i], 1);
    }
    for (unsigned i = 0; i < sizeof(vga_gc3); i++) {
        as_write(io, 0x3ce, i, 1);
        as_write(io, 0x3cf, vga_gc3[i], 1);
    }
    (void)as_read(io, 0x3da, 1);                  /* attribute flip-flop */
    for (unsigned i = 0; i < sizeof(vga_ac3); i++) {
        as_write(io, 0x3c0, i, 1);
        as_write(io, 0x3c0, vga_ac3[i], 1);
    }
    as_write(io, 0x3c0, 0x20, 1);                 /* palette address source */
    for (uint64_t a = 0xb8000; a < 0xb8000 + 80 * 25 * 2; a += 2)
        as_write(&pc->mem, a, 0x0720, 2);
}

static void firmware_setup(Pc *pc)
{
    as_write(&pc->io, 0x92, 0x02, 1);             /* A20 on (port 0x92) */
    /* The ACPI tables at the top of low RAM, and the PIIX4 PM block
     * where their FADT says it is. */
    int r = acpi_load_direct(pc);
    if (r)
        LOG_LIMITED(LOG_UNIMP, "linux: no ACPI tables for the kernel: %s\n",
                    strerror(-r));
    vga_text_mode(pc);
}

/* ---- entering the kernel ---------------------------------------------------- */

/* Identity map of the first 4 GiB with 2 MiB pages: PML4, one PDPT, four
 * page directories. */
static void build_page_tables(Pc *pc)
{
    uint8_t t[6 * 4096];
    const uint64_t base = LINUX_BOOT_PAGE_TABLES, P_RW = 0x3, PS = 0x80;
    memset(t, 0, sizeof(t));
    put_le(t, (base + 0x1000) | P_RW, 8);
    for (unsigned g = 0; g < 4; g++) {
        put_le(t + 0x1000 + g * 8, (base + 0x2000 + g * 0x1000ull) | P_RW, 8);
        for (unsigned i = 0; i < 512; i++)
            put_le(t + 0x2000 + g * 0x1000 + i * 8,
                   ((uint64_t)g << 30 | (uint64_t)i << 21) | P_RW | PS, 8);
    }
    as_write_buf(&pc->mem, base, t, sizeof(t), false);
}

static void set_seg(SegmentCache *s, uint16_t sel, uint16_t attr)
{
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = attr;
}

static void enter_kernel(Pc *pc, LinuxBoot *lb)
{
    CpuState *s = &pc->cpu.s;
    /* __BOOT_CS and __BOOT_DS at 0x10/0x18: flat 4 GiB, granularity 4K. */
    uint8_t gdt[4 * 8];
    memset(gdt, 0, sizeof(gdt));
    put_le(gdt + BOOT_CS, lb->entry64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull, 8);
    put_le(gdt + BOOT_DS, 0x00cf93000000ffffull, 8);
    as_write_buf(&pc->mem, LINUX_BOOT_GDT, gdt, sizeof(gdt), false);
    s->gdtr.base = LINUX_BOOT_GDT;
    s->gdtr.limit = sizeof(gdt) - 1;
    s->idtr.base = 0;
    s->idtr.limit = 0;
    uint16_t data = SEG_ATTR_G | SEG_ATTR_DB | 0x93;
    for (int i = 0; i < SEG_COUNT; i++)
        set_seg(&s->seg[i], BOOT_DS, data);
    set_seg(&s->seg[SEG_CS], BOOT_CS,
            SEG_ATTR_G | (lb->entry64 ? SEG_ATTR_L : SEG_ATTR_DB) | 0x9b);
    for (int i = 0; i < 16; i++)
        s->regs[i] = 0;
    s->regs[R_SI] = LINUX_BOOT_PARAMS;
    s->regs[R_SP] = LINUX_BOOT_STACK;
    cpu_set_eflags(&pc->cpu, F_FIXED1, ~0ull);
    s->cr0 = CR0_PE | CR0_ET;
    if (lb->entry64) {
        build_page_tables(pc);
        s->cr3 = LINUX_BOOT_PAGE_TABLES;
        s->cr4 = CR4_PAE;
        s->efer = EFER_LME | EFER_LMA;
        s->cr0 |= CR0_PG;
        s->rip = LINUX_BOOT_KERNEL + 0x200;
    } else {
        s->rip = lb->code32_start;
    }
    cpu_update_mode(&pc->cpu);
    tlb_flush_all(&pc->cpu.tlb);
}

void linux_boot_reset(Pc *pc, LinuxBoot *lb)
{
    firmware_setup(pc);
    AddressSpace *mem = &pc->mem;
    as_write_buf(mem, LINUX_BOOT_PARAMS, lb->params, BP_SIZE, false);
    as_write_buf(mem, LINUX_BOOT_CMDLINE, lb->cmdline, lb->cmdline_len, false);
    as_write_buf(mem, LINUX_BOOT_KERNEL, lb->kernel + lb->setup_size,
                 lb->kernel_size - lb->setup_size, false);
    if (lb->initrd)
        as_write_buf(mem, lb->initrd_addr, lb->initrd, lb->initrd_size, false);
    enter_kernel(pc, lb);
    LOG(LOG_INT, "linux: protocol %u.%02u, %s entry at %#llx, initrd %#llx+%zu\n",
        lb->protocol >> 8, lb->protocol & 0xff, lb->entry64 ? "64-bit" : "32-bit",
        (unsigned long long)pc->cpu.s.rip, (unsigned long long)lb->initrd_addr,
        lb->initrd_size);
}

void linux_boot_layout(const LinuxBoot *lb, LinuxBootLayout *out)
{
    out->protocol = lb->protocol;
    out->entry64 = lb->entry64;
    out->kernel_addr = LINUX_BOOT_KERNEL;
    out->kernel_size = lb->kernel_size - lb->setup_size;
    out->initrd_addr = lb->initrd ? lb->initrd_addr : 0;
    out->initrd_size = lb->initrd_size;
    out->entry = lb->entry64 ? LINUX_BOOT_KERNEL + 0x200 : lb->code32_start;
}

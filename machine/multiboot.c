/* Multiboot v1 boot (see machine/multiboot.h).
 *
 * Facts used, from the Multiboot Specification 0.6.96:
 *  - 3.1.1-3.1.2: the header is 32-bit aligned in the first 8192 bytes:
 *    magic 0x1BADB002, flags, checksum (the three sum to 0 mod 2^32).
 *    Flag bits 0-15 are requirements a loader must refuse if it does not
 *    know them: 0 page-aligned modules, 1 memory information, 2 video mode
 *    information; bit 16 says the address fields are valid.
 *  - 3.1.3: header_addr, load_addr, load_end_addr, bss_end_addr,
 *    entry_addr at offsets 12-28.  The file is loaded from offset
 *    (header offset - (header_addr - load_addr)); load_end_addr 0 loads
 *    to the end of the file, bss_end_addr 0 means no bss.
 *  - 3.2: EAX = 0x2BADB002, EBX = the information structure's physical
 *    address; CS a 32-bit read/execute segment and DS, ES, FS, GS, SS
 *    32-bit read/write segments, all offset 0 and limit 0xFFFFFFFF; A20
 *    on; CR0.PG = 0, CR0.PE = 1; EFLAGS.VM = 0, IF = 0.
 *  - 3.3: the information structure (flags, mem_lower/mem_upper in KiB,
 *    cmdline, mods_count/mods_addr, mmap_length/mmap_addr,
 *    boot_loader_name), module entries (mod_start, mod_end, string,
 *    reserved), memory-map entries (size, base_addr, length, type; size
 *    counts the 20 bytes that follow it).
 * and from the ELF specification (System V gABI, "ELF Header", "Program
 * Header"): e_ident, e_entry, e_phoff, e_phentsize, e_phnum; PT_LOAD
 * segments with p_offset, p_paddr, p_filesz, p_memsz, in the 32- and
 * 64-bit layouts.  An entry point that is a virtual address inside a
 * segment loaded elsewhere is moved with that segment, as boot loaders do
 * for higher-half kernels.
 *
 * Where the kernel must not go, and the memory map, follow the board's
 * e820 view as machine/linux_boot.c reports it: RAM below 639 KiB, the
 * EBDA/VGA/BIOS area reserved, RAM from 1 MiB up to the reserved top of
 * low RAM, the firmware ROM under 4 GiB reserved, RAM above 4 GiB.
 * Modules and the information go right after the kernel, page aligned.
 */
#include "machine/multiboot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/acpi.h"
#include "machine/linux_boot.h"
#include "machine/loadfile.h"
#include "machine/pc_internal.h"
#include "util/log.h"

enum {
    MB_SEARCH_BYTES = 8192,
    MB_FLAG_PAGE_ALIGN = 1u << 0, MB_FLAG_MEMORY = 1u << 1,
    MB_FLAG_VIDEO = 1u << 2, MB_FLAG_ADDRESSES = 1u << 16,
    MB_KNOWN_REQUIREMENTS = MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY | MB_FLAG_VIDEO,
};

/* The information structure (3.3): flags and field offsets. */
enum {
    MBI_F_MEMORY = 1u << 0, MBI_F_CMDLINE = 1u << 2, MBI_F_MODS = 1u << 3,
    MBI_F_MMAP = 1u << 6, MBI_F_LOADER_NAME = 1u << 9,
    MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_CMDLINE = 16,
    MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24, MBI_MMAP_LENGTH = 44,
    MBI_MMAP_ADDR = 48, MBI_LOADER_NAME = 64,
    MBI_SIZE = 88,           /* up to the VBE fields, which stay 0 */
    MBI_MOD_SIZE = 16, MBI_MMAP_SIZE = 24,
};

enum { E820_RAM = 1, E820_RESERVED = 2 };
enum { PT_LOAD = 1, EM_386 = 3, EM_X86_64 = 62 };

#define MB_MAX_SEGMENTS 16
#define MB_MAX_MODULES 64
#define MB_MAX_MMAP 8
#define LOW_RAM_END 0x9fc00ull      /* 639 KiB: the EBDA starts here */
#define HIGH_RAM_START 0x100000ull
#define PAGE 4096ull
#define BOOT_CS 0x08
#define BOOT_DS 0x10
#define BOOT_ESP 0x7c00u            /* undefined by 3.2; somewhere sane */
#define LOADER_NAME "vireo"

typedef struct Segment {
    uint64_t paddr, offset, filesz, memsz;
} Segment;

typedef struct Module {
    uint8_t *data;
    size_t size;
    uint32_t addr;
    char *string;               /* "FILE ARGS" as given */
} Module;

struct Multiboot {
    uint8_t *image;             /* the whole kernel file */
    size_t image_size;
    Segment seg[MB_MAX_SEGMENTS];
    unsigned nseg;
    uint32_t entry;
    uint64_t kernel_start, kernel_end;
    Module mods[MB_MAX_MODULES];
    unsigned nmods;
    uint8_t *info;              /* information structure, GDT, map, strings */
    size_t info_size;
    uint32_t info_addr;
};

/* ---- little-endian helpers ------------------------------------------------ */

static uint64_t get_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}


/* ---- the board's memory ----------------------------------------------------- */

/* The end of the RAM from 1 MiB that the boot may use: below the top
 * LINUX_BOOT_ACPI_RESERVE bytes of low RAM that QEMU's firmware keeps, and
 * below the ACPI tables' range (machine/acpi.h), as machine/linux_boot.c
 * computes it for the e820 map. */
static uint64_t upper_ram_end(Pc *pc)
{
    uint64_t acpi, acpi_size;
    uint64_t top = (pc->lowmem & ~0xfffull) - LINUX_BOOT_ACPI_RESERVE;
    if (acpi_reserved_range(pc, &acpi, &acpi_size) == 0 && acpi < top)
        top = acpi;
    return top;
}

/* Is [addr, addr + len) inside usable RAM? */
static bool in_ram(Pc *pc, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;
    if (end < addr)
        return false;
    return end <= LOW_RAM_END ||
           (addr >= HIGH_RAM_START && end <= upper_ram_end(pc));
}

/* The next `align`-aligned `size` bytes of free RAM at or after *cursor,
 * skipping the hole below 1 MiB.  Returns false if RAM runs out. */
static bool place(Pc *pc, uint64_t *cursor, uint64_t size,
                  uint64_t align, uint64_t *addr)
{
    uint64_t a = align_up(*cursor, align);
    if (a < HIGH_RAM_START && a + size > LOW_RAM_END)
        a = HIGH_RAM_START;
    if (!in_ram(pc, a, size))
        return false;
    *addr = a;
    *cursor = a + size;
    return true;
}

static unsigned mmap_add(uint8_t *p, unsigned n, uint64_t base, uint64_t len,
                         uint32_t type)
{
    if (len == 0 || n >= MB_MAX_MMAP)
        return n;
    uint8_t *e = p + n * MBI_MMAP_SIZE;
    put_le(e, MBI_MMAP_SIZE - 4, 4);
    put_le(e + 4, base, 8);
    put_le(e + 12, len, 8);
    put_le(e + 20, type, 4);
    return n + 1;
}

/* The memory map (3.3), entry for entry the e820 map of direct boot: the
 * top of low RAM (ACPI tables, firmware data) reserved, as SeaBIOS reports
 * it on QEMU. */
static unsigned build_mmap(Pc *pc, uint8_t *p)
{
    uint64_t top = upper_ram_end(pc);
    unsigned n = 0;
    n = mmap_add(p, n, 0, LOW_RAM_END, E820_RAM);
    n = mmap_add(p, n, LOW_RAM_END, HIGH_RAM_START - LOW_RAM_END, E820_RESERVED);
    n = mmap_add(p, n, HIGH_RAM_START, top - HIGH_RAM_START, E820_RAM);
    n = mmap_add(p, n, top, pc->lowmem - top, E820_RESERVED);
    n = mmap_add(p, n, PC_HIGHMEM_BASE - pc->bios_image, pc->bios_image,
                 E820_RESERVED);
    if (pc->ram_size > pc->lowmem)
        n = mmap_add(p, n, PC_HIGHMEM_BASE, pc->ram_size - pc->lowmem, E820_RAM);
    return n;
}

/* ---- the kernel image ------------------------------------------------------- */

/* The offset of a valid header in the first 8192 bytes, or -1. */
static long find_header(const uint8_t *img, size_t size)
{
    size_t limit = size < MB_SEARCH_BYTES ? size : MB_SEARCH_BYTES;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = (uint32_t)get_le(img + off, 4);
        uint32_t flags = (uint32_t)get_le(img + off + 4, 4);
        uint32_t sum = (uint32_t)get_le(img + off + 8, 4);
        if (magic == MULTIBOOT_HEADER_MAGIC &&
            (uint32_t)(magic + flags + sum) == 0)
            return (long)off;
    }
    return -1;
}

/* Flag bit 16: the a.out kludge's address fields (3.1.3). */
static int load_by_addresses(Multiboot *mb, const char *path, size_t hdr,
                             char *err, size_t errlen)
{
    const uint8_t *h = mb->image + hdr;
    if (hdr + 32 > mb->image_size) {
        snprintf(err, errlen, "-kernel: '%s': Multiboot header cut short", path);
        return -EINVAL;
    }
    uint32_t header_addr = (uint32_t)get_le(h + 12, 4);
    uint32_t load_addr = (uint32_t)get_le(h + 16, 4);
    uint32_t load_end = (uint32_t)get_le(h + 20, 4);
    uint32_t bss_end = (uint32_t)get_le(h + 24, 4);
    if (load_addr > header_addr || header_addr - load_addr > hdr) {
        snprintf(err, errlen, "-kernel: '%s': Multiboot load_addr %#x would "
                 "start before the file", path, load_addr);
        return -EINVAL;
    }
    uint64_t offset = hdr - (header_addr - load_addr);
    uint64_t filesz = load_end ? (uint64_t)load_end - load_addr
                               : mb->image_size - offset;
    if ((load_end && load_end < load_addr) || offset + filesz > mb->image_size) {
        snprintf(err, errlen, "-kernel: '%s': Multiboot load_end_addr %#x is "
                 "past the end of the file", path, load_end);
        return -EINVAL;
    }
    uint64_t memsz = filesz;
    if (bss_end) {
        if (bss_end < load_addr + filesz) {
            snprintf(err, errlen, "-kernel: '%s': Multiboot bss_end_addr %#x is "
                     "below load_end_addr", path, bss_end);
            return -EINVAL;
        }
        memsz = (uint64_t)bss_end - load_addr;
    }
    mb->seg[0] = (Segment){ load_addr, offset, filesz, memsz };
    mb->nseg = 1;
    mb->entry = (uint32_t)get_le(h + 28, 4);
    return 0;
}

/* No address fields: an ELF32 or ELF64 executable, by its PT_LOAD program
 * headers at their physical addresses. */
static int load_elf(Multiboot *mb, const char *path, char *err, size_t errlen)
{
    const uint8_t *e = mb->image;
    size_t size = mb->image_size;
    if (size < 64 || memcmp(e, "\x7f" "ELF", 4) != 0) {
        snprintf(err, errlen, "-kernel: '%s': Multiboot image is neither ELF "
                 "nor has address fields (header flag bit 16)", path);
        return -EINVAL;
    }
    bool is64 = e[4] == 2;
    unsigned machine = (unsigned)get_le(e + 18, 2);
    if ((e[4] != 1 && e[4] != 2) || e[5] != 1 ||
        (machine != EM_386 && machine != EM_X86_64)) {
        snprintf(err, errlen, "-kernel: '%s': not a little-endian x86 ELF file", path);
        return -EINVAL;
    }
    uint64_t entry = get_le(e + 24, is64 ? 8 : 4);
    uint64_t phoff = get_le(e + (is64 ? 32 : 28), is64 ? 8 : 4);
    unsigned phentsize = (unsigned)get_le(e + (is64 ? 54 : 42), 2);
    unsigned phnum = (unsigned)get_le(e + (is64 ? 56 : 44), 2);
    if (phentsize < (is64 ? 56u : 32u) || phoff > size ||
        (uint64_t)phnum * phentsize > size - phoff) {
        snprintf(err, errlen, "-kernel: '%s': bad ELF program headers", path);
        return -EINVAL;
    }
    uint64_t entry_phys = entry;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = e + phoff + (uint64_t)i * phentsize;
        if (get_le(ph, 4) != PT_LOAD)
            continue;
        Segment s;
        uint64_t vaddr;
        if (is64) {
            s.offset = get_le(ph + 8, 8);
            vaddr = get_le(ph + 16, 8);
            s.paddr = get_le(ph + 24, 8);
            s.filesz = get_le(ph + 32, 8);
            s.memsz = get_le(ph + 40, 8);
        } else {
            s.offset = get_le(ph + 4, 4);
            vaddr = get_le(ph + 8, 4);
            s.paddr = get_le(ph + 12, 4);
            s.filesz = get_le(ph + 16, 4);
            s.memsz = get_le(ph + 20, 4);
        }
        if (s.filesz > s.memsz || s.offset > size || s.filesz > size - s.offset) {
            snprintf(err, errlen, "-kernel: '%s': ELF segment %u lies outside "
                     "the file", path, i);
            return -EINVAL;
        }
        if (mb->nseg == MB_MAX_SEGMENTS) {
            snprintf(err, errlen, "-kernel: '%s': more than %d ELF segments to "
                     "load", path, MB_MAX_SEGMENTS);
            return -EINVAL;
        }
        if (vaddr != s.paddr && entry >= vaddr && entry - vaddr < s.memsz)
            entry_phys = entry - vaddr + s.paddr;
        mb->seg[mb->nseg++] = s;
    }
    if (mb->nseg == 0 || entry_phys > 0xffffffffull) {
        snprintf(err, errlen, "-kernel: '%s': ELF file has %s", path,
                 mb->nseg ? "its entry point above 4 GiB" : "nothing to load");
        return -EINVAL;
    }
    mb->entry = (uint32_t)entry_phys;
    return 0;
}

/* ---- modules ------------------------------------------------------------------ */

/* Split "FILE ARGS,FILE ARGS" (",," is a comma) and read each FILE. */
static int read_modules(Multiboot *mb, const char *list, char *err, size_t errlen)
{
    size_t len = strlen(list);
    char *item = malloc(len + 1);
    if (!item) {
        snprintf(err, errlen, "-initrd: out of memory");
        return -ENOMEM;
    }
    int r = 0;
    size_t i = 0;
    while (r == 0 && i <= len) {
        size_t n = 0;
        for (; i < len; i++) {
            if (list[i] == ',' && list[i + 1] == ',')
                i++;
            else if (list[i] == ',')
                break;
            item[n++] = list[i];
        }
        i++;   /* past the comma (or the end) */
        item[n] = '\0';
        char *space = strchr(item, ' ');
        if (n == 0 || space == item) {
            snprintf(err, errlen, "-initrd: empty module name in '%s'", list);
            r = -EINVAL;
            break;
        }
        if (mb->nmods == MB_MAX_MODULES) {
            snprintf(err, errlen, "-initrd: more than %d modules", MB_MAX_MODULES);
            r = -EINVAL;
            break;
        }
        Module *m = &mb->mods[mb->nmods];
        m->string = strdup(item);
        if (!m->string) {
            snprintf(err, errlen, "-initrd: out of memory");
            r = -ENOMEM;
            break;
        }
        mb->nmods++;
        if (space)
            *space = '\0';
        r = load_file("-initrd", item, &m->data, &m->size, err, errlen);
    }
    free(item);
    return r;
}

/* ---- the information structure ----------------------------------------------- */

/* Place the modules, then build the information block (structure, GDT,
 * memory map, module list, strings) after them. */
static int build_info(Pc *pc, Multiboot *mb, const char *path,
                      const char *cmdline, char *err, size_t errlen)
{
    uint64_t cursor = mb->kernel_end;
    for (unsigned i = 0; i < mb->nmods; i++) {
        uint64_t addr;
        if (!place(pc, &cursor, mb->mods[i].size, PAGE, &addr)) {
            snprintf(err, errlen, "-initrd: module '%s' does not fit in guest RAM",
                     mb->mods[i].string);
            return -ENOMEM;
        }
        mb->mods[i].addr = (uint32_t)addr;
    }
    size_t cmd_len = strlen(path) + (cmdline && *cmdline ? 1 + strlen(cmdline) : 0) + 1;
    size_t strings = cmd_len + sizeof(LOADER_NAME);
    for (unsigned i = 0; i < mb->nmods; i++)
        strings += strlen(mb->mods[i].string) + 1;
    const size_t gdt_off = 96, mmap_off = gdt_off + 24;
    size_t mods_off = mmap_off + MB_MAX_MMAP * MBI_MMAP_SIZE;
    size_t str_off = mods_off + mb->nmods * MBI_MOD_SIZE;
    mb->info_size = str_off + strings;
    uint64_t base;
    if (!place(pc, &cursor, mb->info_size, PAGE, &base)) {
        snprintf(err, errlen, "-kernel: '%s': no room in guest RAM for the "
                 "Multiboot information", path);
        return -ENOMEM;
    }
    mb->info_addr = (uint32_t)base;
    mb->info = calloc(1, mb->info_size);
    if (!mb->info) {
        snprintf(err, errlen, "-kernel: out of memory");
        return -ENOMEM;
    }
    uint8_t *p = mb->info;
    /* GDT: null, flat 32-bit code (0x08), flat data (0x10). */
    put_le(p + gdt_off + BOOT_CS, 0x00cf9b000000ffffull, 8);
    put_le(p + gdt_off + BOOT_DS, 0x00cf93000000ffffull, 8);

    unsigned nmap = build_mmap(pc, p + mmap_off);
    char *s = (char *)p + str_off;
    uint32_t cmd_addr = (uint32_t)(base + str_off);
    snprintf(s, cmd_len, "%s%s%s", path, cmdline && *cmdline ? " " : "",
             cmdline && *cmdline ? cmdline : "");
    s += cmd_len;
    for (unsigned i = 0; i < mb->nmods; i++) {
        uint8_t *e = p + mods_off + i * MBI_MOD_SIZE;
        put_le(e, mb->mods[i].addr, 4);
        put_le(e + 4, mb->mods[i].addr + mb->mods[i].size, 4);
        put_le(e + 8, base + (uint64_t)(s - (char *)p), 4);
        size_t n = strlen(mb->mods[i].string) + 1;
        memcpy(s, mb->mods[i].string, n);
        s += n;
    }
    memcpy(s, LOADER_NAME, sizeof(LOADER_NAME));

    put_le(p + MBI_FLAGS, MBI_F_MEMORY | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP |
                              MBI_F_LOADER_NAME, 4);
    put_le(p + MBI_MEM_LOWER, LOW_RAM_END >> 10, 4);
    put_le(p + MBI_MEM_UPPER, (upper_ram_end(pc) - HIGH_RAM_START) >> 10, 4);
    put_le(p + MBI_CMDLINE, cmd_addr, 4);
    put_le(p + MBI_MODS_COUNT, mb->nmods, 4);
    put_le(p + MBI_MODS_ADDR, base + mods_off, 4);
    put_le(p + MBI_MMAP_LENGTH, nmap * MBI_MMAP_SIZE, 4);
    put_le(p + MBI_MMAP_ADDR, base + mmap_off, 4);
    put_le(p + MBI_LOADER_NAME, base + (uint64_t)(s - (char *)p), 4);
    return 0;
}

/* ---- creation ------------------------------------------------------------------- */

static int plan(Pc *pc, Multiboot *mb, const char *path, const char *cmdline,
                const char *modules, long hdr, char *err, size_t errlen)
{
    uint32_t flags = (uint32_t)get_le(mb->image + hdr + 4, 4);
    if (pc->lowmem < LINUX_BOOT_ACPI_RESERVE ||
        upper_ram_end(pc) <= HIGH_RAM_START) {
        snprintf(err, errlen, "-kernel: '%s': a Multiboot kernel needs RAM "
                 "above 1 MiB (-m)", path);
        return -EINVAL;
    }
    if (flags & 0xffffu & ~(uint32_t)MB_KNOWN_REQUIREMENTS) {
        snprintf(err, errlen, "-kernel: '%s': Multiboot header requires "
                 "unknown features (flags %#x)", path, flags);
        return -EINVAL;
    }
    if (flags & MB_FLAG_VIDEO)
        LOG_LIMITED(LOG_UNIMP, "multiboot: '%s' asks for a video mode; it "
                    "gets the VGA text mode\n", path);
    int r = (flags & MB_FLAG_ADDRESSES) ? load_by_addresses(mb, path, (size_t)hdr, err, errlen)
                                        : load_elf(mb, path, err, errlen);
    if (r)
        return r;
    mb->kernel_start = UINT64_MAX;
    mb->kernel_end = 0;
    for (unsigned i = 0; i < mb->nseg; i++) {
        const Segment *s = &mb->seg[i];
        if (s->memsz == 0)
            continue;
        if (!in_ram(pc, s->paddr, s->memsz)) {
            snprintf(err, errlen, "-kernel: '%s': segment at %#llx-%#llx is "
                     "outside usable guest RAM", path, (unsigned long long)s->paddr,
                     (unsigned long long)(s->paddr + s->memsz));
            return -EINVAL;
        }
        if (s->paddr < mb->kernel_start)
            mb->kernel_start = s->paddr;
        if (s->paddr + s->memsz > mb->kernel_end)
            mb->kernel_end = s->paddr + s->memsz;
    }
    if (modules && (r = read_modules(mb, modules, err, errlen)) != 0)
        return r;
    return build_info(pc, mb, path, cmdline, err, errlen);
}

int multiboot_try_load(Pc *pc, const char *path, const char *cmdline,
                       const char *modules, Multiboot **out, char *err,
                       size_t errlen)
{
    Multiboot *mb = calloc(1, sizeof(*mb));
    if (!mb) {
        snprintf(err, errlen, "-kernel: out of memory");
        return -ENOMEM;
    }
    int r = load_file("-kernel", path, &mb->image, &mb->image_size, err, errlen);
    long hdr = r ? -1 : find_header(mb->image, mb->image_size);
    if (r == 0 && hdr < 0) {
        multiboot_free(mb);
        return 0;   /* not Multiboot: the caller tries a bzImage */
    }
    if (r == 0)
        r = plan(pc, mb, path, cmdline, modules, hdr, err, errlen);
    if (r) {
        multiboot_free(mb);
        return r;
    }
    *out = mb;
    return 1;
}

void multiboot_free(Multiboot *mb)
{
    if (!mb)
        return;
    for (unsigned i = 0; i < mb->nmods; i++) {
        free(mb->mods[i].data);
        free(mb->mods[i].string);
    }
    free(mb->image);
    free(mb->info);
    free(mb);
}

/* ---- reset ------------------------------------------------------------------------ */

static void zero_ram(Pc *pc, uint64_t addr, uint64_t len)
{
    static const uint8_t zeros[4096];
    while (len) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        as_write_buf(&pc->mem, addr, zeros, n, false);
        addr += n;
        len -= n;
    }
}

static void flat_segment(SegmentCache *s, uint16_t sel, uint16_t attr)
{
    s->selector = sel;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = attr;
}

/* The machine state of 3.2. */
static void enter_kernel(Pc *pc, const Multiboot *mb)
{
    CpuState *s = &pc->cpu.s;
    s->gdtr.base = mb->info_addr + 96;
    s->gdtr.limit = 3 * 8 - 1;
    for (int i = 0; i < SEG_COUNT; i++)
        flat_segment(&s->seg[i], BOOT_DS, SEG_ATTR_G | SEG_ATTR_DB | 0x93);
    flat_segment(&s->seg[SEG_CS], BOOT_CS, SEG_ATTR_G | SEG_ATTR_DB | 0x9b);
    for (int i = 0; i < 16; i++)
        s->regs[i] = 0;
    s->regs[R_AX] = MULTIBOOT_BOOTLOADER_MAGIC;
    s->regs[R_BX] = mb->info_addr;
    s->regs[R_SP] = BOOT_ESP;
    cpu_set_eflags(&pc->cpu, F_FIXED1, ~0ull);
    s->cr0 = CR0_PE | CR0_ET;
    s->rip = mb->entry;
    cpu_update_mode(&pc->cpu);
    tlb_flush_all(&pc->cpu.tlb);
}

void multiboot_reset(Pc *pc, Multiboot *mb)
{
    as_write(&pc->io, 0x92, 0x02, 1);   /* A20 on (port 0x92) */
    for (unsigned i = 0; i < mb->nseg; i++) {
        const Segment *sg = &mb->seg[i];
        as_write_buf(&pc->mem, sg->paddr, mb->image + sg->offset, sg->filesz, false);
        zero_ram(pc, sg->paddr + sg->filesz, sg->memsz - sg->filesz);
    }
    for (unsigned i = 0; i < mb->nmods; i++)
        as_write_buf(&pc->mem, mb->mods[i].addr, mb->mods[i].data, mb->mods[i].size,
                     false);
    as_write_buf(&pc->mem, mb->info_addr, mb->info, mb->info_size, false);
    cpu_mtrr_firmware_defaults(&pc->cpu, pc->lowmem);   /* as firmware would */
    enter_kernel(pc, mb);
    LOG(LOG_INT, "multiboot: entry %#x, info at %#x, kernel %#llx-%#llx, %u modules\n",
        mb->entry, mb->info_addr, (unsigned long long)mb->kernel_start,
        (unsigned long long)mb->kernel_end, mb->nmods);
}

void multiboot_layout(const Multiboot *mb, MultibootLayout *out)
{
    out->entry = mb->entry;
    out->info_addr = mb->info_addr;
    out->kernel_start = (uint32_t)mb->kernel_start;
    out->kernel_end = (uint32_t)mb->kernel_end;
    out->module_count = mb->nmods;
}

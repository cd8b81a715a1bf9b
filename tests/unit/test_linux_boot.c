/* Unit tests for direct Linux boot (machine/linux_boot.c) on a real `pc`
 * board, with small synthetic bzImages (tests/guest/linux.sh boots the
 * real Debian kernel):
 *
 *  - the zero page: the setup header copied from the file, the loader's
 *    fields (boot.rst "Details of Header Fields"), screen_info, the e820
 *    map, acpi_rsdp_addr pointing at an RSDP;
 *  - where the kernel, the command line and the initrd go;
 *  - the CPU at the 64-bit entry (long mode, identity map, RSI) and at the
 *    32-bit one (flat protected mode, ESI), interrupts off;
 *  - a reset copies everything in again;
 *  - bad images and sizes: one line naming the file.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/linux_boot.h"
#include "machine/pc_internal.h"

static char dir[64];
static VmConfig cfg;
static Pc *pc;

static void setup(void)
{
    config_defaults(&cfg);
    cfg.ram_bytes = 128ull << 20;
    strcpy(dir, "/tmp/vireo-lb-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    pc_destroy(pc);
    pc = NULL;
    cfg.kernel = cfg.initrd = cfg.append = NULL;   /* not malloc'd here */
    config_free(&cfg);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(linux_boot, .init = setup, .fini = teardown);

static void put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[4][128];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

#define IMAGE_SIZE 0x3000
#define SETUP_SECTS 3            /* the protected-mode part starts at 0x800 */

/* A bzImage: boot sector and setup (4 sectors), then a payload of bytes
 * i & 0xff.  `version` is the protocol, `xload` the xloadflags. */
static const char *make_kernel(uint16_t version, uint16_t xload)
{
    static uint8_t k[IMAGE_SIZE];
    memset(k, 0, sizeof(k));
    k[0x1f1] = SETUP_SECTS;
    put(k + 0x1fe, 0xaa55, 2);
    k[0x200] = 0xeb;
    k[0x201] = 0x6a;                        /* header ends at 0x26c */
    memcpy(k + 0x202, "HdrS", 4);
    put(k + 0x206, version, 2);
    k[0x211] = 0x01 | 0x80;                 /* LOADED_HIGH, CAN_USE_HEAP */
    put(k + 0x214, 0x100000, 4);
    put(k + 0x22c, 0x7fffffff, 4);          /* initrd_addr_max */
    put(k + 0x230, 0x200000, 4);
    k[0x234] = 1;
    put(k + 0x236, xload, 2);
    put(k + 0x238, 255, 4);                 /* cmdline_size */
    put(k + 0x260, 0x400000, 4);            /* init_size */
    for (size_t i = (SETUP_SECTS + 1) * 512; i < sizeof(k); i++)
        k[i] = (uint8_t)i;
    return write_file("bzImage", k, sizeof(k));
}

static int create(char *err, size_t errlen)
{
    return pc_create(&cfg, &pc, err, errlen);
}

static void create_ok(void)
{
    char err[512] = "";
    cr_assert_eq(create(err, sizeof(err)), 0, "%s", err);
}

static const uint8_t *zero_page(void)
{
    return pc->ram + LINUX_BOOT_PARAMS;
}

Test(linux_boot, zero_page_and_placement)
{
    static uint8_t initrd[5000];
    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 7);
    cfg.kernel = (char *)make_kernel(0x020f, 1);
    cfg.initrd = (char *)write_file("initrd", initrd, sizeof(initrd));
    cfg.append = "console=ttyS0 quiet";
    create_ok();
    const uint8_t *bp = zero_page();
    /* The setup header, copied; the loader's fields. */
    cr_assert_eq(memcmp(bp + 0x202, "HdrS", 4), 0);
    cr_assert_eq(get(bp + 0x206, 2), 0x020f);
    cr_assert_eq(bp[0x1f1], SETUP_SECTS);
    cr_assert_eq(bp[0x210], 0xff, "type_of_loader");
    cr_assert_eq(bp[0x211] & 0x01, 0x01, "LOADED_HIGH kept");
    cr_assert_eq(get(bp + 0x228, 4), LINUX_BOOT_CMDLINE);
    cr_assert_str_eq((const char *)pc->ram + LINUX_BOOT_CMDLINE, "console=ttyS0 quiet");
    /* The payload at 1 MiB. */
    for (uint64_t i = 0; i < IMAGE_SIZE - (SETUP_SECTS + 1) * 512; i++)
        cr_assert_eq(pc->ram[LINUX_BOOT_KERNEL + i],
                     (uint8_t)(i + (SETUP_SECTS + 1) * 512), "kernel byte %llu",
                     (unsigned long long)i);
    /* The initrd: high, page aligned, below the reserved top of low RAM,
     * above the kernel's init_size. */
    uint64_t rd = get(bp + 0x218, 4), rd_size = get(bp + 0x21c, 4);
    cr_assert_eq(rd_size, sizeof(initrd));
    cr_assert_eq(rd & 0xfff, 0);
    cr_assert_leq(rd + rd_size, pc->lowmem - LINUX_BOOT_ACPI_RESERVE);
    cr_assert_gt(rd + rd_size + 4096, pc->lowmem - LINUX_BOOT_ACPI_RESERVE, "not at the top");
    cr_assert_geq(rd, LINUX_BOOT_KERNEL + 0x400000);
    cr_assert_eq(memcmp(pc->ram + rd, initrd, sizeof(initrd)), 0);
    /* screen_info: 80x25 colour VGA text. */
    cr_assert_eq(bp[0x06], 3);
    cr_assert_eq(bp[0x07], 80);
    cr_assert_eq(bp[0x0e], 25);
    cr_assert_eq(bp[0x0f], 0x22);
    /* acpi_rsdp_addr points at an RSDP inside the reserved top. */
    uint64_t rsdp = get(bp + 0x70, 8);
    cr_assert_geq(rsdp, pc->lowmem - LINUX_BOOT_ACPI_RESERVE);
    cr_assert_lt(rsdp, pc->lowmem);
    cr_assert_eq(memcmp(pc->ram + rsdp, "RSD PTR ", 8), 0);
}

Test(linux_boot, e820_map)
{
    cfg.kernel = (char *)make_kernel(0x020f, 1);
    create_ok();
    const uint8_t *bp = zero_page();
    static const struct { uint64_t addr, len; uint32_t type; } want[] = {
        { 0, 0x9fc00, 1 },
        { 0x9fc00, 0x100000 - 0x9fc00, 2 },
        { 0x100000, (128u << 20) - 0x20000 - 0x100000, 1 },
        { (128u << 20) - 0x20000, 0x20000, 2 },
        { 0xfffc0000, 0x40000, 2 },
    };
    cr_assert_eq(bp[0x1e8], 5, "e820_entries");
    for (int i = 0; i < 5; i++) {
        const uint8_t *e = bp + 0x2d0 + 20 * i;
        cr_assert_eq(get(e, 8), want[i].addr, "entry %d addr", i);
        cr_assert_eq(get(e + 8, 8), want[i].len, "entry %d len", i);
        cr_assert_eq(get(e + 16, 4), want[i].type, "entry %d type", i);
    }
}

Test(linux_boot, e820_high_ram)
{
    cfg.ram_bytes = 4ull << 30;
    cfg.kernel = (char *)make_kernel(0x020f, 1);
    create_ok();
    const uint8_t *bp = zero_page();
    int n = bp[0x1e8];
    const uint8_t *last = bp + 0x2d0 + 20 * (n - 1);
    cr_assert_eq(get(last, 8), 1ull << 32);
    cr_assert_eq(get(last + 8, 8), (4ull << 30) - pc->lowmem);
    cr_assert_eq(get(last + 16, 4), 1);
}

Test(linux_boot, entry_64)
{
    cfg.kernel = (char *)make_kernel(0x020f, 1);
    create_ok();
    const CpuState *s = &pc->cpu.s;
    cr_assert_eq(s->rip, LINUX_BOOT_KERNEL + 0x200);
    cr_assert_eq(s->regs[R_SI], LINUX_BOOT_PARAMS);
    cr_assert_eq(s->seg[SEG_CS].selector, 0x10);
    cr_assert(s->seg[SEG_CS].attr & SEG_ATTR_L);
    cr_assert_eq(s->seg[SEG_DS].selector, 0x18);
    cr_assert_eq(s->seg[SEG_SS].selector, 0x18);
    cr_assert(s->efer & EFER_LMA);
    cr_assert_eq(s->cr0 & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
    cr_assert(s->cr4 & CR4_PAE);
    cr_assert_eq(cpu_get_eflags(&pc->cpu) & F_IF, 0);
    cr_assert_eq(pc->cpu.mode & CPU_MODE_SIZE_MASK, CPU_MODE_CODE64);
    /* The identity map: 3 GiB + 6 MiB maps to itself, 2 MiB page. */
    uint64_t pml4 = s->cr3;
    uint64_t pdpt = get(pc->ram + pml4, 8) & ~0xfffull;
    uint64_t pd = get(pc->ram + pdpt + 3 * 8, 8) & ~0xfffull;
    uint64_t pde = get(pc->ram + pd + 3 * 8, 8);
    cr_assert_eq(pde & ~0xfffull, (3ull << 30) + (6u << 20));
    cr_assert_eq(pde & 0x83, 0x83);
    /* The GDT's __BOOT_CS is a 64-bit code segment. */
    cr_assert_eq(get(pc->ram + s->gdtr.base + 0x10, 8), 0x00af9b000000ffffull);
}

Test(linux_boot, entry_32)
{
    cfg.kernel = (char *)make_kernel(0x020a, 0);
    create_ok();
    const CpuState *s = &pc->cpu.s;
    cr_assert_eq(s->rip, 0x100000);
    cr_assert_eq(s->regs[R_SI], LINUX_BOOT_PARAMS);
    cr_assert_eq(s->regs[R_BX] | s->regs[R_BP] | s->regs[R_DI], 0);
    cr_assert_eq(s->seg[SEG_CS].selector, 0x10);
    cr_assert(s->seg[SEG_CS].attr & SEG_ATTR_DB);
    cr_assert_eq(s->seg[SEG_CS].limit, 0xffffffffu);
    cr_assert_eq(s->efer & EFER_LMA, 0);
    cr_assert_eq(s->cr0 & (CR0_PE | CR0_PG), CR0_PE);
    cr_assert_eq(cpu_get_eflags(&pc->cpu) & F_IF, 0);
    cr_assert_eq(pc->cpu.mode & CPU_MODE_SIZE_MASK, CPU_MODE_CODE32);
    cr_assert_eq(get(pc->ram + s->gdtr.base + 0x10, 8), 0x00cf9b000000ffffull);
    cr_assert_eq(get(pc->ram + s->gdtr.base + 0x18, 8), 0x00cf93000000ffffull);
    /* No acpi_rsdp_addr field before 2.14: still written (it is padding
     * to older kernels), and harmless. */
    LinuxBootLayout l;
    linux_boot_layout(pc->linux_boot, &l);
    cr_assert_eq(l.protocol, 0x020a);
    cr_assert(!l.entry64);
}

Test(linux_boot, reset_reloads)
{
    cfg.kernel = (char *)make_kernel(0x020f, 1);
    cfg.append = "root=/dev/ram0";
    create_ok();
    memset(pc->ram + LINUX_BOOT_KERNEL, 0xcc, 0x100);
    memset(pc->ram + LINUX_BOOT_CMDLINE, 0, 16);
    pc->cpu.s.rip = 0x1234;
    cpu_reset(&pc->cpu);
    linux_boot_reset(pc, pc->linux_boot);
    cr_assert_eq(pc->ram[LINUX_BOOT_KERNEL], (uint8_t)((SETUP_SECTS + 1) * 512));
    cr_assert_str_eq((const char *)pc->ram + LINUX_BOOT_CMDLINE, "root=/dev/ram0");
    cr_assert_eq(pc->cpu.s.rip, LINUX_BOOT_KERNEL + 0x200);
}

static void expect_error(const char *part)
{
    char err[512] = "";
    cr_assert_lt(create(err, sizeof(err)), 0, "expected an error with '%s'", part);
    cr_assert_null(pc);
    cr_assert_null(strchr(err, '\n'));
    cr_assert_not_null(strstr(err, part), "'%s' lacks '%s'", err, part);
}

Test(linux_boot, protocol_too_old)
{
    cfg.kernel = (char *)make_kernel(0x0205, 0);
    expect_error("boot protocol 2.05; 2.06 or newer");
}

Test(linux_boot, not_a_bzimage)
{
    static uint8_t junk[4096];
    cfg.kernel = (char *)write_file("junk", junk, sizeof(junk));
    expect_error("is not a Linux bzImage");
    cfg.kernel = "/nonexistent/bzImage";
    expect_error("-kernel: cannot open '/nonexistent/bzImage'");
}

Test(linux_boot, command_line_too_long)
{
    static char line[300];
    memset(line, 'x', sizeof(line) - 1);
    cfg.kernel = (char *)make_kernel(0x020f, 1);
    cfg.append = line;
    expect_error("-append: the command line is 299 bytes");
}

Test(linux_boot, initrd_too_large)
{
    cfg.ram_bytes = 16ull << 20;
    cfg.kernel = (char *)make_kernel(0x020f, 1);
    static uint8_t big[12 << 20];
    cfg.initrd = (char *)write_file("big", big, sizeof(big));
    expect_error("does not fit in guest RAM");
    cfg.initrd = "/nonexistent/initrd";
    expect_error("-initrd: cannot open '/nonexistent/initrd'");
}

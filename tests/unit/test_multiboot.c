/* Unit tests for the Multiboot v1 loader (machine/multiboot.c) on a real
 * `pc` board: what tests/asm/multiboot (which boots real programs on Vireo
 * and QEMU) does not cover.
 *
 *  - no header, a bad checksum, a header past 8192 bytes: not Multiboot
 *    (0), so the board goes on to try a bzImage (spec 3.1.1);
 *  - requirement bits the loader does not know, segments outside RAM,
 *    address fields that point before the file, a missing module: errors
 *    with one line;
 *  - an ELF64 image whose segment is linked high (vaddr != paddr): loaded
 *    at p_paddr, the entry point moved with it;
 *  - ",," in -initrd is a comma inside a module's string;
 *  - the machine state of spec 3.2 after reset.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/multiboot.h"
#include "machine/pc_internal.h"

static Pc *pc;
static VmConfig cfg;
static char dir[64];

static void setup(void)
{
    char err[256];
    config_defaults(&cfg);
    cfg.ram_bytes = 64ull << 20;
    cr_assert_eq(pc_create(&cfg, &pc, err, sizeof(err)), 0, "%s", err);
    strcpy(dir, "/tmp/vireo-mb-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    pc_destroy(pc);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t ram32(uint64_t addr)
{
    uint32_t v;
    memcpy(&v, pc->ram + addr, 4);
    return v;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[8][128];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

/* A flat image with the address fields: header at `hdr_off`, loaded at
 * `load`, entry at load + 0x40. */
static size_t aout_image(uint8_t *img, size_t size, size_t hdr_off,
                         uint32_t flags, uint32_t load)
{
    memset(img, 0x90, size);
    uint8_t *h = img + hdr_off;
    put32(h, MULTIBOOT_HEADER_MAGIC);
    put32(h + 4, flags);
    put32(h + 8, -(MULTIBOOT_HEADER_MAGIC + flags));
    put32(h + 12, load + (uint32_t)hdr_off);    /* header_addr */
    put32(h + 16, load);                        /* load_addr */
    put32(h + 20, 0);                           /* to the end of the file */
    put32(h + 24, load + (uint32_t)size + 0x1000); /* a page of bss */
    put32(h + 28, load + 0x40);
    return size;
}

static int try_load(const char *path, const char *cmdline, const char *mods,
                    Multiboot **mb, char *err)
{
    *mb = NULL;
    return multiboot_try_load(pc, path, cmdline, mods, mb, err, 256);
}

Test(multiboot, not_multiboot, .init = setup, .fini = teardown)
{
    uint8_t img[12000];
    char err[256];
    Multiboot *mb;
    memset(img, 0, sizeof(img));
    cr_expect_eq(try_load(write_file("zero", img, sizeof(img)), NULL, NULL, &mb, err), 0);
    aout_image(img, sizeof(img), 0x100, 0x10000, 0x100000);
    put32(img + 0x108, 0);                                /* bad checksum */
    cr_expect_eq(try_load(write_file("sum", img, sizeof(img)), NULL, NULL, &mb, err), 0);
    aout_image(img, sizeof(img), 8192, 0x10000, 0x100000);
    cr_expect_eq(try_load(write_file("far", img, sizeof(img)), NULL, NULL, &mb, err), 0,
                 "the header must lie in the first 8192 bytes");
    cr_expect_null(mb);
}

Test(multiboot, refused_images, .init = setup, .fini = teardown)
{
    uint8_t img[4096];
    char err[256];
    Multiboot *mb;
    aout_image(img, sizeof(img), 0x20, 0x10000 | (1u << 3), 0x100000);
    cr_expect_lt(try_load(write_file("req", img, sizeof(img)), NULL, NULL, &mb, err), 0);
    cr_expect(strstr(err, "unknown features"), "%s", err);
    aout_image(img, sizeof(img), 0x20, 0x10000, 0xa0000);
    cr_expect_lt(try_load(write_file("vga", img, sizeof(img)), NULL, NULL, &mb, err), 0);
    cr_expect(strstr(err, "outside usable guest RAM"), "%s", err);
    aout_image(img, sizeof(img), 0x20, 0x10000, 0x100000);
    put32(img + 0x20 + 16, 0x100000 - 0x1000);          /* load_addr far below */
    put32(img + 0x20 + 8, -(MULTIBOOT_HEADER_MAGIC + 0x10000));
    cr_expect_lt(try_load(write_file("before", img, sizeof(img)), NULL, NULL, &mb, err), 0);
    cr_expect(strstr(err, "before the file"), "%s", err);
    aout_image(img, sizeof(img), 0x20, 0x10000, 0x100000);
    cr_expect_lt(try_load(write_file("ok", img, sizeof(img)), NULL, "/nonexistent/mod",
                          &mb, err), 0);
    cr_expect(strstr(err, "/nonexistent/mod"), "%s", err);
    memset(img, 0, sizeof(img));                         /* ELF32, no segments */
    memcpy(img, "\x7f" "ELF\x01\x01\x01", 7);
    img[16] = 2;
    img[18] = 3;                                         /* EM_386 */
    img[42] = 32;                                        /* e_phentsize */
    put32(img + 0x40, MULTIBOOT_HEADER_MAGIC);
    put32(img + 0x48, -MULTIBOOT_HEADER_MAGIC);
    cr_expect_lt(try_load(write_file("noseg", img, sizeof(img)), NULL, NULL, &mb, err), 0);
    cr_expect(strstr(err, "nothing to load"), "%s", err);
    cr_expect_null(mb);
}

Test(multiboot, aout_state_and_modules, .init = setup, .fini = teardown)
{
    uint8_t img[4096];
    char err[256], mods[300];
    Multiboot *mb;
    aout_image(img, sizeof(img), 0x20, 0x10003, 0x200000);
    const char *kernel = write_file("kernel", img, sizeof(img));
    const char *m1 = write_file("m1", "ABC", 3);
    const char *m2 = write_file("m2", "DEFGH", 5);
    snprintf(mods, sizeof(mods), "%s a,,b,%s", m1, m2);
    cr_assert_eq(try_load(kernel, "root=x", mods, &mb, err), 1, "%s", err);
    pc->ram[0x200000 + sizeof(img)] = 0xee;              /* the bss gets zeroed */
    multiboot_reset(pc, mb);
    MultibootLayout l;
    multiboot_layout(mb, &l);
    cr_expect_eq(l.entry, 0x200040);
    cr_expect_eq(l.kernel_start, 0x200000);
    cr_expect_eq(l.kernel_end, 0x200000 + sizeof(img) + 0x1000);
    cr_expect_eq(l.module_count, 2);
    cr_expect_eq(pc->ram[0x200000 + sizeof(img)], 0);

    const CpuState *s = &pc->cpu.s;
    cr_expect_eq(s->rip, 0x200040);
    cr_expect_eq(s->regs[R_AX], MULTIBOOT_BOOTLOADER_MAGIC);
    cr_expect_eq(s->regs[R_BX], l.info_addr);
    cr_expect_eq(s->cr0 & (CR0_PE | CR0_PG), CR0_PE);
    cr_expect_eq(cpu_get_eflags(&pc->cpu) & (F_IF | F_VM), 0);
    for (int i = 0; i < SEG_COUNT; i++) {
        cr_expect_eq(s->seg[i].base, 0);
        cr_expect_eq(s->seg[i].limit, 0xffffffffu);
        cr_expect(s->seg[i].attr & SEG_ATTR_DB);
    }
    cr_expect_eq(pc->cpu.mode & CPU_MODE_SIZE_MASK, CPU_MODE_CODE32);
    cr_expect_eq(pc->cpu.a20_mask, ~0ull, "A20 on");

    uint32_t info = l.info_addr;
    cr_expect_geq(info, l.kernel_end, "after the kernel");
    uint32_t mods_addr = ram32(info + 24);
    uint32_t start1 = ram32(mods_addr), start2 = ram32(mods_addr + 16);
    cr_expect_eq(start1 & 0xfff, 0);
    cr_expect_eq(start2 & 0xfff, 0);
    cr_expect_eq(ram32(mods_addr + 4) - start1, 3);
    cr_expect_eq(memcmp(pc->ram + start1, "ABC", 3), 0);
    cr_expect_eq(memcmp(pc->ram + start2, "DEFGH", 5), 0);
    char want[200];
    snprintf(want, sizeof(want), "%s a,b", m1);
    cr_expect_str_eq((const char *)pc->ram + ram32(mods_addr + 8), want);
    snprintf(want, sizeof(want), "%s root=x", kernel);
    cr_expect_str_eq((const char *)pc->ram + ram32(info + 16), want);
    cr_expect_str_eq((const char *)pc->ram + ram32(info + 64), "vireo");
    cr_expect_eq(ram32(info + 4), 639, "mem_lower: RAM below the EBDA");
    multiboot_free(mb);
}

/* An ELF64 file with one PT_LOAD: linked at 0xffffffff80200000, loaded at
 * physical 0x200000, entry at the link address + 0x10. */
Test(multiboot, elf64_high_half_entry, .init = setup, .fini = teardown)
{
    uint8_t img[0x400];
    char err[256];
    Multiboot *mb;
    const uint64_t vaddr = 0xffffffff80200000ull;
    memset(img, 0, sizeof(img));
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 2;                                   /* ELFCLASS64 */
    img[5] = 1;                                   /* little-endian */
    img[6] = 1;
    img[16] = 2;                                  /* ET_EXEC */
    img[18] = 62;                                 /* EM_X86_64 */
    put64(img + 24, vaddr + 0x10);                /* e_entry */
    put64(img + 32, 64);                          /* e_phoff */
    img[54] = 56;                                 /* e_phentsize */
    img[56] = 1;                                  /* e_phnum */
    uint8_t *ph = img + 64;
    put32(ph, 1);                                 /* PT_LOAD */
    put64(ph + 8, 0x200);                         /* p_offset */
    put64(ph + 16, vaddr);
    put64(ph + 24, 0x200000);                     /* p_paddr */
    put64(ph + 32, 0x200);                        /* p_filesz */
    put64(ph + 40, 0x3000);                       /* p_memsz */
    uint8_t *h = img + 0x200;
    put32(h, MULTIBOOT_HEADER_MAGIC);
    put32(h + 4, 2);
    put32(h + 8, -(MULTIBOOT_HEADER_MAGIC + 2));
    h[0x10] = 0xf4;                               /* HLT at the entry */
    cr_assert_eq(try_load(write_file("elf64", img, sizeof(img)), NULL, NULL, &mb, err),
                 1, "%s", err);
    multiboot_reset(pc, mb);
    MultibootLayout l;
    multiboot_layout(mb, &l);
    cr_expect_eq(l.entry, 0x200010);
    cr_expect_eq(l.kernel_end, 0x203000);
    cr_expect_eq(pc->ram[0x200010], 0xf4);
    cr_expect_eq(memcmp(pc->ram + 0x200000, img + 0x200, 4), 0);
    multiboot_free(mb);
}

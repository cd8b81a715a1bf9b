/* Unit tests for hw/i440fx.c: PAM shadowing and the SMRAM register.
 *
 * Driven through configuration cycles on ports 0xCF8/0xCFC and accesses to
 * the memory AddressSpace.  RAM and the ROM backings are filled with
 * distinct byte patterns, so each read shows which of them answered, and
 * each write is checked in the RAM buffer itself.  Expected behaviour is
 * the 82441FX datasheet's: per segment, RE (bit 0) sends reads to DRAM and
 * WE (bit 1) sends writes to DRAM, otherwise the access goes to PCI (the
 * ROM, which ignores writes); PAM1 low nibble is 0xC0000-0xC3FFF, high
 * nibble 0xC4000-0xC7FFF, ..., PAM6 high nibble 0xEC000-0xEFFFF, PAM0 high
 * nibble 0xF0000-0xFFFFF.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/i440fx.h"
#include "hw/pci.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define RAM_BYTE   0x11
#define BIOS_BYTE  0xb1
#define ISA_BYTE   0xc5

static AddressSpace mem, io;
static PciBus *bus;
static uint8_t *ram, *bios, *isa;
static I440fx *h;
static int smram_calls, smram_last;

static void rec_smram(void *opaque, bool open)
{
    (void)opaque;
    smram_calls++;
    smram_last = open;
}

static void setup(void)
{
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    ram = malloc(2 << 20);
    bios = malloc(128 << 10);
    isa = malloc(128 << 10);
    memset(ram, RAM_BYTE, 2 << 20);
    memset(bios, BIOS_BYTE, 128 << 10);
    memset(isa, ISA_BYTE, 128 << 10);
    cr_assert_eq(pci_bus_new(&mem, &io, &bus), 0);
    I440fxConfig cfg = { .mem = &mem, .ram = ram, .ram_size = 2 << 20,
                         .bios = bios, .isa_rom = isa,
                         .smram_changed = rec_smram };
    cr_assert_eq(i440fx_new(bus, &cfg, &h), 0);
    smram_calls = 0;
}

static void teardown(void)
{
    i440fx_free(h);
    pci_bus_free(bus);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
    free(bios);
    free(isa);
}

TestSuite(i440fx, .init = setup, .fini = teardown);

static uint32_t cfg_read(unsigned reg, unsigned size)
{
    as_write(&io, 0xcf8, 0x80000000u | (reg & 0xfc), 4);
    return (uint32_t)as_read(&io, 0xcfc + (reg & 3), size);
}

static void cfg_write(unsigned reg, uint32_t v, unsigned size)
{
    as_write(&io, 0xcf8, 0x80000000u | (reg & 0xfc), 4);
    as_write(&io, 0xcfc + (reg & 3), v, size);
}

/* ---- identity ------------------------------------------------------------- */

Test(i440fx, header_matches_qemus_host_bridge)
{
    cr_expect_eq(cfg_read(0x00, 4), 0x12378086);
    cr_expect_eq(cfg_read(0x08, 4), 0x06000002);        /* class 060000, rev 02 */
    cr_expect_eq(cfg_read(0x04, 2), 0x0006);            /* datasheet PCICMD */
    cr_expect_eq(cfg_read(0x06, 2), 0x0280);            /* datasheet PCISTS */
    cr_expect_eq(cfg_read(0x0e, 1), 0x00);
    cr_expect_eq(cfg_read(0x58, 4), 0x00000010);        /* DRAMT 10h, PAM0-2 0 */
    cr_expect_eq(cfg_read(0x5c, 4), 0);                 /* PAM3-6 */
    cr_expect_eq(cfg_read(0x72, 1), 0x02);              /* SMRAM */
}

/* ---- PAM ------------------------------------------------------------------ */

/* Check one address under the attribute its segment has now. */
static void expect_mode(uint32_t addr, int mode, uint8_t rom_byte)
{
    uint8_t before = ram[addr];
    uint8_t want_read = (mode & 1) ? before : rom_byte;

    cr_expect_eq(as_read(&mem, addr, 1), want_read,
                 "read 0x%x in mode %d: got 0x%02x", addr, mode,
                 (unsigned)as_read(&mem, addr, 1));
    as_write(&mem, addr, 0x5e, 1);
    cr_expect_eq(ram[addr], (mode & 2) ? 0x5e : before,
                 "write 0x%x in mode %d: RAM has 0x%02x", addr, mode, ram[addr]);
    ram[addr] = before;
}

Test(i440fx, after_reset_everything_reads_the_roms)
{
    expect_mode(0xffff0, 0, BIOS_BYTE);
    expect_mode(0xf0000, 0, BIOS_BYTE);
    expect_mode(0xe0000, 0, BIOS_BYTE);
    expect_mode(0xc0000, 0, ISA_BYTE);
    expect_mode(0xdffff, 0, ISA_BYTE);
}

Test(i440fx, each_mode_on_the_f0000_segment)
{
    for (int mode = 0; mode < 4; mode++) {
        cfg_write(0x59, (uint32_t)mode << 4, 1);
        cr_expect_eq(i440fx_pam_mode(h, 0xf8000), mode);
        expect_mode(0xf0000, mode, BIOS_BYTE);
        expect_mode(0xfffff, mode, BIOS_BYTE);
        expect_mode(0xefff0, 0, BIOS_BYTE);             /* neighbour untouched */
    }
}

Test(i440fx, each_mode_on_16k_segments)
{
    /* PAM1 high nibble: 0xC4000-0xC7FFF; PAM6 low nibble: 0xE8000-0xEBFFF. */
    for (int mode = 0; mode < 4; mode++) {
        cfg_write(0x5a, (uint32_t)mode << 4, 1);
        cfg_write(0x5f, (uint32_t)mode, 1);
        expect_mode(0xc4000, mode, ISA_BYTE);
        expect_mode(0xc7fff, mode, ISA_BYTE);
        expect_mode(0xc3fff, 0, ISA_BYTE);              /* PAM1 low nibble */
        expect_mode(0xc8000, 0, ISA_BYTE);              /* PAM2 */
        expect_mode(0xe8000, mode, BIOS_BYTE);
        expect_mode(0xebfff, mode, BIOS_BYTE);
        expect_mode(0xec000, 0, BIOS_BYTE);             /* PAM6 high nibble */
    }
}

Test(i440fx, wide_accesses_in_write_only_mode)
{
    cfg_write(0x59, 0x20, 1);           /* 0xF0000: write-only */
    as_write(&mem, 0xf1000, 0x0102030405060708ull, 8);
    cr_expect_eq(ram[0xf1000], 0x08);
    cr_expect_eq(ram[0xf1007], 0x01);
    cr_expect_eq(as_read(&mem, 0xf1000, 8), 0xb1b1b1b1b1b1b1b1ull);
    cfg_write(0x59, 0x30, 1);
    cr_expect_eq(as_read(&mem, 0xf1000, 8), 0x0102030405060708ull);
}

Test(i440fx, seabios_style_dword_writes_and_reserved_bits)
{
    /* SeaBIOS writes PAM through the dwords at 0x58 and 0x5C. */
    cfg_write(0x58, 0x33333010, 4);     /* DRAMT 0x10, PAM0 0x30, PAM1-2 0x33 */
    cfg_write(0x5c, 0x33333333, 4);
    cr_expect_eq(cfg_read(0x58, 4), 0x33333010);
    for (uint32_t a = 0xc0000; a < 0x100000; a += 0x4000)
        expect_mode(a, 3, 0);
    cfg_write(0x59, 0xff, 1);           /* reserved bits read as 0 */
    cfg_write(0x5a, 0xff, 1);
    cr_expect_eq(cfg_read(0x59, 1), 0x30);
    cr_expect_eq(cfg_read(0x5a, 1), 0x33);
    cfg_write(0x59, 0x10, 1);           /* SeaBIOS's final write protect */
    expect_mode(0xf0000, 1, BIOS_BYTE);
}

Test(i440fx, shadow_copy_survives_write_protect)
{
    /* What firmware does: open for writes, copy itself down, lock. */
    cfg_write(0x59, 0x30, 1);
    for (uint32_t a = 0xf0000; a < 0x100000; a++)
        as_write(&mem, a, bios[a - 0xe0000] ^ 0xff, 1);
    cfg_write(0x59, 0x10, 1);
    cr_expect_eq(as_read(&mem, 0xffff0, 1), BIOS_BYTE ^ 0xff);
    as_write(&mem, 0xffff0, 0, 1);
    cr_expect_eq(as_read(&mem, 0xffff0, 1), BIOS_BYTE ^ 0xff);
}

Test(i440fx, reset_returns_to_the_rom)
{
    cfg_write(0x59, 0x30, 1);
    as_write(&mem, 0xffff0, 0x42, 1);
    i440fx_reset(h);
    cr_expect_eq(cfg_read(0x59, 1), 0);
    cr_expect_eq(as_read(&mem, 0xffff0, 1), BIOS_BYTE);
    cr_expect_eq(ram[0xffff0], 0x42);   /* DRAM keeps its contents */
}

Test(i440fx, post_load_remaps_pam)
{
    StateBuf buf = { 0 };
    size_t pos = 0;
    char err[128];

    cfg_write(0x59, 0x30, 1);
    cfg_write(0x5b, 0x01, 1);           /* 0xC8000: read-only */
    ram[0xc8000] = 0x77;
    cr_assert_eq(state_save(&i440fx_state_desc, &h->s, &buf), 0);
    i440fx_reset(h);
    cr_expect_eq(as_read(&mem, 0xc8000, 1), ISA_BYTE);
    cr_assert_eq(state_load(&i440fx_state_desc, &h->s, h, buf.data, buf.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(as_read(&mem, 0xc8000, 1), 0x77);
    expect_mode(0xf0000, 3, BIOS_BYTE);
    statebuf_free(&buf);
}

Test(i440fx, isa_hole_without_rom_floats_high)
{
    I440fx *h2;
    AddressSpace m2, io2;
    PciBus *b2;

    as_init(&m2, "memory", 0);
    as_init(&io2, "io", 1u << 16);
    cr_assert_eq(pci_bus_new(&m2, &io2, &b2), 0);
    I440fxConfig cfg = { .mem = &m2, .ram = ram, .ram_size = 2 << 20, .bios = bios };
    cr_assert_eq(i440fx_new(b2, &cfg, &h2), 0);
    cr_expect_eq(as_read(&m2, 0xc0000, 1), 0xff);
    cr_expect_eq(as_read(&m2, 0xe0000, 1), BIOS_BYTE);
    as_write(&io2, 0xcf8, 0x80000058, 4);
    as_write(&io2, 0xcfe, 0x33, 1);     /* PAM1 = 0x33 */
    cr_expect_eq(as_read(&m2, 0xc0000, 1), RAM_BYTE);
    as_write(&io2, 0xcfe, 0x00, 1);
    cr_expect_eq(as_read(&m2, 0xc0000, 1), 0xff);
    i440fx_free(h2);
    cr_expect_eq(m2.count, 0);          /* everything unmapped */
    pci_bus_free(b2);
    as_destroy(&m2);
    as_destroy(&io2);
}

Test(i440fx, board_mapping_in_the_pam_range_is_refused)
{
    AddressSpace m2, io2;
    PciBus *b2;
    I440fx *h2 = NULL;

    as_init(&m2, "memory", 0);
    as_init(&io2, "io", 1u << 16);
    cr_assert_eq(as_map_rom(&m2, "bios-isa", 0xe0000, 0x20000, bios), 0);
    cr_assert_eq(pci_bus_new(&m2, &io2, &b2), 0);
    I440fxConfig cfg = { .mem = &m2, .ram = ram, .ram_size = 2 << 20, .bios = bios };
    cr_expect_eq(i440fx_new(b2, &cfg, &h2), -EEXIST);
    cr_expect_null(h2);
    cr_expect_eq(m2.count, 1);          /* only the board's region remains */
    cr_expect_eq(as_read(&io2, 0xcf8, 4), 0);
    pci_bus_free(b2);
    as_destroy(&m2);
    as_destroy(&io2);
}

Test(i440fx, small_ram_keeps_showing_the_rom)
{
    AddressSpace m2, io2;
    PciBus *b2;
    I440fx *h2;

    as_init(&m2, "memory", 0);
    as_init(&io2, "io", 1u << 16);
    cr_assert_eq(pci_bus_new(&m2, &io2, &b2), 0);
    I440fxConfig cfg = { .mem = &m2, .ram = ram, .ram_size = 0xd0000, .bios = bios };
    cr_assert_eq(i440fx_new(b2, &cfg, &h2), 0);
    as_write(&io2, 0xcf8, 0x80000058, 4);
    as_write(&io2, 0xcfd, 0x30, 1);     /* 0xF0000 RW, but no RAM there */
    cr_expect_eq(as_read(&m2, 0xf0000, 1), BIOS_BYTE);
    i440fx_free(h2);
    pci_bus_free(b2);
    as_destroy(&m2);
    as_destroy(&io2);
}

/* ---- SMRAM ---------------------------------------------------------------- */

Test(i440fx, smram_open_close_and_c_base)
{
    cfg_write(0x72, 0x00, 1);
    cr_expect_eq(cfg_read(0x72, 1), 0x02);      /* C_BASE_SEG hardwired */
    cfg_write(0x72, 0x40, 1);                   /* D_OPEN without G_SMRAME */
    cr_expect_eq(cfg_read(0x72, 1), 0x42);
    cr_expect_eq(smram_calls, 0);               /* SMRAM disabled: still VGA */
    cfg_write(0x72, 0x4a, 1);                   /* D_OPEN | G_SMRAME */
    cr_expect_eq(cfg_read(0x72, 1), 0x4a);
    cr_expect_eq(smram_calls, 1);
    cr_expect_eq(smram_last, 1);
    cfg_write(0x72, 0x0a, 1);
    cr_expect_eq(smram_calls, 2);
    cr_expect_eq(smram_last, 0);
}

Test(i440fx, smram_lock)
{
    cfg_write(0x72, 0x4a, 1);                   /* open */
    cfg_write(0x72, 0x5a, 1);                   /* D_LCK: forces D_OPEN to 0 */
    cr_expect_eq(cfg_read(0x72, 1), 0x1a);
    cr_expect_eq(smram_last, 0);
    cfg_write(0x72, 0x42, 1);                   /* try: open, drop lock and G_SMRAME */
    cr_expect_eq(cfg_read(0x72, 1), 0x1a);
    cfg_write(0x72, 0x20, 1);                   /* D_CLS still writable */
    cr_expect_eq(cfg_read(0x72, 1), 0x3a);
    cfg_write(0x70, 0x00000000, 4);             /* dword write over 0x70-0x73 */
    cr_expect_eq(cfg_read(0x72, 1), 0x1a);
    i440fx_reset(h);                            /* only reset unlocks */
    cr_expect_eq(cfg_read(0x72, 1), 0x02);
    cfg_write(0x72, 0x4a, 1);
    cr_expect_eq(cfg_read(0x72, 1), 0x4a);
}

/* Unit tests for hw/pci.c (with hw/piix.c for INTx routing and 0xCF9).
 *
 * Everything is driven through I/O ports and the memory AddressSpace, as a
 * guest would.  Expected values come from the PCI Local Bus spec 3.0
 * (CONFIG_ADDRESS layout and reserved bits, byte lanes of CONFIG_DATA,
 * master abort = all-ones, BAR sizing), the 82371SB datasheet (ELCR masks,
 * RC at 0xCF9, PIRQRC) and the board wiring SeaBIOS and QEMU's ACPI _PRT
 * assume, written out as literal numbers: the _PRT rotates with slot mod 4,
 * INTA#..INTD# of slot 0 going to LNKD,A,B,C, of slot 1 to LNKA,B,C,D, of
 * slot 2 to LNKB,C,D,A and of slot 3 to LNKC,D,A,B.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/i440fx.h"
#include "hw/piix.h"
#include "hw/pci.h"
#include "machine/state.h"
#include "mmu/addrspace.h"
#include "util/log.h"

/* ---- fixture ------------------------------------------------------------ */

static AddressSpace mem, io;
static PciBus *bus;
static uint8_t *ram, *bios;
static I440fx *host;
static Piix *piix;

/* What the PIIX drove onto ISA IRQs, and the other callbacks. */
static int isa_level[16];
static int isa_calls;
static uint16_t elcr_seen;
static int elcr_calls;
static int resets, last_reset_hard;

static void rec_isa(void *opaque, int irq, int level)
{
    (void)opaque;
    cr_assert(irq >= 0 && irq < 16);
    isa_level[irq] = level;
    isa_calls++;
}

static void rec_elcr(void *opaque, uint16_t elcr)
{
    (void)opaque;
    elcr_seen = elcr;
    elcr_calls++;
}

static void rec_reset(void *opaque, bool hard)
{
    (void)opaque;
    resets++;
    last_reset_hard = hard;
}

/* A test function with an I/O BAR that records its accesses. */
typedef struct TestDev {
    PciDeviceState st;
    PciDevice pci;
    uint64_t last_off;
    unsigned last_size;
    uint64_t last_val;
    int reads, writes;
} TestDev;

static uint64_t tdev_read(void *opaque, uint64_t off, unsigned size)
{
    TestDev *t = opaque;
    t->reads++;
    t->last_off = off;
    t->last_size = size;
    return 0xA0 + off;
}

static void tdev_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
    TestDev *t = opaque;
    t->writes++;
    t->last_off = off;
    t->last_size = size;
    t->last_val = v;
}

static const MemOps tdev_ops = { .read = tdev_read, .write = tdev_write, .max_access = 4 };

static const PciDeviceInfo tdev_info = {
    .name = "testdev", .vendor_id = 0x1234, .device_id = 0x5678,
    .revision = 0x07, .class_code = 0x020000, .irq_pin = 1,
};

static const PciDeviceInfo tdev_info_pinb = {
    .name = "testdev-b", .vendor_id = 0x1234, .device_id = 0x5679,
    .class_code = 0x020000, .irq_pin = 2,
};

static TestDev *tdev_new(unsigned devfn, const PciDeviceInfo *info)
{
    TestDev *t = calloc(1, sizeof(*t));
    cr_assert_eq(pci_device_register(bus, &t->pci, &t->st, devfn, info, t), 0);
    return t;
}

static void setup(void)
{
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    ram = calloc(1, 2 << 20);
    bios = calloc(1, 128 << 10);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, 0xa0000, ram), 0);
    cr_assert_eq(pci_bus_new(&mem, &io, &bus), 0);
    I440fxConfig hc = { .mem = &mem, .ram = ram, .ram_size = 2 << 20, .bios = bios };
    cr_assert_eq(i440fx_new(bus, &hc, &host), 0);
    PiixConfig pc = { .io = &io, .set_isa_irq = rec_isa,
                      .elcr_changed = rec_elcr, .reset = rec_reset };
    cr_assert_eq(piix_new(bus, &pc, &piix), 0);
    memset(isa_level, 0, sizeof(isa_level));
    isa_calls = elcr_calls = resets = 0;
}

static void teardown(void)
{
    piix_free(piix);
    i440fx_free(host);
    pci_bus_free(bus);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
    free(bios);
}

TestSuite(pci, .init = setup, .fini = teardown);

/* ---- port helpers ------------------------------------------------------- */

static uint32_t in(uint16_t port, unsigned size) { return (uint32_t)as_read(&io, port, size); }
static void out(uint16_t port, uint32_t v, unsigned size) { as_write(&io, port, v, size); }

static uint32_t cfg_addr(unsigned bus_nr, unsigned dev, unsigned fn, unsigned reg)
{
    return 0x80000000u | bus_nr << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read(unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
    out(0xcf8, cfg_addr(0, dev, fn, reg), 4);
    return in((uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfg_write(unsigned dev, unsigned fn, unsigned reg, uint32_t v, unsigned size)
{
    out(0xcf8, cfg_addr(0, dev, fn, reg), 4);
    out((uint16_t)(0xcfc + (reg & 3)), v, size);
}

static char logpath[64];

static void log_to_tmp(void)
{
    strcpy(logpath, "/tmp/vireo-test-pci-XXXXXX");
    int fd = mkstemp(logpath);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(log_set_file(logpath), 0);
    log_mask = LOG_GUEST_ERRORS;
}

static const char *log_text(void)
{
    static char text[8192];
    FILE *f;
    size_t n;

    log_close();
    f = fopen(logpath, "r");
    cr_assert_not_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = 0;
    fclose(f);
    unlink(logpath);
    return text;
}

/* ---- configuration mechanism #1 ------------------------------------------ */

Test(pci, config_address_reserved_bits_read_zero)
{
    out(0xcf8, 0xffffffff, 4);
    /* Bits 30:24 and 1:0 are reserved and read as 0 (3.2.2.3.2). */
    cr_expect_eq(in(0xcf8, 4), 0x80fffffc);
    out(0xcf8, 0x80000000, 4);
    cr_expect_eq(in(0xcf8, 4), 0x80000000);
}

Test(pci, only_dword_accesses_reach_config_address)
{
    out(0xcf8, 0x80000800, 4);
    out(0xcf8, 0x12, 1);            /* an ordinary I/O cycle, not CONFIG_ADDRESS */
    out(0xcfa, 0x3456, 2);
    cr_expect_eq(in(0xcf8, 4), 0x80000800);
    cr_expect_eq(in(0xcf8, 1), 0xff);   /* nothing else decodes 0xCF8 */
}

Test(pci, enable_bit_gates_config_data)
{
    out(0xcf8, 0x00000000, 4);      /* 00:00.0 reg 0, enable clear */
    cr_expect_eq(in(0xcfc, 4), 0xffffffff);
    out(0xcf8, 0x80000000, 4);
    cr_expect_eq(in(0xcfc, 4), 0x12378086);
}

Test(pci, vendor_device_of_host_and_isa_bridge)
{
    cr_expect_eq(cfg_read(0, 0, 0x00, 4), 0x12378086);
    cr_expect_eq(cfg_read(1, 0, 0x00, 4), 0x70008086);
    cr_expect_eq(cfg_read(0, 0, 0x08, 1), 0x02);        /* 440FX revision */
    cr_expect_eq(cfg_read(0, 0, 0x0a, 2), 0x0600);      /* host bridge */
    cr_expect_eq(cfg_read(1, 0, 0x0a, 2), 0x0601);      /* ISA bridge */
    cr_expect_eq(cfg_read(1, 0, 0x2c, 4), 0x11001af4);  /* subsystem */
}

Test(pci, unaligned_data_port_accesses_pick_byte_lanes)
{
    out(0xcf8, cfg_addr(0, 0, 0, 0), 4);
    cr_expect_eq(in(0xcfc, 1), 0x86);
    cr_expect_eq(in(0xcfd, 1), 0x80);
    cr_expect_eq(in(0xcfe, 1), 0x37);
    cr_expect_eq(in(0xcff, 1), 0x12);
    cr_expect_eq(in(0xcfd, 2), 0x3780);
    cr_expect_eq(in(0xcfe, 2), 0x1237);
    /* Low address bits of CONFIG_ADDRESS are ignored: the byte lane comes
     * from the data port address. */
    out(0xcf8, cfg_addr(0, 0, 0, 0x08) | 3, 4);
    cr_expect_eq(in(0xcfc, 1), 0x02);
    cr_expect_eq(in(0xcfd, 1), 0x00);
    cr_expect_eq(in(0xcfe, 2), 0x0600);
}

Test(pci, unaligned_writes_touch_only_their_bytes)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);

    cfg_write(3, 0, 0x3c, 0x0b, 1);                     /* interrupt line */
    cfg_write(3, 0, 0x0d, 0x40, 1);                     /* latency timer */
    cr_expect_eq(cfg_read(3, 0, 0x3c, 4), 0x0000010b);  /* pin A stays */
    cr_expect_eq(cfg_read(3, 0, 0x0c, 4), 0x00004000);
    cfg_write(3, 0, 0x3e, 0xffff, 2);                   /* MIN_GNT/MAX_LAT: RO */
    cr_expect_eq(cfg_read(3, 0, 0x3c, 4), 0x0000010b);
    pci_device_unregister(&t->pci);
    free(t);
}

Test(pci, absent_functions_and_other_buses_read_all_ones)
{
    cr_expect_eq(cfg_read(5, 0, 0, 4), 0xffffffff);
    cr_expect_eq(cfg_read(0, 1, 0, 2), 0xffff);
    out(0xcf8, cfg_addr(1, 0, 0, 0), 4);                /* bus 1: no bridge */
    cr_expect_eq(in(0xcfc, 4), 0xffffffff);
    cfg_write(5, 0, 0x04, 0x7, 2);                      /* dropped, no crash */
}

Test(pci, function0_header_advertises_multifunction)
{
    cr_expect_eq(cfg_read(1, 0, 0x0e, 1) & 0x80, 0);
    TestDev *t = tdev_new(PCI_DEVFN(1, 3), &tdev_info);
    cr_expect_eq(cfg_read(1, 0, 0x0e, 1) & 0x80, 0x80);
    cr_expect_eq(cfg_read(1, 0, 0x0c, 4) >> 16 & 0x80, 0x80);
    cr_expect_eq(cfg_read(1, 3, 0x0e, 1) & 0x80, 0);
    pci_device_unregister(&t->pci);
    free(t);
    cr_expect_eq(cfg_read(1, 0, 0x0e, 1) & 0x80, 0);
}

Test(pci, status_error_bits_are_write_one_to_clear)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);

    t->st.config[0x07] = 0xf9;      /* errors latched by "hardware" */
    t->st.config[0x06] = 0x10;      /* capabilities: read-only */
    cfg_write(3, 0, 0x06, 0x2000 | 0x0010, 2);  /* clear master abort only */
    cr_expect_eq(cfg_read(3, 0, 0x06, 2), 0xd910);
    cfg_write(3, 0, 0x06, 0, 2);                /* zeros change nothing */
    cr_expect_eq(cfg_read(3, 0, 0x06, 2), 0xd910);
    pci_device_unregister(&t->pci);
    free(t);
}

/* ---- BARs --------------------------------------------------------------- */

Test(pci, bar_sizing_probe)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    cr_assert_eq(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 32, &tdev_ops, t), 0);
    cr_assert_eq(pci_register_bar(&t->pci, 1, PCI_BAR_MEM32, 4096, &tdev_ops, t), 0);
    cr_assert_eq(pci_register_bar(&t->pci, 2, PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
                                  1 << 20, &tdev_ops, t), 0);
    pci_device_reset(&t->pci);

    cr_expect_eq(cfg_read(3, 0, 0x10, 4), 0x00000001);
    cr_expect_eq(cfg_read(3, 0, 0x18, 4), 0x0000000c);
    for (unsigned reg = 0x10; reg <= 0x24; reg += 4)
        cfg_write(3, 0, reg, 0xffffffff, 4);
    cr_expect_eq(cfg_read(3, 0, 0x10, 4), 0xffffffe1);  /* 32 bytes of I/O */
    cr_expect_eq(cfg_read(3, 0, 0x14, 4), 0xfffff000);  /* 4 KiB memory */
    cr_expect_eq(cfg_read(3, 0, 0x18, 4), 0xfff0000c);  /* 1 MiB, 64-bit, pref */
    cr_expect_eq(cfg_read(3, 0, 0x1c, 4), 0xffffffff);
    cr_expect_eq(cfg_read(3, 0, 0x20, 4), 0x00000000);  /* unimplemented */
    pci_device_unregister(&t->pci);
    free(t);
}

Test(pci, io_bar_maps_when_enabled_and_follows_moves)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    cr_assert_eq(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 32, &tdev_ops, t), 0);
    pci_device_reset(&t->pci);

    cfg_write(3, 0, 0x10, 0xc000, 4);
    cr_expect_eq(in(0xc004, 1), 0xff);          /* I/O decode still off */
    cr_expect_eq(t->reads, 0);
    cfg_write(3, 0, 0x04, PCI_COMMAND_IO, 2);
    cr_expect_eq(in(0xc004, 1), 0xa4);
    cr_expect_eq(t->last_off, 4);
    out(0xc01e, 0xbeef, 2);
    cr_expect_eq(t->last_off, 0x1e);
    cr_expect_eq(t->last_val, 0xbeef);
    cr_expect_eq(pci_bar_address(&t->pci, 0), 0xc000);

    cfg_write(3, 0, 0x10, 0xc100, 4);           /* move */
    cr_expect_eq(in(0xc004, 1), 0xff);
    cr_expect_eq(in(0xc104, 1), 0xa4);
    cfg_write(3, 0, 0x04, 0, 2);                /* decode off */
    cr_expect_eq(in(0xc104, 1), 0xff);
    cr_expect_eq(pci_bar_address(&t->pci, 0), PCI_BAR_UNMAPPED);
    pci_device_unregister(&t->pci);
    free(t);
}

Test(pci, sizing_an_enabled_bar_does_not_map_it_at_all_ones)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    cr_assert_eq(pci_register_bar(&t->pci, 1, PCI_BAR_MEM32, 4096, &tdev_ops, t), 0);
    pci_device_reset(&t->pci);
    cfg_write(3, 0, 0x14, 0xfebf0000, 4);
    cfg_write(3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    cr_expect_eq(as_read(&mem, 0xfebf0008, 4), 0xa8);
    cfg_write(3, 0, 0x14, 0xffffffff, 4);
    cr_expect_eq(pci_bar_address(&t->pci, 1), PCI_BAR_UNMAPPED);
    cfg_write(3, 0, 0x14, 0xfebf0000, 4);
    cr_expect_eq(pci_bar_address(&t->pci, 1), 0xfebf0000);
    pci_device_unregister(&t->pci);
    free(t);
}

Test(pci, mem64_bar_above_4g)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    cr_assert_eq(pci_register_bar(&t->pci, 2, PCI_BAR_MEM64, 1 << 20, &tdev_ops, t), 0);
    pci_device_reset(&t->pci);
    cfg_write(3, 0, 0x18, 0x00100000, 4);
    cfg_write(3, 0, 0x1c, 0x00000008, 4);
    cfg_write(3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    cr_expect_eq(pci_bar_address(&t->pci, 2), 0x800100000ull);
    cr_expect_eq(as_read(&mem, 0x800100010ull, 1), 0xb0);
    pci_device_unregister(&t->pci);
    free(t);
}

Test(pci, overlapping_bar_is_logged_and_left_unmapped)
{
    log_to_tmp();
    TestDev *a = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    TestDev *b = tdev_new(PCI_DEVFN(4, 0), &tdev_info);
    cr_assert_eq(pci_register_bar(&a->pci, 1, PCI_BAR_MEM32, 4096, &tdev_ops, a), 0);
    cr_assert_eq(pci_register_bar(&b->pci, 0, PCI_BAR_IO, 16, &tdev_ops, b), 0);
    cr_assert_eq(pci_register_bar(&a->pci, 0, PCI_BAR_IO, 16, &tdev_ops, a), 0);
    pci_device_reset(&a->pci);
    pci_device_reset(&b->pci);

    /* A memory BAR on top of RAM. */
    ram[0x1004] = 0x5a;
    cfg_write(3, 0, 0x14, 0x1000, 4);
    cfg_write(3, 0, 0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    cr_expect_eq(pci_bar_address(&a->pci, 1), PCI_BAR_UNMAPPED);
    cr_expect_eq(as_read(&mem, 0x1004, 1), 0x5a);       /* RAM unharmed */
    as_write(&mem, 0x1004, 0x77, 1);
    cr_expect_eq(ram[0x1004], 0x77);
    cr_expect_eq(a->writes, 0);

    /* Two I/O BARs at the same port: the first keeps it. */
    cfg_write(4, 0, 0x10, 0xd000, 4);
    cfg_write(4, 0, 0x04, PCI_COMMAND_IO, 2);
    cfg_write(3, 0, 0x10, 0xd000, 4);
    cr_expect_eq(pci_bar_address(&b->pci, 0), 0xd000);
    cr_expect_eq(pci_bar_address(&a->pci, 0), PCI_BAR_UNMAPPED);
    in(0xd000, 1);
    cr_expect_eq(b->reads, 1);
    cr_expect_eq(a->reads, 0);

    /* Moving it somewhere free maps it. */
    cfg_write(3, 0, 0x14, 0xfe000000, 4);
    cr_expect_eq(pci_bar_address(&a->pci, 1), 0xfe000000);
    /* When the owner moves away, the waiting BAR gets the ports. */
    cfg_write(4, 0, 0x10, 0xd100, 4);
    cr_expect_eq(pci_bar_address(&a->pci, 0), 0xd000);

    const char *text = log_text();
    cr_expect_not_null(strstr(text, "BAR1 at 0x1000"), "log: %s", text);
    cr_expect_not_null(strstr(text, "BAR0 at 0xd000"), "log: %s", text);
    pci_device_unregister(&a->pci);
    pci_device_unregister(&b->pci);
    free(a);
    free(b);
}

Test(pci, io_bar_beyond_64k_is_refused)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    cr_assert_eq(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 256, &tdev_ops, t), 0);
    pci_device_reset(&t->pci);
    cfg_write(3, 0, 0x10, 0x1ff00, 4);
    cfg_write(3, 0, 0x04, PCI_COMMAND_IO, 2);
    cr_expect_eq(pci_bar_address(&t->pci, 0), PCI_BAR_UNMAPPED);
    pci_device_unregister(&t->pci);
    free(t);
}

Test(pci, expansion_rom_bar)
{
    static uint8_t rom[0x10000];
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    rom[0] = 0x55;
    rom[1] = 0xaa;
    cr_assert_eq(pci_register_rom(&t->pci, sizeof(rom), rom), 0);
    pci_device_reset(&t->pci);

    cfg_write(3, 0, 0x30, 0xfffffffe, 4);
    cr_expect_eq(cfg_read(3, 0, 0x30, 4), 0xffff0000);  /* 64 KiB */
    cfg_write(3, 0, 0x30, 0xfeb00000, 4);
    cfg_write(3, 0, 0x04, PCI_COMMAND_MEMORY, 2);
    cr_expect_eq(as_read(&mem, 0xfeb00000, 2), 0xffff); /* not enabled */
    cfg_write(3, 0, 0x30, 0xfeb00001, 4);
    cr_expect_eq(as_read(&mem, 0xfeb00000, 2), 0xaa55);
    as_write(&mem, 0xfeb00000, 0, 2);                   /* ROM: dropped */
    cr_expect_eq(rom[0], 0x55);
    pci_device_unregister(&t->pci);
    free(t);
}

Test(pci, bad_bar_registrations_are_refused)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    cr_expect_lt(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 24, &tdev_ops, t), 0);
    cr_expect_lt(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 512, &tdev_ops, t), 0);
    cr_expect_lt(pci_register_bar(&t->pci, 0, PCI_BAR_MEM32, 8, &tdev_ops, t), 0);
    cr_expect_lt(pci_register_bar(&t->pci, 5, PCI_BAR_MEM64, 4096, &tdev_ops, t), 0);
    cr_expect_lt(pci_register_bar(&t->pci, 6, PCI_BAR_IO, 16, &tdev_ops, t), 0);
    cr_expect_eq(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 16, &tdev_ops, t), 0);
    cr_expect_lt(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 16, &tdev_ops, t), 0);
    cr_expect_eq(pci_device_register(bus, &t->pci, &t->st, PCI_DEVFN(0, 0),
                                     &tdev_info, t), -EEXIST);
    pci_device_unregister(&t->pci);
    free(t);
}

/* ---- state ---------------------------------------------------------------- */

static int tdev_post_load(void *state, void *opaque)
{
    (void)state;
    return pci_device_post_load(&((TestDev *)opaque)->pci);
}

static const StateField tdev_fields[] = {
    STATE_STRUCT(TestDev, st, pci_device_state_desc),
    STATE_END
};

static const StateDesc tdev_desc = {
    .name = "testdev", .version = 1, .size = sizeof(TestDev),
    .fields = tdev_fields, .post_load = tdev_post_load,
};

Test(pci, post_load_redoes_bar_mappings)
{
    TestDev *t = tdev_new(PCI_DEVFN(3, 0), &tdev_info);
    StateBuf buf = { 0 };
    size_t pos = 0;
    char err[128];

    cr_assert_eq(pci_register_bar(&t->pci, 0, PCI_BAR_IO, 32, &tdev_ops, t), 0);
    pci_device_reset(&t->pci);
    cfg_write(3, 0, 0x10, 0xc000, 4);
    cfg_write(3, 0, 0x04, PCI_COMMAND_IO, 2);
    cr_assert_eq(state_save(&tdev_desc, t, &buf), 0);
    pci_device_reset(&t->pci);
    cr_expect_eq(in(0xc000, 1), 0xff);
    cr_assert_eq(state_load(&tdev_desc, t, t, buf.data, buf.len, &pos, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(in(0xc000, 1), 0xa0);
    statebuf_free(&buf);
    pci_device_unregister(&t->pci);
    free(t);
}

/* ---- INTx routing through the PIIX ----------------------------------------- */

static void route(int pirq, uint8_t v)
{
    cfg_write(1, 0, 0x60 + (unsigned)pirq, v, 1);
}

Test(pci, pirq_routes_reset_disabled)
{
    cr_expect_eq(cfg_read(1, 0, 0x60, 4), 0x80808080);
}

Test(pci, intx_swizzle_matches_the_board_wiring)
{
    /* Distinct IRQs per PIRQ so the IRQ seen names the PIRQ. */
    route(0, 5);    /* PIRQA */
    route(1, 9);    /* PIRQB */
    route(2, 10);   /* PIRQC */
    route(3, 11);   /* PIRQD */
    static const struct { unsigned slot; const PciDeviceInfo *info; int irq; } cases[] = {
        { 2, &tdev_info, 9 },        /* slot 2 INTA# -> LNKB */
        { 3, &tdev_info, 10 },       /* slot 3 INTA# -> LNKC */
        { 4, &tdev_info, 11 },       /* slot 4 INTA# -> LNKD */
        { 5, &tdev_info, 5 },        /* slot 5 INTA# -> LNKA */
        { 3, &tdev_info_pinb, 11 },  /* slot 3 INTB# -> LNKD */
        { 6, &tdev_info_pinb, 10 },  /* slot 6 INTB# -> LNKC */
        { 7, &tdev_info_pinb, 11 },  /* slot 7 INTB# -> LNKD */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TestDev *t = tdev_new(PCI_DEVFN(cases[i].slot, 0), cases[i].info);
        pci_set_irq(&t->pci, 1);
        for (int irq = 0; irq < 16; irq++)
            cr_expect_eq(isa_level[irq], irq == cases[i].irq,
                         "case %zu: IRQ%d level %d", i, irq, isa_level[irq]);
        cr_expect_eq(cfg_read(cases[i].slot, 0, 0x06, 2) & PCI_STATUS_INTERRUPT,
                     PCI_STATUS_INTERRUPT);
        pci_set_irq(&t->pci, 0);
        cr_expect_eq(isa_level[cases[i].irq], 0);
        pci_device_unregister(&t->pci);
        free(t);
    }
    cr_expect_eq(piix_pirq_of(PCI_DEVFN(0, 0), 0), 3);     /* slot 0 -> LNKD */
    cr_expect_eq(piix_pirq_of(PCI_DEVFN(1, 0), 0), 0);     /* slot 1 -> LNKA */
}

Test(pci, shared_pirq_is_wired_or)
{
    route(1, 10);   /* PIRQB */
    route(2, 10);   /* PIRQC shares IRQ 10 */
    TestDev *a = tdev_new(PCI_DEVFN(2, 0), &tdev_info);  /* PIRQB */
    TestDev *b = tdev_new(PCI_DEVFN(3, 0), &tdev_info);  /* PIRQC */
    TestDev *c = tdev_new(PCI_DEVFN(6, 0), &tdev_info);  /* PIRQB too */
    pci_set_irq(&a->pci, 1);
    pci_set_irq(&b->pci, 1);
    pci_set_irq(&c->pci, 1);
    cr_expect_eq(isa_level[10], 1);
    pci_set_irq(&a->pci, 0);
    cr_expect_eq(isa_level[10], 1);
    pci_set_irq(&b->pci, 0);
    cr_expect_eq(isa_level[10], 1);
    pci_set_irq(&c->pci, 0);
    cr_expect_eq(isa_level[10], 0);
    TestDev *all[] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        pci_device_unregister(&all[i]->pci);
        free(all[i]);
    }
}

Test(pci, intx_disable_and_route_changes)
{
    TestDev *t = tdev_new(PCI_DEVFN(2, 0), &tdev_info);  /* PIRQB */
    pci_set_irq(&t->pci, 1);
    cr_expect_eq(isa_calls, 0);             /* PIRQB not routed yet */
    route(1, 11);
    cr_expect_eq(isa_level[11], 1);
    route(1, 10);                           /* moves: 11 low, 10 high */
    cr_expect_eq(isa_level[11], 0);
    cr_expect_eq(isa_level[10], 1);
    cfg_write(2, 0, 0x04, PCI_COMMAND_INTX_DISABLE, 2);
    cr_expect_eq(isa_level[10], 0);
    cr_expect_eq(cfg_read(2, 0, 0x06, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    cfg_write(2, 0, 0x04, 0, 2);
    cr_expect_eq(isa_level[10], 1);
    route(1, 0x80 | 10);                    /* disabled */
    cr_expect_eq(isa_level[10], 0);
    route(1, 13);                           /* reserved IRQ: not routed */
    cr_expect_eq(isa_level[13], 0);
    cr_expect_eq(piix_pirq_route(piix, 1), -1);
    pci_device_unregister(&t->pci);
    free(t);
}

/* ---- PIIX ports ----------------------------------------------------------- */

Test(pci, elcr_ports_mask_edge_only_irqs)
{
    out(0x4d0, 0xff, 1);
    cr_expect_eq(in(0x4d0, 1), 0xf8);
    out(0x4d1, 0xff, 1);
    cr_expect_eq(in(0x4d1, 1), 0xde);
    cr_expect_eq(elcr_seen, 0xdef8);
    out(0x4d0, 0x0c00, 2);                  /* SeaBIOS: IRQ 10 and 11 */
    cr_expect_eq(elcr_seen, 0x0c00);
    cr_expect_eq(in(0x4d0, 2), 0x0c00);
}

Test(pci, reset_control_at_cf9)
{
    out(0xcf8, 0x80000000, 4);
    out(0xcf9, 0x02, 1);                    /* select hard reset: nothing yet */
    cr_expect_eq(resets, 0);
    cr_expect_eq(in(0xcf9, 1), 0x02);
    out(0xcf9, 0x06, 1);                    /* RCPU 0 -> 1 */
    cr_expect_eq(resets, 1);
    cr_expect_eq(last_reset_hard, 1);
    cr_expect_eq(in(0xcf8, 4), 0x80000000); /* CONFIG_ADDRESS untouched */
    cr_expect_eq(in(0xcf9, 1), 0x02);       /* RCPU consumed by the reset */
    out(0xcf9, 0x04, 1);                    /* soft reset */
    cr_expect_eq(resets, 2);
    cr_expect_eq(last_reset_hard, 0);
    out(0xcf9, 0x02, 1);                    /* RCPU stays 0: nothing */
    cr_expect_eq(resets, 2);
    out(0xcf9, 0x06, 1);                    /* ACPI's one-write reset */
    cr_expect_eq(resets, 3);
}

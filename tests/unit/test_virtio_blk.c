/* Unit tests for hw/virtio_pci.c, hw/virtqueue.c and hw/virtio_blk.c.
 *
 * The test is the guest driver: it finds the virtio capabilities in
 * configuration space, negotiates features, lays out a split virtqueue in
 * guest RAM and submits requests, with direct and indirect descriptors,
 * through the modern interface (BAR4) and the legacy one (BAR0 of the
 * transitional device).  Values are the Virtio 1.1 specification's:
 * vendor 1AF4h, device 1042h (modern) / 1001h (transitional, subsystem
 * 0002h), capability cfg_types 1-5, status ACKNOWLEDGE 1, DRIVER 2,
 * DRIVER_OK 4, FEATURES_OK 8, DEVICE_NEEDS_RESET 40h; features SEG_MAX 2,
 * BLK_SIZE 6, FLUSH 9, DISCARD 13, WRITE_ZEROES 14, INDIRECT_DESC 28,
 * EVENT_IDX 29, VERSION_1 32; request types IN 0, OUT 1, FLUSH 4, GET_ID
 * 8, DISCARD 11, WRITE_ZEROES 13; status OK 0, IOERR 1, UNSUPP 2.
 *
 * Malicious drivers (bad indexes, loops, buffers outside RAM, no status
 * byte ...) must leave the device marked DEVICE_NEEDS_RESET with a
 * configuration interrupt, and the process alive.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/pci.h"
#include "hw/virtio_blk.h"
#include "machine/block.h"
#include "machine/events.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define RAM_SIZE    (4u << 20)
#define DEVFN       PCI_DEVFN(3, 0)
#define BAR4        0xfe000000ull
#define BAR0        0xc080
#define SECTORS     2048
#define QSIZE       16
#define DESC        0x10000
#define AVAIL       0x11000
#define USED        0x12000
#define INDIRECT    0x14000
#define HDR         0x20000
#define DATA        0x21000
#define STATUS      0x30000

static AddressSpace mem, io;
static uint8_t *ram;
static PciBus *bus;
static EventQueue eq;
static VirtioBlk *vb;
static BlockDevice *disk;
static int irq_level;

/* Where the capabilities point. */
static uint64_t common, isr, devcfg, notify;
static uint32_t notify_mult;
static uint16_t qsize, avail_idx;

/* ---- fixture ---------------------------------------------------------------- */

static void rec_pirq(void *opaque, int pirq, int level)
{
    (void)opaque;
    if (pirq == 0)
        irq_level = level;
}

static int map_pirq(void *opaque, unsigned devfn, unsigned pin)
{
    (void)opaque;
    (void)devfn;
    (void)pin;
    return 0;
}

static uint8_t disk_byte(uint64_t sector, unsigned i)
{
    return (uint8_t)(sector * 5 + i * 3 + 7);
}

static void build(bool transitional, bool readonly)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/vireo-test-vblk-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    uint8_t s[512];
    char err[256];

    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    ram = calloc(1, RAM_SIZE);
    cr_assert(ram);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, RAM_SIZE, ram), 0);
    cr_assert_eq(pci_bus_new(&mem, &io, &bus), 0);
    PciIrqRouter r = { .map = map_pirq, .set = rec_pirq };
    pci_bus_set_irq_router(bus, &r);
    cr_assert_eq(events_init(&eq, 256), 0);
    events_set_sink(&eq, EVENT_BLOCK_DONE, block_complete_event, NULL);

    cr_assert(fd >= 0);
    for (unsigned n = 0; n < SECTORS; n++) {
        for (unsigned i = 0; i < 512; i++)
            s[i] = disk_byte(n, i);
        cr_assert_eq(pwrite(fd, s, 512, (off_t)n * 512), 512);
    }
    close(fd);
    BlockOpenOptions o = { .format = "raw", .readonly = readonly };
    cr_assert_eq(block_open(path, &o, &disk, err, sizeof(err)), 0, "%s", err);
    unlink(path);
    block_set_event_queue(disk, &eq, 0);

    VirtioBlkConfig cfg = { .bd = disk, .transitional = transitional,
                            .serial = "VBLK-SERIAL" };
    cr_assert_eq(virtio_blk_new(bus, DEVFN, &cfg, &vb), 0);
    pci_bus_config_write(bus, DEVFN, 0x20, (uint32_t)BAR4, 4);
    pci_bus_config_write(bus, DEVFN, 0x24, 0, 4);
    if (transitional)
        pci_bus_config_write(bus, DEVFN, 0x10, BAR0, 4);
    pci_bus_config_write(bus, DEVFN, PCI_COMMAND, PCI_COMMAND_IO |
                         PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    irq_level = 0;
    avail_idx = 0;
}

static void setup_modern(void) { build(false, false); }
static void setup_transitional(void) { build(true, false); }
static void setup_readonly(void) { build(false, true); }

static void teardown(void)
{
    virtio_blk_drain(vb);
    events_deliver(&eq, 0);
    virtio_blk_free(vb);
    events_deliver(&eq, 0);
    block_close(disk);
    pci_bus_free(bus);
    events_destroy(&eq);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
}

TestSuite(vblk, .init = setup_modern, .fini = teardown);
TestSuite(vblk_legacy, .init = setup_transitional, .fini = teardown);
TestSuite(vblk_ro, .init = setup_readonly, .fini = teardown);

/* ---- guest-side helpers ---------------------------------------------------- */

static uint64_t rd(uint64_t a, unsigned n) { return as_read(&mem, a, n); }
static void wr(uint64_t a, uint64_t v, unsigned n) { as_write(&mem, a, v, n); }
static uint32_t cfg(unsigned reg, unsigned n) { return pci_bus_config_read(bus, DEVFN, reg, n); }

static void st16(uint64_t a, uint16_t v) { ram[a] = (uint8_t)v; ram[a + 1] = (uint8_t)(v >> 8); }
static void st32(uint64_t a, uint32_t v) { st16(a, (uint16_t)v); st16(a + 2, (uint16_t)(v >> 16)); }
static void st64(uint64_t a, uint64_t v) { st32(a, (uint32_t)v); st32(a + 4, (uint32_t)(v >> 32)); }
static uint16_t ld16(uint64_t a) { return (uint16_t)(ram[a] | ram[a + 1] << 8); }
static uint32_t ld32(uint64_t a) { return ld16(a) | (uint32_t)ld16(a + 2) << 16; }

/* Walk the capability list as virtio_pci_modern does. */
static void find_caps(void)
{
    unsigned seen = 0;
    cr_assert(cfg(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    for (unsigned p = cfg(PCI_CAPABILITY_LIST, 1); p; p = cfg(p + 1, 1)) {
        cr_assert_eq(cfg(p, 1), 0x09);
        unsigned type = cfg(p + 3, 1), bar = cfg(p + 4, 1);
        uint64_t at = BAR4 + cfg(p + 8, 4);
        seen |= 1u << type;
        if (type != 5)
            cr_assert_eq(bar, 4);
        if (type == 1) common = at;
        if (type == 2) {
            notify = at;
            notify_mult = cfg(p + 16, 4);
        }
        if (type == 3) isr = at;
        if (type == 4) devcfg = at;
    }
    cr_assert_eq(seen, 0x3e, "capability types seen: %#x", seen);
}

static uint64_t device_features(void)
{
    wr(common + 0x00, 0, 4);
    uint64_t lo = rd(common + 0x04, 4);
    wr(common + 0x00, 1, 4);
    return lo | rd(common + 0x04, 4) << 32;
}

/* Negotiate, set up queue 0 of `size` entries and start the driver.
 * Returns the status read back after FEATURES_OK. */
static uint8_t drv_init(uint64_t features, uint16_t size)
{
    find_caps();
    wr(common + 0x14, 0, 1);
    cr_assert_eq(rd(common + 0x14, 1), 0);
    wr(common + 0x14, 1, 1);
    wr(common + 0x14, 3, 1);
    features &= device_features();
    wr(common + 0x08, 0, 4);
    wr(common + 0x0c, (uint32_t)features, 4);
    wr(common + 0x08, 1, 4);
    wr(common + 0x0c, features >> 32, 4);
    wr(common + 0x14, 0x0b, 1);
    uint8_t st = (uint8_t)rd(common + 0x14, 1);
    if (!(st & 8))
        return st;
    wr(common + 0x16, 0, 2);
    cr_assert_eq(rd(common + 0x18, 2), 256);
    wr(common + 0x18, size, 2);
    wr(common + 0x20, DESC, 4);
    wr(common + 0x24, 0, 4);
    wr(common + 0x28, AVAIL, 4);
    wr(common + 0x2c, 0, 4);
    wr(common + 0x30, USED, 8);
    wr(common + 0x1c, 1, 2);
    wr(common + 0x14, 0x0f, 1);
    qsize = size;
    avail_idx = 0;
    memset(ram + DESC, 0, 0x4000);
    return st;
}

#define BASE_FEATURES (1ull << 32 | 1ull << 28 | 1ull << 9 | 1ull << 13 | 1ull << 14)

static void desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next)
{
    uint64_t d = table + 16ull * i;
    st64(d, addr);
    st32(d + 8, len);
    st16(d + 12, flags);
    st16(d + 14, next);
}

static void avail_push(uint16_t head)
{
    st16(AVAIL + 4 + 2 * (avail_idx % qsize), head);
    avail_idx++;
    st16(AVAIL + 2, avail_idx);
}

static void kick(void)
{
    wr(notify + 0 * notify_mult, 0, 2);
}

static uint16_t used_idx(void) { return ld16(USED + 2); }

static void wait_used(uint16_t target)
{
    for (int i = 0; i < 2000 && used_idx() != target; i++) {
        events_wait(&eq, 10 * 1000 * 1000);
        events_deliver(&eq, 0);
    }
    cr_assert_eq(used_idx(), target);
}

static void header(uint32_t type, uint64_t sector)
{
    st32(HDR, type);
    st32(HDR + 4, 0);
    st64(HDR + 8, sector);
    ram[STATUS] = 0xff;
}

/* One request: header, optional data, status; returns the status byte
 * and the used-ring length in *used_len. */
static uint8_t blk_req(uint32_t type, uint64_t sector, uint32_t len, bool data_in,
                       bool indirect, uint32_t *used_len)
{
    uint64_t t = indirect ? INDIRECT : DESC;
    unsigned n = 0;
    uint16_t before = used_idx();

    header(type, sector);
    desc(t, n, HDR, 16, 1, (uint16_t)(n + 1)); n++;
    if (len) {
        desc(t, n, DATA, len, (uint16_t)(1 | (data_in ? 2 : 0)), (uint16_t)(n + 1));
        n++;
    }
    desc(t, n, STATUS, 1, 2, 0); n++;
    if (indirect)
        desc(DESC, 0, INDIRECT, 16 * n, 4, 0);
    avail_push(0);
    kick();
    wait_used((uint16_t)(before + 1));
    uint64_t e = USED + 4 + 8ull * (before % qsize);
    cr_expect_eq(ld32(e), 0);           /* the head we used */
    if (used_len)
        *used_len = ld32(e + 4);
    return ram[STATUS];
}

static uint8_t read_isr(void) { return (uint8_t)rd(isr, 1); }

static uint8_t dev_status(void) { return (uint8_t)rd(common + 0x14, 1); }

/* The device refused the chain: DEVICE_NEEDS_RESET and a configuration
 * interrupt, nothing in the used ring.  Then a reset brings it back. */
static void expect_broken(uint16_t used_before)
{
    events_deliver(&eq, 0);
    cr_expect(dev_status() & 0x40, "status %#x", dev_status());
    cr_expect_eq(used_idx(), used_before);
    cr_expect_eq(irq_level, 1);
    cr_expect_eq(read_isr() & 2, 2);
    cr_expect_eq(irq_level, 0);
    kick();                             /* ignored while broken */
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    cr_expect_eq(dev_status() & 0x40, 0);
    cr_expect_eq(blk_req(0, 0, 512, true, false, NULL), 0);
}

/* ---- the PCI function and negotiation -------------------------------- */

Test(vblk, pci_identity_and_capabilities)
{
    cr_expect_eq(cfg(0x00, 4), 0x10421af4);
    cr_expect_eq(cfg(0x08, 1), 1);
    cr_expect_eq(cfg(0x09, 4) >> 8, 0x0100);    /* class 0100h */
    cr_expect_eq(cfg(0x2c, 4), 0x11001af4);
    cr_expect_eq(cfg(0x3d, 1), 1);              /* INTA# */
    cr_expect_eq(cfg(0x20, 4) & 0xf, 0xc);      /* 64-bit prefetchable */
    cr_expect_eq(cfg(0x10, 4), 0);              /* no legacy BAR */
    find_caps();
    cr_expect_eq(common, BAR4);
    cr_expect_eq(notify_mult, 4);
    cr_expect_eq(rd(common + 0x12, 2), 1);      /* num_queues */
    cr_expect_eq(rd(common + 0x10, 2), 0xffff); /* no MSI-X vector */
}

Test(vblk, features_and_config)
{
    find_caps();
    uint64_t f = device_features();
    cr_expect_eq(f & BASE_FEATURES, BASE_FEATURES);
    cr_expect(f & (1ull << 29));
    cr_expect(f & (1ull << 2));
    cr_expect(f & (1ull << 6));
    cr_expect_eq(f & (1ull << 5), 0);           /* not read-only */
    cr_expect_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    cr_expect_eq(rd(devcfg + 0, 8), SECTORS);
    cr_expect_eq(rd(devcfg + 0x0c, 4), 254);    /* seg_max */
    cr_expect_eq(rd(devcfg + 0x14, 4), 512);    /* blk_size */
    cr_expect(rd(devcfg + 0x24, 4) > 0);        /* max_discard_sectors */
    cr_expect(rd(devcfg + 0x28, 4) >= 1);
    /* A feature not offered, or no VERSION_1: FEATURES_OK refused. */
    cr_expect_eq(drv_init(BASE_FEATURES | 1ull << 12, QSIZE) & 8, 8);  /* masked */
    wr(common + 0x14, 0, 1);
    wr(common + 0x14, 3, 1);
    wr(common + 0x08, 0, 4);
    wr(common + 0x0c, 1u << 12, 4);     /* MQ: not offered */
    wr(common + 0x08, 1, 4);
    wr(common + 0x0c, 1, 4);            /* VERSION_1 */
    wr(common + 0x14, 0x0b, 1);
    cr_expect_eq(rd(common + 0x14, 1) & 8, 0);
    cr_expect_eq(drv_init(1ull << 9, QSIZE) & 8, 0);                   /* no VERSION_1 */
}

Test(vblk, pci_cfg_access_window)
{
    unsigned p;
    for (p = cfg(PCI_CAPABILITY_LIST, 1); p && cfg(p + 3, 1) != 5; p = cfg(p + 1, 1))
        ;
    cr_assert(p);
    /* Read num_queues (common config offset 0x12) through the window. */
    pci_bus_config_write(bus, DEVFN, p + 4, 4, 1);
    pci_bus_config_write(bus, DEVFN, p + 8, 0x12, 4);
    pci_bus_config_write(bus, DEVFN, p + 12, 2, 4);
    cr_expect_eq(cfg(p + 16, 4) & 0xffff, 1);
}

/* ---- requests ------------------------------------------------------------- */

Test(vblk, read_write_direct)
{
    uint32_t len;
    uint8_t back[1024];

    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    cr_expect_eq(blk_req(0, 10, 1536, true, false, &len), 0);
    cr_expect_eq(len, 1537);
    for (unsigned i = 0; i < 1536; i++)
        cr_assert_eq(ram[DATA + i], disk_byte(10 + i / 512, i % 512));
    cr_expect_eq(irq_level, 1);
    cr_expect_eq(read_isr(), 1);
    cr_expect_eq(irq_level, 0);
    cr_expect_eq(read_isr(), 0);

    for (unsigned i = 0; i < 1024; i++)
        ram[DATA + i] = (uint8_t)(i ^ 0x5a);
    cr_expect_eq(blk_req(1, 100, 1024, false, false, &len), 0);
    cr_expect_eq(len, 1);
    cr_assert_eq(block_pread(disk, 100 * 512, back, sizeof(back)), 0);
    cr_expect_arr_eq(back, ram + DATA, sizeof(back));
}

Test(vblk, read_indirect_and_flush)
{
    uint32_t len;

    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    cr_expect_eq(blk_req(0, 7, 512, true, true, &len), 0);
    cr_expect_eq(len, 513);
    for (unsigned i = 0; i < 512; i++)
        cr_assert_eq(ram[DATA + i], disk_byte(7, i));
    cr_expect_eq(blk_req(4, 0, 0, false, false, &len), 0);
    cr_expect_eq(len, 1);
    /* An indirect write, read back. */
    uint8_t back[512];
    memset(ram + DATA, 0x3c, 512);
    cr_expect_eq(blk_req(1, 77, 512, false, true, &len), 0);
    cr_assert_eq(block_pread(disk, 77 * 512, back, 512), 0);
    cr_expect_arr_eq(back, ram + DATA, 512);
}

Test(vblk, get_id)
{
    uint32_t len;

    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    memset(ram + DATA, 0xee, 32);
    cr_expect_eq(blk_req(8, 0, 20, true, false, &len), 0);
    cr_expect_eq(len, 21);
    cr_expect_eq(memcmp(ram + DATA, "VBLK-SERIAL", 11), 0);
    cr_expect_eq(ram[DATA + 11], 0);
    cr_expect_eq(ram[DATA + 20], 0xee);
}

Test(vblk, discard_and_write_zeroes)
{
    uint8_t back[512];

    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    /* One segment: sector 64, 8 sectors, no flags. */
    st64(DATA, 64);
    st32(DATA + 8, 8);
    st32(DATA + 12, 0);
    cr_expect_eq(blk_req(11, 0, 16, false, false, NULL), 0);
    st32(DATA + 12, 1);                 /* unmap is not for discard */
    cr_expect_eq(blk_req(11, 0, 16, false, false, NULL), 2);
    /* Two write-zeroes segments. */
    st64(DATA, 20);
    st32(DATA + 8, 2);
    st32(DATA + 12, 1);
    st64(DATA + 16, 30);
    st32(DATA + 24, 1);
    st32(DATA + 28, 0);
    cr_expect_eq(blk_req(13, 0, 32, false, false, NULL), 0);
    for (unsigned s = 0; s < 3; s++) {
        uint64_t sec = s < 2 ? 20 + s : 30;
        cr_assert_eq(block_pread(disk, sec * 512, back, 512), 0);
        for (unsigned i = 0; i < 512; i++)
            cr_assert_eq(back[i], 0);
    }
    cr_assert_eq(block_pread(disk, 22 * 512, back, 512), 0);
    cr_expect_eq(back[5], disk_byte(22, 5));
    /* Past the end. */
    st64(DATA, SECTORS - 1);
    st32(DATA + 8, 2);
    st32(DATA + 12, 0);
    cr_expect_eq(blk_req(13, 0, 16, false, false, NULL), 1);
}

Test(vblk, request_errors)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    cr_expect_eq(blk_req(0, 0, 100, true, false, NULL), 1);     /* partial sector */
    cr_expect_eq(blk_req(0, SECTORS - 1, 1024, true, false, NULL), 1);
    cr_expect_eq(blk_req(0, ~0ull, 512, true, false, NULL), 1);
    cr_expect_eq(blk_req(99, 0, 0, false, false, NULL), 2);     /* unknown */
    cr_expect_eq(blk_req(10, 0, 0, false, false, NULL), 2);     /* GET_LIFETIME */
    cr_expect_eq(dev_status() & 0x40, 0);
}

Test(vblk_ro, read_only_image)
{
    find_caps();
    uint64_t f = device_features();
    cr_expect(f & (1ull << 5));
    cr_expect_eq(f & (1ull << 13), 0);
    cr_assert_eq(drv_init(1ull << 32, QSIZE) & 8, 8);
    cr_expect_eq(blk_req(1, 0, 512, false, false, NULL), 1);
    cr_expect_eq(blk_req(0, 0, 512, true, false, NULL), 0);
}

Test(vblk, event_idx_and_no_interrupt)
{
    cr_assert_eq(drv_init(BASE_FEATURES | 1ull << 29, QSIZE) & 8, 8);
    blk_req(0, 0, 512, true, false, NULL);
    cr_expect_eq(read_isr(), 1);        /* the first completion signals */
    cr_expect_eq(ld16(USED + 4 + 8 * QSIZE), 1);    /* avail_event */
    st16(AVAIL + 4 + 2 * QSIZE, 2);     /* used_event: after the third */
    blk_req(0, 0, 512, true, false, NULL);
    cr_expect_eq(read_isr(), 0);
    blk_req(0, 0, 512, true, false, NULL);
    cr_expect_eq(read_isr(), 1);
    cr_expect_eq(ld16(USED + 4 + 8 * QSIZE), 3);

    /* Without EVENT_IDX, the avail flag suppresses interrupts. */
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    st16(AVAIL, 1);
    blk_req(0, 0, 512, true, false, NULL);
    cr_expect_eq(read_isr(), 0);
    cr_expect_eq(irq_level, 0);
}

Test(vblk, two_requests_in_flight)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(0, 1);
    desc(DESC, 0, HDR, 16, 1, 1);
    desc(DESC, 1, DATA, 512, 3, 2);
    desc(DESC, 2, STATUS, 1, 2, 0);
    st32(HDR + 0x100, 0);
    st32(HDR + 0x104, 0);
    st64(HDR + 0x108, 2);
    desc(DESC, 3, HDR + 0x100, 16, 1, 4);
    desc(DESC, 4, DATA + 0x1000, 512, 3, 5);
    desc(DESC, 5, STATUS + 1, 1, 2, 0);
    ram[STATUS + 1] = 0xff;
    avail_push(0);
    avail_push(3);
    kick();
    wait_used(2);
    uint32_t a = ld32(USED + 4), b = ld32(USED + 12);
    cr_expect((a == 0 && b == 3) || (a == 3 && b == 0));
    cr_expect_eq(ram[STATUS], 0);
    cr_expect_eq(ram[STATUS + 1], 0);
    cr_expect_eq(ram[DATA], disk_byte(1, 0));
    cr_expect_eq(ram[DATA + 0x1000], disk_byte(2, 0));
}

Test(vblk, reset_with_request_in_flight)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(0, 0);
    desc(DESC, 0, HDR, 16, 1, 1);
    desc(DESC, 1, DATA, 4096, 3, 2);
    desc(DESC, 2, STATUS, 1, 2, 0);
    avail_push(0);
    kick();
    wr(common + 0x14, 0, 1);            /* before the completion arrives */
    cr_expect_eq(dev_status(), 0);
    for (int i = 0; i < 20; i++) {
        events_wait(&eq, 1000 * 1000);
        events_deliver(&eq, 0);
    }
    cr_expect_eq(used_idx(), 0);        /* the abandoned request is gone */
    cr_expect_eq(ram[STATUS], 0xff);
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    cr_expect_eq(blk_req(0, 3, 512, true, false, NULL), 0);
}

Test(vblk, state_round_trip)
{
    StateBuf sb = { 0 };
    size_t pos = 0;
    char err[128];
    VirtioBlkState copy;

    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    blk_req(0, 0, 512, true, false, NULL);
    VirtioBlkState *live = virtio_blk_state(vb);
    cr_assert_eq(state_save(&virtio_blk_state_desc, live, &sb), 0);
    memcpy(&copy, live, sizeof(copy));
    wr(common + 0x14, 0, 1);
    cr_assert_eq(state_load(&virtio_blk_state_desc, live, vb, sb.data, sb.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(state_hash(&virtio_blk_state_desc, live),
                 state_hash(&virtio_blk_state_desc, &copy));
    cr_expect_eq(blk_req(0, 9, 512, true, false, NULL), 0);
    cr_expect_eq(ram[DATA], disk_byte(9, 0));
    statebuf_free(&sb);
}

/* ---- a malicious driver ------------------------------------------------------- */

Test(vblk, bad_head_index)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    avail_push(500);
    kick();
    expect_broken(0);
}

Test(vblk, bad_next_index)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(0, 0);
    desc(DESC, 0, HDR, 16, 1, 77);
    avail_push(0);
    kick();
    expect_broken(0);
}

Test(vblk, descriptor_loop)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(0, 0);
    desc(DESC, 0, HDR, 16, 1, 1);
    desc(DESC, 1, DATA, 512, 3, 0);     /* back to 0, forever */
    avail_push(0);
    kick();
    expect_broken(0);
}

Test(vblk, indirect_loop_and_nesting)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(0, 0);
    desc(INDIRECT, 0, HDR, 16, 1, 1);
    desc(INDIRECT, 1, DATA, 512, 3, 0);
    desc(DESC, 0, INDIRECT, 32, 4, 0);
    avail_push(0);
    kick();
    expect_broken(0);
    desc(INDIRECT, 0, INDIRECT, 16, 4, 0);  /* an indirect table in one */
    desc(DESC, 0, INDIRECT, 16, 4, 0);
    avail_push(0);
    kick();
    expect_broken(1);
    desc(DESC, 0, INDIRECT, 20, 4, 0);      /* not a multiple of 16 */
    avail_push(0);
    kick();
    expect_broken(1);
}

Test(vblk, buffer_outside_ram)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(0, 0);
    desc(DESC, 0, HDR, 16, 1, 1);
    desc(DESC, 1, RAM_SIZE - 256, 512, 3, 2);   /* runs off the end */
    desc(DESC, 2, STATUS, 1, 2, 0);
    avail_push(0);
    kick();
    expect_broken(0);
    desc(DESC, 1, 0xffffffffffffff00ull, 0x200, 3, 2);  /* wraps */
    avail_push(0);
    kick();
    expect_broken(1);
}

Test(vblk, no_status_byte)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(1, 0);
    desc(DESC, 0, HDR, 16, 0, 0);       /* header only */
    avail_push(0);
    kick();
    expect_broken(0);
    desc(DESC, 0, HDR, 8, 1, 1);        /* header too short */
    desc(DESC, 1, STATUS, 1, 2, 0);
    avail_push(0);
    kick();
    expect_broken(1);
}

Test(vblk, readable_after_writable)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    header(0, 0);
    desc(DESC, 0, STATUS, 1, 3, 1);
    desc(DESC, 1, HDR, 16, 0, 0);
    avail_push(0);
    kick();
    expect_broken(0);
}

Test(vblk, avail_index_runs_away)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    st16(AVAIL + 2, 1000);
    kick();
    expect_broken(0);
}

Test(vblk, rings_outside_ram_and_bad_size)
{
    find_caps();
    wr(common + 0x14, 0, 1);
    wr(common + 0x14, 3, 1);
    wr(common + 0x0c, 0, 4);
    wr(common + 0x08, 1, 4);
    wr(common + 0x0c, 1, 4);
    wr(common + 0x14, 0x0b, 1);
    wr(common + 0x18, 16, 2);
    wr(common + 0x20, 0x80000000ull, 8);    /* no RAM there */
    wr(common + 0x28, AVAIL, 8);
    wr(common + 0x30, USED, 8);
    wr(common + 0x1c, 1, 2);
    wr(common + 0x14, 0x0f, 1);
    qsize = 16;
    avail_push(0);
    kick();
    expect_broken(0);
    /* A queue size that is not a power of two breaks the device at enable. */
    wr(common + 0x14, 0, 1);
    wr(common + 0x14, 3, 1);
    wr(common + 0x18, 12, 2);
    wr(common + 0x1c, 1, 2);
    cr_expect(dev_status() & 0x40);
}

/* ---- the legacy interface -------------------------------------------------- */

Test(vblk_legacy, transitional_identity_and_legacy_driver)
{
    cr_expect_eq(cfg(0x00, 4), 0x10011af4);
    cr_expect_eq(cfg(0x08, 1), 0);
    cr_expect_eq(cfg(0x2e, 2), 2);              /* subsystem: block */
    cr_expect_eq(cfg(0x10, 4), BAR0 | 1);

    uint16_t b = BAR0;
    as_write(&io, b + 0x12, 0, 1);              /* reset */
    as_write(&io, b + 0x12, 3, 1);
    uint32_t f = (uint32_t)as_read(&io, b + 0x00, 4);
    cr_expect(f & (1u << 27));                  /* ANY_LAYOUT */
    cr_expect(f & (1u << 28));
    as_write(&io, b + 0x04, 1u << 28, 4);
    as_write(&io, b + 0x0e, 0, 2);
    cr_expect_eq(as_read(&io, b + 0x0c, 2), 256);
    as_write(&io, b + 0x08, 0x40, 4);           /* queue at 0x40000 */
    cr_expect_eq(as_read(&io, b + 0x08, 4), 0x40);
    as_write(&io, b + 0x12, 7, 1);
    cr_expect_eq(as_read(&io, b + 0x14, 4), SECTORS);   /* capacity */

    /* The legacy layout: avail after 256 descriptors, used 4 KiB aligned. */
    uint64_t dsc = 0x40000, av = dsc + 16 * 256, used = 0x42000;
    header(0, 5);
    desc(dsc, 0, HDR, 16, 1, 1);
    desc(dsc, 1, DATA, 512, 3, 2);
    desc(dsc, 2, STATUS, 1, 2, 0);
    st16(av + 4, 0);
    st16(av + 2, 1);
    as_write(&io, b + 0x10, 0, 2);              /* notify queue 0 */
    for (int i = 0; i < 2000 && ld16(used + 2) != 1; i++) {
        events_wait(&eq, 10 * 1000 * 1000);
        events_deliver(&eq, 0);
    }
    cr_assert_eq(ld16(used + 2), 1);
    cr_expect_eq(ld32(used + 8), 513);
    cr_expect_eq(ram[STATUS], 0);
    cr_expect_eq(ram[DATA + 3], disk_byte(5, 3));
    cr_expect_eq(irq_level, 1);
    cr_expect_eq(as_read(&io, b + 0x13, 1), 1); /* ISR, read clears */
    cr_expect_eq(irq_level, 0);
    cr_expect_eq(as_read(&io, b + 0x13, 1), 0);
    /* PFN 0 stops the queue. */
    as_write(&io, b + 0x08, 0, 4);
    cr_expect_eq(as_read(&io, b + 0x08, 4), 0);
}

Test(vblk_legacy, modern_driver_on_transitional)
{
    cr_assert_eq(drv_init(BASE_FEATURES, QSIZE) & 8, 8);
    cr_expect_eq(blk_req(0, 4, 512, true, true, NULL), 0);
    cr_expect_eq(ram[DATA + 1], disk_byte(4, 1));
}

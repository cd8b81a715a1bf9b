/* Unit tests for hw/ide*.c: the PIIX3 IDE function with an ATA disk on
 * the primary channel and an ATAPI DVD-ROM on the secondary, driven
 * through the I/O ports and the PCI bus as a guest driver would.
 *
 * Expected values are the specifications' (see hw/ide.h), written as
 * literal numbers: 8086:7010 class 010180h; status BSY 80h, DRDY 40h,
 * DSC 10h, DRQ 08h, ERR 01h; error ABRT 04h, IDNF 10h; signature 00/00
 * for ATA and 14h/EBh for ATAPI; IDENTIFY words 0 (0040h disk, 85C0h
 * ATAPI CD-ROM), 27-46 model, 60-61 LBA28 capacity (at most 0FFFFFFFh),
 * 83 bit 10 (48-bit), 100-103 LBA48 capacity; bus master status bits
 * active 01h, error 02h, interrupt 04h; interrupt reason CoD 01h, IO 02h;
 * sense keys NOT READY 2, ILLEGAL REQUEST 5, UNIT ATTENTION 6 with ASC
 * 3Ah (medium not present), 28h (medium may have changed), 20h (invalid
 * opcode).
 *
 * Completions travel through an EventQueue as on the board: the tests
 * wait for and deliver EVENT_BLOCK_DONE events while polling BSY.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/ide.h"
#include "hw/pci.h"
#include "machine/block.h"
#include "machine/events.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define RAM_SIZE    (4u << 20)
#define BM_BASE     0xc000
#define P_BASE      0x1f0
#define P_CTL       0x3f6
#define S_BASE      0x170
#define S_CTL       0x376
/* A disk just past the LBA28 limit (sparse), so LBA48 really matters. */
#define DISK_SECTORS ((1ull << 28) + 4096)
#define CD_SECTORS   200

static AddressSpace mem, io;
static uint8_t *ram;
static PciBus *bus;
static EventQueue eq;
static Ide *ide;
static BlockDevice *disk, *cd;
static int irq_level[2], irq_edges[2];

/* ---- fixture ---------------------------------------------------------------- */

static void rec_irq(void *opaque, int n, int level)
{
    (void)opaque;
    if (level && !irq_level[n])
        irq_edges[n]++;
    irq_level[n] = level;
}

static uint8_t disk_byte(uint64_t sector, unsigned i)
{
    return (uint8_t)(sector * 7 + i + (sector >> 8) * 3 + (sector >> 28));
}

static uint8_t cd_byte(uint64_t sector, unsigned i)
{
    return (uint8_t)(sector * 13 + i * 5 + 1);
}

/* A raw image in a temporary file (unlinked once open). */
static BlockDevice *make_image(uint64_t size, bool is_cd, bool readonly)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/vireo-test-ide-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(ftruncate(fd, (off_t)size), 0);
    if (is_cd) {
        uint8_t s[2048];
        for (uint64_t n = 0; n < size / 2048; n++) {
            for (unsigned i = 0; i < 2048; i++)
                s[i] = cd_byte(n, i);
            cr_assert_eq(pwrite(fd, s, 2048, (off_t)(n * 2048)), 2048);
        }
    } else {
        /* The first 1024 sectors and the last 64. */
        uint8_t s[512];
        for (uint64_t n = 0; n < size / 512; n++) {
            if (n == 1024)
                n = size / 512 - 64;
            for (unsigned i = 0; i < 512; i++)
                s[i] = disk_byte(n, i);
            cr_assert_eq(pwrite(fd, s, 512, (off_t)(n * 512)), 512);
        }
    }
    close(fd);
    BlockOpenOptions o = { .format = "raw", .readonly = readonly };
    BlockDevice *bd;
    char err[256];
    int rc = block_open(path, &o, &bd, err, sizeof(err));
    unlink(path);
    cr_assert_eq(rc, 0, "block_open: %s", err);
    block_set_event_queue(bd, &eq, 0);
    return bd;
}

/* cd: 0 no drive, 1 an empty drive, 2 a drive with a disc. */
static void build(int cd_mode)
{
    IdeConfig cfg = {
        .irq = { irq_line(rec_irq, NULL, 0), irq_line(rec_irq, NULL, 1) },
    };
    disk = make_image(DISK_SECTORS * 512, false, false);
    cd = cd_mode == 2 ? make_image(CD_SECTORS * 2048, true, true) : NULL;
    cfg.drive[0] = (IdeDriveConfig){ .bd = disk, .serial = "DISK-SERIAL-1" };
    cfg.drive[2] = (IdeDriveConfig){ .bd = cd, .cdrom = cd_mode != 0 };
    cr_assert_eq(ide_new(bus, IDE_DEVFN, &cfg, &ide), 0);
    pci_bus_config_write(bus, IDE_DEVFN, 0x20, BM_BASE, 4);
    pci_bus_config_write(bus, IDE_DEVFN, PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

static void setup_common(void)
{
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    ram = calloc(1, RAM_SIZE);
    cr_assert(ram);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, RAM_SIZE, ram), 0);
    cr_assert_eq(pci_bus_new(&mem, &io, &bus), 0);
    cr_assert_eq(events_init(&eq, 256), 0);
    events_set_sink(&eq, EVENT_BLOCK_DONE, block_complete_event, NULL);
    memset(irq_level, 0, sizeof(irq_level));
    memset(irq_edges, 0, sizeof(irq_edges));
}

static void setup(void)
{
    setup_common();
    build(2);
}

static void setup_empty_cd(void)
{
    setup_common();
    build(1);
}

static void setup_disk_only(void)
{
    setup_common();
    build(0);
}

static void teardown(void)
{
    ide_drain(ide);
    events_deliver(&eq, 0);
    ide_free(ide);
    events_deliver(&eq, 0);     /* completions of abandoned requests */
    block_close(disk);
    block_close(cd);
    pci_bus_free(bus);
    events_destroy(&eq);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
}

TestSuite(ide, .init = setup, .fini = teardown);
TestSuite(ide_nocd, .init = setup_empty_cd, .fini = teardown);
TestSuite(ide_diskonly, .init = setup_disk_only, .fini = teardown);

/* ---- guest-side helpers ---------------------------------------------------- */

static uint8_t inb(uint16_t p) { return (uint8_t)as_read(&io, p, 1); }
static uint16_t inw(uint16_t p) { return (uint16_t)as_read(&io, p, 2); }
static uint32_t inl(uint16_t p) { return (uint32_t)as_read(&io, p, 4); }
static void outb(uint16_t p, uint8_t v) { as_write(&io, p, v, 1); }
static void outw(uint16_t p, uint16_t v) { as_write(&io, p, v, 2); }
static void outl(uint16_t p, uint32_t v) { as_write(&io, p, v, 4); }

/* Deliver block completions until BSY drops (alternate status, so the
 * interrupt stays pending for the test to see). */
static uint8_t wait_not_busy(uint16_t ctl)
{
    uint8_t st = 0;
    for (int i = 0; i < 2000; i++) {
        st = inb(ctl);
        if (!(st & 0x80))
            return st;
        events_wait(&eq, 10 * 1000 * 1000);
        events_deliver(&eq, 0);
    }
    cr_assert_fail("still busy: status %#x", st);
    return st;
}

static void read_words(uint16_t base, uint8_t *buf, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i += 2) {
        uint16_t w = inw(base);
        buf[i] = (uint8_t)w;
        buf[i + 1] = (uint8_t)(w >> 8);
    }
}

static uint16_t word(const uint8_t *b, unsigned n) { return (uint16_t)(b[2 * n] | b[2 * n + 1] << 8); }

/* An IDENTIFY string back in reading order. */
static void id_string(const uint8_t *b, unsigned w, unsigned len, char *out)
{
    for (unsigned i = 0; i < len; i++)
        out[i] = (char)b[2 * w + (i ^ 1)];
    out[len] = 0;
    for (int i = (int)len - 1; i >= 0 && out[i] == ' '; i--)
        out[i] = 0;
}

static void lba28(uint16_t base, uint32_t lba, uint8_t count)
{
    outb(base + 6, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f)));
    outb(base + 2, count);
    outb(base + 3, (uint8_t)lba);
    outb(base + 4, (uint8_t)(lba >> 8));
    outb(base + 5, (uint8_t)(lba >> 16));
}

static void lba48(uint16_t base, uint64_t lba, uint16_t count)
{
    outb(base + 6, 0x40);
    outb(base + 2, (uint8_t)(count >> 8));
    outb(base + 3, (uint8_t)(lba >> 24));
    outb(base + 4, (uint8_t)(lba >> 32));
    outb(base + 5, (uint8_t)(lba >> 40));
    outb(base + 2, (uint8_t)count);
    outb(base + 3, (uint8_t)lba);
    outb(base + 4, (uint8_t)(lba >> 8));
    outb(base + 5, (uint8_t)(lba >> 16));
}

static void check_disk_sector(const uint8_t *b, uint64_t sector)
{
    for (unsigned i = 0; i < 512; i++)
        cr_assert_eq(b[i], disk_byte(sector, i), "sector %llu byte %u",
                     (unsigned long long)sector, i);
}

/* A PRD table at `table` describing `n` regions. */
static void prd(uint32_t table, unsigned n, const uint32_t *addr, const uint32_t *len)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = ram + table + 8 * i;
        uint32_t cnt = len[i] == 65536 ? 0 : len[i];
        memcpy(e, &addr[i], 4);
        e[4] = (uint8_t)cnt;
        e[5] = (uint8_t)(cnt >> 8);
        e[6] = 0;
        e[7] = i == n - 1 ? 0x80 : 0;
    }
}

/* ---- the PCI function ------------------------------------------------------ */

Test(ide, pci_header_and_bar4)
{
    cr_expect_eq(pci_bus_config_read(bus, IDE_DEVFN, 0x00, 4), 0x70108086);
    cr_expect_eq(pci_bus_config_read(bus, IDE_DEVFN, 0x08, 4) >> 8, 0x010180);
    cr_expect_eq(pci_bus_config_read(bus, IDE_DEVFN, 0x20, 4), BM_BASE | 1);
    pci_bus_config_write(bus, IDE_DEVFN, 0x20, 0xffffffff, 4);
    cr_expect_eq(pci_bus_config_read(bus, IDE_DEVFN, 0x20, 4), 0xfffffff1);
    pci_bus_config_write(bus, IDE_DEVFN, 0x20, BM_BASE, 4);
    /* IDETIM: decode enabled from reset (what ata_piix checks), the
     * timing bits writable. */
    cr_expect_eq(pci_bus_config_read(bus, IDE_DEVFN, 0x40, 4), 0x80008000);
    pci_bus_config_write(bus, IDE_DEVFN, 0x40, 0xa307, 2);
    cr_expect_eq(pci_bus_config_read(bus, IDE_DEVFN, 0x40, 2), 0xa307);
    outl(BM_BASE + 4, 0x12345677);
    cr_expect_eq(inl(BM_BASE + 4), 0x12345674);
}

/* ---- ATA ------------------------------------------------------------------- */

Test(ide, identify_disk)
{
    uint8_t b[512];
    char s[41];

    outb(P_BASE + 6, 0xa0);
    outb(P_BASE + 7, 0xec);
    cr_assert_eq(wait_not_busy(P_CTL) & 0x08, 0x08);
    cr_expect_eq(irq_level[0], 1);
    read_words(P_BASE, b, 512);
    cr_expect_eq(inb(P_BASE + 7) & 0xc9, 0x40);     /* DRDY, no DRQ/ERR */
    cr_expect_eq(irq_level[0], 0);
    cr_expect_eq(word(b, 0), 0x0040);
    id_string(b, 27, 40, s);
    cr_expect_str_eq(s, "VIREO HARDDISK");
    id_string(b, 10, 20, s);
    cr_expect_str_eq(s, "DISK-SERIAL-1");
    cr_expect_eq(word(b, 49) & 0x0300, 0x0300);     /* LBA, DMA */
    cr_expect_eq(word(b, 60) | word(b, 61) << 16, 0x0fffffff);
    cr_expect(word(b, 83) & (1 << 10));
    uint64_t n = 0;
    for (unsigned i = 0; i < 4; i++)
        n |= (uint64_t)word(b, 100 + i) << (16 * i);
    cr_expect_eq(n, DISK_SECTORS);
    cr_expect_eq(word(b, 47) & 0xff, 16);
}

Test(ide, signatures_after_srst)
{
    outb(P_CTL, 0x04);
    cr_expect(inb(P_CTL) & 0x80);
    outb(P_CTL, 0x00);
    cr_expect_eq(inb(P_BASE + 2), 1);
    cr_expect_eq(inb(P_BASE + 3), 1);
    cr_expect_eq(inb(P_BASE + 4), 0);
    cr_expect_eq(inb(P_BASE + 5), 0);
    cr_expect_eq(inb(P_BASE + 1), 1);
    cr_expect_eq(inb(P_BASE + 7) & 0xc0, 0x40);
    outb(S_CTL, 0x04);
    outb(S_CTL, 0x00);
    cr_expect_eq(inb(S_BASE + 4), 0x14);
    cr_expect_eq(inb(S_BASE + 5), 0xeb);
    cr_expect_eq(inb(S_BASE + 7), 0x00);            /* PACKET: no DRDY */
    cr_expect_eq(irq_edges[0] + irq_edges[1], 0);   /* SRST: no interrupt */
}

Test(ide, absent_slave_reads_zero_status)
{
    outb(P_BASE + 6, 0xb0);
    cr_expect_eq(inb(P_BASE + 7), 0);
    cr_expect_eq(inb(P_CTL), 0);
    outb(P_BASE + 2, 0x55);
    cr_expect_eq(inb(P_BASE + 2), 0x55);    /* device 0 answers */
    outb(P_BASE + 7, 0xec);                 /* ignored */
    cr_expect_eq(irq_edges[0], 0);
    /* What libata's classification sees after a reset: an ATA signature
     * with status 0, i.e. no device. */
    outb(P_CTL, 0x04);
    outb(P_CTL, 0x00);
    outb(P_BASE + 6, 0xb0);
    cr_expect_eq(inb(P_BASE + 2), 1);
    cr_expect_eq(inb(P_BASE + 3), 1);
    cr_expect_eq(inb(P_BASE + 4), 0);
    cr_expect_eq(inb(P_BASE + 5), 0);
    cr_expect_eq(inb(P_BASE + 1), 0);
    cr_expect_eq(inb(P_BASE + 7), 0);
}

Test(ide_diskonly, empty_channel_reads_zero)
{
    /* The probe SeaBIOS and libata use: patterns do not stick. */
    outb(S_BASE + 6, 0xa0);
    outb(S_BASE + 2, 0x55);
    outb(S_BASE + 3, 0xaa);
    cr_expect_eq(inb(S_BASE + 2), 0);
    cr_expect_eq(inb(S_BASE + 3), 0);
    cr_expect_eq(inb(S_BASE + 7), 0);
    outb(S_BASE + 7, 0xa1);
    cr_expect_eq(inb(S_CTL), 0);
    cr_expect_eq(irq_edges[1], 0);
}

Test(ide, pio_read_lba28)
{
    uint8_t b[512];

    lba28(P_BASE, 5, 3);
    outb(P_BASE + 7, 0x20);
    for (unsigned s = 0; s < 3; s++) {
        uint8_t st = wait_not_busy(P_CTL);
        cr_assert_eq(st & 0x89, 0x08, "sector %u: status %#x", s, st);
        cr_expect_eq(irq_level[0], 1);
        inb(P_BASE + 7);                    /* acknowledge */
        cr_expect_eq(irq_level[0], 0);
        read_words(P_BASE, b, 512);
        check_disk_sector(b, 5 + s);
    }
    cr_expect_eq(inb(P_CTL) & 0x89, 0);
    cr_expect_eq(irq_edges[0], 3);          /* one per block, none at the end */
    cr_expect_eq(inb(P_BASE + 3), 7);       /* the last sector read */
}

Test(ide, pio_read_32bit_and_multiple)
{
    uint8_t b[4 * 512];

    outb(P_BASE + 6, 0xe0);
    outb(P_BASE + 2, 4);
    outb(P_BASE + 7, 0xc6);                 /* SET MULTIPLE MODE 4 */
    wait_not_busy(P_CTL);
    cr_assert_eq(inb(P_BASE + 7) & 0x01, 0);
    lba28(P_BASE, 100, 8);
    outb(P_BASE + 7, 0xc4);                 /* READ MULTIPLE */
    for (unsigned blk = 0; blk < 2; blk++) {
        cr_assert_eq(wait_not_busy(P_CTL) & 0x08, 0x08);
        inb(P_BASE + 7);
        for (unsigned i = 0; i < sizeof(b); i += 4) {
            uint32_t v = inl(P_BASE);
            memcpy(b + i, &v, 4);
        }
        for (unsigned s = 0; s < 4; s++)
            check_disk_sector(b + 512 * s, 100 + 4 * blk + s);
    }
    cr_expect_eq(inb(P_CTL) & 0x08, 0);
    cr_expect_eq(irq_edges[0], 3);          /* SET MULTIPLE + 2 blocks */
}

Test(ide, pio_across_chunks)
{
    static uint8_t b[512];

    /* Count 0 means 256 sectors: two 128-sector stagings. */
    lba28(P_BASE, 600, 0);
    outb(P_BASE + 7, 0x20);
    for (unsigned s = 0; s < 256; s++) {
        cr_assert_eq(wait_not_busy(P_CTL) & 0x89, 0x08, "sector %u", s);
        inb(P_BASE + 7);
        read_words(P_BASE, b, 512);
        check_disk_sector(b, 600 + s);
    }
    cr_expect_eq(inb(P_CTL) & 0x88, 0);
    cr_expect_eq(irq_edges[0], 256);
    /* 130 sectors written, read back through the block layer. */
    lba28(P_BASE, 1000, 130);
    outb(P_BASE + 7, 0x30);
    for (unsigned s = 0; s < 130; s++) {
        cr_assert_eq(wait_not_busy(P_CTL) & 0x89, 0x08, "sector %u", s);
        inb(P_BASE + 7);
        for (unsigned i = 0; i < 256; i++)
            outw(P_BASE, (uint16_t)(s << 8 | i));
    }
    cr_expect_eq(wait_not_busy(P_CTL) & 0x89, 0);
    for (unsigned s = 0; s < 130; s += 43) {
        cr_assert_eq(block_pread(disk, (1000 + s) * 512ull, b, 512), 0);
        cr_expect_eq(b[2], 1);
        cr_expect_eq(b[3], (uint8_t)s);
    }
}

Test(ide, pio_write_lba28)
{
    uint8_t b[512], back[512];

    lba28(P_BASE, 40, 2);
    outb(P_BASE + 7, 0x30);
    for (unsigned s = 0; s < 2; s++) {
        cr_assert_eq(wait_not_busy(P_CTL) & 0x08, 0x08);
        if (s)
            cr_expect_eq(irq_level[0], 1);  /* none before the first block */
        else
            cr_expect_eq(irq_edges[0], 0);
        inb(P_BASE + 7);
        for (unsigned i = 0; i < 512; i += 2)
            outw(P_BASE, (uint16_t)((0xa0 + s) << 8 | (i & 0xff)));
    }
    uint8_t st = wait_not_busy(P_CTL);
    cr_expect_eq(st & 0x89, 0);
    cr_expect_eq(irq_level[0], 1);          /* completion */
    for (unsigned s = 0; s < 2; s++) {
        cr_assert_eq(block_pread(disk, (40 + s) * 512, back, 512), 0);
        for (unsigned i = 0; i < 512; i += 2) {
            b[i] = (uint8_t)i;
            b[i + 1] = (uint8_t)(0xa0 + s);
        }
        cr_expect_arr_eq(back, b, 512);
    }
}

Test(ide, pio_lba48_beyond_lba28)
{
    uint8_t b[512];
    uint64_t lba = DISK_SECTORS - 3;        /* above 2^28 */

    lba48(P_BASE, lba, 2);
    outb(P_BASE + 7, 0x24);                 /* READ SECTORS EXT */
    for (unsigned s = 0; s < 2; s++) {
        cr_assert_eq(wait_not_busy(P_CTL) & 0x09, 0x08);
        inb(P_BASE + 7);
        read_words(P_BASE, b, 512);
        check_disk_sector(b, lba + s);
    }
    /* Write one sector with WRITE SECTORS EXT and read it back. */
    lba48(P_BASE, DISK_SECTORS - 1, 1);
    outb(P_BASE + 7, 0x34);
    cr_assert_eq(wait_not_busy(P_CTL) & 0x08, 0x08);
    for (unsigned i = 0; i < 256; i++)
        outw(P_BASE, (uint16_t)(i * 3));
    cr_expect_eq(wait_not_busy(P_CTL) & 0x09, 0);
    cr_assert_eq(block_pread(disk, (DISK_SECTORS - 1) * 512, b, 512), 0);
    cr_expect_eq(b[2], 3);
    cr_expect_eq(b[511], (uint8_t)((255 * 3) >> 8));
    /* HOB read-back of the address registers. */
    outb(P_CTL, 0x80);
    cr_expect_eq(inb(P_BASE + 3), (uint8_t)((DISK_SECTORS - 1) >> 24));
    outb(P_CTL, 0x00);
}

Test(ide, out_of_range_is_idnf)
{
    lba48(P_BASE, DISK_SECTORS - 1, 2);
    outb(P_BASE + 7, 0x24);
    uint8_t st = wait_not_busy(P_CTL);
    cr_expect_eq(st & 0x09, 0x01);
    cr_expect_eq(inb(P_BASE + 1), 0x10);
    cr_expect_eq(irq_level[0], 1);
}

Test(ide, nien_masks_and_status_read_clears)
{
    outb(P_CTL, 0x02);                      /* nIEN */
    outb(P_BASE + 6, 0xa0);
    outb(P_BASE + 7, 0xe5);                 /* CHECK POWER MODE */
    wait_not_busy(P_CTL);
    cr_expect_eq(irq_level[0], 0);
    cr_expect_eq(inb(P_BASE + 2), 0xff);
    outb(P_CTL, 0x00);                      /* still pending: asserts */
    cr_expect_eq(irq_level[0], 1);
    inb(P_CTL);                             /* alternate status: no effect */
    cr_expect_eq(irq_level[0], 1);
    inb(P_BASE + 7);
    cr_expect_eq(irq_level[0], 0);
}

Test(ide, dma_read_with_prd_table)
{
    uint32_t addr[2] = { 0x20000, 0x30000 }, len[2] = { 1024, 1024 };

    prd(0x1000, 2, addr, len);
    outl(BM_BASE + 4, 0x1000);
    outb(BM_BASE, 0x08);                    /* direction: to memory */
    lba28(P_BASE, 200, 4);
    outb(P_BASE + 7, 0xc8);                 /* READ DMA */
    cr_expect_eq(irq_edges[0], 0);
    outb(BM_BASE, 0x09);                    /* start */
    cr_expect(inb(BM_BASE + 2) & 0x01);
    uint8_t st = wait_not_busy(P_CTL);
    cr_expect_eq(st & 0x89, 0);
    cr_expect_eq(irq_level[0], 1);
    /* What ata_piix's interrupt handler checks and does. */
    uint8_t bm = inb(BM_BASE + 2);
    cr_expect_eq(bm & 0x07, 0x04);          /* interrupt, not active, no error */
    outb(BM_BASE, 0x08);                    /* stop */
    outb(BM_BASE + 2, bm);                  /* write-one-to-clear */
    cr_expect_eq(inb(BM_BASE + 2) & 0x06, 0);
    cr_expect_eq(inb(P_BASE + 7) & 0x01, 0);
    cr_expect_eq(irq_level[0], 0);
    check_disk_sector(ram + 0x20000, 200);
    check_disk_sector(ram + 0x20200, 201);
    check_disk_sector(ram + 0x30000, 202);
    check_disk_sector(ram + 0x30200, 203);
}

Test(ide, dma_write_lba48_start_before_command)
{
    uint32_t addr[1] = { 0x40000 }, len[1] = { 2048 };
    uint8_t back[2048];

    for (unsigned i = 0; i < 2048; i++)
        ram[0x40000 + i] = (uint8_t)(i * 11);
    prd(0x2000, 1, addr, len);
    outl(BM_BASE + 4, 0x2000);
    outb(BM_BASE, 0x01);                    /* started first, from memory */
    lba48(P_BASE, 300, 4);
    outb(P_BASE + 7, 0x35);                 /* WRITE DMA EXT */
    cr_expect_eq(wait_not_busy(P_CTL) & 0x89, 0);
    cr_expect_eq(inb(BM_BASE + 2) & 0x07, 0x04);
    cr_assert_eq(block_pread(disk, 300 * 512, back, sizeof(back)), 0);
    cr_expect_arr_eq(back, ram + 0x40000, sizeof(back));
}

Test(ide, dma_prd_longer_than_transfer_stays_active)
{
    uint32_t addr[1] = { 0x20000 }, len[1] = { 8192 };

    prd(0x1000, 1, addr, len);
    outl(BM_BASE + 4, 0x1000);
    lba28(P_BASE, 0, 1);
    outb(P_BASE + 7, 0xc8);
    outb(BM_BASE, 0x09);
    wait_not_busy(P_CTL);
    cr_expect_eq(inb(BM_BASE + 2) & 0x07, 0x05);   /* interrupt + active */
    check_disk_sector(ram + 0x20000, 0);
}

Test(ide, dma_prd_outside_ram_is_an_error)
{
    uint32_t addr[1] = { 0xf0000000u }, len[1] = { 512 };

    prd(0x1000, 1, addr, len);
    outl(BM_BASE + 4, 0x1000);
    lba28(P_BASE, 0, 1);
    outb(P_BASE + 7, 0xc8);
    outb(BM_BASE, 0x09);
    uint8_t st = wait_not_busy(P_CTL);
    cr_expect_eq(st & 0x01, 0x01);
    cr_expect_eq(inb(P_BASE + 1) & 0x04, 0x04);
    cr_expect_eq(inb(BM_BASE + 2) & 0x07, 0x06);   /* error + interrupt */
    /* A PRD table that is not in RAM at all. */
    outb(BM_BASE, 0x00);
    outb(BM_BASE + 2, 0x06);
    outl(BM_BASE + 4, 0xfff00000u);
    lba28(P_BASE, 0, 1);
    outb(P_BASE + 7, 0xc8);
    outb(BM_BASE, 0x09);
    cr_expect_eq(wait_not_busy(P_CTL) & 0x01, 0x01);
    cr_expect_eq(inb(BM_BASE + 2) & 0x02, 0x02);
}

Test(ide, dma_needs_bus_master_enable)
{
    uint32_t addr[1] = { 0x20000 }, len[1] = { 512 };

    pci_bus_config_write(bus, IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO, 2);
    prd(0x1000, 1, addr, len);
    outl(BM_BASE + 4, 0x1000);
    lba28(P_BASE, 0, 1);
    outb(P_BASE + 7, 0xc8);
    outb(BM_BASE, 0x09);
    cr_expect_eq(wait_not_busy(P_CTL) & 0x01, 0x01);
    cr_expect_eq(inb(BM_BASE + 2) & 0x02, 0x02);
}

Test(ide, flush_and_set_features)
{
    outb(P_BASE + 6, 0xa0);
    outb(P_BASE + 7, 0xe7);
    cr_expect_eq(wait_not_busy(P_CTL) & 0x01, 0);
    cr_expect_eq(irq_level[0], 1);
    inb(P_BASE + 7);
    outb(P_BASE + 1, 0x03);
    outb(P_BASE + 2, 0x22);                 /* MWDMA2 */
    outb(P_BASE + 7, 0xef);
    cr_expect_eq(wait_not_busy(P_CTL) & 0x01, 0);
    outb(P_BASE + 1, 0x77);                 /* unknown subcommand */
    outb(P_BASE + 7, 0xef);
    cr_expect_eq(wait_not_busy(P_CTL) & 0x01, 0x01);
    cr_expect_eq(inb(P_BASE + 1), 0x04);
    /* IDENTIFY reports the selected mode. */
    uint8_t b[512];
    outb(P_BASE + 7, 0xec);
    wait_not_busy(P_CTL);
    read_words(P_BASE, b, 512);
    cr_expect_eq(word(b, 63), 0x0407);
}

Test(ide, state_round_trip)
{
    StateBuf sb = { 0 };
    size_t pos = 0;
    char err[128];

    lba28(P_BASE, 5, 2);
    outb(P_BASE + 7, 0x20);
    wait_not_busy(P_CTL);
    cr_assert_eq(state_save(&ide_state_desc, ide_state(ide), &sb), 0);
    uint8_t b[512];
    read_words(P_BASE, b, 512);             /* move on ... */
    cr_assert_eq(state_load(&ide_state_desc, ide_state(ide), ide, sb.data, sb.len, &pos,
                            err, sizeof(err)), 0, "%s", err);
    read_words(P_BASE, b, 512);             /* ... and back */
    check_disk_sector(b, 5);
    statebuf_free(&sb);
}

/* ---- ATAPI ----------------------------------------------------------------- */

/* Issue a packet to the secondary master; returns the status once the
 * drive is no longer busy.  `bcl` is the byte count limit. */
static uint8_t packet(const uint8_t cdb[12], uint16_t bcl, bool dma)
{
    outb(S_BASE + 6, 0xa0);
    outb(S_BASE + 1, dma ? 1 : 0);
    outb(S_BASE + 4, (uint8_t)bcl);
    outb(S_BASE + 5, (uint8_t)(bcl >> 8));
    outb(S_BASE + 7, 0xa0);
    cr_assert_eq(inb(S_CTL) & 0x88, 0x08);
    cr_assert_eq(inb(S_BASE + 2) & 3, 1);   /* CoD: waiting for the packet */
    for (unsigned i = 0; i < 12; i += 2)
        outw(S_BASE, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    return wait_not_busy(S_CTL);
}

/* Read a PIO data-in reply into buf; returns its length. */
static unsigned pio_in(uint8_t *buf, unsigned max, unsigned *blocks)
{
    unsigned n = 0;
    *blocks = 0;
    for (;;) {
        uint8_t st = wait_not_busy(S_CTL);
        if (!(st & 0x08))
            break;
        cr_assert_eq(inb(S_BASE + 2) & 3, 2);   /* IO: data to the host */
        unsigned cnt = inb(S_BASE + 4) | inb(S_BASE + 5) << 8;
        inb(S_BASE + 7);
        cr_assert(n + cnt <= max);
        read_words(S_BASE, buf + n, cnt);
        n += cnt;
        (*blocks)++;
    }
    cr_expect_eq(inb(S_BASE + 2) & 3, 3);       /* completion */
    return n;
}

static uint8_t request_sense(uint8_t *key, uint8_t *asc)
{
    uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 }, b[18];
    unsigned blocks;

    packet(cdb, 18, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 18);
    *key = b[2] & 0x0f;
    *asc = b[12];
    return b[0];
}

Test(ide, atapi_identify_packet_and_abort_identify)
{
    uint8_t b[512];
    char s[41];

    outb(S_BASE + 6, 0xa0);
    outb(S_BASE + 7, 0xec);                 /* IDENTIFY DEVICE: aborted */
    cr_expect_eq(wait_not_busy(S_CTL) & 0x01, 0x01);
    cr_expect_eq(inb(S_BASE + 1) & 0x04, 0x04);
    cr_expect_eq(inb(S_BASE + 4), 0x14);
    cr_expect_eq(inb(S_BASE + 5), 0xeb);
    outb(S_BASE + 7, 0xa1);
    cr_assert_eq(wait_not_busy(S_CTL) & 0x08, 0x08);
    cr_expect_eq(irq_level[1], 1);
    read_words(S_BASE, b, 512);
    cr_expect_eq(word(b, 0), 0x85c0);
    id_string(b, 27, 40, s);
    cr_expect_str_eq(s, "VIREO DVD-ROM");
    cr_expect(word(b, 49) & (1 << 8));
}

Test(ide, atapi_inquiry_and_capacity)
{
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 }, cap[12] = { 0x25 }, b[64];
    unsigned blocks;

    packet(inq, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 36);
    cr_expect_eq(b[0], 0x05);
    cr_expect_eq(b[1], 0x80);
    cr_expect_eq(memcmp(b + 8, "VIREO   ", 8), 0);
    packet(cap, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 8);
    cr_expect_eq(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3], CD_SECTORS - 1);
    cr_expect_eq(b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7], 2048);
}

Test(ide, atapi_read10_pio)
{
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 4 };    /* LBA 3, 4 sectors */
    static uint8_t b[4 * 2048];
    unsigned blocks;

    packet(cdb, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), sizeof(b));
    cr_expect_eq(blocks, 1);
    for (unsigned s = 0; s < 4; s++)
        for (unsigned i = 0; i < 2048; i++)
            cr_assert_eq(b[s * 2048 + i], cd_byte(3 + s, i));
    /* A byte count limit of one sector: one DRQ block and one interrupt
     * per sector. */
    int edges = irq_edges[1];
    packet(cdb, 2048, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), sizeof(b));
    cr_expect_eq(blocks, 4);
    cr_expect_eq(irq_edges[1] - edges, 5);
    cr_expect_eq(b[2048], cd_byte(4, 0));
}

Test(ide, atapi_read10_long_and_out_of_range)
{
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 50, 0, 0, 40 };  /* 40 sectors */
    static uint8_t b[40 * 2048];
    unsigned blocks;
    uint8_t key, asc;

    packet(cdb, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), sizeof(b));
    for (unsigned s = 0; s < 40; s++)
        for (unsigned i = 0; i < 2048; i += 97)
            cr_assert_eq(b[s * 2048 + i], cd_byte(50 + s, i), "sector %u", s);
    cdb[5] = CD_SECTORS - 2;                /* runs past the end */
    cdb[8] = 4;
    cr_expect_eq(packet(cdb, 0xfffe, false) & 0x01, 0x01);
    request_sense(&key, &asc);
    cr_expect_eq(key, 5);
    cr_expect_eq(asc, 0x21);
}

Test(ide, atapi_read12_dma)
{
    uint8_t cdb[12] = { 0xa8, 0, 0, 0, 0, 10, 0, 0, 0, 2 };  /* LBA 10, 2 */
    uint32_t addr[2] = { 0x50000, 0x60000 }, len[2] = { 2048, 2048 };

    prd(0x3000, 2, addr, len);
    outl(BM_BASE + 8 + 4, 0x3000);
    outb(BM_BASE + 8, 0x08);
    packet(cdb, 0xfffe, true);
    outb(BM_BASE + 8, 0x09);
    uint8_t st = wait_not_busy(S_CTL);
    cr_expect_eq(st & 0x09, 0);
    cr_expect_eq(inb(S_BASE + 2) & 3, 3);
    cr_expect_eq(inb(BM_BASE + 8 + 2) & 0x07, 0x04);
    cr_expect_eq(irq_level[1], 1);
    for (unsigned i = 0; i < 2048; i++) {
        cr_assert_eq(ram[0x50000 + i], cd_byte(10, i));
        cr_assert_eq(ram[0x60000 + i], cd_byte(11, i));
    }
}

Test(ide, atapi_read_toc)
{
    uint8_t cdb[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 }, b[100];
    unsigned blocks;

    packet(cdb, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 20);
    cr_expect_eq(b[0] << 8 | b[1], 18);
    cr_expect_eq(b[2], 1);
    cr_expect_eq(b[3], 1);
    cr_expect_eq(b[5], 0x14);
    cr_expect_eq(b[6], 1);
    cr_expect_eq(b[14], 0xaa);
    cr_expect_eq(b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19], CD_SECTORS);
    cdb[1] = 0x02;                          /* MSF */
    packet(cdb, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 20);
    cr_expect_eq(b[9], 0);                  /* track 1 at 00:02:00 */
    cr_expect_eq(b[10], 2);
    cr_expect_eq(b[11], 0);
    /* lead-out: 200 + 150 frames = 00:04:50 */
    cr_expect_eq(b[17], 0);
    cr_expect_eq(b[18], 4);
    cr_expect_eq(b[19], 50);
    cdb[1] = 0;
    cdb[2] = 1;                             /* session information */
    packet(cdb, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 12);
    cr_expect_eq(b[1], 10);
    /* READ TRACK INFORMATION of track 1: its size. */
    uint8_t rti[12] = { 0x52, 1, 0, 0, 0, 1, 0, 0, 36 };
    packet(rti, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 36);
    cr_expect_eq(b[2], 1);
    cr_expect_eq(b[24] << 24 | b[25] << 16 | b[26] << 8 | b[27], CD_SECTORS);
    rti[5] = 2;                             /* no track 2 */
    cr_expect_eq(packet(rti, 0xfffe, false) & 0x01, 0x01);
}

Test(ide, atapi_get_configuration_and_mode_sense)
{
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0x01, 0 }, b[256];
    unsigned blocks, n;

    packet(gc, 0xfffe, false);
    n = pio_in(b, sizeof(b), &blocks);
    cr_assert(n >= 8);
    cr_expect_eq(b[6] << 8 | b[7], 0x0008);         /* current: CD-ROM */
    cr_expect_eq((uint32_t)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]), n - 4);
    cr_expect_eq(b[8] << 8 | b[9], 0x0000);         /* profile list first */
    cr_expect_eq(b[12] << 8 | b[13], 0x0010);
    cr_expect_eq(b[16] << 8 | b[17], 0x0008);
    cr_expect_eq(b[18] & 1, 1);                     /* CD-ROM is current */
    gc[1] = 2;                                      /* just feature 0003h */
    gc[3] = 3;
    packet(gc, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 16);
    cr_expect_eq(b[9], 3);

    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 0xff };
    packet(ms, 0xfffe, false);
    n = pio_in(b, sizeof(b), &blocks);
    cr_assert_eq(n, 30);
    cr_expect_eq(b[0] << 8 | b[1], 28);
    cr_expect_eq(b[8], 0x2a);
    cr_expect_eq(b[14] & 0x08, 0x08);               /* eject supported */
    ms[2] = 0xea;                                   /* saved values */
    cr_expect_eq(packet(ms, 0xfffe, false) & 0x01, 0x01);
}

Test(ide, atapi_bad_opcode_sense)
{
    uint8_t cdb[12] = { 0xff }, key, asc;

    uint8_t st = packet(cdb, 0xfffe, false);
    cr_expect_eq(st & 0x01, 0x01);
    cr_expect_eq(inb(S_BASE + 1) >> 4, 5);
    cr_expect_eq(inb(S_BASE + 2) & 3, 3);
    cr_expect_eq(request_sense(&key, &asc), 0x70);
    cr_expect_eq(key, 5);
    cr_expect_eq(asc, 0x20);
    request_sense(&key, &asc);              /* reported once */
    cr_expect_eq(key, 0);
}

Test(ide_nocd, atapi_media_change)
{
    uint8_t tur[12] = { 0 }, key, asc;

    cr_expect_eq(packet(tur, 0, false) & 0x01, 0x01);
    cr_expect_eq(inb(S_BASE + 1) >> 4, 2);  /* NOT READY */
    request_sense(&key, &asc);
    cr_expect_eq(key, 2);
    cr_expect_eq(asc, 0x3a);

    cd = make_image(CD_SECTORS * 2048, true, true);
    cr_assert_eq(ide_cd_insert(ide, 2, cd), 0);
    cr_expect_eq(ide_cd_insert(ide, 2, cd), -EBUSY);
    cr_expect_eq(packet(tur, 0, false) & 0x01, 0x01);
    cr_expect_eq(inb(S_BASE + 1) >> 4, 6);  /* UNIT ATTENTION */
    request_sense(&key, &asc);
    cr_expect_eq(key, 6);
    cr_expect_eq(asc, 0x28);
    cr_expect_eq(packet(tur, 0, false) & 0x01, 0);  /* ready now */

    /* GET EVENT STATUS NOTIFICATION saw the new medium. */
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 }, b[8];
    unsigned blocks;
    packet(gesn, 0xfffe, false);
    cr_assert_eq(pio_in(b, sizeof(b), &blocks), 8);
    cr_expect_eq(b[2], 0x04);
    cr_expect_eq(b[4], 2);                  /* new media */
    cr_expect_eq(b[5], 0x02);               /* present, tray closed */

    /* A locked tray refuses a normal eject, and the guest hears of it. */
    uint8_t prevent[12] = { 0x1e, 0, 0, 0, 1 };
    packet(prevent, 0, false);
    BlockDevice *old;
    cr_expect_eq(ide_cd_eject(ide, 2, false, &old), -EBUSY);
    packet(gesn, 0xfffe, false);
    pio_in(b, sizeof(b), &blocks);
    cr_expect_eq(b[4], 1);                  /* eject request */
    cr_expect_eq(ide_cd_eject(ide, 2, true, &old), 0);
    cr_expect_eq(old, cd);
    cr_expect_eq(packet(tur, 0, false) & 0x01, 0x01);
    request_sense(&key, &asc);
    cr_expect_eq(key, 2);
    cr_expect_eq(asc, 0x3a);
    cr_expect_eq(ide_cd_eject(ide, 0, false, &old), -ENODEV);   /* a disk */
}

Test(ide, atapi_device_reset_and_diagnostic)
{
    outb(S_BASE + 6, 0xa0);
    outb(S_BASE + 7, 0x08);                 /* DEVICE RESET */
    cr_expect_eq(wait_not_busy(S_CTL), 0x00);
    cr_expect_eq(inb(S_BASE + 4), 0x14);
    cr_expect_eq(irq_edges[1], 0);
    outb(P_BASE + 7, 0x90);                 /* EXECUTE DEVICE DIAGNOSTIC */
    wait_not_busy(P_CTL);
    cr_expect_eq(inb(P_BASE + 1), 0x01);
    cr_expect_eq(irq_level[0], 1);
}

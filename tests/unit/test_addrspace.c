/* Unit tests for mmu/addrspace.c: the region map and the dispatcher.
 *
 * Expected values are written out by hand (byte by byte for little-endian
 * layouts) rather than computed with the code under test, and devices are
 * recording stubs so each call's offset, size and value can be checked.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmu/addrspace.h"
#include "util/log.h"

/* ---- a recording device ---------------------------------------------------- */

typedef struct Call {
    char dir;               /* 'r' or 'w' */
    uint64_t offset;
    uint64_t value;         /* written value, or value returned */
    unsigned size;
} Call;

typedef struct RecDev {
    uint64_t length;        /* region length, to check the crossing contract */
    Call calls[256];
    int ncalls;
    uint64_t replies[16];   /* values returned by successive reads */
    int nreplies;
    int next_reply;
    uint64_t default_reply;
    bool crossed;           /* an access ran past the end of the region */
} RecDev;

static void rec_note(RecDev *d, char dir, uint64_t offset, uint64_t value,
                     unsigned size)
{
    if (offset + size > d->length || offset + size < offset)
        d->crossed = true;
    if (d->ncalls < (int)(sizeof(d->calls) / sizeof(d->calls[0])))
        d->calls[d->ncalls] = (Call){ dir, offset, value, size };
    d->ncalls++;
}

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
    RecDev *d = opaque;
    uint64_t v = d->next_reply < d->nreplies ? d->replies[d->next_reply++]
                                             : d->default_reply;
    rec_note(d, 'r', offset, v, size);
    return v;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value,
                      unsigned size)
{
    rec_note(opaque, 'w', offset, value, size);
}

static const MemOps ops_max0 = { rec_read, rec_write, 0 };
static const MemOps ops_max1 = { rec_read, rec_write, 1 };
static const MemOps ops_max2 = { rec_read, rec_write, 2 };
static const MemOps ops_max4 = { rec_read, rec_write, 4 };

static void expect_call(const RecDev *d, int i, char dir, uint64_t offset,
                        uint64_t value, unsigned size)
{
    cr_assert_lt(i, d->ncalls, "call %d missing (only %d)", i, d->ncalls);
    cr_expect_eq(d->calls[i].dir, dir, "call %d dir", i);
    cr_expect_eq(d->calls[i].offset, offset, "call %d offset 0x%llx", i,
                 (unsigned long long)d->calls[i].offset);
    cr_expect_eq(d->calls[i].value, value, "call %d value 0x%llx", i,
                 (unsigned long long)d->calls[i].value);
    cr_expect_eq(d->calls[i].size, size, "call %d size %u", i, d->calls[i].size);
}

/* ---- log capture ----------------------------------------------------------- */

static char log_path[64];

static void capture_log(uint32_t mask)
{
    int fd;

    strcpy(log_path, "/tmp/vireo-test-as-XXXXXX");
    fd = mkstemp(log_path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(log_set_file(log_path), 0);
    log_mask = mask;
}

/* Close the log and return its contents (static buffer). */
static const char *captured_log(void)
{
    static char text[16384];
    FILE *f;
    size_t n;

    log_close();
    f = fopen(log_path, "r");
    cr_assert_not_null(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(log_path);
    return text;
}

/* ---- RAM ------------------------------------------------------------------- */

static AddressSpace mem;
static uint8_t ram[64];

static void setup_mem(void)
{
    as_init(&mem, "memory", 0);
    memset(ram, 0, sizeof(ram));
}

static void teardown_mem(void)
{
    as_destroy(&mem);
}

TestSuite(addrspace, .init = setup_mem, .fini = teardown_mem);

Test(addrspace, ram_write_is_little_endian_for_every_size)
{
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, sizeof(ram), ram), 0);

    as_write(&mem, 0x1000, 0x1122334455667788ull, 8);
    as_write(&mem, 0x1008, 0xAABBCCDDu, 4);
    as_write(&mem, 0x100C, 0xEEF0u, 2);
    as_write(&mem, 0x100E, 0x5Au, 1);

    static const uint8_t expect[16] = {
        0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        0xDD, 0xCC, 0xBB, 0xAA, 0xF0, 0xEE, 0x5A, 0x00,
    };
    for (int i = 0; i < 16; i++)
        cr_expect_eq(ram[i], expect[i], "byte %d is 0x%02x, want 0x%02x",
                     i, ram[i], expect[i]);
}

Test(addrspace, ram_read_assembles_little_endian_for_every_size)
{
    static const uint8_t bytes[8] = { 0x01, 0x23, 0x45, 0x67,
                                      0x89, 0xAB, 0xCD, 0xEF };
    memcpy(ram + 8, bytes, sizeof(bytes));
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, sizeof(ram), ram), 0);

    cr_expect_eq(as_read(&mem, 0x1008, 1), 0x01u);
    cr_expect_eq(as_read(&mem, 0x1008, 2), 0x2301u);
    cr_expect_eq(as_read(&mem, 0x1008, 4), 0x67452301u);
    cr_expect_eq(as_read(&mem, 0x1008, 8), 0xEFCDAB8967452301ull);
    /* unaligned, still inside the region */
    cr_expect_eq(as_read(&mem, 0x100B, 4), 0xCDAB8967u);
    cr_expect_eq(as_read(&mem, 0x100F, 1), 0xEFu);
}

Test(addrspace, narrow_write_ignores_high_value_bits)
{
    memset(ram, 0x99, sizeof(ram));
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, sizeof(ram), ram), 0);

    as_write(&mem, 0x1004, 0xFFFFFFFFFFFF1234ull, 2);
    cr_expect_eq(ram[3], 0x99);
    cr_expect_eq(ram[4], 0x34);
    cr_expect_eq(ram[5], 0x12);
    cr_expect_eq(ram[6], 0x99);
    as_write(&mem, 0x1010, 0xFFFFFF77ull, 1);
    cr_expect_eq(ram[16], 0x77);
    cr_expect_eq(ram[17], 0x99);
}

Test(addrspace, ram_at_top_of_64bit_space)
{
    cr_assert_eq(as_map_ram(&mem, "top", UINT64_MAX - 7, 8, ram), 0);
    as_write(&mem, UINT64_MAX - 7, 0x0807060504030201ull, 8);
    cr_expect_eq(ram[0], 0x01);
    cr_expect_eq(ram[7], 0x08);
    cr_expect_eq(as_read(&mem, UINT64_MAX, 1), 0x08u);
    cr_expect_eq(as_read(&mem, UINT64_MAX - 1, 2), 0x0807u);
}

/* ---- ROM ------------------------------------------------------------------- */

Test(addrspace, rom_reads_and_drops_writes_with_log)
{
    static const uint8_t image[8] = { 0xEA, 0x5B, 0xE0, 0x00, 0xF0, 0, 0, 0 };
    memcpy(ram, image, sizeof(image));
    cr_assert_eq(as_map_rom(&mem, "bios", 0xFFFF0, 16, ram), 0);
    capture_log(LOG_UNIMP);

    cr_expect_eq(as_read(&mem, 0xFFFF0, 4), 0x00E05BEAu);
    as_write(&mem, 0xFFFF1, 0x1234, 2);
    as_write(&mem, 0xFFFF0, 0xFF, 1);
    cr_expect_eq(memcmp(ram, image, sizeof(image)), 0, "ROM was modified");

    const char *text = captured_log();
    cr_expect(strstr(text, "write to ROM bios at 0xffff1") != NULL, "log: %s", text);
}

Test(addrspace, write_buf_force_writes_rom)
{
    static const uint8_t blob[4] = { 0xDE, 0xAD, 0xBE, 0xEF };
    cr_assert_eq(as_map_rom(&mem, "bios", 0xF0000, 16, ram), 0);

    as_write_buf(&mem, 0xF0002, blob, sizeof(blob), false);
    cr_expect_eq(ram[2], 0x00, "unforced write changed ROM");
    as_write_buf(&mem, 0xF0002, blob, sizeof(blob), true);
    cr_expect_eq(ram[1], 0x00);
    cr_expect_eq(ram[2], 0xDE);
    cr_expect_eq(ram[3], 0xAD);
    cr_expect_eq(ram[4], 0xBE);
    cr_expect_eq(ram[5], 0xEF);
    cr_expect_eq(ram[6], 0x00);
    /* and the ROM still refuses ordinary writes afterwards */
    as_write(&mem, 0xF0002, 0, 1);
    cr_expect_eq(ram[2], 0xDE);
}

/* ---- I/O dispatch ---------------------------------------------------------- */

static AddressSpace io;

static void setup_io(void)
{
    as_init(&io, "io", 1u << 16);
}

static void teardown_io(void)
{
    as_destroy(&io);
}

TestSuite(addrspace_io, .init = setup_io, .fini = teardown_io);

Test(addrspace_io, dispatch_delivers_offset_size_value_and_opaque)
{
    static RecDev uart = { .length = 8 };
    cr_assert_eq(as_map_io(&io, "uart", 0x3F8, 8, &ops_max0, &uart), 0);

    as_write(&io, 0x3FB, 0x80, 1);
    uart.replies[0] = 0x60;
    uart.nreplies = 1;
    cr_expect_eq(as_read(&io, 0x3FD, 1), 0x60u);
    as_write(&io, 0x3F8, 0xBEEF, 2);
    as_write(&io, 0x3FC, 0x11223344, 4);

    cr_assert_eq(uart.ncalls, 4);
    expect_call(&uart, 0, 'w', 3, 0x80, 1);
    expect_call(&uart, 1, 'r', 5, 0x60, 1);
    expect_call(&uart, 2, 'w', 0, 0xBEEF, 2);
    expect_call(&uart, 3, 'w', 4, 0x11223344, 4);
    cr_expect(!uart.crossed);
}

Test(addrspace_io, write_value_is_masked_to_size)
{
    static RecDev dev = { .length = 4 };
    cr_assert_eq(as_map_io(&io, "dev", 0x80, 4, &ops_max0, &dev), 0);
    as_write(&io, 0x80, 0x12345678, 2);
    as_write(&io, 0x80, 0xABCD, 1);
    cr_assert_eq(dev.ncalls, 2);
    expect_call(&dev, 0, 'w', 0, 0x5678, 2);
    expect_call(&dev, 1, 'w', 0, 0xCD, 1);
}

Test(addrspace_io, device_junk_in_high_bits_is_masked)
{
    static RecDev dev = { .length = 8, .default_reply = 0xFFFFFFFFFFFF2211ull };
    cr_assert_eq(as_map_io(&io, "dev", 0x80, 8, &ops_max2, &dev), 0);
    cr_expect_eq(as_read(&io, 0x80, 1), 0x11u);
    cr_expect_eq(as_read(&io, 0x80, 4), 0x22112211u);
}

Test(addrspace, max_access_splits_into_little_endian_pieces)
{
    static RecDev dev = { .length = 16 };
    cr_assert_eq(as_map_io(&mem, "dev", 0xFEE00000, 16, &ops_max2, &dev), 0);

    dev.replies[0] = 0x2211;
    dev.replies[1] = 0x4433;
    dev.replies[2] = 0x6655;
    dev.replies[3] = 0x8877;
    dev.nreplies = 4;
    cr_expect_eq(as_read(&mem, 0xFEE00008, 8), 0x8877665544332211ull);
    cr_assert_eq(dev.ncalls, 4);
    expect_call(&dev, 0, 'r', 8, 0x2211, 2);
    expect_call(&dev, 1, 'r', 10, 0x4433, 2);
    expect_call(&dev, 2, 'r', 12, 0x6655, 2);
    expect_call(&dev, 3, 'r', 14, 0x8877, 2);

    dev.ncalls = 0;
    as_write(&mem, 0xFEE00000, 0x0123456789ABCDEFull, 8);
    cr_assert_eq(dev.ncalls, 4);
    expect_call(&dev, 0, 'w', 0, 0xCDEF, 2);
    expect_call(&dev, 1, 'w', 2, 0x89AB, 2);
    expect_call(&dev, 2, 'w', 4, 0x4567, 2);
    expect_call(&dev, 3, 'w', 6, 0x0123, 2);
    cr_expect(!dev.crossed);
}

Test(addrspace, max_access_limits_other_widths)
{
    static RecDev byte_dev = { .length = 8 }, dword_dev = { .length = 8 },
                  any_dev = { .length = 8 };
    cr_assert_eq(as_map_io(&mem, "b", 0x100, 8, &ops_max1, &byte_dev), 0);
    cr_assert_eq(as_map_io(&mem, "d", 0x200, 8, &ops_max4, &dword_dev), 0);
    cr_assert_eq(as_map_io(&mem, "q", 0x300, 8, &ops_max0, &any_dev), 0);

    as_write(&mem, 0x102, 0xA1B2C3D4, 4);
    cr_assert_eq(byte_dev.ncalls, 4);
    expect_call(&byte_dev, 0, 'w', 2, 0xD4, 1);
    expect_call(&byte_dev, 1, 'w', 3, 0xC3, 1);
    expect_call(&byte_dev, 2, 'w', 4, 0xB2, 1);
    expect_call(&byte_dev, 3, 'w', 5, 0xA1, 1);

    /* narrower than the limit: delivered as is, never widened */
    as_write(&mem, 0x204, 0x7788, 2);
    as_write(&mem, 0x200, 0x1122334455667788ull, 8);
    cr_assert_eq(dword_dev.ncalls, 3);
    expect_call(&dword_dev, 0, 'w', 4, 0x7788, 2);
    expect_call(&dword_dev, 1, 'w', 0, 0x55667788, 4);
    expect_call(&dword_dev, 2, 'w', 4, 0x11223344, 4);

    /* max_access 0 means 8: one call */
    as_write(&mem, 0x300, 0x1122334455667788ull, 8);
    cr_assert_eq(any_dev.ncalls, 1);
    expect_call(&any_dev, 0, 'w', 0, 0x1122334455667788ull, 8);
}

/* ---- the map: overlaps and bad ranges -------------------------------------- */

typedef struct MapSnapshot {
    size_t count;
    uint64_t generation;
    Region regions[8];
} MapSnapshot;

static MapSnapshot snapshot(const AddressSpace *as)
{
    MapSnapshot s;
    memset(&s, 0, sizeof(s));
    s.count = as->count;
    s.generation = as->generation;
    cr_assert_leq(as->count, 8u);
    if (as->count)      /* regions may be NULL while the map is empty */
        memcpy(s.regions, as->regions, as->count * sizeof(Region));
    return s;
}

static void expect_unchanged(const AddressSpace *as, const MapSnapshot *before)
{
    MapSnapshot now = snapshot(as);
    cr_expect_eq(now.count, before->count, "count changed");
    cr_expect_eq(now.generation, before->generation, "generation changed");
    cr_expect_eq(memcmp(now.regions, before->regions,
                        before->count * sizeof(Region)), 0, "regions changed");
}

Test(addrspace, overlapping_maps_are_refused_and_change_nothing)
{
    static uint8_t other[0x4000];
    static RecDev dev = { .length = 0x100 };
    cr_assert_eq(as_map_ram(&mem, "a", 0x1000, 0x1000, other), 0);
    MapSnapshot before = snapshot(&mem);

    static const struct { uint64_t base, length; const char *what; } bad[] = {
        { 0x1000, 0x1000, "exact" },
        { 0x0F00, 0x0101, "partial at the low end" },
        { 0x1FFF, 0x0100, "partial at the high end" },
        { 0x1100, 0x0100, "contained" },
        { 0x0800, 0x3000, "containing" },
        { 0x1FFF, 0x0001, "last byte" },
        { 0x0FFF, 0x0002, "first byte" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_expect_eq(as_map_ram(&mem, "b", bad[i].base, bad[i].length, other),
                     -EEXIST, "ram %s", bad[i].what);
        cr_expect_eq(as_map_rom(&mem, "b", bad[i].base, bad[i].length, other),
                     -EEXIST, "rom %s", bad[i].what);
        cr_expect_eq(as_map_io(&mem, "b", bad[i].base, bad[i].length,
                               &ops_max0, &dev), -EEXIST, "io %s", bad[i].what);
        expect_unchanged(&mem, &before);
    }
    cr_expect_eq(as_lookup(&mem, 0x1800)->name, before.regions[0].name);
}

Test(addrspace, adjacent_maps_are_accepted)
{
    static uint8_t a[0x1000], b[0x1000], c[0x1000];
    cr_assert_eq(as_map_ram(&mem, "mid", 0x1000, 0x1000, a), 0);
    cr_expect_eq(as_map_ram(&mem, "low", 0x0000, 0x1000, b), 0);
    cr_expect_eq(as_map_ram(&mem, "high", 0x2000, 0x1000, c), 0);
    cr_expect_eq(mem.count, 3u);
    /* a one-byte gap takes a one-byte region, not a two-byte one */
    cr_expect_eq(as_map_ram(&mem, "x", 0x3001, 0x10, a), 0);
    cr_expect_eq(as_map_ram(&mem, "y", 0x3000, 0x2, a), -EEXIST);
    cr_expect_eq(as_map_ram(&mem, "z", 0x3000, 0x1, a), 0);
}

Test(addrspace, bad_ranges_are_einval)
{
    static RecDev dev = { .length = 2 };
    MapSnapshot before = snapshot(&mem);

    cr_expect_eq(as_map_ram(&mem, "zero", 0x1000, 0, ram), -EINVAL);
    cr_expect_eq(as_map_ram(&mem, "wrap", UINT64_MAX - 0xFFF, 0x2000, ram),
                 -EINVAL);
    cr_expect_eq(as_map_ram(&mem, "wrap1", UINT64_MAX, 2, ram), -EINVAL);
    cr_expect_eq(as_map_ram(&mem, "huge", 2, UINT64_MAX, ram), -EINVAL);
    cr_expect_eq(as_map_ram(&mem, "nohost", 0x1000, 16, NULL), -EINVAL);
    cr_expect_eq(as_map_io(&mem, "noops", 0x1000, 16, NULL, &dev), -EINVAL);
    expect_unchanged(&mem, &before);

    AddressSpace ports;
    as_init(&ports, "io", 1u << 16);
    cr_expect_eq(as_map_io(&ports, "past", 0xFFFF, 2, &ops_max0, &dev), -EINVAL);
    cr_expect_eq(as_map_io(&ports, "outside", 0x10000, 1, &ops_max0, &dev), -EINVAL);
    cr_expect_eq(as_map_io(&ports, "zero", 0x60, 0, &ops_max0, &dev), -EINVAL);
    cr_expect_eq(as_map_io(&ports, "all+1", 0, 0x10001, &ops_max0, &dev), -EINVAL);
    cr_expect_eq(ports.count, 0u);
    cr_expect_eq(ports.generation, 0u);
    /* the boundaries themselves are fine */
    cr_expect_eq(as_map_io(&ports, "last", 0xFFFF, 1, &ops_max0, &dev), 0);
    cr_expect_eq(as_map_io(&ports, "first", 0, 0xFFFF, &ops_max0, &dev), 0);
    as_destroy(&ports);

    cr_expect_eq(as_map_ram(&mem, "top", UINT64_MAX - 0xFFF, 0x1000, ram), 0);
    cr_expect_eq(as_map_ram(&mem, "rest", 0, UINT64_MAX - 0xFFF, ram), 0);
}

/* ---- unassigned ------------------------------------------------------------- */

Test(addrspace, unassigned_reads_are_all_ones_for_every_size)
{
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, 16, ram), 0);
    cr_assert_eq(as_map_ram(&mem, "ram2", 0x2000, 16, ram + 16), 0);

    static const uint64_t addrs[] = { 0, 0x1800, 0x1010, 0x1FF8, UINT64_MAX - 7 };
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        cr_expect_eq(as_read(&mem, addrs[i], 1), 0xFFull);
        cr_expect_eq(as_read(&mem, addrs[i], 2), 0xFFFFull);
        cr_expect_eq(as_read(&mem, addrs[i], 4), 0xFFFFFFFFull);
        cr_expect_eq(as_read(&mem, addrs[i], 8), 0xFFFFFFFFFFFFFFFFull);
    }
}

Test(addrspace, unassigned_writes_are_dropped)
{
    memset(ram, 0x55, sizeof(ram));
    cr_assert_eq(as_map_ram(&mem, "a", 0x1000, 16, ram), 0);
    cr_assert_eq(as_map_ram(&mem, "b", 0x1020, 16, ram + 32), 0);

    as_write(&mem, 0x1010, UINT64_MAX, 8);
    as_write(&mem, 0x1018, UINT64_MAX, 8);
    as_write(&mem, 0x101F, 0, 1);
    as_write(&mem, 0x5000, 0, 4);
    for (size_t i = 0; i < sizeof(ram); i++)
        cr_expect_eq(ram[i], 0x55, "byte %zu changed", i);
    cr_expect_eq(as_read(&mem, 0x1010, 8), UINT64_MAX);
}

Test(addrspace, unassigned_access_is_logged_under_unimp)
{
    capture_log(LOG_UNIMP);
    cr_expect_eq(as_read(&mem, 0xDEAD0, 4), 0xFFFFFFFFu);
    as_write(&mem, 0xBEEF8, 1, 2);
    const char *text = captured_log();
    cr_expect(strstr(text, "memory") != NULL, "log: %s", text);
    cr_expect(strstr(text, "0xdead0") != NULL, "log: %s", text);
    cr_expect(strstr(text, "size 4") != NULL, "log: %s", text);
    cr_expect(strstr(text, "0xbeef8") != NULL, "log: %s", text);
}

Test(addrspace, unassigned_access_not_logged_when_unimp_is_off)
{
    capture_log(LOG_INT | LOG_GUEST_ERRORS);
    as_read(&mem, 0xDEAD0, 4);
    as_write(&mem, 0xDEAD0, 0, 4);
    cr_expect_str_empty(captured_log());
}

Test(addrspace, unassigned_log_is_rate_limited)
{
    capture_log(LOG_UNIMP);
    for (int i = 0; i < 10000; i++)
        as_read(&mem, 0x9000 + (uint64_t)i, 1);
    const char *text = captured_log();
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    /* LOG_RATE_LIMIT messages plus the "suppressed" notice */
    cr_expect_eq(lines, LOG_RATE_LIMIT + 1, "%d lines", lines);
}

/* ---- accesses that cross boundaries ---------------------------------------- */

Test(addrspace, access_across_ram_and_device_is_split_into_bytes)
{
    static RecDev dev = { .length = 4 };
    static const uint8_t bytes[4] = { 0x10, 0x20, 0x30, 0x40 };
    memcpy(ram, bytes, sizeof(bytes));
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, 4, ram), 0);
    cr_assert_eq(as_map_io(&mem, "dev", 0x1004, 4, &ops_max0, &dev), 0);

    dev.replies[0] = 0xA1;
    dev.replies[1] = 0xB2;
    dev.nreplies = 2;
    cr_expect_eq(as_read(&mem, 0x1002, 4), 0xB2A14030u);
    cr_assert_eq(dev.ncalls, 2);
    expect_call(&dev, 0, 'r', 0, 0xA1, 1);
    expect_call(&dev, 1, 'r', 1, 0xB2, 1);

    dev.ncalls = 0;
    as_write(&mem, 0x1003, 0x44332211u, 4);
    cr_expect_eq(ram[2], 0x30);
    cr_expect_eq(ram[3], 0x11);
    cr_assert_eq(dev.ncalls, 3);
    expect_call(&dev, 0, 'w', 0, 0x22, 1);
    expect_call(&dev, 1, 'w', 1, 0x33, 1);
    expect_call(&dev, 2, 'w', 2, 0x44, 1);
    cr_expect(!dev.crossed);
}

Test(addrspace, access_across_ram_and_hole)
{
    static const uint8_t bytes[4] = { 0x10, 0x20, 0x30, 0x40 };
    memcpy(ram, bytes, sizeof(bytes));
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, 4, ram), 0);

    cr_expect_eq(as_read(&mem, 0x1002, 4), 0xFFFF4030u);
    cr_expect_eq(as_read(&mem, 0x0FFE, 4), 0x2010FFFFu);
    cr_expect_eq(as_read(&mem, 0x0FFF, 8), 0xFFFFFF40302010FFull);

    as_write(&mem, 0x0FFF, 0xDDCCBBAAu, 4);
    cr_expect_eq(ram[0], 0xBB);
    cr_expect_eq(ram[1], 0xCC);
    cr_expect_eq(ram[2], 0xDD);
    cr_expect_eq(ram[3], 0x40);
}

Test(addrspace, access_between_two_devices_goes_to_each)
{
    static RecDev a = { .length = 2, .default_reply = 0x11 };
    static RecDev b = { .length = 2, .default_reply = 0x22 };
    cr_assert_eq(as_map_io(&mem, "a", 0x100, 2, &ops_max0, &a), 0);
    cr_assert_eq(as_map_io(&mem, "b", 0x102, 2, &ops_max0, &b), 0);
    cr_expect_eq(as_read(&mem, 0x101, 2), 0x2211u);
    expect_call(&a, 0, 'r', 1, 0x11, 1);
    expect_call(&b, 0, 'r', 0, 0x22, 1);
    cr_expect_eq(a.ncalls, 1);
    cr_expect_eq(b.ncalls, 1);
}

Test(addrspace_io, word_at_last_port_does_not_wrap)
{
    static RecDev last = { .length = 1, .default_reply = 0x5A };
    static RecDev zero = { .length = 1, .default_reply = 0x00 };
    cr_assert_eq(as_map_io(&io, "last", 0xFFFF, 1, &ops_max0, &last), 0);
    cr_assert_eq(as_map_io(&io, "zero", 0x0000, 1, &ops_max0, &zero), 0);

    cr_expect_eq(as_read(&io, 0xFFFF, 2), 0xFF5Au);
    cr_expect_eq(as_read(&io, 0xFFFF, 4), 0xFFFFFF5Au);
    as_write(&io, 0xFFFF, 0x1234, 2);
    cr_expect_eq(zero.ncalls, 0, "port 0 was touched");
    cr_assert_eq(last.ncalls, 3);
    expect_call(&last, 2, 'w', 0, 0x34, 1);
    /* wholly outside the space: all-ones, no device call, no crash */
    cr_expect_eq(as_read(&io, 0x10000, 2), 0xFFFFu);
    cr_expect_eq(as_read(&io, UINT64_MAX, 8), UINT64_MAX);
    as_write(&io, 0x12345, 0, 4);
    cr_expect_eq(zero.ncalls, 0);
    cr_expect_eq(last.ncalls, 3);
}

Test(addrspace, access_at_top_of_64bit_space_does_not_wrap)
{
    memset(ram, 0x77, sizeof(ram));
    cr_assert_eq(as_map_ram(&mem, "top", UINT64_MAX - 3, 4, ram), 0);
    cr_assert_eq(as_map_ram(&mem, "zero", 0, 16, ram + 16), 0);
    ram[0] = 0x01;
    ram[3] = 0x04;

    cr_expect_eq(as_read(&mem, UINT64_MAX - 3, 8), 0xFFFFFFFF04777701ull);
    as_write(&mem, UINT64_MAX - 1, 0xAABBCCDDu, 4);
    cr_expect_eq(ram[2], 0xDD);
    cr_expect_eq(ram[3], 0xCC);
    for (int i = 16; i < 32; i++)
        cr_expect_eq(ram[i], 0x77, "address 0x%x was written", i - 16);
}

/* ---- map changes ------------------------------------------------------------ */

Test(addrspace, unmap_then_remap)
{
    static RecDev dev = { .length = 16, .default_reply = 0x42 };
    ram[0] = 0x99;
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, 16, ram), 0);
    cr_expect_eq(as_read(&mem, 0x1000, 1), 0x99u);

    cr_expect_eq(as_unmap(&mem, 0x1001), -ENOENT);
    cr_expect_eq(as_unmap(&mem, 0x0FFF), -ENOENT);
    cr_expect_eq(as_unmap(&mem, 0x1000), 0);
    cr_expect_eq(as_unmap(&mem, 0x1000), -ENOENT);
    cr_expect_null(as_lookup(&mem, 0x1000));
    cr_expect_eq(as_read(&mem, 0x1000, 1), 0xFFu);

    cr_assert_eq(as_map_io(&mem, "dev", 0x1000, 16, &ops_max0, &dev), 0);
    cr_expect_eq(as_read(&mem, 0x1000, 1), 0x42u);
    cr_expect_eq(dev.ncalls, 1);
}

Test(addrspace, unmap_keeps_the_others)
{
    static uint8_t a[4] = { 0xA }, b[4] = { 0xB }, c[4] = { 0xC };
    cr_assert_eq(as_map_ram(&mem, "a", 0x100, 4, a), 0);
    cr_assert_eq(as_map_ram(&mem, "b", 0x200, 4, b), 0);
    cr_assert_eq(as_map_ram(&mem, "c", 0x300, 4, c), 0);
    cr_expect_eq(as_read(&mem, 0x200, 1), 0xBu);  /* last_hit now points at b */
    cr_assert_eq(as_unmap(&mem, 0x200), 0);
    cr_expect_eq(as_read(&mem, 0x100, 1), 0xAu);
    cr_expect_eq(as_read(&mem, 0x200, 1), 0xFFu);
    cr_expect_eq(as_read(&mem, 0x300, 1), 0xCu);
    cr_expect_eq(mem.count, 2u);
}

Test(addrspace, generation_bumps_on_every_map_change_only)
{
    static RecDev dev = { .length = 4 };
    uint64_t g = mem.generation;

    cr_assert_eq(as_map_ram(&mem, "a", 0x1000, 16, ram), 0);
    cr_expect_eq(mem.generation, g + 1);
    cr_assert_eq(as_map_rom(&mem, "b", 0x2000, 16, ram), 0);
    cr_expect_eq(mem.generation, g + 2);
    cr_assert_eq(as_map_io(&mem, "c", 0x3000, 4, &ops_max0, &dev), 0);
    cr_expect_eq(mem.generation, g + 3);
    cr_assert_eq(as_unmap(&mem, 0x2000), 0);
    cr_expect_eq(mem.generation, g + 4);

    /* failures and accesses leave it alone */
    as_map_ram(&mem, "a", 0x1000, 16, ram);
    as_map_ram(&mem, "z", 0x9000, 0, ram);
    as_unmap(&mem, 0x2000);
    as_read(&mem, 0x1000, 4);
    as_write(&mem, 0x3000, 1, 1);
    as_lookup(&mem, 0x3000);
    cr_expect_eq(mem.generation, g + 4);
}

Test(addrspace, lookup_finds_the_right_region)
{
    static RecDev dev = { .length = 0x10 };
    /* mapped out of order so the sorted insert is exercised */
    cr_assert_eq(as_map_io(&mem, "dev", 0x3000, 0x10, &ops_max0, &dev), 0);
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1000, 0x20, ram), 0);
    cr_assert_eq(as_map_rom(&mem, "rom", 0x2000, 0x20, ram + 32), 0);

    const Region *r = as_lookup(&mem, 0x101F);
    cr_assert_not_null(r);
    cr_expect_str_eq(r->name, "ram");
    cr_expect_eq(r->base, 0x1000u);
    cr_expect_eq(r->length, 0x20u);
    cr_expect_eq(r->kind, REGION_RAM);
    cr_expect_eq(r->host, ram);

    r = as_lookup(&mem, 0x2000);
    cr_assert_not_null(r);
    cr_expect_str_eq(r->name, "rom");
    cr_expect_eq(r->kind, REGION_ROM);
    cr_expect_eq(r->host, ram + 32);

    r = as_lookup(&mem, 0x300F);
    cr_assert_not_null(r);
    cr_expect_str_eq(r->name, "dev");
    cr_expect_eq(r->kind, REGION_IO);
    cr_expect_eq(r->ops, &ops_max0);
    cr_expect_eq(r->opaque, &dev);

    /* the cached last hit must not answer for a neighbour */
    cr_expect_null(as_lookup(&mem, 0x3010));
    cr_expect_null(as_lookup(&mem, 0x2FFF));
    cr_expect_null(as_lookup(&mem, 0x1020));
    cr_expect_null(as_lookup(&mem, 0x0FFF));
    cr_expect_null(as_lookup(&mem, UINT64_MAX));
    cr_expect_str_eq(as_lookup(&mem, 0x1000)->name, "ram");
}

Test(addrspace, many_regions_in_shuffled_order)
{
    enum { N = 200 };
    static uint8_t backing[N][0x10];
    static char names[N][8];
    unsigned order[N];

    for (unsigned i = 0; i < N; i++)
        order[i] = i;
    srand(12345);
    for (unsigned i = N - 1; i > 0; i--) {
        unsigned j = (unsigned)rand() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (unsigned k = 0; k < N; k++) {
        unsigned i = order[k];
        snprintf(names[i], sizeof(names[i]), "r%u", i);
        backing[i][0] = (uint8_t)i;
        /* region i covers [0x1000*i, 0x1000*i + 0x10) */
        cr_assert_eq(as_map_ram(&mem, names[i], 0x1000ull * i, 0x10,
                                backing[i]), 0);
    }
    for (unsigned i = 0; i < N; i++) {
        const Region *r = as_lookup(&mem, 0x1000ull * i + 0xF);
        cr_assert_not_null(r, "region %u", i);
        cr_expect_str_eq(r->name, names[i]);
        cr_expect_null(as_lookup(&mem, 0x1000ull * i + 0x10));
        cr_expect_eq(as_read(&mem, 0x1000ull * i, 1), i & 0xFF);
    }
    for (unsigned i = 1; i < mem.count; i++)
        cr_expect_lt(mem.regions[i - 1].base, mem.regions[i].base);
}

/* ---- bulk copies ------------------------------------------------------------ */

/* Layout: RAM [0x100,0x108), device [0x108,0x10C), hole [0x10C,0x110),
 * ROM [0x110,0x114). */
static RecDev buf_dev = { .length = 4 };
static uint8_t rom_bytes[4];

static void map_buf_layout(void)
{
    for (int i = 0; i < 8; i++)
        ram[i] = (uint8_t)(0x10 + i);
    for (int i = 0; i < 4; i++)
        rom_bytes[i] = (uint8_t)(0xC0 + i);
    cr_assert_eq(as_map_ram(&mem, "ram", 0x100, 8, ram), 0);
    cr_assert_eq(as_map_io(&mem, "dev", 0x108, 4, &ops_max4, &buf_dev), 0);
    cr_assert_eq(as_map_rom(&mem, "rom", 0x110, 4, rom_bytes), 0);
}

Test(addrspace, read_buf_across_ram_device_hole_and_rom)
{
    map_buf_layout();
    buf_dev.replies[0] = 0xD0;
    buf_dev.replies[1] = 0xD1;
    buf_dev.replies[2] = 0xD2;
    buf_dev.replies[3] = 0xD3;
    buf_dev.nreplies = 4;

    uint8_t buf[18];
    memset(buf, 0, sizeof(buf));
    as_read_buf(&mem, 0x104, buf, 17);
    static const uint8_t expect[18] = {
        0x14, 0x15, 0x16, 0x17,         /* RAM */
        0xD0, 0xD1, 0xD2, 0xD3,         /* device, byte by byte */
        0xFF, 0xFF, 0xFF, 0xFF,         /* hole */
        0xC0, 0xC1, 0xC2, 0xC3,         /* ROM */
        0xFF,                           /* hole after the ROM */
        0x00,                           /* untouched */
    };
    for (int i = 0; i < 18; i++)
        cr_expect_eq(buf[i], expect[i], "byte %d is 0x%02x, want 0x%02x",
                     i, buf[i], expect[i]);
    cr_assert_eq(buf_dev.ncalls, 4);
    for (int i = 0; i < 4; i++)
        expect_call(&buf_dev, i, 'r', (uint64_t)i, 0xD0u + (unsigned)i, 1);
}

Test(addrspace, write_buf_across_ram_device_hole_and_rom)
{
    map_buf_layout();
    uint8_t data[16];
    for (int i = 0; i < 16; i++)
        data[i] = (uint8_t)(0x80 + i);

    as_write_buf(&mem, 0x104, data, 16, false);
    cr_expect_eq(ram[3], 0x13);
    for (int i = 4; i < 8; i++)
        cr_expect_eq(ram[i], 0x80 + (i - 4), "ram[%d]", i);
    cr_assert_eq(buf_dev.ncalls, 4);
    for (int i = 0; i < 4; i++)
        expect_call(&buf_dev, i, 'w', (uint64_t)i, 0x84u + (unsigned)i, 1);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(rom_bytes[i], 0xC0 + i, "ROM byte %d written", i);

    as_write_buf(&mem, 0x104, data, 16, true);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(rom_bytes[i], 0x8C + i, "forced ROM byte %d", i);
}

Test(addrspace, bufs_do_not_wrap_around_the_space)
{
    memset(ram, 0x33, sizeof(ram));
    cr_assert_eq(as_map_ram(&mem, "zero", 0, 16, ram), 0);
    cr_assert_eq(as_map_ram(&mem, "top", UINT64_MAX - 1, 2, ram + 16), 0);
    ram[16] = 0x01;
    ram[17] = 0x02;

    uint8_t buf[6] = { 0 };
    as_read_buf(&mem, UINT64_MAX - 1, buf, sizeof(buf));
    cr_expect_eq(buf[0], 0x01);
    cr_expect_eq(buf[1], 0x02);
    for (int i = 2; i < 6; i++)
        cr_expect_eq(buf[i], 0xFF, "byte %d came from address 0?", i);

    static const uint8_t data[6] = { 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5 };
    as_write_buf(&mem, UINT64_MAX - 1, data, sizeof(data), true);
    cr_expect_eq(ram[16], 0xA0);
    cr_expect_eq(ram[17], 0xA1);
    for (int i = 0; i < 16; i++)
        cr_expect_eq(ram[i], 0x33, "address %d written by wrap", i);
}

Test(addrspace_io, bufs_stop_at_the_end_of_port_space)
{
    static RecDev zero = { .length = 4, .default_reply = 0 };
    cr_assert_eq(as_map_io(&io, "zero", 0, 4, &ops_max0, &zero), 0);
    uint8_t buf[4] = { 0 };
    as_read_buf(&io, 0xFFFE, buf, 4);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(buf[i], 0xFF);
    as_write_buf(&io, 0xFFFE, buf, 4, false);
    cr_expect_eq(zero.ncalls, 0);
}

/* ---- robustness ------------------------------------------------------------- */

Test(addrspace, random_accesses_never_cross_a_device_end)
{
    static RecDev a = { .length = 3, .default_reply = UINT64_MAX };
    static RecDev b = { .length = 8, .default_reply = UINT64_MAX };
    static uint8_t big[64];
    cr_assert_eq(as_map_io(&mem, "a", 0x1005, 3, &ops_max4, &a), 0);
    cr_assert_eq(as_map_io(&mem, "b", 0x1008, 8, &ops_max2, &b), 0);
    cr_assert_eq(as_map_ram(&mem, "ram", 0x1010, 32, big), 0);
    cr_assert_eq(as_map_rom(&mem, "rom", 0x1030, 32, big + 32), 0);

    static const unsigned sizes[] = { 1, 2, 4, 8 };
    srand(777);
    for (int i = 0; i < 20000; i++) {
        uint64_t addr = 0x1000 + (uint64_t)(rand() % 0x60);
        unsigned size = sizes[rand() % 4];
        if (rand() & 1)
            as_write(&mem, addr, ((uint64_t)rand() << 32) | (unsigned)rand(), size);
        else
            as_read(&mem, addr, size);
    }
    cr_expect(!a.crossed, "device a got an access past its end");
    cr_expect(!b.crossed, "device b got an access past its end");
    cr_expect_gt(a.ncalls, 0);
    cr_expect_gt(b.ncalls, 0);
}

Test(addrspace, bad_sizes_do_not_crash)
{
    cr_assert_eq(as_map_ram(&mem, "ram", 0, 16, ram), 0);
    memset(ram, 0x11, sizeof(ram));
    as_write(&mem, 0, 0, 0);
    as_write(&mem, 0, 0, 9);
    as_read(&mem, 0, 0);
    as_read(&mem, 0, 100);
    for (size_t i = 0; i < 16; i++)
        cr_expect_eq(ram[i], 0x11);
}

/* Unit tests for hw/fw_cfg.c, driven through ports 0x510/0x511/0x514/0x518
 * and guest RAM as SeaBIOS drives it.
 *
 * Expected bytes follow QEMU's docs/specs/fw_cfg.rst: "QEMU" at key 0,
 * the ID bitmap at key 1 (little-endian, bits 0 and 1), the directory at
 * 0x19 (big-endian count, 64-byte big-endian entries, name-sorted, keys
 * from 0x20), FWCfgDmaAccess big-endian with control bits error=1 read=2
 * skip=4 select=8 write=16, completion = control 0, failure = error bit.
 * They are written out byte by byte, never produced by the code under test.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/fw_cfg.h"
#include "machine/state.h"
#include "mmu/addrspace.h"
#include "util/log.h"

#define RAM_SIZE (1u << 20)

static AddressSpace mem, io;
static uint8_t *ram, *highram;
static FwCfg *fw;

static void setup(void)
{
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    ram = calloc(1, RAM_SIZE);
    highram = calloc(1, 4096);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, RAM_SIZE, ram), 0);
    cr_assert_eq(as_map_ram(&mem, "highram", 0x100000000ull, 4096, highram), 0);
    cr_assert_eq(fw_cfg_new(&io, &mem, &fw), 0);
}

static void teardown(void)
{
    fw_cfg_free(fw);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
    free(highram);
}

TestSuite(fw_cfg, .init = setup, .fini = teardown);

/* ---- helpers ---------------------------------------------------------------- */

static void select_key(uint16_t key)
{
    as_write(&io, 0x510, key, 2);
}

static void read_data(void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)as_read(&io, 0x511, 1);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/* The guest writes cpu_to_be32(half) with OUTL: byte-swapped on x86. */
static uint32_t swap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

/* Build a FWCfgDmaAccess in RAM at `at` and trigger it (32-bit address). */
static uint32_t dma(uint32_t at, uint32_t control, uint32_t len, uint64_t addr)
{
    put_be32(ram + at, control);
    put_be32(ram + at + 4, len);
    put_be64(ram + at + 8, addr);
    as_write(&io, 0x518, swap32(at), 4);
    return be32(ram + at);
}

static char logpath[64];

static void log_to_tmp(void)
{
    strcpy(logpath, "/tmp/vireo-test-fwcfg-XXXXXX");
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

/* ---- the traditional interface ---------------------------------------------- */

Test(fw_cfg, signature_through_the_data_port)
{
    char sig[5] = { 0 };
    select_key(0x0000);
    read_data(sig, 4);
    cr_expect_str_eq(sig, "QEMU");
}

Test(fw_cfg, id_advertises_dma)
{
    uint8_t id[4];
    select_key(0x0001);
    read_data(id, 4);
    cr_expect_eq(id[0], 0x03);
    cr_expect_eq(id[1] | id[2] | id[3], 0);
}

Test(fw_cfg, reselecting_restarts_at_offset_zero)
{
    char a[3] = { 0 }, b[3] = { 0 };
    select_key(0x0000);
    read_data(a, 2);
    select_key(0x0000);
    read_data(b, 2);
    cr_expect_str_eq(a, "QE");
    cr_expect_str_eq(b, "QE");
    select_key(0x4000);             /* bit 14 (old write channel) ignored */
    read_data(b, 2);
    cr_expect_str_eq(b, "QE");
}

Test(fw_cfg, integers_are_little_endian)
{
    uint8_t b[8];
    cr_assert_eq(fw_cfg_add_u16(fw, 0x0005, 0x0102), 0);
    cr_assert_eq(fw_cfg_add_u64(fw, 0x0003, 0x1122334455667788ull), 0);
    cr_assert_eq(fw_cfg_add_u32(fw, 0x8004, 0xa0b0c0d0), 0);
    select_key(0x0005);
    read_data(b, 2);
    cr_expect(b[0] == 0x02 && b[1] == 0x01);
    select_key(0x0003);
    read_data(b, 8);
    static const uint8_t want[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
    cr_expect_arr_eq(b, want, 8);
    select_key(0x8004);
    read_data(b, 4);
    cr_expect(b[0] == 0xd0 && b[3] == 0xa0);
}

Test(fw_cfg, replacing_an_item)
{
    uint8_t b[2];
    cr_assert_eq(fw_cfg_add_u16(fw, 0x000e, 1), 0);
    select_key(0x000e);
    cr_assert_eq(fw_cfg_add_u16(fw, 0x000e, 0x0302), 0);
    read_data(b, 2);
    cr_expect(b[0] == 0x02 && b[1] == 0x03);
}

Test(fw_cfg, reads_past_the_end_return_zero_and_are_logged)
{
    uint8_t b[6];
    log_to_tmp();
    cr_assert_eq(fw_cfg_add_u16(fw, 0x000e, 0xabcd), 0);
    select_key(0x000e);
    read_data(b, 6);
    cr_expect(b[0] == 0xcd && b[1] == 0xab);
    cr_expect(b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0);
    select_key(0x0123);             /* no such item: empty */
    read_data(b, 1);
    cr_expect_eq(b[0], 0);
    cr_expect_not_null(strstr(log_text(), "past the end"));
}

Test(fw_cfg, data_port_writes_are_ignored)
{
    char sig[5] = { 0 };
    select_key(0x0000);
    as_write(&io, 0x511, 'X', 1);
    read_data(sig, 4);
    cr_expect_str_eq(sig, "QEMU");
}

/* ---- files ------------------------------------------------------------------ */

Test(fw_cfg, file_directory_format_and_order)
{
    uint8_t dir[4 + 4 * 64];
    cr_assert_eq(fw_cfg_add_file(fw, "etc/e820", "E820DATA", 8), 0);
    cr_assert_eq(fw_cfg_add_file(fw, "bootorder", "/pci@i0cf8/ide@1,1\n", 20), 0);
    cr_assert_eq(fw_cfg_add_file(fw, "etc/acpi/tables", "T", 1), 0);
    cr_assert_eq(fw_cfg_add_file(fw, "a", "", 0), 0);

    select_key(0x0019);
    read_data(dir, sizeof(dir));
    cr_expect_eq(be32(dir), 4);
    static const char *names[4] = { "a", "bootorder", "etc/acpi/tables", "etc/e820" };
    static const uint32_t sizes[4] = { 0, 20, 1, 8 };
    for (int i = 0; i < 4; i++) {
        const uint8_t *e = dir + 4 + 64 * i;
        cr_expect_eq(be32(e), sizes[i], "entry %d size", i);
        cr_expect_eq(e[4] << 8 | e[5], 0x20 + i, "entry %d select", i);
        cr_expect_eq(e[6] | e[7], 0, "entry %d reserved", i);
        cr_expect_str_eq((const char *)e + 8, names[i]);
        for (size_t k = 8 + strlen(names[i]); k < 64; k++)
            cr_expect_eq(e[k], 0, "entry %d name padding at %zu", i, k);
    }
    char buf[9] = { 0 };
    select_key(0x0023);
    read_data(buf, 8);
    cr_expect_str_eq(buf, "E820DATA");
    cr_expect_eq(fw_cfg_file_key(fw, "bootorder"), 0x21);
    cr_expect_eq(fw_cfg_file_key(fw, "nope"), -1);
}

Test(fw_cfg, bad_additions_are_refused)
{
    char name[64];
    memset(name, 'x', 56);
    name[56] = 0;
    cr_expect_eq(fw_cfg_add_file(fw, "f", "1", 1), 0);
    cr_expect_eq(fw_cfg_add_file(fw, "f", "2", 1), -EEXIST);
    cr_expect_eq(fw_cfg_add_file(fw, name, "2", 1), -EINVAL);
    name[55] = 0;
    cr_expect_eq(fw_cfg_add_file(fw, name, "2", 1), 0);     /* 55 chars fit */
    cr_expect_eq(fw_cfg_add_file(fw, "", "2", 1), -EINVAL);
    cr_expect_eq(fw_cfg_add_u32(fw, 0x0000, 1), -EINVAL);
    cr_expect_eq(fw_cfg_add_u32(fw, 0x0001, 1), -EINVAL);
    cr_expect_eq(fw_cfg_add_u32(fw, 0x0019, 1), -EINVAL);
    cr_expect_eq(fw_cfg_add_u32(fw, 0x0020, 1), -EINVAL);
    cr_expect_eq(fw_cfg_add_u32(fw, 0x4005, 1), -EINVAL);
    cr_expect_eq(fw_cfg_add_u32(fw, 0x8003, 1), 0);
}

/* ---- DMA ---------------------------------------------------------------------- */

Test(fw_cfg, dma_register_reads_the_signature)
{
    /* 0x51454d5520434647 big-endian: byte 0x514 is 'Q'. */
    cr_expect_eq(as_read(&io, 0x514, 1), 'Q');
    cr_expect_eq(as_read(&io, 0x514, 4), 0x554d4551);      /* "QEMU" */
    cr_expect_eq(as_read(&io, 0x518, 4), 0x47464320);      /* " CFG" */
}

Test(fw_cfg, dma_read_of_a_file_into_ram)
{
    static const char data[] = "the quick brown fox";
    cr_assert_eq(fw_cfg_add_file(fw, "etc/test", data, sizeof(data)), 0);
    int key = fw_cfg_file_key(fw, "etc/test");

    memset(ram + 0x2000, 0xaa, 64);
    uint32_t ctl = dma(0x1000, (uint32_t)key << 16 | 0x08 | 0x02, sizeof(data), 0x2000);
    cr_expect_eq(ctl, 0);
    cr_expect_str_eq((char *)ram + 0x2000, data);
    cr_expect_eq(ram[0x2000 + sizeof(data)], 0xaa);         /* nothing more */
    /* The offset advanced: the data port continues past the item's end. */
    cr_expect_eq(as_read(&io, 0x511, 1), 0);
}

Test(fw_cfg, dma_select_only_then_data_port)
{
    cr_assert_eq(fw_cfg_add_file(fw, "x", "XYZ", 3), 0);
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08, 0, 0), 0);
    cr_expect_eq(as_read(&io, 0x511, 1), 'X');
}

Test(fw_cfg, dma_skip_then_read)
{
    cr_assert_eq(fw_cfg_add_file(fw, "x", "0123456789", 10), 0);
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x04, 3, 0), 0);
    cr_expect_eq(dma(0x1000, 0x02, 2, 0x3000), 0);
    cr_expect(ram[0x3000] == '3' && ram[0x3001] == '4');
    cr_expect_eq(as_read(&io, 0x511, 1), '5');
}

Test(fw_cfg, dma_read_past_the_end_fills_zeros)
{
    cr_assert_eq(fw_cfg_add_file(fw, "x", "ab", 2), 0);
    memset(ram + 0x3000, 0xaa, 16);
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x02, 8, 0x3000), 0);
    static const uint8_t want[9] = { 'a', 'b', 0, 0, 0, 0, 0, 0, 0xaa };
    cr_expect_arr_eq(ram + 0x3000, want, 9);
}

Test(fw_cfg, dma_to_a_bogus_address_fails_cleanly)
{
    log_to_tmp();
    cr_assert_eq(fw_cfg_add_file(fw, "x", "abcdef", 6), 0);
    /* Unmapped target. */
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x02, 6, 0x80000000u), 0x01);
    /* Runs off the end of RAM: nothing may be written, even the part
     * that would fit. */
    memset(ram + RAM_SIZE - 4, 0xaa, 4);
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x02, 6, RAM_SIZE - 4), 0x01);
    cr_expect_eq(ram[RAM_SIZE - 4], 0xaa);
    /* Wraps around 2^64. */
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x02, 0x1000,
                     0xffffffffffffff00ull), 0x01);
    /* Huge length. */
    cr_expect_eq(dma(0x1000, 0x02, 0xffffffffu, 0x4000), 0x01);
    /* The device is still fine. */
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x02, 6, 0x4000), 0);
    cr_expect_eq(memcmp(ram + 0x4000, "abcdef", 6), 0);
    cr_expect_not_null(strstr(log_text(), "not all RAM"));
}

Test(fw_cfg, dma_structure_at_a_bogus_address_is_ignored)
{
    as_write(&io, 0x518, swap32(0xfff00000u), 4);           /* nothing there */
    as_write(&io, 0x518, swap32(RAM_SIZE - 8), 4);          /* straddles the end */
    char sig[5] = { 0 };
    select_key(0);
    read_data(sig, 4);
    cr_expect_str_eq(sig, "QEMU");
}

Test(fw_cfg, dma_write_is_refused)
{
    cr_assert_eq(fw_cfg_add_file(fw, "etc/x", "abc", 3), 0);
    memcpy(ram + 0x5000, "ZZZ", 3);
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x10, 3, 0x5000), 0x01);
    char b[4] = { 0 };
    select_key(0x20);
    read_data(b, 3);
    cr_expect_str_eq(b, "abc");
}

Test(fw_cfg, dma_with_a_64_bit_address)
{
    cr_assert_eq(fw_cfg_add_file(fw, "x", "hi", 2), 0);
    /* The access structure lives above 4 GiB. */
    put_be32(highram + 0x10, 0x20u << 16 | 0x08 | 0x02);
    put_be32(highram + 0x14, 2);
    put_be64(highram + 0x18, 0x6000);
    as_write(&io, 0x514, swap32(0x00000001), 4);            /* high half */
    as_write(&io, 0x518, swap32(0x00000010), 4);            /* low half: go */
    cr_expect_eq(be32(highram + 0x10), 0);
    cr_expect(ram[0x6000] == 'h' && ram[0x6001] == 'i');
    /* The register reads back 0 afterwards: a low-only write is 32-bit. */
    cr_expect_eq(dma(0x1000, 0x20u << 16 | 0x08 | 0x02, 2, 0x6100), 0);
    cr_expect(ram[0x6100] == 'h');
}

Test(fw_cfg, state_roundtrip_keeps_selection_and_offset)
{
    StateBuf buf = { 0 };
    size_t pos = 0;
    char err[128];
    cr_assert_eq(fw_cfg_add_file(fw, "x", "0123456789", 10), 0);
    select_key(0x20);
    as_read(&io, 0x511, 1);
    as_read(&io, 0x511, 1);
    cr_assert_eq(state_save(&fw_cfg_state_desc, &fw->s, &buf), 0);
    select_key(0);
    cr_assert_eq(state_load(&fw_cfg_state_desc, &fw->s, fw, buf.data, buf.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(as_read(&io, 0x511, 1), '2');
    statebuf_free(&buf);
}

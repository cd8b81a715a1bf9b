/* Unit tests for the qcow2 driver (machine/qcow2*.c) through the block
 * layer: allocation and refcounts (versions 2 and 3, cluster sizes from
 * 512 bytes to 2 MiB, every refcount width), backing chains, zero and
 * compressed clusters, internal snapshots, discard, and the one-line
 * errors for corrupt headers and missing files.  See block_test.h.
 */
#include "tests/unit/block_test.h"

TestSuite(qcow2, .init = setup, .fini = teardown, .timeout = 120);

/* ---- allocation and refcounts ------------------------------------------- */

Test(qcow2, v3_default_clusters)
{
    write_and_compare("compat=1.1", 64 << 20, 300, 300000, 1);
}

Test(qcow2, v2_image)
{
    write_and_compare("compat=0.10", 32 << 20, 300, 200000, 2);
}

Test(qcow2, small_clusters_cross_l2_tables)
{
    /* 512-byte clusters: one L2 table covers 32 KiB, so writes cross
     * tables, and the refcount table (8 MiB per cluster) must grow. */
    write_and_compare("cluster_size=512", 24 << 20, 400, 70000, 3);
}

Test(qcow2, cluster_sizes)
{
    static const char *const sizes[] = { "4096", "16384", "2M" };

    for (unsigned i = 0; i < 3; i++) {
        char o[64];
        snprintf(o, sizeof(o), "cluster_size=%s", sizes[i]);
        write_and_compare(o, 16 << 20, 120, 100000, 10 + i);
    }
}

Test(qcow2, refcount_widths)
{
    static const unsigned bits[] = { 1, 2, 4, 8, 32, 64 };

    for (unsigned i = 0; i < 6; i++) {
        char o[64];
        snprintf(o, sizeof(o), "refcount_bits=%u,cluster_size=4096", bits[i]);
        write_and_compare(o, 8 << 20, 100, 50000, 20 + i);
    }
}

Test(qcow2, odd_size_and_bounds)
{
    uint8_t b[1000];

    cr_assert_eq(sh("qemu-img create -f qcow2 t.qcow2 100000"), 0);
    BlockDevice *q = open_ok(p("t.qcow2"), "qcow2", false, false);
    cr_assert_eq(block_size(q), 100352);   /* qemu-img rounds up to 512 */
    fill(b, sizeof(b), 7);
    cr_assert_eq(block_pwrite(q, 100352 - 1000, b, 1000), 0);
    cr_assert_eq(block_pwrite(q, 100352 - 999, b, 1000), -EINVAL);
    cr_assert_eq(block_pread(q, 100353, b, 0), -EINVAL);
    cr_assert_eq(block_pread(q, 100352, b, 0), 0);
    block_close(q);
    expect_check("t.qcow2", false);
}

Test(qcow2, many_allocations_keep_refcounts)
{
    uint8_t b[4096];

    cr_assert_eq(sh("qemu-img create -f qcow2 -o cluster_size=4096 t.qcow2 256M"), 0);
    BlockDevice *q = open_ok(p("t.qcow2"), NULL, false, false);
    rng_state = 99;
    for (int i = 0; i < 5000; i++) {
        fill(b, sizeof(b), (uint64_t)i);
        cr_assert_eq(block_pwrite(q, (rnd() % (256 << 8)) * 1024, b, 1 + rnd() % 4096), 0);
    }
    block_close(q);
    expect_check("t.qcow2", false);
}

/* ---- backing files ------------------------------------------------------ */

Test(qcow2, backing_chain_of_three)
{
    const uint64_t size = 4 << 20;
    uint8_t *want = malloc(size), *got = malloc(size);

    fill(want, size, 5);
    FILE *f = fopen(p("base.raw"), "wb");
    fwrite(want, 1, size, f);
    fclose(f);
    cr_assert_eq(sh("qemu-img create -f qcow2 -b base.raw -F raw mid.qcow2 && "
                    "qemu-img create -f qcow2 -o cluster_size=4096 -b mid.qcow2 "
                    "-F qcow2 top.qcow2 && "
                    "qemu-io -c 'write -P 0x11 100k 300k' mid.qcow2 && "
                    "qemu-io -c 'write -P 0x22 200k 50k' -c 'write -P 0x33 1M 5000' "
                    "top.qcow2"), 0, "%s", last_log());
    memset(want + 100 * 1024, 0x11, 300 * 1024);
    memset(want + 200 * 1024, 0x22, 50 * 1024);
    memset(want + (1 << 20), 0x33, 5000);
    uint32_t base_crc = file_crc(p("base.raw")), mid_crc = file_crc(p("mid.qcow2"));

    BlockDevice *q = open_ok(p("top.qcow2"), NULL, false, false);
    cr_assert_eq(block_size(q), size);
    cr_assert_eq(block_pread(q, 0, got, size), 0);
    cr_assert_eq(memcmp(got, want, size), 0, "reads do not fall through the chain");
    /* Partial writes over data that lives in the backing files. */
    for (int i = 0; i < 50; i++) {
        uint64_t off = (uint64_t)i * 81919 % (size - 3000);
        fill(want + off, 3000, 100 + i);
        cr_assert_eq(block_pwrite(q, off, want + off, 3000), 0);
    }
    cr_assert_eq(block_pread(q, 0, got, size), 0);
    cr_assert_eq(memcmp(got, want, size), 0);
    block_close(q);
    cr_assert_eq(file_crc(p("base.raw")), base_crc);
    cr_assert_eq(file_crc(p("mid.qcow2")), mid_crc);
    expect_check("top.qcow2", false);
    f = fopen(p("want.raw"), "wb");
    fwrite(want, 1, size, f);
    fclose(f);
    expect_same("top.qcow2", "qcow2", "want.raw", "raw");
    free(want);
    free(got);
}

Test(qcow2, backing_smaller_than_overlay_reads_zeros)
{
    uint8_t b[8192];

    cr_assert_eq(sh("truncate -s 4096 base.raw && qemu-io -f raw -c 'write -P 0x5a 0 4096' base.raw && "
                    "qemu-img create -f qcow2 -b base.raw -F raw t.qcow2 1M"), 0, "%s", last_log());
    BlockDevice *q = open_ok(p("t.qcow2"), NULL, true, false);
    cr_assert_eq(block_pread(q, 0, b, sizeof(b)), 0);
    for (int i = 0; i < 8192; i++)
        cr_assert_eq(b[i], i < 4096 ? 0x5a : 0, "byte %d", i);
    block_close(q);
}

/* ---- zero and compressed clusters -------------------------------------- */

Test(qcow2, zero_clusters)
{
    uint8_t *b = malloc(1 << 20);

    make_raw("base.raw", 1 << 20);
    cr_assert_eq(sh("qemu-io -f raw -c 'write -P 0xaa 0 1M' base.raw && "
                    "qemu-img create -f qcow2 -b base.raw -F raw t.qcow2 && "
                    "qemu-io -c 'write -P 0x77 0 1M' -c 'write -z 128k 192k' "
                    "-c 'write -z 640k 64k' t.qcow2"), 0, "%s", last_log());
    BlockDevice *q = open_ok(p("t.qcow2"), NULL, false, false);
    cr_assert_eq(block_pread(q, 0, b, 1 << 20), 0);
    for (int i = 0; i < (1 << 20); i++) {
        bool zero = (i >= 128 * 1024 && i < 320 * 1024) || (i >= 640 * 1024 && i < 704 * 1024);
        cr_assert_eq(b[i], zero ? 0 : 0x77, "byte %#x", i);
    }
    /* A partial write into a zero cluster keeps the rest zero. */
    memset(b, 0x99, 100);
    cr_assert_eq(block_pwrite(q, 130 * 1024, b, 100), 0);
    cr_assert_eq(block_pread(q, 128 * 1024, b, 64 * 1024), 0);
    for (int i = 0; i < 64 * 1024; i++)
        cr_assert_eq(b[i], i >= 2048 && i < 2148 ? 0x99 : 0, "byte %d", i);
    block_close(q);
    expect_check("t.qcow2", false);
    free(b);
}

static void compressed_roundtrip(const char *extra)
{
    const uint64_t size = 2 << 20;
    uint8_t *want = malloc(size), *got = malloc(size);

    /* Compressible: runs of a repeated pattern, some random clusters. */
    for (uint64_t i = 0; i < size; i++)
        want[i] = (uint8_t)((i / 1000) * 7 + (i % 13));
    fill(want + 300000, 70000, 3);
    FILE *f = fopen(p("src.raw"), "wb");
    fwrite(want, 1, size, f);
    fclose(f);
    cr_assert_eq(sh("qemu-img convert -c -O qcow2 %s src.raw c.qcow2 && "
                    "qemu-img check c.qcow2 | grep -q '[1-9][0-9.]*%% compressed'",
                    extra), 0, "%s", last_log());
    BlockDevice *q = open_ok(p("c.qcow2"), NULL, false, false);
    cr_assert_eq(block_pread(q, 0, got, size), 0);
    cr_assert_eq(memcmp(got, want, size), 0, "compressed clusters read wrong");
    /* Writing into compressed clusters copies them out. */
    for (int i = 0; i < 40; i++) {
        uint64_t off = (uint64_t)i * 52021 % (size - 2000);
        fill(want + off, 2000, 40 + i);
        cr_assert_eq(block_pwrite(q, off, want + off, 2000), 0);
    }
    cr_assert_eq(block_pread(q, 0, got, size), 0);
    cr_assert_eq(memcmp(got, want, size), 0);
    block_close(q);
    expect_check("c.qcow2", false);
    f = fopen(p("want.raw"), "wb");
    fwrite(want, 1, size, f);
    fclose(f);
    expect_same("c.qcow2", "qcow2", "want.raw", "raw");
    free(want);
    free(got);
}

Test(qcow2, compressed_deflate)
{
    compressed_roundtrip("");
}

Test(qcow2, compressed_zstd)
{
    if (sh("qemu-img create -f qcow2 -o compression_type=zstd z.qcow2 1M") != 0)
        cr_skip_test("this qemu-img has no zstd");
    compressed_roundtrip("-o compression_type=zstd");
}

/* ---- internal snapshots, discard, -snapshot ----------------------------- */

Test(qcow2, internal_snapshot_survives_writes)
{
    cr_assert_eq(sh("qemu-img create -f qcow2 -o cluster_size=4096 t.qcow2 4M && "
                    "qemu-io -c 'write -P 0x41 0 4M' t.qcow2 && "
                    "qemu-img snapshot -c s1 t.qcow2 && "
                    "qemu-img convert -O raw t.qcow2 s1.raw && cp s1.raw now.raw"),
                 0, "%s", last_log());
    BlockDevice *q = open_ok(p("t.qcow2"), NULL, false, false);
    BlockDevice *r = open_ok(p("now.raw"), "raw", false, false);
    rng_state = 7;
    random_writes(q, r, 4 << 20, 200, 20000);
    block_close(q);
    block_close(r);
    expect_check("t.qcow2", false);
    expect_same("t.qcow2", "qcow2", "now.raw", "raw");
    cr_assert_eq(sh("qemu-img snapshot -a s1 t.qcow2"), 0, "%s", last_log());
    expect_check("t.qcow2", false);
    expect_same("t.qcow2", "qcow2", "s1.raw", "raw");
}

Test(qcow2, discard_frees_and_zeroes)
{
    uint8_t *b = malloc(1 << 20);

    cr_assert_eq(sh("qemu-img create -f qcow2 -o cluster_size=4096 t.qcow2 1M"), 0);
    BlockDevice *q = open_ok(p("t.qcow2"), NULL, false, false);
    fill(b, 1 << 20, 1);
    cr_assert_eq(block_pwrite(q, 0, b, 1 << 20), 0);
    cr_assert_eq(block_discard(q, 10000, 500000), 0);
    cr_assert_eq(block_pread(q, 0, b, 1 << 20), 0);
    for (int i = 12288; i < 507904; i++)
        cr_assert_eq(b[i], 0, "byte %d not discarded", i);
    cr_assert_neq(memcmp(b, b + 1, 100), 0);
    block_close(q);
    expect_check("t.qcow2", false);
    /* The freed clusters are reused: rewriting all grows nothing. */
    struct stat st1, st2;
    stat(p("t.qcow2"), &st1);
    q = open_ok(p("t.qcow2"), NULL, false, false);
    fill(b, 1 << 20, 2);
    cr_assert_eq(block_pwrite(q, 0, b, 1 << 20), 0);
    block_close(q);
    stat(p("t.qcow2"), &st2);
    cr_assert_eq(st1.st_size, st2.st_size);
    expect_check("t.qcow2", false);

    /* Over a backing file, discarded clusters read as zeros (v3). */
    make_raw("base.raw", 1 << 20);
    cr_assert_eq(sh("qemu-io -f raw -c 'write -P 0xee 0 1M' base.raw && "
                    "qemu-img create -f qcow2 -b base.raw -F raw o.qcow2"), 0);
    q = open_ok(p("o.qcow2"), NULL, false, false);
    memset(b, 0x12, 262144);
    cr_assert_eq(block_pwrite(q, 0, b, 262144), 0);
    memset(b, 0xee, 262144);
    cr_assert_eq(block_pwrite(q, 0, b, 262144), 0);
    cr_assert_eq(block_discard(q, 65536, 131072), 0);
    cr_assert_eq(block_pread(q, 0, b, 262144), 0);
    for (int i = 0; i < 262144; i++)
        cr_assert_eq(b[i], i >= 65536 && i < 196608 ? 0 : 0xee, "byte %d", i);
    block_close(q);
    expect_check("o.qcow2", false);
    free(b);
}

/* ---- open errors -------------------------------------------------------- */

static void patch(const char *name, long off, const void *bytes, size_t len)
{
    int fd = open(p(name), O_WRONLY);

    cr_assert(fd >= 0);
    cr_assert_eq(pwrite(fd, bytes, len, off), (ssize_t)len);
    close(fd);
}

static void patch32(const char *name, long off, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

    patch(name, off, b, 4);
}

static void patch64(const char *name, long off, uint64_t v)
{
    patch32(name, off, (uint32_t)(v >> 32));
    patch32(name, off + 4, (uint32_t)v);
}

static void expect_open_error(const char *name, const char *format, bool readonly,
                              const char *msg)
{
    BlockOpenOptions o = { .format = format, .readonly = readonly };
    BlockDevice *bd = (BlockDevice *)1;
    char err[512], want[PATH_MAX + 512];
    int r = block_open(p(name), &o, &bd, err, sizeof(err));

    snprintf(want, sizeof(want), "%s: %s", p(name), msg);
    cr_assert_lt(r, 0, "%s opened", name);
    cr_assert_null(bd);
    cr_assert_str_eq(err, want);
    cr_assert_null(strchr(err, '\n'));
}

static void fresh(const char *opts)
{
    cr_assert_eq(sh("rm -f h.qcow2 && qemu-img create -f qcow2 %s h.qcow2 1M", opts), 0);
}

Test(qcow2, corrupt_headers_rejected)
{
    fresh("");
    patch("h.qcow2", 0, "QFI\xfa", 4);
    expect_open_error("h.qcow2", "qcow2", false, "not a qcow2 image (bad magic)");
    fresh("");
    patch32("h.qcow2", 4, 1);
    expect_open_error("h.qcow2", NULL, false, "unsupported qcow2 version 1 (2, 3)");
    patch32("h.qcow2", 4, 4);
    expect_open_error("h.qcow2", NULL, true, "unsupported qcow2 version 4 (2, 3)");
    fresh("");
    patch32("h.qcow2", 20, 8);
    expect_open_error("h.qcow2", NULL, false, "unsupported cluster size (cluster_bits 8, 9..21)");
    patch32("h.qcow2", 20, 22);
    expect_open_error("h.qcow2", NULL, false, "unsupported cluster size (cluster_bits 22, 9..21)");
    fresh("");
    patch64("h.qcow2", 40, 0x100000);
    expect_open_error("h.qcow2", NULL, false,
                      "corrupt L1 table offset 0x100000 (beyond the end of the file)");
    patch64("h.qcow2", 40, 0x30200);
    expect_open_error("h.qcow2", NULL, false, "corrupt L1 table offset 0x30200 (unaligned)");
    fresh("");
    patch64("h.qcow2", 48, 0);
    expect_open_error("h.qcow2", NULL, false, "corrupt refcount table offset 0 (the header)");
    fresh("");
    patch32("h.qcow2", 32, 1);
    expect_open_error("h.qcow2", NULL, true,
                      "encrypted qcow2 images are not supported (crypt_method 1)");
    fresh("");
    patch64("h.qcow2", 72, 1ull << 5);
    expect_open_error("h.qcow2", NULL, false,
                      "unsupported qcow2 feature (incompatible feature bit 5)");
    patch64("h.qcow2", 72, 1ull << 4);
    expect_open_error("h.qcow2", NULL, false,
                      "extended L2 entries (subclusters) are not supported");
    fresh("");
    patch32("h.qcow2", 36, 0);
    patch64("h.qcow2", 24, 1ull << 40);
    expect_open_error("h.qcow2", NULL, false,
                      "corrupt L1 table size 0 (too small for the disk size)");
    fresh("");
    patch32("h.qcow2", 100, 100);
    expect_open_error("h.qcow2", NULL, false, "corrupt header length 100");
    fresh("");
    patch32("h.qcow2", 96, 7);
    expect_open_error("h.qcow2", NULL, false, "corrupt refcount order 7 (0..6)");
    cr_assert_eq(sh("head -c 40 h.qcow2 > short.qcow2"), 0);
    expect_open_error("short.qcow2", NULL, false, "truncated qcow2 header");
}

Test(qcow2, dirty_and_corrupt_bits)
{
    fresh("");
    patch64("h.qcow2", 72, 1);
    expect_open_error("h.qcow2", NULL, false, "image was not closed cleanly (dirty "
                      "bit set); repair it with 'qemu-img check -r all' or open it "
                      "read-only");
    block_close(open_ok(p("h.qcow2"), NULL, true, false));
    patch64("h.qcow2", 72, 2);
    expect_open_error("h.qcow2", NULL, false, "image is marked corrupt; repair it "
                      "with 'qemu-img check -r all' or open it read-only");
    block_close(open_ok(p("h.qcow2"), NULL, true, false));
}

Test(qcow2, missing_files_and_formats)
{
    char msg[PATH_MAX + 64];

    expect_open_error("nothere.img", NULL, false, "No such file or directory");
    cr_assert_eq(sh("qemu-img create -f qcow2 -u -b gone.raw -F raw top.qcow2 1M"), 0);
    snprintf(msg, sizeof(msg), "backing file %s: No such file or directory", p("gone.raw"));
    expect_open_error("top.qcow2", NULL, false, msg);
    make_raw("r.img", 4096);
    expect_open_error("r.img", "qcow2", false, "not a qcow2 image (bad magic)");
    expect_open_error("r.img", "vmdk", false, "unknown format 'vmdk' (raw, qcow2)");
    cr_assert_eq(sh("mkdir d.img && mkfifo f.img"), 0);
    expect_open_error("d.img", NULL, true, "is a directory");
    expect_open_error("f.img", NULL, true, "not a regular file or block device");
    /* An image that is its own backing file. */
    cr_assert_eq(sh("qemu-img create -f qcow2 loop.qcow2 1M && "
                    "qemu-img rebase -u -b loop.qcow2 -F qcow2 loop.qcow2"), 0, "%s", last_log());
    snprintf(msg, sizeof(msg), "backing file %s: the backing chain loops back "
             "to this file", p("loop.qcow2"));
    expect_open_error("loop.qcow2", NULL, false, msg);
    expect_open_error("loop.qcow2", NULL, true, msg);
}

Test(qcow2, readonly_locking_and_probing)
{
    uint8_t b[512] = { 'Q', 'F', 'I', 0xfb };

    cr_assert_eq(sh("qemu-img create -f qcow2 t.qcow2 1M"), 0);
    BlockDevice *q = open_ok(p("t.qcow2"), NULL, true, false);
    cr_assert(block_is_readonly(q));
    cr_assert_eq(block_pwrite(q, 0, b, 512), -EROFS);
    cr_assert_eq(block_discard(q, 0, 512), -EROFS);
    block_close(q);
    q = open_ok(p("t.qcow2"), NULL, false, false);
    expect_open_error("t.qcow2", NULL, false, "image is in use by another process (locked)");
    block_close(q);
    /* A probed raw image cannot be turned into a qcow2 one by the guest. */
    make_raw("r.img", 1 << 20);
    q = open_ok(p("r.img"), NULL, false, false);
    cr_assert_eq(block_pwrite(q, 0, b, 512), -EPERM);
    cr_assert_eq(block_pwrite(q, 512, b, 512), 0);
    block_close(q);
    q = open_ok(p("r.img"), "raw", false, false);
    cr_assert_eq(block_pwrite(q, 0, b, 512), 0);
    block_close(q);
}

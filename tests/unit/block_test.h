/* Helpers shared by the block-layer tests (test_qcow2.c, test_block.c).
 *
 * QEMU's own tools are the referee: images are made with qemu-img and
 * qemu-io, written through block_pwrite, then judged by `qemu-img check`
 * and `qemu-img compare`.  Every test works in its own temporary folder
 * (tmpfs when there is one).
 */
#ifndef VIREO_TESTS_UNIT_BLOCK_TEST_H
#define VIREO_TESTS_UNIT_BLOCK_TEST_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "machine/block.h"

#define UNUSED __attribute__((unused))

static char dir[64];

static UNUSED void setup(void)
{
    if (system("command -v qemu-img >/dev/null && command -v qemu-io >/dev/null") != 0)
        cr_skip_test("qemu-img/qemu-io not installed (make deps installs qemu-utils)");
    /* tmpfs when there is one: fdatasync costs nothing there. */
    strcpy(dir, access("/dev/shm", W_OK) == 0 ? "/dev/shm/vireo-block-XXXXXX"
                                              : "/tmp/vireo-block-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static UNUSED void teardown(void)
{
    char cmd[128];

    if (dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
    }
}

/* dir/name, in one of a few rotating buffers. */
static UNUSED const char *p(const char *name)
{
    static char bufs[8][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 8];

    snprintf(b, PATH_MAX, "%s/%s", dir, name);
    return b;
}

/* Run a shell command in dir; its output goes to dir/last.log, shown if
 * the caller's assertion fails.  Returns the exit status. */
static UNUSED int sh(const char *fmt, ...)
{
    char cmd[4096], full[4096 + 128];
    va_list ap;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && (%s) >last.log 2>&1", dir, cmd);
    st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static UNUSED const char *last_log(void)
{
    static char buf[4096];
    FILE *f = fopen(p("last.log"), "r");
    size_t n = 0;

    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* qemu-img check: 0 clean, 3 leaks only, 2 corruption. */
static UNUSED void expect_check(const char *name, bool leaks_ok)
{
    int st = sh("qemu-img check -f qcow2 %s", name);

    cr_assert(st == 0 || (leaks_ok && st == 3), "qemu-img check %s: status %d\n%s",
              name, st, last_log());
}

static UNUSED void expect_same(const char *a, const char *fa, const char *b, const char *fb)
{
    int st = sh("qemu-img compare -f %s -F %s %s %s", fa, fb, a, b);

    cr_assert_eq(st, 0, "qemu-img compare %s %s: %d\n%s", a, b, st, last_log());
}

static UNUSED BlockDevice *open_ok(const char *path, const char *format, bool readonly,
                            bool snapshot)
{
    BlockOpenOptions o = { .format = format, .readonly = readonly, .snapshot = snapshot };
    BlockDevice *bd = NULL;
    char err[512];
    int r = block_open(path, &o, &bd, err, sizeof(err));

    cr_assert_eq(r, 0, "block_open %s: %d %s", path, r, err);
    return bd;
}

static uint64_t rng_state;

static UNUSED uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static UNUSED void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;

    for (size_t i = 0; i < len; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        buf[i] = (uint8_t)s;
    }
}

static UNUSED uint32_t file_crc(const char *path)
{
    uint8_t buf[65536];
    uint32_t crc = (uint32_t)crc32(0, NULL, 0);
    int fd = open(path, O_RDONLY);
    ssize_t n;

    cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        crc = (uint32_t)crc32(crc, buf, (uInt)n);
    close(fd);
    return crc;
}

/* Random writes to a qcow2 device and a raw one (the model), each read
 * back from both. */
static UNUSED void random_writes(BlockDevice *q, BlockDevice *raw, uint64_t size,
                          unsigned count, size_t max_len)
{
    uint8_t *buf = malloc(max_len), *got = malloc(max_len), *want = malloc(max_len);

    for (unsigned i = 0; i < count; i++) {
        size_t len = 1 + rnd() % max_len;
        uint64_t off;

        if (rnd() % 4 == 0)
            len = (rnd() % 8 + 1) * 512;
        if (len > size)
            len = size;
        off = rnd() % (size - len + 1);
        if (rnd() % 2)
            off &= ~511ull;
        fill(buf, len, rnd());
        cr_assert_eq(block_pwrite(q, off, buf, len), 0, "write %#llx+%zu",
                     (unsigned long long)off, len);
        cr_assert_eq(block_pwrite(raw, off, buf, len), 0);
        len = 1 + rnd() % max_len;
        if (len > size)
            len = size;
        off = rnd() % (size - len + 1);
        cr_assert_eq(block_pread(q, off, got, len), 0);
        cr_assert_eq(block_pread(raw, off, want, len), 0);
        cr_assert_eq(memcmp(got, want, len), 0, "read %#llx+%zu differs after %u writes",
                     (unsigned long long)off, len, i + 1);
    }
    free(buf);
    free(got);
    free(want);
}

static UNUSED void make_raw(const char *name, uint64_t size)
{
    cr_assert_eq(sh("rm -f %s && truncate -s %llu %s", name, (unsigned long long)size,
                    name), 0);
}

static UNUSED void write_and_compare(const char *opts, uint64_t size, unsigned count,
                              size_t max_len, uint64_t seed)
{
    cr_assert_eq(sh("qemu-img create -f qcow2 -o %s t.qcow2 %llu", opts,
                    (unsigned long long)size), 0, "%s", last_log());
    make_raw("t.raw", size);
    BlockDevice *q = open_ok(p("t.qcow2"), NULL, false, false);
    BlockDevice *r = open_ok(p("t.raw"), "raw", false, false);
    cr_assert_eq(block_size(q), size);
    rng_state = seed;
    random_writes(q, r, size, count, max_len);
    cr_assert_eq(block_flush(q), 0);
    block_close(q);
    block_close(r);
    expect_check("t.qcow2", false);
    expect_same("t.qcow2", "qcow2", "t.raw", "raw");
}

#endif

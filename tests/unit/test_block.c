/* Unit tests for the generic block layer (machine/block.c): -snapshot
 * overlays, the asynchronous path through the input queue, and crash
 * consistency: a writer killed at random moments or before each of its
 * writes must leave an image that qemu-img check accepts (leaks allowed).
 * See block_test.h.
 */
#include <pthread.h>

#include "tests/unit/block_test.h"
#include "machine/block_int.h"
#include "machine/events.h"

TestSuite(block, .init = setup, .fini = teardown, .timeout = 120);

static void snapshot_overlay(const char *fmt)
{
    char name[32], path[PATH_MAX];
    uint8_t b[70000], got[70000];

    snprintf(name, sizeof(name), "base.%s", fmt);
    if (strcmp(fmt, "raw") == 0)
        make_raw(name, 8 << 20);
    else
        cr_assert_eq(sh("qemu-img create -f qcow2 %s 8M", name), 0);
    cr_assert_eq(sh("qemu-io -f %s -c 'write -P 0x3c 0 8M' %s", fmt, name), 0);
    snprintf(path, sizeof(path), "%s", p(name));
    uint32_t crc = file_crc(path);

    setenv("TMPDIR", dir, 1);
    BlockDevice *q = open_ok(path, NULL, false, true);
    cr_assert_not(block_is_readonly(q));
    cr_assert_eq(sh("ls | grep -c vireo-snapshot"), 1, "the overlay was not unlinked");
    fill(b, sizeof(b), 9);
    for (int i = 0; i < 30; i++)
        cr_assert_eq(block_pwrite(q, (uint64_t)i * 200003, b, sizeof(b)), 0);
    cr_assert_eq(block_pread(q, 29 * 200003ull, got, sizeof(got)), 0);
    cr_assert_eq(memcmp(b, got, sizeof(b)), 0);
    cr_assert_eq(block_pread(q, 8 * 200003ull + 70000, got, 1000), 0);
    cr_assert_eq(got[0], 0x3c);
    cr_assert_eq(block_flush(q), 0);
    block_close(q);
    unsetenv("TMPDIR");
    cr_assert_eq(file_crc(path), crc, "-snapshot changed the base image");
}

Test(block, snapshot_overlay_raw_base)
{
    snapshot_overlay("raw");
}

Test(block, snapshot_overlay_qcow2_base)
{
    snapshot_overlay("qcow2");
    expect_check("base.qcow2", false);
}

/* ---- the asynchronous path ---------------------------------------------- */

typedef struct Done {
    int calls, ret;
    pthread_t thread;
} Done;

static void on_done(void *opaque, int ret)
{
    Done *d = opaque;

    d->calls++;
    d->ret = ret;
    d->thread = pthread_self();
}

Test(block, async_requests_complete_through_the_event_queue)
{
    enum { N = 24 };
    static uint8_t wbuf[N][3][4096], rbuf[N][3][4096];
    struct iovec wiov[N][3], riov[N][3];
    BlockRequest w[N], rd[N], fl, dc;
    Done wd[N] = {0}, rdd[N] = {0}, fd = {0}, dd = {0};
    EventQueue q;

    cr_assert_eq(sh("qemu-img create -f qcow2 t.qcow2 16M"), 0);
    BlockDevice *bd = open_ok(p("t.qcow2"), NULL, false, false);
    cr_assert_eq(events_init(&q, 8), 0);   /* small: forces retries */
    events_set_sink(&q, EVENT_BLOCK_DONE, block_complete_event, NULL);
    block_set_event_queue(bd, &q, 0);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 3; j++) {
            fill(wbuf[i][j], 4096, (uint64_t)(i * 3 + j));
            wiov[i][j] = (struct iovec){ wbuf[i][j], 4096 };
            riov[i][j] = (struct iovec){ rbuf[i][j], 4096 };
        }
        w[i] = (BlockRequest){ .op = BLOCK_WRITE, .offset = (uint64_t)i * 300000,
                               .iov = wiov[i], .iovcnt = 3, .done = on_done, .opaque = &wd[i] };
        rd[i] = (BlockRequest){ .op = BLOCK_READ, .offset = (uint64_t)i * 300000,
                                .iov = riov[i], .iovcnt = 3, .done = on_done, .opaque = &rdd[i] };
        cr_assert_eq(block_submit(bd, &w[i]), 0);
        cr_assert_eq(block_submit(bd, &rd[i]), 0);
    }
    fl = (BlockRequest){ .op = BLOCK_FLUSH, .done = on_done, .opaque = &fd };
    dc = (BlockRequest){ .op = BLOCK_DISCARD, .offset = 0, .length = 65536,
                         .done = on_done, .opaque = &dd };
    cr_assert_eq(block_submit(bd, &fl), 0);
    cr_assert_eq(block_submit(bd, &dc), 0);
    /* Refused at once: nothing queued, no callback. */
    BlockRequest bad = { .op = BLOCK_READ, .offset = 16 << 20, .iov = riov[0],
                         .iovcnt = 1, .done = on_done, .opaque = &fd };
    cr_assert_eq(block_submit(bd, &bad), -EINVAL);

    int delivered = 0;
    time_t start = time(NULL);
    while (dd.calls == 0 && time(NULL) - start < 30) {
        events_wait(&q, 100000000);
        delivered += events_deliver(&q, 0);
    }
    block_drain(bd);
    delivered += events_deliver(&q, 0);
    cr_assert_eq(delivered, 2 * N + 2);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(wd[i].calls, 1);
        cr_assert_eq(rdd[i].calls, 1);
        cr_assert_eq(wd[i].ret, 0);
        cr_assert(pthread_equal(rdd[i].thread, pthread_self()));
        cr_assert_eq(memcmp(rbuf[i], wbuf[i], sizeof(wbuf[i])), 0, "request %d", i);
    }
    cr_assert_eq(fd.calls, 1);
    cr_assert_eq(dd.ret, 0);
    block_close(bd);
    events_destroy(&q);
    expect_check("t.qcow2", false);
}

Test(block, async_without_a_queue_completes_on_the_io_thread)
{
    uint8_t b[512];
    struct iovec v = { b, sizeof(b) };
    Done d = {0};
    BlockRequest r = { .op = BLOCK_READ, .iov = &v, .iovcnt = 1, .done = on_done, .opaque = &d };

    make_raw("r.img", 4096);
    BlockDevice *bd = open_ok(p("r.img"), NULL, true, false);
    cr_assert_eq(block_submit(bd, &r), 0);
    block_drain(bd);
    cr_assert_eq(d.calls, 1);
    cr_assert_not(pthread_equal(d.thread, pthread_self()));
    block_close(bd);
}

/* ---- crashes ------------------------------------------------------------ */

/* A child writes random data until killed; the image must stay
 * consistent (leaks allowed) and readable. */
static void crash_run(const char *opts, unsigned rounds, uint64_t seed)
{
    cr_assert_eq(sh("qemu-img create -f qcow2 -o %s c.qcow2 64M", opts), 0, "%s", last_log());
    for (unsigned round = 0; round < rounds; round++) {
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            static uint8_t b[200000];
            BlockOpenOptions o = {0};
            BlockDevice *bd;
            char err[512];
            if (block_open(p("c.qcow2"), &o, &bd, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s\n", err);
                _exit(1);
            }
            rng_state = seed + round;
            for (;;) {
                size_t len = 1 + rnd() % sizeof(b);
                uint64_t off = rnd() % ((64 << 20) - len);
                fill(b, len, rnd());
                if (rnd() % 16 == 0)
                    block_discard(bd, off, len);
                else if (block_pwrite(bd, off, b, len) < 0)
                    _exit(2);
                if (rnd() % 4 == 0 && block_flush(bd) < 0)
                    _exit(3);
            }
        }
        struct timespec ts = { 0, (long)(5 + (seed * 31 + round * 17) % 60) * 1000000 };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        cr_assert(WIFSIGNALED(st), "the writer ended by itself: %d", st);
        expect_check("c.qcow2", true);
    }
    BlockDevice *bd = open_ok(p("c.qcow2"), NULL, false, false);
    uint8_t *b = malloc(1 << 20);
    for (uint64_t off = 0; off < (64 << 20); off += 1 << 20)
        cr_assert_eq(block_pread(bd, off, b, 1 << 20), 0);
    cr_assert_eq(block_pwrite(bd, 12345, b, 100000), 0);
    free(b);
    block_close(bd);
    expect_check("c.qcow2", true);
}

Test(block, killed_writer_leaves_a_consistent_image)
{
    crash_run("cluster_size=65536", 6, 1000);
}

Test(block, killed_writer_small_clusters)
{
    crash_run("cluster_size=512", 6, 2000);
}

/* The same, but the writer dies exactly before its k-th write to the
 * file, for every k (or a spread of them): each crash point of the
 * workload, including a refcount table growing and L2 tables being
 * copied away from an internal snapshot. */
static bool crash_at(unsigned k)
{
    pid_t pid;
    int st;

    cr_assert_eq(sh("cp base.qcow2 c.qcow2"), 0);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        static uint8_t b[6000];
        BlockOpenOptions o = {0};
        BlockDevice *bd;
        char err[512];
        if (block_open(p("c.qcow2"), &o, &bd, err, sizeof(err)) < 0)
            _exit(1);
        block_crash_countdown = k;
        rng_state = 77;
        for (int i = 0; i < 40; i++) {
            size_t len = 1 + rnd() % sizeof(b);
            uint64_t off = rnd() % ((16 << 20) - len);
            fill(b, len, rnd());
            if (rnd() % 8 == 0)
                block_discard(bd, off, len);
            else if (block_pwrite(bd, off, b, len) < 0)
                _exit(2);
            if (rnd() % 3 == 0 && block_flush(bd) < 0)
                _exit(3);
        }
        block_close(bd);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    if (WIFEXITED(st)) {
        cr_assert_eq(WEXITSTATUS(st), 0, "the writer failed: %d", WEXITSTATUS(st));
        return false;
    }
    expect_check("c.qcow2", true);
    return true;
}

Test(block, crash_at_every_write)
{
    unsigned step = getenv("VIREO_LONG") ? 1 : 3, k;

    cr_assert_eq(sh("qemu-img create -f qcow2 -o cluster_size=512 base.qcow2 16M && "
                    "qemu-io -c 'write -P 0x61 0 2M' -c 'write -P 0x62 8M 1M' base.qcow2 && "
                    "qemu-img snapshot -c s1 base.qcow2"), 0, "%s", last_log());
    for (k = 1; crash_at(k); k += step) {
    }
    cr_log_info("%u writes", k);
    cr_assert_gt(k, 100, "only %u writes", k);
}

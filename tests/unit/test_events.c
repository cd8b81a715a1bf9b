/* Unit tests for machine/events.c: the host input queue.
 *
 * Sinks record what they receive into plain arrays; the threaded tests
 * check every event arrives exactly once and in each producer's order.
 * Timing assertions are lower bounds, or upper bounds of seconds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "machine/clock.h"
#include "machine/events.h"

#define MS 1000000LL

static void sleep_ns(int64_t ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* What a sink or observer saw, in order.  `tag` tells them apart in a
 * log shared by several. */
typedef struct Seen {
    char tag;
    uint32_t kind, unit, len;
    uint64_t icount;
    uint8_t first;
} Seen;

typedef struct Recorder {
    Seen seen[256];
    int n;
    char tag;
    struct Recorder *shared;   /* if set, append there instead */
} Recorder;

static void record(void *opaque, const InputEvent *ev)
{
    Recorder *r = opaque;
    char tag = r->tag;

    if (r->shared)
        r = r->shared;
    cr_assert_lt(r->n, 256);
    r->seen[r->n++] = (Seen){ .tag = tag, .kind = ev->kind, .unit = ev->unit,
                              .len = ev->len, .icount = ev->icount,
                              .first = ev->len ? ev->data[0] : 0 };
}

static EventQueue q;

static void setup(void)
{
    cr_assert_eq(events_init(&q, 16), 0);
}

static void teardown(void)
{
    events_destroy(&q);
}

TestSuite(events, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(events_mt, .timeout = 60);

Test(events, init_rejects_zero_capacity)
{
    EventQueue z;

    cr_assert_eq(events_init(&z, 0), -EINVAL);
}

Test(events, delivers_in_posting_order_with_icount)
{
    Recorder r = {0};

    events_set_sink(&q, EVENT_SERIAL_RX, record, &r);
    cr_assert_not(events_pending(&q));
    for (int i = 0; i < 5; i++) {
        uint8_t byte = (uint8_t)('a' + i);
        cr_assert_eq(events_post(&q, EVENT_SERIAL_RX, (uint32_t)i % 2, &byte, 1), 0);
    }
    cr_assert(events_pending(&q));
    cr_assert_eq(events_deliver(&q, 777), 5);
    cr_assert_not(events_pending(&q));
    cr_assert_eq(r.n, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(r.seen[i].first, 'a' + i);
        cr_assert_eq(r.seen[i].unit, (uint32_t)i % 2);
        cr_assert_eq(r.seen[i].len, 1);
        cr_assert_eq(r.seen[i].icount, 777);
        cr_assert_eq(r.seen[i].kind, EVENT_SERIAL_RX);
    }
    cr_assert_eq(events_deliver(&q, 778), 0);
    cr_assert_eq(r.n, 5);
}

Test(events, each_delivery_stamps_its_own_icount)
{
    Recorder r = {0};
    uint8_t b = 1;

    events_set_sink(&q, EVENT_KEY, record, &r);
    events_post(&q, EVENT_KEY, 0, &b, 1);
    events_deliver(&q, 100);
    events_post(&q, EVENT_KEY, 0, &b, 1);
    events_post(&q, EVENT_KEY, 0, &b, 1);
    events_deliver(&q, 2500);
    cr_assert_eq(r.n, 3);
    cr_assert_eq(r.seen[0].icount, 100);
    cr_assert_eq(r.seen[1].icount, 2500);
    cr_assert_eq(r.seen[2].icount, 2500);
}

Test(events, sinks_per_kind_and_kinds_without_sink)
{
    Recorder keys = {0}, mice = {0};
    uint8_t k = 0x1c, m = 0x07, f = 0xff;

    events_set_sink(&q, EVENT_KEY, record, &keys);
    events_set_sink(&q, EVENT_MOUSE, record, &mice);
    events_post(&q, EVENT_KEY, 0, &k, 1);
    events_post(&q, EVENT_MOUSE, 0, &m, 1);
    events_post(&q, EVENT_NET_RX, 3, &f, 1);   /* nobody listens */
    events_post(&q, EVENT_KEY, 1, &k, 1);

    cr_assert_eq(events_deliver(&q, 9), 4);
    cr_assert_eq(keys.n, 2);
    cr_assert_eq(mice.n, 1);
    cr_assert_eq(keys.seen[0].kind, EVENT_KEY);
    cr_assert_eq(keys.seen[1].unit, 1);
    cr_assert_eq(mice.seen[0].first, 0x07);
    cr_assert_not(events_pending(&q));
    cr_assert_eq(q.dropped, 0);
}

Test(events, observer_sees_everything_before_the_sink)
{
    Recorder log = {0};
    Recorder obs = { .tag = 'o', .shared = &log };
    Recorder sink = { .tag = 's', .shared = &log };
    uint8_t b = 5;

    events_set_observer(&q, record, &obs);
    events_set_sink(&q, EVENT_SERIAL_RX, record, &sink);
    events_post(&q, EVENT_SERIAL_RX, 0, &b, 1);
    events_post(&q, EVENT_MONITOR, 0, NULL, 0);   /* no sink */
    events_post(&q, EVENT_SERIAL_RX, 1, &b, 1);
    cr_assert_eq(events_deliver(&q, 42), 3);

    const char *want = "osoos";
    cr_assert_eq(log.n, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(log.seen[i].tag, want[i], "entry %d", i);
    cr_assert_eq(log.seen[0].icount, 42);
    cr_assert_eq(log.seen[2].kind, EVENT_MONITOR);
    cr_assert_eq(log.seen[2].len, 0);
}

static uint8_t big_check[EVENT_MAX_DATA];
static int big_ok;

static void check_big(void *opaque, const InputEvent *ev)
{
    big_ok = ev->len == EVENT_MAX_DATA &&
             memcmp(ev->data, big_check, EVENT_MAX_DATA) == 0;
}

Test(events, size_limit)
{
    static uint8_t buf[EVENT_MAX_DATA + 1];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    memcpy(big_check, buf, EVENT_MAX_DATA);
    cr_assert_eq(events_post(&q, EVENT_NET_RX, 0, buf, EVENT_MAX_DATA + 1),
                 -E2BIG);
    cr_assert_not(events_pending(&q));
    cr_assert_eq(q.dropped, 0);

    events_set_sink(&q, EVENT_NET_RX, check_big, NULL);
    cr_assert_eq(events_post(&q, EVENT_NET_RX, 0, buf, EVENT_MAX_DATA), 0);
    cr_assert_eq(events_deliver(&q, 0), 1);
    cr_assert(big_ok);
}

Test(events, bad_kind_is_refused)
{
    uint8_t b = 0;

    cr_assert_eq(events_post(&q, EVENT_KIND_COUNT, 0, &b, 1), -EINVAL);
    cr_assert_not(events_pending(&q));
}

Test(events, full_queue_drops_and_counts)
{
    EventQueue small;
    Recorder r = {0};

    cr_assert_eq(events_init(&small, 4), 0);
    events_set_sink(&small, EVENT_SERIAL_RX, record, &r);
    for (uint8_t i = 0; i < 4; i++)
        cr_assert_eq(events_post(&small, EVENT_SERIAL_RX, 0, &i, 1), 0);
    uint8_t extra = 99;
    cr_assert_eq(events_post(&small, EVENT_SERIAL_RX, 0, &extra, 1), -ENOSPC);
    cr_assert_eq(small.dropped, 1);
    cr_assert_eq(events_post(&small, EVENT_SERIAL_RX, 0, &extra, 1), -ENOSPC);
    cr_assert_eq(small.dropped, 2);

    cr_assert_eq(events_deliver(&small, 1), 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r.seen[i].first, i);
    cr_assert_eq(events_post(&small, EVENT_SERIAL_RX, 0, &extra, 1), 0);
    cr_assert_eq(events_deliver(&small, 2), 1);
    cr_assert_eq(r.seen[4].first, 99);
    cr_assert_eq(small.dropped, 2);
    events_destroy(&small);
}

Test(events, ring_wraps_around)
{
    EventQueue small;
    Recorder r = {0};
    uint8_t next = 0;

    cr_assert_eq(events_init(&small, 3), 0);
    events_set_sink(&small, EVENT_SERIAL_RX, record, &r);
    for (int round = 0; round < 50; round++) {
        int batch = round % 3 + 1;
        for (int i = 0; i < batch; i++, next++)
            cr_assert_eq(events_post(&small, EVENT_SERIAL_RX, 0, &next, 1), 0);
        r.n = 0;
        cr_assert_eq(events_deliver(&small, 0), batch);
        for (int i = 0; i < batch; i++)
            cr_assert_eq(r.seen[i].first, (uint8_t)(next - batch + i));
    }
    events_destroy(&small);
}

/* A sink that posts: the new event waits for the next delivery. */
static void repost(void *opaque, const InputEvent *ev)
{
    EventQueue *eq = opaque;
    uint8_t b = (uint8_t)(ev->data[0] + 1);

    if (b < 3)
        cr_assert_eq(events_post(eq, EVENT_SERIAL_RX, 0, &b, 1), 0);
}

Test(events, sink_may_post_without_deadlock)
{
    uint8_t b = 0;

    events_set_sink(&q, EVENT_SERIAL_RX, repost, &q);
    events_post(&q, EVENT_SERIAL_RX, 0, &b, 1);
    cr_assert_eq(events_deliver(&q, 0), 1);
    cr_assert(events_pending(&q));
    cr_assert_eq(events_deliver(&q, 0), 1);
    cr_assert_eq(events_deliver(&q, 0), 1);
    cr_assert_eq(events_deliver(&q, 0), 0);
}

/* ---- threads ----------------------------------------------------------- */

#define PRODUCERS 4
#define PER_PRODUCER 1000

typedef struct Producer {
    EventQueue *q;
    uint32_t id;
} Producer;

static void *produce(void *opaque)
{
    Producer *p = opaque;

    for (uint32_t seq = 0; seq < PER_PRODUCER; seq++) {
        uint32_t msg[2] = { p->id, seq };
        while (events_post(p->q, EVENT_SERIAL_RX, p->id, msg, sizeof(msg)) == -ENOSPC)
            sched_yield();
    }
    return NULL;
}

typedef struct Tally {
    int count[PRODUCERS][PER_PRODUCER];
    int64_t last[PRODUCERS];
    int total, bad;
} Tally;

static void tally(void *opaque, const InputEvent *ev)
{
    Tally *t = opaque;
    uint32_t msg[2];

    if (ev->len != sizeof(msg)) {
        t->bad++;
        return;
    }
    memcpy(msg, ev->data, sizeof(msg));
    if (msg[0] >= PRODUCERS || msg[1] >= PER_PRODUCER || ev->unit != msg[0] ||
        (int64_t)msg[1] <= t->last[msg[0]]) {
        t->bad++;
        return;
    }
    t->last[msg[0]] = msg[1];
    t->count[msg[0]][msg[1]]++;
    t->total++;
}

Test(events_mt, many_producers_each_event_exactly_once)
{
    static Tally t;
    EventQueue mq;
    pthread_t th[PRODUCERS];
    Producer p[PRODUCERS];

    memset(&t, 0, sizeof(t));
    for (int i = 0; i < PRODUCERS; i++)
        t.last[i] = -1;
    cr_assert_eq(events_init(&mq, 64), 0);
    events_set_sink(&mq, EVENT_SERIAL_RX, tally, &t);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        p[i] = (Producer){ .q = &mq, .id = i };
        cr_assert_eq(pthread_create(&th[i], NULL, produce, &p[i]), 0);
    }

    int64_t start = clock_host_ns();
    while (t.total + t.bad < PRODUCERS * PER_PRODUCER &&
           clock_host_ns() - start < 20000 * MS) {
        events_wait(&mq, 10 * MS);
        events_deliver(&mq, (uint64_t)t.total);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    events_deliver(&mq, 0);

    cr_assert_eq(t.bad, 0);
    cr_assert_eq(t.total, PRODUCERS * PER_PRODUCER);
    for (int i = 0; i < PRODUCERS; i++)
        for (int s = 0; s < PER_PRODUCER; s++)
            cr_assert_eq(t.count[i][s], 1, "producer %d seq %d", i, s);
    cr_assert_not(events_pending(&mq));
    events_destroy(&mq);
}

Test(events, wait_times_out)
{
    int64_t h0 = clock_host_ns();

    cr_assert_not(events_wait(&q, 20 * MS));
    int64_t waited = clock_host_ns() - h0;
    cr_assert_geq(waited, 20 * MS);
    cr_assert_lt(waited, 2000 * MS);
}

Test(events, wait_zero_only_polls)
{
    uint8_t b = 0;

    cr_assert_not(events_wait(&q, 0));
    events_post(&q, EVENT_KEY, 0, &b, 1);
    cr_assert(events_wait(&q, 0));
    cr_assert(events_wait(&q, 1 * MS));
    cr_assert(events_wait(&q, -1));      /* pending: returns at once */
}

typedef struct Later {
    EventQueue *q;
    int64_t delay_ns;
    bool kick;
} Later;

static void *post_later(void *opaque)
{
    Later *l = opaque;
    uint8_t b = 1;

    sleep_ns(l->delay_ns);
    if (l->kick)
        events_kick(l->q);
    else
        events_post(l->q, EVENT_SERIAL_RX, 0, &b, 1);
    return NULL;
}

static void wait_for_other_thread(bool kick, int64_t timeout_ns)
{
    Later l = { .q = &q, .delay_ns = 30 * MS, .kick = kick };
    pthread_t th;
    int64_t h0 = clock_host_ns();

    cr_assert_eq(pthread_create(&th, NULL, post_later, &l), 0);
    cr_assert(events_wait(&q, timeout_ns));
    int64_t waited = clock_host_ns() - h0;
    pthread_join(th, NULL);
    cr_assert_geq(waited, 30 * MS);
    cr_assert_lt(waited, 5000 * MS);
    cr_assert_eq(events_pending(&q), !kick);
}

Test(events, wait_wakes_on_post_from_another_thread)
{
    wait_for_other_thread(false, 10000 * MS);
}

Test(events, wait_forever_wakes_on_post)
{
    wait_for_other_thread(false, -1);
}

Test(events, wait_wakes_on_kick_from_another_thread)
{
    wait_for_other_thread(true, 10000 * MS);
}

Test(events, kick_is_consumed_by_one_wait)
{
    events_kick(&q);
    cr_assert(events_wait(&q, 10000 * MS));
    cr_assert_not(events_wait(&q, 0));
    cr_assert_not(events_wait(&q, 5 * MS));
    cr_assert_not(events_pending(&q));
}

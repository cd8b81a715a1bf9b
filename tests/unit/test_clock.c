/* Unit tests for machine/clock.c: the virtual clock and its timers.
 *
 * Deterministic mode is driven by a fake instruction counter (a plain
 * variable), so every expected time below is exact.  Real-time tests sleep
 * for real; they only assert lower bounds on elapsed host time, or upper
 * bounds measured against the host clock around the same window, so they
 * do not depend on how the host schedules us.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <time.h>

#include "machine/clock.h"

#define MS 1000000LL

static uint64_t fake_icount(void *opaque)
{
    return *(uint64_t *)opaque;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Each callback appends its timer's id to a shared log. */
typedef struct Log {
    int ids[64];
    int n;
} Log;

typedef struct Probe {
    Timer t;
    Log *log;
    int id;
    /* Optional actions taken from inside the callback. */
    Timer *rearm;          /* re-arm this timer ... */
    int64_t rearm_at;      /* ... at this deadline */
    Timer *kill;           /* delete this timer */
    int64_t fired_at;      /* clock_ns() seen by the callback */
} Probe;

static void probe_cb(void *opaque)
{
    Probe *p = opaque;

    p->fired_at = clock_ns(p->t.clock);
    if (p->log->n < 64)
        p->log->ids[p->log->n++] = p->id;
    if (p->rearm)
        timer_mod(p->rearm, p->rearm_at);
    if (p->kill)
        timer_del(p->kill);
}

static void probe_init(Probe *p, Clock *c, Log *log, int id)
{
    *p = (Probe){ .log = log, .id = id };
    timer_init(&p->t, c, probe_cb, p);
}

/* A deterministic clock at 1 ns per instruction, unless said otherwise. */
static void det_clock(Clock *c, uint64_t *icount, unsigned shift)
{
    *icount = 0;
    clock_init(c, CLOCK_MODE_DETERMINISTIC, shift);
    clock_set_icount_source(c, fake_icount, icount);
}

/* ---- deterministic time ---------------------------------------------- */

Test(clock_det, tracks_icount_shifted)
{
    Clock c;
    uint64_t n;

    det_clock(&c, &n, 3);
    cr_assert_eq(clock_ns(&c), 0);
    n = 1;
    cr_assert_eq(clock_ns(&c), 8);
    n = 1000;
    cr_assert_eq(clock_ns(&c), 8000);
    n = 1ull << 40;
    cr_assert_eq(clock_ns(&c), (int64_t)1 << 43);
}

Test(clock_det, no_source_reads_zero)
{
    Clock c;

    clock_init(&c, CLOCK_MODE_DETERMINISTIC, 0);
    cr_assert_eq(clock_ns(&c), 0);
    cr_assert_eq(clock_ns(&c), 0);
}

Test(clock_det, pause_and_resume_do_nothing)
{
    Clock c;
    uint64_t n;

    det_clock(&c, &n, 0);
    n = 50;
    clock_pause(&c);
    n = 70;
    cr_assert_eq(clock_ns(&c), 70);
    clock_resume(&c);
    cr_assert_eq(clock_ns(&c), 70);
}

Test(clock_det, timers_fire_in_deadline_order)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b, d;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    probe_init(&d, &c, &log, 3);
    timer_mod(&a.t, 300);
    timer_mod(&b.t, 100);
    timer_mod(&d.t, 200);

    n = 99;
    cr_assert_eq(clock_run_timers(&c), 0);
    n = 1000;
    cr_assert_eq(clock_run_timers(&c), 3);
    cr_assert_eq(log.n, 3);
    cr_assert_eq(log.ids[0], 2);
    cr_assert_eq(log.ids[1], 3);
    cr_assert_eq(log.ids[2], 1);
    cr_assert_not(timer_pending(&a.t));
    cr_assert_eq(clock_run_timers(&c), 0);
}

Test(clock_det, fires_at_deadline_not_before)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    timer_mod(&a.t, 100);
    timer_mod(&b.t, 200);

    n = 150;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(log.ids[0], 1);
    cr_assert_eq(a.fired_at, 150);
    n = 199;
    cr_assert_eq(clock_run_timers(&c), 0);
    cr_assert(timer_pending(&b.t));
    n = 200;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(b.fired_at, 200);
}

Test(clock_det, ties_fire_in_arming_order)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe p[4];

    det_clock(&c, &n, 0);
    for (int i = 0; i < 4; i++)
        probe_init(&p[i], &c, &log, i);
    timer_mod(&p[2].t, 50);
    timer_mod(&p[0].t, 50);
    timer_mod(&p[3].t, 50);
    timer_mod(&p[1].t, 50);
    /* Re-arming at the same deadline moves a timer behind its peers. */
    timer_mod(&p[2].t, 50);

    n = 50;
    cr_assert_eq(clock_run_timers(&c), 4);
    int want[] = { 0, 3, 1, 2 };
    for (int i = 0; i < 4; i++)
        cr_assert_eq(log.ids[i], want[i], "slot %d: %d", i, log.ids[i]);
}

Test(clock_det, timer_mod_rearms_instead_of_duplicating)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    timer_mod(&a.t, 100);
    timer_mod(&a.t, 300);
    timer_mod(&a.t, 200);
    cr_assert_eq(a.t.deadline_ns, 200);
    cr_assert_eq(clock_next_deadline(&c), 200);

    n = 1000;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(log.n, 1);
}

Test(clock_det, callback_rearms_itself_once_per_call)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    a.rearm = &a.t;
    a.rearm_at = 10;            /* already in the past when it fires */
    timer_mod(&a.t, 5);

    n = 100;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert(timer_pending(&a.t));
    cr_assert_eq(clock_next_deadline(&c), 10);
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(log.n, 3);
}

Test(clock_det, callback_rearms_itself_periodically)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    a.rearm = &a.t;
    a.rearm_at = 200;
    timer_mod(&a.t, 100);

    n = 150;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(clock_next_deadline(&c), 200);
    n = 199;
    cr_assert_eq(clock_run_timers(&c), 0);
}

Test(clock_det, callback_rearms_a_fired_timer_into_the_past)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    timer_mod(&a.t, 10);
    timer_mod(&b.t, 20);
    b.rearm = &a.t;             /* b re-arms a, which already fired */
    b.rearm_at = 0;

    n = 100;
    cr_assert_eq(clock_run_timers(&c), 2);
    cr_assert_eq(log.n, 2);
    cr_assert(timer_pending(&a.t));
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(log.ids[2], 1);
}

Test(clock_det, callback_moves_a_due_timer_later)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    timer_mod(&a.t, 10);
    timer_mod(&b.t, 20);
    a.rearm = &b.t;             /* b is due, but a pushes it out */
    a.rearm_at = 500;

    n = 100;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(clock_next_deadline(&c), 500);
    n = 500;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(log.ids[1], 2);
}

Test(clock_det, callback_deletes_another_due_timer)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b, d;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    probe_init(&d, &c, &log, 3);
    timer_mod(&a.t, 10);
    timer_mod(&b.t, 20);
    timer_mod(&d.t, 30);
    a.kill = &b.t;

    n = 100;
    cr_assert_eq(clock_run_timers(&c), 2);
    cr_assert_eq(log.ids[0], 1);
    cr_assert_eq(log.ids[1], 3);
    cr_assert_not(timer_pending(&b.t));
    cr_assert_eq(clock_next_deadline(&c), INT64_MAX);
}

Test(clock_det, callback_deletes_a_future_timer)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    timer_mod(&a.t, 10);
    timer_mod(&b.t, 1000);
    a.kill = &b.t;

    n = 100;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(clock_next_deadline(&c), INT64_MAX);
    n = 5000;
    cr_assert_eq(clock_run_timers(&c), 0);
}

Test(clock_det, del_of_unarmed_timer_is_harmless)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    timer_del(&a.t);
    timer_del(&a.t);
    cr_assert_not(timer_pending(&a.t));

    timer_mod(&b.t, 10);
    timer_mod(&a.t, 20);
    timer_del(&a.t);
    timer_del(&a.t);
    cr_assert_not(timer_pending(&a.t));
    cr_assert(timer_pending(&b.t));

    n = 100;
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_eq(log.ids[0], 2);
}

Test(clock_det, negative_deadline_means_now)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    timer_mod(&a.t, -5);
    cr_assert(timer_pending(&a.t));
    cr_assert_eq(clock_next_deadline(&c), 0);
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_not(timer_pending(&a.t));
}

Test(clock_det, next_deadline)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a, b;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    probe_init(&b, &c, &log, 2);
    cr_assert_eq(clock_next_deadline(&c), INT64_MAX);
    timer_mod(&a.t, 700);
    cr_assert_eq(clock_next_deadline(&c), 700);
    timer_mod(&b.t, 300);
    cr_assert_eq(clock_next_deadline(&c), 300);
    timer_del(&b.t);
    cr_assert_eq(clock_next_deadline(&c), 700);
    timer_mod(&a.t, 900);
    cr_assert_eq(clock_next_deadline(&c), 900);
    timer_del(&a.t);
    cr_assert_eq(clock_next_deadline(&c), INT64_MAX);
}

Test(clock_det, skip_to_next_deadline)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a;

    det_clock(&c, &n, 1);
    probe_init(&a, &c, &log, 1);
    n = 5;
    cr_assert_eq(clock_ns(&c), 10);
    cr_assert_not(clock_skip_to_next_deadline(&c));
    cr_assert_eq(clock_ns(&c), 10);
    cr_assert_eq(clock_host_wait_ns(&c), -1);

    timer_mod(&a.t, 12345);
    cr_assert_eq(clock_host_wait_ns(&c), 0);
    cr_assert(clock_skip_to_next_deadline(&c));
    cr_assert_eq(clock_ns(&c), 12345);
    /* Time keeps following the instruction count from there. */
    n = 6;
    cr_assert_eq(clock_ns(&c), 12347);
    cr_assert_eq(clock_run_timers(&c), 1);
    cr_assert_not(clock_skip_to_next_deadline(&c));
    cr_assert_eq(clock_ns(&c), 12347);
}

Test(clock_det, skip_never_goes_backwards)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    timer_mod(&a.t, 100);
    n = 400;
    cr_assert(clock_skip_to_next_deadline(&c));
    cr_assert_eq(clock_ns(&c), 400);
}

Test(clock_det, state_offset_is_the_skip)
{
    Clock c;
    uint64_t n;
    Log log = {0};
    Probe a;

    det_clock(&c, &n, 0);
    probe_init(&a, &c, &log, 1);
    n = 40;
    timer_mod(&a.t, 1040);
    clock_skip_to_next_deadline(&c);
    cr_assert_eq(c.s.offset_ns, 1000);
    cr_assert_eq(c.s.mode, CLOCK_MODE_DETERMINISTIC);
}

/* ---- real time ---------------------------------------------------------- */

Test(clock_rt, starts_near_zero_and_never_decreases)
{
    Clock c;

    clock_init(&c, CLOCK_MODE_REALTIME, 0);
    int64_t prev = clock_ns(&c);
    cr_assert_geq(prev, 0);
    cr_assert_lt(prev, 2000 * MS);
    for (int i = 0; i < 10000; i++) {
        int64_t now = clock_ns(&c);
        cr_assert_geq(now, prev);
        prev = now;
    }
}

Test(clock_rt, advances_with_host_time)
{
    Clock c;

    clock_init(&c, CLOCK_MODE_REALTIME, 0);
    int64_t t0 = clock_ns(&c);
    sleep_ns(20 * MS);
    cr_assert_geq(clock_ns(&c) - t0, 20 * MS);
}

Test(clock_rt, pause_freezes_and_resume_does_not_jump)
{
    Clock c;

    clock_init(&c, CLOCK_MODE_REALTIME, 0);
    sleep_ns(1 * MS);
    clock_pause(&c);
    int64_t frozen = clock_ns(&c);
    cr_assert_geq(frozen, 1 * MS);
    sleep_ns(20 * MS);
    cr_assert_eq(clock_ns(&c), frozen);
    clock_pause(&c);            /* a second pause changes nothing */
    cr_assert_eq(clock_ns(&c), frozen);

    int64_t h0 = clock_host_ns();
    clock_resume(&c);
    int64_t t1 = clock_ns(&c);
    int64_t h1 = clock_host_ns();
    /* Since resume, virtual time moved no more than host time did. */
    cr_assert_geq(t1, frozen);
    cr_assert_leq(t1 - frozen, h1 - h0);

    clock_resume(&c);           /* a second resume changes nothing */
    int64_t t2 = clock_ns(&c);
    int64_t h2 = clock_host_ns();
    cr_assert_geq(t2, t1);
    cr_assert_leq(t2 - frozen, h2 - h0);
}

Test(clock_rt, timer_fires_after_its_deadline)
{
    Clock c;
    Log log = {0};
    Probe a;

    clock_init(&c, CLOCK_MODE_REALTIME, 0);
    probe_init(&a, &c, &log, 1);
    int64_t h0 = clock_host_ns();
    int64_t deadline = clock_ns(&c) + 10 * MS;
    timer_mod(&a.t, deadline);

    int64_t wait = clock_host_wait_ns(&c);
    cr_assert_geq(wait, 0);
    cr_assert_leq(wait, 10 * MS);

    while (log.n == 0 && clock_host_ns() - h0 < 2000 * MS) {
        int fired = clock_run_timers(&c);
        cr_assert(fired == 0 || a.fired_at >= deadline);
        sleep_ns(1 * MS);
    }
    cr_assert_eq(log.n, 1, "the timer never fired");
    cr_assert_geq(a.fired_at, deadline);
    cr_assert_geq(clock_host_ns() - h0, 10 * MS);
    cr_assert_eq(clock_host_wait_ns(&c), -1);
}

Test(clock_rt, paused_clock_fires_nothing)
{
    Clock c;
    Log log = {0};
    Probe a;

    clock_init(&c, CLOCK_MODE_REALTIME, 0);
    probe_init(&a, &c, &log, 1);
    clock_pause(&c);
    timer_mod(&a.t, clock_ns(&c) + 1 * MS);
    sleep_ns(20 * MS);
    cr_assert_eq(clock_run_timers(&c), 0);
    cr_assert_eq(clock_host_wait_ns(&c), 1 * MS);
    clock_resume(&c);
    sleep_ns(5 * MS);
    cr_assert_eq(clock_run_timers(&c), 1);
}

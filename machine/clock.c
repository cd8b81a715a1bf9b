/* The virtual clock and its timers (contract 4 of DESIGN.md: time is
 * virtual).  See machine/clock.h for the two modes.
 *
 * Armed timers sit on one singly linked list sorted by deadline; equal
 * deadlines keep the order in which they were armed, so that two runs of a
 * deterministic machine fire them in the same order.  clock_run_timers()
 * detaches the timers that are due into a second list (`due`) before it
 * fires any of them: a callback that re-arms a timer (itself or another) to
 * a deadline that has already passed therefore cannot make the loop spin;
 * that timer fires on the next call.
 *
 * This file holds the only read of a host clock in the emulator
 * (clock_host_ns); everything guest-visible goes through clock_ns().
 */
#include "machine/clock.h"

#include <time.h>

/* THE host-clock read of the emulator.  Nothing else calls clock_gettime():
 * guest-visible time is derived from it here, and host-side waits (the
 * event queue's timed wait) take their reference from it too. */
int64_t clock_host_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool clock_is_deterministic(const Clock *c)
{
    return c->s.mode == CLOCK_MODE_DETERMINISTIC;
}

/* The undisturbed time source: host ns, or icount scaled to ns. */
static int64_t clock_source_ns(const Clock *c)
{
    if (!clock_is_deterministic(c))
        return clock_host_ns();
    uint64_t icount = c->icount ? c->icount(c->icount_opaque) : 0;
    /* Unsigned arithmetic: wrapping is defined, and 2^63 ns is 292 years. */
    return (int64_t)(icount << c->s.icount_shift);
}

void clock_init(Clock *c, ClockMode mode, unsigned icount_shift)
{
    *c = (Clock){0};
    c->s.mode = mode;
    c->s.icount_shift = icount_shift & 63;
    c->running = true;
    /* Virtual time starts at 0 whatever the source reads now. */
    c->s.offset_ns = -clock_source_ns(c);
}

/* No re-basing here: deterministic time is exactly (icount << shift) +
 * offset, so that a snapshot's offset and icount restore the same time
 * whichever order the board registers and loads them in. */
void clock_set_icount_source(Clock *c, IcountSource fn, void *opaque)
{
    c->icount = fn;
    c->icount_opaque = opaque;
}

int64_t clock_ns(Clock *c)
{
    if (!clock_is_deterministic(c) && !c->running)
        return c->paused_at_ns;
    return (int64_t)((uint64_t)clock_source_ns(c) + (uint64_t)c->s.offset_ns);
}

void clock_pause(Clock *c)
{
    if (clock_is_deterministic(c) || !c->running)
        return;
    c->paused_at_ns = clock_ns(c);
    c->running = false;
}

void clock_resume(Clock *c)
{
    if (clock_is_deterministic(c) || c->running)
        return;
    c->s.offset_ns = c->paused_at_ns - clock_source_ns(c);
    c->running = true;
}

/* ---- timers ------------------------------------------------------------ */

void timer_init(Timer *t, Clock *c, TimerCallback cb, void *opaque)
{
    *t = (Timer){ .clock = c, .cb = cb, .opaque = opaque, .deadline_ns = -1 };
}

/* Remove `t` from `*list` if it is there; returns whether it was. */
static bool timer_list_remove(Timer **list, Timer *t)
{
    for (Timer **p = list; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            t->next = NULL;
            return true;
        }
    }
    return false;
}

/* Insert after every timer with deadline <= t's, so ties stay FIFO. */
static void timer_list_insert(Timer **list, Timer *t)
{
    Timer **p = list;

    while (*p && (*p)->deadline_ns <= t->deadline_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
}

void timer_del(Timer *t)
{
    if (t->deadline_ns < 0)
        return;
    if (!timer_list_remove(&t->clock->armed, t))
        timer_list_remove(&t->clock->due, t);
    t->deadline_ns = -1;
}

void timer_mod(Timer *t, int64_t deadline_ns)
{
    timer_del(t);
    /* -1 means "not armed"; any past deadline is as good as 0. */
    t->deadline_ns = deadline_ns < 0 ? 0 : deadline_ns;
    timer_list_insert(&t->clock->armed, t);
}

bool timer_pending(const Timer *t)
{
    return t->deadline_ns >= 0;
}

/* Move the timers due at `now` from `armed` to `due`, keeping their order. */
static void clock_detach_due(Clock *c, int64_t now)
{
    Timer **tail = &c->due;

    while (*tail)
        tail = &(*tail)->next;
    while (c->armed && c->armed->deadline_ns <= now) {
        Timer *t = c->armed;
        c->armed = t->next;
        t->next = NULL;
        *tail = t;
        tail = &t->next;
    }
}

int clock_run_timers(Clock *c)
{
    int fired = 0;

    clock_detach_due(c, clock_ns(c));
    while (c->due) {
        Timer *t = c->due;
        c->due = t->next;
        t->next = NULL;
        t->deadline_ns = -1;
        /* The callback may arm or delete any timer, this one included. */
        t->cb(t->opaque);
        fired++;
    }
    return fired;
}

int64_t clock_next_deadline(const Clock *c)
{
    /* `due` is only non-empty while clock_run_timers() fires callbacks;
     * a callback may meanwhile have armed an earlier one. */
    int64_t due = c->due ? c->due->deadline_ns : INT64_MAX;
    int64_t armed = c->armed ? c->armed->deadline_ns : INT64_MAX;
    return due < armed ? due : armed;
}

bool clock_skip_to_next_deadline(Clock *c)
{
    int64_t deadline = clock_next_deadline(c);

    if (deadline == INT64_MAX)
        return false;
    int64_t now = clock_ns(c);
    if (deadline > now)
        c->s.offset_ns += deadline - now;
    return true;
}

int64_t clock_host_wait_ns(Clock *c)
{
    int64_t deadline = clock_next_deadline(c);

    if (deadline == INT64_MAX)
        return -1;
    /* Deterministic time does not move while the host sleeps: the idle
     * CPU skips ahead instead, so there is nothing to wait for. */
    if (clock_is_deterministic(c))
        return 0;
    int64_t now = clock_ns(c);
    return deadline > now ? deadline - now : 0;
}

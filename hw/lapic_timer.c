/* The local APIC's timer (Intel SDM Vol. 3 11.5.4): one-shot and periodic
 * modes counting the bus clock through the divide configuration register,
 * and the TSC-deadline mode of 11.5.4.1 (IA32_TSC_DEADLINE, MSR 6E0H).
 *
 * The bus clock is 1 GHz of virtual time (see hw/lapic.h), so one count
 * lasts the divisor in ns.  Nothing ticks: the current count follows from
 * the count and time at which counting (re)started, and one Timer is armed
 * for the next expiry.  The rest of the APIC is hw/lapic.c.
 */
#include "hw/lapic.h"
#include "hw/lapic_internal.h"

#include "util/log.h"

/* Divide configuration bits 3, 1, 0: 000 = 2, 001 = 4 ... 110 = 128,
 * 111 = 1.  With the 1 GHz bus clock, one count lasts this many ns. */
static int64_t timer_div(const LapicState *s)
{
    unsigned v = (s->timer_dcr & 3) | ((s->timer_dcr >> 1) & 4);

    return v == 7 ? 1 : (int64_t)2 << v;
}

static int timer_mode(const LapicState *s)
{
    return (int)TIMER_MODE(s->lvt[LVT_TIMER]);
}

static bool periodic(const LapicState *s)
{
    return timer_mode(s) == TIMER_PERIODIC;
}

/* The count starts at timer_start_count at timer_start_ns and drops by one
 * every timer_div ns; reaching 0 is an expiry, and the periodic mode
 * reloads from the initial count in the same instant. */
static uint32_t timer_current(const LapicState *s, int64_t now)
{
    if (timer_mode(s) == TIMER_TSC_DEADLINE || s->timer_initial == 0)
        return 0;
    int64_t e = (now - s->timer_start_ns) / timer_div(s);
    if (e < (int64_t)s->timer_start_count)
        return s->timer_start_count - (uint32_t)e;
    if (!periodic(s))
        return 0;
    e -= s->timer_start_count;
    return s->timer_initial - (uint32_t)(e % s->timer_initial);
}

/* The first expiry after `now`, or -1. */
static int64_t timer_next_after(const LapicState *s, int64_t now)
{
    if (timer_mode(s) == TIMER_TSC_DEADLINE || s->timer_initial == 0)
        return -1;
    int64_t div = timer_div(s);
    int64_t first = s->timer_start_ns + (int64_t)s->timer_start_count * div;
    if (first > now)
        return first;
    if (!periodic(s))
        return -1;
    int64_t period = (int64_t)s->timer_initial * div;
    return first + ((now - first) / period + 1) * period;
}

/* Process an expiry that is due, however the caller got here (the Timer,
 * or a register access at or after the expiry but before the board fired
 * the Timer): one interrupt, however many periods were missed. */
void lapic_timer_sync(Lapic *a, int64_t now)
{
    LapicState *s = &a->s;

    if (timer_mode(s) == TIMER_TSC_DEADLINE) {
        if (s->tsc_deadline && s->tsc_deadline_ns <= now) {
            s->tsc_deadline = 0;
            lapic_lvt_fire(a, LVT_TIMER);
        }
    } else if (s->timer_next_ns >= 0 && s->timer_next_ns <= now) {
        s->timer_next_ns = timer_next_after(s, now);
        lapic_lvt_fire(a, LVT_TIMER);
    }
}

void lapic_timer_arm(Lapic *a)
{
    const LapicState *s = &a->s;
    int64_t when = -1;

    if (timer_mode(s) == TIMER_TSC_DEADLINE)
        when = s->tsc_deadline ? s->tsc_deadline_ns : -1;
    else
        when = s->timer_next_ns;
    if (when >= 0)
        timer_mod(&a->timer, when);
    else
        timer_del(&a->timer);
}

void lapic_timer_cb(void *opaque)
{
    Lapic *a = opaque;

    lapic_timer_sync(a, clock_ns(a->clock));
    lapic_timer_arm(a);
}

void lapic_timer_stop(LapicState *s)
{
    s->timer_initial = 0;
    s->timer_start_count = 0;
    s->timer_next_ns = -1;
    s->tsc_deadline = 0;
}

void lapic_timer_write_initial(Lapic *a, uint32_t v)
{
    LapicState *s = &a->s;
    int64_t now = clock_ns(a->clock);

    lapic_timer_sync(a, now);
    if (timer_mode(s) == TIMER_TSC_DEADLINE)
        return;     /* ignored in TSC-deadline mode (SDM 11.5.4.1) */
    s->timer_initial = v;
    s->timer_start_count = v;
    s->timer_start_ns = now;
    s->timer_next_ns = v ? now + (int64_t)v * timer_div(s) : -1;
    lapic_timer_arm(a);
}

/* A new divisor takes effect from now on, the count so far kept. */
void lapic_timer_write_dcr(Lapic *a, uint32_t v)
{
    LapicState *s = &a->s;
    int64_t now = clock_ns(a->clock);

    lapic_timer_sync(a, now);
    uint32_t cur = timer_current(s, now);
    s->timer_dcr = v & 0xB;
    if (s->timer_initial) {
        s->timer_start_count = cur;
        s->timer_start_ns = now;
        s->timer_next_ns = timer_next_after(s, now);
    }
    lapic_timer_arm(a);
}

void lapic_timer_write_lvt(Lapic *a, uint32_t v)
{
    LapicState *s = &a->s;
    int64_t now = clock_ns(a->clock);
    int old = timer_mode(s);

    lapic_timer_sync(a, now);
    s->lvt[LVT_TIMER] = v;
    int mode = timer_mode(s);
    if (mode == 3) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: reserved timer mode 3\n");
    }
    if (old != mode) {
        /* Entering or leaving TSC-deadline mode disarms the timer
         * (SDM 11.5.4.1); one-shot <-> periodic keeps counting. */
        if (old == TIMER_TSC_DEADLINE || mode == TIMER_TSC_DEADLINE)
            lapic_timer_stop(s);
        else
            s->timer_next_ns = timer_next_after(s, now);
    }
    lapic_timer_arm(a);
}

uint64_t lapic_read_tsc_deadline(Lapic *a)
{
    if (timer_mode(&a->s) != TIMER_TSC_DEADLINE)
        return 0;
    lapic_timer_sync(a, clock_ns(a->clock));
    lapic_timer_arm(a);
    return a->s.tsc_deadline;
}

void lapic_write_tsc_deadline(Lapic *a, uint64_t deadline, uint64_t tsc_now)
{
    LapicState *s = &a->s;
    int64_t now = clock_ns(a->clock);

    /* Writes are ignored outside TSC-deadline mode (SDM 11.5.4.1). */
    if (timer_mode(s) != TIMER_TSC_DEADLINE)
        return;
    lapic_timer_sync(a, now);     /* a deadline already due fires first */
    s->tsc_deadline = deadline;
    if (deadline <= tsc_now) {
        s->tsc_deadline_ns = now;       /* in the past: fire now */
    } else {
        uint64_t delta = deadline - tsc_now;
        s->tsc_deadline_ns = delta > (uint64_t)(INT64_MAX - now)
                                 ? INT64_MAX : now + (int64_t)delta;
    }
    if (deadline)
        lapic_timer_sync(a, now);
    lapic_timer_arm(a);
}

uint32_t lapic_timer_read_current(Lapic *a)
{
    int64_t now = clock_ns(a->clock);

    lapic_timer_sync(a, now);
    lapic_timer_arm(a);
    return timer_current(&a->s, now);
}

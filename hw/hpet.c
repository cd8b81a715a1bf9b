/* The High Precision Event Timer, written from the IA-PC HPET
 * specification 1.0a: 2.3 "Register Interface" (table 2 the register map;
 * 2.3.4 capabilities and ID, 2.3.5 general configuration with
 * ENABLE_CNF and LEG_RT_CNF, 2.3.6 general interrupt status, 2.3.7 main
 * counter, 2.3.8 timer configuration and capabilities, 2.3.9 comparators
 * with 2.3.9.2.1 non-periodic and 2.3.9.2.2 periodic modes) and 2.4
 * "Interrupt Mapping" (legacy replacement: timer 0 to IRQ0/IOAPIC pin 2,
 * timer 1 to IRQ8; otherwise Tn_INT_ROUTE_CNF among Tn_INT_ROUTE_CAP).
 *
 * The main counter runs at 10 MHz (one tick per 100 virtual ns) while
 * ENABLE_CNF is set: it is `counter` plus the ticks since `counter_ns`,
 * nothing counts per tick.  Each timer arms one Timer for the virtual time
 * at which the counter next equals its comparator.  A match is the counter
 * stepping onto the comparator: a comparator written equal to the counter
 * matches next after a full wrap.
 */
#include "hw/hpet.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/log.h"

/* GEN_CONF (2.3.5). */
#define ENABLE_CNF 1ull
#define LEG_RT_CNF 2ull

/* Tn_CONF_CAP (2.3.8). */
#define TN_INT_TYPE_CNF (1ull << 1)     /* 1: level */
#define TN_INT_ENB_CNF (1ull << 2)
#define TN_TYPE_CNF (1ull << 3)         /* 1: periodic */
#define TN_PER_INT_CAP (1ull << 4)
#define TN_SIZE_CAP (1ull << 5)         /* 64-bit comparator */
#define TN_VAL_SET_CNF (1ull << 6)
#define TN_32MODE_CNF (1ull << 8)
#define TN_ROUTE_SHIFT 9
#define TN_ROUTE_MASK (31ull << TN_ROUTE_SHIFT)

#define REV_ID 1ull

static uint64_t gcap(void)
{
    return REV_ID | (uint64_t)(HPET_TIMERS - 1) << 8 |
           1ull << 13 /* COUNT_SIZE_CAP: 64 bits */ |
           1ull << 15 /* LEG_RT_CAP */ | 0x8086ull << 16 |
           HPET_PERIOD_FS << 32;
}

/* Timer 0 is the periodic one, as on Intel chipsets; all three have 64-bit
 * comparators that can run in 32-bit mode. */
static uint64_t timer_caps(int n)
{
    return (n == 0 ? TN_PER_INT_CAP : 0) | TN_SIZE_CAP |
           (uint64_t)HPET_ROUTE_CAP << 32;
}

/* ---- the main counter -------------------------------------------------------- */

static bool enabled(const Hpet *h)
{
    return (h->s.config & ENABLE_CNF) != 0;
}

static uint64_t counter_at(const Hpet *h, int64_t now)
{
    if (!enabled(h) || now <= h->s.counter_ns)
        return h->s.counter;
    return h->s.counter + (uint64_t)(now - h->s.counter_ns) / HPET_NS_PER_TICK;
}

static bool legacy_active(const Hpet *h)
{
    return (h->s.config & (ENABLE_CNF | LEG_RT_CNF)) == (ENABLE_CNF | LEG_RT_CNF);
}

/* ---- timers ---------------------------------------------------------------- */

static bool is32(const HpetTimerState *t)
{
    return (t->config & TN_32MODE_CNF) != 0;
}

static uint64_t width_mask(const HpetTimerState *t)
{
    return is32(t) ? 0xFFFFFFFFull : ~0ull;
}

static bool is_periodic(const HpetTimerState *t, int n)
{
    return (t->config & TN_TYPE_CNF) && (timer_caps(n) & TN_PER_INT_CAP);
}

static const IrqLine *timer_line(const Hpet *h, int n)
{
    if (legacy_active(h) && n < 2)
        return &h->hooks.legacy[n];
    return &h->hooks.route[(h->s.t[n].config & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT];
}

/* A level-triggered timer holds its line while its status bit is set
 * (2.3.6); moving the route moves the asserted level with it. */
static void update_level(Hpet *h, int n)
{
    const HpetTimerState *t = &h->s.t[n];
    const IrqLine *want = NULL;

    if (enabled(h) && (t->config & TN_INT_ENB_CNF) &&
        (t->config & TN_INT_TYPE_CNF) && (h->s.isr >> n & 1))
        want = timer_line(h, n);
    if (want == h->asserted[n])
        return;
    if (h->asserted[n])
        irq_lower(h->asserted[n]);
    h->asserted[n] = want;
    if (want)
        irq_raise(want);
}

static void report_legacy(Hpet *h, bool force)
{
    int now = legacy_active(h);

    if (now == h->legacy_reported && !force)
        return;
    h->legacy_reported = now;
    if (h->hooks.legacy_changed)
        h->hooks.legacy_changed(h->hooks.opaque, now);
}

/* Arm timer n for the next time the counter steps onto its comparator. */
static void arm(Hpet *h, int n)
{
    const HpetTimerState *t = &h->s.t[n];
    int64_t now = clock_ns(h->clock);

    if (!enabled(h)) {
        timer_del(&h->timer[n]);
        return;
    }
    uint64_t m = width_mask(t);
    uint64_t delta = (t->cmp - counter_at(h, now)) & m;
    if (delta == 0) {
        if (!is32(t)) {             /* 2^64 ticks: never */
            timer_del(&h->timer[n]);
            return;
        }
        delta = 1ull << 32;
    }
    /* Ticks since counter_ns at which the match happens. */
    uint64_t base = now > h->s.counter_ns
                        ? (uint64_t)(now - h->s.counter_ns) / HPET_NS_PER_TICK : 0;
    uint64_t ticks = base + delta;
    if (ticks < delta ||
        ticks > (uint64_t)(INT64_MAX - h->s.counter_ns) / HPET_NS_PER_TICK) {
        timer_del(&h->timer[n]);
        return;
    }
    timer_mod(&h->timer[n], h->s.counter_ns + (int64_t)ticks * HPET_NS_PER_TICK);
}

static void arm_all(Hpet *h)
{
    for (int n = 0; n < HPET_TIMERS; n++)
        arm(h, n);
}

/* Timer n's comparator matched. */
static void fire(Hpet *h, int n)
{
    HpetTimerState *t = &h->s.t[n];
    int64_t now = clock_ns(h->clock);

    /* Status is kept for level-triggered timers even with the interrupt
     * disabled; for edge-triggered ones software ignores it (2.3.6). */
    if (t->config & TN_INT_TYPE_CNF) {
        h->s.isr |= 1ull << n;
        update_level(h, n);
    } else if (t->config & TN_INT_ENB_CNF) {
        irq_pulse(timer_line(h, n));
    }
    if (is_periodic(t, n) && (t->period & width_mask(t))) {
        /* The comparator grows by the period once per match; if we come
         * late, step over the matches missed (one interrupt for all). */
        uint64_t m = width_mask(t), period = t->period & m;
        uint64_t late = (counter_at(h, now) - t->cmp) & m;
        t->cmp = (t->cmp + (late / period + 1) * period) & m;
    }
}

static void timer_cb(void *opaque)
{
    HpetTimerRef *r = opaque;

    fire(r->hpet, r->n);
    arm(r->hpet, r->n);
}

/* ---- registers (table 2) --------------------------------------------------- */

static uint64_t reg_read(Hpet *h, uint64_t reg)
{
    if (reg >= 0x100 && reg < 0x100 + 0x20 * HPET_TIMERS) {
        int n = (int)((reg - 0x100) >> 5);
        const HpetTimerState *t = &h->s.t[n];
        switch (reg & 0x1F) {
        case 0x00: return t->config | timer_caps(n);
        case 0x08: return t->cmp & width_mask(t);
        default: return 0;             /* FSB route: not supported */
        }
    }
    switch (reg) {
    case 0x000: return gcap();
    case 0x010: return h->s.config;
    case 0x020: return h->s.isr;
    case 0x0F0: return counter_at(h, clock_ns(h->clock));
    default: return 0;
    }
}

static uint64_t merge(uint64_t old, uint64_t value, uint64_t mask)
{
    return (old & ~mask) | (value & mask);
}

static void write_gen_conf(Hpet *h, uint64_t v)
{
    int64_t now = clock_ns(h->clock);
    bool was = enabled(h);

    if (was && !(v & ENABLE_CNF))
        h->s.counter = counter_at(h, now);      /* halt, keep the value */
    if (!was && (v & ENABLE_CNF))
        h->s.counter_ns = now;
    h->s.config = v & (ENABLE_CNF | LEG_RT_CNF);
    report_legacy(h, false);
    for (int n = 0; n < HPET_TIMERS; n++)
        update_level(h, n);
    arm_all(h);
}

static void write_timer_conf(Hpet *h, int n, uint64_t v)
{
    HpetTimerState *t = &h->s.t[n];
    uint64_t writable = TN_INT_TYPE_CNF | TN_INT_ENB_CNF | TN_VAL_SET_CNF |
                        TN_32MODE_CNF | TN_ROUTE_MASK;

    if (timer_caps(n) & TN_PER_INT_CAP)
        writable |= TN_TYPE_CNF;
    uint64_t nc = merge(t->config, v, writable);
    unsigned route = (unsigned)((nc & TN_ROUTE_MASK) >> TN_ROUTE_SHIFT);
    if (!(HPET_ROUTE_CAP >> route & 1)) {
        /* An unsupported route reads back as the old one (2.3.8). */
        if ((nc ^ t->config) & TN_ROUTE_MASK)
            LOG_LIMITED(LOG_GUEST_ERRORS, "hpet: timer %d route %u not in "
                        "INT_ROUTE_CAP, ignored\n", n, route);
        nc = merge(nc, t->config, TN_ROUTE_MASK);
    }
    t->config = nc;
    if (is32(t)) {
        t->cmp &= 0xFFFFFFFFull;
        t->period &= 0xFFFFFFFFull;
    }
    update_level(h, n);
    arm(h, n);
}

/* In periodic mode a write sets the period (the last value written), and
 * the comparator itself only with Tn_VAL_SET_CNF, which then clears
 * (2.3.9.2.2). */
static void write_cmp(Hpet *h, int n, uint64_t v, uint64_t mask)
{
    HpetTimerState *t = &h->s.t[n];
    uint64_t m = width_mask(t);
    uint64_t cmp = merge(t->cmp, v, mask) & m;
    uint64_t period = merge(t->period, v, mask) & m;

    t->period = period;
    if (!is_periodic(t, n) || (t->config & TN_VAL_SET_CNF))
        t->cmp = cmp;
    t->config &= ~TN_VAL_SET_CNF;
    arm(h, n);
}

static void reg_write(Hpet *h, uint64_t reg, uint64_t v, uint64_t mask)
{
    if (reg >= 0x100 && reg < 0x100 + 0x20 * HPET_TIMERS) {
        int n = (int)((reg - 0x100) >> 5);
        switch (reg & 0x1F) {
        case 0x00:
            write_timer_conf(h, n, merge(h->s.t[n].config, v, mask));
            break;
        case 0x08:
            write_cmp(h, n, v, mask);
            break;
        default:
            break;      /* FSB route: not supported */
        }
        return;
    }
    switch (reg) {
    case 0x010:
        write_gen_conf(h, merge(h->s.config, v, mask));
        break;
    case 0x020:
        /* Write 1 to clear (2.3.6). */
        h->s.isr &= ~(v & mask & ((1ull << HPET_TIMERS) - 1));
        for (int n = 0; n < HPET_TIMERS; n++)
            update_level(h, n);
        break;
    case 0x0F0: {
        int64_t now = clock_ns(h->clock);
        if (enabled(h))
            LOG_LIMITED(LOG_GUEST_ERRORS, "hpet: main counter written "
                        "while running\n");
        h->s.counter = merge(counter_at(h, now), v, mask);
        h->s.counter_ns = now;
        arm_all(h);
        break;
    }
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "hpet: write to 0x%03llx ignored\n",
                    (unsigned long long)reg);
        break;
    }
}

/* 32- and 64-bit accesses (2.3.1); narrower ones are served the same way
 * on the 64-bit register that holds them. */
static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    unsigned shift = (unsigned)(offset & 7) * 8;
    uint64_t v = reg_read(opaque, offset & ~7ull) >> shift;

    return size == 8 ? v : v & ((1ull << size * 8) - 1);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    unsigned shift = (unsigned)(offset & 7) * 8;
    uint64_t mask = size == 8 ? ~0ull : ((1ull << size * 8) - 1) << shift;

    reg_write(opaque, offset & ~7ull, value << shift, mask);
}

static const MemOps hpet_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .max_access = 8,
};

/* ---- life cycle -------------------------------------------------------------- */

void hpet_reset(Hpet *h)
{
    h->s.config = 0;
    h->s.isr = 0;
    h->s.counter = 0;
    h->s.counter_ns = clock_ns(h->clock);
    for (int n = 0; n < HPET_TIMERS; n++) {
        h->s.t[n].config = 0;
        h->s.t[n].cmp = ~0ull;
        h->s.t[n].period = 0;
        update_level(h, n);
        timer_del(&h->timer[n]);
    }
    report_legacy(h, false);
}

int hpet_new(AddressSpace *mem, Clock *clock, const HpetHooks *hooks,
             Hpet **out)
{
    Hpet *h = calloc(1, sizeof(*h));
    int r;

    *out = NULL;
    if (!h)
        return -ENOMEM;
    h->mem = mem;
    h->clock = clock;
    if (hooks)
        h->hooks = *hooks;
    for (int n = 0; n < HPET_TIMERS; n++) {
        h->ref[n] = (HpetTimerRef){ h, n };
        timer_init(&h->timer[n], clock, timer_cb, &h->ref[n]);
    }
    r = as_map_io(mem, "hpet", HPET_DEFAULT_BASE, HPET_MMIO_SIZE, &hpet_ops, h);
    if (r < 0) {
        free(h);
        return r;
    }
    hpet_reset(h);
    *out = h;
    return 0;
}

void hpet_free(Hpet *h)
{
    if (!h)
        return;
    for (int n = 0; n < HPET_TIMERS; n++)
        timer_del(&h->timer[n]);
    as_unmap(h->mem, HPET_DEFAULT_BASE);
    free(h);
}

static int hpet_post_load(void *state, void *opaque)
{
    Hpet *h = opaque;

    if (!h || state != &h->s || (h->s.config & ~(ENABLE_CNF | LEG_RT_CNF)))
        return -EINVAL;
    for (int n = 0; n < HPET_TIMERS; n++) {
        unsigned route = (unsigned)((h->s.t[n].config & TN_ROUTE_MASK) >>
                                    TN_ROUTE_SHIFT);
        if (!(HPET_ROUTE_CAP >> route & 1) && route != 0)
            return -EINVAL;
    }
    /* The lines raised before the load are the board's to reset; raise
     * what the loaded state asserts and tell the board who owns IRQ0. */
    for (int n = 0; n < HPET_TIMERS; n++) {
        h->asserted[n] = NULL;
        update_level(h, n);
    }
    report_legacy(h, true);
    arm_all(h);
    return 0;
}

static const StateField hpet_timer_fields[] = {
    STATE_U64(HpetTimerState, config),
    STATE_U64(HpetTimerState, cmp),
    STATE_U64(HpetTimerState, period),
    STATE_END
};

static const StateDesc hpet_timer_desc = {
    .name = "hpet-timer", .version = 1, .size = sizeof(HpetTimerState),
    .fields = hpet_timer_fields,
};

static const StateField hpet_fields[] = {
    STATE_STRUCT_ARRAY(HpetState, t, hpet_timer_desc),
    STATE_U64(HpetState, config),
    STATE_U64(HpetState, isr),
    STATE_U64(HpetState, counter),
    STATE_I64(HpetState, counter_ns),
    STATE_END
};

const StateDesc hpet_state_desc = {
    .name = "hpet", .version = 1, .size = sizeof(HpetState),
    .fields = hpet_fields, .post_load = hpet_post_load,
};

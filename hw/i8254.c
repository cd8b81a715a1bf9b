/* Intel 8254 programmable interval timer, and the PC's port B (0x61).
 *
 * Written from the Intel 8254 datasheet (order no. 231164): "Control Word
 * Format", "Write Operations" (the LSB/MSB sequences), "Read Operations"
 * (simple read, counter latch command, read-back command and the status
 * byte), "Mode Definitions" (modes 0-5, including when the count is loaded
 * and how a new count written mid-count takes effect), "Operation Common
 * to All Modes" (gate sampling, NULL COUNT) and table 1 "Gate Pin
 * Operations Summary".  Port B is the IBM PC/AT technical reference's
 * "system control port B" (8255 port B on the PC/XT): bit 0 timer 2 gate,
 * bit 1 speaker data, bit 4 refresh detect, bit 5 timer 2 output.
 *
 * Time model.  The input clock runs at 1.193182 MHz from virtual time 0;
 * tick T is the number of its falling edges in (0, t].  Per the datasheet a
 * count written at edge T is loaded into the counting element (CE) on edge
 * T + 1 and decrements from T + 2, so mode 0's OUT rises N + 1 clocks after
 * the count is written.  Between guest accesses and gate changes the
 * counter is a pure function of T (ch_eval); every such event first brings
 * the channel up to date at its tick and then changes the parameters.
 */
#include "hw/i8254.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/log.h"

#define TICK_NONE UINT64_MAX
#define NS_PER_S 1000000000ull
/* On the PC/AT, channel 1 requests a DRAM refresh every 18 clocks
 * (15.085 us) and port B bit 4 toggles on each request; delay loops count
 * those toggles.  Like later chipsets, we derive the bit from time alone,
 * whatever channel 1 is programmed to. */
#define REFRESH_TICKS 18

/* ---- time ---------------------------------------------------------------- */

static uint64_t tick_of_ns(int64_t ns)
{
    if (ns <= 0)
        return 0;
    uint64_t u = (uint64_t)ns;
    /* Split so that the product cannot overflow for any clock_ns(). */
    return u / NS_PER_S * I8254_HZ + u % NS_PER_S * I8254_HZ / NS_PER_S;
}

/* The first virtual nanosecond at which tick_of_ns() reaches `t`. */
static int64_t ns_of_tick(uint64_t t)
{
    uint64_t r = t % I8254_HZ;
    return (int64_t)(t / I8254_HZ * NS_PER_S +
                     (r * NS_PER_S + I8254_HZ - 1) / I8254_HZ);
}

static uint64_t pit_now(I8254 *p)
{
    return tick_of_ns(clock_ns(p->clock));
}

/* ---- counter arithmetic --------------------------------------------------- */

static int ch_mode(const I8254ChannelState *c)
{
    return c->mode > 5 ? c->mode - 4 : c->mode;   /* 6, 7 = 2, 3 (M2 is X) */
}

static uint32_t ch_modulus(const I8254ChannelState *c)
{
    return c->bcd ? 10000 : 65536;
}

static uint32_t bcd_decode(uint16_t v)
{
    return (uint32_t)(v >> 12) * 1000 + ((v >> 8) & 15) * 100 +
           ((v >> 4) & 15) * 10 + (v & 15);
}

static bool bcd_valid(uint16_t v)
{
    for (int shift = 0; shift < 16; shift += 4)
        if (((v >> shift) & 15) > 9)
            return false;
    return true;
}

static uint16_t ch_encode(const I8254ChannelState *c, uint32_t ce)
{
    ce %= ch_modulus(c);
    if (!c->bcd)
        return (uint16_t)ce;
    return (uint16_t)((ce / 1000) << 12 | (ce / 100 % 10) << 8 |
                      (ce / 10 % 10) << 4 | ce % 10);
}

/* The count register as a count: 0 means the full 2^16 (or 10^4). */
static uint32_t ch_cr_count(const I8254ChannelState *c)
{
    uint32_t v = c->bcd ? bcd_decode(c->cr) % 10000 : c->cr;
    return v ? v : ch_modulus(c);
}

/* A stretch of counting with fixed parameters: CE loaded with `n` on edge
 * `base`, OUT at `phase` there (mode 3). */
typedef struct Seg {
    uint64_t base;
    uint32_t n;
    int phase;
} Seg;

/* Modes 2 and 3 take a count written mid-count at the end of the current
 * period (half-period in mode 3): from reload_tick on, `cr` is in effect. */
static Seg ch_seg(const I8254ChannelState *c, uint64_t t)
{
    if (t >= c->reload_tick)
        return (Seg){ c->reload_tick, ch_cr_count(c), c->reload_phase };
    return (Seg){ c->load_tick, c->n, c->phase };
}

/* Mode 3: OUT is high for ceil(n/2) clocks and low for floor(n/2).  CE is
 * loaded with n rounded down to even and counts down by two; with an odd
 * count OUT changes one clock after CE expires in the high half, so CE
 * reads 0 for that clock ("Mode 3", odd counts). */
static uint32_t m3_first(uint32_t n, int phase)
{
    return phase ? (n + 1) / 2 : n / 2;
}

static void m3_eval(Seg s, uint64_t e, uint32_t *ce, int *out)
{
    uint64_t r = e % s.n, k;
    uint32_t first = m3_first(s.n, s.phase);

    if (r < first) {
        *out = s.phase;
        k = r;
    } else {
        *out = !s.phase;
        k = r - first;
    }
    *ce = (s.n & ~1u) - 2 * (uint32_t)k;
}

/* The edge after `t` that ends the current half-period. */
static uint64_t m3_boundary(Seg s, uint64_t t)
{
    uint64_t r = (t - s.base) % s.n;
    uint32_t first = m3_first(s.n, s.phase);
    return r < first ? t + (first - r) : t + (s.n - r);
}

/* CE and OUT at edge `t` (a pure function of the state). */
static void ch_eval(const I8254ChannelState *c, uint64_t t, uint32_t *ce,
                    int *out)
{
    Seg s = ch_seg(c, t);

    if (!c->running || t < s.base) {
        *ce = c->ce_hold;
        *out = c->out_hold;
        return;
    }
    uint32_t m = ch_modulus(c);
    uint64_t e = t - s.base;
    int mode = ch_mode(c);

    if (mode == 0 || mode == 4) {
        /* A low gate stops the decrements from pause_tick on. */
        uint64_t stop = t < c->pause_tick ? t : c->pause_tick;
        e = stop > s.base ? stop - s.base : 0;
    }
    switch (mode) {
    case 0: case 1: case 4: case 5:
        /* After terminal count the CE wraps and keeps counting. */
        *ce = (uint32_t)((s.n + m - e % m) % m);
        *out = (mode <= 1) ? e >= s.n : e != s.n;
        break;
    case 2:
        /* n, n-1, ..., 1 (OUT low for that clock), reload. */
        *ce = s.n - (uint32_t)(e % s.n);
        *out = *ce != 1;
        break;
    default:
        m3_eval(s, e, ce, out);
        break;
    }
    *ce %= m;
}

static int ch_out(const I8254ChannelState *c, uint64_t t)
{
    uint32_t ce;
    int out;
    ch_eval(c, t, &ce, &out);
    return out;
}

static uint32_t ch_ce(const I8254ChannelState *c, uint64_t t)
{
    uint32_t ce;
    int out;
    ch_eval(c, t, &ce, &out);
    return ce;
}

/* The first edge after `t` at which OUT may change within segment `s`. */
static uint64_t seg_next(const I8254ChannelState *c, Seg s, uint64_t t)
{
    if (t < s.base) {
        /* The load edge itself counts only if it moves OUT (mode 1). */
        if (ch_out(c, s.base) != c->out_hold)
            return s.base;
        t = s.base;
    }
    uint64_t e = t - s.base;
    int mode = ch_mode(c);
    bool paused = c->pause_tick != TICK_NONE && (mode == 0 || mode == 4);

    switch (mode) {
    case 0: case 1:
        return !paused && e < s.n ? s.base + s.n : TICK_NONE;
    case 4: case 5:
        if (paused || e > s.n)
            return TICK_NONE;
        return e < s.n ? s.base + s.n : s.base + s.n + 1;
    case 2:
        /* A count of 1 is illegal in modes 2 and 3 (logged when written);
         * OUT then never changes, and we arm no timer for it. */
        if (s.n == 1)
            return TICK_NONE;
        return e % s.n < s.n - 1 ? t + (s.n - 1 - e % s.n) : t + 1;
    default:
        return s.n == 1 ? TICK_NONE : m3_boundary(s, t);
    }
}

static uint64_t ch_next(const I8254ChannelState *c, uint64_t t)
{
    if (!c->running)
        return TICK_NONE;
    uint64_t next = seg_next(c, ch_seg(c, t), t);
    return t < c->reload_tick && c->reload_tick < next ? c->reload_tick : next;
}

/* Fold a reload that has happened by `t` into the current segment, so
 * that a new one can be scheduled. */
static void ch_normalize(I8254ChannelState *c, uint64_t t)
{
    if (c->running && t >= c->reload_tick) {
        c->n = ch_cr_count(c);
        c->load_tick = c->reload_tick;
        c->phase = c->reload_phase;
        c->reload_tick = TICK_NONE;
    }
}

/* ---- channel 0's IRQ line -------------------------------------------------- */

/* Make the line show channel 0's OUT as of edge `t`.  If OUT rose since
 * the line was last brought up to date (the timer ran late, or a pulse
 * shorter than the lateness came and went), the line still gets one
 * rising edge: the PIC latches IRQ0 on edges, and periods missed while
 * the line was not looked at coalesce into one, as on a PIC whose IRR bit
 * is already set. */
static void pit_line_sync(I8254 *p, uint64_t t)
{
    const I8254ChannelState *c = &p->s.ch[0];
    int prev = p->s.line_level;
    uint64_t at = p->s.line_tick;
    bool rose = false;

    /* A falling and a rising edge, plus a load and a reload edge at which
     * OUT may not change: six steps find the first rise if there is one. */
    for (int i = 0; i < 6 && !rose && at < t; i++) {
        at = ch_next(c, at);
        if (at > t)
            break;
        int out = ch_out(c, at);
        rose = out && !prev;
        prev = out;
    }
    if (rose) {
        if (p->s.line_level)
            irq_lower(&p->irq);
        irq_raise(&p->irq);
        p->s.line_level = 1;
    }
    int out = ch_out(c, t);
    if (out != p->s.line_level) {
        p->s.line_level = (uint8_t)out;
        irq_set(&p->irq, out);
    }
    p->s.line_tick = t;
}

static void pit_arm(I8254 *p)
{
    /* Nothing to do for OUT changes nobody listens to. */
    uint64_t next = p->irq.set ? ch_next(&p->s.ch[0], p->s.line_tick)
                               : TICK_NONE;
    if (next == TICK_NONE)
        timer_del(&p->timer);
    else
        timer_mod(&p->timer, ns_of_tick(next));
}

static void pit_timer_cb(void *opaque)
{
    I8254 *p = opaque;
    uint64_t t = pit_now(p);

    ch_normalize(&p->s.ch[0], t);
    pit_line_sync(p, t);
    pit_arm(p);
}

/* Bracket every change to a channel: bring it (and IRQ0) up to date at the
 * current edge first, re-derive IRQ0 and its timer after. */
static uint64_t pit_begin(I8254 *p, int ch)
{
    uint64_t t = pit_now(p);

    ch_normalize(&p->s.ch[ch], t);
    if (ch == 0)
        pit_line_sync(p, t);
    return t;
}

static void pit_end(I8254 *p, int ch, uint64_t t)
{
    if (ch == 0) {
        pit_line_sync(p, t);
        pit_arm(p);
    }
}

/* ---- events ---------------------------------------------------------------- */

/* Stop counting, freezing CE and OUT as they are at `t`. */
static void ch_freeze(I8254ChannelState *c, uint64_t t, int out)
{
    c->ce_hold = ch_ce(c, t);
    c->out_hold = (uint8_t)out;
    c->running = 0;
    c->reload_tick = TICK_NONE;
    c->pause_tick = TICK_NONE;
}

/* Load `cr` on the next clock edge and count from there. */
static void ch_start(I8254ChannelState *c, uint64_t t, int out_before)
{
    c->ce_hold = ch_ce(c, t);
    c->out_hold = (uint8_t)out_before;
    c->running = 1;
    c->n = ch_cr_count(c);
    c->load_tick = t + 1;
    c->phase = 1;
    c->reload_tick = TICK_NONE;
    c->pause_tick = TICK_NONE;
    c->null_until = t + 1;
}

static void ch_control(I8254ChannelState *c, uint64_t t, uint8_t v)
{
    int mode = (v >> 1) & 7;

    /* A control word resets the counter's logic: OUT to its initial
     * state (low in mode 0, high otherwise), the byte sequences to the
     * LSB, latches dropped, no count until one is written. */
    ch_freeze(c, t, mode == 0 ? 0 : 1);
    c->mode = (uint8_t)mode;
    c->rw = (v >> 4) & 3;
    c->bcd = v & 1;
    c->wflip = c->rflip = 0;
    c->count_latched = c->status_latched = 0;
    c->have_count = 0;
    c->null_until = TICK_NONE;
}

/* A whole count has been written to `cr` at edge `t`. */
static void ch_count_written(I8254ChannelState *c, int idx, uint64_t t)
{
    int mode = ch_mode(c);

    if (c->bcd && !bcd_valid(c->cr))
        LOG_LIMITED(LOG_GUEST_ERRORS, "i8254: channel %d: count %#06x is "
                    "not BCD\n", idx, c->cr);
    if ((mode == 2 || mode == 3) && ch_cr_count(c) == 1)
        LOG_LIMITED(LOG_GUEST_ERRORS, "i8254: channel %d: count 1 is "
                    "illegal in mode %d\n", idx, mode);
    c->have_count = 1;
    switch (mode) {
    case 0:
    case 4:
        /* Loaded on the next clock whatever the gate; a low gate holds
         * the decrements (pause_tick).  Mode 0 drops OUT at once. */
        ch_start(c, t, mode == 0 ? 0 : ch_out(c, t));
        if (!c->gate)
            c->pause_tick = t;
        break;
    case 1:
    case 5:
        /* The count waits for a trigger (a rising gate). */
        c->null_until = TICK_NONE;
        break;
    default:
        if (!c->gate) {
            /* Loaded on the next clock, but held until the gate rises
             * (which reloads it anyway). */
            c->ce_hold = ch_cr_count(c) % ch_modulus(c);
            c->out_hold = 1;
            c->null_until = t + 1;
        } else if (!c->running) {
            ch_start(c, t, 1);          /* first count, or after a gate */
        } else if (t < c->load_tick) {
            c->n = ch_cr_count(c);          /* not loaded yet: replace */
            c->null_until = c->load_tick;
        } else if (c->reload_tick == TICK_NONE) {
            /* Mid-count: the current period (mode 2) or half-period
             * (mode 3) runs out first. */
            Seg s = ch_seg(c, t);
            uint64_t end = mode == 2
                ? s.base + ((t - s.base) / s.n + 1) * s.n
                : m3_boundary(s, t);
            c->reload_phase = mode == 2 ? 1 : (uint8_t)ch_out(c, end);
            c->reload_tick = end;
            c->null_until = end;
        }
        break;
    }
}

static void ch_set_gate(I8254ChannelState *c, uint64_t t, int level)
{
    int mode = ch_mode(c);

    if (level == c->gate)
        return;
    c->gate = (uint8_t)level;
    switch (mode) {
    case 0:
    case 4:
        if (!c->running)
            break;
        if (!level) {
            c->pause_tick = t;
        } else if (c->pause_tick != TICK_NONE) {
            /* The edges while the gate was low did not count. */
            uint64_t from = c->pause_tick > c->load_tick ? c->pause_tick
                                                         : c->load_tick;
            if (t > from)
                c->load_tick += t - from;
            c->pause_tick = TICK_NONE;
        }
        break;
    case 1:
    case 5:
        if (level && c->have_count)
            ch_start(c, t, ch_out(c, t));   /* (re)trigger */
        break;
    default:
        if (!level) {
            /* OUT goes high at once and counting stops; a reload that
             * was due waits for the next trigger, which loads cr. */
            ch_freeze(c, t, 1);
            if (c->null_until > t)
                c->null_until = TICK_NONE;
        } else if (c->have_count) {
            ch_start(c, t, 1);
        }
        break;
    }
}

static void ch_latch_count(I8254ChannelState *c, uint64_t t)
{
    /* A second latch before the first is read is ignored. */
    if (!c->count_latched) {
        c->ol = ch_encode(c, ch_ce(c, t));
        c->count_latched = 1;
    }
}

static void ch_latch_status(I8254ChannelState *c, uint64_t t)
{
    if (!c->status_latched) {
        c->status = (uint8_t)(ch_out(c, t) << 7 | (t < c->null_until) << 6 |
                              c->rw << 4 | c->mode << 1 | c->bcd);
        c->status_latched = 1;
    }
}

/* ---- ports ------------------------------------------------------------------ */

static uint8_t pit_read_counter(I8254 *p, int idx)
{
    I8254ChannelState *c = &p->s.ch[idx];
    uint64_t t = pit_begin(p, idx);
    uint16_t v;
    uint8_t byte;

    if (c->status_latched) {
        /* Read-back with both latched: the status comes first. */
        c->status_latched = 0;
        return c->status;
    }
    v = c->count_latched ? c->ol : ch_encode(c, ch_ce(c, t));
    switch (c->rw) {
    case 1:
        byte = (uint8_t)v;
        c->count_latched = 0;
        break;
    case 2:
        byte = (uint8_t)(v >> 8);
        c->count_latched = 0;
        break;
    default:
        /* The read flip-flop is separate from the write one, so reads
         * and writes may interleave (datasheet, "Read Operations"). */
        byte = c->rflip ? (uint8_t)(v >> 8) : (uint8_t)v;
        if (c->rflip)
            c->count_latched = 0;
        c->rflip ^= 1;
        break;
    }
    return byte;
}

static void pit_write_counter(I8254 *p, int idx, uint8_t v)
{
    I8254ChannelState *c = &p->s.ch[idx];
    uint64_t t = pit_begin(p, idx);

    switch (c->rw) {
    case 1:
        c->cr = v;
        ch_count_written(c, idx, t);
        break;
    case 2:
        c->cr = (uint16_t)(v << 8);
        ch_count_written(c, idx, t);
        break;
    default:
        if (!c->wflip) {
            c->wlsb = v;
            c->wflip = 1;
            /* Mode 0: the first byte stops the count and drops OUT. */
            if (ch_mode(c) == 0)
                ch_freeze(c, t, 0);
        } else {
            c->cr = (uint16_t)(c->wlsb | v << 8);
            c->wflip = 0;
            ch_count_written(c, idx, t);
        }
        break;
    }
    pit_end(p, idx, t);
}

static void pit_write_control(I8254 *p, uint8_t v)
{
    int sc = v >> 6;

    if (sc == 3) {
        /* Read-back: D5 = 0 latches counts, D4 = 0 latches status, for
         * the counters selected by D3-D1. */
        if (v & 1)
            LOG_LIMITED(LOG_GUEST_ERRORS, "i8254: read-back %#04x has D0 "
                        "set\n", v);
        for (int i = 0; i < 3; i++) {
            if (!(v & (2 << i)))
                continue;
            uint64_t t = pit_begin(p, i);
            if (!(v & 0x20))
                ch_latch_count(&p->s.ch[i], t);
            if (!(v & 0x10))
                ch_latch_status(&p->s.ch[i], t);
            pit_end(p, i, t);
        }
        return;
    }
    uint64_t t = pit_begin(p, sc);
    if (((v >> 4) & 3) == 0)
        ch_latch_count(&p->s.ch[sc], t);
    else
        ch_control(&p->s.ch[sc], t, v);
    pit_end(p, sc, t);
}

static uint64_t pit_port_read(void *opaque, uint64_t offset, unsigned size)
{
    I8254 *p = opaque;

    if (offset < 3)
        return pit_read_counter(p, (int)offset);
    LOG_LIMITED(LOG_GUEST_ERRORS, "i8254: read of the write-only control "
                "register\n");
    return 0xFF;
}

static void pit_port_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    I8254 *p = opaque;

    if (offset < 3)
        pit_write_counter(p, (int)offset, (uint8_t)value);
    else
        pit_write_control(p, (uint8_t)value);
}

static const MemOps pit_ops = {
    .read = pit_port_read,
    .write = pit_port_write,
    .max_access = 1,
};

void i8254_set_gate(I8254 *p, int ch, int level)
{
    if (ch < 0 || ch > 2)
        return;
    uint64_t t = pit_begin(p, ch);
    ch_set_gate(&p->s.ch[ch], t, level != 0);
    pit_end(p, ch, t);
}

static uint64_t portb_read(void *opaque, uint64_t offset, unsigned size)
{
    I8254 *p = opaque;
    uint64_t t = pit_now(p);

    /* Bits 6-7 (IOCHK, parity error) stay 0: nothing raises them. */
    return (p->s.port61 & 0x0F) | ((t / REFRESH_TICKS) & 1) << 4 |
           (uint64_t)ch_out(&p->s.ch[2], t) << 5;
}

static void portb_write(void *opaque, uint64_t offset, uint64_t value,
                        unsigned size)
{
    I8254 *p = opaque;

    /* Bits 4-7 are status; software writes back what it read. */
    p->s.port61 = value & 0x0F;
    i8254_set_gate(p, 2, value & 1);
}

static const MemOps portb_ops = {
    .read = portb_read,
    .write = portb_write,
    .max_access = 1,
};

/* ---- life cycle and state --------------------------------------------------- */

void i8254_reset(I8254 *p)
{
    /* The datasheet leaves an unprogrammed counter undefined; we pick
     * mode 0 with no count, OUT low, so IRQ0 stays quiet until the BIOS
     * programs channel 0.  Gates 0 and 1 are tied high on the PC. */
    for (int i = 0; i < 3; i++) {
        p->s.ch[i] = (I8254ChannelState){
            .reload_tick = TICK_NONE, .pause_tick = TICK_NONE,
            .null_until = TICK_NONE, .n = 65536, .rw = 3, .gate = i != 2,
        };
    }
    p->s.port61 = 0;
    p->s.line_level = 0;
    p->s.line_tick = pit_now(p);
    irq_lower(&p->irq);
    timer_del(&p->timer);
}

I8254 *i8254_new(AddressSpace *io, Clock *clock, IrqLine irq0)
{
    I8254 *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->io = io;
    p->clock = clock;
    p->irq = irq0;
    timer_init(&p->timer, clock, pit_timer_cb, p);
    if (as_map_io(io, "pit", 0x40, 4, &pit_ops, p) < 0)
        goto fail;
    if (as_map_io(io, "port-b", 0x61, 1, &portb_ops, p) < 0) {
        as_unmap(io, 0x40);
        goto fail;
    }
    i8254_reset(p);
    return p;
fail:
    free(p);
    return NULL;
}

void i8254_free(I8254 *p)
{
    if (!p)
        return;
    timer_del(&p->timer);
    as_unmap(p->io, 0x40);
    as_unmap(p->io, 0x61);
    free(p);
}

static int i8254_post_load(void *state, void *opaque)
{
    I8254 *p = opaque;

    if (!p || state != &p->s || p->s.line_level > 1)
        return -EINVAL;
    for (int i = 0; i < 3; i++) {
        const I8254ChannelState *c = &p->s.ch[i];
        /* Reject what would divide by zero or index out of range. */
        if (c->mode > 7 || c->rw < 1 || c->rw > 3 || c->bcd > 1 ||
            c->n < 1 || c->n > 65536 || c->out_hold > 1 || c->phase > 1 ||
            c->reload_phase > 1 || c->gate > 1)
            return -EINVAL;
    }
    irq_set(&p->irq, p->s.line_level);
    pit_arm(p);
    return 0;
}

static const StateField i8254_channel_fields[] = {
    STATE_U64(I8254ChannelState, load_tick),
    STATE_U64(I8254ChannelState, reload_tick),
    STATE_U64(I8254ChannelState, pause_tick),
    STATE_U64(I8254ChannelState, null_until),
    STATE_U32(I8254ChannelState, n),
    STATE_U32(I8254ChannelState, ce_hold),
    STATE_U16(I8254ChannelState, cr),
    STATE_U16(I8254ChannelState, ol),
    STATE_U8(I8254ChannelState, mode),
    STATE_U8(I8254ChannelState, rw),
    STATE_U8(I8254ChannelState, bcd),
    STATE_U8(I8254ChannelState, gate),
    STATE_U8(I8254ChannelState, wflip),
    STATE_U8(I8254ChannelState, rflip),
    STATE_U8(I8254ChannelState, wlsb),
    STATE_U8(I8254ChannelState, count_latched),
    STATE_U8(I8254ChannelState, status_latched),
    STATE_U8(I8254ChannelState, status),
    STATE_U8(I8254ChannelState, have_count),
    STATE_U8(I8254ChannelState, running),
    STATE_U8(I8254ChannelState, out_hold),
    STATE_U8(I8254ChannelState, phase),
    STATE_U8(I8254ChannelState, reload_phase),
    STATE_END
};

static const StateDesc i8254_channel_desc = {
    .name = "i8254-channel", .version = 1, .size = sizeof(I8254ChannelState),
    .fields = i8254_channel_fields,
};

static const StateField i8254_fields[] = {
    STATE_STRUCT_ARRAY(I8254State, ch, i8254_channel_desc),
    STATE_U64(I8254State, line_tick),
    STATE_U8(I8254State, line_level),
    STATE_U8(I8254State, port61),
    STATE_END
};

const StateDesc i8254_state_desc = {
    .name = "i8254", .version = 1, .size = sizeof(I8254State),
    .fields = i8254_fields, .post_load = i8254_post_load,
};

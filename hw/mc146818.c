/* Motorola MC146818A real-time clock plus CMOS RAM, as wired in the PC.
 *
 * Written from the Motorola MC146818A datasheet: "Address Map" (figure 3),
 * "Time, Calendar and Alarm Locations" (table 3, BCD and binary formats,
 * 12/24-hour, alarm "don't care" codes 11XXXXXX), "Register A" (UIP,
 * DV2-DV0 divider control, RS3-RS0 and table 5 periodic rates), "Register
 * B" (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE), "Register C" (IRQF, PF,
 * AF, UF, cleared by reading), "Register D" (VRT), "Update Cycle" (figure
 * 13: UIP rises 244 us before the update), "Interrupts", and "RESET".  The
 * PC side follows the IBM PC/AT technical reference: port 0x70 is the
 * index with bit 7 as the NMI mask, 0x71 the data, and byte 0x32 the
 * century.
 *
 * Time model.  The divider chain counts 32.768 kHz ticks from virtual time
 * div_ns.  The update cycle is taken as instantaneous at its start: the
 * new time, UF and AF appear on the tick it begins, and UIP reads 1 for the
 * 8 ticks (244.1 us) before it, which is what software relies on (a 0 means
 * the registers are stable for at least 244 us).  Flags are computed
 * lazily from the ticks elapsed since the last access; a timer runs only
 * for a flag whose interrupt is enabled and not already pending.
 */
#include "hw/mc146818.h"

#include <errno.h>
#include <stdlib.h>

#include "util/log.h"

enum {
    REG_SEC = 0x00, REG_SEC_ALARM = 0x01, REG_MIN = 0x02,
    REG_MIN_ALARM = 0x03, REG_HOUR = 0x04, REG_HOUR_ALARM = 0x05,
    REG_DOW = 0x06, REG_DAY = 0x07, REG_MONTH = 0x08, REG_YEAR = 0x09,
    REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C, REG_D = 0x0D,
};

#define A_UIP   0x80
#define A_DV    0x70
#define B_SET   0x80
#define B_PIE   0x40
#define B_AIE   0x20
#define B_UIE   0x10
#define B_SQWE  0x08
#define B_DM    0x04    /* 1: binary, 0: BCD */
#define B_24H   0x02
#define B_DSE   0x01
#define C_IRQF  0x80
#define C_PF    0x40
#define C_AF    0x20
#define C_UF    0x10
#define D_VRT   0x80

#define DIV_HZ        32768u
#define UPDATE_FIRST  16384u    /* first update half a second after reset */
#define UIP_TICKS     8u        /* 244.140625 us */
#define NONE          UINT64_MAX
#define NS_PER_S      1000000000ull
#define SECS_PER_DAY  86400

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) -------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y): counted with floor division so years <= 0 work. */
static int64_t leaps_before(int64_t y)
{
    return floor_div(y - 1, 4) - floor_div(y - 1, 100) + floor_div(y - 1, 400);
}

static int64_t days_before_year(int64_t y)
{
    return 365 * (y - 1970) + leaps_before(y) - leaps_before(1970);
}

static const int16_t days_before_month[13] = {
    0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
};

static int64_t days_from_date(int64_t y, int mon, int day)
{
    return days_before_year(y) + days_before_month[mon] +
           (mon > 2 && is_leap(y)) + day - 1;
}

static void date_from_days(int64_t days, int64_t *y, int *mon, int *day)
{
    /* Guess by the mean year length, then step to the right year. */
    int64_t year = 1970 + floor_div(days * 400, 146097);
    while (days_before_year(year) > days)
        year--;
    while (days_before_year(year + 1) <= days)
        year++;
    int doy = (int)(days - days_before_year(year));
    int m = 12;
    while (days_before_month[m] + (m > 2 && is_leap(year)) > doy)
        m--;
    *y = year;
    *mon = m;
    *day = doy - days_before_month[m] - (m > 2 && is_leap(year)) + 1;
}

/* ---- register formats ------------------------------------------------------- */

static bool rtc_binary(const MC146818 *r)
{
    return r->s.cmos[REG_B] & B_DM;
}

static uint8_t rtc_enc(const MC146818 *r, int v)
{
    return rtc_binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_dec(const MC146818 *r, uint8_t b)
{
    return rtc_binary(r) ? b : (b >> 4) * 10 + (b & 15);
}

static uint8_t rtc_enc_hour(const MC146818 *r, int h)
{
    if (r->s.cmos[REG_B] & B_24H)
        return rtc_enc(r, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(rtc_enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static int rtc_dec_hour(const MC146818 *r, uint8_t b)
{
    if (r->s.cmos[REG_B] & B_24H)
        return rtc_dec(r, b);
    int h = rtc_dec(r, b & 0x7F) % 12;
    return (b & 0x80) ? h + 12 : h;
}

static int clamp_field(const char *what, int v, int lo, int hi)
{
    if (v >= lo && v <= hi)
        return v;
    LOG_LIMITED(LOG_GUEST_ERRORS, "mc146818: %s %d out of range, using %d\n",
                what, v, v < lo ? lo : hi);
    return v < lo ? lo : hi;
}

/* The time the registers hold, as Unix seconds. */
static int64_t rtc_regs_to_secs(const MC146818 *r)
{
    const uint8_t *c = r->s.cmos;
    int sec = clamp_field("second", rtc_dec(r, c[REG_SEC]), 0, 59);
    int min = clamp_field("minute", rtc_dec(r, c[REG_MIN]), 0, 59);
    int hour = clamp_field("hour", rtc_dec_hour(r, c[REG_HOUR]), 0, 23);
    int day = clamp_field("day", rtc_dec(r, c[REG_DAY]), 1, 31);
    int mon = clamp_field("month", rtc_dec(r, c[REG_MONTH]), 1, 12);
    int year = clamp_field("year", rtc_dec(r, c[REG_YEAR]), 0, 99) +
               100 * rtc_dec(r, c[MC146818_CENTURY]);
    return days_from_date(year, mon, day) * SECS_PER_DAY +
           hour * 3600 + min * 60 + sec;
}

/* ---- the divider chain ------------------------------------------------------- */

static bool rtc_div_running(const MC146818 *r)
{
    /* DV = 11x holds the chain in reset. */
    return (r->s.cmos[REG_A] & 0x60) != 0x60;
}

static bool rtc_updating(const MC146818 *r)
{
    return rtc_div_running(r) && !(r->s.cmos[REG_B] & B_SET);
}

static uint64_t rtc_q(const MC146818 *r, int64_t ns)
{
    if (!rtc_div_running(r))
        return r->s.sync_q;
    uint64_t d = ns > r->s.div_ns ? (uint64_t)(ns - r->s.div_ns) : 0;
    return d / NS_PER_S * DIV_HZ + d % NS_PER_S * DIV_HZ / NS_PER_S;
}

/* The first virtual nanosecond at which rtc_q() reaches `q`. */
static int64_t rtc_ns_of_q(const MC146818 *r, uint64_t q)
{
    return r->s.div_ns + (int64_t)(q / DIV_HZ * NS_PER_S +
                                   (q % DIV_HZ * NS_PER_S + DIV_HZ - 1) / DIV_HZ);
}

static uint64_t updates_by(uint64_t q)
{
    return q < UPDATE_FIRST ? 0 : (q - UPDATE_FIRST) / DIV_HZ + 1;
}

static uint64_t q_of_update(uint64_t u)
{
    return UPDATE_FIRST + (u - 1) * DIV_HZ;
}

/* Periodic interrupt period in divider ticks (table 5, 32.768 kHz time
 * base: rates 1 and 2 repeat 8 and 9), 0 when off. */
static uint64_t rtc_period(const MC146818 *r)
{
    unsigned rs = r->s.cmos[REG_A] & 15;
    if (rs == 0)
        return 0;
    return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static int64_t rtc_secs_at(const MC146818 *r, uint64_t u)
{
    return r->s.secs_ref + (int64_t)(u - r->s.upd_ref);
}

/* ---- the alarm ------------------------------------------------------------------ */

static bool alarm_field_matches(uint8_t alarm, uint8_t value)
{
    return (alarm & 0xC0) == 0xC0 || alarm == value;
}

/* The first update after `u` whose time matches the alarm, or NONE.  The
 * search walks the next 24 hours a minute at a time, stepping through
 * seconds only inside minutes whose hour and minute match. */
static uint64_t rtc_next_alarm(const MC146818 *r, uint64_t u)
{
    const uint8_t *c = r->s.cmos;
    int64_t tod = rtc_secs_at(r, u) % SECS_PER_DAY;

    if (tod < 0)
        tod += SECS_PER_DAY;
    for (int64_t d = 1; d <= SECS_PER_DAY;) {
        int64_t t = (tod + d) % SECS_PER_DAY;
        int h = (int)(t / 3600), m = (int)(t / 60 % 60), s = (int)(t % 60);
        if (!alarm_field_matches(c[REG_HOUR_ALARM], rtc_enc_hour(r, h)) ||
            !alarm_field_matches(c[REG_MIN_ALARM], rtc_enc(r, m))) {
            d += 60 - s;
            continue;
        }
        if (alarm_field_matches(c[REG_SEC_ALARM], rtc_enc(r, s)))
            return u + (uint64_t)d;
        d++;
    }
    return NONE;
}

/* ---- keeping up with time ------------------------------------------------------ */

/* Write the time of update `u` into the registers, in the current format. */
static void rtc_show(MC146818 *r, uint64_t u)
{
    uint8_t *c = r->s.cmos;
    int64_t secs = rtc_secs_at(r, u);
    int64_t days = floor_div(secs, SECS_PER_DAY);
    int64_t tod = secs - days * SECS_PER_DAY, year;
    int mon, day;

    date_from_days(days, &year, &mon, &day);
    c[REG_SEC] = rtc_enc(r, (int)(tod % 60));
    c[REG_MIN] = rtc_enc(r, (int)(tod / 60 % 60));
    c[REG_HOUR] = rtc_enc_hour(r, (int)(tod / 3600));
    c[REG_DAY] = rtc_enc(r, day);
    c[REG_MONTH] = rtc_enc(r, mon);
    c[REG_YEAR] = rtc_enc(r, (int)(year % 100));
    c[MC146818_CENTURY] = rtc_enc(r, (int)(year / 100));
    /* The chip counts the weekday on its own, from whatever was set. */
    int64_t elapsed = days - floor_div(r->s.secs_ref, SECS_PER_DAY);
    int64_t dow = (r->s.dow_ref - 1 + elapsed) % 7;
    c[REG_DOW] = rtc_enc(r, (int)(dow < 0 ? dow + 7 : dow) + 1);
    r->s.upd_shown = u;
}

/* Take the registers' time as the time at the current update count. */
static void rtc_adopt_regs(MC146818 *r)
{
    uint64_t u = updates_by(r->s.sync_q);

    r->s.secs_ref = rtc_regs_to_secs(r);
    r->s.dow_ref = (uint8_t)clamp_field("weekday",
                                        rtc_dec(r, r->s.cmos[REG_DOW]), 1, 7);
    r->s.upd_ref = u;
    r->s.upd_shown = u;
    r->s.alarm_upd = rtc_next_alarm(r, u);
}

static void rtc_update_irq(MC146818 *r)
{
    uint8_t *c = r->s.cmos;

    /* IRQF = PF.PIE + AF.AIE + UF.UIE (flags and enables share bit
     * places): clearing an enable withdraws a pending request, setting one
     * over a flag already set raises it at once. */
    if (c[REG_C] & c[REG_B] & (C_PF | C_AF | C_UF))
        c[REG_C] |= C_IRQF;
    else
        c[REG_C] &= (uint8_t)~C_IRQF;
    int level = (c[REG_C] & C_IRQF) != 0;
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

/* Fold the divider ticks up to `ns` into flags and time registers. */
static void rtc_sync(MC146818 *r, int64_t ns)
{
    uint64_t q = rtc_q(r, ns), q0 = r->s.sync_q;
    uint64_t period = rtc_period(r);
    uint8_t flags = 0;

    if (q <= q0)
        return;
    /* PF, AF and UF are set whether or not their interrupts are enabled. */
    if (period && q / period > q0 / period)
        flags |= C_PF;
    if (rtc_updating(r)) {
        uint64_t u0 = updates_by(q0), u1 = updates_by(q);
        if (u1 > u0) {
            flags |= C_UF;
            if (r->s.alarm_upd <= u1) {
                if (r->s.alarm_upd > u0)
                    flags |= C_AF;
                r->s.alarm_upd = rtc_next_alarm(r, u1);
            }
        }
    }
    r->s.sync_q = q;
    if (rtc_updating(r) && r->s.upd_shown != updates_by(q))
        rtc_show(r, updates_by(q));
    r->s.cmos[REG_C] |= flags;
    rtc_update_irq(r);
}

/* Arm the timer for the next event that would raise IRQ8 (an interrupt
 * whose flag is already set cannot raise it again until C is read). */
static void rtc_arm(MC146818 *r)
{
    const uint8_t *c = r->s.cmos;
    uint64_t q0 = r->s.sync_q, next = NONE, period = rtc_period(r);

    if (rtc_div_running(r)) {
        if ((c[REG_B] & B_PIE) && !(c[REG_C] & C_PF) && period)
            next = (q0 / period + 1) * period;
        if (rtc_updating(r) && (c[REG_B] & B_UIE) && !(c[REG_C] & C_UF)) {
            uint64_t q = q_of_update(updates_by(q0) + 1);
            next = q < next ? q : next;
        }
        if (rtc_updating(r) && (c[REG_B] & B_AIE) && !(c[REG_C] & C_AF) &&
            r->s.alarm_upd != NONE) {
            uint64_t q = q_of_update(r->s.alarm_upd);
            next = q < next ? q : next;
        }
    }
    if (next == NONE)
        timer_del(&r->timer);
    else
        timer_mod(&r->timer, rtc_ns_of_q(r, next));
}

static void rtc_timer_cb(void *opaque)
{
    MC146818 *r = opaque;

    rtc_sync(r, clock_ns(r->clock));
    rtc_arm(r);
}

/* ---- registers ---------------------------------------------------------------- */

static bool rtc_is_time_reg(unsigned index)
{
    return index == REG_SEC || index == REG_MIN || index == REG_HOUR ||
           (index >= REG_DOW && index <= REG_YEAR) || index == MC146818_CENTURY;
}

static void rtc_write_a(MC146818 *r, int64_t ns, uint8_t v)
{
    bool was_running = rtc_div_running(r);
    unsigned dv = (v & A_DV) >> 4;

    if (dv != 2 && dv < 6)
        LOG_LIMITED(LOG_GUEST_ERRORS, "mc146818: divider %u selects a time "
                    "base other than the PC's 32.768 kHz crystal\n", dv);
    r->s.cmos[REG_A] = v & (uint8_t)~A_UIP;   /* UIP is read-only */
    if (!was_running && rtc_div_running(r)) {
        /* Out of reset: the chain restarts now, the first update comes
         * half a second later, from the time in the registers. */
        r->s.div_ns = ns;
        r->s.sync_q = 0;
        rtc_adopt_regs(r);
    }
}

static void rtc_write_b(MC146818 *r, uint8_t v)
{
    uint8_t old = r->s.cmos[REG_B];

    if (v & B_SET)
        v &= (uint8_t)~B_UIE;   /* setting SET clears UIE */
    if ((v & B_DSE) && !(old & B_DSE))
        LOG_LIMITED(LOG_UNIMP, "mc146818: daylight saving (DSE) is not "
                    "implemented\n");
    r->s.cmos[REG_B] = v;
    if (rtc_updating(r)) {
        if (old & B_SET)
            rtc_adopt_regs(r);          /* SET released: run from the regs */
        else if ((old ^ v) & (B_DM | B_24H))
            rtc_show(r, r->s.upd_shown);    /* re-render in the new format */
    }
    /* The alarm compares encoded bytes, so a format change moves it. */
    if ((old ^ v) & (B_DM | B_24H) && rtc_updating(r))
        r->s.alarm_upd = rtc_next_alarm(r, updates_by(r->s.sync_q));
}

static void rtc_write_reg(MC146818 *r, unsigned index, uint8_t v)
{
    int64_t ns = clock_ns(r->clock);

    rtc_sync(r, ns);
    switch (index) {
    case REG_A:
        rtc_write_a(r, ns, v);
        break;
    case REG_B:
        rtc_write_b(r, v);
        break;
    case REG_C:
    case REG_D:
        LOG_LIMITED(LOG_GUEST_ERRORS, "mc146818: write %#04x to read-only "
                    "register %c\n", v, index == REG_C ? 'C' : 'D');
        break;
    case REG_SEC_ALARM:
    case REG_MIN_ALARM:
    case REG_HOUR_ALARM:
        r->s.cmos[index] = v;
        if (rtc_updating(r))
            r->s.alarm_upd = rtc_next_alarm(r, updates_by(r->s.sync_q));
        break;
    default:
        r->s.cmos[index] = v;
        /* A time register written while the clock runs counts on from
         * the new value (software should set SET first, but need not). */
        if (rtc_is_time_reg(index) && rtc_updating(r))
            rtc_adopt_regs(r);
        break;
    }
    rtc_update_irq(r);
    rtc_arm(r);
}

static uint8_t rtc_read_reg(MC146818 *r, unsigned index, bool side_effects)
{
    int64_t ns = clock_ns(r->clock);
    uint8_t v;

    rtc_sync(r, ns);
    switch (index) {
    case REG_A: {
        /* UIP: the 8 divider ticks before each update. */
        uint64_t phase = (rtc_q(r, ns) + DIV_HZ - UPDATE_FIRST) % DIV_HZ;
        bool uip = rtc_updating(r) && phase >= DIV_HZ - UIP_TICKS;
        v = (uint8_t)(r->s.cmos[REG_A] | (uip ? A_UIP : 0));
        break;
    }
    case REG_C:
        v = r->s.cmos[REG_C];
        if (side_effects) {
            r->s.cmos[REG_C] = 0;
            rtc_update_irq(r);
            rtc_arm(r);
        }
        break;
    case REG_D:
        v = D_VRT;      /* the battery is always good */
        break;
    default:
        v = r->s.cmos[index];
        break;
    }
    return v;
}

static uint64_t rtc_port_read(void *opaque, uint64_t offset, unsigned size)
{
    MC146818 *r = opaque;

    if (offset == 0) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "mc146818: read of the write-only "
                    "index port 0x70\n");
        return 0xFF;
    }
    return rtc_read_reg(r, r->s.index, true);
}

static void rtc_port_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    MC146818 *r = opaque;

    if (offset == 0) {
        r->s.index = value & 0x7F;
        r->s.nmi_masked = (value >> 7) & 1;
    } else {
        rtc_write_reg(r, r->s.index, (uint8_t)value);
    }
}

static const MemOps rtc_ops = {
    .read = rtc_port_read,
    .write = rtc_port_write,
    .max_access = 1,
};

/* ---- board API, life cycle, state -------------------------------------------- */

void mc146818_set_cmos(MC146818 *r, unsigned index, uint8_t value)
{
    if (index < 128)
        rtc_write_reg(r, index, value);
}

uint8_t mc146818_get_cmos(MC146818 *r, unsigned index)
{
    return index < 128 ? rtc_read_reg(r, index, false) : 0xFF;
}

bool mc146818_nmi_masked(const MC146818 *r)
{
    return r->s.nmi_masked;
}

void mc146818_reset(MC146818 *r)
{
    rtc_sync(r, clock_ns(r->clock));
    r->s.cmos[REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->s.cmos[REG_C] = 0;
    r->s.index = 0;
    r->s.nmi_masked = 0;
    rtc_update_irq(r);
    rtc_arm(r);
}

MC146818 *mc146818_new(AddressSpace *io, Clock *clock, IrqLine irq8,
                       int64_t base_unix_secs)
{
    MC146818 *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->io = io;
    r->clock = clock;
    r->irq = irq8;
    r->irq_level = -1;
    timer_init(&r->timer, clock, rtc_timer_cb, r);
    if (as_map_io(io, "rtc", 0x70, 2, &rtc_ops, r) < 0) {
        free(r);
        return NULL;
    }
    /* Power-on as a BIOS leaves it: 32.768 kHz divider, 1024 Hz rate,
     * 24-hour BCD, valid RAM.  The chain starts now. */
    uint8_t *c = r->s.cmos;
    c[REG_A] = 0x26;
    c[REG_B] = B_24H;
    r->s.div_ns = clock_ns(clock);
    r->s.secs_ref = base_unix_secs;
    int64_t days = floor_div(base_unix_secs, SECS_PER_DAY);
    int64_t dow = (days + 4) % 7;       /* 1970-01-01 was a Thursday */
    r->s.dow_ref = (uint8_t)((dow < 0 ? dow + 7 : dow) + 1);   /* Sunday=1 */
    rtc_show(r, 0);
    r->s.alarm_upd = rtc_next_alarm(r, 0);
    rtc_update_irq(r);
    return r;
}

void mc146818_free(MC146818 *r)
{
    if (!r)
        return;
    timer_del(&r->timer);
    as_unmap(r->io, 0x70);
    free(r);
}

static int mc146818_post_load(void *state, void *opaque)
{
    MC146818 *r = opaque;

    if (!r || state != &r->s || r->s.index > 127 || r->s.nmi_masked > 1)
        return -EINVAL;
    r->irq_level = -1;
    rtc_update_irq(r);
    rtc_arm(r);
    return 0;
}

static const StateField mc146818_fields[] = {
    STATE_U8_ARRAY(MC146818State, cmos),
    STATE_U8(MC146818State, index),
    STATE_U8(MC146818State, nmi_masked),
    STATE_U8(MC146818State, dow_ref),
    STATE_I64(MC146818State, div_ns),
    STATE_I64(MC146818State, secs_ref),
    STATE_U64(MC146818State, upd_ref),
    STATE_U64(MC146818State, upd_shown),
    STATE_U64(MC146818State, sync_q),
    STATE_U64(MC146818State, alarm_upd),
    STATE_END
};

const StateDesc mc146818_state_desc = {
    .name = "mc146818", .version = 1, .size = sizeof(MC146818State),
    .fields = mc146818_fields, .post_load = mc146818_post_load,
};

/* Unit tests for hw/mc146818.c: the RTC and CMOS, driven through ports 0x70
 * and 0x71 only, on a deterministic clock whose instruction counter is a
 * variable (1 ns per instruction).
 *
 * The clock starts at BASE = 1709164790, 2024-02-28 23:59:50 UTC, a
 * Wednesday (weekday 4 counting Sunday as 1), the day before a leap day.
 * The divider chain starts with the device; the datasheet puts the first
 * update half a second later, then one every second.  One divider tick is
 * 10^9 / 32768 = 30517.578125 ns; UIP covers the 8 ticks (244140.625 ns)
 * before an update, so before the update at 0.5 s it rises at
 * ceil(500000000 - 244140.625) = 499755860 ns.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hw/mc146818.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define BASE 1709164790LL
#define MS 1000000LL
#define S  1000000000LL

static uint64_t icount;
static Clock clk;
static AddressSpace io;
static MC146818 *rtc;

typedef struct Pin {
    int level;
    int rises;
    int64_t rise_ns[2048];
} Pin;
static Pin irq8;

static void pin_set(void *opaque, int n, int level)
{
    Pin *p = opaque;

    if (level && !p->level && p->rises < 2048)
        p->rise_ns[p->rises++] = clock_ns(&clk);
    p->level = level;
}

static uint64_t fake_icount(void *opaque)
{
    return *(uint64_t *)opaque;
}

static void new_rtc(int64_t base)
{
    rtc = mc146818_new(&io, &clk, irq_line(pin_set, &irq8, 8), base);
    cr_assert_not_null(rtc);
}

static void setup(void)
{
    icount = 0;
    irq8 = (Pin){0};
    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    clock_set_icount_source(&clk, fake_icount, &icount);
    as_init(&io, "io", 1 << 16);
    new_rtc(BASE);
}

static void teardown(void)
{
    mc146818_free(rtc);
    as_destroy(&io);
}

TestSuite(mc146818, .init = setup, .fini = teardown);

static void outb(uint16_t port, uint8_t v)
{
    as_write(&io, port, v, 1);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)as_read(&io, port, 1);
}

static uint8_t cmos_read(uint8_t index)
{
    outb(0x70, index);
    return inb(0x71);
}

static void cmos_write(uint8_t index, uint8_t v)
{
    outb(0x70, index);
    outb(0x71, v);
}

/* Run to `ns`, firing timers at their deadlines on the way.  With
 * `serve`, act as an IRQ8 handler: whenever the line is up, read register
 * C (as Linux's rtc_interrupt does) and keep what it said. */
static uint8_t served_c[2048];
static int nserved;

static void run(int64_t ns, bool serve)
{
    for (;;) {
        int64_t d = clock_next_deadline(&clk);
        if (d > ns)
            break;
        if (d > (int64_t)icount)
            icount = (uint64_t)d;
        clock_run_timers(&clk);
        if (serve && irq8.level && nserved < 2048)
            served_c[nserved++] = cmos_read(0x0C);
    }
    icount = (uint64_t)ns;
    clock_run_timers(&clk);
    if (serve && irq8.level && nserved < 2048)
        served_c[nserved++] = cmos_read(0x0C);
}

static void run_to(int64_t ns)
{
    run(ns, false);
}

typedef struct Time {
    uint8_t sec, min, hour, dow, day, mon, year, century;
} Time;

static Time read_time(void)
{
    return (Time){
        cmos_read(0x00), cmos_read(0x02), cmos_read(0x04), cmos_read(0x06),
        cmos_read(0x07), cmos_read(0x08), cmos_read(0x09), cmos_read(0x32),
    };
}

static void expect_time(Time t, uint8_t sec, uint8_t min, uint8_t hour,
                        uint8_t dow, uint8_t day, uint8_t mon, uint8_t year,
                        uint8_t century)
{
    cr_assert_eq(t.sec, sec, "sec %#x", t.sec);
    cr_assert_eq(t.min, min, "min %#x", t.min);
    cr_assert_eq(t.hour, hour, "hour %#x", t.hour);
    cr_assert_eq(t.dow, dow, "dow %#x", t.dow);
    cr_assert_eq(t.day, day, "day %#x", t.day);
    cr_assert_eq(t.mon, mon, "mon %#x", t.mon);
    cr_assert_eq(t.year, year, "year %#x", t.year);
    cr_assert_eq(t.century, century, "century %#x", t.century);
}

/* ---- time and formats ------------------------------------------------------- */

Test(mc146818, power_on_registers_and_bcd_time)
{
    cr_assert_eq(cmos_read(0x0A), 0x26);
    cr_assert_eq(cmos_read(0x0B), 0x02);
    cr_assert_eq(cmos_read(0x0C), 0x00);
    cr_assert_eq(cmos_read(0x0D), 0x80);
    expect_time(read_time(), 0x50, 0x59, 0x23, 0x04, 0x28, 0x02, 0x24, 0x20);
}

Test(mc146818, bcd_time_after_n_seconds)
{
    run_to(10 * S);             /* ten updates: 0.5 s ... 9.5 s */
    expect_time(read_time(), 0x00, 0x00, 0x00, 0x05, 0x29, 0x02, 0x24, 0x20);
    run_to((86400 + 10) * S);   /* a day later: 1 March, a Friday */
    expect_time(read_time(), 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20);
    run_to((86400 + 10 + 3723) * S + 600 * MS);  /* +1:02:03, and 0.6 s */
    expect_time(read_time(), 0x04, 0x02, 0x01, 0x06, 0x01, 0x03, 0x24, 0x20);
}

Test(mc146818, century_rollover)
{
    mc146818_free(rtc);
    new_rtc(946684798);         /* 1999-12-31 23:59:58, a Friday (6) */
    expect_time(read_time(), 0x58, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19);
    run_to(2 * S);
    expect_time(read_time(), 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20);
}

Test(mc146818, leap_years)
{
    mc146818_free(rtc);
    new_rtc(951782399);         /* 2000-02-28 23:59:59: 2000 is leap */
    run_to(1 * S);
    cr_assert_eq(cmos_read(0x07), 0x29);
    cr_assert_eq(cmos_read(0x08), 0x02);
    mc146818_free(rtc);
    new_rtc(4107542399);        /* 2100-02-28 23:59:59: 2100 is not */
    cr_assert_eq(cmos_read(0x32), 0x21);
    run_to(2 * S);
    cr_assert_eq(cmos_read(0x07), 0x01);
    cr_assert_eq(cmos_read(0x08), 0x03);
    cr_assert_eq(cmos_read(0x09), 0x00);
}

Test(mc146818, binary_mode)
{
    cmos_write(0x0B, 0x06);     /* DM = binary, 24-hour */
    expect_time(read_time(), 50, 59, 23, 4, 28, 2, 24, 20);
    run_to(10 * S);
    expect_time(read_time(), 0, 0, 0, 5, 29, 2, 24, 20);
}

Test(mc146818, twelve_hour_mode)
{
    cmos_write(0x0B, 0x00);     /* BCD, 12-hour */
    cr_assert_eq(cmos_read(0x04), 0x91, "11 PM");
    run_to(10 * S);
    cr_assert_eq(cmos_read(0x04), 0x12, "12 AM");
    run_to((10 + 13 * 3600) * S);
    cr_assert_eq(cmos_read(0x04), 0x81, "1 PM");
    cmos_write(0x0B, 0x04);     /* binary, 12-hour */
    cr_assert_eq(cmos_read(0x04), 0x81);
    run_to((10 + 23 * 3600) * S);
    cr_assert_eq(cmos_read(0x04), 0x8B, "11 PM binary");
}

/* ---- update in progress ----------------------------------------------------- */

Test(mc146818, uip_window_before_each_update)
{
    run_to(499755859);
    cr_assert_eq(cmos_read(0x0A) & 0x80, 0);
    run_to(499755860);
    cr_assert_eq(cmos_read(0x0A), 0xA6);
    cr_assert_eq(cmos_read(0x00), 0x50, "the update has not happened yet");
    run_to(500 * MS - 1);
    cr_assert_eq(cmos_read(0x0A) & 0x80, 0x80);
    run_to(500 * MS);
    cr_assert_eq(cmos_read(0x0A) & 0x80, 0);
    cr_assert_eq(cmos_read(0x00), 0x51);
    /* The next window: 1.5 s - 244140.625 ns. */
    run_to(1499755859);
    cr_assert_eq(cmos_read(0x0A) & 0x80, 0);
    run_to(1499755860);
    cr_assert_eq(cmos_read(0x0A) & 0x80, 0x80);
}

Test(mc146818, seabios_style_wait_for_update_end)
{
    /* Sample UIP every 10 us over 3 s: it is up 24 or 25 samples before
     * each update (244 us) and never otherwise. */
    int up = 0, windows = 0, prev = 0;
    for (int64_t t = 0; t < 3 * S; t += 10000) {
        icount = (uint64_t)t;
        int uip = (cmos_read(0x0A) & 0x80) != 0;
        up += uip;
        windows += uip && !prev;
        prev = uip;
    }
    cr_assert_eq(windows, 3);
    cr_assert(up >= 3 * 24 && up <= 3 * 25, "%d", up);
}

Test(mc146818, set_bit_holds_time_and_clears_uie_and_uip)
{
    cmos_write(0x0B, 0x92);     /* SET with UIE: UIE is cleared */
    cr_assert_eq(cmos_read(0x0B), 0x82);
    run_to(200 * MS);
    cmos_write(0x00, 0x00);
    cmos_write(0x02, 0x30);
    cmos_write(0x04, 0x12);
    cmos_write(0x06, 0x03);
    cmos_write(0x07, 0x15);
    cmos_write(0x08, 0x06);
    cmos_write(0x09, 0x21);
    for (int64_t t = 400 * MS; t < 3 * S; t += 100 * MS) {
        run_to(t);
        cr_assert_eq(cmos_read(0x0A) & 0x80, 0);
        cr_assert_eq(cmos_read(0x00), 0x00);
    }
    run_to(3200 * MS);
    cmos_write(0x0B, 0x02);     /* release: the divider phase is kept */
    run_to(3500 * MS - 1);
    expect_time(read_time(), 0x00, 0x30, 0x12, 0x03, 0x15, 0x06, 0x21, 0x20);
    run_to(3500 * MS);
    expect_time(read_time(), 0x01, 0x30, 0x12, 0x03, 0x15, 0x06, 0x21, 0x20);
    /* A day on, the weekday counts on from what was set. */
    run_to(3500 * MS + 86400 * S);
    expect_time(read_time(), 0x01, 0x30, 0x12, 0x04, 0x16, 0x06, 0x21, 0x20);
}

Test(mc146818, divider_reset_restarts_half_second_later)
{
    run_to(100 * MS);
    cmos_write(0x0A, 0x70);     /* hold the divider in reset */
    cmos_write(0x00, 0x10);
    run_to(5 * S);
    cr_assert_eq(cmos_read(0x00), 0x10);
    cr_assert_eq(cmos_read(0x0A) & 0x80, 0);
    cmos_write(0x0A, 0x26);
    run_to(5500 * MS - 1);
    cr_assert_eq(cmos_read(0x00), 0x10);
    cr_assert_eq(cmos_read(0x0A) & 0x80, 0x80);
    run_to(5500 * MS);
    cr_assert_eq(cmos_read(0x00), 0x11);
    cr_assert_eq(cmos_read(0x02), 0x59);
}

Test(mc146818, time_written_while_running_counts_on)
{
    run_to(2200 * MS);          /* 23:59:52 */
    cmos_write(0x00, 0x30);
    cr_assert_eq(cmos_read(0x00), 0x30);
    run_to(2500 * MS);
    cr_assert_eq(cmos_read(0x00), 0x31);
    cr_assert_eq(cmos_read(0x02), 0x59);
}

/* ---- interrupts ---------------------------------------------------------------- */

Test(mc146818, periodic_1024hz)
{
    cmos_write(0x0B, 0x42);     /* PIE, rate 6 from power-on: 976.5625 us */
    run(S, true);
    cr_assert_eq(irq8.rises, 1024);
    cr_assert_eq(irq8.rise_ns[0], 976563);
    cr_assert_eq(irq8.rise_ns[1], 1953125);
    cr_assert_eq(irq8.rise_ns[1023], S);
    for (int i = 0; i < nserved; i++)
        cr_assert_eq(served_c[i] & 0xC0, 0xC0);
    cr_assert_eq(irq8.level, 0);
}

Test(mc146818, periodic_rates_from_register_a)
{
    /* RS = 15: 500 ms; RS = 3: 122.0703125 us; RS = 1: 3.90625 ms (the
     * 32.768 kHz time base repeats rates 8 and 9 for RS = 1 and 2). */
    cmos_write(0x0A, 0x2F);
    cmos_write(0x0B, 0x42);
    run(2 * S, true);
    cr_assert_eq(irq8.rises, 4);
    cr_assert_eq(irq8.rise_ns[0], 500 * MS);

    irq8.rises = 0;
    cmos_write(0x0A, 0x23);
    run(2 * S + 10 * MS, true);
    cr_assert_eq(irq8.rises, 81, "10 ms / 122.07 us = 81.92");

    irq8.rises = 0;
    cmos_write(0x0A, 0x21);
    run(2 * S + 110 * MS, true);
    /* Edges at multiples of 128 ticks in (65863, 69140]: 515..540. */
    cr_assert_eq(irq8.rises, 26);
}

Test(mc146818, flags_set_without_interrupts_and_cleared_by_read)
{
    run_to(2 * MS);
    cr_assert_eq(cmos_read(0x0C), 0x40, "PF, no IRQF");
    cr_assert_eq(cmos_read(0x0C), 0x00);
    run_to(600 * MS);
    cr_assert_eq(cmos_read(0x0C), 0x50, "PF and UF");
    cr_assert_eq(irq8.rises, 0);
    cmos_write(0x0A, 0x20);     /* rate 0: no more PF */
    run_to(700 * MS);
    cr_assert_eq(cmos_read(0x0C), 0x00);
}

Test(mc146818, enable_over_pending_flag_raises_at_once)
{
    run_to(2 * MS);
    cmos_write(0x0B, 0x42);
    cr_assert_eq(irq8.level, 1);
    cmos_write(0x0B, 0x02);     /* withdrawn with its enable */
    cr_assert_eq(irq8.level, 0);
    cr_assert_eq(cmos_read(0x0C), 0x40);
}

Test(mc146818, update_ended_interrupt)
{
    cmos_write(0x0A, 0x20);
    cmos_write(0x0B, 0x12);     /* UIE */
    run_to(500 * MS - 1);
    cr_assert_eq(irq8.level, 0);
    run_to(500 * MS);
    cr_assert_eq(irq8.level, 1);
    cr_assert_eq(cmos_read(0x0C), 0x90);
    cr_assert_eq(irq8.level, 0);
    cr_assert_eq(cmos_read(0x0C), 0x00);
    run(3600 * MS, true);
    cr_assert_eq(irq8.rises, 4);
    cr_assert_eq(irq8.rise_ns[3], 3500 * MS);
}

Test(mc146818, alarm_interrupt)
{
    cmos_write(0x0A, 0x20);
    cmos_write(0x01, 0x55);     /* 23:59:55 */
    cmos_write(0x03, 0x59);
    cmos_write(0x05, 0x23);
    cmos_write(0x0B, 0x22);     /* AIE */
    run_to(4500 * MS - 1);
    cr_assert_eq(irq8.level, 0);
    run_to(4500 * MS);
    cr_assert_eq(irq8.level, 1);
    cr_assert_eq(cmos_read(0x0C), 0xB0, "IRQF, AF, and UF (not enabled)");
    run_to(100 * S);
    cr_assert_eq(irq8.rises, 1, "once a day");

    /* 00:00:05 tomorrow, counting from 23:59:50 + 100 s = 00:01:30. */
    cmos_write(0x01, 0x05);
    cmos_write(0x03, 0x00);
    cmos_write(0x05, 0x00);
    run_to((100 + 86314) * S + 500 * MS - 1);
    cr_assert_eq(irq8.rises, 1);
    run_to((100 + 86314) * S + 500 * MS);
    cr_assert_eq(irq8.rises, 2);
    cr_assert_eq(irq8.rise_ns[1], (100 + 86314) * S + 500 * MS);
}

Test(mc146818, alarm_dont_care_every_second)
{
    cmos_write(0x0A, 0x20);
    cmos_write(0x01, 0xFF);
    cmos_write(0x03, 0xC0);
    cmos_write(0x05, 0xC5);
    cmos_write(0x0B, 0x22);
    run(5 * S, true);
    cr_assert_eq(irq8.rises, 5);
    cr_assert_eq(served_c[0], 0xB0);
    /* Only seconds 0x00: once a minute; 23:59:50 + 10 s is 00:00:00,
     * at the update of 9.5 s, then 69.5, 129.5, 189.5. */
    cmos_write(0x01, 0x00);
    irq8.rises = 0;
    run(200 * S, true);
    cr_assert_eq(irq8.rises, 4);
    cr_assert_eq(irq8.rise_ns[0], 9500 * MS);
}

/* ---- CMOS, NMI, robustness ---------------------------------------------------- */

Test(mc146818, cmos_ram_and_board_api)
{
    cmos_write(0x34, 0x5A);
    cmos_write(0x7F, 0xA5);
    cr_assert_eq(cmos_read(0x34), 0x5A);
    cr_assert_eq(cmos_read(0x7F), 0xA5);
    mc146818_set_cmos(rtc, 0x5B, 0x12);
    mc146818_set_cmos(rtc, 0x3D, 0x21);
    mc146818_set_cmos(rtc, 200, 0x99);          /* ignored */
    cr_assert_eq(cmos_read(0x5B), 0x12);
    cr_assert_eq(mc146818_get_cmos(rtc, 0x3D), 0x21);
    cr_assert_eq(mc146818_get_cmos(rtc, 0x00), 0x50);
    /* get_cmos does not clear register C; the port read does. */
    run_to(2 * MS);
    cr_assert_eq(mc146818_get_cmos(rtc, 0x0C), 0x40);
    cr_assert_eq(cmos_read(0x0C), 0x40);
    cr_assert_eq(mc146818_get_cmos(rtc, 0x0C), 0x00);
}

Test(mc146818, read_only_registers_and_index_port)
{
    cmos_write(0x0A, 0xA6);             /* UIP is not writable */
    cr_assert_eq(cmos_read(0x0A) & 0x7F, 0x26);
    cmos_write(0x0D, 0x00);
    cr_assert_eq(cmos_read(0x0D), 0x80, "VRT stays set");
    run_to(2 * MS);
    cmos_write(0x0C, 0xFF);
    cr_assert_eq(cmos_read(0x0C), 0x40);
    cr_assert_eq(inb(0x70), 0xFF, "the index port is write-only");
}

Test(mc146818, nmi_mask_bit)
{
    cr_assert_eq(mc146818_nmi_masked(rtc), false);
    outb(0x70, 0x80 | 0x34);
    cr_assert_eq(mc146818_nmi_masked(rtc), true);
    outb(0x71, 0x77);                   /* the index is still 0x34 */
    outb(0x70, 0x34);
    cr_assert_eq(mc146818_nmi_masked(rtc), false);
    cr_assert_eq(inb(0x71), 0x77);
}

Test(mc146818, bad_time_values_are_survived)
{
    cmos_write(0x0B, 0x82);
    cmos_write(0x00, 0x99);
    cmos_write(0x04, 0x77);
    cmos_write(0x08, 0x00);
    cmos_write(0x0A, 0x06);             /* divider 000 */
    cmos_write(0x0B, 0x03);             /* DSE */
    run_to(3 * S);
    cr_assert_eq(cmos_read(0x0D), 0x80);
}

Test(mc146818, reset_clears_enables_and_flags_keeps_time)
{
    cmos_write(0x0B, 0x72);
    cmos_write(0x50, 0x42);
    run_to(600 * MS);
    cr_assert_eq(irq8.level, 1);
    outb(0x70, 0x80);
    mc146818_reset(rtc);
    cr_assert_eq(irq8.level, 0);
    cr_assert_eq(mc146818_nmi_masked(rtc), false);
    cr_assert_eq(cmos_read(0x0B), 0x02);
    cr_assert_eq(cmos_read(0x0C), 0x00);
    cr_assert_eq(cmos_read(0x50), 0x42);
    cr_assert_eq(cmos_read(0x00), 0x51);
}

Test(mc146818, free_unmaps_ports)
{
    mc146818_free(rtc);
    cr_assert_eq(inb(0x71), 0xFF);
    new_rtc(BASE);
    cr_assert_null(mc146818_new(&io, &clk, irq_line(NULL, NULL, 0), 0));
}

/* ---- state ---------------------------------------------------------------------- */

typedef struct Trace {
    int rises;
    int64_t rise_ns[64];
    uint8_t c[64];
    Time t[20];
} Trace;

static void trace(Trace *tr, int64_t from)
{
    int base = irq8.rises, served = nserved;

    for (int i = 0; i < 20; i++) {
        run(from + (int64_t)i * 123456789, true);
        tr->t[i] = read_time();
    }
    tr->rises = irq8.rises - base;
    for (int i = 0; i < tr->rises && i < 64; i++)
        tr->rise_ns[i] = irq8.rise_ns[base + i];
    for (int i = 0; i < 64 && served + i < nserved; i++)
        tr->c[i] = served_c[served + i];
}

Test(mc146818, save_load_round_trip)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;
    Trace a = {0}, b = {0};

    cmos_write(0x0A, 0x2C);             /* 62.5 ms periodic */
    cmos_write(0x01, 0x58);
    cmos_write(0x03, 0xC0);
    cmos_write(0x05, 0xC0);
    cmos_write(0x0B, 0x72);             /* PIE, AIE, UIE */
    cmos_write(0x40, 0x99);
    run(1300 * MS, true);
    run_to(1300 * MS + 70 * MS);        /* a flag left pending */
    cr_assert_eq(irq8.level, 1);
    cr_assert_eq(state_save(&mc146818_state_desc, &rtc->s, &buf), 0);
    int64_t saved_at = (int64_t)icount;
    Pin saved = irq8;
    int saved_served = nserved;

    trace(&a, saved_at);

    /* Scramble, go back, load, replay. */
    cmos_write(0x0B, 0x86);
    cmos_write(0x00, 0x00);
    cmos_write(0x0A, 0x70);
    cmos_write(0x40, 0x00);
    icount = (uint64_t)saved_at;
    irq8 = saved;
    irq8.level = 0;
    nserved = saved_served;
    cr_assert_eq(state_load(&mc146818_state_desc, &rtc->s, rtc, buf.data,
                            buf.len, &pos, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(irq8.level, 1, "post_load raises IRQ8 again");
    trace(&b, saved_at);

    cr_assert_gt(a.rises, 20);
    cr_assert_eq(a.rises, b.rises);
    for (int i = 0; i < a.rises && i < 64; i++) {
        cr_assert_eq(a.rise_ns[i], b.rise_ns[i], "rise %d", i);
        cr_assert_eq(a.c[i], b.c[i], "C %d", i);
    }
    for (int i = 0; i < 20; i++)
        cr_assert_eq(memcmp(&a.t[i], &b.t[i], sizeof(Time)), 0, "time %d", i);
    cr_assert_eq(cmos_read(0x40), 0x99);
    statebuf_free(&buf);
}

Test(mc146818, load_rejects_bad_index)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;
    MC146818State bad = rtc->s;

    bad.index = 200;
    cr_assert_eq(state_save(&mc146818_state_desc, &bad, &buf), 0);
    cr_assert_neq(state_load(&mc146818_state_desc, &rtc->s, rtc, buf.data,
                             buf.len, &pos, err, sizeof(err)), 0);
    cr_assert_eq(rtc->s.index, 0);
    statebuf_free(&buf);
}

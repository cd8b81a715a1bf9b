/* Unit tests for hw/hpet.c: the HPET driven through its registers at
 * 0xFED00000 on a memory AddressSpace, with a deterministic clock whose
 * instruction counter is a variable (1 ns per instruction).
 *
 * Expectations are worked out by hand from the IA-PC HPET specification
 * 1.0a: the counter runs at 10 MHz (COUNTER_CLK_PERIOD 100,000,000 fs), so
 * after enabling at t it reads floor((now - t) / 100); a comparator C is
 * matched when the counter steps onto C; periodic timers add the last
 * value written to the comparator; level status bits are write-1-to-clear.
 */
#include <criterion/criterion.h>

#include "hw/hpet.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define BASE 0xFED00000ull
enum {
    GCAP = 0x000, GCONF = 0x010, GISR = 0x020, COUNTER = 0x0F0,
};
#define TCONF(n) (0x100 + 0x20 * (n))
#define TCMP(n) (0x108 + 0x20 * (n))

/* Timer config bits. */
enum {
    LEVEL = 1 << 1, INT_ENB = 1 << 2, PERIODIC = 1 << 3, VAL_SET = 1 << 6,
    MODE32 = 1 << 8,
};
#define ROUTE(n) ((uint64_t)(n) << 9)

static uint64_t icount;
static Clock clk;
static AddressSpace mem;
static Hpet *hpet;

/* Every line the HPET can drive: 0-1 legacy, 2 + N route N. */
typedef struct Line {
    int level, rises;
    int64_t rise_ns[16];
} Line;
static Line lines[2 + HPET_ROUTES];
static int legacy_calls, legacy_state;

static void line_set(void *o, int n, int level)
{
    Line *l = &lines[n];
    if (level && !l->level && l->rises < 16)
        l->rise_ns[l->rises++] = clock_ns(&clk);
    l->level = level;
}

static void on_legacy(void *o, int enabled)
{
    legacy_calls++;
    legacy_state = enabled;
}

static uint64_t fake_icount(void *o) { return *(uint64_t *)o; }

static void setup(void)
{
    HpetHooks h = { .legacy_changed = on_legacy };

    icount = 0;
    legacy_calls = legacy_state = 0;
    memset(lines, 0, sizeof(lines));
    for (int i = 0; i < 2; i++)
        h.legacy[i] = irq_line(line_set, NULL, i);
    for (int i = 0; i < HPET_ROUTES; i++)
        h.route[i] = irq_line(line_set, NULL, 2 + i);
    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    clock_set_icount_source(&clk, fake_icount, &icount);
    as_init(&mem, "memory", 0);
    cr_assert_eq(hpet_new(&mem, &clk, &h, &hpet), 0);
}

static void teardown(void)
{
    hpet_free(hpet);
    as_destroy(&mem);
}

TestSuite(hpet, .init = setup, .fini = teardown);

static uint64_t rd(unsigned off) { return as_read(&mem, BASE + off, 8); }
static uint32_t rd32(unsigned off) { return (uint32_t)as_read(&mem, BASE + off, 4); }
static void wr(unsigned off, uint64_t v) { as_write(&mem, BASE + off, v, 8); }
static void wr32(unsigned off, uint32_t v) { as_write(&mem, BASE + off, v, 4); }

static void run_to(int64_t ns)
{
    for (;;) {
        int64_t d = clock_next_deadline(&clk);
        if (d > ns)
            break;
        if (d > (int64_t)icount)
            icount = (uint64_t)d;
        clock_run_timers(&clk);
    }
    icount = (uint64_t)ns;
    clock_run_timers(&clk);
}

static Line *route_line(int n) { return &lines[2 + n]; }

Test(hpet, capabilities)
{
    /* REV_ID 1, NUM_TIM_CAP 2, COUNT_SIZE_CAP, LEG_RT_CAP, vendor 8086h,
     * period 100,000,000 fs = 05F5E100h. */
    cr_assert_eq(rd(GCAP), 0x05F5E1008086A201ull);
    cr_assert_eq(rd32(GCAP), 0x8086A201);
    cr_assert_eq(rd32(GCAP + 4), 0x05F5E100);
    /* Timer 0: periodic and 64-bit capable; routes 20-23. */
    cr_assert_eq(rd(TCONF(0)), 0x00F0000000000030ull);
    cr_assert_eq(rd(TCONF(1)), 0x00F0000000000020ull);
    cr_assert_eq(rd(TCONF(2)), 0x00F0000000000020ull);
    cr_assert_eq(rd(TCMP(0)), ~0ull, "comparators reset to all ones");
    cr_assert_eq(rd(GCONF), 0);
    wr(GCAP, 0);
    cr_assert_eq(rd(GCAP), 0x05F5E1008086A201ull, "read-only");
}

Test(hpet, counter_follows_virtual_time)
{
    run_to(500);
    cr_assert_eq(rd(COUNTER), 0, "halted after reset");
    wr(GCONF, 1);                       /* enabled at t = 500 */
    run_to(1499);
    cr_assert_eq(rd(COUNTER), 9);
    run_to(1500);
    cr_assert_eq(rd(COUNTER), 10);
    run_to(1000500);
    cr_assert_eq(rd(COUNTER), 10000, "10 MHz: 1 ms = 10000 ticks");
    wr(GCONF, 0);                       /* halt: the value holds */
    run_to(2000000);
    cr_assert_eq(rd(COUNTER), 10000);
    wr(COUNTER, 0x123456789ull);        /* written while halted */
    cr_assert_eq(rd(COUNTER), 0x123456789ull);
    wr(GCONF, 1);
    run_to(2000000 + 250);
    cr_assert_eq(rd(COUNTER), 0x123456789ull + 2);
    cr_assert_eq(rd32(COUNTER + 4), 1, "high half");
    wr(GCONF, 0);
    wr32(COUNTER, 5);                   /* low half only */
    cr_assert_eq(rd(COUNTER), 0x100000005ull);
}

Test(hpet, oneshot_comparator)
{
    wr(TCONF(2), INT_ENB | ROUTE(20));  /* edge */
    wr(TCMP(2), 50);
    cr_assert_eq(rd(TCMP(2)), 50);
    run_to(10000);
    cr_assert_eq(route_line(20)->rises, 0, "counter halted: no match");
    wr(GCONF, 1);                       /* t0 = 10000 */
    run_to(10000 + 4999);
    cr_assert_eq(route_line(20)->rises, 0);
    run_to(10000 + 5000);
    cr_assert_eq(route_line(20)->rises, 1);
    cr_assert_eq(route_line(20)->rise_ns[0], 15000);
    cr_assert_eq(route_line(20)->level, 0, "edge: a pulse");
    cr_assert_eq(rd(GISR), 0, "edge timers leave the status alone");
    run_to(1000000);
    cr_assert_eq(route_line(20)->rises, 1, "one-shot");
    cr_assert_eq(rd(TCMP(2)), 50, "comparator unchanged");
}

Test(hpet, interrupt_disabled_is_silent)
{
    wr(TCONF(1), ROUTE(21));
    wr(TCMP(1), 10);
    wr(GCONF, 1);
    run_to(5000);
    cr_assert_eq(route_line(21)->rises, 0);
}

Test(hpet, periodic_with_setval)
{
    wr(TCONF(0), PERIODIC | INT_ENB | VAL_SET | ROUTE(22));
    wr(TCMP(0), 100);                   /* comparator and period */
    cr_assert_eq(rd(TCONF(0)) & VAL_SET, 0, "VAL_SET clears itself");
    wr(GCONF, 1);
    run_to(35000);
    Line *l = route_line(22);
    cr_assert_eq(l->rises, 3);
    cr_assert_eq(l->rise_ns[0], 10000);
    cr_assert_eq(l->rise_ns[1], 20000);
    cr_assert_eq(l->rise_ns[2], 30000);
    cr_assert_eq(rd(TCMP(0)), 400, "the next match");
}

Test(hpet, periodic_period_is_last_write)
{
    /* Linux's sequence: comparator with VAL_SET, then the period alone. */
    wr(TCONF(0), PERIODIC | INT_ENB | VAL_SET | MODE32 | ROUTE(20));
    wr(TCMP(0), 100);
    wr(TCMP(0), 50);
    cr_assert_eq(rd(TCMP(0)), 100);
    wr(GCONF, 1);
    run_to(25000);
    Line *l = route_line(20);
    cr_assert_eq(l->rises, 4);
    cr_assert_eq(l->rise_ns[0], 10000);
    cr_assert_eq(l->rise_ns[1], 15000);
    cr_assert_eq(l->rise_ns[2], 20000);
    cr_assert_eq(l->rise_ns[3], 25000);
}

Test(hpet, periodic_late_skips_missed_matches)
{
    wr(TCONF(0), PERIODIC | INT_ENB | VAL_SET | ROUTE(20));
    wr(TCMP(0), 10);
    wr(GCONF, 1);
    icount = 4550;                      /* matches at 10, 20, 30, 40 missed */
    clock_run_timers(&clk);
    cr_assert_eq(route_line(20)->rises, 1);
    cr_assert_eq(rd(TCMP(0)), 50);
    cr_assert_eq(clock_next_deadline(&clk), 5000);
}

Test(hpet, mode32_wraps)
{
    wr(TCONF(1), INT_ENB | MODE32 | ROUTE(23));
    wr(TCMP(1), 0x100000005ull);
    cr_assert_eq(rd(TCMP(1)), 5, "32-bit comparator");
    wr(COUNTER, 0xFFFFFFF0ull);
    wr(GCONF, 1);
    /* 0xFFFFFFF0 -> 0x1_00000000 in 16 ticks, then 5 more. */
    run_to(2099);
    cr_assert_eq(route_line(23)->rises, 0);
    run_to(2100);
    cr_assert_eq(route_line(23)->rises, 1);
    cr_assert_eq(rd(COUNTER), 0x100000005ull);

    /* The same comparator in 64-bit mode is 2^64 - 2^32 ticks away. */
    wr(GCONF, 0);
    wr(COUNTER, 0xFFFFFFF0ull);
    wr(TCONF(1), INT_ENB | ROUTE(23));
    wr(TCMP(1), 5);
    wr(GCONF, 1);
    run_to(1000000);
    cr_assert_eq(route_line(23)->rises, 1);
    /* Enabled at t = 2100, so t = 1000000 is on a tick: 9979 ticks. */
    cr_assert_eq(rd(COUNTER), 0xFFFFFFF0ull + 9979);
    wr(TCMP(1), 0xFFFFFFF0ull + 9979 + 31);   /* above 2^32: 64-bit match */
    run_to(1000000 + 3099);
    cr_assert_eq(route_line(23)->rises, 1);
    run_to(1000000 + 3100);
    cr_assert_eq(route_line(23)->rises, 2);
}

Test(hpet, legacy_replacement)
{
    wr(TCONF(0), INT_ENB | ROUTE(20));
    wr(TCMP(0), 10);
    wr(TCONF(1), INT_ENB | ROUTE(21));
    wr(TCMP(1), 20);
    wr(GCONF, 2);                       /* LEG_RT without ENABLE */
    cr_assert_eq(legacy_calls, 0, "not in effect while halted");
    wr(GCONF, 3);
    cr_assert_eq(legacy_calls, 1);
    cr_assert_eq(legacy_state, 1, "the board cuts the PIT and RTC off");
    run_to(3000);
    cr_assert_eq(lines[0].rises, 1, "timer 0 on IRQ0");
    cr_assert_eq(lines[0].rise_ns[0], 1000);
    cr_assert_eq(lines[1].rises, 1, "timer 1 on IRQ8");
    cr_assert_eq(lines[1].rise_ns[0], 2000);
    cr_assert_eq(route_line(20)->rises + route_line(21)->rises, 0);
    wr(GCONF, 1);
    cr_assert_eq(legacy_calls, 2);
    cr_assert_eq(legacy_state, 0);
}

Test(hpet, level_status_w1c)
{
    wr(TCONF(2), LEVEL | INT_ENB | ROUTE(21));
    wr(TCMP(2), 3);
    wr(GCONF, 1);
    run_to(300);
    cr_assert_eq(rd(GISR), 4);
    cr_assert_eq(route_line(21)->level, 1, "held while the status is set");
    wr(GISR, 0);
    cr_assert_eq(rd(GISR), 4, "writing 0 does nothing");
    wr(GISR, 3);
    cr_assert_eq(rd(GISR), 4, "other bits do nothing");
    wr(GISR, 4);
    cr_assert_eq(rd(GISR), 0);
    cr_assert_eq(route_line(21)->level, 0);

    /* Level status is set with the interrupt disabled, the line stays low. */
    wr(TCONF(1), LEVEL | ROUTE(20));
    wr(TCMP(1), 10);
    run_to(1000);
    cr_assert_eq(rd(GISR), 2);
    cr_assert_eq(route_line(20)->level, 0);
    wr(TCONF(1), LEVEL | INT_ENB | ROUTE(20));
    cr_assert_eq(route_line(20)->level, 1, "enabled with status pending");
    wr(TCONF(1), LEVEL | INT_ENB | ROUTE(22));
    cr_assert_eq(route_line(20)->level, 0, "the level moves with the route");
    cr_assert_eq(route_line(22)->level, 1);
}

Test(hpet, unsupported_route_ignored)
{
    wr(TCONF(2), ROUTE(21));
    wr(TCONF(2), ROUTE(5));
    cr_assert_eq((rd(TCONF(2)) >> 9) & 31, 21);
    wr(TCONF(2), (1 << 14) | (1 << 4) | (1 << 5) | PERIODIC | ROUTE(21));
    cr_assert_eq(rd(TCONF(2)) & 0xFFFF, 0x20 | ROUTE(21),
                 "no FSB, timer 2 not periodic, caps read-only");
}

Test(hpet, state_roundtrip)
{
    StateBuf buf = {0};
    size_t pos = 0;
    char err[128];

    wr(TCONF(0), PERIODIC | INT_ENB | VAL_SET | ROUTE(20));
    wr(TCMP(0), 100);
    wr(GCONF, 1);
    run_to(15000);
    cr_assert_eq(state_save(&hpet_state_desc, &hpet->s, &buf), 0);
    hpet_reset(hpet);
    cr_assert_eq(rd(COUNTER), 0);
    cr_assert_eq(state_load(&hpet_state_desc, &hpet->s, hpet, buf.data,
                            buf.len, &pos, err, sizeof(err)), 0, "%s", err);
    statebuf_free(&buf);
    cr_assert_eq(rd(COUNTER), 150);
    run_to(20000);
    cr_assert_eq(route_line(20)->rises, 2, "re-armed by post_load");
}

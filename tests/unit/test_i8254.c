/* Unit tests for hw/i8254.c: the 8254 PIT and port 0x61, driven through
 * ports 0x40-0x43 and 0x61 only, on a deterministic clock whose
 * instruction counter is a variable (1 ns per instruction), so every time
 * is exact.
 *
 * Expectations are worked out by hand from the datasheet: the input clock
 * has had floor(t * 1193182 / 10^9) falling edges by time t; a count
 * written on edge T is loaded on edge T + 1 and decrements from T + 2.
 * tick_ns(T), the first nanosecond by which edge T has happened, is
 * ceil(T * 10^9 / 1193182); a few of its values are spelled out as
 * literals too (tick 1000 = 838096 ns, tick 1001 = 838934 ns).
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "hw/i8254.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

static uint64_t icount;
static Clock clk;
static AddressSpace io;
static I8254 *pit;
static int fired;

/* IRQ0, with the virtual time of every edge. */
typedef struct Line {
    int level;
    int rises, falls;
    int64_t rise_ns[64], fall_ns[64];
} Line;
static Line irq0;

static void line_set(void *opaque, int n, int level)
{
    Line *l = opaque;

    if (level && !l->level && l->rises < 64)
        l->rise_ns[l->rises++] = clock_ns(&clk);
    if (!level && l->level && l->falls < 64)
        l->fall_ns[l->falls++] = clock_ns(&clk);
    l->level = level;
}

static uint64_t fake_icount(void *opaque)
{
    return *(uint64_t *)opaque;
}

static void setup(void)
{
    icount = 0;
    fired = 0;
    irq0 = (Line){0};
    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    clock_set_icount_source(&clk, fake_icount, &icount);
    as_init(&io, "io", 1 << 16);
    pit = i8254_new(&io, &clk, irq_line(line_set, &irq0, 0));
    cr_assert_not_null(pit);
}

static void teardown(void)
{
    i8254_free(pit);
    as_destroy(&io);
}

TestSuite(i8254, .init = setup, .fini = teardown);

/* Run the machine to `ns` the way the board's deterministic loop does:
 * stop at each timer deadline on the way and fire what is due. */
static void run_to(int64_t ns)
{
    for (;;) {
        int64_t d = clock_next_deadline(&clk);
        if (d > ns)
            break;
        if (d > (int64_t)icount)
            icount = (uint64_t)d;
        fired += clock_run_timers(&clk);
    }
    icount = (uint64_t)ns;
    fired += clock_run_timers(&clk);
}

static int64_t tick_ns(uint64_t t)
{
    return (int64_t)((t * 1000000000ull + 1193181) / 1193182);
}

static void outb(uint16_t port, uint8_t v)
{
    as_write(&io, port, v, 1);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)as_read(&io, port, 1);
}

static void write_count(int ch, uint16_t v)
{
    outb((uint16_t)(0x40 + ch), v & 0xFF);
    outb((uint16_t)(0x40 + ch), v >> 8);
}

/* Counter latch command, then LSB and MSB. */
static uint16_t latch_read(int ch)
{
    outb(0x43, (uint8_t)(ch << 6));
    uint8_t lo = inb((uint16_t)(0x40 + ch));
    return (uint16_t)(lo | inb((uint16_t)(0x40 + ch)) << 8);
}

/* Read-back of the status alone. */
static uint8_t status(int ch)
{
    outb(0x43, (uint8_t)(0xE0 | 2 << ch));
    return inb((uint16_t)(0x40 + ch));
}

/* ---- mode 2 ---------------------------------------------------------------- */

Test(i8254, time_base_literals)
{
    cr_assert_eq(tick_ns(1000), 838096);
    cr_assert_eq(tick_ns(1001), 838934);
    cr_assert_eq(tick_ns(101), 84648);
}

Test(i8254, mode2_counts_read_with_latch)
{
    outb(0x43, 0x34);           /* channel 0, LSB/MSB, mode 2, binary */
    write_count(0, 1000);       /* at t = 0: loaded on edge 1 */
    run_to(tick_ns(1));
    cr_assert_eq(latch_read(0), 1000);
    run_to(1000000);            /* edge 1193: 1192 decrements, 1192 % 1000 */
    cr_assert_eq(latch_read(0), 808);
    run_to(10000000);           /* edge 11931: 11930 % 1000 = 930 */
    cr_assert_eq(latch_read(0), 70);
    run_to(tick_ns(12000));     /* 11999 % 1000 = 999: CE = 1 */
    cr_assert_eq(latch_read(0), 1);
    cr_assert_eq(status(0) & 0x80, 0);
    run_to(tick_ns(12001));     /* reloaded */
    cr_assert_eq(latch_read(0), 1000);
    cr_assert_eq(status(0) & 0x80, 0x80);
}

Test(i8254, mode2_irq0_edges_at_exact_times)
{
    outb(0x43, 0x34);
    write_count(0, 1000);
    cr_assert_eq(irq0.level, 1, "mode 2 OUT starts high");
    irq0 = (Line){ .level = 1 };
    run_to(tick_ns(5001) + 10);
    /* OUT falls when CE reaches 1 (edge 1000) and rises on the reload
     * (edge 1001), every 1000 edges. */
    cr_assert_eq(irq0.rises, 5);
    cr_assert_eq(irq0.falls, 5);
    cr_assert_eq(irq0.fall_ns[0], 838096);
    cr_assert_eq(irq0.rise_ns[0], 838934);
    for (int k = 0; k < 5; k++) {
        cr_assert_eq(irq0.fall_ns[k], tick_ns(1000 * (uint64_t)k + 1000), "fall %d", k);
        cr_assert_eq(irq0.rise_ns[k], tick_ns(1000 * (uint64_t)k + 1001), "rise %d", k);
    }
    /* Timers only for edges: two per period. */
    cr_assert_leq(fired, 10);
}

Test(i8254, late_timer_still_gives_one_edge)
{
    outb(0x43, 0x34);
    write_count(0, 1000);
    irq0 = (Line){ .level = 1 };
    /* Jump over three whole periods in one go, as a late host would. */
    icount = (uint64_t)tick_ns(3500);
    clock_run_timers(&clk);
    cr_assert_eq(irq0.rises, 1);        /* coalesced, not lost */
    cr_assert_eq(irq0.level, 1);
    run_to(tick_ns(4001));
    cr_assert_eq(irq0.rises, 2);
    cr_assert_eq(irq0.rise_ns[1], tick_ns(4001));
}

Test(i8254, mode2_new_count_waits_for_period_end)
{
    outb(0x43, 0x34);
    write_count(0, 1000);
    irq0 = (Line){ .level = 1 };
    run_to(500000);             /* edge 596 */
    write_count(0, 500);
    cr_assert_eq(status(0) & 0x40, 0x40, "NULL COUNT until the reload");
    run_to(tick_ns(1000));
    cr_assert_eq(latch_read(0), 1, "the old period runs out");
    run_to(tick_ns(1001));
    cr_assert_eq(latch_read(0), 500);
    cr_assert_eq(status(0) & 0x40, 0);
    run_to(tick_ns(2002));
    cr_assert_eq(irq0.rises, 3);
    cr_assert_eq(irq0.rise_ns[0], tick_ns(1001));
    cr_assert_eq(irq0.rise_ns[1], tick_ns(1501));
    cr_assert_eq(irq0.rise_ns[2], tick_ns(2001));
}

Test(i8254, mode6_is_mode2_and_status_echoes_it)
{
    outb(0x43, 0x3C);           /* M2-M0 = 110 */
    write_count(0, 1000);
    run_to(1000000);
    cr_assert_eq(latch_read(0), 808);
    /* OUT 1, NULL 0, RW 11, M 110, binary. */
    cr_assert_eq(status(0), 0xBC);
}

/* ---- mode 3 ---------------------------------------------------------------- */

Test(i8254, mode3_even_counts_and_output)
{
    outb(0x43, 0x36);           /* channel 0, LSB/MSB, mode 3 */
    write_count(0, 1000);
    irq0 = (Line){ .level = 1 };
    /* Loaded on edge 1; CE goes 1000, 998, ... by two; OUT flips every
     * 500 edges. */
    run_to(1000000);            /* edge 1193: 1192 % 1000 = 192, high half */
    cr_assert_eq(latch_read(0), 1000 - 2 * 192);
    cr_assert_eq(status(0) & 0x80, 0x80);
    run_to(1500000);            /* edge 1789: 788, low half, 288 in */
    cr_assert_eq(latch_read(0), 1000 - 2 * 288);
    cr_assert_eq(status(0) & 0x80, 0);
    run_to(tick_ns(3002));      /* falls 501, 1501, 2501; rises 1001, ... */
    cr_assert_eq(irq0.falls, 3);
    cr_assert_eq(irq0.rises, 3);
    cr_assert_eq(irq0.fall_ns[0], tick_ns(501));
    cr_assert_eq(irq0.rise_ns[0], tick_ns(1001));
    cr_assert_eq(irq0.fall_ns[2], tick_ns(2501));
    cr_assert_eq(irq0.rise_ns[1], tick_ns(2001));
}

Test(i8254, mode3_full_count_bios_default)
{
    outb(0x43, 0x36);
    write_count(0, 0);          /* 65536: SeaBIOS's 18.2 Hz */
    irq0 = (Line){ .level = 1 };
    run_to(tick_ns(1));
    cr_assert_eq(latch_read(0), 0);
    run_to(tick_ns(101));
    cr_assert_eq(latch_read(0), 65536 - 200);
    run_to(tick_ns(65537) + 1);
    cr_assert_eq(irq0.falls, 1);
    cr_assert_eq(irq0.rises, 1);
    cr_assert_eq(irq0.fall_ns[0], tick_ns(32769));
    cr_assert_eq(irq0.rise_ns[0], tick_ns(65537));
}

Test(i8254, mode3_odd_count_sequence)
{
    static const uint16_t ce[] = { 4, 2, 0, 4, 2, 4, 2, 0, 4, 2 };
    static const uint8_t out[] = { 1, 1, 1, 0, 0, 1, 1, 1, 0, 0 };

    outb(0x43, 0x96);           /* channel 2, LSB only, mode 3 */
    outb(0x61, 0x01);           /* gate 2 high */
    outb(0x42, 5);
    /* Odd count 5: CE loaded with 4, down by two; OUT high for 3 clocks
     * (CE reads 0 on the last), low for 2. */
    for (unsigned i = 0; i < 10; i++) {
        run_to(tick_ns(1 + i));
        outb(0x43, 0xC8);       /* read-back: count and status of ch2 */
        uint8_t st = inb(0x42);
        cr_assert_eq(st >> 7, out[i], "OUT at offset %u", i);
        cr_assert_eq(inb(0x42), ce[i], "CE at offset %u", i);
        cr_assert_eq((inb(0x61) >> 5) & 1, out[i]);
    }
}

Test(i8254, mode3_new_count_at_half_cycle_end)
{
    outb(0x43, 0x36);
    write_count(0, 1000);
    irq0 = (Line){ .level = 1 };
    run_to(tick_ns(200));
    write_count(0, 200);        /* current half-period ends on edge 501 */
    run_to(tick_ns(500));
    cr_assert_eq(latch_read(0), 2);
    run_to(tick_ns(501));
    cr_assert_eq(latch_read(0), 200);
    cr_assert_eq(status(0) & 0x80, 0);      /* low half of the new count */
    run_to(tick_ns(801));
    /* 100 low, 100 high, ...: rises on 601, 801. */
    cr_assert_eq(irq0.fall_ns[0], tick_ns(501));
    cr_assert_eq(irq0.rise_ns[0], tick_ns(601));
    cr_assert_eq(irq0.fall_ns[1], tick_ns(701));
    cr_assert_eq(irq0.rise_ns[1], tick_ns(801));
}

/* ---- mode 0 ---------------------------------------------------------------- */

Test(i8254, mode0_output_and_irq_timing)
{
    outb(0x43, 0x30);           /* channel 0, LSB/MSB, mode 0 */
    cr_assert_eq(irq0.level, 0);
    write_count(0, 100);
    cr_assert_eq(status(0), 0x70, "OUT 0, NULL 1, RW 11, mode 0");
    run_to(tick_ns(1));
    cr_assert_eq(status(0), 0x30);
    cr_assert_eq(latch_read(0), 100);
    /* OUT rises N + 1 = 101 edges after the write: 84648 ns. */
    run_to(84647);
    cr_assert_eq(irq0.level, 0);
    run_to(84648);
    cr_assert_eq(irq0.level, 1);
    cr_assert_eq(irq0.rise_ns[0], 84648);
    cr_assert_eq(latch_read(0), 0);
    run_to(tick_ns(102));
    cr_assert_eq(latch_read(0), 0xFFFF, "CE wraps and keeps counting");
    run_to(tick_ns(70000));
    cr_assert_eq(irq0.rises, 1, "no second interrupt");
    cr_assert_eq(irq0.level, 1);
}

Test(i8254, mode0_first_byte_stops_count)
{
    outb(0x43, 0x30);
    write_count(0, 1000);
    run_to(tick_ns(101));       /* 100 decrements */
    outb(0x40, 0x10);           /* LSB of a new count */
    run_to(tick_ns(300));
    cr_assert_eq(latch_read(0), 900, "counting stopped at the LSB");
    outb(0x40, 0x00);           /* MSB: 16, loaded on edge 301 */
    run_to(tick_ns(301));
    cr_assert_eq(latch_read(0), 16);
    run_to(tick_ns(317));
    cr_assert_eq(irq0.level, 1);
    cr_assert_eq(irq0.rise_ns[0], tick_ns(317));
    /* A new count drops OUT at once. */
    outb(0x40, 0x05);
    cr_assert_eq(irq0.level, 0);
}

Test(i8254, mode0_control_word_sets_out_low)
{
    outb(0x43, 0x34);
    write_count(0, 100);
    cr_assert_eq(irq0.level, 1);
    outb(0x43, 0x30);
    cr_assert_eq(irq0.level, 0);
    cr_assert_eq(status(0), 0x70);
}

/* ---- modes 1, 4, 5 and gates ----------------------------------------------- */

Test(i8254, mode1_one_shot_on_gate)
{
    outb(0x61, 0x00);
    outb(0x43, 0xB2);           /* channel 2, LSB/MSB, mode 1 */
    write_count(2, 10);
    run_to(tick_ns(50));
    cr_assert_eq(inb(0x61) & 0x20, 0x20, "OUT high until triggered");
    cr_assert_eq(status(2) & 0x40, 0x40, "count not loaded yet");
    outb(0x61, 0x01);           /* trigger at edge 50 */
    run_to(tick_ns(51));
    cr_assert_eq(inb(0x61) & 0x20, 0);
    cr_assert_eq(latch_read(2), 10);
    run_to(tick_ns(60));
    cr_assert_eq(inb(0x61) & 0x20, 0);
    run_to(tick_ns(61));
    cr_assert_eq(inb(0x61) & 0x20, 0x20);
    /* Retrigger mid-pulse restarts the full width. */
    outb(0x61, 0x00);
    run_to(tick_ns(70));
    outb(0x61, 0x01);
    run_to(tick_ns(75));
    outb(0x61, 0x00);
    outb(0x61, 0x01);           /* again at 75: low until 86 */
    run_to(tick_ns(85));
    cr_assert_eq(inb(0x61) & 0x20, 0);
    run_to(tick_ns(86));
    cr_assert_eq(inb(0x61) & 0x20, 0x20);
}

Test(i8254, mode1_on_channel0_drives_irq0)
{
    /* Channel 0's gate is tied high on the PC; a board that wires it
     * (i8254_set_gate) gets the one-shot on IRQ0, low from the clock after
     * the trigger. */
    i8254_set_gate(pit, 0, 0);
    outb(0x43, 0x12);           /* channel 0, LSB only, mode 1 */
    outb(0x40, 20);
    cr_assert_eq(irq0.level, 1);
    irq0 = (Line){ .level = 1 };
    run_to(tick_ns(30));
    i8254_set_gate(pit, 0, 1);  /* trigger on edge 30: load on 31 */
    run_to(tick_ns(60));
    cr_assert_eq(irq0.falls, 1);
    cr_assert_eq(irq0.fall_ns[0], tick_ns(31));
    cr_assert_eq(irq0.rises, 1);
    cr_assert_eq(irq0.rise_ns[0], tick_ns(51));
}

Test(i8254, mode4_software_strobe)
{
    outb(0x43, 0x38);           /* channel 0, LSB/MSB, mode 4 */
    cr_assert_eq(irq0.level, 1);
    irq0 = (Line){ .level = 1 };
    write_count(0, 10);
    run_to(tick_ns(30));
    /* Low for the one clock after CE reaches 0: edge 11 to 12. */
    cr_assert_eq(irq0.falls, 1);
    cr_assert_eq(irq0.fall_ns[0], tick_ns(11));
    cr_assert_eq(irq0.rise_ns[0], tick_ns(12));
    cr_assert_eq(irq0.rises, 1);
}

Test(i8254, mode5_hardware_strobe)
{
    outb(0x43, 0x9A);           /* channel 2, LSB only, mode 5 */
    outb(0x42, 4);
    run_to(tick_ns(10));
    outb(0x61, 0x01);           /* trigger at edge 10: load on 11 */
    run_to(tick_ns(14));
    cr_assert_eq(inb(0x61) & 0x20, 0x20);
    run_to(tick_ns(15));
    cr_assert_eq(inb(0x61) & 0x20, 0);
    run_to(tick_ns(16));
    cr_assert_eq(inb(0x61) & 0x20, 0x20);
}

Test(i8254, mode2_gate_stops_and_reloads)
{
    outb(0x61, 0x01);
    outb(0x43, 0xB4);           /* channel 2, LSB/MSB, mode 2 */
    write_count(2, 100);
    run_to(tick_ns(41));        /* 40 decrements: 60 */
    cr_assert_eq(latch_read(2), 60);
    outb(0x61, 0x00);
    run_to(tick_ns(90));
    cr_assert_eq(latch_read(2), 60, "gate low: counting stopped");
    cr_assert_eq(inb(0x61) & 0x20, 0x20);
    outb(0x61, 0x01);           /* rising gate: reload on edge 91 */
    run_to(tick_ns(91));
    cr_assert_eq(latch_read(2), 100);
    run_to(tick_ns(190));
    cr_assert_eq(inb(0x61) & 0x20, 0, "OUT low as CE reaches 1");
}

Test(i8254, mode0_gate_low_pauses)
{
    outb(0x43, 0xB0);           /* channel 2, mode 0; gate is low */
    write_count(2, 50);
    run_to(tick_ns(100));
    cr_assert_eq(latch_read(2), 50, "loaded but not counting");
    outb(0x61, 0x01);           /* gate high at 100: OUT up 50 later */
    run_to(tick_ns(149));
    cr_assert_eq(inb(0x61) & 0x20, 0);
    outb(0x61, 0x00);           /* pause at 149 with CE = 1 */
    run_to(tick_ns(300));
    cr_assert_eq(latch_read(2), 1);
    outb(0x61, 0x01);
    run_to(tick_ns(301));
    cr_assert_eq(inb(0x61) & 0x20, 0x20);
}

/* ---- reading and writing ---------------------------------------------------- */

Test(i8254, lsb_only_msb_only_and_flip_flops)
{
    outb(0x43, 0x14);           /* channel 0, LSB only, mode 2 */
    outb(0x40, 100);
    run_to(tick_ns(11));
    cr_assert_eq(inb(0x40), 90);
    cr_assert_eq(inb(0x40), 90, "LSB-only reads do not alternate");

    outb(0x43, 0x24);           /* MSB only: count 0x0200 */
    outb(0x40, 0x02);
    run_to(tick_ns(11 + 1 + 256));
    cr_assert_eq(inb(0x40), 0x01);

    /* The datasheet's interleaving: read LSB, write LSB, read MSB, write
     * MSB; the read and write flip-flops are separate. */
    outb(0x43, 0x34);
    write_count(0, 0x1234);
    run_to(tick_ns(1000));
    outb(0x43, 0x00);           /* latch: CE = 0x1234 - (1000 - 268 - 1) */
    uint16_t expect = (uint16_t)(0x1234 - (1000 - 268 - 1));
    cr_assert_eq(inb(0x40), expect & 0xFF);
    outb(0x40, 0x00);
    cr_assert_eq(inb(0x40), expect >> 8);
    outb(0x40, 0x20);           /* count 0x2000 */
    /* Mode 2 keeps the old count until its period ends, on edge
     * 269 + 0x1234 = 4929. */
    run_to(tick_ns(4000));
    cr_assert_eq(latch_read(0), 0x1234 - (4000 - 269));
    run_to(tick_ns(4929 + 10));
    cr_assert_eq(latch_read(0), 0x2000 - 10);
}

Test(i8254, latch_holds_until_read)
{
    outb(0x43, 0x34);
    write_count(0, 1000);
    run_to(tick_ns(101));
    outb(0x43, 0x00);           /* latch 900 */
    run_to(tick_ns(201));
    outb(0x43, 0x00);           /* ignored: the first is unread */
    cr_assert_eq(inb(0x40), 900 & 0xFF);
    run_to(tick_ns(301));
    cr_assert_eq(inb(0x40), 900 >> 8);
    /* Released: a plain read now sees the live count. */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    cr_assert_eq(lo | hi << 8, 700);
}

Test(i8254, read_back_status_and_count)
{
    outb(0x43, 0x34);
    cr_assert_eq(status(0), 0xF4, "OUT 1, NULL 1, RW 11, mode 2");
    write_count(0, 1000);
    run_to(1000000);
    outb(0x43, 0xC2);           /* count and status of channel 0 */
    run_to(2000000);
    cr_assert_eq(inb(0x40), 0xB4, "status first");
    cr_assert_eq(inb(0x40), 808 & 0xFF);
    cr_assert_eq(inb(0x40), 808 >> 8);
    /* Status twice without reading: the first one stays. */
    outb(0x43, 0xE2);
    run_to(tick_ns(12000));     /* CE = 1, OUT low */
    outb(0x43, 0xE2);
    cr_assert_eq(inb(0x40), 0xB4);
    /* Several counters at once. */
    outb(0x43, 0xB0);
    write_count(2, 7);
    run_to(tick_ns(12001));     /* ch0 reloaded, ch2 loaded */
    outb(0x43, 0xCE);
    cr_assert_eq(inb(0x40), 0xB4);
    cr_assert_eq(inb(0x40), 1000 & 0xFF);
    cr_assert_eq(inb(0x40), 1000 >> 8);
    cr_assert_eq(inb(0x42), 0x30, "OUT 0, NULL 0, mode 0");
    cr_assert_eq(inb(0x42), 7);
    cr_assert_eq(inb(0x42), 0);
}

Test(i8254, bcd_counting)
{
    outb(0x61, 0x01);
    outb(0x43, 0xB5);           /* channel 2, LSB/MSB, mode 2, BCD */
    write_count(2, 0x1000);     /* 1000 decimal */
    run_to(1000000);            /* 1192 % 1000 = 192: 808 */
    cr_assert_eq(latch_read(2), 0x0808);
    outb(0x43, 0xB1);           /* mode 0, BCD, count 0 = 10000 */
    write_count(2, 0);
    /* Written on edge 1193, loaded on 1194 as 10000: two edges later it
     * reads 9998. */
    run_to(tick_ns(1196));
    cr_assert_eq(latch_read(2), 0x9998);
}

/* ---- port 0x61 --------------------------------------------------------------- */

Test(i8254, port61_channel2_calibration_loop)
{
    /* SeaBIOS and Linux: gate on, speaker off, channel 2 mode 0, poll
     * OUT2 (bit 5) until it rises. */
    run_to(1000);               /* edge 1 */
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);
    outb(0x43, 0xB0);
    write_count(2, 2048);
    cr_assert_eq(inb(0x61) & 0x20, 0);
    /* Written on edge 1: OUT2 rises on edge 1 + 1 + 2048. */
    int64_t t = 1000;
    while (!(inb(0x61) & 0x20) && t < 10000000) {
        t += 100;
        run_to(t);
    }
    cr_assert_eq(t, (tick_ns(2050) + 99) / 100 * 100);
    run_to(t + 1000000);
    cr_assert_eq(inb(0x61) & 0x20, 0x20, "stays high");
    cr_assert_eq(inb(0x61) & 0x0F, 0x01);
}

Test(i8254, port61_linux_quick_calibrate_msb)
{
    outb(0x61, 0x01);
    outb(0x43, 0xB0);
    outb(0x42, 0xFF);
    outb(0x42, 0xFF);           /* count 0xFFFF at edge 0, loaded on 1 */
    run_to(tick_ns(1 + 768));
    (void)inb(0x42);
    cr_assert_eq(inb(0x42), 0xFC);
    run_to(tick_ns(1 + 1024));
    (void)inb(0x42);
    cr_assert_eq(inb(0x42), 0xFB);
}

Test(i8254, port61_bits)
{
    outb(0x61, 0xFF);
    /* Bits 0-3 read back; 4-7 are status, 6-7 always 0 here. */
    cr_assert_eq(inb(0x61) & 0xCF, 0x0F);
    outb(0x61, 0x02);
    cr_assert_eq(inb(0x61) & 0x0F, 0x02);
}

Test(i8254, refresh_toggle_every_18_clocks)
{
    run_to(10000);              /* edge 11 */
    cr_assert_eq(inb(0x61) & 0x10, 0);
    run_to(20000);              /* edge 23 */
    cr_assert_eq(inb(0x61) & 0x10, 0x10);
    run_to(40000);              /* edge 47 */
    cr_assert_eq(inb(0x61) & 0x10, 0);
    /* Toggles from edge 47 to edge 1240 (1.04 ms): 1240/18 - 47/18 =
     * 68 - 2. */
    int toggles = 0, last = 0;
    for (int64_t t = 40000; t <= 1040000; t += 500) {
        icount = (uint64_t)t;
        int b = inb(0x61) & 0x10;
        toggles += b != last;
        last = b;
    }
    cr_assert_eq(toggles, 66);
}

/* ---- robustness, reset, state ------------------------------------------------ */

Test(i8254, misprogramming_is_survived)
{
    cr_assert_eq(inb(0x43), 0xFF);
    outb(0x43, 0xC3);           /* read-back with D0 set */
    outb(0x43, 0x14);
    outb(0x40, 1);              /* count 1 in mode 2 */
    outb(0x43, 0x16);
    outb(0x40, 1);              /* count 1 in mode 3 */
    outb(0x43, 0x31);
    write_count(0, 0xABCD);     /* not BCD */
    outb(0x43, 0x34);
    outb(0x40, 1);
    outb(0x40, 0);
    run_to(1000000);
    cr_assert_leq(fired, 2, "no timer storm for count 1");
}

Test(i8254, reset_quietens_irq0)
{
    outb(0x43, 0x34);
    write_count(0, 100);
    run_to(1000000);
    cr_assert_eq(irq0.level, 1);
    i8254_reset(pit);
    cr_assert_eq(irq0.level, 0);
    cr_assert_eq(clock_next_deadline(&clk), INT64_MAX);
    cr_assert_eq(status(0), 0x70);
}

Test(i8254, free_unmaps_ports)
{
    i8254_free(pit);
    cr_assert_eq(inb(0x40), 0xFF);
    cr_assert_eq(inb(0x61), 0xFF);
    pit = i8254_new(&io, &clk, irq_line(line_set, &irq0, 0));
    cr_assert_not_null(pit);
    cr_assert_null(i8254_new(&io, &clk, irq_line(NULL, NULL, 0)),
                   "ports already taken");
}

/* Record what the guest would see from `from` on: latched counts of both
 * channels, OUT2 and IRQ0 edges. */
typedef struct Trace {
    uint16_t c0[40], c2[40];
    uint8_t out2[40];
    int rises;
    int64_t rise_ns[64];
} Trace;

static void trace(Trace *tr, int64_t from)
{
    int base = irq0.rises;

    for (int i = 0; i < 40; i++) {
        run_to(from + (int64_t)i * 377777);
        tr->c0[i] = latch_read(0);
        tr->c2[i] = latch_read(2);
        tr->out2[i] = inb(0x61) & 0x30;
    }
    tr->rises = irq0.rises - base;
    for (int i = 0; i < tr->rises && base + i < 64; i++)
        tr->rise_ns[i] = irq0.rise_ns[base + i];
}

Test(i8254, save_load_mid_count_replays_identically)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;
    Trace a = {0}, b = {0};

    outb(0x43, 0x34);
    write_count(0, 1000);
    outb(0x61, 0x01);
    outb(0x43, 0xB6);           /* channel 2 mode 3, odd count */
    write_count(2, 3333);
    run_to(2500000);
    outb(0x43, 0x00);           /* a latch pending across the save */
    outb(0x40, 0x00);           /* and half a count (the LSB) written */
    cr_assert_eq(state_save(&i8254_state_desc, &pit->s, &buf), 0);
    int64_t saved_at = (int64_t)icount;
    Line saved_line = irq0;

    trace(&a, saved_at + 1000);

    /* Scramble, go back in time, load. */
    outb(0x43, 0x30);
    write_count(0, 5);
    outb(0x61, 0x00);
    icount = (uint64_t)saved_at;
    irq0 = saved_line;
    irq0.level = 0;             /* the receiver lost track: post_load fixes */
    cr_assert_eq(state_load(&i8254_state_desc, &pit->s, pit, buf.data,
                            buf.len, &pos, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(irq0.level, saved_line.level);
    trace(&b, saved_at + 1000);

    cr_assert_gt(a.rises, 10);
    cr_assert_eq(a.rises, b.rises);
    for (int i = 0; i < a.rises; i++)
        cr_assert_eq(a.rise_ns[i], b.rise_ns[i], "rise %d", i);
    for (int i = 0; i < 40; i++) {
        cr_assert_eq(a.c0[i], b.c0[i], "c0 %d", i);
        cr_assert_eq(a.c2[i], b.c2[i], "c2 %d", i);
        cr_assert_eq(a.out2[i], b.out2[i], "out2 %d", i);
    }
    statebuf_free(&buf);
}

Test(i8254, load_rejects_zero_count)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;
    I8254State bad = pit->s;

    bad.ch[1].n = 0;
    cr_assert_eq(state_save(&i8254_state_desc, &bad, &buf), 0);
    cr_assert_neq(state_load(&i8254_state_desc, &pit->s, pit, buf.data,
                             buf.len, &pos, err, sizeof(err)), 0);
    cr_assert_eq(pit->s.ch[1].n, 65536);
    statebuf_free(&buf);
}

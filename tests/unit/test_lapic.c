/* Unit tests for hw/lapic.c: the local APIC driven through its registers
 * at 0xFEE00000 on a memory AddressSpace, with a deterministic clock whose
 * instruction counter is a variable (1 ns per instruction).
 *
 * Expectations are worked out by hand from the SDM Vol. 3 ch. 11: the
 * timer counts a 1 GHz bus clock divided by 2, 4, 8, 16, 32, 64, 128 or 1
 * (DCR 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB), so a count of N expires
 * N * div ns after it is written; a vector is dispatched only if its class
 * (bits 7:4) is above PPR's; EOI retires the highest ISR bit.  The last
 * suite runs a real-mode CPU with the APIC attached through CpuApicOps.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "hw/lapic.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define BASE 0xFEE00000ull
enum {
    R_ID = 0x20, R_VER = 0x30, R_TPR = 0x80, R_APR = 0x90, R_PPR = 0xA0,
    R_EOI = 0xB0, R_LDR = 0xD0, R_DFR = 0xE0, R_SVR = 0xF0, R_ISR = 0x100,
    R_TMR = 0x180, R_IRR = 0x200, R_ESR = 0x280, R_ICR_LO = 0x300,
    R_ICR_HI = 0x310, R_LVT_TIMER = 0x320, R_LVT_LINT0 = 0x350,
    R_LVT_LINT1 = 0x360, R_LVT_ERROR = 0x370, R_INIT = 0x380, R_CUR = 0x390,
    R_DCR = 0x3E0,
};

static uint64_t icount;
static Clock clk;
static AddressSpace mem;
static Lapic *apic;

/* What the hooks saw. */
static int intr;                    /* the CPU's INTR level */
static int intr_rises;
static int pic_acks, pic_vector;
static int eois[16], n_eois;
static int signals[16], signal_vec[16], n_signals;
/* Interrupts taken by the fake CPU in run_to (auto_take). */
static bool auto_take;
static int taken[64], n_taken;
static int64_t taken_ns[64];

static void h_intr(void *o, int level)
{
    if (level && !intr)
        intr_rises++;
    intr = level;
}
static int h_ext_ack(void *o) { pic_acks++; return pic_vector; }
static void h_eoi(void *o, int v) { if (n_eois < 16) eois[n_eois++] = v; }
static void h_signal(void *o, int kind, int v)
{
    if (n_signals < 16) {
        signal_vec[n_signals] = v;
        signals[n_signals++] = kind;
    }
}

static uint64_t fake_icount(void *o) { return *(uint64_t *)o; }

static const LapicHooks hooks = {
    .ext_ack = h_ext_ack, .set_cpu_intr = h_intr, .eoi_broadcast = h_eoi,
    .signal = h_signal, .opaque = NULL,
};

static void setup(void)
{
    icount = 0;
    intr = intr_rises = pic_acks = n_eois = n_signals = n_taken = 0;
    pic_vector = 0x20;
    auto_take = false;
    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    clock_set_icount_source(&clk, fake_icount, &icount);
    as_init(&mem, "memory", 0);
    cr_assert_eq(lapic_new(&mem, &clk, &hooks, &apic), 0);
}

static void teardown(void)
{
    lapic_free(apic);
    as_destroy(&mem);
}

TestSuite(lapic, .init = setup, .fini = teardown);

static uint32_t rd(unsigned off) { return (uint32_t)as_read(&mem, BASE + off, 4); }
static void wr(unsigned off, uint32_t v) { as_write(&mem, BASE + off, v, 4); }

static bool irr_has(int v) { return rd(R_IRR + (v >> 5) * 16) >> (v & 31) & 1; }
static bool isr_has(int v) { return rd(R_ISR + (v >> 5) * 16) >> (v & 31) & 1; }
static bool tmr_has(int v) { return rd(R_TMR + (v >> 5) * 16) >> (v & 31) & 1; }

/* The fake CPU: take every interrupt as soon as INTR is up, EOI it. */
static void take_all(void)
{
    while (intr && n_taken < 64) {
        taken_ns[n_taken] = clock_ns(&clk);
        taken[n_taken++] = lapic_ack(apic);
        wr(R_EOI, 0);
    }
}

/* Run to `ns` as the board's deterministic loop does: stop at each timer
 * deadline and fire what is due. */
static void run_to(int64_t ns)
{
    for (;;) {
        int64_t d = clock_next_deadline(&clk);
        if (d > ns)
            break;
        if (d > (int64_t)icount)
            icount = (uint64_t)d;
        clock_run_timers(&clk);
        if (auto_take)
            take_all();
    }
    icount = (uint64_t)ns;
    clock_run_timers(&clk);
    if (auto_take)
        take_all();
}

static void enable(void)
{
    wr(R_SVR, 0x1FF);
}

static void self_ipi(int vector)
{
    wr(R_ICR_LO, 0x40000u | (uint32_t)vector);   /* shorthand self, fixed */
}

/* ---- reset state ------------------------------------------------------------- */

Test(lapic, reset_values)
{
    cr_assert_eq(rd(R_ID), 0);
    cr_assert_eq(rd(R_VER), 0x00050014);
    cr_assert_eq(rd(R_TPR), 0);
    cr_assert_eq(rd(R_PPR), 0);
    cr_assert_eq(rd(R_DFR), 0xFFFFFFFF);
    cr_assert_eq(rd(R_SVR), 0xFF);
    cr_assert_eq(rd(R_LVT_TIMER), 0x10000);
    cr_assert_eq(rd(R_LVT_LINT0), 0x700, "BSP in virtual-wire mode");
    cr_assert_eq(rd(R_LVT_LINT1), 0x10000);
    cr_assert_eq(rd(R_LVT_ERROR), 0x10000);
    cr_assert_eq(rd(R_INIT), 0);
    cr_assert_eq(rd(R_CUR), 0);
    cr_assert_eq(rd(R_DCR), 0);
    cr_assert_eq(apic->s.apic_base, 0xFEE00900ull);
    cr_assert_eq(intr, 0);
}

Test(lapic, register_write_masks)
{
    enable();
    wr(R_ID, 0xFFFFFFFF);
    cr_assert_eq(rd(R_ID), 0xFF000000);
    wr(R_ID, 0);
    wr(R_LDR, 0xFFFFFFFF);
    cr_assert_eq(rd(R_LDR), 0xFF000000);
    wr(R_DFR, 0x0);
    cr_assert_eq(rd(R_DFR), 0x0FFFFFFF);
    wr(R_TPR, 0x1FF);
    cr_assert_eq(rd(R_TPR), 0xFF);
    wr(R_LVT_TIMER, 0xFFFFFFFF);
    cr_assert_eq(rd(R_LVT_TIMER), 0x000700FF);
    wr(R_LVT_LINT0, 0xFFFFFFFF);
    cr_assert_eq(rd(R_LVT_LINT0), 0x0001A7FF, "delivery status, remote IRR RO");
    wr(R_DCR, 0xFFFFFFFF);
    cr_assert_eq(rd(R_DCR), 0xB);
    wr(R_VER, 0);
    cr_assert_eq(rd(R_VER), 0x00050014);
    /* Narrow reads see the register's bytes. */
    cr_assert_eq(as_read(&mem, BASE + R_VER + 2, 1), 0x05);
}

/* ---- the timer ------------------------------------------------------------- */

static const struct { uint32_t dcr; int div; } divs[] = {
    { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
    { 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
};

Test(lapic, oneshot_each_divider)
{
    enable();
    wr(R_LVT_TIMER, 0x40);              /* one-shot, vector 0x40 */
    for (size_t i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
        int64_t t0 = (int64_t)icount;
        int div = divs[i].div;
        wr(R_DCR, divs[i].dcr);
        wr(R_INIT, 1000);
        cr_assert_eq(rd(R_CUR), 1000);
        run_to(t0 + 250 * div);
        cr_assert_eq(rd(R_CUR), 750, "div %d", div);
        run_to(t0 + 250 * div + div - 1);
        cr_assert_eq(rd(R_CUR), 750, "div %d: still in the same count", div);
        run_to(t0 + 1000 * div - 1);
        cr_assert_eq(rd(R_CUR), 1);
        cr_assert_not(irr_has(0x40), "div %d: not before the expiry", div);
        run_to(t0 + 1000 * div);
        cr_assert(irr_has(0x40), "div %d: at exactly 1000 * div ns", div);
        cr_assert_eq(rd(R_CUR), 0);
        cr_assert_eq(intr, 1);
        cr_assert_eq(lapic_ack(apic), 0x40);
        wr(R_EOI, 0);
        run_to(t0 + 5000 * div);
        cr_assert_not(irr_has(0x40), "one-shot: only once");
        cr_assert_eq(rd(R_CUR), 0);
    }
}

Test(lapic, periodic_each_divider)
{
    enable();
    auto_take = true;
    wr(R_LVT_TIMER, 0x20051);           /* periodic, vector 0x51 */
    for (size_t i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
        int div = divs[i].div;
        int64_t t0 = (int64_t)icount;
        n_taken = 0;
        wr(R_DCR, divs[i].dcr);
        wr(R_INIT, 100);
        run_to(t0 + 25 * div);
        cr_assert_eq(rd(R_CUR), 75);
        run_to(t0 + 100 * div);
        cr_assert_eq(rd(R_CUR), 100, "reloaded at the expiry");
        run_to(t0 + 130 * div);
        cr_assert_eq(rd(R_CUR), 70);
        run_to(t0 + 500 * div);
        cr_assert_eq(n_taken, 5, "div %d", div);
        for (int k = 0; k < 5; k++) {
            cr_assert_eq(taken[k], 0x51);
            cr_assert_eq(taken_ns[k], t0 + (k + 1) * 100 * div, "div %d, #%d", div, k);
        }
        wr(R_INIT, 0);                  /* 0 stops the timer */
        run_to(t0 + 1000 * div);
        cr_assert_eq(n_taken, 5);
        cr_assert_eq(rd(R_CUR), 0);
    }
}

Test(lapic, masked_timer_counts_silently)
{
    enable();
    wr(R_LVT_TIMER, 0x10040);
    wr(R_DCR, 0xB);
    wr(R_INIT, 100);
    run_to(50);
    cr_assert_eq(rd(R_CUR), 50);
    run_to(200);
    cr_assert_not(irr_has(0x40));
    cr_assert_eq(rd(R_CUR), 0);
}

Test(lapic, divider_change_keeps_count)
{
    enable();
    wr(R_LVT_TIMER, 0x40);
    wr(R_DCR, 0xB);                     /* 1 ns per count */
    wr(R_INIT, 1000);
    run_to(400);                        /* 600 left */
    wr(R_DCR, 0x0);                     /* 2 ns per count from now */
    cr_assert_eq(rd(R_CUR), 600);
    run_to(400 + 1199);
    cr_assert_not(irr_has(0x40));
    run_to(400 + 1200);
    cr_assert(irr_has(0x40));
}

Test(lapic, late_periodic_gives_one_interrupt)
{
    enable();
    wr(R_LVT_TIMER, 0x20040);
    wr(R_DCR, 0xB);
    wr(R_INIT, 100);
    icount = 1050;                      /* the board comes late */
    clock_run_timers(&clk);
    cr_assert(irr_has(0x40));
    cr_assert_eq(lapic_ack(apic), 0x40);
    wr(R_EOI, 0);
    cr_assert_eq(rd(R_CUR), 50);
    cr_assert_eq(clock_next_deadline(&clk), 1100, "back on the period grid");
}

Test(lapic, tsc_deadline)
{
    enable();
    /* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
    lapic_write_tsc_deadline(apic, 5000, 0);
    cr_assert_eq(lapic_read_tsc_deadline(apic), 0);

    wr(R_LVT_TIMER, 0x40061);           /* TSC-deadline, vector 0x61 */
    run_to(1000);
    /* TSC = virtual ns + 7 (an offset): deadline TSC 5007 is t = 5000. */
    lapic_write_tsc_deadline(apic, 5007, 1007);
    cr_assert_eq(lapic_read_tsc_deadline(apic), 5007);
    wr(R_INIT, 50);                     /* ignored in this mode */
    cr_assert_eq(rd(R_CUR), 0);
    run_to(4999);
    cr_assert_not(irr_has(0x61));
    run_to(5000);
    cr_assert(irr_has(0x61));
    cr_assert_eq(lapic_read_tsc_deadline(apic), 0, "cleared once fired");
    cr_assert_eq(lapic_ack(apic), 0x61);
    wr(R_EOI, 0);

    /* A deadline in the past fires at once. */
    lapic_write_tsc_deadline(apic, 100, 5007);
    cr_assert(irr_has(0x61));
    cr_assert_eq(lapic_ack(apic), 0x61);
    wr(R_EOI, 0);

    /* Writing 0 disarms. */
    lapic_write_tsc_deadline(apic, 9007, 5007);
    lapic_write_tsc_deadline(apic, 0, 5007);
    run_to(10000);
    cr_assert_not(irr_has(0x61));

    /* Leaving TSC-deadline mode disarms too. */
    lapic_write_tsc_deadline(apic, 12007, 10007);
    wr(R_LVT_TIMER, 0x61);
    wr(R_LVT_TIMER, 0x40061);
    cr_assert_eq(lapic_read_tsc_deadline(apic), 0);
    run_to(20000);
    cr_assert_not(irr_has(0x61));
}

/* ---- priorities, ISR and EOI ------------------------------------------------ */

Test(lapic, tpr_masks_by_class)
{
    enable();
    wr(R_TPR, 0x50);
    self_ipi(0x45);
    cr_assert(irr_has(0x45));
    cr_assert_eq(intr, 0, "class 4 below TPR class 5");
    cr_assert_eq(rd(R_PPR), 0x50);
    wr(R_TPR, 0x40);
    cr_assert_eq(intr, 0, "class 4 not above class 4");
    wr(R_TPR, 0x3F);
    cr_assert_eq(intr, 1);
    cr_assert_eq(rd(R_PPR), 0x3F);
    cr_assert_eq(lapic_ack(apic), 0x45);
    cr_assert(isr_has(0x45));
    cr_assert_not(irr_has(0x45));
    cr_assert_eq(rd(R_PPR), 0x40, "ISR class above TPR class");
    cr_assert_eq(intr, 0);
    wr(R_EOI, 0);
    cr_assert_eq(rd(R_PPR), 0x3F);
}

Test(lapic, cr8_is_tpr_high_nibble)
{
    enable();
    wr(R_TPR, 0x37);
    cr_assert_eq(lapic_get_tpr(apic), 3);
    lapic_set_tpr(apic, 9);
    cr_assert_eq(rd(R_TPR), 0x90, "low nibble cleared");
    self_ipi(0x92);
    cr_assert_eq(intr, 0);
    lapic_set_tpr(apic, 8);
    cr_assert_eq(intr, 1);
}

Test(lapic, apr_follows_sdm)
{
    enable();
    wr(R_TPR, 0x20);
    cr_assert_eq(rd(R_APR), 0x20, "TPR above an empty IRR/ISR");
    wr(R_TPR, 0xA0);
    self_ipi(0x75);
    cr_assert_eq(lapic_ack(apic), 0xFF, "masked: the spurious vector");
    wr(R_TPR, 0x30);
    cr_assert_eq(rd(R_APR), 0x70, "IRR class 7 above TPR class 3");
}

Test(lapic, nested_isr_eoi_order)
{
    enable();
    self_ipi(0x40);
    cr_assert_eq(lapic_ack(apic), 0x40);
    self_ipi(0x30);
    self_ipi(0x41);
    cr_assert_eq(intr, 0, "0x30 and 0x41 not above class 4 in service");
    self_ipi(0x50);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_ack(apic), 0x50);
    cr_assert(isr_has(0x40) && isr_has(0x50));
    cr_assert_eq(rd(R_PPR), 0x50);
    wr(R_EOI, 0);                       /* retires 0x50, the highest */
    cr_assert_not(isr_has(0x50));
    cr_assert(isr_has(0x40));
    cr_assert_eq(intr, 0, "0x41 still blocked by 0x40");
    wr(R_EOI, 0);                       /* retires 0x40 */
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_ack(apic), 0x41);
    wr(R_EOI, 0);
    cr_assert_eq(lapic_ack(apic), 0x30);
    wr(R_EOI, 0);
    cr_assert_eq(intr, 0);
    cr_assert_eq(rd(R_ISR + 0x20), 0);
    cr_assert_eq(n_eois, 0, "edge interrupts: no EOI broadcast");
}

Test(lapic, spurious_vector)
{
    wr(R_SVR, 0x1EF);
    self_ipi(0x60);
    cr_assert_eq(intr, 1);
    wr(R_TPR, 0x70);                    /* masked between INTR and INTA */
    cr_assert_eq(intr, 0);
    cr_assert_eq(lapic_ack(apic), 0xEF);
    cr_assert_eq(rd(R_ISR + 0x30), 0, "spurious: no ISR bit");
    cr_assert(irr_has(0x60));

    /* Software-disabled: LVTs masked and stay masked, fixed messages
     * refused, INTA gives the spurious vector. */
    wr(R_TPR, 0);
    cr_assert_eq(lapic_ack(apic), 0x60);
    wr(R_EOI, 0);
    wr(R_SVR, 0x0EF);
    cr_assert_eq(rd(R_LVT_LINT0) & 0x10000, 0x10000);
    wr(R_LVT_TIMER, 0x40);
    cr_assert_eq(rd(R_LVT_TIMER), 0x10040);
    self_ipi(0x70);
    cr_assert_not(irr_has(0x70));
    cr_assert_eq(intr, 0);
    cr_assert_eq(lapic_ack(apic), 0xEF);
}

/* ---- LINT0/LINT1 and the 8259 --------------------------------------------------- */

Test(lapic, extint_passthrough)
{
    /* At reset LINT0 is ExtINT: the 8259's INTR reaches the CPU. */
    lapic_set_lint(apic, 0, 1);
    cr_assert_eq(intr, 1);
    pic_vector = 0x08;
    cr_assert_eq(lapic_ack(apic), 0x08);
    cr_assert_eq(pic_acks, 1);
    lapic_set_lint(apic, 0, 0);
    cr_assert_eq(intr, 0);

    /* ExtINT ignores the TPR. */
    enable();
    wr(R_TPR, 0xF0);
    lapic_set_lint(apic, 0, 1);
    cr_assert_eq(intr, 1);
    /* Masked LINT0 cuts the 8259 off. */
    wr(R_LVT_LINT0, 0x10700);
    cr_assert_eq(intr, 0);
    wr(R_LVT_LINT0, 0x700);
    cr_assert_eq(intr, 1);
    /* An APIC vector above PPR goes first. */
    wr(R_TPR, 0);
    self_ipi(0x80);
    cr_assert_eq(lapic_ack(apic), 0x80);
    cr_assert_eq(lapic_ack(apic), 0x08);
    cr_assert_eq(pic_acks, 2);
}

Test(lapic, globally_disabled_connects_pic)
{
    enable();
    wr(R_LVT_LINT0, 0x10700);
    lapic_set_base(apic, 0xFEE00000ull);     /* bit 11 clear */
    cr_assert_eq(as_read(&mem, BASE + R_VER, 4), 0xFFFFFFFF, "unmapped");
    lapic_set_lint(apic, 0, 1);
    cr_assert_eq(intr, 1, "LINT0 is INTR");
    cr_assert_eq(lapic_ack(apic), 0x20);
    lapic_set_lint(apic, 1, 1);
    cr_assert_eq(n_signals, 1);
    cr_assert_eq(signals[0], LAPIC_SIGNAL_NMI, "LINT1 is NMI");
    lapic_set_lint(apic, 0, 0);
    lapic_set_base(apic, 0xFEE00900ull);
    cr_assert_eq(rd(R_VER), 0x00050014);
    cr_assert_eq(rd(R_SVR), 0xFF, "back in the power-up state");
}

Test(lapic, relocation)
{
    lapic_set_base(apic, 0xFED40000ull | 0x900);
    cr_assert_eq(as_read(&mem, 0xFED40000ull + R_VER, 4), 0x00050014);
    cr_assert_eq(as_read(&mem, BASE + R_VER, 4), 0xFFFFFFFF);
}

Test(lapic, lint_fixed_level_and_nmi)
{
    enable();
    wr(R_LVT_LINT0, 0x8033);            /* fixed, level, vector 0x33 */
    lapic_set_lint(apic, 0, 1);
    cr_assert(irr_has(0x33));
    cr_assert(tmr_has(0x33));
    cr_assert(rd(R_LVT_LINT0) & 0x4000, "remote IRR");
    cr_assert_eq(lapic_ack(apic), 0x33);
    wr(R_EOI, 0);                       /* still asserted: again */
    cr_assert(irr_has(0x33));
    cr_assert_eq(n_eois, 1);
    cr_assert_eq(eois[0], 0x33);
    lapic_set_lint(apic, 0, 0);
    cr_assert_eq(lapic_ack(apic), 0x33);
    wr(R_EOI, 0);
    cr_assert_not(irr_has(0x33));
    cr_assert_eq(rd(R_LVT_LINT0) & 0x4000, 0);

    wr(R_LVT_LINT1, 0x400);             /* NMI, edge */
    lapic_set_lint(apic, 1, 1);
    lapic_set_lint(apic, 1, 1);
    lapic_set_lint(apic, 1, 0);
    lapic_set_lint(apic, 1, 1);
    cr_assert_eq(n_signals, 2);
    cr_assert_eq(signals[0], LAPIC_SIGNAL_NMI);
}

/* ---- IPIs and bus messages -------------------------------------------------------- */

Test(lapic, self_ipi_and_destinations)
{
    enable();
    self_ipi(0x80);
    cr_assert(irr_has(0x80));
    cr_assert_eq(rd(R_ICR_LO) & 0x1000, 0, "delivery status idle");
    cr_assert_eq(lapic_ack(apic), 0x80);
    wr(R_EOI, 0);

    wr(R_ICR_HI, 0x00000000);           /* physical, APIC ID 0 */
    wr(R_ICR_LO, 0x81);
    cr_assert(irr_has(0x81));
    wr(R_ICR_HI, 0x01000000);           /* APIC ID 1: nobody */
    wr(R_ICR_LO, 0x82);
    cr_assert_not(irr_has(0x82));
    wr(R_ICR_LO, 0xC0083);              /* all excluding self */
    cr_assert_not(irr_has(0x83));
    wr(R_ICR_LO, 0x80084);              /* all including self */
    cr_assert(irr_has(0x84));

    wr(R_LDR, 0x02000000);              /* flat model, logical bit 1 */
    wr(R_ICR_HI, 0x02000000);
    wr(R_ICR_LO, 0x885);                /* logical */
    cr_assert(irr_has(0x85));
    wr(R_ICR_HI, 0x01000000);
    wr(R_ICR_LO, 0x886);
    cr_assert_not(irr_has(0x86));
    wr(R_DFR, 0x0FFFFFFF);              /* cluster model */
    wr(R_LDR, 0x31000000);              /* cluster 3, member bit 0 */
    wr(R_ICR_HI, 0x31000000);
    wr(R_ICR_LO, 0x887);
    cr_assert(irr_has(0x87));
    wr(R_ICR_HI, 0x21000000);
    wr(R_ICR_LO, 0x888);
    cr_assert_not(irr_has(0x88));
    wr(R_ICR_HI, 0x02000000);
    wr(R_ICR_LO, 0x189);                /* lowest priority, physical 2 */
    cr_assert_not(irr_has(0x89));
    wr(R_ICR_HI, 0x00000000);
    wr(R_ICR_LO, 0x18A);
    cr_assert(irr_has(0x8A));
}

Test(lapic, ipi_special_modes)
{
    enable();
    wr(R_ICR_LO, 0x40400);              /* NMI to self: not valid */
    cr_assert_eq(n_signals, 0);
    wr(R_ICR_LO, 0x00400);              /* NMI, physical 0 */
    wr(R_ICR_LO, 0x00612);              /* SIPI, page 0x12 */
    cr_assert_eq(n_signals, 2);
    cr_assert_eq(signals[0], LAPIC_SIGNAL_NMI);
    cr_assert_eq(signals[1], LAPIC_SIGNAL_SIPI);
    cr_assert_eq(signal_vec[1], 0x12);
    wr(R_ID, 0x03000000);
    wr(R_TPR, 0x20);
    wr(R_ICR_HI, 0x03000000);
    wr(R_ICR_LO, 0x0C500);              /* INIT level assert */
    cr_assert_eq(signals[2], LAPIC_SIGNAL_INIT);
    cr_assert_eq(rd(R_ID), 0x03000000, "INIT keeps the ID");
    cr_assert_eq(rd(R_TPR), 0);
    cr_assert_eq(rd(R_SVR), 0xFF);
}

Test(lapic, illegal_vectors_and_esr)
{
    enable();
    wr(R_LVT_ERROR, 0xFE);
    self_ipi(0x05);
    cr_assert_not(irr_has(0x05));
    cr_assert_eq(rd(R_ESR), 0, "not visible before a write");
    wr(R_ESR, 0);
    cr_assert_eq(rd(R_ESR), 0x60, "send and receive illegal vector");
    cr_assert(irr_has(0xFE), "error LVT");
    wr(R_ESR, 0);
    cr_assert_eq(rd(R_ESR), 0);
}

Test(lapic, bus_message_level_and_eoi_broadcast)
{
    enable();
    cr_assert_eq(lapic_bus_deliver(apic, 0, 0, 0x70, LAPIC_DM_FIXED, 1), 1);
    cr_assert(tmr_has(0x70));
    cr_assert_eq(lapic_ack(apic), 0x70);
    wr(R_EOI, 0);
    cr_assert_eq(n_eois, 1);
    cr_assert_eq(eois[0], 0x70);
    cr_assert_eq(lapic_bus_deliver(apic, 0, 0, 0x71, LAPIC_DM_FIXED, 0), 1);
    cr_assert_not(tmr_has(0x71));
    cr_assert_eq(lapic_ack(apic), 0x71);
    wr(R_EOI, 0);
    cr_assert_eq(n_eois, 1);
    cr_assert_eq(lapic_bus_deliver(apic, 5, 0, 0x72, LAPIC_DM_FIXED, 0), 0);
    /* An ExtINT message runs the 8259's INTA. */
    cr_assert_eq(lapic_bus_deliver(apic, 0, 0, 0, LAPIC_DM_EXTINT, 0), 1);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_ack(apic), 0x20);
    cr_assert_eq(pic_acks, 1);
    cr_assert_eq(intr, 0);
    /* Software-disabled: fixed messages are refused. */
    wr(R_SVR, 0xFF);
    cr_assert_eq(lapic_bus_deliver(apic, 0, 0, 0x73, LAPIC_DM_FIXED, 1), 0);
}

/* ---- snapshots -------------------------------------------------------------------- */

Test(lapic, state_roundtrip_rearms_timer)
{
    StateBuf buf = {0};
    size_t pos = 0;
    char err[128];

    enable();
    wr(R_LVT_TIMER, 0x20040);
    wr(R_DCR, 0xB);
    wr(R_INIT, 300);
    self_ipi(0x90);
    run_to(100);
    cr_assert_eq(state_save(&lapic_state_desc, &apic->s, &buf), 0);
    wr(R_INIT, 0);
    wr(R_EOI, 0);
    lapic_ack(apic);
    wr(R_EOI, 0);
    cr_assert_eq(state_load(&lapic_state_desc, &apic->s, apic, buf.data,
                            buf.len, &pos, err, sizeof(err)), 0, "%s", err);
    statebuf_free(&buf);
    cr_assert(irr_has(0x90));
    cr_assert_eq(intr, 1);
    cr_assert_eq(rd(R_CUR), 200);
    run_to(300);
    cr_assert(irr_has(0x40), "timer re-armed by post_load");
}

/* ---- the CPU glue (cpu/cpuid.c, cpu/msr.c, cpu/exec.c) ------------------------------ */

/* The adapters a board writes to fill CpuApicOps (cpu/ has no hw/ types). */
static uint8_t op_get_tpr(void *a) { return lapic_get_tpr(a); }
static void op_set_tpr(void *a, uint8_t v) { lapic_set_tpr(a, v); }
static void op_set_base(void *a, uint64_t v) { lapic_set_base(a, v); }
static uint64_t op_rd_deadline(void *a) { return lapic_read_tsc_deadline(a); }
static void op_wr_deadline(void *a, uint64_t d, uint64_t now)
{
    lapic_write_tsc_deadline(a, d, now);
}
static bool op_has(void *a) { return lapic_has_interrupt(a); }
static int op_ack(void *a) { return lapic_ack(a); }

static const CpuApicOps apic_ops = {
    .get_tpr = op_get_tpr, .set_tpr = op_set_tpr, .set_base = op_set_base,
    .read_tsc_deadline = op_rd_deadline, .write_tsc_deadline = op_wr_deadline,
    .has_interrupt = op_has, .ack = op_ack,
};

static Cpu cpu;
static AddressSpace ports;
static uint8_t *ram;

static void cpu_intr(void *o, int level) { cpu.intr_pending = level; }
static uint64_t cpu_icount(void *o) { return cpu.s.icount; }
static int64_t cpu_time(void *o) { return clock_ns(&clk); }

static void cpu_setup(void)
{
    LapicHooks h = { .set_cpu_intr = cpu_intr, .ext_ack = h_ext_ack };

    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    clock_set_icount_source(&clk, cpu_icount, NULL);
    as_init(&mem, "memory", 0);
    as_init(&ports, "io", 1 << 16);
    ram = calloc(1, 0x10000);
    cr_assert_not_null(ram);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, 0x10000, ram), 0);
    cpu_init(&cpu, &mem, &ports);
    cr_assert_eq(lapic_new(&mem, &clk, &h, &apic), 0);
    cpu.time_ns = cpu_time;
    /* Real mode at 0000:1000 with a stack at 0000:8000. */
    cpu_load_seg_real(&cpu, SEG_CS, 0);
    cpu_load_seg_real(&cpu, SEG_SS, 0);
    cpu.s.rip = 0x1000;
    cpu.s.regs[R_SP] = 0x8000;
    static const uint8_t main_code[] = {
        0xFB,                               /* sti */
        0x90,                               /* nop (the STI shadow) */
        0xF4,                               /* hlt */
        0xEB, 0xFD,                         /* jmp back to the hlt */
    };
    static const uint8_t handler[] = {
        0xC7, 0x06, 0x00, 0x30, 0x34, 0x12, /* mov word [0x3000], 0x1234 */
        0xF4,                               /* hlt */
    };
    memcpy(ram + 0x1000, main_code, sizeof(main_code));
    memcpy(ram + 0x2000, handler, sizeof(handler));
    ram[0x40 * 4] = 0x00;                   /* IVT[0x40] = 0000:2000 */
    ram[0x40 * 4 + 1] = 0x20;
}

static void cpu_teardown(void)
{
    lapic_free(apic);
    cpu_destroy(&cpu);
    as_destroy(&mem);
    as_destroy(&ports);
    free(ram);
}

TestSuite(lapic_cpu, .init = cpu_setup, .fini = cpu_teardown);

static void attach(void)
{
    cpu.apic = apic;
    cpu.apic_ops = &apic_ops;
}

Test(lapic_cpu, cpuid_reports_apic_only_when_attached)
{
    uint32_t r[4];

    cpu_cpuid(&cpu, 1, 0, r);
    cr_assert_eq(r[3] & (1u << 9), 0, "no APIC bit without an APIC");
    cr_assert_eq(r[2] & (1u << 24), 0, "no TSC-deadline bit");
    attach();
    cpu.apic_id = 3;
    cpu_cpuid(&cpu, 1, 0, r);
    cr_assert_eq(r[3] & (1u << 9), 1u << 9);
    cr_assert_eq(r[2] & (1u << 24), 1u << 24);
    cr_assert_eq(r[1] >> 24, 3, "initial APIC ID in EBX[31:24]");
    cpu_cpuid(&cpu, 0, 0, r);
    cr_assert_geq(r[0], 0x16);
    cpu_cpuid(&cpu, 0x15, 0, r);
    cr_assert_eq(r[0], 1);
    cr_assert_eq(r[1], 1);
    cr_assert_eq(r[2], 1000000000u, "1 GHz crystal: TSC = ECX * EBX / EAX");
    cpu_cpuid(&cpu, 0x16, 0, r);
    cr_assert_eq(r[0], 1000);
}

Test(lapic_cpu, msrs_forwarded)
{
    uint64_t v;

    cr_assert_eq(cpu_rdmsr(&cpu, 0x6E0, &v), -1, "#GP without an APIC");
    attach();
    as_write(&mem, BASE + R_SVR, 0x1FF, 4);
    as_write(&mem, BASE + R_LVT_TIMER, 0x40040, 4);  /* TSC-deadline */
    cpu.s.tsc_offset = 1000;
    cr_assert_eq(cpu_wrmsr(&cpu, 0x6E0, 6000), 0);
    cr_assert_eq(cpu_rdmsr(&cpu, 0x6E0, &v), 0);
    cr_assert_eq(v, 6000);
    cr_assert_eq(clock_next_deadline(&clk), 5000, "TSC 6000 = 5000 ns + 1000");
    cr_assert_eq(cpu_wrmsr(&cpu, 0x1B, 0xFED40900ull), 0);
    cr_assert_eq(as_read(&mem, 0xFED40000ull + R_VER, 4), 0x00050014,
                 "IA32_APIC_BASE moved the registers");
}

Test(lapic_cpu, interrupt_taken_through_the_apic)
{
    attach();
    as_write(&mem, BASE + R_SVR, 0x1FF, 4);
    as_write(&mem, BASE + R_ICR_LO, 0x40040, 4);    /* self IPI 0x40 */
    cr_assert_eq(cpu.intr_pending, 1);
    cpu_exec(&cpu, 100);
    cr_assert_eq(ram[0x3000] | ram[0x3001] << 8, 0x1234, "handler ran");
    cr_assert_eq(cpu.s.rip, 0x2007);
    cr_assert(as_read(&mem, BASE + R_ISR + 0x20, 4) & 1, "0x40 in service");
    cr_assert_eq(cpu.intr_pending, 0);
}

Test(lapic_cpu, tpr_holds_interrupt_off)
{
    attach();
    as_write(&mem, BASE + R_SVR, 0x1FF, 4);
    apic_ops.set_tpr(apic, 4);                      /* as MOV CR8, 4 */
    cr_assert_eq(apic_ops.get_tpr(apic), 4);
    as_write(&mem, BASE + R_ICR_LO, 0x40040, 4);
    cpu_exec(&cpu, 100);
    cr_assert_eq(ram[0x3000], 0, "class 4 not above TPR class 4");
    cr_assert(cpu.s.halted);
    apic_ops.set_tpr(apic, 3);
    cpu_exec(&cpu, 200);
    cr_assert_eq(ram[0x3000], 0x34);
}

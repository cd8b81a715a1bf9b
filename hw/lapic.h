/* The local APIC of one CPU (xAPIC, Intel SDM Vol. 3 ch. 11), memory-mapped
 * at IA32_APIC_BASE (0xFEE00000 after reset).
 *
 * Wiring, for the board (see also hw/ioapic.h and hw/hpet.h):
 *   LapicHooks h = { .ext_ack = <the 8259 pair's INTA: i8259_pair_ack>,
 *                    .set_cpu_intr = <cpu.intr_pending = level>,
 *                    .eoi_broadcast = <ioapic_eoi_broadcast(ioapic, v)>,
 *                    .signal = <NMI/INIT/SIPI/SMI to the CPU, or NULL>,
 *                    .opaque = board };
 *   lapic_new(&mem, &clock, &h, &apic);   (calls set_cpu_intr(0) already:
 *     create the CPU first)
 *   the 8259 pair's INT output drives LINT0: lapic_set_lint(apic, 0, level)
 *     (it reaches the CPU through the APIC: virtual-wire mode, ExtINT);
 *   the board's NMI source, if any, drives LINT1;
 *   the CPU asks through CpuApicOps (cpu/cpu.h): get/set TPR (MOV CR8),
 *     IA32_APIC_BASE writes (lapic_set_base), IA32_TSC_DEADLINE (read/write),
 *     and the INTA cycle (lapic_ack);
 *   the IOAPIC delivers with lapic_bus_deliver(apic, ...) (IoapicDeliver);
 *   snapshots: state_save/state_load(&lapic_state_desc, &apic->s, apic).
 *
 * Clocks: the timer counts a 1 GHz "bus clock" divided by the divide
 * configuration register, so one count is 1, 2, 4 ... 128 virtual ns.  The
 * TSC also runs at 1 GHz (cpu/msr.c), and CPUID leaf 0x15 reports a 1 GHz
 * crystal, which Linux takes as the APIC timer's input clock.  Nothing
 * ticks per count: the current count is computed from the time the count
 * started, and one Timer is armed for the next expiry.
 */
#ifndef VIREO_HW_LAPIC_H
#define VIREO_HW_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/clock.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define LAPIC_DEFAULT_BASE 0xFEE00000ull
#define LAPIC_MMIO_SIZE 0x1000u
#define LAPIC_BUS_HZ 1000000000ull   /* the timer's input clock */

/* IA32_APIC_BASE bits (SDM 11.4.4). */
#define LAPIC_BASE_BSP (1ull << 8)
#define LAPIC_BASE_ENABLE (1ull << 11)

/* Delivery modes, as in the ICR, the LVT and the IOAPIC's redirection
 * entries (SDM 11.6.1). */
enum {
    LAPIC_DM_FIXED = 0, LAPIC_DM_LOWEST = 1, LAPIC_DM_SMI = 2,
    LAPIC_DM_NMI = 4, LAPIC_DM_INIT = 5, LAPIC_DM_STARTUP = 6,
    LAPIC_DM_EXTINT = 7,
};

/* What `signal` reports to the CPU: the events that are not vectored
 * interrupts through INTR. */
enum { LAPIC_SIGNAL_NMI, LAPIC_SIGNAL_SMI, LAPIC_SIGNAL_INIT, LAPIC_SIGNAL_SIPI };

/* The local vector table, in register order (0x320 ... 0x370). */
enum {
    LVT_TIMER, LVT_THERMAL, LVT_PERFMON, LVT_LINT0, LVT_LINT1, LVT_ERROR,
    LVT_COUNT
};

typedef struct LapicHooks {
    /* INTA of the external (8259) controller, for ExtINT: the vector. */
    int (*ext_ack)(void *opaque);
    /* The CPU's INTR input: 1 while lapic_has_interrupt() is true. */
    void (*set_cpu_intr)(void *opaque, int level);
    /* EOI of a level-triggered interrupt: tell the IOAPIC(s). */
    void (*eoi_broadcast)(void *opaque, int vector);
    /* NMI, SMI, INIT, SIPI (vector = start-up page) for the CPU.  NULL:
     * logged under -d unimp and dropped. */
    void (*signal)(void *opaque, int kind, int vector);
    void *opaque;
} LapicHooks;

/* Guest-visible state: registers as the SDM lays them out, plus the
 * timer's time base.  All times are virtual ns. */
typedef struct LapicState {
    uint64_t apic_base;       /* IA32_APIC_BASE as last given */
    uint32_t id;              /* 0x020, ID in bits 31:24 */
    uint32_t tpr;             /* 0x080 */
    uint32_t ldr;             /* 0x0D0 */
    uint32_t dfr;             /* 0x0E0 */
    uint32_t svr;             /* 0x0F0 */
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t esr;             /* 0x280 as last latched by a write */
    uint32_t esr_pending;     /* errors seen since that write */
    uint32_t icr_lo, icr_hi;  /* 0x300, 0x310 */
    uint32_t lvt[LVT_COUNT];  /* 0x320-0x370 */
    uint32_t timer_initial;   /* 0x380 */
    uint32_t timer_dcr;       /* 0x3E0 */
    uint32_t timer_start_count; /* count at timer_start_ns */
    int64_t timer_start_ns;
    int64_t timer_next_ns;    /* next expiry not yet processed, -1: none */
    uint64_t tsc_deadline;    /* IA32_TSC_DEADLINE, 0: disarmed */
    int64_t tsc_deadline_ns;  /* the same as virtual time */
    uint8_t arb_id;
    uint8_t lint_level[2];    /* LINT0/LINT1 input pins */
    uint8_t extint_pending;   /* an ExtINT message (from the IOAPIC) */
} LapicState;

typedef struct Lapic Lapic;

struct Lapic {
    LapicState s;
    LapicHooks hooks;
    AddressSpace *mem;
    Clock *clock;
    Timer timer;              /* next timer expiry (any mode) */
    uint64_t mapped_base;     /* where the MMIO region is, or UINT64_MAX */
    int intr_level;           /* last level given to set_cpu_intr, -1 */
    uint8_t reset_id;         /* APIC ID after RESET */
    bool bsp;
    /* The APICs an IPI or bus message can reach; for now only this one
     * (self_bus), an SMP board gives one list to all with lapic_set_bus. */
    Lapic **bus;
    int bus_count;
    Lapic *self_bus[1];
};

extern const StateDesc lapic_state_desc;

/* Maps the registers at 0xFEE00000 and puts the APIC in its RESET state
 * (ID 0, bootstrap processor).  Returns 0, -ENOMEM, or -EEXIST if the
 * page is taken. */
int lapic_new(AddressSpace *mem, Clock *clock, const LapicHooks *hooks,
              Lapic **out);
void lapic_free(Lapic *apic);
/* Power-up/RESET (SDM 11.4.7.1), base back to 0xFEE00000, enabled. */
void lapic_reset(Lapic *apic);
/* For SMP boards, before lapic_reset: the APIC ID and BSP flag. */
void lapic_configure(Lapic *apic, uint8_t id, bool bsp);
/* The APICs IPIs and bus messages reach (must include `apic`). */
void lapic_set_bus(Lapic *apic, Lapic **bus, int count);

/* IA32_APIC_BASE was written: move or unmap the registers; clearing the
 * global enable (bit 11) returns the APIC to its power-up state and
 * connects the 8259 straight to INTR (SDM 11.4.3). */
void lapic_set_base(Lapic *apic, uint64_t msr_value);

/* CR8 is TPR[7:4] (SDM 11.8.6.1): values 0..15. */
uint8_t lapic_get_tpr(Lapic *apic);
void lapic_set_tpr(Lapic *apic, uint8_t cr8);

/* IA32_TSC_DEADLINE (MSR 0x6E0, SDM 11.5.4.1).  `tsc_now` is the TSC at the
 * time of the access, so the deadline can be placed in virtual time (the
 * TSC runs at 1 GHz); a later WRMSR to the TSC itself does not move an
 * armed deadline. */
uint64_t lapic_read_tsc_deadline(Lapic *apic);
void lapic_write_tsc_deadline(Lapic *apic, uint64_t deadline, uint64_t tsc_now);

/* The LINT0/LINT1 pins (n = 0, 1). */
void lapic_set_lint(Lapic *apic, int n, int level);

/* The CPU side: is INTR asserted, and the INTA cycle (a vector: an APIC
 * vector moved to the ISR, the 8259's vector for ExtINT, or the spurious
 * vector if what raised INTR has been masked since, SDM 11.9). */
bool lapic_has_interrupt(Lapic *apic);
int lapic_ack(Lapic *apic);

/* An interrupt message on the APIC bus, from the IOAPIC (or later an
 * MSI): every APIC of `apic`'s bus that `dest`/`dest_mode` (0 physical,
 * 1 logical) selects receives it; lowest-priority picks one.  Returns how
 * many accepted.  The shape of IoapicDeliver, with `apic` as opaque. */
int lapic_bus_deliver(void *apic, uint8_t dest, int dest_mode, int vector,
                      int delivery_mode, int level_trigger);

#endif

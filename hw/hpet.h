/* The High Precision Event Timer (IA-PC HPET specification 1.0a):
 * a 64-bit 10 MHz main counter and three comparators, 1 KiB of registers
 * at 0xFED00000.
 *
 * Wiring, for the board:
 *   HpetHooks h = { .legacy = { <ISA IRQ0 source>, <ISA IRQ8 source> },
 *                   .route = { [20..23] = irq_line(ioapic_set_irq, io, N) },
 *                   .legacy_changed = <gate the PIT off IRQ0 and the RTC
 *                                      off IRQ8 while enabled>,
 *                   .opaque = board };
 *   hpet_new(&mem, &clock, &h, &hpet);
 *   legacy[0] drives IRQ0 as the PIT does (8259 IRQ0 and IOAPIC pin 2),
 *   legacy[1] IRQ8 (8259 IRQ8 and IOAPIC pin 8) (spec 2.3.7, table 3);
 *   route[N] is IOAPIC input N for Tn_INT_ROUTE_CNF = N; the timers
 *   advertise routes 20-23 only (HPET_ROUTE_CAP);
 *   snapshots: state_save/state_load(&hpet_state_desc, &hpet->s, hpet).
 *
 * FSB (MSI) delivery is not implemented and not advertised.
 */
#ifndef VIREO_HW_HPET_H
#define VIREO_HW_HPET_H

#include <stdint.h>

#include "machine/clock.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define HPET_DEFAULT_BASE 0xFED00000ull
#define HPET_MMIO_SIZE 0x400u
#define HPET_TIMERS 3
#define HPET_ROUTES 32
#define HPET_NS_PER_TICK 100                 /* 10 MHz */
#define HPET_PERIOD_FS 100000000ull          /* COUNTER_CLK_PERIOD */
#define HPET_ROUTE_CAP 0x00F00000u           /* IOAPIC inputs 20-23 */

typedef struct HpetHooks {
    IrqLine legacy[2];      /* IRQ0 and IRQ8 in legacy replacement mode */
    IrqLine route[HPET_ROUTES];
    /* LEG_RT_CNF changed (and ENABLE_CNF with it: the spec ties the
     * legacy routing to the enable bit): 1 while timers 0 and 1 own IRQ0
     * and IRQ8, so the PIT and the RTC must be cut off. */
    void (*legacy_changed)(void *opaque, int enabled);
    void *opaque;
} HpetHooks;

typedef struct HpetTimerState {
    uint64_t config;        /* the writable bits of Tn_CONF_CAP */
    uint64_t cmp;           /* Tn_COMPARATOR: the next match */
    uint64_t period;        /* periodic mode: last value written */
} HpetTimerState;

typedef struct HpetState {
    HpetTimerState t[HPET_TIMERS];
    uint64_t config;        /* GEN_CONF */
    uint64_t isr;           /* GEN_INT_STS */
    uint64_t counter;       /* main counter at counter_ns (or held) */
    int64_t counter_ns;     /* while enabled, when `counter` was valid */
} HpetState;

typedef struct Hpet Hpet;

/* What a Timer's callback gets: which timer of which HPET. */
typedef struct HpetTimerRef {
    Hpet *hpet;
    int n;
} HpetTimerRef;

struct Hpet {
    HpetState s;
    HpetHooks hooks;
    AddressSpace *mem;
    Clock *clock;
    Timer timer[HPET_TIMERS];  /* next comparator match of each timer */
    HpetTimerRef ref[HPET_TIMERS];
    const IrqLine *asserted[HPET_TIMERS];  /* level lines raised now */
    int legacy_reported;       /* last value given to legacy_changed */
};

extern const StateDesc hpet_state_desc;

/* Maps the registers at 0xFED00000 and resets.  Returns 0, -ENOMEM or
 * -EEXIST. */
int hpet_new(AddressSpace *mem, Clock *clock, const HpetHooks *hooks,
             Hpet **out);
void hpet_free(Hpet *h);
/* Counter halted at 0, legacy routing off, timers disabled with all-ones
 * comparators, all lines low. */
void hpet_reset(Hpet *h);

#endif

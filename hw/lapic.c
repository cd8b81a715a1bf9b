/* The local APIC (xAPIC), written from the Intel SDM Vol. 3 ch. 11:
 * 11.4.3 (global enable/disable in IA32_APIC_BASE), 11.4.4 (the base MSR),
 * 11.4.6 (ID), 11.4.7 (power-up, software-disabled and INIT states),
 * 11.4.8 (version), 11.5.1 (the LVT), 11.5.3 (the error register),
 * 11.5.4 (the timer: in hw/lapic_timer.c),
 * 11.6 (IPIs: the ICR, destination modes, shorthands, lowest priority),
 * 11.8 (IRR/ISR/TMR, task and processor priority, EOI, CR8 in 11.8.6),
 * 11.9 (the spurious vector).  Register map: table 11-1.
 *
 * Model choices the SDM leaves open (each argued where it is made):
 *  - after RESET the BSP's LINT0 is ExtINT, unmasked (virtual-wire mode),
 *    so the 8259 reaches the CPU before firmware touches the APIC;
 *  - pin polarity bits are stored but not applied: the board's lines carry
 *    "asserted", not electrical levels;
 *  - interrupt messages and IPIs are delivered at once: delivery status
 *    always reads idle;
 *  - on INTA, an APIC vector above the PPR goes before ExtINT.
 */
#include "hw/lapic.h"
#include "hw/lapic_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define VERSION_REG 0x00050014u     /* version 0x14, max LVT entry 5 */
#define PHYS_MASK 0x000000FFFFFFF000ull  /* base bits 12..39 (MAXPHYADDR 40) */
#define NOT_MAPPED UINT64_MAX

/* What the guest may write in each LVT entry: delivery status and remote
 * IRR are read-only; the timer and error entries have no delivery mode. */
static const uint32_t lvt_writable[LVT_COUNT] = {
    [LVT_TIMER] = 0x000700FF, [LVT_THERMAL] = 0x000107FF,
    [LVT_PERFMON] = 0x000107FF, [LVT_LINT0] = 0x0001A7FF,
    [LVT_LINT1] = 0x0001A7FF, [LVT_ERROR] = 0x000100FF,
};

#define SVR_ENABLE (1u << 8)

/* ESR bits (SDM figure 11-9). */
enum {
    ESR_SEND_ILLEGAL = 1u << 5, ESR_RECV_ILLEGAL = 1u << 6,
    ESR_ILLEGAL_REG = 1u << 7,
};

/* ---- small helpers -------------------------------------------------------- */

static bool hw_enabled(const Lapic *a)
{
    return (a->s.apic_base & LAPIC_BASE_ENABLE) != 0;
}

static bool sw_enabled(const Lapic *a)
{
    return hw_enabled(a) && (a->s.svr & SVR_ENABLE);
}

static uint8_t apic_id(const Lapic *a)
{
    return (uint8_t)(a->s.id >> 24);
}

/* Highest set bit of a 256-bit register, -1 if none. */
static int highest_vector(const uint32_t r[8])
{
    for (int i = 7; i >= 0; i--)
        if (r[i])
            return i * 32 + 31 - __builtin_clz(r[i]);
    return -1;
}

static void bit_set(uint32_t r[8], int v) { r[v >> 5] |= 1u << (v & 31); }
static void bit_clear(uint32_t r[8], int v) { r[v >> 5] &= ~(1u << (v & 31)); }
static bool bit_test(const uint32_t r[8], int v) { return r[v >> 5] >> (v & 31) & 1; }

/* ---- priorities (SDM 11.8.3.1, 11.6.2.4) ---------------------------------- */

static uint32_t ppr(const Lapic *a)
{
    int isrv = highest_vector(a->s.isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;

    return (a->s.tpr & 0xF0) >= isr_class ? a->s.tpr & 0xFF : isr_class;
}

static uint32_t apr(const Lapic *a)
{
    int isrv = highest_vector(a->s.isr), irrv = highest_vector(a->s.irr);
    uint32_t tpr_c = a->s.tpr & 0xF0;
    uint32_t isr_c = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    uint32_t irr_c = irrv < 0 ? 0 : (uint32_t)irrv & 0xF0;

    if (tpr_c >= irr_c && tpr_c > isr_c)
        return a->s.tpr & 0xFF;
    uint32_t m = tpr_c > isr_c ? tpr_c : isr_c;
    return m > irr_c ? m : irr_c;
}

/* The vector the APIC would dispatch now: the highest in the IRR whose
 * priority class is above the PPR's, or -1. */
static int deliverable_vector(const Lapic *a)
{
    int v = highest_vector(a->s.irr);

    if (v < 0 || ((uint32_t)v & 0xF0) <= (ppr(a) & 0xF0))
        return -1;
    return v;
}

static bool extint_active(const Lapic *a)
{
    uint32_t lvt = a->s.lvt[LVT_LINT0];

    if (a->s.extint_pending)
        return true;
    return !(lvt & LVT_MASKED) && LVT_DM(lvt) == LAPIC_DM_EXTINT &&
           a->s.lint_level[0];
}

bool lapic_has_interrupt(Lapic *a)
{
    /* Globally disabled, the processor behaves as one without an APIC:
     * LINT0 is INTR (SDM 11.4.3). */
    if (!hw_enabled(a))
        return a->s.lint_level[0] != 0;
    return deliverable_vector(a) >= 0 || extint_active(a);
}

static void update_intr(Lapic *a)
{
    int level = lapic_has_interrupt(a);

    if (level != a->intr_level) {
        a->intr_level = level;
        if (a->hooks.set_cpu_intr)
            a->hooks.set_cpu_intr(a->hooks.opaque, level);
    }
}

/* ---- accepting interrupts ------------------------------------------------- */

/* Errors accumulate in a hidden register; a write to the ESR makes them
 * visible (SDM 11.5.3).  A new error raises the error LVT once. */
static void set_error(Lapic *a, uint32_t bits)
{
    uint32_t fresh = bits & ~a->s.esr_pending;

    a->s.esr_pending |= bits;
    if (fresh)
        lapic_lvt_fire(a, LVT_ERROR);
}

static void accept_fixed(Lapic *a, int vector, bool level)
{
    if (vector < 16) {
        /* Vectors 0-15 are reserved for exceptions (SDM 11.5.2). */
        set_error(a, ESR_RECV_ILLEGAL);
        return;
    }
    bit_set(a->s.irr, vector);
    if (level)
        bit_set(a->s.tmr, vector);
    else
        bit_clear(a->s.tmr, vector);
    update_intr(a);
}

static void signal_cpu(Lapic *a, int kind, int vector)
{
    static const char *const names[] = { "NMI", "SMI", "INIT", "SIPI" };

    if (a->hooks.signal)
        a->hooks.signal(a->hooks.opaque, kind, vector);
    else
        LOG_LIMITED(LOG_UNIMP, "lapic: %s not wired to the CPU, dropped\n",
                    names[kind]);
}

static void regs_reset(Lapic *a, bool keep_id);

/* A message for this APIC (an IPI, a bus message or a local source).
 * Returns whether it was accepted. */
static bool receive(Lapic *a, int dm, int vector, bool level)
{
    switch (dm) {
    case LAPIC_DM_FIXED:
    case LAPIC_DM_LOWEST:
        /* Software-disabled, the APIC answers only NMI, SMI, INIT and
         * start-up messages (SDM 11.4.7.2). */
        if (!sw_enabled(a))
            return false;
        accept_fixed(a, vector, level);
        return true;
    case LAPIC_DM_SMI:
        signal_cpu(a, LAPIC_SIGNAL_SMI, 0);
        return true;
    case LAPIC_DM_NMI:
        signal_cpu(a, LAPIC_SIGNAL_NMI, 0);
        return true;
    case LAPIC_DM_INIT:
        /* INIT resets the APIC but for its ID (SDM 11.4.7.3). */
        regs_reset(a, true);
        update_intr(a);
        signal_cpu(a, LAPIC_SIGNAL_INIT, 0);
        return true;
    case LAPIC_DM_STARTUP:
        signal_cpu(a, LAPIC_SIGNAL_SIPI, vector);
        return true;
    case LAPIC_DM_EXTINT:
        a->s.extint_pending = 1;
        update_intr(a);
        return true;
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: reserved delivery mode %d\n", dm);
        return false;
    }
}

/* A local interrupt source (SDM 11.5.1).  The timer and error entries are
 * always fixed; LINT entries in ExtINT mode are levels, see extint_active. */
void lapic_lvt_fire(Lapic *a, int n)
{
    uint32_t lvt = a->s.lvt[n];
    int dm = (n == LVT_TIMER || n == LVT_ERROR) ? LAPIC_DM_FIXED : LVT_DM(lvt);

    if (lvt & LVT_MASKED)
        return;
    if (dm == LAPIC_DM_EXTINT) {
        update_intr(a);
        return;
    }
    if (dm == LAPIC_DM_FIXED) {
        /* No software-enable check as in receive(): while software-
         * disabled every entry is masked (SDM 11.4.7.2), so a local source
         * that gets here comes from an enabled APIC. */
        accept_fixed(a, (int)(lvt & 0xFF), false);
        return;
    }
    receive(a, dm, (int)(lvt & 0xFF), false);
}

void lapic_set_lint(Lapic *a, int n, int level)
{
    if (n < 0 || n > 1)
        return;
    int old = a->s.lint_level[n];
    a->s.lint_level[n] = level != 0;
    if (!hw_enabled(a)) {
        /* Without the APIC, LINT0 is INTR and LINT1 is NMI (SDM 11.4.3). */
        if (n == 1 && level && !old)
            signal_cpu(a, LAPIC_SIGNAL_NMI, 0);
        update_intr(a);
        return;
    }
    uint32_t *lvt = &a->s.lvt[LVT_LINT0 + n];
    int dm = LVT_DM(*lvt);
    if ((*lvt & LVT_MASKED) || dm == LAPIC_DM_EXTINT) {
        update_intr(a);
        return;
    }
    /* LINT1 is edge-only (SDM 11.5.1, trigger mode). */
    if (dm == LAPIC_DM_FIXED && n == 0 && (*lvt & LVT_LEVEL)) {
        if (level && !(*lvt & LVT_REMOTE_IRR)) {
            *lvt |= LVT_REMOTE_IRR;
            accept_fixed(a, (int)(*lvt & 0xFF), true);
        }
    } else if (level && !old) {
        lapic_lvt_fire(a, LVT_LINT0 + n);
    }
}

/* ---- INTA and EOI ---------------------------------------------------------- */

int lapic_ack(Lapic *a)
{
    int v;

    if (!hw_enabled(a))
        return a->hooks.ext_ack ? a->hooks.ext_ack(a->hooks.opaque)
                                : (int)(a->s.svr & 0xFF);
    v = deliverable_vector(a);
    if (v >= 0) {
        bit_clear(a->s.irr, v);
        bit_set(a->s.isr, v);
    } else if (extint_active(a) && a->hooks.ext_ack) {
        a->s.extint_pending = 0;
        v = a->hooks.ext_ack(a->hooks.opaque);
    } else {
        /* What raised INTR was masked before the INTA: the spurious vector,
         * which sets no ISR bit and needs no EOI (SDM 11.9). */
        a->s.extint_pending = 0;
        v = (int)(a->s.svr & 0xFF);
    }
    update_intr(a);
    return v;
}

static void eoi(Lapic *a)
{
    int v = highest_vector(a->s.isr);

    if (v < 0) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: EOI with no interrupt in service\n");
        return;
    }
    bit_clear(a->s.isr, v);
    /* A level-triggered interrupt from the IOAPIC is in the TMR; the EOI
     * tells the IOAPIC to clear its remote IRR (SDM 11.8.5). */
    if (bit_test(a->s.tmr, v) && a->hooks.eoi_broadcast)
        a->hooks.eoi_broadcast(a->hooks.opaque, v);
    for (int n = 0; n < 2; n++) {
        uint32_t *lvt = &a->s.lvt[LVT_LINT0 + n];
        if ((*lvt & LVT_REMOTE_IRR) && (int)(*lvt & 0xFF) == v) {
            *lvt &= ~LVT_REMOTE_IRR;
            if (a->s.lint_level[n] && !(*lvt & LVT_MASKED) &&
                LVT_DM(*lvt) == LAPIC_DM_FIXED && (*lvt & LVT_LEVEL)) {
                *lvt |= LVT_REMOTE_IRR;
                accept_fixed(a, v, true);
            }
        }
    }
    update_intr(a);
}

/* ---- IPIs and bus messages (SDM 11.6) ------------------------------------- */

/* Does `dest` in `dest_mode` select this APIC (SDM 11.6.2)?  0xFF is the
 * broadcast in both modes. */
static bool dest_match(const Lapic *a, uint8_t dest, int logical)
{
    if (!hw_enabled(a))
        return false;
    if (dest == 0xFF)
        return true;
    if (!logical)
        return dest == apic_id(a);
    uint8_t ldr = (uint8_t)(a->s.ldr >> 24);
    if ((a->s.dfr >> 28) == 0xF)        /* flat model: a bit mask */
        return (ldr & dest) != 0;
    /* cluster model: cluster in bits 7:4, members in 3:0 */
    return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xF) != 0;
}

/* Deliver to every selected APIC of the bus, or for lowest priority to the
 * one with the lowest arbitration priority (ties: first in the list; the
 * xAPIC leaves the choice to the platform).  `skip` is left out. */
static int bus_send(Lapic *a, uint8_t dest, int logical, bool all,
                    const Lapic *skip, int dm, int vector, bool level)
{
    int count = 0;
    Lapic *best = NULL;

    for (int i = 0; i < a->bus_count; i++) {
        Lapic *t = a->bus[i];
        if (t == skip || !(all ? hw_enabled(t) : dest_match(t, dest, logical)))
            continue;
        if (dm == LAPIC_DM_LOWEST) {
            if (sw_enabled(t) && (!best || apr(t) < apr(best)))
                best = t;
        } else if (receive(t, dm, vector, level)) {
            count++;
        }
    }
    if (best && receive(best, dm, vector, level))
        count++;
    return count;
}

int lapic_bus_deliver(void *apic, uint8_t dest, int dest_mode, int vector,
                      int delivery_mode, int level_trigger)
{
    Lapic *a = apic;
    bool level = level_trigger && (delivery_mode == LAPIC_DM_FIXED ||
                                   delivery_mode == LAPIC_DM_LOWEST);

    return bus_send(a, dest, dest_mode != 0, false, NULL, delivery_mode,
                    vector & 0xFF, level);
}

static void send_ipi(Lapic *a)
{
    uint32_t lo = a->s.icr_lo;
    int vector = (int)(lo & 0xFF), dm = LVT_DM(lo);
    int logical = (lo >> 11) & 1, shorthand = (lo >> 18) & 3;
    uint8_t dest = (uint8_t)(a->s.icr_hi >> 24);

    if (dm == 3 || dm == LAPIC_DM_EXTINT) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: IPI with invalid delivery "
                    "mode %d dropped\n", dm);
        return;
    }
    if ((dm == LAPIC_DM_FIXED || dm == LAPIC_DM_LOWEST) && vector < 16)
        set_error(a, ESR_SEND_ILLEGAL);     /* the receiver flags it too */
    if (dm == LAPIC_DM_INIT && !(lo & (1u << 14)) && (lo & (1u << 15))) {
        /* INIT level de-assert: every APIC takes its ID as arbitration ID
         * (SDM 11.6.1; a no-op on the xAPIC bus, kept for the P6 model). */
        for (int i = 0; i < a->bus_count; i++)
            a->bus[i]->s.arb_id = apic_id(a->bus[i]);
        return;
    }
    /* IPIs are edge-triggered; the ICR's trigger bit only matters for the
     * INIT de-assert above (SDM 11.6.1). */
    switch (shorthand) {
    case 0:
        bus_send(a, dest, logical, false, NULL, dm, vector, false);
        break;
    case 1:
        if (dm != LAPIC_DM_FIXED)
            LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: self IPI with delivery "
                        "mode %d (only fixed is valid)\n", dm);
        else
            receive(a, dm, vector, false);
        break;
    case 2:
        bus_send(a, 0, 0, true, NULL, dm, vector, false);
        break;
    default:
        bus_send(a, 0, 0, true, a, dm, vector, false);
        break;
    }
}

/* ---- registers (SDM table 11-1) ------------------------------------------- */

static uint32_t reg_read(Lapic *a, unsigned reg)
{
    LapicState *s = &a->s;

    if (reg >= 0x10 && reg < 0x18)
        return s->isr[reg - 0x10];
    if (reg >= 0x18 && reg < 0x20)
        return s->tmr[reg - 0x18];
    if (reg >= 0x20 && reg < 0x28)
        return s->irr[reg - 0x20];
    if (reg >= 0x32 && reg < 0x38)
        return s->lvt[reg - 0x32];
    switch (reg) {
    case 0x02: return s->id;
    case 0x03: return VERSION_REG;
    case 0x08: return s->tpr;
    case 0x09: return apr(a);
    case 0x0A: return ppr(a);
    case 0x0B: return 0;                    /* EOI is write-only */
    case 0x0C: return 0;                    /* remote read: unsupported */
    case 0x0D: return s->ldr;
    case 0x0E: return s->dfr | 0x0FFFFFFF;
    case 0x0F: return s->svr;
    case 0x28: return s->esr;
    case 0x30: return s->icr_lo;            /* delivery status: idle */
    case 0x31: return s->icr_hi;
    case 0x38: return s->timer_initial;
    case 0x39: return lapic_timer_read_current(a);
    case 0x3E: return s->timer_dcr;
    default:
        set_error(a, ESR_ILLEGAL_REG);
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: read of register 0x%03x\n",
                    reg << 4);
        return 0;
    }
}

static void write_svr(Lapic *a, uint32_t v)
{
    a->s.svr = v & 0x3FF;       /* vector, enable, focus check */
    if (!(v & SVR_ENABLE))
        for (int i = 0; i < LVT_COUNT; i++)
            a->s.lvt[i] |= LVT_MASKED;   /* SDM 11.4.7.2 */
    update_intr(a);
}

static void reg_write(Lapic *a, unsigned reg, uint32_t v)
{
    LapicState *s = &a->s;

    if (reg >= 0x32 && reg < 0x38) {
        int n = (int)reg - 0x32;
        /* While software-disabled the mask bits stay set (SDM 11.4.7.2). */
        if (!(s->svr & SVR_ENABLE))
            v |= LVT_MASKED;
        v = (v & lvt_writable[n]) | (s->lvt[n] & LVT_REMOTE_IRR);
        if (n == LVT_TIMER)
            lapic_timer_write_lvt(a, v);
        else
            s->lvt[n] = v;
        update_intr(a);
        return;
    }
    switch (reg) {
    case 0x02: s->id = v & 0xFF000000u; break;
    case 0x08: s->tpr = v & 0xFF; update_intr(a); break;
    case 0x0B: eoi(a); break;
    case 0x0D: s->ldr = v & 0xFF000000u; break;
    case 0x0E: s->dfr = (v & 0xF0000000u) | 0x0FFFFFFF; break;
    case 0x0F: write_svr(a, v); break;
    case 0x28:
        s->esr = s->esr_pending;
        s->esr_pending = 0;
        break;
    case 0x30:
        s->icr_lo = v & 0x000CCFFF;
        send_ipi(a);
        break;
    case 0x31: s->icr_hi = v & 0xFF000000u; break;
    case 0x38: lapic_timer_write_initial(a, v); break;
    case 0x3E: lapic_timer_write_dcr(a, v); break;
    case 0x03: case 0x09: case 0x0A: case 0x0C: case 0x39:
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: write to read-only register "
                    "0x%03x\n", reg << 4);
        break;
    default:
        if (reg >= 0x10 && reg < 0x28) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: write to ISR/TMR/IRR\n");
            break;
        }
        set_error(a, ESR_ILLEGAL_REG);
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: write to register 0x%03x\n",
                    reg << 4);
        break;
    }
}

/* Registers are 32 bits on 16-byte boundaries (SDM 11.4.1).  Narrower
 * reads see their bytes; anything but an aligned 32-bit write is dropped. */
static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    unsigned within = (unsigned)(offset & 15);

    if (within + size > 4)
        return 0;
    uint32_t v = reg_read(opaque, (unsigned)(offset >> 4));
    return (v >> (within * 8)) & (size == 4 ? 0xFFFFFFFFu : (1u << size * 8) - 1);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    if (size != 4 || (offset & 15)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: %u-byte write at 0x%03llx "
                    "dropped\n", size, (unsigned long long)offset);
        return;
    }
    reg_write(opaque, (unsigned)(offset >> 4), (uint32_t)value);
}

static const MemOps lapic_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .max_access = 4,
};

/* ---- base, reset, life cycle ------------------------------------------------ */

static void remap(Lapic *a)
{
    uint64_t want = hw_enabled(a) ? (a->s.apic_base & PHYS_MASK) : NOT_MAPPED;

    if (want == a->mapped_base)
        return;
    if (a->mapped_base != NOT_MAPPED)
        as_unmap(a->mem, a->mapped_base);
    a->mapped_base = NOT_MAPPED;
    if (want == NOT_MAPPED)
        return;
    if (as_map_io(a->mem, "lapic", want, LAPIC_MMIO_SIZE, &lapic_ops, a) < 0) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "lapic: cannot map the registers at "
                    "0x%llx (overlap); they stay unmapped\n",
                    (unsigned long long)want);
        return;
    }
    a->mapped_base = want;
}

/* The RESET state (SDM 11.4.7.1), or with keep_id the INIT state
 * (11.4.7.3).  The LINT pins belong to the board and keep their level. */
static void regs_reset(Lapic *a, bool keep_id)
{
    LapicState *s = &a->s;

    if (!keep_id) {
        s->id = (uint32_t)a->reset_id << 24;
        s->arb_id = a->reset_id;
    }
    s->tpr = s->ldr = 0;
    s->dfr = 0xFFFFFFFFu;
    s->svr = 0xFF;
    memset(s->isr, 0, sizeof(s->isr));
    memset(s->tmr, 0, sizeof(s->tmr));
    memset(s->irr, 0, sizeof(s->irr));
    s->esr = s->esr_pending = 0;
    s->icr_lo = s->icr_hi = 0;
    for (int i = 0; i < LVT_COUNT; i++)
        s->lvt[i] = LVT_MASKED;
    /* Virtual-wire mode on the BSP: what the MP specification's firmware
     * sets up, done here so the 8259 works from the first instruction. */
    if (a->bsp)
        s->lvt[LVT_LINT0] = LAPIC_DM_EXTINT << 8;
    s->timer_dcr = 0;
    s->timer_start_ns = 0;
    s->extint_pending = 0;
    lapic_timer_stop(s);
    timer_del(&a->timer);
}

void lapic_reset(Lapic *a)
{
    regs_reset(a, false);
    a->s.apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_ENABLE |
                     (a->bsp ? LAPIC_BASE_BSP : 0);
    remap(a);
    update_intr(a);
}

void lapic_configure(Lapic *a, uint8_t id, bool bsp)
{
    a->reset_id = id;
    a->bsp = bsp;
}

void lapic_set_bus(Lapic *a, Lapic **bus, int count)
{
    a->bus = bus;
    a->bus_count = count;
}

void lapic_set_base(Lapic *a, uint64_t v)
{
    bool was = hw_enabled(a);

    a->s.apic_base = v;
    /* Globally disabled, the APIC loses its set-up (SDM 11.4.3). */
    if (was && !hw_enabled(a))
        regs_reset(a, false);
    remap(a);
    update_intr(a);
}

uint8_t lapic_get_tpr(Lapic *a)
{
    return (uint8_t)((a->s.tpr >> 4) & 0xF);
}

void lapic_set_tpr(Lapic *a, uint8_t cr8)
{
    /* MOV CR8 sets TPR[7:4] and clears TPR[3:0] (SDM 11.8.6.1). */
    a->s.tpr = (uint32_t)(cr8 & 0xF) << 4;
    update_intr(a);
}

int lapic_new(AddressSpace *mem, Clock *clock, const LapicHooks *hooks,
              Lapic **out)
{
    Lapic *a = calloc(1, sizeof(*a));

    *out = NULL;
    if (!a)
        return -ENOMEM;
    a->mem = mem;
    a->clock = clock;
    if (hooks)
        a->hooks = *hooks;
    a->mapped_base = NOT_MAPPED;
    a->intr_level = -1;
    a->bsp = true;
    a->self_bus[0] = a;
    a->bus = a->self_bus;
    a->bus_count = 1;
    timer_init(&a->timer, clock, lapic_timer_cb, a);
    lapic_reset(a);
    if (a->mapped_base == NOT_MAPPED) {
        free(a);
        return -EEXIST;
    }
    *out = a;
    return 0;
}

void lapic_free(Lapic *a)
{
    if (!a)
        return;
    timer_del(&a->timer);
    if (a->mapped_base != NOT_MAPPED)
        as_unmap(a->mem, a->mapped_base);
    free(a);
}

static int lapic_post_load(void *state, void *opaque)
{
    Lapic *a = opaque;

    if (!a || state != &a->s || a->s.lint_level[0] > 1 ||
        a->s.lint_level[1] > 1)
        return -EINVAL;
    remap(a);
    lapic_timer_arm(a);
    a->intr_level = -1;
    update_intr(a);
    return 0;
}

static const StateField lapic_fields[] = {
    STATE_U64(LapicState, apic_base),
    STATE_U32(LapicState, id),
    STATE_U32(LapicState, tpr),
    STATE_U32(LapicState, ldr),
    STATE_U32(LapicState, dfr),
    STATE_U32(LapicState, svr),
    STATE_U32_ARRAY(LapicState, isr),
    STATE_U32_ARRAY(LapicState, tmr),
    STATE_U32_ARRAY(LapicState, irr),
    STATE_U32(LapicState, esr),
    STATE_U32(LapicState, esr_pending),
    STATE_U32(LapicState, icr_lo),
    STATE_U32(LapicState, icr_hi),
    STATE_U32_ARRAY(LapicState, lvt),
    STATE_U32(LapicState, timer_initial),
    STATE_U32(LapicState, timer_dcr),
    STATE_U32(LapicState, timer_start_count),
    STATE_I64(LapicState, timer_start_ns),
    STATE_I64(LapicState, timer_next_ns),
    STATE_U64(LapicState, tsc_deadline),
    STATE_I64(LapicState, tsc_deadline_ns),
    STATE_U8(LapicState, arb_id),
    STATE_U8_ARRAY(LapicState, lint_level),
    STATE_U8(LapicState, extint_pending),
    STATE_END
};

const StateDesc lapic_state_desc = {
    .name = "lapic", .version = 1, .size = sizeof(LapicState),
    .fields = lapic_fields, .post_load = lapic_post_load,
};

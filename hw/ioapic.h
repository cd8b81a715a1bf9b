/* Intel 82093AA I/O APIC: 24 interrupt inputs turned into APIC bus
 * messages through a redirection table, memory-mapped at 0xFEC00000
 * (IOREGSEL at +0x00, IOWIN at +0x10).
 *
 * Wiring, for the board:
 *   ioapic_new(&mem, 0xFEC00000, id, lapic_bus_deliver, lapic, &ioapic);
 *   pin N input: irq_line(ioapic_set_irq, ioapic, N), ORed by the board
 *     with the 8259 input of the same ISA IRQ.  ISA IRQ N goes to pin N,
 *     except IRQ0 (the PIT or HPET timer 0), which goes to pin 2, as the
 *     MADT's interrupt source override says; pins 16-23 are free for PCI
 *     and the HPET's non-legacy routes (20-23);
 *   the local APIC's EOI broadcast calls ioapic_eoi_broadcast(ioapic, v);
 *   snapshots: state_save/state_load(&ioapic_state_desc, &ioapic->s, ioapic).
 *
 * Input levels mean "asserted": the polarity bit is kept for the guest to
 * read back but not applied, since the board's lines are already logical.
 */
#ifndef VIREO_HW_IOAPIC_H
#define VIREO_HW_IOAPIC_H

#include <stdint.h>

#include "machine/state.h"
#include "mmu/addrspace.h"

#define IOAPIC_DEFAULT_BASE 0xFEC00000ull
#define IOAPIC_MMIO_SIZE 0x1000u
#define IOAPIC_PINS 24

/* An interrupt message to the local APIC(s): the destination field and
 * mode (0 physical, 1 logical), the vector, the delivery mode (LAPIC_DM_*
 * in hw/lapic.h) and whether it is level-triggered.  Returns how many
 * APICs accepted it; a level interrupt sets remote IRR only if one did. */
typedef int (*IoapicDeliver)(void *opaque, uint8_t dest, int dest_mode,
                             int vector, int delivery_mode, int level_trigger);

typedef struct IoapicState {
    uint64_t redir[IOAPIC_PINS];  /* redirection table entries */
    uint32_t lines;               /* input pins asserted, bit per pin */
    uint8_t id;                   /* IOAPICID bits 27:24 */
    uint8_t arb_id;               /* IOAPICARB bits 27:24 */
    uint8_t regsel;               /* IOREGSEL */
} IoapicState;

typedef struct Ioapic {
    IoapicState s;
    AddressSpace *mem;
    uint64_t base;
    uint8_t reset_id;
    IoapicDeliver deliver;
    void *opaque;
} Ioapic;

extern const StateDesc ioapic_state_desc;

/* Maps the registers at `base` and resets.  Returns 0, -ENOMEM or
 * -EEXIST (the range is taken). */
int ioapic_new(AddressSpace *mem, uint64_t base, uint8_t id,
               IoapicDeliver deliver, void *opaque, Ioapic **out);
void ioapic_free(Ioapic *io);
/* Every entry masked, ID back to the one given at creation; input levels
 * are kept (they belong to the devices). */
void ioapic_reset(Ioapic *io);

/* An IrqHandler: `ioapic` is the Ioapic, `pin` 0..23. */
void ioapic_set_irq(void *ioapic, int pin, int level);

/* The local APIC's EOI of a level-triggered `vector`: clears remote IRR of
 * the entries with that vector and re-sends those still asserted. */
void ioapic_eoi_broadcast(void *ioapic, int vector);

#endif

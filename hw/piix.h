/* Intel 82371SB PIIX3, function 0: the PCI-to-ISA bridge at 00:01.0
 * (8086:7000), as on QEMU's `pc` board.
 *
 * It owns three things of the board: the PIRQA-D route registers (0x60-
 * 0x63) that steer PCI INTx to ISA IRQs, the edge/level control registers
 * (ELCR, ports 0x4D0-0x4D1) of the 8259s it contains, and the reset
 * control register at port 0xCF9.  The 8259s themselves are hw/i8259.c:
 * the board passes the ELCR on through a callback.
 */
#ifndef VIREO_HW_PIIX_H
#define VIREO_HW_PIIX_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define PIIX_DEVFN          PCI_DEVFN(1, 0)
#define PIIX_PIRQRC         0x60        /* PIRQRC[A:D]: 0x60-0x63 */
#define PIIX_PIRQ_DISABLE   0x80
#define PIIX_ELCR_PORT      0x4d0
#define PIIX_RC_PORT        0xcf9

/* Reset control register bits (82371SB datasheet, RC at I/O 0CF9h). */
#define PIIX_RC_SRST        0x02        /* 1: hard (system) reset */
#define PIIX_RC_RCPU        0x04        /* 0 -> 1 starts the reset */

typedef struct PiixState {
    PciDeviceState pci;
    uint16_t elcr;          /* ELCR1 (IRQ0-7) | ELCR2 (IRQ8-15) << 8 */
    uint8_t rc;             /* reset control, port 0xCF9 */
    uint8_t pirq_in;        /* PIRQA-D levels from the PCI bus (bit n) */
    uint16_t isa_out;       /* levels this bridge drives on IRQ0-15 */
} PiixState;

extern const StateDesc piix_state_desc;

typedef struct PiixConfig {
    AddressSpace *io;
    /* Drives ISA IRQ `n` (0-15) at `level` for PCI interrupts.  The board
     * must OR this with the ISA devices' own levels on the same IRQ: a
     * PIRQ is routed onto an IRQ line that ISA devices may also drive. */
    IrqHandler set_isa_irq;
    /* The new ELCR (bit n = IRQ n level-triggered), for the 8259s. */
    void (*elcr_changed)(void *opaque, uint16_t elcr);
    /* Reset requested through port 0xCF9: hard (bit 1 set: the whole
     * board) or soft (INIT to the CPU only). */
    void (*reset)(void *opaque, bool hard);
    void *opaque;
} PiixConfig;

typedef struct Piix {
    PiixState s;
    PciDevice pci;
    PiixConfig cfg;
    PciBus *bus;
    bool elcr_mapped;
} Piix;

/* Attach at 00:01.0, map the ELCR ports, claim 0xCF9 from the bus and
 * install the board's INTx wiring as the bus's IRQ router.  Returns 0 or
 * -errno. */
int piix_new(PciBus *bus, const PiixConfig *cfg, Piix **out);
void piix_reset(Piix *p);
void piix_free(Piix *p);

/* The i440FX board's wiring of INTx to PIRQ lines, the one SeaBIOS and
 * QEMU's ACPI _PRT assume: PIRQ = (slot + pin - 1) mod 4 with pin 0 for
 * INTA#, so slot 1 INTA# is PIRQA and slot 0 INTA# is PIRQD. */
int piix_pirq_of(unsigned devfn, unsigned pin);

/* The ISA IRQ PIRQ `pirq` is routed to, or -1 if disabled or reserved. */
int piix_pirq_route(const Piix *p, int pirq);

#endif

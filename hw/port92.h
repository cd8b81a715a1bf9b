/* System Control Port A (port 0x92), the PS/2 "fast A20 and reset" port.
 *
 * Bit 1 gates address line 20 and bit 0 pulses a CPU reset on its rising
 * edge (IBM PS/2 Hardware Interface Technical Reference, "System Control
 * Port A"; the same bits in Intel's PIIX/PIIX3 datasheet, port 92h).  The
 * other bits (CMOS lock, fixed-disk LEDs) are kept and read back.  The
 * board owns A20 (it ORs this bit with the keyboard controller's output)
 * and the reset, so both are callbacks.
 */
#ifndef VIREO_HW_PORT92_H
#define VIREO_HW_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/state.h"
#include "mmu/addrspace.h"

#define PORT92_PORT 0x92
#define PORT92_RESET 0x01
#define PORT92_A20 0x02

typedef struct Port92State {
    uint8_t value;            /* last value written (bit 0 cleared by reset) */
} Port92State;

typedef struct Port92Hooks {
    void (*set_a20)(void *opaque, bool enabled);  /* on every change */
    void (*reset)(void *opaque);                   /* bit 0 rising edge */
    void *opaque;
} Port92Hooks;

typedef struct Port92 {
    Port92State s;
    AddressSpace *io;
    Port92Hooks hooks;
} Port92;

/* Maps port 0x92.  Returns NULL if taken or out of memory. */
Port92 *port92_new(AddressSpace *io, const Port92Hooks *hooks);
void port92_free(Port92 *p);
/* Machine reset: all bits 0, A20 reported disabled if it was enabled. */
void port92_reset(Port92 *p);

/* opaque for state_load is the Port92 *; post_load re-reports A20. */
extern const StateDesc port92_state_desc;

#endif

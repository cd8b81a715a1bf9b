/* Port 0x80, the POST-code port.
 *
 * On a PC, writes go to whatever diagnostic card is plugged in; firmware
 * writes progress codes there and Linux writes it as an I/O delay.  We
 * remember the last byte (reads return it, which is what a POST card
 * latch shows) and log it under `-d ioport`.
 */
#ifndef VIREO_HW_PORT80_H
#define VIREO_HW_PORT80_H

#include <stdint.h>

#include "machine/state.h"
#include "mmu/addrspace.h"

#define PORT80_PORT 0x80

typedef struct Port80State {
    uint8_t code;             /* last POST code written */
} Port80State;

typedef struct Port80 {
    Port80State s;
    AddressSpace *io;
} Port80;

Port80 *port80_new(AddressSpace *io);
void port80_free(Port80 *p);
void port80_reset(Port80 *p);

extern const StateDesc port80_state_desc;

#endif

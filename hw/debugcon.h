/* The debug console: QEMU's isa-debugcon, Bochs's port 0xE9 hack.
 *
 * Two write-only byte ports whose output goes to a CharBackend: 0xE9
 * (Bochs and QEMU's -debugcon default) and 0x402 (where Debian's SeaBIOS,
 * built for QEMU, writes its log).  Both read back 0xE9: SeaBIOS and
 * Bochs-style probes read the port and only use it if they see that value.
 * No guest-visible state, so no state table.
 */
#ifndef VIREO_HW_DEBUGCON_H
#define VIREO_HW_DEBUGCON_H

#include <stdint.h>

#include "machine/chardev.h"
#include "mmu/addrspace.h"

#define DEBUGCON_PORT_BOCHS 0xe9
#define DEBUGCON_PORT_SEABIOS 0x402
#define DEBUGCON_READBACK 0xe9

typedef struct Debugcon {
    AddressSpace *io;
    CharBackend *backend;   /* may be NULL: output is discarded */
} Debugcon;

/* Map both ports.  Returns NULL if either is taken or memory runs out. */
Debugcon *debugcon_new(AddressSpace *io, CharBackend *backend);
void debugcon_free(Debugcon *d);

#endif

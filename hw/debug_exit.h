/* isa-debug-exit: a port that ends the emulator with a status the guest
 * chooses, for test programs (QEMU's `-device isa-debug-exit`).
 *
 * Writing v exits with status (v << 1) | 1, exactly as QEMU does, so an
 * exit status is always odd and never collides with a clean power-off (0).
 * The board decides what "exit" means: it passes request_exit, which is
 * called on the vCPU thread from inside the port write and should only set
 * a flag for the run loop.  No guest-visible state, so no state table.
 */
#ifndef VIREO_HW_DEBUG_EXIT_H
#define VIREO_HW_DEBUG_EXIT_H

#include <stdint.h>

#include "mmu/addrspace.h"

#define DEBUG_EXIT_PORT 0xf4

typedef void (*DebugExitFn)(void *opaque, int status);

typedef struct DebugExit {
    AddressSpace *io;
    uint16_t base;
    DebugExitFn request_exit;
    void *opaque;
} DebugExit;

/* `size` is the port range, 1 to 4 bytes (QEMU's iosize). */
DebugExit *debug_exit_new(AddressSpace *io, uint16_t base, unsigned size,
                          DebugExitFn request_exit, void *opaque);
void debug_exit_free(DebugExit *d);

#endif

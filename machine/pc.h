/* The `pc` board: what QEMU's i440FX machine looks like to firmware.
 *
 * The board owns guest RAM (one host mmap), the memory and I/O address
 * spaces, the virtual clock, the input queue and the vCPU, and wires the
 * devices in a fixed order.  frontends/main.c only creates it, runs it and
 * destroys it.
 */
#ifndef VIREO_MACHINE_PC_H
#define VIREO_MACHINE_PC_H

#include <stddef.h>

#include "machine/chardev.h"
#include "machine/config.h"
#include "machine/events.h"

typedef struct Pc Pc;

/* Build the machine.  Returns 0, or -errno with one line in err (which
 * names the file or option at fault) and nothing left allocated. */
int pc_create(const VmConfig *cfg, Pc **out, char *err, size_t errlen);

/* Run until the guest powers off, the vCPU stops for good, or a signal
 * asks us to quit.  Returns the process exit status (0 for a clean
 * power-off; isa-debug-exit's (v << 1) | 1). */
int pc_run(Pc *pc);

/* Free the board.  Host backends attached below are not closed: their
 * owner (main.c) closes them after this. */
void pc_destroy(Pc *pc);

/* Host inputs for the board's devices are posted here. */
EventQueue *pc_event_queue(Pc *pc);

/* How many serial ports the board has (one per -serial, at least one). */
unsigned pc_serial_count(const Pc *pc);

/* Connect a host backend to COM(index+1) or to the debug console (which
 * exists only when -debugcon was given).  Returns 0 or -EINVAL. */
int pc_attach_serial(Pc *pc, unsigned index, CharBackend *cb);
int pc_attach_debugcon(Pc *pc, CharBackend *cb);

/* Any thread: stop the machine as if powered off (the Ctrl-A x escape). */
void pc_request_quit(Pc *pc);

#endif

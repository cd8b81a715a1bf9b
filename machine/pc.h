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

#include "machine/config.h"

typedef struct Pc Pc;

/* Build the machine.  Returns 0, or -errno with one line in err (which
 * names the file or option at fault) and nothing left allocated. */
int pc_create(const VmConfig *cfg, Pc **out, char *err, size_t errlen);

/* Run until the guest powers off, the vCPU stops for good, or a signal
 * asks us to quit.  Returns the process exit status (0 for a clean
 * power-off; isa-debug-exit's (v << 1) | 1). */
int pc_run(Pc *pc);

void pc_destroy(Pc *pc);

#endif

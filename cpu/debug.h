/* Debug features of the CPU (internal to cpu/): the debug registers DR0-DR7
 * and the #DB conditions they and EFLAGS.TF/RF define (SDM Vol. 3 ch. 17).
 *
 * Division of work:
 *  - cpu/debug.c: DR6/DR7 semantics, matching breakpoints against
 *    instruction, data and I/O addresses, raising #DB;
 *  - cpu/exec.c: when to check: an instruction at a time whenever TF or RF
 *    is set, a #DB trap is pending, or Cpu.debug_active says DR7 enables a
 *    breakpoint; the fast path tests those once per block;
 *  - cpu/mem.c and cpu/io.c: report data and I/O accesses, only while
 *    debug_active has DEBUG_DATA / DEBUG_IO (one flag test per access).
 * Pending #DB traps accumulate DR6 bits in CpuState.debug_pending and are
 * delivered at the next instruction boundary that no MOV SS shadow covers.
 */
#ifndef VIREO_CPU_DEBUG_H
#define VIREO_CPU_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Cpu.debug_active: the kinds of breakpoint DR7 enables. */
enum { DEBUG_EXEC = 1, DEBUG_DATA = 2, DEBUG_IO = 4 };

/* DR6 status bits (SDM Vol. 3 17.2.3) and DR7 controls (17.2.4). */
enum {
    DR6_B0 = 1u << 0, DR6_BMASK = 0xfu, DR6_BD = 1u << 13, DR6_BS = 1u << 14,
    DR6_BT = 1u << 15,
    DR7_LOCAL = 0x55u,      /* L0-L3 */
    DR7_LE = 1u << 8, DR7_GD = 1u << 13,
};

/* Recompute Cpu.debug_active from DR7 and CR4.DE. */
void debug_update(Cpu *cpu);

/* An instruction breakpoint on the instruction at CS:RIP?  If so, #DB is
 * raised as a fault (RIP stays) and true is returned.  The caller skips
 * the check when RF or a MOV SS shadow suppresses it. */
bool debug_check_exec(Cpu *cpu);

/* Data and I/O accesses (only called while the matching DEBUG_* is on):
 * matching breakpoints become pending #DB traps. */
void debug_data_access(Cpu *cpu, uint64_t linear, unsigned size, bool write);
void debug_io_access(Cpu *cpu, uint16_t port, unsigned size);

/* Raise #DB for the pending trap bits: DR6 gets them, DR7.GD is cleared. */
int debug_raise_pending(Cpu *cpu);

/* A task switch happened (for cpu/task.c): the local enables L0-L3 and LE
 * are cleared, and a new TSS with its T flag set raises a #DB trap with
 * DR6.BT before the new task's first instruction (SDM Vol. 3 17.2.4,
 * 17.3.1.5). */
void debug_task_switch(Cpu *cpu, bool t_flag);

/* MOV to/from DRn (n as encoded, 0-7) after the CPL check: DR4/DR5 alias
 * DR6/DR7 or are #UD with CR4.DE, DR7.GD turns the access into a #DB fault
 * with DR6.BD, reserved bits are fixed (17.2).  Return CPU_OK or
 * CPU_FAULT. */
int debug_mov_to_dr(Cpu *cpu, unsigned n, uint64_t value);
int debug_mov_from_dr(Cpu *cpu, unsigned n, uint64_t *value);

#endif

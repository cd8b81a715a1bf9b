/* Hardware task switching and the TSS (cpu/task.c; SDM Vol. 3 ch. 7).
 * Internal to cpu/. */
#ifndef VIREO_CPU_TASK_H
#define VIREO_CPU_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* A far JMP or CALL (`call`) reaching TSS selector `tss_sel`, directly or
 * through a task gate, after the caller checked the DPL of what the
 * operand named (the TSS or the gate) and its presence.  `next_rip` is
 * the EIP saved in the old task.  Returns CPU_OK with the new task
 * running, or CPU_FAULT: before the commit point the old task is intact;
 * after it the new task is loaded and the fault is the new task's. */
int task_jump(Cpu *cpu, uint16_t tss_sel, bool call, uint64_t next_rip);

/* IRET with EFLAGS.NT = 1 in protected mode: back to the task named by
 * the current TSS's previous-task link. */
int task_return(Cpu *cpu, uint64_t next_rip);

/* Deliver `e` through a task gate naming `tss_sel` (the IDT entry's
 * type, DPL and presence already checked): switch with nesting, then
 * push the error code, if `e` has one, on the new task's stack.
 * `return_rip` is the EIP saved in the interrupted task. */
int task_gate_deliver(Cpu *cpu, uint16_t tss_sel, const PendingException *e,
                      uint64_t return_rip);

/* The stack for privilege level `cpl` from the current TSS (SS:ESP of a
 * 32-bit TSS, SS:SP of a 16-bit one, RSPn with a null SS in IA-32e mode),
 * or IST slot `ist` (1-7, IA-32e mode only) when non-zero.  A slot beyond
 * the TSS limit raises #TS(TSS selector). */
int task_inner_stack(Cpu *cpu, unsigned cpl, unsigned ist, uint16_t *ss,
                     uint64_t *sp);

#endif

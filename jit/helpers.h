/* C functions that translated code calls (docs/jit.md).  Their signatures
 * are part of the backend contract: IR_CALL passes (cpu, a, b, c) and
 * takes a uint64_t back; the memory slow paths are called by the code a
 * backend emits for IR_QLD/IR_QST when the inline TLB path misses.
 */
#ifndef VIREO_JIT_HELPERS_H
#define VIREO_JIT_HELPERS_H

#include <stdint.h>

#include "cpu/cpu.h"

/* The default lowering: run the DecodedInsn at `insn` (a pointer) through
 * the interpreter's handler, with the interpreter's RIP and icount rules.
 * Returns the CPU_* status; CPU_OK becomes CPU_EXIT when the instruction
 * made the running translation stale. */
uint64_t jit_helper_insn(Cpu *cpu, uint64_t insn, uint64_t unused1,
                         uint64_t unused2);

/* Helpers of the inline lowerings (same calling convention), each
 * returning a value rather than a status and only reading the state:
 * cc_condition(cpu, cond) when the translator cannot fuse a condition;
 * cc_carry(cpu) for ADC/SBB/INC/DEC after an unknown flag producer;
 * cc_compute(cpu) for the rotates, which keep four of the six flags. */
uint64_t jit_helper_flags(Cpu *cpu, uint64_t unused0, uint64_t unused1,
                          uint64_t unused2);
uint64_t jit_helper_cond(Cpu *cpu, uint64_t cond, uint64_t unused1,
                         uint64_t unused2);
uint64_t jit_helper_carry(Cpu *cpu, uint64_t unused0, uint64_t unused1,
                          uint64_t unused2);

/* Memory slow paths (the backend's code calls them when the inline TLB
 * path misses).  `how` = size (1, 2, 4, 8) | segment << 8 (the
 * segment whose base the translator added to form `linear`).  They redo
 * the access through mem_read/mem_write at linear - base.  Return CPU_OK
 * or CPU_FAULT (exception pending in CpuState: the translated code exits
 * with CPU_FAULT at once).  A store that makes a translation stale
 * (jit->stale, or a remap) calls cpu_kick(): the translated code tests
 * icount_limit after each storing instruction and leaves. */
int jit_mem_load(Cpu *cpu, uint64_t linear, uint32_t how, uint64_t *value);
int jit_mem_store(Cpu *cpu, uint64_t linear, uint64_t value, uint32_t how);

#endif

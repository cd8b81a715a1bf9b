/* Translation of a decoded block into IR, and the IR optimizer
 * (docs/jit.md). */
#ifndef VIREO_JIT_TRANSLATE_H
#define VIREO_JIT_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "jit/ir.h"

/* The assumptions (bits of jit_assumptions()):
 *  - USER: CPL 3, inline accesses use the user TLB (else supervisor);
 *  - FLAT: 32-bit protected mode (not V86) with CS, DS, ES and SS flat:
 *    base 0, limit 4 GiB, present, the data segments writable and
 *    expand-up, so inline accesses through them need no checks;
 *  - NO_AC: alignment checking is off (not CR0.AM && EFLAGS.AC && CPL 3,
 *    SDM Vol. 3 6.15 #AC), so inline accesses need no alignment check. */
enum {
    JIT_ASSUME_USER = 1u << 0,
    JIT_ASSUME_FLAT = 1u << 1,
    JIT_ASSUME_NO_AC = 1u << 2,
};

/* What the translation may assume about the CPU beyond the block's mode
 * (docs/jit.md, Assumptions): JIT_ASSUME_* bits, computed from the state
 * before entry.  A translation runs only while they are unchanged. */
uint32_t jit_assumptions(const Cpu *cpu);

/* Translate block b, decoded for cpu->mode, assuming `assumptions`.
 * Always succeeds: every instruction has the default lowering. */
void jit_translate(const Cpu *cpu, const Block *b, uint32_t assumptions,
                   IrBlock *out);

/* Constant propagation, dead-flag elimination, redundant guest-state
 * load/store removal.  Keeps the semantics of the block exactly. */
void jit_optimize(IrBlock *ir);

#endif

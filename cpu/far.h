/* Far transfers: far JMP, CALL and RET, and the CS:rIP (SS:rSP) part of
 * IRET, in every mode (cpu/far.c).  Internal to cpu/. */
#ifndef VIREO_CPU_FAR_H
#define VIREO_CPU_FAR_H

#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/segment.h"

/* Far JMP or CALL (`kind` FAR_JMP or FAR_CALL) to selector:offset at
 * operand size `osize`.  In protected mode the selector may name a code
 * segment, a call gate, a task gate or a TSS.  `next_rip` is the address
 * after the instruction: what a CALL pushes and what a task switch saves.
 * Sets CS:rIP (and SS:rSP, for a call to an inner level). */
int far_jump(Cpu *cpu, FarKind kind, uint16_t selector, uint64_t offset,
             unsigned osize, uint64_t next_rip);

/* Far RET (`kind` FAR_RET; `release` = imm16, released on the old stack
 * and, when returning outward, on the new one) or IRET (FAR_IRET: the
 * frame has rFLAGS after CS; the bits in `flags_mask` are loaded from it).
 * Real-address and virtual-8086 mode as well; not IRET's task return or
 * its return to virtual-8086 mode, which the IRET handler handles. */
int far_return(Cpu *cpu, FarKind kind, unsigned osize, uint64_t release,
               uint64_t flags_mask);

/* Real-address and virtual-8086 mode: CS = selector (base = selector << 4),
 * rIP = offset truncated to `osize`, #GP(0) if beyond the CS limit. */
int far_real(Cpu *cpu, uint16_t selector, uint64_t offset, unsigned osize);

#endif

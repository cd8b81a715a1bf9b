/* The MMX registers and their aliasing onto the x87 FPU (SDM Vol. 1 9.5,
 * 9.6 and Table 9-2; Vol. 3 12.1-12.2, Table 12-2).
 *
 * MM0-MM7 are the 64-bit significands of the x87 physical registers R0-R7
 * (not ST(i): the aliasing ignores TOP).  An MMX write also sets the
 * register's sign and exponent to all ones (se = 0xFFFF), which is why a
 * value written by MMX code reads as a NaN or infinity to x87 code.  Every
 * MMX instruction except EMMS leaves TOP = 0 and every tag valid; EMMS
 * leaves TOP = 0 and every tag empty.  Other FSW bits, FCW and the x87
 * instruction and data pointers are not touched.
 *
 * The SSE and SSE2 instructions that name an MMX register (MOVQ2DQ,
 * MOVDQ2Q, CVTPI2PS ...) make the same transition; they are checked with
 * sse_check() plus mmx_check_pending().
 */
#ifndef VIREO_CPU_SSE_MMX_H
#define VIREO_CPU_SSE_MMX_H

#include <stdint.h>

#include "cpu/insn.h"

/* Before an MMX instruction (Vol. 3 Table 12-1 and the Vol. 2 "Numeric
 * Exceptions" tables of MMX instructions): CR0.EM → #UD, CR0.TS → #NM,
 * then a pending unmasked x87 exception (FSW.ES) → #MF, handled as the x87
 * handles it (with CR0.NE = 0: FERR# and carry on, see cpu/fpu/x87.c). */
int mmx_check(Cpu *cpu);

/* Only the pending-x87-exception part of mmx_check(), for SSE-family
 * instructions that name MMX registers (their #UD/#NM come from
 * sse_check()). */
int mmx_check_pending(Cpu *cpu);

/* MMn: the significand of physical register Rn. */
static inline uint64_t mmx_read(const Cpu *cpu, unsigned n)
{
    return cpu->s.fpu.r[n & 7].sig;
}

/* The x87-to-MMX transition: TOP = 0, all tags valid.  Called by every MMX
 * instruction once it can no longer fault (mmx_write() does it). */
void mmx_enter(Cpu *cpu);

/* Write MMn: significand = v, sign and exponent all ones, plus the
 * transition of mmx_enter(). */
void mmx_write(Cpu *cpu, unsigned n, uint64_t v);

#endif

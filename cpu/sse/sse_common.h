/* Shared helpers for SSE and MMX handlers: the availability checks of
 * SDM Vol. 3 13.1-13.2 and Vol. 1 11.6.1 / 12.1, and operand access for
 * XMM registers and 128-bit memory operands. */
#ifndef VIREO_CPU_SSE_SSE_COMMON_H
#define VIREO_CPU_SSE_SSE_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/insn.h"
#include "cpu/sse/sse_state.h"

/* Before any SSE/SSE2/SSE3/SSSE3/SSE4 instruction: CR0.EM or
 * !CR4.OSFXSR → #UD, then CR0.TS → #NM. */
int sse_check(Cpu *cpu);

/* The linear address of the memory operand, for alignment checks. */
uint64_t insn_linear_address(const Cpu *cpu, const DecodedInsn *d);

/* Operand i (OPK_XMM or OPK_MEM) as 128 bits.  `aligned`: a memory operand
 * not on a 16-byte boundary raises #GP(0), as for MOVAPS, MOVDQA and the
 * legacy-SSE forms of most packed instructions. */
int sse_read128(Cpu *cpu, const DecodedInsn *d, int i, bool aligned, XmmReg *v);
int sse_write128(Cpu *cpu, const DecodedInsn *d, int i, bool aligned,
                 const XmmReg *v);

/* Operand i as its low `size` bytes (1, 2, 4 or 8): a register's low
 * lanes, or exactly `size` bytes of memory (scalar forms). */
int sse_read_low(Cpu *cpu, const DecodedInsn *d, int i, unsigned size,
                 uint64_t *v);

static inline XmmReg *xmm_reg(Cpu *cpu, unsigned n)
{
    return &cpu->s.sse.xmm[n & 15];
}

#endif

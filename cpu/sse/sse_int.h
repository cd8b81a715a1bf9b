/* Packed-integer SIMD: what the MMX, SSE2, SSSE3 and SSE4 integer
 * handlers (cpu/sse/sse_int*.c) share.
 *
 * Most packed-integer instructions exist twice: an MMX form (no prefix,
 * Pq/Qq, 64 bits) and an SSE2 form (66 prefix, Vx/Wx, 128 bits).  One
 * handler serves both; it looks at the decoded operand kinds.  A vector is
 * an XmmReg (two little-endian quadwords); an MMX operand uses q[0] only.
 * Lanes are extracted with shifts, never by type punning, so results do not
 * depend on the host's byte order or SIMD unit (DESIGN.md: bit-identical on
 * every host).
 *
 * The protocol of every handler (cpu/insn.h): simd_begin() for the
 * availability checks, read every operand (memory may fault), compute, then
 * write the register result with simd_put(), which for MMX also makes the
 * x87-to-MMX transition (mmx.h).
 */
#ifndef VIREO_CPU_SSE_SSE_INT_H
#define VIREO_CPU_SSE_SSE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/sse/mmx.h"
#include "cpu/sse/sse_common.h"

/* ---- lanes ----------------------------------------------------------- */

/* Lane i of `size` bytes (1, 2, 4, 8), zero-extended. */
static inline uint64_t lane_get(const XmmReg *v, unsigned size, unsigned i)
{
    unsigned bit = i * size * 8;
    uint64_t q = v->q[(bit >> 6) & 1];
    if (size == 8)
        return q;
    return (q >> (bit & 63)) & ((1ull << (size * 8)) - 1);
}

/* Lane i sign-extended. */
static inline int64_t lane_gets(const XmmReg *v, unsigned size, unsigned i)
{
    return (int64_t)sign_extend(lane_get(v, size, i), size);
}

static inline void lane_set(XmmReg *v, unsigned size, unsigned i, uint64_t x)
{
    unsigned bit = i * size * 8;
    uint64_t *q = &v->q[(bit >> 6) & 1];
    if (size == 8) {
        *q = x;
        return;
    }
    uint64_t m = ((1ull << (size * 8)) - 1) << (bit & 63);
    *q = (*q & ~m) | ((x << (bit & 63)) & m);
}

/* Saturation to a lane of `size` bytes. */
static inline uint64_t sat_signed(int64_t x, unsigned size)
{
    int64_t hi = (int64_t)(sign_bit(size) - 1), lo = -hi - 1;
    return (uint64_t)(x > hi ? hi : x < lo ? lo : x) & size_mask(size);
}

static inline uint64_t sat_unsigned(int64_t x, unsigned size)
{
    int64_t hi = (int64_t)size_mask(size);
    return (uint64_t)(x > hi ? hi : x < 0 ? 0 : x);
}

/* ---- operands -------------------------------------------------------- */

/* The register width of a decoded SIMD instruction: 8 when its vector
 * operands are MMX registers, 16 for XMM. */
static inline unsigned simd_width(const DecodedInsn *d)
{
    for (int i = 0; i < 3; i++) {
        if (d->kind[i] == OPK_XMM)
            return 16;
    }
    return 8;
}

/* Availability checks by operand kinds: an XMM operand → sse_check(); an
 * MMX operand → mmx_check() (or, with an XMM operand too, only its #MF
 * part). */
int simd_begin(Cpu *cpu, const DecodedInsn *d);

/* Read operand i: an MMX or XMM register, a general register (low `bytes`
 * bytes), or `bytes` bytes of memory (1, 2, 4, 8 or 16).  16-byte memory
 * operands of legacy SSE instructions must be 16-byte aligned unless the
 * SDM exempts the instruction: `aligned` asks for the #GP(0) check. */
int simd_read(Cpu *cpu, const DecodedInsn *d, int i, unsigned bytes,
              bool aligned, XmmReg *v);

/* Write a register result to operand i (MMX or XMM register).  An MMX
 * write sets the exponent bits and makes the MMX transition; an XMM write
 * of an MMX-width result is not done here (callers widen explicitly). */
void simd_put(Cpu *cpu, const DecodedInsn *d, int i, const XmmReg *v);

/* The common shape: operand 0 is the destination and first source (a
 * register), operand 1 the second source (register or memory of the full
 * width, aligned for XMM).  Does the checks and both reads. */
typedef struct SimdArgs {
    XmmReg a, b;        /* operand 0 and operand 1 */
    unsigned width;     /* 8 or 16 bytes */
} SimdArgs;

int simd_load2(Cpu *cpu, const DecodedInsn *d, SimdArgs *s);

/* Lane-wise operation of two operands (see sse_int_arith.c). */
typedef uint64_t (*LaneOp)(uint64_t a, uint64_t b, unsigned size);
int simd_lanewise(Cpu *cpu, const DecodedInsn *d, unsigned size, LaneOp op);

#endif

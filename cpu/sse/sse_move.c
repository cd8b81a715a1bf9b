/* SSE/SSE2/SSE3/SSE4.1 floating-point data movement, shuffles, logic and
 * blends: MOVAPS/PD, MOVUPS/PD, MOVSS, MOVSD, MOVLPS/PD (and MOVHLPS),
 * MOVHPS/PD (and MOVLHPS), MOVNTPS/PD, MOVMSKPS/PD, UNPCKL/HPS/PD,
 * SHUFPS/PD, AND/ANDN/OR/XORPS/PD, MOVSLDUP, MOVSHDUP, MOVDDUP,
 * BLENDPS/PD, BLENDVPS/PD, INSERTPS, EXTRACTPS (SDM Vol. 2, each page).
 *
 * None of these does arithmetic, so MXCSR plays no part: no flags, no
 * DAZ/FTZ, NaNs and denormals are moved bit for bit.  Alignment: m128
 * operands must be 16-byte aligned (#GP(0)) except for MOVUPS and MOVUPD
 * (LDDQU is with the integer moves, cpu/sse/sse_int.c); m32/m64 operands
 * are never checked.
 */
#include "cpu/sse/sse_fp.h"

/* ---- whole-register moves ------------------------------------------------ */

/* Operand 1 to operand 0, either being memory (load and store forms share
 * the handler: 0F 10/11, 0F 28/29). */
static int move128(Cpu *cpu, const DecodedInsn *d, bool aligned)
{
    XmmReg v;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, aligned, &v) != CPU_OK)
        return CPU_FAULT;
    return sse_write128(cpu, d, 0, aligned, &v);
}

int h_MOVUPS(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, false); }
int h_MOVUPD(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, false); }
int h_MOVAPS(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, true); }
int h_MOVAPD(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, true); }
/* The non-temporal hint changes nothing an emulator can observe; the
 * alignment rule stays (Vol. 2 MOVNTPS). */
int h_MOVNTPS(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, true); }
int h_MOVNTPD(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, true); }

/* MOVSS/MOVSD (F3/F2 0F 10, 11): a load from memory zeroes the rest of
 * the register, a register-to-register move keeps the destination's
 * upper lanes, a store writes exactly the low lane. */
static int move_scalar(Cpu *cpu, const DecodedInsn *d, unsigned size)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, size, &v) != CPU_OK)
        return CPU_FAULT;
    if (d->kind[0] == OPK_MEM)
        return op_write(cpu, d, 0, size, v);
    XmmReg *r = xmm_reg(cpu, d->reg[0]);
    if (d->kind[1] == OPK_MEM) {
        r->q[0] = v;
        r->q[1] = 0;
    } else {
        r->q[0] = (r->q[0] & ~size_mask(size)) | v;
    }
    return CPU_OK;
}

int h_MOVSS(Cpu *cpu, const DecodedInsn *d) { return move_scalar(cpu, d, 4); }
int h_MOVSD_XMM(Cpu *cpu, const DecodedInsn *d) { return move_scalar(cpu, d, 8); }

/* MOVLPS/MOVLPD (0F 12/13) and MOVHPS/MOVHPD (0F 16/17): one 64-bit half
 * to or from m64.  The register forms of 0F 12 and 0F 16 without a prefix
 * are MOVHLPS (low half from the source's high half) and MOVLHPS (high
 * half from the source's low half). */
static int move_half(Cpu *cpu, const DecodedInsn *d, unsigned half)
{
    if (sse_check(cpu) != CPU_OK)
        return CPU_FAULT;
    if (d->kind[0] == OPK_MEM)
        return op_write(cpu, d, 0, 8, xmm_reg(cpu, d->reg[1])->q[half]);
    uint64_t v;
    if (d->kind[1] == OPK_MEM) {
        if (op_read(cpu, d, 1, 8, &v) != CPU_OK)
            return CPU_FAULT;
    } else {
        v = xmm_reg(cpu, d->reg[1])->q[half ^ 1];
    }
    xmm_reg(cpu, d->reg[0])->q[half] = v;
    return CPU_OK;
}

int h_MOVLPS(Cpu *cpu, const DecodedInsn *d) { return move_half(cpu, d, 0); }
int h_MOVLPD(Cpu *cpu, const DecodedInsn *d) { return move_half(cpu, d, 0); }
int h_MOVHPS(Cpu *cpu, const DecodedInsn *d) { return move_half(cpu, d, 1); }
int h_MOVHPD(Cpu *cpu, const DecodedInsn *d) { return move_half(cpu, d, 1); }

/* MOVMSKPS/PD r32/r64, xmm: the lanes' sign bits, zero-extended. */
static int movmsk(Cpu *cpu, const DecodedInsn *d, SfFormat f)
{
    if (sse_check(cpu) != CPU_OK)
        return CPU_FAULT;
    const XmmReg *s = xmm_reg(cpu, d->reg[1]);
    uint64_t m = 0;
    for (unsigned i = 0; i < sf_lanes(f); i++)
        m |= (xmm_lane(s, f, i) >> (8 * sf_bytes(f) - 1)) << i;
    reg_write(cpu, d->reg[0], 8, m);
    return CPU_OK;
}

int h_MOVMSKPS(Cpu *cpu, const DecodedInsn *d) { return movmsk(cpu, d, SF_F32); }
int h_MOVMSKPD(Cpu *cpu, const DecodedInsn *d) { return movmsk(cpu, d, SF_F64); }

/* ---- two-source shuffles, logic and blends ------------------------------- */

/* dest = f(dest, src) where src is xmm or an aligned m128. */
typedef void (*Combine)(XmmReg *r, const XmmReg *a, const XmmReg *b,
                        unsigned imm, const XmmReg *xmm0);

static int combine(Cpu *cpu, const DecodedInsn *d, Combine fn)
{
    XmmReg b, r;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &b) != CPU_OK)
        return CPU_FAULT;
    XmmReg a = *xmm_reg(cpu, d->reg[0]);
    fn(&r, &a, &b, (unsigned)d->imm, xmm_reg(cpu, 0));
    *xmm_reg(cpu, d->reg[0]) = r;
    return CPU_OK;
}

#define COMBINE(NAME, body)                                                     \
    static void c_##NAME(XmmReg *r, const XmmReg *a, const XmmReg *b,          \
                         unsigned imm, const XmmReg *xmm0) { body; }            \
    int h_##NAME(Cpu *cpu, const DecodedInsn *d) { return combine(cpu, d, c_##NAME); }

#define L32(x, i) xmm_lane((x), SF_F32, (i))
#define SET32(i, v) xmm_set_lane(r, SF_F32, (i), (v))

COMBINE(UNPCKLPS, SET32(0, L32(a, 0)); SET32(1, L32(b, 0)); SET32(2, L32(a, 1)); SET32(3, L32(b, 1)))
COMBINE(UNPCKHPS, SET32(0, L32(a, 2)); SET32(1, L32(b, 2)); SET32(2, L32(a, 3)); SET32(3, L32(b, 3)))
COMBINE(UNPCKLPD, r->q[0] = a->q[0]; r->q[1] = b->q[0])
COMBINE(UNPCKHPD, r->q[0] = a->q[1]; r->q[1] = b->q[1])
/* SHUFPS: two lanes of the destination, then two of the source. */
COMBINE(SHUFPS, SET32(0, L32(a, imm & 3)); SET32(1, L32(a, (imm >> 2) & 3));
                SET32(2, L32(b, (imm >> 4) & 3)); SET32(3, L32(b, (imm >> 6) & 3)))
COMBINE(SHUFPD, r->q[0] = a->q[imm & 1]; r->q[1] = b->q[(imm >> 1) & 1])
COMBINE(ANDPS, for (int i = 0; i < 2; i++) r->q[i] = a->q[i] & b->q[i])
COMBINE(ANDPD, for (int i = 0; i < 2; i++) r->q[i] = a->q[i] & b->q[i])
COMBINE(ANDNPS, for (int i = 0; i < 2; i++) r->q[i] = ~a->q[i] & b->q[i])
COMBINE(ANDNPD, for (int i = 0; i < 2; i++) r->q[i] = ~a->q[i] & b->q[i])
COMBINE(ORPS, for (int i = 0; i < 2; i++) r->q[i] = a->q[i] | b->q[i])
COMBINE(ORPD, for (int i = 0; i < 2; i++) r->q[i] = a->q[i] | b->q[i])
COMBINE(XORPS, for (int i = 0; i < 2; i++) r->q[i] = a->q[i] ^ b->q[i])
COMBINE(XORPD, for (int i = 0; i < 2; i++) r->q[i] = a->q[i] ^ b->q[i])
/* SSE3 duplicates: the source's even (MOVSLDUP) or odd (MOVSHDUP) lanes. */
COMBINE(MOVSLDUP, SET32(0, L32(b, 0)); SET32(1, L32(b, 0)); SET32(2, L32(b, 2)); SET32(3, L32(b, 2)))
COMBINE(MOVSHDUP, SET32(0, L32(b, 1)); SET32(1, L32(b, 1)); SET32(2, L32(b, 3)); SET32(3, L32(b, 3)))
/* SSE4.1 blends: imm8 bit i (BLENDPS) or the sign of XMM0's lane i
 * (BLENDVPS, the implicit third operand) picks the source's lane. */
COMBINE(BLENDPS, for (unsigned i = 0; i < 4; i++) SET32(i, L32((imm >> i) & 1 ? b : a, i)))
COMBINE(BLENDPD, for (unsigned i = 0; i < 2; i++) r->q[i] = ((imm >> i) & 1 ? b : a)->q[i])
COMBINE(BLENDVPS, for (unsigned i = 0; i < 4; i++) SET32(i, L32(L32(xmm0, i) >> 31 ? b : a, i)))
COMBINE(BLENDVPD, for (unsigned i = 0; i < 2; i++) r->q[i] = (xmm0->q[i] >> 63 ? b : a)->q[i])

/* MOVDDUP xmm, xmm/m64 (SSE3): the low 64 bits twice. */
int h_MOVDDUP(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, 8, &v) != CPU_OK)
        return CPU_FAULT;
    XmmReg *r = xmm_reg(cpu, d->reg[0]);
    r->q[0] = r->q[1] = v;
    return CPU_OK;
}

/* ---- SSE4.1 INSERTPS, EXTRACTPS ------------------------------------------ */

/* INSERTPS xmm1, xmm2/m32, imm8 (Vol. 2): the source lane imm8[7:6] (a
 * memory operand is one m32 and has no lane) goes to lane imm8[5:4], then
 * lanes set in imm8[3:0] are zeroed. */
int h_INSERTPS(Cpu *cpu, const DecodedInsn *d)
{
    unsigned imm = (unsigned)d->imm;
    uint64_t v;
    if (sse_check(cpu) != CPU_OK)
        return CPU_FAULT;
    if (d->kind[1] == OPK_MEM) {
        if (op_read(cpu, d, 1, 4, &v) != CPU_OK)
            return CPU_FAULT;
    } else {
        v = xmm_lane(xmm_reg(cpu, d->reg[1]), SF_F32, imm >> 6);
    }
    XmmReg *r = xmm_reg(cpu, d->reg[0]);
    xmm_set_lane(r, SF_F32, (imm >> 4) & 3, v);
    for (unsigned i = 0; i < 4; i++)
        if ((imm >> i) & 1)
            xmm_set_lane(r, SF_F32, i, 0);
    return CPU_OK;
}

/* EXTRACTPS r/m32, xmm, imm8: lane imm8[1:0]; a 64-bit register gets it
 * zero-extended (REX.W is ignored). */
int h_EXTRACTPS(Cpu *cpu, const DecodedInsn *d)
{
    if (sse_check(cpu) != CPU_OK)
        return CPU_FAULT;
    uint64_t v = xmm_lane(xmm_reg(cpu, d->reg[1]), SF_F32, d->imm & 3);
    return op_write(cpu, d, 0, 4, v);
}

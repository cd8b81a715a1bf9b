/* SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic: ADD, SUB, MUL, DIV,
 * SQRT, MIN, MAX (PS/PD/SS/SD), RCP and RSQRT, CMPPS/PD/SS/SD, (U)COMISS/SD,
 * ADDSUBPS/PD, HADDPS/PD, HSUBPS/PD, ROUNDPS/PD/SS/SD, DPPS/DPPD.
 *
 * SDM Vol. 2 (each instruction's page), Vol. 1 ch. 10-12 (the SSE
 * programming model) and 11.5 (SIMD floating-point exceptions).  The
 * arithmetic is cpu/sse/softfloat.c; this file only distributes lanes.
 * Legacy-SSE packed forms require 16-byte aligned memory operands (#GP(0));
 * scalar forms read exactly 4 or 8 bytes, unaligned.
 */
#include "cpu/sse/sse_fp.h"

int sse_fp_commit(Cpu *cpu, const SfEnv *e)
{
    unsigned flags = e->flags & SF_ALL;
    unsigned unmasked = flags & ~e->masks & SF_ALL;
    /* An unmasked pre-computation exception stops the instruction before
     * any post-computation condition is looked for (Vol. 1 11.5.3). */
    if (unmasked & SF_PRECOMP)
        flags &= SF_PRECOMP;
    cpu->s.sse.mxcsr |= flags;
    if (!unmasked)
        return CPU_OK;
    /* Vol. 3 6.15, #XM: without CR4.OSXMMEXCPT the OS cannot take #XM. */
    return cpu_raise(cpu, (cpu->s.cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, 0,
                     false);
}

/* One lane operation: a is the first source (the destination register),
 * b the second; imm is the instruction's immediate where it has one. */
typedef uint64_t (*LaneOp)(SfFormat f, SfEnv *e, uint64_t a, uint64_t b,
                           unsigned imm);

#define LANE_OP(name, expr) \
    static uint64_t op_##name(SfFormat f, SfEnv *e, uint64_t a, uint64_t b, \
                              unsigned imm) { return (expr); }

LANE_OP(add, sf_add(f, e, a, b))
LANE_OP(sub, sf_sub(f, e, a, b))
LANE_OP(mul, sf_mul(f, e, a, b))
LANE_OP(div, sf_div(f, e, a, b))
LANE_OP(min, sf_min(f, e, a, b))
LANE_OP(max, sf_max(f, e, a, b))
LANE_OP(sqrt, sf_sqrt(f, e, b))
LANE_OP(rcp, sf_rcp32(e, (uint32_t)b))
LANE_OP(rsqrt, sf_rsqrt32(e, (uint32_t)b))
LANE_OP(cmp, sf_cmp_predicate(f, e, a, b, imm))
/* ROUNDPS imm8 (Vol. 2 ROUNDPS, Table 4-18): bits 1:0 the rounding mode,
 * bit 2 "use MXCSR.RC instead", bit 3 suppresses the precision exception. */
LANE_OP(round, sf_round_int(f, e, b, (imm & 4) ? e->rc : (imm & 3), (imm & 8) != 0))

/* Packed: every lane of the destination and of a 16-byte aligned source. */
static int packed(Cpu *cpu, const DecodedInsn *d, SfFormat f, LaneOp op)
{
    XmmReg b, r;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &b) != CPU_OK)
        return CPU_FAULT;
    XmmReg a = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < sf_lanes(f); i++)
        xmm_set_lane(&r, f, i, op(f, &e, xmm_lane(&a, f, i), xmm_lane(&b, f, i),
                                  (unsigned)d->imm));
    if (sse_fp_commit(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    *xmm_reg(cpu, d->reg[0]) = r;
    return CPU_OK;
}

/* Scalar: the low lane; the destination's other lanes are kept. */
static int scalar(Cpu *cpu, const DecodedInsn *d, SfFormat f, LaneOp op)
{
    uint64_t b;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, sf_bytes(f), &b) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    xmm_set_lane(&r, f, 0, op(f, &e, xmm_lane(&r, f, 0), b, (unsigned)d->imm));
    if (sse_fp_commit(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    *xmm_reg(cpu, d->reg[0]) = r;
    return CPU_OK;
}

#define FOUR_FORMS(NAME, op)                                                  \
    int h_##NAME##PS(Cpu *cpu, const DecodedInsn *d) { return packed(cpu, d, SF_F32, op); } \
    int h_##NAME##PD(Cpu *cpu, const DecodedInsn *d) { return packed(cpu, d, SF_F64, op); } \
    int h_##NAME##SS(Cpu *cpu, const DecodedInsn *d) { return scalar(cpu, d, SF_F32, op); } \
    int h_##NAME##SD(Cpu *cpu, const DecodedInsn *d) { return scalar(cpu, d, SF_F64, op); }

FOUR_FORMS(ADD, op_add)
FOUR_FORMS(SUB, op_sub)
FOUR_FORMS(MUL, op_mul)
FOUR_FORMS(DIV, op_div)
FOUR_FORMS(MIN, op_min)
FOUR_FORMS(MAX, op_max)
FOUR_FORMS(SQRT, op_sqrt)
FOUR_FORMS(ROUND, op_round)

/* CMPPS/PD/SS/SD: imm8[2:0] is the predicate; legacy SSE ignores the rest
 * (predicates 8-31 exist only in the VEX forms). */
int h_CMPPS(Cpu *cpu, const DecodedInsn *d) { return packed(cpu, d, SF_F32, op_cmp); }
int h_CMPPD(Cpu *cpu, const DecodedInsn *d) { return packed(cpu, d, SF_F64, op_cmp); }
int h_CMPSS(Cpu *cpu, const DecodedInsn *d) { return scalar(cpu, d, SF_F32, op_cmp); }
int h_CMPSD_XMM(Cpu *cpu, const DecodedInsn *d) { return scalar(cpu, d, SF_F64, op_cmp); }

/* RCPPS/RSQRTPS and the scalar forms raise no exception at all (Vol. 2
 * RCPPS: "SIMD Floating-Point Exceptions: None"); see sf_rcp32(). */
int h_RCPPS(Cpu *cpu, const DecodedInsn *d) { return packed(cpu, d, SF_F32, op_rcp); }
int h_RCPSS(Cpu *cpu, const DecodedInsn *d) { return scalar(cpu, d, SF_F32, op_rcp); }
int h_RSQRTPS(Cpu *cpu, const DecodedInsn *d) { return packed(cpu, d, SF_F32, op_rsqrt); }
int h_RSQRTSS(Cpu *cpu, const DecodedInsn *d) { return scalar(cpu, d, SF_F32, op_rsqrt); }

/* ---- COMISS, UCOMISS, COMISD, UCOMISD ------------------------------------ */

/* Vol. 2 COMISS: ZF,PF,CF = 111 unordered, 000 greater, 001 less, 100
 * equal; OF, SF and AF are cleared.  COMIS* signal IE on any NaN, UCOMIS*
 * only on an SNaN. */
static int comis(Cpu *cpu, const DecodedInsn *d, SfFormat f, bool signaling)
{
    uint64_t b;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, sf_bytes(f), &b) != CPU_OK)
        return CPU_FAULT;
    SfEnv e = sse_env(cpu);
    int rel = sf_compare(f, &e, xmm_lane(xmm_reg(cpu, d->reg[0]), f, 0), b,
                         signaling);
    if (sse_fp_commit(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    static const uint32_t flags[4] = {
        [SF_LT] = F_CF, [SF_EQ] = F_ZF, [SF_GT] = 0, [SF_UN] = F_ZF | F_PF | F_CF,
    };
    cc_set_flags(cpu, flags[rel]);
    return CPU_OK;
}

int h_COMISS(Cpu *cpu, const DecodedInsn *d) { return comis(cpu, d, SF_F32, true); }
int h_COMISD(Cpu *cpu, const DecodedInsn *d) { return comis(cpu, d, SF_F64, true); }
int h_UCOMISS(Cpu *cpu, const DecodedInsn *d) { return comis(cpu, d, SF_F32, false); }
int h_UCOMISD(Cpu *cpu, const DecodedInsn *d) { return comis(cpu, d, SF_F64, false); }

/* ---- SSE3: ADDSUB, HADD, HSUB -------------------------------------------- */

/* Vol. 2 ADDSUBPS: even lanes subtract, odd lanes add. */
static int addsub(Cpu *cpu, const DecodedInsn *d, SfFormat f)
{
    XmmReg b, r;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &b) != CPU_OK)
        return CPU_FAULT;
    XmmReg a = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < sf_lanes(f); i++) {
        uint64_t x = xmm_lane(&a, f, i), y = xmm_lane(&b, f, i);
        xmm_set_lane(&r, f, i, (i & 1) ? sf_add(f, &e, x, y) : sf_sub(f, &e, x, y));
    }
    if (sse_fp_commit(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    *xmm_reg(cpu, d->reg[0]) = r;
    return CPU_OK;
}

int h_ADDSUBPS(Cpu *cpu, const DecodedInsn *d) { return addsub(cpu, d, SF_F32); }
int h_ADDSUBPD(Cpu *cpu, const DecodedInsn *d) { return addsub(cpu, d, SF_F64); }

/* Vol. 2 HADDPS: adjacent pairs of the destination fill the low half of the
 * result, pairs of the source the high half; the even lane is the first
 * operand (so it wins NaN propagation, and HSUB computes even - odd). */
static int horizontal(Cpu *cpu, const DecodedInsn *d, SfFormat f, bool sub)
{
    XmmReg b, r;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &b) != CPU_OK)
        return CPU_FAULT;
    XmmReg a = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    unsigned n = sf_lanes(f), half = n / 2;
    for (unsigned i = 0; i < n; i++) {
        const XmmReg *src = i < half ? &a : &b;
        unsigned j = 2 * (i % half);
        uint64_t x = xmm_lane(src, f, j), y = xmm_lane(src, f, j + 1);
        xmm_set_lane(&r, f, i, sub ? sf_sub(f, &e, x, y) : sf_add(f, &e, x, y));
    }
    if (sse_fp_commit(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    *xmm_reg(cpu, d->reg[0]) = r;
    return CPU_OK;
}

int h_HADDPS(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, SF_F32, false); }
int h_HADDPD(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, SF_F64, false); }
int h_HSUBPS(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, SF_F32, true); }
int h_HSUBPD(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, SF_F64, true); }

/* ---- SSE4.1: DPPS, DPPD -------------------------------------------------- */

/* One step of a dot product: merge its flags, fault if one is unmasked
 * (the destination is then untouched), and start the next step afresh. */
static int dp_step(Cpu *cpu, SfEnv *e)
{
    if (sse_fp_commit(cpu, e) != CPU_OK)
        return CPU_FAULT;
    e->flags = 0;
    return CPU_OK;
}

/* Vol. 2 DPPS, in the SDM's order so every rounding is the same: products
 * of the lanes selected by imm8[7:4] (others +0.0), summed as (p0 + p1) +
 * (p2 + p3), the sum broadcast to the lanes selected by imm8[3:0] (others
 * +0.0).  Each multiply and add is a full SSE operation (rounding, DAZ,
 * FTZ, and DE for an intermediate denormal).  The SDM says exceptions are
 * "determined separately for each add and multiply operation"; the
 * processor works in three steps (the multiplies, the two pair sums, the
 * final sum), and an unmasked exception in one step stops the instruction
 * with that step's flags added to MXCSR and the earlier steps' kept, which
 * is what dp_step() does between the steps. */
int h_DPPS(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg b, r;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &b) != CPU_OK)
        return CPU_FAULT;
    XmmReg a = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    unsigned imm = (unsigned)d->imm;
    uint64_t p[4];
    for (unsigned i = 0; i < 4; i++)
        p[i] = (imm >> (4 + i)) & 1 ?
               sf_mul(SF_F32, &e, xmm_lane(&a, SF_F32, i), xmm_lane(&b, SF_F32, i)) : 0;
    if (dp_step(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    uint64_t lo = sf_add(SF_F32, &e, p[0], p[1]);
    uint64_t hi = sf_add(SF_F32, &e, p[2], p[3]);
    if (dp_step(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    uint64_t sum = sf_add(SF_F32, &e, lo, hi);
    if (dp_step(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    for (unsigned i = 0; i < 4; i++)
        xmm_set_lane(&r, SF_F32, i, (imm >> i) & 1 ? sum : 0);
    *xmm_reg(cpu, d->reg[0]) = r;
    return CPU_OK;
}

/* Vol. 2 DPPD: imm8[5:4] select the products, imm8[1:0] the outputs; two
 * steps (the multiplies, the sum), as for DPPS. */
int h_DPPD(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg b, r;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &b) != CPU_OK)
        return CPU_FAULT;
    XmmReg a = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    unsigned imm = (unsigned)d->imm;
    uint64_t p[2];
    for (unsigned i = 0; i < 2; i++)
        p[i] = (imm >> (4 + i)) & 1 ? sf_mul(SF_F64, &e, a.q[i], b.q[i]) : 0;
    if (dp_step(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    uint64_t sum = sf_add(SF_F64, &e, p[0], p[1]);
    if (dp_step(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    for (unsigned i = 0; i < 2; i++)
        r.q[i] = (imm >> i) & 1 ? sum : 0;
    *xmm_reg(cpu, d->reg[0]) = r;
    return CPU_OK;
}

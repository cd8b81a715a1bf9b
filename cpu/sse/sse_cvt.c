/* SSE/SSE2 conversions (SDM Vol. 2 CVT*: CVTPI2PS ... CVTTPD2PI) and the
 * MXCSR instructions LDMXCSR/STMXCSR (Vol. 2; Vol. 1 10.2.3).
 *
 * Float to integer: rounded by MXCSR.RC, or truncated by the CVTT forms;
 * NaN, infinite or out-of-range values give the integer indefinite with
 * IE (Vol. 1 4.8.3.8).  Packed results narrower than the register
 * (CVTPD2PS, CVTPD2DQ) zero the high 64 bits; scalar results keep the
 * destination's other lanes.
 *
 * The MMX forms (CVTPI2PS, CVTPS2PI, ...) read or write an MMX register,
 * that is the 64-bit significand of x87 register R0-R7 (Vol. 1 9.5).  An
 * instruction with an MMX register operand is an MMX instruction for the
 * x87: a pending x87 exception is taken first (#MF), and it moves the FPU
 * to MMX mode: TOP = 0, every tag valid (Vol. 1 9.5.1, Vol. 2 CVTPI2PS,
 * "the instruction causes a transition from x87 FPU to MMX technology
 * operation"); a write also sets bits 79-64 to all ones (Vol. 1 9.5.2).
 * A memory operand makes no transition.
 */
#include "cpu/sse/mmx.h"
#include "cpu/sse/sse_fp.h"

/* ---- MMX operands (the accessors and the transition are cpu/sse/mmx.h) --- */

static int mmx_pending(Cpu *cpu, const DecodedInsn *d, int i)
{
    /* sse_check() has already ruled out CR0.EM and CR0.TS. */
    return d->kind[i] == OPK_MMX ? mmx_check_pending(cpu) : CPU_OK;
}

/* An MMX register or m64. */
static int read_mmx_or_mem(Cpu *cpu, const DecodedInsn *d, int i, uint64_t *v)
{
    if (d->kind[i] == OPK_MMX) {
        *v = mmx_read(cpu, d->reg[i]);
        return CPU_OK;
    }
    return op_read(cpu, d, i, 8, v);
}

/* ---- helpers ------------------------------------------------------------- */

static int32_t lane_i32(uint64_t v, unsigned i)
{
    return (int32_t)(uint32_t)(v >> (32 * i));
}

/* Finish an instruction whose result is an XMM register. */
static int finish_xmm(Cpu *cpu, const DecodedInsn *d, const SfEnv *e,
                      const XmmReg *r)
{
    if (sse_fp_commit(cpu, e) != CPU_OK)
        return CPU_FAULT;
    *xmm_reg(cpu, d->reg[0]) = *r;
    return CPU_OK;
}

/* ---- integer to float ---------------------------------------------------- */

/* CVTPI2PS xmm, mm/m64: two int32 into the low two lanes (PE only). */
int h_CVTPI2PS(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || mmx_pending(cpu, d, 1) != CPU_OK ||
        read_mmx_or_mem(cpu, d, 1, &v) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < 2; i++)
        xmm_set_lane(&r, SF_F32, i, sf_from_int(SF_F32, &e, lane_i32(v, i)));
    if (finish_xmm(cpu, d, &e, &r) != CPU_OK)
        return CPU_FAULT;
    if (d->kind[1] == OPK_MMX)
        mmx_enter(cpu);
    return CPU_OK;
}

/* CVTPI2PD xmm, mm/m64: exact. */
int h_CVTPI2PD(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || mmx_pending(cpu, d, 1) != CPU_OK ||
        read_mmx_or_mem(cpu, d, 1, &v) != CPU_OK)
        return CPU_FAULT;
    XmmReg r;
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < 2; i++)
        r.q[i] = sf_from_int(SF_F64, &e, lane_i32(v, i));
    if (finish_xmm(cpu, d, &e, &r) != CPU_OK)
        return CPU_FAULT;
    if (d->kind[1] == OPK_MMX)
        mmx_enter(cpu);
    return CPU_OK;
}

/* CVTSI2SS/CVTSI2SD xmm, r/m32 or r/m64 (REX.W). */
static int cvtsi2s(Cpu *cpu, const DecodedInsn *d, SfFormat f)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || op_read(cpu, d, 1, d->osize, &v) != CPU_OK)
        return CPU_FAULT;
    int64_t iv = d->osize == 8 ? (int64_t)v : (int64_t)(int32_t)(uint32_t)v;
    XmmReg r = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    xmm_set_lane(&r, f, 0, sf_from_int(f, &e, iv));
    return finish_xmm(cpu, d, &e, &r);
}

int h_CVTSI2SS(Cpu *cpu, const DecodedInsn *d) { return cvtsi2s(cpu, d, SF_F32); }
int h_CVTSI2SD(Cpu *cpu, const DecodedInsn *d) { return cvtsi2s(cpu, d, SF_F64); }

/* CVTDQ2PS xmm, xmm/m128 (aligned). */
int h_CVTDQ2PS(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg s, r;
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &s) != CPU_OK)
        return CPU_FAULT;
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < 4; i++)
        xmm_set_lane(&r, SF_F32, i, sf_from_int(SF_F32, &e,
                     (int32_t)(uint32_t)xmm_lane(&s, SF_F32, i)));
    return finish_xmm(cpu, d, &e, &r);
}

/* CVTDQ2PD xmm, xmm/m64: exact. */
int h_CVTDQ2PD(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, 8, &v) != CPU_OK)
        return CPU_FAULT;
    XmmReg r;
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < 2; i++)
        r.q[i] = sf_from_int(SF_F64, &e, lane_i32(v, i));
    return finish_xmm(cpu, d, &e, &r);
}

/* ---- float to integer ---------------------------------------------------- */

/* CVT(T)PS2PI mm, xmm/m64 and CVT(T)PD2PI mm, xmm/m128 (aligned). */
static int cvt_to_pi(Cpu *cpu, const DecodedInsn *d, SfFormat f, bool truncate)
{
    XmmReg s = { { 0, 0 } };
    if (sse_check(cpu) != CPU_OK || mmx_check_pending(cpu) != CPU_OK)
        return CPU_FAULT;
    if (f == SF_F64) {
        if (sse_read128(cpu, d, 1, true, &s) != CPU_OK)
            return CPU_FAULT;
    } else if (sse_read_low(cpu, d, 1, 8, &s.q[0]) != CPU_OK) {
        return CPU_FAULT;
    }
    SfEnv e = sse_env(cpu);
    uint64_t v = 0;
    for (unsigned i = 0; i < 2; i++)
        v |= sf_to_int(f, &e, xmm_lane(&s, f, i), 32, truncate) << (32 * i);
    if (sse_fp_commit(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    mmx_write(cpu, d->reg[0], v);
    return CPU_OK;
}

int h_CVTPS2PI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_pi(cpu, d, SF_F32, false); }
int h_CVTTPS2PI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_pi(cpu, d, SF_F32, true); }
int h_CVTPD2PI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_pi(cpu, d, SF_F64, false); }
int h_CVTTPD2PI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_pi(cpu, d, SF_F64, true); }

/* CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m32|m64. */
static int cvt_to_si(Cpu *cpu, const DecodedInsn *d, SfFormat f, bool truncate)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, sf_bytes(f), &v) != CPU_OK)
        return CPU_FAULT;
    SfEnv e = sse_env(cpu);
    uint64_t r = sf_to_int(f, &e, v, d->osize == 8 ? 64 : 32, truncate);
    if (sse_fp_commit(cpu, &e) != CPU_OK)
        return CPU_FAULT;
    reg_write(cpu, d->reg[0], d->osize == 8 ? 8 : 4, r);
    return CPU_OK;
}

int h_CVTSS2SI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_si(cpu, d, SF_F32, false); }
int h_CVTTSS2SI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_si(cpu, d, SF_F32, true); }
int h_CVTSD2SI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_si(cpu, d, SF_F64, false); }
int h_CVTTSD2SI(Cpu *cpu, const DecodedInsn *d) { return cvt_to_si(cpu, d, SF_F64, true); }

/* CVT(T)PS2DQ xmm, xmm/m128 and CVT(T)PD2DQ xmm, xmm/m128 (aligned). */
static int cvt_to_dq(Cpu *cpu, const DecodedInsn *d, SfFormat f, bool truncate)
{
    XmmReg s, r = { { 0, 0 } };
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &s) != CPU_OK)
        return CPU_FAULT;
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < sf_lanes(f); i++)
        xmm_set_lane(&r, SF_F32, i, sf_to_int(f, &e, xmm_lane(&s, f, i), 32, truncate));
    return finish_xmm(cpu, d, &e, &r);
}

int h_CVTPS2DQ(Cpu *cpu, const DecodedInsn *d) { return cvt_to_dq(cpu, d, SF_F32, false); }
int h_CVTTPS2DQ(Cpu *cpu, const DecodedInsn *d) { return cvt_to_dq(cpu, d, SF_F32, true); }
int h_CVTPD2DQ(Cpu *cpu, const DecodedInsn *d) { return cvt_to_dq(cpu, d, SF_F64, false); }
int h_CVTTPD2DQ(Cpu *cpu, const DecodedInsn *d) { return cvt_to_dq(cpu, d, SF_F64, true); }

/* ---- float to float ------------------------------------------------------ */

/* CVTPS2PD xmm, xmm/m64. */
int h_CVTPS2PD(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg s = { { 0, 0 } }, r;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, 8, &s.q[0]) != CPU_OK)
        return CPU_FAULT;
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < 2; i++)
        r.q[i] = sf_convert(SF_F64, SF_F32, &e, xmm_lane(&s, SF_F32, i));
    return finish_xmm(cpu, d, &e, &r);
}

/* CVTPD2PS xmm, xmm/m128 (aligned): the high half of the result is 0. */
int h_CVTPD2PS(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg s, r = { { 0, 0 } };
    if (sse_check(cpu) != CPU_OK || sse_read128(cpu, d, 1, true, &s) != CPU_OK)
        return CPU_FAULT;
    SfEnv e = sse_env(cpu);
    for (unsigned i = 0; i < 2; i++)
        xmm_set_lane(&r, SF_F32, i, sf_convert(SF_F32, SF_F64, &e, s.q[i]));
    return finish_xmm(cpu, d, &e, &r);
}

/* CVTSS2SD xmm, xmm/m32 and CVTSD2SS xmm, xmm/m64. */
static int cvt_scalar(Cpu *cpu, const DecodedInsn *d, SfFormat to, SfFormat from)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || sse_read_low(cpu, d, 1, sf_bytes(from), &v) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = *xmm_reg(cpu, d->reg[0]);
    SfEnv e = sse_env(cpu);
    xmm_set_lane(&r, to, 0, sf_convert(to, from, &e, v));
    return finish_xmm(cpu, d, &e, &r);
}

int h_CVTSS2SD(Cpu *cpu, const DecodedInsn *d) { return cvt_scalar(cpu, d, SF_F64, SF_F32); }
int h_CVTSD2SS(Cpu *cpu, const DecodedInsn *d) { return cvt_scalar(cpu, d, SF_F32, SF_F64); }

/* ---- MXCSR --------------------------------------------------------------- */

/* LDMXCSR m32: a reserved bit set is #GP(0) (Vol. 2 LDMXCSR; MXCSR_MASK is
 * 0xFFFF, DAZ included).  Loading a flag whose mask is clear raises
 * nothing now: only an instruction that detects the condition does. */
int h_LDMXCSR(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (sse_check(cpu) != CPU_OK || op_read(cpu, d, 0, 4, &v) != CPU_OK)
        return CPU_FAULT;
    if (v & ~(uint64_t)MXCSR_WRITABLE)
        return cpu_raise(cpu, EXC_GP, 0, true);
    cpu->s.sse.mxcsr = (uint32_t)v;
    return CPU_OK;
}

int h_STMXCSR(Cpu *cpu, const DecodedInsn *d)
{
    if (sse_check(cpu) != CPU_OK)
        return CPU_FAULT;
    return op_write(cpu, d, 0, 4, cpu->s.sse.mxcsr);
}

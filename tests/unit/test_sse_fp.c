/* Unit tests for the SSE floating-point instructions and their softfloat
 * (cpu/sse/softfloat*.c, sse_float.c, sse_cvt.c, sse_move.c): what the host
 * differential harness (tests/diff/sse) cannot reach from user mode, and
 * exactly known answers that pin the x86 rules down.
 *
 *  - CR0.EM/TS, CR4.OSFXSR and CR4.OSXMMEXCPT: #UD, #NM, and #XM versus
 *    #UD for an unmasked SIMD exception (SDM Vol. 3 13.1-13.2, Vol. 1
 *    11.5.3), with MXCSR flagged and the destination unchanged;
 *  - LDMXCSR's #GP(0) on reserved bits; alignment #GP for MOVAPS but not
 *    MOVUPS or scalar operands; the CPUID bits and the decoder's gates;
 *  - the MMX forms: a pending x87 exception, the MMX transition;
 *  - softfloat: tininess after rounding, FTZ, DAZ, NaN propagation and the
 *    default NaN, MIN/MAX, integer indefinite, ROUNDPS, RCPPS specials.
 * Code runs in real mode at 0:1000; data at 0:2000.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/fpu/x87.h"
#include "cpu/sse/softfloat.h"

#include "tests/unit/fp_box.h"

/* A box with SSE enabled and SIMD exceptions unmasked to #XM. */
static Box *sse_box(void)
{
    Box *b = box_new();
    b->cpu.s.cr0 |= CR0_NE | CR0_MP;
    b->cpu.s.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    b->rewind = true;
    return b;
}

static void set_ps(Box *b, int r, uint32_t l0, uint32_t l1, uint32_t l2, uint32_t l3)
{
    b->cpu.s.sse.xmm[r].q[0] = l0 | (uint64_t)l1 << 32;
    b->cpu.s.sse.xmm[r].q[1] = l2 | (uint64_t)l3 << 32;
}

static uint32_t lane(Box *b, int r, int i)
{
    return (uint32_t)(b->cpu.s.sse.xmm[r].q[i >> 1] >> (32 * (i & 1)));
}

/* DIVPS xmm0, xmm1 / ADDPS xmm0, xmm1 */
#define DIVPS 0x0f, 0x5e, 0xc1
#define ADDPS 0x0f, 0x58, 0xc1

/* ---- availability and exceptions ----------------------------------------- */

Test(sse_fp, em_ts_osfxsr)
{
    Box *b = sse_box();
    b->cpu.s.cr0 |= CR0_EM;
    cr_expect_eq(STEP(b, ADDPS), EXC_UD, "EM: SSE is #UD (no emulation)");
    b->cpu.s.cr0 = (b->cpu.s.cr0 & ~(uint64_t)CR0_EM) | CR0_TS;
    cr_expect_eq(STEP(b, ADDPS), EXC_NM, "TS: #NM for lazy state switching");
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0x1e, 0x00, 0x20), EXC_NM, "STMXCSR");
    b->cpu.s.cr0 &= ~(uint64_t)CR0_TS;
    b->cpu.s.cr4 &= ~(uint64_t)CR4_OSFXSR;
    cr_expect_eq(STEP(b, ADDPS), EXC_UD, "no OSFXSR: #UD");
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0x16, 0x00, 0x20), EXC_UD, "LDMXCSR");
    b->cpu.s.cr4 |= CR4_OSFXSR;
    cr_expect_eq(STEP(b, ADDPS), -1);
    cr_expect_eq(b->cpu.s.rip, CODE + 3);
    box_free(b);
}

Test(sse_fp, unmasked_exception_xm_or_ud)
{
    Box *b = sse_box();
    /* 0/0 in lane 0 is invalid; 1/0 in lane 1 is divide-by-zero. */
    set_ps(b, 0, 0, 0x3f800000, 0x40000000, 0x40400000);
    set_ps(b, 1, 0, 0, 0x3f800000, 0x3f800000);
    XmmReg before = b->cpu.s.sse.xmm[0];
    b->cpu.s.sse.mxcsr = 0x1f80 & ~(1u << 7);          /* IM clear */
    cr_expect_eq(STEP(b, DIVPS), EXC_XM);
    cr_expect_eq(b->cpu.s.sse.mxcsr, 0x1f00 | SF_IE | SF_ZE,
                 "flags of every lane's pre-computation exceptions: %x",
                 b->cpu.s.sse.mxcsr);
    cr_expect(!memcmp(&before, &b->cpu.s.sse.xmm[0], sizeof(before)),
              "destination unchanged");
    cr_expect_eq(b->cpu.s.rip, CODE);
    b->cpu.s.cr4 &= ~(uint64_t)CR4_OSXMMEXCPT;
    b->cpu.s.sse.mxcsr = 0x1f00;
    cr_expect_eq(STEP(b, DIVPS), EXC_UD, "no OSXMMEXCPT: #UD");
    cr_expect_eq(b->cpu.s.sse.mxcsr & SF_ALL, SF_IE | SF_ZE);
    /* Masked: the QNaN indefinite and infinity are written. */
    b->cpu.s.sse.mxcsr = 0x1f80;
    cr_expect_eq(STEP(b, DIVPS), -1);
    cr_expect_eq(lane(b, 0, 0), SF32_DEFAULT_NAN);
    cr_expect_eq(lane(b, 0, 1), 0x7f800000u);
    cr_expect_eq(lane(b, 0, 2), 0x40000000u);
    box_free(b);
}

Test(sse_fp, ldmxcsr_reserved_bits)
{
    Box *b = sse_box();
    uint32_t v = 0x1f80 | MXCSR_DAZ | MXCSR_FTZ | (2u << 13);
    memcpy(b->ram + DATA, &v, 4);
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0x16, 0x00, 0x20), -1);   /* ldmxcsr [2000h] */
    cr_expect_eq(b->cpu.s.sse.mxcsr, v, "DAZ is supported (MXCSR_MASK FFFFh)");
    uint32_t bad = 0x1f80 | 1u << 16;
    memcpy(b->ram + DATA, &bad, 4);
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0x16, 0x00, 0x20), EXC_GP);
    cr_expect_eq(b->cpu.s.exception.error_code, 0);
    cr_expect_eq(b->cpu.s.sse.mxcsr, v, "MXCSR unchanged by the fault");
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0x1e, 0x04, 0x20), -1);   /* stmxcsr [2004h] */
    uint32_t out;
    memcpy(&out, b->ram + DATA + 4, 4);
    cr_expect_eq(out, v);
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0xd0), EXC_UD, "LDMXCSR has no register form");
    box_free(b);
}

Test(sse_fp, alignment)
{
    Box *b = sse_box();
    /* movaps xmm0, [2001h] / movups xmm0, [2001h] / addss xmm0, [2001h] /
     * addps xmm0, [2000h] */
    cr_expect_eq(STEP(b, 0x0f, 0x28, 0x06, 0x01, 0x20), EXC_GP);
    cr_expect_eq(STEP(b, 0x0f, 0x10, 0x06, 0x01, 0x20), -1);
    cr_expect_eq(STEP(b, 0xf3, 0x0f, 0x58, 0x06, 0x01, 0x20), -1);
    cr_expect_eq(STEP(b, 0x0f, 0x58, 0x06, 0x00, 0x20), -1);
    cr_expect_eq(STEP(b, 0x0f, 0x58, 0x06, 0x08, 0x20), EXC_GP, "ADDPS m128");
    box_free(b);
}

Test(sse_fp, cpuid_and_gates)
{
    Box *b = sse_box();
    uint32_t r[4];
    cpu_cpuid(&b->cpu, 1, 0, r);
    cr_expect(r[3] & (1u << 25), "SSE");
    cr_expect(r[3] & (1u << 26), "SSE2");
    cr_expect(r[2] & (1u << 0), "SSE3");
    cr_expect(r[2] & (1u << 19), "SSE4.1");
    /* x86-64-v2 also needs CMPXCHG16B, LAHF-SAHF, POPCNT, SSSE3, SSE4.2. */
    cr_expect(r[2] & (1u << 13) && r[2] & (1u << 23) && r[2] & (1u << 9) &&
              r[2] & (1u << 20));
    cpu_cpuid(&b->cpu, 0x80000001, 0, r);
    cr_expect(r[2] & 1u, "LAHF/SAHF in 64-bit mode");
    /* roundps xmm0, xmm1, 0 decodes only with SSE4.1. */
    cr_expect_eq(STEP(b, 0x66, 0x0f, 0x3a, 0x08, 0xc1, 0x00), -1);
    b->cpu.features.leaf1_ecx &= ~CPUID1_ECX_SSE41;
    cr_expect_eq(STEP(b, 0x66, 0x0f, 0x3a, 0x08, 0xc1, 0x00), EXC_UD);
    b->cpu.features.leaf1_edx &= ~CPUID1_EDX_SSE2;
    cr_expect_eq(STEP(b, 0x66, 0x0f, 0x58, 0xc1), EXC_UD, "ADDPD needs SSE2");
    cr_expect_eq(STEP(b, ADDPS), -1, "ADDPS needs only SSE");
    box_free(b);
}

Test(sse_fp, comiss_flags)
{
    Box *b = sse_box();
    set_ps(b, 0, 0x3f800000, 0, 0, 0);
    set_ps(b, 1, 0x7fc00000, 0, 0, 0);
    cpu_set_eflags(&b->cpu, F_OF | F_SF | F_AF, F_ARITH);
    cr_expect_eq(STEP(b, 0x0f, 0x2e, 0xc1), -1);                /* ucomiss */
    cr_expect_eq(cpu_get_eflags(&b->cpu) & F_ARITH, F_ZF | F_PF | F_CF);
    cr_expect_eq(b->cpu.s.sse.mxcsr & SF_ALL, 0, "UCOMISS: QNaN is quiet");
    cr_expect_eq(STEP(b, 0x0f, 0x2f, 0xc1), -1);                /* comiss */
    cr_expect_eq(b->cpu.s.sse.mxcsr & SF_ALL, SF_IE, "COMISS: any NaN is IE");
    set_ps(b, 1, 0x40000000, 0, 0, 0);
    cr_expect_eq(STEP(b, 0x0f, 0x2f, 0xc1), -1);
    cr_expect_eq(cpu_get_eflags(&b->cpu) & F_ARITH, F_CF, "less");
    box_free(b);
}

/* ---- MMX forms ----------------------------------------------------------- */

Test(sse_fp, mmx_forms)
{
    Box *b = sse_box();
    X87State *f = &b->cpu.s.fpu;
    f->fsw = 5u << FSW_TOP_SHIFT;
    f->tags = 0x01;
    f->r[3].sig = 0xfffffffe00000003ull;        /* MM3 = {3, -2} */
    set_ps(b, 1, 0x3fc00000, 0xc0200000, 0, 0);   /* {1.5, -2.5} */
    cr_expect_eq(STEP(b, 0x0f, 0x2a, 0xc3), -1);    /* cvtpi2ps xmm0, mm3 */
    cr_expect_eq(lane(b, 0, 0), 0x40400000u);
    cr_expect_eq(lane(b, 0, 1), 0xc0000000u);
    cr_expect_eq(f->fsw & FSW_TOP, 0, "MMX transition: TOP = 0");
    cr_expect_eq(f->tags, 0xff, "and every tag valid");
    cr_expect_eq(STEP(b, 0x0f, 0x2d, 0xe9), -1);    /* cvtps2pi mm5, xmm1 */
    cr_expect_eq(f->r[5].sig, 0xfffffffe00000002ull, "round to nearest even");
    cr_expect_eq(f->r[5].se, 0xffff);
    cr_expect_eq(STEP(b, 0x0f, 0x2c, 0xe9), -1);    /* cvttps2pi mm5, xmm1 */
    cr_expect_eq(f->r[5].sig, 0xfffffffe00000001ull, "truncated");
    /* A pending x87 exception: #MF for the MMX register forms only. */
    f->fcw = 0x037e;
    f->fsw = FSW_B | FSW_ES | 1;
    cr_expect_eq(STEP(b, 0x0f, 0x2a, 0xc3), EXC_MF);
    cr_expect_eq(STEP(b, 0x0f, 0x2a, 0x06, 0x00, 0x20), -1, "m64 source: no #MF");
    box_free(b);
}

/* ---- softfloat known answers --------------------------------------------- */

static SfEnv env(uint32_t mxcsr)
{
    return sf_env(mxcsr);
}

Test(softfloat, tininess_after_rounding)
{
    /* 0.5(1 + 2^-23) × 2(1 - 2^-23) × 2^-126 = (1 - 2^-46) × 2^-126: tiny
     * before rounding, 2^-126 after (round to nearest), so no UE, no FTZ. */
    SfEnv e = env(0x1f80);
    cr_expect_eq(sf_mul(SF_F32, &e, 0x3f000001, 0x00fffffe), 0x00800000);
    cr_expect_eq(e.flags, SF_PE);
    e = env(0x1f80 | MXCSR_FTZ);
    cr_expect_eq(sf_mul(SF_F32, &e, 0x3f000001, 0x00fffffe), 0x00800000);
    cr_expect_eq(e.flags, SF_PE);
    e = env(0x1f80 | 3u << 13);      /* toward zero: stays tiny */
    cr_expect_eq(sf_mul(SF_F32, &e, 0x3f000001, 0x00fffffe), 0x007fffff);
    cr_expect_eq(e.flags, SF_UE | SF_PE);
    e = env(0x1f80 | MXCSR_FTZ | 3u << 13);
    cr_expect_eq(sf_mul(SF_F32, &e, 0x3f000001, 0x00fffffe), 0);
    cr_expect_eq(e.flags, SF_UE | SF_PE);
}

Test(softfloat, underflow_masks)
{
    /* An exact denormal result: no UE while masked, UE when unmasked. */
    SfEnv e = env(0x1f80);
    cr_expect_eq(sf_mul(SF_F32, &e, 0x3f000000, 0x00800000), 0x00400000);
    cr_expect_eq(e.flags, 0);
    e = env(0x1f80 & ~(SF_UE << MXCSR_MASK_SHIFT));
    sf_mul(SF_F32, &e, 0x3f000000, 0x00800000);
    cr_expect_eq(e.flags, SF_UE, "unmasked, exact: UE without PE");
    /* FTZ flushes an exact tiny result too, with UE and PE. */
    e = env(0x1f80 | MXCSR_FTZ);
    cr_expect_eq(sf_add(SF_F32, &e, 0x00000001, 0), 0);
    cr_expect_eq(e.flags, SF_DE | SF_UE | SF_PE);
    /* Unmasked overflow: OE, and PE only if the significand was rounded. */
    e = env(0x1f80 & ~(SF_OE << MXCSR_MASK_SHIFT));
    sf_mul(SF_F32, &e, 0x7f000000, 0x40000000);
    cr_expect_eq(e.flags, SF_OE);
    e = env(0x1f80);
    cr_expect_eq(sf_mul(SF_F32, &e, 0x7f000000, 0x40000000), 0x7f800000);
    cr_expect_eq(e.flags, SF_OE | SF_PE);
    e = env(0x1f80 | 3u << 13);
    cr_expect_eq(sf_mul(SF_F32, &e, 0xff000000, 0x40000000), 0xff7fffff,
                 "toward zero: the largest finite");
}

Test(softfloat, nans_and_daz)
{
    SfEnv e = env(0x1f80);
    /* Two NaNs: the first source, quieted; an SNaN raises IE. */
    cr_expect_eq(sf_add(SF_F32, &e, 0x7f800001, 0xffc00005), 0x7fc00001);
    cr_expect_eq(e.flags, SF_IE);
    e = env(0x1f80);
    cr_expect_eq(sf_mul(SF_F64, &e, 0, 0xfff0000000000000ull), SF64_DEFAULT_NAN);
    cr_expect_eq(e.flags, SF_IE);
    /* MIN/MAX: NaN or two zeros give the second operand, unchanged. */
    e = env(0x1f80);
    cr_expect_eq(sf_min(SF_F32, &e, 0x7fc00000, 0x3f800000), 0x3f800000);
    cr_expect_eq(e.flags, SF_IE, "a QNaN is invalid for MINPS");
    e = env(0x1f80);
    cr_expect_eq(sf_max(SF_F32, &e, 0x80000000, 0x00000000), 0x00000000);
    cr_expect_eq(sf_max(SF_F32, &e, 0x00000000, 0x80000000), 0x80000000);
    cr_expect_eq(sf_min(SF_F32, &e, 0x7f800001, 0xffc00001), 0xffc00001,
                 "an SNaN first operand is not quieted");
    /* DAZ: denormal operands are zeros of their sign, without DE. */
    e = env(0x1f80 | MXCSR_DAZ);
    cr_expect_eq(sf_add(SF_F32, &e, 0x80000001, 0x80000000), 0x80000000);
    cr_expect_eq(sf_max(SF_F32, &e, 0xbf800000, 0x00000005), 0, "returned as read");
    cr_expect_eq(e.flags, 0);
    e = env(0x1f80);
    sf_add(SF_F32, &e, 0x80000001, 0x3f800000);
    cr_expect_eq(e.flags, SF_DE | SF_PE);
    /* binary32 -> binary64 keeps the payload's top bits. */
    e = env(0x1f80);
    cr_expect_eq(sf_convert(SF_F64, SF_F32, &e, 0xff800001), 0xfff8000020000000ull);
    cr_expect_eq(e.flags, SF_IE);
}

Test(softfloat, integers_and_rounding)
{
    SfEnv e = env(0x1f80);
    cr_expect_eq(sf_to_int(SF_F32, &e, 0x4f000000, 32, false), 0x80000000u,
                 "2^31 overflows: integer indefinite");
    cr_expect_eq(e.flags, SF_IE);
    e = env(0x1f80);
    cr_expect_eq(sf_to_int(SF_F32, &e, 0xcf000000, 32, false), 0x80000000u,
                 "-2^31 fits");
    cr_expect_eq(e.flags, 0);
    cr_expect_eq(sf_to_int(SF_F64, &e, 0xc004000000000000ull, 64, false),
                 (uint64_t)-2, "-2.5 to nearest even");
    cr_expect_eq(sf_to_int(SF_F64, &e, 0xc004000000000000ull, 64, true),
                 (uint64_t)-2, "truncated");
    cr_expect_eq(e.flags, SF_PE);
    e = env(0x1f80);
    cr_expect_eq(sf_from_int(SF_F32, &e, 0x1000001), 0x4b800000, "2^24 + 1, even");
    cr_expect_eq(e.flags, SF_PE);
    /* ROUNDPS: -0.3 rounds to -0; imm8[3] suppresses PE; SNaN is IE. */
    e = env(0x1f80);
    cr_expect_eq(sf_round_int(SF_F32, &e, 0xbe99999a, SF_RC_NEAREST, false), 0x80000000);
    cr_expect_eq(e.flags, SF_PE);
    e = env(0x1f80);
    cr_expect_eq(sf_round_int(SF_F32, &e, 0x3fc00000, SF_RC_UP, true), 0x40000000);
    cr_expect_eq(e.flags, 0);
    cr_expect_eq(sf_round_int(SF_F32, &e, 0x7f800001, SF_RC_UP, true), 0x7fc00001);
    cr_expect_eq(e.flags, SF_IE);
}

Test(softfloat, reciprocal_approximations)
{
    SfEnv e = env(0x1f80);
    cr_expect_eq(sf_rcp32(&e, 0x80000000), 0xff800000);
    cr_expect_eq(sf_rcp32(&e, 0x00000001), 0x7f800000, "denormals read as zero");
    cr_expect_eq(sf_rcp32(&e, 0x7e800000), 0, "tiny results are flushed");
    cr_expect_eq(sf_rcp32(&e, 0x40000000), 0x3f000000);
    cr_expect_eq(sf_rsqrt32(&e, 0xbf800000), SF32_DEFAULT_NAN);
    cr_expect_eq(sf_rsqrt32(&e, 0x80000000), 0xff800000);
    cr_expect_eq(sf_rsqrt32(&e, 0x40800000), 0x3f000000);
    cr_expect_eq(e.flags, 0, "no exception is ever flagged");
}

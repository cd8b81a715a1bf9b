/* The SSE floating-point harness: where Unicorn 2.0.1 departs from the
 * processor.
 *
 * Unicorn 2.0.1's SSE is QEMU 5.0's (target/i386/ops_sse.h and
 * fpu_helper.c), from before the MXCSR rework of QEMU 6.  Each rule below
 * names one of its known departures from the SDM, says when a test meets
 * it, and hands the fields it spoils over to Vireo's values (see HlUcRule
 * in tests/diff/hostlib/hostlib.h: the driver applies them only where the
 * host agrees with Vireo, and counts what each one masked).
 */
#include "tests/diff/sse/ssediff.h"

#include <string.h>

#include "cpu/cpu.h"

/* Everything the instruction writes, and its fault. */
static bool take_all(const HlCase *c, uint8_t *u, int *uvec)
{
    bool changed = *uvec != c->vvec;
    *uvec = c->vvec;
    changed |= hl_take(c, u, CTX_XMM_OUT, 256);
    changed |= hl_take(c, u, CTX_MM_OUT, 64);
    changed |= hl_take(c, u, CTX_GPR_OUT, 8 * NGPR);
    changed |= hl_take(c, u, CTX_MXCSR_OUT, 4);
    changed |= hl_take(c, u, CTX_FLAGS_OUT, 8);
    changed |= hl_take(c, u, CTX_MEM, CTX_MEM_SIZE);
    return changed;
}

static bool is_named(const char *name)
{
    char buf[64];
    const char *t = gen_template_name(sse_cur.tmpl, buf, sizeof(buf));
    size_t n = strlen(name);
    return !strncmp(t, name, n) && t[n] == ' ';
}

/* ---- the rules ------------------------------------------------------------ */

/* QEMU 5.0 never raises #XM: softfloat's exception flags are not looked
 * at, so an unmasked exception neither stops the instruction (the
 * processor leaves the destination) nor faults (SDM Vol. 1 11.5.1). */
static bool no_xm_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return c->vvec == EXC_XM && take_all(c, u, uvec);
}

/* QEMU 5.0 does not accumulate softfloat's exception flags into MXCSR:
 * IE, DE, ZE, OE, UE and PE stay as they were (SDM Vol. 1 10.2.3.1). */
static bool flags_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    if (is_named("LDMXCSR"))
        return false;
    uint32_t um = (uint32_t)get_le(u + CTX_MXCSR_OUT, 4);
    uint32_t vm = (uint32_t)get_le(c->v + CTX_MXCSR_OUT, 4);
    if (!((um ^ vm) & 0x3f))
        return false;
    put_le(u + CTX_MXCSR_OUT, (um & ~0x3fu) | (vm & 0x3f), 4);
    return true;
}

/* QEMU 5.0 does not check the alignment of legacy SSE m128 operands
 * (SDM Vol. 1 11.4.1: #GP(0) unless 16-byte aligned). */
static bool alignment_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return c->vvec == EXC_GP && sse_cur.mem && (sse_cur.mem_off & 15) &&
           !is_named("LDMXCSR") && take_all(c, u, uvec);
}

/* QEMU 5.0's LDMXCSR loads reserved bits instead of raising #GP(0)
 * (SDM Vol. 2 LDMXCSR). */
static bool ldmxcsr_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return c->vvec == EXC_GP && is_named("LDMXCSR") && take_all(c, u, uvec);
}

/* With 66h and F2 or F3 on one instruction QEMU 5.0 takes 66h's row (or
 * raises #UD where it has none); F2 and F3 take precedence (SDM Vol. 2
 * 2.1.2). */
static bool prefix66_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return hl_66_with_f2f3(sse_cur.bytes, sse_cur.len) && take_all(c, u, uvec);
}

/* Take the destination's lanes where Vireo has a zero and Unicorn a
 * denormal of the same sign (or the smallest normal, where a tiny result
 * rounds up to it), as single or as double lanes. */
static bool take_denormal_lanes(const HlCase *c, uint8_t *u)
{
    size_t off = CTX_XMM_OUT + 16 * sse_cur.reg;
    bool changed = false;
    for (unsigned width = 4; width <= 8; width += 4) {
        unsigned exp_shift = width == 4 ? 23 : 52;
        for (unsigned k = 0; k < 16; k += width) {
            uint64_t a = get_le(u + off + k, width), b = get_le(c->v + off + k, width);
            uint64_t sign = 1ull << (8 * width - 1);
            if (a != b && (b & ~sign) == 0 && (a & sign) == (b & sign) &&
                (a & ~sign) <= 1ull << exp_shift)
                changed |= hl_take(c, u, off + k, width);
        }
    }
    return changed;
}

/* QEMU 5.0 puts MXCSR.FZ into the x87's softfloat status instead of the
 * SSE one (update_mxcsr_status), so SSE results below the smallest normal
 * stay denormal where the processor returns zero (SDM Vol. 1 10.2.3.4). */
static bool ftz_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return (get_le(c->in + CTX_MXCSR_IN, 4) & 0x8000) && take_denormal_lanes(c, u);
}

/* With MXCSR.DAZ QEMU 5.0's MINPS/MAXPS (a compare and a select) return
 * a denormal operand as it is, not as the zero it was read as (SDM Vol. 1
 * 10.2.3.4). */
static bool daz_minmax_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return (get_le(c->in + CTX_MXCSR_IN, 4) & 0x40) &&
           (is_named("MINPS") || is_named("MINPD") || is_named("MINSS") ||
            is_named("MINSD") || is_named("MAXPS") || is_named("MAXPD") ||
            is_named("MAXSS") || is_named("MAXSD")) &&
           take_denormal_lanes(c, u);
}

static bool f32_nan(uint64_t v)
{
    return ((v >> 23) & 0xff) == 0xff && (v & 0x7fffff);
}

static bool f64_nan(uint64_t v)
{
    return ((v >> 52) & 0x7ff) == 0x7ff && (v & ((1ull << 52) - 1));
}

/* Of two NaN operands QEMU 5.0's softfloat returns the one its own rule
 * picks (an SNaN before a QNaN, then the larger significand); the SDM
 * returns the first source operand's (Vol. 1 Table 4-7).  Explains a
 * destination whose differing lanes are NaNs on both sides. */
static bool nan_choice_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    size_t off = CTX_XMM_OUT + 16 * sse_cur.reg;
    bool all_nan = true, differs = false;
    for (unsigned k = 0; k < 4; k++) {
        uint64_t a = get_le(u + off + 4 * k, 4), b = get_le(c->v + off + 4 * k, 4);
        uint64_t a64 = get_le(u + off + 8 * (k / 2), 8), b64 = get_le(c->v + off + 8 * (k / 2), 8);
        if (a == b)
            continue;
        differs = true;
        all_nan &= (f32_nan(a) && f32_nan(b)) || (f64_nan(a64) && f64_nan(b64));
    }
    return differs && all_nan && hl_take(c, u, off, 16);
}

/* QEMU 5.0 computes RCPPS, RCPSS, RSQRTPS and RSQRTSS exactly in
 * softfloat: a denormal source is a number to it (the processor reads it
 * as zero and returns infinity) and a result below 2^-126 stays denormal
 * (the processor returns zero).  Takes the lanes where Vireo's result is
 * a zero or an infinity; the others are compared with the tolerance. */
static bool rcp_special_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    if (!gen_template_approx(sse_cur.tmpl))
        return false;
    size_t off = CTX_XMM_OUT + 16 * sse_cur.reg;
    bool changed = false;
    for (unsigned k = 0; k < 4; k++) {
        uint32_t b = (uint32_t)get_le(c->v + off + 4 * k, 4) & 0x7fffffff;
        if (b == 0 || b == 0x7f800000)
            changed |= hl_take(c, u, off + 4 * k, 4);
    }
    return changed;
}

/* QEMU 5.0 raises #UD for CMPPS, CMPPD, CMPSS and CMPSD with an imm8 of 8
 * or more; in the legacy encoding bits 7:3 are reserved and the
 * processor compares by bits 2:0 (SDM Vol. 2 CMPPS). */
static bool cmp_imm_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return sse_cur.imm >= 8 &&
           (is_named("CMPPS") || is_named("CMPPD") || is_named("CMPSS") ||
            is_named("CMPSD_XMM")) &&
           take_all(c, u, uvec);
}

/* QEMU 5.0's DPPS and DPPD add the selected products one after another to
 * +0.0; the processor adds them in pairs (SDM Vol. 2 DPPS), so the
 * rounding and the sign of a zero differ. */
static bool dp_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return (is_named("DPPS") || is_named("DPPD")) &&
           hl_take(c, u, CTX_XMM_OUT + 16 * sse_cur.reg, 16);
}

const HlUcRule sse_uc_rules[] = {
    { "no #XM", no_xm_rule, NULL },
    { "no alignment #GP", alignment_rule, NULL },
    { "LDMXCSR reserved bits", ldmxcsr_rule, NULL },
    { "66h with F2/F3", prefix66_rule, NULL },
    { "CMPxx imm8 >= 8 #UD", cmp_imm_rule, NULL },
    { "MXCSR flags not set", flags_rule, NULL },
    { "FTZ ignored", ftz_rule, NULL },
    { "DAZ MIN/MAX raw", daz_minmax_rule, NULL },
    { "NaN operand choice", nan_choice_rule, NULL },
    { "RCP/RSQRT specials", rcp_special_rule, NULL },
    { "DPPS/DPPD summation", dp_rule, NULL },
    { NULL, NULL, NULL },
};

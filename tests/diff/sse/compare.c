/* The SSE floating-point harness: what is compared, and the report.
 *
 * Compared bit for bit: XMM0-15, MXCSR, MM0-7, the eight GPRs, the six
 * arithmetic flags, the 256-byte memory operand area and the fault (none,
 * #XM, #GP, #UD).  The one exception is the approximations RCPPS, RCPSS,
 * RSQRTPS and RSQRTSS, whose bits the SDM leaves to the implementation
 * (|relative error| <= 1.5 * 2^-12): their result lanes must be equal, or
 * both finite, non-zero, of the same sign and within 3 * 2^-12 of each
 * other relative to the reference's (each is within 1.5 * 2^-12 of the
 * true value); everything else about them (other lanes, MXCSR, faults) is
 * compared exactly.
 */
#include "tests/diff/sse/ssediff.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double f32_value(uint32_t v)
{
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static bool f32_normal(uint32_t v)
{
    unsigned e = (v >> 23) & 0xff;
    return e != 0 && e != 0xff;
}

/* An approximation lane: see the header. */
static bool approx_equal(uint32_t r, uint32_t v)
{
    if (r == v)
        return true;
    if (!f32_normal(r) || !f32_normal(v) || (r ^ v) >> 31)
        return false;
    double dr = f32_value(r), dv = f32_value(v);
    return fabs(dv - dr) <= 3.0 * ldexp(fabs(dr), -12);
}

static bool same_xmm(const SseInsn *insn, const uint8_t *r, const uint8_t *v)
{
    unsigned approx_lanes = gen_template_approx(insn->tmpl);
    if (!approx_lanes)
        return !memcmp(r + CTX_XMM_OUT, v + CTX_XMM_OUT, 256);
    for (unsigned i = 0; i < 16; i++) {
        for (unsigned lane = 0; lane < 4; lane++) {
            unsigned off = CTX_XMM_OUT + 16 * i + 4 * lane;
            uint32_t rv = (uint32_t)get_le(r + off, 4), vv = (uint32_t)get_le(v + off, 4);
            bool approx = i == insn->reg && (lane == 0 || approx_lanes == 1);
            if (approx ? !approx_equal(rv, vv) : rv != vv)
                return false;
        }
    }
    return true;
}

bool sse_same(const SseInsn *insn, const HlCase *c)
{
    const uint8_t *r = c->ref, *v = c->v;
    return c->rvec == c->vvec && same_xmm(insn, r, v) &&
           !memcmp(r + CTX_MM_OUT, v + CTX_MM_OUT, 64) &&
           !memcmp(r + CTX_GPR_OUT, v + CTX_GPR_OUT, 8 * NGPR) &&
           get_le(r + CTX_MXCSR_OUT, 4) == get_le(v + CTX_MXCSR_OUT, 4) &&
           ((get_le(r + CTX_FLAGS_OUT, 8) ^ get_le(v + CTX_FLAGS_OUT, 8)) & 0x8d5) == 0 &&
           !memcmp(r + CTX_MEM, v + CTX_MEM, CTX_MEM_SIZE);
}

uint64_t sse_digest(uint64_t h, const uint8_t *v, int vector)
{
    uint8_t flags[2];
    put_le(flags, get_le(v + CTX_FLAGS_OUT, 8) & 0x8d5, 2);
    h = hl_fnv(h, v + CTX_XMM_OUT, 256, NULL);
    h = hl_fnv(h, v + CTX_MM_OUT, 64, NULL);
    h = hl_fnv(h, v + CTX_GPR_OUT, 8 * NGPR, NULL);
    h = hl_fnv(h, v + CTX_MXCSR_OUT, 4, NULL);
    h = hl_fnv(h, flags, 2, NULL);
    h = hl_fnv(h, v + CTX_MEM, CTX_MEM_SIZE, NULL);
    return h ^ (uint64_t)(vector + 1);
}

/* ---- reporting ----------------------------------------------------------- */

static void print_xmm(const char *what, const uint8_t *p)
{
    printf("%s %016llx:%016llx", what, (unsigned long long)get_le(p + 8, 8),
           (unsigned long long)get_le(p, 8));
}

/* A 64-bit register of the output, if it differs or is an operand. */
static void print_reg64(const char *kind, unsigned num, const uint8_t *in, const uint8_t *r,
                        const uint8_t *v, const char *ref, bool operand)
{
    uint64_t a = get_le(r, 8), b = get_le(v, 8);
    if (a != b || operand)
        printf("  %s%u in %016llx %s %016llx vireo %016llx%s\n", kind, num,
               (unsigned long long)get_le(in, 8), ref, (unsigned long long)a,
               (unsigned long long)b, a != b ? "  <--" : "");
}

void sse_report(const SseInsn *insn, const HlCase *c)
{
    const uint8_t *in = c->in, *r = c->ref, *v = c->v;
    const char *ref = hl_side_name(c->side);
    printf("  bytes");
    for (unsigned i = 0; i < insn->len; i++)
        printf(" %02x", insn->bytes[i]);
    printf("  (reg %u, rm %u%s, imm %02x)\n", insn->reg, insn->rm,
           insn->mem ? " = memory" : "", insn->imm);
    printf("  mxcsr in %08llx  %s %08llx  vireo %08llx;  fault %s %d vireo %d\n",
           (unsigned long long)get_le(in + CTX_MXCSR_IN, 4), ref,
           (unsigned long long)get_le(r + CTX_MXCSR_OUT, 4),
           (unsigned long long)get_le(v + CTX_MXCSR_OUT, 4), ref, c->rvec, c->vvec);
    for (unsigned i = 0; i < 16; i++) {
        unsigned off = 16 * i;
        bool differs = memcmp(r + CTX_XMM_OUT + off, v + CTX_XMM_OUT + off, 16) != 0;
        if (!differs && i != insn->reg && i != insn->rm)
            continue;
        printf("  xmm%-2u", i);
        print_xmm(" in", in + CTX_XMM_IN + off);
        printf("  %s", ref);
        print_xmm("", r + CTX_XMM_OUT + off);
        print_xmm("  vireo", v + CTX_XMM_OUT + off);
        printf("%s\n", differs ? "  <--" : "");
    }
    if (insn->mem) {
        printf("  mem in   ");
        print_xmm("", in + CTX_MEM + insn->mem_off);
        printf("\n");
    }
    for (int i = 0; i < CTX_MEM_SIZE; i += 16) {
        if (memcmp(r + CTX_MEM + i, v + CTX_MEM + i, 16)) {
            printf("  mem +%02x %s", i, ref);
            print_xmm("", r + CTX_MEM + i);
            print_xmm("  vireo", v + CTX_MEM + i);
            printf("\n");
        }
    }
    for (unsigned i = 0; i < 8; i++)
        print_reg64("mm", i, in + CTX_MM_IN + 8 * i, r + CTX_MM_OUT + 8 * i,
                    v + CTX_MM_OUT + 8 * i, ref, insn->reg == i || insn->rm == i);
    for (unsigned i = 0; i < NGPR; i++)
        print_reg64("gpr", gpr_numbers[i], in + CTX_GPR_IN + 8 * i, r + CTX_GPR_OUT + 8 * i,
                    v + CTX_GPR_OUT + 8 * i, ref,
                    insn->reg == gpr_numbers[i] || insn->rm == gpr_numbers[i]);
    printf("  flags in %03llx %s %03llx vireo %03llx\n",
           (unsigned long long)(get_le(in + CTX_FLAGS_IN, 8) & 0x8d5), ref,
           (unsigned long long)(get_le(r + CTX_FLAGS_OUT, 8) & 0x8d5),
           (unsigned long long)(get_le(v + CTX_FLAGS_OUT, 8) & 0x8d5));
}

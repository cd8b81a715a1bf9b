/* The SSE floating-point harness: instruction templates, operands, MXCSR
 * values, and the host stub.
 *
 * Templates list every encoding of the "SSE floating point" rows (load and
 * store forms apart) with the operand kinds, the memory operand's size and
 * alignment rule, the immediate's kind, and the number format the operands
 * are drawn in.  gen_init() checks each against Vireo's decoder, so a
 * template that does not decode to the named handler stops the run.
 *
 * Operand values (per lane) mix the special encodings of Vol. 1 4.8.3 and
 * Table 4-3: signed zeros, smallest/largest/random denormals, the smallest
 * and largest normals, infinities, QNaNs and SNaNs with random payloads,
 * the QNaN indefinite; values whose exponents sit near the underflow and
 * overflow thresholds, near the integer limits (for the conversions),
 * small integers and halves (for ROUNDPS and the rounding modes), and
 * copies of earlier lanes, negated or a unit apart (for cancellation,
 * equal compares, MIN/MAX of equal values).  MXCSR is random: rounding
 * mode, DAZ, FTZ, sticky flags, and in four tests out of ten some
 * exceptions unmasked.
 */
#include "tests/diff/sse/ssediff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"

const uint8_t gpr_numbers[NGPR] = { 0, 1, 2, 6, 8, 9, 10, 11 };

/* ---- templates ----------------------------------------------------------- */

enum { K_NONE, K_XMM, K_GPR, K_MMX };                 /* operand kinds */
enum { M_NONE, M_EITHER, M_ONLY };                    /* memory forms */
enum { I_NONE, I_BYTE, I_CMP, I_ROUND };              /* immediates */
enum { V_F32, V_F64, V_I32, V_MIX };                  /* operand values */

typedef struct Template {
    const char *name;     /* Vireo's handler */
    uint8_t pfx;          /* 0, 0x66, 0xf2, 0xf3 */
    uint8_t map;          /* 0: 0F, 1: 0F 38, 2: 0F 3A */
    uint8_t opc;
    uint8_t regk;         /* ModRM.reg operand */
    uint8_t rmk;          /* ModRM.rm operand (register form) */
    uint8_t memf;         /* M_* */
    uint8_t msize;        /* memory operand bytes; 0: 4 or 8 by REX.W */
    uint8_t align;        /* legacy SSE m128: 16-byte alignment required */
    uint8_t imm;          /* I_* */
    uint8_t vals;         /* V_* */
    uint8_t digit;        /* ModRM.reg for regk == K_NONE */
    uint8_t approx;       /* RCP/RSQRT: lanes compared with a tolerance,
                             1 all four, 2 the low one (scalar forms) */
} Template;

#define T(nm, p, mp, op, rk, mk, mf, ms, al, im, v) \
    { nm, p, mp, op, rk, mk, mf, ms, al, im, v, 0, 0 }
#define ARITH4(nm, op)                                                         \
    T(nm "PS", 0x00, 0, op, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32),     \
    T(nm "PD", 0x66, 0, op, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),     \
    T(nm "SS", 0xf3, 0, op, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32),      \
    T(nm "SD", 0xf2, 0, op, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_F64)
#define PSPD(nm, op, v32, v64)                                                 \
    T(nm "PS", 0x00, 0, op, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, v32),       \
    T(nm "PD", 0x66, 0, op, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, v64)

static const Template templates[] = {
    T("MOVUPS", 0x00, 0, 0x10, K_XMM, K_XMM, M_EITHER, 16, 0, I_NONE, V_MIX),
    T("MOVUPD", 0x66, 0, 0x10, K_XMM, K_XMM, M_EITHER, 16, 0, I_NONE, V_MIX),
    T("MOVSS", 0xf3, 0, 0x10, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_MIX),
    T("MOVSD_XMM", 0xf2, 0, 0x10, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_MIX),
    T("MOVUPS", 0x00, 0, 0x11, K_XMM, K_XMM, M_EITHER, 16, 0, I_NONE, V_MIX),
    T("MOVUPD", 0x66, 0, 0x11, K_XMM, K_XMM, M_EITHER, 16, 0, I_NONE, V_MIX),
    T("MOVSS", 0xf3, 0, 0x11, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_MIX),
    T("MOVSD_XMM", 0xf2, 0, 0x11, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_MIX),
    T("MOVLPS", 0x00, 0, 0x12, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_MIX),
    T("MOVLPD", 0x66, 0, 0x12, K_XMM, K_XMM, M_ONLY, 8, 0, I_NONE, V_MIX),
    T("MOVSLDUP", 0xf3, 0, 0x12, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("MOVDDUP", 0xf2, 0, 0x12, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_MIX),
    T("MOVLPS", 0x00, 0, 0x13, K_XMM, K_XMM, M_ONLY, 8, 0, I_NONE, V_MIX),
    T("MOVLPD", 0x66, 0, 0x13, K_XMM, K_XMM, M_ONLY, 8, 0, I_NONE, V_MIX),
    PSPD("UNPCKL", 0x14, V_MIX, V_MIX),
    PSPD("UNPCKH", 0x15, V_MIX, V_MIX),
    T("MOVHPS", 0x00, 0, 0x16, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_MIX),
    T("MOVHPD", 0x66, 0, 0x16, K_XMM, K_XMM, M_ONLY, 8, 0, I_NONE, V_MIX),
    T("MOVSHDUP", 0xf3, 0, 0x16, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("MOVHPS", 0x00, 0, 0x17, K_XMM, K_XMM, M_ONLY, 8, 0, I_NONE, V_MIX),
    T("MOVHPD", 0x66, 0, 0x17, K_XMM, K_XMM, M_ONLY, 8, 0, I_NONE, V_MIX),
    T("MOVAPS", 0x00, 0, 0x28, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("MOVAPD", 0x66, 0, 0x28, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("MOVAPS", 0x00, 0, 0x29, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("MOVAPD", 0x66, 0, 0x29, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("CVTPI2PS", 0x00, 0, 0x2a, K_XMM, K_MMX, M_EITHER, 8, 0, I_NONE, V_I32),
    T("CVTPI2PD", 0x66, 0, 0x2a, K_XMM, K_MMX, M_EITHER, 8, 0, I_NONE, V_I32),
    T("CVTSI2SS", 0xf3, 0, 0x2a, K_XMM, K_GPR, M_EITHER, 0, 0, I_NONE, V_F32),
    T("CVTSI2SD", 0xf2, 0, 0x2a, K_XMM, K_GPR, M_EITHER, 0, 0, I_NONE, V_F64),
    T("MOVNTPS", 0x00, 0, 0x2b, K_XMM, K_XMM, M_ONLY, 16, 1, I_NONE, V_MIX),
    T("MOVNTPD", 0x66, 0, 0x2b, K_XMM, K_XMM, M_ONLY, 16, 1, I_NONE, V_MIX),
    T("CVTTPS2PI", 0x00, 0, 0x2c, K_MMX, K_XMM, M_EITHER, 8, 0, I_NONE, V_F32),
    T("CVTTPD2PI", 0x66, 0, 0x2c, K_MMX, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("CVTTSS2SI", 0xf3, 0, 0x2c, K_GPR, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32),
    T("CVTTSD2SI", 0xf2, 0, 0x2c, K_GPR, K_XMM, M_EITHER, 8, 0, I_NONE, V_F64),
    T("CVTPS2PI", 0x00, 0, 0x2d, K_MMX, K_XMM, M_EITHER, 8, 0, I_NONE, V_F32),
    T("CVTPD2PI", 0x66, 0, 0x2d, K_MMX, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("CVTSS2SI", 0xf3, 0, 0x2d, K_GPR, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32),
    T("CVTSD2SI", 0xf2, 0, 0x2d, K_GPR, K_XMM, M_EITHER, 8, 0, I_NONE, V_F64),
    T("UCOMISS", 0x00, 0, 0x2e, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32),
    T("UCOMISD", 0x66, 0, 0x2e, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_F64),
    T("COMISS", 0x00, 0, 0x2f, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32),
    T("COMISD", 0x66, 0, 0x2f, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_F64),
    T("MOVMSKPS", 0x00, 0, 0x50, K_GPR, K_XMM, M_NONE, 0, 0, I_NONE, V_MIX),
    T("MOVMSKPD", 0x66, 0, 0x50, K_GPR, K_XMM, M_NONE, 0, 0, I_NONE, V_MIX),
    ARITH4("SQRT", 0x51),
    { "RSQRTPS", 0x00, 0, 0x52, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32, 0, 1 },
    { "RSQRTSS", 0xf3, 0, 0x52, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32, 0, 2 },
    { "RCPPS", 0x00, 0, 0x53, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32, 0, 1 },
    { "RCPSS", 0xf3, 0, 0x53, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32, 0, 2 },
    PSPD("AND", 0x54, V_MIX, V_MIX),
    PSPD("ANDN", 0x55, V_MIX, V_MIX),
    PSPD("OR", 0x56, V_MIX, V_MIX),
    PSPD("XOR", 0x57, V_MIX, V_MIX),
    ARITH4("ADD", 0x58),
    ARITH4("MUL", 0x59),
    T("CVTPS2PD", 0x00, 0, 0x5a, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_F32),
    T("CVTPD2PS", 0x66, 0, 0x5a, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("CVTSS2SD", 0xf3, 0, 0x5a, K_XMM, K_XMM, M_EITHER, 4, 0, I_NONE, V_F32),
    T("CVTSD2SS", 0xf2, 0, 0x5a, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_F64),
    T("CVTDQ2PS", 0x00, 0, 0x5b, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_I32),
    T("CVTPS2DQ", 0x66, 0, 0x5b, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32),
    T("CVTTPS2DQ", 0xf3, 0, 0x5b, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32),
    ARITH4("SUB", 0x5c),
    ARITH4("MIN", 0x5d),
    ARITH4("DIV", 0x5e),
    ARITH4("MAX", 0x5f),
    T("HADDPD", 0x66, 0, 0x7c, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("HADDPS", 0xf2, 0, 0x7c, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32),
    T("HSUBPD", 0x66, 0, 0x7d, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("HSUBPS", 0xf2, 0, 0x7d, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32),
    { "LDMXCSR", 0x00, 0, 0xae, K_NONE, K_NONE, M_ONLY, 4, 0, I_NONE, V_MIX, 2, 0 },
    { "STMXCSR", 0x00, 0, 0xae, K_NONE, K_NONE, M_ONLY, 4, 0, I_NONE, V_MIX, 3, 0 },
    T("CMPPS", 0x00, 0, 0xc2, K_XMM, K_XMM, M_EITHER, 16, 1, I_CMP, V_F32),
    T("CMPPD", 0x66, 0, 0xc2, K_XMM, K_XMM, M_EITHER, 16, 1, I_CMP, V_F64),
    T("CMPSS", 0xf3, 0, 0xc2, K_XMM, K_XMM, M_EITHER, 4, 0, I_CMP, V_F32),
    T("CMPSD_XMM", 0xf2, 0, 0xc2, K_XMM, K_XMM, M_EITHER, 8, 0, I_CMP, V_F64),
    T("SHUFPS", 0x00, 0, 0xc6, K_XMM, K_XMM, M_EITHER, 16, 1, I_BYTE, V_MIX),
    T("SHUFPD", 0x66, 0, 0xc6, K_XMM, K_XMM, M_EITHER, 16, 1, I_BYTE, V_MIX),
    T("ADDSUBPD", 0x66, 0, 0xd0, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("ADDSUBPS", 0xf2, 0, 0xd0, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F32),
    T("CVTTPD2DQ", 0x66, 0, 0xe6, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("CVTPD2DQ", 0xf2, 0, 0xe6, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_F64),
    T("CVTDQ2PD", 0xf3, 0, 0xe6, K_XMM, K_XMM, M_EITHER, 8, 0, I_NONE, V_I32),
    T("LDDQU", 0xf2, 0, 0xf0, K_XMM, K_XMM, M_ONLY, 16, 0, I_NONE, V_MIX),
    T("BLENDVPS", 0x66, 1, 0x14, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("BLENDVPD", 0x66, 1, 0x15, K_XMM, K_XMM, M_EITHER, 16, 1, I_NONE, V_MIX),
    T("ROUNDPS", 0x66, 2, 0x08, K_XMM, K_XMM, M_EITHER, 16, 1, I_ROUND, V_F32),
    T("ROUNDPD", 0x66, 2, 0x09, K_XMM, K_XMM, M_EITHER, 16, 1, I_ROUND, V_F64),
    T("ROUNDSS", 0x66, 2, 0x0a, K_XMM, K_XMM, M_EITHER, 4, 0, I_ROUND, V_F32),
    T("ROUNDSD", 0x66, 2, 0x0b, K_XMM, K_XMM, M_EITHER, 8, 0, I_ROUND, V_F64),
    T("BLENDPS", 0x66, 2, 0x0c, K_XMM, K_XMM, M_EITHER, 16, 1, I_BYTE, V_MIX),
    T("BLENDPD", 0x66, 2, 0x0d, K_XMM, K_XMM, M_EITHER, 16, 1, I_BYTE, V_MIX),
    /* EXTRACTPS r/m32, xmm: the XMM register is ModRM.reg. */
    T("EXTRACTPS", 0x66, 2, 0x17, K_XMM, K_GPR, M_EITHER, 4, 0, I_BYTE, V_MIX),
    T("INSERTPS", 0x66, 2, 0x21, K_XMM, K_XMM, M_EITHER, 4, 0, I_BYTE, V_MIX),
    T("DPPS", 0x66, 2, 0x40, K_XMM, K_XMM, M_EITHER, 16, 1, I_BYTE, V_F32),
    T("DPPD", 0x66, 2, 0x41, K_XMM, K_XMM, M_EITHER, 16, 1, I_BYTE, V_F64),
};

#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

const char *gen_template_name(unsigned t, char *buf, size_t len)
{
    const Template *tp = &templates[t];
    static const char *const maps[3] = { "0f", "0f 38", "0f 3a" };
    char pfx[4] = "";
    if (tp->pfx)
        snprintf(pfx, sizeof(pfx), "%02x ", tp->pfx);
    if (tp->regk == K_NONE)
        snprintf(buf, len, "%s %s%s %02x /%u", tp->name, pfx, maps[tp->map],
                 tp->opc, tp->digit);
    else
        snprintf(buf, len, "%s %s%s %02x", tp->name, pfx, maps[tp->map], tp->opc);
    return buf;
}

unsigned gen_template_approx(unsigned t)
{
    return templates[t].approx;
}

/* ---- encoding ------------------------------------------------------------ */

/* extra66: 1 puts a 66h before an F2/F3 mandatory prefix, 2 after it; F2
 * and F3 take precedence either way (SDM Vol. 2 2.1.2). */
static size_t encode(const Template *t, const SseInsn *in, bool rexw, bool rex40,
                     unsigned extra66, uint8_t *b)
{
    size_t n = 0;
    unsigned reg = t->regk == K_NONE ? t->digit : in->reg;
    unsigned rm = in->mem ? 3 : in->rm;       /* memory: [rbx + disp32] */
    unsigned rex = (rexw ? 8u : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
    bool f2f3 = t->pfx == 0xf2 || t->pfx == 0xf3;
    if (f2f3 && extra66 == 1)
        b[n++] = 0x66;
    if (t->pfx)
        b[n++] = t->pfx;
    if (f2f3 && extra66 == 2)
        b[n++] = 0x66;
    if (rex || rex40)
        b[n++] = (uint8_t)(0x40 | rex);
    b[n++] = 0x0f;
    if (t->map == 1)
        b[n++] = 0x38;
    else if (t->map == 2)
        b[n++] = 0x3a;
    b[n++] = t->opc;
    if (in->mem) {
        uint32_t disp = CTX_MEM + in->mem_off;
        b[n++] = (uint8_t)(0x80 | (reg & 7) << 3 | 3);
        put_le(b + n, disp, 4);
        n += 4;
    } else {
        b[n++] = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
    }
    if (t->imm != I_NONE)
        b[n++] = in->imm;
    return n;
}

static unsigned random_reg(Rng *r, unsigned kind)
{
    switch (kind) {
    case K_XMM: return rng_below(r, 16);
    case K_MMX: return rng_below(r, 8);
    case K_GPR: return gpr_numbers[rng_below(r, NGPR)];
    default:    return 0;
    }
}

static uint8_t random_imm(Rng *r, unsigned kind)
{
    switch (kind) {
    case I_CMP:
        /* Predicates 0-7; the reserved bits now and then. */
        return (uint8_t)(rng_below(r, 10) ? rng_below(r, 8) : rng_below(r, 256));
    case I_ROUND:
        return (uint8_t)(rng_below(r, 10) ? rng_below(r, 16) : rng_below(r, 256));
    default:
        return (uint8_t)rng_below(r, 256);
    }
}

unsigned gen_init(void)
{
    /* Every template must decode to its handler, in both forms. */
    for (unsigned t = 0; t < NTEMPLATES; t++) {
        const Template *tp = &templates[t];
        for (int mem = 0; mem < 2; mem++) {
            if ((mem && tp->memf == M_NONE) || (!mem && tp->memf == M_ONLY))
                continue;
            SseInsn in = { .mem = mem, .reg = 9, .rm = 10 };
            if (tp->regk == K_MMX)
                in.reg = 1;
            if (tp->rmk == K_MMX)
                in.rm = 2;
            if (tp->regk == K_GPR)
                in.reg = 8;
            if (tp->rmk == K_GPR)
                in.rm = 9;
            uint8_t b[16];
            size_t n = encode(tp, &in, false, false, 0, b);
            int id = hl_decode_id(b, n);
            if (strcmp(insn_name(id), tp->name)) {
                char name[64];
                fprintf(stderr, "sse_host: template %s (%s form) decodes as %s\n",
                        gen_template_name(t, name, sizeof(name)),
                        mem ? "memory" : "register", insn_name(id));
                exit(2);
            }
        }
    }
    return NTEMPLATES;
}

void gen_insn(Rng *r, SseInsn *out)
{
    unsigned t = rng_below(r, NTEMPLATES);
    const Template *tp = &templates[t];
    memset(out, 0, sizeof(*out));
    out->tmpl = (uint16_t)t;
    out->mem = tp->memf == M_ONLY || (tp->memf == M_EITHER && rng_below(r, 2));
    out->reg = (uint8_t)random_reg(r, tp->regk);
    out->rm = (uint8_t)random_reg(r, tp->rmk);
    out->imm = random_imm(r, tp->imm);
    if (out->mem) {
        /* Aligned operands mostly; misaligned ones now and then where the
         * SDM requires alignment (#GP), and any offset elsewhere. */
        if (tp->align && rng_below(r, 8))
            out->mem_off = (uint8_t)(16 * rng_below(r, 8));
        else
            out->mem_off = (uint8_t)rng_below(r, 0x80);
    }
    /* REX.W picks the integer size of CVTSI2SS and CVT*2SI and must be
     * ignored by the others; an empty REX now and then. */
    bool rexw = rng_below(r, 4) == 0;
    bool rex40 = rng_below(r, 8) == 0;
    unsigned extra66 = rng_below(r, 16) == 0 ? 1 + rng_below(r, 2) : 0;
    out->len = (uint8_t)encode(tp, out, rexw, rex40, extra66, out->bytes);
    out->id = (uint16_t)hl_decode_id(out->bytes, out->len);
}

/* ---- values -------------------------------------------------------------- */

typedef struct FmtDesc {
    unsigned frac, ebits;
    int bias;
} FmtDesc;

static const FmtDesc F32 = { 23, 8, 127 }, F64 = { 52, 11, 1023 };

static uint64_t make(const FmtDesc *f, unsigned sign, uint64_t exp, uint64_t frac)
{
    return (uint64_t)sign << (f->frac + f->ebits) | exp << f->frac |
           (frac & ((1ull << f->frac) - 1));
}

/* A random value of format f, drawn from the special classes above. */
static uint64_t random_float(Rng *r, const FmtDesc *f, const uint64_t *pool,
                             unsigned npool)
{
    unsigned sign = rng_below(r, 2);
    uint64_t emax = (1ull << f->ebits) - 1, fmask = (1ull << f->frac) - 1;
    uint64_t frac = rng_next(r) & fmask;
    /* Random significands with runs of ones or zeros at the bottom, so
     * that rounding sees halfway and all-ones cases. */
    switch (rng_below(r, 4)) {
    case 0: frac &= ~((1ull << rng_below(r, f->frac)) - 1); break;
    case 1: frac |= (1ull << rng_below(r, f->frac)) - 1; break;
    default: break;
    }
    int64_t e;
    switch (rng_below(r, 20)) {
    case 0: return make(f, sign, 0, 0);
    case 1: return make(f, sign, 0, frac ? frac >> rng_below(r, f->frac) : 1);
    case 2: return make(f, sign, 0, rng_below(r, 2) ? 1 : fmask);
    case 3: {
        /* Each draw its own statement: argument evaluation order is
         * unspecified, and the sequence must be the same on every host. */
        uint64_t ex = rng_below(r, 2) ? 1 : emax - 1;
        return make(f, sign, ex, rng_below(r, 3) == 0 ? 0 : rng_below(r, 2) ? fmask : frac);
    }
    case 4: return make(f, sign, emax, 0);
    case 5: return make(f, sign, emax, (1ull << (f->frac - 1)) | frac);   /* QNaN */
    case 6: return make(f, sign, emax, (frac & (fmask >> 1)) | 1);        /* SNaN */
    case 7: return make(f, 1, emax, 1ull << (f->frac - 1));               /* indefinite */
    case 8: case 9:
        /* A small integer, a half, or a quarter: for rounding. */
        e = f->bias + (int64_t)rng_below(r, f->frac + 2) - 2;
        return make(f, sign, (uint64_t)e, frac & ~(fmask >> rng_below(r, 6)));
    case 10:
        /* Near the underflow threshold, or near its square root so that
         * products and quotients underflow. */
        e = 1 + (int64_t)rng_below(r, 40);
        if (rng_below(r, 2))
            e = f->bias / 2 + (int64_t)rng_below(r, 40) - 20;
        return make(f, sign, (uint64_t)e, frac);
    case 11:
        /* Near the overflow threshold. */
        e = (int64_t)emax - 1 - (int64_t)rng_below(r, 40);
        if (rng_below(r, 2))
            e = f->bias + f->bias / 2 + (int64_t)rng_below(r, 40) - 20;
        return make(f, sign, (uint64_t)e, frac);
    case 12:
        /* Near 2^31 and 2^63: the integer conversions' limits. */
        e = f->bias + (rng_below(r, 2) ? 31 : 63);
        e += (int64_t)rng_below(r, 3) - 1;
        return make(f, sign, (uint64_t)e, rng_below(r, 2) ? 0 : frac);
    case 13: case 14:
        if (npool) {
            /* An earlier value, maybe negated or one unit away. */
            uint64_t v = pool[rng_below(r, npool)];
            switch (rng_below(r, 4)) {
            case 0: v ^= 1ull << (f->frac + f->ebits); break;
            case 1: v += 1; break;
            case 2: v -= 1; break;
            default: break;
            }
            return v & (((1ull << (f->frac + f->ebits)) << 1) - 1);
        }
        return make(f, sign, (uint64_t)f->bias, frac);
    case 15:
        return rng_next(r) & (((1ull << (f->frac + f->ebits)) << 1) - 1);
    default:
        e = f->bias + (int64_t)rng_below(r, 41) - 20;
        return make(f, sign, (uint64_t)e, frac);
    }
}

static uint32_t random_int32(Rng *r)
{
    static const uint32_t special[] = {
        0, 1, 0xffffffffu, 0x80000000u, 0x7fffffffu, 0x01000001u, 0xfeffffffu,
        0x00ffffffu, 0x01000000u, 0x7fffffc0u, 0x7fffff80u,
    };
    switch (rng_below(r, 4)) {
    case 0: return special[rng_below(r, sizeof(special) / sizeof(special[0]))];
    case 1: return (uint32_t)((int32_t)rng_below(r, 2001) - 1000);
    default: {
        uint64_t v = rng_next(r);
        return (uint32_t)(v >> rng_below(r, 32));
    }
    }
}

static uint64_t random_int64(Rng *r)
{
    static const uint64_t special[] = {
        0, 1, ~0ull, 1ull << 63, (1ull << 63) - 1, (1ull << 53) + 1,
        (1ull << 24) + 1, 0xffffffffull, 0x80000000ull, 0xffffffff80000000ull,
        0x7ffffffffffffc00ull, 0x7ffffffffffffe00ull,
    };
    switch (rng_below(r, 4)) {
    case 0: return special[rng_below(r, sizeof(special) / sizeof(special[0]))];
    case 1: return (uint64_t)(int64_t)(int32_t)random_int32(r);
    default: {
        uint64_t v = rng_next(r);
        v >>= rng_below(r, 64);
        return rng_below(r, 2) ? 0 - v : v;
    }
    }
}

/* 16 bytes of operand data in the template's number format. */
static void random_lanes(Rng *r, unsigned vals, uint8_t *p, uint64_t *pool,
                         unsigned *npool)
{
    if (vals == V_MIX)
        vals = rng_below(r, 3);
    for (unsigned i = 0; i < 16;) {
        uint64_t v;
        unsigned n;
        if (vals == V_F32) {
            v = random_float(r, &F32, pool, *npool);
            n = 4;
        } else if (vals == V_F64) {
            v = random_float(r, &F64, pool, *npool);
            n = 8;
        } else {
            v = random_int32(r);
            n = 4;
        }
        if (*npool < 64)
            pool[(*npool)++] = v;
        else
            pool[rng_below(r, 64)] = v;
        put_le(p + i, v, n);
        i += n;
    }
}

static uint32_t random_mxcsr(Rng *r)
{
    uint32_t m = (uint32_t)rng_below(r, 4) << 13;            /* RC */
    m |= rng_below(r, 4) == 0 ? 0x40 : 0;                     /* DAZ */
    m |= rng_below(r, 4) == 0 ? 0x8000 : 0;                   /* FTZ */
    m |= rng_below(r, 4) == 0 ? (uint32_t)rng_below(r, 64) : 0;   /* flags */
    uint32_t masks = 0x3f;
    if (rng_below(r, 10) < 4)
        masks = (uint32_t)rng_below(r, 64);
    return m | masks << 7;
}

void gen_context(Rng *r, const SseInsn *insn, uint8_t *ctx)
{
    const Template *tp = &templates[insn->tmpl];
    uint64_t pool[64];
    unsigned npool = 0;
    memset(ctx, 0, CTX_SIZE);
    for (unsigned i = 0; i < 16; i++)
        random_lanes(r, tp->vals, ctx + CTX_XMM_IN + 16 * i, pool, &npool);
    for (unsigned i = 0; i < CTX_MEM_SIZE; i += 16)
        random_lanes(r, tp->vals, ctx + CTX_MEM + i, pool, &npool);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t lo = random_int32(r);
        put_le(ctx + CTX_MM_IN + 8 * i, lo | (uint64_t)random_int32(r) << 32, 8);
    }
    for (unsigned i = 0; i < NGPR; i++)
        put_le(ctx + CTX_GPR_IN + 8 * i, random_int64(r), 8);
    if (tp->rmk == K_GPR && insn->mem)
        put_le(ctx + CTX_MEM + insn->mem_off, random_int64(r), 8);
    uint32_t mxcsr = random_mxcsr(r);
    put_le(ctx + CTX_MXCSR_IN, mxcsr, 4);
    if (!strcmp(tp->name, "LDMXCSR")) {
        /* A valid value, or one reserved bit set (#GP).  Bit 17 is left
         * out: AMD processors with misaligned-SSE support accept it
         * (MXCSR.MM, MXCSR_MASK 0x2FFFF), Vireo's MXCSR_MASK is 0xFFFF. */
        uint32_t v = random_mxcsr(r);
        if (rng_below(r, 8) == 0) {
            unsigned bit = 16 + rng_below(r, 15);
            v |= 1u << (bit >= 17 ? bit + 1 : bit);
        }
        put_le(ctx + CTX_MEM + insn->mem_off, v, 4);
    }
    /* Arithmetic flags random (COMISS must set all six), IF set, bit 1. */
    put_le(ctx + CTX_FLAGS_IN, 0x202 | (rng_next(r) & 0x8d5), 8);
}

/* ---- the host stub ------------------------------------------------------- */

static size_t rbx_op(uint8_t *b, unsigned rex, const uint8_t *op, size_t oplen,
                     unsigned reg, uint32_t disp)
{
    size_t n = 0;
    rex |= ((reg >> 3) & 1) << 2;
    if (rex)
        b[n++] = (uint8_t)(0x40 | rex);
    memcpy(b + n, op, oplen);
    n += oplen;
    b[n++] = (uint8_t)(0x80 | (reg & 7) << 3 | 3);
    put_le(b + n, disp, 4);
    return n + 4;
}

size_t gen_stub(const SseInsn *insn, uint8_t *code, size_t *insn_off)
{
    static const uint8_t movups_ld[] = { 0x0f, 0x10 }, movups_st[] = { 0x0f, 0x11 };
    static const uint8_t movq_ld[] = { 0x0f, 0x6f }, movq_st[] = { 0x0f, 0x7f };
    static const uint8_t mov_ld[] = { 0x8b }, mov_st[] = { 0x89 };
    static const uint8_t mxcsr_op[] = { 0x0f, 0xae };
    static const uint8_t push_m[] = { 0xff }, pop_m[] = { 0x8f };
    size_t n = 0;
    code[n++] = 0x53;                                   /* push rbx */
    code[n++] = 0x48; code[n++] = 0x89; code[n++] = 0xfb;   /* mov rbx, rdi */
    n += rbx_op(code + n, 0, mxcsr_op, 2, 3, CTX_HOST_MXCSR);   /* stmxcsr */
    for (unsigned i = 0; i < 16; i++)
        n += rbx_op(code + n, 0, movups_ld, 2, i, CTX_XMM_IN + 16 * i);
    for (unsigned i = 0; i < 8; i++)
        n += rbx_op(code + n, 0, movq_ld, 2, i, CTX_MM_IN + 8 * i);
    for (unsigned i = 0; i < NGPR; i++)
        n += rbx_op(code + n, 8, mov_ld, 1, gpr_numbers[i], CTX_GPR_IN + 8 * i);
    n += rbx_op(code + n, 0, mxcsr_op, 2, 2, CTX_MXCSR_IN);     /* ldmxcsr */
    n += rbx_op(code + n, 0, push_m, 1, 6, CTX_FLAGS_IN);       /* push [] */
    code[n++] = 0x9d;                                   /* popfq */
    *insn_off = n;
    memcpy(code + n, insn->bytes, insn->len);
    n += insn->len;
    code[n++] = 0x9c;                                   /* pushfq */
    n += rbx_op(code + n, 0, pop_m, 1, 0, CTX_FLAGS_OUT);       /* pop [] */
    n += rbx_op(code + n, 0, mxcsr_op, 2, 3, CTX_MXCSR_OUT);    /* stmxcsr */
    n += rbx_op(code + n, 0, mxcsr_op, 2, 2, CTX_HOST_MXCSR);   /* ldmxcsr */
    for (unsigned i = 0; i < 16; i++)
        n += rbx_op(code + n, 0, movups_st, 2, i, CTX_XMM_OUT + 16 * i);
    for (unsigned i = 0; i < 8; i++)
        n += rbx_op(code + n, 0, movq_st, 2, i, CTX_MM_OUT + 8 * i);
    for (unsigned i = 0; i < NGPR; i++)
        n += rbx_op(code + n, 8, mov_st, 1, gpr_numbers[i], CTX_GPR_OUT + 8 * i);
    code[n++] = 0x0f; code[n++] = 0x77;                 /* emms */
    code[n++] = 0x5b;                                   /* pop rbx */
    code[n++] = 0xc3;                                   /* ret */
    return n;
}

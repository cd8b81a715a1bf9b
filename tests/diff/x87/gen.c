/* The x87 harness: instruction templates, operands and states.
 *
 * Templates come from Vireo's own decoder: every escape opcode D8-DF with
 * every ModRM.reg, in a memory form ([rbx+0x400]) and in the register forms
 * (one template when all eight ST(i) decode alike, else one per ModRM
 * byte), plus FXSAVE/FXRSTOR (with and without REX.W), FWAIT, and the
 * 16-bit environment formats (66h).  Encodings the decoder calls invalid
 * are left out; each template is drawn with the same probability.
 *
 * Operands mix special encodings (Vol. 1 Table 8-3 and 4.8.3: zeros,
 * denormals, pseudo-denormals, unnormals, pseudo-NaNs and pseudo-
 * infinities, infinities, QNaNs and SNaNs, the indefinite, the largest and
 * smallest normals) with random values, some shaped for the instruction:
 * nearby exponents for FPREM and cancelling subtractions, integer-range
 * values for FIST and FBSTP, small scales for FSCALE, the documented
 * domains of the transcendentals.
 */
#include "tests/diff/x87/x87diff.h"

#include <stdio.h>
#include <string.h>

#include "cpu/decode.h"

/* ---- templates ---------------------------------------------------------- */

typedef struct Template {
    uint8_t pfx;        /* 0, 0x66 or 0x48 (REX.W) */
    uint8_t two_byte;   /* 0F AE */
    uint8_t opcode;
    uint8_t reg;
    uint8_t mem;
    int16_t rm;         /* register forms: -1 any ST(i) */
    uint16_t id;
} Template;

#define MAX_TEMPLATES 512
static Template templates[MAX_TEMPLATES];
static unsigned ntemplates;

static size_t encode(const Template *t, int rm, uint8_t *b)
{
    size_t n = 0;
    if (t->pfx)
        b[n++] = t->pfx;
    if (t->two_byte)
        b[n++] = 0x0f;
    b[n++] = t->opcode;
    if (t->opcode == 0x9b)
        return n;
    if (t->mem) {
        b[n++] = (uint8_t)(0x83 | t->reg << 3);   /* [rbx + disp32] */
        b[n++] = CTX_MEM & 0xff;
        b[n++] = CTX_MEM >> 8;
        b[n++] = 0;
        b[n++] = 0;
    } else {
        b[n++] = (uint8_t)(0xc0 | t->reg << 3 | (rm & 7));
    }
    return n;
}

static int decode_id(const Template *t, int rm)
{
    uint8_t b[16];
    return hl_decode_id(b, encode(t, rm, b));
}

static void add(Template t)
{
    if (ntemplates < MAX_TEMPLATES)
        templates[ntemplates++] = t;
}

static bool env_op(int id)
{
    return id == INSN_FLDENV || id == INSN_FNSTENV || id == INSN_FRSTOR ||
           id == INSN_FNSAVE;
}

unsigned gen_init(void)
{
    ntemplates = 0;
    for (unsigned opc = 0xd8; opc <= 0xdf; opc++) {
        for (unsigned reg = 0; reg < 8; reg++) {
            Template t = { 0, 0, (uint8_t)opc, (uint8_t)reg, 1, 0, 0 };
            int id = decode_id(&t, 0);
            if (id != INSN_UD) {
                t.id = (uint16_t)id;
                add(t);
                if (env_op(id)) {
                    t.pfx = 0x66;
                    add(t);
                }
            }
            t.mem = 0;
            t.pfx = 0;
            int ids[8];
            bool same = true;
            for (int rm = 0; rm < 8; rm++) {
                ids[rm] = decode_id(&t, rm);
                same &= ids[rm] == ids[0];
            }
            if (same && ids[0] != INSN_UD) {
                t.rm = -1;
                t.id = (uint16_t)ids[0];
                add(t);
            } else if (!same) {
                for (int rm = 0; rm < 8; rm++) {
                    if (ids[rm] == INSN_UD)
                        continue;
                    t.rm = (int16_t)rm;
                    t.id = (uint16_t)ids[rm];
                    add(t);
                }
            }
        }
    }
    for (unsigned reg = 0; reg < 2; reg++) {
        for (int w = 0; w < 2; w++) {
            Template t = { w ? 0x48 : 0, 1, 0xae, (uint8_t)reg, 1, 0, 0 };
            t.id = (uint16_t)decode_id(&t, 0);
            if (t.id != INSN_UD)
                add(t);
        }
    }
    Template wait = { 0, 0, 0x9b, 0, 0, 0, INSN_FWAIT };
    add(wait);
    return ntemplates;
}

const char *gen_template_name(unsigned i, char *buf, size_t len)
{
    const Template *t = &templates[i];
    const char *pfx = t->pfx == 0x66 ? "66 " : t->pfx == 0x48 ? "48 " : "";
    if (t->opcode == 0x9b)
        snprintf(buf, len, "%s 9b", insn_name(t->id));
    else if (t->two_byte)
        snprintf(buf, len, "%s %s0f ae /%u", insn_name(t->id), pfx, t->reg);
    else if (t->mem)
        snprintf(buf, len, "%s %s%02x /%u m", insn_name(t->id), pfx, t->opcode, t->reg);
    else if (t->rm < 0)
        snprintf(buf, len, "%s %02x %02x+i", insn_name(t->id), t->opcode,
                 0xc0 | t->reg << 3);
    else
        snprintf(buf, len, "%s %02x %02x", insn_name(t->id), t->opcode,
                 0xc0 | t->reg << 3 | t->rm);
    return buf;
}

void gen_insn(Rng *r, X87Insn *out)
{
    unsigned i = rng_below(r, ntemplates);
    const Template *t = &templates[i];
    int rm = t->rm >= 0 ? t->rm : (int)rng_below(r, 8);
    memset(out, 0, sizeof(*out));
    out->len = (uint8_t)encode(t, rm, out->bytes);
    out->id = t->id;
    out->tmpl = (uint16_t)i;
}

/* ---- values ---------------------------------------------------------------
 * Every random draw is its own statement (or a ?: condition): C leaves the
 * order of function arguments and of operands unspecified, and compilers
 * for x86-64 and AArch64 choose differently, which would make the test
 * sequence depend on the host. */

/* A random significand, sometimes with only its top 24 or 53 bits set (so
 * that results are exact at some precision). */
static uint64_t rand_sig(Rng *r)
{
    uint64_t s = rng_next(r);
    switch (rng_below(r, 6)) {
    case 0: return s & ~0ull << 40;
    case 1: return s & ~0ull << 11;
    case 2: return s & ~0ull << (rng_below(r, 64));
    default: return s;
    }
}

static uint64_t nz(uint64_t v)
{
    return v ? v : 1;
}

typedef struct F80 {
    uint64_t sig;
    uint16_t se;
} F80;

static F80 f80(bool sign, unsigned exp, uint64_t sig)
{
    F80 v = { sig, (uint16_t)((sign ? 0x8000 : 0) | exp) };
    return v;
}

/* exp_lo/exp_hi: the unbiased exponent range of the random normal case. */
static F80 rand_f80_range(Rng *r, int exp_lo, int exp_hi)
{
    bool s = rng_below(r, 2);
    uint64_t sig = rand_sig(r);
    unsigned k = rng_below(r, 24);
    switch (k) {
    case 0: return f80(s, 0, 0);
    case 1: return f80(s, 0, nz((sig & ~(1ull << 63)) >> rng_below(r, 64)));
    case 2: return f80(s, 0, sig | 1ull << 63);                       /* pseudo-denormal */
    case 3: return f80(s, 1 + rng_below(r, 3), sig | 1ull << 63);     /* smallest normals */
    case 4: {
        unsigned e = 0x7ffe - rng_below(r, 2);
        return f80(s, e, rng_below(r, 2) ? ~0ull : sig | 1ull << 63);
    }
    case 5: return f80(s, 0x7fff, 1ull << 63);                        /* infinity */
    case 6: return f80(s, 0x7fff, sig | 3ull << 62);                  /* QNaN */
    case 7: {                                                         /* SNaN */
        uint64_t m = nz(sig & ((1ull << 62) - 1));
        return f80(s, 0x7fff, (1ull << 63) | m);
    }
    case 8: return f80(true, 0x7fff, 3ull << 62);                    /* indefinite */
    case 9: return f80(s, 1 + rng_below(r, 0x7ffe), sig & ~(1ull << 63)); /* unnormal */
    case 10: return f80(s, 0x7fff, sig & ~(1ull << 63));             /* pseudo-NaN/inf */
    case 11: {                                                        /* small integers */
        uint64_t n = 1 + rng_below(r, 100);
        unsigned z = (unsigned)__builtin_clzll(n);
        return f80(s, 16383 + 63 - z, n << z);
    }
    default: {
        int e = exp_lo + (int)rng_below(r, (unsigned)(exp_hi - exp_lo + 1));
        return f80(s, (unsigned)(16383 + e), sig | 1ull << 63);
    }
    }
}

static F80 rand_f80(Rng *r)
{
    if (rng_below(r, 8) == 0)
        return rand_f80_range(r, -16382, 16383);
    return rand_f80_range(r, -70, 70);
}

/* A finite normal value with unbiased exponent in [lo, hi]. */
static F80 normal_in(Rng *r, int lo, int hi)
{
    int e = lo + (int)rng_below(r, (unsigned)(hi - lo + 1));
    bool s = rng_below(r, 2);
    return f80(s, (unsigned)(16383 + e), rand_sig(r) | 1ull << 63);
}

static uint32_t rand_f32(Rng *r)
{
    uint32_t s = (uint32_t)rng_below(r, 2) << 31, m = (uint32_t)rng_next(r) & 0x7fffff;
    switch (rng_below(r, 12)) {
    case 0: return s;
    case 1: return s | (uint32_t)nz(m);                               /* denormal */
    case 2: return s | 0x7f800000;
    case 3: return s | 0x7fc00000 | m;
    case 4: return s | 0x7f800000 | (uint32_t)nz(m & 0x3fffff);        /* SNaN */
    case 5: return s | 0x7f7fffff;
    case 6: return s | 0x00800000 | m;
    default: return s | (uint32_t)(1 + rng_below(r, 254)) << 23 | m;
    }
}

static uint64_t rand_f64(Rng *r)
{
    uint64_t s = (uint64_t)rng_below(r, 2) << 63, m = rng_next(r) & ((1ull << 52) - 1);
    switch (rng_below(r, 12)) {
    case 0: return s;
    case 1: return s | nz(m);
    case 2: return s | 0x7ff0000000000000ull;
    case 3: return s | 0x7ff8000000000000ull | m;
    case 4: return s | 0x7ff0000000000000ull | nz(m & ((1ull << 51) - 1));
    case 5: return s | 0x7fefffffffffffffull;
    case 6: return s | 0x0010000000000000ull | m;
    default:
        if (rng_below(r, 2))
            return s | (uint64_t)(1023 - 80 + rng_below(r, 160)) << 52 | m;
        return s | (uint64_t)(1 + rng_below(r, 2046)) << 52 | m;
    }
}

static uint64_t rand_int(Rng *r, unsigned bytes)
{
    uint64_t v = rng_next(r);
    switch (rng_below(r, 5)) {
    case 0: v = rng_below(r, 3) - 1; break;
    case 1: v = 1ull << (8 * bytes - 1); break;                     /* min */
    case 2: v = (1ull << (8 * bytes - 1)) - 1 - rng_below(r, 2); break;
    case 3: v = (uint64_t)(int64_t)(int8_t)v; break;
    default: break;
    }
    return v;
}

static void put_f80(uint8_t *p, F80 v)
{
    put_le(p, v.sig, 8);
    put_le(p + 8, v.se, 2);
}

/* ---- states ----------------------------------------------------------------- */

/* FCW: mostly all exceptions masked, sometimes a random subset. */
static uint16_t rand_fcw(Rng *r)
{
    unsigned mask = rng_below(r, 4) ? 0x3f : (unsigned)rng_next(r) & 0x3f;
    unsigned pc = rng_below(r, 32) == 0 ? 1 : (unsigned[]){ 0, 2, 3, 3 }[rng_below(r, 4)];
    unsigned rc = rng_below(r, 4);
    return (uint16_t)(0x40 | mask | pc << 8 | rc << 10 | (rng_below(r, 2) << 12));
}

/* FSW with exception flags only where FCW masks them (nothing pending). */
static uint16_t rand_fsw(Rng *r, uint16_t fcw)
{
    uint16_t fsw = (uint16_t)(rng_next(r) & 0x473f & (0x4700 | (fcw & 0x3f)));
    if (!rng_below(r, 2))
        fsw &= ~0x3f;
    if (fsw & 1)
        fsw |= (uint16_t)(rng_below(r, 2) << 6);   /* SF with IE */
    fsw |= (uint16_t)(rng_below(r, 8) << 11);      /* TOP */
    return fsw;
}

static unsigned top_of(const uint8_t *img)
{
    return (get_le(img + 2, 2) >> 11) & 7;
}

/* Make ST(i) of the image in use (or free). */
static void set_tag(uint8_t *img, unsigned i, bool used)
{
    unsigned p = (top_of(img) + i) & 7;
    if (used)
        img[4] |= (uint8_t)(1u << p);
    else
        img[4] &= (uint8_t)~(1u << p);
}

static void set_st(uint8_t *img, unsigned i, F80 v)
{
    put_f80(img + 32 + 16 * i, v);
}

static F80 get_st(const uint8_t *img, unsigned i)
{
    F80 v = { get_le(img + 32 + 16 * i, 8), (uint16_t)get_le(img + 40 + 16 * i, 2) };
    return v;
}

/* Shape ST(0)/ST(1) for the instruction (half of the time). */
static void shape_operands(Rng *r, int id, uint8_t *img)
{
    if (rng_below(r, 2))
        return;
    switch (id) {
    case INSN_FIST: case INSN_FISTP: case INSN_FISTTP: case INSN_FBSTP:
        set_st(img, 0, normal_in(r, -2, 66));
        break;
    case INSN_FRNDINT:
        set_st(img, 0, normal_in(r, -3, 66));
        break;
    case INSN_FSCALE:
        set_st(img, 1, normal_in(r, -1, rng_below(r, 4) ? 6 : 16));
        break;
    case INSN_FPREM: case INSN_FPREM1: {
        F80 b = get_st(img, 1);
        if ((b.se & 0x7fff) == 0 || (b.se & 0x7fff) >= 0x7f00)
            b = normal_in(r, -100, 100);
        int e = (b.se & 0x7fff) + (int)rng_below(r, 110) - 2;
        bool s = rng_below(r, 2);
        F80 a = f80(s, (unsigned)e, rand_sig(r) | 1ull << 63);
        set_st(img, 0, a);
        set_st(img, 1, b);
        break;
    }
    case INSN_FSIN: case INSN_FCOS: case INSN_FSINCOS: case INSN_FPTAN:
        set_st(img, 0, normal_in(r, -70, rng_below(r, 8) ? 8 : 66));
        break;
    case INSN_F2XM1:
        set_st(img, 0, normal_in(r, -70, -1));
        break;
    case INSN_FYL2X: {
        F80 x = normal_in(r, -100, 100);
        x.se &= 0x7fff;
        set_st(img, 0, x);
        break;
    }
    case INSN_FYL2XP1:
        set_st(img, 0, normal_in(r, -70, -2));
        break;
    case INSN_FSQRT: {
        F80 x = get_st(img, 0);
        x.se &= 0x7fff;
        set_st(img, 0, x);
        break;
    }
    case INSN_FADD: case INSN_FSUB: case INSN_FSUBR: case INSN_FCOM:
    case INSN_FCOMP: case INSN_FUCOM: case INSN_FUCOMP: case INSN_FCOMI:
    case INSN_FUCOMI: case INSN_FCOMIP: case INSN_FUCOMIP: {
        /* Nearby values: cancellation, equality. */
        F80 a = get_st(img, 0);
        for (unsigned i = 1; i < 8; i++) {
            F80 b = a;
            if (!rng_below(r, 2)) {
                uint64_t bits = rng_next(r);
                b.sig ^= bits >> rng_below(r, 64);
            }
            b.se = (uint16_t)(b.se + rng_below(r, 3) - 1);
            b.se ^= (uint16_t)(rng_below(r, 2) << 15);
            set_st(img, i, b);
        }
        break;
    }
    default:
        break;
    }
}

static void rand_state(Rng *r, int id, uint8_t *img)
{
    memset(img, 0, 512);
    for (unsigned i = 160; i < 416; i += 8)
        put_le(img + i, rng_next(r), 8);   /* XMM0-15 */
    uint16_t fcw = rand_fcw(r);
    put_le(img, fcw, 2);
    put_le(img + 2, rand_fsw(r, fcw), 2);
    for (unsigned i = 0; i < 8; i++) {
        set_st(img, i, rand_f80(r));
        set_tag(img, i, rng_below(r, 5) != 0);
    }
    uint64_t flags = rng_next(r) & 0x3f;
    put_le(img + 24, 0x1f80 | flags | (rng_below(r, 4) << 13), 4);
    shape_operands(r, id, img);
    /* Instructions that push find ST(7) free most of the time; their
     * operands are in use most of the time. */
    set_tag(img, 7, rng_below(r, 8) == 0);
    for (unsigned i = 0; i < 2; i++)
        if (rng_below(r, 16))
            set_tag(img, i, true);
}

/* ---- memory operands ------------------------------------------------------ */

/* The format the instruction reads from memory. */
enum { M_NONE, M_F32, M_F64, M_F80, M_I16, M_I32, M_I64, M_BCD, M_CW, M_ENV, M_SAVE, M_FX };

static int mem_kind(const X87Insn *insn)
{
    const uint8_t *b = insn->bytes;
    bool p66 = b[0] == 0x66;
    if (p66 || b[0] == 0x48)
        b++;
    unsigned opc = b[0], reg = (b[1] >> 3) & 7;
    if (opc == 0x0f)
        return insn->id == INSN_FXRSTOR ? M_FX : M_NONE;
    if ((b[1] >> 6) == 3 || opc == 0x9b)
        return M_NONE;
    switch (insn->id) {
    case INSN_FADD: case INSN_FMUL: case INSN_FCOM: case INSN_FCOMP:
    case INSN_FSUB: case INSN_FSUBR: case INSN_FDIV: case INSN_FDIVR:
        return opc == 0xd8 ? M_F32 : opc == 0xdc ? M_F64 : opc == 0xda ? M_I32 : M_I16;
    case INSN_FLD:
        return opc == 0xd9 ? M_F32 : opc == 0xdd ? M_F64 : M_F80;
    case INSN_FILD:
        return opc == 0xdb ? M_I32 : reg == 5 ? M_I64 : M_I16;
    case INSN_FBLD: return M_BCD;
    case INSN_FLDCW: return M_CW;
    case INSN_FLDENV: return M_ENV;
    case INSN_FRSTOR: return M_SAVE;
    default: return M_NONE;
    }
}

static void rand_env(Rng *r, uint8_t *p, bool o16)
{
    uint16_t fcw = rand_fcw(r);
    uint16_t fsw = (uint16_t)(rng_below(r, 4) ? rand_fsw(r, fcw) : rng_next(r));
    uint16_t ftw = (uint16_t)rng_next(r);
    unsigned w = o16 ? 2 : 4;
    uint32_t words[7] = { fcw, fsw, ftw };
    for (unsigned i = 3; i < 7; i++)
        words[i] = (uint32_t)rng_next(r);
    for (unsigned i = 0; i < 7; i++)
        put_le(p + i * w, words[i], w);
}

static void rand_mem(Rng *r, const X87Insn *insn, uint8_t *m)
{
    for (unsigned i = 0; i < CTX_MEM_SIZE; i += 8)
        put_le(m + i, rng_next(r), 8);
    bool o16 = insn->bytes[0] == 0x66;
    switch (mem_kind(insn)) {
    case M_F32: put_le(m, rand_f32(r), 4); break;
    case M_F64: put_le(m, rand_f64(r), 8); break;
    case M_F80: put_f80(m, rand_f80(r)); break;
    case M_I16: put_le(m, rand_int(r, 2), 2); break;
    case M_I32: put_le(m, rand_int(r, 4), 4); break;
    case M_I64: put_le(m, rand_int(r, 8), 8); break;
    case M_BCD: {
        unsigned digits = 1 + rng_below(r, 18);
        memset(m, 0, 10);
        for (unsigned i = 0; i < digits; i++) {
            unsigned dgt = rng_below(r, 10);
            m[i / 2] |= (uint8_t)(dgt << (4 * (i & 1)));
        }
        m[9] = (uint8_t)(rng_below(r, 2) << 7);
        break;
    }
    case M_CW:
        put_le(m, rng_below(r, 4) ? rand_fcw(r) : (uint16_t)rng_next(r), 2);
        break;
    case M_ENV:
        rand_env(r, m, o16);
        break;
    case M_SAVE:
        rand_env(r, m, o16);
        for (unsigned i = 0; i < 8; i++)
            put_f80(m + (o16 ? 14 : 28) + 10 * i, rand_f80(r));
        break;
    case M_FX:
        rand_state(r, INSN_FNOP, m);
        if (rng_below(r, 4) == 0)
            put_le(m + 2, rng_next(r), 2);   /* perhaps a pending exception */
        put_le(m + 4, rng_next(r), 1);
        put_le(m + 6, rng_next(r) & 0x7ff, 2);
        break;
    default:
        break;
    }
}

static void rand_regs(Rng *r, uint8_t *ctx)
{
    /* Arithmetic flags (FCMOVcc reads CF, ZF, PF; FCOMI writes them). */
    put_le(ctx + CTX_FLAGS_IN, (rng_next(r) & 0x8d5) | 2, 8);
    put_le(ctx + CTX_RAX_IN, rng_next(r), 8);
}

void gen_context(Rng *r, const X87Insn *insn, uint8_t *ctx)
{
    memset(ctx, 0, CTX_HOST_SAVE);
    rand_state(r, insn->id, ctx + CTX_IN);
    rand_mem(r, insn, ctx + CTX_MEM);
    rand_regs(r, ctx);
}

void gen_chain(Rng *r, const X87Insn *insn, uint8_t *ctx)
{
    memcpy(ctx + CTX_IN, ctx + CTX_OUT, 512);
    uint8_t *img = ctx + CTX_IN;
    uint16_t fcw = (uint16_t)get_le(img, 2), fsw = (uint16_t)get_le(img + 2, 2);
    fsw &= (uint16_t)~(0x8080 | (0x3f & ~fcw));
    put_le(img + 2, fsw, 2);
    if (rng_below(r, 2))
        shape_operands(r, insn->id, img);
    rand_mem(r, insn, ctx + CTX_MEM);
    put_le(ctx + CTX_FLAGS_IN, (get_le(ctx + CTX_FLAGS_OUT, 8) & 0x8d5) | 2, 8);
    put_le(ctx + CTX_RAX_IN, get_le(ctx + CTX_RAX_OUT, 8), 8);
}

/* ---- the stub ---------------------------------------------------------------- */

size_t gen_stub(const X87Insn *insn, uint8_t *code, size_t *insn_off, size_t *ret_off)
{
    static const uint8_t head[] = {
        0x53,                                     /* push rbx */
        0x48, 0x89, 0xfb,                         /* mov rbx, rdi */
        0x0f, 0xae, 0x83, 0x00, 0x08, 0, 0,       /* fxsave [rbx+0x800] */
        0xff, 0xb3, 0x00, 0x06, 0, 0,             /* push qword [rbx+0x600] */
        0x9d,                                     /* popfq */
        0x48, 0x8b, 0x83, 0x08, 0x06, 0, 0,       /* mov rax, [rbx+0x608] */
        0x0f, 0xae, 0x0b,                         /* fxrstor [rbx] */
    };
    static const uint8_t tail[] = {
        0x0f, 0xae, 0x83, 0x00, 0x02, 0, 0,       /* fxsave [rbx+0x200] */
        0x48, 0x89, 0x83, 0x18, 0x06, 0, 0,       /* mov [rbx+0x618], rax */
        0x9c,                                     /* pushfq */
        0x8f, 0x83, 0x10, 0x06, 0, 0,             /* pop qword [rbx+0x610] */
        0x0f, 0xae, 0x8b, 0x00, 0x08, 0, 0,       /* fxrstor [rbx+0x800] */
        0x5b,                                     /* pop rbx */
        0xc3,                                     /* ret */
    };
    size_t n = 0;
    memcpy(code + n, head, sizeof(head));
    n += sizeof(head);
    *insn_off = n;
    memcpy(code + n, insn->bytes, insn->len);
    n += insn->len;
    memcpy(code + n, tail, sizeof(tail));
    n += sizeof(tail);
    *ret_off = n - 1;
    return n;
}

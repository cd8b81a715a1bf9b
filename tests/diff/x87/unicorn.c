/* The x87 harness: where Unicorn 2.0.1 departs from the processor.
 *
 * Unicorn 2.0.1's x87 is QEMU 5.0's (target/i386/fpu_helper.c), from before
 * the x87 rework of QEMU 5.2.  Each rule below names one of its known
 * departures from the SDM, says when a test meets it, and hands the
 * fields it spoils over to Vireo's values (see HlUcRule in
 * tests/diff/hostlib/hostlib.h: the driver applies them only where the
 * host agrees with Vireo, and counts what each one masked).  The first
 * rules spoil an instruction's whole x87 result; the later ones single
 * bits, so that the rest of the result is still compared.
 */
#include "tests/diff/x87/x87diff.h"

#include <string.h>

#include "cpu/decode.h"

/* ---- the test's operands ----------------------------------------------------- */

static unsigned fsw_of(const uint8_t *img)
{
    return (unsigned)get_le(img + FX_FSW, 2);
}

static bool st_empty(const uint8_t *img, unsigned i)
{
    unsigned top = (fsw_of(img) >> 11) & 7;
    return !((img[FX_FTW] >> ((top + i) & 7)) & 1);
}

static bool is_id(int id, const int *ids)
{
    for (; *ids; ids++)
        if (*ids == id)
            return true;
    return false;
}

/* The i of a register form's ST(i), or -1: register forms are the two
 * bytes opcode, ModRM (gen.c). */
static int st_operand(const X87Insn *insn)
{
    return insn->len == 2 ? insn->bytes[1] & 7 : -1;
}

/* The stack registers the instruction reads (bit i: ST(i)), and whether
 * it pushes (SDM Vol. 2, each instruction's "x87 FPU Stack Fault"). */
static unsigned stack_reads(const X87Insn *insn, bool *push)
{
    static const int st0_only[] = {
        INSN_FTST, INSN_FST, INSN_FSTP, INSN_FIST, INSN_FISTP, INSN_FISTTP,
        INSN_FBSTP, INSN_FCHS, INSN_FABS, INSN_FSQRT, INSN_FRNDINT, INSN_FXTRACT,
        INSN_F2XM1, INSN_FPTAN, INSN_FSIN, INSN_FCOS, INSN_FSINCOS, 0,
    };
    static const int st0_st1[] = {
        INSN_FCOMPP, INSN_FUCOMPP, INSN_FSCALE, INSN_FPREM, INSN_FPREM1,
        INSN_FYL2X, INSN_FYL2XP1, INSN_FPATAN, 0,
    };
    static const int st0_sti[] = {
        INSN_FADD, INSN_FMUL, INSN_FSUB, INSN_FSUBR, INSN_FDIV, INSN_FDIVR,
        INSN_FCOM, INSN_FCOMP, INSN_FUCOM, INSN_FUCOMP, INSN_FCOMI, INSN_FCOMIP,
        INSN_FUCOMI, INSN_FUCOMIP, INSN_FXCH, INSN_FCMOV, 0,
    };
    static const int pushes[] = {
        INSN_FLD, INSN_FILD, INSN_FBLD, INSN_FLDCONST, INSN_FPTAN, INSN_FXTRACT,
        INSN_FSINCOS, 0,
    };
    int id = insn->id, sti = st_operand(insn);
    *push = is_id(id, pushes);
    if (id == INSN_FLD)
        return sti >= 0 ? 1u << sti : 0;
    if (is_id(id, st0_st1))
        return 3;
    if (is_id(id, st0_sti))
        return 1u | (sti >= 0 ? 1u << sti : 0);
    return is_id(id, st0_only) ? 1 : 0;
}

/* Does the instruction fault on the stack: read an empty register or
 * push onto a full ST(7)? */
static bool stack_fault(const X87Insn *insn, const uint8_t *img)
{
    bool push;
    unsigned reads = stack_reads(insn, &push);
    for (unsigned i = 0; i < 8; i++)
        if (((reads >> i) & 1) && st_empty(img, i))
            return true;
    return push && !st_empty(img, 7);
}

/* An encoding the 387 and later do not support (SDM Vol. 1 8.2.2):
 * unnormal, pseudo-NaN, pseudo-infinity; or a pseudo-denormal, which
 * they read as a denormal. */
static bool unsupported(const uint8_t *p)
{
    unsigned e = (unsigned)get_le(p + 8, 2) & 0x7fff;
    bool j = (get_le(p, 8) >> 63) & 1;
    return e == 0 ? j : !j;
}

static bool reads_unsupported(const X87Insn *insn, const uint8_t *img)
{
    bool push;
    unsigned reads = stack_reads(insn, &push);
    for (unsigned i = 0; i < 8; i++)
        if (((reads >> i) & 1) && unsupported(img + FX_ST + 16 * i))
            return true;
    return false;
}

/* Loads the status word from memory. */
static bool loads_fsw(int id)
{
    return id == INSN_FLDENV || id == INSN_FRSTOR || id == INSN_FXRSTOR;
}

/* Instructions after which the SDM defines C0, C2 and C3 (sets, clears,
 * loads or leaves them); after the others they are undefined. */
static bool cc_defined(int id)
{
    static const int ids[] = {
        INSN_FCOM, INSN_FCOMP, INSN_FCOMPP, INSN_FUCOM, INSN_FUCOMP, INSN_FUCOMPP,
        INSN_FTST, INSN_FXAM, INSN_FCOMI, INSN_FCOMIP, INSN_FUCOMI, INSN_FUCOMIP,
        INSN_FPREM, INSN_FPREM1, INSN_FLDENV, INSN_FRSTOR, INSN_FXRSTOR,
        INSN_FNINIT, INSN_FNSAVE, INSN_FXSAVE, 0,
    };
    return is_id(id, ids);
}

static unsigned st_exp(const uint8_t *img, unsigned i)
{
    return (unsigned)get_le(img + FX_ST + 16 * i + 8, 2) & 0x7fff;
}

/* Is ST(i) at least 2^n in magnitude, or a NaN or infinity? */
static bool st_at_least(const uint8_t *img, unsigned i, unsigned n)
{
    return st_exp(img, i) >= 0x3fff + n;
}

/* ---- masking -------------------------------------------------------------------- */

/* Take the bits `mask` of the status word from Vireo's. */
static bool take_fsw_bits(const HlCase *c, uint8_t *u, unsigned mask)
{
    unsigned uf = (unsigned)get_le(u + CTX_OUT + FX_FSW, 2);
    unsigned vf = fsw_of(c->v + CTX_OUT);
    if (!((uf ^ vf) & mask))
        return false;
    put_le(u + CTX_OUT + FX_FSW, (uf & ~mask) | (vf & mask), 2);
    return true;
}

/* Everything an x87 instruction writes: the x87 part of the image (not
 * MXCSR and XMM0-15), the memory operand, RFLAGS, RAX, the fault. */
static bool take_x87_result(const HlCase *c, uint8_t *u, int *uvec)
{
    bool changed = *uvec != c->vvec;
    *uvec = c->vvec;
    changed |= hl_take(c, u, CTX_OUT, FX_MXCSR);
    changed |= hl_take(c, u, CTX_OUT + FX_ST, 128);
    changed |= hl_take(c, u, CTX_MEM, CTX_MEM_SIZE);
    changed |= hl_take(c, u, CTX_FLAGS_OUT, 16);
    return changed;
}

/* ---- the rules ------------------------------------------------------------------- */

/* QEMU 5.0 never checks the tags: fpush and fpop only move TOP, so an
 * empty register is read as the number it last held and a push overwrites
 * a full ST(7), with no #IS (SDM Vol. 1 8.5.1.1). */
static bool stack_fault_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return stack_fault(&x87_cur, c->in + CTX_IN) && take_x87_result(c, u, uvec);
}

/* QEMU 5.0's softfloat computes with unnormals, pseudo-NaNs and
 * pseudo-infinities as if they were valid numbers instead of raising #IA
 * (SDM Vol. 1 8.2.2), and takes pseudo-denormals' exponent as -16383. */
static bool unsupported_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return reads_unsupported(&x87_cur, c->in + CTX_IN) && take_x87_result(c, u, uvec);
}

/* QEMU 5.0 discards softfloat's exception flags (only FDIV's #Z reaches
 * FSW), so an unmasked #I, #D, #O, #U or #P neither stops the instruction
 * (the processor leaves the operands, or for #O/#U stores the result with
 * a biased exponent) nor sets ES (SDM Vol. 1 8.5). */
static bool unmasked_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return !loads_fsw(x87_cur.id) && !(fsw_of(c->in + CTX_IN) & 0x80) &&
           (fsw_of(c->v + CTX_OUT) & 0x80) && take_x87_result(c, u, uvec);
}

/* QEMU 5.0 computes F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS,
 * FSINCOS, FPREM and FPREM1 with the host's double and libm: 53-bit
 * results, no exact remainders, NaNs and infinities handled apart. */
static bool double_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    int id = x87_cur.id;
    return (x87_transcendental(id) || id == INSN_FPREM || id == INSN_FPREM1) &&
           take_x87_result(c, u, uvec);
}

/* QEMU 5.0's FISTTP m32int and m64int store softfloat's saturated value
 * (0x7FFF...) for a positive out-of-range number or a NaN, where the SDM
 * stores the integer indefinite (0x8000...). */
static bool fisttp_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    unsigned opc = x87_cur.bytes[0];
    unsigned bits = opc == 0xdb ? 31 : opc == 0xdd ? 63 : 0;
    return x87_cur.id == INSN_FISTTP && bits && st_at_least(c->in + CTX_IN, 0, bits) &&
           take_x87_result(c, u, uvec);
}

/* QEMU 5.0's FBSTP has no range check (a source of 10^18 or more, a NaN
 * or an infinity stores digits, not the BCD indefinite) and writes the
 * sign of a negative source that rounds to zero as positive. */
static bool fbstp_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    const uint8_t *in = c->in + CTX_IN;
    bool negative_fraction = (in[FX_ST + 9] & 0x80) && st_exp(in, 0) < 0x3fff;
    return x87_cur.id == INSN_FBSTP && (st_at_least(in, 0, 59) || negative_fraction) &&
           take_x87_result(c, u, uvec);
}

/* QEMU 5.0's FXTRACT takes the raw exponent field of a NaN, infinity or
 * denormal as the exponent (SDM Vol. 2 FXTRACT: NaNs propagate, infinity
 * gives +inf and inf, denormals are normalized). */
static bool fxtract_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    unsigned e = st_exp(c->in + CTX_IN, 0);
    return x87_cur.id == INSN_FXTRACT && (e == 0 || e == 0x7fff) &&
           take_x87_result(c, u, uvec);
}

/* QEMU 5.0's FXAM classifies the bits of ST0 without looking at its tag
 * (an empty register is not reported as empty) and knows no unsupported
 * class (SDM Vol. 2 FXAM). */
static bool fxam_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    const uint8_t *in = c->in + CTX_IN;
    return x87_cur.id == INSN_FXAM && (st_empty(in, 0) || unsupported(in + FX_ST)) &&
           take_x87_result(c, u, uvec);
}

/* QEMU 5.0's FSCALE (floatx80_scalbn) rounds the result to FCW.PC; the
 * processor scales the full 64-bit significand. */
static bool fscale_pc_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    unsigned pc = ((unsigned)get_le(c->in + CTX_IN + FX_FCW, 2) >> 8) & 3;
    return x87_cur.id == INSN_FSCALE && pc != 3 && take_x87_result(c, u, uvec);
}

/* QEMU 5.0's FSCALE returns a NaN ST(1) without quieting it and scales by
 * an infinite ST(1) as by the largest int32 (SDM Vol. 2 FSCALE: a QNaN;
 * an infinity of the right sign, zero, or #IA). */
static bool fscale_special_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return x87_cur.id == INSN_FSCALE && st_exp(c->in + CTX_IN, 1) == 0x7fff &&
           take_x87_result(c, u, uvec);
}

/* Unicorn's FNSTENV/FNSAVE in 64-bit mode write the reserved upper halves
 * of the 32-bit format's control, status and tag words as zero; the
 * processor writes them as ones (SDM Vol. 1 Figure 8-9 shows them
 * reserved). */
static bool env_reserved_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    int id = x87_cur.id;
    if ((id != INSN_FNSTENV && id != INSN_FNSAVE) || x87_cur.bytes[0] == 0x66)
        return false;
    bool changed = false;
    for (unsigned off = 2; off < 12; off += 4)
        changed |= hl_take(c, u, CTX_MEM + off, 2);
    return changed;
}

/* QEMU 5.0 converts single and double SNaNs to and from the 80-bit format
 * without setting the quiet bit (SDM Vol. 1 4.8.3.4: the result is the
 * QNaN): FLD m32fp/m64fp and FST/FSTP m32fp/m64fp. */
static bool snan_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    int id = x87_cur.id;
    unsigned opc = x87_cur.bytes[0];
    if ((opc != 0xd9 && opc != 0xdd) || st_operand(&x87_cur) >= 0)
        return false;
    if (id == INSN_FLD)
        return hl_take(c, u, CTX_OUT + FX_ST, 10);
    if (id == INSN_FST || id == INSN_FSTP)
        return hl_take(c, u, CTX_MEM, 8);
    return false;
}

/* QEMU 5.0's FDIV and FDIVR set ZE for any zero divisor, also for 0/0
 * (#IA), infinity/0 and NaN/0 (no exception, SDM Vol. 2 FDIV table). */
static bool fdiv_zero_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    int id = x87_cur.id;
    return (id == INSN_FDIV || id == INSN_FDIVR) && take_fsw_bits(c, u, 0x8084);
}

/* QEMU 5.0 keeps the reserved bits of a loaded control word; the
 * processor reads bit 6 as 1 and bits 7 and 13-15 as 0 (SDM Vol. 1
 * Figure 8-6). */
static bool fcw_reserved_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return (x87_cur.id == INSN_FLDCW || loads_fsw(x87_cur.id)) &&
           hl_take(c, u, CTX_OUT + FX_FCW, 2);
}

/* QEMU 5.0 discards softfloat's exception flags: FSW.IE, DE, OE, UE, PE
 * (and SF) stay as they were where the processor sets them. */
static bool flags_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return !loads_fsw(x87_cur.id) && take_fsw_bits(c, u, 0x7b);
}

/* QEMU 5.0 never sets C1 for a result rounded up (SDM Vol. 1 8.1.3.1),
 * nor clears it where the SDM says 0. */
static bool c1_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return !loads_fsw(x87_cur.id) && take_fsw_bits(c, u, 0x200);
}

/* QEMU 5.0's FCOMI, FCOMIP, FUCOMI and FUCOMIP keep OF, SF and AF, which
 * the SDM clears. */
static bool fcomi_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    int id = x87_cur.id;
    if (id != INSN_FCOMI && id != INSN_FCOMIP && id != INSN_FUCOMI && id != INSN_FUCOMIP)
        return false;
    uint64_t uf = get_le(u + CTX_FLAGS_OUT, 8), vf = get_le(c->v + CTX_FLAGS_OUT, 8);
    const uint64_t of_sf_af = 0x890;
    if (!((uf ^ vf) & of_sf_af))
        return false;
    put_le(u + CTX_FLAGS_OUT, (uf & ~of_sf_af) | (vf & of_sf_af), 8);
    return true;
}

/* C0, C2 and C3 where the SDM leaves them undefined: QEMU 5.0 clears them
 * in FINCSTP and FDECSTP and sets C2 in FSQRT of a negative number, the
 * processor leaves them. */
static bool undefined_cc_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return !cc_defined(x87_cur.id) && take_fsw_bits(c, u, 0x4500);
}

/* QEMU 5.0's FLDL2T, FLDL2E, FLDPI, FLDLG2 and FLDLN2 load the constant
 * rounded to nearest whatever FCW.RC says; the processor rounds its
 * internal 66-bit constant by RC (SDM Vol. 1 8.3.8). */
static bool constant_rc_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    unsigned rc = ((unsigned)get_le(c->in + CTX_IN + FX_FCW, 2) >> 10) & 3;
    return x87_cur.id == INSN_FLDCONST && x87_cur.bytes[1] >= 0xe9 &&
           x87_cur.bytes[1] <= 0xed && rc != 0 && hl_take(c, u, CTX_OUT + FX_ST, 10);
}

/* QEMU 5.0's FST/FSTP ST(i) copy the value without marking ST(i) valid
 * (helper_fmov_STN_ST0), so an empty destination stays empty. */
static bool fst_tag_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    int id = x87_cur.id, sti = st_operand(&x87_cur);
    return (id == INSN_FST || id == INSN_FSTP) && sti >= 0 &&
           st_empty(c->in + CTX_IN, (unsigned)sti) && hl_take(c, u, CTX_OUT + FX_FTW, 1);
}

/* QEMU 5.0's FNSTENV leaves the exception masks; the SDM's FSTENV masks
 * every exception after storing the environment. */
static bool fnstenv_mask_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return x87_cur.id == INSN_FNSTENV && hl_take(c, u, CTX_OUT + FX_FCW, 1);
}

/* QEMU 5.0's FLDENV, FRSTOR and FXRSTOR load ES and B as stored; the
 * processor sets them from the unmasked exceptions of the loaded status
 * and control words. */
static bool loaded_es_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    return loads_fsw(x87_cur.id) && take_fsw_bits(c, u, 0x8080);
}

const HlUcRule x87_uc_rules[] = {
    { "stack fault (no #IS)", stack_fault_rule, NULL },
    { "unsupported operand (no #IA)", unsupported_rule, NULL },
    { "unmasked exception ignored", unmasked_rule, NULL },
    { "computed in double", double_rule, NULL },
    { "FISTTP saturates", fisttp_rule, NULL },
    { "FBSTP range and sign", fbstp_rule, NULL },
    { "FXTRACT of special values", fxtract_rule, NULL },
    { "FXAM of empty/unsupported", fxam_rule, NULL },
    { "FSCALE rounded to PC", fscale_pc_rule, NULL },
    { "FSCALE by NaN/infinity", fscale_special_rule, NULL },
    { "FNSTENV reserved words 0", env_reserved_rule, NULL },
    { "SNaN not quieted", snan_rule, NULL },
    { "FDIV sets ZE for 0 divisor", fdiv_zero_rule, NULL },
    { "FCW reserved bits loaded", fcw_reserved_rule, NULL },
    { "FSW exception flags not set", flags_rule, NULL },
    { "C1 not written", c1_rule, NULL },
    { "FCOMI keeps OF/SF/AF", fcomi_rule, NULL },
    { "undefined C0/C2/C3", undefined_cc_rule, NULL },
    { "constants not rounded by RC", constant_rc_rule, NULL },
    { "FST ST(i) leaves its tag", fst_tag_rule, NULL },
    { "FNSTENV leaves the masks", fnstenv_mask_rule, NULL },
    { "ES/B loaded as stored", loaded_es_rule, NULL },
    { NULL, NULL, NULL },
};

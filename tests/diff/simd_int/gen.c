/* The MMX / SSE integer harness: instruction templates, operands, states
 * and the host stub.
 *
 * Templates come from Vireo's own decoder: every slot of the 0F, 0F 38
 * and 0F 3A maps, under each mandatory prefix (none, 66, F3, F2, and 66
 * with F2 or F3 in either order: F2/F3 win, or for CRC32 66 sizes F1), in its register form and its memory form, and
 * for the ModRM groups (0F 71-73) each ModRM.reg, that decodes to a
 * handler of the "MMX and SSE integer" group of cpu/insns.def (EMMS ..
 * PCMPISTRM).  Instructions whose operand size follows REX.W get one
 * template per W.  In those slots, the encodings the decoder calls invalid
 * (a prefix without a row, a register form of a memory-only row, a ModRM
 * group hole) are templates too, with id UD: the host must raise #UD as
 * well.  One instruction in eight is drawn from those, the others from
 * the valid templates, each with the same probability.
 *
 * Operands: vectors mix special lanes (0, -1, the signed extremes, 1),
 * random bits, small values (shift counts, shuffle indices), and strings
 * over a small alphabet with embedded zeros (PCMPxSTRx); general registers
 * mix random values with small signed ones (the explicit string lengths).
 * 128-bit memory operands are misaligned one time in four, which the
 * legacy SSE forms must answer with #GP(0).  One state in 32 has a pending
 * unmasked x87 exception, which MMX instructions must answer with #MF.
 */
#include "tests/diff/simd_int/simddiff.h"

#include <stdio.h>
#include <string.h>

#include "cpu/decode.h"

/* ---- templates ------------------------------------------------------------ */

enum { PFX_SETS = 8 };
static const uint8_t pfx_bytes[PFX_SETS][2] = {
    { 0, 0 }, { 0x66, 0 }, { 0xf3, 0 }, { 0xf2, 0 },
    { 0x66, 0xf2 }, { 0xf2, 0x66 }, { 0x66, 0xf3 }, { 0xf3, 0x66 },
};

typedef struct Template {
    uint8_t pfx;        /* index into pfx_bytes */
    uint8_t map;        /* 1: 0F, 2: 0F 38, 3: 0F 3A */
    uint8_t opcode;
    int8_t reg;         /* ModRM.reg, or -1 for any */
    uint8_t mem;
    uint8_t imm;        /* takes an imm8 */
    int8_t rexw;        /* -1 random, else forced */
    uint8_t bare;       /* no ModRM (EMMS) */
    uint16_t id;
} Template;

#define MAX_TEMPLATES 4096
static Template templates[MAX_TEMPLATES];
static unsigned ntemplates;
/* Indices of the valid templates and of the #UD ones. */
static uint16_t valid_idx[MAX_TEMPLATES], ud_idx[MAX_TEMPLATES];
static unsigned nvalid, nud;

static bool ours(int id)
{
    return id >= INSN_EMMS && id <= INSN_PCMPISTRM;
}

/* Encode: prefixes, REX, map escape, opcode, ModRM (+ disp32 for the
 * RIP-relative memory form), imm8.  Returns the length. */
static size_t encode(const Template *t, uint8_t rex, unsigned reg, unsigned rm,
                     uint32_t disp, uint8_t imm, uint8_t *b)
{
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        if (pfx_bytes[t->pfx][i])
            b[n++] = pfx_bytes[t->pfx][i];
    }
    if (rex)
        b[n++] = rex;
    b[n++] = 0x0f;
    if (t->map == 2)
        b[n++] = 0x38;
    else if (t->map == 3)
        b[n++] = 0x3a;
    b[n++] = t->opcode;
    if (t->bare)
        return n;
    if (t->mem) {
        b[n++] = (uint8_t)(((reg & 7) << 3) | 5);
        put_le(b + n, disp, 4);
        n += 4;
    } else {
        b[n++] = (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7));
    }
    if (t->imm)
        b[n++] = imm;
    return n;
}

/* Decode a candidate; returns its id and whether an imm8 follows. */
static int probe(Template *t, unsigned reg, uint8_t rex)
{
    uint8_t b[16];
    t->imm = 1;                      /* a spare byte the decoder may take */
    size_t n = encode(t, rex, reg, 0, 0, 0, b), len;
    int id = hl_decode(b, n, &len);
    if (len == n - 1)
        t->imm = 0;
    else if (len != n)
        return INSN_UD;
    return id;
}

static void add(Template t)
{
    if (ntemplates < MAX_TEMPLATES)
        templates[ntemplates++] = t;
}

static bool rexw_matters(int id)
{
    return id == INSN_MOVD_IN || id == INSN_MOVD_OUT || id == INSN_PEXTRD ||
           id == INSN_PINSRD || id == INSN_CRC32 || id == INSN_PCMPESTRI ||
           id == INSN_PCMPESTRM || id == INSN_MOVNTI;
}

static void add_forms(Template t)
{
    if (rexw_matters(t.id)) {
        t.rexw = 0;
        add(t);
        t.rexw = 1;
        add(t);
    } else {
        t.rexw = -1;
        add(t);
    }
}

/* Templates of one slot: ours, and (want_ud) the plain-prefix encodings
 * the decoder calls invalid, which the host must refuse with #UD too. */
static bool slot_templates(unsigned map, unsigned opc, bool want_ud)
{
    bool found = false;
    for (unsigned p = 0; p < PFX_SETS; p++) {
        for (unsigned mem = 0; mem < 2; mem++) {
            Template t = { (uint8_t)p, (uint8_t)map, (uint8_t)opc, -1,
                           (uint8_t)mem, 0, -1, 0, 0 };
            int ids[8];
            uint8_t imms[8];
            bool same = true;
            for (unsigned reg = 0; reg < 8; reg++) {
                ids[reg] = probe(&t, reg, 0);
                imms[reg] = t.imm;
                same &= ids[reg] == ids[0] && imms[reg] == imms[0];
            }
            for (unsigned reg = 0; reg < 8; reg++) {
                bool ud = want_ud && p < 4 && ids[reg] == INSN_UD;
                if (!ours(ids[reg]) && !ud)
                    continue;
                found = true;
                t.reg = same ? -1 : (int8_t)reg;
                t.imm = ud ? 1 : imms[reg];
                t.id = (uint16_t)ids[reg];
                if (ud)
                    add(t);
                else
                    add_forms(t);
                if (same)
                    break;
            }
        }
    }
    return found;
}

unsigned gen_init(void)
{
    ntemplates = 0;
    for (unsigned map = 1; map <= 3; map++) {
        for (unsigned opc = 0; opc < 256; opc++) {
            if (map == 1 && (opc == 0x38 || opc == 0x3a))
                continue;
            unsigned before = ntemplates;
            if (slot_templates(map, opc, false)) {
                ntemplates = before;
                slot_templates(map, opc, true);
            }
        }
    }
    /* Instructions without ModRM: the loop above cannot see them. */
    Template emms = { 0, 1, 0x77, -1, 0, 0, -1, 1, INSN_EMMS };
    add(emms);
    nvalid = nud = 0;
    for (unsigned i = 0; i < ntemplates; i++) {
        if (templates[i].id == INSN_UD)
            ud_idx[nud++] = (uint16_t)i;
        else
            valid_idx[nvalid++] = (uint16_t)i;
    }
    return ntemplates;
}

const char *gen_template_name(unsigned i, char *buf, size_t len)
{
    const Template *t = &templates[i];
    char pfx[16] = "", reg[8] = "/r";
    for (int k = 0; k < 2; k++) {
        if (pfx_bytes[t->pfx][k]) {
            size_t l = strlen(pfx);
            snprintf(pfx + l, sizeof(pfx) - l, "%02x ", pfx_bytes[t->pfx][k]);
        }
    }
    if (t->reg >= 0)
        snprintf(reg, sizeof(reg), "/%d", t->reg);
    if (t->bare)
        reg[0] = 0;
    snprintf(buf, len, "%s %s%s0f %s%02x %s%s%s", insn_name(t->id), pfx,
             t->rexw == 1 ? "W1 " : "",
             t->map == 2 ? "38 " : t->map == 3 ? "3a " : "", t->opcode, reg,
             t->bare ? "" : t->mem ? " m" : " r", t->imm ? " ib" : "");
    return buf;
}

/* 16-byte memory operands: the ones the alignment rule applies to.  The
 * decoder does not say, so it is read from the handler's operand. */
static unsigned mem_bytes(const Template *t)
{
    switch (t->id) {
    case INSN_MOVD_IN: case INSN_MOVD_OUT: case INSN_PINSRD: case INSN_PEXTRD:
    case INSN_MOVNTI: case INSN_CRC32:
        return 8;
    default:
        return 16;
    }
}

static uint8_t small_or_random(Rng *r, unsigned small)
{
    return (uint8_t)(rng_below(r, 2) ? rng_below(r, small) : rng_next(r));
}

void gen_insn(Rng *r, SimdInsn *out)
{
    /* One instruction in eight is an invalid encoding. */
    unsigned i = nud && rng_below(r, 8) == 0 ? ud_idx[rng_below(r, nud)]
                                             : valid_idx[rng_below(r, nvalid)];
    const Template *t = &templates[i];
    memset(out, 0, sizeof(*out));
    out->tmpl = (uint16_t)i;
    out->id = t->id;
    out->mem = t->mem;
    uint8_t rex = 0;
    if (rng_below(r, 2))
        rex = (uint8_t)(0x40 | rng_below(r, 16));
    if (t->rexw >= 0)
        rex = (uint8_t)((rex & ~8u) | (t->rexw ? 0x48 : 0));
    if (rex == 0x40 && rng_below(r, 2))
        rex = 0;
    /* LOCK, one time in 64: #UD for every one of these. */
    bool lock = rng_below(r, 64) == 0;
    unsigned reg = t->reg >= 0 ? (unsigned)t->reg : rng_below(r, 8);
    unsigned rm = rng_below(r, 8);
    uint8_t imm = small_or_random(r, 40);
    uint32_t disp = 0;
    if (t->mem) {
        /* Aligned three times in four, anywhere otherwise. */
        unsigned off = 0x100 + rng_below(r, 0xe00);
        if (rng_below(r, 4) || mem_bytes(t) < 16)
            off &= ~15u;
        if (mem_bytes(t) < 16 && rng_below(r, 2))
            off += rng_below(r, 16);
        out->mem_off = (uint16_t)off;
    }
    out->len = (uint8_t)encode(t, rex, reg, rm, 0, imm, out->bytes);
    if (t->mem) {
        uint64_t target = SIMD_BASE + OFF_DATA + out->mem_off;
        uint64_t next = SIMD_BASE + INSN_OFF + out->len;
        disp = (uint32_t)(target - next);
        out->len = (uint8_t)encode(t, rex, reg, rm, disp, imm, out->bytes);
    }
    if (lock) {
        memmove(out->bytes + 1, out->bytes, out->len);
        out->bytes[0] = 0xf0;
        out->len++;
        if (t->mem) {   /* the disp32 is relative to the next instruction */
            size_t at = out->len - 4 - (t->imm ? 1 : 0);
            put_le(out->bytes + at, get_le(out->bytes + at, 4) - 1, 4);
        }
    }
}

/* ---- values ---------------------------------------------------------------- */

static uint64_t special_lane(Rng *r, unsigned size)
{
    uint64_t m = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
    uint64_t sign = 1ull << (8 * size - 1);
    switch (rng_below(r, 8)) {
    case 0: return 0;
    case 1: return m;
    case 2: return sign;
    case 3: return sign - 1;
    case 4: return 1;
    case 5: return (sign + 1) & m;
    case 6: return rng_below(r, 20) & m;
    default: return rng_next(r) & m;
    }
}

/* 16 bytes of one of several shapes. */
static void gen_vector(Rng *r, uint8_t *p)
{
    unsigned style = rng_below(r, 8);
    if (style <= 1) {                                    /* random */
        put_le(p, rng_next(r), 8);
        put_le(p + 8, rng_next(r), 8);
    } else if (style <= 3) {                             /* special lanes */
        unsigned size = 1u << rng_below(r, 4);
        for (unsigned i = 0; i < 16; i += size)
            put_le(p + i, special_lane(r, size), size);
    } else if (style == 4) {                             /* small bytes */
        for (unsigned i = 0; i < 16; i++)
            p[i] = (uint8_t)rng_below(r, 20);
    } else if (style == 5) {                             /* a shift count */
        put_le(p, rng_below(r, 80), 8);
        put_le(p + 8, rng_next(r), 8);
    } else {                                             /* a string */
        static const char alpha[] = "abcAZ09";
        bool words = rng_below(r, 2);
        unsigned zero_at = rng_below(r, 24);
        for (unsigned i = 0; i < 16; i += words ? 2 : 1) {
            unsigned k = i / (words ? 2 : 1);
            uint64_t c = (uint64_t)alpha[rng_below(r, sizeof(alpha) - 1)];
            if (rng_below(r, 16) == 0)
                c |= words ? 0x8000 : 0x80;              /* signed compares */
            put_le(p + i, k == zero_at ? 0 : c, words ? 2 : 1);
        }
    }
}

static uint64_t gen_gpr(Rng *r)
{
    switch (rng_below(r, 6)) {
    case 0: return (uint64_t)((int64_t)rng_below(r, 41) - 20);   /* lengths */
    case 1: return special_lane(r, 1u << rng_below(r, 4));
    case 2: return (uint64_t)(int64_t)(int32_t)(uint32_t)rng_next(r);
    default: return rng_next(r);
    }
}

void gen_state(Rng *r, const SimdInsn *insn, uint8_t *region)
{
    memset(region, 0, SIMD_SIZE);
    uint8_t *ctx = region + OFF_CTX, *fx = ctx + CTX_FX_IN;
    /* x87: random TOP, tags and registers; sometimes a pending unmasked
     * invalid-operation exception (FCW.IM clear, FSW.IE and ES set; B
     * mirrors ES, as FXRSTOR makes it). */
    bool pending = rng_below(r, 32) == 0;
    put_le(fx, pending ? 0x037e : 0x037f, 2);
    put_le(fx + 2, (rng_below(r, 8) << 11) | (pending ? 0x8081 : 0), 2);
    fx[4] = (uint8_t)rng_next(r);
    put_le(fx + 24, 0x1f80, 4);                          /* MXCSR */
    for (int i = 0; i < 8; i++) {
        uint8_t v[16];
        gen_vector(r, v);
        memcpy(fx + 32 + 16 * i, v, 8);
        put_le(fx + 32 + 16 * i + 8, rng_below(r, 4) ? rng_next(r) : 0xffff, 2);
    }
    for (int i = 0; i < 16; i++)
        gen_vector(r, fx + 160 + 16 * i);
    for (int i = 0; i < 16; i++)
        put_le(ctx + CTX_GPR_IN + 8 * i, gen_gpr(r), 8);
    if (insn->id == INSN_MASKMOVQ || insn->id == INSN_MASKMOVDQU)
        put_le(ctx + CTX_GPR_IN + 8 * 7, SIMD_BASE + OFF_DATA + 0x100 +
               rng_below(r, 0xe00), 8);
    put_le(ctx + CTX_FLAGS_IN, 0x2 | (rng_next(r) & 0x8d5), 8);
    for (unsigned i = 0; i < 0x1000; i += 16)
        gen_vector(r, region + OFF_DATA + i);
}

/* ---- the host stub ---------------------------------------------------------- */

typedef struct Emitter {
    uint8_t *code;
    size_t n;
} Emitter;

static void emit(Emitter *e, const uint8_t *b, size_t n)
{
    memcpy(e->code + e->n, b, n);
    e->n += n;
}

/* An instruction whose last four bytes are a RIP-relative disp32 to
 * SIMD_BASE + target. */
static void emit_rip(Emitter *e, const uint8_t *b, size_t n, uint32_t target)
{
    emit(e, b, n);
    uint64_t next = SIMD_BASE + OFF_CODE + e->n + 4;
    put_le(e->code + e->n, (uint32_t)(SIMD_BASE + target - next), 4);
    e->n += 4;
}

/* mov r64, [rip+target] (load) or mov [rip+target], r64 (store). */
static void emit_mov(Emitter *e, unsigned r, bool store, uint32_t target)
{
    uint8_t b[3] = { (uint8_t)(0x48 | (r >= 8 ? 4 : 0)), store ? 0x89 : 0x8b,
                     (uint8_t)(((r & 7) << 3) | 5) };
    emit_rip(e, b, 3, target);
}

size_t gen_stub(const SimdInsn *insn, uint8_t *code)
{
    Emitter e = { code, 0 };
    static const uint8_t pushes[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55,
                                      0x41, 0x56, 0x41, 0x57 };
    emit(&e, pushes, sizeof(pushes));
    emit_mov(&e, 4, true, OFF_CTX + CTX_HOST_RSP);
    emit_rip(&e, (const uint8_t[]){ 0x0f, 0xae, 0x05 }, 3, OFF_CTX + CTX_HOST_FX);
    emit_rip(&e, (const uint8_t[]){ 0x0f, 0xae, 0x0d }, 3, OFF_CTX + CTX_FX_IN);
    emit_rip(&e, (const uint8_t[]){ 0x48, 0x8d, 0x25 }, 3, STACK_TOP);
    emit_rip(&e, (const uint8_t[]){ 0xff, 0x35 }, 2, OFF_CTX + CTX_FLAGS_IN);
    emit(&e, (const uint8_t[]){ 0x9d }, 1);                     /* popfq */
    for (unsigned r = 0; r < 16; r++) {
        if (r != 4)
            emit_mov(&e, r, false, OFF_CTX + CTX_GPR_IN + 8 * r);
    }
    while (e.n < INSN_OFF)
        emit(&e, (const uint8_t[]){ 0x90 }, 1);
    emit(&e, insn->bytes, insn->len);
    for (unsigned r = 0; r < 16; r++)
        emit_mov(&e, r, true, OFF_CTX + CTX_GPR_OUT + 8 * r);
    emit_rip(&e, (const uint8_t[]){ 0x48, 0x8d, 0x25 }, 3, STACK_TOP);
    emit(&e, (const uint8_t[]){ 0x9c }, 1);                     /* pushfq */
    emit_rip(&e, (const uint8_t[]){ 0x8f, 0x05 }, 2, OFF_CTX + CTX_FLAGS_OUT);
    emit_rip(&e, (const uint8_t[]){ 0x0f, 0xae, 0x05 }, 3, OFF_CTX + CTX_FX_OUT);
    emit_rip(&e, (const uint8_t[]){ 0x0f, 0xae, 0x0d }, 3, OFF_CTX + CTX_HOST_FX);
    emit_mov(&e, 4, false, OFF_CTX + CTX_HOST_RSP);
    static const uint8_t pops[] = { 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d,
                                    0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
    emit(&e, pops, sizeof(pops));
    return e.n;
}

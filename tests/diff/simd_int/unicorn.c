/* The MMX / SSE integer harness: where Unicorn 2.0.1 departs from the
 * processor.
 *
 * Unicorn 2.0.1's MMX and SSE integer instructions are QEMU 5.0's
 * (target/i386/translate.c and ops_sse.h).  Each rule below names one of
 * its known departures from the SDM, says when a test meets it, and hands
 * the fields it spoils over to Vireo's values, or keeps the test from
 * Unicorn (see HlUcRule in tests/diff/hostlib/hostlib.h: the driver
 * applies them only where the host agrees with Vireo, and counts what
 * each one masked).
 */
#include "tests/diff/simd_int/simddiff.h"

#include <string.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"

/* Everything the instruction writes, and its fault. */
static bool take_all(const HlCase *c, uint8_t *u, int *uvec)
{
    bool changed = *uvec != c->vvec || memcmp(u, c->v, SIMD_SIZE);
    *uvec = c->vvec;
    memcpy(u, c->v, SIMD_SIZE);
    return changed;
}


/* The instruction's REX prefix, or 0. */
static uint8_t rex_of(void)
{
    for (unsigned i = 0; i < simd_cur.len && simd_cur.bytes[i] != 0x0f; i++)
        if ((simd_cur.bytes[i] & 0xf0) == 0x40)
            return simd_cur.bytes[i];
    return 0;
}

/* The absolute value of an explicit string length register (RAX, RDX of
 * PCMPESTRx: 32 bits, 64 with REX.W), which QEMU 5.0's pcmp_elen
 * truncates to an int before it saturates it to 16 (or 8). */
static uint64_t length_magnitude(const HlCase *c, int reg)
{
    uint64_t r = get_le(c->in + OFF_CTX + CTX_GPR_IN + 8 * reg, 8);
    int64_t v = (rex_of() & 8) ? (int64_t)r : (int64_t)(int32_t)r;
    return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

static bool explicit_lengths(void)
{
    return simd_cur.id == INSN_PCMPESTRI || simd_cur.id == INSN_PCMPESTRM;
}

/* A length whose truncated absolute value is negative (-2^31; with REX.W
 * any value whose absolute value has bit 31 set) makes QEMU 5.0's
 * PCMPESTRI and PCMPESTRM index their operands with a negative length and
 * crash the process: kept from Unicorn. */
static bool pcmpestr_skip(const HlCase *c)
{
    return explicit_lengths() &&
           ((int32_t)(uint32_t)length_magnitude(c, R_AX) < 0 ||
            (int32_t)(uint32_t)length_magnitude(c, R_DX) < 0);
}

/* With REX.W a length of 2^32 or more in absolute value is saturated to
 * 16 (8) by the processor (SDM Vol. 2 PCMPESTRI); QEMU 5.0 uses its low
 * 32 bits. */
static bool pcmpestr_length_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return explicit_lengths() &&
           (length_magnitude(c, R_AX) >> 32 || length_magnitude(c, R_DX) >> 32) &&
           take_all(c, u, uvec);
}

/* QEMU 5.0's "equal ordered" aggregation (PCMPxSTRx imm8[3:2] = 11)
 * compares the substring past the end of the valid elements of the
 * second operand, where the SDM counts a match (Vol. 2 4.1.4). */
static bool equal_ordered_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    uint8_t imm = simd_cur.bytes[simd_cur.len - 1];
    bool pcmpstr = explicit_lengths() || simd_cur.id == INSN_PCMPISTRI ||
                   simd_cur.id == INSN_PCMPISTRM;
    return pcmpstr && ((imm >> 2) & 3) == 3 && take_all(c, u, uvec);
}

/* QEMU 5.0 runs encodings the processor refuses with #UD: memory forms
 * of the register-only groups 0F 71-73, a 66h, F2 or F3 prefix where the
 * row has none (it ignores or reinterprets the prefix). */
static bool accepts_invalid_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return c->vvec == EXC_UD && *uvec != EXC_UD && take_all(c, u, uvec);
}

/* With 66h and F2 or F3 on one instruction QEMU 5.0 takes 66h's row (or
 * raises #UD where it has none); F2 and F3 take precedence (SDM Vol. 2
 * 2.1.2). */
static bool prefix66_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return hl_66_with_f2f3(simd_cur.bytes, simd_cur.len) && take_all(c, u, uvec);
}

static unsigned top_of(const uint8_t *fx)
{
    return (unsigned)(get_le(fx + FX_FSW, 2) >> 11) & 7;
}

/* QEMU 5.0's EMMS leaves TOP, and its SSSE3 instructions on MMX registers
 * (0F 38, 0F 3A) leave TOP and the tags; every MMX instruction sets TOP
 * to 0, all but EMMS every tag valid (SDM Vol. 1 9.5.1).  Takes TOP and
 * the tags, and puts Unicorn's registers in the slots of Vireo's TOP, so
 * that their values are still compared. */
static bool mmx_entry_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    uint8_t *ufx = u + OFF_CTX + CTX_FX_OUT;
    const uint8_t *vfx = c->v + OFF_CTX + CTX_FX_OUT;
    unsigned utop = top_of(ufx), vtop = top_of(vfx);
    if (c->vvec >= 0 || (utop == vtop && ufx[FX_FTW] == vfx[FX_FTW]))
        return false;
    uint8_t regs[8][10];
    for (unsigned i = 0; i < 8; i++)
        memcpy(regs[i], ufx + hl_fx_phys(ufx, i), 10);
    put_le(ufx + FX_FSW, (get_le(ufx + FX_FSW, 2) & ~0x3800ull) | (uint64_t)vtop << 11, 2);
    ufx[FX_FTW] = vfx[FX_FTW];
    for (unsigned i = 0; i < 8; i++)
        memcpy(ufx + hl_fx_phys(ufx, i), regs[i], 10);
    return true;
}

/* QEMU 5.0 writes only the low 64 bits of an MMX register; the processor
 * sets bits 79:64 to all ones (SDM Vol. 1 9.5.1).  Takes the exponent of
 * registers whose significand agrees and whose exponent Vireo set so. */
static bool mmx_exponent_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    (void)uvec;
    uint8_t *ufx = u + OFF_CTX + CTX_FX_OUT;
    const uint8_t *vfx = c->v + OFF_CTX + CTX_FX_OUT;
    bool changed = false;
    for (unsigned i = 0; i < 8; i++) {
        uint8_t *ur = ufx + FX_ST + 16 * i;
        const uint8_t *vr = vfx + FX_ST + 16 * i;
        if (!memcmp(ur, vr, 8) && get_le(vr + 8, 2) == 0xffff && get_le(ur + 8, 2) != 0xffff) {
            memcpy(ur + 8, vr + 8, 2);
            changed = true;
        }
    }
    return changed;
}

/* An SSSE3 instruction on MMX registers (0F 38 or 0F 3A, no 66h)? */
static bool ssse3_mmx(void)
{
    size_t i = 0;
    bool p66 = false;
    while (i < simd_cur.len && simd_cur.bytes[i] != 0x0f)
        p66 |= simd_cur.bytes[i++] == 0x66;
    return !p66 && i + 1 < simd_cur.len &&
           (simd_cur.bytes[i + 1] == 0x38 || simd_cur.bytes[i + 1] == 0x3a);
}

/* QEMU 5.0's SSSE3 instructions on MMX registers take REX.R into the
 * destination's register number (MM8-MM15, outside the register file);
 * the SDM ignores REX.R for MMX registers (Vol. 2 2.2.1.2). */
static bool ssse3_rex_r_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return ssse3_mmx() && (rex_of() & 4) && take_all(c, u, uvec);
}

/* QEMU 5.0's PHADDW, PHADDD, PHADDSW, PHSUBW, PHSUBD and PHSUBSW write
 * the destination's lanes before they read the source's, so with one
 * register as both they add the new lanes. */
static bool horizontal_alias_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    int id = simd_cur.id;
    uint8_t modrm = simd_cur.bytes[simd_cur.len - 1], rex = rex_of();
    unsigned reg = ((modrm >> 3) & 7) | (ssse3_mmx() ? 0 : (rex & 4) << 1);
    unsigned rm = (modrm & 7) | (ssse3_mmx() ? 0 : (rex & 1) << 3);
    bool horizontal = id == INSN_PHADDW || id == INSN_PHADDD || id == INSN_PHADDSW ||
                      id == INSN_PHSUBW || id == INSN_PHSUBD || id == INSN_PHSUBSW;
    return horizontal && !simd_cur.mem && reg == rm && take_all(c, u, uvec);
}

/* QEMU 5.0 raises no #MF for an MMX instruction with an unmasked x87
 * exception pending (SDM Vol. 1 9.6.4). */
static bool no_mf_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return c->vvec == EXC_MF && take_all(c, u, uvec);
}

/* QEMU 5.0 does not check the alignment of legacy SSE m128 operands
 * (SDM Vol. 1 11.4.1: #GP(0) unless 16-byte aligned). */
static bool alignment_rule(const HlCase *c, uint8_t *u, int *uvec)
{
    return c->vvec == EXC_GP && simd_cur.mem && (simd_cur.mem_off & 15) &&
           take_all(c, u, uvec);
}

const HlUcRule simd_uc_rules[] = {
    { "PCMPESTRx negative length (crash)", NULL, pcmpestr_skip },
    { "invalid encoding runs", accepts_invalid_rule, NULL },
    { "66h with F2/F3", prefix66_rule, NULL },
    { "no #MF", no_mf_rule, NULL },
    { "no alignment #GP", alignment_rule, NULL },
    { "SSSE3 MMX REX.R", ssse3_rex_r_rule, NULL },
    { "PHADD/PHSUB aliasing", horizontal_alias_rule, NULL },
    { "PCMPESTRx length >= 2^32", pcmpestr_length_rule, NULL },
    { "PCMPxSTRx equal ordered", equal_ordered_rule, NULL },
    { "MMX TOP/tags not set", mmx_entry_rule, NULL },
    { "MMX exponent not set", mmx_exponent_rule, NULL },
    { NULL, NULL, NULL },
};

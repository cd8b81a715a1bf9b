/* Portable IEEE 754 binary32/binary64 arithmetic with the x86 SSE rules
 * (IEEE 754-2008 sections 4-7; SDM Vol. 1 4.8, 4.9, 10.2.3, 11.5).
 *
 * What is x86-specific, and why it is here rather than in the handlers:
 *  - MXCSR (Vol. 1 10.2.3): the rounding control, the six sticky flags and
 *    their masks, DAZ (denormal operands read as zeros of the same sign,
 *    without DE) and FTZ (with underflow masked, tiny results become zeros
 *    of the same sign and raise UE and PE);
 *  - underflow (Vol. 1 4.9.1.5): tininess is detected after rounding (the
 *    result rounded to the format's precision with an unbounded exponent
 *    lies strictly inside (-2^emin, 2^emin)), for UE and FTZ alike; with
 *    underflow masked UE is raised only when the result is also inexact,
 *    unmasked it is raised for every tiny result (Vol. 1 4.9.1.5, last
 *    paragraphs);
 *  - an unmasked overflow or underflow stores nothing (#XM follows) and
 *    sets PE only if the significand itself had to be rounded, not for the
 *    loss of the result; masked, both come with PE (Vol. 1 4.9.1.4-5; the
 *    hardware behaviour, checked by tests/diff/sse against the host);
 *  - NaNs (Vol. 1 4.8.3.5, Table 4-7, the SSE column): an SNaN operand
 *    raises IE and is quieted; with two NaN operands the first source
 *    (the destination register of legacy SSE) wins; the masked response to
 *    an invalid operation is the QNaN floating-point indefinite
 *    (0xFFC00000, 0xFFF8000000000000);
 *  - exception priority (Vol. 1 4.9.2): SNaN invalid, then QNaN operands,
 *    then other invalid and divide-by-zero, then denormal operand (DE),
 *    then overflow/underflow and precision; an operation with a NaN operand
 *    reports neither DE nor anything after it;
 *  - integer results out of range, NaN or infinite: IE and the "integer
 *    indefinite" 0x80000000 / 0x8000000000000000 (Vol. 1 4.8.3.8).
 *
 * Values are carried as raw bit patterns in uint64_t (binary32 in the low
 * 32 bits).  Everything is integer arithmetic (unsigned __int128 for the
 * wide products and quotients), so results are identical on every host,
 * whatever its FPU does with denormals, NaN payloads or excess precision.
 */
#ifndef VIREO_CPU_SSE_SOFTFLOAT_H
#define VIREO_CPU_SSE_SOFTFLOAT_H

#include <stdbool.h>
#include <stdint.h>

/* Exception flags at their MXCSR (and FSW) bit positions. */
enum {
    SF_IE = 1u << 0, SF_DE = 1u << 1, SF_ZE = 1u << 2, SF_OE = 1u << 3,
    SF_UE = 1u << 4, SF_PE = 1u << 5, SF_ALL = 0x3f,
    /* Detected before the result is computed (Vol. 1 11.5.3). */
    SF_PRECOMP = SF_IE | SF_DE | SF_ZE,
};

/* Rounding control, as MXCSR.RC and FCW.RC encode it (Vol. 1 Table 4-8). */
enum { SF_RC_NEAREST = 0, SF_RC_DOWN = 1, SF_RC_UP = 2, SF_RC_ZERO = 3 };

/* MXCSR fields (Vol. 1 Figure 10-3). */
#define MXCSR_FLAGS 0x3fu
#define MXCSR_DAZ (1u << 6)
#define MXCSR_MASK_SHIFT 7
#define MXCSR_RC_SHIFT 13
#define MXCSR_FTZ (1u << 15)

/* The environment of one instruction and the flags it raised. */
typedef struct SfEnv {
    uint8_t rc;       /* SF_RC_* */
    uint8_t masks;    /* SF_* bits, 1 = masked */
    bool daz, ftz;
    uint8_t flags;    /* SF_* raised so far (accumulated over all lanes) */
} SfEnv;

static inline SfEnv sf_env(uint32_t mxcsr)
{
    SfEnv e = {
        .rc = (uint8_t)((mxcsr >> MXCSR_RC_SHIFT) & 3),
        .masks = (uint8_t)((mxcsr >> MXCSR_MASK_SHIFT) & SF_ALL),
        .daz = (mxcsr & MXCSR_DAZ) != 0,
        .ftz = (mxcsr & MXCSR_FTZ) != 0,
        .flags = 0,
    };
    return e;
}

typedef enum SfFormat { SF_F32 = 0, SF_F64 = 1 } SfFormat;

#define SF32_DEFAULT_NAN 0xffc00000u
#define SF64_DEFAULT_NAN 0xfff8000000000000ull

/* ---- arithmetic (softfloat.c); a is the first source --------------------- */
uint64_t sf_add(SfFormat f, SfEnv *e, uint64_t a, uint64_t b);
uint64_t sf_sub(SfFormat f, SfEnv *e, uint64_t a, uint64_t b);
uint64_t sf_mul(SfFormat f, SfEnv *e, uint64_t a, uint64_t b);
uint64_t sf_div(SfFormat f, SfEnv *e, uint64_t a, uint64_t b);
uint64_t sf_sqrt(SfFormat f, SfEnv *e, uint64_t a);

/* MINPS/MAXPS semantics (Vol. 2 MINPS): a NaN in either operand, or two
 * zeros, return b (the second, source operand) unchanged; any NaN raises
 * IE, a QNaN included. */
uint64_t sf_min(SfFormat f, SfEnv *e, uint64_t a, uint64_t b);
uint64_t sf_max(SfFormat f, SfEnv *e, uint64_t a, uint64_t b);

/* Relation of a to b.  `signaling`: any NaN raises IE (COMISS, CMPLTPS);
 * otherwise only an SNaN does (UCOMISS, CMPEQPS). */
enum { SF_LT, SF_EQ, SF_GT, SF_UN };
int sf_compare(SfFormat f, SfEnv *e, uint64_t a, uint64_t b, bool signaling);

/* CMPPS predicate 0-7 (Vol. 2 CMPPS, Table 3-1): all ones if true. */
uint64_t sf_cmp_predicate(SfFormat f, SfEnv *e, uint64_t a, uint64_t b,
                          unsigned pred);

/* ---- conversions and rounding (softfloat_cvt.c) -------------------------- */
/* Signed integer to float, rounded by e->rc. */
uint64_t sf_from_int(SfFormat f, SfEnv *e, int64_t v);
/* Float to a signed integer of `bits` (32 or 64), rounded by e->rc or
 * truncated; the result's two's-complement bits. */
uint64_t sf_to_int(SfFormat f, SfEnv *e, uint64_t a, unsigned bits,
                   bool truncate);
/* binary32 <-> binary64. */
uint64_t sf_convert(SfFormat to, SfFormat from, SfEnv *e, uint64_t a);
/* ROUNDPS: round to an integral value by `rc`; `suppress_pe` is imm8[3]. */
uint64_t sf_round_int(SfFormat f, SfEnv *e, uint64_t a, unsigned rc,
                      bool suppress_pe);
/* RCPPS/RSQRTPS approximations (implementation-specific: see the .c). */
uint32_t sf_rcp32(const SfEnv *e, uint32_t a);
uint32_t sf_rsqrt32(const SfEnv *e, uint32_t a);

/* ---- helpers shared by softfloat*.c -------------------------------------- */
typedef struct SfFmt {
    unsigned frac;    /* stored fraction bits: 23, 52 */
    unsigned width;   /* 32, 64 */
    int32_t bias;     /* 127, 1023 */
} SfFmt;

extern const SfFmt sf_formats[2];

enum { SFC_ZERO, SFC_FINITE, SFC_INF, SFC_QNAN, SFC_SNAN };

/* An unpacked operand; finite values are sig × 2^(exp - 63) with bit 63 of
 * sig set. */
typedef struct SfParts {
    uint8_t cls;      /* SFC_* */
    bool sign;
    bool denormal;    /* a denormal operand read without DAZ: DE */
    int32_t exp;
    uint64_t sig;
} SfParts;

SfParts sf_unpack(const SfFmt *f, const SfEnv *e, uint64_t a);
/* Round sign × sig × 2^(exp - 63) (sig need not be normalized; its low
 * bits act as sticky bits) to the format, by e->rc, raising OE, UE, PE and
 * applying FTZ. */
uint64_t sf_round_pack(const SfFmt *f, SfEnv *e, bool sign, int32_t exp,
                       uint64_t sig);
uint64_t sf_pack_zero(const SfFmt *f, bool sign);
uint64_t sf_pack_inf(const SfFmt *f, bool sign);
uint64_t sf_default_nan(const SfFmt *f);
uint64_t sf_quiet(const SfFmt *f, uint64_t a);
bool sf_round_up(unsigned rc, bool sign, bool lsb, uint64_t rem, uint64_t half);

static inline bool sf_is_nan_class(unsigned cls)
{
    return cls == SFC_QNAN || cls == SFC_SNAN;
}

#endif

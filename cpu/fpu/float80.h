/* A portable software implementation of the x87 80-bit double extended
 * precision format (IEEE 754-1985 "double extended", IEEE 754-2008 3.7
 * extended formats) with the x87 twists of the SDM Vol. 1:
 *
 *  - 4.2.2 / 8.2: the explicit integer bit J; unnormals, pseudo-NaNs and
 *    pseudo-infinities (exponent non-zero, J = 0) are "unsupported" and
 *    raise #IA; pseudo-denormals (exponent 0, J = 1) are accepted as
 *    denormals (Vol. 1 8.2.2, Table 8-3);
 *  - 4.8.3 / Table 4-7: NaN propagation (the larger significand wins, a
 *    QNaN beats an SNaN, the result is quiet);
 *  - 8.1.5.2: precision control rounds the significand of FADD, FSUB, FMUL,
 *    FDIV and FSQRT to 24, 53 or 64 bits but keeps the full exponent range;
 *  - 4.9.1 and 8.5: the six exceptions and their masked responses,
 *    underflow detected after rounding and reported, when masked, only if
 *    the result is also inexact; unmasked overflow and underflow with a
 *    register destination deliver the result with the exponent adjusted by
 *    24576 (Vol. 1 8.5.4, 8.5.5);
 *  - C1 reports whether the last rounding increased the magnitude
 *    (Vol. 1 8.1.3.1).
 *
 * Nothing here uses the host FPU or `long double`: the results are the same
 * on every host.  Wide intermediates use `unsigned __int128` (GCC and Clang
 * provide it on x86-64 and AArch64).
 */
#ifndef VIREO_CPU_FPU_FLOAT80_H
#define VIREO_CPU_FPU_FLOAT80_H

#include <stdbool.h>
#include <stdint.h>

/* One register: 64-bit significand with the explicit integer bit at bit 63,
 * sign in bit 15 of `se`, the biased exponent (bias 16383) in bits 0-14. */
typedef struct Float80 {
    uint64_t sig;
    uint16_t se;
} Float80;

#define F80_BIAS 16383
#define F80_EXP_MAX 0x7fff
#define F80_QUIET_BIT (1ull << 62)
#define F80_J_BIT (1ull << 63)

/* Exception flags, at their FSW bit positions (Vol. 1 8.1.3). */
enum {
    FP_IE = 1u << 0, FP_DE = 1u << 1, FP_ZE = 1u << 2, FP_OE = 1u << 3,
    FP_UE = 1u << 4, FP_PE = 1u << 5, FP_ALL = 0x3f,
};

/* FCW.RC (Vol. 1 4.8.4, Table 4-8). */
enum { FP_RC_NEAREST = 0, FP_RC_DOWN = 1, FP_RC_UP = 2, FP_RC_ZERO = 3 };

/* The rounding environment and the sticky results of one operation. */
typedef struct FpStatus {
    uint8_t rc;      /* FP_RC_* */
    uint8_t prec;    /* significand bits the result is rounded to: 24/53/64 */
    uint8_t mask;    /* FCW exception masks (FP_* positions, 1 = masked) */
    uint8_t flags;   /* exceptions raised so far (FP_*) */
    uint8_t c1;      /* the last rounding increased the magnitude */
} FpStatus;

static inline FpStatus fp_status(unsigned rc, unsigned prec, unsigned mask)
{
    FpStatus st = { (uint8_t)rc, (uint8_t)prec, (uint8_t)mask, 0, 0 };
    return st;
}

typedef enum FpClass {
    FC_ZERO, FC_DENORMAL, FC_NORMAL, FC_INF, FC_QNAN, FC_SNAN,
    FC_UNSUPPORTED,   /* unnormal, pseudo-NaN, pseudo-infinity */
} FpClass;

static inline bool f80_sign(Float80 a) { return a.se >> 15; }
static inline unsigned f80_exp(Float80 a) { return a.se & 0x7fff; }
static inline Float80 f80_make(bool sign, unsigned exp, uint64_t sig)
{
    Float80 r = { sig, (uint16_t)((sign ? 0x8000u : 0) | (exp & 0x7fff)) };
    return r;
}
static inline Float80 f80_neg(Float80 a) { a.se ^= 0x8000; return a; }
static inline Float80 f80_abs(Float80 a) { a.se &= 0x7fff; return a; }
static inline bool f80_is_nan(Float80 a)
{
    return f80_exp(a) == F80_EXP_MAX && (a.sig & F80_J_BIT) && (a.sig << 1);
}

FpClass f80_class(Float80 a);

/* The QNaN "real indefinite" (Vol. 1 4.8.3.7): the masked response to an
 * invalid operation. */
extern const Float80 f80_indefinite;
extern const Float80 f80_zero, f80_one;

/* Round sign × (hi:lo / 2^127) × 2^exp, exp unbiased (so with hi's bit 63
 * set the value is 1.xxx × 2^exp), to st->prec bits in the extended
 * exponent range, raising OE/UE/PE and setting c1.  hi:lo is normalized here
 * if needed; zero gives a zero of the given sign. */
Float80 f80_round_pack(FpStatus *st, bool sign, int32_t exp, uint64_t hi,
                       uint64_t lo);

/* ---- arithmetic (rounded to st->prec) ---------------------------------- */
Float80 f80_add(FpStatus *st, Float80 a, Float80 b);
Float80 f80_sub(FpStatus *st, Float80 a, Float80 b);
Float80 f80_mul(FpStatus *st, Float80 a, Float80 b);
Float80 f80_div(FpStatus *st, Float80 a, Float80 b);
Float80 f80_sqrt(FpStatus *st, Float80 a);

/* ---- always 64-bit precision ------------------------------------------- */
/* FRNDINT: round to an integral value by st->rc. */
Float80 f80_round_int(FpStatus *st, Float80 a);
/* FSCALE: a × 2^trunc(b). */
Float80 f80_scale(FpStatus *st, Float80 a, Float80 b);
/* FXTRACT: a = sig × 2^exp with 1 <= |sig| < 2 (Vol. 2 FXTRACT). */
void f80_xtract(FpStatus *st, Float80 a, Float80 *exp, Float80 *sig);
/* FPREM (nearest = false, quotient truncated) and FPREM1 (nearest = true,
 * IEEE remainder).  `*q` gets the low three quotient bits, `*partial` is
 * set when the exponents are 64 or more apart and only a partial remainder
 * was computed (Vol. 2 FPREM: N = 32). */
Float80 f80_rem(FpStatus *st, Float80 a, Float80 b, bool nearest,
                unsigned *q, bool *partial);
/* *q for a NaN or invalid result (C0 and C3 are left alone). */
#define FP_REM_NO_QUOTIENT 8u

/* Comparison results in x87 condition-code order. */
enum { FP_CMP_LESS, FP_CMP_EQUAL, FP_CMP_GREATER, FP_CMP_UNORDERED };
/* quiet: only SNaNs raise IE (FUCOM); otherwise any NaN does (FCOM). */
int f80_compare(FpStatus *st, Float80 a, Float80 b, bool quiet);

/* ---- conversions (cpu/fpu/float80_conv.c) ------------------------------ */
Float80 f80_from_int(int64_t v);
/* Round to a signed integer of `bits` (16, 32, 64) by st->rc, or by
 * truncation; out of range, NaN, infinity: IE and the integer indefinite
 * (only the sign bit set). */
int64_t f80_to_int(FpStatus *st, Float80 a, unsigned bits, bool truncate);
Float80 f80_from_f32(FpStatus *st, uint32_t v);
Float80 f80_from_f64(FpStatus *st, uint64_t v);
/* Round to binary32/binary64 (their exponent ranges, RC, not PC). */
uint32_t f80_to_f32(FpStatus *st, Float80 a);
uint64_t f80_to_f64(FpStatus *st, Float80 a);
/* Packed BCD (Vol. 1 4.7): 18 digits, sign in bit 7 of byte 9. */
Float80 f80_from_bcd(const uint8_t bcd[10]);
void f80_to_bcd(FpStatus *st, Float80 a, uint8_t bcd[10]);

/* ---- transcendental functions (cpu/fpu/float80_trans.c) --------------------
 * Computed in 128-bit fixed point and rounded once to 64 bits by st->rc.
 * The sine/cosine/tangent functions return false, changing nothing, when
 * |x| >= 2^63 (the x87 sets C2 and leaves the operand, Vol. 2 FSIN). */
Float80 f80_f2xm1(FpStatus *st, Float80 x);
Float80 f80_yl2x(FpStatus *st, Float80 x, Float80 y);
Float80 f80_yl2xp1(FpStatus *st, Float80 x, Float80 y);
Float80 f80_atan2(FpStatus *st, Float80 y, Float80 x);
/* sin into *sin with its status in st, cos into *cos with its status in
 * st_cos (st_cos is overwritten). */
bool f80_sincos(FpStatus *st, FpStatus *st_cos, Float80 x, Float80 *sin,
                Float80 *cos);
bool f80_tan(FpStatus *st, Float80 x, Float80 *tan);

/* ---- helpers shared by the float80 files -------------------------------- */
typedef struct F80Parts {
    bool sign;
    int32_t exp;     /* unbiased */
    uint64_t sig;    /* normalized: bit 63 set (unless the value is zero) */
} F80Parts;

/* Finite, non-zero operand (normal, denormal or pseudo-denormal). */
F80Parts f80_unpack(Float80 a);
/* NaN operand(s) → the quieted NaN of Table 4-7, IE for an SNaN. */
Float80 f80_propagate_nan(FpStatus *st, Float80 a, Float80 b);
Float80 f80_quiet(Float80 a);

/* Generic rounding to `prec` bits with an exponent range [emin, emax]
 * (unbiased, of normal numbers) for the narrow formats too.  Returns the
 * rounded significand (integer bit at 63, zero for a zero result) and sets
 * *exp_out (biased by `bias`; 0 for denormals and zero, `bias + emax + 1`
 * for infinity).  `adjust` is the exponent bias adjustment of an unmasked
 * overflow/underflow (24576 for a register destination, 0 when the caller
 * discards the result). */
uint64_t fp_round(FpStatus *st, bool sign, int32_t exp, uint64_t hi,
                  uint64_t lo, unsigned prec, int32_t emin, int32_t emax,
                  int32_t bias, int32_t adjust, int32_t *exp_out);

static inline unsigned fp_clz64(uint64_t v)
{
    return v ? (unsigned)__builtin_clzll(v) : 64;
}

#endif

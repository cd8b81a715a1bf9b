/* Conversions between the 80-bit extended format and integers, binary32,
 * binary64 and packed BCD.
 *
 * SDM Vol. 1 4.2 (the formats), 4.7 (BCD), 4.8.3.7 (the integer, BCD and
 * real indefinites stored as masked responses to #IA), 4.9.1 (numeric
 * exceptions of conversions), and the Vol. 2 pages of FLD, FST/FSTP,
 * FILD, FIST/FISTP, FISTTP, FBLD and FBSTP.  Narrowing to binary32/64 rounds
 * by RC in that format's own exponent range (IEEE 754 5.4.2); precision
 * control does not apply to stores.
 */
#include "cpu/fpu/float80.h"

Float80 f80_from_int(int64_t v)
{
    if (v == 0)
        return f80_zero;
    bool sign = v < 0;
    uint64_t mag = sign ? 0 - (uint64_t)v : (uint64_t)v;
    unsigned s = fp_clz64(mag);
    return f80_make(sign, (unsigned)(F80_BIAS + 63 - (int)s), mag << s);
}

int64_t f80_to_int(FpStatus *st, Float80 a, unsigned bits, bool truncate)
{
    const int64_t indefinite = (int64_t)(~0ull << (bits - 1));
    st->c1 = 0;
    switch (f80_class(a)) {
    case FC_ZERO:
        return 0;
    case FC_DENORMAL:   /* no #D for a store (as processors do) */
    case FC_NORMAL:
        break;
    default:   /* NaN, infinity, unsupported */
        st->flags |= FP_IE;
        return indefinite;
    }
    F80Parts p = f80_unpack(a);
    unsigned rc = truncate ? FP_RC_ZERO : st->rc;
    uint64_t mag;
    bool inexact, up = false;
    if (p.exp >= 64) {
        st->flags |= FP_IE;
        return indefinite;
    }
    if (p.exp < 0) {
        bool one;
        switch (rc) {
        case FP_RC_NEAREST: one = p.exp == -1 && p.sig > F80_J_BIT; break;
        case FP_RC_DOWN: one = p.sign; break;
        case FP_RC_UP: one = !p.sign; break;
        default: one = false; break;
        }
        mag = one;
        inexact = true;
        up = one;
    } else {
        unsigned drop = (unsigned)(63 - p.exp);
        uint64_t frac = drop ? p.sig << (64 - drop) : 0;
        mag = drop ? p.sig >> drop : p.sig;
        inexact = frac != 0;
        bool inc = false;
        if (inexact) {
            switch (rc) {
            case FP_RC_NEAREST:
                inc = frac > (1ull << 63) || (frac == (1ull << 63) && (mag & 1));
                break;
            case FP_RC_DOWN: inc = p.sign; break;
            case FP_RC_UP: inc = !p.sign; break;
            default: break;
            }
        }
        if (inc) {
            mag++;
            up = true;
            if (mag == 0) {   /* 2^64: out of every range */
                st->flags |= FP_IE;
                return indefinite;
            }
        }
    }
    uint64_t limit = 1ull << (bits - 1);   /* |min| */
    if (mag > limit || (mag == limit && !p.sign)) {
        st->flags |= FP_IE;
        return indefinite;
    }
    if (inexact)
        st->flags |= FP_PE;
    st->c1 = up;
    return p.sign ? (int64_t)(0 - mag) : (int64_t)mag;
}

/* ---- binary32 / binary64 -------------------------------------------------- */

typedef struct NarrowFormat {
    unsigned frac_bits;   /* 23 or 52 */
    unsigned exp_bits;    /* 8 or 11 */
    int32_t bias;         /* 127 or 1023 */
} NarrowFormat;

static const NarrowFormat fmt32 = { 23, 8, 127 };
static const NarrowFormat fmt64 = { 52, 11, 1023 };

static Float80 widen(FpStatus *st, uint64_t v, const NarrowFormat *f)
{
    bool sign = (v >> (f->frac_bits + f->exp_bits)) & 1;
    uint32_t emax_field = (1u << f->exp_bits) - 1;
    uint32_t e = (uint32_t)(v >> f->frac_bits) & emax_field;
    uint64_t frac = v & ((1ull << f->frac_bits) - 1);
    unsigned up = 63 - f->frac_bits;   /* frac's top bit lands on bit 62 */
    if (e == emax_field) {
        if (frac == 0)
            return f80_make(sign, F80_EXP_MAX, F80_J_BIT);
        if (!(frac >> (f->frac_bits - 1)))
            st->flags |= FP_IE;   /* SNaN: converted to a QNaN */
        return f80_make(sign, F80_EXP_MAX, F80_J_BIT | F80_QUIET_BIT | (frac << up));
    }
    if (e == 0) {
        if (frac == 0)
            return f80_make(sign, 0, 0);
        st->flags |= FP_DE;
        unsigned s = fp_clz64(frac);
        /* value = frac × 2^(1 - bias - frac_bits) */
        int32_t exp = 63 - (int32_t)s + 1 - f->bias - (int32_t)f->frac_bits;
        return f80_make(sign, (unsigned)(exp + F80_BIAS), frac << s);
    }
    return f80_make(sign, (unsigned)((int32_t)e - f->bias + F80_BIAS),
                    F80_J_BIT | (frac << up));
}

Float80 f80_from_f32(FpStatus *st, uint32_t v)
{
    return widen(st, v, &fmt32);
}

Float80 f80_from_f64(FpStatus *st, uint64_t v)
{
    return widen(st, v, &fmt64);
}

static uint64_t narrow(FpStatus *st, Float80 a, const NarrowFormat *f)
{
    uint64_t sign = (uint64_t)f80_sign(a) << (f->frac_bits + f->exp_bits);
    uint64_t inf = (uint64_t)((1u << f->exp_bits) - 1) << f->frac_bits;
    uint64_t qbit = 1ull << (f->frac_bits - 1);
    unsigned down = 63 - f->frac_bits;
    st->c1 = 0;
    switch (f80_class(a)) {
    case FC_UNSUPPORTED:
        st->flags |= FP_IE;
        return (1ull << (f->frac_bits + f->exp_bits)) | inf | qbit;
    case FC_SNAN:
        st->flags |= FP_IE;
        /* fall through */
    case FC_QNAN:
        return sign | inf | qbit | ((a.sig & ~F80_J_BIT) >> down);
    case FC_INF:
        return sign | inf;
    case FC_ZERO:
        return sign;
    default:
        /* A denormal source raises no #D here (processors don't): it
         * simply underflows. */
        break;
    }
    F80Parts p = f80_unpack(a);
    int32_t e;
    int32_t emax = f->bias;
    uint64_t sig = fp_round(st, p.sign, p.exp, p.sig, 0, f->frac_bits + 1,
                            1 - emax, emax, f->bias, 0, &e);
    if (sig == 0)
        return sign;
    uint64_t field = (uint64_t)((uint32_t)e & ((1u << f->exp_bits) - 1));
    return sign | (field << f->frac_bits) |
           ((sig >> down) & ((1ull << f->frac_bits) - 1));
}

uint32_t f80_to_f32(FpStatus *st, Float80 a)
{
    return (uint32_t)narrow(st, a, &fmt32);
}

uint64_t f80_to_f64(FpStatus *st, Float80 a)
{
    return narrow(st, a, &fmt64);
}

/* ---- packed BCD ----------------------------------------------------------- */

Float80 f80_from_bcd(const uint8_t bcd[10])
{
    /* Invalid digits (A-F) give undefined results (Vol. 2 FBLD); they are
     * weighted as their binary value, like the digits. */
    uint64_t v = 0;
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (uint64_t)(bcd[i] >> 4) * 10 + (bcd[i] & 15);
    Float80 r = f80_from_int((int64_t)v);
    if (bcd[9] & 0x80)
        r = f80_neg(r);
    return r;
}

void f80_to_bcd(FpStatus *st, Float80 a, uint8_t bcd[10])
{
    FpStatus s = *st;
    int64_t v = f80_to_int(&s, a, 64, false);
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if ((s.flags & FP_IE) || mag > 999999999999999999ull) {
        /* The packed BCD indefinite (Vol. 1 4.7, Table 4-4). */
        st->flags |= FP_IE;
        st->c1 = 0;
        for (int i = 0; i < 7; i++)
            bcd[i] = 0;
        bcd[7] = 0xc0;
        bcd[8] = bcd[9] = 0xff;
        return;
    }
    st->flags = s.flags;
    st->c1 = s.c1;
    for (int i = 0; i < 9; i++) {
        unsigned lo = (unsigned)(mag % 10);
        mag /= 10;
        unsigned hi = (unsigned)(mag % 10);
        mag /= 10;
        bcd[i] = (uint8_t)(hi << 4 | lo);
    }
    bcd[9] = f80_sign(a) ? 0x80 : 0;
}

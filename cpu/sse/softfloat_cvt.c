/* SSE conversions and rounding to integral values (SDM Vol. 2 CVT*,
 * ROUNDPS; Vol. 1 4.8.3.8 integer indefinite; IEEE 754-2008 5.4.1, 5.8,
 * 5.9), and the RCPPS/RSQRTPS approximations.
 */
#include "cpu/sse/softfloat.h"

uint64_t sf_from_int(SfFormat fm, SfEnv *e, int64_t v)
{
    const SfFmt *f = &sf_formats[fm];
    if (v == 0)
        return sf_pack_zero(f, false);
    bool sign = v < 0;
    uint64_t mag = sign ? 0 - (uint64_t)v : (uint64_t)v;
    return sf_round_pack(f, e, sign, 63, mag);
}

/* The integer part of a finite |value| = sig × 2^(exp-63), and what is
 * below the binary point, left-aligned in *rem (0.5 = bit 63; any value
 * below 0.5 reads as 1 so it still counts as inexact). */
static uint64_t split_integer(int32_t exp, uint64_t sig, uint64_t *rem)
{
    if (exp < 0) {
        *rem = exp == -1 ? sig : 1;
        return 0;
    }
    if (exp >= 63) {
        *rem = 0;
        return exp == 63 ? sig : 0;   /* exp > 63: the caller saw it */
    }
    *rem = sig << (exp + 1);
    return sig >> (63 - exp);
}

uint64_t sf_to_int(SfFormat fm, SfEnv *e, uint64_t a, unsigned bits,
                   bool truncate)
{
    const SfFmt *f = &sf_formats[fm];
    SfParts p = sf_unpack(f, e, a);
    const uint64_t indefinite = 1ull << (bits - 1);
    /* No DE for conversions to integers: the SDM lists only IE and PE. */
    if (p.cls == SFC_ZERO)
        return 0;
    if (p.cls != SFC_FINITE || p.exp > 63) {
        e->flags |= SF_IE;
        return indefinite;
    }
    uint64_t rem, ipart = split_integer(p.exp, p.sig, &rem);
    unsigned rc = truncate ? SF_RC_ZERO : e->rc;
    if (sf_round_up(rc, p.sign, ipart & 1, rem, 1ull << 63))
        ipart++;   /* cannot wrap: exp = 63 has rem = 0 */
    uint64_t limit = p.sign ? indefinite : indefinite - 1;
    if (ipart > limit) {
        e->flags |= SF_IE;
        return indefinite;
    }
    if (rem)
        e->flags |= SF_PE;
    uint64_t r = p.sign ? 0 - ipart : ipart;
    return bits == 32 ? r & 0xffffffffu : r;
}

uint64_t sf_convert(SfFormat to, SfFormat from, SfEnv *e, uint64_t a)
{
    const SfFmt *ft = &sf_formats[to], *ff = &sf_formats[from];
    SfParts p = sf_unpack(ff, e, a);
    switch (p.cls) {
    case SFC_QNAN: case SFC_SNAN: {
        /* The payload keeps its top bits: binary32's 22 below the quiet
         * bit sit at the top of binary64's 51 (Vol. 1 4.8.3.5). */
        if (p.cls == SFC_SNAN)
            e->flags |= SF_IE;
        uint64_t frac = a & ((1ull << ff->frac) - 1);
        frac = to == SF_F64 ? frac << (ft->frac - ff->frac)
                            : frac >> (ff->frac - ft->frac);
        return sf_quiet(ft, sf_pack_inf(ft, p.sign) | frac);
    }
    case SFC_INF:
        return sf_pack_inf(ft, p.sign);
    case SFC_ZERO:
        return sf_pack_zero(ft, p.sign);
    default:
        if (p.denormal)
            e->flags |= SF_DE;
        return sf_round_pack(ft, e, p.sign, p.exp, p.sig);
    }
}

uint64_t sf_round_int(SfFormat fm, SfEnv *e, uint64_t a, unsigned rc,
                      bool suppress_pe)
{
    const SfFmt *f = &sf_formats[fm];
    SfParts p = sf_unpack(f, e, a);
    if (sf_is_nan_class(p.cls)) {
        if (p.cls == SFC_SNAN)
            e->flags |= SF_IE;
        return sf_quiet(f, a);
    }
    if (p.cls == SFC_ZERO)
        return sf_pack_zero(f, p.sign);    /* a denormal under DAZ too */
    if (p.cls == SFC_INF || p.exp >= (int32_t)f->frac)
        return a;                          /* already integral */
    /* ROUNDPS signals no DE (Vol. 2 ROUNDPS, "SIMD Floating-Point
     * Exceptions"). */
    uint64_t rem, ipart = split_integer(p.exp, p.sig, &rem);
    if (sf_round_up(rc, p.sign, ipart & 1, rem, 1ull << 63))
        ipart++;
    if (rem && !suppress_pe)
        e->flags |= SF_PE;
    if (!ipart)
        return sf_pack_zero(f, p.sign);    /* -0.3 rounds to -0 */
    return sf_round_pack(f, e, p.sign, 63, ipart);   /* exact */
}

/* RCPPS/RSQRTPS (Vol. 2 RCPPS): the SDM only bounds the relative error by
 * 1.5 × 2^-12, and processors differ in the bits they return.  Vireo's
 * approximation is deterministic and far inside that bound: the exact
 * value rounded to nearest at full precision (RSQRT: 1/sqrt(x) evaluated in
 * binary64, then rounded to binary32), whatever MXCSR.RC says.  As the SDM
 * requires: no exception is ever raised or flagged, a denormal source is
 * read as a zero of its sign whatever MXCSR.DAZ says, tiny results are
 * always flushed to a zero of the operand's sign, a zero gives an infinity
 * of its sign, +inf gives +0, a NaN is returned quieted, and RSQRT of a
 * negative non-zero value is the QNaN indefinite. */
static SfEnv approx_env(const SfEnv *e)
{
    SfEnv s = { SF_RC_NEAREST, SF_ALL, true, true, 0 };
    (void)e;
    return s;
}

uint32_t sf_rcp32(const SfEnv *e, uint32_t a)
{
    SfEnv s = approx_env(e);
    const SfFmt *f = &sf_formats[SF_F32];
    SfParts p = sf_unpack(f, &s, a);
    if (sf_is_nan_class(p.cls))
        return (uint32_t)sf_quiet(f, a);
    /* The SDM leaves inputs near 2^126 to the implementation; Vireo calls
     * every result at or below 2^-126 tiny, so |a| >= 2^126 gives zero. */
    if (p.cls == SFC_FINITE && p.exp >= 126)
        return (uint32_t)sf_pack_zero(f, p.sign);
    return (uint32_t)sf_div(SF_F32, &s, 0x3f800000u, p.cls == SFC_ZERO ?
                            sf_pack_zero(f, p.sign) : a);
}

uint32_t sf_rsqrt32(const SfEnv *e, uint32_t a)
{
    SfEnv s = approx_env(e);
    const SfFmt *f = &sf_formats[SF_F32];
    SfParts p = sf_unpack(f, &s, a);
    switch (p.cls) {
    case SFC_QNAN: case SFC_SNAN:
        return (uint32_t)sf_quiet(f, a);
    case SFC_ZERO:
        return (uint32_t)sf_pack_inf(f, p.sign);
    case SFC_INF:
        return p.sign ? SF32_DEFAULT_NAN : 0;
    default:
        break;
    }
    if (p.sign)
        return SF32_DEFAULT_NAN;
    uint64_t d = sf_convert(SF_F64, SF_F32, &s, a);
    d = sf_div(SF_F64, &s, 0x3ff0000000000000ull, sf_sqrt(SF_F64, &s, d));
    return (uint32_t)sf_convert(SF_F32, SF_F64, &s, d);
}

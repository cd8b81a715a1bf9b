/* Transcendental functions for the x87: 2^x - 1, y·log2(x), y·log2(x+1),
 * atan2, sin, cos, tan.
 *
 * SDM Vol. 2 pages F2XM1, FYL2X, FYL2XP1, FPATAN, FSIN, FCOS, FSINCOS,
 * FPTAN (the special-value tables are followed case by case); Vol. 1
 * 8.3.10 (accuracy: within one ulp) and 8.3.8 (the reduction constant).
 * The numerics are ours: an internal floating format with a 128-bit
 * significand ("Xf"), series after halving or range reduction (expm1 by
 * repeated halving, 2·atanh for logarithms, atan by the half-angle
 * formula, Taylor series for sin and cos), and one final rounding to 64
 * bits by RC, so results are correctly rounded except within ~2^-120 of a
 * rounding boundary.  Arguments of sin, cos and tan are reduced exactly
 * (multi-word integer division) modulo pi/2 as the hardware's 66-bit
 * approximation of pi/2 ("PI66"), which the SDM documents for the x87:
 * far from zero this is what makes the result match the processor's
 * instead of the true sine.
 */
#include "cpu/fpu/float80.h"

typedef unsigned __int128 u128;

/* value = m / 2^127 × 2^exp; m normalized (bit 127 set) or zero. */
typedef struct Xf {
    bool sign;
    int8_t tail;     /* the true magnitude is above (+1) or below (-1) m;
                        0: unknown (rounded as a sticky bit, i.e. above) */
    int32_t exp;
    u128 m;
} Xf;

static const Xf xf_zero_c = { false, 0, 0, 0 };

static unsigned clz128(u128 m)
{
    uint64_t hi = (uint64_t)(m >> 64);
    return hi ? fp_clz64(hi) : 64 + fp_clz64((uint64_t)m);
}

static Xf xf_make(bool sign, int32_t exp, u128 m)
{
    Xf x = { sign, 0, exp, m };
    if (!m)
        return xf_zero_c;
    unsigned s = clz128(m);
    x.m = m << s;
    x.exp = exp - (int32_t)s;
    return x;
}

static Xf xf_const(uint64_t hi, uint64_t lo, int32_t exp)
{
    return xf_make(false, exp, ((u128)hi << 64) | lo);
}

static Xf xf_from_int(int64_t v)
{
    bool s = v < 0;
    uint64_t mag = s ? 0 - (uint64_t)v : (uint64_t)v;
    return xf_make(s, 127, mag);
}

static Xf xf_from_f80(Float80 a)
{
    F80Parts p = f80_unpack(a);
    return xf_make(p.sign, p.exp, (u128)p.sig << 64);
}

static Xf xf_neg(Xf a)
{
    a.sign = !a.sign;
    return a;
}

static Xf xf_scale(Xf a, int32_t n)
{
    if (a.m)
        a.exp += n;
    return a;
}

static Xf xf_add(Xf a, Xf b)
{
    if (!b.m)
        return a;
    if (!a.m)
        return b;
    if (b.exp > a.exp || (b.exp == a.exp && b.m > a.m)) {
        Xf t = a; a = b; b = t;
    }
    int32_t d = a.exp - b.exp;
    u128 bm = d >= 128 ? 0 : b.m >> d;
    if (!bm) {
        /* b vanishes below a's last bit: remember on which side. */
        if (!a.tail)
            a.tail = a.sign == b.sign ? 1 : -1;
        return a;
    }
    if (a.sign == b.sign) {
        u128 s = a.m + bm;
        if (s < a.m)
            return xf_make(a.sign, a.exp + 1, (s >> 1) | ((u128)1 << 127));
        return xf_make(a.sign, a.exp, s);
    }
    return xf_make(a.sign, a.exp, a.m - bm);
}

static Xf xf_sub(Xf a, Xf b)
{
    return xf_add(a, xf_neg(b));
}

static Xf xf_mul(Xf a, Xf b)
{
    if (!a.m || !b.m)
        return xf_zero_c;
    uint64_t a1 = (uint64_t)(a.m >> 64), a0 = (uint64_t)a.m;
    uint64_t b1 = (uint64_t)(b.m >> 64), b0 = (uint64_t)b.m;
    u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1;
    u128 p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    u128 hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    return xf_make(a.sign != b.sign, a.exp + b.exp + 1, hi);
}

static Xf xf_div(Xf a, Xf b)
{
    if (!a.m)
        return xf_zero_c;
    u128 r = a.m, d = b.m, q = 0;
    bool carry = false;
    for (int i = 0; i < 128; i++) {
        q <<= 1;
        if (carry || r >= d) {
            r -= d;
            q |= 1;
        }
        carry = r >> 127;
        r <<= 1;
    }
    return xf_make(a.sign != b.sign, a.exp - b.exp, q);
}

static Xf xf_div_int(Xf a, int64_t n)
{
    return xf_div(a, xf_from_int(n));
}

/* Magnitude comparison helper: is |a| below 2^e? */
static bool xf_below(Xf a, int32_t e)
{
    return !a.m || a.exp < e;
}

static Xf xf_sqrt(Xf a)
{
    if (!a.m)
        return a;
    int32_t odd = a.exp & 1;
    u128 m = odd ? a.m : a.m >> 1;
    u128 rem = 0, root = 0;
    for (int i = 63; i >= 0; i--) {
        rem = (rem << 2) | ((m >> (2 * i)) & 3);
        u128 trial = (root << 2) | 1;
        root <<= 1;
        if (rem >= trial) {
            rem -= trial;
            root |= 1;
        }
    }
    Xf y = xf_make(false, (a.exp - odd) / 2, root << 64);
    /* One Newton step doubles the 64 correct bits. */
    return xf_scale(xf_add(y, xf_div(a, y)), -1);
}

/* Round to the 80-bit format; `inexact` jams a sticky bit (the value is
 * irrational or was truncated). */
static Float80 xf_round(FpStatus *st, Xf x, bool inexact)
{
    if (!x.m)
        return f80_make(x.sign, 0, 0);
    if (inexact && x.tail < 0)
        x = xf_make(x.sign, x.exp, x.m - 1);   /* just below m */
    FpStatus s = *st;
    s.prec = 64;
    Float80 r = f80_round_pack(&s, x.sign, x.exp, (uint64_t)(x.m >> 64),
                               (uint64_t)x.m | inexact);
    st->flags = s.flags;
    st->c1 = s.c1;
    return r;
}

/* ---- constants (128 bits; see float80_conv/x87.c for the 64-bit ones) ---- */

static Xf c_ln2(void) { return xf_const(0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1); }
static Xf c_log2e(void) { return xf_const(0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0); }
static Xf c_pi(void) { return xf_const(0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1); }
static Xf c_one(void) { return xf_make(false, 0, (u128)1 << 127); }

/* ---- series ---------------------------------------------------------------- */

#define SERIES_EXP (-132)   /* stop when a term is below 2^-132 relative */

/* e^z - 1 for |z| < 1: halve z until small, sum the series, then undo
 * each halving with expm1(2u) = expm1(u) × (expm1(u) + 2). */
static Xf xf_expm1(Xf z)
{
    int k = 0;
    while (!xf_below(z, -12)) {
        z = xf_scale(z, -1);
        k++;
    }
    Xf sum = z, term = z;
    for (int n = 2; n < 40; n++) {
        term = xf_div_int(xf_mul(term, z), n);
        if (xf_below(term, sum.exp + SERIES_EXP))
            break;
        sum = xf_add(sum, term);
    }
    Xf two = xf_from_int(2);
    for (int i = 0; i < k; i++)
        sum = xf_mul(sum, xf_add(sum, two));
    return sum;
}

/* 2·atanh(t) = ln((1 + t) / (1 - t)), |t| < 0.2. */
static Xf xf_2atanh(Xf t)
{
    Xf t2 = xf_mul(t, t), sum = t, pw = t;
    for (int n = 3; n < 200; n += 2) {
        pw = xf_mul(pw, t2);
        Xf term = xf_div_int(pw, n);
        if (xf_below(term, sum.exp + SERIES_EXP))
            break;
        sum = xf_add(sum, term);
    }
    return xf_scale(sum, 1);
}

/* ln(x) for a finite x > 0, with log2(x) = e + log2(m) split so that
 * nothing cancels: returns ln(m) and the integer e, m in [1/sqrt2, sqrt2). */
static Xf xf_ln_mantissa(Xf x, int32_t *e)
{
    /* m = x / 2^exp in [1, 2); move to [1/sqrt2, sqrt2). */
    *e = x.exp;
    Xf m = x;
    m.exp = 0;
    if (m.m > (((u128)0xb504f333f9de6484ull << 64) | 0x597d89b3754abe9full)) {
        m.exp = -1;
        (*e)++;
    }
    Xf one = c_one();
    return xf_2atanh(xf_div(xf_sub(m, one), xf_add(m, one)));
}

/* atan(t) for 0 <= t <= 1: four half-angle steps (unless t is small),
 * then the series. */
static Xf xf_atan01(Xf t)
{
    Xf one = c_one();
    int halvings = xf_below(t, -8) ? 0 : 4;
    for (int i = 0; i < halvings; i++)
        t = xf_div(t, xf_add(one, xf_sqrt(xf_add(one, xf_mul(t, t)))));
    Xf t2 = xf_mul(t, t), sum = t, pw = t;
    for (int n = 3; n < 200; n += 2) {
        pw = xf_neg(xf_mul(pw, t2));
        Xf term = xf_div_int(pw, n);
        if (xf_below(term, sum.exp + SERIES_EXP)) {
            if (!sum.tail)
                sum.tail = term.sign == sum.sign ? 1 : -1;
            break;
        }
        sum = xf_add(sum, term);
    }
    return xf_scale(sum, halvings);
}

/* sin and cos of |r| <= pi/4 by their Taylor series. */
static void xf_sincos_small(Xf r, Xf *s, Xf *c)
{
    Xf r2 = xf_mul(r, r);
    Xf sum = r, term = r;
    for (int n = 2; n < 80; n += 2) {
        term = xf_neg(xf_div_int(xf_mul(term, r2), (int64_t)n * (n + 1)));
        if (xf_below(term, sum.exp + SERIES_EXP)) {
            if (!sum.tail)
                sum.tail = term.sign == sum.sign ? 1 : -1;
            break;
        }
        sum = xf_add(sum, term);
    }
    *s = sum;
    sum = c_one();
    term = sum;
    for (int n = 1; n < 80; n += 2) {
        term = xf_neg(xf_div_int(xf_mul(term, r2), (int64_t)n * (n + 1)));
        if (xf_below(term, SERIES_EXP)) {
            if (!sum.tail)
                sum.tail = term.sign == sum.sign ? 1 : -1;
            break;
        }
        sum = xf_add(sum, term);
    }
    *c = sum;
}

/* ---- argument reduction ------------------------------------------------------ */

/* pi/2 as the processors' 66-bit constant: round(pi/2 × 2^65). */
static const uint64_t pio2_66[2] = { 0x243f6a8885a308d3ull, 0x3ull };
#define PIO2_SHIFT 65
#define PIO2_LIMBS 2

/* |x| = q × (pi/2) + r, |r| <= pi/4 in units of the constant, computed
 * exactly: N = X << (ex + 65) divided bit by bit by P (x = X × 2^ex). */
static Xf reduce(Float80 a, unsigned *quadrant)
{
    F80Parts p = f80_unpack(a);
    Xf x = xf_make(false, p.exp, (u128)p.sig << 64);
    *quadrant = 0;
    int32_t shift = p.exp - 63 + PIO2_SHIFT;   /* N = sig << shift */
    if (p.exp < 0 || shift < 0)
        return x;   /* |x| < 1 < pi/4 ... up to 1: reduce only from 1 on */
    uint64_t rem[PIO2_LIMBS + 1] = { 0 };
    uint64_t q = 0;
    int bits = 64 + shift;
    for (int j = bits - 1; j >= 0; j--) {
        int src = j - shift;
        uint64_t bit = src >= 0 ? (p.sig >> src) & 1 : 0;
        /* rem = 2 rem + bit */
        for (int k = PIO2_LIMBS; k > 0; k--)
            rem[k] = (rem[k] << 1) | (rem[k - 1] >> 63);
        rem[0] = (rem[0] << 1) | bit;
        /* rem >= P ? */
        bool ge = rem[PIO2_LIMBS] != 0;
        for (int k = PIO2_LIMBS - 1; k >= 0 && !ge; k--) {
            if (rem[k] != pio2_66[k]) {
                ge = rem[k] > pio2_66[k];
                break;
            }
            if (k == 0)
                ge = true;
        }
        q <<= 1;
        if (ge) {
            uint64_t borrow = 0;
            for (int k = 0; k <= PIO2_LIMBS; k++) {
                uint64_t pk = k < PIO2_LIMBS ? pio2_66[k] : 0;
                uint64_t d = rem[k] - pk - borrow;
                borrow = (rem[k] < pk) || (rem[k] - pk < borrow);
                rem[k] = d;
            }
            q |= 1;
        }
    }
    u128 r = ((u128)rem[1] << 64) | rem[0];
    u128 pv = ((u128)pio2_66[1] << 64) | pio2_66[0];
    bool neg = false;
    if (2 * r > pv) {
        r = pv - r;
        neg = true;
        q++;
    }
    *quadrant = (unsigned)(q & 3);
    /* r × 2^-65: as Xf, (r / 2^127) × 2^(127 - 65). */
    return xf_make(neg, 127 - PIO2_SHIFT, r);
}

/* ---- the instructions' functions ----------------------------------------------- */

/* An invalid operand outranks a denormal one: #IA alone. */
static Float80 inv(FpStatus *st)
{
    st->flags = (uint8_t)((st->flags & ~FP_DE) | FP_IE);
    return f80_indefinite;
}

static Float80 inf_of(bool sign)
{
    return f80_make(sign, F80_EXP_MAX, F80_J_BIT);
}

/* NaNs and unsupported operands, then #D; true when *out is decided. */
static bool screen(FpStatus *st, Float80 x, Float80 y, bool two, Float80 *out)
{
    FpClass cx = f80_class(x), cy = two ? f80_class(y) : FC_NORMAL;
    st->c1 = 0;
    if (cx == FC_UNSUPPORTED || cy == FC_UNSUPPORTED) {
        *out = inv(st);
        return true;
    }
    if (f80_is_nan(x) || (two && f80_is_nan(y))) {
        *out = two ? f80_propagate_nan(st, x, y) : f80_propagate_nan(st, x, x);
        return true;
    }
    if (cx == FC_DENORMAL || cy == FC_DENORMAL)
        st->flags |= FP_DE;
    return false;
}

Float80 f80_f2xm1(FpStatus *st, Float80 x)
{
    Float80 out;
    if (screen(st, x, x, false, &out))
        return out;
    switch (f80_class(x)) {
    case FC_ZERO:
        return x;
    case FC_INF:
        return f80_sign(x) ? f80_make(true, F80_BIAS, F80_J_BIT) : x;
    default:
        break;
    }
    Xf v = xf_from_f80(x);
    /* 2^1 - 1 = 1, 2^-1 - 1 = -1/2: exact, yet reported inexact (#P) as
     * the host processor does. */
    if (v.exp == 0 && v.m == (u128)1 << 127) {
        st->flags |= FP_PE;
        return xf_round(st, v.sign ? xf_make(true, -1, (u128)1 << 127) : v, false);
    }
    if (!xf_below(v, 0)) {
        /* Outside [-1, 1] the result is undefined (Vol. 2 F2XM1); the
         * host processor (AMD) returns the operand with #P, and so do we. */
        st->flags |= FP_PE;
        return x;
    }
    return xf_round(st, xf_expm1(xf_mul(v, c_ln2())), true);
}

/* y × log2(x) for finite x > 0 (the caller has the special cases). */
static Float80 ylog2(FpStatus *st, Xf y, Xf lnm, int32_t e)
{
    Xf l = xf_add(xf_from_int(e), xf_mul(lnm, c_log2e()));
    bool exact = !lnm.m;
    Float80 r = xf_round(st, xf_mul(y, l), !exact);
    /* The host reports #P even when the product is exact (x a power of
     * 2), and so #U for a tiny one. */
    st->flags |= FP_PE;
    if (f80_exp(r) == 0 && r.sig)
        st->flags |= FP_UE;
    return r;
}

Float80 f80_yl2x(FpStatus *st, Float80 x, Float80 y)
{
    Float80 out;
    if (screen(st, x, y, true, &out))
        return out;
    FpClass cx = f80_class(x), cy = f80_class(y);
    bool sx = f80_sign(x), sy = f80_sign(y);
    if (sx && cx != FC_ZERO)
        return inv(st);
    if (cx == FC_ZERO) {
        /* log2(0) = -inf */
        if (cy == FC_ZERO)
            return inv(st);
        if (cy != FC_INF)
            st->flags = (uint8_t)((st->flags & ~FP_DE) | FP_ZE);
        return inf_of(!sy);
    }
    if (cx == FC_INF) {
        if (cy == FC_ZERO)
            return inv(st);
        return inf_of(sy);
    }
    Xf xv = xf_from_f80(x);
    bool one = xv.exp == 0 && xv.m == (u128)1 << 127;
    bool below_one = xv.exp < 0;
    if (cy == FC_INF) {
        if (one)
            return inv(st);
        return inf_of(sy != below_one);
    }
    if (cy == FC_ZERO || one)
        return f80_make(one ? sy : sy != below_one, 0, 0);
    int32_t e;
    Xf lnm = xf_ln_mantissa(xv, &e);
    return ylog2(st, xf_from_f80(y), lnm, e);
}

Float80 f80_yl2xp1(FpStatus *st, Float80 x, Float80 y)
{
    Float80 out;
    if (screen(st, x, y, true, &out))
        return out;
    FpClass cx = f80_class(x), cy = f80_class(y);
    bool sx = f80_sign(x), sy = f80_sign(y);
    if (cx == FC_ZERO) {
        if (cy == FC_INF)
            return inv(st);
        return f80_make(sx != sy, 0, 0);
    }
    if (cx == FC_INF) {
        if (sx || cy == FC_ZERO)
            return inv(st);
        return inf_of(sy);
    }
    Xf xv = xf_from_f80(x);
    Xf one = c_one();
    Xf x1 = xf_add(xv, one);
    if (x1.sign || !x1.m)   /* x <= -1: outside the domain */
        return inv(st);
    if (cy == FC_INF)
        return inf_of(sy != sx);
    if (cy == FC_ZERO)
        return f80_make(sy != sx, 0, 0);
    Xf lnv;
    int32_t e = 0;
    if (xf_below(xv, -1)) {
        /* ln(1 + x) = 2 atanh(x / (2 + x)), no cancellation. */
        lnv = xf_2atanh(xf_div(xv, xf_add(xf_from_int(2), xv)));
    } else {
        lnv = xf_ln_mantissa(x1, &e);
    }
    return ylog2(st, xf_from_f80(y), lnv, e);
}

Float80 f80_atan2(FpStatus *st, Float80 y, Float80 x)
{
    Float80 out;
    if (screen(st, y, x, true, &out))
        return out;
    FpClass cx = f80_class(x), cy = f80_class(y);
    bool sx = f80_sign(x), sy = f80_sign(y);
    Xf pi = c_pi(), r;
    bool inexact = true;
    if (cy == FC_ZERO) {
        if (!sx)
            return y;
        r = pi;
    } else if (cy == FC_INF) {
        if (cx == FC_INF)
            r = sx ? xf_scale(xf_mul(pi, xf_from_int(3)), -2) : xf_scale(pi, -2);
        else
            r = xf_scale(pi, -1);
    } else if (cx == FC_INF) {
        if (!sx)
            return f80_make(sy, 0, 0);
        r = pi;
    } else if (cx == FC_ZERO) {
        r = xf_scale(pi, -1);
    } else {
        Xf ax = xf_from_f80(f80_abs(x)), ay = xf_from_f80(f80_abs(y));
        bool swap = ay.exp > ax.exp || (ay.exp == ax.exp && ay.m > ax.m);
        Xf t = swap ? xf_div(ax, ay) : xf_div(ay, ax);
        r = xf_atan01(t);
        if (swap)
            r = xf_sub(xf_scale(pi, -1), r);
        if (sx)
            r = xf_sub(pi, r);
    }
    r.sign = sy;
    return xf_round(st, r, inexact);
}

/* 2^63: the x87 reduces no further (C2 = 1). */
static bool out_of_range(Float80 x)
{
    return f80_exp(x) >= F80_BIAS + 63;
}

bool f80_sincos(FpStatus *st, FpStatus *st_cos, Float80 x, Float80 *sin,
                Float80 *cos)
{
    Float80 out;
    bool done = true;
    if (screen(st, x, x, false, &out)) {
        *sin = *cos = out;
    } else if (f80_class(x) == FC_ZERO) {
        *sin = x;
        *cos = f80_one;
    } else if (f80_class(x) == FC_INF) {
        *sin = *cos = inv(st);
    } else if (out_of_range(x)) {
        *st_cos = *st;
        return false;
    } else {
        done = false;
    }
    *st_cos = *st;
    if (done)
        return true;
    unsigned q;
    Xf r = reduce(x, &q), s, c;
    xf_sincos_small(r, &s, &c);
    Xf sv[4] = { s, c, xf_neg(s), xf_neg(c) };
    Xf cv[4] = { c, xf_neg(s), xf_neg(c), s };
    Xf sr = sv[q];
    if (f80_sign(x))
        sr = xf_neg(sr);
    *sin = xf_round(st, sr, true);
    *cos = xf_round(st_cos, cv[q], true);
    return true;
}

bool f80_tan(FpStatus *st, Float80 x, Float80 *tan)
{
    Float80 out;
    if (screen(st, x, x, false, &out)) {
        *tan = out;
        return true;
    }
    switch (f80_class(x)) {
    case FC_ZERO:
        *tan = x;
        return true;
    case FC_INF:
        *tan = inv(st);
        return true;
    default:
        break;
    }
    if (out_of_range(x))
        return false;
    unsigned q;
    Xf r = reduce(x, &q), s, c;
    xf_sincos_small(r, &s, &c);
    Xf t = (q & 1) ? xf_neg(xf_div(c, s)) : xf_div(s, c);
    /* The quotient of two series that stopped at once (tiny r). */
    if (s.tail && c.tail && xf_below(r, -40))
        t.tail = -1;   /* the host's side for tan and cot alike (within the
                          SDM's one ulp; the true tan is above) ... */
    if (xf_below(r, -16000))
        t.tail = 0;    /* ... except where r^3 underflows in the host's
                          computation: there it rounds r itself, inexact */
    if (f80_sign(x))
        t = xf_neg(t);
    *tan = xf_round(st, t, true);
    return true;
}

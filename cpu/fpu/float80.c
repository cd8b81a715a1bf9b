/* 80-bit extended precision arithmetic: rounding, the basic operations,
 * comparison, FRNDINT, FSCALE, FXTRACT and FPREM/FPREM1.
 *
 * Follows IEEE 754 (correct rounding of +, -, ×, ÷, √ and remainder) with
 * the x87 rules of the SDM Vol. 1 ch. 4.8-4.9 and 8.1-8.5 summed up in
 * float80.h, and the instruction pages of Vol. 2 (FPREM, FPREM1, FSCALE,
 * FXTRACT, FRNDINT, FCOM).  Intermediates are 128-bit fixed point
 * (hi:lo, binary point after the top bit) with a sticky bit jammed into
 * the lowest bit, which is enough for correct rounding of every result
 * here: each operation produces at most 128 significant bits before its
 * sticky bit.
 */
#include "cpu/fpu/float80.h"

typedef unsigned __int128 u128;

const Float80 f80_indefinite = { 0xc000000000000000ull, 0xffff };
const Float80 f80_zero = { 0, 0 };
const Float80 f80_one = { F80_J_BIT, F80_BIAS };

FpClass f80_class(Float80 a)
{
    unsigned e = f80_exp(a);
    bool j = a.sig >> 63;
    if (e == 0)
        return a.sig == 0 ? FC_ZERO : FC_DENORMAL;   /* J=1: pseudo-denormal */
    if (!j)
        return FC_UNSUPPORTED;                       /* unnormal, pseudo-NaN/inf */
    if (e == F80_EXP_MAX) {
        if ((a.sig << 1) == 0)
            return FC_INF;
        return (a.sig & F80_QUIET_BIT) ? FC_QNAN : FC_SNAN;
    }
    return FC_NORMAL;
}

F80Parts f80_unpack(Float80 a)
{
    F80Parts p;
    int32_t e = (int32_t)f80_exp(a);
    /* Denormals and pseudo-denormals have the exponent of the smallest
     * normal (Vol. 1 8.2.2): biased 1, not 0. */
    if (e == 0)
        e = 1;
    unsigned s = fp_clz64(a.sig);
    p.sign = f80_sign(a);
    p.sig = a.sig << s;
    p.exp = e - (int32_t)s - F80_BIAS;
    return p;
}

Float80 f80_quiet(Float80 a)
{
    a.sig |= F80_QUIET_BIT;
    return a;
}

Float80 f80_propagate_nan(FpStatus *st, Float80 a, Float80 b)
{
    bool an = f80_is_nan(a), bn = f80_is_nan(b);
    bool as = an && !(a.sig & F80_QUIET_BIT);
    bool bs = bn && !(b.sig & F80_QUIET_BIT);
    if (as || bs)
        st->flags |= FP_IE;
    if (an && bn) {
        /* Table 4-7: a QNaN beats an SNaN; otherwise the larger
         * significand wins. */
        if (as != bs)
            return f80_quiet(as ? b : a);
        if (b.sig > a.sig)
            return f80_quiet(b);
        if (a.sig > b.sig)
            return f80_quiet(a);
        return f80_quiet(f80_sign(a) ? b : a);
    }
    return f80_quiet(an ? a : b);
}

/* ---- rounding -------------------------------------------------------------- */

static u128 shift_right_jam(u128 x, int32_t n)
{
    if (n <= 0)
        return x;
    if (n >= 128)
        return x != 0;
    return (x >> n) | ((x << (128 - n)) != 0);
}

typedef struct Rounded {
    uint64_t sig;
    bool inexact, up, carry;
} Rounded;

/* Keep the top 64 - drop bits of hi (drop <= 63), rounding by `rc` on the
 * discarded low bits of hi and all of lo. */
static Rounded round_at(uint64_t hi, uint64_t lo, unsigned drop, bool sign,
                        unsigned rc)
{
    Rounded r = { 0, false, false, false };
    uint64_t dmask = drop ? (1ull << drop) - 1 : 0;
    uint64_t dhi = hi & dmask;
    uint64_t kept = hi & ~dmask;
    r.inexact = dhi || lo;
    bool inc = false;
    if (r.inexact) {
        switch (rc) {
        case FP_RC_NEAREST: {
            bool above, half;
            if (drop) {
                uint64_t h = 1ull << (drop - 1);
                above = dhi > h || (dhi == h && lo);
                half = dhi == h && !lo;
            } else {
                above = lo > (1ull << 63);
                half = lo == (1ull << 63);
            }
            inc = above || (half && ((kept >> drop) & 1));
            break;
        }
        case FP_RC_DOWN: inc = sign; break;
        case FP_RC_UP: inc = !sign; break;
        default: break;
        }
    }
    if (inc) {
        uint64_t n = kept + (1ull << drop);
        r.carry = n < kept;
        kept = n;
        r.up = true;
    }
    r.sig = kept;
    return r;
}

uint64_t fp_round(FpStatus *st, bool sign, int32_t exp, uint64_t hi,
                  uint64_t lo, unsigned prec, int32_t emin, int32_t emax,
                  int32_t bias, int32_t adjust, int32_t *exp_out)
{
    st->c1 = 0;
    if (!hi && !lo) {
        *exp_out = 0;
        return 0;
    }
    u128 x = ((u128)hi << 64) | lo;
    if (!(hi >> 63)) {
        unsigned s = hi ? fp_clz64(hi) : 64 + fp_clz64(lo);
        x <<= s;
        exp -= (int32_t)s;
    }
    hi = (uint64_t)(x >> 64);
    lo = (uint64_t)x;
    unsigned drop = 64 - prec;
    Rounded r;
    if (exp < emin) {
        /* Tininess is detected after rounding (as if the exponent range
         * were unbounded), as x87 and SSE hardware do. */
        bool tiny = true;
        if (exp == emin - 1)
            tiny = !round_at(hi, lo, drop, sign, st->rc).carry;
        if (tiny) {
            if (!(st->mask & FP_UE)) {
                /* Unmasked: a normal rounding, exponent adjusted up
                 * (Vol. 1 8.5.5). */
                st->flags |= FP_UE;
                r = round_at(hi, lo, drop, sign, st->rc);
                if (r.inexact)
                    st->flags |= FP_PE;
                st->c1 = r.up;
                if (r.carry) {
                    r.sig = F80_J_BIT;
                    exp++;
                }
                *exp_out = exp + adjust + bias;
                return r.sig;
            }
            x = shift_right_jam(x, emin - exp);
            r = round_at((uint64_t)(x >> 64), (uint64_t)x, drop, sign, st->rc);
            if (r.inexact)
                st->flags |= FP_UE | FP_PE;
            st->c1 = r.up;
            /* Rounding up may make the smallest normal number. */
            *exp_out = (r.sig >> 63) ? emin + bias : 0;
            return r.sig;
        }
    }
    r = round_at(hi, lo, drop, sign, st->rc);
    if (r.carry) {
        r.sig = F80_J_BIT;
        exp++;
    }
    if (exp > emax) {
        st->flags |= FP_OE;
        if (!(st->mask & FP_OE)) {
            if (r.inexact)
                st->flags |= FP_PE;
            st->c1 = r.up;
            *exp_out = exp - adjust + bias;
            return r.sig;
        }
        st->flags |= FP_PE;
        bool to_inf = st->rc == FP_RC_NEAREST ||
                      (st->rc == FP_RC_UP && !sign) ||
                      (st->rc == FP_RC_DOWN && sign);
        st->c1 = to_inf;
        if (to_inf) {
            *exp_out = emax + 1 + bias;
            return F80_J_BIT;
        }
        *exp_out = emax + bias;
        return ~0ull << drop;
    }
    if (r.inexact)
        st->flags |= FP_PE;
    st->c1 = r.up;
    *exp_out = exp + bias;
    return r.sig;
}

Float80 f80_round_pack(FpStatus *st, bool sign, int32_t exp, uint64_t hi,
                       uint64_t lo)
{
    int32_t e;
    uint64_t sig = fp_round(st, sign, exp, hi, lo, st->prec, 1 - F80_BIAS,
                            F80_BIAS, F80_BIAS, 24576, &e);
    return f80_make(sign, (unsigned)e & 0x7fff, sig);
}

static Float80 round_pack128(FpStatus *st, bool sign, int32_t exp, u128 x)
{
    return f80_round_pack(st, sign, exp, (uint64_t)(x >> 64), (uint64_t)x);
}

/* ---- operand screening ------------------------------------------------------ */

/* The parts of a two-operand operation decided before any arithmetic:
 * unsupported operands and NaNs (Vol. 1 4.8.3.5, 8.2.2), then the denormal
 * operand exception.  Returns true when *out is the result. */
static bool screen2(FpStatus *st, Float80 a, Float80 b, FpClass *ca,
                    FpClass *cb, Float80 *out)
{
    *ca = f80_class(a);
    *cb = f80_class(b);
    if (*ca == FC_UNSUPPORTED || *cb == FC_UNSUPPORTED) {
        st->flags |= FP_IE;
        *out = f80_indefinite;
        return true;
    }
    if (*ca == FC_QNAN || *ca == FC_SNAN || *cb == FC_QNAN || *cb == FC_SNAN) {
        *out = f80_propagate_nan(st, a, b);
        return true;
    }
    if (*ca == FC_DENORMAL || *cb == FC_DENORMAL)
        st->flags |= FP_DE;
    return false;
}

static Float80 invalid(FpStatus *st)
{
    st->flags |= FP_IE;
    return f80_indefinite;
}

static Float80 signed_zero(bool sign)
{
    return f80_make(sign, 0, 0);
}

static Float80 signed_inf(bool sign)
{
    return f80_make(sign, F80_EXP_MAX, F80_J_BIT);
}

/* ---- add, subtract ----------------------------------------------------------- */

static Float80 addsub(FpStatus *st, Float80 a, Float80 b, bool negate_b)
{
    FpClass ca, cb;
    Float80 out;
    st->c1 = 0;
    if (screen2(st, a, b, &ca, &cb, &out))
        return out;
    bool sa = f80_sign(a), sb = f80_sign(b) ^ negate_b;
    if (ca == FC_INF || cb == FC_INF) {
        if (ca == FC_INF && cb == FC_INF && sa != sb)
            return invalid(st);
        return signed_inf(ca == FC_INF ? sa : sb);
    }
    if (ca == FC_ZERO && cb == FC_ZERO) {
        if (sa == sb)
            return signed_zero(sa);
        return signed_zero(st->rc == FP_RC_DOWN);
    }
    if (cb == FC_ZERO) {
        F80Parts p = f80_unpack(a);
        return f80_round_pack(st, sa, p.exp, p.sig, 0);
    }
    if (ca == FC_ZERO) {
        F80Parts p = f80_unpack(b);
        return f80_round_pack(st, sb, p.exp, p.sig, 0);
    }
    F80Parts x = f80_unpack(a), y = f80_unpack(b);
    x.sign = sa;
    y.sign = sb;
    /* x gets the larger magnitude. */
    if (y.exp > x.exp || (y.exp == x.exp && y.sig > x.sig)) {
        F80Parts t = x; x = y; y = t;
    }
    u128 X = (u128)x.sig << 64;
    u128 Y = shift_right_jam((u128)y.sig << 64, x.exp - y.exp);
    if (x.sign == y.sign) {
        u128 S = X + Y;
        int32_t e = x.exp;
        if (S < X) {
            S = (S >> 1) | (S & 1) | ((u128)1 << 127);
            e++;
        }
        return round_pack128(st, x.sign, e, S);
    }
    u128 D = X - Y;
    if (D == 0)
        return signed_zero(st->rc == FP_RC_DOWN);
    return round_pack128(st, x.sign, x.exp, D);
}

Float80 f80_add(FpStatus *st, Float80 a, Float80 b)
{
    return addsub(st, a, b, false);
}

Float80 f80_sub(FpStatus *st, Float80 a, Float80 b)
{
    return addsub(st, a, b, true);
}

/* ---- multiply, divide, square root ------------------------------------------ */

Float80 f80_mul(FpStatus *st, Float80 a, Float80 b)
{
    FpClass ca, cb;
    Float80 out;
    st->c1 = 0;
    if (screen2(st, a, b, &ca, &cb, &out))
        return out;
    bool s = f80_sign(a) ^ f80_sign(b);
    if (ca == FC_INF || cb == FC_INF) {
        if (ca == FC_ZERO || cb == FC_ZERO)
            return invalid(st);
        return signed_inf(s);
    }
    if (ca == FC_ZERO || cb == FC_ZERO)
        return signed_zero(s);
    F80Parts x = f80_unpack(a), y = f80_unpack(b);
    return round_pack128(st, s, x.exp + y.exp + 1, (u128)x.sig * y.sig);
}

/* The 128-bit quotient n / d of significands (d normalized), as hi:lo
 * with a sticky bit, and its exponent offset: see f80_div. */
static u128 div_sig(uint64_t n, uint64_t d, int32_t *eadj)
{
    u128 N;
    if (n >= d) {
        N = (u128)n << 63;
        *eadj = 0;
    } else {
        N = (u128)n << 64;
        *eadj = -1;
    }
    uint64_t q1 = (uint64_t)(N / d);
    uint64_t r = (uint64_t)(N % d);
    u128 N2 = (u128)r << 64;
    uint64_t q2 = (uint64_t)(N2 / d);
    uint64_t r2 = (uint64_t)(N2 % d);
    return ((u128)q1 << 64) | q2 | (r2 != 0);
}

Float80 f80_div(FpStatus *st, Float80 a, Float80 b)
{
    FpClass ca, cb;
    Float80 out;
    st->c1 = 0;
    if (screen2(st, a, b, &ca, &cb, &out))
        return out;
    bool s = f80_sign(a) ^ f80_sign(b);
    if (ca == FC_INF)
        return cb == FC_INF ? invalid(st) : signed_inf(s);
    if (cb == FC_INF)
        return signed_zero(s);
    if (cb == FC_ZERO) {
        if (ca == FC_ZERO)
            return invalid(st);
        /* Division by zero outranks a denormal dividend. */
        st->flags = (uint8_t)((st->flags & ~FP_DE) | FP_ZE);
        return signed_inf(s);
    }
    if (ca == FC_ZERO)
        return signed_zero(s);
    F80Parts x = f80_unpack(a), y = f80_unpack(b);
    int32_t eadj;
    u128 q = div_sig(x.sig, y.sig, &eadj);
    return round_pack128(st, s, x.exp - y.exp + eadj, q);
}

/* floor(sqrt(m)) for m < 2^128, and the remainder m - root^2. */
static uint64_t isqrt128(u128 m, u128 *rem_out)
{
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
    *rem_out = rem;
    return (uint64_t)root;
}

Float80 f80_sqrt(FpStatus *st, Float80 a)
{
    st->c1 = 0;
    switch (f80_class(a)) {
    case FC_UNSUPPORTED:
        return invalid(st);
    case FC_QNAN: case FC_SNAN:
        return f80_propagate_nan(st, a, a);
    case FC_ZERO:
        return a;
    case FC_INF:
        return f80_sign(a) ? invalid(st) : a;
    default:
        break;
    }
    /* A negative operand is invalid before it is a denormal. */
    if (f80_sign(a))
        return invalid(st);
    if (f80_exp(a) == 0)
        st->flags |= FP_DE;
    F80Parts x = f80_unpack(a);
    int32_t odd = x.exp & 1;
    int32_t k = (x.exp - odd) / 2;
    u128 m = (u128)x.sig << (odd ? 64 : 63);
    u128 rem;
    uint64_t root = isqrt128(m, &rem);
    /* The root is above root + 1/2 iff rem > root (never exactly half). */
    uint64_t lo = rem == 0 ? 0 : rem > root ? 0x8000000000000001ull : 1;
    return f80_round_pack(st, false, k, root, lo);
}

/* ---- FRNDINT ----------------------------------------------------------------- */

/* Round a finite non-zero value to an integer by st->rc; 64-bit. */
static Float80 round_to_integer(FpStatus *st, Float80 a)
{
    F80Parts p = f80_unpack(a);
    st->c1 = 0;
    if (p.exp >= 63)
        return a;
    if (p.exp < 0) {
        bool one;
        switch (st->rc) {
        case FP_RC_NEAREST: one = p.exp == -1 && p.sig > F80_J_BIT; break;
        case FP_RC_DOWN: one = p.sign; break;
        case FP_RC_UP: one = !p.sign; break;
        default: one = false; break;
        }
        st->flags |= FP_PE;
        st->c1 = one;
        return one ? f80_make(p.sign, F80_BIAS, F80_J_BIT) : signed_zero(p.sign);
    }
    Rounded r = round_at(p.sig, 0, (unsigned)(63 - p.exp), p.sign, st->rc);
    if (r.inexact)
        st->flags |= FP_PE;
    st->c1 = r.up;
    if (r.carry)
        return f80_make(p.sign, (unsigned)(p.exp + 1 + F80_BIAS), F80_J_BIT);
    return f80_make(p.sign, (unsigned)(p.exp + F80_BIAS), r.sig);
}

Float80 f80_round_int(FpStatus *st, Float80 a)
{
    st->c1 = 0;
    switch (f80_class(a)) {
    case FC_UNSUPPORTED:
        return invalid(st);
    case FC_QNAN: case FC_SNAN:
        return f80_propagate_nan(st, a, a);
    case FC_ZERO: case FC_INF:
        return a;
    case FC_DENORMAL:
        st->flags |= FP_DE;
        break;
    default:
        break;
    }
    return round_to_integer(st, a);
}

/* ---- FSCALE ------------------------------------------------------------------ */

Float80 f80_scale(FpStatus *st, Float80 a, Float80 b)
{
    FpClass ca, cb;
    Float80 out;
    st->c1 = 0;
    if (screen2(st, a, b, &ca, &cb, &out))
        return out;
    bool sb = f80_sign(b);
    if (cb == FC_INF) {
        /* 0 × 2^+inf and inf × 2^-inf are invalid (Vol. 2 FSCALE, Table
         * 3-48). */
        if ((ca == FC_ZERO && !sb) || (ca == FC_INF && sb))
            return invalid(st);
        if (ca == FC_ZERO || ca == FC_INF)
            return a;
        return sb ? signed_zero(f80_sign(a)) : signed_inf(f80_sign(a));
    }
    if (ca == FC_ZERO || ca == FC_INF)
        return a;
    F80Parts x = f80_unpack(a);
    int32_t n = 0;
    if (cb != FC_ZERO) {
        F80Parts y = f80_unpack(b);
        /* trunc(b); anything beyond 2^20 over- or underflows anyway. */
        if (y.exp >= 20)
            n = 1 << 20;
        else if (y.exp >= 0)
            n = (int32_t)(y.sig >> (63 - y.exp));
        if (y.sign)
            n = -n;
    }
    FpStatus s64 = *st;
    s64.prec = 64;
    /* With #U/#O unmasked, a result out of range even after the 24576
     * bias adjustment becomes a zero or an infinity, whatever RC, with the
     * exception flagged (as processors do; Vol. 1 8.5.4 leaves FSCALE's
     * case to the implementation). */
    int32_t e = x.exp + n + F80_BIAS;
    if (!(st->mask & FP_UE) && e + 24576 < 1) {
        st->flags |= FP_UE | FP_PE;
        return signed_zero(x.sign);
    }
    if (!(st->mask & FP_OE) && e - 24576 > 0x7ffe) {
        st->flags |= FP_OE | FP_PE;
        st->c1 = 1;
        return signed_inf(x.sign);
    }
    Float80 r = f80_round_pack(&s64, x.sign, x.exp + n, x.sig, 0);
    st->flags = s64.flags;
    st->c1 = s64.c1;
    return r;
}

/* ---- FXTRACT ----------------------------------------------------------------- */

void f80_xtract(FpStatus *st, Float80 a, Float80 *exp, Float80 *sig)
{
    st->c1 = 0;
    switch (f80_class(a)) {
    case FC_UNSUPPORTED:
        *exp = *sig = invalid(st);
        return;
    case FC_QNAN: case FC_SNAN:
        *exp = *sig = f80_propagate_nan(st, a, a);
        return;
    case FC_ZERO:
        /* Vol. 2 FXTRACT: #Z, exponent -inf, significand the zero. */
        st->flags |= FP_ZE;
        *exp = signed_inf(true);
        *sig = a;
        return;
    case FC_INF:
        *exp = signed_inf(false);
        *sig = a;
        return;
    case FC_DENORMAL:
        st->flags |= FP_DE;
        break;
    default:
        break;
    }
    F80Parts p = f80_unpack(a);
    *exp = f80_from_int(p.exp);
    *sig = f80_make(p.sign, F80_BIAS, p.sig);
}

/* ---- FPREM, FPREM1 ------------------------------------------------------------ */

/* Vol. 2 FPREM: when the exponents differ by 64 or more only a partial
 * remainder is computed, reducing the exponent difference D by D - N, N
 * being implementation-specific in 32..63.  The host processors take
 * N = 32 + (D mod 32), so that D - N is a multiple of 32. */
static int32_t partial_n(int32_t d)
{
    return 32 + (d & 31);
}

Float80 f80_rem(FpStatus *st, Float80 a, Float80 b, bool nearest,
                unsigned *q, bool *partial)
{
    FpClass ca, cb;
    Float80 out;
    *q = FP_REM_NO_QUOTIENT;
    *partial = false;
    st->c1 = 0;
    if (screen2(st, a, b, &ca, &cb, &out))
        return out;
    if (ca == FC_INF || cb == FC_ZERO) {
        st->flags &= (uint8_t)~FP_DE;   /* invalid outranks denormal */
        return invalid(st);
    }
    *q = 0;
    if (ca == FC_ZERO)
        return a;
    F80Parts x = f80_unpack(a), y = f80_unpack(b);
    int32_t d = x.exp - y.exp;
    FpStatus s64 = *st;
    s64.prec = 64;
    Float80 res;
    if (cb == FC_INF || d < (nearest ? -1 : 0)) {
        /* |a| < |b| (or < |b|/2): the remainder is a itself. */
        res = f80_round_pack(&s64, x.sign, x.exp, x.sig, 0);
        st->flags = s64.flags;
        return res;
    }
    int32_t ey = y.exp;
    if (d >= 64) {
        int32_t n = partial_n(d);
        ey += d - n;
        d = n;
        *partial = true;
        nearest = false;
    }
    /* Work in units of 2^(ey - 64): x = x.sig << (d + 1), y = y.sig << 1. */
    u128 num = (u128)x.sig << (d + 1);
    u128 den = (u128)y.sig << 1;
    u128 quo = num / den;
    u128 r = num % den;
    bool sign = x.sign;
    if (nearest && (2 * r > den || (2 * r == den && (quo & 1)))) {
        quo++;
        r = den - r;
        sign = !sign;
    }
    /* A partial remainder reports no quotient bits (C0 = C3 = C1 = 0). */
    *q = *partial ? 0 : (unsigned)(quo & 7);
    if (r == 0)
        return signed_zero(x.sign);
    /* r × 2^(ey - 64) = (r / 2^127) × 2^(ey + 63). */
    res = round_pack128(&s64, sign, ey + 63, r);
    st->flags = s64.flags;
    st->c1 = 0;
    return res;
}

/* ---- comparison --------------------------------------------------------------- */

int f80_compare(FpStatus *st, Float80 a, Float80 b, bool quiet)
{
    FpClass ca = f80_class(a), cb = f80_class(b);
    st->c1 = 0;
    if (ca == FC_UNSUPPORTED || cb == FC_UNSUPPORTED) {
        st->flags |= FP_IE;
        return FP_CMP_UNORDERED;
    }
    if (ca == FC_QNAN || ca == FC_SNAN || cb == FC_QNAN || cb == FC_SNAN) {
        if (!quiet || ca == FC_SNAN || cb == FC_SNAN)
            st->flags |= FP_IE;
        return FP_CMP_UNORDERED;
    }
    if (ca == FC_DENORMAL || cb == FC_DENORMAL)
        st->flags |= FP_DE;
    if (ca == FC_ZERO && cb == FC_ZERO)
        return FP_CMP_EQUAL;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ca == FC_ZERO)
        return sb ? FP_CMP_GREATER : FP_CMP_LESS;
    if (cb == FC_ZERO)
        return sa ? FP_CMP_LESS : FP_CMP_GREATER;
    if (sa != sb)
        return sa ? FP_CMP_LESS : FP_CMP_GREATER;
    int mag;   /* -1, 0, 1: |a| against |b| */
    if (ca == FC_INF || cb == FC_INF) {
        mag = (ca == FC_INF) - (cb == FC_INF);
    } else {
        F80Parts x = f80_unpack(a), y = f80_unpack(b);
        if (x.exp != y.exp)
            mag = x.exp > y.exp ? 1 : -1;
        else
            mag = x.sig > y.sig ? 1 : x.sig < y.sig ? -1 : 0;
    }
    if (mag == 0)
        return FP_CMP_EQUAL;
    return (mag > 0) != sa ? FP_CMP_GREATER : FP_CMP_LESS;
}

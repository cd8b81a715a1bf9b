/* IEEE 754 binary32/binary64 arithmetic for SSE: unpacking, rounding,
 * the basic operations, comparisons and MIN/MAX (see softfloat.h for the
 * x86 rules this follows: SDM Vol. 1 4.8, 4.9, 10.2.3 and 11.5, IEEE
 * 754-2008 4.3, 5.4, 5.11, 7).
 *
 * Every operation unpacks its operands into (sign, exponent, 64-bit
 * significand with the leading one at bit 63), handles NaNs, infinities
 * and zeros in the order of the exception priority (Vol. 1 4.9.2), computes
 * a result wide enough to hold the format's precision plus guard bits and
 * a sticky bit, and rounds it once in sf_round_pack().
 */
#include "cpu/sse/softfloat.h"

#include <stddef.h>

const SfFmt sf_formats[2] = {
    { 23, 32, 127 },     /* binary32 */
    { 52, 64, 1023 },    /* binary64 */
};

static unsigned clz64(uint64_t v)
{
    return v ? (unsigned)__builtin_clzll(v) : 64;
}

/* Shift right, OR-ing every bit shifted out into bit 0 (the sticky bit),
 * so that rounding still sees "something non-zero was below". */
static uint64_t shift_right_jam(uint64_t v, uint32_t n)
{
    if (n == 0)
        return v;
    if (n >= 64)
        return v != 0;
    return (v >> n) | ((v << (64 - n)) != 0);
}

/* ---- packing ------------------------------------------------------------- */

static uint64_t sign_bit(const SfFmt *f, bool sign)
{
    return (uint64_t)sign << (f->width - 1);
}

static uint64_t exp_all_ones(const SfFmt *f)
{
    return (uint64_t)(2 * f->bias + 1);
}

uint64_t sf_pack_zero(const SfFmt *f, bool sign)
{
    return sign_bit(f, sign);
}

uint64_t sf_pack_inf(const SfFmt *f, bool sign)
{
    return sign_bit(f, sign) | exp_all_ones(f) << f->frac;
}

static uint64_t pack_max(const SfFmt *f, bool sign)
{
    return sf_pack_inf(f, sign) - 1;
}

/* The QNaN floating-point indefinite: sign set, quiet bit set (Vol. 1
 * 4.8.3.7). */
uint64_t sf_default_nan(const SfFmt *f)
{
    return sf_pack_inf(f, true) | 1ull << (f->frac - 1);
}

uint64_t sf_quiet(const SfFmt *f, uint64_t a)
{
    return a | 1ull << (f->frac - 1);
}

SfParts sf_unpack(const SfFmt *f, const SfEnv *e, uint64_t a)
{
    SfParts p = { 0 };
    uint64_t emax = exp_all_ones(f);
    uint64_t ex = (a >> f->frac) & emax;
    uint64_t fr = a & ((1ull << f->frac) - 1);
    p.sign = (a >> (f->width - 1)) & 1;
    if (ex == emax) {
        if (!fr)
            p.cls = SFC_INF;
        else
            p.cls = (fr >> (f->frac - 1)) & 1 ? SFC_QNAN : SFC_SNAN;
        return p;
    }
    if (ex == 0) {
        /* DAZ (Vol. 1 10.2.3.4): a denormal source reads as a zero of the
         * same sign, and is not a denormal operand (no DE). */
        if (!fr || e->daz) {
            p.cls = SFC_ZERO;
            return p;
        }
        unsigned s = clz64(fr);
        p.cls = SFC_FINITE;
        p.denormal = true;
        p.sig = fr << s;
        p.exp = 1 - f->bias - (int32_t)f->frac + 63 - (int32_t)s;
        return p;
    }
    p.cls = SFC_FINITE;
    p.sig = (fr | 1ull << f->frac) << (63 - f->frac);
    p.exp = (int32_t)ex - f->bias;
    return p;
}

/* Does rounding add one unit in the last place?  `rem` is what lies below
 * the kept bits, `half` its half-way value. */
bool sf_round_up(unsigned rc, bool sign, bool lsb, uint64_t rem, uint64_t half)
{
    switch (rc) {
    case SF_RC_NEAREST: return rem > half || (rem == half && lsb);
    case SF_RC_DOWN:    return rem && sign;
    case SF_RC_UP:      return rem && !sign;
    default:            return false;
    }
}

uint64_t sf_round_pack(const SfFmt *f, SfEnv *e, bool sign, int32_t exp,
                       uint64_t sig)
{
    if (!sig)
        return sf_pack_zero(f, sign);
    unsigned s = clz64(sig);
    sig <<= s;
    exp -= (int32_t)s;

    const unsigned p = f->frac + 1, shift = 64 - p;
    const uint64_t low = (1ull << shift) - 1, half = 1ull << (shift - 1);
    const int32_t emin = 1 - f->bias, emax = f->bias;
    uint64_t kept, rem;

    if (exp < emin) {
        /* Tininess after rounding (Vol. 1 4.9.1.5: the result rounded
         * "with unbounded exponent" is below 2^emin): only a value just
         * under 2^emin that rounds up to it escapes. */
        bool tiny = !(exp == emin - 1 && (sig >> shift) == (1ull << p) - 1 &&
                      sf_round_up(e->rc, sign, true, sig & low, half));
        if (tiny && !(e->masks & SF_UE)) {
            /* Unmasked underflow (Vol. 1 4.9.1.5): UE for every tiny
             * result, exact or not.  No result is stored (#XM follows), so
             * PE only says whether the significand itself was rounded, as
             * for the bias-adjusted result an x87 handler would get. */
            e->flags |= SF_UE | ((sig & low) ? SF_PE : 0);
            return sf_pack_zero(f, sign);
        }
        if (tiny && e->ftz) {
            /* FTZ (Vol. 1 10.2.3.3): a zero of the true result's sign. */
            e->flags |= SF_UE | SF_PE;
            return sf_pack_zero(f, sign);
        }
        sig = shift_right_jam(sig, (uint32_t)(emin - exp));
        kept = sig >> shift;
        rem = sig & low;
        if (sf_round_up(e->rc, sign, kept & 1, rem, half))
            kept++;
        if (rem)
            e->flags |= SF_PE;
        if (tiny && rem)
            e->flags |= SF_UE;
        /* A denormal has a zero exponent field; a carry into bit p-1 makes
         * it the smallest normal, which the addition encodes by itself. */
        return sign_bit(f, sign) + kept;
    }

    kept = sig >> shift;
    rem = sig & low;
    if (sf_round_up(e->rc, sign, kept & 1, rem, half)) {
        kept++;
        if (kept >> p) {
            kept >>= 1;
            exp++;
        }
    }
    if (exp > emax) {
        if (!(e->masks & SF_OE)) {
            /* Unmasked: nothing is stored; PE as for underflow above. */
            e->flags |= SF_OE | (rem ? SF_PE : 0);
            return sf_pack_inf(f, sign);
        }
        /* Overflow (Vol. 1 4.9.1.4, Table 4-10): infinity or the largest
         * finite value, by the rounding direction. */
        e->flags |= SF_OE | SF_PE;
        bool to_inf = e->rc == SF_RC_NEAREST || (e->rc == SF_RC_UP && !sign) ||
                      (e->rc == SF_RC_DOWN && sign);
        return to_inf ? sf_pack_inf(f, sign) : pack_max(f, sign);
    }
    if (rem)
        e->flags |= SF_PE;
    /* kept holds the hidden bit, which adds one to the exponent field. */
    return sign_bit(f, sign) + ((uint64_t)(exp + f->bias - 1) << f->frac) + kept;
}

/* Table 4-7, SSE column: an SNaN raises IE; the first source wins if it is
 * a NaN, else the second; the result is quiet. */
static uint64_t propagate_nan(const SfFmt *f, SfEnv *e, uint64_t a,
                              const SfParts *pa, uint64_t b, const SfParts *pb)
{
    if (pa->cls == SFC_SNAN || pb->cls == SFC_SNAN)
        e->flags |= SF_IE;
    return sf_quiet(f, sf_is_nan_class(pa->cls) ? a : b);
}

static bool any_nan(const SfParts *pa, const SfParts *pb)
{
    return sf_is_nan_class(pa->cls) || sf_is_nan_class(pb->cls);
}

static void note_denormals(SfEnv *e, const SfParts *pa, const SfParts *pb)
{
    if (pa->denormal || (pb && pb->denormal))
        e->flags |= SF_DE;
}

/* ---- add, subtract ------------------------------------------------------- */

static uint64_t add_signed(const SfFmt *f, SfEnv *e, uint64_t a, uint64_t b,
                           bool negate_b)
{
    SfParts pa = sf_unpack(f, e, a), pb = sf_unpack(f, e, b);
    if (any_nan(&pa, &pb))
        return propagate_nan(f, e, a, &pa, b, &pb);
    pb.sign ^= negate_b;
    note_denormals(e, &pa, &pb);
    if (pa.cls == SFC_INF || pb.cls == SFC_INF) {
        if (pa.cls == SFC_INF && pb.cls == SFC_INF && pa.sign != pb.sign) {
            e->flags |= SF_IE;
            return sf_default_nan(f);
        }
        return sf_pack_inf(f, pa.cls == SFC_INF ? pa.sign : pb.sign);
    }
    if (pa.cls == SFC_ZERO && pb.cls == SFC_ZERO) {
        /* IEEE 754 6.3: x + (-x) is +0, or -0 when rounding down. */
        bool s = pa.sign == pb.sign ? pa.sign : e->rc == SF_RC_DOWN;
        return sf_pack_zero(f, s);
    }
    if (pa.cls == SFC_ZERO)
        return sf_round_pack(f, e, pb.sign, pb.exp, pb.sig);
    if (pb.cls == SFC_ZERO)
        return sf_round_pack(f, e, pa.sign, pa.exp, pa.sig);

    /* Make a the larger magnitude; one bit of headroom for the carry. */
    if (pb.exp > pa.exp || (pb.exp == pa.exp && pb.sig > pa.sig)) {
        SfParts t = pa;
        pa = pb;
        pb = t;
    }
    uint64_t ma = pa.sig >> 1;
    uint64_t mb = shift_right_jam(pb.sig >> 1, (uint32_t)(pa.exp - pb.exp));
    if (pa.sign == pb.sign)
        return sf_round_pack(f, e, pa.sign, pa.exp + 1, ma + mb);
    /* With the operands at least 2 apart the difference loses at most one
     * leading bit, and the 10+ guard bits below the significand plus the
     * sticky bit still round correctly; closer operands are exact. */
    uint64_t diff = ma - mb;
    if (!diff)
        return sf_pack_zero(f, e->rc == SF_RC_DOWN);
    return sf_round_pack(f, e, pa.sign, pa.exp + 1, diff);
}

uint64_t sf_add(SfFormat fm, SfEnv *e, uint64_t a, uint64_t b)
{
    return add_signed(&sf_formats[fm], e, a, b, false);
}

uint64_t sf_sub(SfFormat fm, SfEnv *e, uint64_t a, uint64_t b)
{
    return add_signed(&sf_formats[fm], e, a, b, true);
}

/* ---- multiply, divide, square root --------------------------------------- */

uint64_t sf_mul(SfFormat fm, SfEnv *e, uint64_t a, uint64_t b)
{
    const SfFmt *f = &sf_formats[fm];
    SfParts pa = sf_unpack(f, e, a), pb = sf_unpack(f, e, b);
    if (any_nan(&pa, &pb))
        return propagate_nan(f, e, a, &pa, b, &pb);
    bool sign = pa.sign ^ pb.sign;
    if ((pa.cls == SFC_INF && pb.cls == SFC_ZERO) ||
        (pa.cls == SFC_ZERO && pb.cls == SFC_INF)) {
        e->flags |= SF_IE;
        return sf_default_nan(f);
    }
    note_denormals(e, &pa, &pb);
    if (pa.cls == SFC_INF || pb.cls == SFC_INF)
        return sf_pack_inf(f, sign);
    if (pa.cls == SFC_ZERO || pb.cls == SFC_ZERO)
        return sf_pack_zero(f, sign);
    unsigned __int128 prod = (unsigned __int128)pa.sig * pb.sig;
    uint64_t hi = (uint64_t)(prod >> 64), lo = (uint64_t)prod;
    return sf_round_pack(f, e, sign, pa.exp + pb.exp + 1, hi | (lo != 0));
}

uint64_t sf_div(SfFormat fm, SfEnv *e, uint64_t a, uint64_t b)
{
    const SfFmt *f = &sf_formats[fm];
    SfParts pa = sf_unpack(f, e, a), pb = sf_unpack(f, e, b);
    if (any_nan(&pa, &pb))
        return propagate_nan(f, e, a, &pa, b, &pb);
    bool sign = pa.sign ^ pb.sign;
    if ((pa.cls == SFC_INF && pb.cls == SFC_INF) ||
        (pa.cls == SFC_ZERO && pb.cls == SFC_ZERO)) {
        e->flags |= SF_IE;
        return sf_default_nan(f);
    }
    if (pb.cls == SFC_ZERO && pa.cls == SFC_FINITE) {
        /* Divide-by-zero outranks the denormal operand (Vol. 1 4.9.2). */
        e->flags |= SF_ZE;
        return sf_pack_inf(f, sign);
    }
    note_denormals(e, &pa, &pb);
    if (pa.cls == SFC_INF || pb.cls == SFC_ZERO)
        return sf_pack_inf(f, sign);     /* inf / x, inf / 0: exact */
    if (pb.cls == SFC_INF || pa.cls == SFC_ZERO)
        return sf_pack_zero(f, sign);
    /* sig_a / sig_b is in (1/2, 2): 2^62 × that keeps 62+ quotient bits. */
    unsigned __int128 n = (unsigned __int128)pa.sig << 62;
    uint64_t q = (uint64_t)(n / pb.sig);
    bool sticky = (n % pb.sig) != 0;
    return sf_round_pack(f, e, sign, pa.exp - pb.exp + 1, q | sticky);
}

/* floor(sqrt(m)) for m < 2^128, one result bit at a time. */
static uint64_t isqrt128(unsigned __int128 m)
{
    uint64_t r = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t t = r | 1ull << bit;
        if ((unsigned __int128)t * t <= m)
            r = t;
    }
    return r;
}

uint64_t sf_sqrt(SfFormat fm, SfEnv *e, uint64_t a)
{
    const SfFmt *f = &sf_formats[fm];
    SfParts pa = sf_unpack(f, e, a);
    if (sf_is_nan_class(pa.cls)) {
        if (pa.cls == SFC_SNAN)
            e->flags |= SF_IE;
        return sf_quiet(f, a);
    }
    if (pa.cls == SFC_ZERO)
        return sf_pack_zero(f, pa.sign);   /* sqrt(-0) = -0 (IEEE 754 5.4.1) */
    if (pa.sign) {
        e->flags |= SF_IE;
        return sf_default_nan(f);
    }
    if (pa.cls == SFC_INF)
        return a;
    note_denormals(e, &pa, NULL);
    /* value = sig × 2^(exp-63); scale sig by 2^s so that exp - 63 - s is
     * even and the integer square root has 64 significant bits. */
    unsigned s = (pa.exp & 1) ? 64 : 63;
    unsigned __int128 m = (unsigned __int128)pa.sig << s;
    uint64_t r = isqrt128(m);
    bool sticky = (unsigned __int128)r * r != m;
    int32_t exp = (pa.exp - 63 - (int32_t)s) / 2 + 63;
    return sf_round_pack(f, e, false, exp, r | sticky);
}

/* ---- comparisons --------------------------------------------------------- */

/* Order of two non-NaN operands (zeros of either sign are equal). */
static int order(const SfParts *pa, const SfParts *pb)
{
    if (pa->cls == SFC_ZERO && pb->cls == SFC_ZERO)
        return SF_EQ;
    if (pa->sign != pb->sign)
        return pa->sign ? SF_LT : SF_GT;
    int mag;   /* -1, 0, 1: |a| versus |b| */
    if (pa->cls != pb->cls)
        mag = pa->cls < pb->cls ? -1 : 1;   /* zero < finite < infinity */
    else if (pa->cls != SFC_FINITE)
        mag = 0;
    else if (pa->exp != pb->exp)
        mag = pa->exp < pb->exp ? -1 : 1;
    else
        mag = pa->sig < pb->sig ? -1 : pa->sig > pb->sig;
    if (pa->sign)
        mag = -mag;
    return mag < 0 ? SF_LT : mag > 0 ? SF_GT : SF_EQ;
}

int sf_compare(SfFormat fm, SfEnv *e, uint64_t a, uint64_t b, bool signaling)
{
    const SfFmt *f = &sf_formats[fm];
    SfParts pa = sf_unpack(f, e, a), pb = sf_unpack(f, e, b);
    if (any_nan(&pa, &pb)) {
        if (signaling || pa.cls == SFC_SNAN || pb.cls == SFC_SNAN)
            e->flags |= SF_IE;
        return SF_UN;
    }
    note_denormals(e, &pa, &pb);
    return order(&pa, &pb);
}

uint64_t sf_cmp_predicate(SfFormat fm, SfEnv *e, uint64_t a, uint64_t b,
                          unsigned pred)
{
    /* EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD: LT, LE and their negations
     * are the signaling ones. */
    unsigned p = pred & 7;
    bool signaling = p == 1 || p == 2 || p == 5 || p == 6;
    int rel = sf_compare(fm, e, a, b, signaling);
    bool t;
    switch (p) {
    case 0: t = rel == SF_EQ; break;
    case 1: t = rel == SF_LT; break;
    case 2: t = rel == SF_LT || rel == SF_EQ; break;
    case 3: t = rel == SF_UN; break;
    case 4: t = rel != SF_EQ; break;
    case 5: t = rel != SF_LT; break;
    case 6: t = rel != SF_LT && rel != SF_EQ; break;
    default: t = rel != SF_UN; break;
    }
    if (!t)
        return 0;
    return fm == SF_F32 ? 0xffffffffull : ~0ull;
}

static uint64_t min_max(SfFormat fm, SfEnv *e, uint64_t a, uint64_t b, bool max)
{
    const SfFmt *f = &sf_formats[fm];
    SfParts pa = sf_unpack(f, e, a), pb = sf_unpack(f, e, b);
    if (any_nan(&pa, &pb)) {
        e->flags |= SF_IE;
        /* b is returned as read: a denormal under DAZ as a zero. */
        return pb.cls == SFC_ZERO ? sf_pack_zero(f, pb.sign) : b;
    }
    note_denormals(e, &pa, &pb);
    int rel = order(&pa, &pb);
    bool take_a = max ? rel == SF_GT : rel == SF_LT;
    /* Under DAZ a denormal operand is returned as the zero it was read as. */
    const SfParts *p = take_a ? &pa : &pb;
    if (p->cls == SFC_ZERO)
        return sf_pack_zero(f, p->sign);
    return take_a ? a : b;
}

uint64_t sf_min(SfFormat f, SfEnv *e, uint64_t a, uint64_t b)
{
    return min_max(f, e, a, b, false);
}

uint64_t sf_max(SfFormat f, SfEnv *e, uint64_t a, uint64_t b)
{
    return min_max(f, e, a, b, true);
}

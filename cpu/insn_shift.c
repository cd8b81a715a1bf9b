/* Shifts and rotates.
 *
 * Intel SDM Vol. 2: SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD.
 *
 * The count is masked to 5 bits (6 with a 64-bit operand).  A masked count
 * of 0 changes no flag and writes no memory (a memory operand is still
 * read, so its faults happen); only a 32-bit register destination is
 * rewritten, see shift_by_zero().  RCL/RCR of 8- and 16-bit operands rotate through
 * 9 or 17 bits, so their count is then reduced mod 9 / mod 17; the flags
 * are still written whenever the masked count is non-zero.
 *
 * SHL/SHR/SAR and SHLD record lazy flags (CC_SHL/CC_SHR/CC_SAR, see
 * cpu/flags.c).  Rotates change only CF and OF, so they materialise the
 * flags and replace those two.  SHRD's OF (sign change) does not fit a lazy
 * kind, so it is computed eagerly too.  OF is defined by the SDM for a
 * count of 1 only; for larger counts we keep the same formula, which is
 * deterministic (and is what AMD hardware produces).  For SHRD that formula
 * is the XOR of the two top bits of the result: for a count of 1 it is the
 * SDM's sign change, since bit w-2 of the result is the old sign.
 *
 * SHLD/SHRD with a 16-bit operand and a count above 16 have an undefined
 * result.  We use the behaviour reported for Intel processors (and the one
 * other emulators model): the 48-bit pattern dest:src:dest is shifted, so
 * bits of the destination come back in; CF is the last bit shifted out of
 * it.  AMD differs (checked on the host): it shifts src:src in, giving a
 * rotate of src by count - 16.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

/* Arithmetic right shift of a 64-bit value, n < 64, without relying on
 * implementation-defined signed shifts. */
static uint64_t sar64(uint64_t x, unsigned n)
{
    uint64_t r = x >> n;
    if (x >> 63)
        r |= ~(~0ull >> n);
    return r;
}

/* Read the destination and the count (operand 1, or 2 for SHLD/SHRD); the
 * count is masked as the SDM says for every shift and rotate. */
static int read_shift(Cpu *cpu, const DecodedInsn *d, int count_op,
                      uint64_t *v, unsigned *count)
{
    uint64_t c;
    int rc = op_read(cpu, d, 0, d->osize, v);
    if (rc != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, count_op, 1, &c)) != CPU_OK)
        return rc;
    *v &= size_mask(d->osize);
    *count = (unsigned)c & (d->osize == 8 ? 0x3f : 0x1f);
    return CPU_OK;
}

/* A masked count of 0 changes no flag and no value, but a 32-bit register
 * destination is still written, so its upper half is zeroed in 64-bit mode
 * as by any 32-bit operation (hardware does this; checked on an AMD host for
 * every shift and rotate).  A memory destination is only read. */
static int shift_by_zero(Cpu *cpu, const DecodedInsn *d, uint64_t v)
{
    if (d->kind[0] == OPK_REG && d->osize == 4)
        return op_write(cpu, d, 0, 4, v);
    return CPU_OK;
}

/* ---- SHL / SHR / SAR ------------------------------------------------- */

int h_SHL(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, n;
    uint64_t v, m = size_mask(size);
    int rc = read_shift(cpu, d, 1, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    /* n <= 63, so both shifts are defined; bits past the operand fall off
     * with the mask, which makes CF = 0 when n exceeds the width. */
    uint64_t r = (v << n) & m;
    if ((rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
        return rc;
    cc_set(cpu, CC_SHL, size, r, (v << (n - 1)) & m, 0);
    return CPU_OK;
}

int h_SHR(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, n;
    uint64_t v;
    int rc = read_shift(cpu, d, 1, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    uint64_t r = v >> n;
    if ((rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
        return rc;
    cc_set(cpu, CC_SHR, size, r, v >> (n - 1), 0);
    return CPU_OK;
}

int h_SAR(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, n;
    uint64_t v, m = size_mask(size);
    int rc = read_shift(cpu, d, 1, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    uint64_t sv = sign_extend(v, size);
    uint64_t r = sar64(sv, n) & m;
    if ((rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
        return rc;
    cc_set(cpu, CC_SAR, size, r, sar64(sv, n - 1) & m, 0);
    return CPU_OK;
}

/* ---- rotates ---------------------------------------------------------- */

/* Write the rotated value, then replace CF and OF in the current flags. */
static int rotate_commit(Cpu *cpu, const DecodedInsn *d, uint64_t r, bool cf,
                         bool of)
{
    uint32_t f = cc_compute(cpu) & ~(uint32_t)(F_CF | F_OF);
    int rc = op_write(cpu, d, 0, d->osize, r);
    if (rc != CPU_OK)
        return rc;
    cc_set_flags(cpu, f | (cf ? F_CF : 0) | (of ? F_OF : 0));
    return CPU_OK;
}

static bool msb(uint64_t v, unsigned size)
{
    return (v & sign_bit(size)) != 0;
}

/* Rotate a `w`-bit value left by n, 0 < n < w. */
static uint64_t rotl(uint64_t v, unsigned n, unsigned w)
{
    return ((v << n) | (v >> (w - n))) & size_mask(w / 8);
}

int h_ROL(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = size * 8, n;
    uint64_t v;
    int rc = read_shift(cpu, d, 1, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    /* A multiple of the width leaves the value but still sets the flags
     * (CF = bit 0 of the result), as on hardware. */
    uint64_t r = n % w ? rotl(v, n % w, w) : v;
    bool cf = r & 1;
    return rotate_commit(cpu, d, r, cf, msb(r, size) != cf);
}

int h_ROR(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = size * 8, n;
    uint64_t v;
    int rc = read_shift(cpu, d, 1, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    uint64_t r = n % w ? rotl(v, w - n % w, w) : v;
    bool cf = msb(r, size);
    /* OF = XOR of the two most significant bits of the result (SDM ROR). */
    return rotate_commit(cpu, d, r, cf, cf != msb(r << 1, size));
}

/* Rotation through CF: the (w+1)-bit value CF:v.  n is reduced mod w+1 by
 * the caller, 0 < n <= w; every shift below stays under 64. */
static uint64_t rcl_bits(uint64_t v, bool cf, unsigned n, unsigned w,
                         bool *cf_out)
{
    *cf_out = (v >> (w - n)) & 1;
    uint64_t r = (v << n) | ((uint64_t)cf << (n - 1));
    if (n > 1)
        r |= v >> (w + 1 - n);
    return r & size_mask(w / 8);
}

static uint64_t rcr_bits(uint64_t v, bool cf, unsigned n, unsigned w,
                         bool *cf_out)
{
    *cf_out = (v >> (n - 1)) & 1;
    uint64_t r = (v >> n) | ((uint64_t)cf << (w - n));
    if (n > 1)
        r |= v << (w + 1 - n);
    return r & size_mask(w / 8);
}

/* The count of RCL/RCR after the mod 9 / mod 17 reduction of narrow
 * operands (SDM RCL/RCR: "tempCOUNT <- (COUNT AND 1FH) MOD 9"). */
static unsigned rc_count(unsigned n, unsigned size)
{
    return size == 1 ? n % 9 : size == 2 ? n % 17 : n;
}

int h_RCL(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = size * 8, n;
    uint64_t v, r = 0;
    int rc = read_shift(cpu, d, 1, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    bool cf = cc_carry(cpu), ncf = cf;
    unsigned k = rc_count(n, size);
    r = k ? rcl_bits(v, cf, k, w, &ncf) : v;
    return rotate_commit(cpu, d, r, ncf, msb(r, size) != ncf);
}

int h_RCR(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = size * 8, n;
    uint64_t v, r = 0;
    int rc = read_shift(cpu, d, 1, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    bool cf = cc_carry(cpu), ncf = cf;
    unsigned k = rc_count(n, size);
    r = k ? rcr_bits(v, cf, k, w, &ncf) : v;
    /* For count 1 the SDM's MSB(dest) XOR CF (both before) is exactly the
     * XOR of the two top bits of the result. */
    return rotate_commit(cpu, d, r, ncf, msb(r, size) != msb(r << 1, size));
}

/* ---- double-precision shifts ----------------------------------------- */

/* SHLD/SHRD of a 16-bit operand by 17..31 (undefined by the SDM): shift the
 * 48-bit pattern dest:src:dest (see the header); SHLD keeps the top 16
 * bits, SHRD the low 16.  *last_out is the last bit shifted out. */
static uint64_t shld16_long(uint64_t v, uint64_t s, unsigned n,
                            uint64_t *last_out)
{
    uint64_t x = v << 32 | s << 16 | v;        /* 48 bits */
    *last_out = (x << (n - 1)) >> 47 & 1;
    return (x << n) >> 32 & 0xffff;
}

static uint64_t shrd16_long(uint64_t v, uint64_t s, unsigned n,
                            uint64_t *last_out)
{
    uint64_t x = v << 32 | s << 16 | v;        /* dest at the low end */
    *last_out = x >> (n - 1) & 1;
    return x >> n & 0xffff;
}

int h_SHLD(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = size * 8, n;
    uint64_t v, s, r, m = size_mask(size);
    int rc = read_shift(cpu, d, 2, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, 1, size, &s)) != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    s &= m;
    if (n > w) {
        uint64_t last;
        r = shld16_long(v, s, n, &last);
        if ((rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
            return rc;
        /* Only w = 16 gets here.  CC_SHL's CF is msb(src): put the last
         * bit shifted out at bit 15. */
        cc_set(cpu, CC_SHL, size, r, last << 15, 0);
        return CPU_OK;
    }
    r = ((v << n) | (n == w ? s : s >> (w - n))) & m;
    if ((rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
        return rc;
    /* As SHL: CF is the last bit shifted out of dest, OF the sign change
     * for a count of 1. */
    cc_set(cpu, CC_SHL, size, r, (v << (n - 1)) & m, 0);
    return CPU_OK;
}

int h_SHRD(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = size * 8, n;
    uint64_t v, s, r, last, m = size_mask(size);
    int rc = read_shift(cpu, d, 2, &v, &n);
    if (rc != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, 1, size, &s)) != CPU_OK)
        return rc;
    if (n == 0)
        return shift_by_zero(cpu, d, v);
    s &= m;
    if (n > w) {
        r = shrd16_long(v, s, n, &last);
    } else {
        r = ((v >> n) | (n == w ? s : s << (w - n))) & m;
        last = (v >> (n - 1)) & 1;
    }
    if ((rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
        return rc;
    /* AF is undefined: 1, as for the other shifts (cpu/flags.c). */
    uint32_t f = F_AF | (r & sign_bit(size) ? F_SF : 0) | (r == 0 ? F_ZF : 0) |
         (parity8(r) ? F_PF : 0) | (last ? F_CF : 0) |
         (msb(r, size) != msb(r << 1, size) ? F_OF : 0);
    cc_set_flags(cpu, f);
    return CPU_OK;
}

/* Multiplication and division.
 *
 * Intel SDM Vol. 2: MUL, IMUL (one-, two- and three-operand forms), DIV,
 * IDIV.  Products are recorded as CC_MUL (CF = OF = "the upper half is
 * significant"; SF/ZF/PF are undefined and follow the low result).  DIV and
 * IDIV leave every flag undefined; we leave them unchanged.
 *
 * Division raises #DE for a zero divisor and for a quotient that does not
 * fit the destination (IDIV's INT_MIN / -1 included) before any register is
 * written.  Signed division is done on magnitudes so that no C operation
 * can overflow.  64-bit operands use unsigned __int128, which GCC and Clang
 * provide on every 64-bit host we build for.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

typedef unsigned __int128 u128;

/* The implicit accumulator pair: AX (byte form), DX:AX, EDX:EAX, RDX:RAX. */
static void write_acc_pair(Cpu *cpu, unsigned size, uint64_t lo, uint64_t hi)
{
    if (size == 1) {
        reg_write(cpu, R_AX, 2, (lo & 0xff) | (hi & 0xff) << 8);
        return;
    }
    reg_write(cpu, R_AX, size, lo);
    reg_write(cpu, R_DX, size, hi);
}

/* Full product of two `size`-byte values as (lo, hi) halves of 2*size. */
static void mul_wide(uint64_t a, uint64_t b, unsigned size, bool is_signed,
                     uint64_t *lo, uint64_t *hi)
{
    uint64_t m = size_mask(size);
    if (size == 8) {
        u128 p;
        if (is_signed)
            p = (u128)((__int128)(int64_t)a * (__int128)(int64_t)b);
        else
            p = (u128)a * b;
        *lo = (uint64_t)p;
        *hi = (uint64_t)(p >> 64);
        return;
    }
    /* Up to 32x32 bits: the product fits 64 bits.  Signed products are
     * formed as two's complement in uint64_t, which never overflows. */
    uint64_t p = is_signed ? sign_extend(a, size) * sign_extend(b, size)
                           : (a & m) * (b & m);
    *lo = p & m;
    *hi = (p >> (size * 8)) & m;
}

/* MUL/IMUL1: CF = OF = 1 when the upper half carries information (non-zero
 * for MUL, not the sign extension of the lower half for IMUL). */
static int mul_acc(Cpu *cpu, const DecodedInsn *d, bool is_signed)
{
    unsigned size = d->osize;
    uint64_t src, lo, hi;
    int rc = op_read(cpu, d, 0, size, &src);
    if (rc != CPU_OK)
        return rc;

    mul_wide(reg_read(cpu, R_AX, size), src, size, is_signed, &lo, &hi);
    bool wide = is_signed ? hi != ((lo & sign_bit(size)) ? size_mask(size) : 0)
                          : hi != 0;
    write_acc_pair(cpu, size, lo, hi);
    cc_set(cpu, CC_MUL, size, lo, wide, 0);
    return CPU_OK;
}

int h_MUL(Cpu *cpu, const DecodedInsn *d) { return mul_acc(cpu, d, false); }
int h_IMUL1(Cpu *cpu, const DecodedInsn *d) { return mul_acc(cpu, d, true); }

/* IMUL Gv, Ev[, imm]: the truncated signed product; CF = OF = 1 when it
 * differs from the full product (SDM IMUL). */
static int imul_trunc(Cpu *cpu, const DecodedInsn *d, int a_op, int b_op)
{
    unsigned size = d->osize;
    uint64_t a, b, lo, hi;
    int rc;

    if ((rc = op_read(cpu, d, a_op, size, &a)) != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, b_op, size, &b)) != CPU_OK)
        return rc;
    mul_wide(a, b, size, true, &lo, &hi);
    bool wide = hi != ((lo & sign_bit(size)) ? size_mask(size) : 0);
    if ((rc = op_write(cpu, d, 0, size, lo)) != CPU_OK)
        return rc;
    cc_set(cpu, CC_MUL, size, lo, wide, 0);
    return CPU_OK;
}

int h_IMUL2(Cpu *cpu, const DecodedInsn *d) { return imul_trunc(cpu, d, 0, 1); }
int h_IMUL3(Cpu *cpu, const DecodedInsn *d) { return imul_trunc(cpu, d, 1, 2); }

/* The dividend: AX for byte division, else DX:AX / EDX:EAX / RDX:RAX, as a
 * (hi, lo) pair of `size`-byte halves. */
static void read_dividend(const Cpu *cpu, unsigned size, uint64_t *hi,
                          uint64_t *lo)
{
    if (size == 1) {
        uint64_t ax = reg_read(cpu, R_AX, 2);
        *lo = ax & 0xff;
        *hi = ax >> 8;
    } else {
        *lo = reg_read(cpu, R_AX, size);
        *hi = reg_read(cpu, R_DX, size);
    }
}

/* Unsigned (hi:lo) / div for `size`-byte halves.  Returns false when the
 * quotient does not fit `size` bytes; div is non-zero. */
static bool udiv_wide(uint64_t hi, uint64_t lo, uint64_t div, unsigned size,
                      uint64_t *q, uint64_t *r)
{
    /* The quotient fits iff the high half is below the divisor. */
    if (hi >= div)
        return false;
    if (size == 8) {
        u128 n = (u128)hi << 64 | lo;
        *q = (uint64_t)(n / div);
        *r = (uint64_t)(n % div);
    } else {
        uint64_t n = hi << (size * 8) | lo;
        *q = n / div;
        *r = n % div;
    }
    return true;
}

int h_DIV(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t div, hi, lo, q, r;
    int rc = op_read(cpu, d, 0, size, &div);
    if (rc != CPU_OK)
        return rc;
    div &= size_mask(size);
    read_dividend(cpu, size, &hi, &lo);
    if (div == 0 || !udiv_wide(hi, lo, div, size, &q, &r))
        return cpu_raise(cpu, EXC_DE, 0, false);
    write_acc_pair(cpu, size, q, r);
    return CPU_OK;
}

/* Two's-complement negation of the 2*size-byte value (hi:lo), in place. */
static void neg_wide(uint64_t *hi, uint64_t *lo, unsigned size)
{
    uint64_t m = size_mask(size);
    *lo = (0 - *lo) & m;
    *hi = (~*hi + (*lo == 0)) & m;
}

int h_IDIV(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t m = size_mask(size), sb = sign_bit(size);
    uint64_t div, hi, lo, q, r;
    int rc = op_read(cpu, d, 0, size, &div);
    if (rc != CPU_OK)
        return rc;
    div &= m;
    if (div == 0)
        return cpu_raise(cpu, EXC_DE, 0, false);

    read_dividend(cpu, size, &hi, &lo);
    bool n_neg = hi & sb, d_neg = div & sb;
    if (n_neg)
        neg_wide(&hi, &lo, size);
    if (d_neg)
        div = (0 - div) & m;
    /* |quotient| must be <= 2^(w-1) - 1, or exactly 2^(w-1) when the
     * quotient is negative (SDM IDIV: "-2^(w-1) to 2^(w-1) - 1"). */
    bool q_neg = n_neg != d_neg;
    if (!udiv_wide(hi, lo, div, size, &q, &r) || q > (q_neg ? sb : sb - 1))
        return cpu_raise(cpu, EXC_DE, 0, false);
    if (q_neg)
        q = (0 - q) & m;
    if (n_neg)
        r = (0 - r) & m;        /* the remainder has the dividend's sign */
    write_acc_pair(cpu, size, q, r);
    return CPU_OK;
}

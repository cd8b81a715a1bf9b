/* Bit tests, bit scans, bit counts and byte swap.
 *
 * Intel SDM Vol. 2: BT, BTS, BTR, BTC, BSF, BSR, TZCNT, LZCNT, POPCNT,
 * BSWAP.
 *
 * BT*: with a register bit offset and a memory operand the offset is a
 * signed number of bits from the operand's address, so the access may land
 * anywhere in -2^63..2^63-1 bits (SDM BT, "Bit(BitBase, BitOffset)"): we
 * access the operand-sized unit that holds the bit, at
 * EA + (offset >> log2(width)) * size, wrapped to the address size like any
 * effective address.  With a register operand, or an immediate offset, the
 * offset is taken modulo the width.  CF = the bit; ZF is unaffected; OF, SF,
 * AF, PF are undefined and we leave them unchanged.
 *
 * BSF/BSR with a zero source set ZF and leave the destination untouched,
 * all 64 bits of it even with a 32-bit operand in 64-bit mode (the SDM says
 * "undefined"; Intel and AMD hardware leave it unchanged).  Their other
 * flags are undefined; they are recorded as a logical operation on the
 * source (CF = OF = AF = 0, SF/PF of the source).
 *
 * BSWAP of a 16-bit operand is undefined; hardware gives 0 in the low 16
 * bits, and so do we.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

typedef enum { BIT_TEST, BIT_SET, BIT_RESET, BIT_COMPLEMENT } BitOp;

/* Floor division of a signed bit offset by the width, in units of the
 * operand: an arithmetic shift, written without signed shifts. */
static uint64_t bit_unit(uint64_t off, unsigned size)
{
    unsigned shift = size_log2(size) + 3;
    uint64_t s = sign_extend(off, size);
    uint64_t q = s >> shift;
    if (s >> 63)
        q |= ~(~0ull >> shift);
    return q;
}

static int bit_op(Cpu *cpu, const DecodedInsn *d, BitOp op)
{
    unsigned size = d->osize, bits = size * 8;
    const DecodedInsn *t = d;
    DecodedInsn moved;
    uint64_t off, v;
    int rc;

    if ((rc = op_read(cpu, d, 1, size, &off)) != CPU_OK)
        return rc;
    if (d->kind[0] == OPK_MEM && d->kind[1] == OPK_REG) {
        /* Same operand, displaced: the effective address arithmetic
         * (and its wrap to the address size) stays in op_read/op_write. */
        moved = *d;
        moved.disp = (int64_t)((uint64_t)d->disp + bit_unit(off, size) * size);
        t = &moved;
    }
    unsigned bit = (unsigned)off & (bits - 1);
    if ((rc = op_read(cpu, t, 0, size, &v)) != CPU_OK)
        return rc;

    bool cf = (v >> bit) & 1;
    uint64_t mask = 1ull << bit;
    uint32_t f = cc_compute(cpu) & ~(uint32_t)F_CF;
    if (op != BIT_TEST) {
        v = op == BIT_SET ? v | mask : op == BIT_RESET ? v & ~mask : v ^ mask;
        if ((rc = op_write(cpu, t, 0, size, v)) != CPU_OK)
            return rc;
    }
    cc_set_flags(cpu, f | (cf ? F_CF : 0));
    return CPU_OK;
}

int h_BT(Cpu *cpu, const DecodedInsn *d)  { return bit_op(cpu, d, BIT_TEST); }
int h_BTS(Cpu *cpu, const DecodedInsn *d) { return bit_op(cpu, d, BIT_SET); }
int h_BTR(Cpu *cpu, const DecodedInsn *d) { return bit_op(cpu, d, BIT_RESET); }
int h_BTC(Cpu *cpu, const DecodedInsn *d) { return bit_op(cpu, d, BIT_COMPLEMENT); }

static int bit_scan(Cpu *cpu, const DecodedInsn *d, bool reverse)
{
    unsigned size = d->osize;
    uint64_t s;
    int rc = op_read(cpu, d, 1, size, &s);
    if (rc != CPU_OK)
        return rc;
    s &= size_mask(size);
    if (s != 0) {
        uint64_t idx = reverse ? 63u - (unsigned)__builtin_clzll(s)
                               : (unsigned)__builtin_ctzll(s);
        if ((rc = op_write(cpu, d, 0, size, idx)) != CPU_OK)
            return rc;
    }
    /* ZF = (source == 0); the rest is undefined (see the header). */
    cc_set(cpu, CC_LOGIC, size, s, 0, 0);
    return CPU_OK;
}

int h_BSF(Cpu *cpu, const DecodedInsn *d) { return bit_scan(cpu, d, false); }
int h_BSR(Cpu *cpu, const DecodedInsn *d) { return bit_scan(cpu, d, true); }

/* TZCNT/LZCNT: the count is the width for a zero source; CF = (source ==
 * 0), ZF = (result == 0); OF, SF, AF, PF are undefined and we clear them. */
static int bit_count_zeros(Cpu *cpu, const DecodedInsn *d, bool leading)
{
    unsigned size = d->osize, bits = size * 8;
    uint64_t s, n;
    int rc = op_read(cpu, d, 1, size, &s);
    if (rc != CPU_OK)
        return rc;
    s &= size_mask(size);
    if (s == 0)
        n = bits;
    else if (leading)
        n = (unsigned)__builtin_clzll(s) - (64 - bits);
    else
        n = (unsigned)__builtin_ctzll(s);
    if ((rc = op_write(cpu, d, 0, size, n)) != CPU_OK)
        return rc;
    cc_set_flags(cpu, (s == 0 ? F_CF : 0) | (n == 0 ? F_ZF : 0));
    return CPU_OK;
}

int h_TZCNT(Cpu *cpu, const DecodedInsn *d) { return bit_count_zeros(cpu, d, false); }
int h_LZCNT(Cpu *cpu, const DecodedInsn *d) { return bit_count_zeros(cpu, d, true); }

/* POPCNT: OF, SF, AF, CF, PF are cleared, ZF = (source == 0). */
int h_POPCNT(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t s;
    int rc = op_read(cpu, d, 1, size, &s);
    if (rc != CPU_OK)
        return rc;
    s &= size_mask(size);
    if ((rc = op_write(cpu, d, 0, size, (uint64_t)__builtin_popcountll(s))) != CPU_OK)
        return rc;
    cc_set_flags(cpu, s == 0 ? F_ZF : 0);
    return CPU_OK;
}

int h_BSWAP(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t v;
    int rc = op_read(cpu, d, 0, size, &v);
    if (rc != CPU_OK)
        return rc;
    if (size == 2)
        v = 0;
    else if (size == 4)
        v = __builtin_bswap32((uint32_t)v);
    else
        v = __builtin_bswap64(v);
    return op_write(cpu, d, 0, size, v);
}

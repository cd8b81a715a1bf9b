/* The lazy-flags engine: the six arithmetic flags from cc_op and operands.
 *
 * Follows the flag definitions of the Intel SDM Vol. 1 3.4.3.1 (status
 * flags) and Appendix A (EFLAGS cross-reference), and the per-instruction
 * "Flags Affected" paragraphs of Vol. 2 for ADD, ADC, SUB, SBB, CMP, NEG,
 * AND/OR/XOR/TEST, INC, DEC, SHL/SAL, SHR, SAR, MUL and IMUL.  The condition
 * codes are those of Vol. 2 Appendix B.1 (Jcc/SETcc/CMOVcc "tttn").
 *
 * An arithmetic instruction records cc_op = CC_OP(kind, log2 size) and its
 * operands (see the enum in cpu/cpu.h); nothing is computed until a reader
 * asks.  Per kind, with w = operand width, m = 2^w - 1, msb = bit w-1:
 *
 *   CC_EFLAGS  cc_src holds the F_ARITH bits themselves.
 *   CC_ADD     dst = result, src = b; a = dst - src.  CF = carry out of
 *              a + b, OF = signed overflow, AF = carry out of bit 3.
 *   CC_ADC     as ADD with src2 = carry in; a = dst - src - src2.
 *   CC_SUB     dst = result, src = b; a = dst + src.  CF = borrow of a - b.
 *   CC_SBB     as SUB with src2 = borrow in; a = dst + src + src2.
 *   CC_LOGIC   CF = OF = AF = 0.
 *   CC_INC/DEC dst = result, src = CF before (INC/DEC keep CF); OF and AF
 *              follow from the result alone (+1/-1 crossed the sign/nibble).
 *   CC_SHL     src = operand << (count - 1): CF = msb(src) is the last bit
 *              shifted out; OF = msb(dst) ^ CF (defined for count 1).
 *   CC_SHR     src = operand >> (count - 1): CF = src & 1; OF = msb(src),
 *              which for count 1 is the msb of the original operand (the
 *              SDM's definition); for larger counts OF is undefined and
 *              msb(src) is our deterministic choice (AMD hardware
 *              agrees, checked on the host).
 *   CC_SAR     src = operand >>s (count - 1): CF = src & 1, OF = 0.
 *   CC_MUL     CF = OF = (src != 0).  SF/ZF/PF are undefined by the SDM; we
 *              choose SF = msb(dst), ZF = (dst == 0), PF = parity(dst),
 *              AF = 0.
 * For every kind but CC_EFLAGS, SF, ZF and PF come from dst (masked to w).
 * AF of the shifts is undefined; we set it to 1, which is what AMD hardware
 * does for every non-zero count (checked on the host) and what the 80286
 * does for SHR and SAR (SingleStepTests vectors).
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

bool parity8(uint64_t v)
{
    /* 0x6996 is the odd-parity table of a nibble; PF is even parity. */
    unsigned x = (unsigned)(v ^ (v >> 4)) & 0xf;
    return !((0x6996u >> x) & 1);
}

/* SF, ZF and PF of a result already masked to its size. */
static uint32_t flags_szp(uint64_t res, uint64_t sb)
{
    uint32_t f = 0;
    if (res & sb)
        f |= F_SF;
    if (res == 0)
        f |= F_ZF;
    if (parity8(res))
        f |= F_PF;
    return f;
}

static uint32_t flags_add(uint64_t res, uint64_t b, bool cin, uint64_t m,
                          uint64_t sb)
{
    uint64_t a = (res - b - cin) & m;
    uint32_t f = flags_szp(res, sb);
    /* a + b + cin wrapped iff the result did not grow past a. */
    if (cin ? res <= a : res < a)
        f |= F_CF;
    if ((a ^ res) & (b ^ res) & sb)
        f |= F_OF;
    if ((a ^ b ^ res) & 0x10)
        f |= F_AF;
    return f;
}

static uint32_t flags_sub(uint64_t res, uint64_t b, bool bin, uint64_t m,
                          uint64_t sb)
{
    uint64_t a = (res + b + bin) & m;
    uint32_t f = flags_szp(res, sb);
    if (bin ? a <= b : a < b)
        f |= F_CF;
    if ((a ^ b) & (a ^ res) & sb)
        f |= F_OF;
    if ((a ^ b ^ res) & 0x10)
        f |= F_AF;
    return f;
}

static uint32_t flags_shift(unsigned kind, uint64_t res, uint64_t src,
                            uint64_t sb)
{
    uint32_t f = flags_szp(res, sb) | F_AF;
    bool cf;
    switch (kind) {
    case CC_SHL:
        cf = (src & sb) != 0;
        if (((res & sb) != 0) != cf)
            f |= F_OF;
        break;
    case CC_SHR:
        cf = src & 1;
        if (src & sb)
            f |= F_OF;
        break;
    default: /* CC_SAR */
        cf = src & 1;
        break;
    }
    return cf ? f | F_CF : f;
}

uint32_t cc_compute(const Cpu *cpu)
{
    const CpuState *s = &cpu->s;
    unsigned kind = s->cc_op >> 2;
    unsigned size = 1u << (s->cc_op & 3);
    uint64_t m = size_mask(size), sb = sign_bit(size);
    uint64_t res = s->cc_dst & m, src = s->cc_src & m;
    uint32_t f;

    switch (kind) {
    case CC_EFLAGS:
        return (uint32_t)s->cc_src & F_ARITH;
    case CC_ADD:
        return flags_add(res, src, false, m, sb);
    case CC_ADC:
        return flags_add(res, src, s->cc_src2 != 0, m, sb);
    case CC_SUB:
        return flags_sub(res, src, false, m, sb);
    case CC_SBB:
        return flags_sub(res, src, s->cc_src2 != 0, m, sb);
    case CC_LOGIC:
        return flags_szp(res, sb);
    case CC_INC:
    case CC_DEC:
        f = flags_szp(res, sb) | (s->cc_src ? F_CF : 0);
        /* INC overflowed iff it produced the minimum signed value (and
         * crossed a nibble iff the low nibble wrapped to 0); DEC
         * mirrors it with the maximum value and a low nibble of F. */
        if (kind == CC_INC) {
            f |= res == sb ? F_OF : 0;
            f |= (res & 0xf) == 0 ? F_AF : 0;
        } else {
            f |= res == sb - 1 ? F_OF : 0;
            f |= (res & 0xf) == 0xf ? F_AF : 0;
        }
        return f;
    case CC_SHL:
    case CC_SHR:
    case CC_SAR:
        return flags_shift(kind, res, src, sb);
    case CC_MUL:
        return flags_szp(res, sb) | (s->cc_src ? F_CF | F_OF : 0);
    default:
        /* Not reachable with a valid cc_op; answer something defined. */
        return 0;
    }
}

bool cc_carry(const Cpu *cpu)
{
    const CpuState *s = &cpu->s;
    unsigned kind = s->cc_op >> 2;
    unsigned size = 1u << (s->cc_op & 3);
    uint64_t m = size_mask(size);
    uint64_t res = s->cc_dst & m, src = s->cc_src & m, a;

    switch (kind) {
    case CC_ADD:
        return res < src;               /* a + b wrapped iff res < b */
    case CC_SUB:
        return ((res + src) & m) < src;
    case CC_LOGIC:
        return false;
    case CC_INC:
    case CC_DEC:
        return s->cc_src != 0;
    case CC_ADC:
        a = (res - src - (s->cc_src2 != 0)) & m;
        return s->cc_src2 ? res <= a : res < a;
    default:
        return cc_compute(cpu) & F_CF;
    }
}

/* A condition from materialised flags; c is the tttn code without its
 * negation bit (SDM Vol. 2 B.1.4.7). */
static bool cond_from_flags(uint32_t f, int c)
{
    bool sf_ne_of = !(f & F_SF) != !(f & F_OF);
    switch (c) {
    case 0: return f & F_OF;
    case 1: return f & F_CF;
    case 2: return f & F_ZF;
    case 3: return f & (F_CF | F_ZF);
    case 4: return f & F_SF;
    case 5: return f & F_PF;
    case 6: return sf_ne_of;
    default: return sf_ne_of || (f & F_ZF);
    }
}

/* After CMP/SUB the conditions compare the operands directly:
 * B is a < b unsigned, L is a < b signed (SDM Vol. 1 7.3.8.3 / Jcc). */
static int cond_sub(const CpuState *s, unsigned size, int c)
{
    uint64_t m = size_mask(size);
    uint64_t res = s->cc_dst & m, b = s->cc_src & m;
    uint64_t a = (res + b) & m;
    int64_t sa = (int64_t)sign_extend(a, size);
    int64_t sbv = (int64_t)sign_extend(b, size);

    switch (c) {
    case 1: return a < b;
    case 2: return a == b;
    case 3: return a <= b;
    case 4: return (res & sign_bit(size)) != 0;
    case 6: return sa < sbv;
    case 7: return sa <= sbv;
    default: return -1;     /* O, P: take the general path */
    }
}

/* After a logical operation CF = OF = 0, so the conditions reduce to tests
 * of the result. */
static int cond_logic(uint64_t res, uint64_t sb, int c)
{
    switch (c) {
    case 0:
    case 1: return 0;
    case 2:
    case 3: return res == 0;
    case 4:
    case 6: return (res & sb) != 0;
    case 7: return res == 0 || (res & sb);
    default: return -1;
    }
}

bool cc_condition(const Cpu *cpu, int cond)
{
    const CpuState *s = &cpu->s;
    unsigned kind = s->cc_op >> 2;
    unsigned size = 1u << (s->cc_op & 3);
    int c = (cond >> 1) & 7, r = -1;

    if (kind == CC_SUB) {
        r = cond_sub(s, size, c);
    } else if (kind == CC_LOGIC) {
        r = cond_logic(s->cc_dst & size_mask(size), sign_bit(size), c);
    } else if (kind != CC_EFLAGS && (c == 2 || c == 4)) {
        /* ZF and SF come from the result for every lazy kind. */
        uint64_t res = s->cc_dst & size_mask(size);
        r = c == 2 ? res == 0 : (res & sign_bit(size)) != 0;
    } else if (kind == CC_EFLAGS) {
        r = cond_from_flags((uint32_t)s->cc_src, c);
    }
    if (r < 0)
        r = cond_from_flags(cc_compute(cpu), c);
    return (bool)r ^ (cond & 1);
}

void cc_set_flags(Cpu *cpu, uint32_t flags)
{
    cpu->s.cc_op = CC_OP(CC_EFLAGS, 0);
    cpu->s.cc_src = flags & F_ARITH;
    cpu->s.cc_dst = 0;
    cpu->s.cc_src2 = 0;
}

/* Bits of EFLAGS that are reserved: 1 reads as 1, 3, 5, 15 and 22-63 read
 * as 0 (SDM Vol. 1 3.4.3). */
#define EFLAGS_RESERVED0 ((1ull << 3) | (1ull << 5) | (1ull << 15) | \
                          ~((1ull << 22) - 1))

uint64_t cpu_get_eflags(Cpu *cpu)
{
    uint64_t f = cpu->s.eflags & ~(uint64_t)F_ARITH & ~EFLAGS_RESERVED0;
    return f | cc_compute(cpu) | F_FIXED1;
}

void cpu_set_eflags(Cpu *cpu, uint64_t value, uint64_t mask)
{
    if (mask & F_ARITH) {
        uint32_t arith = cc_compute(cpu);
        arith = (arith & ~(uint32_t)mask) | ((uint32_t)(value & mask) & F_ARITH);
        cc_set_flags(cpu, arith);
    }
    uint64_t e = (cpu->s.eflags & ~mask) | (value & mask);
    cpu->s.eflags = (e & ~(uint64_t)F_ARITH & ~EFLAGS_RESERVED0) | F_FIXED1;
}

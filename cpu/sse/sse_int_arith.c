/* Packed-integer arithmetic, comparison and logic: MMX, SSE2, SSSE3 and
 * SSE4.1/4.2, lane by lane.
 *
 * SDM Vol. 2 (one page each): PADDB/W/D/Q, PADDSB/SW, PADDUSB/USW,
 * PSUBB/W/D/Q, PSUBSB/SW, PSUBUSB/USW, PMULLW, PMULHW, PMULHUW, PMULUDQ,
 * PMADDWD, PSADBW, PAVGB/W, PMINUB, PMAXUB, PMINSW, PMAXSW, PCMPEQB/W/D,
 * PCMPGTB/W/D, PAND, PANDN, POR, PXOR; SSSE3: PABSB/W/D, PSIGNB/W/D,
 * PMULHRSW, PMADDUBSW, PHADDW/D/SW, PHSUBW/D/SW; SSE4.1: PMULLD, PMULDQ,
 * PMINSB/SD/UW/UD, PMAXSB/SD/UW/UD, PCMPEQQ, PHMINPOSUW, PTEST; SSE4.2:
 * PCMPGTQ.  Vol. 1 4.6.2 and 9.4.4 give the saturation rules.
 *
 * Each instruction is a LaneOp applied by simd_lanewise() to operand 0
 * (destination and first source) and operand 1, at the lane size the
 * instruction works on; ops that pair neighbouring narrow elements
 * (PMADDWD, PMADDUBSW, PSADBW, PMULUDQ) take the wider lane they produce
 * and split it themselves.
 */
#include "cpu/sse/sse_int.h"

int simd_lanewise(Cpu *cpu, const DecodedInsn *d, unsigned size, LaneOp op)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = { { 0, 0 } };
    for (unsigned i = 0; i < s.width / size; i++)
        lane_set(&r, size, i, op(lane_get(&s.a, size, i), lane_get(&s.b, size, i), size));
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

static int64_t sx(uint64_t v, unsigned size)
{
    return (int64_t)sign_extend(v, size);
}

/* ---- the lane operations ---------------------------------------------- */

static uint64_t op_add(uint64_t a, uint64_t b, unsigned n) { return (a + b) & size_mask(n); }
static uint64_t op_sub(uint64_t a, uint64_t b, unsigned n) { return (a - b) & size_mask(n); }
static uint64_t op_adds(uint64_t a, uint64_t b, unsigned n) { return sat_signed(sx(a, n) + sx(b, n), n); }
static uint64_t op_subs(uint64_t a, uint64_t b, unsigned n) { return sat_signed(sx(a, n) - sx(b, n), n); }
static uint64_t op_addus(uint64_t a, uint64_t b, unsigned n) { return sat_unsigned((int64_t)(a + b), n); }
static uint64_t op_subus(uint64_t a, uint64_t b, unsigned n) { return sat_unsigned((int64_t)a - (int64_t)b, n); }

static uint64_t op_mullo(uint64_t a, uint64_t b, unsigned n) { return (a * b) & size_mask(n); }
static uint64_t op_mulhs(uint64_t a, uint64_t b, unsigned n)
{
    return (uint64_t)((sx(a, n) * sx(b, n)) >> (8 * n)) & size_mask(n);
}
static uint64_t op_mulhu(uint64_t a, uint64_t b, unsigned n) { return (a * b) >> (8 * n); }

/* PMULHRSW: the product scaled by 2^-15 and rounded: bits 30:15 of
 * (a * b + 0x4000). */
static uint64_t op_mulhrs(uint64_t a, uint64_t b, unsigned n)
{
    int64_t p = sx(a, n) * sx(b, n);
    return (uint64_t)(((p >> 14) + 1) >> 1) & size_mask(n);
}

/* PMULUDQ (64-bit lanes): the unsigned product of the low doublewords;
 * PMULDQ the signed one. */
static uint64_t op_muludq(uint64_t a, uint64_t b, unsigned n) { return (a & 0xffffffffu) * (b & 0xffffffffu); }
static uint64_t op_muldq(uint64_t a, uint64_t b, unsigned n)
{
    return (uint64_t)((int64_t)(int32_t)(uint32_t)a * (int64_t)(int32_t)(uint32_t)b);
}

/* PMADDWD (32-bit lanes): two signed word products summed.  Only
 * 8000h*8000h twice overflows, and wraps to 80000000h as the SDM says. */
static uint64_t op_maddwd(uint64_t a, uint64_t b, unsigned n)
{
    int64_t s = sx(a & 0xffff, 2) * sx(b & 0xffff, 2) + sx(a >> 16, 2) * sx(b >> 16, 2);
    return (uint64_t)s & 0xffffffffu;
}

/* PMADDUBSW (16-bit lanes): unsigned bytes of the destination times signed
 * bytes of the source, the two products summed with signed saturation. */
static uint64_t op_maddubsw(uint64_t a, uint64_t b, unsigned n)
{
    int64_t s = (int64_t)(a & 0xff) * sx(b & 0xff, 1) + (int64_t)(a >> 8) * sx(b >> 8, 1);
    return sat_signed(s, 2);
}

/* PSADBW (64-bit lanes): the sum of absolute byte differences in the low
 * word, the rest zero. */
static uint64_t op_sadbw(uint64_t a, uint64_t b, unsigned n)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < 8; i++) {
        int x = (int)((a >> (8 * i)) & 0xff), y = (int)((b >> (8 * i)) & 0xff);
        sum += (uint64_t)(x > y ? x - y : y - x);
    }
    return sum;
}

static uint64_t op_avg(uint64_t a, uint64_t b, unsigned n) { return (a + b + 1) >> 1; }
static uint64_t op_minu(uint64_t a, uint64_t b, unsigned n) { return a < b ? a : b; }
static uint64_t op_maxu(uint64_t a, uint64_t b, unsigned n) { return a > b ? a : b; }
static uint64_t op_mins(uint64_t a, uint64_t b, unsigned n) { return sx(a, n) < sx(b, n) ? a : b; }
static uint64_t op_maxs(uint64_t a, uint64_t b, unsigned n) { return sx(a, n) > sx(b, n) ? a : b; }
static uint64_t op_cmpeq(uint64_t a, uint64_t b, unsigned n) { return a == b ? size_mask(n) : 0; }
static uint64_t op_cmpgt(uint64_t a, uint64_t b, unsigned n) { return sx(a, n) > sx(b, n) ? size_mask(n) : 0; }
static uint64_t op_and(uint64_t a, uint64_t b, unsigned n) { return a & b; }
static uint64_t op_andn(uint64_t a, uint64_t b, unsigned n) { return ~a & b; }
static uint64_t op_or(uint64_t a, uint64_t b, unsigned n) { return a | b; }
static uint64_t op_xor(uint64_t a, uint64_t b, unsigned n) { return a ^ b; }

/* PABSx: the absolute value of the source; the most negative value stays
 * as it is (its unsigned reading is the right magnitude). */
static uint64_t op_abs(uint64_t a, uint64_t b, unsigned n)
{
    return (sx(b, n) < 0 ? 0 - b : b) & size_mask(n);
}

/* PSIGNx: the destination negated, zeroed or kept by the source's sign. */
static uint64_t op_sign(uint64_t a, uint64_t b, unsigned n)
{
    int64_t s = sx(b, n);
    return s < 0 ? (0 - a) & size_mask(n) : s == 0 ? 0 : a;
}

#define LANE_INSN(name, size, op) \
    int h_##name(Cpu *cpu, const DecodedInsn *d) { return simd_lanewise(cpu, d, size, op); }

LANE_INSN(PADDB, 1, op_add)
LANE_INSN(PADDW, 2, op_add)
LANE_INSN(PADDD, 4, op_add)
LANE_INSN(PADDQ, 8, op_add)
LANE_INSN(PADDSB, 1, op_adds)
LANE_INSN(PADDSW, 2, op_adds)
LANE_INSN(PADDUSB, 1, op_addus)
LANE_INSN(PADDUSW, 2, op_addus)
LANE_INSN(PSUBB, 1, op_sub)
LANE_INSN(PSUBW, 2, op_sub)
LANE_INSN(PSUBD, 4, op_sub)
LANE_INSN(PSUBQ, 8, op_sub)
LANE_INSN(PSUBSB, 1, op_subs)
LANE_INSN(PSUBSW, 2, op_subs)
LANE_INSN(PSUBUSB, 1, op_subus)
LANE_INSN(PSUBUSW, 2, op_subus)
LANE_INSN(PMULLW, 2, op_mullo)
LANE_INSN(PMULLD, 4, op_mullo)
LANE_INSN(PMULHW, 2, op_mulhs)
LANE_INSN(PMULHUW, 2, op_mulhu)
LANE_INSN(PMULHRSW, 2, op_mulhrs)
LANE_INSN(PMULUDQ, 8, op_muludq)
LANE_INSN(PMULDQ, 8, op_muldq)
LANE_INSN(PMADDWD, 4, op_maddwd)
LANE_INSN(PMADDUBSW, 2, op_maddubsw)
LANE_INSN(PSADBW, 8, op_sadbw)
LANE_INSN(PAVGB, 1, op_avg)
LANE_INSN(PAVGW, 2, op_avg)
LANE_INSN(PMINUB, 1, op_minu)
LANE_INSN(PMINUW, 2, op_minu)
LANE_INSN(PMINUD, 4, op_minu)
LANE_INSN(PMAXUB, 1, op_maxu)
LANE_INSN(PMAXUW, 2, op_maxu)
LANE_INSN(PMAXUD, 4, op_maxu)
LANE_INSN(PMINSB, 1, op_mins)
LANE_INSN(PMINSW, 2, op_mins)
LANE_INSN(PMINSD, 4, op_mins)
LANE_INSN(PMAXSB, 1, op_maxs)
LANE_INSN(PMAXSW, 2, op_maxs)
LANE_INSN(PMAXSD, 4, op_maxs)
LANE_INSN(PCMPEQB, 1, op_cmpeq)
LANE_INSN(PCMPEQW, 2, op_cmpeq)
LANE_INSN(PCMPEQD, 4, op_cmpeq)
LANE_INSN(PCMPEQQ, 8, op_cmpeq)
LANE_INSN(PCMPGTB, 1, op_cmpgt)
LANE_INSN(PCMPGTW, 2, op_cmpgt)
LANE_INSN(PCMPGTD, 4, op_cmpgt)
LANE_INSN(PCMPGTQ, 8, op_cmpgt)
LANE_INSN(PAND, 8, op_and)
LANE_INSN(PANDN, 8, op_andn)
LANE_INSN(POR, 8, op_or)
LANE_INSN(PXOR, 8, op_xor)
LANE_INSN(PABSB, 1, op_abs)
LANE_INSN(PABSW, 2, op_abs)
LANE_INSN(PABSD, 4, op_abs)
LANE_INSN(PSIGNB, 1, op_sign)
LANE_INSN(PSIGNW, 2, op_sign)
LANE_INSN(PSIGND, 4, op_sign)

/* ---- horizontal ---------------------------------------------------------- */

/* PHADDx/PHSUBx (SSSE3): adjacent pairs of the destination fill the low
 * half of the result, pairs of the source the high half. */
static int horizontal(Cpu *cpu, const DecodedInsn *d, unsigned size, LaneOp op)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = { { 0, 0 } };
    unsigned half = s.width / size / 2;
    for (unsigned i = 0; i < half; i++) {
        lane_set(&r, size, i, op(lane_get(&s.a, size, 2 * i),
                                 lane_get(&s.a, size, 2 * i + 1), size));
        lane_set(&r, size, half + i, op(lane_get(&s.b, size, 2 * i),
                                        lane_get(&s.b, size, 2 * i + 1), size));
    }
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

int h_PHADDW(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, 2, op_add); }
int h_PHADDD(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, 4, op_add); }
int h_PHADDSW(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, 2, op_adds); }
int h_PHSUBW(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, 2, op_sub); }
int h_PHSUBD(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, 4, op_sub); }
int h_PHSUBSW(Cpu *cpu, const DecodedInsn *d) { return horizontal(cpu, d, 2, op_subs); }

/* PHMINPOSUW xmm1, xmm2/m128 (SSE4.1): the smallest unsigned word of the
 * source in bits 15:0, its index (the lowest on ties) in bits 18:16, the
 * rest zero. */
int h_PHMINPOSUW(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg v;
    if (sse_check(cpu) != CPU_OK || simd_read(cpu, d, 1, 16, true, &v) != CPU_OK)
        return CPU_FAULT;
    unsigned best = 0;
    for (unsigned i = 1; i < 8; i++) {
        if (lane_get(&v, 2, i) < lane_get(&v, 2, best))
            best = i;
    }
    XmmReg r = { { lane_get(&v, 2, best) | ((uint64_t)best << 16), 0 } };
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

/* PTEST xmm1, xmm2/m128 (SSE4.1): ZF = (op1 AND op2) is zero, CF = (op2
 * AND NOT op1) is zero; AF, OF, PF and SF are cleared. */
int h_PTEST(Cpu *cpu, const DecodedInsn *d)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    bool zf = !((s.a.q[0] & s.b.q[0]) | (s.a.q[1] & s.b.q[1]));
    bool cf = !((~s.a.q[0] & s.b.q[0]) | (~s.a.q[1] & s.b.q[1]));
    cc_set_flags(cpu, (zf ? F_ZF : 0) | (cf ? F_CF : 0));
    return CPU_OK;
}

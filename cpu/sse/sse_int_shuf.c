/* Packed-integer rearrangement: pack, unpack, shuffle, shift, align,
 * blend, sign/zero extension and MPSADBW.
 *
 * SDM Vol. 2 (one page each): PACKSSWB/PACKSSDW, PACKUSWB, PACKUSDW,
 * PUNPCKLBW/WD/DQ/QDQ, PUNPCKHBW/WD/DQ/QDQ, PSHUFW, PSHUFD, PSHUFHW,
 * PSHUFLW, PSHUFB, PSLLW/D/Q, PSRLW/D/Q, PSRAW/D, PSLLDQ, PSRLDQ, PALIGNR,
 * PBLENDW, PBLENDVB, PMOVSX, PMOVZX, MPSADBW.
 */
#include "cpu/sse/sse_int.h"

/* ---- pack ------------------------------------------------------------------ */

/* Narrow the `size`-byte lanes of the destination (low half of the result)
 * and the source (high half) to size/2 bytes, saturating signed or
 * unsigned; the sources are signed in every case. */
static int pack(Cpu *cpu, const DecodedInsn *d, unsigned size, bool to_unsigned)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = { { 0, 0 } };
    unsigned n = s.width / size, half = size / 2;
    for (unsigned i = 0; i < n; i++) {
        int64_t x = lane_gets(&s.a, size, i), y = lane_gets(&s.b, size, i);
        lane_set(&r, half, i, to_unsigned ? sat_unsigned(x, half) : sat_signed(x, half));
        lane_set(&r, half, n + i, to_unsigned ? sat_unsigned(y, half) : sat_signed(y, half));
    }
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

int h_PACKSSWB(Cpu *cpu, const DecodedInsn *d) { return pack(cpu, d, 2, false); }
int h_PACKSSDW(Cpu *cpu, const DecodedInsn *d) { return pack(cpu, d, 4, false); }
int h_PACKUSWB(Cpu *cpu, const DecodedInsn *d) { return pack(cpu, d, 2, true); }
int h_PACKUSDW(Cpu *cpu, const DecodedInsn *d) { return pack(cpu, d, 4, true); }

/* ---- unpack ---------------------------------------------------------------- */

/* Interleave the low (high = false) or high halves of destination and
 * source.  The MMX low forms read only 32 bits of memory (mm/m32), so a
 * page boundary right after them does not fault. */
static int unpack(Cpu *cpu, const DecodedInsn *d, unsigned size, bool high)
{
    SimdArgs s;
    s.width = simd_width(d);
    unsigned src_bytes = s.width == 8 && !high ? 4 : s.width;
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 0, s.width, true, &s.a) != CPU_OK ||
        simd_read(cpu, d, 1, src_bytes, true, &s.b) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = { { 0, 0 } };
    unsigned n = s.width / size / 2, base = high ? n : 0;
    for (unsigned i = 0; i < n; i++) {
        lane_set(&r, size, 2 * i, lane_get(&s.a, size, base + i));
        lane_set(&r, size, 2 * i + 1, lane_get(&s.b, size, base + i));
    }
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

int h_PUNPCKLBW(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 1, false); }
int h_PUNPCKLWD(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 2, false); }
int h_PUNPCKLDQ(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 4, false); }
int h_PUNPCKLQDQ(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 8, false); }
int h_PUNPCKHBW(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 1, true); }
int h_PUNPCKHWD(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 2, true); }
int h_PUNPCKHDQ(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 4, true); }
int h_PUNPCKHQDQ(Cpu *cpu, const DecodedInsn *d) { return unpack(cpu, d, 8, true); }

/* ---- shuffles -------------------------------------------------------------- */

/* PSHUFW mm, mm/m64, imm8 (0F 70), PSHUFD (66), PSHUFHW (F3), PSHUFLW
 * (F2): lanes of `size` bytes picked by 2-bit fields of imm8.  `first` is
 * the first lane shuffled (4 for PSHUFHW); lanes outside the 4 shuffled
 * ones are copied from the source. */
static int pshuf(Cpu *cpu, const DecodedInsn *d, unsigned size, unsigned first)
{
    XmmReg src;
    unsigned width = simd_width(d);
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 1, width, true, &src) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = src;
    for (unsigned i = 0; i < 4; i++)
        lane_set(&r, size, first + i, lane_get(&src, size, first + ((d->imm >> (2 * i)) & 3)));
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

int h_PSHUFW(Cpu *cpu, const DecodedInsn *d) { return pshuf(cpu, d, 2, 0); }
int h_PSHUFD(Cpu *cpu, const DecodedInsn *d) { return pshuf(cpu, d, 4, 0); }
int h_PSHUFHW(Cpu *cpu, const DecodedInsn *d) { return pshuf(cpu, d, 2, 4); }
int h_PSHUFLW(Cpu *cpu, const DecodedInsn *d) { return pshuf(cpu, d, 2, 0); }

/* PSHUFB (SSSE3): each byte of the result is the destination byte that the
 * source byte indexes (low 3 or 4 bits), or zero if its bit 7 is set. */
int h_PSHUFB(Cpu *cpu, const DecodedInsn *d)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = { { 0, 0 } };
    for (unsigned i = 0; i < s.width; i++) {
        uint64_t sel = lane_get(&s.b, 1, i);
        if (!(sel & 0x80))
            lane_set(&r, 1, i, lane_get(&s.a, 1, (unsigned)sel & (s.width - 1)));
    }
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

/* ---- shifts ---------------------------------------------------------------- */

enum { SH_LEFT, SH_RIGHT, SH_ARITH };

/* PSLLx/PSRLx/PSRAx: by the whole low quadword of operand 1 (a register or
 * memory of the full width), or by imm8 (the 0F 71-73 groups, where operand
 * 0 is the register).  Counts past the lane width give zero, or all sign
 * bits for the arithmetic shift. */
static int shift(Cpu *cpu, const DecodedInsn *d, unsigned size, int kind)
{
    XmmReg v, c;
    unsigned width = simd_width(d);
    if (simd_begin(cpu, d) != CPU_OK)
        return CPU_FAULT;
    simd_read(cpu, d, 0, width, false, &v);
    uint64_t count = d->imm;
    if (d->kind[1] != OPK_IMM) {
        if (simd_read(cpu, d, 1, width, true, &c) != CPU_OK)
            return CPU_FAULT;
        count = c.q[0];
    }
    unsigned bits = size * 8;
    XmmReg r = { { 0, 0 } };
    for (unsigned i = 0; i < width / size; i++) {
        uint64_t x = lane_get(&v, size, i);
        if (kind == SH_ARITH)
            x = (uint64_t)(lane_gets(&v, size, i) >> (count >= bits ? bits - 1 : count));
        else if (count >= bits)
            x = 0;
        else
            x = kind == SH_LEFT ? x << count : x >> count;
        lane_set(&r, size, i, x);
    }
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

int h_PSLLW(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 2, SH_LEFT); }
int h_PSLLD(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 4, SH_LEFT); }
int h_PSLLQ(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 8, SH_LEFT); }
int h_PSRLW(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 2, SH_RIGHT); }
int h_PSRLD(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 4, SH_RIGHT); }
int h_PSRLQ(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 8, SH_RIGHT); }
int h_PSRAW(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 2, SH_ARITH); }
int h_PSRAD(Cpu *cpu, const DecodedInsn *d) { return shift(cpu, d, 4, SH_ARITH); }

/* Bytes of a 256-bit value hi:lo, zero beyond it. */
static uint64_t byte_of(const XmmReg *lo, const XmmReg *hi, unsigned i, unsigned width)
{
    if (i < width)
        return lane_get(lo, 1, i);
    if (i < 2 * width)
        return lane_get(hi, 1, i - width);
    return 0;
}

/* PSLLDQ/PSRLDQ xmm, imm8 (66 0F 73 /7, /3): the whole register shifted by
 * imm8 bytes; 16 or more clears it. */
static int shift_bytes(Cpu *cpu, const DecodedInsn *d, bool left)
{
    if (sse_check(cpu) != CPU_OK)
        return CPU_FAULT;
    XmmReg v = *xmm_reg(cpu, d->reg[0]), zero = { { 0, 0 } }, r = zero;
    unsigned n = (unsigned)(d->imm & 0xff);
    for (unsigned i = 0; i < 16; i++) {
        if (left)
            lane_set(&r, 1, i, i >= n ? lane_get(&v, 1, i - n) : 0);
        else
            lane_set(&r, 1, i, byte_of(&v, &zero, i + n, 16));
    }
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

int h_PSLLDQ(Cpu *cpu, const DecodedInsn *d) { return shift_bytes(cpu, d, true); }
int h_PSRLDQ(Cpu *cpu, const DecodedInsn *d) { return shift_bytes(cpu, d, false); }

/* PALIGNR (SSSE3, 0F 3A 0F): destination:source (destination high)
 * shifted right by imm8 bytes, the low half kept. */
int h_PALIGNR(Cpu *cpu, const DecodedInsn *d)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = { { 0, 0 } };
    unsigned n = (unsigned)(d->imm & 0xff);
    for (unsigned i = 0; i < s.width; i++)
        lane_set(&r, 1, i, byte_of(&s.b, &s.a, i + n, s.width));
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

/* ---- blends ---------------------------------------------------------------- */

/* PBLENDW (66 0F 3A 0E): word i from the source where imm8 bit i is set. */
int h_PBLENDW(Cpu *cpu, const DecodedInsn *d)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    for (unsigned i = 0; i < 8; i++) {
        if ((d->imm >> i) & 1)
            lane_set(&s.a, 2, i, lane_get(&s.b, 2, i));
    }
    simd_put(cpu, d, 0, &s.a);
    return CPU_OK;
}

/* PBLENDVB (66 0F 38 10): byte i from the source where bit 7 of byte i of
 * the implicit XMM0 is set. */
int h_PBLENDVB(Cpu *cpu, const DecodedInsn *d)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    const XmmReg *mask = xmm_reg(cpu, 0);
    for (unsigned i = 0; i < 16; i++) {
        if (lane_get(mask, 1, i) & 0x80)
            lane_set(&s.a, 1, i, lane_get(&s.b, 1, i));
    }
    simd_put(cpu, d, 0, &s.a);
    return CPU_OK;
}

/* ---- sign and zero extension (SSE4.1 PMOVSX/PMOVZX) ---------------------- */

/* Widen the low lanes of the source from `from` to `to` bytes; the memory
 * form reads exactly the bytes used (16 * from / to), with no alignment
 * requirement. */
static int pmov(Cpu *cpu, const DecodedInsn *d, unsigned from, unsigned to, bool sign)
{
    XmmReg v;
    unsigned n = 16 / to;
    if (sse_check(cpu) != CPU_OK || simd_read(cpu, d, 1, n * from, false, &v) != CPU_OK)
        return CPU_FAULT;
    XmmReg r = { { 0, 0 } };
    for (unsigned i = 0; i < n; i++)
        lane_set(&r, to, i, sign ? (uint64_t)lane_gets(&v, from, i) : lane_get(&v, from, i));
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

int h_PMOVSXBW(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 1, 2, true); }
int h_PMOVSXBD(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 1, 4, true); }
int h_PMOVSXBQ(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 1, 8, true); }
int h_PMOVSXWD(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 2, 4, true); }
int h_PMOVSXWQ(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 2, 8, true); }
int h_PMOVSXDQ(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 4, 8, true); }
int h_PMOVZXBW(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 1, 2, false); }
int h_PMOVZXBD(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 1, 4, false); }
int h_PMOVZXBQ(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 1, 8, false); }
int h_PMOVZXWD(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 2, 4, false); }
int h_PMOVZXWQ(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 2, 8, false); }
int h_PMOVZXDQ(Cpu *cpu, const DecodedInsn *d) { return pmov(cpu, d, 4, 8, false); }

/* ---- MPSADBW (SSE4.1, 66 0F 3A 42) ------------------------------------------ */

/* Eight sums of absolute differences between a 4-byte block of the source
 * (imm8 bits 1:0 pick it) and the eight overlapping 4-byte windows of the
 * destination starting at byte 0 or 4 (imm8 bit 2). */
int h_MPSADBW(Cpu *cpu, const DecodedInsn *d)
{
    SimdArgs s;
    if (simd_load2(cpu, d, &s) != CPU_OK)
        return CPU_FAULT;
    unsigned doff = (unsigned)((d->imm >> 2) & 1) * 4, soff = (unsigned)(d->imm & 3) * 4;
    XmmReg r = { { 0, 0 } };
    for (unsigned i = 0; i < 8; i++) {
        uint64_t sum = 0;
        for (unsigned k = 0; k < 4; k++) {
            int x = (int)lane_get(&s.a, 1, doff + i + k), y = (int)lane_get(&s.b, 1, soff + k);
            sum += (uint64_t)(x > y ? x - y : y - x);
        }
        lane_set(&r, 2, i, sum);
    }
    simd_put(cpu, d, 0, &r);
    return CPU_OK;
}

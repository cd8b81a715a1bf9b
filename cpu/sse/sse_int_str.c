/* SSE4.2 string and text instructions: CRC32 and PCMPESTRI, PCMPESTRM,
 * PCMPISTRI, PCMPISTRM.
 *
 * SDM Vol. 2: CRC32 (F2 0F 38 F0/F1), and section 4.1 "Imm8 Control Byte
 * Operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM" (4.1.1-4.1.7:
 * source data format, aggregation operation, polarity, output selection,
 * valid/invalid element overrides of Table 4-7, and the flags).  The
 * string instructions take their 128-bit memory operand unaligned (Vol. 2
 * PCMPESTRI, "Exceptions").
 */
#include "cpu/sse/sse_int.h"

/* ---- CRC32 -------------------------------------------------------------- */

/* CRC-32C (Castagnoli, polynomial 11EDC6F41h) in its bit-reflected form,
 * 82F63B78h: the bit reflections of source and destination in the SDM's
 * pseudo-code are what makes the shift go right.  No initial or final
 * inversion: that is software's business. */
static uint32_t crc32c_byte(uint32_t crc, uint8_t b)
{
    crc ^= b;
    for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    return crc;
}

/* CRC32 r32/r64, r/m8 (F2 0F 38 F0) and r32/r64, r/m16/32/64 (F1, size by
 * 66h and REX.W).  The destination is 64-bit with REX.W (its upper half
 * becomes zero) and 32-bit otherwise, whatever 66h says.  An integer
 * instruction: no CR0/CR4 checks; flags unchanged. */
int h_CRC32(Cpu *cpu, const DecodedInsn *d)
{
    unsigned src_size = d->opcode == 0xf0 ? 1 : d->osize;
    uint64_t src;
    if (op_read(cpu, d, 1, src_size, &src) != CPU_OK)
        return CPU_FAULT;
    uint32_t crc = (uint32_t)cpu->s.regs[d->reg[0]];
    for (unsigned i = 0; i < src_size; i++)
        crc = crc32c_byte(crc, (uint8_t)(src >> (8 * i)));
    reg_write(cpu, d->reg[0], (d->pfx & PFX_REXW) ? 8 : 4, crc);
    return CPU_OK;
}

/* ---- PCMPxSTRx ---------------------------------------------------------- */

enum { AGG_EQUAL_ANY, AGG_RANGES, AGG_EQUAL_EACH, AGG_EQUAL_ORDERED };

/* Length of an explicit string: |reg| saturated to the element count. */
static unsigned explicit_length(const Cpu *cpu, int r, bool rexw, unsigned count)
{
    uint64_t v = cpu->s.regs[r];
    int64_t s = rexw ? (int64_t)v : (int64_t)(int32_t)(uint32_t)v;
    uint64_t mag = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;
    return mag > count ? count : (unsigned)mag;
}

/* Length of an implicit string: the index of its first zero element. */
static unsigned implicit_length(const XmmReg *v, unsigned size, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        if (lane_get(v, size, i) == 0)
            return i;
    }
    return count;
}

/* The comparison of element j of the second operand with element i of
 * the first, BoolRes[j][i] of 4.1.4, with the overrides of Table 4-7 for
 * elements past the end of either string. */
static bool bool_res(const XmmReg *a, const XmmReg *b, unsigned i, unsigned j,
                     unsigned la, unsigned lb, unsigned imm, unsigned size)
{
    bool va = i < la, vb = j < lb;
    unsigned agg = (imm >> 2) & 3;
    if (!va || !vb) {
        switch (agg) {
        case AGG_EQUAL_EACH: return !va && !vb;
        case AGG_EQUAL_ORDERED: return !va;
        default: return false;
        }
    }
    bool is_signed = imm & 2;
    int64_t x = is_signed ? lane_gets(a, size, i) : (int64_t)lane_get(a, size, i);
    int64_t y = is_signed ? lane_gets(b, size, j) : (int64_t)lane_get(b, size, j);
    if (agg == AGG_RANGES)
        return (i & 1) ? y <= x : y >= x;   /* a holds [low, high] pairs */
    return x == y;
}

/* IntRes1 of 4.1.5 and IntRes2 after the polarity of 4.1.6. */
static unsigned compare_strings(const XmmReg *a, const XmmReg *b, unsigned la,
                                unsigned lb, unsigned imm)
{
    unsigned size = (imm & 1) ? 2 : 1, n = 16 / size, res = 0;
    switch ((imm >> 2) & 3) {
    case AGG_EQUAL_ANY:
        for (unsigned j = 0; j < n; j++)
            for (unsigned i = 0; i < n; i++)
                res |= (unsigned)bool_res(a, b, i, j, la, lb, imm, size) << j;
        break;
    case AGG_RANGES:
        for (unsigned j = 0; j < n; j++)
            for (unsigned i = 0; i + 1 < n; i += 2)
                res |= (unsigned)(bool_res(a, b, i, j, la, lb, imm, size) &&
                                  bool_res(a, b, i + 1, j, la, lb, imm, size)) << j;
        break;
    case AGG_EQUAL_EACH:
        for (unsigned j = 0; j < n; j++)
            res |= (unsigned)bool_res(a, b, j, j, la, lb, imm, size) << j;
        break;
    default:   /* equal ordered: a substring search of a in b */
        for (unsigned j = 0; j < n; j++) {
            bool match = true;
            for (unsigned i = 0, k = j; k < n && match; i++, k++)
                match = bool_res(a, b, i, k, la, lb, imm, size);
            res |= (unsigned)match << j;
        }
        break;
    }
    unsigned all = (1u << n) - 1;
    switch ((imm >> 4) & 3) {
    case 1: res ^= all; break;                          /* negative */
    case 3: res ^= (1u << lb) - 1; break;               /* masked negative */
    default: break;                                     /* positive */
    }
    return res & all;
}

/* Shared by the four: `explicit_len` (E forms: lengths in rAX and rDX) and
 * `mask` (M forms: result in XMM0; I forms: index in ECX). */
static int pcmpstr(Cpu *cpu, const DecodedInsn *d, bool explicit_len, bool mask)
{
    XmmReg a, b;
    if (sse_check(cpu) != CPU_OK || simd_read(cpu, d, 1, 16, false, &b) != CPU_OK)
        return CPU_FAULT;
    a = *xmm_reg(cpu, d->reg[0]);
    unsigned imm = (unsigned)d->imm & 0xff;
    unsigned size = (imm & 1) ? 2 : 1, n = 16 / size;
    unsigned la, lb;
    if (explicit_len) {
        bool w = d->pfx & PFX_REXW;
        la = explicit_length(cpu, R_AX, w, n);
        lb = explicit_length(cpu, R_DX, w, n);
    } else {
        la = implicit_length(&a, size, n);
        lb = implicit_length(&b, size, n);
    }
    unsigned res = compare_strings(&a, &b, la, lb, imm);
    if (mask) {
        XmmReg m = { { 0, 0 } };
        if (imm & 0x40) {
            for (unsigned i = 0; i < n; i++)
                lane_set(&m, size, i, ((res >> i) & 1) ? size_mask(size) : 0);
        } else {
            m.q[0] = res;
        }
        *xmm_reg(cpu, 0) = m;
    } else {
        unsigned index = n;
        if (res) {
            index = 0;
            if (imm & 0x40) {
                while (res >> (index + 1))
                    index++;
            } else {
                while (!((res >> index) & 1))
                    index++;
            }
        }
        reg_write(cpu, R_CX, 4, index);
    }
    /* 4.1.7: CF = result not zero, ZF/SF = the second/first string ends
     * inside the register, OF = result bit 0; AF and PF cleared. */
    cc_set_flags(cpu, (res ? F_CF : 0) | (lb < n ? F_ZF : 0) |
                      (la < n ? F_SF : 0) | ((res & 1) ? F_OF : 0));
    return CPU_OK;
}

int h_PCMPESTRI(Cpu *cpu, const DecodedInsn *d) { return pcmpstr(cpu, d, true, false); }
int h_PCMPESTRM(Cpu *cpu, const DecodedInsn *d) { return pcmpstr(cpu, d, true, true); }
int h_PCMPISTRI(Cpu *cpu, const DecodedInsn *d) { return pcmpstr(cpu, d, false, false); }
int h_PCMPISTRM(Cpu *cpu, const DecodedInsn *d) { return pcmpstr(cpu, d, false, true); }

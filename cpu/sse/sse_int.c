/* Packed-integer SIMD: operand access shared by the MMX/SSE2/SSSE3/SSE4
 * integer handlers (see sse_int.h), and the data movement instructions.
 *
 * SDM Vol. 2: MOVD/MOVQ, MOVQ (F3 0F 7E, 66 0F D6), MOVDQA, MOVDQU,
 * LDDQU, MOVNTQ, MOVNTDQ, MOVNTDQA, MOVNTI, MOVQ2DQ, MOVDQ2Q, PMOVMSKB,
 * PEXTRB/W/D/Q, PINSRB/W/D/Q, MASKMOVQ, MASKMOVDQU.  Alignment: Vol. 1
 * 11.6.7 and 12.10.5 (legacy SSE 128-bit operands must be 16-byte aligned
 * except MOVDQU, LDDQU and the explicitly unaligned forms; MMX and the
 * 64-bit or narrower SSE memory operands have no requirement).  The
 * non-temporal hints change nothing architectural here: Vireo has no
 * caches to bypass.
 */
#include "cpu/sse/sse_int.h"

int simd_begin(Cpu *cpu, const DecodedInsn *d)
{
    bool xmm = false, mmx = false;
    for (int i = 0; i < 3; i++) {
        xmm |= d->kind[i] == OPK_XMM;
        mmx |= d->kind[i] == OPK_MMX;
    }
    if (xmm) {
        if (sse_check(cpu) != CPU_OK)
            return CPU_FAULT;
        return mmx ? mmx_check_pending(cpu) : CPU_OK;
    }
    return mmx_check(cpu);
}

int simd_read(Cpu *cpu, const DecodedInsn *d, int i, unsigned bytes,
              bool aligned, XmmReg *v)
{
    v->q[0] = v->q[1] = 0;
    switch (d->kind[i]) {
    case OPK_MMX:
        v->q[0] = mmx_read(cpu, d->reg[i]);
        return CPU_OK;
    case OPK_XMM:
        *v = *xmm_reg(cpu, d->reg[i]);
        return CPU_OK;
    case OPK_REG:
        v->q[0] = reg_read(cpu, d->reg[i], bytes > 8 ? 8 : bytes);
        return CPU_OK;
    case OPK_MEM:
        if (bytes == 16)
            return sse_read128(cpu, d, i, aligned, v);
        return mem_read(cpu, d->seg, insn_ea(cpu, d), bytes, &v->q[0]);
    default:
        return CPU_OK;
    }
}

void simd_put(Cpu *cpu, const DecodedInsn *d, int i, const XmmReg *v)
{
    if (d->kind[i] == OPK_MMX)
        mmx_write(cpu, d->reg[i], v->q[0]);
    else if (d->kind[i] == OPK_XMM)
        *xmm_reg(cpu, d->reg[i]) = *v;
}

int simd_load2(Cpu *cpu, const DecodedInsn *d, SimdArgs *s)
{
    s->width = simd_width(d);
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 0, s->width, true, &s->a) != CPU_OK ||
        simd_read(cpu, d, 1, s->width, true, &s->b) != CPU_OK)
        return CPU_FAULT;
    return CPU_OK;
}

/* After an MMX instruction that wrote no MMX register (stores, moves to
 * general registers): the transition still happens. */
static void mmx_done(Cpu *cpu, const DecodedInsn *d)
{
    for (int i = 0; i < 3; i++) {
        if (d->kind[i] == OPK_MMX) {
            mmx_enter(cpu);
            return;
        }
    }
}

/* Store the low `bytes` of v to memory operand i, all or nothing. */
static int store_mem(Cpu *cpu, const DecodedInsn *d, unsigned bytes,
                     bool aligned, const XmmReg *v)
{
    if (bytes == 16)
        return sse_write128(cpu, d, 0, aligned, v);
    return mem_write(cpu, d->seg, insn_ea(cpu, d), bytes, v->q[0]);
}

/* ---- MOVD / MOVQ ----------------------------------------------------------- */

/* 0F 6E, 66 0F 6E: MOVD/MOVQ mm/xmm, r/m32 (r/m64 with REX.W); the rest of
 * the register is zeroed. */
int h_MOVD_IN(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg v;
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 1, d->osize, false, &v) != CPU_OK)
        return CPU_FAULT;
    simd_put(cpu, d, 0, &v);
    return CPU_OK;
}

/* 0F 7E, 66 0F 7E: MOVD/MOVQ r/m32 (r/m64), mm/xmm.  A 32-bit general
 * register destination is zero-extended, as for any 32-bit write. */
int h_MOVD_OUT(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg v;
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 1, 8, false, &v) != CPU_OK ||
        op_write(cpu, d, 0, d->osize, v.q[0] & size_mask(d->osize)) != CPU_OK)
        return CPU_FAULT;
    mmx_done(cpu, d);
    return CPU_OK;
}

/* Every 64-bit move: MOVQ mm, mm/m64 (0F 6F) and back (0F 7F); MOVQ xmm,
 * xmm/m64 (F3 0F 7E) and xmm/m64, xmm (66 0F D6); MOVQ2DQ, MOVDQ2Q; MOVNTQ.
 * An XMM destination has its upper half zeroed. */
int h_MOVQ(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg v;
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 1, 8, false, &v) != CPU_OK)
        return CPU_FAULT;
    v.q[1] = 0;
    if (d->kind[0] == OPK_MEM) {
        if (store_mem(cpu, d, 8, false, &v) != CPU_OK)
            return CPU_FAULT;
    } else {
        simd_put(cpu, d, 0, &v);
    }
    mmx_done(cpu, d);
    return CPU_OK;
}

int h_MOVQ2DQ(Cpu *cpu, const DecodedInsn *d) { return h_MOVQ(cpu, d); }
int h_MOVDQ2Q(Cpu *cpu, const DecodedInsn *d) { return h_MOVQ(cpu, d); }
int h_MOVNTQ(Cpu *cpu, const DecodedInsn *d) { return h_MOVQ(cpu, d); }

/* 128-bit moves: operand 1 to operand 0, one of them memory or both XMM. */
static int move128(Cpu *cpu, const DecodedInsn *d, bool aligned)
{
    XmmReg v;
    if (sse_check(cpu) != CPU_OK ||
        simd_read(cpu, d, 1, 16, aligned, &v) != CPU_OK)
        return CPU_FAULT;
    if (d->kind[0] == OPK_MEM)
        return store_mem(cpu, d, 16, aligned, &v);
    simd_put(cpu, d, 0, &v);
    return CPU_OK;
}

int h_MOVDQA(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, true); }
int h_MOVDQU(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, false); }
/* LDDQU (SSE3) may load 32 bytes around the operand; architecturally it is
 * MOVDQU's load. */
int h_LDDQU(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, false); }
int h_MOVNTDQ(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, true); }
/* MOVNTDQA (SSE4.1): the streaming load; aligned like MOVDQA. */
int h_MOVNTDQA(Cpu *cpu, const DecodedInsn *d) { return move128(cpu, d, true); }

/* MOVNTI m32/m64, r32/r64 (0F C3, SSE2): a plain store; no SIMD state is
 * involved, so no CR0/CR4 checks apply. */
int h_MOVNTI(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (op_read(cpu, d, 1, d->osize, &v) != CPU_OK)
        return CPU_FAULT;
    return op_write(cpu, d, 0, d->osize, v);
}

/* ---- lanes to and from general registers ---------------------------------- */

/* PMOVMSKB r32, mm/xmm: the sign bit of each byte. */
int h_PMOVMSKB(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg v;
    unsigned width = simd_width(d), mask = 0;
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 1, width, false, &v) != CPU_OK)
        return CPU_FAULT;
    for (unsigned i = 0; i < width; i++)
        mask |= (unsigned)(lane_get(&v, 1, i) >> 7) << i;
    reg_write(cpu, d->reg[0], 4, mask);
    mmx_done(cpu, d);
    return CPU_OK;
}

/* PEXTRW r32, mm/xmm, imm8 (0F C5): the register is zero-extended. */
int h_PEXTRW(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg v;
    unsigned width = simd_width(d);
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 1, width, false, &v) != CPU_OK)
        return CPU_FAULT;
    reg_write(cpu, d->reg[0], 4, lane_get(&v, 2, (unsigned)d->imm & (width / 2 - 1)));
    mmx_done(cpu, d);
    return CPU_OK;
}

/* PEXTRB/PEXTRW/PEXTRD/PEXTRQ r/m, xmm, imm8 (66 0F 3A 14/15/16, SSE4.1):
 * `size` bytes from lane imm8; a register destination takes the value
 * zero-extended (to 32 bits, or 64 in 64-bit mode), memory exactly `size`
 * bytes. */
static int pextr(Cpu *cpu, const DecodedInsn *d, unsigned size)
{
    XmmReg v;
    if (sse_check(cpu) != CPU_OK)
        return CPU_FAULT;
    v = *xmm_reg(cpu, d->reg[1]);
    uint64_t x = lane_get(&v, size, (unsigned)d->imm & (16 / size - 1));
    if (d->kind[0] == OPK_REG) {
        reg_write(cpu, d->reg[0], size == 8 ? 8 : 4, x);
        return CPU_OK;
    }
    return mem_write(cpu, d->seg, insn_ea(cpu, d), size, x);
}

int h_PEXTRB(Cpu *cpu, const DecodedInsn *d) { return pextr(cpu, d, 1); }
int h_PEXTRW_RM(Cpu *cpu, const DecodedInsn *d) { return pextr(cpu, d, 2); }
int h_PEXTRD(Cpu *cpu, const DecodedInsn *d)
{
    return pextr(cpu, d, d->osize == 8 ? 8 : 4);
}

/* PINSRW mm/xmm, r32/m16, imm8 (0F C4), PINSRB/PINSRD/PINSRQ (66 0F 3A
 * 20/22): `size` bytes of the source into lane imm8. */
static int pinsr(Cpu *cpu, const DecodedInsn *d, unsigned size)
{
    XmmReg v, src;
    unsigned width = simd_width(d);
    if (simd_begin(cpu, d) != CPU_OK ||
        simd_read(cpu, d, 1, size, false, &src) != CPU_OK)
        return CPU_FAULT;
    simd_read(cpu, d, 0, width, false, &v);   /* a register: cannot fault */
    lane_set(&v, size, (unsigned)d->imm & (width / size - 1), src.q[0]);
    simd_put(cpu, d, 0, &v);
    return CPU_OK;
}

int h_PINSRW(Cpu *cpu, const DecodedInsn *d) { return pinsr(cpu, d, 2); }
int h_PINSRB(Cpu *cpu, const DecodedInsn *d) { return pinsr(cpu, d, 1); }
int h_PINSRD(Cpu *cpu, const DecodedInsn *d)
{
    return pinsr(cpu, d, d->osize == 8 ? 8 : 4);
}

/* ---- MASKMOVQ / MASKMOVDQU ------------------------------------------------- */

/* MASKMOVQ mm1, mm2 (0F F7) and MASKMOVDQU xmm1, xmm2 (66 0F F7): the
 * bytes of operand 0 whose mask byte (operand 1) has bit 7 set are stored
 * at DS:rDI (segment override allowed, rDI by the address size).  Every
 * selected byte is checked before any is written, so a fault leaves memory
 * as it was; unselected bytes are never accessed (the SDM lets an
 * implementation fault on them or not). */
int h_MASKMOVQ(Cpu *cpu, const DecodedInsn *d)
{
    XmmReg data, mask;
    unsigned width = simd_width(d);
    if (simd_begin(cpu, d) != CPU_OK)
        return CPU_FAULT;
    simd_read(cpu, d, 0, width, false, &data);
    simd_read(cpu, d, 1, width, false, &mask);
    uint64_t base = cpu->s.regs[R_DI], amask = size_mask(d->asize);
    for (unsigned i = 0; i < width; i++) {
        if ((lane_get(&mask, 1, i) & 0x80) &&
            mem_check_write(cpu, d->seg, (base + i) & amask, 1) != CPU_OK)
            return CPU_FAULT;
    }
    for (unsigned i = 0; i < width; i++) {
        if ((lane_get(&mask, 1, i) & 0x80) &&
            mem_write(cpu, d->seg, (base + i) & amask, 1, lane_get(&data, 1, i)) != CPU_OK)
            return CPU_FAULT;
    }
    mmx_done(cpu, d);
    return CPU_OK;
}

int h_MASKMOVDQU(Cpu *cpu, const DecodedInsn *d) { return h_MASKMOVQ(cpu, d); }

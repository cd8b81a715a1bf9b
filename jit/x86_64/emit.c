/* x86-64 instruction encoding (jit/x86_64/emit.h).  References are to
 * the Intel SDM Vol. 2: 2.1 (ModRM, SIB, displacements), 2.2.1 (REX). */
#include "jit/x86_64/emit.h"

#include <string.h>

void x_init(XEmitter *e, uint8_t *buf, uint8_t *rx, size_t cap)
{
    *e = (XEmitter){ .buf = buf, .rx = rx, .cap = cap };
}

void x_byte(XEmitter *e, uint8_t b)
{
    if (e->pos < e->cap)
        e->buf[e->pos] = b;
    else
        e->overflow = true;
    e->pos++;
}

void x_u32(XEmitter *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        x_byte(e, (uint8_t)(v >> (8 * i)));
}

void x_u64(XEmitter *e, uint64_t v)
{
    x_u32(e, (uint32_t)v);
    x_u32(e, (uint32_t)(v >> 32));
}

static void x_u16(XEmitter *e, uint16_t v)
{
    x_byte(e, (uint8_t)v);
    x_byte(e, (uint8_t)(v >> 8));
}

void x_align(XEmitter *e, unsigned align, unsigned want)
{
    /* The recommended multi-byte NOP forms (SDM Vol. 2B, NOP, Table 4-12). */
    static const uint8_t nops[8][8] = {
        { 0 },
        { 0x90 },
        { 0x66, 0x90 },
        { 0x0f, 0x1f, 0x00 },
        { 0x0f, 0x1f, 0x40, 0x00 },
        { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
        { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
        { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
    };
    unsigned pad = (want + align - e->pos % align) % align;
    while (pad) {
        unsigned n = pad < 7 ? pad : 7;
        for (unsigned i = 0; i < n; i++)
            x_byte(e, nops[n][i]);
        pad -= n;
    }
}

static bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}

/* Byte registers 4-7 mean SPL/BPL/SIL/DIL only with a REX prefix (without
 * one they are AH/CH/DH/BH, SDM Vol. 2 2.2.1.2). */
static bool needs_rex_for_byte(int r)
{
    return r >= 4 && r <= 7;
}

/* One instruction: [66] [REX] opcode ModRM [SIB] [disp].  `reg` is the
 * ModRM.reg field (a register or an opcode extension); `byte_reg` and
 * `byte_rm` say whether those registers are used as byte registers. */
static void encode(XEmitter *e, unsigned size, const uint8_t *opc, unsigned opc_len,
                   int reg, XOperand rm, bool byte_reg, bool byte_rm)
{
    if (size == 2)
        x_byte(e, 0x66);
    uint8_t rex = 0x40;
    if (size == 8)
        rex |= 8;
    if (reg & 8)
        rex |= 4;
    if (rm.mem && rm.index != X_NO_REG && (rm.index & 8))
        rex |= 2;
    if (rm.reg & 8)
        rex |= 1;
    if (rex != 0x40 || (byte_reg && needs_rex_for_byte(reg)) ||
        (byte_rm && !rm.mem && needs_rex_for_byte(rm.reg)))
        x_byte(e, rex);
    for (unsigned i = 0; i < opc_len; i++)
        x_byte(e, opc[i]);

    uint8_t r = (uint8_t)((reg & 7) << 3);
    if (!rm.mem) {
        x_byte(e, (uint8_t)(0xc0 | r | (rm.reg & 7)));
        return;
    }
    unsigned base = (unsigned)rm.reg & 7;
    /* mod 00 with base 101 means disp32 without a base (RIP-relative in
     * 64-bit mode), so RBP/R13 always take a displacement. */
    unsigned mod = rm.disp == 0 && base != 5 ? 0 : fits8(rm.disp) ? 1 : 2;
    if (rm.index == X_NO_REG && base != 4) {
        x_byte(e, (uint8_t)(mod << 6 | r | base));
    } else {
        /* SIB: base 100 (RSP/R12) needs one; index 100 means none. */
        unsigned ss = rm.scale == 8 ? 3 : rm.scale == 4 ? 2 : rm.scale == 2 ? 1 : 0;
        unsigned index = rm.index == X_NO_REG ? 4 : (unsigned)rm.index & 7;
        x_byte(e, (uint8_t)(mod << 6 | r | 4));
        x_byte(e, (uint8_t)(ss << 6 | index << 3 | base));
    }
    if (mod == 1)
        x_byte(e, (uint8_t)rm.disp);
    else if (mod == 2)
        x_u32(e, (uint32_t)rm.disp);
}

static void encode1(XEmitter *e, unsigned size, uint8_t opc, int reg, XOperand rm,
                    bool byte_reg, bool byte_rm)
{
    encode(e, size, &opc, 1, reg, rm, byte_reg, byte_rm);
}

static void encode0f(XEmitter *e, unsigned size, uint8_t opc, int reg, XOperand rm,
                     bool byte_reg, bool byte_rm)
{
    const uint8_t two[2] = { 0x0f, opc };
    encode(e, size, two, 2, reg, rm, byte_reg, byte_rm);
}

static void imm_of_size(XEmitter *e, unsigned size, int32_t imm)
{
    if (size == 1)
        x_byte(e, (uint8_t)imm);
    else if (size == 2)
        x_u16(e, (uint16_t)imm);
    else
        x_u32(e, (uint32_t)imm);
}

void x_alu_r_rm(XEmitter *e, XAlu op, unsigned size, int dst, XOperand src)
{
    bool b = size == 1;
    encode1(e, size, (uint8_t)(8 * op + (b ? 2 : 3)), dst, src, b, b);
}

void x_alu_rm_r(XEmitter *e, XAlu op, unsigned size, XOperand dst, int src)
{
    bool b = size == 1;
    encode1(e, size, (uint8_t)(8 * op + (b ? 0 : 1)), src, dst, b, b);
}

void x_alu_rm_imm(XEmitter *e, XAlu op, unsigned size, XOperand dst, int32_t imm)
{
    if (size == 1) {
        encode1(e, size, 0x80, op, dst, false, true);
        x_byte(e, (uint8_t)imm);
    } else if (fits8(imm)) {
        encode1(e, size, 0x83, op, dst, false, false);
        x_byte(e, (uint8_t)imm);
    } else {
        encode1(e, size, 0x81, op, dst, false, false);
        imm_of_size(e, size, imm);
    }
}

void x_test_rm_r(XEmitter *e, unsigned size, XOperand a, int b)
{
    bool by = size == 1;
    encode1(e, size, by ? 0x84 : 0x85, b, a, by, by);
}

void x_test_rm_imm(XEmitter *e, unsigned size, XOperand a, int32_t imm)
{
    encode1(e, size, size == 1 ? 0xf6 : 0xf7, 0, a, false, size == 1);
    imm_of_size(e, size, imm);
}

void x_imul_r_rm(XEmitter *e, unsigned size, int dst, XOperand src)
{
    encode0f(e, size, 0xaf, dst, src, false, false);
}

void x_imul_r_rm_imm(XEmitter *e, unsigned size, int dst, XOperand src, int32_t imm)
{
    if (fits8(imm)) {
        encode1(e, size, 0x6b, dst, src, false, false);
        x_byte(e, (uint8_t)imm);
    } else {
        encode1(e, size, 0x69, dst, src, false, false);
        imm_of_size(e, size, imm);
    }
}

void x_shift_rm_cl(XEmitter *e, XShift op, unsigned size, XOperand dst)
{
    encode1(e, size, size == 1 ? 0xd2 : 0xd3, op, dst, false, size == 1);
}

void x_shift_rm_imm(XEmitter *e, XShift op, unsigned size, XOperand dst, uint8_t n)
{
    encode1(e, size, size == 1 ? 0xc0 : 0xc1, op, dst, false, size == 1);
    x_byte(e, n);
}

void x_neg(XEmitter *e, unsigned size, XOperand dst)
{
    encode1(e, size, size == 1 ? 0xf6 : 0xf7, 3, dst, false, size == 1);
}

void x_not(XEmitter *e, unsigned size, XOperand dst)
{
    encode1(e, size, size == 1 ? 0xf6 : 0xf7, 2, dst, false, size == 1);
}

void x_mov_r_rm(XEmitter *e, unsigned size, int dst, XOperand src)
{
    bool b = size == 1;
    encode1(e, size, b ? 0x8a : 0x8b, dst, src, b, b);
}

void x_mov_rm_r(XEmitter *e, unsigned size, XOperand dst, int src)
{
    bool b = size == 1;
    encode1(e, size, b ? 0x88 : 0x89, src, dst, b, b);
}

void x_mov_r_imm(XEmitter *e, int dst, uint64_t imm)
{
    if (imm <= 0xffffffffu) {
        /* B8+r id: a 32-bit move, zero-extended. */
        if (dst & 8)
            x_byte(e, 0x41);
        x_byte(e, (uint8_t)(0xb8 + (dst & 7)));
        x_u32(e, (uint32_t)imm);
    } else if ((int64_t)imm == (int32_t)imm) {
        x_mov_rm_imm32(e, 8, x_reg(dst), (int32_t)imm);
    } else {
        x_byte(e, (uint8_t)(0x48 | (dst & 8 ? 1 : 0)));
        x_byte(e, (uint8_t)(0xb8 + (dst & 7)));
        x_u64(e, imm);
    }
}

void x_mov_rm_imm32(XEmitter *e, unsigned size, XOperand dst, int32_t imm)
{
    encode1(e, size, size == 1 ? 0xc6 : 0xc7, 0, dst, false, size == 1);
    imm_of_size(e, size, imm);
}

void x_movzx(XEmitter *e, int dst, unsigned from, XOperand src)
{
    if (from == 1)
        encode0f(e, 4, 0xb6, dst, src, false, true);
    else if (from == 2)
        encode0f(e, 4, 0xb7, dst, src, false, false);
    else
        x_mov_r_rm(e, from == 8 ? 8 : 4, dst, src);
}

void x_movsx(XEmitter *e, unsigned size, int dst, unsigned from, XOperand src)
{
    if (from == 1)
        encode0f(e, size, 0xbe, dst, src, false, true);
    else if (from == 2)
        encode0f(e, size, 0xbf, dst, src, false, false);
    else if (size == 8 && from == 4)
        encode1(e, 8, 0x63, dst, src, false, false);   /* MOVSXD */
    else
        x_mov_r_rm(e, size, dst, src);
}

void x_lea(XEmitter *e, unsigned size, int dst, XOperand src)
{
    encode1(e, size, 0x8d, dst, src, false, false);
}

void x_setcc(XEmitter *e, XCond cc, int dst8)
{
    encode0f(e, 4, (uint8_t)(0x90 + cc), 0, x_reg(dst8), false, true);
}

void x_push(XEmitter *e, int r)
{
    if (r & 8)
        x_byte(e, 0x41);
    x_byte(e, (uint8_t)(0x50 + (r & 7)));
}

void x_pop(XEmitter *e, int r)
{
    if (r & 8)
        x_byte(e, 0x41);
    x_byte(e, (uint8_t)(0x58 + (r & 7)));
}

void x_ret(XEmitter *e)
{
    x_byte(e, 0xc3);
}

void x_call_r(XEmitter *e, int r)
{
    encode1(e, 4, 0xff, 2, x_reg(r), false, false);
}

void x_jmp_r(XEmitter *e, int r)
{
    encode1(e, 4, 0xff, 4, x_reg(r), false, false);
}

size_t x_jmp32(XEmitter *e)
{
    x_byte(e, 0xe9);
    size_t at = e->pos;
    x_u32(e, 0);
    return at;
}

size_t x_jcc32(XEmitter *e, XCond cc)
{
    x_byte(e, 0x0f);
    x_byte(e, (uint8_t)(0x80 + cc));
    size_t at = e->pos;
    x_u32(e, 0);
    return at;
}

static void put_rel32(XEmitter *e, size_t disp_pos, int64_t rel)
{
    if (disp_pos + 4 > e->cap)
        return;   /* overflow already recorded */
    uint32_t v = (uint32_t)(int32_t)rel;
    memcpy(e->buf + disp_pos, &v, 4);
}

void x_patch_rel32(XEmitter *e, size_t disp_pos, size_t target)
{
    put_rel32(e, disp_pos, (int64_t)target - (int64_t)(disp_pos + 4));
}

void x_patch_rel32_abs(XEmitter *e, size_t disp_pos, const void *target_rx)
{
    put_rel32(e, disp_pos, (const uint8_t *)target_rx - (e->rx + disp_pos + 4));
}

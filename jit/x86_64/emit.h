/* An x86-64 instruction encoder for the JIT backend: just the forms the
 * backend needs, encoded per the Intel SDM Vol. 2 (2.1 instruction
 * format, 2.2.1 REX prefixes, chapters 3-4 for each instruction).
 *
 * Code goes into a bounded buffer (the code cache's writable view); an
 * overflow is sticky and checked once at the end.  Positions are byte
 * offsets in the buffer; `rx` is the executable address of byte 0, for
 * branches to code outside the buffer.
 */
#ifndef VIREO_JIT_X86_64_EMIT_H
#define VIREO_JIT_X86_64_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register numbers as encoded in ModRM/REX (SDM Vol. 2 Table 2-2). */
enum {
    X_RAX, X_RCX, X_RDX, X_RBX, X_RSP, X_RBP, X_RSI, X_RDI,
    X_R8, X_R9, X_R10, X_R11, X_R12, X_R13, X_R14, X_R15,
    X_NO_REG = -1
};

/* Condition codes: the low nibble of Jcc/SETcc (SDM Vol. 2 Appendix B.1.4.7). */
typedef enum XCond {
    XC_O = 0, XC_NO = 1, XC_B = 2, XC_AE = 3, XC_E = 4, XC_NE = 5,
    XC_BE = 6, XC_A = 7, XC_S = 8, XC_NS = 9, XC_L = 12, XC_GE = 13,
    XC_LE = 14, XC_G = 15
} XCond;

/* A register or a memory operand [base + index * scale + disp]. */
typedef struct XOperand {
    bool mem;
    int8_t reg;        /* register operand, or the base register */
    int8_t index;      /* X_NO_REG if none (never RSP) */
    uint8_t scale;     /* 1, 2, 4, 8 */
    int32_t disp;
} XOperand;

static inline XOperand x_reg(int r)
{
    return (XOperand){ .mem = false, .reg = (int8_t)r, .index = X_NO_REG, .scale = 1 };
}

static inline XOperand x_mem(int base, int32_t disp)
{
    return (XOperand){ .mem = true, .reg = (int8_t)base, .index = X_NO_REG,
                       .scale = 1, .disp = disp };
}

static inline XOperand x_mem_index(int base, int index, unsigned scale,
                                   int32_t disp)
{
    return (XOperand){ .mem = true, .reg = (int8_t)base, .index = (int8_t)index,
                       .scale = (uint8_t)scale, .disp = disp };
}

typedef struct XEmitter {
    uint8_t *buf;       /* where bytes are written */
    uint8_t *rx;        /* where byte 0 executes */
    size_t pos, cap;
    bool overflow;
} XEmitter;

void x_init(XEmitter *e, uint8_t *buf, uint8_t *rx, size_t cap);
void x_byte(XEmitter *e, uint8_t b);
void x_u32(XEmitter *e, uint32_t v);
void x_u64(XEmitter *e, uint64_t v);
/* Multi-byte NOPs (SDM Vol. 2B NOP) until pos % align == want. */
void x_align(XEmitter *e, unsigned align, unsigned want);

/* Arithmetic group-1 operations: the /digit of 81/83 and the base opcode
 * of the register forms is 8 * this value (SDM Vol. 2 Table A-6). */
typedef enum XAlu {
    XA_ADD = 0, XA_OR = 1, XA_AND = 4, XA_SUB = 5, XA_XOR = 6, XA_CMP = 7
} XAlu;

/* Shift group-2 /digit (SDM Vol. 2 Table A-6). */
typedef enum XShift { XS_SHL = 4, XS_SHR = 5, XS_SAR = 7 } XShift;

/* `size` is the operand size in bytes (1, 2, 4, 8) unless said otherwise. */
void x_alu_r_rm(XEmitter *e, XAlu op, unsigned size, int dst, XOperand src);
void x_alu_rm_r(XEmitter *e, XAlu op, unsigned size, XOperand dst, int src);
void x_alu_rm_imm(XEmitter *e, XAlu op, unsigned size, XOperand dst, int32_t imm);
void x_test_rm_r(XEmitter *e, unsigned size, XOperand a, int b);
void x_test_rm_imm(XEmitter *e, unsigned size, XOperand a, int32_t imm);
void x_imul_r_rm(XEmitter *e, unsigned size, int dst, XOperand src);
void x_imul_r_rm_imm(XEmitter *e, unsigned size, int dst, XOperand src, int32_t imm);
void x_shift_rm_cl(XEmitter *e, XShift op, unsigned size, XOperand dst);
void x_shift_rm_imm(XEmitter *e, XShift op, unsigned size, XOperand dst, uint8_t n);
void x_neg(XEmitter *e, unsigned size, XOperand dst);
void x_not(XEmitter *e, unsigned size, XOperand dst);

/* mov reg <- r/m and r/m <- reg, of `size` bytes (a 4-byte write to a
 * register zero-extends it to 64 bits, SDM Vol. 1 3.4.1.1). */
void x_mov_r_rm(XEmitter *e, unsigned size, int dst, XOperand src);
void x_mov_rm_r(XEmitter *e, unsigned size, XOperand dst, int src);
/* reg = imm, in the shortest encoding (zero-extended or sign-extended
 * 32-bit immediate, else the 10-byte movabs). */
void x_mov_r_imm(XEmitter *e, int dst, uint64_t imm);
/* r/m64 = sign-extended imm32 (C7 /0), or r/m32 = imm32 with size 4. */
void x_mov_rm_imm32(XEmitter *e, unsigned size, XOperand dst, int32_t imm);
/* dst (4 or 8 bytes) = zero/sign extension of src's low `from` bytes. */
void x_movzx(XEmitter *e, int dst, unsigned from, XOperand src);
void x_movsx(XEmitter *e, unsigned size, int dst, unsigned from, XOperand src);
/* dst = the address of src, truncated to 32 bits (zero-extended) with
 * size 4. */
void x_lea(XEmitter *e, unsigned size, int dst, XOperand src);
void x_setcc(XEmitter *e, XCond cc, int dst8);

void x_push(XEmitter *e, int r);
void x_pop(XEmitter *e, int r);
void x_ret(XEmitter *e);
void x_call_r(XEmitter *e, int r);
void x_jmp_r(XEmitter *e, int r);

/* Branches with a 32-bit displacement.  Each returns the position of the
 * displacement, to patch with x_patch_rel32 once the target is known. */
size_t x_jmp32(XEmitter *e);
size_t x_jcc32(XEmitter *e, XCond cc);
/* Point the displacement at `disp_pos` to buffer position `target`. */
void x_patch_rel32(XEmitter *e, size_t disp_pos, size_t target);
/* Point it at an executable address outside the buffer (within +-2 GiB). */
void x_patch_rel32_abs(XEmitter *e, size_t disp_pos, const void *target_rx);

#endif

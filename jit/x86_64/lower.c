/* Lowering of the IR's register, guest-state, control-flow and call ops
 * to x86-64 (semantics: jit/ir.h; register conventions: x64.h).  Guest
 * memory ops are in memory.c. */
#include <stdlib.h>

#include "jit/jit.h"
#include "jit/x86_64/x64.h"

static unsigned op_size(const IrOp *op)
{
    return op->type == IR_I64 ? 8 : 4;
}

XOperand x_home(const XCtx *x, IrTemp t)
{
    if (x->alloc.reg[t] != X_NO_REG)
        return x_reg(x->alloc.reg[t]);
    return x_mem(X_RSP, 8 * x->alloc.slot[t]);
}

static int reg_of(const XCtx *x, IrTemp t)
{
    return t == IR_NO_TEMP ? X_NO_REG : x->alloc.reg[t];
}

void x_load(XCtx *x, int reg, IrTemp t)
{
    if (x->alloc.immediate[t])
        x_mov_r_imm(&x->e, reg, x->alloc.value[t]);
    else if (reg != reg_of(x, t))
        x_mov_r_rm(&x->e, 8, reg, x_home(x, t));
}

int x_in_reg(XCtx *x, IrTemp t, int scratch)
{
    int r = reg_of(x, t);
    if (r != X_NO_REG)
        return r;
    x_load(x, scratch, t);
    return scratch;
}

/* Does constant v fit the sign-extended imm32 of an op of `size` bytes?
 * (A 32-bit op only sees the low 32 bits.) */
static bool fits_imm32(unsigned size, uint64_t v)
{
    return size == 4 || (int64_t)v == (int32_t)v;
}

/* Results are computed in their register, or in RAX when spilled. */
int x_dest_begin(const XCtx *x, IrTemp d)
{
    int r = reg_of(x, d);
    return r != X_NO_REG ? r : X_RAX;
}

void x_dest_end(XCtx *x, IrTemp d, int reg)
{
    if (x->alloc.reg[d] == X_NO_REG)
        x_mov_rm_r(&x->e, 8, x_home(x, d), reg);
}

void x_save_live(XCtx *x, uint32_t index, bool restore)
{
    const XAlloc *a = &x->alloc;
    const IrOp *op = &x->ir->ops[index];
    IrTemp result = op->opc == IR_QST ? IR_NO_TEMP : op->d;
    for (uint32_t t = 0; t < a->temps; t++) {
        if (t == result || a->reg[t] == X_NO_REG || !x_is_caller_saved(a->reg[t]) ||
            a->start[t] > index || a->end[t] <= index)
            continue;
        XOperand slot = x_mem(X_RSP, X_SAVE_AREA + 8 * a->reg[t]);
        if (restore)
            x_mov_r_rm(&x->e, 8, a->reg[t], slot);
        else
            x_mov_rm_r(&x->e, 8, slot, a->reg[t]);
    }
}

void x_call_abs(XCtx *x, const void *fn)
{
    x_mov_r_imm(&x->e, X_RAX, (uint64_t)(uintptr_t)fn);
    x_call_r(&x->e, X_RAX);
}

void x_jmp_stub(XCtx *x, int stub)
{
    x_patch_rel32_abs(&x->e, x_jmp32(&x->e), x->cache->stubs[stub]);
}

void x_jcc_stub(XCtx *x, XCond cc, int stub)
{
    x_patch_rel32_abs(&x->e, x_jcc32(&x->e, cc), x->cache->stubs[stub]);
}

static void add_fixup(XCtx *x, size_t disp_pos, uint64_t label)
{
    if (label >= x->ir->labels) {
        x->failed = true;
        return;
    }
    if (x->nfixups == x->fixup_cap) {
        uint32_t cap = x->fixup_cap ? 2 * x->fixup_cap : 16;
        XFixup *f = realloc(x->fixups, cap * sizeof(*f));
        if (!f) {
            x->failed = true;
            return;
        }
        x->fixups = f;
        x->fixup_cap = cap;
    }
    x->fixups[x->nfixups++] = (XFixup){ disp_pos, (uint32_t)label };
}

static void set_constant(XCtx *x, IrTemp d, uint64_t v)
{
    if (x->alloc.reg[d] != X_NO_REG) {
        x_mov_r_imm(&x->e, x->alloc.reg[d], v);
    } else if ((int64_t)v == (int32_t)v) {
        x_mov_rm_imm32(&x->e, 8, x_home(x, d), (int32_t)v);
    } else {
        x_mov_r_imm(&x->e, X_RAX, v);
        x_dest_end(x, d, X_RAX);
    }
}

static void lower_movi(XCtx *x, const IrOp *op)
{
    if (!x->alloc.immediate[op->d])
        set_constant(x, op->d, op->type == IR_I64 ? op->imm : (uint32_t)op->imm);
}

/* d = a, truncated to 32 bits at I32 (a 32-bit move zero-extends). */
static void lower_mov(XCtx *x, const IrOp *op)
{
    if (x->alloc.constant[op->a]) {
        uint64_t v = x->alloc.value[op->a];
        set_constant(x, op->d, op->type == IR_I64 ? v : (uint32_t)v);
        return;
    }
    int r = x_dest_begin(x, op->d);
    if (op->type == IR_I32 || r != reg_of(x, op->a))
        x_mov_r_rm(&x->e, op_size(op), r, x_home(x, op->a));
    x_dest_end(x, op->d, r);
}

static void lower_ld(XCtx *x, const IrOp *op)
{
    int r = x_dest_begin(x, op->d);
    unsigned n = op->size < op_size(op) ? op->size : op_size(op);
    x_movzx(&x->e, r, n, x_mem(X_CPU_REG, (int32_t)op->imm));
    x_dest_end(x, op->d, r);
}

static void lower_st(XCtx *x, const IrOp *op)
{
    uint64_t c = x->alloc.value[op->a];
    if (x->alloc.constant[op->a] && (op->size < 8 || fits_imm32(8, c))) {
        x_mov_rm_imm32(&x->e, op->size, x_mem(X_CPU_REG, (int32_t)op->imm), (int32_t)c);
        return;
    }
    int v = x_in_reg(x, op->a, X_RAX);
    x_mov_rm_r(&x->e, op->size, x_mem(X_CPU_REG, (int32_t)op->imm), v);
}

/* d = a op b for the two-operand ALU forms (and IMUL). */
static void alu(XCtx *x, IrOpcode opc, unsigned size, int dst, XOperand src)
{
    static const XAlu alu_of[] = {
        [IR_ADD] = XA_ADD, [IR_SUB] = XA_SUB, [IR_AND] = XA_AND,
        [IR_OR] = XA_OR, [IR_XOR] = XA_XOR,
    };
    if (opc == IR_MUL)
        x_imul_r_rm(&x->e, size, dst, src);
    else
        x_alu_r_rm(&x->e, alu_of[opc], size, dst, src);
}

/* d = a op constant. */
static void lower_binop_imm(XCtx *x, const IrOp *op, int r, uint64_t v)
{
    static const XAlu alu_of[] = {
        [IR_ADD] = XA_ADD, [IR_SUB] = XA_SUB, [IR_AND] = XA_AND,
        [IR_OR] = XA_OR, [IR_XOR] = XA_XOR,
    };
    unsigned size = op_size(op);
    bool fits = fits_imm32(size, v);
    int ra = reg_of(x, op->a);
    int64_t disp = op->opc == IR_SUB ? -(int64_t)(int32_t)v : (int32_t)v;
    if ((op->opc == IR_ADD || op->opc == IR_SUB) && fits && ra != X_NO_REG &&
        r != ra && disp == (int32_t)disp) {
        /* Three-operand add: at 32 bits, LEA keeps the low half. */
        x_lea(&x->e, size, r, x_mem(ra, (int32_t)disp));
        return;
    }
    if (op->opc == IR_MUL && fits) {
        x_imul_r_rm_imm(&x->e, size, r, x_home(x, op->a), (int32_t)v);
        return;
    }
    if (!fits)
        x_mov_r_imm(&x->e, X_RCX, v);
    if (r != reg_of(x, op->a))
        x_mov_r_rm(&x->e, size, r, x_home(x, op->a));
    if (!fits)
        alu(x, op->opc, size, r, x_reg(X_RCX));
    else
        x_alu_rm_imm(&x->e, alu_of[op->opc], size, x_reg(r), (int32_t)v);
}

static void lower_binop(XCtx *x, const IrOp *op)
{
    unsigned size = op_size(op);
    int r = x_dest_begin(x, op->d);
    int ra = reg_of(x, op->a), rb = reg_of(x, op->b);
    if (x->alloc.constant[op->b]) {
        lower_binop_imm(x, op, r, x->alloc.value[op->b]);
    } else if (r == rb && r != ra) {
        /* The result's register holds b: use b op a where that is the
         * same, and a - b = -b + a for SUB. */
        if (op->opc == IR_SUB)
            x_neg(&x->e, size, x_reg(r));
        if (op->opc == IR_SUB)
            x_alu_r_rm(&x->e, XA_ADD, size, r, x_home(x, op->a));
        else
            alu(x, op->opc, size, r, x_home(x, op->a));
    } else {
        if (r != ra)
            x_mov_r_rm(&x->e, size, r, x_home(x, op->a));
        alu(x, op->opc, size, r, x_home(x, op->b));
    }
    x_dest_end(x, op->d, r);
}

/* x86 shifts by CL mask the count to 5 or 6 bits (SDM Vol. 2B SAL/SAR/
 * SHL/SHR), which is the IR's "b mod 32 or 64". */
static void lower_shift(XCtx *x, const IrOp *op)
{
    static const XShift shift_of[] = {
        [IR_SHL] = XS_SHL, [IR_SHR] = XS_SHR, [IR_SAR] = XS_SAR,
    };
    unsigned size = op_size(op);
    bool constant = x->alloc.constant[op->b];
    if (!constant)
        x_mov_r_rm(&x->e, 4, X_RCX, x_home(x, op->b));
    int r = x_dest_begin(x, op->d);
    /* At I32 the move is kept even onto itself: a shift by 0 need not
     * write its destination, and the input may be an I64 temp. */
    if (size == 4 || r != reg_of(x, op->a))
        x_mov_r_rm(&x->e, size, r, x_home(x, op->a));
    if (!constant)
        x_shift_rm_cl(&x->e, shift_of[op->opc], size, x_reg(r));
    else if (x->alloc.value[op->b] & (size * 8 - 1))
        x_shift_rm_imm(&x->e, shift_of[op->opc], size, x_reg(r),
                       (uint8_t)(x->alloc.value[op->b] & (size * 8 - 1)));
    x_dest_end(x, op->d, r);
}

static void lower_unop(XCtx *x, const IrOp *op)
{
    unsigned size = op_size(op);
    int r = x_dest_begin(x, op->d);
    if (r != reg_of(x, op->a))
        x_mov_r_rm(&x->e, size, r, x_home(x, op->a));
    if (op->opc == IR_NEG)
        x_neg(&x->e, size, x_reg(r));
    else
        x_not(&x->e, size, x_reg(r));
    x_dest_end(x, op->d, r);
}

static void lower_ext(XCtx *x, const IrOp *op)
{
    unsigned size = op_size(op);
    unsigned from = op->size < size ? op->size : size;
    int r = x_dest_begin(x, op->d);
    if (op->imm)
        x_movsx(&x->e, size, r, from, x_home(x, op->a));
    else
        x_movzx(&x->e, r, from, x_home(x, op->a));
    x_dest_end(x, op->d, r);
}

/* Set the flags for `a cond b`; returns the host condition to test. */
static XCond compare(XCtx *x, const IrOp *op)
{
    static const XCond cc_of[IR_COND_COUNT] = {
        [IR_EQ] = XC_E, [IR_NE] = XC_NE, [IR_LTU] = XC_B, [IR_GEU] = XC_AE,
        [IR_LEU] = XC_BE, [IR_GTU] = XC_A, [IR_LT] = XC_L, [IR_GE] = XC_GE,
        [IR_LE] = XC_LE, [IR_GT] = XC_G, [IR_TSTEQ] = XC_E, [IR_TSTNE] = XC_NE,
    };
    unsigned size = op_size(op);
    if (op->cond >= IR_COND_COUNT) {
        x->failed = true;
        return XC_E;
    }
    int ra = x_in_reg(x, op->a, X_RAX);
    bool test = op->cond == IR_TSTEQ || op->cond == IR_TSTNE;
    uint64_t v = x->alloc.value[op->b];
    if (x->alloc.constant[op->b] && fits_imm32(size, v)) {
        /* a - 0 and a & a set ZF, SF, CF = OF = 0 alike. */
        if (!test && (uint32_t)v == 0 && (size == 4 || v == 0))
            x_test_rm_r(&x->e, size, x_reg(ra), ra);
        else if (test)
            x_test_rm_imm(&x->e, size, x_reg(ra), (int32_t)v);
        else
            x_alu_rm_imm(&x->e, XA_CMP, size, x_reg(ra), (int32_t)v);
        return cc_of[op->cond];
    }
    int rb = x_in_reg(x, op->b, X_RCX);
    if (test)
        x_test_rm_r(&x->e, size, x_reg(ra), rb);
    else
        x_alu_r_rm(&x->e, XA_CMP, size, ra, x_reg(rb));
    return cc_of[op->cond];
}

static void lower_setcc(XCtx *x, const IrOp *op)
{
    XCond cc = compare(x, op);
    x_setcc(&x->e, cc, X_RCX);
    int r = x_dest_begin(x, op->d);
    x_movzx(&x->e, r, 1, x_reg(X_RCX));
    x_dest_end(x, op->d, r);
}

/* SysV call (ABI 3.2.3): (cpu, a, b, c) in RDI, RSI, RDX, RCX.  Temps
 * never live in RSI/RDX/RCX, so loading them cannot clobber a source; RDI
 * may hold one and is set last. */
static void lower_call(XCtx *x, uint32_t index)
{
    const IrOp *op = &x->ir->ops[index];
    static const int arg_reg[3] = { X_RSI, X_RDX, X_RCX };
    const IrTemp args[3] = { op->a, op->b, op->c };
    x_save_live(x, index, false);
    for (int i = 0; i < 3; i++) {
        if (args[i] == IR_NO_TEMP)
            x_alu_r_rm(&x->e, XA_XOR, 4, arg_reg[i], x_reg(arg_reg[i]));
        else
            x_load(x, arg_reg[i], args[i]);
    }
    x_mov_r_rm(&x->e, 8, X_RDI, x_reg(X_CPU_REG));
    x_call_abs(x, (const void *)(uintptr_t)op->imm);
    x_save_live(x, index, true);
    if (op->d != IR_NO_TEMP) {
        int r = x_dest_begin(x, op->d);
        x_mov_r_rm(&x->e, op_size(op), r, x_reg(X_RAX));
        x_dest_end(x, op->d, r);
    }
}

/* IR_GOTO: a jmp whose displacement is 4-byte aligned (patched whole by
 * x_chain), followed by its exit stub, which an unchained jmp (rel32 0)
 * falls into: record (block, slot) and leave with CPU_OK.  The stub holds
 * jb's address, so a JitBlock must not move while its code can run. */
static void lower_goto(XCtx *x, const IrOp *op)
{
    if (op->imm > 1) {
        x->failed = true;
        return;
    }
    unsigned slot = (unsigned)op->imm;
    x_align(&x->e, 4, 3);
    size_t site = x->e.pos;
    x_jmp32(&x->e);
    if (!x->jb->goto_site[slot])
        x->jb->goto_site[slot] = x->e.rx + site;
    /* A second GOTO to the same slot keeps exiting through its stub. */
    x_mov_r_rm(&x->e, 8, X_RAX, x_mem(X_CPU_REG, (int32_t)offsetof(Cpu, jit)));
    x_mov_r_imm(&x->e, X_RCX, (uint64_t)(uintptr_t)x->jb);
    x_mov_rm_r(&x->e, 8, x_mem(X_RAX, (int32_t)offsetof(Jit, exit_block)), X_RCX);
    x_mov_rm_imm32(&x->e, 4, x_mem(X_RAX, (int32_t)offsetof(Jit, exit_slot)),
                   (int32_t)slot);
    x_alu_r_rm(&x->e, XA_XOR, 4, X_RAX, x_reg(X_RAX));
    x_jmp_stub(x, XR_EPILOGUE);
}

static void lower_exit(XCtx *x, const IrOp *op)
{
    if (op->imm == CPU_OK) {
        x_jmp_stub(x, XR_EXIT_OK);
        return;
    }
    x_mov_r_imm(&x->e, X_RAX, (uint32_t)op->imm);
    x_jmp_stub(x, XR_EXIT);
}

/* An op without side effects whose result is never read (its temp
 * occurs nowhere else) emits nothing. */
static bool is_dead(const XCtx *x, const IrOp *op, uint32_t index)
{
    switch (op->opc) {
    case IR_MOVI: case IR_MOV: case IR_LD: case IR_ADD: case IR_SUB:
    case IR_MUL: case IR_AND: case IR_OR: case IR_XOR: case IR_SHL:
    case IR_SHR: case IR_SAR: case IR_NEG: case IR_NOT: case IR_EXT:
    case IR_SETCC:
        return x->alloc.start[op->d] == index && x->alloc.end[op->d] == index;
    default:
        return false;
    }
}

void x_lower_op(XCtx *x, uint32_t index)
{
    const IrOp *op = &x->ir->ops[index];
    if (is_dead(x, op, index))
        return;
    switch (op->opc) {
    case IR_NOP:
        break;
    case IR_INSN:
        if (x->marks && x->nmarks < x->mark_cap)
            x->marks[x->nmarks++] = (XInsnMark){ (uint32_t)op->imm, (uint32_t)x->e.pos };
        break;
    case IR_MOVI: lower_movi(x, op); break;
    case IR_MOV: lower_mov(x, op); break;
    case IR_LD: lower_ld(x, op); break;
    case IR_ST: lower_st(x, op); break;
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_AND: case IR_OR: case IR_XOR:
        lower_binop(x, op);
        break;
    case IR_SHL: case IR_SHR: case IR_SAR: lower_shift(x, op); break;
    case IR_NEG: case IR_NOT: lower_unop(x, op); break;
    case IR_EXT: lower_ext(x, op); break;
    case IR_SETCC: lower_setcc(x, op); break;
    case IR_BRCOND: {
        XCond cc = compare(x, op);
        add_fixup(x, x_jcc32(&x->e, cc), op->imm);
        break;
    }
    case IR_JMP:
        add_fixup(x, x_jmp32(&x->e), op->imm);
        break;
    case IR_LABEL:
        if (op->imm >= x->ir->labels || x->label_pos[op->imm] != SIZE_MAX)
            x->failed = true;
        else
            x->label_pos[op->imm] = x->e.pos;
        break;
    case IR_QLD: x_lower_qld(x, index); break;
    case IR_QST: x_lower_qst(x, index); break;
    case IR_CALL: lower_call(x, index); break;
    case IR_GOTO: lower_goto(x, op); break;
    case IR_LOOKUP: x_jmp_stub(x, XR_LOOKUP); break;
    case IR_EXIT: lower_exit(x, op); break;
    default:
        x->failed = true;
        break;
    }
}

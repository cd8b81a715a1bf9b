/* The inline lowerings of hot instructions (docs/jit.md): each does what
 * the handler of the same name in cpu/insn_*.c does, in the same order
 * (every read and the memory store before any register or flag store), so
 * a fault leaves the state as before the instruction.  Anything a
 * lowering does not cover returns false before emitting an op and keeps
 * the default lowering.
 */
#include "jit/translate_int.h"

#include "jit/helpers.h"

/* ---- ALU (cpu/insn_alu.c) -------------------------------------------- */

/* Mask a result computed at tr_type(size) to the operand size. */
static IrTemp mask_to(Tr *t, IrTemp v, unsigned size)
{
    return size < 4 ? ir_ext(t->ir, IR_I32, v, size, false) : v;
}

static bool lower_alu(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned size = d->osize;
    IrType type = tr_type(size);
    IrTemp lin = IR_NO_TEMP, carry = IR_NO_TEMP, r;
    IrTemp a = tr_read_op(t, 0, size, &lin);
    IrTemp b = tr_read_op(t, 1, size, &lin);
    int kind = CC_LOGIC;
    switch (d->id) {
    case INSN_ADD:
        r = ir_binop(t->ir, IR_ADD, type, a, b);
        kind = CC_ADD;
        break;
    case INSN_ADC:
        carry = tr_carry(t);
        r = ir_binop(t->ir, IR_ADD, type, ir_binop(t->ir, IR_ADD, type, a, b),
                     carry);
        kind = CC_ADC;
        break;
    case INSN_SUB: case INSN_CMP:
        r = ir_binop(t->ir, IR_SUB, type, a, b);
        kind = CC_SUB;
        break;
    case INSN_SBB:
        carry = tr_carry(t);
        r = ir_binop(t->ir, IR_SUB, type, ir_binop(t->ir, IR_SUB, type, a, b),
                     carry);
        kind = CC_SBB;
        break;
    case INSN_OR:
        r = ir_binop(t->ir, IR_OR, type, a, b);
        break;
    case INSN_XOR:
        r = ir_binop(t->ir, IR_XOR, type, a, b);
        break;
    default:   /* AND, TEST */
        r = ir_binop(t->ir, IR_AND, type, a, b);
        break;
    }
    r = mask_to(t, r, size);
    if (d->id != INSN_CMP && d->id != INSN_TEST)
        tr_write_op(t, 0, size, r, lin);
    tr_set_flags(t, kind, size, r, b, carry, a);
    return true;
}

static bool lower_unary(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned size = d->osize;
    IrType type = tr_type(size);
    IrTemp lin = IR_NO_TEMP;
    IrTemp v = tr_read_op(t, 0, size, &lin);
    IrTemp one = tr_const(t, type, 1), cf = IR_NO_TEMP, r;
    switch (d->id) {
    case INSN_INC: case INSN_DEC:
        /* INC and DEC keep CF: it rides in cc_src. */
        cf = tr_carry(t);
        r = mask_to(t, ir_binop(t->ir, d->id == INSN_INC ? IR_ADD : IR_SUB,
                                type, v, one), size);
        tr_write_op(t, 0, size, r, lin);
        tr_set_flags(t, d->id == INSN_INC ? CC_INC : CC_DEC, size, r, cf,
                     IR_NO_TEMP, v);
        return true;
    case INSN_NOT:
        tr_write_op(t, 0, size, mask_to(t, ir_unop(t->ir, IR_NOT, type, v), size),
                    lin);
        return true;
    default:   /* NEG: 0 - v, flags as SUB */
        r = mask_to(t, ir_unop(t->ir, IR_NEG, type, v), size);
        tr_write_op(t, 0, size, r, lin);
        tr_set_flags(t, CC_SUB, size, r, v, IR_NO_TEMP, tr_const(t, type, 0));
        return true;
    }
}

/* SHL/SHR/SAR by an immediate count (cpu/insn_shift.c). */
static bool lower_shift(Tr *t)
{
    const DecodedInsn *d = t->d;
    if (d->kind[1] != OPK_IMM)
        return false;
    unsigned size = d->osize;
    unsigned n = (unsigned)d->imm & (size == 8 ? 0x3f : 0x1f);
    IrType type = tr_type(size);
    IrTemp lin = IR_NO_TEMP;
    IrTemp v = tr_read_op(t, 0, size, &lin);
    if (n == 0) {
        /* No flag, no value; a 32-bit register is still zero-extended. */
        if (d->kind[0] == OPK_REG && size == 4)
            tr_set_reg(t, d->reg[0], 4, v);
        return true;
    }
    IrTemp r, src;
    int kind;
    if (d->id == INSN_SHL) {
        r = ir_binop(t->ir, IR_SHL, type, v, tr_const(t, type, n));
        src = ir_binop(t->ir, IR_SHL, type, v, tr_const(t, type, n - 1));
        kind = CC_SHL;
    } else if (d->id == INSN_SHR) {
        r = ir_binop(t->ir, IR_SHR, type, v, tr_const(t, type, n));
        src = ir_binop(t->ir, IR_SHR, type, v, tr_const(t, type, n - 1));
        kind = CC_SHR;
    } else {
        IrTemp sv = size < 4 ? ir_ext(t->ir, IR_I32, v, size, true) : v;
        r = ir_binop(t->ir, IR_SAR, type, sv, tr_const(t, type, n));
        src = ir_binop(t->ir, IR_SAR, type, sv, tr_const(t, type, n - 1));
        kind = CC_SAR;
    }
    r = mask_to(t, r, size);
    src = mask_to(t, src, size);
    tr_write_op(t, 0, size, r, lin);
    tr_set_flags(t, kind, size, r, src, IR_NO_TEMP, v);
    return true;
}

/* ROL/ROR by an immediate: the value rotates within the operand; CF and
 * OF are replaced and the other flags kept, so the lazy flags become
 * CC_EFLAGS (cpu/insn_shift.c rotate_commit). */
static bool lower_rotate(Tr *t)
{
    const DecodedInsn *d = t->d;
    if (d->kind[1] != OPK_IMM)
        return false;
    unsigned size = d->osize, w = size * 8;
    unsigned n = (unsigned)d->imm & (size == 8 ? 0x3f : 0x1f);
    IrType type = tr_type(size);
    IrTemp lin = IR_NO_TEMP;
    IrTemp v = tr_read_op(t, 0, size, &lin);
    if (n == 0) {
        if (d->kind[0] == OPK_REG && size == 4)
            tr_set_reg(t, d->reg[0], 4, v);
        return true;
    }
    unsigned left = n % w;
    if (d->id == INSN_ROR && left)
        left = w - left;
    IrTemp r = v;
    if (left)
        r = mask_to(t, ir_binop(t->ir, IR_OR, type,
                                ir_binop(t->ir, IR_SHL, type, v,
                                         tr_const(t, type, left)),
                                ir_binop(t->ir, IR_SHR, type, v,
                                         tr_const(t, type, w - left))),
                    size);
    IrTemp flags = tr_call_reader(t, (const void *)jit_helper_flags,
                                  IR_NO_TEMP);
    /* ROL: CF = bit 0, OF = MSB ^ CF; ROR: CF = MSB, OF = MSB ^ the bit
     * below it (SDM ROL/ROR). */
    IrTemp one = tr_const(t, IR_I64, 1);
    IrTemp msb = ir_binop(t->ir, IR_AND, IR_I64,
                          ir_binop(t->ir, IR_SHR, IR_I64, r,
                                   tr_const(t, IR_I64, w - 1)), one);
    IrTemp other = d->id == INSN_ROL ? ir_binop(t->ir, IR_AND, IR_I64, r, one)
        : ir_binop(t->ir, IR_AND, IR_I64,
                   ir_binop(t->ir, IR_SHR, IR_I64, r, tr_const(t, IR_I64, w - 2)),
                   one);
    IrTemp cf = d->id == INSN_ROL ? other : msb;
    IrTemp of = ir_binop(t->ir, IR_XOR, IR_I64, msb, other);
    IrTemp f = ir_binop(t->ir, IR_AND, IR_I64, flags,
                        tr_const(t, IR_I64, F_ARITH & ~(uint32_t)(F_CF | F_OF)));
    f = ir_binop(t->ir, IR_OR, IR_I64, f, cf);
    f = ir_binop(t->ir, IR_OR, IR_I64, f,
                 ir_binop(t->ir, IR_SHL, IR_I64, of, tr_const(t, IR_I64, 11)));
    tr_write_op(t, 0, size, r, lin);
    IrTemp zero = tr_const(t, IR_I64, 0);
    ir_st(t->ir, CPU_OFF(s.cc_op), 4, tr_const(t, IR_I32, CC_OP(CC_EFLAGS, 0)));
    ir_st(t->ir, CPU_OFF(s.cc_dst), 8, zero);
    ir_st(t->ir, CPU_OFF(s.cc_src), 8, f);
    ir_st(t->ir, CPU_OFF(s.cc_src2), 8, zero);
    t->flags.kind = -1;
    return true;
}

/* SHL/SHR/SAR by CL: a masked count of 0 changes nothing (but a 32-bit
 * register is zero-extended), decided at run time. */
static bool lower_shift_cl(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned size = d->osize;
    IrType type = tr_type(size);
    IrTemp lin = IR_NO_TEMP;
    IrTemp v = tr_read_op(t, 0, size, &lin);
    IrTemp n = ir_binop(t->ir, IR_AND, IR_I32, tr_get_reg(t, R_CX, 1),
                        tr_const(t, IR_I32, size == 8 ? 0x3f : 0x1f));
    uint32_t zero = ir_label(t->ir), done = ir_label(t->ir);
    ir_brcond(t->ir, IR_I32, IR_EQ, n, tr_const(t, IR_I32, 0), zero);
    IrTemp n1 = ir_binop(t->ir, IR_SUB, IR_I32, n, tr_const(t, IR_I32, 1));
    IrOpcode opc = d->id == INSN_SHL ? IR_SHL
                 : d->id == INSN_SHR ? IR_SHR : IR_SAR;
    IrTemp sv = v;
    if (d->id == INSN_SAR && size < 4)
        sv = ir_ext(t->ir, IR_I32, v, size, true);
    /* Counts past the width of a byte or word: the shifts are at 32 bits
     * (n <= 31), so the bits fall off with the mask as in the handler. */
    IrTemp r = mask_to(t, ir_binop(t->ir, opc, type, sv, n), size);
    IrTemp src = mask_to(t, ir_binop(t->ir, opc, type, sv, n1), size);
    tr_write_op(t, 0, size, r, lin);
    int kind = d->id == INSN_SHL ? CC_SHL : d->id == INSN_SHR ? CC_SHR : CC_SAR;
    tr_set_flags(t, kind, size, r, src, IR_NO_TEMP, v);
    ir_jmp(t->ir, done);
    ir_set_label(t->ir, zero);
    if (d->kind[0] == OPK_REG && size == 4)
        tr_set_reg(t, d->reg[0], 4, v);
    ir_set_label(t->ir, done);
    t->flags.kind = -1;   /* which path ran is known at run time only */
    return true;
}

/* IMUL r, r/m (, imm) at 16 and 32 bits: the full product fits 64 bits;
 * CF = OF = it does not fit the operand size (cpu/insn_muldiv.c). */
static bool lower_imul(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned size = d->osize;
    if (size == 8 || size == 1)
        return false;
    int first = d->id == INSN_IMUL2 ? 0 : 1;
    IrTemp lin = IR_NO_TEMP;
    IrTemp a = tr_read_op(t, first, size, &lin);
    IrTemp b = tr_read_op(t, first + 1, size, &lin);
    IrTemp p = ir_binop(t->ir, IR_MUL, IR_I64, ir_ext(t->ir, IR_I64, a, size, true),
                        ir_ext(t->ir, IR_I64, b, size, true));
    IrTemp lo = ir_ext(t->ir, IR_I32, p, size, false);
    IrTemp wide = ir_setcc(t->ir, IR_I64, IR_NE, p,
                           ir_ext(t->ir, IR_I64, p, size, true));
    tr_write_op(t, 0, size, lo, lin);
    tr_set_flags(t, CC_MUL, size, lo, wide, IR_NO_TEMP, a);
    return true;
}

/* ---- moves (cpu/insn_move.c) ----------------------------------------- */

/* XCHG: both reads, then operand 0 (the only one that can be memory). */
static bool lower_xchg(Tr *t)
{
    unsigned size = t->d->osize;
    IrTemp lin = IR_NO_TEMP;
    IrTemp a = tr_read_op(t, 0, size, &lin);
    IrTemp b = tr_read_op(t, 1, size, &lin);
    tr_write_op(t, 0, size, b, lin);
    tr_write_op(t, 1, size, a, lin);
    return true;
}

/* CMPXCHG with a memory destination (LOCK CMPXCHG, the lock primitive):
 * the destination is always written, with the source if it equals the
 * accumulator, else with its own value; then the accumulator takes the
 * destination if they differed; flags of CMP accumulator, destination
 * (cpu/insn_move.c). */
static bool lower_cmpxchg(Tr *t)
{
    const DecodedInsn *d = t->d;
    if (d->kind[0] != OPK_MEM)
        return false;
    unsigned size = d->osize;
    IrType type = tr_type(size);
    IrTemp lin = IR_NO_TEMP;
    IrTemp dst = tr_read_op(t, 0, size, &lin);
    IrTemp src = tr_read_op(t, 1, size, &lin);
    IrTemp acc = tr_get_reg(t, R_AX, size);
    IrTemp equal = ir_setcc(t->ir, type, IR_EQ, acc, dst);
    /* equal ? src : dst, without a branch. */
    IrTemp pick_src = ir_unop(t->ir, IR_NEG, type, equal);
    IrTemp v = ir_binop(t->ir, IR_XOR, type, dst,
                        ir_binop(t->ir, IR_AND, type,
                                 ir_binop(t->ir, IR_XOR, type, dst, src),
                                 pick_src));
    tr_write_op(t, 0, size, v, lin);
    IrTemp res = mask_to(t, ir_binop(t->ir, IR_SUB, type, acc, dst), size);
    /* A 32-bit accumulator is written (zero-extended) only on a miss. */
    uint32_t same = ir_label(t->ir);
    ir_brcond(t->ir, type, IR_EQ, acc, dst, same);
    tr_set_reg(t, R_AX, size, dst);
    ir_set_label(t->ir, same);
    tr_set_flags(t, CC_SUB, size, res, dst, IR_NO_TEMP, acc);
    return true;
}

/* CBW/CWDE/CDQE: the accumulator's low half sign-extended; CWD/CDQ/CQO:
 * rDX filled with the accumulator's sign. */
static bool lower_convert(Tr *t)
{
    unsigned size = t->d->osize;
    IrType type = tr_type(size);
    if (t->d->id == INSN_CBW) {
        IrTemp half = tr_get_reg(t, R_AX, size / 2);
        tr_set_reg(t, R_AX, size, ir_ext(t->ir, type, half, size / 2, true));
        return true;
    }
    IrTemp ax = tr_get_reg(t, R_AX, size);
    if (size < 4)
        ax = ir_ext(t->ir, IR_I32, ax, size, true);
    tr_set_reg(t, R_DX, size, ir_binop(t->ir, IR_SAR, type, ax,
                                       tr_const(t, type, size == 8 ? 63 : 31)));
    return true;
}

static bool lower_move(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned size = d->osize, from = size;
    bool sign = false;
    switch (d->id) {
    case INSN_MOVZX: from = (d->opcode & 1) ? 2 : 1; break;
    case INSN_MOVSX: from = (d->opcode & 1) ? 2 : 1; sign = true; break;
    case INSN_MOVSXD: from = size == 8 ? 4 : size; sign = true; break;
    default: break;
    }
    if (d->kind[1] != OPK_REG && d->kind[1] != OPK_MEM && d->kind[1] != OPK_IMM)
        return false;
    IrTemp lin = IR_NO_TEMP;
    IrTemp v = tr_read_op(t, 1, from, &lin);
    if (sign && from < size)
        v = ir_ext(t->ir, tr_type(size), v, from, true);
    tr_write_op(t, 0, size, v, lin);
    return true;
}

static bool lower_lea(Tr *t)
{
    tr_set_reg(t, t->d->reg[0], t->d->osize, tr_effective_address(t));
    return true;
}

static bool lower_setcc(Tr *t)
{
    IrTemp c = tr_condition(t, t->d->opcode & 15);
    if (t->ir->temp_type[c] != IR_I32)
        c = ir_ext(t->ir, IR_I32, c, 1, false);
    tr_write_op(t, 0, 1, c, IR_NO_TEMP);
    return true;
}

/* CMOVcc: the source is read (and may fault) whatever the condition; the
 * destination gets v or keeps its value, a 32-bit one zero-extended
 * either way (SDM CMOVcc). */
static bool lower_cmov(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned size = d->osize;
    IrType type = tr_type(size);
    IrTemp lin = IR_NO_TEMP;
    IrTemp v = tr_read_op(t, 1, size, &lin);
    IrTemp c = tr_condition(t, d->opcode & 15);
    IrTemp old = tr_get_reg(t, d->reg[0], size);
    /* old ^ ((old ^ v) & -c): a select without a branch. */
    IrTemp all = ir_unop(t->ir, IR_NEG, type, c);
    IrTemp diff = ir_binop(t->ir, IR_XOR, type, old, v);
    IrTemp r = ir_binop(t->ir, IR_XOR, type, old,
                        ir_binop(t->ir, IR_AND, type, diff, all));
    tr_set_reg(t, d->reg[0], size, r);
    return true;
}

/* ---- stack (cpu/stack.c, cpu/insn_stack.c) ---------------------------- */

/* The stack width, 0 if the stack cannot be reached inline. */
static unsigned stack_width_inline(const Tr *t)
{
    if (!tr_mem_inline(t, SEG_SS))
        return 0;
    if (t->code_size == 8)
        return 8;
    return (t->blk->mode & CPU_MODE_SS32) ? 4 : 0;
}

/* Push v (memory first, then rSP, as stack_push). */
static void push(Tr *t, unsigned w, IrTemp v, unsigned size)
{
    IrType wt = tr_type(w);
    IrTemp sp = tr_get_reg(t, R_SP, w);
    IrTemp nsp = ir_binop(t->ir, IR_SUB, wt, sp, tr_const(t, wt, size));
    tr_store(t, tr_linear(t, nsp, SEG_SS), v, size, SEG_SS);
    tr_set_reg(t, R_SP, w, nsp);
}

static bool lower_push(Tr *t)
{
    unsigned w = stack_width_inline(t);
    if (!w)
        return false;
    IrTemp lin = IR_NO_TEMP;
    IrTemp v = tr_read_op(t, 0, t->d->osize, &lin);
    push(t, w, v, t->d->osize);
    return true;
}

static bool lower_pop(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned w = stack_width_inline(t);
    if (!w || d->kind[0] != OPK_REG)
        return false;
    IrType wt = tr_type(w);
    IrTemp sp = tr_get_reg(t, R_SP, w);
    IrTemp v = tr_load(t, tr_linear(t, sp, SEG_SS), d->osize, SEG_SS);
    tr_set_reg(t, R_SP, w,
               ir_binop(t->ir, IR_ADD, wt, sp, tr_const(t, wt, d->osize)));
    /* POP rSP leaves the popped value: the register write comes last. */
    tr_set_reg(t, d->reg[0], d->osize, v);
    return true;
}

/* LEAVE: rBP is read from [rBP], rSP = rBP + size (cpu/insn_stack.c). */
static bool lower_leave(Tr *t)
{
    unsigned w = stack_width_inline(t), size = t->d->osize;
    if (!w)
        return false;
    IrType wt = tr_type(w);
    IrTemp bp = tr_get_reg(t, R_BP, w);
    IrTemp v = tr_load(t, tr_linear(t, bp, SEG_SS), size, SEG_SS);
    tr_set_reg(t, R_SP, w, ir_binop(t->ir, IR_ADD, wt, bp, tr_const(t, wt, size)));
    tr_set_reg(t, R_BP, size, v);
    return true;
}

/* ---- control transfer (cpu/insn_branch.c) ---------------------------- */

/* Block offset of a relative branch's target. */
static uint64_t target_off(const Tr *t)
{
    return t->off + t->d->len + t->d->imm;
}

/* Does the relative branch's target pass near_target's checks whatever
 * RIP is: 32-bit code has a 4 GiB CS by assumption, and in 64-bit mode a
 * target in the block's page is canonical.  Else it is checked at run
 * time (check_canonical). */
static bool target_known_good(const Tr *t)
{
    if (t->code_size == 4)
        return true;
    int64_t page_off = (int64_t)(t->blk->phys & (PAGE_SIZE - 1)) +
                       (int64_t)target_off(t);
    return page_off >= 0 && page_off < (int64_t)PAGE_SIZE;
}

/* A non-canonical target in 64-bit mode goes to `slow`: the handler (the
 * default lowering, emitted by finish_slow) raises #GP with nothing
 * changed.  Returns the label, made on first use. */
static uint32_t check_canonical(Tr *t, IrTemp target, uint32_t slow)
{
    if (t->code_size != 8)
        return slow;
    if (slow == UINT32_MAX)
        slow = ir_label(t->ir);
    IrTemp sixteen = tr_const(t, IR_I64, 16);
    IrTemp canon = ir_binop(t->ir, IR_SAR, IR_I64,
                            ir_binop(t->ir, IR_SHL, IR_I64, target, sixteen),
                            sixteen);
    ir_brcond(t->ir, IR_I64, IR_NE, canon, target, slow);
    return slow;
}

/* Leave through the jump cache to `target`. */
static void end_indirect(Tr *t, IrTemp target)
{
    ir_st(t->ir, CPU_OFF(s.rip), 8, target);
    IrTemp n = ir_binop(t->ir, IR_ADD, IR_I64, t->icount_base,
                        tr_const(t, IR_I64, t->index + 1 - t->icount_index));
    ir_st(t->ir, CPU_OFF(s.icount), 8, n);
    ir_lookup(t->ir);
}

/* The block ends here; a failed check runs the handler. */
static bool finish_slow(Tr *t, uint32_t slow)
{
    t->ended = true;
    if (slow != UINT32_MAX) {
        ir_set_label(t->ir, slow);
        tr_lower_default(t);
    }
    return true;
}

/* The relative target as a temp, checked: `*slow` gets the label of the
 * failed check (if one is needed). */
static IrTemp relative_target(Tr *t, uint32_t *slow)
{
    IrTemp target = tr_rip_at(t, target_off(t));
    if (!target_known_good(t))
        *slow = check_canonical(t, target, *slow);
    return target;
}

/* Go to the relative target: chained when it is in the block's page. */
static void end_relative(Tr *t, IrTemp target)
{
    if (target_known_good(t))
        tr_end_at(t, t->index + 1, target_off(t), 0);
    else
        end_indirect(t, target);
}

static bool lower_jmp(Tr *t)
{
    uint32_t slow = UINT32_MAX;
    if (t->d->osize != t->code_size)
        return false;
    end_relative(t, relative_target(t, &slow));
    return finish_slow(t, slow);
}

static bool lower_jcc(Tr *t)
{
    if (t->d->osize != t->code_size)
        return false;
    uint32_t slow = UINT32_MAX;
    IrTemp c = tr_condition(t, t->d->opcode & 15);
    uint32_t taken = ir_label(t->ir);
    IrOp *last = &t->ir->ops[t->ir->count - 1];
    if (last->opc == IR_SETCC && last->d == c) {
        /* A fused condition: branch on the comparison itself. */
        last->opc = IR_BRCOND;
        last->d = IR_NO_TEMP;
        last->imm = taken;
    } else {
        ir_brcond(t->ir, t->ir->temp_type[c], IR_NE, c,
                  tr_const(t, t->ir->temp_type[c], 0), taken);
    }
    tr_end_at(t, t->index + 1, t->off + t->d->len, 1);
    ir_set_label(t->ir, taken);
    end_relative(t, relative_target(t, &slow));
    return finish_slow(t, slow);
}

/* CALL near: the target is read and checked before the push (SDM CALL),
 * so a fault on either leaves everything as it was. */
static bool lower_call(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned w = stack_width_inline(t);
    if (!w || d->osize != t->code_size)
        return false;
    uint32_t slow = UINT32_MAX;
    IrTemp lin = IR_NO_TEMP, target;
    if (d->kind[0] == OPK_IMM) {
        target = relative_target(t, &slow);
    } else {
        target = tr_read_op(t, 0, d->osize, &lin);
        slow = check_canonical(t, target, slow);
    }
    push(t, w, tr_rip_at(t, t->off + d->len), d->osize);
    if (d->kind[0] == OPK_IMM)
        end_relative(t, target);
    else
        end_indirect(t, target);
    return finish_slow(t, slow);
}

static bool lower_ret(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned w = stack_width_inline(t);
    if (!w || d->osize != t->code_size)
        return false;
    IrType wt = tr_type(w);
    IrTemp sp = tr_get_reg(t, R_SP, w);
    IrTemp target = tr_load(t, tr_linear(t, sp, SEG_SS), d->osize, SEG_SS);
    uint32_t slow = check_canonical(t, target, UINT32_MAX);
    uint64_t release = d->kind[0] == OPK_IMM ? (d->imm & 0xffff) : 0;
    tr_set_reg(t, R_SP, w, ir_binop(t->ir, IR_ADD, wt, sp,
                                    tr_const(t, wt, d->osize + release)));
    end_indirect(t, target);
    return finish_slow(t, slow);
}

static bool lower_jmp_indirect(Tr *t)
{
    const DecodedInsn *d = t->d;
    if (d->osize != t->code_size)
        return false;
    IrTemp lin = IR_NO_TEMP;
    IrTemp target = tr_read_op(t, 0, d->osize, &lin);
    uint32_t slow = check_canonical(t, target, UINT32_MAX);
    end_indirect(t, target);
    return finish_slow(t, slow);
}

/* ---- strings without REP (cpu/insn_string.c) -------------------------- */

static bool lower_string(Tr *t)
{
    const DecodedInsn *d = t->d;
    unsigned as = d->asize, size = d->osize;
    if ((d->pfx & (PFX_REP | PFX_REPNE)) || as == 2 ||
        !tr_mem_inline(t, SEG_ES) ||
        (d->id == INSN_MOVS && !tr_mem_inline(t, d->seg)))
        return false;
    IrType at = tr_type(as);
    IrTemp di = tr_get_reg(t, R_DI, as), si = IR_NO_TEMP, v;
    if (d->id == INSN_MOVS) {
        si = tr_get_reg(t, R_SI, as);
        v = tr_load(t, tr_linear(t, si, d->seg), size, d->seg);
    } else {
        v = tr_get_reg(t, R_AX, size);
    }
    tr_store(t, tr_linear(t, di, SEG_ES), v, size, SEG_ES);
    /* delta = DF ? -size : size, as size - (DF << log2(2 * size)). */
    IrTemp flags = ir_ld(t->ir, at, CPU_OFF(s.eflags), as);
    IrTemp df = ir_binop(t->ir, IR_AND, at,
                         ir_binop(t->ir, IR_SHR, at, flags, tr_const(t, at, 10)),
                         tr_const(t, at, 1));
    IrTemp delta = ir_binop(t->ir, IR_SUB, at, tr_const(t, at, size),
                            ir_binop(t->ir, IR_SHL, at, df,
                                     tr_const(t, at, size_log2(size) + 1)));
    if (si != IR_NO_TEMP)
        tr_set_reg(t, R_SI, as, ir_binop(t->ir, IR_ADD, at, si, delta));
    tr_set_reg(t, R_DI, as, ir_binop(t->ir, IR_ADD, at, di, delta));
    return true;
}

bool tr_inline(Tr *t)
{
    const DecodedInsn *d = t->d;
    if ((d->attr & DA_MEM) && !tr_mem_inline(t, d->seg))
        return false;
    switch (d->id) {
    case INSN_ADD: case INSN_OR: case INSN_ADC: case INSN_SBB:
    case INSN_AND: case INSN_SUB: case INSN_XOR: case INSN_CMP:
    case INSN_TEST:
        return lower_alu(t);
    case INSN_INC: case INSN_DEC: case INSN_NOT: case INSN_NEG:
        return lower_unary(t);
    case INSN_SHL: case INSN_SHR: case INSN_SAR:
        if (d->kind[1] == OPK_REG && d->reg[1] == R_CX)
            return lower_shift_cl(t);
        return lower_shift(t);
    case INSN_ROL: case INSN_ROR:
        return lower_rotate(t);
    case INSN_IMUL2: case INSN_IMUL3:
        return lower_imul(t);
    case INSN_XCHG:
        return lower_xchg(t);
    case INSN_CMPXCHG:
        return lower_cmpxchg(t);
    case INSN_CBW: case INSN_CWD:
        return lower_convert(t);
    case INSN_LEAVE:
        return lower_leave(t);
    case INSN_MOV: case INSN_MOVZX: case INSN_MOVSX: case INSN_MOVSXD:
        return lower_move(t);
    case INSN_LEA:
        return lower_lea(t);
    case INSN_SETCC:
        return lower_setcc(t);
    case INSN_CMOVCC:
        return lower_cmov(t);
    case INSN_PUSH:
        return lower_push(t);
    case INSN_POP:
        return lower_pop(t);
    case INSN_JMP:
        return d->kind[0] == OPK_IMM ? lower_jmp(t) : lower_jmp_indirect(t);
    case INSN_JCC:
        return lower_jcc(t);
    case INSN_CALL:
        return lower_call(t);
    case INSN_RET:
        return lower_ret(t);
    case INSN_MOVS: case INSN_STOS:
        return lower_string(t);
    case INSN_NOP:
        return true;
    default:
        return false;
    }
}

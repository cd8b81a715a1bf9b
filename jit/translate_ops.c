/* What the inline lowerings share: guest registers, effective addresses,
 * inline memory accesses, and the lazy flags with the conditions they
 * answer (cpu/flags.c).  Each mirrors the interpreter's helper of the same
 * job (cpu/insn.h: reg_read/reg_write, insn_ea, op_read/op_write, cc_set,
 * cc_condition, cc_carry), so translated code leaves exactly the state the
 * handlers leave.
 */
#include "jit/translate_int.h"

#include "jit/helpers.h"

/* ---- registers -------------------------------------------------------- */

IrTemp tr_get_reg(Tr *t, int r, unsigned size)
{
    if (r >= R_AH)   /* AH..BH: bits 8-15 of rAX..rBX */
        return ir_ld(t->ir, IR_I32, REG_OFF(r - R_AH) + 1, 1);
    return ir_ld(t->ir, tr_type(size), REG_OFF(r), size);
}

void tr_set_reg(Tr *t, int r, unsigned size, IrTemp v)
{
    if (r >= R_AH) {
        ir_st(t->ir, REG_OFF(r - R_AH) + 1, 1, v);
        return;
    }
    /* 8- and 16-bit writes merge (a narrow store), 32-bit writes zero the
     * upper half (an I32 temp is zero-extended), 64-bit writes replace. */
    if (size == 4) {
        if (t->ir->temp_type[v] == IR_I64)
            v = ir_ext(t->ir, IR_I32, v, 4, false);
        ir_st(t->ir, REG_OFF(r), 8, v);
        return;
    }
    ir_st(t->ir, REG_OFF(r), size, v);
}

/* ---- addresses -------------------------------------------------------- */

/* insn_ea(): base + index << scale + disp, RIP-relative from the next
 * instruction, wrapped to the address size (by the I32 type at 4). */
static IrTemp effective_address(Tr *t)
{
    const DecodedInsn *d = t->d;
    IrType type = tr_type(d->asize);
    IrTemp ea = IR_NO_TEMP;
    if (d->base == R_RIP)
        ea = tr_rip_at(t, t->off + d->len);
    else if (d->base != R_NONE)
        ea = ir_ld(t->ir, type, REG_OFF(d->base), d->asize);
    if (d->index != R_NONE) {
        IrTemp index = ir_ld(t->ir, type, REG_OFF(d->index), d->asize);
        if (d->scale)
            index = ir_binop(t->ir, IR_SHL, type, index,
                             tr_const(t, type, d->scale));
        ea = ea == IR_NO_TEMP ? index : ir_binop(t->ir, IR_ADD, type, ea, index);
    }
    if (ea == IR_NO_TEMP)
        return tr_const(t, type, (uint64_t)d->disp);
    if (d->disp)
        ea = ir_binop(t->ir, IR_ADD, type, ea,
                      tr_const(t, type, (uint64_t)d->disp));
    return ea;
}

IrTemp tr_effective_address(Tr *t)
{
    return effective_address(t);
}

/* seg:offset -> linear: only FS and GS have a base in 64-bit mode; the
 * others are flat by assumption in 32-bit code. */
static IrTemp linear_of(Tr *t, IrTemp offset, int seg)
{
    if (t->code_size == 8 && (seg == SEG_FS || seg == SEG_GS)) {
        IrTemp base = ir_ld(t->ir, IR_I64, CPU_OFF(s.seg[0].base) +
                            (size_t)seg * sizeof(SegmentCache), 8);
        return ir_binop(t->ir, IR_ADD, IR_I64, offset, base);
    }
    return offset;
}

IrTemp tr_address(Tr *t)
{
    return linear_of(t, effective_address(t), t->d->seg);
}

bool tr_mem_inline(const Tr *t, int seg)
{
    if (!t->mem_ok || t->d->asize == 2)
        return false;
    if (t->code_size == 8)
        return true;
    /* 32-bit code: the segments the FLAT assumption covers. */
    return seg == SEG_DS || seg == SEG_ES || seg == SEG_SS;
}

IrTemp tr_linear(Tr *t, IrTemp offset, int seg)
{
    return linear_of(t, offset, seg);
}

IrTemp tr_load(Tr *t, IrTemp linear, unsigned size, int seg)
{
    tr_sync(t);
    IrTemp v = ir_qld(t->ir, tr_type(size), linear, size, t->priv);
    t->ir->ops[t->ir->count - 1].imm = (uint64_t)seg;
    return v;
}

void tr_store(Tr *t, IrTemp linear, IrTemp v, unsigned size, int seg)
{
    tr_sync(t);
    ir_qst(t->ir, linear, v, size, t->priv);
    t->ir->ops[t->ir->count - 1].imm = (uint64_t)seg;
    t->stored = true;
}

/* ---- operands --------------------------------------------------------- */

IrTemp tr_read_op(Tr *t, int i, unsigned size, IrTemp *linear)
{
    const DecodedInsn *d = t->d;
    switch (d->kind[i]) {
    case OPK_REG:
        return tr_get_reg(t, d->reg[i], size);
    case OPK_MEM:
        if (*linear == IR_NO_TEMP)
            *linear = tr_address(t);
        return tr_load(t, *linear, size, d->seg);
    default:   /* OPK_IMM */
        return tr_const(t, tr_type(size), d->imm & size_mask(size));
    }
}

void tr_write_op(Tr *t, int i, unsigned size, IrTemp v, IrTemp linear)
{
    const DecodedInsn *d = t->d;
    if (d->kind[i] == OPK_REG) {
        tr_set_reg(t, d->reg[i], size, v);
        return;
    }
    if (linear == IR_NO_TEMP)
        linear = tr_address(t);
    tr_store(t, linear, v, size, d->seg);
}

/* ---- flags ------------------------------------------------------------ */

void tr_set_flags(Tr *t, int kind, unsigned size, IrTemp res, IrTemp src,
                  IrTemp src2, IrTemp a)
{
    ir_st(t->ir, CPU_OFF(s.cc_op), 4,
          tr_const(t, IR_I32, CC_OP(kind, size_log2(size))));
    ir_st(t->ir, CPU_OFF(s.cc_dst), 8, res);
    ir_st(t->ir, CPU_OFF(s.cc_src), 8, src);
    ir_st(t->ir, CPU_OFF(s.cc_src2), 8,
          src2 == IR_NO_TEMP ? tr_const(t, IR_I64, 0) : src2);
    t->flags = (TrFlags){ .kind = kind, .size = size, .a = a, .b = src,
                          .res = res };
}

static IrCond invert(IrCond c)
{
    static const IrCond inverse[IR_COND_COUNT] = {
        [IR_EQ] = IR_NE, [IR_NE] = IR_EQ, [IR_LTU] = IR_GEU,
        [IR_GEU] = IR_LTU, [IR_LEU] = IR_GTU, [IR_GTU] = IR_LEU,
        [IR_LT] = IR_GE, [IR_GE] = IR_LT, [IR_LE] = IR_GT, [IR_GT] = IR_LE,
        [IR_TSTEQ] = IR_TSTNE, [IR_TSTNE] = IR_TSTEQ,
    };
    return inverse[c];
}

/* A value of the recorded producer, sign-extended from its size so that
 * the signed IR comparisons at I32/I64 see the size's sign. */
static IrTemp signed_value(Tr *t, IrTemp v)
{
    if (t->flags.size >= 4)
        return v;
    return ir_ext(t->ir, IR_I32, v, t->flags.size, true);
}

/* The condition computed from the producer's operands, as a real CPU's
 * fused CMP+Jcc: false when the producer or the condition needs the
 * general path.  *out is a 0/1 temp. */
static bool fused_condition(Tr *t, int c, bool negate, IrTemp *out)
{
    const TrFlags *f = &t->flags;
    IrType type = tr_type(f->size);
    IrCond cond;
    IrTemp a, b;
    uint64_t sign = sign_bit(f->size);
    if (f->kind == CC_SUB) {
        /* After CMP a, b: B is a < b unsigned, L is a < b signed. */
        switch (c) {
        case 1: cond = IR_LTU; a = f->a; b = f->b; break;
        case 2: cond = IR_EQ; a = f->a; b = f->b; break;
        case 3: cond = IR_LEU; a = f->a; b = f->b; break;
        case 4:
            cond = IR_TSTNE; a = f->res; b = tr_const(t, type, sign);
            break;
        case 6: case 7:
            cond = c == 6 ? IR_LT : IR_LE;
            a = signed_value(t, f->a);
            b = signed_value(t, f->b);
            break;
        default: return false;
        }
    } else if (f->kind == CC_LOGIC) {
        /* CF = OF = 0: the conditions test the result. */
        switch (c) {
        case 0: case 1:
            *out = tr_const(t, IR_I32, negate);
            return true;
        case 2: case 3:
            cond = IR_EQ; a = f->res; b = tr_const(t, type, 0);
            break;
        case 4: case 6:
            cond = IR_TSTNE; a = f->res; b = tr_const(t, type, sign);
            break;
        case 7:
            cond = IR_LE; a = signed_value(t, f->res); b = tr_const(t, type, 0);
            break;
        default: return false;
        }
    } else if (f->kind > CC_EFLAGS && (c == 2 || c == 4)) {
        /* ZF and SF come from the result for every lazy kind. */
        a = f->res;
        cond = c == 2 ? IR_EQ : IR_TSTNE;
        b = tr_const(t, type, c == 2 ? 0 : sign);
    } else {
        return false;
    }
    if (f->kind == CC_SUB && (c == 6 || c == 7) && f->size < 4)
        type = IR_I32;
    if (f->kind == CC_LOGIC && c == 7 && f->size < 4)
        type = IR_I32;
    *out = ir_setcc(t->ir, type, negate ? invert(cond) : cond, a, b);
    return true;
}

IrTemp tr_call_reader(Tr *t, const void *fn, IrTemp arg)
{
    /* It cannot fault or leave: RIP and icount need not be stored. */
    IrTemp r = ir_call(t->ir, fn, arg, IR_NO_TEMP, IR_NO_TEMP);
    t->ir->ops[t->ir->count - 1].cond = 1;
    return r;
}

IrTemp tr_condition(Tr *t, int cc)
{
    IrTemp v;
    if (t->flags.kind >= 0 && fused_condition(t, (cc >> 1) & 7, cc & 1, &v))
        return v;
    return tr_call_reader(t, (const void *)jit_helper_cond,
                          tr_const(t, IR_I64, (uint64_t)cc));
}

IrTemp tr_carry(Tr *t)
{
    const TrFlags *f = &t->flags;
    IrType type = tr_type(f->size);
    switch (f->kind) {
    case CC_SUB:
        return ir_setcc(t->ir, type, IR_LTU, f->a, f->b);
    case CC_ADD:   /* a + b wrapped iff the result is below b */
        return ir_setcc(t->ir, type, IR_LTU, f->res, f->b);
    case CC_LOGIC:
        return tr_const(t, IR_I64, 0);
    case CC_INC: case CC_DEC:
        return f->b;   /* the carry they kept, already 0 or 1 */
    default:
        return tr_call_reader(t, (const void *)jit_helper_carry, IR_NO_TEMP);
    }
}

/* The IR optimizer (jit/translate.h).
 *
 * The translator writes guest state naively (jit/translate_int.h), so the
 * gains are here:
 *  1. a forward pass: copy propagation, constant folding, branch folding,
 *     reuse of equal constants and arithmetic within a stretch without
 *     labels, and guest-state load forwarding (a load of a slot whose
 *     value a temp already holds: after a store of it or an earlier load);
 *  2. a backward pass removing guest-state stores that a later store
 *     overwrites before anything can look (no load of those bytes, no
 *     barrier, no branch or label between): the lazy-flag words of every
 *     ALU instruction but the last, registers written twice;
 *  3. a backward pass removing pure ops whose result nobody uses, then
 *     the NOPs.
 * Temporaries are assigned once (the builders make a new one per
 * result), which is what lets values travel across forward branches.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jit/translate.h"

/* icount_limit changes under the translated code: cpu_kick from another
 * thread, or from a memory slow path (jit_mem_store).  Its loads are
 * never forwarded. */
static bool is_volatile(uint32_t off, uint32_t size)
{
    uint32_t limit = (uint32_t)offsetof(Cpu, icount_limit);
    return off < limit + sizeof(uint64_t) && limit < off + size;
}

/* A guest-state slot whose value a temp holds: `exact` when the temp is
 * the slot's bytes zero-extended (else they are its low `size` bytes). */
typedef struct Known {
    uint32_t off, size;
    IrTemp temp;
    bool exact;
} Known;

#define MAX_KNOWN 128
#define MAX_CONSTS 64

/* A constant some temp already holds in the current straight stretch. */
typedef struct Const {
    IrType type;
    uint64_t value;
    IrTemp temp;
} Const;

typedef struct Opt {
    IrBlock *ir;
    IrTemp rep[IR_MAX_TEMPS];       /* use rep[t] instead of t */
    bool is_const[IR_MAX_TEMPS];
    uint64_t value[IR_MAX_TEMPS];
    uint16_t defs[IR_MAX_TEMPS];
    Known known[MAX_KNOWN];
    unsigned nknown;
    Const consts[MAX_CONSTS];
    unsigned nconsts;
    IrOp exprs[MAX_CONSTS];         /* pure ops since the last label */
    unsigned nexprs;
} Opt;

static IrTemp resolve(const Opt *o, IrTemp t)
{
    while (t != IR_NO_TEMP && o->rep[t] != t)
        t = o->rep[t];
    return t;
}

static bool overlaps(uint32_t off, uint32_t size, uint32_t off2,
                     uint32_t size2)
{
    return off < off2 + size2 && off2 < off + size;
}

static void forget_overlapping(Opt *o, uint32_t off, uint32_t size)
{
    unsigned n = 0;
    for (unsigned i = 0; i < o->nknown; i++) {
        if (!overlaps(off, size, o->known[i].off, o->known[i].size))
            o->known[n++] = o->known[i];
    }
    o->nknown = n;
}

static void remember(Opt *o, uint32_t off, uint32_t size, IrTemp t,
                     bool exact)
{
    forget_overlapping(o, off, size);
    if (o->nknown < MAX_KNOWN)
        o->known[o->nknown++] = (Known){ off, size, t, exact };
}

/* A known slot starting at `off` and at least `size` bytes long. */
static const Known *lookup(const Opt *o, uint32_t off, uint32_t size)
{
    for (unsigned i = 0; i < o->nknown; i++) {
        if (o->known[i].off == off && o->known[i].size >= size)
            return &o->known[i];
    }
    return NULL;
}

static IrType type_of(const Opt *o, IrTemp t)
{
    return o->ir->temp_type[t];
}

/* op becomes d = v, or a copy of a temp holding v since the last label
 * (which therefore runs before op on every path). */
static void make_const(Opt *o, IrOp *op, uint64_t v)
{
    v = op->type == IR_I32 ? (uint32_t)v : v;
    o->is_const[op->d] = true;
    o->value[op->d] = v;
    for (unsigned i = 0; i < o->nconsts; i++) {
        if (o->consts[i].type == op->type && o->consts[i].value == v) {
            o->rep[op->d] = o->consts[i].temp;
            op->opc = IR_NOP;
            return;
        }
    }
    *op = (IrOp){ .opc = IR_MOVI, .type = op->type, .d = op->d,
                  .a = IR_NO_TEMP, .b = IR_NO_TEMP, .c = IR_NO_TEMP,
                  .imm = v };
    if (o->nconsts < MAX_CONSTS)
        o->consts[o->nconsts++] = (Const){ (IrType)op->type, v, op->d };
}

/* d takes a's value: propagate a when that is the same 64-bit value (an
 * I32 temp is its zero extension), else keep a MOV. */
static void make_copy(Opt *o, IrOp *op, IrTemp a)
{
    if (op->type == IR_I64 || type_of(o, a) == IR_I32) {
        o->rep[op->d] = a;
        op->opc = IR_NOP;
        return;
    }
    *op = (IrOp){ .opc = IR_MOV, .type = op->type, .d = op->d, .a = a,
                  .b = IR_NO_TEMP, .c = IR_NO_TEMP };
}

/* x op identity -> x. */
static bool is_identity(const Opt *o, const IrOp *op)
{
    if (op->b == IR_NO_TEMP || !o->is_const[op->b])
        return false;
    uint64_t v = o->value[op->b];
    uint64_t ones = op->type == IR_I32 ? 0xffffffffull : ~0ull;
    switch (op->opc) {
    case IR_ADD: case IR_SUB: case IR_OR: case IR_XOR:
    case IR_SHL: case IR_SHR: case IR_SAR:
        return v == 0;
    case IR_AND:
        return (v & ones) == ones;
    default:
        return false;
    }
}

static void fold(Opt *o, IrOp *op)
{
    bool a_const = op->a == IR_NO_TEMP || o->is_const[op->a];
    bool b_const = op->b == IR_NO_TEMP || o->is_const[op->b];
    uint64_t a = op->a == IR_NO_TEMP ? 0 : o->value[op->a];
    uint64_t b = op->b == IR_NO_TEMP ? 0 : o->value[op->b];
    switch (op->opc) {
    case IR_MOVI:
        if (o->defs[op->d] == 1)
            make_const(o, op, op->imm);
        return;
    case IR_MOV:
        if (o->defs[op->d] == 1)
            make_copy(o, op, op->a);
        return;
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_AND: case IR_OR:
    case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_NEG:
    case IR_NOT: case IR_EXT: case IR_SETCC:
        if (o->defs[op->d] != 1)
            return;
        if (a_const && b_const)
            make_const(o, op, ir_eval(op, a, b));
        else if (is_identity(o, op) &&
                 (op->type == IR_I64 || type_of(o, op->a) == IR_I32))
            make_copy(o, op, op->a);
        return;
    case IR_BRCOND:
        if (a_const && b_const) {
            if (ir_compare(op->cond, op->type, a, b))
                op->opc = IR_JMP;
            else
                op->opc = IR_NOP;
            op->a = op->b = IR_NO_TEMP;
        }
        return;
    default:
        return;
    }
}

/* A load of a slot some temp holds becomes a copy or a zero extension. */
static void forward_load(Opt *o, IrOp *op)
{
    uint32_t off = (uint32_t)op->imm, size = op->size;
    if (is_volatile(off, size))
        return;
    const Known *k = lookup(o, off, size);
    if (!k || o->defs[op->d] != 1) {
        remember(o, off, size, op->d, true);
        return;
    }
    IrTemp v = k->temp;
    /* The load's value is v's low `size` bytes, zero-extended: v itself
     * when v has no more bytes than that. */
    bool same = (k->exact && k->size == size) || size == 8 ||
                (size == 4 && type_of(o, v) == IR_I32);
    if (same) {
        make_copy(o, op, v);
        if (op->opc == IR_MOV)
            remember(o, off, size, op->d, true);
        return;
    }
    *op = (IrOp){ .opc = IR_EXT, .type = op->type, .size = (uint8_t)size,
                  .d = op->d, .a = v, .b = IR_NO_TEMP, .c = IR_NO_TEMP,
                  .imm = 0 };
    remember(o, off, size, op->d, true);
}

/* An arithmetic op equal to an earlier one of the stretch (same inputs,
 * assigned once) reuses its result. */
static void reuse_expression(Opt *o, IrOp *op)
{
    switch (op->opc) {
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_AND: case IR_OR:
    case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_NEG:
    case IR_NOT: case IR_EXT: case IR_SETCC:
        break;
    default:
        return;
    }
    if (o->defs[op->d] != 1)
        return;
    for (unsigned i = 0; i < o->nexprs; i++) {
        const IrOp *e = &o->exprs[i];
        if (e->opc == op->opc && e->type == op->type && e->size == op->size &&
            e->cond == op->cond && e->a == op->a && e->b == op->b &&
            e->imm == op->imm) {
            o->rep[op->d] = e->d;
            op->opc = IR_NOP;
            return;
        }
    }
    if (o->nexprs < MAX_CONSTS)
        o->exprs[o->nexprs++] = *op;
}

static void forward_pass(Opt *o)
{
    IrBlock *ir = o->ir;
    for (uint32_t i = 0; i < ir->count; i++) {
        IrOp *op = &ir->ops[i];
        op->a = resolve(o, op->a);
        op->b = resolve(o, op->b);
        op->c = resolve(o, op->c);
        switch (op->opc) {
        case IR_LD:
            forward_load(o, op);
            break;
        case IR_ST: {
            IrTemp v = op->a;
            bool exact = op->size == 8 ||
                         (op->size == 4 && type_of(o, v) == IR_I32);
            remember(o, (uint32_t)op->imm, op->size, v, exact);
            break;
        }
        case IR_LABEL:
            /* Paths join: what the stretch before knew may not hold. */
            o->nknown = 0;
            o->nconsts = 0;
            o->nexprs = 0;
            break;
        case IR_CALL:
            /* Helpers may change any slot, but pure ones only read. */
            if (!op->cond)
                o->nknown = 0;
            break;
        case IR_GOTO: case IR_LOOKUP: case IR_EXIT:
            o->nknown = 0;
            break;
        default:
            fold(o, op);
            reuse_expression(o, op);
            break;
        }
    }
}

/* ---- dead guest-state stores ----------------------------------------- */

typedef struct Covered {
    uint32_t off[MAX_KNOWN], size[MAX_KNOWN];
    unsigned n;
} Covered;

static bool covered(const Covered *c, uint32_t off, uint32_t size)
{
    for (unsigned i = 0; i < c->n; i++) {
        if (c->off[i] <= off && off + size <= c->off[i] + c->size[i])
            return true;
    }
    return false;
}

static void uncover(Covered *c, uint32_t off, uint32_t size)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->n; i++) {
        if (!overlaps(off, size, c->off[i], c->size[i])) {
            c->off[n] = c->off[i];
            c->size[n++] = c->size[i];
        }
    }
    c->n = n;
}

static void dead_stores(IrBlock *ir)
{
    Covered c = { .n = 0 };
    for (uint32_t i = ir->count; i-- > 0;) {
        IrOp *op = &ir->ops[i];
        switch (op->opc) {
        case IR_ST:
            if (covered(&c, (uint32_t)op->imm, op->size)) {
                op->opc = IR_NOP;
            } else if (c.n < MAX_KNOWN) {
                c.off[c.n] = (uint32_t)op->imm;
                c.size[c.n++] = op->size;
            }
            break;
        case IR_LD:
            uncover(&c, (uint32_t)op->imm, op->size);
            break;
        case IR_QLD: case IR_QST: case IR_CALL: case IR_GOTO:
        case IR_LOOKUP: case IR_EXIT: case IR_BRCOND: case IR_JMP:
        case IR_LABEL:
            /* Someone may look at the state here. */
            c.n = 0;
            break;
        default:
            break;
        }
    }
}

/* ---- dead temporaries -------------------------------------------------- */

static void dead_temps(IrBlock *ir, uint16_t *uses)
{
    memset(uses, 0, sizeof(uint16_t) * IR_MAX_TEMPS);
    for (uint32_t i = 0; i < ir->count; i++) {
        const IrOp *op = &ir->ops[i];
        if (op->opc == IR_NOP)
            continue;
        const IrTemp in[3] = { op->a, op->b, op->c };
        for (int k = 0; k < 3; k++) {
            if (in[k] != IR_NO_TEMP)
                uses[in[k]]++;
        }
    }
    for (uint32_t i = ir->count; i-- > 0;) {
        IrOp *op = &ir->ops[i];
        if (!ir_is_pure(op) || uses[op->d] != 0)
            continue;
        const IrTemp in[3] = { op->a, op->b, op->c };
        for (int k = 0; k < 3; k++) {
            if (in[k] != IR_NO_TEMP)
                uses[in[k]]--;
        }
        op->opc = IR_NOP;
    }
}

static void compact(IrBlock *ir)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < ir->count; i++) {
        if (ir->ops[i].opc != IR_NOP)
            ir->ops[n++] = ir->ops[i];
    }
    ir->count = n;
}

void jit_optimize(IrBlock *ir)
{
    Opt *o = calloc(1, sizeof(*o));
    if (!o)
        return;   /* the block stays correct, only slower */
    o->ir = ir;
    for (uint32_t t = 0; t < ir->temps; t++)
        o->rep[t] = (IrTemp)t;
    for (uint32_t i = 0; i < ir->count; i++) {
        if (ir->ops[i].d != IR_NO_TEMP)
            o->defs[ir->ops[i].d]++;
    }
    forward_pass(o);
    /* Twice: dropping a pure call whose result fed only dead stores
     * removes a barrier, which can make earlier stores dead. */
    for (int pass = 0; pass < 2; pass++) {
        dead_stores(ir);
        dead_temps(ir, o->defs);
    }
    compact(ir);
    free(o);
}

/* Register allocation for the x86-64 backend: a linear scan over the
 * live ranges of a block's temps (Poletto and Sarkar's algorithm).
 *
 * Blocks are straight lists with forward branches only, so every path
 * visits ops in index order and a temp's value is needed at most between
 * its first and last occurrence.  Each temp gets one home for that whole
 * range: a register, or a spill slot when more ranges overlap than there
 * are registers (the range ending last is spilled).  Ranges crossing a
 * call get callee-saved registers or slots (pick_free); the lowering
 * still saves any live caller-saved register around a call (x64.h).
 */
#include <stdlib.h>

#include "jit/x86_64/x64.h"

/* Caller-saved first: the order of preference for ranges without calls. */
static const int8_t caller_saved[] = { X_RDI, X_R8, X_R9, X_R10, X_R11 };
static const int8_t callee_saved[] = { X_R12, X_R13, X_R14, X_R15, X_RBP };
#define NREGS (sizeof(caller_saved) + sizeof(callee_saved))

bool x_is_caller_saved(int reg)
{
    for (unsigned i = 0; i < sizeof(caller_saved); i++)
        if (caller_saved[i] == reg)
            return true;
    return false;
}

unsigned x_op_temps(const IrOp *op, IrTemp out[4])
{
    unsigned n = 0;
    switch (op->opc) {
    case IR_MOVI: case IR_LD:
        out[n++] = op->d;
        break;
    case IR_ST:
        out[n++] = op->a;
        break;
    case IR_MOV: case IR_NEG: case IR_NOT: case IR_EXT: case IR_QLD:
        out[n++] = op->d;
        out[n++] = op->a;
        break;
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_AND: case IR_OR:
    case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_SETCC:
        out[n++] = op->d;
        out[n++] = op->a;
        out[n++] = op->b;
        break;
    case IR_BRCOND: case IR_QST:
        out[n++] = op->a;
        out[n++] = op->b;
        break;
    case IR_CALL: {
        const IrTemp all[4] = { op->d, op->a, op->b, op->c };
        for (unsigned i = 0; i < 4; i++)
            if (all[i] != IR_NO_TEMP)
                out[n++] = all[i];
        break;
    }
    default:
        break;
    }
    return n;
}

void x_regalloc_free(XAlloc *a)
{
    free(a->start);
    free(a->end);
    free(a->reg);
    free(a->slot);
    free(a->constant);
    free(a->immediate);
    free(a->value);
    *a = (XAlloc){ 0 };
}

/* The temp op defines, or IR_NO_TEMP. */
static IrTemp op_def(const IrOp *op)
{
    switch (op->opc) {
    case IR_MOVI: case IR_MOV: case IR_LD: case IR_ADD: case IR_SUB:
    case IR_MUL: case IR_AND: case IR_OR: case IR_XOR: case IR_SHL:
    case IR_SHR: case IR_SAR: case IR_NEG: case IR_NOT: case IR_EXT:
    case IR_SETCC: case IR_QLD: case IR_CALL:
        return op->d;
    default:
        return IR_NO_TEMP;
    }
}

/* Can op read t as an immediate?  The lowering takes constants everywhere
 * but as the first operand of arithmetic (lower.c). */
static bool immediate_use(const IrOp *op, IrTemp t)
{
    switch (op->opc) {
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_AND: case IR_OR:
    case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_NEG:
    case IR_NOT: case IR_EXT:
        return op->a != t;
    default:
        return true;
    }
}

/* Find the constants, and those that need no home. */
static void find_constants(const IrBlock *ir, XAlloc *a)
{
    uint32_t n = a->temps;
    bool *defined = a->immediate;   /* its first use, as scratch */
    for (uint32_t t = 0; t < n; t++)
        a->constant[t] = defined[t] = false;
    for (uint32_t i = 0; i < ir->count; i++) {
        const IrOp *op = &ir->ops[i];
        IrTemp d = op_def(op);
        if (d == IR_NO_TEMP)
            continue;
        /* A MOVI at the temp's first occurrence, and no other definition. */
        a->constant[d] = !defined[d] && op->opc == IR_MOVI && a->start[d] == i;
        a->value[d] = op->type == IR_I64 ? op->imm : (uint32_t)op->imm;
        defined[d] = true;
    }
    for (uint32_t t = 0; t < n; t++)
        a->immediate[t] = a->constant[t];
    for (uint32_t i = 0; i < ir->count; i++) {
        const IrOp *op = &ir->ops[i];
        IrTemp used[4];
        unsigned k = x_op_temps(op, used);
        for (unsigned j = 0; j < k; j++)
            if (a->immediate[used[j]] && !immediate_use(op, used[j]))
                a->immediate[used[j]] = false;
    }
}

typedef struct Scan {
    XAlloc *a;
    IrTemp active[NREGS];       /* temps in registers now */
    unsigned nactive;
    bool reg_free[16];
    IrTemp *spilled;            /* temps in spill slots now */
    unsigned nspilled;
    bool slot_used[X_SPILL_SLOTS];
    uint32_t slot_end[X_SPILL_SLOTS];   /* last end of a temp held there */
} Scan;

/* A slot holds t for its whole range: an evicted temp started before the
 * scan reached it, so a slot freed since then may have held another temp
 * during that earlier part. */
static bool give_slot(Scan *s, IrTemp t)
{
    for (int i = 0; i < X_SPILL_SLOTS; i++) {
        if (!s->slot_used[i] && s->slot_end[i] <= s->a->start[t]) {
            s->slot_used[i] = true;
            s->slot_end[i] = s->a->end[t];
            s->a->slot[t] = (int16_t)i;
            s->a->reg[t] = X_NO_REG;
            s->spilled[s->nspilled++] = t;
            return true;
        }
    }
    return false;
}

/* Free the homes of ranges that end at or before `at`: an op's inputs
 * may share a home with its result, which the lowering allows for. */
static void expire(Scan *s, uint32_t at)
{
    XAlloc *a = s->a;
    for (unsigned i = 0; i < s->nactive;) {
        IrTemp t = s->active[i];
        if (a->end[t] <= at) {
            s->reg_free[a->reg[t]] = true;
            s->active[i] = s->active[--s->nactive];
        } else {
            i++;
        }
    }
    for (unsigned i = 0; i < s->nspilled;) {
        IrTemp t = s->spilled[i];
        if (a->end[t] <= at) {
            s->slot_used[a->slot[t]] = false;
            s->spilled[i] = s->spilled[--s->nspilled];
        } else {
            i++;
        }
    }
}

/* A range crossing an IR_CALL lives in a callee-saved register or in
 * memory: a caller-saved register would cost a save and a restore at
 * each call, more than memory's store at the definition and loads at the
 * uses.  (QLD/QST only call on their cold slow path, which saves what it
 * must, so they do not count.)  Other ranges prefer caller-saved
 * registers, leaving the callee-saved ones to ranges that need them. */
static int pick_free(const Scan *s, bool crosses_call)
{
    if (!crosses_call)
        for (unsigned i = 0; i < sizeof(caller_saved); i++)
            if (s->reg_free[caller_saved[i]])
                return caller_saved[i];
    for (unsigned i = 0; i < sizeof(callee_saved); i++)
        if (s->reg_free[callee_saved[i]])
            return callee_saved[i];
    return X_NO_REG;
}

static bool place(Scan *s, IrTemp t, bool crosses_call)
{
    XAlloc *a = s->a;
    int r = pick_free(s, crosses_call);
    if (r != X_NO_REG) {
        s->reg_free[r] = false;
        a->reg[t] = (int8_t)r;
        s->active[s->nactive++] = t;
        return true;
    }
    /* Evict the range ending last among those in registers t may use, if
     * it ends after t (Poletto and Sarkar's heuristic). */
    int victim = -1;
    for (unsigned i = 0; i < s->nactive; i++) {
        IrTemp u = s->active[i];
        if (crosses_call && x_is_caller_saved(a->reg[u]))
            continue;
        if (victim < 0 || a->end[u] > a->end[s->active[victim]])
            victim = (int)i;
    }
    if (victim < 0 || a->end[s->active[victim]] <= a->end[t])
        return give_slot(s, t);
    IrTemp v = s->active[victim];
    a->reg[t] = a->reg[v];
    s->active[victim] = t;
    return give_slot(s, v);
}

bool x_regalloc(const IrBlock *ir, XAlloc *a)
{
    uint32_t n = ir->temps;
    *a = (XAlloc){ .temps = n };
    a->start = malloc(sizeof(*a->start) * (n + 1));
    a->end = malloc(sizeof(*a->end) * (n + 1));
    a->reg = malloc(sizeof(*a->reg) * (n + 1));
    a->slot = malloc(sizeof(*a->slot) * (n + 1));
    a->constant = malloc(sizeof(*a->constant) * (n + 1));
    a->immediate = malloc(sizeof(*a->immediate) * (n + 1));
    a->value = malloc(sizeof(*a->value) * (n + 1));
    /* calls_before[i]: IR_CALLs at indices below i. */
    uint32_t *calls_before = malloc(sizeof(uint32_t) * (ir->count + 1));
    IrTemp *order = malloc(sizeof(IrTemp) * (n + 1));
    IrTemp *spilled = malloc(sizeof(IrTemp) * (n + 1));
    bool ok = a->start && a->end && a->reg && a->slot && a->constant &&
              a->immediate && a->value && calls_before && order && spilled;
    if (!ok)
        goto out;
    for (uint32_t t = 0; t < n; t++) {
        a->start[t] = a->end[t] = UINT32_MAX;
        a->reg[t] = X_NO_REG;
        a->slot[t] = -1;
    }
    uint32_t live = 0;
    calls_before[0] = 0;
    for (uint32_t i = 0; i < ir->count; i++) {
        IrTemp used[4];
        unsigned k = x_op_temps(&ir->ops[i], used);
        for (unsigned j = 0; j < k; j++) {
            IrTemp t = used[j];
            if (t >= n) {
                ok = false;   /* malformed IR */
                goto out;
            }
            if (a->start[t] == UINT32_MAX) {
                a->start[t] = i;
                order[live++] = t;   /* so `order` is sorted by start */
            }
            a->end[t] = i;
        }
        calls_before[i + 1] = calls_before[i] + (ir->ops[i].opc == IR_CALL);
    }
    find_constants(ir, a);

    Scan *s = calloc(1, sizeof(*s));
    if (!s) {
        ok = false;
        goto out;
    }
    s->a = a;
    s->spilled = spilled;
    for (unsigned i = 0; i < NREGS; i++)
        s->reg_free[i < sizeof(caller_saved) ? caller_saved[i]
                    : callee_saved[i - sizeof(caller_saved)]] = true;
    for (uint32_t i = 0; i < live && ok; i++) {
        IrTemp t = order[i];
        if (a->immediate[t])
            continue;
        expire(s, a->start[t]);
        /* A call strictly inside the range clobbers caller-saved registers
         * while the value is still needed. */
        bool crosses = calls_before[a->end[t]] > calls_before[a->start[t] + 1];
        ok = place(s, t, crosses);
    }
    free(s);
out:
    free(calls_before);
    free(order);
    free(spilled);
    if (!ok)
        x_regalloc_free(a);
    return ok;
}

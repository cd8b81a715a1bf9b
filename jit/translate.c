/* DecodedInsn -> IR (docs/jit.md): the driver, the default lowering of an
 * instruction (a call to its interpreter handler through
 * jit_helper_insn), RIP and icount bookkeeping, and the block's ends.
 * The inline lowerings are in jit/translate_insn.c.
 */
#include <stdlib.h>

#include "jit/translate_int.h"

#include "jit/helpers.h"

#define NO_LABEL UINT32_MAX

/* Is the segment flat for the accesses the inline lowerings make: base 0,
 * limit 4 GiB, present, and for data segments writable and expand-up
 * (SDM Vol. 3 3.4.5.1 types). */
static bool segment_flat(const SegmentCache *s, bool code)
{
    if (s->base != 0 || s->limit != 0xffffffffu || !(s->attr & SEG_ATTR_P) ||
        !(s->attr & SEG_ATTR_S))
        return false;
    if (code)
        return (s->attr & 0x8) != 0;
    return (s->attr & 0xe) == 0x2;   /* data, expand-up, writable */
}

uint32_t jit_assumptions(const Cpu *cpu)
{
    uint32_t a = 0;
    bool user = cpu_cpl(cpu) == 3;
    if (user)
        a |= JIT_ASSUME_USER;
    if ((cpu->mode & CPU_MODE_PROT) && !(cpu->mode & CPU_MODE_V86) &&
        (cpu->mode & CPU_MODE_SIZE_MASK) == CPU_MODE_CODE32 &&
        segment_flat(&cpu->s.seg[SEG_CS], true) &&
        segment_flat(&cpu->s.seg[SEG_DS], false) &&
        segment_flat(&cpu->s.seg[SEG_ES], false) &&
        segment_flat(&cpu->s.seg[SEG_SS], false))
        a |= JIT_ASSUME_FLAT;
    /* #AC is checked only at CPL 3 with CR0.AM and EFLAGS.AC (SDM Vol. 3
     * 6.15, interrupt 17). */
    if (!(user && (cpu->s.cr0 & CR0_AM) && (cpu->s.eflags & F_AC)))
        a |= JIT_ASSUME_NO_AC;
    return a;
}

IrTemp tr_const(Tr *t, IrType type, uint64_t v)
{
    return ir_movi(t->ir, type, v);
}

IrTemp tr_rip_at(Tr *t, uint64_t off)
{
    IrType type = tr_type(t->code_size);
    IrTemp rip = ir_binop(t->ir, IR_ADD, type, t->rip0, tr_const(t, type, off));
    if (t->code_size == 2)
        rip = ir_ext(t->ir, IR_I32, rip, 2, false);
    return rip;
}

/* icount when instruction `index` begins, from the count `base` at
 * instruction `base_index`. */
static IrTemp icount_at(Tr *t, IrTemp base, unsigned base_index,
                        unsigned index)
{
    if (index == base_index)
        return base;
    return ir_binop(t->ir, IR_ADD, IR_I64, base,
                    tr_const(t, IR_I64, index - base_index));
}

static void store_rip_icount(Tr *t, unsigned index, uint64_t off)
{
    ir_st(t->ir, CPU_OFF(s.rip), 8, tr_rip_at(t, off));
    ir_st(t->ir, CPU_OFF(s.icount), 8,
          icount_at(t, t->icount_base, t->icount_index, index));
}

void tr_sync(Tr *t)
{
    if (t->synced == (int)t->index)
        return;
    store_rip_icount(t, t->index, t->off);
    t->synced = (int)t->index;
}

static uint32_t shared_exit(Tr *t, uint32_t *label)
{
    if (*label == NO_LABEL)
        *label = ir_label(t->ir);
    return *label;
}

/* The status is dispatched where it is made, so that its temp dies
 * there; CPU_FAULT and CPU_RESTART leave through shared exits at the end. */
void tr_exit_unless_ok(Tr *t, IrTemp status)
{
    uint32_t ok = ir_label(t->ir);
    ir_brcond(t->ir, IR_I64, IR_EQ, status, tr_const(t, IR_I64, CPU_OK), ok);
    ir_brcond(t->ir, IR_I64, IR_EQ, status, tr_const(t, IR_I64, CPU_FAULT),
              shared_exit(t, &t->fault_label));
    ir_brcond(t->ir, IR_I64, IR_EQ, status, tr_const(t, IR_I64, CPU_RESTART),
              shared_exit(t, &t->restart_label));
    ir_exit(t->ir, CPU_EXIT);
    ir_set_label(t->ir, ok);
}

void tr_exit_if_kicked(Tr *t)
{
    TrStub *s = &t->stubs[t->nstubs++];
    unsigned next = t->index + 1;
    *s = (TrStub){ .label = ir_label(t->ir), .index = next,
                   .off = t->off + t->d->len, .icount_base = t->icount_base,
                   .icount_index = t->icount_index };
    IrTemp now = icount_at(t, t->icount_base, t->icount_index, next);
    IrTemp limit = ir_ld(t->ir, IR_I64, CPU_OFF(icount_limit), 8);
    ir_brcond(t->ir, IR_I64, IR_GEU, now, limit, s->label);
}

void tr_end_at(Tr *t, unsigned index, uint64_t off, unsigned slot)
{
    store_rip_icount(t, index, off);
    /* Targets in the block's first page can be chained: its page offset
     * is the physical one (pages map 4 KiB-aligned).  16-bit code wraps
     * IP at 64 KiB, which the offset does not see: never chain it. */
    int64_t page_off = (int64_t)(t->blk->phys & (PAGE_SIZE - 1)) + (int64_t)off;
    if (t->code_size != 2 && page_off >= 0 && page_off < (int64_t)PAGE_SIZE)
        ir_goto(t->ir, slot);
    else
        ir_lookup(t->ir);
}

/* Instructions that may change what the translation assumed (segment
 * loads, EFLAGS.AC, CR0, the debug registers, CPL) without ending the
 * decoded block: the translated block ends after them. */
static bool changes_assumptions(const DecodedInsn *d)
{
    switch (d->id) {
    case INSN_MOV_TO_SEG: case INSN_POP_SEG: case INSN_LES: case INSN_LDS:
    case INSN_LSS: case INSN_LFS: case INSN_LGS: case INSN_POPF:
    case INSN_MOV_TO_CR: case INSN_MOV_TO_DR: case INSN_LMSW:
    case INSN_WRMSR:
        return true;
    default:
        return false;
    }
}

/* Near branches whose default lowering leaves the target in RIP: the
 * block continues through the jump cache. */
static bool is_near_branch(const DecodedInsn *d)
{
    switch (d->id) {
    case INSN_JCC: case INSN_JMP: case INSN_CALL: case INSN_RET:
    case INSN_LOOP: case INSN_LOOPE: case INSN_LOOPNE: case INSN_JCXZ:
        return true;
    default:
        return false;
    }
}

/* The default lowering: the handler through jit_helper_insn, which
 * advances RIP and icount as the interpreter does. */
void tr_lower_default(Tr *t)
{
    const DecodedInsn *d = t->d;
    tr_sync(t);
    IrTemp insn = tr_const(t, IR_I64, (uint64_t)(uintptr_t)d);
    IrTemp status = ir_call(t->ir, (const void *)jit_helper_insn, insn,
                            IR_NO_TEMP, IR_NO_TEMP);
    tr_exit_unless_ok(t, status);
    if (d->attr & DA_STRING) {
        /* A string instruction counts its own iterations. */
        t->icount_base = ir_ld(t->ir, IR_I64, CPU_OFF(s.icount), 8);
        t->icount_index = t->index + 1;
        /* So the block's entry test no longer covers the rest of it: test
         * again, and leave the rest to the interpreter if the budget ends
         * inside it (the interpreter stops exactly at the limit). */
        uint32_t rest = t->blk->count - t->index - 1;
        if (rest && !(d->attr & (DA_BRANCH | DA_END))) {
            uint32_t go_on = ir_label(t->ir);
            IrTemp need = ir_binop(t->ir, IR_ADD, IR_I64, t->icount_base,
                                   tr_const(t, IR_I64, rest));
            IrTemp limit = ir_ld(t->ir, IR_I64, CPU_OFF(icount_limit), 8);
            ir_brcond(t->ir, IR_I64, IR_LEU, need, limit, go_on);
            ir_exit(t->ir, CPU_OK);
            ir_set_label(t->ir, go_on);
        }
    }
    t->synced = (int)t->index + 1;
    t->flags.kind = -1;
    if (d->attr & DA_BRANCH) {
        /* RIP and icount are in CpuState. */
        if (is_near_branch(d))
            ir_lookup(t->ir);
        else
            ir_exit(t->ir, CPU_OK);
        t->ended = true;
    } else if ((d->attr & DA_END) || changes_assumptions(d)) {
        ir_exit(t->ir, CPU_OK);
        t->ended = true;
    }
}

/* The exits after the block's code: the kicked ones (RIP and icount
 * stored there, off the fast path), then the shared statuses. */
static void emit_stubs(Tr *t)
{
    for (unsigned i = 0; i < t->nstubs; i++) {
        const TrStub *s = &t->stubs[i];
        ir_set_label(t->ir, s->label);
        t->icount_base = s->icount_base;
        t->icount_index = s->icount_index;
        store_rip_icount(t, s->index, s->off);
        ir_exit(t->ir, CPU_EXIT);
    }
    if (t->fault_label != NO_LABEL) {
        ir_set_label(t->ir, t->fault_label);
        ir_exit(t->ir, CPU_FAULT);
    }
    if (t->restart_label != NO_LABEL) {
        ir_set_label(t->ir, t->restart_label);
        ir_exit(t->ir, CPU_RESTART);
    }
}

void jit_translate(const Cpu *cpu, const Block *b, uint32_t assumptions,
                   IrBlock *out)
{
    static const unsigned code_sizes[4] = { 2, 4, 8, 8 };
    Tr *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    uint32_t size = b->mode & CPU_MODE_SIZE_MASK;
    *t = (Tr){
        .blk = b, .ir = out,
        .code_size = code_sizes[size],
        .priv = (assumptions & JIT_ASSUME_USER) ? TLB_USER : TLB_SUPERVISOR,
        .synced = 0, .flags.kind = -1,
        .fault_label = NO_LABEL, .restart_label = NO_LABEL,
    };
    t->inline_ok = size == CPU_MODE_CODE64 ||
        (size == CPU_MODE_CODE32 && (assumptions & JIT_ASSUME_FLAT));
    t->mem_ok = t->inline_ok && (assumptions & JIT_ASSUME_NO_AC);
    ir_reset(out);
    t->rip0 = ir_ld(out, tr_type(t->code_size), CPU_OFF(s.rip),
                    t->code_size == 8 ? 8 : 4);
    t->icount_base = ir_ld(out, IR_I64, CPU_OFF(s.icount), 8);
    for (unsigned i = 0; i < b->count && !t->ended; i++) {
        t->index = i;
        t->d = &b->insns[i];
        t->stored = false;
        ir_insn(out, i);
        if (!(t->inline_ok && tr_inline(t)))
            tr_lower_default(t);
        else if (t->stored && !t->ended)
            /* The store may have hit this very block (docs/jit.md,
             * Memory): jit_mem_store kicks the CPU then. */
            tr_exit_if_kicked(t);
        t->off += t->d->len;
    }
    if (!t->ended)
        tr_end_at(t, b->count, t->off, 0);
    emit_stubs(t);
    free(t);
}

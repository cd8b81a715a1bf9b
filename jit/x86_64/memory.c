/* IR_QLD / IR_QST: the soft-TLB hit path inline, the slow path out of
 * line (docs/jit.md, "Memory").
 *
 * Hit path, as tlb_lookup (mmu/tlb.h) and linear_read/linear_write
 * (cpu/mem.c) do it:
 *   - the access stays in its page: (linear & 0xfff) <= 0x1000 - size;
 *     (tested together with the tag, see tlb_hit_path);
 *   - e = &cpu->tlb.entries[priv][(linear >> 12) & (TLB_SIZE - 1)] and
 *     e->tag[TLB_READ or TLB_WRITE] == linear & ~0xfff;
 *   - host = linear + e->addend; x86 is little-endian like the guest.
 *     This relies on cpu/mem.c's rule that read and write tags are only
 *     set where the addend reaches RAM (ROM and MMIO pages get no data
 *     tags), so a tag hit is all the path tests.
 * Anything else calls jit_mem_load/jit_mem_store (jit/helpers.h), which
 * redo the access through mem_read/mem_write; CPU_FAULT (or any status
 * but CPU_OK) leaves the block with it.  The TLB is current on entry: the
 * dispatcher flushes it when the address space's generation changed.
 */
#include <stddef.h>
#include <stdlib.h>

#include "jit/helpers.h"
#include "jit/x86_64/x64.h"
#include "mmu/tlb.h"

static unsigned type_size(const IrOp *op)
{
    return op->type == IR_I64 ? 8 : 4;
}

static XSlowPath *new_slow_path(XCtx *x, uint32_t index)
{
    if (x->nslow == x->slow_cap) {
        uint32_t cap = x->slow_cap ? 2 * x->slow_cap : 16;
        XSlowPath *s = realloc(x->slow, cap * sizeof(*s));
        if (!s) {
            x->failed = true;
            return NULL;
        }
        x->slow = s;
        x->slow_cap = cap;
    }
    XSlowPath *s = &x->slow[x->nslow++];
    *s = (XSlowPath){ .op = index };
    return s;
}

/* The TLB checks for the address in register `addr`.  Leaves the host
 * address's addend in RAX on a hit; records the branch to the slow path.
 * Uses RAX and RCX.
 *
 * One compare does the tag and the in-page test: it compares the page of
 * the access's last byte, linear + size - 1, with the tag of the entry
 * indexed by its first byte.  If the access crosses a page, that page is
 * the next one, whose index differs, so it cannot be the entry's tag
 * (nor can it be TLB_INVALID, which is not page-aligned); a wrap past
 * the top of the address space gives page 0, a miss too. */
static void tlb_hit_path(XCtx *x, XSlowPath *s, const IrOp *op, int addr, int kind)
{
    XEmitter *e = &x->e;
    int32_t entries = (int32_t)(offsetof(Cpu, tlb.entries) +
                                op->cond * TLB_SIZE * sizeof(TlbEntry));
    int32_t tag_at = (int32_t)(offsetof(TlbEntry, tag) + 8 * kind);
    int32_t addend_at = (int32_t)offsetof(TlbEntry, addend);
    XOperand tag, addend;
    if (x->alloc.constant[op->a]) {
        /* A known address (absolute or RIP-relative data): so are its
         * entry and its last byte's page. */
        uint64_t v = x->alloc.value[op->a];
        int32_t entry = entries +
                        (int32_t)(((v >> 12) & (TLB_SIZE - 1)) * sizeof(TlbEntry));
        tag = x_mem(X_CPU_REG, entry + tag_at);
        addend = x_mem(X_CPU_REG, entry + addend_at);
        x_mov_r_imm(e, X_RCX, (v + op->size - 1) & ~0xfffull);
    } else {
        x_mov_r_rm(e, 8, X_RAX, x_reg(addr));
        x_shift_rm_imm(e, XS_SHR, 8, x_reg(X_RAX), 12);
        x_alu_rm_imm(e, XA_AND, 4, x_reg(X_RAX), TLB_SIZE - 1);
        x_imul_r_rm_imm(e, 4, X_RAX, x_reg(X_RAX), (int32_t)sizeof(TlbEntry));
        tag = x_mem_index(X_CPU_REG, X_RAX, 1, entries + tag_at);
        addend = x_mem_index(X_CPU_REG, X_RAX, 1, entries + addend_at);
        x_lea(e, 8, X_RCX, x_mem(addr, op->size - 1));
        x_alu_rm_imm(e, XA_AND, 8, x_reg(X_RCX), -0x1000);
    }
    x_alu_r_rm(e, XA_CMP, 8, X_RCX, tag);
    s->miss = x_jcc32(e, XC_NE);
    x_mov_r_rm(e, 8, X_RAX, addend);
}

static bool valid_access(XCtx *x, const IrOp *op)
{
    unsigned n = op->size;
    if ((n != 1 && n != 2 && n != 4 && n != 8) || op->cond >= TLB_PRIVILEGES) {
        x->failed = true;
        return false;
    }
    return true;
}

void x_lower_qld(XCtx *x, uint32_t index)
{
    const IrOp *op = &x->ir->ops[index];
    if (!valid_access(x, op))
        return;
    XSlowPath *s = new_slow_path(x, index);
    if (!s)
        return;
    int addr = x_in_reg(x, op->a, X_RSI);
    tlb_hit_path(x, s, op, addr, TLB_READ);
    int r = x_dest_begin(x, op->d);
    unsigned n = op->size < type_size(op) ? op->size : type_size(op);
    x_movzx(&x->e, r, n, x_mem_index(X_RAX, addr, 1, 0));
    x_dest_end(x, op->d, r);
    s->resume = x->e.pos;
}

void x_lower_qst(XCtx *x, uint32_t index)
{
    const IrOp *op = &x->ir->ops[index];
    if (!valid_access(x, op))
        return;
    XSlowPath *s = new_slow_path(x, index);
    if (!s)
        return;
    int addr = x_in_reg(x, op->a, X_RSI);
    int value = x_in_reg(x, op->b, X_RDX);
    tlb_hit_path(x, s, op, addr, TLB_WRITE);
    x_mov_rm_r(&x->e, op->size, x_mem_index(X_RAX, addr, 1, 0), value);
    s->resume = x->e.pos;
}

/* The call to jit_mem_load(cpu, linear, how, &value) or
 * jit_mem_store(cpu, linear, value, how); temps are reloaded from their
 * homes, as the hit path may have left them in scratch registers. */
static void slow_path(XCtx *x, const XSlowPath *s)
{
    XEmitter *e = &x->e;
    const IrOp *op = &x->ir->ops[s->op];
    bool load = op->opc == IR_QLD;
    uint32_t how = op->size | (uint32_t)op->imm << 8;
    x_patch_rel32(e, s->miss, e->pos);
    x_save_live(x, s->op, false);
    x_load(x, X_RSI, op->a);
    if (load) {
        x_mov_r_imm(e, X_RDX, how);
        x_lea(e, 8, X_RCX, x_mem(X_RSP, X_VALUE_SLOT));
    } else {
        x_load(x, X_RDX, op->b);
        x_mov_r_imm(e, X_RCX, how);
    }
    x_mov_r_rm(e, 8, X_RDI, x_reg(X_CPU_REG));
    x_call_abs(x, load ? (const void *)jit_mem_load : (const void *)jit_mem_store);
    x_save_live(x, s->op, true);
    x_test_rm_r(e, 4, x_reg(X_RAX), X_RAX);
    x_jcc_stub(x, XC_NE, XR_EXIT);
    if (load) {
        int r = x_dest_begin(x, op->d);
        unsigned n = op->size < type_size(op) ? op->size : type_size(op);
        x_movzx(e, r, n, x_mem(X_RSP, X_VALUE_SLOT));
        x_dest_end(x, op->d, r);
    }
    x_patch_rel32(e, x_jmp32(e), s->resume);
}

void x_emit_slow_paths(XCtx *x)
{
    for (uint32_t i = 0; i < x->nslow; i++)
        slow_path(x, &x->slow[i]);
}

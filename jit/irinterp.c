/* The portable backend: interprets the optimized IR (jit/backend.h).
 *
 * It is the reference the native backends are tested against and the
 * JIT of hosts without one, so it does what native code does: the entry
 * test of docs/jit.md, the soft-TLB hit path of IR_QLD/IR_QST in line
 * with the slow helpers on a miss, chained IR_GOTOs followed without
 * returning to the dispatcher.
 */
#include <stdlib.h>
#include <string.h>

#include "jit/backend.h"
#include "jit/helpers.h"
#include "jit/jit.h"
#include "util/log.h"

/* A block's IR, with each label's op index resolved. */
typedef struct IrCode {
    uint32_t count, temps, labels;
    uint32_t *label_at;
    IrOp ops[];
} IrCode;

static bool irinterp_emit(struct JitCache *cache, const IrBlock *ir,
                          JitBlock *jb)
{
    IrCode *c = malloc(sizeof(*c) + ir->count * sizeof(IrOp));
    uint32_t *labels = calloc(ir->labels ? ir->labels : 1, sizeof(uint32_t));
    if (!c || !labels) {
        free(c);
        free(labels);
        return false;
    }
    c->count = ir->count;
    c->temps = ir->temps;
    c->labels = ir->labels;
    c->label_at = labels;
    memcpy(c->ops, ir->ops, ir->count * sizeof(IrOp));
    for (uint32_t i = 0; i < ir->count; i++) {
        if (ir->ops[i].opc == IR_LABEL)
            labels[ir->ops[i].imm] = i;
    }
    jb->backend_data = c;
    jb->code = c;
    jb->code_size = ir->count * sizeof(IrOp);
    jb->goto_site[0] = jb->goto_site[1] = NULL;
    for (uint32_t i = 0; i < ir->count; i++) {
        if (ir->ops[i].opc == IR_GOTO)
            jb->goto_site[ir->ops[i].imm & 1] = &c->ops[i];
    }
    return true;
}

/* The soft-TLB hit path of an access that stays in one RAM page; NULL
 * sends it to the slow helper. */
static void *tlb_host(Cpu *cpu, const IrOp *op, uint64_t linear, int kind)
{
    const TlbEntry *e =
        &cpu->tlb.entries[op->cond][(linear >> 12) & (TLB_SIZE - 1)];
    if (e->tag[kind] != (linear & ~0xfffull) || !e->ram ||
        (linear & 0xfff) + op->size > 0x1000)
        return NULL;
    return (void *)(uintptr_t)(linear + e->addend);
}

static void set_exit(Cpu *cpu, JitBlock *jb, uint32_t slot)
{
    if (cpu->jit) {
        cpu->jit->exit_block = jb;
        cpu->jit->exit_slot = slot;
    }
}

/* The entry test of docs/jit.md: room for all of jb's instructions. */
static bool may_enter(const Cpu *cpu, const JitBlock *jb)
{
    return cpu->s.icount + jb->insns <= cpu->icount_limit;
}

static int irinterp_enter(Cpu *cpu, JitBlock *jb)
{
    uint64_t t[IR_MAX_TEMPS];
    if (!may_enter(cpu, jb)) {
        set_exit(cpu, NULL, 0);
        return CPU_OK;
    }
    const IrCode *c = jb->backend_data;
    uint32_t pc = 0;
    for (;;) {
        const IrOp *op = &c->ops[pc++];
        uint64_t r;
        switch ((IrOpcode)op->opc) {
        case IR_NOP: case IR_LABEL: case IR_INSN:
            continue;
        case IR_MOVI:
            r = op->imm;
            break;
        case IR_MOV:
            r = t[op->a];
            break;
        case IR_LD:
            r = 0;
            memcpy(&r, (char *)cpu + op->imm, op->size);
            break;
        case IR_ST:
            memcpy((char *)cpu + op->imm, &t[op->a], op->size);
            continue;
        case IR_ADD: case IR_SUB: case IR_MUL: case IR_AND: case IR_OR:
        case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR:
        case IR_NEG: case IR_NOT: case IR_EXT: case IR_SETCC:
            r = ir_eval(op, t[op->a],
                        op->b == IR_NO_TEMP ? 0 : t[op->b]);
            break;
        case IR_BRCOND:
            if (ir_compare(op->cond, op->type, t[op->a], t[op->b]))
                pc = c->label_at[op->imm];
            continue;
        case IR_JMP:
            pc = c->label_at[op->imm];
            continue;
        case IR_QLD: {
            void *host = tlb_host(cpu, op, t[op->a], TLB_READ);
            r = 0;
            if (host) {
                memcpy(&r, host, op->size);
            } else if (jit_mem_load(cpu, t[op->a],
                                    op->size | (uint32_t)op->imm << 8,
                                    &r) != CPU_OK) {
                set_exit(cpu, NULL, 0);
                return CPU_FAULT;
            }
            break;
        }
        case IR_QST: {
            void *host = tlb_host(cpu, op, t[op->a], TLB_WRITE);
            if (host) {
                memcpy(host, &t[op->b], op->size);
            } else if (jit_mem_store(cpu, t[op->a], t[op->b],
                                     op->size | (uint32_t)op->imm << 8)
                       != CPU_OK) {
                set_exit(cpu, NULL, 0);
                return CPU_FAULT;
            }
            continue;
        }
        case IR_CALL: {
            uint64_t (*fn)(Cpu *, uint64_t, uint64_t, uint64_t) =
                (uint64_t (*)(Cpu *, uint64_t, uint64_t, uint64_t))
                (uintptr_t)op->imm;
            r = fn(cpu, op->a == IR_NO_TEMP ? 0 : t[op->a],
                   op->b == IR_NO_TEMP ? 0 : t[op->b],
                   op->c == IR_NO_TEMP ? 0 : t[op->c]);
            if (op->d == IR_NO_TEMP)
                continue;
            break;
        }
        case IR_GOTO: {
            JitBlock *next = jb->chained[op->imm];
            if (!next) {
                set_exit(cpu, jb, (uint32_t)op->imm);
                return CPU_OK;
            }
            if (!may_enter(cpu, next)) {
                set_exit(cpu, NULL, 0);
                return CPU_OK;
            }
            jb = next;
            c = jb->backend_data;
            pc = 0;
            continue;
        }
        case IR_LOOKUP:
            set_exit(cpu, NULL, 0);
            return CPU_OK;
        case IR_EXIT:
            set_exit(cpu, NULL, 0);
            return (int)op->imm;
        default:
            abort();
        }
        t[op->d] = op->type == IR_I32 ? (uint32_t)r : r;
    }
}

static void irinterp_chain(JitBlock *from, unsigned slot, JitBlock *to)
{
    from->chained[slot] = to;
}

static void irinterp_unchain(JitBlock *from, unsigned slot)
{
    from->chained[slot] = NULL;
}

static void irinterp_release(JitBlock *jb)
{
    IrCode *c = jb->backend_data;
    if (c)
        free(c->label_at);
    free(c);
    jb->backend_data = NULL;
    jb->code = NULL;
}

/* -d out_asm: the code is the IR itself. */
static void irinterp_disas(const JitBlock *jb)
{
    const IrCode *c = jb->backend_data;
    IrBlock *view = calloc(1, sizeof(*view));
    if (!view)
        return;
    view->ops = (IrOp *)c->ops;
    view->count = view->capacity = c->count;
    view->temps = c->temps;
    view->labels = c->labels;
    log_printf("OUT: %u IR ops (interpreted)\n", c->count);
    ir_dump(view);
    free(view);
}

const JitBackend jit_backend_irinterp = {
    .name = "irinterp",
    .emit = irinterp_emit,
    .enter = irinterp_enter,
    .chain = irinterp_chain,
    .unchain = irinterp_unchain,
    .release = irinterp_release,
    .disas = irinterp_disas,
};

/* Internal to the translator (jit/translate*.c): the state of one
 * translation and the pieces the lowerings share.
 *
 * The translator writes guest state naively: every register, flag word,
 * RIP and icount update is an IR_ST where the instruction makes it, and
 * every read is an IR_LD.  jit/opt.c forwards and removes what is
 * redundant.  RIP and icount are known relative to their values at entry
 * (`rip0`, `icount_base`), so they are stored only before barriers and at
 * the block's ends (docs/jit.md, Exactness).
 */
#ifndef VIREO_JIT_TRANSLATE_INT_H
#define VIREO_JIT_TRANSLATE_INT_H

#include <stddef.h>

#include "cpu/insn.h"
#include "jit/translate.h"

/* The flag producer of an earlier instruction in the block, known at
 * translation time, so conditions can be computed from its operands. */
typedef struct TrFlags {
    int kind;             /* CC_SUB, CC_LOGIC, CC_ADD...; -1: unknown */
    unsigned size;
    IrTemp a, b, res;     /* operands and result, masked to size */
} TrFlags;

/* An exit path emitted after the block's code: CPU_EXIT after storing
 * RIP and icount of instruction `index` at block offset `off`. */
typedef struct TrStub {
    uint32_t label;
    unsigned index, icount_index;
    uint64_t off;
    IrTemp icount_base;
} TrStub;

typedef struct Tr {
    const Block *blk;
    IrBlock *ir;
    unsigned code_size;     /* 2, 4 or 8: the block's code size */
    bool inline_ok;         /* inline lowerings allowed at all */
    bool mem_ok;            /* inline memory accesses allowed */
    int priv;               /* TLB_USER or TLB_SUPERVISOR */
    IrTemp rip0;            /* RIP at entry */
    IrTemp icount_base;     /* icount when instruction icount_index began */
    unsigned icount_index;
    unsigned index;         /* the instruction being lowered */
    const DecodedInsn *d;
    uint64_t off;           /* its offset from the block's first byte */
    int synced;             /* index whose RIP and icount CpuState holds */
    bool ended;             /* the lowering ended the block */
    bool stored;            /* the lowering stored to memory (QST) */
    TrFlags flags;
    uint32_t fault_label, restart_label;
    TrStub stubs[BLOCK_MAX_INSNS];
    unsigned nstubs;
} Tr;

#define CPU_OFF(field) offsetof(Cpu, field)
#define REG_OFF(r) (offsetof(Cpu, s.regs) + (size_t)(r) * 8)

/* ---- jit/translate.c: RIP, icount, exits ------------------------------ */

/* The type of an operation at operand size `size`. */
static inline IrType tr_type(unsigned size)
{
    return size == 8 ? IR_I64 : IR_I32;
}

IrTemp tr_const(Tr *t, IrType type, uint64_t v);
/* RIP of the instruction at block offset `off`, wrapped to the code size. */
IrTemp tr_rip_at(Tr *t, uint64_t off);
/* Store RIP and icount of the current instruction unless CpuState has
 * them: before every barrier. */
void tr_sync(Tr *t);
/* Leave the block with `status` when it is not CPU_OK. */
void tr_exit_unless_ok(Tr *t, IrTemp status);
/* After an instruction that stored to memory: leave with CPU_EXIT if the
 * budget was cut (cpu_kick: the store made a translation stale, or raised
 * an event), as the interpreter's block loop does. */
void tr_exit_if_kicked(Tr *t);
/* End the block at the instruction at block offset `off` (RIP and icount
 * stored as for an instruction `index`): a chainable IR_GOTO `slot` when
 * it is in the block's first page, else IR_LOOKUP. */
void tr_end_at(Tr *t, unsigned index, uint64_t off, unsigned slot);

/* The default lowering of t->d: its handler through jit_helper_insn.
 * Ends the block after branches and instructions that change the
 * assumptions. */
void tr_lower_default(Tr *t);

/* ---- jit/translate_ops.c: operands and flags ------------------------- */

/* Register r at `size` (R_AH.. for the high bytes), zero-extended. */
IrTemp tr_get_reg(Tr *t, int r, unsigned size);
/* Write with the x86 rules (cpu/insn.h reg_write). */
void tr_set_reg(Tr *t, int r, unsigned size, IrTemp v);
/* The offset of d's memory operand (insn_ea), and its linear address
 * (segment base added); the linear address of `offset` in `seg`. */
IrTemp tr_effective_address(Tr *t);
IrTemp tr_address(Tr *t);
IrTemp tr_linear(Tr *t, IrTemp offset, int seg);
/* Can d's memory operand be accessed inline? */
bool tr_mem_inline(const Tr *t, int seg);
IrTemp tr_load(Tr *t, IrTemp linear, unsigned size, int seg);
void tr_store(Tr *t, IrTemp linear, IrTemp v, unsigned size, int seg);
/* Operand i of d (register, memory, immediate), zero-extended. */
IrTemp tr_read_op(Tr *t, int i, unsigned size, IrTemp *linear);
void tr_write_op(Tr *t, int i, unsigned size, IrTemp v, IrTemp linear);
/* Record the lazy flags as cc_set does, and remember the producer. */
void tr_set_flags(Tr *t, int kind, unsigned size, IrTemp res, IrTemp src,
                  IrTemp src2, IrTemp a);
/* Call a helper that only reads the state (a pure IR_CALL). */
IrTemp tr_call_reader(Tr *t, const void *fn, IrTemp arg);
/* Condition cc (Jcc order) as a 0/1 temp. */
IrTemp tr_condition(Tr *t, int cc);
/* CF as a 0/1 temp. */
IrTemp tr_carry(Tr *t);

/* ---- jit/translate_insn.c: the inline lowerings ---------------------- */

/* Lower t->d inline; false leaves it to the default lowering (having
 * emitted nothing). */
bool tr_inline(Tr *t);

#endif

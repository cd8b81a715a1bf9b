/* The JIT's intermediate representation (DESIGN.md, JIT; docs/jit.md).
 *
 * A translated block is a straight list of IrOps over numbered temporaries.
 * Temporaries are typed I32 or I64: an I32 operation uses the low 32 bits
 * of its inputs and zero-extends its result, as both x86-64 and AArch64 do
 * for their 32-bit forms, so backends map each op to one or two host
 * instructions.  An I32 temp therefore always holds its value zero-extended
 * to 64 bits: it may feed an I64 op (as that zero-extended value) and an
 * 8-byte ST or QST stores the zero extension; an I64 temp feeding an I32
 * op gives its low 32 bits.  SETCC compares at the op's type and its 0/1
 * result has that type; CALL's result is I64.  Guest state is reached only through LD/ST at byte offsets
 * into Cpu (slots: registers, RIP, the lazy-flag words, icount...), so the
 * optimizer can see every guest-state access.
 *
 * Control flow inside a block is forward only: BRCOND and JMP go to a
 * LABEL later in the list.  A block ends in GOTO (a chainable direct jump,
 * slot 0 or 1), LOOKUP (an indirect jump through the jump cache) or EXIT
 * (back to the dispatcher with a CPU_* status).
 *
 * Ops that may leave the block early (QLD, QST, CALL) are barriers: the
 * translator stores every guest-state slot it changed before them, so a
 * fault or exit inside them finds CpuState exact (docs/jit.md,
 * "Exactness"), and the optimizer never moves a guest-state store across
 * one.
 */
#ifndef VIREO_JIT_IR_H
#define VIREO_JIT_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint16_t IrTemp;
#define IR_NO_TEMP ((IrTemp)0xffff)
#define IR_MAX_TEMPS 4096

typedef enum IrType { IR_I32, IR_I64 } IrType;

/* Conditions of SETCC and BRCOND (signed and unsigned comparisons of a and
 * b at the op's type, and TSTEQ/TSTNE: (a & b) == 0 / != 0). */
typedef enum IrCond {
    IR_EQ, IR_NE, IR_LTU, IR_GEU, IR_LEU, IR_GTU,
    IR_LT, IR_GE, IR_LE, IR_GT, IR_TSTEQ, IR_TSTNE,
    IR_COND_COUNT
} IrCond;

typedef enum IrOpcode {
    IR_NOP,       /* removed by the optimizer */
    IR_MOVI,      /* d = imm */
    IR_MOV,       /* d = a */
    IR_LD,        /* d = zero-extended `size` bytes at (char *)cpu + imm */
    IR_ST,        /* `size` bytes at (char *)cpu + imm = a */
    IR_ADD, IR_SUB, IR_MUL, IR_AND, IR_OR, IR_XOR,   /* d = a op b */
    IR_SHL, IR_SHR, IR_SAR,   /* d = a shifted by b mod (32 or 64) */
    IR_NEG, IR_NOT,           /* d = op a */
    IR_EXT,       /* d = a extended from `size` bytes (1, 2, 4): sign-
                     extended if imm != 0, else zero-extended */
    IR_SETCC,     /* d = (a cond b) ? 1 : 0 */
    IR_BRCOND,    /* if (a cond b) goto label imm */
    IR_JMP,       /* goto label imm */
    IR_LABEL,     /* label imm (0 .. labels-1), defined once */
    /* Guest memory at the linear address in a, `size` bytes (1, 2, 4, 8),
     * through the soft TLB of privilege `cond` (TLB_SUPERVISOR/TLB_USER).
     * imm is the segment (SEG_*) whose base the translator added: the hit
     * path is inline; a miss, or an access crossing a page, calls the slow
     * helper (jit/helpers.h), which redoes the whole access through
     * mem_read/mem_write at offset linear - base (segment and canonical
     * checks, #AC, MMIO, code-page tracking) and may fault or ask to leave
     * the block. */
    IR_QLD,       /* d = zero-extended load at a */
    IR_QST,       /* store b at a */
    /* d = ((uint64_t (*)(Cpu *, uint64_t, uint64_t, uint64_t))imm)
     *         (cpu, a, b, c); unused arguments are IR_NO_TEMP (pass 0),
     * d may be IR_NO_TEMP.  A helper that returns a CPU_* status is
     * followed by a BRCOND on it by the translator.  cond != 0 marks a
     * helper that only reads guest state (no effect, cannot fault or
     * leave): the optimizer may drop the call when d is unused; backends
     * treat it as any other call. */
    IR_CALL,
    IR_GOTO,      /* end: chainable jump, exit slot imm (0 or 1) */
    IR_LOOKUP,    /* end: indirect jump to the block at the stored RIP */
    IR_EXIT,      /* end: back to the dispatcher with status imm (CPU_*) */
    IR_INSN,      /* marker: guest instruction imm (index in the block)
                     starts here; for -d op and out_asm, emits nothing */
    IR_OPCODE_COUNT
} IrOpcode;

typedef struct IrOp {
    uint8_t opc;          /* IrOpcode */
    uint8_t type;         /* IrType of the result / comparison */
    uint8_t size;         /* bytes, for LD/ST/EXT/QLD/QST */
    uint8_t cond;         /* IrCond for SETCC/BRCOND; priv for QLD/QST */
    IrTemp d, a, b, c;    /* IR_NO_TEMP when unused */
    uint64_t imm;
} IrOp;

typedef struct IrBlock {
    IrOp *ops;
    uint32_t count, capacity;
    uint32_t temps;       /* temporaries used: 0 .. temps-1 */
    uint32_t labels;      /* labels used: 0 .. labels-1 */
    IrType temp_type[IR_MAX_TEMPS];
} IrBlock;

void ir_init(IrBlock *b);
void ir_free(IrBlock *b);
void ir_reset(IrBlock *b);

IrTemp ir_temp(IrBlock *b, IrType type);
uint32_t ir_label(IrBlock *b);
/* Append an op; returns its index.  Builders below are the usual way. */
uint32_t ir_emit(IrBlock *b, IrOp op);

IrTemp ir_movi(IrBlock *b, IrType t, uint64_t imm);
IrTemp ir_ld(IrBlock *b, IrType t, size_t offset, unsigned size);
void ir_st(IrBlock *b, size_t offset, unsigned size, IrTemp a);
IrTemp ir_binop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a, IrTemp c);
IrTemp ir_unop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a);
IrTemp ir_ext(IrBlock *b, IrType t, IrTemp a, unsigned size, bool is_signed);
IrTemp ir_setcc(IrBlock *b, IrType t, IrCond cond, IrTemp a, IrTemp c);
void ir_brcond(IrBlock *b, IrType t, IrCond cond, IrTemp a, IrTemp c,
               uint32_t label);
void ir_jmp(IrBlock *b, uint32_t label);
void ir_set_label(IrBlock *b, uint32_t label);
IrTemp ir_qld(IrBlock *b, IrType t, IrTemp addr, unsigned size, int priv);
void ir_qst(IrBlock *b, IrTemp addr, IrTemp v, unsigned size, int priv);
IrTemp ir_call(IrBlock *b, const void *fn, IrTemp a, IrTemp c, IrTemp e);
void ir_goto(IrBlock *b, unsigned slot);
void ir_lookup(IrBlock *b);
void ir_exit(IrBlock *b, int status);
void ir_insn(IrBlock *b, unsigned index);

/* Does this op end the block, leave it early, or touch guest state the
 * optimizer cannot see (a barrier for guest-state stores)? */
bool ir_is_barrier(const IrOp *op);

/* The value of a pure op (MOV, arithmetic, EXT, SETCC) on inputs a and
 * b, at the op's type: the reference semantics for the IR interpreter
 * and constant folding. */
uint64_t ir_eval(const IrOp *op, uint64_t a, uint64_t b);
bool ir_compare(IrCond cond, IrType type, uint64_t a, uint64_t b);
/* Does the op only compute its result (no effect, cannot fault)? */
bool ir_is_pure(const IrOp *op);

/* -d op: the block's ops, one per line. */
void ir_dump(const IrBlock *b);

#endif

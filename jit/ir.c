/* The IR's builders and its -d op dump (jit/ir.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit/ir.h"
#include "util/log.h"

void ir_init(IrBlock *b)
{
    memset(b, 0, sizeof(*b));
}

void ir_free(IrBlock *b)
{
    free(b->ops);
    ir_init(b);
}

void ir_reset(IrBlock *b)
{
    b->count = 0;
    b->temps = 0;
    b->labels = 0;
}

IrTemp ir_temp(IrBlock *b, IrType type)
{
    /* A block has at most BLOCK_MAX_INSNS instructions of a few dozen
     * temporaries each, well under IR_MAX_TEMPS. */
    if (b->temps >= IR_MAX_TEMPS)
        abort();
    b->temp_type[b->temps] = type;
    return (IrTemp)b->temps++;
}

uint32_t ir_label(IrBlock *b)
{
    return b->labels++;
}

uint32_t ir_emit(IrBlock *b, IrOp op)
{
    if (b->count == b->capacity) {
        uint32_t cap = b->capacity ? b->capacity * 2 : 256;
        IrOp *ops = realloc(b->ops, cap * sizeof(*ops));
        if (!ops)
            abort();
        b->ops = ops;
        b->capacity = cap;
    }
    b->ops[b->count] = op;
    return b->count++;
}

/* An op with every temp unused. */
static IrOp op_new(IrOpcode opc, IrType t)
{
    return (IrOp){ .opc = opc, .type = t, .d = IR_NO_TEMP, .a = IR_NO_TEMP,
                   .b = IR_NO_TEMP, .c = IR_NO_TEMP };
}

IrTemp ir_movi(IrBlock *b, IrType t, uint64_t imm)
{
    IrOp op = op_new(IR_MOVI, t);
    op.d = ir_temp(b, t);
    op.imm = t == IR_I32 ? (uint32_t)imm : imm;
    ir_emit(b, op);
    return op.d;
}

IrTemp ir_ld(IrBlock *b, IrType t, size_t offset, unsigned size)
{
    IrOp op = op_new(IR_LD, t);
    op.d = ir_temp(b, t);
    op.size = (uint8_t)size;
    op.imm = offset;
    ir_emit(b, op);
    return op.d;
}

void ir_st(IrBlock *b, size_t offset, unsigned size, IrTemp a)
{
    IrOp op = op_new(IR_ST, b->temp_type[a]);
    op.size = (uint8_t)size;
    op.imm = offset;
    op.a = a;
    ir_emit(b, op);
}

IrTemp ir_binop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a, IrTemp c)
{
    IrOp op = op_new(opc, t);
    op.d = ir_temp(b, t);
    op.a = a;
    op.b = c;
    ir_emit(b, op);
    return op.d;
}

IrTemp ir_unop(IrBlock *b, IrOpcode opc, IrType t, IrTemp a)
{
    IrOp op = op_new(opc, t);
    op.d = ir_temp(b, t);
    op.a = a;
    ir_emit(b, op);
    return op.d;
}

IrTemp ir_ext(IrBlock *b, IrType t, IrTemp a, unsigned size, bool is_signed)
{
    IrOp op = op_new(IR_EXT, t);
    op.d = ir_temp(b, t);
    op.a = a;
    op.size = (uint8_t)size;
    op.imm = is_signed;
    ir_emit(b, op);
    return op.d;
}

IrTemp ir_setcc(IrBlock *b, IrType t, IrCond cond, IrTemp a, IrTemp c)
{
    IrOp op = op_new(IR_SETCC, t);
    op.d = ir_temp(b, t);
    op.cond = (uint8_t)cond;
    op.a = a;
    op.b = c;
    ir_emit(b, op);
    return op.d;
}

void ir_brcond(IrBlock *b, IrType t, IrCond cond, IrTemp a, IrTemp c,
               uint32_t label)
{
    IrOp op = op_new(IR_BRCOND, t);
    op.cond = (uint8_t)cond;
    op.a = a;
    op.b = c;
    op.imm = label;
    ir_emit(b, op);
}

void ir_jmp(IrBlock *b, uint32_t label)
{
    IrOp op = op_new(IR_JMP, IR_I64);
    op.imm = label;
    ir_emit(b, op);
}

void ir_set_label(IrBlock *b, uint32_t label)
{
    IrOp op = op_new(IR_LABEL, IR_I64);
    op.imm = label;
    ir_emit(b, op);
}

IrTemp ir_qld(IrBlock *b, IrType t, IrTemp addr, unsigned size, int priv)
{
    IrOp op = op_new(IR_QLD, t);
    op.d = ir_temp(b, t);
    op.a = addr;
    op.size = (uint8_t)size;
    op.cond = (uint8_t)priv;
    ir_emit(b, op);
    return op.d;
}

void ir_qst(IrBlock *b, IrTemp addr, IrTemp v, unsigned size, int priv)
{
    IrOp op = op_new(IR_QST, IR_I64);
    op.a = addr;
    op.b = v;
    op.size = (uint8_t)size;
    op.cond = (uint8_t)priv;
    ir_emit(b, op);
}

IrTemp ir_call(IrBlock *b, const void *fn, IrTemp a, IrTemp c, IrTemp e)
{
    IrOp op = op_new(IR_CALL, IR_I64);
    op.d = ir_temp(b, IR_I64);
    op.a = a;
    op.b = c;
    op.c = e;
    op.imm = (uint64_t)(uintptr_t)fn;
    ir_emit(b, op);
    return op.d;
}

void ir_goto(IrBlock *b, unsigned slot)
{
    IrOp op = op_new(IR_GOTO, IR_I64);
    op.imm = slot;
    ir_emit(b, op);
}

void ir_lookup(IrBlock *b)
{
    ir_emit(b, op_new(IR_LOOKUP, IR_I64));
}

void ir_exit(IrBlock *b, int status)
{
    IrOp op = op_new(IR_EXIT, IR_I64);
    op.imm = (uint64_t)status;
    ir_emit(b, op);
}

void ir_insn(IrBlock *b, unsigned index)
{
    IrOp op = op_new(IR_INSN, IR_I64);
    op.imm = index;
    ir_emit(b, op);
}

bool ir_is_barrier(const IrOp *op)
{
    switch (op->opc) {
    case IR_QLD: case IR_QST: case IR_CALL:
    case IR_GOTO: case IR_LOOKUP: case IR_EXIT:
        return true;
    default:
        return false;
    }
}

/* ---- semantics of the pure ops ----------------------------------------- */

bool ir_compare(IrCond cond, IrType type, uint64_t a, uint64_t b)
{
    if (type == IR_I32) {
        a = (uint32_t)a;
        b = (uint32_t)b;
    }
    int64_t sa = type == IR_I32 ? (int32_t)a : (int64_t)a;
    int64_t sb = type == IR_I32 ? (int32_t)b : (int64_t)b;
    switch (cond) {
    case IR_EQ: return a == b;
    case IR_NE: return a != b;
    case IR_LTU: return a < b;
    case IR_GEU: return a >= b;
    case IR_LEU: return a <= b;
    case IR_GTU: return a > b;
    case IR_LT: return sa < sb;
    case IR_GE: return sa >= sb;
    case IR_LE: return sa <= sb;
    case IR_GT: return sa > sb;
    case IR_TSTEQ: return (a & b) == 0;
    default: return (a & b) != 0;   /* IR_TSTNE */
    }
}

uint64_t ir_eval(const IrOp *op, uint64_t a, uint64_t b)
{
    unsigned bits = op->type == IR_I32 ? 32 : 64;
    unsigned shift = 64 - op->size * 8;
    uint64_t r;
    switch (op->opc) {
    case IR_MOV: r = a; break;
    case IR_ADD: r = a + b; break;
    case IR_SUB: r = a - b; break;
    case IR_MUL: r = a * b; break;
    case IR_AND: r = a & b; break;
    case IR_OR: r = a | b; break;
    case IR_XOR: r = a ^ b; break;
    case IR_SHL: r = a << (b % bits); break;
    case IR_SHR: r = (bits == 32 ? (uint32_t)a : a) >> (b % bits); break;
    case IR_SAR:
        r = bits == 32 ? (uint64_t)((int32_t)a >> (b % 32))
                       : (uint64_t)((int64_t)a >> (b % 64));
        break;
    case IR_NEG: r = 0 - a; break;
    case IR_NOT: r = ~a; break;
    case IR_EXT:
        r = op->imm ? (uint64_t)((int64_t)(a << shift) >> shift)
                    : (a << shift) >> shift;
        break;
    default:   /* IR_SETCC */
        r = ir_compare(op->cond, op->type, a, b);
        break;
    }
    return op->type == IR_I32 ? (uint32_t)r : r;
}

bool ir_is_pure(const IrOp *op)
{
    switch (op->opc) {
    case IR_CALL:
        return op->cond != 0 && op->d != IR_NO_TEMP;
    case IR_MOVI: case IR_MOV: case IR_LD: case IR_ADD: case IR_SUB:
    case IR_MUL: case IR_AND: case IR_OR: case IR_XOR: case IR_SHL:
    case IR_SHR: case IR_SAR: case IR_NEG: case IR_NOT: case IR_EXT:
    case IR_SETCC:
        return true;
    default:
        return false;
    }
}

/* ---- -d op ------------------------------------------------------------ */

static const char *const opcode_names[IR_OPCODE_COUNT] = {
    [IR_NOP] = "nop", [IR_MOVI] = "movi", [IR_MOV] = "mov", [IR_LD] = "ld",
    [IR_ST] = "st", [IR_ADD] = "add", [IR_SUB] = "sub", [IR_MUL] = "mul",
    [IR_AND] = "and", [IR_OR] = "or", [IR_XOR] = "xor", [IR_SHL] = "shl",
    [IR_SHR] = "shr", [IR_SAR] = "sar", [IR_NEG] = "neg", [IR_NOT] = "not",
    [IR_EXT] = "ext", [IR_SETCC] = "setcc", [IR_BRCOND] = "brcond",
    [IR_JMP] = "jmp", [IR_LABEL] = "label", [IR_QLD] = "qld",
    [IR_QST] = "qst", [IR_CALL] = "call", [IR_GOTO] = "goto",
    [IR_LOOKUP] = "lookup", [IR_EXIT] = "exit", [IR_INSN] = "insn",
};

static const char *const cond_names[IR_COND_COUNT] = {
    "eq", "ne", "ltu", "geu", "leu", "gtu", "lt", "ge", "le", "gt",
    "tsteq", "tstne",
};

/* Append " tN" for each used temp of the op's inputs. */
static int dump_inputs(char *buf, size_t n, const IrOp *op)
{
    int len = 0;
    const IrTemp in[3] = { op->a, op->b, op->c };
    for (int i = 0; i < 3; i++) {
        if (in[i] != IR_NO_TEMP)
            len += snprintf(buf + len, n - (size_t)len, "%s t%u",
                            i ? "," : "", in[i]);
    }
    return len;
}

void ir_dump(const IrBlock *b)
{
    for (uint32_t i = 0; i < b->count; i++) {
        const IrOp *op = &b->ops[i];
        char line[160];
        int len = 0;
        if (op->opc == IR_NOP)
            continue;
        if (op->opc == IR_INSN) {
            log_printf(" ---- insn %llu\n", (unsigned long long)op->imm);
            continue;
        }
        if (op->d != IR_NO_TEMP)
            len += snprintf(line, sizeof(line), "t%u = ", op->d);
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s",
                        opcode_names[op->opc]);
        if (op->opc == IR_SETCC || op->opc == IR_BRCOND)
            len += snprintf(line + len, sizeof(line) - (size_t)len, ".%s",
                            cond_names[op->cond]);
        len += snprintf(line + len, sizeof(line) - (size_t)len, "%s",
                        op->type == IR_I32 ? "_i32" : "_i64");
        switch (op->opc) {
        case IR_LD: case IR_ST: case IR_EXT:
            len += snprintf(line + len, sizeof(line) - (size_t)len, " %u",
                            op->size);
            break;
        case IR_QLD: case IR_QST:
            len += snprintf(line + len, sizeof(line) - (size_t)len,
                            " %u %s", op->size, op->cond ? "user" : "sup");
            break;
        default:
            break;
        }
        len += dump_inputs(line + len, sizeof(line) - (size_t)len, op);
        switch (op->opc) {
        case IR_MOVI: case IR_LD: case IR_ST: case IR_EXT: case IR_CALL:
        case IR_QLD: case IR_QST: case IR_GOTO: case IR_EXIT:
            snprintf(line + len, sizeof(line) - (size_t)len, " $0x%llx",
                     (unsigned long long)op->imm);
            break;
        case IR_BRCOND: case IR_JMP: case IR_LABEL:
            snprintf(line + len, sizeof(line) - (size_t)len, " L%llu",
                     (unsigned long long)op->imm);
            break;
        default:
            break;
        }
        log_printf("  %s\n", line);
    }
}

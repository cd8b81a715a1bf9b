/* Two-operand arithmetic and logic, the one-operand forms, and the flag
 * instructions.
 *
 * Intel SDM Vol. 2: ADD, ADC, SUB, SBB, CMP, AND, OR, XOR, TEST, INC, DEC,
 * NOT, NEG, CMC, CLC, STC, CLD, STD.  The arithmetic flags are recorded
 * lazily (cpu/flags.c); CMC/CLC/STC materialise them because they change
 * one flag and keep the others.
 *
 * Every handler reads all its operands first, then writes the destination
 * (a memory write may still fault), and only then records the flags, so a
 * fault leaves the architectural state untouched.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

typedef enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR,
               ALU_CMP, ALU_TEST } AluOp;

/* One function for the eight ALU rows and TEST: they differ only in the
 * operation, whether the result is stored and which lazy kind records the
 * flags. */
static int alu_binary(Cpu *cpu, const DecodedInsn *d, AluOp op)
{
    unsigned size = d->osize;
    uint64_t a, b, r;
    int kind;
    bool carry = false;
    int rc;

    if ((rc = op_read(cpu, d, 0, size, &a)) != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, 1, size, &b)) != CPU_OK)
        return rc;
    b &= size_mask(size);

    switch (op) {
    case ALU_ADD: r = a + b; kind = CC_ADD; break;
    case ALU_ADC: carry = cc_carry(cpu); r = a + b + carry; kind = CC_ADC; break;
    case ALU_SUB:
    case ALU_CMP: r = a - b; kind = CC_SUB; break;
    case ALU_SBB: carry = cc_carry(cpu); r = a - b - carry; kind = CC_SBB; break;
    case ALU_OR: r = a | b; kind = CC_LOGIC; break;
    case ALU_AND:
    case ALU_TEST: r = a & b; kind = CC_LOGIC; break;
    default: r = a ^ b; kind = CC_LOGIC; break;
    }
    r &= size_mask(size);

    if (op != ALU_CMP && op != ALU_TEST &&
        (rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
        return rc;
    cc_set(cpu, kind, size, r, b, carry);
    return CPU_OK;
}

int h_ADD(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_ADD); }
int h_OR(Cpu *cpu, const DecodedInsn *d)  { return alu_binary(cpu, d, ALU_OR); }
int h_ADC(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_ADC); }
int h_SBB(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_SBB); }
int h_AND(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_AND); }
int h_SUB(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_SUB); }
int h_XOR(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_XOR); }
int h_CMP(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_CMP); }
int h_TEST(Cpu *cpu, const DecodedInsn *d) { return alu_binary(cpu, d, ALU_TEST); }

/* INC and DEC leave CF alone (SDM: "The CF flag is not affected"), so the
 * old CF rides along in cc_src. */
static int inc_dec(Cpu *cpu, const DecodedInsn *d, int kind)
{
    unsigned size = d->osize;
    uint64_t v;
    int rc;

    if ((rc = op_read(cpu, d, 0, size, &v)) != CPU_OK)
        return rc;
    bool cf = cc_carry(cpu);
    v = (kind == CC_INC ? v + 1 : v - 1) & size_mask(size);
    if ((rc = op_write(cpu, d, 0, size, v)) != CPU_OK)
        return rc;
    cc_set(cpu, kind, size, v, cf, 0);
    return CPU_OK;
}

int h_INC(Cpu *cpu, const DecodedInsn *d) { return inc_dec(cpu, d, CC_INC); }
int h_DEC(Cpu *cpu, const DecodedInsn *d) { return inc_dec(cpu, d, CC_DEC); }

int h_NOT(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = op_read(cpu, d, 0, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    /* NOT affects no flags. */
    return op_write(cpu, d, 0, d->osize, ~v & size_mask(d->osize));
}

/* NEG is 0 - operand: CF = (operand != 0), the rest as SUB (SDM NEG). */
int h_NEG(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t v, r;
    int rc;

    if ((rc = op_read(cpu, d, 0, size, &v)) != CPU_OK)
        return rc;
    v &= size_mask(size);
    r = (0 - v) & size_mask(size);
    if ((rc = op_write(cpu, d, 0, size, r)) != CPU_OK)
        return rc;
    cc_set(cpu, CC_SUB, size, r, v, 0);
    return CPU_OK;
}

int h_CMC(Cpu *cpu, const DecodedInsn *d)
{
    cc_set_flags(cpu, cc_compute(cpu) ^ F_CF);
    return CPU_OK;
}

int h_CLC(Cpu *cpu, const DecodedInsn *d)
{
    cc_set_flags(cpu, cc_compute(cpu) & ~(uint32_t)F_CF);
    return CPU_OK;
}

int h_STC(Cpu *cpu, const DecodedInsn *d)
{
    cc_set_flags(cpu, cc_compute(cpu) | F_CF);
    return CPU_OK;
}

/* DF lives in the non-arithmetic part of EFLAGS. */
int h_CLD(Cpu *cpu, const DecodedInsn *d)
{
    cpu->s.eflags &= ~(uint64_t)F_DF;
    return CPU_OK;
}

int h_STD(Cpu *cpu, const DecodedInsn *d)
{
    cpu->s.eflags |= F_DF;
    return CPU_OK;
}

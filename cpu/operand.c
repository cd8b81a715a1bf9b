/* Operand access for handlers: effective addresses (SDM Vol. 2 2.1.5 and
 * Vol. 1 3.7.5) and the uniform read/write of decoded operands.
 */
#include "cpu/insn.h"

uint64_t insn_next_rip(const Cpu *cpu, const DecodedInsn *d)
{
    uint64_t next = cpu->s.rip + d->len;
    switch (cpu->mode & CPU_MODE_SIZE_MASK) {
    case CPU_MODE_CODE64: return next;
    case CPU_MODE_CODE32: return next & 0xffffffffull;
    default:              return next & 0xffff;
    }
}

uint64_t insn_ea(const Cpu *cpu, const DecodedInsn *d)
{
    uint64_t ea = (uint64_t)d->disp;
    if (d->base == R_RIP)
        ea += insn_next_rip(cpu, d);
    else if (d->base != R_NONE)
        ea += cpu->s.regs[d->base];
    if (d->index != R_NONE)
        ea += cpu->s.regs[d->index] << d->scale;
    return ea & size_mask(d->asize);
}

int op_read(Cpu *cpu, const DecodedInsn *d, int i, unsigned size, uint64_t *v)
{
    switch (d->kind[i]) {
    case OPK_REG:
        *v = reg_read(cpu, d->reg[i], size);
        return CPU_OK;
    case OPK_MEM:
        return mem_read(cpu, d->seg, insn_ea(cpu, d), size, v);
    case OPK_IMM:
        *v = d->imm & size_mask(size);
        return CPU_OK;
    case OPK_IMM2:
        *v = d->imm2 & size_mask(size);
        return CPU_OK;
    case OPK_SREG:
        *v = cpu->s.seg[d->reg[i]].selector;
        return CPU_OK;
    default:
        *v = 0;
        return CPU_OK;
    }
}

int op_write(Cpu *cpu, const DecodedInsn *d, int i, unsigned size, uint64_t v)
{
    switch (d->kind[i]) {
    case OPK_REG:
        reg_write(cpu, d->reg[i], size, v);
        return CPU_OK;
    case OPK_MEM:
        return mem_write(cpu, d->seg, insn_ea(cpu, d), size, v);
    default:
        /* The table never makes an immediate a destination. */
        return CPU_OK;
    }
}

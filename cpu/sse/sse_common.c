/* Shared helpers for SSE and MMX handlers (see sse_common.h). */
#include "cpu/sse/sse_common.h"

int sse_check(Cpu *cpu)
{
    if ((cpu->s.cr0 & CR0_EM) || !(cpu->s.cr4 & CR4_OSFXSR))
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (cpu->s.cr0 & CR0_TS)
        return cpu_raise(cpu, EXC_NM, 0, false);
    return CPU_OK;
}

uint64_t insn_linear_address(const Cpu *cpu, const DecodedInsn *d)
{
    uint64_t ea = insn_ea(cpu, d);
    if (cpu_is_64(cpu) && d->seg != SEG_FS && d->seg != SEG_GS)
        return ea;
    return cpu->s.seg[d->seg].base + ea;
}

static int check_alignment(Cpu *cpu, const DecodedInsn *d, bool aligned)
{
    if (aligned && (insn_linear_address(cpu, d) & 15))
        return cpu_raise(cpu, EXC_GP, 0, true);
    return CPU_OK;
}

int sse_read128(Cpu *cpu, const DecodedInsn *d, int i, bool aligned, XmmReg *v)
{
    if (d->kind[i] == OPK_XMM) {
        *v = *xmm_reg(cpu, d->reg[i]);
        return CPU_OK;
    }
    if (check_alignment(cpu, d, aligned) != CPU_OK)
        return CPU_FAULT;
    uint64_t ea = insn_ea(cpu, d), lo, hi;
    if (mem_read(cpu, d->seg, ea, 8, &lo) != CPU_OK ||
        mem_read(cpu, d->seg, (ea + 8) & size_mask(d->asize), 8, &hi) != CPU_OK)
        return CPU_FAULT;
    v->q[0] = lo;
    v->q[1] = hi;
    return CPU_OK;
}

int sse_write128(Cpu *cpu, const DecodedInsn *d, int i, bool aligned,
                 const XmmReg *v)
{
    if (d->kind[i] == OPK_XMM) {
        *xmm_reg(cpu, d->reg[i]) = *v;
        return CPU_OK;
    }
    if (check_alignment(cpu, d, aligned) != CPU_OK)
        return CPU_FAULT;
    uint64_t ea = insn_ea(cpu, d);
    /* Check the whole 16 bytes first: a fault leaves memory untouched. */
    if (mem_check_write(cpu, d->seg, ea, 16) != CPU_OK ||
        mem_write(cpu, d->seg, ea, 8, v->q[0]) != CPU_OK ||
        mem_write(cpu, d->seg, (ea + 8) & size_mask(d->asize), 8, v->q[1]) != CPU_OK)
        return CPU_FAULT;
    return CPU_OK;
}

int sse_read_low(Cpu *cpu, const DecodedInsn *d, int i, unsigned size,
                 uint64_t *v)
{
    if (d->kind[i] == OPK_XMM) {
        *v = xmm_reg(cpu, d->reg[i])->q[0] & size_mask(size);
        return CPU_OK;
    }
    return op_read(cpu, d, i, size, v);
}

/* The stack primitives every push and pop goes through.
 *
 * Intel SDM Vol. 1 6.2 (stacks, stack-segment register, address-size
 * attribute of the stack: SS.B in legacy modes, 64 bits in 64-bit mode)
 * and Vol. 2 PUSH/POP ("the stack-address size determines the width of the
 * stack pointer").  The operand size of a push or pop is the caller's; the
 * width of SP is the stack's.
 *
 * Fault rule (cpu/insn.h): memory first, then the stack pointer, so a
 * faulting push or pop changes nothing.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

unsigned stack_width(const Cpu *cpu)
{
    if (cpu_is_64(cpu))
        return 8;
    return (cpu->mode & CPU_MODE_SS32) ? 4 : 2;
}

/* The stack pointer at the stack's width: SP, ESP or RSP. */
static uint64_t stack_sp(const Cpu *cpu, unsigned width)
{
    return reg_read(cpu, R_SP, width);
}

int stack_push(Cpu *cpu, unsigned size, uint64_t v)
{
    unsigned w = stack_width(cpu);
    uint64_t sp = (stack_sp(cpu, w) - size) & size_mask(w);
    int rc = mem_write(cpu, SEG_SS, sp, size, v & size_mask(size));
    if (rc != CPU_OK)
        return rc;
    /* A 16-bit stack changes only SP: the upper bits of ESP/RSP stay. */
    reg_write(cpu, R_SP, w, sp);
    return CPU_OK;
}

int stack_pop(Cpu *cpu, unsigned size, uint64_t *v)
{
    unsigned w = stack_width(cpu);
    uint64_t sp = stack_sp(cpu, w);
    int rc = mem_read(cpu, SEG_SS, sp, size, v);
    if (rc != CPU_OK)
        return rc;
    reg_write(cpu, R_SP, w, (sp + size) & size_mask(w));
    return CPU_OK;
}

int stack_peek(Cpu *cpu, uint64_t offset, unsigned size, uint64_t *v)
{
    unsigned w = stack_width(cpu);
    uint64_t addr = (stack_sp(cpu, w) + offset) & size_mask(w);
    return mem_read(cpu, SEG_SS, addr, size, v);
}

void stack_adjust(Cpu *cpu, int64_t delta)
{
    unsigned w = stack_width(cpu);
    reg_write(cpu, R_SP, w, (stack_sp(cpu, w) + (uint64_t)delta) & size_mask(w));
}

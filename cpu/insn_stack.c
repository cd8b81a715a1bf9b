/* Stack instructions: PUSH, POP, PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE and
 * the segment-register pushes and pops.
 *
 * Intel SDM Vol. 2: PUSH, POP, PUSHA/PUSHAD, POPA/POPAD, PUSHF/PUSHFD/
 * PUSHFQ, POPF/POPFD/POPFQ, ENTER, LEAVE; Vol. 3 20.2.7 and 20.3 for the
 * IOPL-sensitive PUSHF/POPF in virtual-8086 mode with and without CR4.VME.
 *
 * Operand size (how many bytes move) comes from the decoder; the stack
 * width (how SP wraps) from cpu/stack.c.  Instructions that store several
 * values check every slot before writing any, so a fault changes nothing.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

/* Offset of the stack slot `k` elements below SP (k = 1 is the first push). */
static uint64_t slot_below(const Cpu *cpu, unsigned k, unsigned size)
{
    unsigned w = stack_width(cpu);
    return (reg_read(cpu, R_SP, w) - (uint64_t)k * size) & size_mask(w);
}

/* Commit a new stack pointer at the stack width: with a 16-bit stack only
 * SP changes and the upper bits of ESP/RSP stay, as for a single push. */
static void sp_commit(Cpu *cpu, uint64_t new_sp)
{
    reg_write(cpu, R_SP, stack_width(cpu), new_sp & size_mask(stack_width(cpu)));
}

/* ---- PUSH / POP -------------------------------------------------------- */

/* PUSH r/m, reg, imm: the value is read first, so PUSH rSP stores the
 * value before the decrement and PUSH [rSP+n] addresses the old stack. */
int h_PUSH(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = op_read(cpu, d, 0, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    return stack_push(cpu, d->osize, v);
}

/* POP: for a memory destination the SDM says "if the ESP register is used
 * as a base register for addressing a destination operand in memory, the
 * POP instruction computes the effective address of the operand after it
 * increments the ESP register", so SP moves first and comes back if the
 * store faults.  POP rSP leaves the popped value in rSP (the register
 * write follows the increment). */
int h_POP(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = stack_peek(cpu, 0, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    uint64_t old_rsp = cpu->s.regs[R_SP];
    stack_adjust(cpu, d->osize);
    rc = op_write(cpu, d, 0, d->osize, v);
    if (rc != CPU_OK)
        cpu->s.regs[R_SP] = old_rsp;
    return rc;
}

/* PUSHA/PUSHAD: AX CX DX BX, the original SP, BP SI DI. */
int h_PUSHA(Cpu *cpu, const DecodedInsn *d)
{
    static const uint8_t order[8] = { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI };
    unsigned size = d->osize;
    int rc;
    for (unsigned k = 1; k <= 8; k++) {
        if ((rc = mem_check_write(cpu, SEG_SS, slot_below(cpu, k, size), size)) != CPU_OK)
            return rc;
    }
    for (unsigned k = 1; k <= 8; k++) {
        uint64_t v = reg_read(cpu, order[k - 1], size);
        if ((rc = mem_write(cpu, SEG_SS, slot_below(cpu, k, size), size, v)) != CPU_OK)
            return rc;
    }
    sp_commit(cpu, slot_below(cpu, 8, size));
    return CPU_OK;
}

/* POPA/POPAD: DI SI BP, (the SP slot is skipped), BX DX CX AX. */
int h_POPA(Cpu *cpu, const DecodedInsn *d)
{
    static const uint8_t order[8] = { R_DI, R_SI, R_BP, R_NONE, R_BX, R_DX, R_CX, R_AX };
    unsigned size = d->osize;
    uint64_t v[8];
    int rc;
    for (unsigned k = 0; k < 8; k++) {
        if (order[k] == R_NONE)
            continue;
        if ((rc = stack_peek(cpu, (uint64_t)k * size, size, &v[k])) != CPU_OK)
            return rc;
    }
    stack_adjust(cpu, 8 * size);
    for (unsigned k = 0; k < 8; k++) {
        if (order[k] != R_NONE)
            reg_write(cpu, order[k], size, v[k]);
    }
    return CPU_OK;
}

/* ---- PUSHF / POPF ------------------------------------------------------ */

static unsigned eflags_iopl(const Cpu *cpu)
{
    return (unsigned)(cpu->s.eflags & F_IOPL) >> 12;
}

static bool in_v86(const Cpu *cpu)
{
    return (cpu->mode & CPU_MODE_V86) != 0;
}

/* PUSHF: the image has VM and RF clear.  In virtual-8086 mode with
 * IOPL < 3 it is #GP(0), except with CR4.VME for the 16-bit form, which
 * pushes VIF in the IF position and IOPL = 3 (SDM Vol. 3 20.3.3). */
int h_PUSHF(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t f = cpu_get_eflags(cpu) & ~(uint64_t)(F_VM | F_RF);
    if (in_v86(cpu) && eflags_iopl(cpu) < 3) {
        if (!(cpu->s.cr4 & CR4_VME) || d->osize != 2)
            return cpu_raise(cpu, EXC_GP, 0, true);
        f &= ~(uint64_t)(F_IF | F_IOPL);
        f |= F_IOPL | ((cpu->s.eflags & F_VIF) ? F_IF : 0);
    }
    return stack_push(cpu, d->osize, f & size_mask(d->osize));
}

/* Flags a 32/64-bit POPF may change before the privilege rules remove
 * IOPL and IF: every defined flag but RF (cleared), VM, VIF and VIP. */
#define POPF_BITS (F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_AC | F_ID)

/* The POPF mask of the SDM's pseudo-code outside V86 mode with IOPL < 3:
 * IOPL only at CPL 0, IF only when CPL <= IOPL; a 16-bit POPF reaches only
 * the low word; a wider one also clears RF. */
static uint64_t popf_mask(const Cpu *cpu, unsigned osize)
{
    uint64_t mask = POPF_BITS;
    unsigned cpl = cpu_cpl(cpu);   /* 0 in real mode, 3 in V86 mode */
    if (cpl > 0)
        mask &= ~(uint64_t)F_IOPL;
    if (cpl > eflags_iopl(cpu))
        mask &= ~(uint64_t)F_IF;
    if (osize == 2)
        return mask & 0xffff;
    return mask | F_RF;
}

/* POPF in V86 mode with IOPL < 3 and CR4.VME, 16-bit (SDM Vol. 3 20.3.3):
 * #GP(0) if the image sets TF, or sets IF while VIP is pending; otherwise
 * the image's IF goes to VIF and IF and IOPL stay. */
static int popf_vme(Cpu *cpu, uint64_t v)
{
    if ((v & F_TF) || ((v & F_IF) && (cpu->s.eflags & F_VIP)))
        return cpu_raise(cpu, EXC_GP, 0, true);
    stack_adjust(cpu, 2);
    uint64_t mask = (POPF_BITS & 0xffff) & ~(uint64_t)(F_IF | F_IOPL);
    cpu_set_eflags(cpu, v, mask);
    cpu->s.eflags = (cpu->s.eflags & ~(uint64_t)F_VIF) | ((v & F_IF) ? F_VIF : 0);
    return CPU_EXIT;
}

/* POPF ends the block (IF and TF may change, which the interrupt window and
 * single-stepping must see), hence CPU_EXIT. */
int h_POPF(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    bool v86_sensitive = in_v86(cpu) && eflags_iopl(cpu) < 3;
    if (v86_sensitive && (size != 2 || !(cpu->s.cr4 & CR4_VME)))
        return cpu_raise(cpu, EXC_GP, 0, true);
    uint64_t v;
    int rc = stack_peek(cpu, 0, size, &v);
    if (rc != CPU_OK)
        return rc;
    if (v86_sensitive)
        return popf_vme(cpu, v);
    stack_adjust(cpu, size);
    /* RF is in the mask of the wide forms with the value's bit cleared. */
    cpu_set_eflags(cpu, v & ~(uint64_t)F_RF, popf_mask(cpu, size));
    return CPU_EXIT;
}

/* ---- ENTER / LEAVE ----------------------------------------------------- */

/* ENTER imm16, imm8 after the SDM pseudo-code: push rBP; remember the new
 * SP as the frame; for nesting levels > 1 copy level-1 frame pointers from
 * the old frame ([rBP - i*size], at the stack width, SS); push the frame;
 * rBP <- frame; SP -= imm16.  Every store is checked first, and, as the
 * SDM's "#SS if the new value of the stack pointer is outside the stack
 * segment limit" (and Bochs's write probe) say, so is the final SP. */
int h_ENTER(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = stack_width(cpu);
    uint64_t wm = size_mask(w);
    unsigned level = (unsigned)(d->imm2 & 31);
    uint64_t alloc = d->imm & 0xffff;
    unsigned pushes = level == 0 ? 1 : level + 1;
    uint64_t final_sp = (slot_below(cpu, pushes, size) - alloc) & wm;
    int rc;

    for (unsigned k = 1; k <= pushes; k++) {
        if ((rc = mem_check_write(cpu, SEG_SS, slot_below(cpu, k, size), size)) != CPU_OK)
            return rc;
    }
    if ((rc = mem_check_write(cpu, SEG_SS, final_sp, size)) != CPU_OK)
        return rc;

    /* The frame pointer as the register reads after the first push. */
    uint64_t rsp_after = (cpu->s.regs[R_SP] & ~wm) | slot_below(cpu, 1, size);
    uint64_t frame = rsp_after & size_mask(size);
    uint64_t bp = reg_read(cpu, R_BP, w);

    if ((rc = mem_write(cpu, SEG_SS, slot_below(cpu, 1, size), size,
                        reg_read(cpu, R_BP, size))) != CPU_OK)
        return rc;
    /* The copies are read as the SDM orders them, between the stores; a
     * read fault there leaves only dead bytes below SP (registers are
     * untouched), which is all a restartable fault needs. */
    for (unsigned i = 1; i < level; i++) {
        uint64_t v;
        if ((rc = mem_read(cpu, SEG_SS, (bp - (uint64_t)i * size) & wm, size, &v)) != CPU_OK)
            return rc;
        if ((rc = mem_write(cpu, SEG_SS, slot_below(cpu, i + 1, size), size, v)) != CPU_OK)
            return rc;
    }
    if (level > 0 &&
        (rc = mem_write(cpu, SEG_SS, slot_below(cpu, pushes, size), size, frame)) != CPU_OK)
        return rc;

    reg_write(cpu, R_BP, size, frame);
    sp_commit(cpu, final_sp);
    return CPU_OK;
}

/* LEAVE: SP <- BP at the stack width, then pop rBP at the operand size.
 * The pop is read before anything changes. */
int h_LEAVE(Cpu *cpu, const DecodedInsn *d)
{
    unsigned w = stack_width(cpu);
    uint64_t bp = reg_read(cpu, R_BP, w);
    uint64_t v;
    int rc = mem_read(cpu, SEG_SS, bp, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    reg_write(cpu, R_SP, w, (bp + d->osize) & size_mask(w));
    reg_write(cpu, R_BP, d->osize, v);
    return CPU_OK;
}

/* ---- segment registers ------------------------------------------------- */

/* PUSH Sreg with a 32/64-bit operand size: the SDM allows either a
 * zero-extended store or a 16-bit store that leaves the upper bytes of the
 * slot alone (recent Intel cores do the latter).  We store the full
 * zero-extended value, as QEMU and thus Unicorn do; SP moves by the
 * operand size either way. */
int h_PUSH_SEG(Cpu *cpu, const DecodedInsn *d)
{
    return stack_push(cpu, d->osize, cpu->s.seg[d->reg[0]].selector);
}

/* POP Sreg: the load (with its protected-mode checks) happens before SP
 * moves, so a #GP/#NP/#SS leaves SP alone.  SP moves at the width the
 * stack had before the load: POP SS may change SS.B.  POP SS blocks
 * interrupts (and debug traps) until the next instruction completes. */
int h_POP_SEG(Cpu *cpu, const DecodedInsn *d)
{
    int seg = d->reg[0];
    unsigned w = stack_width(cpu);
    uint64_t sp = reg_read(cpu, R_SP, w);
    uint64_t v;
    int rc = mem_read(cpu, SEG_SS, sp, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    if ((rc = seg_load(cpu, seg, (uint16_t)v)) != CPU_OK)
        return rc;
    reg_write(cpu, R_SP, w, (sp + d->osize) & size_mask(w));
    if (seg == SEG_SS) {
        cpu->s.intr_shadow = INTR_SHADOW_MOVSS;
        return CPU_EXIT;
    }
    return CPU_OK;
}

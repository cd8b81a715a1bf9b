/* Control transfer: near and far jumps, calls and returns, loops, software
 * interrupts, IRET and BOUND.
 *
 * Intel SDM Vol. 2: Jcc, JMP, CALL, RET, LOOP/LOOPcc, JCXZ/JECXZ/JRCXZ,
 * INT n/INTO/INT3/INT1, IRET/IRETD/IRETQ, BOUND; Vol. 3 6.12-6.14
 * (returning from handlers), 20.2-20.3 (virtual-8086 mode, IRET into it,
 * and CR4.VME).  The far forms read their operands here and leave the
 * transfer (privilege checks, gates, stack switches, Vol. 3 5.8) to
 * cpu/far.c and task switches (Vol. 3 ch. 7) to cpu/task.c.
 *
 * Every handler here but BOUND has DA_BRANCH and sets RIP itself, also to
 * the next instruction when nothing is taken.  Targets are checked before anything
 * changes (SDM CALL: the target's limit check comes before the push), so a
 * fault leaves RIP, SP and the registers as they were.
 */
#include "cpu/cpu.h"
#include "cpu/far.h"
#include "cpu/insn.h"
#include "cpu/task.h"
#include "util/log.h"

/* ---- near targets ------------------------------------------------------ */

/* Canonical for 48-bit linear addresses (CR4.LA57 is never offered). */
static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Truncate a near target to the operand size and check it: canonical form
 * in 64-bit mode, the CS limit otherwise (#GP(0) either way). */
static int near_target(Cpu *cpu, unsigned osize, uint64_t *target)
{
    uint64_t t = *target & size_mask(osize);
    if (cpu_is_64(cpu)) {
        if (!is_canonical(t))
            return cpu_raise(cpu, EXC_GP, 0, true);
    } else if (t > cpu->s.seg[SEG_CS].limit) {
        return cpu_raise(cpu, EXC_GP, 0, true);
    }
    *target = t;
    return CPU_OK;
}

int branch_near(Cpu *cpu, const DecodedInsn *d, uint64_t target)
{
    int rc = near_target(cpu, d->osize, &target);
    if (rc != CPU_OK)
        return rc;
    cpu->s.rip = target;
    return CPU_OK;
}

/* Jb/Jz operands are relative to the next instruction; Ev is absolute. */
static int branch_operand(Cpu *cpu, const DecodedInsn *d, uint64_t next,
                          uint64_t *target)
{
    if (d->kind[0] == OPK_IMM) {
        *target = next + d->imm;
        return CPU_OK;
    }
    return op_read(cpu, d, 0, d->osize, target);
}

int h_JCC(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t next = insn_next_rip(cpu, d);
    if (!cc_condition(cpu, d->opcode & 15)) {
        cpu->s.rip = next;
        return CPU_OK;
    }
    return branch_near(cpu, d, next + d->imm);
}

int h_JMP(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t target;
    int rc = branch_operand(cpu, d, insn_next_rip(cpu, d), &target);
    if (rc != CPU_OK)
        return rc;
    return branch_near(cpu, d, target);
}

/* CALL near: read the target (CALL [rSP] reads the old stack), check it,
 * then push the return address. */
int h_CALL(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t next = insn_next_rip(cpu, d);
    uint64_t target;
    int rc = branch_operand(cpu, d, next, &target);
    if (rc == CPU_OK)
        rc = near_target(cpu, d->osize, &target);
    if (rc == CPU_OK)
        rc = stack_push(cpu, d->osize, next);
    if (rc != CPU_OK)
        return rc;
    cpu->s.rip = target;
    return CPU_OK;
}

/* RET near [imm16]: the imm16 bytes are released after the pop. */
int h_RET(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t target;
    int rc = stack_peek(cpu, 0, d->osize, &target);
    if (rc == CPU_OK)
        rc = near_target(cpu, d->osize, &target);
    if (rc != CPU_OK)
        return rc;
    uint64_t release = d->kind[0] == OPK_IMM ? (d->imm & 0xffff) : 0;
    stack_adjust(cpu, (int64_t)(d->osize + release));
    cpu->s.rip = target;
    return CPU_OK;
}

/* ---- loops ------------------------------------------------------------- */

enum { LOOP_ALWAYS, LOOP_WHILE_ZF, LOOP_WHILE_NZF };

/* LOOP/LOOPE/LOOPNE: the counter is CX, ECX or RCX by the address size.
 * The target is checked before the counter changes, so a #GP leaves the
 * counter alone. */
static int loop_common(Cpu *cpu, const DecodedInsn *d, int kind)
{
    uint64_t count = (reg_read(cpu, R_CX, d->asize) - 1) & size_mask(d->asize);
    bool take = count != 0;
    if (kind == LOOP_WHILE_ZF)
        take = take && cc_condition(cpu, 4);
    else if (kind == LOOP_WHILE_NZF)
        take = take && !cc_condition(cpu, 4);
    uint64_t next = insn_next_rip(cpu, d);
    uint64_t target = next + d->imm;
    if (take) {
        int rc = near_target(cpu, d->osize, &target);
        if (rc != CPU_OK)
            return rc;
    }
    reg_write(cpu, R_CX, d->asize, count);
    cpu->s.rip = take ? target : next;
    return CPU_OK;
}

int h_LOOP(Cpu *cpu, const DecodedInsn *d)   { return loop_common(cpu, d, LOOP_ALWAYS); }
int h_LOOPE(Cpu *cpu, const DecodedInsn *d)  { return loop_common(cpu, d, LOOP_WHILE_ZF); }
int h_LOOPNE(Cpu *cpu, const DecodedInsn *d) { return loop_common(cpu, d, LOOP_WHILE_NZF); }

int h_JCXZ(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t next = insn_next_rip(cpu, d);
    if (reg_read(cpu, R_CX, d->asize) != 0) {
        cpu->s.rip = next;
        return CPU_OK;
    }
    return branch_near(cpu, d, next + d->imm);
}

/* ---- far transfers ----------------------------------------------------- */

/* The far pointer of JMPF/CALLF: Ap carries offset and selector as
 * immediates; Mp is offset (operand size) then selector (2 bytes). */
static int far_pointer(Cpu *cpu, const DecodedInsn *d, uint16_t *sel,
                       uint64_t *off)
{
    if (d->kind[0] == OPK_IMM) {
        *off = d->imm & size_mask(d->osize);
        *sel = (uint16_t)d->imm2;
        return CPU_OK;
    }
    uint64_t ea = insn_ea(cpu, d), s;
    int rc = mem_read(cpu, d->seg, ea, d->osize, off);
    if (rc == CPU_OK)
        rc = mem_read(cpu, d->seg, (ea + d->osize) & size_mask(d->asize), 2, &s);
    if (rc != CPU_OK)
        return rc;
    *sel = (uint16_t)s;
    return CPU_OK;
}

/* Far transfers may change CS.D/L, CPL and the mode: leave the block. */
static int far_done(int rc)
{
    return rc == CPU_OK ? CPU_EXIT : rc;
}

/* JMPF/CALLF: everything but reading the operand is cpu/far.c's. */
static int jmp_call_far(Cpu *cpu, const DecodedInsn *d, FarKind kind)
{
    uint16_t sel;
    uint64_t off;
    if (far_pointer(cpu, d, &sel, &off) != CPU_OK)
        return CPU_FAULT;
    return far_done(far_jump(cpu, kind, sel, off, d->osize, insn_next_rip(cpu, d)));
}

int h_JMPF(Cpu *cpu, const DecodedInsn *d)  { return jmp_call_far(cpu, d, FAR_JMP); }
int h_CALLF(Cpu *cpu, const DecodedInsn *d) { return jmp_call_far(cpu, d, FAR_CALL); }

/* RETF [imm16]: imm16 bytes of parameters are released on the stack
 * returned from and, on a return to an outer level, on the outer one. */
int h_RETF(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t release = d->kind[0] == OPK_IMM ? (d->imm & 0xffff) : 0;
    return far_done(far_return(cpu, FAR_RET, d->osize, release, 0));
}

/* ---- software interrupts ----------------------------------------------- */

/* INT n in virtual-8086 mode (SDM INT n pseudo-code, Vol. 3 20.3.3 and
 * Table 20-2): with IOPL < 3 it goes to the monitor as #GP(0); INT3, INTO
 * and INT1 are not IOPL-sensitive.  With CR4.VME the TSS redirection
 * bitmap may instead send INT n to the 8086 handler through the V86 IVT
 * (methods 5 and 6); we treat every vector as "bit set" (methods 3 and 4:
 * #GP with IOPL < 3, the protected-mode handler with IOPL = 3).
 * TODO(system): the redirection bitmap. */
int h_INT(Cpu *cpu, const DecodedInsn *d)
{
    if ((cpu->mode & CPU_MODE_V86) && ((cpu->s.eflags & F_IOPL) >> 12) < 3) {
        if (cpu->s.cr4 & CR4_VME)
            LOG_LIMITED(LOG_UNIMP, "INT %02x in V86 with VME: redirection "
                        "bitmap not implemented, #GP\n", (unsigned)(d->imm & 0xff));
        return cpu_raise(cpu, EXC_GP, 0, true);
    }
    cpu->s.rip = insn_next_rip(cpu, d);
    return cpu_raise_soft(cpu, (int)(d->imm & 0xff));
}

int h_INT3(Cpu *cpu, const DecodedInsn *d)
{
    cpu->s.rip = insn_next_rip(cpu, d);
    return cpu_raise_soft(cpu, EXC_BP);
}

int h_INTO(Cpu *cpu, const DecodedInsn *d)
{
    cpu->s.rip = insn_next_rip(cpu, d);
    if (!cc_condition(cpu, 0))
        return CPU_OK;
    return cpu_raise_soft(cpu, EXC_OF);
}

/* INT1 (ICEBP, F1) raises #DB as a trap after the instruction.  The SDM
 * exempts it from the gate-DPL check of INT n/INT3/INTO, but
 * cpu_raise_soft() has no way to say so: delivery checks the DPL as for
 * INT n (a kernel's #DB gate has DPL 0, so user-mode ICEBP gets #GP where
 * hardware delivers #DB).  Reported as a contract gap. */
int h_INT1(Cpu *cpu, const DecodedInsn *d)
{
    cpu->s.rip = insn_next_rip(cpu, d);
    return cpu_raise(cpu, EXC_DB, 0, false);
}

/* ---- IRET -------------------------------------------------------------- */

/* EFLAGS bits named in the SDM IRET pseudo-code. */
#define IRET_REAL32_MASK 0x257fd5u   /* all but VM, VIF, VIP (and reserved) */
#define IRET_REAL16_MASK 0x7fd5u     /* EFLAGS[15:0] */
#define IRET_BASIC (F_ARITH | F_TF | F_DF | F_NT)

static unsigned iopl_of(const Cpu *cpu)
{
    return (unsigned)(cpu->s.eflags & F_IOPL) >> 12;
}

/* Pop rIP, CS, rFLAGS (size each) without moving SP. */
static int iret_frame(Cpu *cpu, unsigned size, uint64_t v[3])
{
    for (unsigned i = 0; i < 3; i++) {
        int rc = stack_peek(cpu, (uint64_t)i * size, size, &v[i]);
        if (rc != CPU_OK)
            return rc;
    }
    return CPU_OK;
}

/* Real-address mode, and V86 mode with IOPL = 3 (which keeps IOPL). */
static int iret_real(Cpu *cpu, unsigned size, uint64_t keep)
{
    uint64_t mask = (size == 2 ? IRET_REAL16_MASK : IRET_REAL32_MASK) & ~keep;
    return far_done(far_return(cpu, FAR_IRET, size, 0, mask));
}

/* V86 mode with IOPL < 3: with CR4.VME a 16-bit IRET may return, moving
 * the image's IF into VIF, unless it sets TF or sets IF with VIP pending
 * (SDM Vol. 3 20.3.3); anything else traps to the monitor with #GP(0). */
static int iret_v86_vme(Cpu *cpu, unsigned size)
{
    uint64_t v[3];
    unsigned w = stack_width(cpu);
    if (size != 2 || !(cpu->s.cr4 & CR4_VME))
        return cpu_raise(cpu, EXC_GP, 0, true);
    int rc = iret_frame(cpu, size, v);
    if (rc != CPU_OK)
        return rc;
    if ((v[2] & F_TF) || ((v[2] & F_IF) && (cpu->s.eflags & F_VIP)))
        return cpu_raise(cpu, EXC_GP, 0, true);
    if ((rc = far_real(cpu, (uint16_t)v[1], v[0], size)) != CPU_OK)
        return rc;
    cpu_set_eflags(cpu, v[2], IRET_REAL16_MASK & ~(uint64_t)(F_IF | F_IOPL));
    cpu->s.eflags = (cpu->s.eflags & ~(uint64_t)F_VIF) | ((v[2] & F_IF) ? F_VIF : 0);
    reg_write(cpu, R_SP, w, (reg_read(cpu, R_SP, w) + 3 * size) & size_mask(w));
    return CPU_EXIT;
}

/* Protected-mode IRET from CPL 0 with VM set in the image (SDM
 * RETURN-TO-VIRTUAL-8086-MODE): the frame continues with ESP, SS, ES, DS,
 * FS, GS.  Everything is read first; after that nothing can fault. */
static int iret_to_v86(Cpu *cpu, const uint64_t head[3])
{
    static const int segs[5] = { SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    uint64_t esp, sel[5];
    int rc = stack_peek(cpu, 12, 4, &esp);
    for (int i = 0; i < 5 && rc == CPU_OK; i++)
        rc = stack_peek(cpu, 16 + 4 * (uint64_t)i, 4, &sel[i]);
    if (rc != CPU_OK)
        return rc;
    cpu_set_eflags(cpu, head[2], 0x3f7fd5u);
    cpu_update_mode(cpu);
    cpu_load_seg_real(cpu, SEG_CS, (uint16_t)head[1]);
    for (int i = 0; i < 5; i++)
        cpu_load_seg_real(cpu, segs[i], (uint16_t)sel[i]);
    cpu->s.rip = head[0] & 0xffff;
    reg_write(cpu, R_SP, 4, esp);
    return CPU_EXIT;
}

/* The EFLAGS bits a protected-mode IRET loads, by the CPL and IOPL in
 * force before the return. */
static uint64_t iret_prot_mask(const Cpu *cpu, unsigned size)
{
    unsigned cpl = cpu_cpl(cpu);
    uint64_t mask = IRET_BASIC;
    if (size >= 4)
        mask |= F_RF | F_AC | F_ID;
    if (cpl <= iopl_of(cpu))
        mask |= F_IF;
    if (cpl == 0) {
        mask |= F_IOPL;
        if (size >= 4)
            mask |= F_VIF | F_VIP;
    }
    return mask;
}

/* Protected mode and IA-32e mode, NT clear: same or outer privilege
 * (cpu/far.c; in 64-bit mode the frame always has SS:RSP), or back to
 * virtual-8086 mode. */
static int iret_protected(Cpu *cpu, unsigned size)
{
    uint64_t v[3];
    int rc = iret_frame(cpu, size, v);
    if (rc != CPU_OK)
        return rc;
    if (!(cpu->mode & CPU_MODE_LONG) && (v[2] & F_VM) && cpu_cpl(cpu) == 0 &&
        size == 4)
        return iret_to_v86(cpu, v);
    return far_done(far_return(cpu, FAR_IRET, size, 0, iret_prot_mask(cpu, size)));
}

/* IRET/IRETD/IRETQ by mode, after the SDM pseudo-code.  Any IRET ends
 * NMI blocking, even one that then faults (SDM Vol. 3 6.7.1; the VMX
 * "NMI unblocking due to IRET" exit information shows it happens first).
 * With NT = 1 a protected-mode IRET returns to the previous task (SDM
 * IRET TASK-RETURN, Vol. 3 7.4; cpu/task.c); IA-32e mode has no task
 * switch and raises #GP(0) instead (7.7). */
int h_IRET(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    cpu->s.nmi_blocked = 0;
    if (cpu_is_real(cpu))
        return iret_real(cpu, size, 0);
    if (cpu->mode & CPU_MODE_V86) {
        if (iopl_of(cpu) == 3)
            return iret_real(cpu, size, F_IOPL);
        return iret_v86_vme(cpu, size);
    }
    if (cpu->s.eflags & F_NT) {
        if (cpu->mode & CPU_MODE_LONG)
            return cpu_raise(cpu, EXC_GP, 0, true);
        return far_done(task_return(cpu, insn_next_rip(cpu, d)));
    }
    return iret_protected(cpu, size);
}

/* ---- BOUND ------------------------------------------------------------- */

/* BOUND r, m: signed lower and upper bounds at [m] and [m + size]; an
 * index outside them is #BR, a fault (SDM BOUND). */
int h_BOUND(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t ea = insn_ea(cpu, d), lo, hi;
    int rc = mem_read(cpu, d->seg, ea, size, &lo);
    if (rc == CPU_OK)
        rc = mem_read(cpu, d->seg, (ea + size) & size_mask(d->asize), size, &hi);
    if (rc != CPU_OK)
        return rc;
    int64_t idx = (int64_t)sign_extend(reg_read(cpu, d->reg[0], size), size);
    if (idx < (int64_t)sign_extend(lo, size) || idx > (int64_t)sign_extend(hi, size))
        return cpu_raise(cpu, EXC_BR, 0, false);
    return CPU_OK;
}

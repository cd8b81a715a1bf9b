/* Control transfer: near and far jumps, calls and returns, loops, software
 * interrupts, IRET and BOUND.
 *
 * Intel SDM Vol. 2: Jcc, JMP, CALL, RET, LOOP/LOOPcc, JCXZ/JECXZ/JRCXZ,
 * INT n/INTO/INT3/INT1, IRET/IRETD/IRETQ, BOUND; Vol. 3 5.8 (privilege
 * levels of far returns), 6.12-6.14 (returning from handlers), 20.2-20.3
 * (virtual-8086 mode, IRET into it, and CR4.VME).
 *
 * Every handler here but BOUND has DA_BRANCH and sets RIP itself, also to
 * the next instruction when nothing is taken.  Targets are checked before anything
 * changes (SDM CALL: the target's limit check comes before the push), so a
 * fault leaves RIP, SP and the registers as they were.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "cpu/segment.h"
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

int h_JMPF(Cpu *cpu, const DecodedInsn *d)
{
    uint16_t sel;
    uint64_t off;
    int rc = far_pointer(cpu, d, &sel, &off);
    if (rc != CPU_OK)
        return rc;
    return far_done(seg_load_cs(cpu, sel, off, d->osize));
}

/* CALLF pushes CS then the return offset, each at the operand size.  Both
 * slots are checked, then written, then CS:rIP loaded; SP moves only once
 * the load succeeded, so a failed load leaves only dead bytes below SP.
 * The stores come before the load because the load may leave 64-bit mode
 * and change how SS is addressed.
 * TODO(system): a call through a call gate to an inner privilege level
 * pushes on the new stack; seg_load_cs has no notion of "call", so that
 * path is the system-architecture issue's. */
int h_CALLF(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = stack_width(cpu);
    uint64_t sp = reg_read(cpu, R_SP, w);
    uint64_t slot_cs = (sp - size) & size_mask(w);
    uint64_t slot_ip = (sp - 2 * (uint64_t)size) & size_mask(w);
    uint16_t sel;
    uint64_t off;
    int rc = far_pointer(cpu, d, &sel, &off);
    if (rc == CPU_OK)
        rc = mem_check_write(cpu, SEG_SS, slot_cs, size);
    if (rc == CPU_OK)
        rc = mem_check_write(cpu, SEG_SS, slot_ip, size);
    if (rc == CPU_OK)
        rc = mem_write(cpu, SEG_SS, slot_cs, size, cpu->s.seg[SEG_CS].selector);
    if (rc == CPU_OK)
        rc = mem_write(cpu, SEG_SS, slot_ip, size,
                       insn_next_rip(cpu, d) & size_mask(size));
    if (rc == CPU_OK)
        rc = seg_load_cs(cpu, sel, off, size);
    if (rc != CPU_OK)
        return rc;
    reg_write(cpu, R_SP, w, slot_ip);
    return CPU_EXIT;
}

/* What a multi-step far return may need to undo when a later step faults
 * (loading SS after CS on a return to an outer privilege level). */
typedef struct FarSave {
    SegmentCache seg[SEG_COUNT];
    uint64_t rip;
} FarSave;

static void far_save(const Cpu *cpu, FarSave *fs)
{
    for (int i = 0; i < SEG_COUNT; i++)
        fs->seg[i] = cpu->s.seg[i];
    fs->rip = cpu->s.rip;
}

static int far_restore(Cpu *cpu, const FarSave *fs, int rc)
{
    for (int i = 0; i < SEG_COUNT; i++)
        cpu->s.seg[i] = fs->seg[i];
    cpu->s.rip = fs->rip;
    cpu_update_mode(cpu);
    return rc;
}

/* On a return to an outer (less privileged) level, ES, DS, FS and GS are
 * made null if the new CPL could not have loaded them: DPL < CPL and a
 * data or non-conforming code segment (SDM RET and IRET pseudo-code,
 * Vol. 3 5.8.6).  Registers that already hold a null selector are left
 * alone, which keeps FS/GS bases set through MSRs in 64-bit mode. */
static void null_outer_segments(Cpu *cpu)
{
    static const int segs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    unsigned cpl = cpu_cpl(cpu);
    for (int i = 0; i < 4; i++) {
        const SegmentCache *s = &cpu->s.seg[segs[i]];
        if ((s->selector & 0xfffc) == 0)
            continue;
        bool conforming = (s->attr & SEG_ATTR_S) && (s->attr & 0x8) && (s->attr & 0x4);
        unsigned dpl = (s->attr & SEG_ATTR_DPL) >> 5;
        if (!conforming && dpl < cpl)
            seg_load(cpu, segs[i], 0);
    }
}

/* Set the accessed bit of a descriptor in the GDT/LDT, as a load does. */
static int desc_mark_accessed(Cpu *cpu, uint16_t sel, uint64_t desc)
{
    if (desc & (1ull << 40))
        return CPU_OK;
    uint64_t base = (sel & 4) ? cpu->s.ldtr.base : cpu->s.gdtr.base;
    return mem_write_linear(cpu, base + (sel & ~7u) + 5, 1,
                            ((desc >> 40) & 0xff) | 1, true);
}

/* The CS load of a protected-mode far return (SDM RET, "protected-mode
 * return" checks, and IRET PROTECTED-MODE-RETURN).  Unlike a far JMP/CALL
 * the target may be less privileged: RPL >= CPL, a non-conforming segment
 * needs DPL = RPL, a conforming one DPL <= RPL, and the RPL becomes the
 * new CPL.  seg_load_cs implements the JMP/CALL rules (DPL = CPL, RPL
 * forced to CPL), hence this separate path. */
static int return_cs_load(Cpu *cpu, uint16_t sel, uint64_t off, unsigned size)
{
    unsigned cpl = cpu_cpl(cpu), rpl = sel & 3;
    uint32_t err = sel & ~3u;
    uint64_t desc;
    int vec;
    off &= size_mask(size);
    if ((sel & ~3u) == 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (desc_read(cpu, sel, &desc, &vec) != CPU_OK)
        return CPU_FAULT;
    SegmentCache c;
    desc_to_cache(desc, sel, &c);
    bool code = (c.attr & SEG_ATTR_S) && (c.attr & 0x8);
    unsigned dpl = (c.attr & SEG_ATTR_DPL) >> 5;
    if (!code || rpl < cpl || ((c.attr & 0x4) ? dpl > rpl : dpl != rpl))
        return cpu_raise(cpu, EXC_GP, err, true);
    if (!(c.attr & SEG_ATTR_P))
        return cpu_raise(cpu, EXC_NP, err, true);
    bool is64 = (cpu->mode & CPU_MODE_LONG) && (c.attr & SEG_ATTR_L);
    if (is64 && (c.attr & SEG_ATTR_DB))
        return cpu_raise(cpu, EXC_GP, err, true);
    if (is64 ? !is_canonical(off) : off > c.limit)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (desc_mark_accessed(cpu, sel, desc) != CPU_OK)
        return CPU_FAULT;
    c.attr |= 1;
    cpu->s.seg[SEG_CS] = c;
    cpu->s.rip = off;
    cpu_update_mode(cpu);
    return CPU_OK;
}

static bool is_protected(const Cpu *cpu)
{
    return (cpu->mode & CPU_MODE_PROT) && !(cpu->mode & CPU_MODE_V86);
}

/* Load CS:rIP, then (when `pop_stack`) SS:rSP from new_ss/new_sp, undoing
 * the CS load if SS faults.  The SS checks run against the new CPL, as the
 * SDM orders them. */
static int far_return_load(Cpu *cpu, uint16_t cs, uint64_t ip, unsigned size,
                           bool pop_stack, uint16_t new_ss)
{
    FarSave fs;
    far_save(cpu, &fs);
    int rc = is_protected(cpu) ? return_cs_load(cpu, cs, ip, size)
                               : seg_load_cs(cpu, cs, ip, size);
    if (rc != CPU_OK)
        return rc;
    if (pop_stack && (rc = seg_load(cpu, SEG_SS, new_ss)) != CPU_OK)
        return far_restore(cpu, &fs, rc);
    return CPU_OK;
}

/* Set SP to the value popped for an outer-level return: at the new stack
 * width (all 64 bits when the new mode is 64-bit). */
static void sp_set_new(Cpu *cpu, uint64_t sp)
{
    reg_write(cpu, R_SP, stack_width(cpu), sp & size_mask(stack_width(cpu)));
}

/* RETF [imm16]: pop rIP then CS (operand size each, selector in the low
 * 16 bits), release imm16.  Returning to an outer level also pops rSP and
 * SS (released by imm16 as well) and nulls inaccessible data segments. */
int h_RETF(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize, w = stack_width(cpu);
    uint64_t release = d->kind[0] == OPK_IMM ? (d->imm & 0xffff) : 0;
    uint64_t ip, cs, new_sp = 0, new_ss = 0;
    int rc = stack_peek(cpu, 0, size, &ip);
    if (rc == CPU_OK)
        rc = stack_peek(cpu, size, size, &cs);
    if (rc != CPU_OK)
        return rc;
    bool outer = is_protected(cpu) && (cs & 3) > cpu_cpl(cpu);
    if (outer) {
        rc = stack_peek(cpu, 2 * size + release, size, &new_sp);
        if (rc == CPU_OK)
            rc = stack_peek(cpu, 3 * size + release, size, &new_ss);
        if (rc != CPU_OK)
            return rc;
    }
    uint64_t sp = reg_read(cpu, R_SP, w);
    rc = far_return_load(cpu, (uint16_t)cs, ip, size, outer, (uint16_t)new_ss);
    if (rc != CPU_OK)
        return rc;
    if (outer) {
        sp_set_new(cpu, new_sp + release);
        null_outer_segments(cpu);
    } else {
        reg_write(cpu, R_SP, w, (sp + 2 * size + release) & size_mask(w));
    }
    return CPU_EXIT;
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
    uint64_t v[3];
    unsigned w = stack_width(cpu);
    int rc = iret_frame(cpu, size, v);
    if (rc == CPU_OK)
        rc = seg_load_cs(cpu, (uint16_t)v[1], v[0], size);
    if (rc != CPU_OK)
        return rc;
    uint64_t mask = (size == 2 ? IRET_REAL16_MASK : IRET_REAL32_MASK) & ~keep;
    cpu_set_eflags(cpu, v[2], mask);
    reg_write(cpu, R_SP, w, (reg_read(cpu, R_SP, w) + 3 * size) & size_mask(w));
    return CPU_EXIT;
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
    if ((rc = seg_load_cs(cpu, (uint16_t)v[1], v[0], size)) != CPU_OK)
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

/* Protected mode and IA-32e mode, NT clear: same or outer privilege.  In
 * 64-bit mode the frame always has SS:RSP (SDM IRET, IA-32e-MODE). */
static int iret_protected(Cpu *cpu, unsigned size)
{
    uint64_t v[3], new_sp = 0, new_ss = 0;
    unsigned w = stack_width(cpu);
    int rc = iret_frame(cpu, size, v);
    if (rc != CPU_OK)
        return rc;
    unsigned cpl = cpu_cpl(cpu), rpl = v[1] & 3;
    if (!(cpu->mode & CPU_MODE_LONG) && (v[2] & F_VM) && cpl == 0 && size == 4)
        return iret_to_v86(cpu, v);
    if (rpl < cpl)
        return cpu_raise(cpu, EXC_GP, (uint32_t)(v[1] & 0xfffc), true);
    bool pop_stack = rpl != cpl || cpu_is_64(cpu);
    if (pop_stack) {
        rc = stack_peek(cpu, 3 * (uint64_t)size, size, &new_sp);
        if (rc == CPU_OK)
            rc = stack_peek(cpu, 4 * (uint64_t)size, size, &new_ss);
        if (rc != CPU_OK)
            return rc;
    }
    uint64_t mask = iret_prot_mask(cpu, size);
    uint64_t sp = reg_read(cpu, R_SP, w);
    rc = far_return_load(cpu, (uint16_t)v[1], v[0], size, pop_stack, (uint16_t)new_ss);
    if (rc != CPU_OK)
        return rc;
    cpu_set_eflags(cpu, v[2], mask);
    if (pop_stack)
        sp_set_new(cpu, new_sp);
    else
        reg_write(cpu, R_SP, w, (sp + 3 * size) & size_mask(w));
    if (rpl > cpl)
        null_outer_segments(cpu);
    return CPU_EXIT;
}

/* IRET/IRETD/IRETQ by mode, after the SDM pseudo-code.  NMI blocking is
 * not modelled yet (IRET would end it).
 * TODO(system): the nested-task return (NT = 1 in legacy protected mode)
 * needs the task switch; until then it is #GP(0) and logged. */
int h_IRET(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    if (cpu_is_real(cpu))
        return iret_real(cpu, size, 0);
    if (cpu->mode & CPU_MODE_V86) {
        if (iopl_of(cpu) == 3)
            return iret_real(cpu, size, F_IOPL);
        return iret_v86_vme(cpu, size);
    }
    if (cpu->s.eflags & F_NT) {
        if (!(cpu->mode & CPU_MODE_LONG))
            LOG_LIMITED(LOG_UNIMP, "IRET with NT=1 (task return) not "
                        "implemented, #GP\n");
        return cpu_raise(cpu, EXC_GP, 0, true);
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

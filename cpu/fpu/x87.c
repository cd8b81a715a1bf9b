/* The x87 FPU: instruction protocol, exceptions, and the small register
 * and stack instructions.
 *
 * SDM Vol. 1 8.1 (the register stack, FSW, FCW, tags, FIP/FDP/FOP), 8.5
 * (exception conditions, stack faults), 8.6-8.7 (exception reporting:
 * native #MF with CR0.NE = 1, PC-style FERR# with CR0.NE = 0); Vol. 3 2.5
 * (CR0.EM, MP, TS, NE) and 6.15 (#NM, #MF); the Vol. 2 pages of FXCH,
 * FCHS, FABS, FXAM, FLDxx constants, FFREE, FINCSTP, FDECSTP, FNOP,
 * FCMOVcc and WAIT/FWAIT.
 *
 * CR0.NE = 0: the processor asserts FERR# when an unmasked exception is
 * pending and, with IGNNE# deasserted, stops before the next waiting x87
 * instruction until an interrupt comes.  Vireo asserts FERR# (the ferr
 * hook, which the board wires to IRQ13) as the exception becomes pending
 * and ends the block there, so IRQ13 is taken before the next instruction
 * when interrupts are enabled; it does not freeze, because a guest running
 * with IF = 0 or IRQ13 masked would then hang the emulator.  A waiting
 * instruction that finds an exception still pending runs as if IGNNE# were
 * asserted.
 */
#include "cpu/fpu/x87.h"

FpStatus x87_status(const Cpu *cpu, bool use_pc)
{
    uint16_t fcw = cpu->s.fpu.fcw;
    static const uint8_t prec[4] = { 24, 64, 53, 64 };   /* PC = 01b reserved */
    return fp_status((fcw >> FCW_RC_SHIFT) & 3,
                     use_pc ? prec[(fcw >> FCW_PC_SHIFT) & 3] : 64,
                     fcw & FP_ALL);
}

int x87_begin(Cpu *cpu, bool waiting)
{
    /* #NM before #MF: with TS set the state may belong to another task. */
    if (cpu->s.cr0 & (CR0_EM | CR0_TS))
        return cpu_raise(cpu, EXC_NM, 0, false);
    if (waiting && (cpu->s.fpu.fsw & FSW_ES)) {
        if (cpu->s.cr0 & CR0_NE)
            return cpu_raise(cpu, EXC_MF, 0, false);
        x87_end(cpu);
    }
    return CPU_OK;
}

void x87_note_insn(Cpu *cpu, const DecodedInsn *d)
{
    X87State *f = &cpu->s.fpu;
    f->fip = cpu->s.rip;
    f->fcs = cpu->s.seg[SEG_CS].selector;
    f->fop = (uint16_t)(((d->opcode & 7u) << 8) | d->modrm);
    if (d->kind[0] == OPK_MEM) {
        f->fdp = insn_ea(cpu, d);
        f->fds = cpu->s.seg[d->seg].selector;
    }
}

bool x87_commit(Cpu *cpu, unsigned flags, bool store)
{
    X87State *f = &cpu->s.fpu;
    unsigned exc = flags & FP_ALL;
    unsigned unmasked = exc & ~f->fcw & FP_ALL;
    bool write = true;
    /* C1 reports rounding up; the caller sets it after a written result,
     * anything else leaves it clear. */
    f->fsw &= ~FSW_C1;
    if (unmasked & (FP_IE | FP_DE | FP_ZE)) {
        /* The operation is abandoned: only the pre-computation exceptions
         * are reported (Vol. 1 8.5, 4.9.2). */
        exc &= FP_IE | FP_DE | FP_ZE;
        write = false;
    } else if (store && (unmasked & (FP_OE | FP_UE))) {
        /* Vol. 1 8.5.4-8.5.5: a memory destination is left alone, and the
         * inexact result that was not stored is not reported. */
        exc &= (unsigned)~FP_PE;
        write = false;
    }
    f->fsw |= (uint16_t)(exc | (flags & FSW_SF));
    if (unmasked)
        f->fsw |= FSW_ES | FSW_B;
    return write;
}

bool x87_stack_fault(Cpu *cpu, bool overflow)
{
    X87State *f = &cpu->s.fpu;
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | FP_IE | FSW_SF |
                        (overflow ? FSW_C1 : 0));
    if (!(f->fcw & FP_IE)) {
        f->fsw |= FSW_ES | FSW_B;
        return false;
    }
    return true;
}

int x87_end(Cpu *cpu)
{
    if (!cpu->ferr)
        return CPU_OK;
    int level = (cpu->s.fpu.fsw & FSW_ES) && !(cpu->s.cr0 & CR0_NE);
    if (level == cpu->ferr_level)
        return CPU_OK;
    cpu->ferr_level = level;
    cpu->ferr(cpu->ferr_opaque, level);
    return level ? CPU_EXIT : CPU_OK;
}

int x87_read_f80(Cpu *cpu, const DecodedInsn *d, uint64_t off, Float80 *v)
{
    uint64_t lo, hi;
    uint64_t mask = size_mask(d->asize);
    int r = mem_read(cpu, d->seg, off & mask, 8, &lo);
    if (r == CPU_OK)
        r = mem_read(cpu, d->seg, (off + 8) & mask, 2, &hi);
    if (r == CPU_OK) {
        v->sig = lo;
        v->se = (uint16_t)hi;
    }
    return r;
}

int x87_write_f80(Cpu *cpu, const DecodedInsn *d, uint64_t off, Float80 v)
{
    uint64_t mask = size_mask(d->asize);
    int r = mem_check_write(cpu, d->seg, off & mask, 10);
    if (r == CPU_OK)
        r = mem_write(cpu, d->seg, off & mask, 8, v.sig);
    if (r == CPU_OK)
        r = mem_write(cpu, d->seg, (off + 8) & mask, 2, v.se);
    return r;
}

unsigned x87_tag(const X87State *f, unsigned p)
{
    if (!((f->tags >> p) & 1))
        return 3;
    Float80 v = f->r[p];
    unsigned e = f80_exp(v);
    if (e == 0)
        return v.sig ? 2 : 1;
    if (e == F80_EXP_MAX || !(v.sig >> 63))
        return 2;
    return 0;
}

uint16_t x87_full_tags(const X87State *f)
{
    uint16_t t = 0;
    for (unsigned p = 0; p < 8; p++)
        t |= (uint16_t)(x87_tag(f, p) << (2 * p));
    return t;
}

void x87_init_state(X87State *f)
{
    f->fcw = FCW_INIT;
    f->fsw = 0;
    f->tags = 0;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

/* ---- WAIT / FWAIT (called from insn_system.c) ------------------------------ */

int x87_fwait(Cpu *cpu)
{
    /* Vol. 2 WAIT: #NM only when both MP and TS are set; EM is ignored. */
    if ((cpu->s.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        return cpu_raise(cpu, EXC_NM, 0, false);
    if (cpu->s.fpu.fsw & FSW_ES) {
        if (cpu->s.cr0 & CR0_NE)
            return cpu_raise(cpu, EXC_MF, 0, false);
        return x87_end(cpu);
    }
    return CPU_OK;
}

/* ---- register and stack instructions ------------------------------------- */

int h_FNOP(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    x87_note_insn(cpu, d);
    return x87_end(cpu);
}

/* FENI, FDISI, FSETPM: 8087/80287 controls, no-ops on the 80387 and later
 * (Vol. 1 8.3.13 footnote); they are no-wait forms. */
int h_FENI(Cpu *cpu, const DecodedInsn *d)
{
    return x87_begin(cpu, false);
}

int h_FXCH(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    unsigned i = d->modrm & 7;
    x87_note_insn(cpu, d);
    Float80 a = x87_get(f, 0), b = x87_get(f, i);
    if (x87_empty(f, 0) || x87_empty(f, i)) {
        if (!x87_stack_fault(cpu, false))
            return x87_end(cpu);
        /* Masked: the empty register(s) read as the indefinite. */
        if (x87_empty(f, 0))
            a = f80_indefinite;
        if (x87_empty(f, i))
            b = f80_indefinite;
    } else {
        f->fsw &= ~FSW_C1;
    }
    x87_set(f, 0, b);
    x87_set(f, i, a);
    return x87_end(cpu);
}

/* FCHS, FABS: sign-bit operations, no exceptions but stack underflow. */
static int sign_op(Cpu *cpu, const DecodedInsn *d, bool abs)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    x87_note_insn(cpu, d);
    if (x87_empty(f, 0)) {
        if (x87_stack_fault(cpu, false))
            x87_set(f, 0, f80_indefinite);
        return x87_end(cpu);
    }
    Float80 v = x87_get(f, 0);
    x87_set(f, 0, abs ? f80_abs(v) : f80_neg(v));
    f->fsw &= ~FSW_C1;
    return x87_end(cpu);
}

int h_FCHS(Cpu *cpu, const DecodedInsn *d) { return sign_op(cpu, d, false); }
int h_FABS(Cpu *cpu, const DecodedInsn *d) { return sign_op(cpu, d, true); }

int h_FXAM(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    x87_note_insn(cpu, d);
    Float80 v = x87_get(f, 0);
    unsigned cc = f80_sign(v) ? FSW_C1 : 0;
    if (x87_empty(f, 0)) {
        cc |= FSW_C3 | FSW_C0;
    } else {
        switch (f80_class(v)) {
        case FC_UNSUPPORTED: break;
        case FC_QNAN: case FC_SNAN: cc |= FSW_C0; break;
        case FC_NORMAL: cc |= FSW_C2; break;
        case FC_INF: cc |= FSW_C2 | FSW_C0; break;
        case FC_ZERO: cc |= FSW_C3; break;
        case FC_DENORMAL: cc |= FSW_C3 | FSW_C2; break;
        }
    }
    x87_set_cc(f, cc);
    return x87_end(cpu);
}

/* D9 E8-EE.  The constants with 128 bits (more than the 66 the SDM says
 * processors keep), rounded to 64 by RC (Vol. 1 8.3.8). */
static const struct {
    uint64_t hi, lo;
    int32_t exp;
} constants[7] = {
    { 0x8000000000000000ull, 0, 0 },                        /* 1 */
    { 0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4cull, 1 },    /* log2(10) */
    { 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0 },    /* log2(e) */
    { 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1 },    /* pi */
    { 0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull, -2 },   /* log10(2) */
    { 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1 },   /* ln(2) */
    { 0, 0, 0 },                                            /* +0.0 */
};

int h_FLDCONST(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    x87_note_insn(cpu, d);
    if (!x87_empty(f, 7)) {
        if (x87_stack_fault(cpu, true))
            x87_push(f, f80_indefinite);
        return x87_end(cpu);
    }
    unsigned k = (d->modrm & 7) < 7 ? d->modrm & 7 : 6;
    FpStatus st = x87_status(cpu, false);
    Float80 v = f80_round_pack(&st, false, constants[k].exp, constants[k].hi,
                               constants[k].lo);
    /* Rounding a constant is not an inexact result: no PE, no C1. */
    x87_push(f, v);
    f->fsw &= ~FSW_C1;
    return x87_end(cpu);
}

int h_FFREE(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    x87_note_insn(cpu, d);
    f->tags &= (uint8_t)~(1u << x87_phys(f, d->modrm & 7));
    f->fsw &= ~FSW_C1;
    return x87_end(cpu);
}

/* DF C0+i: FFREE ST(i), then pop (undocumented, Intel and AMD run it). */
int h_FFREEP(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    x87_note_insn(cpu, d);
    f->tags &= (uint8_t)~(1u << x87_phys(f, d->modrm & 7));
    x87_pop(f);
    f->fsw &= ~FSW_C1;
    return x87_end(cpu);
}

static int move_top(Cpu *cpu, const DecodedInsn *d, int delta)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    x87_note_insn(cpu, d);
    x87_set_top(f, x87_top(f) + (unsigned)delta);
    f->fsw &= ~FSW_C1;
    return x87_end(cpu);
}

int h_FINCSTP(Cpu *cpu, const DecodedInsn *d) { return move_top(cpu, d, 1); }
int h_FDECSTP(Cpu *cpu, const DecodedInsn *d) { return move_top(cpu, d, -1); }

/* DA/DB C0-DF: FCMOVcc ST(0), ST(i); DA moves on B, E, BE, U and DB on
 * their negations (Vol. 2 FCMOVcc). */
int h_FCMOV(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    unsigned i = d->modrm & 7;
    x87_note_insn(cpu, d);
    static const uint8_t jcc[4] = { 2, 4, 6, 10 };   /* B, E, BE, P */
    bool cond = cc_condition(cpu, jcc[(d->modrm >> 3) & 3]);
    if (d->opcode == 0xdb)
        cond = !cond;
    if (x87_empty(f, 0) || x87_empty(f, i)) {
        /* The masked response writes the indefinite whatever the
         * condition (as processors do). */
        if (x87_stack_fault(cpu, false))
            x87_set(f, 0, f80_indefinite);
        return x87_end(cpu);
    }
    /* C1 is left alone: only a stack fault defines it (Vol. 2 FCMOVcc). */
    if (cond)
        x87_set(f, 0, x87_get(f, i));
    return x87_end(cpu);
}

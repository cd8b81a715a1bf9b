/* x87 arithmetic and comparison instructions.
 *
 * SDM Vol. 2 pages FADD/FADDP/FIADD, FSUB/FSUBP/FISUB, FSUBR/FSUBRP/
 * FISUBR, FMUL/FMULP/FIMUL, FDIV/FDIVP/FIDIV, FDIVR/FDIVRP/FIDIVR,
 * FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP, FCOMI/FCOMIP/
 * FUCOMI/FUCOMIP, FTST, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1;
 * Vol. 1 8.3.5-8.3.7 and Appendix C (exception summary).
 *
 * One handler per operation serves every encoding of it: the memory
 * operand's format comes from the escape opcode (D8 m32fp, DA m32int,
 * DC m64fp, DE m16int), the register forms from ModRM.rm, and the
 * direction from the opcode: D8 writes ST(0), DC and DE write ST(i) and DE
 * pops.  For DC/DE the SDM's mnemonics FSUB/FSUBR and FDIV/FDIVR name the
 * reg fields the other way round; opcodes.def lists them by mnemonic.
 */
#include "cpu/fpu/x87.h"

enum { OP_ADD, OP_MUL, OP_COM, OP_COMP, OP_SUB, OP_SUBR, OP_DIV, OP_DIVR };

/* The memory operand of the D8/DA/DC/DE forms, converted exactly (SNaN and
 * denormal source exceptions go into st). */
static int read_arith_mem(Cpu *cpu, const DecodedInsn *d, FpStatus *st,
                          Float80 *v)
{
    static const uint8_t size[4] = { 4, 4, 8, 2 };   /* D8, DA, DC, DE */
    unsigned k = (d->opcode >> 1) & 3;
    uint64_t raw;
    int r = mem_read(cpu, d->seg, insn_ea(cpu, d), size[k], &raw);
    if (r != CPU_OK)
        return r;
    switch (k) {
    case 0: *v = f80_from_f32(st, (uint32_t)raw); break;
    case 1: *v = f80_from_int((int32_t)raw); break;
    case 2: *v = f80_from_f64(st, raw); break;
    default: *v = f80_from_int((int16_t)raw); break;
    }
    return CPU_OK;
}

static void set_compare_cc(X87State *f, int c)
{
    static const uint16_t cc[4] = {
        [FP_CMP_LESS] = FSW_C0, [FP_CMP_EQUAL] = FSW_C3,
        [FP_CMP_GREATER] = 0, [FP_CMP_UNORDERED] = FSW_C0 | FSW_C2 | FSW_C3,
    };
    x87_set_cc(f, cc[c]);
}

static int arith(Cpu *cpu, const DecodedInsn *d, int op)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, true);
    bool mem = d->kind[0] == OPK_MEM;
    bool compare = op == OP_COM || op == OP_COMP;
    unsigned dst = 0, other = 0;
    bool pop = op == OP_COMP;
    Float80 m = f80_zero;
    if (mem) {
        r = read_arith_mem(cpu, d, &st, &m);
        if (r != CPU_OK)
            return r;
    } else {
        unsigned i = d->modrm & 7;
        if (d->opcode == 0xd8 || compare) {
            other = i;
        } else {
            dst = i;
            pop |= d->opcode == 0xde;
        }
    }
    x87_note_insn(cpu, d);
    if (x87_empty(f, dst) || (!mem && x87_empty(f, other))) {
        bool masked = x87_stack_fault(cpu, false);
        if (compare)
            set_compare_cc(f, FP_CMP_UNORDERED);
        else if (masked)
            x87_set(f, dst, f80_indefinite);
        if (masked && pop)
            x87_pop(f);
        return x87_end(cpu);
    }
    Float80 a = x87_get(f, dst);
    Float80 b = mem ? m : x87_get(f, other);
    /* A denormal m32fp/m64fp is normal once widened; its #D ranks below
     * a NaN or unsupported ST(0), as for register operands (Vol. 1 4.9.2). */
    if ((st.flags & FP_DE) &&
        (f80_is_nan(a) || f80_class(a) == FC_UNSUPPORTED))
        st.flags &= (uint8_t)~FP_DE;
    if (compare) {
        int c = f80_compare(&st, a, b, false);
        bool write = x87_commit(cpu, st.flags, false);
        set_compare_cc(f, c);   /* even for unmasked #IA/#D (see below) */
        if (write && pop)
            x87_pop(f);
        return x87_end(cpu);
    }
    Float80 res;
    if (mem && (st.flags & FP_IE) && f80_is_nan(b)) {
        /* Widening quieted an SNaN from memory: restore it, so that NaN
         * propagation (Table 4-7) sees an SNaN against ST(0). */
        b.sig &= ~F80_QUIET_BIT;
    }
    switch (op) {
    case OP_ADD: res = f80_add(&st, a, b); break;
    case OP_MUL: res = f80_mul(&st, a, b); break;
    case OP_SUB: res = f80_sub(&st, a, b); break;
    case OP_SUBR: res = f80_sub(&st, b, a); break;
    case OP_DIV: res = f80_div(&st, a, b); break;
    default: res = f80_div(&st, b, a); break;
    }
    if (x87_commit(cpu, st.flags, false)) {
        x87_set(f, dst, res);
        f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (st.c1 ? FSW_C1 : 0));
        if (pop)
            x87_pop(f);
    }
    return x87_end(cpu);
}

int h_FADD(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_ADD); }
int h_FMUL(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_MUL); }
int h_FCOM(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_COM); }
int h_FCOMP(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_COMP); }
int h_FSUB(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_SUB); }
int h_FSUBR(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_SUBR); }
int h_FDIV(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_DIV); }
int h_FDIVR(Cpu *cpu, const DecodedInsn *d) { return arith(cpu, d, OP_DIVR); }

/* ---- register comparisons -------------------------------------------------- */

enum { CMP_CC = 0, CMP_EFLAGS = 1 };

/* ST(0) against ST(i) (or +0.0 for FTST when i < 0); pops `pops` times. */
static int compare_regs(Cpu *cpu, const DecodedInsn *d, int i, bool quiet,
                        int pops, int dest)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, false);
    x87_note_insn(cpu, d);
    int c;
    bool write;
    if (x87_empty(f, 0) || (i >= 0 && x87_empty(f, (unsigned)i))) {
        write = x87_stack_fault(cpu, false);
        c = FP_CMP_UNORDERED;
    } else {
        Float80 b = i >= 0 ? x87_get(f, (unsigned)i) : f80_zero;
        c = f80_compare(&st, x87_get(f, 0), b, quiet);
        uint16_t c1 = f->fsw & FSW_C1;
        write = x87_commit(cpu, st.flags, false);
        if (dest == CMP_EFLAGS)
            f->fsw |= c1;
    }
    /* The condition codes (EFLAGS for FCOMI and friends, which leave C1
     * alone) are written even when an unmasked #IA or #D stops the
     * instruction, as processors do; only the pop is suppressed. */
    if (dest == CMP_EFLAGS) {
        /* Vol. 2 FCOMI: ZF, PF, CF as FCOM's C3, C2, C0; OF, SF, AF 0. */
        static const uint32_t fl[4] = {
            [FP_CMP_LESS] = F_CF, [FP_CMP_EQUAL] = F_ZF, [FP_CMP_GREATER] = 0,
            [FP_CMP_UNORDERED] = F_ZF | F_PF | F_CF,
        };
        cc_set_flags(cpu, fl[c]);
    } else {
        set_compare_cc(f, c);
    }
    for (int k = 0; k < pops && write; k++)
        x87_pop(f);
    return x87_end(cpu);
}

int h_FCOMPP(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, 1, false, 2, CMP_CC); }
int h_FUCOMPP(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, 1, true, 2, CMP_CC); }
int h_FUCOM(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, d->modrm & 7, true, 0, CMP_CC); }
int h_FUCOMP(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, d->modrm & 7, true, 1, CMP_CC); }
int h_FCOMI(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, d->modrm & 7, false, 0, CMP_EFLAGS); }
int h_FCOMIP(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, d->modrm & 7, false, 1, CMP_EFLAGS); }
int h_FUCOMI(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, d->modrm & 7, true, 0, CMP_EFLAGS); }
int h_FUCOMIP(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, d->modrm & 7, true, 1, CMP_EFLAGS); }
int h_FTST(Cpu *cpu, const DecodedInsn *d) { return compare_regs(cpu, d, -1, false, 0, CMP_CC); }

/* ---- one-operand operations on ST(0) ------------------------------------------ */

static int unary(Cpu *cpu, const DecodedInsn *d,
                 Float80 (*fn)(FpStatus *, Float80), bool use_pc)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, use_pc);
    x87_note_insn(cpu, d);
    if (x87_empty(f, 0)) {
        if (x87_stack_fault(cpu, false))
            x87_set(f, 0, f80_indefinite);
        return x87_end(cpu);
    }
    Float80 res = fn(&st, x87_get(f, 0));
    if (x87_commit(cpu, st.flags, false)) {
        x87_set(f, 0, res);
        f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (st.c1 ? FSW_C1 : 0));
    }
    return x87_end(cpu);
}

int h_FSQRT(Cpu *cpu, const DecodedInsn *d) { return unary(cpu, d, f80_sqrt, true); }
int h_FRNDINT(Cpu *cpu, const DecodedInsn *d) { return unary(cpu, d, f80_round_int, false); }

int h_FSCALE(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, false);
    x87_note_insn(cpu, d);
    if (x87_empty(f, 0) || x87_empty(f, 1)) {
        if (x87_stack_fault(cpu, false))
            x87_set(f, 0, f80_indefinite);
        return x87_end(cpu);
    }
    Float80 res = f80_scale(&st, x87_get(f, 0), x87_get(f, 1));
    if (x87_commit(cpu, st.flags, false)) {
        x87_set(f, 0, res);
        f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (st.c1 ? FSW_C1 : 0));
    }
    return x87_end(cpu);
}

int h_FXTRACT(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, false);
    x87_note_insn(cpu, d);
    if (x87_empty(f, 0)) {
        if (x87_stack_fault(cpu, false)) {
            x87_set(f, 0, f80_indefinite);
            /* Vol. 2 FXTRACT: the push then overflows only if ST(7) is
             * in use; the masked response fills both. */
            x87_push(f, f80_indefinite);
        }
        return x87_end(cpu);
    }
    if (!x87_empty(f, 7)) {
        if (x87_stack_fault(cpu, true)) {
            x87_set(f, 0, f80_indefinite);
            x87_push(f, f80_indefinite);
        }
        return x87_end(cpu);
    }
    Float80 e, s;
    f80_xtract(&st, x87_get(f, 0), &e, &s);
    if (x87_commit(cpu, st.flags, false)) {
        x87_set(f, 0, e);
        x87_push(f, s);
        f->fsw &= ~FSW_C1;
    }
    return x87_end(cpu);
}

static int prem(Cpu *cpu, const DecodedInsn *d, bool nearest)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, false);
    x87_note_insn(cpu, d);
    if (x87_empty(f, 0) || x87_empty(f, 1)) {
        if (x87_stack_fault(cpu, false))
            x87_set(f, 0, f80_indefinite);
        f->fsw &= ~FSW_C2;
        return x87_end(cpu);
    }
    unsigned q;
    bool partial;
    Float80 res = f80_rem(&st, x87_get(f, 0), x87_get(f, 1), nearest, &q, &partial);
    uint16_t cc = f->fsw & FSW_CC;
    bool write = x87_commit(cpu, st.flags, false);
    if (q == FP_REM_NO_QUOTIENT || !write) {
        /* NaN, invalid, or stopped by an unmasked exception: C0 and C3
         * stay, C1 and C2 clear. */
        x87_set_cc(f, cc & (FSW_C0 | FSW_C3));
        if (write)
            x87_set(f, 0, res);
    } else if (write) {
        x87_set(f, 0, res);
        /* C0 = Q2, C3 = Q1, C1 = Q0; C2 = reduction incomplete. */
        x87_set_cc(f, ((q & 4) ? FSW_C0 : 0) | ((q & 2) ? FSW_C3 : 0) |
                      ((q & 1) ? FSW_C1 : 0) | (partial ? FSW_C2 : 0));
    }
    return x87_end(cpu);
}

int h_FPREM(Cpu *cpu, const DecodedInsn *d) { return prem(cpu, d, false); }
int h_FPREM1(Cpu *cpu, const DecodedInsn *d) { return prem(cpu, d, true); }

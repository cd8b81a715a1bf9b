/* x87 transcendental instructions.
 *
 * SDM Vol. 2 pages F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS,
 * FSINCOS; Vol. 1 8.3.10 (transcendental accuracy) and 8.3.8 (pi).  The
 * numerics are in cpu/fpu/float80_trans.c; this file is the stack and
 * exception handling around them.
 */
#include "cpu/fpu/x87.h"

/* Results go to ST(dst); `pop` pops once after. */
static void finish(Cpu *cpu, const FpStatus *st, unsigned dst, Float80 v,
                   bool pop)
{
    X87State *f = &cpu->s.fpu;
    if (x87_commit(cpu, st->flags, false)) {
        x87_set(f, dst, v);
        /* C2 is left alone: only the trigonometric instructions use it. */
        f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (st->c1 ? FSW_C1 : 0));
        if (pop)
            x87_pop(f);
    }
}

/* ST(0) and, for two-operand forms, ST(1) must be in use. */
static bool operands_present(Cpu *cpu, unsigned n, bool pop)
{
    X87State *f = &cpu->s.fpu;
    if (!x87_empty(f, 0) && (n < 2 || !x87_empty(f, 1)))
        return true;
    if (x87_stack_fault(cpu, false)) {
        x87_set(f, n - 1, f80_indefinite);
        if (pop)
            x87_pop(f);
    }
    return false;
}

int h_F2XM1(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    x87_note_insn(cpu, d);
    if (operands_present(cpu, 1, false)) {
        FpStatus st = x87_status(cpu, false);
        Float80 v = f80_f2xm1(&st, x87_get(&cpu->s.fpu, 0));
        finish(cpu, &st, 0, v, false);
    }
    return x87_end(cpu);
}

static int log_op(Cpu *cpu, const DecodedInsn *d, bool plus1)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    x87_note_insn(cpu, d);
    if (operands_present(cpu, 2, true)) {
        FpStatus st = x87_status(cpu, false);
        X87State *f = &cpu->s.fpu;
        Float80 x = x87_get(f, 0), y = x87_get(f, 1);
        Float80 v = plus1 ? f80_yl2xp1(&st, x, y) : f80_yl2x(&st, x, y);
        finish(cpu, &st, 1, v, true);
    }
    return x87_end(cpu);
}

int h_FYL2X(Cpu *cpu, const DecodedInsn *d) { return log_op(cpu, d, false); }
int h_FYL2XP1(Cpu *cpu, const DecodedInsn *d) { return log_op(cpu, d, true); }

int h_FPATAN(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    x87_note_insn(cpu, d);
    if (operands_present(cpu, 2, true)) {
        FpStatus st = x87_status(cpu, false);
        X87State *f = &cpu->s.fpu;
        Float80 v = f80_atan2(&st, x87_get(f, 1), x87_get(f, 0));
        finish(cpu, &st, 1, v, true);
    }
    return x87_end(cpu);
}

/* FSIN, FCOS, FSINCOS, FPTAN.  |x| >= 2^63 sets C2 and changes nothing
 * else; FSINCOS and FPTAN push, so ST(7) must be free. */
enum { T_SIN, T_COS, T_SINCOS, T_TAN };

static int trig(Cpu *cpu, const DecodedInsn *d, int op)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    bool pushes = op == T_SINCOS || op == T_TAN;
    x87_note_insn(cpu, d);
    if (x87_empty(f, 0)) {
        if (x87_stack_fault(cpu, false)) {
            x87_set(f, 0, f80_indefinite);
            if (pushes)
                x87_push(f, f80_indefinite);
        }
        f->fsw &= ~FSW_C2;
        return x87_end(cpu);
    }
    if (pushes && !x87_empty(f, 7)) {
        f->fsw &= ~FSW_C2;
        if (x87_stack_fault(cpu, true)) {
            x87_set(f, 0, f80_indefinite);
            x87_push(f, f80_indefinite);
        }
        return x87_end(cpu);
    }
    FpStatus st = x87_status(cpu, false), stc;
    Float80 x = x87_get(f, 0), a = x, b = x;
    bool ok;
    if (op == T_TAN) {
        ok = f80_tan(&st, x, &a);
    } else {
        ok = f80_sincos(&st, &stc, x, &a, &b);
        if (op == T_COS) {
            st = stc;
        } else if (op == T_SINCOS) {
            /* Both results' exceptions; C1 from the sine (as the host). */
            st.flags |= stc.flags;
        }
    }
    if (!ok) {
        /* Out of range: C2 = 1, the operand stays (Vol. 2 FSIN). */
        f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | FSW_C2);
        return x87_end(cpu);
    }
    f->fsw &= ~FSW_C2;   /* in range, even when an exception stops it */
    if (!x87_commit(cpu, st.flags, false))
        return x87_end(cpu);
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | (st.c1 ? FSW_C1 : 0));
    switch (op) {
    case T_SIN: x87_set(f, 0, a); break;
    case T_COS: x87_set(f, 0, b); break;
    case T_SINCOS: x87_set(f, 0, a); x87_push(f, b); break;
    default:
        x87_set(f, 0, a);
        /* A NaN tangent is pushed with a NaN "1" (Vol. 2 FPTAN). */
        x87_push(f, f80_is_nan(a) ? a : f80_one);
        break;
    }
    return x87_end(cpu);
}

int h_FSIN(Cpu *cpu, const DecodedInsn *d) { return trig(cpu, d, T_SIN); }
int h_FCOS(Cpu *cpu, const DecodedInsn *d) { return trig(cpu, d, T_COS); }
int h_FSINCOS(Cpu *cpu, const DecodedInsn *d) { return trig(cpu, d, T_SINCOS); }
int h_FPTAN(Cpu *cpu, const DecodedInsn *d) { return trig(cpu, d, T_TAN); }

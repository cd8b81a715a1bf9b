/* Unit tests for the x86-64 JIT backend (jit/x86_64/): what each IR op
 * computes, register allocation and calls.  Oracles independent of the
 * backend:
 *  - op semantics are checked against C evaluations written here from the
 *    definitions in jit/ir.h (I32 ops use the low 32 bits and zero-extend,
 *    shifts count modulo 32/64, EXT, the IrConds);
 *  - random op sequences (with more live temps than host registers, calls,
 *    forward branches, temps redefined in skipped code, guest memory
 *    accesses) are run by this backend and by jit/irinterp.c, and must
 *    leave the same state.
 * Guest memory, exits and chaining: test_jit_x86_64_exec.c.
 */
#include "tests/unit/jit_x86_64_test.h"

/* ======================================================================
 * Op semantics against C evaluations
 * ====================================================================== */

static const uint64_t edges[] = {
    0, 1, 2, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xff, 0x7fff, 0x8000,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x1ffffffffull,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
    0x123456789abcdef0ull, 0xfedcba9876543210ull, 0xffffffff80000000ull,
};
#define NEDGES (sizeof(edges) / sizeof(edges[0]))

static uint64_t trunc_to(IrType t, uint64_t v)
{
    return t == IR_I32 ? (uint32_t)v : v;
}

static uint64_t ref_binop(IrOpcode opc, IrType t, uint64_t a, uint64_t b)
{
    unsigned bits = t == IR_I32 ? 32 : 64;
    a = trunc_to(t, a);
    b = trunc_to(t, b);
    uint64_t r;
    switch (opc) {
    case IR_ADD: r = a + b; break;
    case IR_SUB: r = a - b; break;
    case IR_MUL: r = a * b; break;
    case IR_AND: r = a & b; break;
    case IR_OR: r = a | b; break;
    case IR_XOR: r = a ^ b; break;
    case IR_SHL: r = a << (b % bits); break;
    case IR_SHR: r = a >> (b % bits); break;
    default:   /* IR_SAR */
        if (t == IR_I32)
            r = (uint32_t)((int32_t)(uint32_t)a >> (b % 32));
        else
            r = (uint64_t)((int64_t)a >> (b % 64));
        break;
    }
    return trunc_to(t, r);
}

static bool ref_cond(IrCond c, IrType t, uint64_t a, uint64_t b)
{
    a = trunc_to(t, a);
    b = trunc_to(t, b);
    int64_t sa = t == IR_I32 ? (int64_t)(int32_t)a : (int64_t)a;
    int64_t sb = t == IR_I32 ? (int64_t)(int32_t)b : (int64_t)b;
    switch (c) {
    case IR_EQ: return a == b;
    case IR_NE: return a != b;
    case IR_LTU: return a < b;
    case IR_GEU: return a >= b;
    case IR_LEU: return a <= b;
    case IR_GTU: return a > b;
    case IR_LT: return sa < sb;
    case IR_GE: return sa >= sb;
    case IR_LE: return sa <= sb;
    case IR_GT: return sa > sb;
    case IR_TSTEQ: return (a & b) == 0;
    default: return (a & b) != 0;
    }
}

/* Blocks read their inputs from RAX/RCX (regs 0, 1) and write results to
 * regs 2.. : the inputs are not known when the code is generated.  The
 * ops take both temps with the op's own type and with the other one. */
static IrType other(IrType t)
{
    return t == IR_I32 ? IR_I64 : IR_I32;
}

Test(jit_x86_64, binops_and_shifts_at_both_types)
{
    static const IrOpcode ops[] = { IR_ADD, IR_SUB, IR_MUL, IR_AND, IR_OR,
                                    IR_XOR, IR_SHL, IR_SHR, IR_SAR };
    IrBlock *ir = calloc(1, sizeof(*ir));
    for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        for (int t = IR_I32; t <= IR_I64; t++) {
            ir_reset(ir);
            IrTemp a = ir_ld(ir, IR_I64, REG(0), 8);
            IrTemp b = ir_ld(ir, IR_I64, REG(1), 8);
            /* a op b; b op a (result in b's register); a op a. */
            ir_st(ir, REG(2), 8, ir_binop(ir, ops[o], t, a, b));
            ir_st(ir, REG(4), 8, ir_binop(ir, ops[o], t, a, a));
            ir_st(ir, REG(3), 8, ir_binop(ir, ops[o], t, b, a));
            ir_exit(ir, CPU_OK);
            JitBlock jb;
            translate(ir, &jb, 1);
            for (unsigned i = 0; i < NEDGES; i++) {
                for (unsigned j = 0; j < NEDGES; j++) {
                    uint64_t va = edges[i], vb = edges[j];
                    cpu->s.regs[0] = va;
                    cpu->s.regs[1] = vb;
                    cr_assert_eq(be->enter(cpu, &jb), CPU_OK);
                    uint64_t want = ref_binop(ops[o], t, va, vb);
                    cr_assert_eq(cpu->s.regs[2], want,
                                 "op %d type %d: %#llx, %#llx -> %#llx, want %#llx",
                                 ops[o], t, (unsigned long long)va,
                                 (unsigned long long)vb,
                                 (unsigned long long)cpu->s.regs[2],
                                 (unsigned long long)want);
                    cr_assert_eq(cpu->s.regs[3], ref_binop(ops[o], t, vb, va));
                    cr_assert_eq(cpu->s.regs[4], ref_binop(ops[o], t, va, va));
                }
            }
        }
    }
    ir_free(ir);
    free(ir);
}

/* The same with b a constant, which the backend folds into immediates
 * (or a scratch register when it does not fit in 32 bits). */
Test(jit_x86_64, binops_shifts_and_compares_with_constants)
{
    static const IrOpcode ops[] = { IR_ADD, IR_SUB, IR_MUL, IR_AND, IR_OR,
                                    IR_XOR, IR_SHL, IR_SHR, IR_SAR };
    IrBlock *ir = calloc(1, sizeof(*ir));
    for (int t = IR_I32; t <= IR_I64; t++) {
        for (unsigned j = 0; j < NEDGES; j++) {
            uint64_t vb = edges[j];
            ir_reset(ir);
            IrTemp a = ir_ld(ir, IR_I64, REG(0), 8);
            IrTemp b = ir_movi(ir, t, vb);
            for (unsigned o = 0; o < 9; o++)
                ir_st(ir, REG(o), 8, ir_binop(ir, ops[o], t, a, b));
            for (int c = 0; c < IR_COND_COUNT; c++) {
                ir_st(ir, REG(9), 1, ir_setcc(ir, t, c, a, b));
                ir_st(ir, REG(10), 8, ir_binop(ir, IR_SHL, IR_I64,
                                               ir_ld(ir, IR_I64, REG(10), 8),
                                               ir_movi(ir, IR_I32, 1)));
                ir_st(ir, REG(10), 8, ir_binop(ir, IR_OR, IR_I64,
                                               ir_ld(ir, IR_I64, REG(10), 8),
                                               ir_ld(ir, IR_I64, REG(9), 1)));
            }
            ir_exit(ir, CPU_OK);
            JitBlock jb;
            translate(ir, &jb, 1);
            for (unsigned i = 0; i < NEDGES; i++) {
                uint64_t va = edges[i];
                cpu->s.regs[0] = va;
                cpu->s.regs[10] = 0;
                cr_assert_eq(be->enter(cpu, &jb), CPU_OK);
                for (unsigned o = 0; o < 9; o++)
                    cr_assert_eq(cpu->s.regs[o], ref_binop(ops[o], t, va, vb),
                                 "op %d type %d: %#llx, constant %#llx", ops[o], t,
                                 (unsigned long long)va, (unsigned long long)vb);
                uint64_t conds = 0;
                for (int c = 0; c < IR_COND_COUNT; c++)
                    conds = conds << 1 | ref_cond(c, t, va, trunc_to(t, vb));
                cr_assert_eq(cpu->s.regs[10], conds, "conditions, type %d: %#llx, %#llx",
                             t, (unsigned long long)va, (unsigned long long)vb);
            }
        }
    }
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, unops_ext_mov_movi_ld_st)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    for (int t = IR_I32; t <= IR_I64; t++) {
        ir_reset(ir);
        IrTemp a = ir_ld(ir, other(t), REG(0), 8);
        ir_st(ir, REG(1), 8, ir_unop(ir, IR_NEG, t, a));
        ir_st(ir, REG(2), 8, ir_unop(ir, IR_NOT, t, a));
        ir_st(ir, REG(3), 8, ir_ext(ir, t, a, 1, true));
        ir_st(ir, REG(4), 8, ir_ext(ir, t, a, 1, false));
        ir_st(ir, REG(5), 8, ir_ext(ir, t, a, 2, true));
        ir_st(ir, REG(6), 8, ir_ext(ir, t, a, 2, false));
        ir_st(ir, REG(7), 8, ir_ext(ir, t, a, 4, true));
        ir_st(ir, REG(8), 8, ir_ext(ir, t, a, 4, false));
        IrOp mov = { .opc = IR_MOV, .type = (uint8_t)t, .d = ir_temp(ir, t), .a = a,
                     .b = IR_NO_TEMP, .c = IR_NO_TEMP };
        ir_emit(ir, mov);
        ir_st(ir, REG(9), 8, mov.d);
        ir_st(ir, REG(10), 8, ir_ld(ir, t, REG(0), 1));
        ir_st(ir, REG(11), 8, ir_ld(ir, t, REG(0), 2));
        ir_st(ir, REG(12), 8, ir_ld(ir, t, REG(0), 4));
        ir_st(ir, REG(13), 8, ir_ld(ir, t, REG(0), 8));
        /* Partial stores keep the other bytes. */
        ir_st(ir, REG(14), 1, a);
        ir_st(ir, REG(14) + 2, 2, a);
        ir_st(ir, REG(14) + 4, 4, a);
        ir_st(ir, REG(15), 8, ir_movi(ir, t, 0xfedcba9876543210ull));
        ir_exit(ir, CPU_OK);
        JitBlock jb;
        translate(ir, &jb, 1);
        for (unsigned i = 0; i < NEDGES; i++) {
            uint64_t v = edges[i];
            memset(cpu->s.regs, 0x55, sizeof(cpu->s.regs));
            cpu->s.regs[0] = v;
            cr_assert_eq(be->enter(cpu, &jb), CPU_OK);
            uint64_t *r = cpu->s.regs;
            IrType T = (IrType)t;
            uint64_t a = trunc_to(other(T), v);   /* the LD into a truncates */
            cr_assert_eq(r[1], trunc_to(T, 0 - a), "type %d: neg %#llx = %#llx", t,
                         (unsigned long long)a, (unsigned long long)r[1]);
            cr_assert_eq(r[2], trunc_to(T, ~a));
            cr_assert_eq(r[3], trunc_to(T, (uint64_t)(int64_t)(int8_t)a));
            cr_assert_eq(r[4], (uint8_t)a);
            cr_assert_eq(r[5], trunc_to(T, (uint64_t)(int64_t)(int16_t)a));
            cr_assert_eq(r[6], (uint16_t)a);
            cr_assert_eq(r[7], trunc_to(T, (uint64_t)(int64_t)(int32_t)a),
                         "%#llx -> %#llx", (unsigned long long)a,
                         (unsigned long long)r[7]);
            cr_assert_eq(r[8], (uint32_t)a);
            cr_assert_eq(r[9], trunc_to(T, a));
            cr_assert_eq(r[10], (uint8_t)v);
            cr_assert_eq(r[11], (uint16_t)v);
            cr_assert_eq(r[12], (uint32_t)v);
            cr_assert_eq(r[13], trunc_to(T, v));
            uint64_t want14 = ((uint64_t)(uint32_t)a << 32) | ((uint64_t)(uint16_t)a << 16) |
                              0x5500 | (uint8_t)a;
            cr_assert_eq(r[14], want14, "%#llx", (unsigned long long)r[14]);
            cr_assert_eq(r[15], trunc_to(T, 0xfedcba9876543210ull));
        }
    }
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, setcc_and_brcond_all_conditions)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    for (int t = IR_I32; t <= IR_I64; t++) {
        for (int c = 0; c < IR_COND_COUNT; c++) {
            ir_reset(ir);
            IrTemp a = ir_ld(ir, IR_I64, REG(0), 8);
            IrTemp b = ir_ld(ir, IR_I64, REG(1), 8);
            ir_st(ir, REG(2), 8, ir_setcc(ir, t, c, a, b));
            uint32_t taken = ir_label(ir), end = ir_label(ir);
            ir_brcond(ir, t, c, a, b, taken);
            ir_st(ir, REG(3), 8, ir_movi(ir, IR_I32, 10));
            ir_jmp(ir, end);
            ir_set_label(ir, taken);
            ir_st(ir, REG(3), 8, ir_movi(ir, IR_I32, 20));
            ir_set_label(ir, end);
            ir_exit(ir, CPU_OK);
            JitBlock jb;
            translate(ir, &jb, 1);
            for (unsigned i = 0; i < NEDGES; i++) {
                for (unsigned j = 0; j < NEDGES; j++) {
                    cpu->s.regs[0] = edges[i];
                    cpu->s.regs[1] = edges[j];
                    cr_assert_eq(be->enter(cpu, &jb), CPU_OK);
                    bool want = ref_cond(c, t, edges[i], edges[j]);
                    cr_assert_eq(cpu->s.regs[2], want, "cond %d type %d: %#llx, %#llx",
                                 c, t, (unsigned long long)edges[i],
                                 (unsigned long long)edges[j]);
                    cr_assert_eq(cpu->s.regs[3], want ? 20 : 10);
                }
            }
        }
    }
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, exit_statuses)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    for (int s = CPU_OK; s <= CPU_EXIT + 1; s++) {
        ir_reset(ir);
        ir_exit(ir, s);
        cr_assert_eq(run(ir), s);
    }
    ir_reset(ir);
    ir_lookup(ir);
    cr_assert_eq(run(ir), CPU_OK);
    /* A block must end: one that does not is refused. */
    ir_reset(ir);
    ir_st(ir, REG(0), 8, ir_movi(ir, IR_I64, 1));
    JitBlock jb = { 0 };
    cr_assert_not(be->emit(jit->cache, ir, &jb));
    ir_free(ir);
    free(ir);
}

/* ======================================================================
 * Register pressure and calls
 * ====================================================================== */

/* Clobbers every caller-saved register, as any C function may. */
static uint64_t clobber(Cpu *c, uint64_t a, uint64_t b, uint64_t d)
{
    __asm__ volatile("mov $-1, %%rdi\n\tmov $-1, %%rsi\n\tmov $-1, %%rdx\n\t"
                     "mov $-1, %%rcx\n\tmov $-1, %%r8\n\tmov $-1, %%r9\n\t"
                     "mov $-1, %%r10\n\tmov $-1, %%r11\n\t"
                     ::: "rdi", "rsi", "rdx", "rcx", "r8", "r9", "r10", "r11",
                     "memory");
    return a * 3 + b * 5 + d * 7 + (c == cpu);
}

Test(jit_x86_64, live_temps_survive_calls_under_pressure)
{
    enum { N = 40 };
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    IrTemp t[N];
    for (int i = 0; i < N; i++)
        t[i] = ir_movi(ir, i & 1 ? IR_I64 : IR_I32, 0x1000000001ull * (i + 1));
    IrTemp r = ir_call(ir, (const void *)clobber, t[0], t[1], t[2]);
    IrTemp r2 = ir_call(ir, (const void *)clobber, r, IR_NO_TEMP, t[N - 1]);
    ir_call(ir, (const void *)clobber, IR_NO_TEMP, IR_NO_TEMP, IR_NO_TEMP);
    /* Sum everything, in an order that keeps all temps live until here. */
    IrTemp sum = ir_binop(ir, IR_ADD, IR_I64, r, r2);
    for (int i = N - 1; i >= 0; i--)
        sum = ir_binop(ir, IR_ADD, IR_I64, ir_binop(ir, IR_MUL, IR_I64, sum,
                                                    ir_movi(ir, IR_I64, 31)), t[i]);
    ir_st(ir, REG(0), 8, sum);
    ir_exit(ir, CPU_OK);
    cr_assert_eq(run(ir), CPU_OK);

    uint64_t v[N];
    for (int i = 0; i < N; i++)
        v[i] = i & 1 ? 0x1000000001ull * (i + 1) : (uint32_t)(0x1000000001ull * (i + 1));
    uint64_t rr = v[0] * 3 + v[1] * 5 + v[2] * 7 + 1;
    uint64_t rr2 = rr * 3 + v[N - 1] * 7 + 1;
    uint64_t want = rr + rr2;
    for (int i = N - 1; i >= 0; i--)
        want = want * 31 + v[i];
    cr_assert_eq(cpu->s.regs[0], want);
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, too_many_spills_are_refused)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    enum { N = 1100 };   /* more than 10 registers and 1024 spill slots */
    IrTemp t[N];
    for (int i = 0; i < N; i++)
        t[i] = ir_ld(ir, IR_I64, REG(i % 16), 8);
    for (int i = 0; i < N; i++)
        ir_st(ir, REG(0), 8, t[i]);
    ir_exit(ir, CPU_OK);
    JitBlock jb = { 0 };
    cr_assert_not(be->emit(jit->cache, ir, &jb));
    ir_free(ir);
    free(ir);
}

/* ======================================================================
 * Random blocks: this backend against jit/irinterp.c
 * ====================================================================== */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t rnd_value(void)
{
    return rnd() & 1 ? edges[rnd() % NEDGES] : rnd();
}

static uint64_t recorded[IR_MAX_TEMPS];

static uint64_t record(Cpu *c, uint64_t index, uint64_t value, uint64_t unused)
{
    recorded[index % IR_MAX_TEMPS] = value;
    return value ^ index;
}

static const IrOpcode random_binops[] = { IR_ADD, IR_SUB, IR_MUL, IR_AND, IR_OR,
                                          IR_XOR, IR_SHL, IR_SHR, IR_SAR };

/* One random value op; its result is a new temp, or with `redefine` an
 * existing one (as code skipped by a branch may do). */
static void random_op(IrBlock *ir, IrTemp *pool, unsigned *n, bool redefine)
{
    IrType t = rnd() & 1 ? IR_I64 : IR_I32;
    IrOp op = { .type = (uint8_t)t, .d = IR_NO_TEMP, .a = pool[rnd() % *n],
                .b = pool[rnd() % *n], .c = IR_NO_TEMP };
    switch (rnd() % 8) {
    case 0: case 1: case 2:
        op.opc = random_binops[rnd() % 9];
        break;
    case 3:
        op.opc = rnd() & 1 ? IR_NEG : IR_NOT;
        op.b = IR_NO_TEMP;
        break;
    case 4:
        op.opc = IR_EXT;
        op.size = (uint8_t)(1u << (rnd() % 3));
        op.imm = rnd() & 1;
        op.b = IR_NO_TEMP;
        break;
    case 5:
        op.opc = IR_SETCC;
        op.cond = (uint8_t)(rnd() % IR_COND_COUNT);
        break;
    case 6:
        op.opc = rnd() & 1 ? IR_MOV : IR_MOVI;
        op.imm = rnd_value();
        if (op.opc == IR_MOVI) {
            op.a = IR_NO_TEMP;
            op.imm = trunc_to(t, op.imm);
        }
        op.b = IR_NO_TEMP;
        break;
    default:
        op.opc = IR_CALL;
        op.imm = (uint64_t)(uintptr_t)clobber;
        op.type = IR_I64;
        if (rnd() % 4 == 0)
            op.c = pool[rnd() % *n];
        break;
    }
    if (redefine) {
        op.d = pool[rnd() % *n];
    } else {
        op.d = ir_temp(ir, op.type);
        pool[(*n)++] = op.d;
    }
    ir_emit(ir, op);
}

/* Guest memory in [RANDOM_MEM, RANDOM_MEM + 8 KiB + 8): two pages and a
 * bit, so some accesses cross pages. */
#define RANDOM_MEM 0x70000u

static void random_access(IrBlock *ir, IrTemp *pool, unsigned *n)
{
    IrTemp addr;
    if (rnd() & 1) {
        /* A known address: the backend finds its TLB entry beforehand. */
        addr = ir_movi(ir, IR_I64, RANDOM_MEM + (rnd() & 0x1fff));
    } else {
        IrTemp off = ir_binop(ir, IR_AND, IR_I32, pool[rnd() % *n],
                              ir_movi(ir, IR_I32, 0x1ff8 | (rnd() & 7)));
        addr = ir_binop(ir, IR_ADD, IR_I64, off, ir_movi(ir, IR_I64, RANDOM_MEM));
    }
    unsigned size = 1u << (rnd() % 4);
    IrType t = rnd() & 1 ? IR_I64 : IR_I32;
    if (rnd() & 1)
        ir_qst(ir, addr, pool[rnd() % *n], size, TLB_SUPERVISOR);
    else
        pool[(*n)++] = ir_qld(ir, t, addr, size, TLB_SUPERVISOR);
}

static void random_block(IrBlock *ir, unsigned ops)
{
    static IrTemp pool[IR_MAX_TEMPS];
    unsigned n = 0;
    ir_reset(ir);
    for (int i = 0; i < 16; i++)
        pool[n++] = ir_ld(ir, rnd() & 1 ? IR_I64 : IR_I32, REG(i), 1u << (rnd() % 4));
    for (unsigned i = 0; i < ops; i++) {
        unsigned kind = (unsigned)(rnd() % 10);
        if (kind == 0) {
            /* A forward branch over code that redefines temps and stores. */
            uint32_t l = ir_label(ir);
            ir_brcond(ir, rnd() & 1 ? IR_I64 : IR_I32, (IrCond)(rnd() % IR_COND_COUNT),
                      pool[rnd() % n], pool[rnd() % n], l);
            unsigned k = 1 + (unsigned)(rnd() % 4);
            for (unsigned j = 0; j < k; j++) {
                if (rnd() & 1)
                    random_op(ir, pool, &n, true);
                else
                    ir_st(ir, REG(rnd() % 16), 1u << (rnd() % 4), pool[rnd() % n]);
            }
            ir_set_label(ir, l);
        } else if (kind == 1) {
            ir_st(ir, REG(rnd() % 16), 1u << (rnd() % 4), pool[rnd() % n]);
        } else if (kind == 2) {
            random_access(ir, pool, &n);
        } else {
            random_op(ir, pool, &n, false);
        }
    }
    /* Every temp ends in `recorded`, which keeps them all live to here. */
    for (unsigned i = 0; i < n; i++)
        ir_call(ir, (const void *)record, ir_movi(ir, IR_I64, pool[i]), pool[i], IR_NO_TEMP);
    ir_exit(ir, CPU_EXIT);
}

Test(jit_x86_64, random_blocks_match_the_ir_interpreter)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    static uint64_t want_rec[IR_MAX_TEMPS];
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 400; iter++) {
        random_block(ir, 20 + (unsigned)(rnd() % 120));
        uint64_t init[16], want_regs[16];
        for (int i = 0; i < 16; i++)
            init[i] = rnd_value();

        uint8_t init_mem[8192 + 8], want_mem[8192 + 8];
        for (unsigned i = 0; i < sizeof(init_mem); i++)
            init_mem[i] = (uint8_t)rnd();

        JitBlock ref = { .insns = 1 };
        cr_assert(jit_backend_irinterp.emit(jit->cache, ir, &ref));
        memcpy(cpu->s.regs, init, sizeof(init));
        memcpy(ram + RANDOM_MEM, init_mem, sizeof(init_mem));
        tlb_flush_all(&cpu->tlb);
        memset(recorded, 0, sizeof(recorded));
        cr_assert_eq(jit_backend_irinterp.enter(cpu, &ref), CPU_EXIT);
        memcpy(want_regs, cpu->s.regs, sizeof(want_regs));
        memcpy(want_rec, recorded, sizeof(recorded));
        memcpy(want_mem, ram + RANDOM_MEM, sizeof(want_mem));
        jit_backend_irinterp.release(&ref);

        JitBlock jb;
        translate(ir, &jb, 1);
        memcpy(cpu->s.regs, init, sizeof(init));
        memcpy(ram + RANDOM_MEM, init_mem, sizeof(init_mem));
        tlb_flush_all(&cpu->tlb);
        memset(recorded, 0, sizeof(recorded));
        cr_assert_eq(be->enter(cpu, &jb), CPU_EXIT);
        for (int i = 0; i < 16; i++)
            cr_assert_eq(cpu->s.regs[i], want_regs[i], "iteration %d: reg %d", iter, i);
        cr_assert_arr_eq(ram + RANDOM_MEM, want_mem, sizeof(want_mem), "iteration %d", iter);
        for (uint32_t i = 0; i < ir->temps; i++)
            if (want_rec[i] != recorded[i]) {
                ir_dump(ir);
                cr_assert_fail("iteration %d: temp %u is %#llx, want %#llx", iter, i,
                               (unsigned long long)recorded[i],
                               (unsigned long long)want_rec[i]);
            }
    }
    ir_free(ir);
    free(ir);
}


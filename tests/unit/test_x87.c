/* Unit tests for the x87 (cpu/fpu/): what the host differential harness
 * (tests/diff/x87) cannot reach from user mode.
 *
 *  - CR0.EM/TS/MP and #NM (SDM Vol. 3 2.5, Vol. 2 WAIT/FWAIT), the
 *    pending-exception check with #MF (CR0.NE = 1) or FERR# (CR0.NE = 0)
 *    (Vol. 1 8.7, Vol. 3 6.15);
 *  - the real-mode environment layout (Vol. 1 Figure 8-10), FXSAVE's
 *    alignment #GP, the RESET and FNINIT states (Vol. 3 Table 9-1);
 *  - a few exactly known results of the softfloat (precision control,
 *    square root, constants under RC), written out as numbers.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/fpu/float80.h"
#include "cpu/fpu/x87.h"

#include "tests/unit/fp_box.h"

Test(x87, reset_and_fninit_state)
{
    Box *b = box_new();
    X87State *f = &b->cpu.s.fpu;
    cr_expect_eq(f->fcw, 0x0040);
    cr_expect_eq(f->tags, 0xff);
    cr_expect_eq(x87_full_tags(f), 0x5555);
    cr_expect_eq(STEP(b, 0xdb, 0xe3), -1);              /* FNINIT */
    cr_expect_eq(f->fcw, 0x037f);
    cr_expect_eq(f->fsw, 0);
    cr_expect_eq(x87_full_tags(f), 0xffff);
    box_free(b);
}

Test(x87, em_and_ts_raise_nm)
{
    Box *b = box_new();
    b->cpu.s.cr0 |= CR0_EM;
    cr_expect_eq(STEP(b, 0xd9, 0xe8), EXC_NM);          /* FLD1 */
    cr_expect_eq(b->cpu.s.rip, CODE, "a fault leaves RIP on the instruction");
    cr_expect_eq(STEP(b, 0x9b), -1, "WAIT ignores EM");
    b->cpu.s.cr0 = (b->cpu.s.cr0 & ~(uint64_t)CR0_EM) | CR0_TS;
    cr_expect_eq(STEP(b, 0xdb, 0xe3), EXC_NM, "FNINIT too");
    cr_expect_eq(STEP(b, 0x9b), -1, "WAIT with TS but not MP");
    b->cpu.s.cr0 |= CR0_MP;
    cr_expect_eq(STEP(b, 0x9b), EXC_NM, "WAIT with MP and TS");
    box_free(b);
}

/* FNINIT; FLDCW [0x2000] (ZE unmasked); FLDZ; FLD1; FDIV ST0, ST1. */
static void divide_by_zero(Box *b)
{
    b->ram[0x2000] = 0x7b;   /* 037Bh: ZE unmasked */
    b->ram[0x2001] = 0x03;
    cr_assert_eq(STEP(b, 0xdb, 0xe3), -1);
    cr_assert_eq(STEP(b, 0xd9, 0x2e, 0x00, 0x20), -1);
    cr_assert_eq(STEP(b, 0xd9, 0xee), -1);
    cr_assert_eq(STEP(b, 0xd9, 0xe8), -1);
    cr_assert_eq(STEP(b, 0xd8, 0xf1), -1, "the faulting instruction completes");
}

Test(x87, pending_exception_raises_mf_with_ne)
{
    Box *b = box_new();
    b->cpu.s.cr0 |= CR0_NE;
    divide_by_zero(b);
    X87State *f = &b->cpu.s.fpu;
    cr_expect(f->fsw & FP_ZE);
    cr_expect(f->fsw & FSW_ES);
    cr_expect(f->fsw & FSW_B);
    cr_expect_eq(x87_get(f, 0).sig, F80_J_BIT, "unmasked #Z leaves ST(0)");
    uint64_t rip = b->cpu.s.rip;
    cr_expect_eq(STEP(b, 0x9b), EXC_MF, "the next WAIT reports it");
    cr_expect_eq(b->cpu.s.rip, rip);
    cr_expect_eq(STEP(b, 0xd9, 0xe8), EXC_MF, "and so does any waiting x87 insn");
    cr_expect_eq(STEP(b, 0xdd, 0x3e, 0x10, 0x20), -1, "FNSTSW does not wait");
    cr_expect_eq(b->ram[0x2010], (uint8_t)f->fsw);
    cr_expect_eq(STEP(b, 0xdb, 0xe2), -1);              /* FNCLEX */
    cr_expect_eq(f->fsw & (FSW_ES | FSW_B | FP_ALL), 0);
    cr_expect_eq(STEP(b, 0x9b), -1);
    cr_expect_eq(b->ferr_calls, 0, "FERR# is not used with CR0.NE = 1");
    box_free(b);
}

Test(x87, pending_exception_asserts_ferr_without_ne)
{
    Box *b = box_new();
    divide_by_zero(b);
    cr_expect_eq(b->ferr_calls, 1);
    cr_expect_eq(b->ferr_level, 1, "FERR# is asserted as the exception occurs");
    cr_expect_eq(STEP(b, 0x9b), -1, "no #MF: the board raises IRQ13");
    cr_expect_eq(STEP(b, 0xdb, 0xe2), -1);              /* FNCLEX */
    cr_expect_eq(b->ferr_calls, 2);
    cr_expect_eq(b->ferr_level, 0, "and deasserted when it is cleared");
    box_free(b);
}

Test(x87, real_mode_environment_layout)
{
    Box *b = box_new();
    cpu_load_seg_real(&b->cpu, SEG_CS, 0x0100);         /* CS base 0x1000 */
    b->cpu.s.rip = 0x0000;
    cr_assert_eq(STEP(b, 0xdb, 0xe3), -1);              /* FNINIT at 0100:0000 */
    cr_assert_eq(STEP(b, 0xd9, 0xe8), -1);              /* FLD1 at 0100:0002 */
    /* 66 FNSTENV [0x3000]: the 28-byte real-mode layout. */
    cr_assert_eq(STEP(b, 0x66, 0xd9, 0x36, 0x00, 0x30), -1);
    const uint8_t *e = b->ram + 0x3000;
    uint32_t w[7];
    for (int i = 0; i < 7; i++)
        memcpy(&w[i], e + 4 * i, 4);
    cr_expect_eq(w[0] & 0xffff, 0x037f);
    cr_expect_eq(w[2] & 0xffff, 0x3fff, "ST(0) valid, the rest empty");
    cr_expect_eq(w[3] & 0xffff, 0x1002, "FIP[15:0] of linear 0x1002");
    cr_expect_eq(w[4] & 0x7ff, 0x1e8, "FOP of D9 E8");
    cr_expect_eq(w[4] >> 12, 0, "FIP[31:16]");
    cr_expect_eq(b->cpu.s.fpu.fcw & 0x3f, 0x3f, "FNSTENV masks everything");
    box_free(b);
}

Test(x87, fxsave_needs_16_byte_alignment)
{
    Box *b = box_new();
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0x06, 0x08, 0x30), EXC_GP);  /* [0x3008] */
    b->cpu.s.rip = CODE;
    cr_expect_eq(STEP(b, 0x0f, 0xae, 0x06, 0x00, 0x30), -1);      /* [0x3000] */
    uint16_t fcw;
    memcpy(&fcw, b->ram + 0x3000, 2);
    cr_expect_eq(fcw, 0x0040);
    box_free(b);
}

Test(x87, fsave_frstor_round_trip)
{
    Box *b = box_new();
    cr_assert_eq(STEP(b, 0xdb, 0xe3), -1);
    cr_assert_eq(STEP(b, 0xd9, 0xeb), -1);              /* FLDPI */
    cr_assert_eq(STEP(b, 0xd9, 0xed), -1);              /* FLDLN2 */
    X87State before = b->cpu.s.fpu;
    cr_assert_eq(STEP(b, 0xdd, 0x36, 0x00, 0x40), -1);  /* FNSAVE [0x4000] */
    cr_expect_eq(b->cpu.s.fpu.tags, 0, "FNSAVE reinitialises");
    cr_assert_eq(STEP(b, 0xdd, 0x26, 0x00, 0x40), -1);  /* FRSTOR [0x4000] */
    X87State *f = &b->cpu.s.fpu;
    cr_expect_eq(f->fsw, before.fsw);
    cr_expect_eq(f->tags, before.tags);
    cr_expect_eq(x87_get(f, 0).sig, x87_get(&before, 0).sig);
    cr_expect_eq(x87_get(f, 1).se, x87_get(&before, 1).se);
    box_free(b);
}

/* ---- the softfloat ------------------------------------------------------- */

Test(float80, precision_control_rounds_the_significand)
{
    Float80 one = f80_one, three = f80_from_int(3);
    static const struct { unsigned prec; uint64_t sig; } cases[] = {
        { 24, 0xaaaaab0000000000ull },
        { 53, 0xaaaaaaaaaaaaa800ull },
        { 64, 0xaaaaaaaaaaaaaaabull },
    };
    for (size_t i = 0; i < 3; i++) {
        FpStatus st = fp_status(FP_RC_NEAREST, cases[i].prec, FP_ALL);
        Float80 q = f80_div(&st, one, three);
        cr_expect_eq(q.se, 0x3ffd);
        cr_expect_eq(q.sig, cases[i].sig, "1/3 at %u bits", cases[i].prec);
        cr_expect_eq(st.flags, FP_PE);
    }
}

Test(float80, square_root_of_two)
{
    FpStatus st = fp_status(FP_RC_NEAREST, 64, FP_ALL);
    Float80 r = f80_sqrt(&st, f80_from_int(2));
    cr_expect_eq(r.se, 0x3fff);
    cr_expect_eq(r.sig, 0xb504f333f9de6484ull);
    cr_expect_eq(st.c1, 0, "rounded down");
    st = fp_status(FP_RC_UP, 64, FP_ALL);
    r = f80_sqrt(&st, f80_from_int(2));
    cr_expect_eq(r.sig, 0xb504f333f9de6485ull);
    cr_expect_eq(st.c1, 1);
}

Test(float80, masked_underflow_needs_inexact)
{
    /* The smallest normal halved is an exact denormal: no #U when masked. */
    FpStatus st = fp_status(FP_RC_NEAREST, 64, FP_ALL);
    Float80 tiny = f80_make(false, 1, F80_J_BIT);
    Float80 half = f80_make(false, F80_BIAS - 1, F80_J_BIT);
    Float80 r = f80_mul(&st, tiny, half);
    cr_expect_eq(r.se, 0);
    cr_expect_eq(r.sig, 1ull << 62);
    cr_expect_eq(st.flags, 0);
    /* Unmasked, #U is reported and the exponent biased by 24576. */
    st = fp_status(FP_RC_NEAREST, 64, FP_ALL & ~FP_UE);
    r = f80_mul(&st, tiny, half);
    cr_expect_eq(st.flags, FP_UE);
    cr_expect_eq(r.se, 24576);
    cr_expect_eq(r.sig, F80_J_BIT);
}

Test(float80, integer_and_bcd_conversions)
{
    FpStatus st = fp_status(FP_RC_NEAREST, 64, FP_ALL);
    Float80 v = f80_from_int(-123456789);
    cr_expect_eq(f80_to_int(&st, v, 32, false), -123456789);
    cr_expect_eq(f80_to_int(&st, f80_from_int(40000), 16, false), INT16_MIN);
    cr_expect_eq(st.flags, FP_IE, "out of range: the integer indefinite");
    uint8_t bcd[10];
    st.flags = 0;
    f80_to_bcd(&st, v, bcd);
    static const uint8_t want[10] = { 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0x80 };
    cr_expect_arr_eq(bcd, want, 10);
    Float80 back = f80_from_bcd(bcd);
    cr_expect_eq(back.se, v.se);
    cr_expect_eq(back.sig, v.sig);
}

/* Unit tests for MMX and the SSE integer instructions (cpu/sse/): what the
 * host differential harness (tests/diff/simd_int) cannot reach from user
 * mode, and a few exactly known results.
 *
 *  - CR0.EM/TS and CR4.OSFXSR: #UD and #NM for MMX and SSE forms (SDM
 *    Vol. 3 Table 12-1 and 13.1-13.2); a pending x87 exception gives #MF
 *    to MMX instructions only (CR0.NE = 1), or FERR# (CR0.NE = 0);
 *  - the aliasing of MM0-7 onto the x87 registers, TOP and tags
 *    (Vol. 1 9.5-9.6, Vol. 3 Table 12-2);
 *  - the CPUID gates of the decoder (MMX, SSSE3, SSE4.2);
 *  - CRC-32C's check value, a PCMPISTRI substring search, alignment #GP
 *    and MASKMOVQ in 16-bit code (where the harness does not run).
 * Code runs in real mode at 0:1000; data at 0:2000.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/fpu/x87.h"

#include "tests/unit/fp_box.h"

/* A box with MMX and SSE through SSE4.2 enabled. */
static Box *simd_box(void)
{
    Box *b = box_new();
    b->cpu.features.leaf1_edx |= CPUID1_EDX_MMX | CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
    b->cpu.features.leaf1_ecx |= CPUID1_ECX_SSSE3 | CPUID1_ECX_SSE41 | CPUID1_ECX_SSE42;
    b->cpu.s.cr0 |= CR0_NE | CR0_MP;
    b->cpu.s.cr4 |= CR4_OSFXSR;
    b->rewind = true;
    return b;
}

/* PADDB mm0, mm1 / PADDB xmm0, xmm1 */
#define PADDB_MM 0x0f, 0xfc, 0xc1
#define PADDB_XMM 0x66, 0x0f, 0xfc, 0xc1

Test(simd_int, em_ts_osfxsr)
{
    Box *b = simd_box();
    b->cpu.s.cr0 |= CR0_EM;
    cr_expect_eq(STEP(b, PADDB_MM), EXC_UD, "MMX with EM: #UD, not #NM as x87");
    cr_expect_eq(STEP(b, PADDB_XMM), EXC_UD);
    cr_expect_eq(b->cpu.s.rip, CODE, "a fault leaves IP on the instruction");
    b->cpu.s.cr0 = (b->cpu.s.cr0 & ~(uint64_t)CR0_EM) | CR0_TS;
    cr_expect_eq(STEP(b, PADDB_MM), EXC_NM);
    cr_expect_eq(STEP(b, PADDB_XMM), EXC_NM);
    cr_expect_eq(STEP(b, 0x0f, 0x77), EXC_NM, "EMMS");
    b->cpu.s.cr0 &= ~(uint64_t)CR0_TS;
    b->cpu.s.cr4 &= ~(uint64_t)CR4_OSFXSR;
    cr_expect_eq(STEP(b, PADDB_MM), -1, "MMX does not need OSFXSR");
    cr_expect_eq(STEP(b, PADDB_XMM), EXC_UD, "SSE needs OSFXSR");
    cr_expect_eq(STEP(b, 0x0f, 0x70, 0xc1, 0x1b), -1, "PSHUFW mm is MMX");
    cr_expect_eq(STEP(b, 0xf2, 0x0f, 0x38, 0xf0, 0xc1), -1,
                 "CRC32 is an integer instruction");
    box_free(b);
}

static void pend_x87_exception(Box *b)
{
    b->cpu.s.fpu.fcw = 0x037e;                   /* IM clear */
    b->cpu.s.fpu.fsw = FSW_B | FSW_ES | 0x0001;  /* IE pending */
}

Test(simd_int, pending_x87_exception)
{
    Box *b = simd_box();
    pend_x87_exception(b);
    cr_expect_eq(STEP(b, PADDB_MM), EXC_MF);
    cr_expect_eq(STEP(b, 0x0f, 0x77), EXC_MF, "EMMS");
    cr_expect_eq(STEP(b, 0xf3, 0x0f, 0xd6, 0xc1), EXC_MF, "MOVQ2DQ touches MMX");
    cr_expect_eq(STEP(b, PADDB_XMM), -1, "SSE ignores x87 exceptions");
    b->cpu.s.cr0 &= ~(uint64_t)CR0_NE;
    cr_expect_eq(STEP(b, PADDB_MM), -1, "CR0.NE = 0: no #MF ...");
    cr_expect_eq(b->ferr_level, 1, "... but FERR#");
    box_free(b);
}

Test(simd_int, aliasing_top_and_tags)
{
    Box *b = simd_box();
    X87State *f = &b->cpu.s.fpu;
    x87_set_top(f, 5);
    f->tags = 0x21;
    f->r[1].se = 0x4000;
    f->r[2].se = 0x1234;
    f->r[2].sig = 0x8877665544332211ull;
    uint64_t v = 0x0123456789abcdefull;
    memcpy(b->ram + DATA, &v, 8);
    cr_expect_eq(STEP(b, 0x0f, 0x6f, 0x0e, 0x00, 0x20), -1);   /* MOVQ mm1, [2000] */
    cr_expect_eq(f->r[1].sig, v, "MM1 is R1's significand, whatever TOP");
    cr_expect_eq(f->r[1].se, 0xffff, "an MMX write sets sign and exponent");
    cr_expect_eq(x87_top(f), 0);
    cr_expect_eq(f->tags, 0xff);
    cr_expect_eq(STEP(b, 0x0f, 0x77), -1);                      /* EMMS */
    cr_expect_eq(f->tags, 0);
    cr_expect_eq(STEP(b, 0x0f, 0x7e, 0xd0), -1);                /* MOVD eax, mm2 */
    cr_expect_eq(b->cpu.s.regs[R_AX], 0x44332211u);
    cr_expect_eq(f->r[2].se, 0x1234, "a read leaves the exponent");
    cr_expect_eq(f->tags, 0xff, "but makes the transition");
    f->fsw = 0x3800;
    cr_expect_eq(STEP(b, 0x0f, 0x7f, 0x16, 0x00, 0x20), -1);    /* MOVQ [2000], mm2 */
    cr_expect_eq(x87_top(f), 0, "stores too");
    cr_expect_eq(memcmp(b->ram + DATA, &f->r[2].sig, 8), 0);
    box_free(b);
}

Test(simd_int, cpuid_gates)
{
    Box *b = simd_box();
    b->cpu.features.leaf1_ecx &= ~CPUID1_ECX_SSSE3;
    block_cache_flush(b->cpu.blocks);
    cr_expect_eq(STEP(b, 0x0f, 0x38, 0x00, 0xc1), EXC_UD, "PSHUFB without SSSE3");
    b->cpu.features.leaf1_ecx &= ~CPUID1_ECX_SSE42;
    block_cache_flush(b->cpu.blocks);
    cr_expect_eq(STEP(b, 0xf2, 0x0f, 0x38, 0xf1, 0xc1), EXC_UD, "CRC32 without SSE4.2");
    b->cpu.features.leaf1_edx &= ~CPUID1_EDX_MMX;
    block_cache_flush(b->cpu.blocks);
    cr_expect_eq(STEP(b, PADDB_MM), EXC_UD, "PADDB mm without MMX");
    CpuFeatures def;
    cpu_default_features(&def);
    cr_expect(def.leaf1_edx & CPUID1_EDX_MMX);
    cr_expect(def.leaf1_ecx & CPUID1_ECX_SSSE3);
    cr_expect(def.leaf1_ecx & CPUID1_ECX_SSE42);
    box_free(b);
}

Test(simd_int, crc32c_check_value)
{
    Box *b = simd_box();
    memcpy(b->ram + DATA, "123456789", 9);
    b->cpu.s.regs[R_CX] = 0xffffffffu;
    for (int i = 0; i < 9; i++)   /* CRC32 ecx, byte [2000 + i] */
        cr_assert_eq(STEP(b, 0xf2, 0x0f, 0x38, 0xf0, 0x0e, (uint8_t)i, 0x20), -1);
    cr_expect_eq(~(uint32_t)b->cpu.s.regs[R_CX], 0xe3069283u,
                 "the CRC-32C check value of \"123456789\"");
    /* In 16-bit code F1 without 66h is CRC32 r32, r/m16: the same as the
     * two bytes one at a time. */
    b->cpu.s.regs[R_CX] = 0x12345678u;
    b->cpu.s.regs[R_DX] = 0x12345678u;
    b->cpu.s.regs[R_AX] = 0xfffff00du;
    cr_expect_eq(STEP(b, 0xf2, 0x0f, 0x38, 0xf1, 0xc8), -1);    /* crc32 ecx, ax */
    cr_expect_eq(STEP(b, 0xf2, 0x0f, 0x38, 0xf0, 0xd0), -1);    /* crc32 edx, al */
    cr_expect_eq(STEP(b, 0xf2, 0x0f, 0x38, 0xf0, 0xd4), -1);    /* crc32 edx, ah */
    cr_expect_eq(b->cpu.s.regs[R_CX], b->cpu.s.regs[R_DX]);
    box_free(b);
}

Test(simd_int, pcmpistri_substring)
{
    Box *b = simd_box();
    XmmReg *x = b->cpu.s.sse.xmm;
    memset(x, 0, 2 * sizeof(XmmReg));
    memcpy(&x[0], "lo", 2);
    memcpy(&x[1], "hello world", 11);
    /* PCMPISTRI xmm0, xmm1, 0x0c: unsigned bytes, equal ordered. */
    cr_expect_eq(STEP(b, 0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x0c), -1);
    cr_expect_eq(b->cpu.s.regs[R_CX], 3, "\"lo\" starts at 3");
    uint64_t fl = cpu_get_eflags(&b->cpu);
    cr_expect(fl & F_CF, "a match");
    cr_expect(fl & F_ZF, "xmm1 ends inside the register");
    cr_expect(fl & F_SF, "xmm0 too");
    cr_expect(!(fl & F_OF), "no match at 0");
    box_free(b);
}

Test(simd_int, alignment)
{
    Box *b = simd_box();
    cr_expect_eq(STEP(b, 0x66, 0x0f, 0x6f, 0x06, 0x01, 0x20), EXC_GP, "MOVDQA unaligned");
    cr_expect_eq(b->cpu.s.exception.error_code, 0);
    cr_expect_eq(STEP(b, 0x66, 0x0f, 0xfc, 0x06, 0x01, 0x20), EXC_GP, "PADDB xmm, m128");
    cr_expect_eq(STEP(b, 0xf3, 0x0f, 0x6f, 0x06, 0x01, 0x20), -1, "MOVDQU");
    cr_expect_eq(STEP(b, 0x0f, 0xfc, 0x06, 0x01, 0x20), -1, "MMX: no alignment");
    cr_expect_eq(STEP(b, 0x66, 0x0f, 0x3a, 0x63, 0x06, 0x01, 0x20, 0), -1,
                 "PCMPISTRI takes m128 unaligned");
    box_free(b);
}

Test(simd_int, maskmovq_16bit)
{
    Box *b = simd_box();
    b->cpu.s.fpu.r[0].sig = 0x8877665544332211ull;        /* data */
    b->cpu.s.fpu.r[1].sig = 0x80000000ff00807full;        /* mask: bytes 1, 3, 7 */
    b->cpu.s.regs[R_DI] = 0x10000 + DATA;                 /* DI wraps to 2000 */
    memset(b->ram + DATA, 0xee, 8);
    cr_expect_eq(STEP(b, 0x0f, 0xf7, 0xc1), -1);          /* MASKMOVQ mm0, mm1 */
    static const uint8_t want[8] = { 0xee, 0x22, 0xee, 0x44, 0xee, 0xee, 0xee, 0x88 };
    cr_expect_eq(memcmp(b->ram + DATA, want, 8), 0);
    box_free(b);
}

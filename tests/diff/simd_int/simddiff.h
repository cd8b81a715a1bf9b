/* The MMX / SSE integer differential harness: Vireo against the host CPU
 * and Unicorn.
 *
 * Each test is one instruction from the "MMX and SSE integer" rows of
 * cpu/opcodes.def, run on the same state on every side.  All sides use
 * the same addresses: a 16 KiB region at SIMD_BASE holds the code page,
 * the context (FXSAVE images, GPRs, flags), the data page the memory
 * operands point into (RIP-relative, so every GPR can hold a random value)
 * and a stack page.  The host runs a stub around the instruction that
 * FXRSTORs the input image, loads RFLAGS and the GPRs, runs it, and stores
 * everything back; Vireo and Unicorn are given the same input state
 * directly, run the one instruction and write the same output layout
 * (main.c, with tests/diff/hostlib).  See docs/difftest.md, "The MMX and
 * SSE integer harness".
 */
#ifndef VIREO_TESTS_DIFF_SIMD_INT_SIMDDIFF_H
#define VIREO_TESTS_DIFF_SIMD_INT_SIMDDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/diff/hostlib/hostlib.h"

#define SIMD_BASE 0x50000000ull
#define SIMD_SIZE 0x4000u

/* Offsets from SIMD_BASE. */
enum {
    OFF_CODE = 0x0000,
    OFF_CTX = 0x1000,
    OFF_DATA = 0x2000,
    OFF_STACK = 0x3000,
    STACK_TOP = 0x3800,       /* RSP while the instruction runs */
    INSN_OFF = 0x100,         /* where the instruction sits in the code page */
};

/* The context page, offsets from OFF_CTX. */
enum {
    CTX_FX_IN = 0x000,        /* FXSAVE image before the instruction */
    CTX_FX_OUT = 0x200,       /* and after */
    CTX_GPR_IN = 0x400,       /* RAX..R15 (RSP ignored: STACK_TOP) */
    CTX_GPR_OUT = 0x480,
    CTX_FLAGS_IN = 0x500,
    CTX_FLAGS_OUT = 0x508,
    CTX_HOST_RSP = 0x510,     /* the host stub's own stack pointer */
    CTX_HOST_FX = 0x600,      /* the host's own FPU/SSE state */
};

/* One generated instruction. */
typedef struct SimdInsn {
    uint8_t bytes[16];
    uint8_t len;
    uint16_t id;              /* Vireo's InsnId */
    uint16_t tmpl;            /* index of its template */
    bool mem;                 /* has a memory operand */
    uint16_t mem_off;         /* its offset in the data page */
} SimdInsn;

/* ---- gen.c ---- */
unsigned gen_init(void);
const char *gen_template_name(unsigned t, char *buf, size_t len);
/* A random instruction at SIMD_BASE + INSN_OFF, and a region image (the
 * whole SIMD_SIZE bytes: context and data) fit for it. */
void gen_insn(Rng *r, SimdInsn *out);
void gen_state(Rng *r, const SimdInsn *insn, uint8_t *region);
/* The host stub around `insn`, to be placed at OFF_CODE; the instruction
 * lands at INSN_OFF. */
size_t gen_stub(const SimdInsn *insn, uint8_t *code);

/* ---- compare.c ---- */
void compare_init(void);
int simd_compare(const HlCase *c);
uint64_t simd_digest(uint64_t h, const uint8_t *v, int vvec);
void simd_report(const SimdInsn *insn, const HlCase *c);

/* ---- unicorn.c: Unicorn's known deviations ---- */
extern const HlUcRule simd_uc_rules[];
/* The instruction of the current test (main.c). */
extern SimdInsn simd_cur;

#endif

/* The SSE floating-point differential harness: Vireo against the host CPU
 * and Unicorn.
 *
 * Each test is one instruction from the "SSE floating point" rows of
 * cpu/opcodes.def (and LDDQU) on random and special operands under a random
 * MXCSR.  The host runs a stub that loads XMM0-15, MM0-7, eight GPRs, MXCSR
 * and RFLAGS from a context block, runs the instruction (memory operand at
 * [rbx + CTX_MEM + off]) and stores them back; at a fault (#XM, #GP, #UD)
 * the registers are taken from the state the kernel saved.  Vireo and
 * Unicorn are given the same state directly, run the one instruction in
 * 64-bit mode, and write the same context layout (tests/diff/hostlib runs
 * the sides).  See
 * docs/difftest.md, "The SSE floating-point harness".
 */
#ifndef VIREO_TESTS_DIFF_SSE_SSEDIFF_H
#define VIREO_TESTS_DIFF_SSE_SSEDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/diff/hostlib/hostlib.h"

/* The context block, the same layout on both sides (RBX points at it). */
enum {
    CTX_XMM_IN = 0x000,       /* XMM0-15, 16 bytes each */
    CTX_XMM_OUT = 0x100,
    CTX_MM_IN = 0x200,        /* MM0-7 */
    CTX_MM_OUT = 0x240,
    CTX_GPR_IN = 0x280,       /* the GPRs of gpr_numbers[], 8 bytes each */
    CTX_GPR_OUT = 0x2c0,
    CTX_MXCSR_IN = 0x300,
    CTX_MXCSR_OUT = 0x304,
    CTX_HOST_MXCSR = 0x308,   /* the host's own MXCSR, kept by the stub */
    CTX_FLAGS_IN = 0x310,
    CTX_FLAGS_OUT = 0x318,
    CTX_MEM = 0x400,          /* the memory operand area */
    CTX_MEM_SIZE = 0x100,
    CTX_SIZE = 0x1000,
};

#define NGPR 8
/* RAX, RCX, RDX, RSI, R8-R11: caller-saved, and not RBX (the context
 * pointer) or RSP. */
extern const uint8_t gpr_numbers[NGPR];

/* One generated instruction. */
typedef struct SseInsn {
    uint8_t bytes[16];
    uint8_t len;
    uint16_t id;              /* Vireo's InsnId */
    uint16_t tmpl;            /* index of its template */
    bool mem;                 /* has a memory operand */
    uint8_t mem_off;          /* its offset in the memory area */
    uint8_t reg, rm;          /* operand register numbers (XMM/MMX/GPR) */
    uint8_t imm;
} SseInsn;

/* ---- gen.c --------------------------------------------------------------- */
unsigned gen_init(void);
const char *gen_template_name(unsigned t, char *buf, size_t len);
/* Lanes of the destination compared with a tolerance (RCP*, RSQRT*): 0
 * none, 1 all four, 2 the low one. */
unsigned gen_template_approx(unsigned t);
void gen_insn(Rng *r, SseInsn *out);
void gen_context(Rng *r, const SseInsn *insn, uint8_t *ctx);
/* The host stub around the instruction; *insn_off is where it starts. */
size_t gen_stub(const SseInsn *insn, uint8_t *code, size_t *insn_off);

/* ---- compare.c ----------------------------------------------------------- */
bool sse_same(const SseInsn *insn, const HlCase *c);
uint64_t sse_digest(uint64_t h, const uint8_t *v, int vvec);
void sse_report(const SseInsn *insn, const HlCase *c);

/* ---- unicorn.c: Unicorn's known deviations -------------------------------- */
extern const HlUcRule sse_uc_rules[];
/* The instruction of the current test (main.c). */
extern SseInsn sse_cur;

#endif

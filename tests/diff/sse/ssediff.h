/* The SSE floating-point differential harness: Vireo against the host CPU.
 *
 * Each test is one instruction from the "SSE floating point" rows of
 * cpu/opcodes.def (and LDDQU) on random and special operands under a random
 * MXCSR.  The host runs a stub that loads XMM0-15, MM0-7, eight GPRs,
 * MXCSR and RFLAGS from a context block, runs the instruction (memory
 * operand at [rbx + CTX_MEM + off]) and stores them back; a fault (#XM,
 * #GP, #UD) arrives as a signal whose handler records the state the
 * kernel saved and jumps out.  Vireo is given the same state directly in
 * its CpuState, runs the one instruction with cpu_exec in 64-bit mode, and
 * writes the same context layout.  See docs/difftest.md, "The SSE
 * floating-point harness".
 */
#ifndef VIREO_TESTS_DIFF_SSE_SSEDIFF_H
#define VIREO_TESTS_DIFF_SSE_SSEDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* The fault the instruction raised: -1 none, else the vector. */
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

typedef struct Rng {
    uint64_t s;
} Rng;

uint64_t rng_next(Rng *r);
static inline unsigned rng_below(Rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* ---- gen.c --------------------------------------------------------------- */
unsigned gen_init(void);
unsigned gen_template_count(void);
const char *gen_template_name(unsigned t, char *buf, size_t len);
/* Lanes of the destination compared with a tolerance (RCP*, RSQRT*): 0
 * none, 1 all four, 2 the low one. */
unsigned gen_template_approx(unsigned t);
void gen_insn(Rng *r, SseInsn *out);
void gen_context(Rng *r, const SseInsn *insn, uint8_t *ctx);
/* The host stub around the instruction; *insn_off is where it starts. */
size_t gen_stub(const SseInsn *insn, uint8_t *code, size_t *insn_off);

/* ---- host.c -------------------------------------------------------------- */
bool host_available(void);
int host_init(void);
/* Run the stub on ctx (in place); returns the vector of a fault, or -1. */
int host_run(const uint8_t *code, size_t len, size_t insn_off, uint8_t *ctx);

/* ---- vireo.c ------------------------------------------------------------- */
int vireo_init(void);
/* Run the instruction on ctx (in place); returns the vector, or -1. */
int vireo_run(const SseInsn *insn, uint8_t *ctx);

static inline uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif

/* The MMX / SSE integer differential harness: Vireo against the host CPU.
 *
 * Each test is one instruction from the "MMX and SSE integer" rows of
 * cpu/opcodes.def, run on the same state on both sides.  Both sides use
 * the same addresses: a 16 KiB region at SIMD_BASE holds the code page,
 * the context (FXSAVE images, GPRs, flags), the data page the memory
 * operands point into (RIP-relative, so every GPR can hold a random value)
 * and a stack page.  The host runs a stub around the instruction that
 * FXRSTORs the input image, loads RFLAGS and the GPRs, runs it, and stores
 * everything back (host.c); Vireo copies the same input into a CpuState,
 * runs the one instruction with cpu_exec and writes the same output
 * layout (vireo.c).  See docs/difftest.md, "The MMX and SSE integer
 * harness".
 */
#ifndef VIREO_TESTS_DIFF_SIMD_INT_SIMDDIFF_H
#define VIREO_TESTS_DIFF_SIMD_INT_SIMDDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

typedef struct Rng {
    uint64_t s;
} Rng;

uint64_t rng_next(Rng *r);
static inline unsigned rng_below(Rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

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

/* ---- host.c ---- */
bool host_available(void);
int host_init(void);
/* Run the stub on a copy of `region` (updated in place); returns the
 * exception vector the instruction raised, or -1. */
int host_run(const uint8_t *code, size_t len, uint8_t *region);

/* ---- vireo.c ---- */
int vireo_init(void);
int vireo_run(const SimdInsn *insn, uint8_t *region);

/* Little-endian field access. */
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

/* The x87 differential harness: Vireo's x87 against the host's.
 *
 * Each test runs one x87 instruction on the same state on both sides: a
 * small stub (the same machine code on both) loads the state with FXRSTOR,
 * sets RFLAGS and RAX, runs the instruction on a memory operand at
 * [rbx+0x400], and saves the state with FXSAVE, RFLAGS and RAX.  The host
 * runs the stub natively from an executable page (x86-64 only); Vireo runs
 * it with cpu_exec in 64-bit mode.  Instructions come in short chains, each
 * starting from the host's state after the previous one.
 *
 * See docs/difftest.md, "The x87 harness".
 */
#ifndef VIREO_TESTS_DIFF_X87_X87DIFF_H
#define VIREO_TESTS_DIFF_X87_X87DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The context block both sides share, at the same offsets. */
enum {
    CTX_IN = 0x000,       /* FXSAVE image loaded before the instruction */
    CTX_OUT = 0x200,      /* FXSAVE image saved after it */
    CTX_MEM = 0x400,      /* the instruction's memory operand */
    CTX_MEM_SIZE = 0x200,
    CTX_FLAGS_IN = 0x600, CTX_RAX_IN = 0x608,
    CTX_FLAGS_OUT = 0x610, CTX_RAX_OUT = 0x618,
    CTX_HOST_SAVE = 0x800,  /* the host's own FPU state, kept by the stub */
    CTX_SIZE = 0x1000,
};

/* One generated instruction. */
typedef struct X87Insn {
    uint8_t bytes[16];
    uint8_t len;
    uint16_t id;          /* Vireo's InsnId */
    uint16_t tmpl;        /* index of its template */
} X87Insn;

typedef struct Rng {
    uint64_t s;
} Rng;

uint64_t rng_next(Rng *r);
static inline unsigned rng_below(Rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* ---- gen.c ---- */
/* Build the instruction templates from Vireo's decoder; returns how many. */
unsigned gen_init(void);
const char *gen_template_name(unsigned t, char *buf, size_t len);
unsigned gen_template_count(void);
/* A random instruction, and a context (state, flags, RAX, memory operand)
 * fit for it. */
void gen_insn(Rng *r, X87Insn *out);
void gen_context(Rng *r, const X87Insn *insn, uint8_t *ctx);
/* The next link of a chain: the host's output state as the new input, with
 * pending unmasked exceptions cleared so the next instruction runs; a new
 * memory operand for `insn`. */
void gen_chain(Rng *r, const X87Insn *insn, uint8_t *ctx);

/* ---- stub code (gen.c) ---- */
/* The stub around `insn`: returns its length; *ret_off is the offset of
 * the final RET (where Vireo stops). */
size_t gen_stub(const X87Insn *insn, uint8_t *code, size_t *ret_off);

/* ---- host.c ---- */
bool host_available(void);
int host_init(void);
/* Run the stub on ctx (in place). */
void host_run(const uint8_t *code, size_t len, uint8_t *ctx);

/* ---- vireo.c ---- */
int vireo_init(void);
/* Run the stub on ctx (copied in and out); returns the exception vector
 * raised, or -1. */
int vireo_run(const uint8_t *code, size_t len, size_t ret_off, uint8_t *ctx);

/* ---- compare (main.c) ---- */
/* Byte masks: 1 = compared. */
void compare_masks(const X87Insn *insn, uint8_t *fx_mask, uint8_t *mem_mask);

#endif

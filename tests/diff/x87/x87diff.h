/* The x87 differential harness: Vireo's x87 against the host's and
 * Unicorn's.
 *
 * Each test runs one x87 instruction on the same state on every side: a
 * small stub (the same machine code on all three) loads the state with
 * FXRSTOR, sets RFLAGS and RAX, runs the instruction on a memory operand at
 * [rbx+0x400], and saves the state with FXSAVE, RFLAGS and RAX.  The host
 * runs the stub natively (x86-64 only); Vireo and Unicorn run it in 64-bit
 * mode at the same addresses (tests/diff/hostlib).  Instructions come in
 * short chains, each starting from Vireo's state after the previous one.
 *
 * See docs/difftest.md, "The x87 harness".
 */
#ifndef VIREO_TESTS_DIFF_X87_X87DIFF_H
#define VIREO_TESTS_DIFF_X87_X87DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/diff/hostlib/hostlib.h"

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

/* ---- gen.c ---- */
/* Build the instruction templates from Vireo's decoder; returns how many. */
unsigned gen_init(void);
const char *gen_template_name(unsigned t, char *buf, size_t len);
/* A random instruction, and a context (state, flags, RAX, memory operand)
 * fit for it. */
void gen_insn(Rng *r, X87Insn *out);
void gen_context(Rng *r, const X87Insn *insn, uint8_t *ctx);
/* The next link of a chain: the output state (Vireo's) as the new input, with
 * pending unmasked exceptions cleared so the next instruction runs; a new
 * memory operand for `insn`. */
void gen_chain(Rng *r, const X87Insn *insn, uint8_t *ctx);

/* ---- stub code (gen.c) ---- */
/* The stub around `insn`: returns its length; *insn_off is the offset of
 * the instruction, *ret_off that of the final RET (where the emulators
 * stop). */
size_t gen_stub(const X87Insn *insn, uint8_t *code, size_t *insn_off, size_t *ret_off);

/* ---- compare.c ---- */
/* Byte masks: 1 = compared. */
void compare_masks(const X87Insn *insn, uint8_t *fx_mask, uint8_t *mem_mask);
bool x87_transcendental(int id);
/* The names of the tolerated differences, and the comparison (Harness). */
extern const char *const x87_tolerances[];
int x87_compare(const X87Insn *insn, const HlCase *c);
uint64_t x87_digest(const X87Insn *insn, uint64_t h, const uint8_t *v, int vvec);
void x87_print_state(const char *what, const uint8_t *img);
void x87_report(const X87Insn *insn, const HlCase *c);

/* ---- unicorn.c: Unicorn's known deviations ---- */
extern const HlUcRule x87_uc_rules[];
/* The instruction of the current test (main.c). */
extern X87Insn x87_cur;

#endif

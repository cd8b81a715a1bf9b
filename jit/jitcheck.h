/* -d jitcheck: lockstep checking of translated blocks against the
 * interpreter (docs/jit.md).
 *
 * Each translated block is run by the JIT, its results put aside and its
 * memory writes undone; then the interpreter runs the same instructions
 * from the same state, and CpuState (EFLAGS materialised) and every page
 * either run wrote must agree.  A mismatch prints both states and the
 * block (in_asm, op, out_asm) and aborts.
 *
 * Only pure blocks can run twice: a block with port I/O, MSR or TSC
 * access or a CR write (CR8 reaches the APIC) is run once, unchecked, and
 * so is any run that reaches MMIO or ROM (seen when the TLB is filled:
 * such pages never get read/write tags, cpu/mem.c), or that invalidates
 * its own block.
 *
 * VIREO_JITCHECK_EVERY=N checks one pure block run in N (default 1), so a
 * long guest run can be sampled at a fraction of the cost.
 */
#ifndef VIREO_JIT_JITCHECK_H
#define VIREO_JIT_JITCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "jit/jit.h"

typedef struct JitCheckPage {
    uint64_t frame;
    uint8_t *host;
    uint8_t before[PAGE_SIZE];     /* contents before the block */
    uint8_t jit_after[PAGE_SIZE];  /* after the JIT's run */
    bool jit_wrote;
} JitCheckPage;

typedef struct JitCheck {
    bool active;                   /* a checked run is in progress */
    bool mmio;                     /* it reached a non-RAM frame */
    Jit *jit;
    JitCheckPage *pages;
    unsigned npages, cap;
    CpuState before, jit_state;
    uint32_t every, countdown;     /* check one run in `every` */
    uint64_t checked, skipped;
} JitCheck;

JitCheck *jitcheck_new(Jit *jit);
/* Print the counts and free. */
void jitcheck_free(JitCheck *c);

/* Run translated block b (b->jit) under the check; the CPU ends in the
 * interpreter's state. */
void jitcheck_run(JitCheck *c, Block *b);

void jitcheck_fill(JitCheck *c, uint64_t frame, uintptr_t host, bool write);

/* cpu/mem.c: the TLB is being filled for `frame` (host 0: not RAM), for a
 * write or with a write tag. */
static inline void jitcheck_note_fill(Cpu *cpu, uint64_t frame,
                                      uintptr_t host, bool write)
{
    JitCheck *c = cpu->jit->check;
    if (c && c->active)
        jitcheck_fill(c, frame, host, write);
}

#endif

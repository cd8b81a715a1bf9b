/* Tier 1: the JIT's runtime state and its entry from cpu_exec
 * (docs/jit.md).  Cpu.jit points here while the JIT is on.
 */
#ifndef VIREO_JIT_JIT_H
#define VIREO_JIT_JIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "jit/backend.h"
#include "jit/ir.h"

/* A block is translated when it is about to run for the threshold-th
 * time (1: at once). */
#define JIT_DEFAULT_THRESHOLD 50
/* The jump cache: direct mapped by linear RIP. */
#define JIT_JUMP_CACHE_BITS 12

typedef struct JitJumpEntry {
    uint64_t linear;
    uint64_t phys;
    uint64_t epoch;       /* Jit.jump_epoch when filled */
    uint32_t mode;
    Block *block;
} JitJumpEntry;

struct JitNode;
struct JitCheck;

typedef struct JitStats {
    uint64_t translated, entered, chained, cache_flushes, checked;
} JitStats;

typedef struct Jit {
    /* Written by translated code (backends reach them through cpu->jit):
     * the block and slot of the last exit through an unchained IR_GOTO,
     * exit_block NULL for any other exit. */
    JitBlock *exit_block;
    uint32_t exit_slot;
    /* Set by a store that invalidated a translated block: the running
     * code leaves at its next check (jit/helpers.c). */
    uint8_t stale;

    const JitBackend *backend;
    struct JitCache *cache;

    /* The dispatcher's own state (jit/jit.c). */
    Cpu *cpu;
    uint32_t threshold;
    struct JitNode *live;     /* every translation, for cache flushes */
    struct JitNode *dead;     /* invalidated, freed when nothing runs */
    IrBlock ir;               /* scratch for translations */
    uint64_t jump_epoch;      /* bumped when blocks die: old entries miss */
    JitJumpEntry jump[1u << JIT_JUMP_CACHE_BITS];
    struct JitCheck *check;   /* -d jitcheck state, NULL when off */
    JitStats stats;
} Jit;

/* A JIT for `cpu` over `backend`, translating blocks on their
 * `threshold`-th run.  Sets cpu->jit and hooks
 * the block cache.  NULL (with a message) if the code cache cannot be
 * created. */
Jit *jit_new(Cpu *cpu, const JitBackend *backend, uint32_t threshold);
/* Drop every translation and detach from the CPU. */
void jit_free(Jit *jit);

/* The backend named by VIREO_JIT_BACKEND ("native", "irinterp"), by
 * default the native one; NULL on a host without one, where the
 * interpreter runs alone (the IR interpreter is slower than it, so it is
 * only for tests). */
const JitBackend *jit_backend_default(void);

/* VIREO_JIT_THRESHOLD, for tests (1: translate every block at once), or
 * JIT_DEFAULT_THRESHOLD when unset. */
uint32_t jit_threshold_from_env(void);

/* cpu_exec's tier-1 step for block b at CS:RIP (no debug feature live, no
 * shadowed event waiting): run its translation, translating it first if
 * it is hot.  Returns false if the interpreter must run it (not hot yet,
 * other assumptions, not enough budget left). */
bool jit_run_block(Cpu *cpu, Block *b);

/* The jump cache in front of the interpreter's block lookup: the block at
 * CS:RIP if cached and still mapped there, else NULL (then look it up and
 * remember it with jit_cache_block). */
Block *jit_cached_block(Cpu *cpu);
void jit_cache_block(Cpu *cpu, uint64_t linear, uint64_t phys, Block *b);

/* Internal to jit/: run jb once (no chaining decisions), handling the
 * status as the interpreter's run_block does.  Returns the CPU_* status. */
int jit_enter(Jit *jit, JitBlock *jb);

#endif

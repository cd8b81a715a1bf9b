/* The backend interface: the only host-specific part of the JIT
 * (docs/jit.md).  A backend turns an optimized IrBlock into code in the
 * code cache, runs it, and patches the jumps that chain blocks.
 * jit/x86_64/ is the native backend on x86-64 hosts; jit/irinterp.c
 * interprets the IR on any host and is the reference in tests.
 */
#ifndef VIREO_JIT_BACKEND_H
#define VIREO_JIT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "jit/ir.h"

struct Block;
struct JitCache;
struct JitBlock;

/* One incoming chained jump: `from`'s exit slot `slot` jumps here. */
typedef struct JitLink {
    struct JitBlock *from;
    unsigned slot;
    struct JitLink *next;
} JitLink;

/* A translated block.  Host-independent bookkeeping; `code` and the goto
 * sites are the backend's. */
typedef struct JitBlock {
    struct Block *block;        /* the decoded block it translates */
    uint32_t assumptions;       /* jit_assumptions() when translated */
    uint32_t insns;             /* guest instructions (the entry test's N) */
    void *code;                 /* entry point (executable view) */
    size_t code_size;
    void *goto_site[2];         /* backend's patch sites for IR_GOTO 0/1,
                                   NULL if the IR had no such exit */
    struct JitBlock *chained[2];/* where each slot is chained now */
    JitLink *incoming;          /* jumps chained into this block */
    void *backend_data;         /* e.g. the IR copy for jit/irinterp.c */
} JitBlock;

typedef struct JitBackend {
    const char *name;
    /* Emit `ir` into `cache`, filling jb->code, code_size, goto_site.
     * Returns false when the cache is full (the caller flushes it and
     * tries again) or the block cannot be translated. */
    bool (*emit)(struct JitCache *cache, const IrBlock *ir, JitBlock *jb);
    /* Run translated code from jb until an exit; returns the CPU_* status
     * and leaves CpuState exact.  An exit through an unchained IR_GOTO
     * slot records jb and the slot in cpu's Jit (jit/jit.h). */
    int (*enter)(Cpu *cpu, JitBlock *jb);
    /* Patch from's exit slot to jump straight to `to`, or back to its
     * exit stub. */
    void (*chain)(JitBlock *from, unsigned slot, JitBlock *to);
    void (*unchain)(JitBlock *from, unsigned slot);
    /* Forget backend_data (the cache is flushed or jb dropped). */
    void (*release)(JitBlock *jb);
    /* -d out_asm: print jb's host code (Capstone). */
    void (*disas)(const JitBlock *jb);
} JitBackend;

/* The native backend of this host, or NULL if there is none yet. */
const JitBackend *jit_backend_native(void);
extern const JitBackend jit_backend_irinterp;

#endif

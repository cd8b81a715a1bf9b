/* The JIT's code cache (docs/jit.md, "Code cache").
 *
 * One fixed-size region mapped twice from a memfd: a read/write view the
 * backend writes code into and a read/execute view the CPU runs, so no
 * page is ever writable and executable through the same mapping (W^X).
 * Allocation is a bump pointer; when the cache is full the JIT flushes it
 * whole and drops every JitBlock.  The backend's permanent code (entry
 * trampoline, exit paths) sits at the start and survives flushes.
 * Host-independent: the backends share it.
 */
#ifndef VIREO_JIT_CACHE_H
#define VIREO_JIT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JIT_CACHE_DEFAULT_SIZE (64u << 20)
#define JIT_CACHE_ALIGN 16
/* Entry points of the backend's permanent code, the backend's to name. */
#define JIT_CACHE_STUBS 8

typedef struct JitCache {
    uint8_t *rx;          /* executable view */
    uint8_t *rw;          /* writable view of the same pages */
    size_t size;
    size_t used;          /* bump pointer, bytes from the start */
    size_t kept;          /* bytes that survive jit_cache_flush */
    uint64_t flushes;
    void *stubs[JIT_CACHE_STUBS];   /* executable addresses in the kept part */
} JitCache;

/* A cache of `size` bytes (rounded up to pages; 0 = the default), or NULL
 * after printing why to stderr. */
JitCache *jit_cache_new(size_t size);
void jit_cache_free(JitCache *c);

/* The executable address the next allocation will start at, and the room
 * left there: a backend emits straight into jit_cache_rw(c, next) and then
 * allocates what it used. */
void *jit_cache_next(JitCache *c, size_t *room);
/* Allocate `size` bytes at jit_cache_next(); returns their executable
 * address, or NULL if they do not fit. */
void *jit_cache_alloc(JitCache *c, size_t size);
/* Everything allocated so far survives flushes (the backend's stubs). */
void jit_cache_keep(JitCache *c);
/* Drop every allocation but the kept part.  The caller drops all
 * JitBlocks first. */
void jit_cache_flush(JitCache *c);

/* The writable alias of an executable address inside the cache. */
static inline void *jit_cache_rw(const JitCache *c, const void *rx)
{
    return c->rw + ((const uint8_t *)rx - c->rx);
}

static inline bool jit_cache_contains(const JitCache *c, const void *rx)
{
    const uint8_t *p = rx;
    return p >= c->rx && p < c->rx + c->size;
}

/* Make code written through the writable view visible to instruction
 * fetch at its executable address (a no-op on x86, required on AArch64). */
void jit_cache_sync(const JitCache *c, void *rx, size_t size);

#endif

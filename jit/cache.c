/* The code cache: a memfd mapped twice, bump allocation (jit/cache.h). */
#include "jit/cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_round(size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t p = page > 0 ? (size_t)page : 4096;
    return (n + p - 1) / p * p;
}

JitCache *jit_cache_new(size_t size)
{
    size = page_round(size ? size : JIT_CACHE_DEFAULT_SIZE);
    int fd = memfd_create("vireo-jit", MFD_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "jit: memfd_create failed: %s\n", strerror(errno));
        return NULL;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        fprintf(stderr, "jit: cannot size the code cache to %zu bytes: %s\n",
                size, strerror(errno));
        close(fd);
        return NULL;
    }
    void *rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void *rx = rw == MAP_FAILED ? MAP_FAILED
             : mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd);   /* the mappings keep the memory */
    if (rx == MAP_FAILED) {
        fprintf(stderr, "jit: cannot map the code cache (%zu bytes%s): %s\n",
                size, rw == MAP_FAILED ? "" : ", executable view",
                strerror(err));
        if (rw != MAP_FAILED)
            munmap(rw, size);
        return NULL;
    }
    JitCache *c = calloc(1, sizeof(*c));
    if (!c) {
        munmap(rw, size);
        munmap(rx, size);
        return NULL;
    }
    c->rw = rw;
    c->rx = rx;
    c->size = size;
    return c;
}

void jit_cache_free(JitCache *c)
{
    if (!c)
        return;
    munmap(c->rw, c->size);
    munmap(c->rx, c->size);
    free(c);
}

static size_t aligned_used(const JitCache *c)
{
    return (c->used + JIT_CACHE_ALIGN - 1) & ~(size_t)(JIT_CACHE_ALIGN - 1);
}

void *jit_cache_next(JitCache *c, size_t *room)
{
    size_t start = aligned_used(c);
    if (start > c->size)
        start = c->size;
    *room = c->size - start;
    return c->rx + start;
}

void *jit_cache_alloc(JitCache *c, size_t size)
{
    size_t start = aligned_used(c);
    if (start > c->size || size > c->size - start)
        return NULL;
    c->used = start + size;
    return c->rx + start;
}

void jit_cache_keep(JitCache *c)
{
    c->kept = c->used;
}

void jit_cache_flush(JitCache *c)
{
    c->used = c->kept;
    c->flushes++;
}

void jit_cache_sync(const JitCache *c, void *rx, size_t size)
{
    /* x86 keeps instruction fetch coherent with stores (SDM Vol. 3A
     * 8.1.3, cross-modifying code); AArch64 needs the D-cache cleaned and
     * the I-cache invalidated, which this builtin does for the address it
     * is given.  The writable view aliases the same physical pages, so
     * the executable address is the one to maintain. */
    (void)c;
    __builtin___clear_cache((char *)rx, (char *)rx + size);
}

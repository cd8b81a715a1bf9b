/* The x87 harness: the host CPU's x87 as the reference.
 *
 * The stub (gen.c) is copied to an executable page and called with the
 * context in RDI (System V).  It keeps the host's own FPU/SSE state in the
 * context (FXSAVE before, FXRSTOR after), so FCW, MXCSR and any exception
 * the instruction left pending never reach the harness's own code.  Only
 * the x86-64 host has a reference; elsewhere the harness runs Vireo alone
 * and prints the digest of its results (see main.c).
 */
#include "tests/diff/x87/x87diff.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__)

static uint8_t *page;

bool host_available(void)
{
    return true;
}

int host_init(void)
{
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("x87_host: mmap of the code page");
        return -1;
    }
    return 0;
}

void host_run(const uint8_t *code, size_t len, uint8_t *ctx)
{
    memcpy(page, code, len);
    __builtin___clear_cache((char *)page, (char *)page + len);
    void (*fn)(uint8_t *);
    void *p = page;
    memcpy(&fn, &p, sizeof(fn));
    fn(ctx);
}

#else

bool host_available(void)
{
    return false;
}

int host_init(void)
{
    return 0;
}

void host_run(const uint8_t *code, size_t len, uint8_t *ctx)
{
    (void)code;
    (void)len;
    (void)ctx;
}

#endif

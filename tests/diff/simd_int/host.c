/* The MMX / SSE integer harness: the host CPU as the reference.
 *
 * The region is mapped at SIMD_BASE (MAP_FIXED_NOREPLACE), so the stub,
 * its RIP-relative operands and MASKMOVQ's rDI are the same addresses as
 * in Vireo.  The stub is called with the System V convention; it keeps the
 * host's own FPU/SSE state and stack pointer in the context.  A fault in
 * the instruction (#GP for a misaligned operand, #MF for a pending x87
 * exception, #UD) arrives as a signal: the handler, on its own stack,
 * reads the vector from the trap number the kernel saved and jumps back
 * out with siglongjmp.  Only the x86-64 host has a reference.
 */
#include "tests/diff/simd_int/simddiff.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

static uint8_t *region;
static sigjmp_buf recover;
static volatile sig_atomic_t trapno;

bool host_available(void)
{
    return true;
}

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    (void)sig;
    (void)si;
    trapno = (sig_atomic_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    siglongjmp(recover, 1);
}

int host_init(void)
{
    region = mmap((void *)(uintptr_t)SIMD_BASE, SIMD_SIZE,
                  PROT_READ | PROT_WRITE | PROT_EXEC,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (region == MAP_FAILED || region != (uint8_t *)(uintptr_t)SIMD_BASE) {
        perror("simd_int_host: mmap at the fixed test address");
        return -1;
    }
    static uint8_t altstack[1 << 16];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
    if (sigaltstack(&ss, NULL)) {
        perror("simd_int_host: sigaltstack");
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGILL, &sa, NULL) ||
        sigaction(SIGFPE, &sa, NULL) || sigaction(SIGBUS, &sa, NULL)) {
        perror("simd_int_host: sigaction");
        return -1;
    }
    return 0;
}

int host_run(const uint8_t *code, size_t len, uint8_t *image)
{
    memcpy(region, image, SIMD_SIZE);
    memcpy(region + OFF_CODE, code, len);
    __builtin___clear_cache((char *)region, (char *)region + len);
    void (*fn)(void);
    void *p = region + OFF_CODE;
    memcpy(&fn, &p, sizeof(fn));
    int vector = -1;
    if (sigsetjmp(recover, 1) == 0)
        fn();
    else
        vector = (int)trapno;
    memcpy(image, region, SIMD_SIZE);
    return vector;
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

int host_run(const uint8_t *code, size_t len, uint8_t *image)
{
    (void)code;
    (void)len;
    (void)image;
    return -1;
}

#endif

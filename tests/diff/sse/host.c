/* The SSE floating-point harness: the host CPU as the reference.
 *
 * The stub (gen.c) runs from an executable page with the context in RDI.
 * A fault in the instruction arrives as a signal: SIGFPE for #XM, SIGSEGV
 * for #GP (a misaligned operand, a reserved MXCSR bit), SIGILL for #UD.
 * The handler checks that the fault is the instruction's, takes the vector
 * from the trap number and the registers from the state the kernel saved
 * (XMM, MXCSR, MMX, GPRs, RFLAGS: the state at the fault, so "destination
 * unchanged, flags set" is compared too), stores them as the stub would
 * have, and leaves with siglongjmp.  The handler runs with a fresh FPU
 * state (Linux clears it for signal handlers), so the host MXCSR is put
 * back afterwards.  Only an x86-64 host has a reference.
 */
#include "tests/diff/sse/ssediff.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* What the signal handler needs: the harness's one piece of global state,
 * unavoidable with signals. */
static struct {
    uint8_t *page;
    uint8_t *ctx;
    uintptr_t insn_addr;
    sigjmp_buf recover;
    volatile sig_atomic_t vector;
} hs;

bool host_available(void)
{
    return true;
}

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    (void)si;
    const greg_t *g = uc->uc_mcontext.gregs;
    if ((uintptr_t)g[REG_RIP] != hs.insn_addr || !uc->uc_mcontext.fpregs) {
        /* Not the instruction under test: a harness bug.  Die loudly. */
        static const char msg[] = "sse_host: unexpected fault outside the test instruction\n";
        if (write(2, msg, sizeof(msg) - 1) < 0)
            _exit(3);
        signal(sig, SIG_DFL);
        return;
    }
    const struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    uint8_t *ctx = hs.ctx;
    for (int i = 0; i < 16; i++)
        for (int k = 0; k < 4; k++)
            put_le(ctx + CTX_XMM_OUT + 16 * i + 4 * k, fp->_xmm[i].element[k], 4);
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 4; k++)
            put_le(ctx + CTX_MM_OUT + 8 * i + 2 * k, fp->_st[i].significand[k], 2);
    put_le(ctx + CTX_MXCSR_OUT, fp->mxcsr, 4);
    static const int gi[NGPR] = {
        REG_RAX, REG_RCX, REG_RDX, REG_RSI, REG_R8, REG_R9, REG_R10, REG_R11,
    };
    for (int i = 0; i < NGPR; i++)
        put_le(ctx + CTX_GPR_OUT + 8 * i, (uint64_t)g[gi[i]], 8);
    put_le(ctx + CTX_FLAGS_OUT, (uint64_t)g[REG_EFL], 8);
    hs.vector = (sig_atomic_t)g[REG_TRAPNO];
    siglongjmp(hs.recover, 1);
}

int host_init(void)
{
    hs.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (hs.page == MAP_FAILED) {
        perror("sse_host: mmap of the code page");
        return -1;
    }
    static uint8_t altstack[1 << 16];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
    if (sigaltstack(&ss, NULL)) {
        perror("sse_host: sigaltstack");
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGILL, &sa, NULL) ||
        sigaction(SIGFPE, &sa, NULL) || sigaction(SIGBUS, &sa, NULL)) {
        perror("sse_host: sigaction");
        return -1;
    }
    return 0;
}

int host_run(const uint8_t *code, size_t len, size_t insn_off, uint8_t *ctx)
{
    memcpy(hs.page, code, len);
    __builtin___clear_cache((char *)hs.page, (char *)hs.page + len);
    hs.ctx = ctx;
    hs.insn_addr = (uintptr_t)(hs.page + insn_off);
    void (*fn)(uint8_t *);
    void *p = hs.page;
    memcpy(&fn, &p, sizeof(fn));
    if (sigsetjmp(hs.recover, 1) == 0) {
        fn(ctx);
        return -1;
    }
    /* The handler's fresh FPU state is still live: restore ours. */
    uint32_t m = (uint32_t)get_le(hs.ctx + CTX_HOST_MXCSR, 4);
    __asm__ volatile("ldmxcsr %0\n\temms" : : "m"(m));
    return (int)hs.vector;
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

int host_run(const uint8_t *code, size_t len, size_t insn_off, uint8_t *ctx)
{
    (void)code;
    (void)len;
    (void)insn_off;
    (void)ctx;
    return -1;
}

#endif

/* The harnesses' host side: the stub runs natively on the host CPU.
 *
 * The stub is copied into a mapping that is readable, writable and
 * executable (at a fixed address where its operands are RIP-relative) and
 * called with the System V convention.  A fault in the instruction under
 * test (#GP for a misaligned operand or a reserved MXCSR bit, #XM, #MF,
 * #UD) arrives as a signal: the handler, on a stack of its own, checks
 * that the fault is that instruction's, takes the vector from the trap
 * number and the registers from the state the kernel saved (the state at
 * the fault, so "destination unchanged, flags set" can be compared), and
 * leaves with siglongjmp.  The handler ran with a fresh FPU state (Linux
 * gives signal handlers one), so the harness's own is put back afterwards.
 * Only an x86-64 host has a reference.
 */
#include "tests/diff/hostlib/hostlib.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* What the signal handler needs: the harness's one piece of global state,
 * unavoidable with signals. */
static struct {
    uint8_t *map;
    uintptr_t insn;           /* the instruction under test */
    sigjmp_buf recover;
    volatile sig_atomic_t vector;
    HlState fault;            /* the state the kernel saved */
    uint8_t own_fx[512] __attribute__((aligned(16)));
} ns;

bool hl_native_available(void)
{
    return true;
}

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    (void)si;
    const greg_t *g = uc->uc_mcontext.gregs;
    if ((uintptr_t)g[REG_RIP] != ns.insn || !uc->uc_mcontext.fpregs) {
        /* Not the instruction under test: a harness bug.  Die loudly. */
        static const char msg[] = "diff: unexpected fault outside the test instruction\n";
        if (write(2, msg, sizeof(msg) - 1) < 0)
            _exit(3);
        signal(sig, SIG_DFL);
        return;
    }
    static const int regs[16] = {
        REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
        REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
    };
    for (int i = 0; i < 16; i++)
        ns.fault.gpr[i] = (uint64_t)g[regs[i]];
    ns.fault.rflags = (uint64_t)g[REG_EFL];
    /* struct _libc_fpstate is the FXSAVE image. */
    memcpy(ns.fault.fx, uc->uc_mcontext.fpregs, sizeof(ns.fault.fx));
    ns.vector = (sig_atomic_t)g[REG_TRAPNO];
    siglongjmp(ns.recover, 1);
}

uint8_t *hl_native_init(uint64_t base, size_t size)
{
    int fixed = base ? MAP_FIXED_NOREPLACE : 0;
    uint8_t *map = mmap((void *)(uintptr_t)base, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                        MAP_PRIVATE | MAP_ANONYMOUS | fixed, -1, 0);
    if (map == MAP_FAILED || (base && map != (uint8_t *)(uintptr_t)base)) {
        perror("diff: mmap of the host's code");
        return NULL;
    }
    static uint8_t altstack[1 << 16];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) || sigaction(SIGSEGV, &sa, NULL) ||
        sigaction(SIGILL, &sa, NULL) || sigaction(SIGFPE, &sa, NULL) ||
        sigaction(SIGBUS, &sa, NULL)) {
        perror("diff: signal handlers");
        return NULL;
    }
    ns.map = map;
    return map;
}

uint8_t *hl_native_mem(void)
{
    return ns.map;
}

int hl_native_call(const uint8_t *entry, void *arg, const uint8_t *insn,
                   HlState *at_fault)
{
    ns.insn = (uintptr_t)insn;
    void (*fn)(void *);
    memcpy(&fn, &entry, sizeof(fn));
    __asm__ volatile("fxsave %0" : "=m"(ns.own_fx));
    if (sigsetjmp(ns.recover, 1) == 0) {
        fn(arg);
        return -1;
    }
    __asm__ volatile("fxrstor %0" : : "m"(ns.own_fx));
    if (at_fault)
        *at_fault = ns.fault;
    return (int)ns.vector;
}

#else

bool hl_native_available(void)
{
    return false;
}

uint8_t *hl_native_init(uint64_t base, size_t size)
{
    (void)base;
    (void)size;
    return NULL;
}

uint8_t *hl_native_mem(void)
{
    return NULL;
}

int hl_native_call(const uint8_t *entry, void *arg, const uint8_t *insn,
                   HlState *at_fault)
{
    (void)entry;
    (void)arg;
    (void)insn;
    (void)at_fault;
    return -1;
}

#endif

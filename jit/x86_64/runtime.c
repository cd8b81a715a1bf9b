/* The x86-64 backend's permanent code (entry trampoline, exits) and the
 * patching of chained jumps.
 *
 * Translated code runs in one frame set up by the entry trampoline; chained
 * blocks jump into each other inside it, and every exit goes through the
 * one epilogue, which returns the CPU_* status in EAX.
 */
#include <stddef.h>

#include "jit/jit.h"
#include "jit/x86_64/x64.h"

/* SysV callee-saved registers (ABI 3.2.1), all of which translated code
 * may use. */
static const int saved[] = { X_RBX, X_RBP, X_R12, X_R13, X_R14, X_R15 };
#define NSAVED (sizeof(saved) / sizeof(saved[0]))

bool x_runtime_init(JitCache *c)
{
    size_t room;
    uint8_t *rx = jit_cache_next(c, &room);
    XEmitter e;
    x_init(&e, jit_cache_rw(c, rx), rx, room);
    size_t at[XR_COUNT];

    /* Exits: the entry test and IR_EXIT / fault paths.  Only unchained
     * IR_GOTO exits leave exit_block set (their stubs jump to the
     * epilogue directly). */
    at[XR_EXIT_OK] = e.pos;
    x_alu_r_rm(&e, XA_XOR, 4, X_RAX, x_reg(X_RAX));
    at[XR_EXIT] = e.pos;
    x_mov_r_rm(&e, 8, X_RCX, x_mem(X_CPU_REG, (int32_t)offsetof(Cpu, jit)));
    x_mov_rm_imm32(&e, 8, x_mem(X_RCX, (int32_t)offsetof(Jit, exit_block)), 0);
    at[XR_EPILOGUE] = e.pos;
    x_alu_rm_imm(&e, XA_ADD, 8, x_reg(X_RSP), X_FRAME_SIZE);
    for (int i = NSAVED - 1; i >= 0; i--)
        x_pop(&e, saved[i]);
    x_ret(&e);

    /* IR_LOOKUP: for now the dispatcher does the lookup; a jump cache
     * probe that jumps straight to the target's code belongs here. */
    at[XR_LOOKUP] = e.pos;
    x_alu_r_rm(&e, XA_XOR, 4, X_RAX, x_reg(X_RAX));
    x_patch_rel32_abs(&e, x_jmp32(&e), rx + at[XR_EXIT]);

    /* int prologue(Cpu *cpu (RDI), void *code (RSI)). */
    at[XR_PROLOGUE] = e.pos;
    for (unsigned i = 0; i < NSAVED; i++)
        x_push(&e, saved[i]);
    x_alu_rm_imm(&e, XA_SUB, 8, x_reg(X_RSP), X_FRAME_SIZE);
    x_mov_r_rm(&e, 8, X_CPU_REG, x_reg(X_RDI));
    x_jmp_r(&e, X_RSI);

    if (e.overflow || !jit_cache_alloc(c, e.pos))
        return false;
    jit_cache_sync(c, rx, e.pos);
    for (int i = 0; i < XR_COUNT; i++)
        c->stubs[i] = rx + at[i];
    jit_cache_keep(c);
    return true;
}

/* Patch the rel32 of the jmp at `site` to land at `target`.  The backend
 * aligned the displacement on 4 bytes, so one aligned store replaces it
 * whole even while another thread runs the code (SDM Vol. 3A 8.1.1). */
static void patch_jump(JitBlock *from, unsigned slot, const uint8_t *target)
{
    JitCache *c = from->backend_data;
    uint8_t *site = from->goto_site[slot];
    int32_t rel = (int32_t)(target - (site + 5));
    __atomic_store_n((int32_t *)jit_cache_rw(c, site + 1), rel, __ATOMIC_RELEASE);
    jit_cache_sync(c, site + 1, 4);
}

void x_chain(JitBlock *from, unsigned slot, JitBlock *to)
{
    patch_jump(from, slot, to->code);
}

/* The exit stub follows the jmp, so the unchained displacement is 0. */
void x_unchain(JitBlock *from, unsigned slot)
{
    patch_jump(from, slot, (const uint8_t *)from->goto_site[slot] + 5);
}

int x_enter(Cpu *cpu, JitBlock *jb)
{
    const JitCache *c = jb->backend_data;
    int (*prologue)(Cpu *, void *) = (int (*)(Cpu *, void *))c->stubs[XR_PROLOGUE];
    return prologue(cpu, jb->code);
}

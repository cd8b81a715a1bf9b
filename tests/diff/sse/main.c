/* The SSE floating-point differential harness: the three sides and the
 * driver's callbacks.
 *
 *   sse_host [the options of tests/diff/hostlib/driver.c]
 *
 * Every test is one instruction on a fresh random state.  The host runs
 * the stub (gen.c) from an executable page with the context block in RDI.
 * Vireo and Unicorn are given the state directly (the MMX registers as the
 * stub's MOVQ loads leave them: significand = value, exponent all ones,
 * TOP = 0, every tag valid; RBX = the context, at CTX_BASE) and run the
 * instruction alone at CODE_BASE.  At a fault every side's registers are
 * taken where it stopped.
 * compare.c says what is compared, unicorn.c what Unicorn is known to get
 * wrong.
 */
#include "tests/diff/sse/ssediff.h"

#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"

#define CODE_BASE 0x100000ull
#define CTX_BASE 0x200000ull
#define STACK_TOP (CTX_BASE + CTX_SIZE - 64)

enum { REGION_CODE, REGION_CTX };

static const HlLayout layout = { 2, { { CODE_BASE, 4096 }, { CTX_BASE, CTX_SIZE } } };

SseInsn sse_cur;
static uint8_t code[1024];
static size_t code_len, insn_off;

static unsigned draw_insn(Rng *r)
{
    gen_insn(r, &sse_cur);
    return sse_cur.tmpl;
}

static void draw_state(Rng *r, uint8_t *in)
{
    gen_context(r, &sse_cur, in);
    code_len = gen_stub(&sse_cur, code, &insn_off);
}

/* The registers the stub stores, from a side's state. */
static void store_state(const HlState *st, uint8_t *ctx)
{
    memcpy(ctx + CTX_XMM_OUT, st->fx + FX_XMM, 256);
    for (unsigned i = 0; i < 8; i++)
        memcpy(ctx + CTX_MM_OUT + 8 * i, st->fx + hl_fx_phys(st->fx, i), 8);
    for (unsigned i = 0; i < NGPR; i++)
        put_le(ctx + CTX_GPR_OUT + 8 * i, st->gpr[gpr_numbers[i]], 8);
    put_le(ctx + CTX_MXCSR_OUT, get_le(st->fx + FX_MXCSR, 4), 4);
    put_le(ctx + CTX_FLAGS_OUT, st->rflags, 8);
}

/* Vireo and Unicorn: the instruction alone, from the state the stub's
 * loads would leave. */
static int run_emulated(int side, uint8_t *ctx)
{
    HlState st = { .rflags = get_le(ctx + CTX_FLAGS_IN, 8) };
    put_le(st.fx + FX_FCW, 0x037f, 2);
    st.fx[FX_FTW] = 0xff;
    for (unsigned i = 0; i < 8; i++) {
        memcpy(st.fx + FX_ST + 16 * i, ctx + CTX_MM_IN + 8 * i, 8);
        put_le(st.fx + FX_ST + 16 * i + 8, 0xffff, 2);
    }
    memcpy(st.fx + FX_MXCSR, ctx + CTX_MXCSR_IN, 4);
    memcpy(st.fx + FX_XMM, ctx + CTX_XMM_IN, 256);
    for (unsigned i = 0; i < NGPR; i++)
        st.gpr[gpr_numbers[i]] = get_le(ctx + CTX_GPR_IN + 8 * i, 8);
    st.gpr[R_BX] = CTX_BASE;
    st.gpr[R_SP] = STACK_TOP;
    uint8_t *mem = hl_emu_mem(side, REGION_CODE), *emu_ctx = hl_emu_mem(side, REGION_CTX);
    memset(mem, 0x90, 64);
    memcpy(mem, sse_cur.bytes, sse_cur.len);
    memcpy(emu_ctx, ctx, CTX_SIZE);
    int vector = hl_emu_step(side, &st, CODE_BASE, CODE_BASE + sse_cur.len, &st);
    memcpy(ctx + CTX_MEM, emu_ctx + CTX_MEM, CTX_MEM_SIZE);
    store_state(&st, ctx);
    return vector;
}

static int run(int side, uint8_t *ctx)
{
    if (side != HL_HOST)
        return run_emulated(side, ctx);
    HlState st;
    uint8_t *page = hl_native_mem();
    memcpy(page, code, code_len);
    int vector = hl_native_call(page, ctx, page + insn_off, &st);
    if (vector >= 0)
        store_state(&st, ctx);
    return vector;
}

static int compare(const HlCase *c)
{
    return sse_same(&sse_cur, c) ? 0 : -1;
}

static void report(const HlCase *c)
{
    sse_report(&sse_cur, c);
}

/* A hash of every input and result, to find where two builds part. */
static void trace(const HlCase *c)
{
    char name[64];
    printf("%lu %s %016llx %016llx\n", c->n, gen_template_name(c->tmpl, name, sizeof(name)),
           (unsigned long long)hl_fnv(0, c->in, CTX_SIZE, NULL),
           (unsigned long long)sse_digest(0, c->v, c->vvec));
}

const Harness harness = {
    .prog = "sse_host", .ctx_size = CTX_SIZE, .salt = 7, .uc_rules = sse_uc_rules,
    .layout = &layout, .host_size = 4096,
    .init = gen_init, .name = gen_template_name, .draw_insn = draw_insn,
    .draw_state = draw_state, .run = run, .digest = sse_digest, .compare = compare,
    .report = report, .trace = trace,
};

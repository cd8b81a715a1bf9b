/* The x87 differential harness: the three sides and the driver's callbacks.
 *
 *   x87_host [the options of tests/diff/hostlib/driver.c] [--chain K]
 *
 * Runs instructions in chains of up to K (default 4), each link starting
 * from Vireo's state after the previous one (so the sequence of tests
 * depends only on the seed), with pending exceptions cleared.  The stub
 * (gen.c) runs natively on the host from an executable page, with the
 * context block in RDI, and on Vireo from CODE_BASE, the context at
 * CTX_BASE, a stack page at STACK_BASE.  Unicorn is given the state the
 * stub would load (through its registers, which is quicker than
 * translating the stub every time) and runs the instruction alone at the
 * same addresses.  compare.c says what is compared, unicorn.c what Unicorn
 * is known to get wrong.
 */
#include "tests/diff/x87/x87diff.h"

#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"

#define CODE_BASE 0x100000ull
#define CTX_BASE 0x200000ull
#define STACK_BASE 0x300000ull
#define STACK_TOP (STACK_BASE + 4096 - 64)

enum { REGION_CODE, REGION_CTX };

static const HlLayout layout = {
    3, { { CODE_BASE, 4096 }, { CTX_BASE, 4096 }, { STACK_BASE, 4096 } },
};

static unsigned long chain = 4;
static const HlOption options[] = { { "chain", &chain }, { NULL, NULL } };

X87Insn x87_cur;
static unsigned long chain_pos;       /* position in the chain */
static uint8_t code[128];
static size_t code_len, insn_off, ret_off;

static unsigned init(void)
{
    if (chain == 0)
        chain = 1;
    return gen_init();
}

static unsigned draw_insn(Rng *r)
{
    gen_insn(r, &x87_cur);
    return x87_cur.tmpl;
}

static void draw_state(Rng *r, uint8_t *in)
{
    if (chain_pos == 0)
        gen_context(r, &x87_cur, in);
    else
        gen_chain(r, &x87_cur, in);
    chain_pos = (chain_pos + 1) % chain;
    code_len = gen_stub(&x87_cur, code, &insn_off, &ret_off);
}

/* Unicorn: the instruction alone, from the state the stub would load; the
 * output as the stub would store it (nothing after a fault). */
static int run_unicorn(uint8_t *ctx)
{
    HlState st = { .rflags = get_le(ctx + CTX_FLAGS_IN, 8) };
    memcpy(st.fx, ctx + CTX_IN, 512);
    st.gpr[R_AX] = get_le(ctx + CTX_RAX_IN, 8);
    st.gpr[R_BX] = CTX_BASE;
    st.gpr[R_SP] = STACK_TOP;
    uint8_t *emu_ctx = hl_emu_mem(HL_UNICORN, REGION_CTX);
    memcpy(hl_emu_mem(HL_UNICORN, REGION_CODE), x87_cur.bytes, x87_cur.len);
    memcpy(emu_ctx, ctx, CTX_SIZE);
    int vector = hl_emu_step(HL_UNICORN, &st, CODE_BASE, CODE_BASE + x87_cur.len, &st);
    memcpy(ctx + CTX_MEM, emu_ctx + CTX_MEM, CTX_MEM_SIZE);
    if (vector < 0) {
        memcpy(ctx + CTX_OUT, st.fx, 512);
        put_le(ctx + CTX_FLAGS_OUT, st.rflags, 8);
        put_le(ctx + CTX_RAX_OUT, st.gpr[R_AX], 8);
    }
    return vector;
}

static int run(int side, uint8_t *ctx)
{
    if (side == HL_UNICORN)
        return run_unicorn(ctx);
    if (side == HL_HOST) {
        uint8_t *page = hl_native_mem();
        memcpy(page, code, code_len);
        return hl_native_call(page, ctx, page + insn_off, NULL);
    }
    uint8_t *emu_ctx = hl_emu_mem(HL_VIREO, REGION_CTX);
    memcpy(hl_emu_mem(HL_VIREO, REGION_CODE), code, code_len);
    memcpy(emu_ctx, ctx, CTX_SIZE);
    int vector = hl_vireo_call(CODE_BASE, CODE_BASE + ret_off, CTX_BASE, STACK_TOP, NULL);
    memcpy(ctx, emu_ctx, CTX_SIZE);
    return vector;
}

/* The next link starts from Vireo's state (see the header). */
static void after(uint8_t *in, const uint8_t *v, int vvec)
{
    memcpy(in + CTX_OUT, v + CTX_OUT, 512);
    memcpy(in + CTX_FLAGS_OUT, v + CTX_FLAGS_OUT, 16);
    if (vvec >= 0)
        chain_pos = 0;
}

static uint64_t digest(uint64_t h, const uint8_t *v, int vvec)
{
    return x87_digest(&x87_cur, h, v, vvec);
}

static int compare(const HlCase *c)
{
    return x87_compare(&x87_cur, c);
}

static void report(const HlCase *c)
{
    x87_report(&x87_cur, c);
}

static void trace(const HlCase *c)
{
    char name[64];
    printf("#%lu %s vec %d\n", c->n, gen_template_name(c->tmpl, name, sizeof(name)),
           c->vvec);
    x87_print_state("in", c->in + CTX_IN);
    x87_print_state("vireo", c->v + CTX_OUT);
}

const Harness harness = {
    .prog = "x87_host", .ctx_size = CTX_SIZE, .salt = 1, .options = options,
    .tolerances = x87_tolerances, .uc_rules = x87_uc_rules,
    .layout = &layout, .host_size = 4096,
    .init = init, .name = gen_template_name, .draw_insn = draw_insn,
    .draw_state = draw_state, .run = run, .after = after, .digest = digest,
    .compare = compare, .report = report, .trace = trace,
};

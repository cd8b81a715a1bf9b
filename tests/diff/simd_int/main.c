/* The MMX / SSE integer differential harness: the three sides and the
 * driver's callbacks.
 *
 *   simd_int_host [the options of tests/diff/hostlib/driver.c]
 *
 * Every test is one instruction on a fresh random region image.  The host
 * maps the region at SIMD_BASE and runs the stub (gen.c) from its code
 * page.  Vireo and Unicorn have the region as RAM at the same address and
 * are given the input state directly: the FXSAVE image, the GPRs (RSP
 * pointing into the region's stack page) and RFLAGS; they run the
 * instruction alone, at the address it has in the stub, so RIP-relative
 * operands reach the same bytes.  compare.c says what is compared,
 * unicorn.c what Unicorn is known to get wrong.
 */
#include "tests/diff/simd_int/simddiff.h"

#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"

static const HlLayout layout = { 1, { { SIMD_BASE, SIMD_SIZE } } };

SimdInsn simd_cur;
static uint8_t code[1024];
static size_t code_len;

static unsigned init(void)
{
    compare_init();
    return gen_init();
}

static unsigned draw_insn(Rng *r)
{
    gen_insn(r, &simd_cur);
    return simd_cur.tmpl;
}

static void draw_state(Rng *r, uint8_t *in)
{
    gen_state(r, &simd_cur, in);
    code_len = gen_stub(&simd_cur, code);
}

/* Vireo and Unicorn: the instruction alone, from the stub's input. */
static int run_emulated(int side, uint8_t *region)
{
    uint8_t *ctx = region + OFF_CTX, *mem = hl_emu_mem(side, 0);
    HlState st = { .rflags = get_le(ctx + CTX_FLAGS_IN, 8) };
    memcpy(st.fx, ctx + CTX_FX_IN, 512);
    for (unsigned i = 0; i < 16; i++)
        st.gpr[i] = get_le(ctx + CTX_GPR_IN + 8 * i, 8);
    st.gpr[R_SP] = SIMD_BASE + STACK_TOP;
    memcpy(mem, region, SIMD_SIZE);
    memset(mem + OFF_CODE, 0x90, 0x1000);
    memcpy(mem + OFF_CODE + INSN_OFF, simd_cur.bytes, simd_cur.len);
    uint64_t rip = SIMD_BASE + INSN_OFF;
    int vector = hl_emu_step(side, &st, rip, rip + simd_cur.len, &st);
    memcpy(ctx + CTX_FX_OUT, st.fx, 512);
    for (unsigned i = 0; i < 16; i++)
        put_le(ctx + CTX_GPR_OUT + 8 * i, st.gpr[i], 8);
    put_le(ctx + CTX_FLAGS_OUT, st.rflags, 8);
    memcpy(region + OFF_DATA, mem + OFF_DATA, 0x1000);
    memcpy(region + OFF_STACK, mem + OFF_STACK, 0x1000);
    return vector;
}

static int run(int side, uint8_t *region)
{
    if (side != HL_HOST)
        return run_emulated(side, region);
    uint8_t *host_region = hl_native_mem();
    memcpy(host_region, region, SIMD_SIZE);
    memcpy(host_region + OFF_CODE, code, code_len);
    int vector = hl_native_call(host_region + OFF_CODE, NULL, host_region + INSN_OFF, NULL);
    memcpy(region, host_region, SIMD_SIZE);
    return vector;
}

static void report(const HlCase *c)
{
    simd_report(&simd_cur, c);
}

static void trace(const HlCase *c)
{
    char name[96];
    printf("%lu %s vec %d %016llx\n", c->n, gen_template_name(c->tmpl, name, sizeof(name)),
           c->vvec, (unsigned long long)simd_digest(0, c->v, c->vvec));
}

const Harness harness = {
    .prog = "simd_int_host", .ctx_size = SIMD_SIZE, .salt = 7, .uc_rules = simd_uc_rules,
    .layout = &layout, .host_base = SIMD_BASE, .host_size = SIMD_SIZE,
    .init = init, .name = gen_template_name, .draw_insn = draw_insn,
    .draw_state = draw_state, .run = run, .digest = simd_digest,
    .compare = simd_compare, .report = report, .trace = trace,
};

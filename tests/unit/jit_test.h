/* A machine for the JIT's unit tests: a Cpu with RAM in 64-bit mode
 * (4-level paging, 2 MiB pages, a hole at HOLE) or in flat 32-bit
 * protected mode, that runs one decoded block both through the
 * interpreter (as cpu/exec.c's run_block does) and through
 * translate + optimize + the IR interpreter, from the same state, and
 * compares the complete CpuState (flags materialised) and RAM.
 */
#ifndef VIREO_TESTS_UNIT_JIT_TEST_H
#define VIREO_TESTS_UNIT_JIT_TEST_H

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/disas.h"
#include "cpu/exec_insn.h"
#include "jit/backend.h"
#include "jit/cache.h"
#include "jit/jit.h"
#include "jit/translate.h"
#include "util/log.h"

#define RAM_SIZE 0x800000
#define CODE 0x100000
#define DATA 0x200000
#define STACK_TOP 0x300000
#define HOLE 0x600000          /* not mapped in 64-bit mode */
#define PML4 0x10000

/* The RAM a test program can change: page tables (A/D bits), code,
 * data, the second data area ([rbx+rbx*1]) and the stack. */
static const struct { uint32_t base, len; } jitbox_windows[] = {
    { PML4, 0x3000 }, { CODE, 0x10000 }, { DATA, 0x10000 },
    { 2 * DATA, 0x1000 }, { STACK_TOP - 0x10000, 0x20000 },
};
#define JITBOX_WINDOWS (sizeof(jitbox_windows) / sizeof(jitbox_windows[0]))

/* Real mode reaches the first MiB (and 64 KiB) through any segment. */
#define REAL_WINDOW 0x110000

static inline void jitbox_copy(uint8_t *to, const uint8_t *from, bool real)
{
    for (size_t w = 0; w < JITBOX_WINDOWS; w++)
        memcpy(to + jitbox_windows[w].base, from + jitbox_windows[w].base,
               jitbox_windows[w].len);
    if (real)
        memcpy(to, from, REAL_WINDOW);
}

typedef struct JitBox {
    AddressSpace mem, io;
    Cpu cpu;
    Jit jit;
    uint8_t *ram, *ram_before, *ram_interp;
    CpuState before, interp;
    IrBlock *ir;
    const JitBackend *backend;   /* the IR interpreter unless changed */
    unsigned blocks_compared;
} JitBox;

static inline void jb_put64(JitBox *b, uint64_t pa, uint64_t v)
{
    memcpy(b->ram + pa, &v, 8);
}

/* What jit/jit.c does when a store invalidates a block. */
static inline void jitbox_invalidated(void *opaque, Block *blk)
{
    ((Jit *)opaque)->stale = 1;
}

enum { JITBOX_REAL, JITBOX_FLAT32, JITBOX_LONG };

static inline JitBox *jitbox_new_mode(int mode)
{
    JitBox *b = calloc(1, sizeof(*b));
    cr_assert(b);
    b->ram = calloc(1, RAM_SIZE);
    b->ram_before = malloc(RAM_SIZE);
    b->ram_interp = malloc(RAM_SIZE);
    b->ir = calloc(1, sizeof(*b->ir));
    cr_assert(b->ram && b->ram_before && b->ram_interp && b->ir);
    ir_init(b->ir);
    as_init(&b->mem, "memory", 0);
    as_init(&b->io, "io", 1u << 16);
    cr_assert_eq(as_map_ram(&b->mem, "ram", 0, RAM_SIZE, b->ram), 0);
    Cpu *c = &b->cpu;
    cpu_init(c, &b->mem, &b->io);
    c->stop_on_exception = true;
    c->jit = &b->jit;
    b->backend = &jit_backend_irinterp;
    b->jit.cache = jit_cache_new(4u << 20);
    cr_assert(b->jit.cache);
    block_cache_on_invalidate(c->blocks, jitbox_invalidated, &b->jit);
    for (int i = 0; i < SEG_COUNT; i++)
        c->s.seg[i] = (SegmentCache){ .base = 0, .limit = 0xffffffff,
                                      .selector = 0x10,
                                      .attr = 0x93 | SEG_ATTR_DB | SEG_ATTR_G };
    c->s.seg[SEG_CS].selector = 0x08;
    c->s.seg[SEG_CS].attr = 0x9b | SEG_ATTR_DB | SEG_ATTR_G;
    c->s.cr0 = CR0_PE | CR0_ET;
    if (mode == JITBOX_REAL) {
        /* Real mode, with the segment caches pointing at CODE and DATA. */
        c->s.cr0 = CR0_ET;
        for (int i = 0; i < SEG_COUNT; i++)
            c->s.seg[i] = (SegmentCache){ .base = DATA, .limit = 0xffff,
                                          .selector = (DATA >> 4) & 0xffff,
                                          .attr = 0x93 };
        c->s.seg[SEG_CS] = (SegmentCache){ .base = CODE, .limit = 0xffff,
                                           .selector = (CODE >> 4) & 0xffff,
                                           .attr = 0x9b };
    }
    if (mode == JITBOX_LONG) {
        /* Identity map 0-8 MiB with 2 MiB pages, but HOLE. */
        jb_put64(b, PML4, (PML4 + 0x1000) | 3);
        jb_put64(b, PML4 + 0x1000, (PML4 + 0x2000) | 3);
        for (uint64_t i = 0; i < 4; i++) {
            if (i * 0x200000 != HOLE)
                jb_put64(b, PML4 + 0x2000 + i * 8, (i * 0x200000) | 0x83);
        }
        c->s.cr3 = PML4;
        c->s.cr4 |= CR4_PAE;
        c->s.efer = EFER_LME | EFER_LMA;
        c->s.cr0 |= CR0_PG;
        c->s.seg[SEG_CS].attr = 0x9b | SEG_ATTR_L | SEG_ATTR_G;
    }
    cpu_update_mode(c);
    c->s.rip = mode == JITBOX_REAL ? 0 : CODE;
    c->s.regs[R_SP] = mode == JITBOX_REAL ? 0x8000 : STACK_TOP;
    c->s.regs[R_BX] = mode == JITBOX_REAL ? 0x100 : DATA;
    return b;
}

static inline JitBox *jitbox_new(bool long_mode)
{
    return jitbox_new_mode(long_mode ? JITBOX_LONG : JITBOX_FLAT32);
}

static inline void jitbox_free(JitBox *b)
{
    cpu_destroy(&b->cpu);
    jit_cache_free(b->jit.cache);
    as_destroy(&b->mem);
    as_destroy(&b->io);
    ir_free(b->ir);
    free(b->ir);
    free(b->ram);
    free(b->ram_before);
    free(b->ram_interp);
    free(b);
}

/* Decode the block at CS:RIP as cpu/exec.c does (without the straddling
 * second page) and register it in the block cache, so that stores to it
 * invalidate it.  NULL when the fetch faults. */
static inline Block *jitbox_block(JitBox *b)
{
    Cpu *c = &b->cpu;
    uint64_t linear, phys;
    if (mem_code_address(c, &linear, &phys) != CPU_OK)
        return NULL;
    Block *blk = block_lookup(c->blocks, phys, c->mode);
    if (blk && !blk->invalid)
        return blk;
    DecodedInsn insns[BLOCK_MAX_INSNS];
    uint32_t n = 0;
    uint64_t lin = linear;
    while (n < BLOCK_MAX_INSNS) {
        uint8_t bytes[15];
        size_t got = mem_fetch_code(c, lin, bytes, 15);
        decode_insn(bytes, got, c->mode, &c->features, &insns[n]);
        if (((lin + insns[n].len - 1) >> PAGE_SHIFT) != (linear >> PAGE_SHIFT) &&
            n > 0)
            break;
        n++;
        if (insns[n - 1].attr & DA_END)
            break;
        lin += insns[n - 1].len;
        if ((lin >> PAGE_SHIFT) != (linear >> PAGE_SHIFT))
            break;
    }
    return block_insert(c->blocks, phys, UINT64_MAX, c->mode, insns, n);
}

/* cpu/exec.c's run_block, returning the last status. */
static inline int jitbox_interp(JitBox *b, Block *blk)
{
    Cpu *c = &b->cpu;
    int r = CPU_OK;
    for (uint32_t i = 0; i < blk->count; i++) {
        r = run_insn(c, &blk->insns[i]);
        if (r == CPU_RESTART) {
            c->s.eflags |= F_RF;
            return r;
        }
        if (r != CPU_OK || blk->invalid || c->s.icount >= c->icount_limit)
            return r;
    }
    return r;
}

static inline int jitbox_jit(JitBox *b, Block *blk)
{
    Cpu *c = &b->cpu;
    JitBlock jb = { .block = blk, .insns = blk->count };
    jb.assumptions = jit_assumptions(c);
    jit_translate(c, blk, jb.assumptions, b->ir);
    jit_optimize(b->ir);
    /* JIT_TEST_TRACE=1 in the environment: each block's IR on stderr. */
    if (getenv("JIT_TEST_TRACE")) {
        log_mask |= LOG_IN_ASM;
        log_printf("block at %llx, %u insns\n",
                   (unsigned long long)c->s.rip, blk->count);
        uint64_t lin = c->s.seg[SEG_CS].base + c->s.rip;
        for (uint32_t i = 0; i < blk->count; i++) {
            uint8_t bytes[15];
            size_t got = mem_fetch_code(c, lin, bytes, blk->insns[i].len);
            disas_log(bytes, got, lin, c->mode);
            for (size_t k = 0; k < got; k++)
                log_printf("%02x%s", bytes[k], k + 1 < got ? " " : "\n");
            lin += blk->insns[i].len;
        }
        ir_dump(b->ir);
    }
    if (!b->backend->emit(b->jit.cache, b->ir, &jb)) {
        jit_cache_flush(b->jit.cache);
        cr_assert(b->backend->emit(b->jit.cache, b->ir, &jb));
    }
    if (getenv("JIT_TEST_TRACE"))
        b->backend->disas(&jb);
    b->jit.stale = 0;
    int r = b->backend->enter(c, &jb);
    if (r == CPU_RESTART)
        c->s.eflags |= F_RF;
    b->backend->release(&jb);
    return r;
}

/* The translation left the block early (after an instruction that may
 * change its assumptions): run the rest in the interpreter, as the
 * dispatcher would. */
static inline int jitbox_finish(JitBox *b, Block *blk, int r)
{
    Cpu *c = &b->cpu;
    uint64_t rip = b->before.rip;
    uint32_t i = 0;
    while (i < blk->count && rip != c->s.rip)
        rip += blk->insns[i++].len;
    if (i == blk->count || c->s.icount - b->before.icount != i ||
        blk->invalid)
        return r;   /* it did not stop inside the block */
    for (; i < blk->count; i++) {
        r = run_insn(c, &blk->insns[i]);
        if (r != CPU_OK || blk->invalid)
            return r;
    }
    return r;
}

/* Materialise the lazy flags: two lazy forms may mean the same flags. */
static inline void jitbox_norm_flags(CpuState *s)
{
    static Cpu tmp;
    tmp.s = *s;
    uint32_t f = cc_compute(&tmp);
    s->cc_op = CC_OP(CC_EFLAGS, 0);
    s->cc_src = f;
    s->cc_dst = 0;
    s->cc_src2 = 0;
}

static inline void jitbox_compare(JitBox *b, const char *what)
{
    CpuState x = b->interp, y = b->cpu.s;
    jitbox_norm_flags(&x);
    jitbox_norm_flags(&y);
    for (int r = 0; r < 16; r++)
        cr_assert_eq(y.regs[r], x.regs[r],
                     "%s: reg %d jit %llx interp %llx (block at %llx, "
                     "icount %llu/%llu)", what, r,
                     (unsigned long long)y.regs[r],
                     (unsigned long long)x.regs[r],
                     (unsigned long long)b->before.rip,
                     (unsigned long long)y.icount,
                     (unsigned long long)x.icount);
    cr_assert_eq(y.rip, x.rip, "%s: rip jit %llx interp %llx", what,
                 (unsigned long long)y.rip, (unsigned long long)x.rip);
    cr_assert_eq(y.cc_src, x.cc_src,
                 "%s: flags jit %llx interp %llx (block at %llx)", what,
                 (unsigned long long)y.cc_src, (unsigned long long)x.cc_src,
                 (unsigned long long)b->before.rip);
    cr_assert_eq(y.icount, x.icount, "%s: icount jit %llu interp %llu", what,
                 (unsigned long long)y.icount, (unsigned long long)x.icount);
    cr_assert_eq(y.exception.vector, x.exception.vector, "%s: exception", what);
    cr_assert_eq(memcmp(&x, &y, sizeof(x)), 0, "%s: CpuState differs", what);
    for (size_t w = 0; w < JITBOX_WINDOWS; w++) {
        size_t base = jitbox_windows[w].base;
        if (!memcmp(b->ram + base, b->ram_interp + base, jitbox_windows[w].len))
            continue;
        for (size_t i = base; i < base + jitbox_windows[w].len; i++)
            cr_assert_eq(b->ram[i], b->ram_interp[i],
                         "%s: RAM at %zx jit %02x interp %02x", what, i,
                         b->ram[i], b->ram_interp[i]);
    }
    if (cpu_is_real(&b->cpu))
        cr_assert_eq(memcmp(b->ram, b->ram_interp, REAL_WINDOW), 0,
                     "%s: RAM below 1 MiB differs", what);
}

/* Run the block at CS:RIP both ways from the same state and compare;
 * returns the status (the state is then the JIT's), -1 if no block. */
static inline int jitbox_step(JitBox *b, const char *what)
{
    Cpu *c = &b->cpu;
    Block *blk = jitbox_block(b);
    if (!blk)
        return -1;
    c->icount_limit = UINT64_MAX / 2;
    b->before = c->s;
    bool real = cpu_is_real(c);
    jitbox_copy(b->ram_before, b->ram, real);
    int ri = jitbox_interp(b, blk);
    b->interp = c->s;
    jitbox_copy(b->ram_interp, b->ram, real);

    c->s = b->before;
    jitbox_copy(b->ram, b->ram_before, real);
    tlb_flush_all(&c->tlb);
    blk = jitbox_block(b);
    int rj = jitbox_jit(b, blk);
    if ((rj == CPU_OK || rj == CPU_EXIT) && !c->s.halted &&
        (c->s.rip != b->interp.rip || rj != ri))
        rj = jitbox_finish(b, blk, rj);
    if (getenv("JIT_TEST_TRACE"))
        log_printf("status jit %d interp %d, rip %llx/%llx, icount %llu/%llu,"
                   " exception %d/%d\n", rj, ri,
                   (unsigned long long)c->s.rip,
                   (unsigned long long)b->interp.rip,
                   (unsigned long long)c->s.icount,
                   (unsigned long long)b->interp.icount,
                   c->s.exception.vector, b->interp.exception.vector);
    /* Both leave the block: the interpreter after a store to it, the
     * translation with CPU_EXIT. */
    if (ri == CPU_OK && rj == CPU_EXIT && blk->invalid)
        ri = CPU_EXIT;
    cr_assert_eq(rj, ri, "%s: status jit %d interp %d (block at %llx)", what,
                 rj, ri, (unsigned long long)b->before.rip);
    jitbox_compare(b, what);
    b->blocks_compared++;
    return rj;
}

#endif

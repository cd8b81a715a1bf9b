/* -d jitcheck: lockstep checking (see jitcheck.h for the rules).
 *
 * Writes are found through the TLB: before each run every write tag is
 * dropped, so a run can only store to a page after cpu/mem.c filled the
 * TLB for it (for the store, or for a read that granted the write tag
 * too), and the fill calls jitcheck_fill, which saves the page.  The JIT runs first (so its inline
 * store path still serves the second and later stores to a page), then
 * its pages are put back and the interpreter runs the same number of
 * instructions.
 */
#include "jit/jitcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/disas.h"
#include "cpu/insn.h"
#include "jit/translate.h"
#include "util/log.h"

JitCheck *jitcheck_new(Jit *jit)
{
    JitCheck *c = calloc(1, sizeof(*c));
    if (!c)
        die("out of memory for jitcheck");
    c->jit = jit;
    const char *every = getenv("VIREO_JITCHECK_EVERY");
    c->every = every ? (uint32_t)strtoul(every, NULL, 10) : 1;
    if (!c->every)
        c->every = 1;
    c->countdown = c->every;
    return c;
}

void jitcheck_free(JitCheck *c)
{
    if (!c)
        return;
    log_printf("jitcheck: %llu blocks checked, %llu run unchecked, 0 mismatches\n",
               (unsigned long long)c->checked, (unsigned long long)c->skipped);
    free(c->pages);
    free(c);
}

/* Instructions whose effects reach devices or host time: their blocks
 * cannot run twice. */
static bool insn_is_pure(const DecodedInsn *d)
{
    switch (d->id) {
    case INSN_IN: case INSN_OUT: case INSN_INS: case INSN_OUTS:
    case INSN_RDTSC: case INSN_RDTSCP: case INSN_RDPMC:
    case INSN_RDMSR: case INSN_WRMSR: case INSN_MOV_TO_CR:
    case INSN_MONITOR: case INSN_MWAIT:
        return false;
    default:
        return true;
    }
}

static bool block_is_pure(const Block *b)
{
    for (uint32_t i = 0; i < b->count; i++)
        if (!insn_is_pure(&b->insns[i]))
            return false;
    return true;
}

void jitcheck_fill(JitCheck *c, uint64_t frame, uintptr_t host, bool write)
{
    if (!host) {
        c->mmio = true;
        return;
    }
    if (!write)
        return;
    for (unsigned i = 0; i < c->npages; i++)
        if (c->pages[i].frame == frame)
            return;
    if (c->npages == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->pages = realloc(c->pages, c->cap * sizeof(*c->pages));
        if (!c->pages)
            die("out of memory for jitcheck");
    }
    JitCheckPage *p = &c->pages[c->npages++];
    p->frame = frame;
    p->host = (uint8_t *)host;
    p->jit_wrote = false;
    memcpy(p->before, p->host, PAGE_SIZE);
}

/* Every store of the coming run must fill the TLB first. */
static void begin_run(JitCheck *c)
{
    Tlb *t = &c->jit->cpu->tlb;
    for (int p = 0; p < TLB_PRIVILEGES; p++) {
        for (unsigned i = 0; i < TLB_SIZE; i++)
            t->entries[p][i].tag[TLB_WRITE] = TLB_INVALID;
        for (unsigned i = 0; i < TLB_VICTIMS; i++)
            t->victims[p][i].tag[TLB_WRITE] = TLB_INVALID;
    }
    c->mmio = false;
    c->active = true;
}

/* The state with EFLAGS materialised and the lazy-flag words cleared:
 * the JIT may leave flags in another lazy form than the interpreter. */
static void normalise(Cpu *cpu, CpuState *out)
{
    *out = cpu->s;
    out->eflags = cpu_get_eflags(cpu);
    out->cc_op = CC_EFLAGS;
    out->cc_dst = out->cc_src = out->cc_src2 = 0;
}

static void print_state(const char *who, const CpuState *s)
{
    static const char *const names[16] = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    };
    log_printf("%s:\n", who);
    for (int i = 0; i < 16; i++)
        log_printf("  %-3s %016llx%s", names[i], (unsigned long long)s->regs[i],
                   i % 4 == 3 ? "\n" : "");
    log_printf("  rip %016llx  eflags %08llx  icount %llu  exception %d/%x"
               "  shadow %u  halted %u\n",
               (unsigned long long)s->rip, (unsigned long long)s->eflags,
               (unsigned long long)s->icount, s->exception.vector,
               s->exception.error_code, s->intr_shadow, s->halted);
}

static void dump_block(JitCheck *c, const Block *b)
{
    Cpu *cpu = c->jit->cpu;
    const JitBlock *jb = b->jit;
    log_printf("IN: block at phys %llx (rip %llx), %u instructions\n",
               (unsigned long long)b->phys, (unsigned long long)c->before.rip,
               b->count);
    uint64_t off = 0;
    for (uint32_t i = 0; i < b->count; i++) {
        uint8_t bytes[15];
        unsigned len = b->insns[i].len;
        for (unsigned k = 0; k < len; k++) {
            uint64_t a = b->phys + off + k;
            if ((a >> PAGE_SHIFT) != (b->phys >> PAGE_SHIFT))
                a = b->phys2 + (a & (PAGE_SIZE - 1));
            as_read_buf(cpu->mem, a, &bytes[k], 1);
        }
        disas_log(bytes, len, c->before.rip + off, b->mode);
        off += len;
    }
    IrBlock *ir = malloc(sizeof(*ir));
    if (ir) {
        ir_init(ir);
        jit_translate(cpu, b, jb->assumptions, ir);
        jit_optimize(ir);
        log_printf("OP:\n");
        ir_dump(ir);
        ir_free(ir);
        free(ir);
    }
    if (c->jit->backend->disas) {
        log_printf("OUT: %s backend, %zu bytes\n", c->jit->backend->name,
                   jb->code_size);
        c->jit->backend->disas(jb);
    }
}

static bool compare(JitCheck *c, const Block *b)
{
    Cpu *cpu = c->jit->cpu;
    CpuState interp;
    normalise(cpu, &interp);
    bool same = memcmp(&interp, &c->jit_state, sizeof(interp)) == 0;
    if (!same) {
        const uint8_t *x = (const uint8_t *)&interp;
        const uint8_t *y = (const uint8_t *)&c->jit_state;
        size_t i = 0;
        while (x[i] == y[i])
            i++;
        log_printf("jitcheck: CpuState differs first at byte offset %zu\n", i);
    }
    for (unsigned i = 0; i < c->npages; i++) {
        const JitCheckPage *p = &c->pages[i];
        const uint8_t *want = p->host;   /* the interpreter's result */
        const uint8_t *got = p->jit_wrote ? p->jit_after : p->before;
        for (unsigned k = 0; k < PAGE_SIZE; k++) {
            if (want[k] != got[k]) {
                log_printf("jitcheck: memory differs at phys %llx: "
                           "interpreter %02x, JIT %02x\n",
                           (unsigned long long)(p->frame + k), want[k], got[k]);
                same = false;
                break;
            }
        }
    }
    if (same)
        return true;
    log_printf("jitcheck: MISMATCH after block at phys %llx\n",
               (unsigned long long)b->phys);
    print_state("before", &c->before);
    print_state("JIT", &c->jit_state);
    print_state("interpreter", &interp);
    dump_block(c, b);
    return false;
}

static void __attribute__((noreturn)) fail(const Block *b)
{
    fprintf(stderr, "vireo: jitcheck: translated block at phys %llx "
            "disagrees with the interpreter (details in the log)\n",
            (unsigned long long)b->phys);
    abort();
}

void jitcheck_run(JitCheck *c, Block *b)
{
    Jit *jit = c->jit;
    Cpu *cpu = jit->cpu;
    JitBlock *jb = b->jit;
    if (--c->countdown) {
        jit_enter(jit, jb);
        return;
    }
    c->countdown = c->every;
    if (!block_is_pure(b)) {
        jit_enter(jit, jb);
        c->skipped++;
        return;
    }
    c->before = cpu->s;
    uint32_t mode = cpu->mode;
    uint8_t debug_active = cpu->debug_active;
    uint64_t limit = cpu->icount_limit;
    c->npages = 0;
    begin_run(c);
    jit_enter(jit, jb);
    c->active = false;
    bool moved = cpu->s.icount != c->before.icount ||
                 cpu->s.rip != c->before.rip ||
                 cpu->s.exception.vector >= 0;
    if (c->mmio || b->invalid || b->jit != jb || !moved) {
        c->skipped++;
        return;
    }
    if (cpu->s.icount > limit) {
        /* The interpreter never retires past its budget. */
        log_printf("jitcheck: the JIT ran to icount %llu, past its budget %llu\n",
                   (unsigned long long)cpu->s.icount, (unsigned long long)limit);
        normalise(cpu, &c->jit_state);
        print_state("JIT", &c->jit_state);
        dump_block(c, b);
        fail(b);
    }
    /* Put the JIT's results aside and undo its stores. */
    normalise(cpu, &c->jit_state);
    for (unsigned i = 0; i < c->npages; i++) {
        JitCheckPage *p = &c->pages[i];
        memcpy(p->jit_after, p->host, PAGE_SIZE);
        memcpy(p->host, p->before, PAGE_SIZE);
        p->jit_wrote = true;
    }
    cpu->s = c->before;
    cpu->mode = mode;
    cpu->debug_active = debug_active;
    /* The same instructions: the interpreter stops where the JIT did, or
     * tries one more if the JIT stopped on a fault (which retires
     * nothing). */
    cpu->icount_limit = c->jit_state.icount +
                        (c->jit_state.exception.vector >= 0);
    begin_run(c);
    cpu_run_block(cpu, b);
    c->active = false;
    cpu->icount_limit = limit;
    if (c->mmio)
        log_printf("jitcheck: the interpreter reached MMIO, the JIT did not\n");
    if (c->mmio || !compare(c, b))
        fail(b);
    c->checked++;
    jit->stats.checked++;
}

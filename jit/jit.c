/* The tier-1 dispatcher (docs/jit.md): hot-block counting, translation,
 * entry into translated code, chaining, the jump cache and invalidation.
 *
 * cpu_exec (cpu/exec.c) keeps its loop: exceptions, interrupts, the debug
 * rules and the interrupt shadow stay there, and for an ordinary block it
 * asks jit_run_block first.  A translation lives as long as its decoded
 * Block: the block cache tells us when a block is invalidated (a write to
 * its page, a flush), and we unchain it at once and free it when no
 * translated code can be running.
 */
#include "jit/jit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/insn.h"
#include "jit/cache.h"
#include "jit/jitcheck.h"
#include "jit/translate.h"
#include "util/log.h"

/* A JitBlock and the dispatcher's list links (jb first: a JitBlock
 * pointer is a JitNode pointer). */
typedef struct JitNode {
    JitBlock jb;
    struct JitNode *prev, *next;
} JitNode;

static JitNode *node_of(JitBlock *jb)
{
    return (JitNode *)jb;
}

const JitBackend *jit_backend_default(void)
{
    const char *name = getenv("VIREO_JIT_BACKEND");
    if (name && strcmp(name, "irinterp") == 0)
        return &jit_backend_irinterp;
    return jit_backend_native();
}

uint32_t jit_threshold_from_env(void)
{
    const char *v = getenv("VIREO_JIT_THRESHOLD");
    return v ? (uint32_t)strtoul(v, NULL, 10) : JIT_DEFAULT_THRESHOLD;
}

/* ---- links between translations ---------------------------------------- */

static void link_remove(JitLink **list, const JitBlock *from, unsigned slot)
{
    for (JitLink **pp = list; *pp; pp = &(*pp)->next) {
        if ((*pp)->from == from && (*pp)->slot == slot) {
            JitLink *dead = *pp;
            *pp = dead->next;
            free(dead);
            return;
        }
    }
}

/* Make jb unreachable from other translations and forget where its own
 * exits lead.  Its code may still be running (a store inside it
 * invalidated it): the code stays in the cache, and jit->stale makes it
 * leave at its next check. */
static void unlink_block(Jit *jit, JitBlock *jb)
{
    while (jb->incoming) {
        JitLink *l = jb->incoming;
        jb->incoming = l->next;
        jit->backend->unchain(l->from, l->slot);
        l->from->chained[l->slot] = NULL;
        free(l);
    }
    for (unsigned slot = 0; slot < 2; slot++) {
        JitBlock *to = jb->chained[slot];
        if (to) {
            link_remove(&to->incoming, jb, slot);
            jit->backend->unchain(jb, slot);
            jb->chained[slot] = NULL;
        }
    }
}

/* ---- translation lifetime ---------------------------------------------- */

/* The block cache invalidated b: drop its translation.  Called inside
 * stores, so nothing is freed here (see free_dead). */
static void block_invalidated(void *opaque, Block *b)
{
    Jit *jit = opaque;
    jit->jump_epoch++;
    JitBlock *jb = b->jit;
    if (!jb)
        return;
    JitNode *n = node_of(jb);
    unlink_block(jit, jb);
    b->jit = NULL;
    jb->block = NULL;
    if (n->prev)
        n->prev->next = n->next;
    else
        jit->live = n->next;
    if (n->next)
        n->next->prev = n->prev;
    n->prev = NULL;
    n->next = jit->dead;
    jit->dead = n;
    /* The running translation may be this one, or chained to it. */
    jit->stale = 1;
}

/* Free dropped translations: only from the dispatcher, when no
 * translated code runs and jit->exit_block has been consumed. */
static void free_dead(Jit *jit)
{
    while (jit->dead) {
        JitNode *n = jit->dead;
        jit->dead = n->next;
        jit->backend->release(&n->jb);
        free(n);
    }
}

static void drop_all(Jit *jit)
{
    while (jit->live)
        block_invalidated(jit, jit->live->jb.block);
    free_dead(jit);
    jit->jump_epoch++;
}

static void flush_code_cache(Jit *jit)
{
    drop_all(jit);
    jit_cache_flush(jit->cache);
    jit->stats.cache_flushes++;
    LOG(LOG_OUT_ASM, "OUT: code cache flushed\n");
}

/* An emit that fails with less room than this left in the code cache is
 * taken for a full cache (a block's code is a few KiB); with more, the
 * backend cannot translate the block, and flushing would not help. */
#define JIT_CACHE_LOW (256u << 10)

/* Translate b under the current assumptions; NULL if the backend cannot
 * (the block then waits for another `threshold` runs). */
static JitBlock *translate_block(Jit *jit, Block *b)
{
    Cpu *cpu = jit->cpu;
    uint32_t assumptions = jit_assumptions(cpu);
    ir_reset(&jit->ir);
    jit_translate(cpu, b, assumptions, &jit->ir);
    jit_optimize(&jit->ir);
    if (log_enabled(LOG_OP)) {
        log_printf("OP: block at phys %llx, %u instructions\n",
                   (unsigned long long)b->phys, b->count);
        ir_dump(&jit->ir);
    }
    JitNode *n = calloc(1, sizeof(*n));
    if (!n)
        die("out of memory for translations");
    n->jb.block = b;
    n->jb.assumptions = assumptions;
    n->jb.insns = b->count;
    bool ok = jit->backend->emit(jit->cache, &jit->ir, &n->jb);
    size_t room;
    jit_cache_next(jit->cache, &room);
    if (!ok && room < JIT_CACHE_LOW) {
        flush_code_cache(jit);   /* full: start again with an empty cache */
        ok = jit->backend->emit(jit->cache, &jit->ir, &n->jb);
    }
    if (!ok) {
        free(n);
        b->exec_count = 0;
        return NULL;
    }
    if (log_enabled(LOG_OUT_ASM) && jit->backend->disas) {
        log_printf("OUT: block at phys %llx, %zu bytes\n",
                   (unsigned long long)b->phys, n->jb.code_size);
        jit->backend->disas(&n->jb);
    }
    n->next = jit->live;
    if (jit->live)
        jit->live->prev = n;
    jit->live = n;
    b->jit = &n->jb;
    jit->stats.translated++;
    return &n->jb;
}

Jit *jit_new(Cpu *cpu, const JitBackend *backend, uint32_t threshold)
{
    if (!backend)
        return NULL;
    Jit *jit = calloc(1, sizeof(*jit));
    if (!jit)
        die("out of memory for the JIT");
    jit->cache = jit_cache_new(0);
    if (!jit->cache) {
        free(jit);
        return NULL;
    }
    jit->cpu = cpu;
    jit->backend = backend;
    jit->threshold = threshold;
    ir_init(&jit->ir);
    if (log_enabled(LOG_JITCHECK))
        jit->check = jitcheck_new(jit);
    block_cache_on_invalidate(cpu->blocks, block_invalidated, jit);
    cpu->jit = jit;
    /* Entries filled without the JIT may carry write tags on code pages
     * (cpu/mem.c withholds them only while the JIT is on). */
    tlb_flush_all(&cpu->tlb);
    return jit;
}

void jit_free(Jit *jit)
{
    if (!jit)
        return;
    drop_all(jit);
    block_cache_on_invalidate(jit->cpu->blocks, NULL, NULL);
    if (jit->cpu->jit == jit)
        jit->cpu->jit = NULL;
    jitcheck_free(jit->check);
    ir_free(&jit->ir);
    jit_cache_free(jit->cache);
    free(jit);
}

/* ---- finding blocks ------------------------------------------------------ */

/* CS:RIP as a linear address, or false where fetching there would fault
 * (the interpreter's lookup raises the fault). */
static bool code_linear(const Cpu *cpu, uint64_t *linear)
{
    uint64_t rip = cpu->s.rip;
    if (cpu_is_64(cpu)) {
        if ((uint64_t)((int64_t)(rip << 16) >> 16) != rip)
            return false;
        *linear = rip;
        return true;
    }
    const SegmentCache *cs = &cpu->s.seg[SEG_CS];
    if (rip > cs->limit)
        return false;
    *linear = (cs->base + rip) & 0xffffffffull;
    return true;
}

static JitJumpEntry *jump_slot(Jit *jit, uint64_t linear)
{
    uint64_t h = (linear * 0x9e3779b97f4a7c15ull) >> (64 - JIT_JUMP_CACHE_BITS);
    return &jit->jump[h];
}

/* The entry is only trusted while the TLB still maps `linear` to the same
 * physical address for execution at this privilege: TLB flushes (CR3,
 * INVLPG, a remap) need no epoch of their own. */
Block *jit_cached_block(Cpu *cpu)
{
    Jit *jit = cpu->jit;
    uint64_t linear;
    if (!code_linear(cpu, &linear) ||
        cpu->tlb_generation != cpu->mem->generation)
        return NULL;
    const JitJumpEntry *e = jump_slot(jit, linear);
    if (e->linear != linear || e->epoch != jit->jump_epoch ||
        e->mode != cpu->mode || !e->block)
        return NULL;
    int priv = cpu_cpl(cpu) == 3 ? TLB_USER : TLB_SUPERVISOR;
    const TlbEntry *t = tlb_lookup(&cpu->tlb, priv, linear, TLB_EXEC);
    if (!t || (t->phys | (linear & (PAGE_SIZE - 1))) != e->phys)
        return NULL;
    return e->block;
}

void jit_cache_block(Cpu *cpu, uint64_t linear, uint64_t phys, Block *b)
{
    Jit *jit = cpu->jit;
    /* A block reaching into a second page also depends on that page's
     * mapping, which the entry does not check. */
    if (b->phys2 != UINT64_MAX)
        return;
    *jump_slot(jit, linear) = (JitJumpEntry){
        .linear = linear, .phys = phys, .epoch = jit->jump_epoch,
        .mode = cpu->mode, .block = b,
    };
}

/* ---- running translations ----------------------------------------------- */

/* After `from` left through its unchained exit `slot` with CS:RIP at the
 * jump's target: patch the jump to go straight to the target's code when
 * the target is translated under the same assumptions and lies in the
 * guest page the dispatcher entered (docs/jit.md, Chaining): every block
 * of a chain then runs under the one page mapping the dispatcher checked. */
static void try_chain(Jit *jit, JitBlock *from, unsigned slot,
                      uint64_t entry_page)
{
    Cpu *cpu = jit->cpu;
    uint64_t linear, phys;
    if (!from->block || slot > 1 || !from->goto_site[slot] ||
        from->chained[slot] || !code_linear(cpu, &linear) ||
        (linear >> PAGE_SHIFT) != entry_page ||
        !mem_probe_code(cpu, linear, &phys))
        return;
    Block *t = block_lookup(cpu->blocks, phys, cpu->mode);
    if (!t || !t->jit || t->invalid || t->phys2 != UINT64_MAX ||
        (t->phys >> PAGE_SHIFT) != (from->block->phys >> PAGE_SHIFT) ||
        t->jit->assumptions != from->assumptions)
        return;
    JitLink *l = malloc(sizeof(*l));
    if (!l)
        return;
    JitBlock *to = t->jit;
    *l = (JitLink){ .from = from, .slot = slot, .next = to->incoming };
    to->incoming = l;
    from->chained[slot] = to;
    jit->backend->chain(from, slot, to);
    jit->stats.chained++;
}

int jit_enter(Jit *jit, JitBlock *jb)
{
    Cpu *cpu = jit->cpu;
    jit->stale = 0;
    jit->exit_block = NULL;
    jit->stats.entered++;
    int r = jit->backend->enter(cpu, jb);
    if (r == CPU_RESTART) {
        /* As run_block: interrupted between iterations, an event taken
         * now pushes RF = 1 (SDM Vol. 3 17.3.1.1). */
        cpu->s.eflags |= F_RF;
    }
    return r;
}

/* May the next block follow at once, or must cpu_exec's loop look at
 * the CPU first (an exception, an event that could be taken, a shadow,
 * the debug rules, HLT, a request to stop)?  A kick lowers the budget,
 * which the next entry test sees. */
static bool loop_can_skip(const Cpu *cpu)
{
    const CpuState *s = &cpu->s;
    return s->exception.vector < 0 && !s->halted &&
           s->intr_shadow == INTR_SHADOW_NONE && !s->debug_pending &&
           !cpu->debug_active && !(s->eflags & (F_TF | F_RF)) &&
           !(cpu->intr_pending && (s->eflags & F_IF)) &&
           !(s->nmi_pending && !s->nmi_blocked) &&
           !cpu->exit_request && !cpu->shutdown;
}

/* b's translation if it can run now (hot, same assumptions, budget for
 * all of it), translating it first if it just became hot; else NULL. */
static JitBlock *runnable(Jit *jit, Block *b, uint32_t assumptions)
{
    Cpu *cpu = jit->cpu;
    if (cpu->s.icount + b->count > cpu->icount_limit)
        return NULL;   /* the budget ends inside: the interpreter stops there */
    JitBlock *jb = b->jit;
    if (!jb) {
        if (b->exec_count + 1 < jit->threshold)
            return NULL;   /* not hot yet: the interpreter counts it */
        jb = translate_block(jit, b);
        if (!jb)
            return NULL;
    }
    return jb->assumptions == assumptions ? jb : NULL;
}

bool jit_run_block(Cpu *cpu, Block *b)
{
    Jit *jit = cpu->jit;
    free_dead(jit);
    uint64_t linear;
    JitBlock *jb = runnable(jit, b, jit_assumptions(cpu));
    if (!jb || !code_linear(cpu, &linear))
        return false;
    if (jit->check) {
        b->exec_count++;
        jitcheck_run(jit->check, b);
        return true;
    }
    for (;;) {
        /* The inline TLB path reads the TLB as translate() would use it. */
        if (cpu->tlb_generation != cpu->mem->generation) {
            tlb_flush_all(&cpu->tlb);
            cpu->tlb_generation = cpu->mem->generation;
        }
        b->exec_count++;
        int r = jit_enter(jit, jb);
        JitBlock *from = jit->exit_block;
        if (from)
            try_chain(jit, from, jit->exit_slot, linear >> PAGE_SHIFT);
        jit->exit_block = NULL;
        free_dead(jit);
        /* Straight on to the next block through the jump cache when the
         * loop in cpu_exec would do nothing else. */
        if (r != CPU_OK || !loop_can_skip(cpu) || !code_linear(cpu, &linear))
            return true;
        b = jit_cached_block(cpu);
        if (!b || !(jb = runnable(jit, b, jit_assumptions(cpu))))
            return true;
    }
}

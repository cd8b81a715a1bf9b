/* The interpreter: tier 0 of the execution engine (DESIGN.md, JIT).
 *
 * Finds or decodes the block at CS:RIP, runs its instructions by calling
 * their handlers, advances RIP and the retired-instruction count, and
 * delivers exceptions, NMI and external interrupts at instruction
 * boundaries.  While a debug feature is live (TF, RF, DR7 breakpoints, a
 * pending #DB trap) it runs one instruction at a time with the checks of
 * SDM Vol. 3 ch. 17 instead of whole blocks; otherwise a block costs one
 * test of those conditions.  The JIT builds on the same blocks and the
 * same handlers, and must leave that case to the interpreter.
 */
#include "cpu/block.h"
#include "cpu/debug.h"
#include "cpu/disas.h"
#include "cpu/exec_insn.h"
#include "cpu/insn.h"
#include "cpu/interrupt.h"
#include "jit/jit.h"
#include "util/log.h"

const InsnHandler insn_handlers[INSN_COUNT] = {
#define INSN(name) [INSN_##name] = h_##name,
#include "cpu/insns.def"
#undef INSN
};

/* How many of the next instruction's bytes may be fetched: up to 15, fewer
 * near the CS limit (the missing byte then faults as #GP when reached). */
static size_t fetch_window(const Cpu *cpu, uint64_t rip)
{
    if (cpu_is_64(cpu))
        return 15;
    uint64_t limit = cpu->s.seg[SEG_CS].limit;
    if (rip > limit)
        return 0;
    uint64_t room = limit - rip + 1;
    return room < 15 ? (size_t)room : 15;
}

static void log_block(Cpu *cpu, uint64_t linear, const DecodedInsn *insns,
                      uint32_t count)
{
    uint64_t lin = linear;
    log_printf("IN: block at %04x:%llx (linear %llx)\n",
               cpu->s.seg[SEG_CS].selector, (unsigned long long)cpu->s.rip,
               (unsigned long long)linear);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t bytes[15];
        size_t got = mem_fetch_code(cpu, lin, bytes, insns[i].len);
        disas_log(bytes, got, lin, cpu->mode);
        lin += insns[i].len;
    }
}

/* Decode from CS:RIP (linear `linear`, physical `phys`) until an
 * instruction that ends blocks, a page boundary, or BLOCK_MAX_INSNS. */
static Block *build_block(Cpu *cpu, uint64_t linear, uint64_t phys)
{
    DecodedInsn insns[BLOCK_MAX_INSNS];
    uint32_t n = 0;
    uint64_t lin = linear, rip = cpu->s.rip, phys2 = UINT64_MAX;
    uint64_t page = linear >> PAGE_SHIFT;
    while (n < BLOCK_MAX_INSNS) {
        uint8_t bytes[15];
        size_t got = mem_fetch_code(cpu, lin, bytes, fetch_window(cpu, rip));
        DecodedInsn *d = &insns[n];
        decode_insn(bytes, got, cpu->mode, &cpu->features, d);
        uint64_t last = lin + (d->len ? d->len - 1 : 0);
        if ((last >> PAGE_SHIFT) != page) {
            if (n > 0)
                break;   /* let the straddling instruction start a block */
            uint64_t p2;
            if (mem_probe_code(cpu, (page + 1) << PAGE_SHIFT, &p2))
                phys2 = p2 & ~(PAGE_SIZE - 1);
        }
        n++;
        if (d->attr & DA_END)
            break;
        lin += d->len;
        rip += d->len;
        if ((lin >> PAGE_SHIFT) != page)
            break;
    }
    if (log_enabled(LOG_IN_ASM))
        log_block(cpu, linear, insns, n);
    bool fresh1 = cpu->jit && !block_page_has_code(cpu->blocks, phys);
    bool fresh2 = cpu->jit && phys2 != UINT64_MAX &&
                  !block_page_has_code(cpu->blocks, phys2);
    Block *b = block_insert(cpu->blocks, phys, phys2, cpu->mode, insns, n);
    /* A page that just became code loses its write tags (cpu/mem.c). */
    if (fresh1)
        mem_withhold_code_writes(cpu, phys);
    if (fresh2)
        mem_withhold_code_writes(cpu, phys2);
    return b;
}

/* The block at CS:RIP, decoded if needed; NULL with a fault pending. */
static Block *find_block(Cpu *cpu)
{
    uint64_t linear, phys;
    if (cpu->jit) {
        Block *b = jit_cached_block(cpu);
        if (b)
            return b;
    }
    if (mem_code_address(cpu, &linear, &phys) != CPU_OK)
        return NULL;
    Block *b = block_lookup(cpu->blocks, phys, cpu->mode);
    if (b && b->phys2 != UINT64_MAX) {
        /* A block reaching into a second page is only valid while that
         * page maps to the same physical page. */
        uint64_t p2 = UINT64_MAX;
        uint64_t next_page = (linear | (PAGE_SIZE - 1)) + 1;
        if (!mem_probe_code(cpu, next_page, &p2) ||
            (p2 & ~(PAGE_SIZE - 1)) != b->phys2)
            b = NULL;
    }
    if (!b)
        b = build_block(cpu, linear, phys);
    if (cpu->jit)
        jit_cache_block(cpu, linear, phys, b);
    return b;
}

void cpu_run_block(Cpu *cpu, Block *b)
{
    b->exec_count++;
    for (uint32_t i = 0; i < b->count; i++) {
        int r = run_insn(cpu, &b->insns[i]);
        if (r == CPU_RESTART) {
            /* Interrupted between iterations: an event taken now pushes
             * RF = 1 (SDM Vol. 3 17.3.1.1), and the next step clears it. */
            cpu->s.eflags |= F_RF;
            return;
        }
        if (r != CPU_OK || b->invalid || cpu->s.icount >= cpu->icount_limit)
            return;
    }
}

/* One instruction under the debug rules of SDM Vol. 3 17.3 (cpu/debug.c):
 * entered instead of a block whenever TF or RF is set, DR7 enables a
 * breakpoint, or a #DB trap waits; the instruction breakpoint check has
 * been made. */
static void step_debug(Cpu *cpu, Block *b)
{
    CpuState *s = &cpu->s;
    const DecodedInsn *d = &b->insns[0];
    bool tf = s->eflags & F_TF;
    /* RF is cleared at the start of the instruction, after the check for
     * instruction breakpoints (17.3.1.1); IRET may set it again. */
    s->eflags &= ~(uint64_t)F_RF;
    /* Traps come after each iteration of a REP string instruction while
     * anything can trap: run at most one. */
    uint64_t limit = cpu->icount_limit;
    if (tf || cpu->debug_active)
        cpu->icount_limit = s->icount + 1;
    b->exec_count++;
    int r = run_insn(cpu, d);
    cpu->icount_limit = limit;
    if (r == CPU_FAULT) {
        /* A fault cancels the instruction's traps; it will run again.
         * Traps held over a MOV SS shadow survive INT n/INT3/INTO and
         * are taken on the handler's first instruction, as hardware does
         * (SDM Vol. 3 6.8.3). */
        if (!s->exception.is_soft)
            s->debug_pending = 0;
        return;
    }
    if (r == CPU_EXIT && d->id == INSN_FETCH_FAULT)
        return;   /* a stale block was dropped: no instruction ran */
    if (r == CPU_RESTART)
        s->eflags |= F_RF;   /* any iteration but the last (17.3.1.1) */
    if (tf)
        s->debug_pending |= DR6_BS;
    /* After MOV SS or POP SS the traps wait one more instruction. */
    if (s->debug_pending && s->intr_shadow != INTR_SHADOW_MOVSS)
        debug_raise_pending(cpu);
}

/* Take a pending NMI or external interrupt if no shadow blocks it (NMI
 * first, SDM Vol. 3 Table 6-2).  Returns true if one was delivered. */
static bool take_interrupt(Cpu *cpu, bool shadow)
{
    if (shadow)
        return false;
    if (cpu->s.nmi_pending && !cpu->s.nmi_blocked) {
        /* Blocked until the handler's IRET (6.7.1). */
        cpu->s.nmi_pending = 0;
        cpu->s.nmi_blocked = 1;
        cpu_deliver_external(cpu, EXC_NMI);
        return true;
    }
    if (!cpu->intr_pending || !(cpu->s.eflags & F_IF))
        return false;
    /* With a local APIC, INTA goes to it: it hands out its own vector or,
     * for ExtINT, runs the 8259's INTA (hw/lapic.c). */
    int vector;
    if (cpu->apic_ops)
        vector = cpu->apic_ops->ack(cpu->apic);
    else if (cpu->intr_ack)
        vector = cpu->intr_ack(cpu->intr_opaque);
    else
        return false;
    if (vector < 0)
        return false;
    cpu_deliver_external(cpu, vector);
    return true;
}

void cpu_kick(Cpu *cpu)
{
    /* A plain store: safe from a signal handler or another thread.  The
     * loop keeps its own budget and restores this one each iteration. */
    cpu->icount_limit = 0;
}

void cpu_raise_nmi(Cpu *cpu)
{
    cpu->s.nmi_pending = 1;
    /* Raised inside an instruction (a local APIC register write): end the
     * block after it so that the NMI is taken at the next boundary. */
    cpu_kick(cpu);
}

/* Would an NMI or INTR be taken at the next boundary without a shadow? */
static bool event_waiting(const Cpu *cpu)
{
    return (cpu->intr_pending && (cpu->s.eflags & F_IF)) ||
           (cpu->s.nmi_pending && !cpu->s.nmi_blocked);
}

/* Faults push RF = 1 so that the handler's IRET restarts the instruction
 * without re-triggering its instruction breakpoint (SDM Vol. 3 17.3.1.1);
 * #DB never does, nor traps and aborts.  Delivery clears RF in the
 * handler's EFLAGS, so setting it here only reaches the pushed image (or
 * the TSS of a task gate). */
static void mark_fault_rf(Cpu *cpu)
{
    const PendingException *e = &cpu->s.exception;
    if (e->is_soft != EXC_SOURCE_EXCEPTION)
        return;
    switch (e->vector) {
    case EXC_DB: case EXC_BP: case EXC_OF: case EXC_DF: case EXC_MC:
        return;
    default:
        cpu->s.eflags |= F_RF;
    }
}

uint64_t cpu_exec(Cpu *cpu, uint64_t icount_limit)
{
    uint64_t start = cpu->s.icount;
    while (cpu->s.icount < icount_limit && !cpu->shutdown) {
        /* cpu_kick lowered the budget to stop the last block; take it
         * back before looking at exit_request, so a kick that comes after
         * the look is not lost. */
        cpu->icount_limit = icount_limit;
        if (cpu->exit_request)
            break;
        block_cache_reclaim(cpu->blocks);
        if (cpu->s.exception.vector >= 0) {
            if (cpu->stop_on_exception)
                break;
            mark_fault_rf(cpu);
            cpu->s.intr_shadow = INTR_SHADOW_NONE;   /* an event ends it */
            cpu_deliver_pending(cpu);
            continue;
        }
        uint8_t shadow = cpu->s.intr_shadow;
        cpu->s.intr_shadow = INTR_SHADOW_NONE;
        /* Traps of the last instruction come first (Table 6-2). */
        if (__builtin_expect(cpu->s.debug_pending != 0, 0) &&
            shadow != INTR_SHADOW_MOVSS) {
            debug_raise_pending(cpu);
            continue;
        }
        if (take_interrupt(cpu, shadow != INTR_SHADOW_NONE))
            continue;
        if (cpu->s.halted)
            break;
        /* One test for every debug feature (bitwise: no branches). */
        uint64_t debug = (cpu->s.eflags & (F_TF | F_RF)) | cpu->debug_active |
                         cpu->s.debug_pending;
        /* Instruction breakpoints precede the fetch (Table 6-2). */
        if (__builtin_expect(debug, 0) && (cpu->debug_active & DEBUG_EXEC) &&
            !(cpu->s.eflags & F_RF) && shadow != INTR_SHADOW_MOVSS &&
            debug_check_exec(cpu))
            continue;
        Block *b = find_block(cpu);
        if (!b)
            continue;
        if (__builtin_expect(debug, 0)) {
            step_debug(cpu, b);
            continue;
        }
        if (shadow && event_waiting(cpu)) {
            /* STI/MOV SS shadow with an event waiting: run just the one
             * shadowed instruction, then take it (SDM Vol. 3 6.8.3). */
            cpu->icount_limit = cpu->s.icount + 1;
            cpu_run_block(cpu, b);
        } else if (!cpu->jit || !jit_run_block(cpu, b)) {
            cpu_run_block(cpu, b);
        }
    }
    return cpu->s.icount - start;
}

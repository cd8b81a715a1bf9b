/* The interpreter: tier 0 of the execution engine (DESIGN.md, JIT).
 *
 * Finds or decodes the block at CS:RIP, runs its instructions by calling
 * their handlers, advances RIP and the retired-instruction count, and
 * delivers exceptions and external interrupts at instruction boundaries.
 * The JIT builds on the same blocks and the same handlers.
 */
#include "cpu/block.h"
#include "cpu/disas.h"
#include "cpu/insn.h"
#include "cpu/interrupt.h"
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
    return block_insert(cpu->blocks, phys, phys2, cpu->mode, insns, n);
}

/* The block at CS:RIP, decoded if needed; NULL with a fault pending. */
static Block *find_block(Cpu *cpu)
{
    uint64_t linear, phys;
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
    return b ? b : build_block(cpu, linear, phys);
}

static void run_block(Cpu *cpu, Block *b)
{
    b->exec_count++;
    for (uint32_t i = 0; i < b->count; i++) {
        const DecodedInsn *d = &b->insns[i];
        uint64_t start = cpu->s.rip, next = insn_next_rip(cpu, d);
        int r = insn_handlers[d->id](cpu, d);
        if (r == CPU_FAULT && cpu->s.exception.is_soft) {
            /* The handler moved RIP past the INT; keep that as the return
             * address and point RIP back at the instruction. */
            cpu->s.exception.return_rip = cpu->s.rip;
            cpu->s.rip = start;
        }
        if (r != CPU_OK && r != CPU_EXIT)
            return;   /* CPU_FAULT: delivered by the loop; CPU_RESTART */
        if (!(d->attr & DA_BRANCH))
            cpu->s.rip = next;
        if (!(d->attr & DA_STRING))
            cpu->s.icount++;
        if (r == CPU_EXIT || b->invalid || cpu->s.icount >= cpu->icount_limit)
            return;
    }
}

/* Take a pending external interrupt if IF allows and no shadow blocks it.
 * Returns true if one was delivered. */
static bool take_interrupt(Cpu *cpu, bool shadow)
{
    if (shadow || !cpu->intr_pending || !(cpu->s.eflags & F_IF))
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

uint64_t cpu_exec(Cpu *cpu, uint64_t icount_limit)
{
    uint64_t start = cpu->s.icount;
    cpu->icount_limit = icount_limit;
    while (cpu->s.icount < icount_limit && !cpu->exit_request && !cpu->shutdown) {
        block_cache_reclaim(cpu->blocks);
        if (cpu->s.exception.vector >= 0) {
            if (cpu->stop_on_exception)
                break;
            cpu_deliver_pending(cpu);
            continue;
        }
        bool shadow = cpu->s.intr_shadow;
        cpu->s.intr_shadow = 0;
        if (take_interrupt(cpu, shadow))
            continue;
        if (cpu->s.halted)
            break;
        Block *b = find_block(cpu);
        if (!b)
            continue;
        if (shadow && cpu->intr_pending && (cpu->s.eflags & F_IF)) {
            /* STI/MOV SS shadow with an interrupt waiting: run just the one
             * shadowed instruction, then take it (SDM Vol. 3 6.8.3). */
            cpu->icount_limit = cpu->s.icount + 1;
            run_block(cpu, b);
            cpu->icount_limit = icount_limit;
        } else {
            run_block(cpu, b);
        }
    }
    return cpu->s.icount - start;
}

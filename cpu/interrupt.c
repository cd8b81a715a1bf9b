/* Exception and interrupt delivery (SDM Vol. 3 ch. 6, and 20.1.4 for real
 * mode).
 *
 * Real mode vectors through the IVT.  Protected mode uses 8-byte interrupt
 * and trap gates, with a stack switch from the TSS on a privilege change and
 * the extra frame of a virtual-8086 interruption (6.12.1); long mode uses
 * 16-byte gates, always pushes SS:RSP, aligns RSP to 16 bytes and honours
 * the IST (6.14).  A task gate (6.11.1) switches tasks (cpu/task.c).  A
 * fault during delivery combines with the first by the double-fault rules
 * of Table 6-5; a fault while delivering #DF is a triple fault, which sets
 * Cpu.shutdown for the board to act on.
 */
#include "cpu/insn.h"
#include "cpu/interrupt.h"
#include "cpu/segment.h"
#include "cpu/task.h"
#include "util/log.h"

enum { CLASS_BENIGN, CLASS_CONTRIBUTORY, CLASS_PAGE_FAULT };

static int exception_class(int vector)
{
    switch (vector) {
    case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP:
        return CLASS_CONTRIBUTORY;
    case EXC_PF:
        return CLASS_PAGE_FAULT;
    default:
        return CLASS_BENIGN;
    }
}

/* Table 6-5: does `second`, raised while delivering `first`, make #DF? */
static bool makes_double_fault(int first, int second)
{
    int a = exception_class(first), b = exception_class(second);
    if (a == CLASS_CONTRIBUTORY && b == CLASS_CONTRIBUTORY)
        return true;
    return a == CLASS_PAGE_FAULT && b != CLASS_BENIGN;
}

/* Where the interrupted program resumes: after the instruction for INT n,
 * INT3, INTO and INT1; at RIP (the faulting instruction, or the next one
 * for traps and external interrupts) otherwise. */
static uint64_t event_return_rip(const Cpu *cpu, const PendingException *e)
{
    return e->is_soft == EXC_SOURCE_SOFT ? e->return_rip : cpu->s.rip;
}

/* ---- real mode ---------------------------------------------------------- */

static int deliver_real(Cpu *cpu, const PendingException *e)
{
    uint64_t entry;
    if ((uint64_t)e->vector * 4 + 3 > cpu->s.idtr.limit)
        return cpu_raise(cpu, EXC_GP, (uint32_t)e->vector * 8 + 2, true);
    if (mem_read_linear(cpu, cpu->s.idtr.base + (uint64_t)e->vector * 4, 4,
                        &entry, true) != CPU_OK)
        return CPU_FAULT;
    uint64_t flags = cpu_get_eflags(cpu);
    if (stack_push(cpu, 2, flags) != CPU_OK ||
        stack_push(cpu, 2, cpu->s.seg[SEG_CS].selector) != CPU_OK ||
        stack_push(cpu, 2, event_return_rip(cpu, e)) != CPU_OK)
        return CPU_FAULT;
    cpu->s.eflags &= ~(uint64_t)(F_IF | F_TF | F_AC | F_RF);
    cpu_load_seg_real(cpu, SEG_CS, (uint16_t)(entry >> 16));
    cpu->s.rip = entry & 0xffff;
    return CPU_OK;
}

/* ---- protected and long mode ---------------------------------------------- */

typedef struct Gate {
    uint16_t selector;
    uint64_t offset;
    unsigned type;      /* 5 task, 6/7 16-bit int/trap, 14/15 int/trap */
    unsigned dpl;
    bool present;
    unsigned ist;
} Gate;

static int read_gate(Cpu *cpu, int vector, Gate *g, uint32_t idt_err)
{
    bool lm = cpu->mode & CPU_MODE_LONG;
    unsigned size = lm ? 16 : 8;
    uint64_t lo, hi = 0;
    if ((uint64_t)vector * size + size - 1 > cpu->s.idtr.limit)
        return cpu_raise(cpu, EXC_GP, idt_err, true);
    uint64_t addr = cpu->s.idtr.base + (uint64_t)vector * size;
    if (mem_read_linear(cpu, addr, 8, &lo, true) != CPU_OK ||
        (lm && mem_read_linear(cpu, addr + 8, 8, &hi, true) != CPU_OK))
        return CPU_FAULT;
    g->selector = (uint16_t)(lo >> 16);
    g->offset = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | (hi << 32);
    g->type = (lo >> 40) & 0xf;
    g->dpl = (lo >> 45) & 3;
    g->present = (lo >> 47) & 1;
    g->ist = (lo >> 32) & 7;
    if (!lm && g->type != 14 && g->type != 15)
        g->offset &= 0xffff;   /* 16-bit gates carry a 16-bit offset */
    return CPU_OK;
}

/* Check and load the new SS for a privilege change (SDM 6.12.1). */
static int load_inner_ss(Cpu *cpu, uint16_t ss, unsigned dpl, SegmentCache *out)
{
    if (cpu->mode & CPU_MODE_LONG) {
        out->selector = ss;
        out->base = 0;
        out->limit = 0xffffffff;
        out->attr = (uint16_t)(0x93 | (dpl << 5) | SEG_ATTR_DB | SEG_ATTR_G);
        return CPU_OK;
    }
    uint64_t desc;
    return seg_check_stack(cpu, ss, dpl, EXC_TS, out, &desc);
}

/* Write the frame at `sp` going down through the new SS, 4 or 8 bytes an
 * entry (2 for 16-bit gates), without touching the live registers. */
typedef struct Frame {
    Cpu *cpu;
    SegmentCache ss;
    uint64_t sp;
    unsigned width;      /* entry size */
    uint64_t sp_mask;
    bool supervisor;     /* the handler's CPL < 3: its stack is written as
                            a supervisor access, whatever the old CPL */
} Frame;

static int frame_push(Frame *f, uint64_t v)
{
    f->sp = (f->sp - f->width) & f->sp_mask;
    uint64_t lin = (f->cpu->mode & CPU_MODE_LONG) ? f->sp
                                                  : (f->ss.base + f->sp) & 0xffffffffull;
    if (!(f->cpu->mode & CPU_MODE_LONG) &&
        (f->sp > f->ss.limit || f->sp + f->width - 1 > f->ss.limit))
        return cpu_raise(f->cpu, EXC_SS, f->ss.selector & ~3u, true);
    return mem_write_linear(f->cpu, lin, f->width, v, f->supervisor);
}

static int deliver_protected(Cpu *cpu, const PendingException *e)
{
    bool lm = cpu->mode & CPU_MODE_LONG;
    bool ext = e->is_soft != EXC_SOURCE_SOFT;
    uint32_t idt_err = (uint32_t)e->vector * 8 + 2 + (ext ? 1 : 0);
    Gate g = { 0 };
    if (read_gate(cpu, e->vector, &g, idt_err) != CPU_OK)
        return CPU_FAULT;
    bool gate_ok = lm ? (g.type == 14 || g.type == 15)
                      : (g.type == 5 || g.type == 6 || g.type == 7 ||
                         g.type == 14 || g.type == 15);
    if (!gate_ok)
        return cpu_raise(cpu, EXC_GP, idt_err, true);
    if (e->is_soft == EXC_SOURCE_SOFT && g.dpl < cpu_cpl(cpu))
        return cpu_raise(cpu, EXC_GP, idt_err, true);
    if (!g.present)
        return cpu_raise(cpu, EXC_NP, idt_err, true);
    if (g.type == 5)
        return task_gate_deliver(cpu, g.selector, e, event_return_rip(cpu, e));

    /* The target code segment. */
    uint64_t desc;
    int vec;
    uint32_t cs_err = (g.selector & ~3u) + (ext ? 1 : 0);
    if ((g.selector & ~3u) == 0)
        return cpu_raise(cpu, EXC_GP, ext ? 1 : 0, true);
    if (desc_read(cpu, g.selector, &desc, &vec) != CPU_OK)
        return CPU_FAULT;
    SegmentCache cs;
    desc_to_cache(desc, g.selector, &cs);
    unsigned dpl = (cs.attr & SEG_ATTR_DPL) >> 5, cpl = cpu_cpl(cpu);
    bool code = (cs.attr & SEG_ATTR_S) && (cs.attr & 0x8);
    if (!code || dpl > cpl || (lm && !(cs.attr & SEG_ATTR_L)) ||
        (lm && (cs.attr & SEG_ATTR_DB)))
        return cpu_raise(cpu, EXC_GP, cs_err, true);
    if (!(cs.attr & SEG_ATTR_P))
        return cpu_raise(cpu, EXC_NP, cs_err, true);
    bool conforming = cs.attr & 0x4;
    bool v86 = cpu->mode & CPU_MODE_V86;
    unsigned new_cpl = conforming ? cpl : dpl;
    if (v86 && new_cpl != 0)
        return cpu_raise(cpu, EXC_GP, cs_err, true);
    bool inner = new_cpl < cpl || (lm && g.ist);

    Frame f = { .cpu = cpu, .ss = cpu->s.seg[SEG_SS], .sp = cpu->s.regs[R_SP],
                .supervisor = new_cpl < 3 };
    f.width = lm ? 8 : (g.type >= 14 ? 4 : 2);
    uint64_t old_ss = cpu->s.seg[SEG_SS].selector, old_sp = cpu->s.regs[R_SP];
    if (inner) {
        uint16_t ss = 0;
        if (task_inner_stack(cpu, new_cpl, lm ? g.ist : 0, &ss, &f.sp) != CPU_OK ||
            load_inner_ss(cpu, ss, new_cpl, &f.ss) != CPU_OK)
            return CPU_FAULT;
    }
    if (lm) {
        f.sp_mask = ~0ull;
        f.sp &= ~15ull;     /* 64-bit frames start 16-byte aligned */
    } else {
        f.sp_mask = (f.ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffff;
    }

    int r = CPU_OK;
    if (v86) {
        for (int s = SEG_GS; r == CPU_OK && s >= SEG_ES; s--)
            if (s == SEG_GS || s == SEG_FS || s == SEG_DS || s == SEG_ES)
                r = frame_push(&f, cpu->s.seg[s].selector);
    }
    if (r == CPU_OK && (inner || lm)) {
        r = frame_push(&f, old_ss);
        if (r == CPU_OK)
            r = frame_push(&f, old_sp);
    }
    if (r == CPU_OK) r = frame_push(&f, cpu_get_eflags(cpu));
    if (r == CPU_OK) r = frame_push(&f, cpu->s.seg[SEG_CS].selector);
    if (r == CPU_OK) r = frame_push(&f, event_return_rip(cpu, e));
    if (r == CPU_OK && e->has_error_code) r = frame_push(&f, e->error_code);
    if (r != CPU_OK)
        return CPU_FAULT;

    /* Commit: nothing below can fault. */
    if (v86)
        for (int s = SEG_ES; s <= SEG_GS; s++)
            if (s != SEG_CS && s != SEG_SS)
                cpu->s.seg[s] = (SegmentCache){ 0, 0, 0, 0 };
    cpu->s.seg[SEG_SS] = f.ss;
    if (lm)
        cpu->s.regs[R_SP] = f.sp;
    else
        reg_write(cpu, R_SP, (f.ss.attr & SEG_ATTR_DB) ? 4 : 2, f.sp);
    cs.attr |= 1;
    cs.selector = (uint16_t)((g.selector & ~3u) | new_cpl);
    cpu->s.seg[SEG_CS] = cs;
    cpu->s.rip = g.offset;
    uint64_t clear = F_TF | F_NT | F_RF | F_VM;
    if (g.type == 6 || g.type == 14)
        clear |= F_IF;
    cpu->s.eflags &= ~clear;
    cpu_update_mode(cpu);
    return CPU_OK;
}

static int deliver_one(Cpu *cpu, const PendingException *e)
{
    LOG(LOG_INT, "int: vector %d%s err=%x at %04x:%llx\n", e->vector,
        e->is_soft == EXC_SOURCE_SOFT ? " (soft)" :
        e->is_soft == EXC_SOURCE_EXTERNAL ? " (external)" : "",
        e->has_error_code ? e->error_code : 0, cpu->s.seg[SEG_CS].selector,
        (unsigned long long)cpu->s.rip);
    if (cpu_is_real(cpu))
        return deliver_real(cpu, e);
    return deliver_protected(cpu, e);
}

void cpu_deliver(Cpu *cpu, PendingException e)
{
    cpu->s.exception.vector = -1;
    cpu->s.halted = 0;
    for (;;) {
        if (deliver_one(cpu, &e) == CPU_OK)
            return;
        PendingException nested = cpu->s.exception;
        cpu->s.exception.vector = -1;
        if (e.vector == EXC_DF) {
            LOG(LOG_INT, "int: triple fault\n");
            cpu->shutdown = true;
            return;
        }
        if (e.is_soft == EXC_SOURCE_EXCEPTION &&
            makes_double_fault(e.vector, nested.vector))
            e = (PendingException){ .vector = EXC_DF, .has_error_code = 1,
                                    .is_soft = EXC_SOURCE_EXCEPTION };
        else
            e = nested;
    }
}

void cpu_deliver_pending(Cpu *cpu)
{
    cpu_deliver(cpu, cpu->s.exception);
}

void cpu_deliver_external(Cpu *cpu, int vector)
{
    cpu_deliver(cpu, (PendingException){ .vector = vector,
                                         .is_soft = EXC_SOURCE_EXTERNAL });
}

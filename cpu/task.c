/* Hardware task switching (SDM Vol. 3 ch. 7) and the TSS stack slots.
 *
 * The TSS formats are the 32-bit one of 7.2.1 (Figure 7-2) and the 16-bit
 * one of 7.6 (Figure 7-10).  A switch follows the steps of 7.3: the new
 * TSS descriptor is checked (Table 7-1: in the GDT, a TSS, available or,
 * for IRET, busy, present, limit at least 67h or 2Bh), the old task's
 * state is saved in its TSS, the previous-task link, EFLAGS.NT and the busy
 * flags are updated as 7.4 describes for JMP, CALL, interrupts and IRET,
 * then TR, CR3 (with a TLB flush), the registers, EFLAGS and EIP of the
 * new task are loaded and CR0.TS is set.  That is the commit point (step
 * 13): the LDTR and segment registers are checked and loaded afterwards,
 * at the new task's CPL, and a fault there (#TS, #NP, #SS with the
 * offending selector) is raised in the new task's context.  A new TSS with
 * its T flag set leaves a #DB trap pending (17.3.1.5, via cpu/debug.c).
 *
 * Callers: far JMP/CALL to a TSS or task gate (cpu/far.c), IRET with
 * NT = 1 (cpu/insn_branch.c), interrupts and exceptions through a task
 * gate in the IDT (cpu/interrupt.c), which 32-bit kernels use for #DF.
 * Task switches do not exist in IA-32e mode (7.7); callers raise #GP there.
 */
#include "cpu/debug.h"
#include "cpu/insn.h"
#include "cpu/interrupt.h"
#include "cpu/segment.h"
#include "cpu/task.h"

/* Where a task switch comes from: decides nesting, the busy flags and
 * which fault a bad new TSS raises (SDM 7.3 steps 2-11). */
typedef enum TaskSource { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT } TaskSource;

/* Offsets in the 32-bit TSS (Figure 7-2) and the 16-bit TSS (Figure 7-10). */
enum {
    TSS_LINK = 0x00,
    TSS32_CR3 = 0x1c, TSS32_EIP = 0x20, TSS32_EFLAGS = 0x24, TSS32_REGS = 0x28,
    TSS32_SEGS = 0x48, TSS32_LDT = 0x60, TSS32_TRAP = 0x64, TSS32_MIN_LIMIT = 0x67,
    TSS16_IP = 0x0e, TSS16_FLAGS = 0x10, TSS16_REGS = 0x12, TSS16_SEGS = 0x22,
    TSS16_LDT = 0x2a, TSS16_MIN_LIMIT = 0x2b,
};

/* The EFLAGS bits a task switch loads: all the defined ones. */
#define TASK_EFLAGS (F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_RF | \
                     F_VM | F_AC | F_VIF | F_VIP | F_ID)

/* The dynamic fields of a TSS, whatever its width. */
typedef struct TaskState {
    uint32_t eip, eflags, cr3;
    uint32_t regs[8];
    uint16_t seg[SEG_COUNT];
    uint16_t ldt;
    bool trap;               /* the T flag of a 32-bit TSS */
} TaskState;

static bool tss_is_32(const SegmentCache *tss)
{
    return tss->attr & 0x8;   /* types 9/11; 1/3 are 16-bit */
}

/* TSS fields are read and written as supervisor accesses whatever the
 * CPL (an implicit system access).  Outside IA-32e mode linear addresses
 * wrap at 4 GiB. */
static uint64_t tss_addr(const Cpu *cpu, const SegmentCache *tss, unsigned off)
{
    uint64_t a = tss->base + off;
    return (cpu->mode & CPU_MODE_LONG) ? a : a & 0xffffffffull;
}

static int tss_rd(Cpu *cpu, const SegmentCache *tss, unsigned off,
                  unsigned size, uint32_t *v)
{
    uint64_t x;
    if (mem_read_linear(cpu, tss_addr(cpu, tss, off), size, &x, true) != CPU_OK)
        return CPU_FAULT;
    *v = (uint32_t)x;
    return CPU_OK;
}

static int tss_wr(Cpu *cpu, const SegmentCache *tss, unsigned off,
                  unsigned size, uint64_t v)
{
    return mem_write_linear(cpu, tss_addr(cpu, tss, off), size,
                            v & size_mask(size), true);
}

int task_inner_stack(Cpu *cpu, unsigned cpl, unsigned ist, uint16_t *ss,
                     uint64_t *sp)
{
    const SegmentCache *tr = &cpu->s.tr;
    uint32_t err = tr->selector & ~3u, v, s16;
    uint64_t v64;
    if (cpu->mode & CPU_MODE_LONG) {
        /* RSPn at 4 + 8n, ISTn at 24h + 8(n - 1) (Figure 7-11). */
        unsigned off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * cpl;
        if (off + 7 > tr->limit)
            return cpu_raise(cpu, EXC_TS, err, true);
        if (mem_read_linear(cpu, tss_addr(cpu, tr, off), 8, &v64, true) != CPU_OK)
            return CPU_FAULT;
        *sp = v64;
        *ss = (uint16_t)cpl;   /* a null selector with RPL = new CPL */
        return CPU_OK;
    }
    /* ESPn:SSn at 4 + 8n, or SPn:SSn at 2 + 4n in a 16-bit TSS. */
    bool t32 = tss_is_32(tr);
    unsigned off = t32 ? 4 + 8 * cpl : 2 + 4 * cpl, w = t32 ? 4 : 2;
    if (off + w + 1 > tr->limit)
        return cpu_raise(cpu, EXC_TS, err, true);
    if (tss_rd(cpu, tr, off, w, &v) != CPU_OK ||
        tss_rd(cpu, tr, off + w, 2, &s16) != CPU_OK)
        return CPU_FAULT;
    *sp = v;
    *ss = (uint16_t)s16;
    return CPU_OK;
}

/* ---- the TSS contents ---------------------------------------------------- */

static int tss_read(Cpu *cpu, const SegmentCache *tss, TaskState *t)
{
    uint32_t v;
    *t = (TaskState){ 0 };
    if (tss_is_32(tss)) {
        if (tss_rd(cpu, tss, TSS32_CR3, 4, &t->cr3) != CPU_OK ||
            tss_rd(cpu, tss, TSS32_EIP, 4, &t->eip) != CPU_OK ||
            tss_rd(cpu, tss, TSS32_EFLAGS, 4, &t->eflags) != CPU_OK)
            return CPU_FAULT;
        for (unsigned i = 0; i < 8; i++)
            if (tss_rd(cpu, tss, TSS32_REGS + 4 * i, 4, &t->regs[i]) != CPU_OK)
                return CPU_FAULT;
        for (unsigned i = 0; i < SEG_COUNT; i++) {
            if (tss_rd(cpu, tss, TSS32_SEGS + 4 * i, 2, &v) != CPU_OK)
                return CPU_FAULT;
            t->seg[i] = (uint16_t)v;
        }
        if (tss_rd(cpu, tss, TSS32_LDT, 2, &v) != CPU_OK)
            return CPU_FAULT;
        t->ldt = (uint16_t)v;
        if (tss_rd(cpu, tss, TSS32_TRAP, 2, &v) != CPU_OK)
            return CPU_FAULT;
        t->trap = v & 1;
        return CPU_OK;
    }
    /* 16-bit TSS: no CR3 (the old page tables stay, 7.6), FS and GS null,
     * and the upper halves of the registers, which the SDM leaves
     * undefined ("modified and not maintained"), zero. */
    if (tss_rd(cpu, tss, TSS16_IP, 2, &t->eip) != CPU_OK ||
        tss_rd(cpu, tss, TSS16_FLAGS, 2, &t->eflags) != CPU_OK)
        return CPU_FAULT;
    for (unsigned i = 0; i < 8; i++)
        if (tss_rd(cpu, tss, TSS16_REGS + 2 * i, 2, &t->regs[i]) != CPU_OK)
            return CPU_FAULT;
    for (unsigned i = SEG_ES; i <= SEG_DS; i++) {   /* ES, CS, SS, DS */
        if (tss_rd(cpu, tss, TSS16_SEGS + 2 * i, 2, &v) != CPU_OK)
            return CPU_FAULT;
        t->seg[i] = (uint16_t)v;
    }
    if (tss_rd(cpu, tss, TSS16_LDT, 2, &v) != CPU_OK)
        return CPU_FAULT;
    t->ldt = (uint16_t)v;
    return CPU_OK;
}

/* Save the dynamic fields of the running task (7.3 step 8): the general
 * registers, the segment selectors, EFLAGS and EIP; never CR3 or LDTR. */
static int tss_save(Cpu *cpu, const SegmentCache *tss, uint64_t eip,
                    uint32_t eflags)
{
    bool t32 = tss_is_32(tss);
    unsigned w = t32 ? 4 : 2;
    int rc = tss_wr(cpu, tss, t32 ? TSS32_EIP : TSS16_IP, w, eip);
    if (rc == CPU_OK)
        rc = tss_wr(cpu, tss, t32 ? TSS32_EFLAGS : TSS16_FLAGS, w, eflags);
    for (unsigned i = 0; i < 8 && rc == CPU_OK; i++)
        rc = tss_wr(cpu, tss, (t32 ? TSS32_REGS : TSS16_REGS) + w * i, w,
                    cpu->s.regs[i]);
    unsigned nseg = t32 ? SEG_COUNT : SEG_DS + 1;
    for (unsigned i = 0; i < nseg && rc == CPU_OK; i++)
        rc = tss_wr(cpu, tss, (t32 ? TSS32_SEGS : TSS16_SEGS) + w * i, 2,
                    cpu->s.seg[i].selector);
    return rc;
}

/* Set or clear the busy flag (type bit 1) of GDT entry `sel`. */
static int set_busy(Cpu *cpu, uint16_t sel, bool busy)
{
    uint64_t addr = cpu->s.gdtr.base + (sel & ~7u) + 5, type;
    if (mem_read_linear(cpu, addr, 1, &type, true) != CPU_OK)
        return CPU_FAULT;
    type = busy ? type | 2 : type & ~2ull;
    return mem_write_linear(cpu, addr, 1, type, true);
}

/* ---- loading the new task's segments (after the commit point) -------------- */

static int ts_fault(Cpu *cpu, int vec, uint16_t sel, uint32_t ext)
{
    return cpu_raise(cpu, vec, (sel & ~3u) | ext, true);
}

/* A fault from a shared check: add EXT to its error code (6.13). */
static int with_ext(Cpu *cpu, int rc, uint32_t ext)
{
    if (rc == CPU_FAULT && cpu->s.exception.has_error_code)
        cpu->s.exception.error_code |= ext;
    return rc;
}

/* Read the descriptor of a selector of the new task; beyond its table is
 * #TS(selector) here (Table 7-1: "selector is valid"). */
static int task_desc(Cpu *cpu, uint16_t sel, uint32_t ext, uint64_t *raw,
                     SegmentCache *c)
{
    int vec;
    if (desc_read(cpu, sel, raw, &vec) != CPU_OK) {
        if (vec == EXC_GP)
            ts_fault(cpu, EXC_TS, sel, ext);
        return CPU_FAULT;
    }
    desc_to_cache(*raw, sel, c);
    return CPU_OK;
}

/* LDTR: null, or an LDT descriptor in the GDT that is present; every
 * failure is #TS(LDT selector). */
static int load_task_ldt(Cpu *cpu, uint16_t sel, uint32_t ext)
{
    uint64_t raw;
    SegmentCache c;
    if ((sel & ~3u) == 0)
        return CPU_OK;   /* left null: unusable */
    if ((sel & 4) || (sel & ~7u) + 7 > cpu->s.gdtr.limit)
        return ts_fault(cpu, EXC_TS, sel, ext);
    if (mem_read_linear(cpu, cpu->s.gdtr.base + (sel & ~7u), 8, &raw, true) != CPU_OK)
        return CPU_FAULT;
    desc_to_cache(raw, sel, &c);
    if ((c.attr & SEG_ATTR_S) || (c.attr & SEG_ATTR_TYPE) != 2 ||
        !(c.attr & SEG_ATTR_P))
        return ts_fault(cpu, EXC_TS, sel, ext);
    cpu->s.ldtr = c;
    return CPU_OK;
}

static void install(Cpu *cpu, int seg, SegmentCache c)
{
    c.attr |= 1;   /* accessed, as desc_set_accessed wrote it */
    cpu->s.seg[seg] = c;
    cpu_update_mode(cpu);
}

/* CS: a present code segment whose DPL equals its RPL (is at most, if
 * conforming); the RPL is the new task's CPL. */
static int load_task_cs(Cpu *cpu, uint16_t sel, uint32_t ext)
{
    uint64_t raw;
    SegmentCache c;
    if ((sel & ~3u) == 0)
        return ts_fault(cpu, EXC_TS, 0, ext);
    if (task_desc(cpu, sel, ext, &raw, &c) != CPU_OK)
        return CPU_FAULT;
    unsigned dpl = (c.attr & SEG_ATTR_DPL) >> 5, rpl = sel & 3;
    bool code = (c.attr & SEG_ATTR_S) && (c.attr & 0x8);
    if (!code || ((c.attr & 0x4) ? dpl > rpl : dpl != rpl))
        return ts_fault(cpu, EXC_TS, sel, ext);
    if (!(c.attr & SEG_ATTR_P))
        return ts_fault(cpu, EXC_NP, sel, ext);
    if (desc_set_accessed(cpu, sel, raw) != CPU_OK)
        return CPU_FAULT;
    install(cpu, SEG_CS, c);
    return CPU_OK;
}

static int load_task_ss(Cpu *cpu, uint16_t sel, unsigned cpl, uint32_t ext)
{
    uint64_t raw;
    SegmentCache c;
    int rc = seg_check_stack(cpu, sel, cpl, EXC_TS, &c, &raw);
    if (with_ext(cpu, rc, ext) != CPU_OK || desc_set_accessed(cpu, sel, raw) != CPU_OK)
        return CPU_FAULT;
    install(cpu, SEG_SS, c);
    return CPU_OK;
}

/* DS, ES, FS, GS: null, or readable and present, with DPL >= CPL unless
 * conforming code (Table 7-1). */
static int load_task_data(Cpu *cpu, int seg, uint16_t sel, unsigned cpl,
                          uint32_t ext)
{
    uint64_t raw;
    SegmentCache c;
    if ((sel & ~3u) == 0)
        return CPU_OK;   /* left null */
    if (task_desc(cpu, sel, ext, &raw, &c) != CPU_OK)
        return CPU_FAULT;
    bool code = c.attr & 0x8, conforming = code && (c.attr & 0x4);
    unsigned dpl = (c.attr & SEG_ATTR_DPL) >> 5;
    if (!(c.attr & SEG_ATTR_S) || (code && !(c.attr & 0x2)) ||
        (!conforming && dpl < cpl))
        return ts_fault(cpu, EXC_TS, sel, ext);
    if (!(c.attr & SEG_ATTR_P))
        return ts_fault(cpu, EXC_NP, sel, ext);
    if (desc_set_accessed(cpu, sel, raw) != CPU_OK)
        return CPU_FAULT;
    install(cpu, seg, c);
    return CPU_OK;
}

/* After the first failed check the processor "completes the task switch
 * (without performing additional access and segment availability
 * checks)" (7.3 step 13): the registers not loaded yet take their
 * descriptors as they are, where they can be read at all, so that the
 * handler of the fault finds the new task's CS and SS.  Reading them must
 * not replace the first fault. */
static void load_unchecked(Cpu *cpu)
{
    PendingException first = cpu->s.exception;
    uint64_t cr2 = cpu->s.cr2;
    for (int i = 0; i < SEG_COUNT; i++) {
        SegmentCache *s = &cpu->s.seg[i];
        uint64_t raw;
        int vec;
        if (s->attr != 0 || (s->selector & ~3u) == 0)
            continue;   /* loaded already, or null */
        if (desc_read(cpu, s->selector, &raw, &vec) == CPU_OK)
            desc_to_cache(raw, s->selector, s);
    }
    cpu->s.exception = first;
    cpu->s.cr2 = cr2;
    cpu_update_mode(cpu);
}

/* The selectors go in first, unusable (not present) until checked, so a
 * handler of a fault below sees the new task's selectors (7.3 step 13).
 * Table 7-1 gives the P6 order, which interleaves the CS and SS checks;
 * the order is model-specific, and here it is LDT, CS, SS, then DS, ES,
 * FS, GS. */
static int load_task_segments(Cpu *cpu, const TaskState *t, uint32_t ext)
{
    static const int data[4] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
    for (int i = 0; i < SEG_COUNT; i++)
        cpu->s.seg[i] = (SegmentCache){ .selector = t->seg[i] };
    cpu->s.ldtr = (SegmentCache){ .selector = t->ldt };
    cpu_update_mode(cpu);
    int rc = load_task_ldt(cpu, t->ldt, ext);
    if (cpu->s.eflags & F_VM) {
        /* A virtual-8086 task: real-mode style segments at CPL 3. */
        for (int i = 0; i < SEG_COUNT; i++)
            cpu_load_seg_real(cpu, i, t->seg[i]);
        return rc;
    }
    unsigned cpl = t->seg[SEG_CS] & 3;
    if (rc == CPU_OK)
        rc = load_task_cs(cpu, t->seg[SEG_CS], ext);
    if (rc == CPU_OK)
        rc = load_task_ss(cpu, t->seg[SEG_SS], cpl, ext);
    for (int i = 0; i < 4 && rc == CPU_OK; i++)
        rc = load_task_data(cpu, data[i], t->seg[data[i]], cpl, ext);
    if (rc != CPU_OK)
        load_unchecked(cpu);
    return rc;
}

/* ---- the switch ------------------------------------------------------------ */

/* Switch to the task of `sel` (SDM 7.3).  `old_eip` is saved as the old
 * task's EIP; `ext` (0 or 1) goes into error codes of faults caused by an
 * interrupt or exception (6.13). */
static int task_switch(Cpu *cpu, uint16_t sel, TaskSource src,
                       uint64_t old_eip, uint32_t ext)
{
    bool iret = src == TASK_IRET, nest = src == TASK_CALL || src == TASK_INT;
    int bad = iret ? EXC_TS : EXC_GP;
    uint32_t err = (sel & ~3u) | ext;
    uint64_t raw;
    SegmentCache tss;
    TaskState t;

    /* The new TSS descriptor (Table 7-1 and the JMP, CALL, INT and IRET
     * pseudo-code): in the GDT, a TSS, available (busy for IRET), then
     * present, then large enough. */
    if ((sel & 4) || (sel & ~7u) + 7 > cpu->s.gdtr.limit)
        return cpu_raise(cpu, bad, err, true);
    if (mem_read_linear(cpu, cpu->s.gdtr.base + (sel & ~7u), 8, &raw, true) != CPU_OK)
        return CPU_FAULT;
    desc_to_cache(raw, sel, &tss);
    unsigned type = tss.attr & SEG_ATTR_TYPE;
    bool is_tss = !(tss.attr & SEG_ATTR_S) && (type & 5) == 1;   /* 1, 3, 9, 11 */
    bool busy = type & 2;
    if (!is_tss || busy != iret)
        return cpu_raise(cpu, bad, err, true);
    if (!(tss.attr & SEG_ATTR_P))
        return cpu_raise(cpu, EXC_NP, err, true);
    if (tss.limit < (tss_is_32(&tss) ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
        return cpu_raise(cpu, EXC_TS, err, true);
    if (tss_read(cpu, &tss, &t) != CPU_OK)
        return CPU_FAULT;

    /* The old task.  Its save can simply be repeated after a page fault,
     * so it comes before the writes that cannot: the link, then the busy
     * flags (the SDM clears the old busy flag first, having checked that
     * everything is mapped, step 5). */
    SegmentCache old = cpu->s.tr;
    uint32_t eflags = (uint32_t)cpu_get_eflags(cpu);
    if (iret)
        eflags &= ~(uint32_t)F_NT;   /* step 7 */
    if (tss_save(cpu, &old, old_eip, eflags) != CPU_OK)
        return CPU_FAULT;
    if (nest) {
        if (tss_wr(cpu, &tss, TSS_LINK, 2, old.selector) != CPU_OK)
            return CPU_FAULT;
        t.eflags |= F_NT;            /* step 9 */
    }
    if ((src == TASK_JMP || iret) && (old.selector & ~3u) &&
        set_busy(cpu, old.selector, false) != CPU_OK)
        return CPU_FAULT;
    if (!iret && set_busy(cpu, sel, true) != CPU_OK)
        return CPU_FAULT;

    /* Commit point: TR, CR0.TS, CR3, registers, EFLAGS, EIP. */
    tss.attr |= 2;
    cpu->s.tr = tss;
    cpu->s.cr0 |= CR0_TS;
    if (tss_is_32(&tss) && (cpu->s.cr0 & CR0_PG)) {
        cpu->s.cr3 = t.cr3;
        tlb_flush_nonglobal(&cpu->tlb);
    }
    for (unsigned i = 0; i < 8; i++)
        cpu->s.regs[i] = t.regs[i];
    cpu_set_eflags(cpu, t.eflags, TASK_EFLAGS);
    cpu->s.rip = t.eip;
    debug_task_switch(cpu, t.trap);
    return load_task_segments(cpu, &t, ext);
}

/* The new task's EIP must lie in its CS (the JMP, CALL, INT and IRET
 * pseudo-code, after SWITCH-TASKS): #GP in the new task's context. */
static int check_new_eip(Cpu *cpu, uint32_t ext)
{
    if (cpu->s.rip > cpu->s.seg[SEG_CS].limit)
        return cpu_raise(cpu, EXC_GP, ext, true);
    return CPU_OK;
}

int task_jump(Cpu *cpu, uint16_t tss_sel, bool call, uint64_t next_rip)
{
    if (task_switch(cpu, tss_sel, call ? TASK_CALL : TASK_JMP, next_rip, 0) != CPU_OK)
        return CPU_FAULT;
    return check_new_eip(cpu, 0);
}

int task_return(Cpu *cpu, uint64_t next_rip)
{
    uint32_t link;
    if (tss_rd(cpu, &cpu->s.tr, TSS_LINK, 2, &link) != CPU_OK ||
        task_switch(cpu, (uint16_t)link, TASK_IRET, next_rip, 0) != CPU_OK)
        return CPU_FAULT;
    return check_new_eip(cpu, 0);
}

int task_gate_deliver(Cpu *cpu, uint16_t tss_sel, const PendingException *e,
                      uint64_t return_rip)
{
    uint32_t ext = e->is_soft != EXC_SOURCE_SOFT;
    if (task_switch(cpu, tss_sel, TASK_INT, return_rip, ext) != CPU_OK)
        return CPU_FAULT;
    if (e->has_error_code) {
        /* A word or a doubleword by the gate's size (6.13); a task gate
         * has none, so the new TSS's width decides. */
        unsigned size = tss_is_32(&cpu->s.tr) ? 4 : 2;
        if (stack_push(cpu, size, e->error_code) != CPU_OK) {
            if (cpu->s.exception.vector == EXC_SS)
                cpu->s.exception.error_code = ext;   /* #SS(EXT) */
            return CPU_FAULT;
        }
    }
    return check_new_eip(cpu, ext);
}

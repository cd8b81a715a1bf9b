/* Far transfers: far JMP and CALL, far RET, and the returns of IRET.
 *
 * SDM Vol. 3 5.8 (privilege checks for control transfers): 5.8.1-5.8.2
 * direct transfers and conforming code, 5.8.3-5.8.4 call gates (and the
 * 16-byte IA-32e gates of 5.8.3.1), 5.8.5 the stack switch and parameter
 * copy of a call to a more privileged level, 5.8.6 returns to an outer
 * level; Vol. 2 the JMP, CALL, RET and IRET pseudo-code.  Task gates and
 * TSS descriptors go to cpu/task.c.
 *
 * One path serves all four instructions: the target code segment is
 * checked by seg_check_code() with the transfer's FarKind, a new stack by
 * seg_check_stack(), and nothing changes until every check has passed.
 * A CALL through a gate loads CS (and SS:ESP) before pushing, as the SDM
 * orders it, because the pushes use the new privilege level and stack; if
 * a push then faults the state saved in a FarSave is put back, so every
 * fault leaves the instruction restartable.
 */
#include "cpu/far.h"
#include "cpu/insn.h"
#include "cpu/task.h"

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static bool is_protected(const Cpu *cpu)
{
    return (cpu->mode & CPU_MODE_PROT) && !(cpu->mode & CPU_MODE_V86);
}

/* A valid rIP in code segment `c`: canonical for 64-bit code, within the
 * limit otherwise. */
static bool offset_ok(const Cpu *cpu, const SegmentCache *c, uint64_t off)
{
    if ((cpu->mode & CPU_MODE_LONG) && (c->attr & SEG_ATTR_L))
        return is_canonical(off);
    return off <= c->limit;
}

/* Load CS from a cache that seg_check_code() accepted. */
static void cs_install(Cpu *cpu, const SegmentCache *c, uint64_t rip)
{
    cpu->s.seg[SEG_CS] = *c;
    cpu->s.seg[SEG_CS].attr |= 1;   /* accessed, as desc_set_accessed wrote */
    cpu->s.rip = rip;
    cpu_update_mode(cpu);
}

typedef struct FarSave {
    SegmentCache seg[SEG_COUNT];
    uint64_t rip, rsp;
} FarSave;

static void far_save(const Cpu *cpu, FarSave *fs)
{
    for (int i = 0; i < SEG_COUNT; i++)
        fs->seg[i] = cpu->s.seg[i];
    fs->rip = cpu->s.rip;
    fs->rsp = cpu->s.regs[R_SP];
}

/* Put back what a failed transfer changed; the fault stays pending. */
static int far_restore(Cpu *cpu, const FarSave *fs)
{
    for (int i = 0; i < SEG_COUNT; i++)
        cpu->s.seg[i] = fs->seg[i];
    cpu->s.rip = fs->rip;
    cpu->s.regs[R_SP] = fs->rsp;
    cpu_update_mode(cpu);
    return CPU_FAULT;
}

/* ---- real-address and virtual-8086 mode ------------------------------------ */

int far_real(Cpu *cpu, uint16_t selector, uint64_t offset, unsigned osize)
{
    offset &= size_mask(osize);
    if (offset > cpu->s.seg[SEG_CS].limit)
        return cpu_raise(cpu, EXC_GP, 0, true);
    cpu_load_seg_real(cpu, SEG_CS, selector);
    cpu->s.rip = offset;
    return CPU_OK;
}

/* ---- the return address of a far CALL on the current stack ---------------- */

/* CS then rIP, each at the operand size.  Both slots are checked before
 * either is written and SP moves last, so a fault changes nothing; the
 * caller loads CS between the check and the write, once the target passed
 * its own checks.  The slots are addressed as the caller's stack is, even
 * if the new CS leaves 64-bit mode. */
typedef struct RetSlots {
    unsigned size, width;
    uint64_t cs, ip;   /* stack offsets */
} RetSlots;

static int ret_slots_check(Cpu *cpu, unsigned size, RetSlots *r)
{
    r->size = size;
    r->width = stack_width(cpu);
    uint64_t sp = reg_read(cpu, R_SP, r->width);
    r->cs = (sp - size) & size_mask(r->width);
    r->ip = (sp - 2 * (uint64_t)size) & size_mask(r->width);
    int rc = mem_check_write(cpu, SEG_SS, r->cs, size);
    if (rc == CPU_OK)
        rc = mem_check_write(cpu, SEG_SS, r->ip, size);
    return rc;
}

static int ret_slots_write(Cpu *cpu, const RetSlots *r, uint16_t cs, uint64_t ip)
{
    int rc = mem_write(cpu, SEG_SS, r->cs, r->size, cs);
    if (rc == CPU_OK)
        rc = mem_write(cpu, SEG_SS, r->ip, r->size, ip & size_mask(r->size));
    return rc;
}

static void ret_slots_commit(Cpu *cpu, const RetSlots *r)
{
    reg_write(cpu, R_SP, r->width, r->ip);
}

static int far_jump_real(Cpu *cpu, FarKind kind, uint16_t sel, uint64_t off,
                         unsigned size, uint64_t next_rip)
{
    RetSlots r;
    uint16_t old_cs = cpu->s.seg[SEG_CS].selector;
    if (kind == FAR_JMP)
        return far_real(cpu, sel, off, size);
    if (ret_slots_check(cpu, size, &r) != CPU_OK)
        return CPU_FAULT;
    if ((off & size_mask(size)) > cpu->s.seg[SEG_CS].limit)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (ret_slots_write(cpu, &r, old_cs, next_rip) != CPU_OK)
        return CPU_FAULT;
    ret_slots_commit(cpu, &r);
    return far_real(cpu, sel, off, size);
}

/* ---- direct transfers to a code segment (5.8.1, 5.8.2) ---------------------- */

static int far_direct(Cpu *cpu, FarKind kind, uint16_t sel, uint64_t off,
                      unsigned size, uint64_t next_rip)
{
    SegmentCache c;
    RetSlots r;
    uint64_t raw;
    uint16_t old_cs = cpu->s.seg[SEG_CS].selector;
    if (seg_check_code(cpu, kind, false, sel, &c, &raw) != CPU_OK)
        return CPU_FAULT;
    /* The stack check comes before the rIP check (SDM CALL). */
    if (kind == FAR_CALL && ret_slots_check(cpu, size, &r) != CPU_OK)
        return CPU_FAULT;
    off &= size_mask(size);
    if ((cpu->mode & CPU_MODE_LONG) && !(c.attr & SEG_ATTR_L))
        off &= 0xffffffffull;   /* compatibility-mode target */
    if (!offset_ok(cpu, &c, off))
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (desc_set_accessed(cpu, sel, raw) != CPU_OK)
        return CPU_FAULT;
    if (kind == FAR_CALL) {
        if (ret_slots_write(cpu, &r, old_cs, next_rip) != CPU_OK)
            return CPU_FAULT;
        ret_slots_commit(cpu, &r);
    }
    cs_install(cpu, &c, off);
    return CPU_OK;
}

/* ---- call gates (5.8.3-5.8.5) ------------------------------------------------ */

typedef struct CallGate {
    uint16_t selector;   /* target code segment */
    uint64_t offset;
    unsigned count;      /* parameters to copy on a stack switch */
    unsigned size;       /* 2, 4 or 8: a 16-bit, 32-bit or 64-bit gate */
} CallGate;

/* Unpack a call gate (Figure 5-8); in IA-32e mode it has 16 bytes
 * (Figure 5-9): offset bits 63:32 in the second half, whose type field
 * must be zero, and no parameter count. */
static int read_call_gate(Cpu *cpu, uint16_t sel, uint64_t lo, CallGate *g)
{
    unsigned type = (lo >> 40) & 0xf;
    g->selector = (uint16_t)(lo >> 16);
    g->offset = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull);
    g->count = (lo >> 32) & 0x1f;
    g->size = type == 4 ? 2 : 4;
    if (type == 4)
        g->offset &= 0xffff;
    if (cpu->mode & CPU_MODE_LONG) {
        uint64_t hi;
        int vec;
        uint32_t err = sel & ~3u;
        if ((sel & ~7u) == 0xfff8)
            return cpu_raise(cpu, EXC_GP, err, true);
        if (desc_read(cpu, (uint16_t)(sel + 8), &hi, &vec) != CPU_OK) {
            if (vec == EXC_GP)   /* the upper half is beyond the table */
                cpu_raise(cpu, EXC_GP, err, true);
            return CPU_FAULT;
        }
        if ((hi >> 40) & 0x1f)
            return cpu_raise(cpu, EXC_GP, err, true);
        g->offset |= (hi & 0xffffffffull) << 32;
        g->size = 8;
        g->count = 0;
    }
    return CPU_OK;
}

/* CALL through a gate at the same privilege (conforming target, or DPL =
 * CPL): CS:rIP pushed at the gate's size on the current stack, which 64-bit
 * target code addresses through RSP. */
static int gate_call_same(Cpu *cpu, const CallGate *g, const SegmentCache *c,
                          uint64_t next_rip)
{
    FarSave fs;
    uint16_t old_cs = cpu->s.seg[SEG_CS].selector;
    far_save(cpu, &fs);
    cs_install(cpu, c, g->offset);
    unsigned w = stack_width(cpu);
    uint64_t room = 2 * (uint64_t)g->size;
    int rc = mem_probe(cpu, SEG_SS, (reg_read(cpu, R_SP, w) - room) & size_mask(w),
                       (unsigned)room, ACCESS_WRITE);
    if (rc == CPU_OK && !offset_ok(cpu, c, g->offset))
        rc = cpu_raise(cpu, EXC_GP, 0, true);
    if (rc == CPU_OK)
        rc = stack_push(cpu, g->size, old_cs);
    if (rc == CPU_OK)
        rc = stack_push(cpu, g->size, next_rip);
    return rc == CPU_OK ? CPU_OK : far_restore(cpu, &fs);
}

/* IA-32e mode: the inner stack's SS is a null selector with RPL = the new
 * CPL (5.8.5.1); the cache is flat and writable so that 64-bit stack
 * accesses, which check neither, find a sensible value. */
static SegmentCache null_stack_64(unsigned cpl)
{
    return (SegmentCache){ .selector = (uint16_t)cpl, .base = 0,
                           .limit = 0xffffffff,
                           .attr = (uint16_t)(0x93 | (cpl << 5) | SEG_ATTR_DB |
                                              SEG_ATTR_G) };
}

/* CALL through a gate to a more privileged non-conforming segment
 * (5.8.5, Figure 5-13): switch to the TSS stack of the new CPL, then push
 * the caller's SS and rSP, copy `count` parameters (16/32-bit gates) from
 * the caller's stack, and push CS:rIP, all at the gate's size. */
static int gate_call_inner(Cpu *cpu, const CallGate *g, const SegmentCache *c,
                           uint64_t next_rip)
{
    unsigned new_cpl = c->selector & 3;
    bool lm = cpu->mode & CPU_MODE_LONG;
    uint16_t ss_sel;
    uint64_t sp, ss_raw = 0, param[32];
    SegmentCache ss;
    if (task_inner_stack(cpu, new_cpl, 0, &ss_sel, &sp) != CPU_OK)
        return CPU_FAULT;
    if (lm)
        ss = null_stack_64(new_cpl);
    else if (seg_check_stack(cpu, ss_sel, new_cpl, EXC_TS, &ss, &ss_raw) != CPU_OK)
        return CPU_FAULT;
    /* Parameters come from the caller's stack, read before it changes. */
    for (unsigned i = 0; i < g->count; i++)
        if (stack_peek(cpu, (uint64_t)i * g->size, g->size, &param[i]) != CPU_OK)
            return CPU_FAULT;
    if (!lm && desc_set_accessed(cpu, ss_sel, ss_raw) != CPU_OK)
        return CPU_FAULT;

    FarSave fs;
    uint16_t old_ss = cpu->s.seg[SEG_SS].selector;
    uint16_t old_cs = cpu->s.seg[SEG_CS].selector;
    uint64_t old_sp = cpu->s.regs[R_SP];
    far_save(cpu, &fs);
    if (!lm)
        ss.attr |= 1;
    cpu->s.seg[SEG_SS] = ss;
    reg_write(cpu, R_SP, lm ? 8 : 4, sp);
    cs_install(cpu, c, g->offset);

    /* Room for everything, or #SS(new SS), before the rIP check. */
    unsigned w = stack_width(cpu);
    uint64_t total = (uint64_t)g->size * (4 + g->count);
    int rc = mem_probe(cpu, SEG_SS, (reg_read(cpu, R_SP, w) - total) & size_mask(w),
                       (unsigned)total, ACCESS_WRITE);
    if (rc != CPU_OK && cpu->s.exception.vector == EXC_SS)
        cpu->s.exception.error_code = ss_sel & ~3u;
    if (rc == CPU_OK && !offset_ok(cpu, c, g->offset))
        rc = cpu_raise(cpu, EXC_GP, 0, true);
    if (rc == CPU_OK)
        rc = stack_push(cpu, g->size, old_ss);
    if (rc == CPU_OK)
        rc = stack_push(cpu, g->size, old_sp);
    for (unsigned i = g->count; i-- > 0 && rc == CPU_OK;)
        rc = stack_push(cpu, g->size, param[i]);
    if (rc == CPU_OK)
        rc = stack_push(cpu, g->size, old_cs);
    if (rc == CPU_OK)
        rc = stack_push(cpu, g->size, next_rip);
    return rc == CPU_OK ? CPU_OK : far_restore(cpu, &fs);
}

/* JMP or CALL through the call gate `gsel` (descriptor low half `lo`):
 * the gate's DPL must admit both the CPL and the selector's RPL; the
 * offset in the instruction is ignored.  A JMP never changes the CPL. */
static int far_gate(Cpu *cpu, FarKind kind, uint16_t gsel, uint64_t lo,
                    uint64_t next_rip)
{
    unsigned cpl = cpu_cpl(cpu), dpl = (lo >> 45) & 3;
    uint32_t gerr = gsel & ~3u;
    CallGate g;
    SegmentCache c;
    uint64_t raw;
    if (read_call_gate(cpu, gsel, lo, &g) != CPU_OK)
        return CPU_FAULT;
    if (dpl < cpl || dpl < (gsel & 3u))
        return cpu_raise(cpu, EXC_GP, gerr, true);
    if (!((lo >> 47) & 1))
        return cpu_raise(cpu, EXC_NP, gerr, true);
    if (seg_check_code(cpu, kind, true, g.selector, &c, &raw) != CPU_OK ||
        desc_set_accessed(cpu, g.selector, raw) != CPU_OK)
        return CPU_FAULT;
    if (kind == FAR_CALL)
        return (c.selector & 3) < cpl ? gate_call_inner(cpu, &g, &c, next_rip)
                                      : gate_call_same(cpu, &g, &c, next_rip);
    if (!offset_ok(cpu, &c, g.offset))
        return cpu_raise(cpu, EXC_GP, 0, true);
    cs_install(cpu, &c, g.offset);
    return CPU_OK;
}

int far_jump(Cpu *cpu, FarKind kind, uint16_t sel, uint64_t off,
             unsigned size, uint64_t next_rip)
{
    if (!is_protected(cpu))
        return far_jump_real(cpu, kind, sel, off, size, next_rip);
    uint64_t raw;
    int vec;
    if ((sel & ~3u) == 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (desc_read(cpu, sel, &raw, &vec) != CPU_OK)
        return CPU_FAULT;
    if ((raw >> 44) & 1)   /* S: a code (or, refused there, data) segment */
        return far_direct(cpu, kind, sel, off, size, next_rip);

    unsigned type = (raw >> 40) & 0xf, dpl = (raw >> 45) & 3, cpl = cpu_cpl(cpu);
    uint32_t err = sel & ~3u;
    bool lm = cpu->mode & CPU_MODE_LONG;
    if (type == 0xc || (type == 4 && !lm))
        return far_gate(cpu, kind, sel, raw, next_rip);
    /* A task gate or an available TSS; IA-32e mode has no task switch
     * (7.7) and a busy TSS (types 3, 11) is refused the same way. */
    if (lm || (type != 5 && type != 1 && type != 9))
        return cpu_raise(cpu, EXC_GP, err, true);
    if (dpl < cpl || dpl < (sel & 3u))
        return cpu_raise(cpu, EXC_GP, err, true);
    if (!((raw >> 47) & 1))
        return cpu_raise(cpu, EXC_NP, err, true);
    uint16_t tss = type == 5 ? (uint16_t)(raw >> 16) : sel;
    return task_jump(cpu, tss, kind == FAR_CALL, next_rip);
}

/* ---- returns (5.8.6; RET and IRET pseudo-code) --------------------------- */

/* On a return to an outer level, ES, DS, FS and GS are made null if the
 * new CPL could not have loaded them: DPL < CPL and a data or
 * non-conforming code segment.  Registers that already hold a null
 * selector are left alone, which keeps FS/GS bases set through MSRs in
 * 64-bit mode. */
static void null_outer_segments(Cpu *cpu)
{
    static const int segs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    unsigned cpl = cpu_cpl(cpu);
    for (int i = 0; i < 4; i++) {
        SegmentCache *s = &cpu->s.seg[segs[i]];
        if ((s->selector & 0xfffc) == 0)
            continue;
        bool conforming = (s->attr & SEG_ATTR_S) && (s->attr & 0xc) == 0xc;
        unsigned dpl = (s->attr & SEG_ATTR_DPL) >> 5;
        if (!conforming && dpl < cpl)
            *s = (SegmentCache){ 0 };
    }
}

int far_return(Cpu *cpu, FarKind kind, unsigned size, uint64_t release,
               uint64_t flags_mask)
{
    unsigned w = stack_width(cpu);
    uint64_t ip, cs, flags = 0;
    int rc = stack_peek(cpu, 0, size, &ip);
    if (rc == CPU_OK)
        rc = stack_peek(cpu, size, size, &cs);
    if (rc == CPU_OK && kind == FAR_IRET)
        rc = stack_peek(cpu, 2 * (uint64_t)size, size, &flags);
    if (rc != CPU_OK)
        return rc;
    uint64_t sp = reg_read(cpu, R_SP, w);
    uint64_t frame = (kind == FAR_IRET ? 3 : 2) * (uint64_t)size + release;
    ip &= size_mask(size);

    if (!is_protected(cpu)) {
        if (far_real(cpu, (uint16_t)cs, ip, size) != CPU_OK)
            return CPU_FAULT;
        reg_write(cpu, R_SP, w, (sp + frame) & size_mask(w));
        if (kind == FAR_IRET)
            cpu_set_eflags(cpu, flags, flags_mask);
        return CPU_OK;
    }

    unsigned cpl = cpu_cpl(cpu);
    SegmentCache c, ss = { 0 };
    uint64_t craw, ss_raw = 0, new_sp = 0, new_ss = 0;
    if (seg_check_code(cpu, kind, false, (uint16_t)cs, &c, &craw) != CPU_OK)
        return CPU_FAULT;
    unsigned new_cpl = c.selector & 3;
    bool outer = new_cpl > cpl;
    bool to64 = (cpu->mode & CPU_MODE_LONG) && (c.attr & SEG_ATTR_L);
    /* IRET in 64-bit mode pops SS:RSP even at the same level. */
    bool pop_stack = outer || (kind == FAR_IRET && cpu_is_64(cpu));
    if (pop_stack) {
        rc = stack_peek(cpu, frame, size, &new_sp);
        if (rc == CPU_OK)
            rc = stack_peek(cpu, frame + size, size, &new_ss);
        if (rc != CPU_OK)
            return rc;
        /* 64-bit code below CPL 3 may return to a null SS whose RPL is
         * the new CPL (5.8.5.1); anything else null is #GP(0) below. */
        uint16_t s = (uint16_t)new_ss;
        if ((s & ~3u) == 0 && to64 && new_cpl < 3 && (s & 3u) == new_cpl)
            ss = (SegmentCache){ .selector = s };
        else if (seg_check_stack(cpu, s, new_cpl, EXC_GP, &ss, &ss_raw) != CPU_OK)
            return CPU_FAULT;
    }
    if (!offset_ok(cpu, &c, ip))
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (desc_set_accessed(cpu, (uint16_t)cs, craw) != CPU_OK ||
        (ss_raw && desc_set_accessed(cpu, (uint16_t)new_ss, ss_raw) != CPU_OK))
        return CPU_FAULT;

    cs_install(cpu, &c, ip);
    if (pop_stack) {
        if (ss_raw)
            ss.attr |= 1;
        cpu->s.seg[SEG_SS] = ss;
        cpu_update_mode(cpu);
        /* The new rSP at the new stack's width; imm16 is released on the
         * outer stack too. */
        unsigned nw = stack_width(cpu);
        reg_write(cpu, R_SP, nw, (new_sp + release) & size_mask(nw));
    } else {
        reg_write(cpu, R_SP, w, (sp + frame) & size_mask(w));
    }
    if (kind == FAR_IRET)
        cpu_set_eflags(cpu, flags, flags_mask);
    if (outer)
        null_outer_segments(cpu);
    return CPU_OK;
}

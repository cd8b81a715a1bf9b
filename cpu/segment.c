/* Segment descriptors and segment loads: real mode, and protected mode
 * with the checks of the SDM Vol. 3 5.4-5.8 (descriptor fetch, type,
 * privilege, presence) and the MOV/POP/LDS pages of Vol. 2.
 *
 * Far transfers (cpu/far.c) and task switches (cpu/task.c) check their
 * target code and stack segments here, with seg_check_code() and
 * seg_check_stack(), and load them themselves once everything has passed.
 */
#include "cpu/insn.h"
#include "cpu/segment.h"

int desc_read(Cpu *cpu, uint16_t selector, uint64_t *desc, int *fault_vec)
{
    const DescriptorTable *t = &cpu->s.gdtr;
    DescriptorTable ldt;
    if (selector & 4) {
        if (!(cpu->s.ldtr.attr & SEG_ATTR_P) || (cpu->s.ldtr.selector & ~3) == 0)
            goto gp;
        ldt.base = cpu->s.ldtr.base;
        ldt.limit = cpu->s.ldtr.limit;
        t = &ldt;
    }
    uint64_t offset = selector & ~7u;
    if (offset + 7 > t->limit)
        goto gp;
    if (mem_read_linear(cpu, t->base + offset, 8, desc, true) != CPU_OK) {
        *fault_vec = -1;    /* a page fault is already pending */
        return CPU_FAULT;
    }
    return CPU_OK;
gp:
    *fault_vec = EXC_GP;
    return cpu_raise(cpu, EXC_GP, selector & ~3u, true);
}

void desc_to_cache(uint64_t desc, uint16_t selector, SegmentCache *s)
{
    uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));
    s->selector = selector;
    s->base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24);
    s->attr = (uint16_t)(((desc >> 40) & 0xff) | (((desc >> 52) & 0xf) << 8));
    s->limit = (s->attr & SEG_ATTR_G) ? (limit << 12) | 0xfff : limit;
}

int desc_set_accessed(Cpu *cpu, uint16_t selector, uint64_t desc)
{
    if (desc & (1ull << 40))
        return CPU_OK;
    uint64_t base = (selector & 4) ? cpu->s.ldtr.base : cpu->s.gdtr.base;
    return mem_write_linear(cpu, base + (selector & ~7u) + 5, 1,
                            ((desc >> 40) & 0xff) | 1, true);
}

static void load_null(Cpu *cpu, int seg, uint16_t selector)
{
    SegmentCache *s = &cpu->s.seg[seg];
    s->selector = selector;
    s->base = 0;
    s->limit = 0;
    s->attr = 0;   /* not present: any access through it faults */
}

static int load_protected(Cpu *cpu, int seg, uint16_t selector)
{
    unsigned cpl = cpu_cpl(cpu), rpl = selector & 3;
    if ((selector & ~3u) == 0) {
        /* A null SS is allowed only in 64-bit mode below CPL 3, with
         * RPL = CPL (MOV and POP: #GP(0) otherwise). */
        if (seg == SEG_SS && !(cpu_is_64(cpu) && cpl < 3 && rpl == cpl))
            return cpu_raise(cpu, EXC_GP, 0, true);
        load_null(cpu, seg, selector);
        return CPU_OK;
    }
    uint64_t desc;
    int vec;
    if (desc_read(cpu, selector, &desc, &vec) != CPU_OK)
        return CPU_FAULT;
    SegmentCache c;
    desc_to_cache(desc, selector, &c);
    bool system = !(c.attr & SEG_ATTR_S), code = c.attr & 0x8;
    bool readable = c.attr & 0x2, conforming = code && (c.attr & 0x4);
    unsigned dpl = (c.attr & SEG_ATTR_DPL) >> 5;
    uint32_t err = selector & ~3u;
    if (seg == SEG_SS) {
        if (system || code || !readable || rpl != cpl || dpl != cpl)
            return cpu_raise(cpu, EXC_GP, err, true);
        if (!(c.attr & SEG_ATTR_P))
            return cpu_raise(cpu, EXC_SS, err, true);
    } else {
        if (system || (code && !readable))
            return cpu_raise(cpu, EXC_GP, err, true);
        if (!conforming && (rpl > dpl || cpl > dpl))
            return cpu_raise(cpu, EXC_GP, err, true);
        if (!(c.attr & SEG_ATTR_P))
            return cpu_raise(cpu, EXC_NP, err, true);
    }
    if (desc_set_accessed(cpu, selector, desc) != CPU_OK)
        return CPU_FAULT;
    c.attr |= 1;
    cpu->s.seg[seg] = c;
    return CPU_OK;
}

int seg_load(Cpu *cpu, int seg, uint16_t selector)
{
    if (cpu_is_real(cpu) || (cpu->mode & CPU_MODE_V86)) {
        cpu_load_seg_real(cpu, seg, selector);
        return CPU_OK;
    }
    int r = load_protected(cpu, seg, selector);
    if (r == CPU_OK && seg == SEG_SS)
        cpu_update_mode(cpu);
    return r;
}

int seg_check_code(Cpu *cpu, FarKind kind, bool via_gate, uint16_t selector,
                   SegmentCache *out, uint64_t *raw)
{
    unsigned cpl = cpu_cpl(cpu), rpl = selector & 3;
    uint32_t err = selector & ~3u;
    int vec;
    if (err == 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (desc_read(cpu, selector, raw, &vec) != CPU_OK)
        return CPU_FAULT;
    desc_to_cache(*raw, selector, out);
    unsigned dpl = (out->attr & SEG_ATTR_DPL) >> 5, new_cpl = cpl;
    bool code = (out->attr & SEG_ATTR_S) && (out->attr & 0x8);
    bool conforming = out->attr & 0x4;
    bool ok;
    if (kind == FAR_RET || kind == FAR_IRET) {
        /* Returns may go outward: the RPL becomes the CPL (5.8.6). */
        ok = rpl >= cpl && (conforming ? dpl <= rpl : dpl == rpl);
        new_cpl = rpl;
    } else if (via_gate && kind == FAR_CALL) {
        /* A CALL through a gate may go inward, never outward; conforming
         * code keeps the CPL (5.8.4, Table 5-1). */
        ok = dpl <= cpl;
        new_cpl = conforming ? cpl : dpl;
    } else if (via_gate) {
        /* A JMP through a gate never changes the CPL: the gate's RPL was
         * checked against the gate, not the segment. */
        ok = conforming ? dpl <= cpl : dpl == cpl;
    } else {
        /* Direct JMP/CALL (5.8.1): conforming DPL <= CPL; non-conforming
         * DPL = CPL with RPL <= CPL. */
        ok = conforming ? dpl <= cpl : (dpl == cpl && rpl <= cpl);
    }
    if (!code || !ok)
        return cpu_raise(cpu, EXC_GP, err, true);
    if (cpu->mode & CPU_MODE_LONG) {
        /* L and D together are reserved; a call gate's target must be
         * 64-bit code (5.8.3.1). */
        bool l = out->attr & SEG_ATTR_L;
        if ((l && (out->attr & SEG_ATTR_DB)) || (via_gate && !l))
            return cpu_raise(cpu, EXC_GP, err, true);
    }
    if (!(out->attr & SEG_ATTR_P))
        return cpu_raise(cpu, EXC_NP, err, true);
    out->selector = (uint16_t)((selector & ~3u) | new_cpl);
    return CPU_OK;
}

int seg_check_stack(Cpu *cpu, uint16_t selector, unsigned cpl, int fault_vec,
                    SegmentCache *out, uint64_t *raw)
{
    uint32_t err = selector & ~3u;
    int vec;
    if (err == 0)
        return cpu_raise(cpu, fault_vec, 0, true);
    if (desc_read(cpu, selector, raw, &vec) != CPU_OK) {
        if (vec == EXC_GP)   /* beyond the table: the caller's vector */
            cpu_raise(cpu, fault_vec, err, true);
        return CPU_FAULT;
    }
    desc_to_cache(*raw, selector, out);
    bool writable_data = (out->attr & SEG_ATTR_S) && !(out->attr & 0x8) &&
                         (out->attr & 0x2);
    unsigned dpl = (out->attr & SEG_ATTR_DPL) >> 5;
    if (!writable_data || (selector & 3u) != cpl || dpl != cpl)
        return cpu_raise(cpu, fault_vec, err, true);
    if (!(out->attr & SEG_ATTR_P))
        return cpu_raise(cpu, EXC_SS, err, true);
    return CPU_OK;
}

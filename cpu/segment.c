/* Segment register loads: real mode, and protected mode with the checks of
 * the SDM Vol. 3 5.4-5.8 (descriptor fetch, type, privilege, presence) and
 * the MOV/POP/LDS pages of Vol. 2.
 *
 * Far transfers through gates, task switches and privilege changes belong
 * to the system-architecture work; here a far JMP/CALL reaches a code
 * segment directly at the same privilege, and anything else is logged under
 * `-d unimp` and raises #GP(selector).
 */
#include "cpu/insn.h"
#include "cpu/segment.h"
#include "util/log.h"

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

/* Set the accessed bit in the descriptor in memory, as the CPU does. */
static int desc_set_accessed(Cpu *cpu, uint16_t selector, uint64_t desc)
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
        /* A null SS is allowed only in 64-bit mode below CPL 3. */
        if (seg == SEG_SS && !(cpu_is_64(cpu) && cpl < 3))
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

/* Is `offset` inside the code segment's limit (or canonical in 64-bit)? */
static bool code_offset_ok(const SegmentCache *cs, uint64_t offset, bool is64)
{
    if (is64)
        return (uint64_t)((int64_t)(offset << 16) >> 16) == offset;
    return offset <= cs->limit;
}

static int far_protected(Cpu *cpu, uint16_t selector, uint64_t offset)
{
    unsigned cpl = cpu_cpl(cpu), rpl = selector & 3;
    uint32_t err = selector & ~3u;
    if ((selector & ~3u) == 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    uint64_t desc;
    int vec;
    if (desc_read(cpu, selector, &desc, &vec) != CPU_OK)
        return CPU_FAULT;
    SegmentCache c;
    desc_to_cache(desc, selector, &c);
    unsigned dpl = (c.attr & SEG_ATTR_DPL) >> 5;
    bool code = (c.attr & SEG_ATTR_S) && (c.attr & 0x8);
    bool conforming = c.attr & 0x4;
    if (!code) {
        LOG_LIMITED(LOG_UNIMP, "cpu: far transfer through a gate or TSS "
                    "(selector %04x, type %x) not implemented\n", selector,
                    c.attr & 0x1f);
        return cpu_raise(cpu, EXC_GP, err, true);
    }
    if (conforming ? dpl > cpl : (dpl != cpl || rpl > cpl))
        return cpu_raise(cpu, EXC_GP, err, true);
    if (!(c.attr & SEG_ATTR_P))
        return cpu_raise(cpu, EXC_NP, err, true);
    bool is64 = (cpu->mode & CPU_MODE_LONG) && (c.attr & SEG_ATTR_L);
    if (!code_offset_ok(&c, offset, is64))
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (desc_set_accessed(cpu, selector, desc) != CPU_OK)
        return CPU_FAULT;
    c.attr |= 1;
    c.selector = (uint16_t)((selector & ~3u) | cpl);   /* RPL := CPL */
    cpu->s.seg[SEG_CS] = c;
    cpu->s.rip = offset;
    cpu_update_mode(cpu);
    return CPU_OK;
}

int seg_load_cs(Cpu *cpu, uint16_t selector, uint64_t offset, unsigned osize)
{
    offset &= size_mask(osize);
    if (cpu_is_real(cpu) || (cpu->mode & CPU_MODE_V86)) {
        if (offset > cpu->s.seg[SEG_CS].limit)
            return cpu_raise(cpu, EXC_GP, 0, true);
        cpu_load_seg_real(cpu, SEG_CS, selector);
        cpu->s.rip = offset;
        return CPU_OK;
    }
    return far_protected(cpu, selector, offset);
}

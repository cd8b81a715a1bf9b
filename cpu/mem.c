/* Guest memory access from the CPU: segmentation, paging, physical access.
 *
 * Segmentation follows the SDM Vol. 3 5.3 (limit checking, expand-down
 * segments) and 5.5-5.6 (type checks); 64-bit mode ignores segment bases
 * other than FS/GS and checks canonical form instead (Vol. 3 3.4.4, Vol. 1
 * 3.3.7.1).  Stores that land on a page holding decoded blocks invalidate
 * them (self-modifying code).
 */
#include <string.h>

#include "cpu/block.h"
#include "cpu/insn.h"
#include "util/log.h"

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static int seg_fault(Cpu *cpu, int seg)
{
    return cpu_raise(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0, true);
}

/* Is [offset, offset+size) inside the segment's limit? */
static bool within_limit(const SegmentCache *s, uint64_t offset, unsigned size)
{
    uint64_t last = offset + size - 1;
    bool data = !(s->attr & 0x8);
    if (data && (s->attr & 0x4)) {
        /* Expand-down: valid offsets are limit+1 .. 0xffff or 0xffffffff. */
        uint64_t top = (s->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffffull;
        return offset > s->limit && last <= top && last >= offset;
    }
    return last <= s->limit && last >= offset;
}

/* Protected-mode type checks of the SDM Vol. 3 5.5. */
static bool type_allows(const SegmentCache *s, int access)
{
    bool code = s->attr & 0x8;
    if (!(s->attr & SEG_ATTR_P))
        return false;
    if (access == ACCESS_WRITE)
        return !code && (s->attr & 0x2);
    return !code || (s->attr & 0x2);   /* code must be readable */
}

/* seg:offset → linear address, or a fault. */
static int segment_linear(Cpu *cpu, int seg, uint64_t offset, unsigned size,
                          int access, uint64_t *linear)
{
    const SegmentCache *s = &cpu->s.seg[seg];
    if (cpu_is_64(cpu)) {
        uint64_t base = (seg == SEG_FS || seg == SEG_GS) ? s->base : 0;
        uint64_t lin = base + offset;
        if (!is_canonical(lin) || !is_canonical(lin + size - 1))
            return seg_fault(cpu, seg);
        *linear = lin;
        return CPU_OK;
    }
    if ((cpu->mode & CPU_MODE_PROT) && !(cpu->mode & CPU_MODE_V86) &&
        !type_allows(s, access))
        return seg_fault(cpu, seg);
    if (!within_limit(s, offset, size))
        return seg_fault(cpu, seg);
    *linear = (s->base + offset) & 0xffffffffull;
    return CPU_OK;
}

/* linear → physical for one page (no access may cross a page here).
 * Paging arrives with the system-architecture work; until then CR0.PG
 * cannot be set (MOV to CR0 refuses it), so linear is physical. */
static int linear_physical(Cpu *cpu, uint64_t linear, int access, bool system,
                           uint64_t *phys)
{
    (void)access;
    (void)system;
    *phys = (cpu->mode & CPU_MODE_LONG ? linear : linear & 0xffffffffull) &
            cpu->a20_mask;
    return CPU_OK;
}

static void phys_write(Cpu *cpu, uint64_t phys, unsigned size, uint64_t v)
{
    if (block_page_has_code(cpu->blocks, phys) ||
        block_page_has_code(cpu->blocks, phys + size - 1)) {
        block_invalidate_range(cpu->blocks, phys, size);
    }
    as_write(cpu->mem, phys, v, size);
}

/* Translate both pages of an access first, so that a fault on the second
 * leaves memory untouched. */
static int translate_access(Cpu *cpu, uint64_t linear, unsigned size,
                            int access, bool system, uint64_t phys[2],
                            unsigned *first_len)
{
    uint64_t room = PAGE_SIZE - (linear & (PAGE_SIZE - 1));
    *first_len = size <= room ? size : (unsigned)room;
    int r = linear_physical(cpu, linear, access, system, &phys[0]);
    if (r == CPU_OK && *first_len < size)
        r = linear_physical(cpu, linear + *first_len, access, system, &phys[1]);
    return r;
}

static int linear_read(Cpu *cpu, uint64_t linear, unsigned size, uint64_t *v,
                       int access, bool system)
{
    uint64_t phys[2] = { 0, 0 };
    unsigned n;
    int r = translate_access(cpu, linear, size, access, system, phys, &n);
    if (r != CPU_OK)
        return r;
    if (n == size) {
        *v = as_read(cpu->mem, phys[0], size);
        return CPU_OK;
    }
    uint64_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t p = i < n ? phys[0] + i : phys[1] + (i - n);
        value |= as_read(cpu->mem, p, 1) << (8 * i);
    }
    *v = value;
    return CPU_OK;
}

static int linear_write(Cpu *cpu, uint64_t linear, unsigned size, uint64_t v,
                        bool system)
{
    uint64_t phys[2] = { 0, 0 };
    unsigned n;
    int r = translate_access(cpu, linear, size, ACCESS_WRITE, system, phys, &n);
    if (r != CPU_OK)
        return r;
    if (n == size) {
        phys_write(cpu, phys[0], size, v);
        return CPU_OK;
    }
    for (unsigned i = 0; i < size; i++) {
        uint64_t p = i < n ? phys[0] + i : phys[1] + (i - n);
        phys_write(cpu, p, 1, (v >> (8 * i)) & 0xff);
    }
    return CPU_OK;
}

int mem_read(Cpu *cpu, int seg, uint64_t offset, unsigned size, uint64_t *v)
{
    uint64_t linear;
    int r = segment_linear(cpu, seg, offset, size, ACCESS_READ, &linear);
    if (r != CPU_OK)
        return r;
    return linear_read(cpu, linear, size, v, ACCESS_READ, false);
}

int mem_write(Cpu *cpu, int seg, uint64_t offset, unsigned size, uint64_t v)
{
    uint64_t linear;
    int r = segment_linear(cpu, seg, offset, size, ACCESS_WRITE, &linear);
    if (r != CPU_OK)
        return r;
    return linear_write(cpu, linear, size, v, false);
}

int mem_check_write(Cpu *cpu, int seg, uint64_t offset, unsigned size)
{
    uint64_t linear, phys[2] = { 0, 0 };
    unsigned n;
    int r = segment_linear(cpu, seg, offset, size, ACCESS_WRITE, &linear);
    if (r != CPU_OK)
        return r;
    return translate_access(cpu, linear, size, ACCESS_WRITE, false, phys, &n);
}

int mem_read_linear(Cpu *cpu, uint64_t linear, unsigned size, uint64_t *v,
                    bool system)
{
    return linear_read(cpu, linear, size, v, ACCESS_READ, system);
}

int mem_write_linear(Cpu *cpu, uint64_t linear, unsigned size, uint64_t v,
                     bool system)
{
    return linear_write(cpu, linear, size, v, system);
}

size_t mem_fetch_code(Cpu *cpu, uint64_t linear, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint64_t phys;
        uint64_t lin = linear + done;
        if (cpu_is_64(cpu) && !is_canonical(lin))
            break;
        if (linear_physical(cpu, lin, ACCESS_EXEC, false, &phys) != CPU_OK)
            break;
        size_t room = PAGE_SIZE - (lin & (PAGE_SIZE - 1));
        size_t n = len - done < room ? len - done : room;
        as_read_buf(cpu->mem, phys, buf + done, n);
        done += n;
    }
    return done;
}

int mem_code_address(Cpu *cpu, uint64_t *linear, uint64_t *phys)
{
    const SegmentCache *cs = &cpu->s.seg[SEG_CS];
    uint64_t rip = cpu->s.rip;
    if (cpu_is_64(cpu)) {
        if (!is_canonical(rip))
            return cpu_raise(cpu, EXC_GP, 0, true);
        *linear = rip;
    } else {
        if (rip > cs->limit)
            return cpu_raise(cpu, EXC_GP, 0, true);
        *linear = (cs->base + rip) & 0xffffffffull;
    }
    return linear_physical(cpu, *linear, ACCESS_EXEC, false, phys);
}

bool mem_probe_code(Cpu *cpu, uint64_t linear, uint64_t *phys)
{
    if (cpu_is_64(cpu) && !is_canonical(linear))
        return false;
    /* Without paging nothing can fault; the walker will get a probe mode
     * that neither raises nor sets accessed bits. */
    return linear_physical(cpu, linear, ACCESS_EXEC, false, phys) == CPU_OK;
}

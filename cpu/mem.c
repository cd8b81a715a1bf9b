/* Guest memory access from the CPU: segmentation, then paging through the
 * soft TLB, then physical memory.
 *
 * Segmentation follows the SDM Vol. 3 5.3 (limit checking, expand-down
 * segments) and 5.5-5.6 (type checks); 64-bit mode ignores segment bases
 * other than FS/GS and checks canonical form instead (Vol. 3 3.4.4, Vol. 1
 * 3.3.7.1).  Translation asks the TLB (mmu/tlb.h), then the page walker
 * (mmu/pagewalk.h); a miss that faults loads CR2 and raises #PF.  RAM hits
 * are read and written through the host pointer; stores to pages holding
 * decoded blocks are reported to the block cache by the address space's
 * page tracker, whichever path they take.
 */
#include <string.h>

#include "cpu/block.h"
#include "cpu/debug.h"
#include "cpu/insn.h"
#include "jit/jitcheck.h"
#include "mmu/pagewalk.h"
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

static PagingMode paging_mode(const Cpu *cpu)
{
    if (!(cpu->s.cr0 & CR0_PG))
        return PAGING_NONE;
    if (cpu->s.efer & EFER_LMA)
        return PAGING_4LEVEL;
    return (cpu->s.cr4 & CR4_PAE) ? PAGING_PAE : PAGING_32;
}

/* Walk the page tables (or apply the identity map when paging is off). */
static int walk(Cpu *cpu, uint64_t linear, int kind, bool user, PageWalk *w)
{
    PagingParams p = {
        .mode = paging_mode(cpu), .cr3 = cpu->s.cr3,
        .pse = cpu->s.cr4 & CR4_PSE, .pge = cpu->s.cr4 & CR4_PGE,
        .nxe = cpu->s.efer & EFER_NXE, .wp = cpu->s.cr0 & CR0_WP,
        .gb_pages = false, .phys_bits = CPU_PHYS_BITS,
    };
    if (p.mode == PAGING_NONE) {
        uint64_t phys = (cpu->mode & CPU_MODE_LONG) ? linear : linear & 0xffffffffull;
        *w = (PageWalk){ .phys = phys, .page_base = phys & ~0xfffull,
                         .page_size = 4096, .writable = true, .user = true,
                         .executable = true, .dirty = true };
        return 0;
    }
    return pagewalk(cpu->mem, &p, linear, kind, user, w);
}

/* The host address of a whole RAM frame, or 0. */
static uintptr_t frame_host(Cpu *cpu, uint64_t frame)
{
    const Region *r = as_lookup(cpu->mem, frame);
    if (!r || r->kind != REGION_RAM || frame + 4095 > r->base + r->length - 1)
        return 0;
    return (uintptr_t)(r->host + (frame - r->base));
}

static bool frame_is_code(const Cpu *cpu, uint64_t phys)
{
    return cpu->mem->code_pages && pagetrack_test(cpu->mem->code_pages, phys);
}

/* Translated code stores through write tags without telling the code-page
 * tracker, so while the JIT is on, pages holding decoded blocks get no
 * write tag: their stores take the slow path, which invalidates the
 * blocks (and sets jit->stale through the block cache's hook). */
static bool withhold_write(const Cpu *cpu, uint64_t frame)
{
    return cpu->jit && frame_is_code(cpu, frame);
}

/* Translate one page for `access`; returns the TLB entry.  With `probe`,
 * a miss that would fault returns CPU_FAULT without raising anything. */
static int translate(Cpu *cpu, uint64_t linear, int access, bool system,
                     bool probe, TlbEntry **out)
{
    static const int kinds[3] = { TLB_READ, TLB_WRITE, TLB_EXEC };
    int kind = kinds[access];
    bool user = !system && cpu_cpl(cpu) == 3;
    int priv = user ? TLB_USER : TLB_SUPERVISOR;
    if (cpu->tlb_generation != cpu->mem->generation) {
        tlb_flush_all(&cpu->tlb);
        cpu->tlb_generation = cpu->mem->generation;
    }
    TlbEntry *e = tlb_lookup(&cpu->tlb, priv, linear, kind);
    if (!e)
        e = tlb_lookup_victim(&cpu->tlb, priv, linear, kind);
    if (e) {
        *out = e;
        return CPU_OK;
    }
    PageWalk w;
    if (walk(cpu, linear, access, user, &w) < 0) {
        if (probe)
            return CPU_FAULT;
        LOG(LOG_MMU, "mmu: #PF at %llx error %x\n", (unsigned long long)linear,
            w.error_code);
        cpu->s.cr2 = linear;
        return cpu_raise(cpu, EXC_PF, w.error_code, true);
    }
    bool wp = cpu->s.cr0 & CR0_WP;
    uint64_t frame = w.page_base & cpu->a20_mask;
    bool readable = !user || w.user;
    TlbFill f = {
        .phys = frame, .host = frame_host(cpu, frame),
        .exec = readable && w.executable,
        .global = w.global,
    };
    /* Read and write tags only where the host addend reaches the frame:
     * a tag hit is all the JIT's inline accesses test (mmu/tlb.h). */
    f.read = readable && f.host;
    f.write = f.read && (user ? w.writable : (!wp || w.writable)) && w.dirty &&
              !withhold_write(cpu, frame);
    if (cpu->jit)
        jitcheck_note_fill(cpu, frame, f.host,
                           f.write || access == ACCESS_WRITE);
    *out = tlb_fill(&cpu->tlb, priv, linear, &f);
    /* The walk allowed this access even if the entry cannot say so (a
     * write to a clean page: the next write walks again, as D is set). */
    return CPU_OK;
}

/* Translate both pages of an access before touching memory, so a fault on
 * the second leaves the first unwritten. */
static int translate_access(Cpu *cpu, uint64_t linear, unsigned size,
                            int access, bool system, TlbEntry *e[2],
                            unsigned *first_len)
{
    uint64_t room = PAGE_SIZE - (linear & (PAGE_SIZE - 1));
    *first_len = size <= room ? size : (unsigned)room;
    int r = translate(cpu, linear, access, system, false, &e[0]);
    if (r == CPU_OK && *first_len < size)
        r = translate(cpu, linear + *first_len, access, system, false, &e[1]);
    return r;
}

static uint64_t entry_phys(const TlbEntry *e, uint64_t linear)
{
    return e->phys | (linear & 0xfff);
}

static int linear_read(Cpu *cpu, uint64_t linear, unsigned size, uint64_t *v,
                       int access, bool system)
{
    TlbEntry *e[2] = { NULL, NULL };
    unsigned n;
    int r = translate_access(cpu, linear, size, access, system, e, &n);
    if (r != CPU_OK)
        return r;
    if (n == size) {
        if (e[0]->ram) {
            uint64_t value = 0;   /* little-endian host (DESIGN.md) */
            memcpy(&value, (const void *)(uintptr_t)(linear + e[0]->addend), size);
            *v = value;
        } else {
            *v = as_read(cpu->mem, entry_phys(e[0], linear), size);
        }
        return CPU_OK;
    }
    uint64_t value = 0;
    for (unsigned i = 0; i < size; i++) {
        const TlbEntry *pe = i < n ? e[0] : e[1];
        value |= as_read(cpu->mem, entry_phys(pe, linear + i), 1) << (8 * i);
    }
    *v = value;
    return CPU_OK;
}

static int linear_write(Cpu *cpu, uint64_t linear, unsigned size, uint64_t v,
                        bool system)
{
    TlbEntry *e[2] = { NULL, NULL };
    unsigned n;
    int r = translate_access(cpu, linear, size, ACCESS_WRITE, system, e, &n);
    if (r != CPU_OK)
        return r;
    if (n == size) {
        uint64_t phys = entry_phys(e[0], linear);
        if (e[0]->ram && e[0]->tag[TLB_WRITE] != TLB_INVALID) {
            memcpy((void *)(uintptr_t)(linear + e[0]->addend), &v, size);
            if (frame_is_code(cpu, phys))
                pagetrack_written(cpu->mem->code_pages, phys, size);
        } else {
            as_write(cpu->mem, phys, v, size);
        }
        return CPU_OK;
    }
    for (unsigned i = 0; i < size; i++) {
        const TlbEntry *pe = i < n ? e[0] : e[1];
        as_write(cpu->mem, entry_phys(pe, linear + i), (v >> (8 * i)) & 0xff, 1);
    }
    return CPU_OK;
}

/* Data breakpoints (cpu/debug.c) watch the accesses instructions make
 * through segments; the flag test is all the fast path pays. */
static int __attribute__((noinline))
watched_access(Cpu *cpu, uint64_t linear, unsigned size, uint64_t *v, bool write)
{
    int r = write ? linear_write(cpu, linear, size, *v, false)
                  : linear_read(cpu, linear, size, v, ACCESS_READ, false);
    if (r == CPU_OK)
        debug_data_access(cpu, linear, size, write);
    return r;
}

int mem_read(Cpu *cpu, int seg, uint64_t offset, unsigned size, uint64_t *v)
{
    uint64_t linear;
    int r = segment_linear(cpu, seg, offset, size, ACCESS_READ, &linear);
    if (r != CPU_OK)
        return r;
    if (__builtin_expect(cpu->debug_active & DEBUG_DATA, 0))
        return watched_access(cpu, linear, size, v, false);
    return linear_read(cpu, linear, size, v, ACCESS_READ, false);
}

int mem_write(Cpu *cpu, int seg, uint64_t offset, unsigned size, uint64_t v)
{
    uint64_t linear;
    int r = segment_linear(cpu, seg, offset, size, ACCESS_WRITE, &linear);
    if (r != CPU_OK)
        return r;
    if (__builtin_expect(cpu->debug_active & DEBUG_DATA, 0))
        return watched_access(cpu, linear, size, &v, true);
    return linear_write(cpu, linear, size, v, false);
}

int mem_check_write(Cpu *cpu, int seg, uint64_t offset, unsigned size)
{
    uint64_t linear;
    TlbEntry *e[2];
    unsigned n;
    int r = segment_linear(cpu, seg, offset, size, ACCESS_WRITE, &linear);
    if (r != CPU_OK)
        return r;
    return translate_access(cpu, linear, size, ACCESS_WRITE, false, e, &n);
}

int mem_probe(Cpu *cpu, int seg, uint64_t offset, unsigned size, int access)
{
    uint64_t linear;
    TlbEntry *e[2];
    unsigned n;
    int r = segment_linear(cpu, seg, offset, size, access, &linear);
    if (r != CPU_OK)
        return r;
    return translate_access(cpu, linear, size, access, false, e, &n);
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

bool mem_probe_code(Cpu *cpu, uint64_t linear, uint64_t *phys)
{
    TlbEntry *e;
    if (cpu_is_64(cpu) && !is_canonical(linear))
        return false;
    if (translate(cpu, linear, ACCESS_EXEC, false, true, &e) != CPU_OK)
        return false;
    *phys = entry_phys(e, linear);
    return true;
}

size_t mem_fetch_code(Cpu *cpu, uint64_t linear, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint64_t phys, lin = linear + done;
        if (!mem_probe_code(cpu, lin, &phys))
            break;   /* the fault is raised if execution reaches the byte */
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
    TlbEntry *e;
    if (cpu_is_64(cpu)) {
        if (!is_canonical(rip))
            return cpu_raise(cpu, EXC_GP, 0, true);
        *linear = rip;
    } else {
        if (rip > cs->limit)
            return cpu_raise(cpu, EXC_GP, 0, true);
        *linear = (cs->base + rip) & 0xffffffffull;
    }
    int r = translate(cpu, *linear, ACCESS_EXEC, false, false, &e);
    if (r == CPU_OK)
        *phys = entry_phys(e, *linear);
    return r;
}

void mem_withhold_code_writes(Cpu *cpu, uint64_t phys)
{
    uint64_t frame = phys & ~(PAGE_SIZE - 1);
    for (int p = 0; p < TLB_PRIVILEGES; p++) {
        for (unsigned i = 0; i < TLB_SIZE; i++)
            if (cpu->tlb.entries[p][i].phys == frame)
                cpu->tlb.entries[p][i].tag[TLB_WRITE] = TLB_INVALID;
        for (unsigned i = 0; i < TLB_VICTIMS; i++)
            if (cpu->tlb.victims[p][i].phys == frame)
                cpu->tlb.victims[p][i].tag[TLB_WRITE] = TLB_INVALID;
    }
}

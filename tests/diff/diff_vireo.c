/* The differential harness: Vireo as a bare CPU over a code area and a
 * data window.
 *
 * The CPU is put straight into the mode under test (real mode with zero
 * segment bases; flat 32-bit protected mode; 64-bit mode with EFER.LMA and a
 * long-mode CS), the way a boot loader would leave it (SDM Vol. 3 9.9 for
 * the mode switch; the descriptor caches are written directly).
 *
 * Memory has two personalities.  While the generator validates candidate
 * instructions ("generation mode") the data window is an I/O region whose
 * handlers serve the window's bytes and log every store in an undo log, the
 * code area is an I/O region that serves fetches and flags any store, and
 * everything else is a trap region that flags any access: a candidate that
 * touches memory it must not is seen, undone and rejected.  When a finished
 * program runs ("run mode") the window and the code are plain RAM, the path
 * guests take.
 */
#include "tests/diff/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/insn.h"

static void *alloc_pages(uint64_t size)
{
    void *p = aligned_alloc(4096, size);
    if (!p) {
        fprintf(stderr, "diff: out of memory (%llu bytes)\n", (unsigned long long)size);
        exit(2);
    }
    memset(p, 0, size);
    return p;
}

/* ---- the generation-mode regions --------------------------------------- */

static uint64_t window_read(void *opaque, uint64_t offset, unsigned size)
{
    VireoBox *vb = opaque;
    uint64_t v = 0;
    memcpy(&v, vb->data + offset, size);   /* little-endian host */
    return v;
}

static void window_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    VireoBox *vb = opaque;
    if (vb->undo_len == vb->undo_cap) {
        vb->undo_cap = vb->undo_cap ? vb->undo_cap * 2 : 1024;
        vb->undo = realloc(vb->undo, vb->undo_cap * sizeof(*vb->undo));
        if (!vb->undo) {
            fprintf(stderr, "diff: out of memory for the undo log\n");
            exit(2);
        }
    }
    UndoEntry *u = &vb->undo[vb->undo_len++];
    u->offset = offset;
    u->size = (uint8_t)size;
    u->old = 0;
    memcpy(&u->old, vb->data + offset, size);
    memcpy(vb->data + offset, &value, size);
}

static const MemOps window_ops = { window_read, window_write, 8 };

static uint64_t code_read(void *opaque, uint64_t offset, unsigned size)
{
    VireoBox *vb = opaque;
    uint64_t v = 0;
    memcpy(&v, vb->code + offset, size);
    return v;
}

static void code_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    VireoBox *vb = opaque;
    if (vb->gen_mode)
        vb->trapped = true;   /* self-modifying code is not generated */
}

static const MemOps code_ops = { code_read, code_write, 8 };

static void note_trap(TrapRegion *t, uint64_t offset)
{
    VireoBox *vb = t->vb;
    if (!vb->trapped) {
        vb->trapped_outside = true;
        vb->trap_addr = t->base + offset;
    }
    vb->trapped = true;
}

static uint64_t trap_read(void *opaque, uint64_t offset, unsigned size)
{
    note_trap(opaque, offset);
    return 0;
}

static void trap_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    note_trap(opaque, offset);
}

static const MemOps trap_ops = { trap_read, trap_write, 8 };

static void check_map(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "diff: cannot map the %s (%d)\n", what, rc);
        exit(2);
    }
}

/* Trap regions over every address that is neither code nor data. */
static void map_traps(VireoBox *vb)
{
    const Layout *l = vb->lay;
    uint64_t lo[2] = { l->code_base, l->data_base };
    uint64_t hi[2] = { l->code_base + l->code_size, l->data_base + l->data_size };
    if (lo[1] < lo[0]) {
        uint64_t t = lo[0]; lo[0] = lo[1]; lo[1] = t;
        t = hi[0]; hi[0] = hi[1]; hi[1] = t;
    }
    uint64_t start = 0;
    for (int i = 0; i < 2; i++) {
        vb->traps[i] = (TrapRegion){ vb, start };
        if (lo[i] > start)
            check_map(as_map_io(&vb->mem, "trap", start, lo[i] - start,
                                &trap_ops, &vb->traps[i]), "trap region");
        start = hi[i];
    }
    /* Up to the top of the 64-bit space: length 2^64 - start. */
    vb->traps[2] = (TrapRegion){ vb, start };
    check_map(as_map_io(&vb->mem, "trap", start, 0 - start, &trap_ops,
                        &vb->traps[2]), "top trap region");
}

void vbox_set_gen_mode(VireoBox *vb, bool on)
{
    const Layout *l = vb->lay;
    if (vb->mem.count && vb->gen_mode == on)
        return;
    as_unmap(&vb->mem, l->data_base);
    as_unmap(&vb->mem, l->code_base);
    if (on) {
        check_map(as_map_io(&vb->mem, "window", l->data_base, l->data_size,
                            &window_ops, vb), "data window");
        check_map(as_map_io(&vb->mem, "code", l->code_base, l->code_size,
                            &code_ops, vb), "code area");
    } else {
        check_map(as_map_ram(&vb->mem, "window", l->data_base, l->data_size,
                             vb->data), "data window");
        check_map(as_map_ram(&vb->mem, "code", l->code_base, l->code_size,
                             vb->code), "code area");
    }
    vb->gen_mode = on;
    /* Blocks were decoded from the other mapping of the code area. */
    block_cache_flush(vb->cpu.blocks);
    /* Generation single-steps candidates: translating them would only
     * cost time, so the JIT sees finished programs alone. */
    vb->cpu.jit = on ? NULL : vb->jit;
}

/* ---- set-up --------------------------------------------------------------- */

static void set_seg(Cpu *cpu, int seg, uint16_t sel, uint64_t base,
                    uint32_t limit, uint16_t attr)
{
    SegmentCache *s = &cpu->s.seg[seg];
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->attr = attr;
}

void vbox_init(VireoBox *vb, const Layout *lay, const CpuFeatures *features,
               const uint16_t sel[SEG_COUNT])
{
    memset(vb, 0, sizeof(*vb));
    vb->lay = lay;
    vb->data = alloc_pages(lay->data_size);
    vb->code = alloc_pages(lay->code_size);
    vb->shadow = alloc_pages(lay->data_size);
    as_init(&vb->mem, "memory", 0);
    as_init(&vb->io, "io", 1u << 16);
    map_traps(vb);
    cpu_init(&vb->cpu, &vb->mem, &vb->io);
    vbox_set_gen_mode(vb, false);

    Cpu *cpu = &vb->cpu;
    cpu->features = *features;
    cpu->stop_on_exception = true;
    const uint16_t data_attr = SEG_ATTR_G | SEG_ATTR_DB | SEG_ATTR_P | SEG_ATTR_S | 0x3;
    const uint16_t code_attr = SEG_ATTR_G | SEG_ATTR_P | SEG_ATTR_S | 0xb;
    switch (lay->mode) {
    case MODE_REAL:
        for (int i = 0; i < SEG_COUNT; i++)
            cpu_load_seg_real(cpu, i, lay->sel[i]);
        break;
    case MODE_PROT32:
        cpu->s.cr0 |= CR0_PE;
        for (int i = 0; i < SEG_COUNT; i++)
            set_seg(cpu, i, sel[i], lay->base[i], 0xffffffffu, data_attr);
        set_seg(cpu, SEG_CS, sel[SEG_CS], lay->base[SEG_CS], 0xffffffffu,
                code_attr | SEG_ATTR_DB);
        break;
    case MODE_LONG64:
        cpu->s.cr0 |= CR0_PE;
        cpu->s.efer |= EFER_LME | EFER_LMA;
        /* 64-bit mode ignores the bases of CS, DS, ES and SS (SDM Vol. 1
         * 3.4.2.1); Vireo gets non-zero ones to show if it used them. */
        for (int i = 0; i < SEG_COUNT; i++)
            set_seg(cpu, i, sel[i],
                    (i == SEG_FS || i == SEG_GS) ? lay->base[i] : 0x40000000ull + 0x10000ull * (unsigned)i,
                    0xffffffffu, data_attr);
        cpu->s.seg[SEG_CS].attr = code_attr | SEG_ATTR_L;
        break;
    }
    cpu_update_mode(cpu);
    if (cpu->mode != lay->cpu_mode) {
        fprintf(stderr, "diff: Vireo is in mode %#x, expected %#x\n",
                cpu->mode, lay->cpu_mode);
        exit(2);
    }
}

void vbox_destroy(VireoBox *vb)
{
    cpu_destroy(&vb->cpu);
    as_destroy(&vb->mem);
    as_destroy(&vb->io);
    free(vb->data);
    free(vb->code);
    free(vb->shadow);
    free(vb->undo);
}

/* ---- state ---------------------------------------------------------------- */

/* EFLAGS bits the harness sets: everything but VM, VIF, VIP (always 0). */
#define EFLAGS_LOADED 0x003f7fd5ull

void vbox_load(VireoBox *vb, const ArchState *st, const uint8_t *master)
{
    Cpu *cpu = &vb->cpu;
    memcpy(vb->data, master, vb->lay->data_size);
    for (int i = 0; i < 16; i++)
        cpu->s.regs[i] = i < vb->lay->nregs ? st->gpr[i] : 0;
    cpu->s.rip = st->rip;
    cpu_set_eflags(cpu, st->eflags, EFLAGS_LOADED);
    cpu->s.exception.vector = -1;
    cpu->s.halted = 0;
    cpu->s.intr_shadow = 0;
    vb->trapped = false;
    vb->trapped_outside = false;
    vb->undo_len = 0;
}

void vbox_save(VireoBox *vb, ArchState *out)
{
    Cpu *cpu = &vb->cpu;
    memset(out, 0, sizeof(*out));
    uint64_t mask = vb->lay->width == 8 ? ~0ull : 0xffffffffull;
    for (int i = 0; i < vb->lay->nregs; i++)
        out->gpr[i] = cpu->s.regs[i] & mask;
    out->rip = cpu->s.rip & mask;
    out->eflags = cpu_get_eflags(cpu) & 0xffffffffull;
    out->vector = cpu->s.exception.vector;
}

void vbox_write_code(VireoBox *vb, uint64_t off, const uint8_t *bytes, size_t len)
{
    memcpy(vb->code + off, bytes, len);
    block_invalidate_range(vb->cpu.blocks, vb->lay->code_base + off, len);
}

void vbox_undo(VireoBox *vb)
{
    while (vb->undo_len > 0) {
        const UndoEntry *u = &vb->undo[--vb->undo_len];
        memcpy(vb->data + u->offset, &u->old, u->size);
    }
}

int vbox_run_to(VireoBox *vb, uint64_t end, uint64_t *icount)
{
    Cpu *cpu = &vb->cpu;
    uint64_t start = cpu->s.icount;
    int status = STEP_STUCK;
    /* A REP string instruction takes one call per iteration; the harness
     * keeps counts small, so the guard only stops a runaway. */
    for (int guard = 0; guard < 100000; guard++) {
        if (cpu->s.exception.vector >= 0) {
            status = STEP_FAULT;
            break;
        }
        if (cpu->s.rip == end) {
            status = STEP_OK;
            break;
        }
        if (cpu_exec(cpu, cpu->s.icount + 1) == 0 && cpu->s.exception.vector < 0)
            break;   /* halted: it ran into the HLT after the program */
    }
    *icount = cpu->s.icount - start;
    return status;
}

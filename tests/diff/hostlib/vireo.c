/* The harnesses' Vireo side: a bare CPU in 64-bit mode.
 *
 * The layout's regions are RAM in an otherwise empty address space, no
 * paging (linear = physical).  The CPU is put straight into 64-bit mode
 * (EFER.LMA, a long-mode CS, flat data segments, as tests/diff/diff_vireo.c
 * does) with CR0.MP/NE and CR4.OSFXSR/OSXMMEXCPT set as Linux runs the host
 * side, and every feature the harnesses test.  It runs one instruction at
 * a time until RIP reaches the stop address; an exception stops it
 * undelivered (stop_on_exception).
 */
#include "tests/diff/hostlib/hostlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/decode.h"
#include "cpu/insn.h"

/* Instructions a stub may take before it must have reached its stop. */
#define STUB_MAX_INSNS 256

static struct {
    AddressSpace mem, io;
    Cpu cpu;
    HlLayout lay;
    uint8_t *ram[HL_MAX_REGIONS];
} vb;

static CpuFeatures features(void)
{
    CpuFeatures f;
    cpu_default_features(&f);
    f.leaf1_edx |= CPUID1_EDX_FPU | CPUID1_EDX_FXSR | CPUID1_EDX_CMOV |
                   CPUID1_EDX_MMX | CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
    f.leaf1_ecx |= CPUID1_ECX_SSE3 | CPUID1_ECX_SSSE3 | CPUID1_ECX_SSE41 |
                   CPUID1_ECX_SSE42;
    return f;
}

int hl_decode(const uint8_t *b, size_t avail, size_t *len)
{
    static const uint32_t mode64 = CPU_MODE_CODE64 | CPU_MODE_PROT | CPU_MODE_LONG;
    CpuFeatures f = features();
    DecodedInsn d;
    decode_insn(b, avail, mode64, &f, &d);
    *len = d.len;
    return d.id;
}

int hl_decode_id(const uint8_t *b, size_t n)
{
    size_t len;
    int id = hl_decode(b, n, &len);
    return len == n ? id : INSN_UD;
}

static void set_seg(Cpu *cpu, int seg, uint16_t attr)
{
    SegmentCache *s = &cpu->s.seg[seg];
    s->selector = seg == SEG_CS ? 0x08 : 0x10;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = attr;
}

int hl_vireo_init(const HlLayout *lay)
{
    vb.lay = *lay;
    as_init(&vb.mem, "memory", 0);
    as_init(&vb.io, "io", 1u << 16);
    for (unsigned i = 0; i < lay->n; i++) {
        vb.ram[i] = aligned_alloc(4096, lay->r[i].size);
        if (!vb.ram[i] || as_map_ram(&vb.mem, "region", lay->r[i].base,
                                     lay->r[i].size, vb.ram[i])) {
            fprintf(stderr, "diff: cannot map Vireo's memory\n");
            return -1;
        }
        memset(vb.ram[i], 0, lay->r[i].size);
    }
    Cpu *cpu = &vb.cpu;
    cpu_init(cpu, &vb.mem, &vb.io);
    cpu->features = features();
    cpu->stop_on_exception = true;
    cpu->s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
    cpu->s.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpu->s.efer |= EFER_LME | EFER_LMA;
    const uint16_t data = SEG_ATTR_G | SEG_ATTR_DB | SEG_ATTR_P | SEG_ATTR_S | 0x3;
    for (int i = 0; i < SEG_COUNT; i++)
        set_seg(cpu, i, data);
    set_seg(cpu, SEG_CS, SEG_ATTR_G | SEG_ATTR_L | SEG_ATTR_P | SEG_ATTR_S | 0xb);
    cpu_update_mode(cpu);
    if (!cpu_is_64(cpu)) {
        fprintf(stderr, "diff: Vireo is not in 64-bit mode\n");
        return -1;
    }
    return 0;
}

uint8_t *hl_vireo_mem(unsigned region)
{
    return vb.ram[region];
}

/* FXSAVE image to CpuState and back; ST(i) is physical register
 * (TOP + i) & 7, the tag byte is the abridged one, as Vireo keeps it. */
static void set_state(Cpu *cpu, const HlState *st)
{
    const uint8_t *fx = st->fx;
    X87State *f = &cpu->s.fpu;
    f->fcw = (uint16_t)get_le(fx + FX_FCW, 2);
    f->fsw = (uint16_t)get_le(fx + FX_FSW, 2);
    f->tags = fx[FX_FTW];
    unsigned top = (f->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        Float80 *r = &f->r[(top + i) & 7];
        r->sig = get_le(fx + FX_ST + 16 * i, 8);
        r->se = (uint16_t)get_le(fx + FX_ST + 16 * i + 8, 2);
    }
    cpu->s.sse.mxcsr = (uint32_t)get_le(fx + FX_MXCSR, 4);
    for (unsigned i = 0; i < 16; i++) {
        cpu->s.sse.xmm[i].q[0] = get_le(fx + FX_XMM + 16 * i, 8);
        cpu->s.sse.xmm[i].q[1] = get_le(fx + FX_XMM + 16 * i + 8, 8);
    }
    for (unsigned i = 0; i < 16; i++)
        cpu->s.regs[i] = st->gpr[i];
    cpu_set_eflags(cpu, st->rflags, ~0ull);
}

static void get_state(Cpu *cpu, HlState *st)
{
    uint8_t *fx = st->fx;
    const X87State *f = &cpu->s.fpu;
    memset(fx, 0, sizeof(st->fx));
    put_le(fx + FX_FCW, f->fcw, 2);
    put_le(fx + FX_FSW, f->fsw, 2);
    fx[FX_FTW] = f->tags;
    unsigned top = (f->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        const Float80 *r = &f->r[(top + i) & 7];
        put_le(fx + FX_ST + 16 * i, r->sig, 8);
        put_le(fx + FX_ST + 16 * i + 8, r->se, 2);
    }
    put_le(fx + FX_MXCSR, cpu->s.sse.mxcsr, 4);
    for (unsigned i = 0; i < 16; i++) {
        put_le(fx + FX_XMM + 16 * i, cpu->s.sse.xmm[i].q[0], 8);
        put_le(fx + FX_XMM + 16 * i + 8, cpu->s.sse.xmm[i].q[1], 8);
    }
    for (unsigned i = 0; i < 16; i++)
        st->gpr[i] = cpu->s.regs[i];
    st->rflags = cpu_get_eflags(cpu);
}

/* Run from `rip` until `stop`: the vector, -1, or HL_STRAY (see
 * hostlib.h). */
static int run(uint64_t rip, uint64_t stop, unsigned max_insns)
{
    Cpu *cpu = &vb.cpu;
    block_invalidate_range(cpu->blocks, vb.lay.r[0].base, vb.lay.r[0].size);
    cpu->s.rip = rip;
    cpu->s.exception.vector = -1;
    for (unsigned i = 0; i < max_insns && cpu->s.rip != stop; i++) {
        cpu_exec(cpu, cpu->s.icount + 1);
        if (cpu->s.exception.vector >= 0)
            return cpu->s.exception.vector;
    }
    if (cpu->s.rip != stop) {
        fprintf(stderr, "diff: Vireo stopped at %llx\n", (unsigned long long)cpu->s.rip);
        return HL_STRAY;
    }
    return -1;
}

int hl_vireo_step(const HlState *in, uint64_t rip, uint64_t stop, HlState *out)
{
    set_state(&vb.cpu, in);
    int vector = run(rip, stop, 1);
    get_state(&vb.cpu, out);
    return vector;
}

int hl_vireo_call(uint64_t rip, uint64_t stop, uint64_t rdi, uint64_t rsp,
                  HlState *at_fault)
{
    vb.cpu.s.regs[R_DI] = rdi;
    vb.cpu.s.regs[R_SP] = rsp;
    int vector = run(rip, stop, STUB_MAX_INSNS);
    if (vector >= 0 && at_fault)
        get_state(&vb.cpu, at_fault);
    return vector;
}

uint8_t *hl_emu_mem(int side, unsigned region)
{
    return side == HL_UNICORN ? hl_uc_mem(region) : hl_vireo_mem(region);
}

int hl_emu_step(int side, const HlState *in, uint64_t rip, uint64_t stop, HlState *out)
{
    if (side == HL_UNICORN)
        return hl_uc_step(in, rip, stop, out);
    return hl_vireo_step(in, rip, stop, out);
}

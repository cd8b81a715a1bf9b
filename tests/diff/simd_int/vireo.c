/* The MMX / SSE integer harness: Vireo as a bare 64-bit CPU running one
 * instruction.
 *
 * The region is Vireo's RAM at SIMD_BASE (no paging: linear = physical).
 * The CPU is put straight into 64-bit mode (EFER.LMA, a long-mode CS) with
 * CR0.MP/NE and CR4.OSFXSR/OSXMMEXCPT set as Linux runs the host side.
 * Instead of running the host stub (whose FXSAVE/FXRSTOR belong to the x87
 * work), the input FXSAVE image, GPRs and RFLAGS are copied into CpuState
 * directly and the output written back in the same layout: the instruction
 * sits at the same address as in the stub, so RIP-relative operands reach
 * the same bytes.  An exception stops it undelivered (stop_on_exception).
 */
#include "tests/diff/simd_int/simddiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/insn.h"

static struct {
    AddressSpace mem, io;
    Cpu cpu;
    uint8_t *ram;
} vb;

static void set_seg(Cpu *cpu, int seg, uint16_t attr)
{
    SegmentCache *s = &cpu->s.seg[seg];
    s->selector = seg == SEG_CS ? 0x08 : 0x10;
    s->base = 0;
    s->limit = 0xffffffffu;
    s->attr = attr;
}

int vireo_init(void)
{
    vb.ram = aligned_alloc(4096, SIMD_SIZE);
    if (!vb.ram) {
        fprintf(stderr, "simd_int_host: out of memory\n");
        return -1;
    }
    memset(vb.ram, 0, SIMD_SIZE);
    as_init(&vb.mem, "memory", 0);
    as_init(&vb.io, "io", 1u << 16);
    if (as_map_ram(&vb.mem, "region", SIMD_BASE, SIMD_SIZE, vb.ram)) {
        fprintf(stderr, "simd_int_host: cannot map Vireo's memory\n");
        return -1;
    }
    Cpu *cpu = &vb.cpu;
    cpu_init(cpu, &vb.mem, &vb.io);
    cpu->features.leaf1_edx |= CPUID1_EDX_FPU | CPUID1_EDX_FXSR |
                               CPUID1_EDX_MMX | CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
    cpu->features.leaf1_ecx |= CPUID1_ECX_SSE3 | CPUID1_ECX_SSSE3 |
                               CPUID1_ECX_SSE41 | CPUID1_ECX_SSE42;
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
        fprintf(stderr, "simd_int_host: Vireo is not in 64-bit mode\n");
        return -1;
    }
    return 0;
}

/* FXSAVE image (SDM Vol. 2 FXSAVE, Table 3-53) to CpuState and back.
 * ST(i) is physical register (TOP + i) & 7; the tag byte is the abridged
 * one, by physical register, as Vireo keeps it. */
static void load_state(Cpu *cpu, const uint8_t *ctx)
{
    const uint8_t *fx = ctx + CTX_FX_IN;
    X87State *f = &cpu->s.fpu;
    f->fcw = (uint16_t)get_le(fx, 2);
    f->fsw = (uint16_t)get_le(fx + 2, 2);
    f->tags = fx[4];
    unsigned top = (f->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        Float80 *r = &f->r[(top + i) & 7];
        r->sig = get_le(fx + 32 + 16 * i, 8);
        r->se = (uint16_t)get_le(fx + 32 + 16 * i + 8, 2);
    }
    cpu->s.sse.mxcsr = (uint32_t)get_le(fx + 24, 4);
    for (unsigned i = 0; i < 16; i++) {
        cpu->s.sse.xmm[i].q[0] = get_le(fx + 160 + 16 * i, 8);
        cpu->s.sse.xmm[i].q[1] = get_le(fx + 168 + 16 * i, 8);
    }
    for (unsigned i = 0; i < 16; i++)
        cpu->s.regs[i] = get_le(ctx + CTX_GPR_IN + 8 * i, 8);
    cpu->s.regs[R_SP] = SIMD_BASE + STACK_TOP;
    cpu_set_eflags(cpu, get_le(ctx + CTX_FLAGS_IN, 8), ~0ull);
}

static void store_state(Cpu *cpu, uint8_t *ctx)
{
    uint8_t *fx = ctx + CTX_FX_OUT;
    const X87State *f = &cpu->s.fpu;
    memset(fx, 0, 512);
    put_le(fx, f->fcw, 2);
    put_le(fx + 2, f->fsw, 2);
    fx[4] = f->tags;
    unsigned top = (f->fsw >> 11) & 7;
    for (unsigned i = 0; i < 8; i++) {
        const Float80 *r = &f->r[(top + i) & 7];
        put_le(fx + 32 + 16 * i, r->sig, 8);
        put_le(fx + 32 + 16 * i + 8, r->se, 2);
    }
    put_le(fx + 24, cpu->s.sse.mxcsr, 4);
    for (unsigned i = 0; i < 16; i++) {
        put_le(fx + 160 + 16 * i, cpu->s.sse.xmm[i].q[0], 8);
        put_le(fx + 168 + 16 * i, cpu->s.sse.xmm[i].q[1], 8);
    }
    for (unsigned i = 0; i < 16; i++)
        put_le(ctx + CTX_GPR_OUT + 8 * i, cpu->s.regs[i], 8);
    put_le(ctx + CTX_FLAGS_OUT, cpu_get_eflags(cpu), 8);
}

int vireo_run(const SimdInsn *insn, uint8_t *region)
{
    Cpu *cpu = &vb.cpu;
    memcpy(vb.ram, region, SIMD_SIZE);
    memset(vb.ram + OFF_CODE, 0x90, 0x1000);
    memcpy(vb.ram + OFF_CODE + INSN_OFF, insn->bytes, insn->len);
    block_invalidate_range(cpu->blocks, SIMD_BASE, 0x1000);
    load_state(cpu, region + OFF_CTX);
    cpu->s.rip = SIMD_BASE + INSN_OFF;
    cpu->s.exception.vector = -1;
    cpu_exec(cpu, cpu->s.icount + 1);
    int vector = cpu->s.exception.vector;
    store_state(cpu, region + OFF_CTX);
    memcpy(region + OFF_DATA, vb.ram + OFF_DATA, 0x1000);
    memcpy(region + OFF_STACK, vb.ram + OFF_STACK, 0x1000);
    return vector >= 0 ? vector : -1;
}

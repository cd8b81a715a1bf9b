/* The SSE floating-point harness: Vireo as a bare 64-bit CPU running one
 * instruction.
 *
 * Two RAM pages (code, context) in an otherwise empty address space, no
 * paging; the CPU is put straight into 64-bit mode (EFER.LMA, a long-mode
 * CS) with CR0.MP/NE and CR4.OSFXSR/OSXMMEXCPT set as Linux runs the host
 * side.  The input state is copied from the context into CpuState (MMX
 * registers as the host stub's MOVQ loads leave them: significand = value,
 * exponent all ones, TOP = 0, every tag valid), RBX points at the context
 * so the memory operand is the same bytes, the instruction runs alone with
 * cpu_exec, and the state is written back in the stub's output layout.
 * An exception stops it undelivered (stop_on_exception).
 */
#include "tests/diff/sse/ssediff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/insn.h"

#define CODE_BASE 0x100000ull
#define CTX_BASE 0x200000ull

static struct {
    AddressSpace mem, io;
    Cpu cpu;
    uint8_t *code, *ctx;
} vb;

static uint8_t *page(void)
{
    uint8_t *p = aligned_alloc(4096, 4096);
    if (!p) {
        fprintf(stderr, "sse_host: out of memory\n");
        exit(2);
    }
    memset(p, 0, 4096);
    return p;
}

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
    vb.code = page();
    vb.ctx = page();
    as_init(&vb.mem, "memory", 0);
    as_init(&vb.io, "io", 1u << 16);
    if (as_map_ram(&vb.mem, "code", CODE_BASE, 4096, vb.code) ||
        as_map_ram(&vb.mem, "ctx", CTX_BASE, 4096, vb.ctx)) {
        fprintf(stderr, "sse_host: cannot map Vireo's memory\n");
        return -1;
    }
    Cpu *cpu = &vb.cpu;
    cpu_init(cpu, &vb.mem, &vb.io);
    cpu->features.leaf1_edx |= CPUID1_EDX_FPU | CPUID1_EDX_FXSR | CPUID1_EDX_MMX |
                               CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
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
        fprintf(stderr, "sse_host: Vireo is not in 64-bit mode\n");
        return -1;
    }
    return 0;
}

static void load_state(Cpu *cpu, const uint8_t *ctx)
{
    for (int i = 0; i < 16; i++) {
        cpu->s.sse.xmm[i].q[0] = get_le(ctx + CTX_XMM_IN + 16 * i, 8);
        cpu->s.sse.xmm[i].q[1] = get_le(ctx + CTX_XMM_IN + 16 * i + 8, 8);
    }
    X87State *f = &cpu->s.fpu;
    f->fsw = 0;          /* TOP = 0, no exception pending */
    f->fcw = 0x037f;
    f->tags = 0xff;
    for (int i = 0; i < 8; i++) {
        f->r[i].sig = get_le(ctx + CTX_MM_IN + 8 * i, 8);
        f->r[i].se = 0xffff;
    }
    for (int i = 0; i < 16; i++)
        cpu->s.regs[i] = 0;
    for (int i = 0; i < NGPR; i++)
        cpu->s.regs[gpr_numbers[i]] = get_le(ctx + CTX_GPR_IN + 8 * i, 8);
    cpu->s.regs[R_BX] = CTX_BASE;
    cpu->s.regs[R_SP] = CTX_BASE + 4096 - 64;
    cpu->s.sse.mxcsr = (uint32_t)get_le(ctx + CTX_MXCSR_IN, 4);
    cpu_set_eflags(cpu, get_le(ctx + CTX_FLAGS_IN, 8), ~0ull);
}

static void store_state(Cpu *cpu, uint8_t *ctx)
{
    for (int i = 0; i < 16; i++) {
        put_le(ctx + CTX_XMM_OUT + 16 * i, cpu->s.sse.xmm[i].q[0], 8);
        put_le(ctx + CTX_XMM_OUT + 16 * i + 8, cpu->s.sse.xmm[i].q[1], 8);
    }
    for (int i = 0; i < 8; i++)
        put_le(ctx + CTX_MM_OUT + 8 * i, cpu->s.fpu.r[i].sig, 8);
    for (int i = 0; i < NGPR; i++)
        put_le(ctx + CTX_GPR_OUT + 8 * i, cpu->s.regs[gpr_numbers[i]], 8);
    put_le(ctx + CTX_MXCSR_OUT, cpu->s.sse.mxcsr, 4);
    put_le(ctx + CTX_FLAGS_OUT, cpu_get_eflags(cpu), 8);
}

int vireo_run(const SseInsn *insn, uint8_t *ctx)
{
    Cpu *cpu = &vb.cpu;
    memset(vb.code, 0x90, 64);
    memcpy(vb.code, insn->bytes, insn->len);
    block_invalidate_range(cpu->blocks, CODE_BASE, 4096);
    memcpy(vb.ctx, ctx, CTX_SIZE);
    load_state(cpu, ctx);
    cpu->s.rip = CODE_BASE;
    cpu->s.exception.vector = -1;
    cpu_exec(cpu, cpu->s.icount + 1);
    int vector = cpu->s.exception.vector;
    if (vector < 0 && cpu->s.rip != CODE_BASE + insn->len) {
        fprintf(stderr, "sse_host: Vireo stopped at %llx\n",
                (unsigned long long)cpu->s.rip);
        vector = 255;
    }
    memcpy(ctx + CTX_MEM, vb.ctx + CTX_MEM, CTX_MEM_SIZE);
    store_state(cpu, ctx);
    return vector;
}

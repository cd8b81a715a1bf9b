/* The x87 harness: Vireo as a bare 64-bit CPU running the stub.
 *
 * Three RAM pages (code, context, stack) in an otherwise empty address
 * space; the CPU is put straight into 64-bit mode (EFER.LMA, a long-mode
 * CS, no paging, as tests/diff/diff_vireo.c does) with CR0.NE and
 * CR4.OSFXSR set as Linux runs the host side.  The stub runs one
 * instruction at a time up to its final RET; an exception stops it
 * undelivered (stop_on_exception).
 */
#include "tests/diff/x87/x87diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/insn.h"

#define CODE_BASE 0x100000ull
#define CTX_BASE 0x200000ull
#define STACK_BASE 0x300000ull

static struct {
    AddressSpace mem, io;
    Cpu cpu;
    uint8_t *code, *ctx, *stack;
} vb;

static uint8_t *page(void)
{
    uint8_t *p = aligned_alloc(4096, 4096);
    if (!p) {
        fprintf(stderr, "x87_host: out of memory\n");
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
    vb.stack = page();
    as_init(&vb.mem, "memory", 0);
    as_init(&vb.io, "io", 1u << 16);
    if (as_map_ram(&vb.mem, "code", CODE_BASE, 4096, vb.code) ||
        as_map_ram(&vb.mem, "ctx", CTX_BASE, 4096, vb.ctx) ||
        as_map_ram(&vb.mem, "stack", STACK_BASE, 4096, vb.stack)) {
        fprintf(stderr, "x87_host: cannot map Vireo's memory\n");
        return -1;
    }
    Cpu *cpu = &vb.cpu;
    cpu_init(cpu, &vb.mem, &vb.io);
    cpu->features.leaf1_edx |= CPUID1_EDX_FPU | CPUID1_EDX_FXSR | CPUID1_EDX_CMOV;
    cpu->features.leaf1_ecx |= CPUID1_ECX_SSE3;
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
        fprintf(stderr, "x87_host: Vireo is not in 64-bit mode\n");
        return -1;
    }
    return 0;
}

int vireo_run(const uint8_t *code, size_t len, size_t ret_off, uint8_t *ctx)
{
    Cpu *cpu = &vb.cpu;
    memcpy(vb.code, code, len);
    block_invalidate_range(cpu->blocks, CODE_BASE, 4096);
    memcpy(vb.ctx, ctx, CTX_SIZE);
    cpu->s.rip = CODE_BASE;
    cpu->s.regs[R_DI] = CTX_BASE;
    cpu->s.regs[R_SP] = STACK_BASE + 4096 - 64;
    cpu->s.exception.vector = -1;
    int vector = -1;
    for (int guard = 0; guard < 64; guard++) {
        if (cpu->s.exception.vector >= 0) {
            vector = cpu->s.exception.vector;
            break;
        }
        if (cpu->s.rip == CODE_BASE + ret_off)
            break;
        cpu_exec(cpu, cpu->s.icount + 1);
    }
    memcpy(ctx, vb.ctx, CTX_SIZE);
    return vector;
}

/* CPU creation, reset and mode tracking.
 *
 * Reset state from the SDM Vol. 3 9.1.1 (Table 9-1, "IA-32 and Intel 64
 * Processor States Following Power-up, Reset, or INIT").
 */
#include "cpu/cpu.h"

#include <string.h>

#include "cpu/block.h"
#include "cpu/debug.h"
#include "cpu/insn.h"

/* The family/model/stepping reported in EDX at reset and by CPUID leaf 1:
 * family 6, model 0x3a, stepping 9 (an Ivy Bridge-era core). */
#define CPU_SIGNATURE 0x000306a9u

void cpu_default_features(CpuFeatures *f)
{
    memset(f, 0, sizeof(*f));
    f->leaf1_edx = (1u << 3) /* PSE */ | CPUID1_EDX_TSC | (1u << 5) /* MSR */ |
                   (1u << 6) /* PAE */ | CPUID1_EDX_CX8 | CPUID1_EDX_SEP |
                   (1u << 13) /* PGE */ | CPUID1_EDX_CMOV |
                   (1u << 17) /* PSE-36 */ | CPUID1_EDX_CLFLUSH |
                   CPUID1_EDX_MTRR | CPUID1_EDX_PAT;   /* cpu/msr.c */
    f->leaf1_edx |= CPUID1_EDX_FPU | CPUID1_EDX_FXSR;   /* cpu/fpu/ */
    f->leaf1_ecx = CPUID1_ECX_CX16 | CPUID1_ECX_POPCNT | CPUID1_ECX_MOVBE;
    /* cpu/sse/ integer: MMX, SSSE3 and SSE4.2 are integer-only extensions. */
    f->leaf1_edx |= CPUID1_EDX_MMX;
    f->leaf1_ecx |= CPUID1_ECX_SSSE3 | CPUID1_ECX_SSE42;
    /* cpu/sse/ floating point: SSE, SSE2, SSE3, SSE4.1 (with the integer
     * bits above: x86-64-v2). */
    f->leaf1_edx |= CPUID1_EDX_SSE | CPUID1_EDX_SSE2;
    f->leaf1_ecx |= CPUID1_ECX_SSE3 | CPUID1_ECX_SSE41;
    f->ext1_edx = CPUIDX_EDX_SYSCALL | (1u << 20) /* NX */ | CPUIDX_EDX_RDTSCP |
                  CPUIDX_EDX_LM;
    f->ext1_ecx = CPUIDX_ECX_LAHF | CPUIDX_ECX_ABM;
}

void cpu_init(Cpu *cpu, AddressSpace *mem, AddressSpace *io)
{
    memset(cpu, 0, sizeof(*cpu));
    cpu->mem = mem;
    cpu->io = io;
    cpu->a20_mask = ~0ull;
    tlb_flush_all(&cpu->tlb);
    cpu->blocks = block_cache_new(mem);
    cpu_default_features(&cpu->features);
    cpu_reset(cpu);
}

void cpu_destroy(Cpu *cpu)
{
    block_cache_free(cpu->blocks);
    cpu->blocks = NULL;
}

static void seg_reset(SegmentCache *s, uint16_t selector, uint64_t base,
                      uint16_t attr)
{
    s->selector = selector;
    s->base = base;
    s->limit = 0xffff;
    s->attr = attr;
}

void cpu_reset(Cpu *cpu)
{
    CpuState *s = &cpu->s;
    uint64_t icount = s->icount;   /* time does not go back on reset */
    memset(s, 0, sizeof(*s));
    s->icount = icount;
    s->regs[R_DX] = CPU_SIGNATURE;
    s->rip = 0xfff0;
    s->eflags = F_FIXED1;
    s->cc_op = CC_EFLAGS;
    s->cr0 = CR0_ET | CR0_NW | CR0_CD;
    for (int i = 0; i < SEG_COUNT; i++)
        seg_reset(&s->seg[i], 0, 0, 0x93);
    seg_reset(&s->seg[SEG_CS], 0xf000, 0xffff0000ull, 0x9b);
    seg_reset(&s->ldtr, 0, 0, 0x82);
    seg_reset(&s->tr, 0, 0, 0x8b);
    s->gdtr.limit = s->idtr.limit = 0xffff;
    s->dr[6] = 0xffff0ff0;
    s->dr[7] = 0x400;
    debug_update(cpu);
    s->pat = 0x0007040600070406ull;
    s->apic_base = 0xfee00000ull | (1u << 11) | (1u << 8);  /* enabled, BSP */
    /* IA32_MISC_ENABLE: fast-string operations on (bit 0, 1 at power-on,
     * SDM Vol. 4 Table 2-2). */
    s->misc_enable = 1;
    s->exception.vector = -1;
    /* x87 after RESET (Vol. 3 Table 9-1): FCW 0040h, FSW 0, tag word 5555h
     * (every register a valid +0.0); FNINIT gives 037Fh and all empty. */
    s->fpu.fcw = 0x0040;
    s->fpu.tags = 0xff;
    s->sse.mxcsr = MXCSR_RESET;
    cpu->shutdown = false;
    cpu_update_mode(cpu);
    tlb_flush_all(&cpu->tlb);
    block_cache_flush(cpu->blocks);
}

void cpu_set_a20(Cpu *cpu, bool enabled)
{
    uint64_t mask = enabled ? ~0ull : ~(1ull << 20);
    if (mask != cpu->a20_mask) {
        cpu->a20_mask = mask;
        tlb_flush_all(&cpu->tlb);
    }
}

void cpu_update_mode(Cpu *cpu)
{
    const CpuState *s = &cpu->s;
    uint32_t mode = 0;
    bool prot = s->cr0 & CR0_PE;
    bool v86 = prot && (s->eflags & F_VM);
    if (prot)
        mode |= CPU_MODE_PROT;
    if (v86)
        mode |= CPU_MODE_V86;
    if (s->efer & EFER_LMA)
        mode |= CPU_MODE_LONG;
    if ((s->efer & EFER_LMA) && (s->seg[SEG_CS].attr & SEG_ATTR_L))
        mode |= CPU_MODE_CODE64;
    else if (prot && !v86 && (s->seg[SEG_CS].attr & SEG_ATTR_DB))
        mode |= CPU_MODE_CODE32;
    /* Real mode keeps whatever B bit the SS cache holds (big real mode). */
    if (!v86 && (s->seg[SEG_SS].attr & SEG_ATTR_DB))
        mode |= CPU_MODE_SS32;
    cpu->mode = mode;
}

int cpu_raise(Cpu *cpu, int vector, uint32_t error_code, bool has_error)
{
    PendingException *e = &cpu->s.exception;
    e->vector = vector;
    e->error_code = error_code;
    e->has_error_code = has_error;
    e->is_soft = 0;
    return CPU_FAULT;
}

int cpu_raise_soft(Cpu *cpu, int vector)
{
    cpu_raise(cpu, vector, 0, false);
    cpu->s.exception.is_soft = 1;
    return CPU_FAULT;
}

void cpu_load_seg_real(Cpu *cpu, int seg, uint16_t selector)
{
    SegmentCache *s = &cpu->s.seg[seg];
    s->selector = selector;
    s->base = (uint64_t)selector << 4;
    if (cpu->mode & CPU_MODE_V86) {
        /* Virtual-8086 segments are always 64 KiB, writable, DPL 3. */
        s->limit = 0xffff;
        s->attr = seg == SEG_CS ? 0xfb : 0xf3;
    }
    /* Real mode keeps the cached limit and attributes: unreal mode. */
    if (seg == SEG_CS || seg == SEG_SS)
        cpu_update_mode(cpu);
}

/* Model-specific registers (SDM Vol. 4) that the core implements.
 * Unknown MSRs raise #GP(0), as on hardware, so guests probing with
 * rdmsr_safe see the truth.  IA32_TSC_DEADLINE exists only while a local
 * APIC is attached (Cpu.apic_ops); IA32_APIC_BASE writes are forwarded to
 * it. */
#include "cpu/cpuid.h"
#include "cpu/insn.h"
#include "util/log.h"

enum {
    MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_TSC_DEADLINE = 0x6e0, MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176, MSR_MISC_ENABLE = 0x1a0,
    MSR_PAT = 0x277, MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081,
    MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084,
    MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101,
    MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
};

uint64_t cpu_tsc(const Cpu *cpu)
{
    uint64_t ns = cpu->time_ns ? (uint64_t)cpu->time_ns(cpu->time_opaque)
                               : cpu->s.icount;
    return ns + cpu->s.tsc_offset;
}

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* EFER (SDM Vol. 3 2.2.1): LMA is read-only; LME cannot change while
 * paging is on. */
static int write_efer(Cpu *cpu, uint64_t v)
{
    uint64_t allowed = EFER_SCE | EFER_LME | EFER_NXE;
    if (v & ~(allowed | EFER_LMA))
        return -1;
    if ((cpu->s.cr0 & CR0_PG) && ((v ^ cpu->s.efer) & EFER_LME))
        return -1;
    cpu->s.efer = (v & allowed) | (cpu->s.efer & EFER_LMA);
    return 0;
}

int cpu_rdmsr(Cpu *cpu, uint32_t index, uint64_t *v)
{
    CpuState *s = &cpu->s;
    switch (index) {
    case MSR_TSC: *v = cpu_tsc(cpu); return 0;
    case MSR_APIC_BASE: *v = s->apic_base; return 0;
    case MSR_SYSENTER_CS: *v = s->sysenter_cs; return 0;
    case MSR_SYSENTER_ESP: *v = s->sysenter_esp; return 0;
    case MSR_SYSENTER_EIP: *v = s->sysenter_eip; return 0;
    case MSR_MISC_ENABLE: *v = s->misc_enable; return 0;
    case MSR_PAT: *v = s->pat; return 0;
    case MSR_EFER: *v = s->efer; return 0;
    case MSR_STAR: *v = s->star; return 0;
    case MSR_LSTAR: *v = s->lstar; return 0;
    case MSR_CSTAR: *v = s->cstar; return 0;
    case MSR_SFMASK: *v = s->sfmask; return 0;
    case MSR_FS_BASE: *v = s->seg[SEG_FS].base; return 0;
    case MSR_GS_BASE: *v = s->seg[SEG_GS].base; return 0;
    case MSR_KERNEL_GS_BASE: *v = s->kernel_gs_base; return 0;
    case MSR_TSC_AUX: *v = s->tsc_aux; return 0;
    case MSR_TSC_DEADLINE:
        if (!cpu->apic_ops)
            break;
        *v = cpu->apic_ops->read_tsc_deadline(cpu->apic);
        return 0;
    default:
        break;
    }
    LOG_LIMITED(LOG_UNIMP, "cpu: rdmsr of unknown MSR %#x\n", index);
    return -1;
}

int cpu_wrmsr(Cpu *cpu, uint32_t index, uint64_t v)
{
    CpuState *s = &cpu->s;
    switch (index) {
    case MSR_TSC: s->tsc_offset = v - (cpu_tsc(cpu) - s->tsc_offset); return 0;
    case MSR_APIC_BASE:
        s->apic_base = v & ~0x6ffull;
        if (cpu->apic_ops)
            cpu->apic_ops->set_base(cpu->apic, s->apic_base);
        return 0;
    case MSR_TSC_DEADLINE:
        if (!cpu->apic_ops)
            break;
        cpu->apic_ops->write_tsc_deadline(cpu->apic, v, cpu_tsc(cpu));
        return 0;
    case MSR_SYSENTER_CS: s->sysenter_cs = v & 0xffff; return 0;
    case MSR_SYSENTER_ESP:
        if (!is_canonical(v)) return -1;
        s->sysenter_esp = v; return 0;
    case MSR_SYSENTER_EIP:
        if (!is_canonical(v)) return -1;
        s->sysenter_eip = v; return 0;
    case MSR_MISC_ENABLE: s->misc_enable = v; return 0;
    case MSR_PAT: s->pat = v; return 0;
    case MSR_EFER: return write_efer(cpu, v);
    case MSR_STAR: s->star = v; return 0;
    case MSR_LSTAR: case MSR_CSTAR: case MSR_KERNEL_GS_BASE:
    case MSR_FS_BASE: case MSR_GS_BASE:
        if (!is_canonical(v)) return -1;
        if (index == MSR_LSTAR) s->lstar = v;
        else if (index == MSR_CSTAR) s->cstar = v;
        else if (index == MSR_KERNEL_GS_BASE) s->kernel_gs_base = v;
        else if (index == MSR_FS_BASE) s->seg[SEG_FS].base = v;
        else s->seg[SEG_GS].base = v;
        return 0;
    case MSR_SFMASK: s->sfmask = v & 0xffffffffull; return 0;
    case MSR_TSC_AUX: s->tsc_aux = v & 0xffffffffull; return 0;
    default:
        break;
    }
    LOG_LIMITED(LOG_UNIMP, "cpu: wrmsr of unknown MSR %#x (value %#llx)\n",
                index, (unsigned long long)v);
    return -1;
}

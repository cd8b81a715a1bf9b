/* Model-specific registers (SDM Vol. 4) that the core implements.
 * Unknown MSRs raise #GP(0), as on hardware, so guests probing with
 * rdmsr_safe see the truth.  IA32_TSC_DEADLINE exists only while a local
 * APIC is attached (Cpu.apic_ops); IA32_APIC_BASE writes are forwarded to
 * it.  The MTRRs (Vol. 3 11.11) and IA32_PAT (11.12) are checked and
 * stored for the guest to read back; memory types mean nothing to an
 * emulator without caches. */
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/insn.h"
#include "util/log.h"

enum {
    MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_BIOS_SIGN_ID = 0x8b,
    MSR_PLATFORM_ID = 0x17, MSR_TSC_DEADLINE = 0x6e0, MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176, MSR_MISC_ENABLE = 0x1a0,
    MSR_PAT = 0x277, MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081,
    MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084,
    MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101,
    MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
    MSR_MTRRCAP = 0xfe, MSR_MTRR_PHYSBASE0 = 0x200, MSR_MTRR_PHYSMASK7 = 0x20f,
    MSR_MTRR_FIX64K_00000 = 0x250, MSR_MTRR_FIX16K_80000 = 0x258,
    MSR_MTRR_FIX16K_A0000 = 0x259, MSR_MTRR_FIX4K_C0000 = 0x268,
    MSR_MTRR_FIX4K_F8000 = 0x26f, MSR_MTRR_DEF_TYPE = 0x2ff,
};

/* IA32_MTRRCAP (11.11.1): 8 variable ranges (VCNT), the fixed ranges
 * (FIX) and write-combining (WC); no SMRR. */
#define MTRRCAP_VALUE (8u | (1u << 8) | (1u << 10))
/* IA32_MTRR_DEF_TYPE: type in 7:0, FE (bit 10), E (bit 11). */
#define MTRR_DEF_TYPE_BITS 0xcffull
/* Physical-address bits of PHYSBASE/PHYSMASK: 12 up to MAXPHYADDR. */
#define MTRR_ADDR_BITS (((1ull << CPU_PHYS_BITS) - 1) & ~0xfffull)

/* Memory types an MTRR may hold: UC, WC, WT, WP, WB (Table 11-8). */
static bool mtrr_type_ok(uint64_t type)
{
    return type == 0 || type == 1 || type == 4 || type == 5 || type == 6;
}

/* Each byte of a fixed-range MTRR is a memory type (11.11.2.2). */
static bool mtrr_fixed_ok(uint64_t v)
{
    for (int i = 0; i < 8; i++)
        if (!mtrr_type_ok((v >> (8 * i)) & 0xff))
            return false;
    return true;
}

/* PAT entries (11.12.2): UC, WC, WT, WP, WB, UC-; 2 and 3 are reserved,
 * as are bits 7:3 of each byte. */
static bool pat_ok(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        unsigned type = (v >> (8 * i)) & 0xff;
        if (type > 7 || type == 2 || type == 3)
            return false;
    }
    return true;
}

/* The slot in CpuState.mtrr_fixed of a fixed-range MTRR, or -1. */
static int mtrr_fixed_index(uint32_t index)
{
    if (index == MSR_MTRR_FIX64K_00000)
        return 0;
    if (index == MSR_MTRR_FIX16K_80000 || index == MSR_MTRR_FIX16K_A0000)
        return 1 + (int)(index - MSR_MTRR_FIX16K_80000);
    if (index >= MSR_MTRR_FIX4K_C0000 && index <= MSR_MTRR_FIX4K_F8000)
        return 3 + (int)(index - MSR_MTRR_FIX4K_C0000);
    return -1;
}

/* The MTRRs, or -1 if `index` is not one. */
static int mtrr_read(const CpuState *s, uint32_t index, uint64_t *v)
{
    int fixed = mtrr_fixed_index(index);
    if (fixed >= 0)
        *v = s->mtrr_fixed[fixed];
    else if (index >= MSR_MTRR_PHYSBASE0 && index <= MSR_MTRR_PHYSMASK7)
        *v = s->mtrr_var[index - MSR_MTRR_PHYSBASE0];
    else if (index == MSR_MTRR_DEF_TYPE)
        *v = s->mtrr_def_type;
    else if (index == MSR_MTRRCAP)
        *v = MTRRCAP_VALUE;
    else
        return -1;
    return 0;
}

/* Reserved bits and memory types are checked: #GP(0) (11.11.2). */
static int mtrr_write(CpuState *s, uint32_t index, uint64_t v)
{
    int fixed = mtrr_fixed_index(index);
    if (fixed >= 0) {
        if (!mtrr_fixed_ok(v))
            return -1;
        s->mtrr_fixed[fixed] = v;
        return 0;
    }
    if (index >= MSR_MTRR_PHYSBASE0 && index <= MSR_MTRR_PHYSMASK7) {
        bool is_mask = (index - MSR_MTRR_PHYSBASE0) & 1;
        uint64_t allowed = MTRR_ADDR_BITS | (is_mask ? 1ull << 11 : 0xffull);
        if ((v & ~allowed) || (!is_mask && !mtrr_type_ok(v & 0xff)))
            return -1;
        s->mtrr_var[index - MSR_MTRR_PHYSBASE0] = v;
        return 0;
    }
    if (index == MSR_MTRR_DEF_TYPE) {
        if ((v & ~MTRR_DEF_TYPE_BITS) || !mtrr_type_ok(v & 0xff))
            return -1;
        s->mtrr_def_type = v;
        return 0;
    }
    return -1;   /* IA32_MTRRCAP is read-only */
}

void cpu_mtrr_firmware_defaults(Cpu *cpu, uint64_t ram_below_4g)
{
    CpuState *s = &cpu->s;
    memset(s->mtrr_var, 0, sizeof(s->mtrr_var));
    s->mtrr_fixed[0] = s->mtrr_fixed[1] = 0x0606060606060606ull;  /* WB */
    s->mtrr_fixed[2] = 0;                                         /* UC */
    for (int i = 3; i < 11; i++)
        s->mtrr_fixed[i] = 0x0505050505050505ull;                 /* WP */
    /* Cover [ram_below_4g, 4 GiB) with naturally aligned power-of-two
     * blocks (11.11.3: a range is base/mask); if eight do not suffice the
     * rest stays WB, which changes nothing for an emulator. */
    uint64_t a = (ram_below_4g + 0xfff) & ~0xfffull, end = 1ull << 32;
    for (int n = 0; n < 8 && a < end; n++) {
        uint64_t size = a ? (a & -a) : end;
        while (a + size > end)
            size >>= 1;
        s->mtrr_var[2 * n] = a;                                    /* UC */
        s->mtrr_var[2 * n + 1] = (~(size - 1) & MTRR_ADDR_BITS) | (1ull << 11);
        a += size;
    }
    s->mtrr_def_type = (1u << 11) | (1u << 10) | 6;               /* E, FE, WB */
}

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
    /* IA32_BIOS_SIGN_ID: the microcode revision in bits 63:32, which
     * Linux reads after writing 0 and running CPUID.  Revision 1: some
     * kernels take 0 to mean an unpatched CPU. */
    case MSR_BIOS_SIGN_ID: *v = 1ull << 32; return 0;
    /* IA32_PLATFORM_ID (read-only): platform 0 in bits 52:50, which the
     * microcode loader reads on family 6. */
    case MSR_PLATFORM_ID: *v = 0; return 0;
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
        if (mtrr_read(s, index, v) == 0)
            return 0;
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
    case MSR_BIOS_SIGN_ID: return 0;   /* cleared before CPUID: no effect */
    case MSR_PAT:
        if (!pat_ok(v)) return -1;
        s->pat = v; return 0;
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
    case MSR_MTRRCAP:
        return -1;
    default:
        if (index == MSR_MTRR_DEF_TYPE || mtrr_fixed_index(index) >= 0 ||
            (index >= MSR_MTRR_PHYSBASE0 && index <= MSR_MTRR_PHYSMASK7))
            return mtrr_write(s, index, v);
        break;
    }
    LOG_LIMITED(LOG_UNIMP, "cpu: wrmsr of unknown MSR %#x (value %#llx)\n",
                index, (unsigned long long)v);
    return -1;
}

/* System instructions: halting and the interrupt flag, CPUID, time stamps,
 * MSRs, control and debug registers, the fast system calls, and the
 * decoder's pseudo-instructions.  Each follows its page in the SDM Vol. 2;
 * control-register rules are from Vol. 3 2.5 and 9.8.5 (long mode
 * activation), SYSCALL/SYSENTER from Vol. 3 5.8.7-5.8.8.
 */
#include "cpu/block.h"
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/fpu/x87.h"
#include "cpu/insn.h"
#include "util/log.h"

static int require_cpl0(Cpu *cpu)
{
    return cpu_cpl(cpu) == 0 ? CPU_OK : cpu_raise(cpu, EXC_GP, 0, true);
}

static bool is_canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* ---- decoder pseudo-instructions -------------------------------------- */

int h_UD(Cpu *cpu, const DecodedInsn *d)
{
    return cpu_raise(cpu, EXC_UD, 0, false);
}

int h_GP_LENGTH(Cpu *cpu, const DecodedInsn *d)
{
    return cpu_raise(cpu, EXC_GP, 0, true);
}

/* The decoder ran out of readable bytes at RIP + len.  Raise the fault the
 * fetch of that byte takes now; if it no longer faults (the CS limit or
 * the mapping changed since the block was decoded), drop the stale blocks
 * and decode again. */
int h_FETCH_FAULT(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t save = cpu->s.rip, lin, phys;
    cpu->s.rip += d->len;
    if (!cpu_is_64(cpu))
        cpu->s.rip &= 0xffffffffull;
    int r = mem_code_address(cpu, &lin, &phys);
    cpu->s.rip = save;
    if (r != CPU_OK)
        return r;
    block_invalidate_range(cpu->blocks, phys, 1);
    if (mem_code_address(cpu, &lin, &phys) == CPU_OK)
        block_invalidate_range(cpu->blocks, phys, 1);
    return CPU_EXIT;
}

/* ---- interrupt flag and halt ------------------------------------------ */

/* CLI/STI are IOPL-sensitive in protected and virtual-8086 mode. */
static int iopl_check(Cpu *cpu)
{
    if (cpu_is_real(cpu))
        return CPU_OK;
    unsigned iopl = (cpu->s.eflags & F_IOPL) >> 12;
    if (cpu_cpl(cpu) > iopl)
        return cpu_raise(cpu, EXC_GP, 0, true);
    return CPU_OK;
}

int h_HLT(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    cpu->s.halted = 1;
    return CPU_EXIT;
}

int h_CLI(Cpu *cpu, const DecodedInsn *d)
{
    if (iopl_check(cpu) != CPU_OK)
        return CPU_FAULT;
    cpu->s.eflags &= ~(uint64_t)F_IF;
    return CPU_OK;
}

int h_STI(Cpu *cpu, const DecodedInsn *d)
{
    if (iopl_check(cpu) != CPU_OK)
        return CPU_FAULT;
    /* Interrupts stay blocked until after the next instruction; setting
     * IF ends the block so that the loop sees the window (cpu/exec.c). */
    if (!(cpu->s.eflags & F_IF)) {
        cpu->s.intr_shadow = INTR_SHADOW_STI;
        cpu->s.eflags |= F_IF;
        return CPU_EXIT;
    }
    return CPU_OK;
}

/* ---- identification, time, MSRs --------------------------------------- */

int h_CPUID(Cpu *cpu, const DecodedInsn *d)
{
    uint32_t out[4];
    cpu_cpuid(cpu, (uint32_t)cpu->s.regs[R_AX], (uint32_t)cpu->s.regs[R_CX], out);
    reg_write(cpu, R_AX, 4, out[0]);
    reg_write(cpu, R_BX, 4, out[1]);
    reg_write(cpu, R_CX, 4, out[2]);
    reg_write(cpu, R_DX, 4, out[3]);
    return CPU_OK;
}

static int read_tsc(Cpu *cpu)
{
    if ((cpu->s.cr4 & CR4_TSD) && cpu_cpl(cpu) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    uint64_t tsc = cpu_tsc(cpu);
    reg_write(cpu, R_AX, 4, tsc & 0xffffffffull);
    reg_write(cpu, R_DX, 4, tsc >> 32);
    return CPU_OK;
}

int h_RDTSC(Cpu *cpu, const DecodedInsn *d)
{
    return read_tsc(cpu);
}

int h_RDTSCP(Cpu *cpu, const DecodedInsn *d)
{
    if (read_tsc(cpu) != CPU_OK)
        return CPU_FAULT;
    reg_write(cpu, R_CX, 4, cpu->s.tsc_aux);
    return CPU_OK;
}

int h_RDMSR(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    if (cpu_rdmsr(cpu, (uint32_t)cpu->s.regs[R_CX], &v) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    reg_write(cpu, R_AX, 4, v & 0xffffffffull);
    reg_write(cpu, R_DX, 4, v >> 32);
    return CPU_OK;
}

int h_WRMSR(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    uint64_t v = (cpu->s.regs[R_DX] << 32) | (uint32_t)cpu->s.regs[R_AX];
    if (cpu_wrmsr(cpu, (uint32_t)cpu->s.regs[R_CX], v) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    /* EFER.NXE changes what page-table bit 63 means. */
    tlb_flush_all(&cpu->tlb);
    cpu_update_mode(cpu);
    return CPU_OK;
}

/* No performance counters are modelled: the four general counters read 0. */
int h_RDPMC(Cpu *cpu, const DecodedInsn *d)
{
    if (!(cpu->s.cr4 & CR4_PCE) && cpu_cpl(cpu) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if ((uint32_t)cpu->s.regs[R_CX] > 3)
        return cpu_raise(cpu, EXC_GP, 0, true);
    reg_write(cpu, R_AX, 4, 0);
    reg_write(cpu, R_DX, 4, 0);
    return CPU_OK;
}

/* ---- cache and TLB control, no-ops for an emulator ---------------------- */

int h_FWAIT(Cpu *cpu, const DecodedInsn *d)
{
    return x87_fwait(cpu);   /* #NM, then a pending x87 exception: #MF */
}

int h_CLTS(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    cpu->s.cr0 &= ~(uint64_t)CR0_TS;
    return CPU_OK;
}

int h_INVD(Cpu *cpu, const DecodedInsn *d) { return require_cpl0(cpu); }
int h_WBINVD(Cpu *cpu, const DecodedInsn *d) { return require_cpl0(cpu); }
/* MONITOR and MWAIT are #UD unless CPUID.01H:ECX.MONITOR[bit 3] is
 * reported, and #UD (not #GP) at CPL > 0 (SDM MONITOR, MWAIT). */
static int monitor_check(Cpu *cpu)
{
    if (!(cpu->features.leaf1_ecx & (1u << 3)) || cpu_cpl(cpu) != 0)
        return cpu_raise(cpu, EXC_UD, 0, false);
    return CPU_OK;
}
int h_MONITOR(Cpu *cpu, const DecodedInsn *d) { return monitor_check(cpu); }
/* MWAIT returns at once: a wake-up "event" may always occur (SDM). */
int h_MWAIT(Cpu *cpu, const DecodedInsn *d) { return monitor_check(cpu); }
int h_INVLPG(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    /* The operand is an address, not an access: no segment limit check
     * applies beyond forming the linear address. */
    uint64_t offset = insn_ea(cpu, d);
    uint64_t base = cpu_is_64(cpu) && d->seg != SEG_FS && d->seg != SEG_GS
                        ? 0 : cpu->s.seg[d->seg].base;
    tlb_flush_page(&cpu->tlb, base + offset);
    return CPU_OK;
}

int h_SWAPGS(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    uint64_t t = cpu->s.seg[SEG_GS].base;
    cpu->s.seg[SEG_GS].base = cpu->s.kernel_gs_base;
    cpu->s.kernel_gs_base = t;
    return CPU_OK;
}

/* ---- control registers -------------------------------------------------- */

static int write_cr0(Cpu *cpu, uint64_t v)
{
    CpuState *s = &cpu->s;
    if (v >> 32)
        return cpu_raise(cpu, EXC_GP, 0, true);
    v |= CR0_ET;   /* hard-wired to 1 since the 486 */
    if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
        return cpu_raise(cpu, EXC_GP, 0, true);
    bool enabling = (v & CR0_PG) && !(s->cr0 & CR0_PG);
    bool disabling = !(v & CR0_PG) && (s->cr0 & CR0_PG);
    /* Long mode activates when paging is turned on with EFER.LME set
     * (SDM Vol. 3 9.8.5), and needs PAE; it ends when paging is turned
     * off, which 64-bit code cannot do. */
    if (enabling && (s->efer & EFER_LME)) {
        if (!(s->cr4 & CR4_PAE))
            return cpu_raise(cpu, EXC_GP, 0, true);
        s->efer |= EFER_LMA;
    }
    if (disabling && (s->efer & EFER_LMA)) {
        if (cpu_is_64(cpu))
            return cpu_raise(cpu, EXC_GP, 0, true);
        s->efer &= ~(uint64_t)EFER_LMA;
    }
    if ((v ^ s->cr0) & (CR0_PG | CR0_WP | CR0_PE))
        tlb_flush_all(&cpu->tlb);
    s->cr0 = v;
    cpu_update_mode(cpu);
    return CPU_OK;
}

static int write_cr4(Cpu *cpu, uint64_t v)
{
    uint64_t allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE |
                       CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR |
                       CR4_OSXMMEXCPT;
    if (v & ~allowed)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if ((cpu->s.efer & EFER_LMA) && !(v & CR4_PAE))
        return cpu_raise(cpu, EXC_GP, 0, true);
    if ((v ^ cpu->s.cr4) & (CR4_PGE | CR4_PAE | CR4_PSE))
        tlb_flush_all(&cpu->tlb);
    cpu->s.cr4 = v;
    debug_update(cpu);   /* CR4.DE turns I/O breakpoints on or off */
    return CPU_OK;
}

int h_MOV_TO_CR(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    uint64_t v = reg_read(cpu, d->reg[1], cpu_is_64(cpu) ? 8 : 4);
    switch (d->reg[0]) {
    case 0: return write_cr0(cpu, v);
    case 2: cpu->s.cr2 = v; return CPU_OK;
    case 3:
        if (cpu_is_64(cpu) && (v >> 52))
            return cpu_raise(cpu, EXC_GP, 0, true);
        cpu->s.cr3 = v;
        tlb_flush_nonglobal(&cpu->tlb);
        return CPU_OK;
    case 4: return write_cr4(cpu, v);
    case 8:
        if (v & ~0xfull)
            return cpu_raise(cpu, EXC_GP, 0, true);
        if (cpu->apic_ops) {
            /* CR8 is the APIC's TPR[7:4]; a lower priority may let a
             * pending interrupt in after this instruction: end the block. */
            cpu->apic_ops->set_tpr(cpu->apic, (uint8_t)v);
            return CPU_EXIT;
        }
        cpu->s.cr8 = v;
        return CPU_OK;
    default:
        return cpu_raise(cpu, EXC_UD, 0, false);
    }
}

int h_MOV_FROM_CR(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    const CpuState *s = &cpu->s;
    uint64_t v;
    switch (d->reg[1]) {
    case 0: v = s->cr0; break;
    case 2: v = s->cr2; break;
    case 3: v = s->cr3; break;
    case 4: v = s->cr4; break;
    case 8:
        v = cpu->apic_ops ? cpu->apic_ops->get_tpr(cpu->apic) : s->cr8;
        break;
    default: return cpu_raise(cpu, EXC_UD, 0, false);
    }
    reg_write(cpu, d->reg[0], cpu_is_64(cpu) ? 8 : 4, v);
    return CPU_OK;
}

/* MOV DR: the privilege check here, the rest in cpu/debug.c (SDM Vol. 3
 * 17.2).  MOV to DR ends the block (DA_END), so a breakpoint it sets
 * covers the very next instruction. */
int h_MOV_TO_DR(Cpu *cpu, const DecodedInsn *d)
{
    if (require_cpl0(cpu) != CPU_OK)
        return CPU_FAULT;
    uint64_t v = reg_read(cpu, d->reg[1], cpu_is_64(cpu) ? 8 : 4);
    return debug_mov_to_dr(cpu, d->reg[0], v);
}

int h_MOV_FROM_DR(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (require_cpl0(cpu) != CPU_OK || debug_mov_from_dr(cpu, d->reg[1], &v) != CPU_OK)
        return CPU_FAULT;
    reg_write(cpu, d->reg[0], cpu_is_64(cpu) ? 8 : 4, v);
    return CPU_OK;
}

int h_SMSW(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->kind[0] == OPK_MEM ? 2 : d->osize;
    return op_write(cpu, d, 0, size, cpu->s.cr0);
}

int h_LMSW(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    if (require_cpl0(cpu) != CPU_OK || op_read(cpu, d, 0, 2, &v) != CPU_OK)
        return CPU_FAULT;
    /* Only PE, MP, EM and TS; PE can be set but not cleared. */
    uint64_t cr0 = (cpu->s.cr0 & ~0xeull) | (v & 0xf) | (cpu->s.cr0 & CR0_PE);
    return write_cr0(cpu, cr0);
}

/* ---- fast system calls -------------------------------------------------- */

static void flat_segment(SegmentCache *s, uint16_t selector, unsigned dpl,
                         bool code, bool long_code)
{
    s->selector = selector;
    s->base = 0;
    s->limit = 0xffffffff;
    s->attr = (uint16_t)((code ? 0x9b : 0x93) | (dpl << 5) | SEG_ATTR_G |
                         (long_code ? SEG_ATTR_L : SEG_ATTR_DB));
}

/* SYSCALL as Intel defines it: 64-bit mode only. */
int h_SYSCALL(Cpu *cpu, const DecodedInsn *d)
{
    CpuState *s = &cpu->s;
    if (!(s->efer & EFER_SCE) || !cpu_is_64(cpu))
        return cpu_raise(cpu, EXC_UD, 0, false);
    uint16_t sel = (uint16_t)((s->star >> 32) & 0xfffc);
    s->regs[R_CX] = insn_next_rip(cpu, d);
    s->regs[R_R11] = cpu_get_eflags(cpu) & ~(uint64_t)F_RF;
    cpu_set_eflags(cpu, cpu_get_eflags(cpu) & ~(s->sfmask | F_RF), ~0ull);
    flat_segment(&s->seg[SEG_CS], sel, 0, true, true);
    flat_segment(&s->seg[SEG_SS], (uint16_t)(sel + 8), 0, false, false);
    s->rip = s->lstar;
    cpu_update_mode(cpu);
    return CPU_OK;
}

int h_SYSRET(Cpu *cpu, const DecodedInsn *d)
{
    CpuState *s = &cpu->s;
    if (!(s->efer & EFER_SCE) || !cpu_is_64(cpu))
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (cpu_cpl(cpu) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    bool to64 = d->osize == 8;
    uint64_t target = to64 ? s->regs[R_CX] : (uint32_t)s->regs[R_CX];
    if (to64 && !is_canonical(target))
        return cpu_raise(cpu, EXC_GP, 0, true);
    uint16_t base = (uint16_t)(s->star >> 48);
    uint16_t cs = (uint16_t)((to64 ? base + 16 : base) | 3);
    cpu_set_eflags(cpu, (s->regs[R_R11] & 0x3c7fd7) | F_FIXED1, ~0ull);
    flat_segment(&s->seg[SEG_CS], cs, 3, true, to64);
    flat_segment(&s->seg[SEG_SS], (uint16_t)((base + 8) | 3), 3, false, false);
    s->rip = target;
    cpu_update_mode(cpu);
    return CPU_OK;
}

int h_SYSENTER(Cpu *cpu, const DecodedInsn *d)
{
    CpuState *s = &cpu->s;
    if (cpu_is_real(cpu) || (s->sysenter_cs & 0xfffc) == 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    bool lm = cpu->mode & CPU_MODE_LONG;
    uint16_t sel = (uint16_t)(s->sysenter_cs & 0xfffc);
    s->eflags &= ~(uint64_t)(F_VM | F_IF | F_RF);
    flat_segment(&s->seg[SEG_CS], sel, 0, true, lm);
    flat_segment(&s->seg[SEG_SS], (uint16_t)(sel + 8), 0, false, false);
    s->regs[R_SP] = lm ? s->sysenter_esp : (uint32_t)s->sysenter_esp;
    s->rip = lm ? s->sysenter_eip : (uint32_t)s->sysenter_eip;
    cpu_update_mode(cpu);
    return CPU_OK;
}

int h_SYSEXIT(Cpu *cpu, const DecodedInsn *d)
{
    CpuState *s = &cpu->s;
    if (cpu_is_real(cpu) || (cpu->mode & CPU_MODE_V86) ||
        (s->sysenter_cs & 0xfffc) == 0 || cpu_cpl(cpu) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    bool to64 = d->osize == 8;
    uint16_t base = (uint16_t)s->sysenter_cs;
    uint64_t rip = to64 ? s->regs[R_DX] : (uint32_t)s->regs[R_DX];
    uint64_t rsp = to64 ? s->regs[R_CX] : (uint32_t)s->regs[R_CX];
    if (to64 && (!is_canonical(rip) || !is_canonical(rsp)))
        return cpu_raise(cpu, EXC_GP, 0, true);
    flat_segment(&s->seg[SEG_CS], (uint16_t)((base + (to64 ? 32 : 16)) | 3), 3,
                 true, to64);
    flat_segment(&s->seg[SEG_SS], (uint16_t)((base + (to64 ? 40 : 24)) | 3), 3,
                 false, false);
    s->regs[R_SP] = rsp;
    s->rip = rip;
    cpu_update_mode(cpu);
    return CPU_OK;
}

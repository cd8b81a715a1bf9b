/* MMX state: the availability checks, the register aliasing onto the x87
 * FPU, and EMMS (SDM Vol. 1 9.5-9.6, Vol. 3 12.1-12.2 and Table 12-2,
 * Vol. 2 EMMS).  See mmx.h.
 */
#include "cpu/sse/mmx.h"

#include "cpu/fpu/x87.h"

int mmx_check_pending(Cpu *cpu)
{
    if (cpu->s.fpu.fsw & FSW_ES) {
        /* As for a waiting x87 instruction (x87_begin): native #MF with
         * CR0.NE = 1; with CR0.NE = 0 FERR# is asserted and the
         * instruction runs, as with IGNNE# active. */
        if (cpu->s.cr0 & CR0_NE)
            return cpu_raise(cpu, EXC_MF, 0, false);
        x87_end(cpu);
    }
    return CPU_OK;
}

int mmx_check(Cpu *cpu)
{
    /* Vol. 3 Table 12-1: EM makes MMX instructions invalid (there is no
     * MMX emulation, unlike x87); TS gives #NM for lazy state switching. */
    if (cpu->s.cr0 & CR0_EM)
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (cpu->s.cr0 & CR0_TS)
        return cpu_raise(cpu, EXC_NM, 0, false);
    return mmx_check_pending(cpu);
}

void mmx_enter(Cpu *cpu)
{
    x87_set_top(&cpu->s.fpu, 0);
    cpu->s.fpu.tags = 0xff;
}

void mmx_write(Cpu *cpu, unsigned n, uint64_t v)
{
    Float80 *r = &cpu->s.fpu.r[n & 7];
    r->sig = v;
    r->se = 0xffff;
    mmx_enter(cpu);
}

/* EMMS (0F 77): every tag empty, and TOP = 0 like any MMX instruction
 * (Vol. 3 Table 12-2). */
int h_EMMS(Cpu *cpu, const DecodedInsn *d)
{
    if (mmx_check(cpu) != CPU_OK)
        return CPU_FAULT;
    x87_set_top(&cpu->s.fpu, 0);
    cpu->s.fpu.tags = 0;
    return CPU_OK;
}

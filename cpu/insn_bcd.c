/* Decimal adjust instructions and SALC.
 *
 * Intel SDM Vol. 2: DAA, DAS, AAA, AAS, AAM, AAD (their "Operation" and
 * "Flags Affected" sections).  SALC (D6) is undocumented by Intel: AL = CF ?
 * FFh : 00h, flags unchanged, invalid in 64-bit mode (AMD APM lists it as
 * invalid there; the decoder marks the row A_I64).
 *
 * The SDM leaves some flags undefined.  We compute them the way a real chip
 * does, as recorded in the 80286 SingleStepTests vectors (../shared/tests/
 * sst286, files 27 2F 37 3F D4 D5: all 2,400 register tests match,
 * undefined flags included):
 *  - DAA/DAS: OF is the signed overflow of the whole adjustment, seen as an
 *    addition (DAA) or subtraction (DAS) of a positive constant;
 *  - AAA/AAS: SF, ZF, PF come from AL after the +6/-6 but before the
 *    AND 0Fh; OF is the signed overflow of that +6/-6 (0 when no adjust);
 *  - AAM: the flags of AL as for a logical operation (CF = OF = AF = 0);
 *  - AAD: the flags of the final 8-bit addition AL + AH * imm8, except OF,
 *    which the chip sets equal to CF.
 * The 386+ AAA/AAS form is used: AX + 106h / AX - 6 then AH - 1, so the +6
 * carries into AH (SDM AAA/AAS Operation).
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

static uint32_t szp8(uint8_t v)
{
    return (v & 0x80 ? F_SF : 0) | (v == 0 ? F_ZF : 0) |
           (parity8(v) ? F_PF : 0);
}

static uint8_t get_al(const Cpu *cpu)
{
    return (uint8_t)cpu->s.regs[R_AX];
}

int h_DAA(Cpu *cpu, const DecodedInsn *d)
{
    uint32_t in = cc_compute(cpu);
    uint8_t old_al = get_al(cpu), al = old_al;
    uint32_t f = 0;

    if ((al & 0x0f) > 9 || (in & F_AF)) {
        al += 6;
        f |= F_AF;
    }
    /* The carry of the +6 step can only happen when old AL > 99h, so it
     * is subsumed by the second test (SDM DAA Operation). */
    if (old_al > 0x99 || (in & F_CF)) {
        al += 0x60;
        f |= F_CF;
    }
    if ((old_al ^ al) & al & 0x80)
        f |= F_OF;
    reg_write(cpu, R_AX, 1, al);
    cc_set_flags(cpu, f | szp8(al));
    return CPU_OK;
}

int h_DAS(Cpu *cpu, const DecodedInsn *d)
{
    uint32_t in = cc_compute(cpu);
    uint8_t old_al = get_al(cpu), al = old_al;
    uint32_t f = 0;

    if ((al & 0x0f) > 9 || (in & F_AF)) {
        /* Unlike DAA, the borrow of the -6 step survives even when the
         * second step does not run (SDM DAS: CF = old CF or borrow). */
        if (al < 6)
            f |= F_CF;
        al -= 6;
        f |= F_AF;
    }
    if (old_al > 0x99 || (in & F_CF)) {
        al -= 0x60;
        f |= F_CF;
    }
    if ((old_al ^ al) & old_al & 0x80)
        f |= F_OF;
    reg_write(cpu, R_AX, 1, al);
    cc_set_flags(cpu, f | szp8(al));
    return CPU_OK;
}

/* AAA and AAS share everything but the direction of the adjustment. */
static int ascii_adjust(Cpu *cpu, bool sub)
{
    uint32_t in = cc_compute(cpu);
    uint16_t ax = (uint16_t)cpu->s.regs[R_AX];
    uint8_t al = (uint8_t)ax;
    uint32_t f = 0;

    if ((al & 0x0f) > 9 || (in & F_AF)) {
        uint8_t t;
        if (sub) {
            t = (uint8_t)(al - 6);
            ax = (uint16_t)(ax - 6 - 0x100);
            f |= ((al ^ t) & al & 0x80) ? F_OF : 0;
        } else {
            t = (uint8_t)(al + 6);
            ax = (uint16_t)(ax + 0x106);
            f |= ((al ^ t) & t & 0x80) ? F_OF : 0;
        }
        f |= F_AF | F_CF;
    }
    f |= szp8((uint8_t)ax);
    reg_write(cpu, R_AX, 2, ax & 0xff0f);
    cc_set_flags(cpu, f);
    return CPU_OK;
}

int h_AAA(Cpu *cpu, const DecodedInsn *d) { return ascii_adjust(cpu, false); }
int h_AAS(Cpu *cpu, const DecodedInsn *d) { return ascii_adjust(cpu, true); }

int h_AAM(Cpu *cpu, const DecodedInsn *d)
{
    uint8_t base = (uint8_t)d->imm, al = get_al(cpu);

    if (base == 0)
        return cpu_raise(cpu, EXC_DE, 0, false);
    uint8_t q = al / base, r = al % base;
    reg_write(cpu, R_AX, 2, (uint16_t)(q << 8 | r));
    cc_set(cpu, CC_LOGIC, 1, r, 0, 0);
    return CPU_OK;
}

int h_AAD(Cpu *cpu, const DecodedInsn *d)
{
    uint16_t ax = (uint16_t)cpu->s.regs[R_AX];
    uint8_t base = (uint8_t)d->imm;
    uint8_t t = (uint8_t)((ax >> 8) * base);
    uint8_t al = (uint8_t)ax;
    unsigned sum = (unsigned)al + t;
    uint32_t f = szp8((uint8_t)sum);

    if (sum > 0xff)
        f |= F_CF | F_OF;       /* OF = CF: what the 80286 produces */
    if ((al ^ t ^ sum) & 0x10)
        f |= F_AF;
    reg_write(cpu, R_AX, 2, sum & 0xff);
    cc_set_flags(cpu, f);
    return CPU_OK;
}

int h_SALC(Cpu *cpu, const DecodedInsn *d)
{
    reg_write(cpu, R_AX, 1, cc_carry(cpu) ? 0xff : 0);
    return CPU_OK;
}

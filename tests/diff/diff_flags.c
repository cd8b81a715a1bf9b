/* The differential harness: what it knows about instructions beyond the
 * decoder's table.
 *
 * - Exclusions: instructions whose result depends on state the two sides
 *   do not share (I/O, descriptor tables, MSRs, time), that change mode or
 *   privilege, or that jump to random places.
 * - Flag effects: which arithmetic flags an instruction reads, which it
 *   writes, and which of those the SDM leaves undefined.  The undefined set
 *   starts from the decoder's table (decode_undefined_flags) and is refined
 *   with the operands, where the SDM's rule depends on them: shifts and
 *   rotates by 0 change no flag, OF is defined only for a count of 1, CF of
 *   SHL/SHR only for counts below the operand width (SDM Vol. 2, SAL/SAR/
 *   SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD).
 * - Inputs for which the SDM leaves the result itself undefined.
 * The generator rejects an instruction that would read a flag an earlier
 * one left undefined, so programs never branch on undefined flags.
 */
#include "tests/diff/diff.h"

#include "cpu/insn.h"

/* The REX prefix in effect (the last prefix before the opcode), or 0. */
static uint8_t rex_of(const uint8_t *bytes, const Layout *lay)
{
    uint8_t rex = 0;
    if (lay->mode != MODE_LONG64)
        return 0;
    for (unsigned i = 0; i < 15; i++) {
        uint8_t b = bytes[i];
        if ((b & 0xf0) == 0x40) {
            rex = b;
            continue;
        }
        switch (b) {
        case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
        case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
            rex = 0;   /* a REX prefix counts only right before the opcode */
            continue;
        default:
            return rex;
        }
    }
    return rex;
}

/* Encodings where Unicorn 2.0.1 (QEMU 5.0's TCG) departs from the SDM and
 * from real processors, so no comparison is possible: reported, not run. */
static const char *reference_quirk(const DecodedInsn *d, const uint8_t *bytes,
                                   const Layout *lay)
{
    uint8_t rex = rex_of(bytes, lay);
    switch (d->id) {
    case INSN_LAHF: case INSN_SAHF:
        /* QEMU reads/writes byte register 4 as SPL when a REX prefix is
         * present; LAHF/SAHF always use AH (SDM Vol. 2 LAHF, SAHF). */
        if (rex)
            return "QEMU: LAHF/SAHF with REX use SPL";
        break;
    case INSN_MOV:
        /* QEMU raises #UD for C6/C7 /0 with REX.R; SDM Vol. 2 2.2.1.2:
         * REX.R is ignored when ModRM.reg is an opcode extension. */
        if ((rex & 4) && d->kind[1] == OPK_IMM && (d->opcode & 0xfe) == 0xc6)
            return "QEMU: C6/C7 with REX.R is #UD";
        break;
    case INSN_CMPXCHG:
        /* QEMU writes both the accumulator and the destination whatever
         * the outcome, so a 32-bit CMPXCHG in 64-bit mode clears the upper
         * half of the one that must not be written (SDM: the accumulator
         * is loaded only if the comparison fails; processors and Bochs
         * leave a register destination alone then). */
        if (lay->mode == MODE_LONG64 && d->osize == 4)
            return "QEMU: 32-bit CMPXCHG zero-extends RAX and the destination";
        break;
    case INSN_SHLD: case INSN_SHRD:
        /* QEMU takes a RIP-relative address before reading the imm8 count,
         * so it is off by one (SDM Vol. 2 2.2.1.6: relative to the next
         * instruction). */
        if (d->base == R_RIP && d->kind[2] == OPK_IMM)
            return "QEMU: RIP-relative SHLD/SHRD imm8 off by one";
        break;
    case INSN_ENTER:
        /* QEMU writes rBP at the stack's address size; SDM Vol. 2 ENTER:
         * with a 16-bit operand only BP is written, with a 32-bit operand
         * on a 16-bit stack all of EBP. */
        if (d->pfx & PFX_OPSIZE)
            return "QEMU: ENTER with 66h writes rBP at the stack size";
        break;
    case INSN_CRC32:
        /* QEMU takes CRC32's r/m16 form from the 66h prefix alone, not
         * from the operand size (so 16-bit code gets it backwards), and
         * raises #UD for 66 F2 0F 38 F0; the SDM sizes F1 like any
         * operand and ignores 66h on F0, as the host CPU does (checked by
         * tests/diff/simd_int). */
        if (d->opcode == 0xf0 ? (d->pfx & PFX_OPSIZE) != 0
                              : d->osize != 8 && d->osize != ((d->pfx & PFX_OPSIZE) ? 2 : 4))
            return "QEMU: CRC32 operand size from 66h alone";
        break;
    default:
        break;
    }
    return NULL;
}

uint32_t reference_flag_quirks(const DecodedInsn *d)
{
    /* QEMU computes the flags of LOCK NEG from the old memory value (its
     * cmpxchg loop leaves the old value where the result should be). */
    if (d->id == INSN_NEG && (d->pfx & PFX_LOCK))
        return F_ARITH;
    return 0;
}

const char *insn_exclusion(const DecodedInsn *d, const uint8_t *bytes,
                           const Layout *lay)
{
    switch (d->id) {
    case INSN_UD: case INSN_GP_LENGTH: case INSN_FETCH_FAULT:
        return "invalid";
    case INSN_IN: case INSN_OUT: case INSN_INS: case INSN_OUTS:
        return "port I/O";
    case INSN_HLT: case INSN_CLI: case INSN_STI: case INSN_POPF:
    case INSN_CPUID: case INSN_RDTSC: case INSN_RDTSCP: case INSN_RDMSR:
    case INSN_WRMSR: case INSN_RDPMC: case INSN_FWAIT:
    case INSN_MOV_TO_SEG: case INSN_POP_SEG: case INSN_LES: case INSN_LDS:
    case INSN_LSS: case INSN_LFS: case INSN_LGS:
    case INSN_SLDT: case INSN_STR: case INSN_LLDT: case INSN_LTR:
    case INSN_VERR: case INSN_VERW: case INSN_SGDT: case INSN_SIDT:
    case INSN_LGDT: case INSN_LIDT: case INSN_SMSW: case INSN_LMSW:
    case INSN_INVLPG: case INSN_MONITOR: case INSN_MWAIT: case INSN_SWAPGS:
    case INSN_LAR: case INSN_LSL: case INSN_SYSCALL: case INSN_SYSRET:
    case INSN_SYSENTER: case INSN_SYSEXIT: case INSN_CLTS: case INSN_INVD:
    case INSN_WBINVD: case INSN_MOV_TO_CR: case INSN_MOV_FROM_CR:
    case INSN_MOV_TO_DR: case INSN_MOV_FROM_DR:
        return "system";
    case INSN_CALLF: case INSN_JMPF: case INSN_RETF: case INSN_IRET:
    case INSN_INT: case INSN_INT3: case INSN_INTO: case INSN_INT1:
    case INSN_BOUND:
        return "far transfer or interrupt";
    case INSN_RET:
        return "near return";
    case INSN_JMP: case INSN_CALL:
        if (d->kind[0] != OPK_IMM)
            return "indirect branch";
        break;
    case INSN_NOP:
        /* 0F 18 /0-/3 are PREFETCHh, defined for memory operands only
         * (SDM Vol. 2 Table A-6, group 16): the register forms are
         * reserved.  Vireo runs them as hint NOPs, QEMU raises #UD. */
        if (d->opcode == 0x18 && (d->modrm >> 6) == 3 && ((d->modrm >> 3) & 7) < 4)
            return "reserved encoding";
        break;
    case INSN_TEST:
        /* F6/F7 /1 is reserved (SDM Vol. 2 Table A-6, group 3); processors
         * run it as TEST, as Vireo does, QEMU raises #UD. */
        if ((d->opcode & 0xfe) == 0xf6 && ((d->modrm >> 3) & 7) == 1)
            return "reserved encoding";
        break;
    default:
        break;
    }
    /* The x87 group of insns.def (FADD .. FSINCOS): this harness compares
     * no FPU state; tests/diff/x87 compares it against the host's x87. */
    if (d->id >= INSN_FADD && d->id <= INSN_FSINCOS)
        return "x87";
    /* MMX and SSE: no MMX/XMM state is compared here either;
     * tests/diff/simd_int compares them against the host. */
    if (d->id == INSN_EMMS || d->id == INSN_LDMXCSR || d->id == INSN_STMXCSR)
        return "SIMD";
    for (int i = 0; i < 3; i++)
        if (d->kind[i] == OPK_XMM || d->kind[i] == OPK_MMX)
            return "SIMD";
    /* 66h on a near branch truncates EIP to 16 bits outside real mode (the
     * code is above 64 KiB), and in 64-bit mode Intel and AMD disagree on
     * it (SDM Vol. 2, Jcc: "operand-size prefix ... in 64-bit mode"). */
    if ((d->attr & DA_BRANCH) && (d->pfx & PFX_OPSIZE) && lay->mode != MODE_REAL)
        return "66h near branch";
    return reference_quirk(d, bytes, lay);
}

/* Flags a condition code (Jcc order) reads. */
static uint32_t condition_flags(unsigned cc)
{
    static const uint32_t by_pair[8] = {
        F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF, F_SF | F_OF,
        F_ZF | F_SF | F_OF,
    };
    return by_pair[(cc >> 1) & 7];
}

/* The count operand of a shift, rotate or double shift. */
static unsigned shift_count(const DecodedInsn *d, const Cpu *cpu, int operand)
{
    uint64_t raw = d->kind[operand] == OPK_REG ? cpu->s.regs[R_CX] & 0xff : d->imm;
    return (unsigned)(raw & (d->osize == 8 ? 0x3f : 0x1f));
}

/* The iteration count register of a string instruction. */
static uint64_t string_count(const DecodedInsn *d, const Cpu *cpu)
{
    return cpu->s.regs[R_CX] & size_mask(d->asize);
}

FlagEffect insn_flag_effect(const DecodedInsn *d, const Cpu *cpu)
{
    FlagEffect e = { 0, 0, 0 };
    uint32_t table = decode_undefined_flags(d);
    unsigned count;
    switch (d->id) {
    case INSN_ADD: case INSN_OR: case INSN_AND: case INSN_SUB: case INSN_XOR:
    case INSN_CMP: case INSN_TEST: case INSN_NEG: case INSN_MUL:
    case INSN_IMUL1: case INSN_IMUL2: case INSN_IMUL3: case INSN_DIV:
    case INSN_IDIV: case INSN_AAM: case INSN_AAD: case INSN_BSF:
    case INSN_BSR: case INSN_TZCNT: case INSN_LZCNT: case INSN_POPCNT:
    case INSN_CMPXCHG: case INSN_XADD:
        e.written = F_ARITH;
        break;
    case INSN_ADC: case INSN_SBB:
        e.read = F_CF;
        e.written = F_ARITH;
        break;
    case INSN_INC: case INSN_DEC:
        e.written = F_ARITH & ~F_CF;
        break;
    case INSN_CMC:
        e.read = e.written = F_CF;
        break;
    case INSN_CLC: case INSN_STC:
        e.written = F_CF;
        break;
    case INSN_DAA: case INSN_DAS:
        e.read = F_CF | F_AF;
        e.written = F_ARITH;
        break;
    case INSN_AAA: case INSN_AAS:
        e.read = F_AF;
        e.written = F_ARITH;
        break;
    case INSN_SALC:
        e.read = F_CF;
        break;
    case INSN_BT: case INSN_BTS: case INSN_BTR: case INSN_BTC:
        /* SDM: CF is the bit, "the ZF flag is unaffected", OF SF AF PF
         * undefined. */
        e.written = F_CF | F_OF | F_SF | F_AF | F_PF;
        break;
    case INSN_CMPXCHG8B: case INSN_ARPL:
        e.written = F_ZF;
        break;
    case INSN_SAHF:
        e.written = F_SF | F_ZF | F_AF | F_PF | F_CF;
        break;
    case INSN_LAHF:
        e.read = F_SF | F_ZF | F_AF | F_PF | F_CF;
        break;
    case INSN_PUSHF:
        e.read = F_ARITH;
        break;
    case INSN_JCC: case INSN_SETCC: case INSN_CMOVCC:
        e.read = condition_flags(d->opcode & 0xf);
        break;
    case INSN_LOOPE: case INSN_LOOPNE:
        e.read = F_ZF;
        break;
    case INSN_CMPS: case INSN_SCAS:
        if (!(d->pfx & (PFX_REP | PFX_REPNE)) || string_count(d, cpu) != 0)
            e.written = F_ARITH;
        break;
    case INSN_ROL: case INSN_ROR: case INSN_RCL: case INSN_RCR:
        count = shift_count(d, cpu, 1);
        if (count == 0)
            break;
        if (d->id == INSN_RCL || d->id == INSN_RCR)
            e.read = F_CF;
        e.written = F_CF | F_OF;
        e.undef = count != 1 ? F_OF : 0;
        return e;
    case INSN_SHL: case INSN_SHR: case INSN_SAR:
        count = shift_count(d, cpu, 1);
        if (count == 0)
            break;
        e.written = F_ARITH;
        e.undef = F_AF | (count != 1 ? F_OF : 0);
        if (d->id != INSN_SAR && count >= d->osize * 8u)
            e.undef |= F_CF;
        return e;
    case INSN_SHLD: case INSN_SHRD:
        count = shift_count(d, cpu, 2);
        if (count == 0)
            break;
        e.written = F_ARITH;
        e.undef = F_AF | (count != 1 ? F_OF : 0);
        return e;
    default:
        break;
    }
    e.undef = table & e.written;
    return e;
}

bool insn_result_undefined(const DecodedInsn *d, const Cpu *cpu)
{
    switch (d->id) {
    case INSN_BSWAP:
        /* SDM: "When the BSWAP instruction references a 16-bit register,
         * the result is undefined." */
        return d->osize == 2;
    case INSN_SHLD: case INSN_SHRD:
        /* SDM: "If the count is greater than the operand size, the result
         * is undefined" (16-bit operands, counts 17-31). */
        return d->osize == 2 && shift_count(d, cpu, 2) > 16;
    default:
        return false;
    }
}

bool insn_result_undefined_after(const DecodedInsn *d, const Cpu *cpu)
{
    /* SDM BSF/BSR: "If the content of the source operand is 0, the content
     * of the destination operand is undefined."  Both sides leave it
     * unchanged, but whether a 32-bit destination's upper half is cleared
     * in 64-bit mode differs between implementations. */
    if ((d->id == INSN_BSF || d->id == INSN_BSR) && d->osize == 4 &&
        (cpu->mode & CPU_MODE_SIZE_MASK) == CPU_MODE_CODE64)
        return (cc_compute(cpu) & F_ZF) != 0;
    return false;
}

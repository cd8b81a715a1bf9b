/* Data movement: moves, extensions, exchanges, compare-and-exchange,
 * conversions, conditional moves and sets, and the no-operation family.
 *
 * Intel SDM Vol. 2: MOV, MOVZX, MOVSX/MOVSXD, LEA, XCHG, CMPXCHG,
 * CMPXCHG8B/CMPXCHG16B, XADD, CBW/CWDE/CDQE, CWD/CDQ/CQO, XLAT/XLATB,
 * LAHF, SAHF, MOVBE, CMOVcc, SETcc, NOP, LFENCE/MFENCE/SFENCE, CLFLUSH.
 *
 * Every handler reads all its operands before it writes anything, and
 * writes memory before registers, so a fault leaves the state untouched
 * (cpu/insn.h).  The emulator runs one vCPU per thread and each handler
 * completes before another instruction runs, so LOCK and the implicit lock
 * of XCHG need nothing extra.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

/* ---- moves ------------------------------------------------------------ */

int h_MOV(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = op_read(cpu, d, 1, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    return op_write(cpu, d, 0, d->osize, v & size_mask(d->osize));
}

/* 0F B6/B7 and 0F BE/BF: bit 0 of the opcode picks a byte or word source. */
static unsigned extend_source_size(const DecodedInsn *d)
{
    return (d->opcode & 1) ? 2 : 1;
}

int h_MOVZX(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = op_read(cpu, d, 1, extend_source_size(d), &v);
    if (rc != CPU_OK)
        return rc;
    return op_write(cpu, d, 0, d->osize, v & size_mask(extend_source_size(d)));
}

int h_MOVSX(Cpu *cpu, const DecodedInsn *d)
{
    unsigned ss = extend_source_size(d);
    uint64_t v;
    int rc = op_read(cpu, d, 1, ss, &v);
    if (rc != CPU_OK)
        return rc;
    return op_write(cpu, d, 0, d->osize, sign_extend(v, ss) & size_mask(d->osize));
}

/* MOVSXD r64, r/m32 sign-extends; with a 16- or 32-bit operand size the
 * SDM lists MOVSXD r16, r/m16 and r32, r/m32, which are plain moves of that
 * size (so a 16-bit form reads only two bytes of memory). */
int h_MOVSXD(Cpu *cpu, const DecodedInsn *d)
{
    unsigned ss = d->osize == 8 ? 4 : d->osize;
    uint64_t v;
    int rc = op_read(cpu, d, 1, ss, &v);
    if (rc != CPU_OK)
        return rc;
    return op_write(cpu, d, 0, d->osize, sign_extend(v, ss) & size_mask(d->osize));
}

/* LEA: the offset computed at the address size, then truncated or
 * zero-extended to the operand size (SDM LEA, Table 3-54). */
int h_LEA(Cpu *cpu, const DecodedInsn *d)
{
    return op_write(cpu, d, 0, d->osize, insn_ea(cpu, d) & size_mask(d->osize));
}

/* ---- exchanges --------------------------------------------------------- */

int h_XCHG(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t a, b;
    int rc;
    if ((rc = op_read(cpu, d, 0, size, &a)) != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, 1, size, &b)) != CPU_OK)
        return rc;
    /* Operand 0 is the only one that can be memory: store it first. */
    if ((rc = op_write(cpu, d, 0, size, b & size_mask(size))) != CPU_OK)
        return rc;
    return op_write(cpu, d, 1, size, a & size_mask(size));
}

/* The accumulator at `size`: AL, AX, EAX or RAX. */
static uint64_t acc_read(const Cpu *cpu, unsigned size)
{
    return reg_read(cpu, R_AX, size);
}

/* CMPXCHG compares the accumulator with the destination, flags as
 * CMP accumulator, destination.  Equal: destination <- source.  Not equal:
 * accumulator <- destination, and a memory destination is written back
 * with its own value (SDM: "the destination operand receives a write
 * cycle without regard to the result of the comparison"), so a read-only
 * page faults either way.  A register destination is left completely alone
 * when the comparison fails, and the accumulator when it succeeds: a 32-bit
 * form in 64-bit mode zero-extends only the register it really writes. */
int h_CMPXCHG(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t m = size_mask(size);
    uint64_t dst, src;
    int rc;
    if ((rc = op_read(cpu, d, 0, size, &dst)) != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, 1, size, &src)) != CPU_OK)
        return rc;
    dst &= m;
    uint64_t acc = acc_read(cpu, size);
    bool equal = acc == dst;
    if (equal || d->kind[0] == OPK_MEM) {
        rc = op_write(cpu, d, 0, size, equal ? src & m : dst);
        if (rc != CPU_OK)
            return rc;
    }
    if (!equal)
        reg_write(cpu, R_AX, size, dst);
    cc_set(cpu, CC_SUB, size, (acc - dst) & m, dst, 0);
    return CPU_OK;
}

/* Replace ZF, keep the other arithmetic flags. */
static void set_zf_only(Cpu *cpu, bool zf)
{
    uint32_t f = cc_compute(cpu) & ~(uint32_t)F_ZF;
    cc_set_flags(cpu, f | (zf ? F_ZF : 0));
}

static int cmpxchg8b(Cpu *cpu, const DecodedInsn *d, uint64_t ea)
{
    uint64_t old;
    int rc = mem_read(cpu, d->seg, ea, 8, &old);
    if (rc != CPU_OK)
        return rc;
    uint64_t cmp = reg_read(cpu, R_AX, 4) | reg_read(cpu, R_DX, 4) << 32;
    bool equal = old == cmp;
    uint64_t nv = equal ? (reg_read(cpu, R_BX, 4) | reg_read(cpu, R_CX, 4) << 32)
                        : old;
    /* Always a write cycle, as for CMPXCHG. */
    if ((rc = mem_write(cpu, d->seg, ea, 8, nv)) != CPU_OK)
        return rc;
    if (!equal) {
        reg_write(cpu, R_AX, 4, old & 0xffffffffu);
        reg_write(cpu, R_DX, 4, old >> 32);
    }
    set_zf_only(cpu, equal);
    return CPU_OK;
}

/* CMPXCHG16B (REX.W): CPUID.01H:ECX.CX16 or #UD; the linear address
 * must be 16-byte aligned or #GP(0).  Only 64-bit mode has REX, where
 * segment bases other than FS/GS count as zero. */
static int cmpxchg16b(Cpu *cpu, const DecodedInsn *d, uint64_t ea)
{
    if (!(cpu->features.leaf1_ecx & CPUID1_ECX_CX16))
        return cpu_raise(cpu, EXC_UD, 0, false);
    uint64_t base = d->seg >= SEG_FS ? cpu->s.seg[d->seg].base : 0;
    if ((base + ea) & 15)
        return cpu_raise(cpu, EXC_GP, 0, true);
    uint64_t lo, hi;
    int rc;
    if ((rc = mem_read(cpu, d->seg, ea, 8, &lo)) != CPU_OK ||
        (rc = mem_read(cpu, d->seg, ea + 8, 8, &hi)) != CPU_OK)
        return rc;
    /* Both halves lie in one aligned 16-byte block, so one page; check
     * the whole block for writing before storing either half. */
    if ((rc = mem_check_write(cpu, d->seg, ea, 8)) != CPU_OK ||
        (rc = mem_check_write(cpu, d->seg, ea + 8, 8)) != CPU_OK)
        return rc;
    bool equal = lo == cpu->s.regs[R_AX] && hi == cpu->s.regs[R_DX];
    uint64_t nlo = equal ? cpu->s.regs[R_BX] : lo;
    uint64_t nhi = equal ? cpu->s.regs[R_CX] : hi;
    if ((rc = mem_write(cpu, d->seg, ea, 8, nlo)) != CPU_OK ||
        (rc = mem_write(cpu, d->seg, ea + 8, 8, nhi)) != CPU_OK)
        return rc;
    if (!equal) {
        cpu->s.regs[R_AX] = lo;
        cpu->s.regs[R_DX] = hi;
    }
    set_zf_only(cpu, equal);
    return CPU_OK;
}

int h_CMPXCHG8B(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t ea = insn_ea(cpu, d);
    if (d->pfx & PFX_REXW)
        return cmpxchg16b(cpu, d, ea);
    return cmpxchg8b(cpu, d, ea);
}

/* XADD: TEMP <- SRC + DEST; SRC <- DEST; DEST <- TEMP.  With two
 * registers the destination is written last, so XADD r, r with the same
 * register leaves the sum; with memory the store goes first so that a
 * fault changes nothing. */
int h_XADD(Cpu *cpu, const DecodedInsn *d)
{
    unsigned size = d->osize;
    uint64_t m = size_mask(size);
    uint64_t dst, src;
    int rc;
    if ((rc = op_read(cpu, d, 0, size, &dst)) != CPU_OK)
        return rc;
    if ((rc = op_read(cpu, d, 1, size, &src)) != CPU_OK)
        return rc;
    dst &= m;
    src &= m;
    uint64_t sum = (dst + src) & m;
    if (d->kind[0] == OPK_MEM) {
        if ((rc = op_write(cpu, d, 0, size, sum)) != CPU_OK)
            return rc;
        op_write(cpu, d, 1, size, dst);
    } else {
        op_write(cpu, d, 1, size, dst);
        op_write(cpu, d, 0, size, sum);
    }
    cc_set(cpu, CC_ADD, size, sum, src, 0);
    return CPU_OK;
}

/* ---- conversions ------------------------------------------------------- */

/* CBW / CWDE / CDQE: the accumulator's lower half sign-extended into it. */
int h_CBW(Cpu *cpu, const DecodedInsn *d)
{
    unsigned half = d->osize / 2;
    uint64_t v = sign_extend(reg_read(cpu, R_AX, half), half);
    reg_write(cpu, R_AX, d->osize, v & size_mask(d->osize));
    return CPU_OK;
}

/* CWD / CDQ / CQO: rDX <- all copies of the accumulator's sign bit. */
int h_CWD(Cpu *cpu, const DecodedInsn *d)
{
    bool neg = reg_read(cpu, R_AX, d->osize) & sign_bit(d->osize);
    reg_write(cpu, R_DX, d->osize, neg ? size_mask(d->osize) : 0);
    return CPU_OK;
}

/* XLAT: AL <- [seg:rBX + AL], the sum wrapped to the address size. */
int h_XLAT(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t addr = (reg_read(cpu, R_BX, d->asize) + reg_read(cpu, R_AX, 1)) &
                    size_mask(d->asize);
    uint64_t v;
    int rc = mem_read(cpu, d->seg, addr, 1, &v);
    if (rc != CPU_OK)
        return rc;
    reg_write(cpu, R_AX, 1, v);
    return CPU_OK;
}

/* The flags LAHF/SAHF move: SF ZF AF PF CF in their EFLAGS positions. */
#define AH_FLAGS (F_SF | F_ZF | F_AF | F_PF | F_CF)

/* LAHF: AH <- SF:ZF:0:AF:0:PF:1:CF (bit 1 of EFLAGS reads as 1). */
int h_LAHF(Cpu *cpu, const DecodedInsn *d)
{
    uint32_t f = (cc_compute(cpu) & AH_FLAGS) | F_FIXED1;
    reg_write(cpu, R_AH, 1, f);
    return CPU_OK;
}

/* SAHF: SF ZF AF PF CF <- AH; OF is kept. */
int h_SAHF(Cpu *cpu, const DecodedInsn *d)
{
    uint32_t ah = (uint32_t)reg_read(cpu, R_AH, 1);
    uint32_t f = cc_compute(cpu) & ~(uint32_t)AH_FLAGS;
    cc_set_flags(cpu, f | (ah & AH_FLAGS));
    return CPU_OK;
}

static uint64_t byte_swap(uint64_t v, unsigned size)
{
    switch (size) {
    case 2: return __builtin_bswap16((uint16_t)v);
    case 4: return __builtin_bswap32((uint32_t)v);
    default: return __builtin_bswap64(v);
    }
}

/* MOVBE: both directions are "read operand 1, swap, write operand 0". */
int h_MOVBE(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = op_read(cpu, d, 1, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    return op_write(cpu, d, 0, d->osize, byte_swap(v, d->osize));
}

/* ---- conditional moves and sets --------------------------------------- */

/* CMOVcc: the source is read whatever the condition (a memory source can
 * fault even when no move happens).  In 64-bit mode a 32-bit form writes
 * the destination in either case, so its upper half is zeroed even when
 * the condition is false (SDM CMOVcc, "Operation"). */
int h_CMOVCC(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = op_read(cpu, d, 1, d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    if (cc_condition(cpu, d->opcode & 15))
        return op_write(cpu, d, 0, d->osize, v & size_mask(d->osize));
    if (d->osize == 4 && cpu_is_64(cpu))
        reg_write(cpu, d->reg[0], 4, reg_read(cpu, d->reg[0], 4));
    return CPU_OK;
}

int h_SETCC(Cpu *cpu, const DecodedInsn *d)
{
    return op_write(cpu, d, 0, 1, cc_condition(cpu, d->opcode & 15) ? 1 : 0);
}

/* ---- no-ops ------------------------------------------------------------ */

/* NOP, the multi-byte NOP 0F 1F, the reserved-NOP/prefetch-hint space
 * 0F 18-1F and PREFETCHW 0F 0D: prefetches never fault (SDM PREFETCHh:
 * "does not cause a fault"), so no memory is touched. */
int h_NOP(Cpu *cpu, const DecodedInsn *d)
{
    return CPU_OK;
}

/* LFENCE/MFENCE/SFENCE: one vCPU per thread, stores are already in order
 * when the handler returns. */
int h_FENCE(Cpu *cpu, const DecodedInsn *d)
{
    return CPU_OK;
}

/* CLFLUSH: no cache to flush, but the access is checked like a byte read
 * (SDM CLFLUSH: "treated as a byte load", faults as such). */
/* CLFLUSH faults as a byte read would, but touches no memory: with no
 * cache to flush, the checks are all there is to do. */
int h_CLFLUSH(Cpu *cpu, const DecodedInsn *d)
{
    return mem_probe(cpu, d->seg, insn_ea(cpu, d), 1, ACCESS_READ);
}

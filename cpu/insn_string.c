/* String instructions and port I/O.
 *
 * Intel SDM Vol. 2: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS, REP/REPE/
 * REPZ/REPNE/REPNZ, IN, OUT; Vol. 1 7.3.9 (string operations) and 19
 * (I/O: privilege via IOPL and the TSS permission bitmap, in io_check).
 *
 * Addressing: the source is d->seg : rSI (DS unless overridden), the
 * destination is always ES : rDI; rSI, rDI and rCX are used at the address
 * size and wrap inside it, DF picks the direction, the element size is
 * the operand size.
 *
 * REP: MOVS, STOS, LODS, INS and OUTS repeat on either F2 or F3; CMPS and
 * SCAS use F3 as REPE and F2 as REPNE.  The count is tested before the
 * first iteration (rCX = 0 runs nothing), registers are updated after each
 * iteration, so a fault or a pause between iterations leaves them pointing
 * at the next element; RIP stays on the instruction until it completes.
 * Retirement follows cpu/insn.h: one per completed iteration, one when
 * no iteration runs.
 */
#include "cpu/cpu.h"
#include "cpu/insn.h"

/* One element of a string instruction: the access, then rSI/rDI. */
typedef int (*StringStep)(Cpu *cpu, const DecodedInsn *d);

enum { REP_NONE, REP_ALWAYS, REP_WHILE_EQUAL, REP_WHILE_NOT_EQUAL };

static int64_t str_delta(const Cpu *cpu, const DecodedInsn *d)
{
    return (cpu->s.eflags & F_DF) ? -(int64_t)d->osize : (int64_t)d->osize;
}

static uint64_t str_reg(const Cpu *cpu, const DecodedInsn *d, int r)
{
    return reg_read(cpu, r, d->asize);
}

/* Move rSI or rDI by one element, wrapping at the address size; a 16-bit
 * address size keeps the upper bits of the register, a 32-bit one zeroes
 * them (reg_write's rules, as the hardware does). */
static void str_advance(Cpu *cpu, const DecodedInsn *d, int r)
{
    uint64_t v = str_reg(cpu, d, r) + (uint64_t)str_delta(cpu, d);
    reg_write(cpu, r, d->asize, v & size_mask(d->asize));
}

static int rep_kind(const DecodedInsn *d, bool compares)
{
    if (!(d->pfx & (PFX_REP | PFX_REPNE)))
        return REP_NONE;
    if (!compares)
        return REP_ALWAYS;
    return (d->pfx & PFX_REPNE) ? REP_WHILE_NOT_EQUAL : REP_WHILE_EQUAL;
}

/* Does a REPE/REPNE stop after this iteration (ZF from its compare)? */
static bool rep_condition_stops(const Cpu *cpu, int kind)
{
    if (kind == REP_WHILE_EQUAL)
        return !cc_condition(cpu, 4);
    if (kind == REP_WHILE_NOT_EQUAL)
        return cc_condition(cpu, 4);
    return false;
}

/* The REP loop.  Between iterations it yields to pending interrupts, exit
 * requests and the instruction budget with CPU_RESTART: RIP stays on the
 * instruction and the registers say where to resume. */
static int string_run(Cpu *cpu, const DecodedInsn *d, StringStep step,
                      bool compares)
{
    int kind = rep_kind(d, compares);
    int rc;
    if (kind == REP_NONE) {
        rc = step(cpu, d);
        if (rc == CPU_OK)
            cpu->s.icount++;
        return rc;
    }
    uint64_t m = size_mask(d->asize);
    if (str_reg(cpu, d, R_CX) == 0) {
        cpu->s.icount++;
        return CPU_OK;
    }
    for (;;) {
        if ((rc = step(cpu, d)) != CPU_OK)
            return rc;
        uint64_t count = (str_reg(cpu, d, R_CX) - 1) & m;
        reg_write(cpu, R_CX, d->asize, count);
        cpu->s.icount++;
        if (count == 0 || rep_condition_stops(cpu, kind))
            return CPU_OK;
        if (cpu_should_yield(cpu))
            return CPU_RESTART;
    }
}

/* ---- the elements ------------------------------------------------------ */

static int movs_step(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = mem_read(cpu, d->seg, str_reg(cpu, d, R_SI), d->osize, &v);
    if (rc == CPU_OK)
        rc = mem_write(cpu, SEG_ES, str_reg(cpu, d, R_DI), d->osize, v);
    if (rc != CPU_OK)
        return rc;
    str_advance(cpu, d, R_SI);
    str_advance(cpu, d, R_DI);
    return CPU_OK;
}

/* CMPS compares [rSI] with [rDI]: flags of [rSI] - [rDI]. */
static int cmps_step(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t a, b;
    int rc = mem_read(cpu, d->seg, str_reg(cpu, d, R_SI), d->osize, &a);
    if (rc == CPU_OK)
        rc = mem_read(cpu, SEG_ES, str_reg(cpu, d, R_DI), d->osize, &b);
    if (rc != CPU_OK)
        return rc;
    cc_set(cpu, CC_SUB, d->osize, (a - b) & size_mask(d->osize), b, 0);
    str_advance(cpu, d, R_SI);
    str_advance(cpu, d, R_DI);
    return CPU_OK;
}

static int stos_step(Cpu *cpu, const DecodedInsn *d)
{
    int rc = mem_write(cpu, SEG_ES, str_reg(cpu, d, R_DI), d->osize,
                       reg_read(cpu, R_AX, d->osize));
    if (rc != CPU_OK)
        return rc;
    str_advance(cpu, d, R_DI);
    return CPU_OK;
}

static int lods_step(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t v;
    int rc = mem_read(cpu, d->seg, str_reg(cpu, d, R_SI), d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    reg_write(cpu, R_AX, d->osize, v);
    str_advance(cpu, d, R_SI);
    return CPU_OK;
}

/* SCAS compares the accumulator with [rDI]: flags of rAX - [rDI]. */
static int scas_step(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t b;
    int rc = mem_read(cpu, SEG_ES, str_reg(cpu, d, R_DI), d->osize, &b);
    if (rc != CPU_OK)
        return rc;
    uint64_t a = reg_read(cpu, R_AX, d->osize);
    cc_set(cpu, CC_SUB, d->osize, (a - b) & size_mask(d->osize), b, 0);
    str_advance(cpu, d, R_DI);
    return CPU_OK;
}

/* INS: the permission check first (SDM INS), then the destination is
 * probed before the port is read, so a page fault cannot swallow a byte
 * a device has already handed over. */
static int ins_step(Cpu *cpu, const DecodedInsn *d)
{
    uint16_t port = (uint16_t)reg_read(cpu, R_DX, 2);
    uint64_t di = str_reg(cpu, d, R_DI);
    int rc = io_check(cpu, port, d->osize);
    if (rc == CPU_OK)
        rc = mem_check_write(cpu, SEG_ES, di, d->osize);
    if (rc != CPU_OK)
        return rc;
    uint64_t v = io_read(cpu, port, d->osize);
    if ((rc = mem_write(cpu, SEG_ES, di, d->osize, v)) != CPU_OK)
        return rc;
    str_advance(cpu, d, R_DI);
    return CPU_OK;
}

static int outs_step(Cpu *cpu, const DecodedInsn *d)
{
    uint16_t port = (uint16_t)reg_read(cpu, R_DX, 2);
    uint64_t v;
    int rc = io_check(cpu, port, d->osize);
    if (rc == CPU_OK)
        rc = mem_read(cpu, d->seg, str_reg(cpu, d, R_SI), d->osize, &v);
    if (rc != CPU_OK)
        return rc;
    io_write(cpu, port, d->osize, v);
    str_advance(cpu, d, R_SI);
    return CPU_OK;
}

int h_MOVS(Cpu *cpu, const DecodedInsn *d) { return string_run(cpu, d, movs_step, false); }
int h_CMPS(Cpu *cpu, const DecodedInsn *d) { return string_run(cpu, d, cmps_step, true); }
int h_STOS(Cpu *cpu, const DecodedInsn *d) { return string_run(cpu, d, stos_step, false); }
int h_LODS(Cpu *cpu, const DecodedInsn *d) { return string_run(cpu, d, lods_step, false); }
int h_SCAS(Cpu *cpu, const DecodedInsn *d) { return string_run(cpu, d, scas_step, true); }
int h_INS(Cpu *cpu, const DecodedInsn *d)  { return string_run(cpu, d, ins_step, false); }
int h_OUTS(Cpu *cpu, const DecodedInsn *d) { return string_run(cpu, d, outs_step, false); }

/* ---- IN / OUT ---------------------------------------------------------- */

/* The port operand: Ib (0-255) or DX. */
static uint16_t port_operand(const Cpu *cpu, const DecodedInsn *d, int i)
{
    if (d->kind[i] == OPK_IMM)
        return (uint16_t)(d->imm & 0xff);
    return (uint16_t)reg_read(cpu, R_DX, 2);
}

/* IN AL/AX/EAX: a 32-bit IN zero-extends into RAX like any 32-bit write. */
int h_IN(Cpu *cpu, const DecodedInsn *d)
{
    uint16_t port = port_operand(cpu, d, 1);
    int rc = io_check(cpu, port, d->osize);
    if (rc != CPU_OK)
        return rc;
    reg_write(cpu, R_AX, d->osize, io_read(cpu, port, d->osize));
    return CPU_OK;
}

int h_OUT(Cpu *cpu, const DecodedInsn *d)
{
    uint16_t port = port_operand(cpu, d, 0);
    int rc = io_check(cpu, port, d->osize);
    if (rc != CPU_OK)
        return rc;
    io_write(cpu, port, d->osize, reg_read(cpu, R_AX, d->osize));
    return CPU_OK;
}

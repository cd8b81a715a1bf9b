/* The debug registers and #DB conditions (SDM Vol. 3 ch. 17).
 *
 * 17.2: DR0-DR3 hold linear addresses (I/O ports for R/W = 10 with
 * CR4.DE); DR7 enables each one locally or globally (Ln/Gn) and gives its
 * kind (R/Wn: 00 execute, 01 write, 10 I/O, 11 read or write) and length
 * (LENn: 00 one byte, 01 two, 11 four, 10 eight); DR6 reports what
 * happened (B0-B3, BD, BS, BT); DR4/DR5 alias DR6/DR7 unless CR4.DE.
 * 17.3.1: instruction breakpoints are faults, taken before the instruction
 * unless RF is set; data and I/O breakpoints are traps, taken after the
 * instruction that made the access (after the iteration, for a REP string
 * instruction); DR7.GD makes any MOV DR a #DB fault with BD set and is
 * cleared when #DB is delivered so that the handler can use the registers.
 *
 * Where the SDM leaves a choice: B0-B3 are set only for enabled
 * breakpoints ("may or may not be set" for the others), and each #DB
 * replaces B0-B3 with its own bits ("certain debug exceptions may clear
 * bits 0-3"); BD, BS and BT accumulate until software clears them.
 */
#include "cpu/debug.h"

#include "cpu/insn.h"

static unsigned bp_kind(uint64_t dr7, int i)
{
    return (unsigned)(dr7 >> (16 + 4 * i)) & 3;
}

static bool bp_enabled(uint64_t dr7, int i)
{
    return (dr7 >> (2 * i)) & 3;
}

/* LENn in bytes (17.2.5: 10 is eight bytes on processors with 64-bit
 * support). */
static unsigned bp_len(uint64_t dr7, int i)
{
    static const unsigned len[4] = { 1, 2, 8, 4 };
    return len[(dr7 >> (18 + 4 * i)) & 3];
}

enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_ACCESS = 3 };

void debug_update(Cpu *cpu)
{
    uint64_t dr7 = cpu->s.dr[7];
    uint8_t active = 0;
    for (int i = 0; i < 4; i++) {
        if (!bp_enabled(dr7, i))
            continue;
        switch (bp_kind(dr7, i)) {
        case RW_EXEC: active |= DEBUG_EXEC; break;
        case RW_IO:
            /* Without CR4.DE the encoding is undefined: no breakpoint. */
            if (cpu->s.cr4 & CR4_DE)
                active |= DEBUG_IO;
            break;
        default: active |= DEBUG_DATA; break;
        }
    }
    cpu->debug_active = active;
}

/* Does [addr, addr + size) touch breakpoint i's range?  The range is
 * aligned down to its length (17.2.5: the low bits are ignored). */
static bool bp_hit(uint64_t dr7, uint64_t bp, int i, uint64_t addr, unsigned size)
{
    uint64_t len = bp_len(dr7, i);
    uint64_t lo = bp & ~(len - 1);
    return addr <= lo + (len - 1) && lo <= addr + (size - 1);
}

/* Deliver #DB with `bits` in DR6 (17.2.3), as a fault or a trap: RIP is
 * wherever the caller left it. */
static int raise_db(Cpu *cpu, uint32_t bits)
{
    CpuState *s = &cpu->s;
    s->dr[6] = (s->dr[6] & ~(uint64_t)DR6_BMASK) | bits;
    s->dr[7] &= ~(uint64_t)DR7_GD;
    s->debug_pending = 0;
    debug_update(cpu);
    return cpu_raise(cpu, EXC_DB, 0, false);
}

bool debug_check_exec(Cpu *cpu)
{
    const CpuState *s = &cpu->s;
    uint64_t dr7 = s->dr[7];
    uint64_t lin = cpu_is_64(cpu) ? s->rip
                                  : (s->seg[SEG_CS].base + s->rip) & 0xffffffffull;
    uint32_t hit = 0;
    /* The address must be the instruction's first byte, prefixes
     * included; LEN should be 00 and is not looked at (17.2.5). */
    for (int i = 0; i < 4; i++)
        if (bp_enabled(dr7, i) && bp_kind(dr7, i) == RW_EXEC && s->dr[i] == lin)
            hit |= DR6_B0 << i;
    if (!hit)
        return false;
    raise_db(cpu, hit);
    return true;
}

void debug_data_access(Cpu *cpu, uint64_t linear, unsigned size, bool write)
{
    CpuState *s = &cpu->s;
    uint64_t dr7 = s->dr[7];
    for (int i = 0; i < 4; i++) {
        unsigned kind = bp_kind(dr7, i);
        if (!bp_enabled(dr7, i) || kind == RW_EXEC || kind == RW_IO ||
            (kind == RW_WRITE && !write))
            continue;
        if (bp_hit(dr7, s->dr[i], i, linear, size))
            s->debug_pending |= DR6_B0 << i;
    }
}

void debug_io_access(Cpu *cpu, uint16_t port, unsigned size)
{
    CpuState *s = &cpu->s;
    uint64_t dr7 = s->dr[7];
    if (!(s->cr4 & CR4_DE))
        return;
    for (int i = 0; i < 4; i++)
        if (bp_enabled(dr7, i) && bp_kind(dr7, i) == RW_IO &&
            bp_hit(dr7, s->dr[i] & 0xffff, i, port, size))
            s->debug_pending |= DR6_B0 << i;
}

int debug_raise_pending(Cpu *cpu)
{
    return raise_db(cpu, cpu->s.debug_pending);
}

void debug_task_switch(Cpu *cpu, bool t_flag)
{
    cpu->s.dr[7] &= ~(uint64_t)(DR7_LOCAL | DR7_LE);
    if (t_flag)
        cpu->s.debug_pending |= DR6_BT;
    debug_update(cpu);
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE makes them #UD (17.2.2); then
 * DR7.GD turns the access into a #DB fault (17.2.4). */
static int dr_access(Cpu *cpu, unsigned *n)
{
    if (*n == 4 || *n == 5) {
        if (cpu->s.cr4 & CR4_DE)
            return cpu_raise(cpu, EXC_UD, 0, false);
        *n += 2;
    }
    if (cpu->s.dr[7] & DR7_GD)
        return raise_db(cpu, DR6_BD);
    return CPU_OK;
}

int debug_mov_to_dr(Cpu *cpu, unsigned n, uint64_t v)
{
    if (dr_access(cpu, &n) != CPU_OK)
        return CPU_FAULT;
    /* Bits 63:32 of DR6 and DR7 are reserved: #GP(0) if set (MOV DR). */
    if (n >= 6 && (v >> 32))
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (n == 6)
        v = (v & 0x0000e00full) | 0xffff0ff0ull;   /* fixed-1 bits */
    else if (n == 7)
        v = (v & ~0xd800ull) | 0x400;              /* bit 10 reads 1 */
    cpu->s.dr[n] = v;
    if (n == 7)
        debug_update(cpu);
    return CPU_OK;
}

int debug_mov_from_dr(Cpu *cpu, unsigned n, uint64_t *v)
{
    if (dr_access(cpu, &n) != CPU_OK)
        return CPU_FAULT;
    *v = cpu->s.dr[n];
    return CPU_OK;
}

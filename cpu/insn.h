/* What instruction handlers see: operand access, memory, stack, flags.
 *
 * Internal to cpu/.  A handler is `int h_<id>(Cpu *cpu, const DecodedInsn *d)`
 * and returns CPU_OK, CPU_FAULT (after cpu_raise), CPU_EXIT or CPU_RESTART.
 *
 * The RIP protocol (the JIT relies on it):
 *  - when a handler is called, cpu->s.rip is the address of the instruction
 *    (its first prefix byte); insn_next_rip() gives the address after it;
 *  - a handler without DA_BRANCH never writes RIP: the interpreter advances
 *    it after CPU_OK or CPU_EXIT;
 *  - a DA_BRANCH handler sets RIP itself (to the target, or to the next
 *    instruction when a branch is not taken);
 *  - on CPU_FAULT, RIP and every register are as before the instruction
 *    (faults are restartable), except the iterations a REP string
 *    instruction already completed, and a task switch that faults after
 *    its commit point (SDM Vol. 3 7.3 step 13): the new task's state is
 *    loaded and the fault belongs to it (cpu/task.c);
 *  - CPU_RESTART: a REP string instruction stopped part-way (an interrupt
 *    is due or the instruction budget ran out); RIP stays on it and it
 *    resumes from the registers.
 * Retirement: the interpreter adds 1 to icount for each instruction that
 * returns CPU_OK or CPU_EXIT, except DA_STRING instructions, which count
 * themselves: one per iteration (one if no iteration runs), so time moves
 * during a long REP and a restarted REP counts exactly as an uninterrupted
 * one.
 */
#ifndef VIREO_CPU_INSN_H
#define VIREO_CPU_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"

enum { CPU_RESTART = 3 };

typedef int (*InsnHandler)(Cpu *cpu, const DecodedInsn *d);

#define INSN(name) int h_##name(Cpu *cpu, const DecodedInsn *d);
#include "cpu/insns.def"
#undef INSN

extern const InsnHandler insn_handlers[INSN_COUNT];

/* ---- sizes ---------------------------------------------------------- */

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t sign_bit(unsigned size)
{
    return 1ull << (size * 8 - 1);
}

static inline uint64_t sign_extend(uint64_t v, unsigned size)
{
    unsigned shift = 64 - size * 8;
    return (uint64_t)((int64_t)(v << shift) >> shift);
}

static inline unsigned size_log2(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/* ---- registers ------------------------------------------------------ */

/* Read register r (R_AX..R_R15, or R_AH..R_BH for size 1). */
static inline uint64_t reg_read(const Cpu *cpu, int r, unsigned size)
{
    if (r >= R_AH)
        return (cpu->s.regs[r - R_AH] >> 8) & 0xff;
    return cpu->s.regs[r] & size_mask(size);
}

/* Write with the x86 rules: 8- and 16-bit writes merge, 32-bit writes
 * zero the upper half, 64-bit writes replace. */
static inline void reg_write(Cpu *cpu, int r, unsigned size, uint64_t v)
{
    if (r >= R_AH) {
        uint64_t *p = &cpu->s.regs[r - R_AH];
        *p = (*p & ~0xff00ull) | ((v & 0xff) << 8);
        return;
    }
    if (size >= 4)
        cpu->s.regs[r] = v & size_mask(size);
    else
        cpu->s.regs[r] = (cpu->s.regs[r] & ~size_mask(size)) | (v & size_mask(size));
}

/* ---- operands ------------------------------------------------------- */

/* Address of the instruction after this one, wrapped to the code size. */
uint64_t insn_next_rip(const Cpu *cpu, const DecodedInsn *d);

/* Offset of the memory operand (before segmentation), wrapped to the
 * address size.  RIP-relative operands are relative to the next RIP. */
uint64_t insn_ea(const Cpu *cpu, const DecodedInsn *d);

/* Read/write operand i at `size` bytes.  Registers, memory (through
 * segmentation and paging, may fault), immediates (read only). */
int op_read(Cpu *cpu, const DecodedInsn *d, int i, unsigned size, uint64_t *v);
int op_write(Cpu *cpu, const DecodedInsn *d, int i, unsigned size, uint64_t v);

/* ---- memory --------------------------------------------------------- */

enum { ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_EXEC = 2 };

/* Segmented access: limit/type checks (or the canonical check in 64-bit
 * mode), then paging, then the physical address space.  Accesses that
 * cross a page are checked on both pages before anything is written. */
int mem_read(Cpu *cpu, int seg, uint64_t offset, unsigned size, uint64_t *v);
int mem_write(Cpu *cpu, int seg, uint64_t offset, unsigned size, uint64_t v);
/* Would a write of `size` bytes at seg:offset succeed?  Lets multi-store
 * instructions (far CALL, PUSHA, ENTER, CMPXCHG16B) fault before changing
 * anything. */
int mem_check_write(Cpu *cpu, int seg, uint64_t offset, unsigned size);

/* The checks of an access (segmentation, paging, with their faults) but
 * no access: for CLFLUSH, PREFETCHW-like hints and probes. */
int mem_probe(Cpu *cpu, int seg, uint64_t offset, unsigned size, int access);

/* Linear-address access for system structures (IDT, GDT, TSS).  `system`
 * accesses use supervisor privilege whatever the CPL. */
int mem_read_linear(Cpu *cpu, uint64_t linear, unsigned size, uint64_t *v,
                    bool system);
int mem_write_linear(Cpu *cpu, uint64_t linear, unsigned size, uint64_t v,
                     bool system);

/* CS:RIP as a linear and a physical address, with the CS limit (or
 * canonical) check and the execute-access translation; may fault. */
int mem_code_address(Cpu *cpu, uint64_t *linear, uint64_t *phys);
/* The physical page at `phys` now holds decoded code: drop the TLB's
 * write tags for it (cpu/mem.c withholds them from code pages while the
 * JIT is on). */
void mem_withhold_code_writes(Cpu *cpu, uint64_t phys);

/* Translate a code address without raising anything: false if it would
 * fault.  Used to key blocks that reach into a second page. */
bool mem_probe_code(Cpu *cpu, uint64_t linear, uint64_t *phys);

/* Fetch up to `len` instruction bytes at linear address `linear` into buf;
 * returns how many were readable (a fetch fault is raised later by
 * INSN_FETCH_FAULT, when execution reaches the missing byte). */
size_t mem_fetch_code(Cpu *cpu, uint64_t linear, uint8_t *buf, size_t len);

/* ---- stack ---------------------------------------------------------- */

/* Stack address size: 2, 4 or 8 (SS.B, or 8 in 64-bit mode). */
unsigned stack_width(const Cpu *cpu);
int stack_push(Cpu *cpu, unsigned size, uint64_t v);
int stack_pop(Cpu *cpu, unsigned size, uint64_t *v);
/* Read the stack at SP + offset without moving SP. */
int stack_peek(Cpu *cpu, uint64_t offset, unsigned size, uint64_t *v);
/* Add `delta` to SP, wrapping at the stack width. */
void stack_adjust(Cpu *cpu, int64_t delta);

/* ---- flags (cpu/flags.c) -------------------------------------------- */

static inline void cc_set(Cpu *cpu, int kind, unsigned size, uint64_t dst,
                          uint64_t src, uint64_t src2)
{
    cpu->s.cc_op = CC_OP(kind, size_log2(size));
    cpu->s.cc_dst = dst;
    cpu->s.cc_src = src;
    cpu->s.cc_src2 = src2;
}

/* The six arithmetic flags (F_ARITH bits) from the lazy state. */
uint32_t cc_compute(const Cpu *cpu);
bool cc_carry(const Cpu *cpu);
/* Condition code 0..15 in Jcc order (O, NO, B, AE, E, NE, BE, A, S, NS,
 * P, NP, L, GE, LE, G). */
bool cc_condition(const Cpu *cpu, int cond);
/* Replace the arithmetic flags with `flags` (F_ARITH bits). */
void cc_set_flags(Cpu *cpu, uint32_t flags);
/* Parity flag of the low byte (PF: set if an even number of ones). */
bool parity8(uint64_t v);

/* ---- control transfer (cpu/branch_util in exec.c) ------------------- */

/* Jump to `target` (truncated to the operand size, 16/32/64): checks the
 * CS limit (or canonical form in 64-bit mode) and raises #GP(0) if out. */
int branch_near(Cpu *cpu, const DecodedInsn *d, uint64_t target);

/* Load segment register `seg` with `selector` for a data/stack load
 * (MOV, POP, LDS...): real/V86 mode sets base = selector << 4; protected
 * mode reads and checks the descriptor (SDM Vol. 3 5.4-5.6). */
int seg_load(Cpu *cpu, int seg, uint16_t selector);
/* Far JMP/CALL/RET and IRET load CS through cpu/far.h. */

/* ---- interrupts ---------------------------------------------------- */

/* A software interrupt (INT n, INT3, INTO, INT1): the handler first sets
 * RIP to the next instruction, then returns cpu_raise_soft(), and delivery
 * pushes that RIP as the return address.  Delivery (IVT in real mode, IDT
 * in protected and long mode) is in cpu/interrupt.c. */
int cpu_raise_soft(Cpu *cpu, int vector);

/* True if an external interrupt or an exit request should stop a REP
 * string instruction between iterations. */
static inline bool cpu_should_yield(const Cpu *cpu)
{
    return cpu->exit_request ||
           (cpu->intr_pending && (cpu->s.eflags & F_IF)) ||
           cpu->s.icount >= cpu->icount_limit;
}

/* ---- I/O ------------------------------------------------------------ */

/* Is port access allowed at the current privilege (IOPL, TSS bitmap)? */
int io_check(Cpu *cpu, uint16_t port, unsigned size);
uint64_t io_read(Cpu *cpu, uint16_t port, unsigned size);
void io_write(Cpu *cpu, uint16_t port, unsigned size, uint64_t v);

/* ---- mode queries --------------------------------------------------- */

static inline bool cpu_is_64(const Cpu *cpu)
{
    return (cpu->mode & CPU_MODE_SIZE_MASK) == CPU_MODE_CODE64;
}

static inline bool cpu_is_real(const Cpu *cpu)
{
    return !(cpu->mode & CPU_MODE_PROT);
}

static inline unsigned cpu_cpl(const Cpu *cpu)
{
    if (cpu_is_real(cpu))
        return 0;
    if (cpu->mode & CPU_MODE_V86)
        return 3;
    return cpu->s.seg[SEG_CS].selector & 3;   /* CS.RPL is the CPL */
}

#endif

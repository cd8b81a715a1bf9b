/* The x87 FPU inside cpu/: what the x87 handler files share.
 *
 * SDM Vol. 1 ch. 8 (the register stack, FSW, FCW, tags, exception
 * handling), Vol. 3 2.5 (CR0.EM/MP/TS/NE) and 6.15 (#NM, #MF).
 *
 * The instruction protocol, on top of cpu/insn.h's:
 *  1. x87_begin(): #NM (CR0.EM or CR0.TS), then for waiting instructions a
 *     pending unmasked exception (FSW.ES): #MF when CR0.NE = 1; with
 *     CR0.NE = 0, FERR# is (still) asserted and the instruction runs, as
 *     when the board answers FERR# with IGNNE# (see x87.c).
 *  2. the memory operand is read (a fault leaves the FPU untouched);
 *  3. the operation computes into an FpStatus; x87_commit() merges the
 *     exception flags into FSW, sets ES/B for unmasked ones, and says
 *     whether the result may be written (unmasked #I, #D and #Z suppress
 *     it; unmasked #O/#U suppress memory stores only);
 *  4. results are written, the stack popped, FIP/FDP/FOP recorded.
 */
#ifndef VIREO_CPU_FPU_X87_H
#define VIREO_CPU_FPU_X87_H

#include "cpu/fpu/float80.h"
#include "cpu/insn.h"

/* FSW (Vol. 1 8.1.3). */
enum {
    FSW_SF = 1u << 6, FSW_ES = 1u << 7, FSW_C0 = 1u << 8, FSW_C1 = 1u << 9,
    FSW_C2 = 1u << 10, FSW_TOP_SHIFT = 11, FSW_TOP = 7u << 11,
    FSW_C3 = 1u << 14, FSW_B = 1u << 15,
    FSW_CC = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3,
};

/* FCW (Vol. 1 8.1.5). */
enum { FCW_PC_SHIFT = 8, FCW_RC_SHIFT = 10 };

#define FCW_INIT 0x037f

static inline unsigned x87_top(const X87State *f)
{
    return (f->fsw >> FSW_TOP_SHIFT) & 7;
}

static inline void x87_set_top(X87State *f, unsigned top)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_TOP) | ((top & 7) << FSW_TOP_SHIFT));
}

static inline unsigned x87_phys(const X87State *f, unsigned i)
{
    return (x87_top(f) + i) & 7;
}

static inline bool x87_empty(const X87State *f, unsigned i)
{
    return !((f->tags >> x87_phys(f, i)) & 1);
}

static inline Float80 x87_get(const X87State *f, unsigned i)
{
    return f->r[x87_phys(f, i)];
}

static inline void x87_set(X87State *f, unsigned i, Float80 v)
{
    unsigned p = x87_phys(f, i);
    f->r[p] = v;
    f->tags |= (uint8_t)(1u << p);
}

static inline void x87_pop(X87State *f)
{
    f->tags &= (uint8_t)~(1u << x87_phys(f, 0));
    x87_set_top(f, x87_top(f) + 1);
}

static inline void x87_push(X87State *f, Float80 v)
{
    x87_set_top(f, x87_top(f) - 1);
    x87_set(f, 0, v);
}

static inline void x87_set_cc(X87State *f, unsigned cc)
{
    f->fsw = (uint16_t)((f->fsw & ~FSW_CC) | (cc & FSW_CC));
}

/* The rounding environment of FCW; `use_pc` for the five instructions
 * precision control applies to (Vol. 1 8.1.5.2). */
FpStatus x87_status(const Cpu *cpu, bool use_pc);

/* Step 1 of the protocol: returns CPU_OK or CPU_FAULT. */
int x87_begin(Cpu *cpu, bool waiting);

/* Record FIP/FCS, FOP and (for memory operands) FDP/FDS: done by every
 * non-control instruction (Vol. 1 8.1.8). */
void x87_note_insn(Cpu *cpu, const DecodedInsn *d);

/* Step 3.  `flags` are FP_* plus, for stack faults, FSW_SF in the same
 * word; `store` says the destination is memory.  Clears C1.  Returns true
 * if the result is to be written. */
bool x87_commit(Cpu *cpu, unsigned flags, bool store);

/* A stack fault (Vol. 1 8.5.1.1): IE + SF, C1 = overflow.  Returns true if
 * the masked response (write the indefinite) applies. */
bool x87_stack_fault(Cpu *cpu, bool overflow);

/* After an instruction: report FSW.ES to FERR# while CR0.NE = 0.  Returns
 * CPU_EXIT when FERR# was just raised (so the block ends and IRQ13 can be
 * taken), else CPU_OK. */
int x87_end(Cpu *cpu);

/* Memory operands. */
int x87_read_f80(Cpu *cpu, const DecodedInsn *d, uint64_t off, Float80 *v);
int x87_write_f80(Cpu *cpu, const DecodedInsn *d, uint64_t off, Float80 v);

/* The two-bit tag of physical register p from its contents (Vol. 1 8.1.7):
 * 0 valid, 1 zero, 2 special, 3 empty. */
unsigned x87_tag(const X87State *f, unsigned p);
uint16_t x87_full_tags(const X87State *f);

/* FNINIT's state (Vol. 2 FINIT). */
void x87_init_state(X87State *f);

/* WAIT/FWAIT (h_FWAIT in insn_system.c): #NM if CR0.MP and CR0.TS, then
 * the pending-exception check. */
int x87_fwait(Cpu *cpu);

#endif

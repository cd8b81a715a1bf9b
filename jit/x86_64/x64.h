/* Internals of the x86-64 backend, shared by its files (not a public
 * interface: jit/backend.h is).
 *
 * Host register use while translated code runs:
 *   RBX            the Cpu pointer (callee-saved, so helpers keep it)
 *   RSP            the frame below: spill slots, a save area for
 *                  caller-saved registers around calls, a result slot
 *   RAX RCX RDX RSI  scratch of single op lowerings; never hold a temp,
 *                  which also makes the argument set-up of calls simple
 *   RDI R8-R11     temps not live across an IR_CALL (caller-saved; the
 *                  cold slow paths of QLD/QST save them around their call)
 *   RBP R12-R15    temps, also across calls (callee-saved)
 * Every temp has one home for its whole live range, a register or a
 * spill slot, so the forward branches of a block need no reconciliation.
 * An I32 temp in a register always has its upper 32 bits zero.
 */
#ifndef VIREO_JIT_X86_64_X64_H
#define VIREO_JIT_X86_64_X64_H

#include <stdbool.h>
#include <stdint.h>

#include "jit/backend.h"
#include "jit/cache.h"
#include "jit/ir.h"
#include "jit/x86_64/emit.h"

#define X_CPU_REG X_RBX

/* Frame, from RSP once the entry trampoline has run.  Its size keeps RSP
 * 16-byte aligned at calls (SysV ABI 3.2.2): the return address and six
 * pushes leave RSP 8 mod 16, so the frame is 8 mod 16. */
#define X_SPILL_SLOTS 1024
#define X_SAVE_AREA   (8 * X_SPILL_SLOTS)       /* 16 slots, by register */
#define X_VALUE_SLOT  (X_SAVE_AREA + 8 * 16)   /* slow-path load result */
#define X_FRAME_SIZE  (X_VALUE_SLOT + 8)
_Static_assert(X_FRAME_SIZE % 16 == 8, "frame keeps calls aligned");

/* The backend's permanent code, in JitCache.stubs. */
enum {
    XR_PROLOGUE,   /* int (Cpu *cpu, void *code): enter translated code */
    XR_EXIT,       /* leave with the status in EAX, exit_block = NULL */
    XR_EXIT_OK,    /* leave with CPU_OK, exit_block = NULL */
    XR_LOOKUP,     /* IR_LOOKUP: leave for the dispatcher's lookup */
    XR_EPILOGUE,   /* leave with the status in EAX, exit_block untouched */
    XR_COUNT
};
_Static_assert(XR_COUNT <= JIT_CACHE_STUBS, "room for the stubs");

/* Emit the permanent code into a cache that has none yet. */
bool x_runtime_init(JitCache *c);
/* The JitBackend entry points of jit/x86_64/runtime.c. */
int x_enter(Cpu *cpu, JitBlock *jb);
void x_chain(JitBlock *from, unsigned slot, JitBlock *to);
void x_unchain(JitBlock *from, unsigned slot);

/* Register allocation (jit/x86_64/regalloc.c). */
typedef struct XAlloc {
    uint32_t temps;
    uint32_t *start, *end;   /* first and last op index, UINT32_MAX unused */
    int8_t *reg;             /* host register, or X_NO_REG if spilled */
    int16_t *slot;           /* spill slot, or -1 */
    /* A temp set once, by a MOVI that is its first occurrence, holds that
     * constant wherever it is read (branches only go forward).  When all
     * its uses can take an immediate it gets no home at all: `immediate`,
     * and its MOVI emits nothing. */
    bool *constant, *immediate;
    uint64_t *value;
} XAlloc;

bool x_regalloc(const IrBlock *ir, XAlloc *a);
void x_regalloc_free(XAlloc *a);
bool x_is_caller_saved(int reg);
/* The temps op uses or defines; returns how many (at most 4). */
unsigned x_op_temps(const IrOp *op, IrTemp out[4]);

/* One block being lowered (jit/x86_64/lower.c, memory.c). */
typedef struct XFixup { size_t disp_pos; uint32_t label; } XFixup;

typedef struct XSlowPath {
    uint32_t op;             /* the QLD/QST */
    size_t miss;             /* the branch to the slow path */
    size_t resume;           /* where the inline path continues */
} XSlowPath;

/* Where each guest instruction's code starts, for -d out_asm. */
typedef struct XInsnMark { uint32_t insn, offset; } XInsnMark;

typedef struct XCtx {
    XEmitter e;
    const IrBlock *ir;
    JitBlock *jb;
    JitCache *cache;
    XAlloc alloc;
    size_t *label_pos;       /* SIZE_MAX until defined */
    XFixup *fixups;
    uint32_t nfixups, fixup_cap;
    XSlowPath *slow;
    uint32_t nslow, slow_cap;
    XInsnMark *marks;        /* NULL unless -d out_asm is on */
    uint32_t nmarks, mark_cap;
    bool failed;             /* an op the backend cannot lower */
} XCtx;

void x_lower_op(XCtx *x, uint32_t index);
void x_lower_qld(XCtx *x, uint32_t index);
void x_lower_qst(XCtx *x, uint32_t index);
void x_emit_slow_paths(XCtx *x);

/* Helpers shared by the lowering files.  x_home is the register or
 * spill slot of a temp that has one; x_load and x_in_reg also take
 * constants without a home. */
XOperand x_home(const XCtx *x, IrTemp t);
void x_load(XCtx *x, int reg, IrTemp t);
int x_in_reg(XCtx *x, IrTemp t, int scratch);
int x_dest_begin(const XCtx *x, IrTemp d);
void x_dest_end(XCtx *x, IrTemp d, int reg);
/* Store / reload the caller-saved registers holding temps that live past
 * op `index` (other than its result) around a call. */
void x_save_live(XCtx *x, uint32_t index, bool restore);
void x_call_abs(XCtx *x, const void *fn);
void x_jmp_stub(XCtx *x, int stub);
void x_jcc_stub(XCtx *x, XCond cc, int stub);

#endif

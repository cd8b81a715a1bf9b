/* The differential harness against Unicorn: shared declarations.
 *
 * tests/diff/ runs seeded random instruction streams under Vireo and under
 * Unicorn (QEMU's TCG) and compares the architectural results: every GPR,
 * RIP, EFLAGS with the flags the SDM leaves undefined masked, the exception
 * that ended the stream, and the data memory.  The files:
 *
 *   diff_main.c     command line, the program loop, the summary
 *   diff_gen.c      the program generator (random bytes, validated by
 *                   single-stepping Vireo)
 *   diff_flags.c    per-instruction knowledge: what is excluded, which
 *                   flags an instruction reads, writes and leaves undefined
 *   diff_vireo.c    Vireo set up as a bare CPU over a code area and a data
 *                   window, with an access trap used while generating
 *   diff_uc.c       the same machine in Unicorn, and its feature probes
 *   diff_report.c   state comparison, divergence search, failure reports
 */
#ifndef VIREO_TESTS_DIFF_DIFF_H
#define VIREO_TESTS_DIFF_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "mmu/addrspace.h"

/* ---- random numbers (splitmix64: tiny, fast, seedable) ---------------- */

typedef struct Rng {
    uint64_t s;
} Rng;

static inline uint64_t rng_next(Rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the tiny modulo bias does not matter here). */
static inline uint64_t rng_below(Rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

static inline bool rng_percent(Rng *r, unsigned percent)
{
    return rng_below(r, 100) < percent;
}

/* ---- the three machines -------------------------------------------------- */

typedef enum DiffMode { MODE_REAL, MODE_PROT32, MODE_LONG64 } DiffMode;

/* Where code and data live in one mode.  The data window is the only
 * memory an accepted instruction may touch; the code area holds the
 * program, followed by HLT bytes. */
typedef struct Layout {
    DiffMode mode;
    const char *name;
    uint32_t cpu_mode;        /* Cpu.mode in this layout */
    int nregs;                /* GPRs compared: 8 or 16 */
    unsigned width;           /* register width compared: 4 or 8 bytes */
    uint64_t code_base;       /* code area (linear), 4 KiB aligned */
    uint64_t code_size;
    uint64_t prog_base;       /* where programs start (linear) */
    uint64_t prog_ip;         /* the same as an offset in CS: initial RIP */
    uint64_t data_base;       /* data window (linear), 4 KiB aligned */
    uint64_t data_size;
    /* Segments, all different so that using the wrong one shows: real
     * mode selectors (base = selector * 16), protected-mode selectors of
     * descriptors in a GDT Unicorn reads at gdt_base, 64-bit FS/GS bases.
     * CS keeps Unicorn's selector outside real mode. */
    uint16_t sel[SEG_COUNT];
    uint64_t base[SEG_COUNT];
    uint64_t gdt_base;        /* prot32 only: a page for Unicorn's GDT */
} Layout;

/* The base a data access through `seg` uses (64-bit mode: FS/GS only). */
static inline uint64_t layout_seg_base(const Layout *lay, int seg)
{
    if (lay->mode == MODE_LONG64 && seg != SEG_FS && seg != SEG_GS)
        return 0;
    return lay->base[seg];
}

/* seg:offset as a linear address (32-bit wrap outside 64-bit mode). */
static inline uint64_t layout_linear(const Layout *lay, int seg, uint64_t offset)
{
    uint64_t lin = layout_seg_base(lay, seg) + offset;
    return lay->mode == MODE_LONG64 ? lin : lin & 0xffffffffull;
}

const Layout *layout_for(DiffMode mode);

/* Architectural state as both sides report it. */
typedef struct ArchState {
    uint64_t gpr[16];
    uint64_t rip;             /* offset in CS */
    uint64_t eflags;
    int vector;               /* exception that stopped it, or -1 */
    int uc_err;               /* Unicorn: uc_err other than a stop, or 0 */
} ArchState;

/* ---- programs ------------------------------------------------------------ */

#define MAX_UNITS 160
#define MAX_PROG_BYTES 3072

/* A unit is what the generator validates in one go: one instruction, or
 * a near branch with the filler instruction it jumps over. */
typedef struct Unit {
    uint16_t off, len;        /* in Program.code */
    uint16_t first_len;       /* length of the first instruction */
    uint8_t executed;         /* instructions run by this unit (REP: 1) */
    uint8_t is_setup;         /* inserted by the generator (MOV reg, imm) */
    uint32_t icount;          /* Vireo retirements (REP: one per iteration) */
    uint32_t undef_after;     /* flags undefined after this unit */
    uint64_t state_hash;      /* Vireo's registers after it, when generated */
} Unit;

typedef struct Program {
    uint64_t index;
    ArchState init;
    uint8_t code[MAX_PROG_BYTES];
    size_t len;
    Unit units[MAX_UNITS];
    int nunits;
    uint64_t vireo_icount;    /* Vireo retirements (REP: one per iteration) */
    uint32_t insns;           /* instructions executed (REP counted once) */
    int end_vector;           /* the exception that ends it, or -1 */
    uint32_t final_undef;     /* arithmetic flags undefined at the end */
    uint32_t gen_failures;    /* differences found while generating */
} Program;

typedef struct GenStats {
    uint64_t tries;           /* candidates decoded */
    uint64_t rej_invalid;     /* #UD, pseudo-instructions */
    uint64_t rej_excluded;    /* I/O, system, far transfers, ... */
    uint64_t rej_memory;      /* touched memory outside the data window */
    uint64_t rej_fault;       /* faulted (other than an accepted #DE) */
    uint64_t rej_flags;       /* would read a flag left undefined */
    uint64_t rej_undefined;   /* SDM: result undefined for these inputs */
    uint64_t setups;          /* MOV reg, imm inserted to steer operands */
    uint64_t discarded;       /* programs that read their own code bytes */
    uint64_t trap_checks;     /* rejections for memory re-run on Unicorn */
    uint64_t by_id[INSN_COUNT];   /* accepted instructions by handler */
    uint64_t fault_by_vector[32]; /* rejected faults by vector */
    uint64_t fault_by_id[32][INSN_COUNT];
} GenStats;

/* ---- Vireo (diff_vireo.c) ------------------------------------------------ */

typedef struct UndoEntry {
    uint64_t offset;          /* in the data window */
    uint64_t old;
    uint8_t size;
} UndoEntry;

struct VireoBox;

/* One region of unmapped space, as seen by the trap handlers. */
typedef struct TrapRegion {
    struct VireoBox *vb;
    uint64_t base;
} TrapRegion;

typedef struct VireoBox {
    Cpu cpu;
    AddressSpace mem, io;
    const Layout *lay;
    uint8_t *data;            /* host memory of the data window */
    uint8_t *code;            /* host memory of the code area */
    uint8_t *shadow;          /* scratch copy of the data window */
    bool gen_mode;            /* window mapped through the logging trap */
    bool trapped;             /* an access left the data window */
    bool trapped_outside;     /* ... to unmapped space (not a code store) */
    uint64_t trap_addr;       /* the first such access */
    TrapRegion traps[3];
    UndoEntry *undo;
    size_t undo_len, undo_cap;
    struct Jit *jit;          /* --jit: attached to cpu while running */
} VireoBox;

/* `sel`: the segment selectors Unicorn uses; bases come from the layout. */
void vbox_init(VireoBox *vb, const Layout *lay, const CpuFeatures *features,
               const uint16_t sel[SEG_COUNT]);
void vbox_destroy(VireoBox *vb);
/* Generation mode maps the data window as a logging I/O region (undo log,
 * trap on anything outside); run mode maps it as plain RAM. */
void vbox_set_gen_mode(VireoBox *vb, bool on);
/* Registers, flags and data memory from `st` and `master`. */
void vbox_load(VireoBox *vb, const ArchState *st, const uint8_t *master);
void vbox_save(VireoBox *vb, ArchState *out);
/* Write code bytes at code-area offset `off`, dropping stale blocks. */
void vbox_write_code(VireoBox *vb, uint64_t off, const uint8_t *bytes, size_t len);
/* Undo the data-window writes logged since the log was last cleared. */
void vbox_undo(VireoBox *vb);

enum { STEP_OK, STEP_FAULT, STEP_STUCK };
/* Run until RIP == end (offset in CS) or an exception: one instruction at
 * a time, so REP iterations are visible.  *icount gets the retirements. */
int vbox_run_to(VireoBox *vb, uint64_t end, uint64_t *icount);

/* ---- Unicorn (diff_uc.c) ------------------------------------------------- */

typedef struct UcBox UcBox;

/* Which gated instructions this Unicorn build executes: Vireo's feature
 * words are set to match, so both sides agree on what decodes. */
void uc_probe_features(CpuFeatures *f, char *desc, size_t desc_len);
UcBox *ucbox_new(const Layout *lay);
/* An engine that watches data accesses, for ucbox_probe_unit only. */
UcBox *ucbox_new_probe(const Layout *lay);
void ucbox_free(UcBox *ub);
/* Segment selectors Unicorn ends up with (Vireo copies them so that
 * PUSH sreg and MOV r/m, sreg agree). */
void ucbox_selectors(UcBox *ub, uint16_t sel[SEG_COUNT]);
void ucbox_load(UcBox *ub, const ArchState *st, const uint8_t *master,
                const uint8_t *code, size_t code_len);
/* Run from the current RIP until RIP == end, an exception or an error. */
void ucbox_run_to(UcBox *ub, uint64_t end, uint64_t max_insns, ArchState *out);
const uint8_t *ucbox_data(const UcBox *ub);
/* On a probe engine, run one unit from `st` (window contents `window`,
 * program `code` up to and including the unit) and watch its data accesses: PROBE_INSIDE if it
 * reached `end` touching only the data window, PROBE_OUTSIDE (first such
 * address in *addr) if it touched anything else, else PROBE_UNCLEAR. */
enum { PROBE_INSIDE, PROBE_OUTSIDE, PROBE_UNCLEAR };
int ucbox_probe_unit(UcBox *ub, const ArchState *st, const uint8_t *window,
                     const uint8_t *code, size_t code_len, uint64_t end,
                     uint64_t *addr);

/* ---- knowledge about instructions (diff_flags.c) --------------------- */

/* Non-NULL (a reason) if the harness must not generate this instruction
 * (decoded from `bytes`). */
const char *insn_exclusion(const DecodedInsn *d, const uint8_t *bytes,
                           const Layout *lay);
/* Flags Unicorn computes wrongly for this instruction: compared as if
 * undefined. */
uint32_t reference_flag_quirks(const DecodedInsn *d);

typedef struct FlagEffect {
    uint32_t read;            /* flags whose value the result depends on */
    uint32_t written;         /* flags given a new (maybe undefined) value */
    uint32_t undef;           /* of those, the ones left undefined */
} FlagEffect;

/* Flag effect of `d` about to run on `cpu` (counts are read from it). */
FlagEffect insn_flag_effect(const DecodedInsn *d, const Cpu *cpu);
/* True if the SDM leaves the result undefined for these inputs. */
bool insn_result_undefined(const DecodedInsn *d, const Cpu *cpu);
/* Called after the instruction ran: undefined results seen in hindsight
 * (BSF/BSR with a zero source, which sets ZF). */
bool insn_result_undefined_after(const DecodedInsn *d, const Cpu *cpu);

/* ---- generation (diff_gen.c) --------------------------------------------- */

void gen_init(const Layout *lay, const CpuFeatures *features);
/* Random initial registers for program `index` of `seed`. */
void gen_initial_state(const Layout *lay, Rng *rng, ArchState *st);
/* Build program `index`.  Returns false if nothing could be generated. */
bool gen_program(VireoBox *vb, UcBox *ub, const uint8_t *master,
                 uint64_t seed, uint64_t index, Program *p, GenStats *stats);
/* Re-run the finished program on Vireo one unit at a time from plain RAM
 * and check that it retraces its generation.  It does not if it read code
 * bytes that were not written yet when it was generated (a data access
 * that happens to land on the program): such programs are discarded. */
bool gen_validate(VireoBox *vb, const uint8_t *master, const Program *p);
Rng program_rng(uint64_t seed, DiffMode mode, uint64_t index);

/* ---- comparison and reports (diff_report.c) ------------------------------ */

/* Compare; fills `why` with a one-line description of the first
 * difference.  `undef` masks arithmetic flags. */
bool state_equal(const Layout *lay, const ArchState *a, const ArchState *b,
                 uint32_t undef, char *why, size_t why_len);
/* State and data-window comparison of the two sides after a run. */
bool run_compare(VireoBox *vb, UcBox *ub, const ArchState *vs,
                 const ArchState *us, uint32_t undef, char *why, size_t why_len);
/* Look for the first diverging unit and print everything needed to
 * reproduce and understand the failure. */
void report_failure(VireoBox *vb, UcBox *ub, const Program *p,
                    const uint8_t *master, uint64_t seed, const char *why);
void print_program(const Layout *lay, const Program *p);
/* A candidate Vireo ran outside the data window while Unicorn stayed in. */
void report_trap(const Layout *lay, uint64_t seed, const Program *p,
                 const uint8_t *unit, unsigned len, const ArchState *before,
                 uint64_t vireo_addr);
/* Run both sides one unit at a time, printing each unit with both flag
 * sets and any register that differs. */
void trace_program(VireoBox *vb, UcBox *ub, const Program *p,
                   const uint8_t *master);
void print_state(const Layout *lay, const char *title, const ArchState *s);

#endif

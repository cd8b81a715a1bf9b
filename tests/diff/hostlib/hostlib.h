/* What the x87, MMX/SSE-integer and SSE floating-point differential
 * harnesses share (tests/diff/x87, tests/diff/simd_int, tests/diff/sse).
 *
 * Each harness generates seeded random instructions and operands (its own
 * gen.c) and runs every test on up to three sides:
 *  - Vireo (vireo.c): a bare CPU in 64-bit mode over a few RAM regions;
 *  - the host CPU (native.c): an executable mapping, faults as signals;
 *  - Unicorn 2.0.1, QEMU 5.0's TCG (unicorn.c): the same regions.
 * Vireo's result is compared bit for bit with the host's and with
 * Unicorn's; driver.c holds the options, the main loop, the tallies and
 * the summary, and the harness supplies the callbacks of a Harness.
 * The host and Unicorn exist only on x86-64 hosts: elsewhere Vireo runs
 * alone and the digest of its results, which depends only on the seed,
 * must equal the x86-64 build's (tests/diff/hostlib/cross/aarch64.sh).
 *
 * See docs/difftest.md, "The host-CPU harnesses".
 */
#ifndef VIREO_TESTS_DIFF_HOSTLIB_HOSTLIB_H
#define VIREO_TESTS_DIFF_HOSTLIB_HOSTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- small helpers (driver.c) --------------------------------------------- */

typedef struct Rng {
    uint64_t s;
} Rng;

uint64_t rng_next(Rng *r);
static inline unsigned rng_below(Rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

static inline uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* FNV-1a over p[0..n), bytes where mask[i] == 0 hashed as zero (mask NULL:
 * every byte). */
uint64_t hl_fnv(uint64_t h, const uint8_t *p, size_t n, const uint8_t *mask);

/* ---- register state ----------------------------------------------------------- */

/* A CPU's register state as the sides exchange it: the x87/SSE state as an
 * FXSAVE image (SDM Vol. 2 FXSAVE, Table 3-53: ST(i) in slot i, the
 * abridged tag byte by physical register), the GPRs by number (RAX = 0 ..
 * R15 = 15) and RFLAGS. */
typedef struct HlState {
    uint8_t fx[512];
    uint64_t gpr[16];
    uint64_t rflags;
} HlState;

enum {
    FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_MXCSR = 24, FX_ST = 32, FX_XMM = 160,
};

/* Where physical x87 register R(i) (MMi) is in an FXSAVE image. */
static inline unsigned hl_fx_phys(const uint8_t *fx, unsigned i)
{
    unsigned top = (unsigned)(get_le(fx + FX_FSW, 2) >> 11) & 7;
    return FX_ST + 16 * ((i - top) & 7);
}

/* ---- memory both emulators map -------------------------------------------------- */

/* RAM regions, the same addresses for Vireo and Unicorn; region 0 holds
 * the code. */
enum { HL_MAX_REGIONS = 4 };
typedef struct HlLayout {
    unsigned n;
    struct {
        uint64_t base;
        uint32_t size;
    } r[HL_MAX_REGIONS];
} HlLayout;

/* The sides. */
enum { HL_VIREO, HL_HOST, HL_UNICORN };
/* The "vector" of a side that stopped neither at the end nor on an
 * exception (Unicorn: an access outside the mapped memory). */
enum { HL_STRAY = 255 };
const char *hl_side_name(int side);

/* ---- Vireo (vireo.c) ----------------------------------------------------------------- */

/* Decode `b` (avail bytes) as 64-bit code with the features the harnesses
 * give Vireo: Vireo's InsnId, and in *len the length it decoded. */
int hl_decode(const uint8_t *b, size_t avail, size_t *len);
/* The InsnId, or INSN_UD unless exactly n bytes decode. */
int hl_decode_id(const uint8_t *b, size_t n);

/* A CPU in 64-bit mode (no paging, CPL 0, CR0.NE and CR4.OSFXSR/OSXMMEXCPT
 * as Linux runs the host side) whose RAM is the layout's regions; an
 * exception stops it undelivered. */
int hl_vireo_init(const HlLayout *lay);
/* Call a stub: run from `rip` with RDI = rdi and RSP = rsp (the other
 * registers as the last run left them) until RIP reaches `stop`.  The
 * code is region 0, read afresh.  Returns the vector of an exception (the
 * CPU stops on the faulting instruction; *at_fault, if given, gets the
 * state there), or -1; HL_STRAY if it did not reach `stop`. */
int hl_vireo_call(uint64_t rip, uint64_t stop, uint64_t rdi, uint64_t rsp,
                  HlState *at_fault);

/* ---- Vireo and Unicorn alike (vireo.c, unicorn.c) ------------------------------------- */

/* The side's memory of region i. */
uint8_t *hl_emu_mem(int side, unsigned region);
/* Run the one instruction at `rip` from the state `in` (RSP as given: the
 * harness's stack); *out gets the state after it, or at the fault.  The
 * code is region 0, read afresh.  Returns the vector of an exception, or
 * -1; HL_STRAY if it did not reach `stop`. */
int hl_emu_step(int side, const HlState *in, uint64_t rip, uint64_t stop, HlState *out);

/* ---- Unicorn (unicorn.c) ---------------------------------------------------------------- */

/* Compiled in (x86-64 hosts only). */
bool hl_uc_available(void);
/* Unicorn in 64-bit mode (CPL 0, no paging, CR0.NE, CR4.OSFXSR and
 * OSXMMEXCPT) with the layout's regions. */
int hl_uc_init(const HlLayout *lay);

/* The sides of hl_emu_mem and hl_emu_step. */
uint8_t *hl_vireo_mem(unsigned region);
int hl_vireo_step(const HlState *in, uint64_t rip, uint64_t stop, HlState *out);
uint8_t *hl_uc_mem(unsigned region);
int hl_uc_step(const HlState *in, uint64_t rip, uint64_t stop, HlState *out);

/* ---- the host CPU (native.c) ------------------------------------------------------------ */

bool hl_native_available(void);
/* Map `size` bytes readable, writable and executable at `base` (0:
 * anywhere) and catch the faults of the instruction under test. */
uint8_t *hl_native_init(uint64_t base, size_t size);
/* That mapping. */
uint8_t *hl_native_mem(void);
/* Call the code at `entry` (in the mapping) with `arg` in RDI.  A fault
 * whose RIP is `insn` returns its vector, *at_fault (if given) the state
 * the kernel saved there; a fault anywhere else ends the program. */
int hl_native_call(const uint8_t *entry, void *arg, const uint8_t *insn,
                   HlState *at_fault);

/* ---- the driver (driver.c) ---------------------------------------------------------------- */

/* One comparison: Vireo's result against a reference side's. */
typedef struct HlCase {
    unsigned long n;          /* the test's number, from 1 */
    unsigned tmpl;            /* its template */
    const uint8_t *in;        /* the input context */
    const uint8_t *v;         /* Vireo's output context */
    int vvec;                 /* Vireo's exception vector, or -1 */
    const uint8_t *ref;       /* the reference's output context */
    int rvec;
    int side;                 /* HL_HOST or HL_UNICORN */
} HlCase;

/* A known way in which Unicorn departs from the processor.  Where Unicorn
 * differs from Vireo and the host agrees with Vireo, the driver gives
 * every rule with a `mask`, in order, a copy of Unicorn's output (c->ref
 * is u): a rule that applies to the test overwrites what the deviation
 * affects with Vireo's values and says whether that changed anything.  If
 * the copy then compares equal the difference is masked, and counted for
 * every rule that changed something; if not, it is a failure.  A rule
 * with a `skip` instead keeps a test from Unicorn altogether (one that
 * would crash it: only c->in and c->tmpl are set), counted as masked
 * where the host agrees with Vireo. */
typedef struct HlUcRule {
    const char *name;
    bool (*mask)(const HlCase *c, uint8_t *u, int *uvec);
    bool (*skip)(const HlCase *c);
} HlUcRule;

/* For the rules (rules.c): take n bytes at off of Vireo's output into u,
 * true if they differed; and does an instruction carry 66h together with
 * F2 or F3 (prefixes before its 0F escape)? */
bool hl_take(const HlCase *c, uint8_t *u, size_t off, size_t n);
bool hl_66_with_f2f3(const uint8_t *bytes, size_t len);

/* A harness's own numeric option: --name N. */
typedef struct HlOption {
    const char *name;
    unsigned long *value;
} HlOption;

typedef struct Harness {
    const char *prog;             /* for messages: "x87_host" */
    size_t ctx_size;              /* bytes of a test context */
    uint64_t salt;                /* RNG state = seed * K + salt */
    const HlOption *options;      /* NULL-name terminated, or NULL */
    /* Names of the differences compare() tolerates, NULL terminated. */
    const char *const *tolerances;
    const HlUcRule *uc_rules;     /* ended by a NULL name */
    /* Vireo's and Unicorn's memory; the host's mapping (base 0: anywhere). */
    const HlLayout *layout;
    uint64_t host_base;
    size_t host_size;
    /* Build the templates: how many. */
    unsigned (*init)(void);
    const char *(*name)(unsigned t, char *buf, size_t len);
    /* A random instruction (returns its template), then its input. */
    unsigned (*draw_insn)(Rng *r);
    void (*draw_state)(Rng *r, uint8_t *in);
    /* Run the current instruction on `side`: ctx holds the input and gets
     * the output; returns the exception vector, or -1. */
    int (*run)(int side, uint8_t *ctx);
    /* After a test: the next may start from Vireo's result (may be NULL). */
    void (*after)(uint8_t *in, const uint8_t *v, int vvec);
    uint64_t (*digest)(uint64_t h, const uint8_t *v, int vvec);
    /* 0 equal, k > 0 the k-th tolerated difference, -1 different. */
    int (*compare)(const HlCase *c);
    void (*report)(const HlCase *c);
    /* --trace: Vireo's result of one test (c->ref unused). */
    void (*trace)(const HlCase *c);
} Harness;

/* The harness the program runs: driver.c's main() parses the options,
 * runs the tests and prints the summary. */
extern const Harness harness;

#endif

/* The differential harness against Unicorn: command line and main loop.
 *
 *   diff_unicorn --mode real|prot32|long64 --count N --seed S
 *                [--program K] [--verbose] [--max-reports R]
 *                [--jit] [--jitcheck B]
 *
 * Generates programs from the seed until N instructions have run, runs each
 * program whole under Vireo (multi-instruction blocks, lazy flags carried
 * across instructions) and under Unicorn, and compares registers, RIP,
 * EFLAGS (less the flags the SDM leaves undefined), the exception that
 * ended the program if any, and the data window.  `--program K` replays one
 * program.  Output ends with "P passed, F failed", counting programs; the
 * exit status is non-zero if any failed.
 *
 * `--jit` runs Vireo's side through the JIT, translating every block on
 * its first run; `--jitcheck B` also checks each translated block against
 * the interpreter (-d jitcheck: a mismatch aborts) and goes on past N
 * instructions until B blocks have been checked.
 */
#include "tests/diff/diff.h"

#include "jit/jit.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Real mode: each data segment's 64 KiB lies inside the 128 KiB window
 * (word accesses at FFFF fault on Vireo and wrap on QEMU; such candidates
 * fault and are skipped), CS is above it.  Protected and long mode: a
 * 256 KiB window straddling 2 GiB, so that addresses with bit 31 set and
 * clear both occur; data segment bases a few pages apart, so that a wrong
 * segment still lands in the window but on other bytes.  In long mode the
 * code straddles 4 GiB, so RIP crosses it, and stays within RIP-relative
 * reach of the window. */
static const Layout layouts[] = {
    [MODE_REAL] = {
        .mode = MODE_REAL, .name = "real", .cpu_mode = CPU_MODE_CODE16,
        .nregs = 8, .width = 4,
        .code_base = 0x20000, .code_size = 0x2000, .prog_base = 0x20000,
        .prog_ip = 0, .data_base = 0, .data_size = 0x20000,
        .sel = { [SEG_ES] = 0x0500, [SEG_CS] = 0x2000, [SEG_SS] = 0x0900,
                 [SEG_DS] = 0x0100, [SEG_FS] = 0x0d00, [SEG_GS] = 0x1000 },
        .base = { [SEG_ES] = 0x5000, [SEG_CS] = 0x20000, [SEG_SS] = 0x9000,
                  [SEG_DS] = 0x1000, [SEG_FS] = 0xd000, [SEG_GS] = 0x10000 },
    },
    [MODE_PROT32] = {
        .mode = MODE_PROT32, .name = "prot32",
        .cpu_mode = CPU_MODE_CODE32 | CPU_MODE_PROT | CPU_MODE_SS32,
        .nregs = 8, .width = 4,
        .code_base = 0x10000, .code_size = 0x2000, .prog_base = 0x10000,
        .prog_ip = 0x10000, .data_base = 0x7ffe0000, .data_size = 0x40000,
        .sel = { [SEG_ES] = 0x10, [SEG_SS] = 0x18, [SEG_DS] = 0x20,
                 [SEG_FS] = 0x28, [SEG_GS] = 0x30 },
        .base = { [SEG_ES] = 0x1000, [SEG_SS] = 0x2000, [SEG_DS] = 0x3000,
                  [SEG_FS] = 0x4000, [SEG_GS] = 0x5000 },
        .gdt_base = 0x20000,
    },
    [MODE_LONG64] = {
        .mode = MODE_LONG64, .name = "long64",
        .cpu_mode = CPU_MODE_CODE64 | CPU_MODE_PROT | CPU_MODE_LONG | CPU_MODE_SS32,
        .nregs = 16, .width = 8,
        .code_base = 0xfffff000ull, .code_size = 0x2000, .prog_base = 0xfffffc00ull,
        .prog_ip = 0xfffffc00ull, .data_base = 0x7ffe0000, .data_size = 0x40000,
        .base = { [SEG_FS] = 0x1000, [SEG_GS] = 0x2000 },
    },
};

const Layout *layout_for(DiffMode mode)
{
    return &layouts[mode];
}

typedef struct Options {
    DiffMode mode;
    uint64_t count;
    uint64_t seed;
    int64_t program;          /* -1: all */
    bool verbose;
    bool stats;               /* print what was generated, by handler */
    bool trace;               /* print every unit of every program */
    unsigned max_reports;
    bool jit;                 /* Vireo's side runs translated blocks */
    uint64_t jitcheck;        /* blocks to check under -d jitcheck */
} Options;

static void usage(void)
{
    fprintf(stderr,
            "usage: diff_unicorn --mode real|prot32|long64 [--count N] [--seed S]\n"
            "                    [--program K] [--verbose] [--stats] [--trace]\n"
            "                    [--max-reports R] [--jit] [--jitcheck B]\n");
    exit(2);
}

static uint64_t parse_number(const char *s, const char *what)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (!*s || *end) {
        fprintf(stderr, "diff_unicorn: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static void parse_options(int argc, char **argv, Options *o)
{
    *o = (Options){ .mode = MODE_REAL, .count = 200000, .seed = 1,
                    .program = -1, .max_reports = 5 };
    bool have_mode = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) {
            o->verbose = true;
            continue;
        }
        if (!strcmp(a, "--stats")) {
            o->stats = true;
            continue;
        }
        if (!strcmp(a, "--trace")) {
            o->trace = true;
            continue;
        }
        if (!strcmp(a, "--jit")) {
            o->jit = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "real")) o->mode = MODE_REAL;
            else if (!strcmp(v, "prot32")) o->mode = MODE_PROT32;
            else if (!strcmp(v, "long64")) o->mode = MODE_LONG64;
            else usage();
            have_mode = true;
        } else if (!strcmp(a, "--count")) {
            o->count = parse_number(v, "count");
        } else if (!strcmp(a, "--seed")) {
            o->seed = parse_number(v, "seed");
        } else if (!strcmp(a, "--program")) {
            o->program = (int64_t)parse_number(v, "program");
        } else if (!strcmp(a, "--jitcheck")) {
            o->jit = true;
            o->jitcheck = parse_number(v, "jitcheck");
        } else if (!strcmp(a, "--max-reports")) {
            o->max_reports = (unsigned)parse_number(v, "max-reports");
        } else {
            usage();
        }
    }
    if (!have_mode)
        usage();
}

/* The data window's initial contents: random, with runs of zeros, small
 * numbers and all-ones so that compares and scans find matches. */
static void fill_master(const Layout *lay, uint64_t seed, uint8_t *m)
{
    Rng r = program_rng(seed, lay->mode, UINT64_MAX);
    for (uint64_t i = 0; i < lay->data_size; i += 8) {
        uint64_t v;
        unsigned pick = (unsigned)rng_below(&r, 10);
        if (pick < 7) v = rng_next(&r);
        else if (pick == 7) v = 0;
        else if (pick == 8) v = rng_below(&r, 256);
        else v = ~0ull;
        memcpy(m + i, &v, 8);
    }
}

static void print_stats(const GenStats *st)
{
    printf("generated (not counting setups), by handler:\n");
    int col = 0;
    for (int id = 0; id < INSN_COUNT; id++) {
        if (!st->by_id[id])
            continue;
        printf("  %-14s %8" PRIu64 "%s", insn_name(id), st->by_id[id],
               ++col % 4 == 0 ? "\n" : "");
    }
    printf("%srejected faults by vector:", col % 4 ? "\n" : "");
    for (int v = 0; v < 32; v++)
        if (st->fault_by_vector[v])
            printf(" #%d: %" PRIu64, v, st->fault_by_vector[v]);
    printf("\n");
    for (int v = 0; v < 32; v++) {
        if (!st->fault_by_vector[v])
            continue;
        printf("  #%d from:", v);
        for (int id = 0; id < INSN_COUNT; id++)
            if (st->fault_by_id[v][id])
                printf(" %s %" PRIu64, insn_name(id), st->fault_by_id[v][id]);
        printf("\n");
    }
}

/* Run a generated program whole on both sides and compare. */
static bool run_program(VireoBox *vb, UcBox *ub, const Program *p,
                        const uint8_t *master, char *why, size_t why_len)
{
    const Layout *lay = vb->lay;
    ArchState vs, us;
    vbox_set_gen_mode(vb, false);
    vbox_load(vb, &p->init, master);
    uint64_t limit = vb->cpu.s.icount + p->vireo_icount + (p->end_vector >= 0);
    cpu_exec(&vb->cpu, limit);
    vbox_save(vb, &vs);
    ucbox_load(ub, &p->init, master, p->code, p->len);
    ucbox_run_to(ub, lay->prog_ip + p->len, p->vireo_icount * 2 + 100, &us);
    bool ok = run_compare(vb, ub, &vs, &us, p->final_undef, why, why_len);
    /* Vireo running whole blocks must end where single-stepping did. */
    uint64_t end = lay->prog_ip + p->len;
    if (ok && (vs.vector != p->end_vector || (vs.vector < 0 && vs.rip != end))) {
        snprintf(why, why_len,
                 "vireo ends at %#" PRIx64 " (vector %d) running blocks, "
                 "at %#" PRIx64 " (vector %d) single-stepping",
                 vs.rip, vs.vector, end, p->end_vector);
        ok = false;
    }
    return ok;
}

int main(int argc, char **argv)
{
    Options o;
    parse_options(argc, argv, &o);
    const Layout *lay = layout_for(o.mode);

    CpuFeatures features;
    char feature_desc[256];
    uc_probe_features(&features, feature_desc, sizeof(feature_desc));
    printf("diff_unicorn: mode %s, seed %" PRIu64 ", unicorn features: %s\n",
           lay->name, o.seed, feature_desc);

    UcBox *ub = ucbox_new(lay);
    UcBox *probe = ucbox_new_probe(lay);
    uint16_t sel[SEG_COUNT];
    ucbox_selectors(ub, sel);
    static VireoBox vb;
    vbox_init(&vb, lay, &features, sel);
    gen_init(lay, &features);
    if (o.jitcheck)
        log_mask |= LOG_JITCHECK;
    if (o.jit && !(vb.jit = jit_new(&vb.cpu, jit_backend_default(), 1)))
        return 2;

    uint8_t *master = malloc(lay->data_size);
    Program *p = malloc(sizeof(*p));
    if (!master || !p)
        return 2;
    fill_master(lay, o.seed, master);

    static GenStats stats;   /* large: counts by handler and vector */
    uint64_t passed = 0, failed = 0, insns = 0, exceptions = 0;
    unsigned empty_in_a_row = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t first = o.program >= 0 ? (uint64_t)o.program : 0;
    for (uint64_t index = first;; index++) {
        if (o.program >= 0 ? index > (uint64_t)o.program
                           : insns >= o.count && (!o.jitcheck ||
                                                  vb.jit->stats.checked >= o.jitcheck))
            break;
        if (!gen_program(&vb, probe, master, o.seed, index, p, &stats)) {
            if (++empty_in_a_row > 1000) {
                fprintf(stderr, "diff_unicorn: the generator produces nothing\n");
                return 2;
            }
            continue;
        }
        empty_in_a_row = 0;
        if (!gen_validate(&vb, master, p)) {
            stats.discarded++;
            if (o.verbose)
                printf("program %" PRIu64 ": discarded (reads its own code)\n", index);
            continue;
        }
        char why[512] = "";
        bool ok = run_program(&vb, ub, p, master, why, sizeof(why));
        if (p->gen_failures) {
            failed++;   /* reported while generating */
            insns += p->insns;
            continue;
        }
        insns += p->insns;
        exceptions += p->end_vector >= 0;
        if (o.trace)
            trace_program(&vb, ub, p, master);
        if (o.verbose) {
            print_program(lay, p);
            print_state(lay, "initial", &p->init);
            printf("  result: %s%s\n", ok ? "same" : "DIFFERENT: ", why);
        }
        if (ok) {
            passed++;
            continue;
        }
        failed++;
        if (failed <= o.max_reports)
            report_failure(&vb, ub, p, master, o.seed, why);
        else
            printf("FAIL seed=%" PRIu64 " mode=%s program=%" PRIu64 ": %s\n",
                   o.seed, lay->name, index, why);
        fflush(stdout);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    uint64_t skipped = stats.rej_invalid + stats.rej_excluded + stats.rej_memory +
                       stats.rej_fault + stats.rej_flags + stats.rej_undefined;
    printf("instructions: %" PRIu64 " (mode %s), programs ending in an exception: %"
           PRIu64 ", programs discarded: %" PRIu64 ", setup moves: %" PRIu64
           ", skipped: %" PRIu64
           " candidates (invalid %" PRIu64 ", excluded %" PRIu64 ", memory %" PRIu64
           ", fault %" PRIu64 ", undefined flags read %" PRIu64
           ", undefined result %" PRIu64 "), %.1f s\n",
           insns, lay->name, exceptions, stats.discarded, stats.setups, skipped, stats.rej_invalid,
           stats.rej_excluded, stats.rej_memory, stats.rej_fault, stats.rej_flags,
           stats.rej_undefined, secs);
    if (o.stats)
        print_stats(&stats);
    if (vb.jit) {
        const JitStats *js = &vb.jit->stats;
        printf("jit (%s): %" PRIu64 " blocks translated, %" PRIu64
               " entered, %" PRIu64 " checked against the interpreter\n",
               vb.jit->backend->name, js->translated, js->entered, js->checked);
        if (js->checked < o.jitcheck) {
            printf("jitcheck: only %" PRIu64 " blocks checked, %" PRIu64 " wanted\n",
                   js->checked, o.jitcheck);
            failed++;
        }
        vb.cpu.jit = vb.jit;
        jit_free(vb.jit);
    }
    printf("%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
    ucbox_free(ub);
    ucbox_free(probe);
    vbox_destroy(&vb);
    free(master);
    free(p);
    return failed ? 1 : 0;
}

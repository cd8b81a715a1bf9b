/* The harnesses' driver: options, the main loop, tallies and the summary.
 *
 *   PROG [--count N] [--seed S] [--max-reports R] [--only NAME]
 *        [--vireo-only] [--no-unicorn] [--show-masked] [--without RULE]
 *        [--trace] [the harness's own: --NAME N ...]
 *
 * Runs N tests.  Each draws an instruction (--only: templates whose name
 * starts with NAME) and its input, runs it on Vireo, hashes Vireo's result
 * into the digest, then runs it on the host CPU and on Unicorn (on x86-64
 * hosts, unless --vireo-only or --no-unicorn) and compares each with
 * Vireo's.  A difference from Unicorn where the host agrees with Vireo is
 * masked if one of the harness's rules (its known Unicorn deviations)
 * explains it, and counted by rule; --show-masked reports those cases
 * too, --without leaves one rule out (to see that it is needed).  A
 * difference from the host is never masked.  --trace prints
 * Vireo's result of every test, to find where two builds part.
 *
 * The sequence of tests depends only on the seed, so the digest is the
 * same on every host.  Ends with "N passed, M failed", counting tests: a
 * test fails if Vireo differs from the host, or from Unicorn in a way no
 * rule explains.
 */
#include "tests/diff/hostlib/hostlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t rng_next(Rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t hl_fnv(uint64_t h, const uint8_t *p, size_t n, const uint8_t *mask)
{
    for (size_t i = 0; i < n; i++) {
        h ^= !mask || mask[i] ? p[i] : 0;
        h *= 0x100000001b3ull;
    }
    return h;
}

const char *hl_side_name(int side)
{
    return side == HL_VIREO ? "vireo" : side == HL_HOST ? "host" : "unicorn";
}

/* ---- options ---------------------------------------------------------------- */

typedef struct Options {
    unsigned long count, max_reports;
    uint64_t seed;
    const char *only, *without;
    bool vireo_only, no_unicorn, show_masked, trace;
} Options;

static int usage(const char *argv0, const Harness *h)
{
    fprintf(stderr, "usage: %s [--count N] [--seed S] [--max-reports R] [--only NAME]\n"
            "       [--vireo-only] [--no-unicorn] [--show-masked] [--without RULE] [--trace]",
            argv0);
    for (const HlOption *o = h->options; o && o->name; o++)
        fprintf(stderr, " [--%s N]", o->name);
    fprintf(stderr, "\n");
    return -1;
}

/* Its own option of the harness: true if argv[*i] was one. */
static bool harness_option(const Harness *h, int argc, char **argv, int *i)
{
    for (const HlOption *o = h->options; o && o->name; o++) {
        if (!strncmp(argv[*i], "--", 2) && !strcmp(argv[*i] + 2, o->name) &&
            *i + 1 < argc) {
            *o->value = strtoul(argv[++*i], NULL, 0);
            return true;
        }
    }
    return false;
}

static int parse(int argc, char **argv, const Harness *h, Options *o)
{
    *o = (Options){ .count = 100000, .max_reports = 10, .seed = 1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool arg = i + 1 < argc;
        if (!strcmp(a, "--count") && arg)
            o->count = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(a, "--seed") && arg)
            o->seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(a, "--max-reports") && arg)
            o->max_reports = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(a, "--only") && arg)
            o->only = argv[++i];
        else if (!strcmp(a, "--without") && arg)
            o->without = argv[++i];
        else if (!strcmp(a, "--vireo-only"))
            o->vireo_only = true;
        else if (!strcmp(a, "--no-unicorn"))
            o->no_unicorn = true;
        else if (!strcmp(a, "--show-masked"))
            o->show_masked = true;
        else if (!strcmp(a, "--trace"))
            o->trace = true;
        else if (!harness_option(h, argc, argv, &i))
            return usage(argv[0], h);
    }
    return 0;
}

/* ---- tallies ----------------------------------------------------------------- */

enum { T_EQUAL, T_TOLERATED, T_MASKED, T_FAILED, T_KINDS };
enum { MAX_TOLERANCES = 8 };

/* What the comparisons with one reference side found. */
typedef struct SideTally {
    unsigned long *per_tmpl[T_KINDS];
    unsigned long total[T_KINDS];
    unsigned long tolerance[MAX_TOLERANCES];
} SideTally;

typedef struct Run {
    const Harness *h;
    Options opt;
    unsigned ntmpl;
    unsigned long *faulted;          /* Vireo raised an exception, per template */
    SideTally side[2];               /* host, unicorn */
    unsigned long *rule_hits;        /* per Unicorn rule */
    uint8_t *scratch;                /* a copy of Unicorn's output */
    unsigned long reports;
} Run;

static unsigned long *counters(unsigned n)
{
    unsigned long *p = calloc(n ? n : 1, sizeof(*p));
    if (!p) {
        fprintf(stderr, "diff: out of memory\n");
        exit(2);
    }
    return p;
}

/* Report a difference; masked: the rules that explained it. */
static void report(Run *run, const HlCase *c, uint64_t masked)
{
    if (run->reports++ >= run->opt.max_reports)
        return;
    char name[96];
    printf("MISMATCH #%lu vs %s: %s", c->n, hl_side_name(c->side),
           run->h->name(c->tmpl, name, sizeof(name)));
    for (unsigned i = 0; run->h->uc_rules[i].name; i++)
        if ((masked >> i) & 1)
            printf("  [masked: %s]", run->h->uc_rules[i].name);
    printf("\n");
    run->h->report(c);
}

/* Is rule i applied (not left out with --without)? */
static bool in_use(const Run *run, unsigned i)
{
    return !run->opt.without || strcmp(run->opt.without, run->h->uc_rules[i].name);
}

/* Apply the rules to a Unicorn difference (see HlUcRule): true if they
 * explain it, *used the rules that changed something. */
static bool explained(Run *run, const HlCase *c, uint64_t *used)
{
    const Harness *h = run->h;
    uint8_t *u = run->scratch;
    memcpy(u, c->ref, h->ctx_size);
    HlCase m = *c;
    m.ref = u;
    *used = 0;
    for (unsigned i = 0; h->uc_rules[i].name; i++)
        if (h->uc_rules[i].mask && in_use(run, i) && h->uc_rules[i].mask(&m, u, &m.rvec))
            *used |= 1ull << i;
    return h->compare(&m) >= 0;
}

/* The rule that keeps this test from Unicorn, or -1. */
static int skipping_rule(const Run *run, const HlCase *c)
{
    const HlUcRule *rules = run->h->uc_rules;
    for (unsigned i = 0; rules[i].name; i++)
        if (rules[i].skip && in_use(run, i) && rules[i].skip(c))
            return (int)i;
    return -1;
}

/* Count a test kept from Unicorn by `rule` (only where the host agrees). */
static void skipped(Run *run, const HlCase *c, int rule, bool host_agrees)
{
    if (!host_agrees)
        return;
    run->side[1].per_tmpl[T_MASKED][c->tmpl]++;
    run->side[1].total[T_MASKED]++;
    run->rule_hits[rule]++;
}

/* Compare with one reference; host_agrees: the host matched Vireo (only
 * then may a Unicorn difference be masked).  Returns false on a failure. */
static bool judge(Run *run, HlCase *c, bool host_agrees)
{
    SideTally *t = &run->side[c->side == HL_UNICORN];
    int verdict = run->h->compare(c);
    int kind = verdict == 0 ? T_EQUAL : verdict > 0 ? T_TOLERATED : T_FAILED;
    uint64_t used = 0;
    if (verdict > 0)
        t->tolerance[verdict - 1]++;
    if (kind == T_FAILED && c->side == HL_UNICORN && host_agrees &&
        explained(run, c, &used)) {
        kind = T_MASKED;
        for (unsigned i = 0; run->h->uc_rules[i].name; i++)
            run->rule_hits[i] += (used >> i) & 1;
    }
    t->per_tmpl[kind][c->tmpl]++;
    t->total[kind]++;
    if (kind == T_FAILED || (kind == T_MASKED && run->opt.show_masked))
        report(run, c, kind == T_MASKED ? used : 0);
    return kind != T_FAILED;
}

/* ---- the summary --------------------------------------------------------------- */

static void print_templates(const Run *run, bool host, bool uc)
{
    const SideTally *hs = &run->side[0], *us = &run->side[1];
    printf("per template: Vireo faulted%s%s\n",
           host ? " | vs host: equal tolerated failed" : "",
           uc ? " | vs unicorn: equal tolerated masked failed" : "");
    char name[96];
    for (unsigned t = 0; t < run->ntmpl; t++) {
        unsigned long any = run->faulted[t];
        for (int k = 0; k < T_KINDS; k++)
            any += hs->per_tmpl[k][t] + us->per_tmpl[k][t];
        if (!any)
            continue;
        printf("  %-40s %6lu", run->h->name(t, name, sizeof(name)), run->faulted[t]);
        if (host)
            printf(" | %7lu %5lu %5lu", hs->per_tmpl[T_EQUAL][t],
                   hs->per_tmpl[T_TOLERATED][t], hs->per_tmpl[T_FAILED][t]);
        if (uc)
            printf(" | %7lu %5lu %6lu %5lu", us->per_tmpl[T_EQUAL][t],
                   us->per_tmpl[T_TOLERATED][t], us->per_tmpl[T_MASKED][t],
                   us->per_tmpl[T_FAILED][t]);
        bool failed = hs->per_tmpl[T_FAILED][t] || us->per_tmpl[T_FAILED][t];
        printf("%s\n", failed ? "  <--" : "");
    }
}

static void print_side(const Run *run, int side)
{
    const SideTally *t = &run->side[side == HL_UNICORN];
    printf("vs %-8s %lu equal, %lu tolerated", hl_side_name(side), t->total[T_EQUAL],
           t->total[T_TOLERATED]);
    const char *const *tol = run->h->tolerances;
    for (unsigned k = 0; tol && tol[k]; k++)
        printf("%s%s %lu", k ? ", " : " (", tol[k], t->tolerance[k]);
    if (tol && tol[0])
        printf(")");
    if (side == HL_UNICORN)
        printf(", %lu masked", t->total[T_MASKED]);
    printf(", %lu failed\n", t->total[T_FAILED]);
}

static void print_rules(const Run *run)
{
    printf("unicorn differences masked (the host agreeing with Vireo), by known deviation:\n");
    for (unsigned i = 0; run->h->uc_rules[i].name; i++)
        printf("  %-36s %8lu\n", run->h->uc_rules[i].name, run->rule_hits[i]);
}

/* ---- main ------------------------------------------------------------------------ */

static void tally_init(Run *run)
{
    run->faulted = counters(run->ntmpl);
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < T_KINDS; k++)
            run->side[s].per_tmpl[k] = counters(run->ntmpl);
    unsigned rules = 0;
    while (run->h->uc_rules[rules].name)
        rules++;
    if (rules > 64) {
        fprintf(stderr, "diff: more than 64 Unicorn rules\n");
        exit(2);
    }
    run->rule_hits = counters(rules);
    run->scratch = malloc(run->h->ctx_size);
    if (!run->scratch)
        exit(2);
}

static unsigned draw(const Harness *h, const Options *o, Rng *rng)
{
    char name[96];
    for (;;) {
        unsigned t = h->draw_insn(rng);
        if (!o->only || !strncmp(h->name(t, name, sizeof(name)), o->only, strlen(o->only)))
            return t;
    }
}

static int init_sides(const Harness *h, bool host, bool uc)
{
    if (hl_vireo_init(h->layout) || (uc && hl_uc_init(h->layout)))
        return -1;
    return host && !hl_native_init(h->host_base, h->host_size) ? -1 : 0;
}

int main(int argc, char **argv)
{
    const Harness *h = &harness;
    Run run = { .h = h };
    if (parse(argc, argv, h, &run.opt))
        return 2;
    const Options *o = &run.opt;
    bool host = !o->vireo_only && hl_native_available();
    bool uc = host && !o->no_unicorn && hl_uc_available();
    run.ntmpl = h->init();
    if (!run.ntmpl || init_sides(h, host, uc))
        return 2;
    tally_init(&run);
    uint8_t *in = calloc(1, h->ctx_size), *v = malloc(h->ctx_size), *ref = malloc(h->ctx_size);
    if (!in || !v || !ref) {
        fprintf(stderr, "%s: out of memory\n", h->prog);
        return 2;
    }
    Rng rng = { o->seed * 0x2545f4914f6cdd1dull + h->salt };
    uint64_t digest = 0xcbf29ce484222325ull;
    unsigned long failed = 0, done = 0;
    while (done < o->count) {
        HlCase c = { .tmpl = draw(h, o, &rng), .in = in, .v = v, .ref = ref };
        h->draw_state(&rng, in);
        memcpy(v, in, h->ctx_size);
        c.vvec = h->run(HL_VIREO, v);
        digest = h->digest(digest, v, c.vvec);
        c.n = ++done;
        if (c.vvec >= 0)
            run.faulted[c.tmpl]++;
        if (o->trace)
            h->trace(&c);
        bool host_agrees = false, ok = true;
        for (int side = HL_HOST; side <= HL_UNICORN; side++) {
            if (!(side == HL_HOST ? host : uc))
                continue;
            int skip = side == HL_UNICORN ? skipping_rule(&run, &c) : -1;
            if (skip >= 0) {
                skipped(&run, &c, skip, host_agrees);
                continue;
            }
            memcpy(ref, in, h->ctx_size);
            c.side = side;
            c.rvec = h->run(side, ref);
            bool same = judge(&run, &c, host_agrees);
            host_agrees = side == HL_HOST && same;
            ok &= same;
        }
        failed += !ok;
        if (h->after)
            h->after(in, v, c.vvec);
    }
    if (host)
        print_templates(&run, host, uc);
    printf("vireo digest: %016llx (%lu instructions, seed %llu)\n",
           (unsigned long long)digest, done, (unsigned long long)o->seed);
    if (!host) {
        printf("no host reference (%s): Vireo ran alone\n",
               o->vireo_only ? "--vireo-only" : "not an x86-64 host");
        return 0;
    }
    if (uc)
        print_rules(&run);
    print_side(&run, HL_HOST);
    if (uc)
        print_side(&run, HL_UNICORN);
    printf("%lu passed, %lu failed\n", done - failed, failed);
    return failed ? 1 : 0;
}

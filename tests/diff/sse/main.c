/* The SSE floating-point differential harness: driver, comparison, report.
 *
 *   sse_host [--count N] [--seed S] [--max-reports R] [--only NAME]
 *            [--vireo-only] [--each]
 *
 * Runs N instructions, each on a fresh random state, and compares bit for
 * bit XMM0-15, MXCSR, MM0-7, the eight GPRs, the six arithmetic flags, the
 * 256-byte memory operand area and the fault (none, #XM, #GP, #UD).  The
 * one exception is the approximations RCPPS, RCPSS, RSQRTPS and RSQRTSS,
 * whose bits the SDM leaves to the implementation (|relative error| <=
 * 1.5 * 2^-12): their result lanes must be equal, or both finite, non-zero,
 * of the same sign and within 3 * 2^-12 of each other relative to the
 * host's (each is within 1.5 * 2^-12 of the true value); everything else
 * about them (other lanes, MXCSR, faults) is compared exactly.
 *
 * Generation depends only on the seed, so the digest of Vireo's results
 * printed at the end is the same on every host: an AArch64 build, run
 * without a reference (--vireo-only, or any non-x86 host), must print the
 * digest of the x86-64 build; --each prints a hash of every input and
 * result, to find where two builds part.  Ends with "N passed, M failed".
 */
#include "tests/diff/sse/ssediff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"

/* ---- comparison ---------------------------------------------------------- */

static double f32_value(uint32_t v)
{
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static bool f32_normal(uint32_t v)
{
    unsigned e = (v >> 23) & 0xff;
    return e != 0 && e != 0xff;
}

/* An approximation lane: see the header. */
static bool approx_equal(uint32_t h, uint32_t v)
{
    if (h == v)
        return true;
    if (!f32_normal(h) || !f32_normal(v) || (h ^ v) >> 31)
        return false;
    double dh = f32_value(h), dv = f32_value(v);
    return fabs(dv - dh) <= 3.0 * ldexp(fabs(dh), -12);
}

static bool same_xmm(const SseInsn *insn, const uint8_t *h, const uint8_t *v)
{
    unsigned approx_lanes = gen_template_approx(insn->tmpl);
    if (!approx_lanes)
        return !memcmp(h + CTX_XMM_OUT, v + CTX_XMM_OUT, 256);
    for (unsigned i = 0; i < 16; i++) {
        for (unsigned lane = 0; lane < 4; lane++) {
            unsigned off = CTX_XMM_OUT + 16 * i + 4 * lane;
            uint32_t hv = (uint32_t)get_le(h + off, 4), vv = (uint32_t)get_le(v + off, 4);
            bool approx = i == insn->reg && (lane == 0 || approx_lanes == 1);
            if (approx ? !approx_equal(hv, vv) : hv != vv)
                return false;
        }
    }
    return true;
}

static bool same(const SseInsn *insn, const uint8_t *h, int hvec, const uint8_t *v,
                 int vvec)
{
    return hvec == vvec && same_xmm(insn, h, v) &&
           !memcmp(h + CTX_MM_OUT, v + CTX_MM_OUT, 64) &&
           !memcmp(h + CTX_GPR_OUT, v + CTX_GPR_OUT, 8 * NGPR) &&
           get_le(h + CTX_MXCSR_OUT, 4) == get_le(v + CTX_MXCSR_OUT, 4) &&
           ((get_le(h + CTX_FLAGS_OUT, 8) ^ get_le(v + CTX_FLAGS_OUT, 8)) & 0x8d5) == 0 &&
           !memcmp(h + CTX_MEM, v + CTX_MEM, CTX_MEM_SIZE);
}

/* ---- reporting ----------------------------------------------------------- */

static void print_xmm(const char *what, const uint8_t *p)
{
    printf("%s %016llx:%016llx", what, (unsigned long long)get_le(p + 8, 8),
           (unsigned long long)get_le(p, 8));
}

static void report(unsigned long n, const SseInsn *insn, const uint8_t *in,
                   const uint8_t *h, int hvec, const uint8_t *v, int vvec)
{
    char name[64];
    printf("MISMATCH #%lu: %s  bytes", n,
           gen_template_name(insn->tmpl, name, sizeof(name)));
    for (unsigned i = 0; i < insn->len; i++)
        printf(" %02x", insn->bytes[i]);
    printf("  (reg %u, rm %u%s, imm %02x)\n", insn->reg, insn->rm,
           insn->mem ? " = memory" : "", insn->imm);
    printf("  mxcsr in %08llx  host %08llx  vireo %08llx;  fault host %d vireo %d\n",
           (unsigned long long)get_le(in + CTX_MXCSR_IN, 4),
           (unsigned long long)get_le(h + CTX_MXCSR_OUT, 4),
           (unsigned long long)get_le(v + CTX_MXCSR_OUT, 4), hvec, vvec);
    for (unsigned i = 0; i < 16; i++) {
        unsigned off = 16 * i;
        bool differs = memcmp(h + CTX_XMM_OUT + off, v + CTX_XMM_OUT + off, 16) != 0;
        if (!differs && i != insn->reg && i != insn->rm)
            continue;
        printf("  xmm%-2u", i);
        print_xmm(" in", in + CTX_XMM_IN + off);
        print_xmm("  host", h + CTX_XMM_OUT + off);
        print_xmm("  vireo", v + CTX_XMM_OUT + off);
        printf("%s\n", differs ? "  <--" : "");
    }
    if (insn->mem) {
        printf("  mem in   ");
        print_xmm("", in + CTX_MEM + insn->mem_off);
        printf("\n");
    }
    for (int i = 0; i < CTX_MEM_SIZE; i += 16) {
        if (memcmp(h + CTX_MEM + i, v + CTX_MEM + i, 16)) {
            printf("  mem +%02x", i);
            print_xmm(" host", h + CTX_MEM + i);
            print_xmm("  vireo", v + CTX_MEM + i);
            printf("\n");
        }
    }
    for (int i = 0; i < 8; i++) {
        uint64_t a = get_le(h + CTX_MM_OUT + 8 * i, 8), b = get_le(v + CTX_MM_OUT + 8 * i, 8);
        if (a != b || insn->reg == i || insn->rm == i)
            printf("  mm%d in %016llx host %016llx vireo %016llx%s\n", i,
                   (unsigned long long)get_le(in + CTX_MM_IN + 8 * i, 8),
                   (unsigned long long)a, (unsigned long long)b, a != b ? "  <--" : "");
    }
    for (int i = 0; i < NGPR; i++) {
        uint64_t a = get_le(h + CTX_GPR_OUT + 8 * i, 8), b = get_le(v + CTX_GPR_OUT + 8 * i, 8);
        if (a != b || insn->reg == gpr_numbers[i] || insn->rm == gpr_numbers[i])
            printf("  gpr%d in %016llx host %016llx vireo %016llx%s\n", gpr_numbers[i],
                   (unsigned long long)get_le(in + CTX_GPR_IN + 8 * i, 8),
                   (unsigned long long)a, (unsigned long long)b, a != b ? "  <--" : "");
    }
    printf("  flags in %03llx host %03llx vireo %03llx\n",
           (unsigned long long)(get_le(in + CTX_FLAGS_IN, 8) & 0x8d5),
           (unsigned long long)(get_le(h + CTX_FLAGS_OUT, 8) & 0x8d5),
           (unsigned long long)(get_le(v + CTX_FLAGS_OUT, 8) & 0x8d5));
}

/* ---- main ---------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t digest_result(uint64_t h, const uint8_t *v, int vector)
{
    uint8_t flags[2];
    put_le(flags, get_le(v + CTX_FLAGS_OUT, 8) & 0x8d5, 2);
    h = fnv(h, v + CTX_XMM_OUT, 256);
    h = fnv(h, v + CTX_MM_OUT, 64);
    h = fnv(h, v + CTX_GPR_OUT, 8 * NGPR);
    h = fnv(h, v + CTX_MXCSR_OUT, 4);
    h = fnv(h, flags, 2);
    h = fnv(h, v + CTX_MEM, CTX_MEM_SIZE);
    return h ^ (uint64_t)(vector + 1);
}

int main(int argc, char **argv)
{
    unsigned long count = 100000, max_reports = 10;
    uint64_t seed = 1;
    bool vireo_only = false, each = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--max-reports") && i + 1 < argc)
            max_reports = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--vireo-only"))
            vireo_only = true;
        else if (!strcmp(argv[i], "--each"))
            each = true;
        else {
            fprintf(stderr, "usage: %s [--count N] [--seed S] [--max-reports R] "
                    "[--only NAME] [--vireo-only] [--each]\n", argv[0]);
            return 2;
        }
    }
    bool compare = !vireo_only && host_available();
    unsigned nt = gen_init();
    if (host_init() || vireo_init())
        return 2;
    unsigned long *pass = calloc(nt, sizeof(*pass)), *fail = calloc(nt, sizeof(*fail));
    unsigned long *faults = calloc(nt, sizeof(*faults));
    uint8_t *ctx = aligned_alloc(4096, CTX_SIZE), *hctx = aligned_alloc(4096, CTX_SIZE);
    uint8_t *vctx = aligned_alloc(4096, CTX_SIZE);
    if (!pass || !fail || !faults || !ctx || !hctx || !vctx) {
        fprintf(stderr, "sse_host: out of memory\n");
        return 2;
    }
    Rng rng = { seed * 0x2545f4914f6cdd1dull + 7 };
    uint64_t digest = 0xcbf29ce484222325ull;
    unsigned long passed = 0, failed = 0, reports = 0, done = 0;
    SseInsn insn;
    uint8_t code[1024];
    char name[64];
    while (done < count) {
        gen_insn(&rng, &insn);
        if (only && strncmp(gen_template_name(insn.tmpl, name, sizeof(name)),
                            only, strlen(only)))
            continue;
        gen_context(&rng, &insn, ctx);
        memcpy(vctx, ctx, CTX_SIZE);
        int vvec = vireo_run(&insn, vctx);
        digest = digest_result(digest, vctx, vvec);
        done++;
        if (each)
            printf("%lu %s %016llx %016llx\n", done,
                   gen_template_name(insn.tmpl, name, sizeof(name)),
                   (unsigned long long)fnv(0, ctx, CTX_SIZE),
                   (unsigned long long)digest_result(0, vctx, vvec));
        if (vvec >= 0)
            faults[insn.tmpl]++;
        if (!compare)
            continue;
        size_t insn_off, len = gen_stub(&insn, code, &insn_off);
        memcpy(hctx, ctx, CTX_SIZE);
        int hvec = host_run(code, len, insn_off, hctx);
        if (same(&insn, hctx, hvec, vctx, vvec)) {
            passed++;
            pass[insn.tmpl]++;
        } else {
            failed++;
            fail[insn.tmpl]++;
            if (reports++ < max_reports)
                report(done, &insn, ctx, hctx, hvec, vctx, vvec);
        }
    }
    printf("per instruction (passed/failed, of which faulted):\n");
    for (unsigned t = 0; t < nt; t++) {
        if (!pass[t] && !fail[t] && !faults[t])
            continue;
        printf("  %-28s %7lu %7lu %7lu%s%s\n", gen_template_name(t, name, sizeof(name)),
               pass[t], fail[t], faults[t], gen_template_approx(t) ? "  (approx)" : "",
               fail[t] ? "  <--" : "");
    }
    printf("vireo digest: %016llx (%lu instructions, seed %llu)\n",
           (unsigned long long)digest, done, (unsigned long long)seed);
    free(pass);
    free(fail);
    free(faults);
    free(ctx);
    free(hctx);
    free(vctx);
    if (!compare) {
        printf("no host reference (%s): Vireo ran alone\n",
               host_available() ? "--vireo-only" : "not an x86-64 host");
        return 0;
    }
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}

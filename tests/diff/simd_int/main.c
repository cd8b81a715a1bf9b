/* The MMX / SSE integer differential harness: driver, comparison, report.
 *
 *   simd_int_host [--count N] [--seed S] [--max-reports R] [--only NAME]
 *                 [--vireo-only]
 *
 * Runs N instructions, each on a fresh random state, and compares bit for
 * bit: the exception vector; without one, the FXSAVE image (FCW, FSW with
 * TOP, the abridged tags, the eight 80-bit registers that hold MM0-MM7,
 * MXCSR, XMM0-15), all sixteen GPRs, the arithmetic flags and the 4 KiB
 * data page the memory operands live in; with one, the data page, and that
 * Vireo left its registers as they were (faults are restartable).
 * Masked, with the reason: FOP/FIP/FDP (stub addresses; AMD stores them
 * only with an exception pending), MXCSR_MASK and the reserved bytes of the
 * image, which FXSAVE and Vireo's image writer need not agree on.
 *
 * Vireo's results depend only on the seed, so the digest printed at the
 * end is the same on every host: an AArch64 build, which has no host
 * reference and runs Vireo alone, must print the x86-64 digest.
 * Ends with "N passed, M failed", counting instructions.
 */
#include "tests/diff/simd_int/simddiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"

static uint8_t fx_mask[512];

static void init_masks(void)
{
    memset(fx_mask, 0, sizeof(fx_mask));
    memset(fx_mask, 1, 5);                      /* FCW, FSW, FTW */
    memset(fx_mask + 24, 1, 4);                 /* MXCSR */
    for (int i = 0; i < 8; i++)
        memset(fx_mask + 32 + 16 * i, 1, 10);   /* ST(i) / MMi */
    memset(fx_mask + 160, 1, 256);              /* XMM0-15 */
}

static bool same_fx(const uint8_t *a, const uint8_t *b)
{
    for (int i = 0; i < 512; i++) {
        if (fx_mask[i] && a[i] != b[i])
            return false;
    }
    return true;
}

enum { FLAGS_CMP = 0x8d5 };

/* Compare two result regions; `faulted`: only what a fault may change. */
static bool same_result(const uint8_t *h, const uint8_t *v, bool faulted)
{
    if (memcmp(h + OFF_DATA, v + OFF_DATA, 0x1000))
        return false;
    if (faulted)
        return true;
    const uint8_t *hc = h + OFF_CTX, *vc = v + OFF_CTX;
    return same_fx(hc + CTX_FX_OUT, vc + CTX_FX_OUT) &&
           !memcmp(hc + CTX_GPR_OUT, vc + CTX_GPR_OUT, 128) &&
           ((get_le(hc + CTX_FLAGS_OUT, 8) ^ get_le(vc + CTX_FLAGS_OUT, 8)) & FLAGS_CMP) == 0;
}

/* After a fault Vireo's state must be its input. */
static bool unchanged(const uint8_t *v)
{
    const uint8_t *c = v + OFF_CTX;
    uint8_t gpr_in[128];
    memcpy(gpr_in, c + CTX_GPR_IN, 128);
    put_le(gpr_in + 8 * 4, SIMD_BASE + STACK_TOP, 8);
    return same_fx(c + CTX_FX_IN, c + CTX_FX_OUT) &&
           !memcmp(gpr_in, c + CTX_GPR_OUT, 128) &&
           ((get_le(c + CTX_FLAGS_IN, 8) ^ get_le(c + CTX_FLAGS_OUT, 8)) & FLAGS_CMP) == 0;
}

/* ---- reporting ---------------------------------------------------------------- */

static void hex(const char *label, const uint8_t *p, unsigned n)
{
    printf("%s", label);
    for (unsigned i = n; i-- > 0;)
        printf("%02x", p[i]);
    printf("\n");
}

static void report(unsigned long n, const SimdInsn *insn, const uint8_t *in,
                   const uint8_t *h, int hv, const uint8_t *v, int vv)
{
    char name[96];
    printf("MISMATCH #%lu: %s  bytes", n, gen_template_name(insn->tmpl, name, sizeof(name)));
    for (unsigned i = 0; i < insn->len; i++)
        printf(" %02x", insn->bytes[i]);
    printf("\n  exception: host %d vireo %d\n", hv, vv);
    const uint8_t *ic = in + OFF_CTX, *hc = h + OFF_CTX, *vc = v + OFF_CTX;
    unsigned top = (get_le(ic + CTX_FX_IN + 2, 2) >> 11) & 7;
    printf("  in: fcw %04llx fsw %04llx ftw %02x (top %u) flags %03llx\n",
           (unsigned long long)get_le(ic + CTX_FX_IN, 2),
           (unsigned long long)get_le(ic + CTX_FX_IN + 2, 2), ic[CTX_FX_IN + 4], top,
           (unsigned long long)get_le(ic + CTX_FLAGS_IN, 8));
    for (unsigned i = 0; i < 8; i++) {
        char l[32];
        snprintf(l, sizeof(l), "    in  mm%u    ", i);
        hex(l, ic + CTX_FX_IN + 32 + 16 * ((i - top) & 7), 10);
    }
    for (unsigned i = 0; i < 16; i++) {
        char l[32];
        snprintf(l, sizeof(l), "    in  xmm%-2u  ", i);
        hex(l, ic + CTX_FX_IN + 160 + 16 * i, 16);
    }
    for (unsigned i = 0; i < 16; i++)
        printf("    in  gpr%-2u  %016llx\n", i, (unsigned long long)get_le(ic + CTX_GPR_IN + 8 * i, 8));
    if (insn->mem)
        hex("    in  mem    ", in + OFF_DATA + insn->mem_off, 16);
    for (unsigned row = 0; row < 32; row++) {
        const uint8_t *hp = hc + CTX_FX_OUT + 16 * row, *vp = vc + CTX_FX_OUT + 16 * row;
        bool diff = false;
        for (int k = 0; k < 16; k++)
            diff |= fx_mask[16 * row + k] && hp[k] != vp[k];
        if (diff) {
            printf("  fxsave row %u (bytes %u-%u) differs:\n", row, 16 * row, 16 * row + 15);
            hex("    host  ", hp, 16);
            hex("    vireo ", vp, 16);
        }
    }
    for (unsigned i = 0; i < 16; i++) {
        uint64_t a = get_le(hc + CTX_GPR_OUT + 8 * i, 8), b = get_le(vc + CTX_GPR_OUT + 8 * i, 8);
        if (a != b)
            printf("  gpr%u: host %016llx vireo %016llx\n", i, (unsigned long long)a,
                   (unsigned long long)b);
    }
    printf("  flags: host %03llx vireo %03llx\n",
           (unsigned long long)(get_le(hc + CTX_FLAGS_OUT, 8) & FLAGS_CMP),
           (unsigned long long)(get_le(vc + CTX_FLAGS_OUT, 8) & FLAGS_CMP));
    for (unsigned i = 0; i < 0x1000; i += 16) {
        if (memcmp(h + OFF_DATA + i, v + OFF_DATA + i, 16)) {
            printf("  data +%03x differs:\n", i);
            hex("    host  ", h + OFF_DATA + i, 16);
            hex("    vireo ", v + OFF_DATA + i, 16);
            break;
        }
    }
}

/* ---- main ------------------------------------------------------------------------ */

static uint64_t fnv(uint64_t hsh, const uint8_t *p, size_t n, const uint8_t *mask)
{
    for (size_t i = 0; i < n; i++) {
        hsh ^= !mask || mask[i] ? p[i] : 0;
        hsh *= 0x100000001b3ull;
    }
    return hsh;
}

int main(int argc, char **argv)
{
    unsigned long count = 100000, max_reports = 10;
    uint64_t seed = 1;
    bool vireo_only = false;
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
        else {
            fprintf(stderr, "usage: %s [--count N] [--seed S] [--max-reports R] "
                    "[--only NAME] [--vireo-only]\n", argv[0]);
            return 2;
        }
    }
    bool compare = !vireo_only && host_available();
    unsigned nt = gen_init();
    init_masks();
    if ((compare && host_init()) || vireo_init())
        return 2;
    unsigned long *pass = calloc(nt, sizeof(*pass)), *fail = calloc(nt, sizeof(*fail));
    unsigned long *faults = calloc(nt, sizeof(*faults));
    uint8_t *in = malloc(SIMD_SIZE), *h = malloc(SIMD_SIZE), *v = malloc(SIMD_SIZE);
    if (!pass || !fail || !faults || !in || !h || !v) {
        fprintf(stderr, "simd_int_host: out of memory\n");
        return 2;
    }
    Rng rng = { seed * 0x2545f4914f6cdd1dull + 7 };
    uint64_t digest = 0xcbf29ce484222325ull;
    unsigned long passed = 0, failed = 0, reports = 0, done = 0;
    SimdInsn insn;
    uint8_t code[1024];
    char name[96];
    while (done < count) {
        gen_insn(&rng, &insn);
        if (only && strncmp(gen_template_name(insn.tmpl, name, sizeof(name)), only, strlen(only)))
            continue;
        gen_state(&rng, &insn, in);
        memcpy(v, in, SIMD_SIZE);
        int vv = vireo_run(&insn, v);
        digest = fnv(digest, v + OFF_CTX + CTX_FX_OUT, 512, fx_mask);
        digest = fnv(digest, v + OFF_CTX + CTX_GPR_OUT, 128 + 16, NULL);
        digest = fnv(digest, v + OFF_DATA, 0x1000, NULL);
        digest ^= (uint64_t)(vv + 1);
        done++;
        if (vv >= 0)
            faults[insn.tmpl]++;
        if (!compare)
            continue;
        size_t len = gen_stub(&insn, code);
        memcpy(h, in, SIMD_SIZE);
        int hv = host_run(code, len, h);
        bool same = hv == vv && same_result(h, v, hv >= 0) && (vv < 0 || unchanged(v));
        if (same) {
            passed++;
            pass[insn.tmpl]++;
        } else {
            failed++;
            fail[insn.tmpl]++;
            if (reports++ < max_reports)
                report(done, &insn, in, h, hv, v, vv);
        }
    }
    printf("per instruction form (passed / failed / of which faulted):\n");
    for (unsigned t = 0; t < nt; t++) {
        if (!pass[t] && !fail[t] && !faults[t])
            continue;
        printf("  %-44s %6lu %6lu %6lu%s\n", gen_template_name(t, name, sizeof(name)),
               pass[t], fail[t], faults[t], fail[t] ? "  <--" : "");
    }
    printf("%u instruction forms\n", nt);
    printf("vireo digest: %016llx (%lu instructions, seed %llu)\n",
           (unsigned long long)digest, done, (unsigned long long)seed);
    if (!compare) {
        printf("no host reference (%s): Vireo ran alone\n",
               host_available() ? "--vireo-only" : "not an x86-64 host");
        return 0;
    }
    printf("%lu passed, %lu failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* The x87 differential harness: driver, comparison and report.
 *
 *   x87_host [--count N] [--seed S] [--chain K] [--max-reports R]
 *            [--vireo-only] [--only NAME] [--trace]
 *
 * Runs N instructions in chains of up to K (default 4), comparing after
 * each one the whole FXSAVE image (FCW, FSW, abridged tags, ST0-7), the
 * 512-byte memory operand area, the arithmetic flags and RAX, bit for bit,
 * and Vireo's exception vector (the host raises none: the stub only runs
 * instructions that complete).  Masked, with the reason:
 *  - FOP, FIP, FCS, FDP, FDS wherever they are stored (FXSAVE bytes 6-23,
 *    the pointer words of FNSTENV/FNSAVE): they hold addresses of the
 *    stub, which differ between the sides, and AMD processors store them
 *    only while an exception is pending (AMD APM Vol. 5 FXSAVE);
 *  - MXCSR_MASK (FXSAVE bytes 28-31, which differs between processors),
 *    the reserved area after XMM15 (bytes 416-511) and the 6 reserved
 *    bytes after each ST(i);
 *  - results the SDM leaves to the implementation (see tolerated()):
 *    transcendental results (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN,
 *    FCOS, FSINCOS) that differ from the host's by one unit in the last
 *    place, with the C1 round-up bit that goes with it: Vol. 1 8.3.10
 *    promises only an error below one ulp, so the last bit depends on the
 *    algorithm (Vireo's are correctly rounded; the host's are not always);
 *    and FYL2XP1 outside |ST(0)| < 1 - sqrt(2)/2, where Vol. 2 FYL2XP1
 *    says the result is undefined.  Both are counted separately.
 * Each chain continues from Vireo's state, so the sequence of instructions
 * and operands depends only on the seed: the digest printed at the end is
 * the same on every host, which is how an AArch64 build (run without a
 * host reference, --vireo-only) is checked against the x86-64 one.
 * Ends with "N passed, M failed", counting instructions.
 */
#include "tests/diff/x87/x87diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"

static uint64_t get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool insn_is(const X87Insn *insn, int id)
{
    return insn->id == id;
}

static bool prefix66(const X87Insn *insn)
{
    return insn->bytes[0] == 0x66;
}

void compare_masks(const X87Insn *insn, uint8_t *fx, uint8_t *mem)
{
    memset(fx, 0, 512);
    memset(fx, 1, 416);
    memset(fx + 5, 0, 19);            /* reserved, FOP, FIP/FCS, FDP/FDS */
    memset(fx + 28, 0, 4);            /* MXCSR_MASK */
    for (int i = 0; i < 8; i++)
        memset(fx + 32 + 16 * i + 10, 0, 6);
    memset(mem, 1, CTX_MEM_SIZE);
    if (insn_is(insn, INSN_FNSTENV) || insn_is(insn, INSN_FNSAVE)) {
        if (prefix66(insn))
            memset(mem + 6, 0, 8);
        else
            memset(mem + 12, 0, 16);
    }
    if (insn_is(insn, INSN_FXSAVE))
        memcpy(mem, fx, CTX_MEM_SIZE);
}

/* ---- implementation-specific results ------------------------------------- */

static bool transcendental(int id)
{
    return id == INSN_F2XM1 || id == INSN_FYL2X || id == INSN_FYL2XP1 ||
           id == INSN_FPTAN || id == INSN_FPATAN || id == INSN_FSIN ||
           id == INSN_FCOS || id == INSN_FSINCOS;
}

/* Is FYL2XP1's ST(0) outside the documented domain (not a NaN)? */
static bool yl2xp1_undefined(const uint8_t *in_img)
{
    unsigned se = (unsigned)get(in_img + 40, 2), e = se & 0x7fff;
    uint64_t sig = get(in_img + 32, 8);
    if (e == 0x7fff && (sig << 1))
        return false;
    return e > 0x3ffd || (e == 0x3ffd && sig >= 0x95f619980c4336f7ull);
}

/* Order-preserving magnitude index of an 80-bit value (finite, J set). */
static bool ulp_close(const uint8_t *a, const uint8_t *b)
{
    unsigned sa = (unsigned)get(a + 8, 2), sb = (unsigned)get(b + 8, 2);
    uint64_t ma = get(a, 8), mb = get(b, 8);
    if ((sa ^ sb) & 0x8000)
        return false;
    if ((sa & 0x7fff) == 0x7fff || (sb & 0x7fff) == 0x7fff)
        return false;
    /* index = exp × 2^63 + fraction: consecutive values differ by one. */
    uint64_t ea = sa & 0x7fff, eb = sb & 0x7fff;
    unsigned __int128 ia = ((unsigned __int128)ea << 63) | (ma & ~(1ull << 63));
    unsigned __int128 ib = ((unsigned __int128)eb << 63) | (mb & ~(1ull << 63));
    unsigned __int128 d = ia > ib ? ia - ib : ib - ia;
    return d <= 1;
}

enum { TOL_NONE, TOL_ULP, TOL_UNDEFINED };

/* Which tolerance (if any) explains a mismatch: see the header. */
static int tolerated(const X87Insn *insn, const uint8_t *in, const uint8_t *h,
                     const uint8_t *v, const uint8_t *fxm)
{
    if (!transcendental(insn->id))
        return TOL_NONE;
    if (insn->id == INSN_FYL2XP1 && yl2xp1_undefined(in + CTX_IN))
        return TOL_UNDEFINED;
    const uint8_t *ho = h + CTX_OUT, *vo = v + CTX_OUT;
    if (((get(ho + 2, 2) ^ get(vo + 2, 2)) & ~0x200ull) || ho[0] != vo[0] ||
        ho[1] != vo[1] || ho[4] != vo[4])
        return TOL_NONE;
    for (int i = 0; i < 8; i++) {
        const uint8_t *a = ho + 32 + 16 * i, *b = vo + 32 + 16 * i;
        bool eq = true;
        for (int k = 0; k < 10; k++)
            eq &= !fxm[32 + 16 * i + k] || a[k] == b[k];
        if (!eq && !ulp_close(a, b))
            return TOL_NONE;
    }
    return TOL_ULP;
}

/* ---- reporting ------------------------------------------------------------ */

static void print_f80(const uint8_t *p)
{
    printf("%04llx:%016llx", (unsigned long long)get(p + 8, 2),
           (unsigned long long)get(p, 8));
}

static void print_state(const char *what, const uint8_t *img)
{
    unsigned top = (get(img + 2, 2) >> 11) & 7;
    printf("  %s: fcw %04llx fsw %04llx tags %02x (top %u)\n", what,
           (unsigned long long)get(img, 2), (unsigned long long)get(img + 2, 2),
           img[4], top);
    for (unsigned i = 0; i < 8; i++) {
        printf("    st%u%c ", i, (img[4] >> ((top + i) & 7)) & 1 ? ' ' : 'e');
        print_f80(img + 32 + 16 * i);
        printf(i & 1 ? "\n" : "   ");
    }
}

static void report(unsigned long n, const X87Insn *insn, const uint8_t *in,
                   const uint8_t *h, const uint8_t *v, int vector)
{
    char name[64];
    printf("MISMATCH #%lu: %s  bytes", n,
           gen_template_name(insn->tmpl, name, sizeof(name)));
    for (unsigned i = 0; i < insn->len; i++)
        printf(" %02x", insn->bytes[i]);
    printf("\n");
    print_state("in   ", in + CTX_IN);
    printf("    mem in:");
    for (int i = 0; i < 16; i++)
        printf(" %02x", in[CTX_MEM + i]);
    printf("  rflags %03llx rax %016llx\n",
           (unsigned long long)get(in + CTX_FLAGS_IN, 8),
           (unsigned long long)get(in + CTX_RAX_IN, 8));
    print_state("host ", h + CTX_OUT);
    print_state("vireo", v + CTX_OUT);
    if (vector >= 0)
        printf("  vireo raised exception %d\n", vector);
    printf("  rflags host %03llx vireo %03llx; rax host %016llx vireo %016llx\n",
           (unsigned long long)(get(h + CTX_FLAGS_OUT, 8) & 0x8d5),
           (unsigned long long)(get(v + CTX_FLAGS_OUT, 8) & 0x8d5),
           (unsigned long long)get(h + CTX_RAX_OUT, 8),
           (unsigned long long)get(v + CTX_RAX_OUT, 8));
    for (int i = 0; i < CTX_MEM_SIZE; i++) {
        if (h[CTX_MEM + i] != v[CTX_MEM + i]) {
            printf("  mem host :");
            for (int k = 0; k < 32; k++)
                printf(" %02x", h[CTX_MEM + k]);
            printf("\n  mem vireo:");
            for (int k = 0; k < 32; k++)
                printf(" %02x", v[CTX_MEM + k]);
            printf("\n");
            break;
        }
    }
}

/* ---- main ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n, const uint8_t *mask)
{
    for (size_t i = 0; i < n; i++) {
        h ^= mask[i] ? p[i] : 0;
        h *= 0x100000001b3ull;
    }
    return h;
}

int main(int argc, char **argv)
{
    unsigned long count = 100000, max_reports = 10, chain = 4;
    uint64_t seed = 1;
    bool vireo_only = false, trace = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--chain") && i + 1 < argc)
            chain = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--max-reports") && i + 1 < argc)
            max_reports = strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--vireo-only"))
            vireo_only = true;
        else if (!strcmp(argv[i], "--trace"))
            trace = true;
        else {
            fprintf(stderr, "usage: %s [--count N] [--seed S] [--chain K] "
                    "[--max-reports R] [--only NAME] [--vireo-only] [--trace]\n",
                    argv[0]);
            return 2;
        }
    }
    if (chain == 0)
        chain = 1;
    bool compare = !vireo_only && host_available();
    unsigned nt = gen_init();
    if (host_init() || vireo_init())
        return 2;
    unsigned long *pass = calloc(nt, sizeof(*pass)), *fail = calloc(nt, sizeof(*fail));
    unsigned long *ulp = calloc(nt, sizeof(*ulp)), *undef = calloc(nt, sizeof(*undef));
    uint8_t *ctx = aligned_alloc(4096, CTX_SIZE), *hctx = aligned_alloc(4096, CTX_SIZE);
    uint8_t *vctx = aligned_alloc(4096, CTX_SIZE);
    if (!pass || !fail || !ulp || !undef || !ctx || !hctx || !vctx) {
        fprintf(stderr, "x87_host: out of memory\n");
        return 2;
    }
    Rng rng = { seed * 0x2545f4914f6cdd1dull + 1 };
    uint64_t digest = 0xcbf29ce484222325ull;
    unsigned long passed = 0, failed = 0, reports = 0, done = 0, link = 0;
    X87Insn insn;
    uint8_t fxm[512], memm[CTX_MEM_SIZE];
    uint8_t code[128];
    char name[64];
    while (done < count) {
        gen_insn(&rng, &insn);
        if (only && strncmp(gen_template_name(insn.tmpl, name, sizeof(name)),
                            only, strlen(only)))
            continue;
        if (link == 0)
            gen_context(&rng, &insn, ctx);
        else
            gen_chain(&rng, &insn, ctx);
        link = (link + 1) % chain;
        size_t ret_off;
        size_t len = gen_stub(&insn, code, &ret_off);
        memcpy(vctx, ctx, CTX_SIZE);
        int vector = vireo_run(code, len, ret_off, vctx);
        compare_masks(&insn, fxm, memm);
        digest = fnv(digest, vctx + CTX_OUT, 512, fxm);
        digest = fnv(digest, vctx + CTX_MEM, CTX_MEM_SIZE, memm);
        digest = fnv(digest, vctx + CTX_FLAGS_OUT, 16, (const uint8_t[16]){
                     1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 });
        digest ^= (uint64_t)(vector + 1);
        done++;
        if (trace) {
            /* Vireo's result of every instruction, to compare hosts. */
            printf("#%lu %s vec %d\n", done,
                   gen_template_name(insn.tmpl, name, sizeof(name)), vector);
            print_state("in   ", ctx + CTX_IN);
            print_state("vireo", vctx + CTX_OUT);
        }
        if (compare) {
            memcpy(hctx, ctx, CTX_SIZE);
            host_run(code, len, hctx);
            bool same = vector < 0;
            for (int i = 0; i < 512 && same; i++)
                same = !fxm[i] || hctx[CTX_OUT + i] == vctx[CTX_OUT + i];
            for (int i = 0; i < CTX_MEM_SIZE && same; i++)
                same = !memm[i] || hctx[CTX_MEM + i] == vctx[CTX_MEM + i];
            same = same && ((get(hctx + CTX_FLAGS_OUT, 8) ^ get(vctx + CTX_FLAGS_OUT, 8)) & 0x8d5) == 0;
            same = same && get(hctx + CTX_RAX_OUT, 8) == get(vctx + CTX_RAX_OUT, 8);
            int tol = same ? TOL_NONE : tolerated(&insn, ctx, hctx, vctx, fxm);
            if (same) {
                passed++;
                pass[insn.tmpl]++;
            } else if (tol != TOL_NONE) {
                passed++;
                (tol == TOL_ULP ? ulp : undef)[insn.tmpl]++;
            } else {
                failed++;
                fail[insn.tmpl]++;
                if (reports++ < max_reports)
                    report(done, &insn, ctx, hctx, vctx, vector);
            }
        }
        /* The next link starts from Vireo's state (see the header). */
        memcpy(ctx + CTX_OUT, vctx + CTX_OUT, 512);
        memcpy(ctx + CTX_FLAGS_OUT, vctx + CTX_FLAGS_OUT, 16);
        if (vector >= 0)
            link = 0;
    }
    printf("per instruction: bit-exact, last bit/C1 only (masked), "
           "undefined domain (masked), failed\n");
    for (unsigned t = 0; t < nt; t++) {
        if (!pass[t] && !fail[t] && !ulp[t] && !undef[t])
            continue;
        printf("  %-28s %7lu %7lu %7lu %7lu%s\n",
               gen_template_name(t, name, sizeof(name)), pass[t], ulp[t],
               undef[t], fail[t], fail[t] ? "  <--" : "");
    }
    printf("vireo digest: %016llx (%lu instructions, seed %llu)\n",
           (unsigned long long)digest, done, (unsigned long long)seed);
    free(pass);
    free(fail);
    free(ulp);
    free(undef);
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

/* The x87 harness: what is compared, what is tolerated, and the report.
 *
 * Compared after each instruction, bit for bit: the whole FXSAVE image
 * (FCW, FSW, abridged tags, ST0-7, MXCSR, XMM0-15), the 512-byte memory
 * operand area, the arithmetic flags, RAX and the exception vector (the
 * stub only runs instructions that complete, so a fault is a difference).
 * Masked, with the reason:
 *  - FOP, FIP, FCS, FDP, FDS wherever they are stored (FXSAVE bytes 6-23,
 *    the pointer words of FNSTENV/FNSAVE): they hold addresses of the
 *    stub, which differ between the sides, and AMD processors store them
 *    only while an exception is pending (AMD APM Vol. 5 FXSAVE);
 *  - MXCSR_MASK (FXSAVE bytes 28-31, which differs between processors),
 *    the reserved area after XMM15 (bytes 416-511) and the 6 reserved
 *    bytes after each ST(i);
 *  - results the SDM leaves to the implementation (see tolerated()):
 *    transcendental results (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN,
 *    FCOS, FSINCOS) that differ by one unit in the last place, with the C1
 *    round-up bit that goes with it: Vol. 1 8.3.10 promises only an error
 *    below one ulp, so the last bit depends on the algorithm (Vireo's are
 *    correctly rounded; the host's are not always); and FYL2XP1 outside
 *    |ST(0)| < 1 - sqrt(2)/2, where Vol. 2 FYL2XP1 says the result is
 *    undefined.  Both are counted separately.
 */
#include "tests/diff/x87/x87diff.h"

#include <stdio.h>
#include <string.h>

#include "cpu/decode.h"

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

bool x87_transcendental(int id)
{
    return id == INSN_F2XM1 || id == INSN_FYL2X || id == INSN_FYL2XP1 ||
           id == INSN_FPTAN || id == INSN_FPATAN || id == INSN_FSIN ||
           id == INSN_FCOS || id == INSN_FSINCOS;
}

/* Is FYL2XP1's ST(0) outside the documented domain (not a NaN)? */
static bool yl2xp1_undefined(const uint8_t *in_img)
{
    unsigned se = (unsigned)get_le(in_img + 40, 2), e = se & 0x7fff;
    uint64_t sig = get_le(in_img + 32, 8);
    if (e == 0x7fff && (sig << 1))
        return false;
    return e > 0x3ffd || (e == 0x3ffd && sig >= 0x95f619980c4336f7ull);
}

/* Are two 80-bit values (finite, J set) at most one unit apart? */
static bool ulp_close(const uint8_t *a, const uint8_t *b)
{
    unsigned sa = (unsigned)get_le(a + 8, 2), sb = (unsigned)get_le(b + 8, 2);
    uint64_t ma = get_le(a, 8), mb = get_le(b, 8);
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

/* Which tolerance (if any) explains a difference: see the header. */
static int tolerated(const X87Insn *insn, const uint8_t *in, const uint8_t *h,
                     const uint8_t *v, const uint8_t *fxm)
{
    if (!x87_transcendental(insn->id))
        return TOL_NONE;
    if (insn->id == INSN_FYL2XP1 && yl2xp1_undefined(in + CTX_IN))
        return TOL_UNDEFINED;
    const uint8_t *ho = h + CTX_OUT, *vo = v + CTX_OUT;
    if (((get_le(ho + 2, 2) ^ get_le(vo + 2, 2)) & ~0x200ull) || ho[0] != vo[0] ||
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

const char *const x87_tolerances[] = { "last bit/C1", "undefined domain", NULL };

static bool same(const X87Insn *insn, const HlCase *c)
{
    uint8_t fxm[512], memm[CTX_MEM_SIZE];
    compare_masks(insn, fxm, memm);
    const uint8_t *r = c->ref, *v = c->v;
    if (c->rvec != c->vvec)
        return false;
    for (int i = 0; i < 512; i++)
        if (fxm[i] && r[CTX_OUT + i] != v[CTX_OUT + i])
            return false;
    for (int i = 0; i < CTX_MEM_SIZE; i++)
        if (memm[i] && r[CTX_MEM + i] != v[CTX_MEM + i])
            return false;
    return ((get_le(r + CTX_FLAGS_OUT, 8) ^ get_le(v + CTX_FLAGS_OUT, 8)) & 0x8d5) == 0 &&
           get_le(r + CTX_RAX_OUT, 8) == get_le(v + CTX_RAX_OUT, 8);
}

int x87_compare(const X87Insn *insn, const HlCase *c)
{
    if (same(insn, c))
        return 0;
    if (c->vvec >= 0 || c->rvec >= 0)
        return -1;
    uint8_t fxm[512], memm[CTX_MEM_SIZE];
    compare_masks(insn, fxm, memm);
    int tol = tolerated(insn, c->in, c->ref, c->v, fxm);
    return tol == TOL_NONE ? -1 : tol;
}

uint64_t x87_digest(const X87Insn *insn, uint64_t h, const uint8_t *v, int vvec)
{
    uint8_t fxm[512], memm[CTX_MEM_SIZE];
    compare_masks(insn, fxm, memm);
    h = hl_fnv(h, v + CTX_OUT, 512, fxm);
    h = hl_fnv(h, v + CTX_MEM, CTX_MEM_SIZE, memm);
    h = hl_fnv(h, v + CTX_FLAGS_OUT, 16, NULL);
    return h ^ (uint64_t)(vvec + 1);
}

/* ---- reporting ------------------------------------------------------------ */

static void print_f80(const uint8_t *p)
{
    printf("%04llx:%016llx", (unsigned long long)get_le(p + 8, 2),
           (unsigned long long)get_le(p, 8));
}

void x87_print_state(const char *what, const uint8_t *img)
{
    unsigned top = (get_le(img + 2, 2) >> 11) & 7;
    printf("  %-7s: fcw %04llx fsw %04llx tags %02x (top %u)\n", what,
           (unsigned long long)get_le(img, 2), (unsigned long long)get_le(img + 2, 2),
           img[4], top);
    for (unsigned i = 0; i < 8; i++) {
        printf("    st%u%c ", i, (img[4] >> ((top + i) & 7)) & 1 ? ' ' : 'e');
        print_f80(img + 32 + 16 * i);
        printf(i & 1 ? "\n" : "   ");
    }
}

static void print_mem(const char *what, const uint8_t *ctx)
{
    printf("  mem %-7s:", what);
    for (int k = 0; k < 32; k++)
        printf(" %02x", ctx[CTX_MEM + k]);
    printf("\n");
}

void x87_report(const X87Insn *insn, const HlCase *c)
{
    const char *ref = hl_side_name(c->side);
    printf("  bytes");
    for (unsigned i = 0; i < insn->len; i++)
        printf(" %02x", insn->bytes[i]);
    printf("\n");
    x87_print_state("in", c->in + CTX_IN);
    printf("    mem in:");
    for (int i = 0; i < 16; i++)
        printf(" %02x", c->in[CTX_MEM + i]);
    printf("  rflags %03llx rax %016llx\n",
           (unsigned long long)get_le(c->in + CTX_FLAGS_IN, 8),
           (unsigned long long)get_le(c->in + CTX_RAX_IN, 8));
    x87_print_state(ref, c->ref + CTX_OUT);
    x87_print_state("vireo", c->v + CTX_OUT);
    printf("  exception %s %d vireo %d\n", ref, c->rvec, c->vvec);
    printf("  rflags %s %03llx vireo %03llx; rax %s %016llx vireo %016llx\n", ref,
           (unsigned long long)(get_le(c->ref + CTX_FLAGS_OUT, 8) & 0x8d5),
           (unsigned long long)(get_le(c->v + CTX_FLAGS_OUT, 8) & 0x8d5), ref,
           (unsigned long long)get_le(c->ref + CTX_RAX_OUT, 8),
           (unsigned long long)get_le(c->v + CTX_RAX_OUT, 8));
    if (memcmp(c->ref + CTX_MEM, c->v + CTX_MEM, CTX_MEM_SIZE)) {
        print_mem(ref, c->ref);
        print_mem("vireo", c->v);
    }
}

/* The MMX / SSE integer harness: what is compared, and the report.
 *
 * Compared bit for bit: the exception vector; without a fault, the FXSAVE
 * image (FCW, FSW with TOP, the abridged tags, the eight 80-bit registers
 * that hold MM0-MM7, MXCSR, XMM0-15), all sixteen GPRs, the arithmetic
 * flags and the 4 KiB data page the memory operands live in; with one, the
 * data page, and that Vireo left its registers as they were (faults are
 * restartable).  Masked, with the reason: FOP/FIP/FDP (stub addresses; AMD
 * stores them only with an exception pending), MXCSR_MASK and the reserved
 * bytes of the image, which FXSAVE and Vireo's image writer need not agree
 * on.
 */
#include "tests/diff/simd_int/simddiff.h"

#include <stdio.h>
#include <string.h>

static uint8_t fx_mask[512];

void compare_init(void)
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
static bool same_result(const uint8_t *r, const uint8_t *v, bool faulted)
{
    if (memcmp(r + OFF_DATA, v + OFF_DATA, 0x1000))
        return false;
    if (faulted)
        return true;
    const uint8_t *rc = r + OFF_CTX, *vc = v + OFF_CTX;
    return same_fx(rc + CTX_FX_OUT, vc + CTX_FX_OUT) &&
           !memcmp(rc + CTX_GPR_OUT, vc + CTX_GPR_OUT, 128) &&
           ((get_le(rc + CTX_FLAGS_OUT, 8) ^ get_le(vc + CTX_FLAGS_OUT, 8)) & FLAGS_CMP) == 0;
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

int simd_compare(const HlCase *c)
{
    bool same = c->rvec == c->vvec && same_result(c->ref, c->v, c->rvec >= 0) &&
                (c->vvec < 0 || unchanged(c->v));
    return same ? 0 : -1;
}

uint64_t simd_digest(uint64_t h, const uint8_t *v, int vvec)
{
    h = hl_fnv(h, v + OFF_CTX + CTX_FX_OUT, 512, fx_mask);
    h = hl_fnv(h, v + OFF_CTX + CTX_GPR_OUT, 128 + 16, NULL);
    h = hl_fnv(h, v + OFF_DATA, 0x1000, NULL);
    return h ^ (uint64_t)(vvec + 1);
}

/* ---- reporting ---------------------------------------------------------------- */

static void hex(const char *label, const uint8_t *p, unsigned n)
{
    printf("%s", label);
    for (unsigned i = n; i-- > 0;)
        printf("%02x", p[i]);
    printf("\n");
}

static void print_input(const SimdInsn *insn, const uint8_t *in)
{
    const uint8_t *ic = in + OFF_CTX;
    unsigned top = (get_le(ic + CTX_FX_IN + 2, 2) >> 11) & 7;
    printf("  in: fcw %04llx fsw %04llx ftw %02x (top %u) flags %03llx\n",
           (unsigned long long)get_le(ic + CTX_FX_IN, 2),
           (unsigned long long)get_le(ic + CTX_FX_IN + 2, 2), ic[CTX_FX_IN + 4], top,
           (unsigned long long)get_le(ic + CTX_FLAGS_IN, 8));
    char l[32];
    for (unsigned i = 0; i < 8; i++) {
        snprintf(l, sizeof(l), "    in  mm%u    ", i);
        hex(l, ic + CTX_FX_IN + 32 + 16 * ((i - top) & 7), 10);
    }
    for (unsigned i = 0; i < 16; i++) {
        snprintf(l, sizeof(l), "    in  xmm%-2u  ", i);
        hex(l, ic + CTX_FX_IN + 160 + 16 * i, 16);
    }
    for (unsigned i = 0; i < 16; i++)
        printf("    in  gpr%-2u  %016llx\n", i, (unsigned long long)get_le(ic + CTX_GPR_IN + 8 * i, 8));
    if (insn->mem)
        hex("    in  mem    ", in + OFF_DATA + insn->mem_off, 16);
}

void simd_report(const SimdInsn *insn, const HlCase *c)
{
    const char *ref = hl_side_name(c->side);
    char rl[16];
    snprintf(rl, sizeof(rl), "    %-6s", ref);
    printf("  bytes");
    for (unsigned i = 0; i < insn->len; i++)
        printf(" %02x", insn->bytes[i]);
    printf("\n  exception: %s %d vireo %d\n", ref, c->rvec, c->vvec);
    print_input(insn, c->in);
    const uint8_t *rc = c->ref + OFF_CTX, *vc = c->v + OFF_CTX;
    for (unsigned row = 0; row < 32; row++) {
        const uint8_t *rp = rc + CTX_FX_OUT + 16 * row, *vp = vc + CTX_FX_OUT + 16 * row;
        bool diff = false;
        for (int k = 0; k < 16; k++)
            diff |= fx_mask[16 * row + k] && rp[k] != vp[k];
        if (diff) {
            printf("  fxsave row %u (bytes %u-%u) differs:\n", row, 16 * row, 16 * row + 15);
            hex(rl, rp, 16);
            hex("    vireo ", vp, 16);
        }
    }
    for (unsigned i = 0; i < 16; i++) {
        uint64_t a = get_le(rc + CTX_GPR_OUT + 8 * i, 8), b = get_le(vc + CTX_GPR_OUT + 8 * i, 8);
        if (a != b)
            printf("  gpr%u: %s %016llx vireo %016llx\n", i, ref, (unsigned long long)a,
                   (unsigned long long)b);
    }
    printf("  flags: %s %03llx vireo %03llx\n", ref,
           (unsigned long long)(get_le(rc + CTX_FLAGS_OUT, 8) & FLAGS_CMP),
           (unsigned long long)(get_le(vc + CTX_FLAGS_OUT, 8) & FLAGS_CMP));
    for (unsigned i = 0; i < 0x1000; i += 16) {
        if (memcmp(c->ref + OFF_DATA + i, c->v + OFF_DATA + i, 16)) {
            printf("  data +%03x differs:\n", i);
            hex(rl, c->ref + OFF_DATA + i, 16);
            hex("    vireo ", c->v + OFF_DATA + i, 16);
            break;
        }
    }
}

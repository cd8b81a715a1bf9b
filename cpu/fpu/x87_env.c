/* x87 control instructions: control and status words, environment and
 * state save/restore.
 *
 * SDM Vol. 2 pages FINIT/FNINIT, FCLEX/FNCLEX, FLDCW, FSTCW/FNSTCW,
 * FSTSW/FNSTSW, FLDENV, FSTENV/FNSTENV, FRSTOR, FSAVE/FNSAVE, FXSAVE,
 * FXRSTOR; Vol. 1 8.1.10 (Figures 8-9 to 8-12: the 14- and 28-byte
 * environment layouts in protected and real mode) and 10.5.1 (Table 10-2:
 * the legacy 512-byte FXSAVE area, with MXCSR and the XMM registers of
 * cpu/sse/).
 *
 * The environment format follows the operand size (66h selects the 16-bit
 * one) and the mode: real and virtual-8086 mode store FIP/FDP as 20- or
 * 32-bit linear addresses split around FOP; protected and long mode store
 * offsets and selectors.  None of these instructions update FIP/FDP/FOP;
 * the FN forms and FXSAVE/FXRSTOR do not check for pending exceptions.
 */
#include "cpu/fpu/x87.h"

/* ---- control and status words ------------------------------------------------ */

/* What a loaded control word keeps: bits 13-15 and 7 are reserved and read
 * as 0, bit 6 reads as 1 (FNINIT's 037Fh); bit 12, the 287's infinity
 * control, is kept but ignored (Vol. 1 8.1.5.3). */
static uint16_t fcw_value(uint32_t v)
{
    return (uint16_t)((v & 0x1f3f) | 0x40);
}

/* ES and B summarise the unmasked exception flags (Vol. 1 8.1.3.1): loads
 * of FCW or FSW recompute them, so an unmasked pending flag is reported by
 * the next waiting instruction. */
static void recompute_summary(X87State *f)
{
    if (f->fsw & ~f->fcw & FP_ALL)
        f->fsw |= FSW_ES | FSW_B;
    else
        f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
}

int h_FNINIT(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, false);
    if (r != CPU_OK)
        return r;
    x87_init_state(&cpu->s.fpu);
    return x87_end(cpu);
}

int h_FNCLEX(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, false);
    if (r != CPU_OK)
        return r;
    cpu->s.fpu.fsw &= (uint16_t)~(FP_ALL | FSW_SF | FSW_ES | FSW_B);
    return x87_end(cpu);
}

int h_FLDCW(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    uint64_t v;
    r = mem_read(cpu, d->seg, insn_ea(cpu, d), 2, &v);
    if (r != CPU_OK)
        return r;
    cpu->s.fpu.fcw = fcw_value((uint32_t)v);
    recompute_summary(&cpu->s.fpu);
    return x87_end(cpu);
}

int h_FNSTCW(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, false);
    if (r != CPU_OK)
        return r;
    return mem_write(cpu, d->seg, insn_ea(cpu, d), 2, cpu->s.fpu.fcw);
}

/* DD /7 m16, and DF E0 (AX). */
int h_FNSTSW(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, false);
    if (r != CPU_OK)
        return r;
    if (d->kind[0] == OPK_MEM)
        return mem_write(cpu, d->seg, insn_ea(cpu, d), 2, cpu->s.fpu.fsw);
    reg_write(cpu, R_AX, 2, cpu->s.fpu.fsw);
    return CPU_OK;
}

/* ---- environment images ----------------------------------------------------- */

#define ENV_MAX 28

static bool real_format(const Cpu *cpu)
{
    return cpu_is_real(cpu) || (cpu->mode & CPU_MODE_V86);
}

/* Lay out the environment in `out` (14 or 28 bytes); returns its size. */
static unsigned env_image(const Cpu *cpu, const DecodedInsn *d, uint8_t *out)
{
    const X87State *f = &cpu->s.fpu;
    bool o16 = d->osize == 2;
    uint32_t w[7];
    w[0] = f->fcw;
    w[1] = f->fsw;
    w[2] = x87_full_tags(f);
    if (real_format(cpu)) {
        uint32_t ip = (uint32_t)(((uint32_t)f->fcs << 4) + (uint32_t)f->fip);
        uint32_t dp = (uint32_t)(((uint32_t)f->fds << 4) + (uint32_t)f->fdp);
        w[3] = ip & 0xffff;
        w[4] = ((ip >> 16) << 12) | (f->fop & 0x7ff);
        w[5] = dp & 0xffff;
        w[6] = (dp >> 16) << 12;
    } else {
        w[3] = (uint32_t)f->fip;
        w[4] = f->fcs | (o16 ? 0 : (uint32_t)(f->fop & 0x7ff) << 16);
        w[5] = (uint32_t)f->fdp;
        w[6] = f->fds;
    }
    unsigned width = o16 ? 2 : 4;
    for (unsigned i = 0; i < 7; i++) {
        uint32_t v = w[i];
        /* The unused upper halves of the 32-bit layout read as 1s, except
         * where a field lives (Vol. 1 Figures 8-9, 8-10). */
        if (!o16 && (i < 3 || (i == 6 && !real_format(cpu))))
            v |= 0xffff0000u;
        if (!o16 && real_format(cpu) && (i == 3 || i == 5))
            v |= 0xffff0000u;
        for (unsigned b = 0; b < width; b++)
            out[i * width + b] = (uint8_t)(v >> (8 * b));
    }
    return 7 * width;
}

static uint32_t get_le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static void env_load(Cpu *cpu, const DecodedInsn *d, const uint8_t *in)
{
    X87State *f = &cpu->s.fpu;
    unsigned width = d->osize == 2 ? 2 : 4;
    uint32_t w[7];
    for (unsigned i = 0; i < 7; i++)
        w[i] = get_le(in + i * width, width);
    f->fcw = fcw_value(w[0]);
    f->fsw = (uint16_t)w[1];
    f->tags = 0;
    for (unsigned p = 0; p < 8; p++)
        if (((w[2] >> (2 * p)) & 3) != 3)
            f->tags |= (uint8_t)(1u << p);
    if (real_format(cpu)) {
        uint32_t ip = (w[3] & 0xffff) | ((w[4] >> 12) << 16);
        uint32_t dp = (w[5] & 0xffff) | ((w[6] >> 12) << 16);
        f->fop = (uint16_t)(w[4] & 0x7ff);
        f->fip = width == 2 ? ip & 0xfffff : ip;
        f->fdp = width == 2 ? dp & 0xfffff : dp;
        f->fcs = f->fds = 0;
    } else {
        f->fip = width == 2 ? (w[3] & 0xffff) : w[3];
        f->fcs = (uint16_t)w[4];
        f->fop = width == 2 ? 0 : (uint16_t)((w[4] >> 16) & 0x7ff);
        f->fdp = width == 2 ? (w[5] & 0xffff) : w[5];
        f->fds = (uint16_t)w[6];
    }
    recompute_summary(f);
}

static int write_bytes(Cpu *cpu, const DecodedInsn *d, uint64_t off,
                       const uint8_t *p, unsigned n)
{
    uint64_t mask = size_mask(d->asize);
    for (unsigned i = 0; i < n;) {
        unsigned k = n - i >= 8 ? 8 : n - i >= 4 ? 4 : n - i >= 2 ? 2 : 1;
        uint64_t v = 0;
        for (unsigned b = 0; b < k; b++)
            v |= (uint64_t)p[i + b] << (8 * b);
        int r = mem_write(cpu, d->seg, (off + i) & mask, k, v);
        if (r != CPU_OK)
            return r;
        i += k;
    }
    return CPU_OK;
}

static int read_bytes(Cpu *cpu, const DecodedInsn *d, uint64_t off,
                      uint8_t *p, unsigned n)
{
    uint64_t mask = size_mask(d->asize);
    for (unsigned i = 0; i < n;) {
        unsigned k = n - i >= 8 ? 8 : n - i >= 4 ? 4 : n - i >= 2 ? 2 : 1;
        uint64_t v;
        int r = mem_read(cpu, d->seg, (off + i) & mask, k, &v);
        if (r != CPU_OK)
            return r;
        for (unsigned b = 0; b < k; b++)
            p[i + b] = (uint8_t)(v >> (8 * b));
        i += k;
    }
    return CPU_OK;
}

static void put_reg(uint8_t *p, Float80 v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v.sig >> (8 * i));
    p[8] = (uint8_t)v.se;
    p[9] = (uint8_t)(v.se >> 8);
}

static Float80 get_reg(const uint8_t *p)
{
    Float80 v = { 0, 0 };
    for (int i = 0; i < 8; i++)
        v.sig |= (uint64_t)p[i] << (8 * i);
    v.se = (uint16_t)(p[8] | p[9] << 8);
    return v;
}

int h_FNSTENV(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, false);
    if (r != CPU_OK)
        return r;
    uint8_t img[ENV_MAX];
    unsigned n = env_image(cpu, d, img);
    uint64_t off = insn_ea(cpu, d);
    r = mem_check_write(cpu, d->seg, off, n);
    if (r == CPU_OK)
        r = write_bytes(cpu, d, off, img, n);
    if (r != CPU_OK)
        return r;
    /* Then every exception is masked (Vol. 2 FSTENV). */
    cpu->s.fpu.fcw |= FP_ALL;
    recompute_summary(&cpu->s.fpu);
    return x87_end(cpu);
}

int h_FLDENV(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    uint8_t img[ENV_MAX];
    unsigned n = d->osize == 2 ? 14 : 28;
    r = read_bytes(cpu, d, insn_ea(cpu, d), img, n);
    if (r != CPU_OK)
        return r;
    env_load(cpu, d, img);
    return x87_end(cpu);
}

int h_FNSAVE(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, false);
    if (r != CPU_OK)
        return r;
    uint8_t img[ENV_MAX + 80];
    unsigned n = env_image(cpu, d, img);
    const X87State *f = &cpu->s.fpu;
    for (unsigned i = 0; i < 8; i++)
        put_reg(img + n + 10 * i, x87_get(f, i));
    uint64_t off = insn_ea(cpu, d);
    r = mem_check_write(cpu, d->seg, off, n + 80);
    if (r == CPU_OK)
        r = write_bytes(cpu, d, off, img, n + 80);
    if (r != CPU_OK)
        return r;
    x87_init_state(&cpu->s.fpu);
    return x87_end(cpu);
}

int h_FRSTOR(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    uint8_t img[ENV_MAX + 80];
    unsigned n = d->osize == 2 ? 14 : 28;
    r = read_bytes(cpu, d, insn_ea(cpu, d), img, n + 80);
    if (r != CPU_OK)
        return r;
    env_load(cpu, d, img);
    X87State *f = &cpu->s.fpu;
    for (unsigned i = 0; i < 8; i++)
        f->r[x87_phys(f, i)] = get_reg(img + n + 10 * i);
    return x87_end(cpu);
}

/* ---- FXSAVE / FXRSTOR ---------------------------------------------------------- */

/* The 16-byte alignment check is on the linear address (Vol. 2 FXSAVE). */
static bool fx_aligned(const Cpu *cpu, const DecodedInsn *d, uint64_t off)
{
    uint64_t base = cpu->s.seg[d->seg].base;
    if (cpu_is_64(cpu) && d->seg != SEG_FS && d->seg != SEG_GS)
        base = 0;
    return ((base + off) & 15) == 0;
}

static int fx_check(Cpu *cpu, const DecodedInsn *d, uint64_t off)
{
    if (cpu->s.cr0 & CR0_EM)
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (cpu->s.cr0 & CR0_TS)
        return cpu_raise(cpu, EXC_NM, 0, false);
    if (!fx_aligned(cpu, d, off))
        return cpu_raise(cpu, EXC_GP, 0, true);
    return CPU_OK;
}

/* MXCSR_MASK: the MXCSR bits this processor implements (DAZ included). */
#define FX_MXCSR_MASK MXCSR_WRITABLE

/* XMM registers in the image: 16 in 64-bit mode, else 8; only with
 * CR4.OSFXSR set (Vol. 2 FXSAVE: without it, saving them is
 * implementation-dependent; Vireo leaves them alone). */
static unsigned fx_xmm_count(const Cpu *cpu)
{
    if (!(cpu->s.cr4 & CR4_OSFXSR))
        return 0;
    return cpu_is_64(cpu) ? 16 : 8;
}

int h_FXSAVE(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t off = insn_ea(cpu, d);
    int r = fx_check(cpu, d, off);
    if (r != CPU_OK)
        return r;
    const X87State *f = &cpu->s.fpu;
    bool w64 = (d->pfx & PFX_REXW) != 0;   /* FXSAVE64: 64-bit FIP/FDP */
    uint8_t img[416] = { 0 };
    unsigned nxmm = fx_xmm_count(cpu);
    img[0] = (uint8_t)f->fcw; img[1] = (uint8_t)(f->fcw >> 8);
    img[2] = (uint8_t)f->fsw; img[3] = (uint8_t)(f->fsw >> 8);
    img[4] = f->tags;
    img[6] = (uint8_t)f->fop; img[7] = (uint8_t)((f->fop >> 8) & 7);
    uint64_t fip = w64 ? f->fip : (uint32_t)f->fip | (uint64_t)f->fcs << 32;
    uint64_t fdp = w64 ? f->fdp : (uint32_t)f->fdp | (uint64_t)f->fds << 32;
    for (int i = 0; i < 8; i++) {
        img[8 + i] = (uint8_t)(fip >> (8 * i));
        img[16 + i] = (uint8_t)(fdp >> (8 * i));
        if (i < 4) {
            img[24 + i] = (uint8_t)(cpu->s.sse.mxcsr >> (8 * i));
            img[28 + i] = (uint8_t)(FX_MXCSR_MASK >> (8 * i));
        }
    }
    for (unsigned i = 0; i < 8; i++)
        put_reg(img + 32 + 16 * i, x87_get(f, i));
    for (unsigned i = 0; i < nxmm; i++)
        for (unsigned b = 0; b < 16; b++)
            img[160 + 16 * i + b] = (uint8_t)(cpu->s.sse.xmm[i].q[b / 8] >> (8 * (b % 8)));
    r = mem_check_write(cpu, d->seg, off, 512);
    if (r == CPU_OK)
        r = write_bytes(cpu, d, off, img, 160 + 16 * nxmm);
    /* Bytes 464-511 are software's; the reserved ones are left alone. */
    return r;
}

int h_FXRSTOR(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t off = insn_ea(cpu, d);
    int r = fx_check(cpu, d, off);
    if (r != CPU_OK)
        return r;
    uint8_t img[416];
    unsigned nxmm = fx_xmm_count(cpu);
    r = read_bytes(cpu, d, off, img, 160 + 16 * nxmm);
    if (r != CPU_OK)
        return r;
    uint32_t mxcsr = get_le(img + 24, 4);
    if (mxcsr & ~FX_MXCSR_MASK)
        return cpu_raise(cpu, EXC_GP, 0, true);   /* reserved MXCSR bits */
    cpu->s.sse.mxcsr = mxcsr;
    for (unsigned i = 0; i < nxmm; i++)
        for (unsigned h = 0; h < 2; h++)
            cpu->s.sse.xmm[i].q[h] = get_le(img + 160 + 16 * i + 8 * h, 4) |
                                      (uint64_t)get_le(img + 164 + 16 * i + 8 * h, 4) << 32;
    X87State *f = &cpu->s.fpu;
    bool w64 = (d->pfx & PFX_REXW) != 0;
    f->fcw = fcw_value(get_le(img, 2));
    f->fsw = (uint16_t)get_le(img + 2, 2);
    recompute_summary(f);
    f->tags = img[4];
    f->fop = (uint16_t)(get_le(img + 6, 2) & 0x7ff);
    uint64_t fip = get_le(img + 8, 4) | (uint64_t)get_le(img + 12, 4) << 32;
    uint64_t fdp = get_le(img + 16, 4) | (uint64_t)get_le(img + 20, 4) << 32;
    f->fip = w64 ? fip : (uint32_t)fip;
    f->fdp = w64 ? fdp : (uint32_t)fdp;
    f->fcs = w64 ? 0 : (uint16_t)(fip >> 32);
    f->fds = w64 ? 0 : (uint16_t)(fdp >> 32);
    for (unsigned i = 0; i < 8; i++)
        f->r[x87_phys(f, i)] = get_reg(img + 32 + 16 * i);
    return x87_end(cpu);
}

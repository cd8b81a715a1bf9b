/* The harnesses' Unicorn side: Unicorn 2.0.1 (QEMU 5.0's TCG) in 64-bit
 * mode, at the addresses Vireo uses.
 *
 * The regions are host memory given to Unicorn with uc_mem_map_ptr.  The
 * engine is set up as Vireo's CPU is (CPL 0, CR0.MP/NE, CR4.OSFXSR and
 * OSXMMEXCPT; Unicorn starts with neither).  Each test writes the whole
 * input state through uc_reg_write (FP0-7 are the physical registers,
 * FPTAG the full tag word), runs the one instruction and reads the state
 * back the same way: quicker than translating the host's stub every time.
 * An exception reaches the UC_HOOK_INTR callback before delivery, RIP on
 * the faulting instruction: the callback records the vector and the
 * registers and stops the engine; #UD ends uc_emu_start with
 * UC_ERR_INSN_INVALID instead.  Like tests/diff/diff_uc.c, every run
 * starts from the context saved after set-up (QEMU would otherwise
 * remember the undelivered exception), and the engine is replaced now and
 * then (Unicorn 2.0.1 crashes when its code buffer, full of dropped
 * translations, is finally flushed).  Only built for x86-64 hosts, where
 * libunicorn is installed.
 */
#include "tests/diff/hostlib/hostlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)

#include <unicorn/unicorn.h>

#include "cpu/cpu.h"

/* Runs of one engine before it is replaced. */
#define ENGINE_RUNS 4096

static struct {
    uc_engine *uc;
    HlLayout lay;
    uint8_t *ram[HL_MAX_REGIONS];
    uc_hook intr_hook;
    uc_context *clean;        /* the engine's state right after set-up */
    uint64_t runs;
    bool stopped;             /* the interrupt hook stopped the engine */
    int vector;
    HlState *at_fault;        /* where the hook stores the state */
} ub;

static const int gprs[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

bool hl_uc_available(void)
{
    return true;
}

static int check(uc_err e, const char *what)
{
    if (e == UC_ERR_OK)
        return 0;
    fprintf(stderr, "diff: unicorn: %s: %s\n", what, uc_strerror(e));
    return -1;
}

static uint64_t read_reg(int reg)
{
    uint64_t v = 0;
    uc_reg_read(ub.uc, reg, &v);
    return v;
}

/* The registers in HlState's form: the FXSAVE image is assembled from
 * FPCW, FPSW (TOP included), the full tag word (abridged: empty or not),
 * the physical registers FP0-7, MXCSR and XMM0-15. */
static void read_state(HlState *st)
{
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < 16; i++)
        st->gpr[i] = read_reg(gprs[i]);
    st->rflags = read_reg(UC_X86_REG_EFLAGS);
    uint8_t *fx = st->fx;
    put_le(fx + FX_FCW, read_reg(UC_X86_REG_FPCW), 2);
    put_le(fx + FX_FSW, read_reg(UC_X86_REG_FPSW), 2);
    uint64_t tags = read_reg(UC_X86_REG_FPTAG);
    for (unsigned i = 0; i < 8; i++)
        if (((tags >> (2 * i)) & 3) != 3)
            fx[FX_FTW] |= (uint8_t)(1u << i);
    for (unsigned i = 0; i < 8; i++)
        uc_reg_read(ub.uc, UC_X86_REG_FP0 + (int)i, fx + hl_fx_phys(fx, i));
    put_le(fx + FX_MXCSR, read_reg(UC_X86_REG_MXCSR), 4);
    for (unsigned i = 0; i < 16; i++)
        uc_reg_read(ub.uc, UC_X86_REG_XMM0 + (int)i, fx + FX_XMM + 16 * i);
}

static void on_interrupt(uc_engine *uc, uint32_t intno, void *opaque)
{
    (void)opaque;
    read_state(ub.at_fault);
    ub.vector = (int)intno;
    ub.stopped = true;
    uc_emu_stop(uc);
}

static int open_engine(void)
{
    if (check(uc_open(UC_ARCH_X86, UC_MODE_64, &ub.uc), "uc_open"))
        return -1;
    /* A Haswell has every instruction the harnesses test (SSE4.2). */
    uc_ctl_set_cpu_model(ub.uc, UC_CPU_X86_HASWELL);
    for (unsigned i = 0; i < ub.lay.n; i++)
        if (check(uc_mem_map_ptr(ub.uc, ub.lay.r[i].base, ub.lay.r[i].size,
                                 UC_PROT_ALL, ub.ram[i]), "map"))
            return -1;
    uint64_t cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
    uint64_t cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (check(uc_hook_add(ub.uc, &ub.intr_hook, UC_HOOK_INTR, (void *)on_interrupt,
                          NULL, 1, 0), "hook") ||
        check(uc_reg_write(ub.uc, UC_X86_REG_CR0, &cr0), "CR0") ||
        check(uc_reg_write(ub.uc, UC_X86_REG_CR4, &cr4), "CR4") ||
        check(uc_context_alloc(ub.uc, &ub.clean), "context") ||
        check(uc_context_save(ub.uc, ub.clean), "context save"))
        return -1;
    return 0;
}

int hl_uc_init(const HlLayout *lay)
{
    ub.lay = *lay;
    for (unsigned i = 0; i < lay->n; i++) {
        ub.ram[i] = aligned_alloc(4096, lay->r[i].size);
        if (!ub.ram[i]) {
            fprintf(stderr, "diff: out of memory\n");
            return -1;
        }
        memset(ub.ram[i], 0, lay->r[i].size);
    }
    return open_engine();
}

uint8_t *hl_uc_mem(unsigned region)
{
    return ub.ram[region];
}

/* The registers from HlState's form (see read_state); QEMU keeps only
 * empty or not of the tag word. */
static void write_state(const HlState *st)
{
    for (int i = 0; i < 16; i++)
        uc_reg_write(ub.uc, gprs[i], &st->gpr[i]);
    uc_reg_write(ub.uc, UC_X86_REG_EFLAGS, &st->rflags);
    const uint8_t *fx = st->fx;
    uint64_t fcw = get_le(fx + FX_FCW, 2), fsw = get_le(fx + FX_FSW, 2), tags = 0;
    uint64_t mxcsr = get_le(fx + FX_MXCSR, 4);
    for (unsigned i = 0; i < 8; i++)
        if (!((fx[FX_FTW] >> i) & 1))
            tags |= 3ull << (2 * i);
    uc_reg_write(ub.uc, UC_X86_REG_FPCW, &fcw);
    uc_reg_write(ub.uc, UC_X86_REG_FPSW, &fsw);
    uc_reg_write(ub.uc, UC_X86_REG_FPTAG, &tags);
    for (unsigned i = 0; i < 8; i++)
        uc_reg_write(ub.uc, UC_X86_REG_FP0 + (int)i, fx + hl_fx_phys(fx, i));
    uc_reg_write(ub.uc, UC_X86_REG_MXCSR, &mxcsr);
    for (unsigned i = 0; i < 16; i++)
        uc_reg_write(ub.uc, UC_X86_REG_XMM0 + (int)i, fx + FX_XMM + 16 * i);
}

/* A fresh run: a new engine now and then, the clean context, the code
 * read afresh. */
static void prepare(void)
{
    if (++ub.runs % ENGINE_RUNS == 0) {
        uc_context_free(ub.clean);
        uc_close(ub.uc);
        if (open_engine())
            exit(2);
    }
    uc_context_restore(ub.uc, ub.clean);
    uc_ctl_remove_cache(ub.uc, ub.lay.r[0].base, ub.lay.r[0].base + ub.lay.r[0].size);
}

/* The instruction runs alone (counted: a jump that QEMU should not take
 * could lead anywhere); not ending at `stop` is HL_STRAY, and so is an
 * access outside the regions, which Unicorn reports as an error, not
 * #PF. */
int hl_uc_step(const HlState *in, uint64_t rip, uint64_t stop, HlState *out)
{
    prepare();
    write_state(in);
    ub.stopped = false;
    ub.at_fault = out;
    uc_err e = uc_emu_start(ub.uc, rip, stop, 0, 1);
    if (ub.stopped)
        return ub.vector;
    read_state(out);
    if (e == UC_ERR_INSN_INVALID)
        return EXC_UD;
    return e != UC_ERR_OK || read_reg(UC_X86_REG_RIP) != stop ? HL_STRAY : -1;
}

#else

bool hl_uc_available(void)
{
    return false;
}

int hl_uc_init(const HlLayout *lay)
{
    (void)lay;
    return -1;
}

uint8_t *hl_uc_mem(unsigned region)
{
    (void)region;
    return NULL;
}

int hl_uc_step(const HlState *in, uint64_t rip, uint64_t stop, HlState *out)
{
    (void)in;
    (void)rip;
    (void)stop;
    (void)out;
    return HL_STRAY;
}

#endif

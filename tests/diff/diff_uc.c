/* The differential harness: the reference side, Unicorn (QEMU's TCG).
 *
 * One engine per mode, reused for every program: the code area is
 * rewritten (and its translated blocks dropped) per program, the data
 * window is host memory given to Unicorn with uc_mem_map_ptr so that it can
 * be reset and compared with memcpy/memcmp.  Exceptions reach Unicorn's
 * UC_HOOK_INTR callback before delivery, with RIP on the faulting
 * instruction; the callback records the state and stops the engine.  #UD
 * ends uc_emu_start with UC_ERR_INSN_INVALID instead.
 */
#include "tests/diff/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

/* Programs run by one engine before it is replaced (see ucbox_load). */
#define ENGINE_PROGRAMS 4096

struct UcBox {
    uc_engine *uc;
    const Layout *lay;
    uint8_t *data;
    uint8_t *code_image;
    uc_hook intr_hook;
    uc_context *clean;        /* the engine's state right after set-up */
    uint64_t loads;           /* programs loaded into this engine */
    bool watch_accesses;      /* a probe engine (ucbox_new_probe) */
    uc_hook access_hook;
    bool outside;             /* ucbox_probe_unit: an access left the window */
    uint64_t outside_addr;
    bool stopped;             /* the interrupt hook stopped the engine */
    ArchState at_stop;
};

static const int regs64[16] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
    UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
    UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};
static const int regs32[8] = {
    UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
    UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI,
};
static const int sregs[SEG_COUNT] = {
    UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS,
    UC_X86_REG_FS, UC_X86_REG_GS,
};

static void uc_check(uc_err e, const char *what)
{
    if (e != UC_ERR_OK) {
        fprintf(stderr, "diff: unicorn: %s: %s\n", what, uc_strerror(e));
        exit(2);
    }
}

static int mode_of(const Layout *lay)
{
    switch (lay->mode) {
    case MODE_REAL: return UC_MODE_16;
    case MODE_PROT32: return UC_MODE_32;
    default: return UC_MODE_64;
    }
}

static int rip_reg(const Layout *lay)
{
    return lay->mode == MODE_LONG64 ? UC_X86_REG_RIP : UC_X86_REG_EIP;
}

static void read_state(UcBox *ub, ArchState *out)
{
    const Layout *l = ub->lay;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < l->nregs; i++) {
        uint64_t v = 0;
        uc_reg_read(ub->uc, l->nregs == 16 ? regs64[i] : regs32[i], &v);
        out->gpr[i] = l->width == 8 ? v : (uint32_t)v;
    }
    uint64_t v = 0;
    uc_reg_read(ub->uc, rip_reg(l), &v);
    out->rip = l->width == 8 ? v : (uint32_t)v;
    v = 0;
    uc_reg_read(ub->uc, UC_X86_REG_EFLAGS, &v);
    out->eflags = (uint32_t)v;
    out->vector = -1;
}

static void on_interrupt(uc_engine *uc, uint32_t intno, void *opaque)
{
    UcBox *ub = opaque;
    read_state(ub, &ub->at_stop);
    ub->at_stop.vector = (int)intno;
    ub->stopped = true;
    uc_emu_stop(uc);
}

/* A flat 4 GiB data descriptor (type 3, DPL 0, 32-bit, 4 KiB granules)
 * with the given base (SDM Vol. 3 3.4.5). */
static uint64_t data_descriptor(uint32_t base)
{
    return 0xffffull | ((uint64_t)(base & 0xffffff) << 16) | (0x93ull << 40) |
           (0xfull << 48) | (0xcull << 52) | ((uint64_t)(base >> 24) << 56);
}

/* Load the layout's segments: selectors in real mode; descriptors from a
 * GDT of our own in protected mode (Unicorn's CS stays as it is); the
 * FS and GS bases in 64-bit mode. */
static void set_up_segments(UcBox *ub)
{
    const Layout *l = ub->lay;
    switch (l->mode) {
    case MODE_REAL:
        for (int i = 0; i < SEG_COUNT; i++) {
            uint64_t v = l->sel[i];
            uc_check(uc_reg_write(ub->uc, sregs[i], &v), "segment");
        }
        break;
    case MODE_PROT32: {
        uint64_t gdt[16] = { 0 };
        for (int i = 0; i < SEG_COUNT; i++)
            if (i != SEG_CS)
                gdt[l->sel[i] >> 3] = data_descriptor((uint32_t)l->base[i]);
        uc_check(uc_mem_map(ub->uc, l->gdt_base, 0x1000, UC_PROT_ALL), "map GDT");
        uc_check(uc_mem_write(ub->uc, l->gdt_base, gdt, sizeof(gdt)), "write GDT");
        uc_x86_mmr gdtr = { 0, l->gdt_base, sizeof(gdt) - 1, 0 };
        uc_check(uc_reg_write(ub->uc, UC_X86_REG_GDTR, &gdtr), "GDTR");
        for (int i = 0; i < SEG_COUNT; i++) {
            uint64_t v = l->sel[i];
            if (i != SEG_CS)
                uc_check(uc_reg_write(ub->uc, sregs[i], &v), "segment");
        }
        break;
    }
    case MODE_LONG64: {
        uint64_t fs = l->base[SEG_FS], gs = l->base[SEG_GS];
        uc_check(uc_reg_write(ub->uc, UC_X86_REG_FS_BASE, &fs), "FS base");
        uc_check(uc_reg_write(ub->uc, UC_X86_REG_GS_BASE, &gs), "GS base");
        break;
    }
    }
}

static void on_access(uc_engine *uc, uc_mem_type type, uint64_t address,
                      int size, int64_t value, void *opaque)
{
    UcBox *ub = opaque;
    const Layout *l = ub->lay;
    if ((address < l->data_base || address + (uint64_t)size > l->data_base + l->data_size) &&
        !ub->outside) {
        ub->outside = true;
        ub->outside_addr = address;
    }
}

static void open_engine(UcBox *ub)
{
    const Layout *lay = ub->lay;
    uc_check(uc_open(UC_ARCH_X86, mode_of(lay), &ub->uc), "uc_open");
    /* A Haswell has every gated instruction Vireo implements; whatever
     * this Unicorn build really decodes is probed (uc_probe_features). */
    uc_ctl_set_cpu_model(ub->uc, UC_CPU_X86_HASWELL);
    uc_check(uc_mem_map(ub->uc, lay->code_base, lay->code_size, UC_PROT_ALL),
             "map code");
    uc_check(uc_mem_map_ptr(ub->uc, lay->data_base, lay->data_size,
                            UC_PROT_ALL, ub->data), "map data");
    uc_check(uc_hook_add(ub->uc, &ub->intr_hook, UC_HOOK_INTR,
                         (void *)on_interrupt, ub, 1, 0), "hook");
    if (ub->watch_accesses)
        uc_check(uc_hook_add(ub->uc, &ub->access_hook,
                             UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE,
                             (void *)on_access, ub, 1, 0), "access hook");
    set_up_segments(ub);
    uc_check(uc_context_alloc(ub->uc, &ub->clean), "context");
    uc_check(uc_context_save(ub->uc, ub->clean), "context save");
}

static void close_engine(UcBox *ub)
{
    uc_context_free(ub->clean);
    uc_close(ub->uc);
}

static UcBox *new_box(const Layout *lay, bool watch)
{
    UcBox *ub = calloc(1, sizeof(*ub));
    if (!ub)
        exit(2);
    ub->lay = lay;
    ub->watch_accesses = watch;
    ub->data = aligned_alloc(4096, lay->data_size);
    ub->code_image = malloc(lay->code_size);
    if (!ub->data || !ub->code_image)
        exit(2);
    open_engine(ub);
    return ub;
}

UcBox *ucbox_new(const Layout *lay)
{
    return new_box(lay, false);
}

/* Memory hooks change how Unicorn 2.0.1 translates code (and with them
 * some flag results differ), so the probes run in an engine of their own
 * and the comparing engine never has one. */
UcBox *ucbox_new_probe(const Layout *lay)
{
    return new_box(lay, true);
}

void ucbox_free(UcBox *ub)
{
    if (!ub)
        return;
    close_engine(ub);
    free(ub->data);
    free(ub->code_image);
    free(ub);
}

void ucbox_selectors(UcBox *ub, uint16_t sel[SEG_COUNT])
{
    for (int i = 0; i < SEG_COUNT; i++) {
        uint64_t v = 0;
        uc_reg_read(ub->uc, sregs[i], &v);
        sel[i] = (uint16_t)v;
    }
}

const uint8_t *ucbox_data(const UcBox *ub)
{
    return ub->data;
}

void ucbox_load(UcBox *ub, const ArchState *st, const uint8_t *master,
                const uint8_t *code, size_t code_len)
{
    const Layout *l = ub->lay;
    /* Every program is new code: the dropped translations pile up in the
     * code buffer, and Unicorn 2.0.1 crashes (tb_set_jmp_target) when it
     * finally flushes it.  A fresh engine now and then avoids that. */
    if (++ub->loads % ENGINE_PROGRAMS == 0) {
        close_engine(ub);
        open_engine(ub);
    }
    /* QEMU remembers the exception in flight (env->old_exception) until it
     * delivers it, which the hook prevents: a second #DE in the same engine
     * would become #DF.  Going back to the saved context forgets it. */
    uc_check(uc_context_restore(ub->uc, ub->clean), "context restore");
    memcpy(ub->data, master, l->data_size);
    memset(ub->code_image, 0xf4, l->code_size);
    memcpy(ub->code_image + (l->prog_base - l->code_base), code, code_len);
    uc_check(uc_mem_write(ub->uc, l->code_base, ub->code_image, l->code_size),
             "write code");
    uc_ctl_remove_cache(ub->uc, l->code_base, l->code_base + l->code_size);
    for (int i = 0; i < l->nregs; i++) {
        uint64_t v = st->gpr[i];
        uc_check(uc_reg_write(ub->uc, l->nregs == 16 ? regs64[i] : regs32[i], &v),
                 "write GPR");
    }
    uint64_t v = st->eflags;
    uc_check(uc_reg_write(ub->uc, UC_X86_REG_EFLAGS, &v), "write EFLAGS");
    v = st->rip;
    uc_check(uc_reg_write(ub->uc, rip_reg(l), &v), "write RIP");
}

void ucbox_run_to(UcBox *ub, uint64_t end, uint64_t max_insns, ArchState *out)
{
    uint64_t rip = 0;
    uc_reg_read(ub->uc, rip_reg(ub->lay), &rip);
    if (ub->lay->width == 4)
        rip = (uint32_t)rip;
    ub->stopped = false;
    uc_err e = UC_ERR_OK;
    uint64_t cs_base = ub->lay->base[SEG_CS];
    if (rip != end)
        e = uc_emu_start(ub->uc, cs_base + rip, cs_base + end, 0, max_insns);
    if (ub->stopped) {
        *out = ub->at_stop;
        return;
    }
    read_state(ub, out);
    if (e == UC_ERR_INSN_INVALID)
        out->vector = EXC_UD;
    else if (e != UC_ERR_OK)
        out->uc_err = (int)e;
}

/* ---- feature probes -------------------------------------------------------- */

typedef struct Probe {
    const char *name;
    uint8_t code[8];
    uint8_t len;
    bool check_rax_32;        /* valid only if RAX became 32 (TZCNT/LZCNT of 0) */
} Probe;

/* Run `code` in a scratch 64-bit engine; true if it executed (and, for the
 * count instructions, gave the count rather than the BSF/BSR result). */
static bool probe_one(const Probe *pr)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
        return false;
    uc_ctl_set_cpu_model(uc, UC_CPU_X86_HASWELL);
    uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL);
    uc_mem_write(uc, 0x1000, pr->code, pr->len);
    uint64_t rax = 0x2000, rcx = 0;
    uc_reg_write(uc, UC_X86_REG_RAX, &rax);
    uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
    uc_err e = uc_emu_start(uc, 0x1000, 0x1000 + pr->len, 0, 0);
    uc_reg_read(uc, UC_X86_REG_RAX, &rax);
    uc_close(uc);
    if (e != UC_ERR_OK)
        return false;
    return !pr->check_rax_32 || rax == 32;
}

static void set_bit(uint32_t *word, uint32_t bit, bool on)
{
    *word = on ? (*word | bit) : (*word & ~bit);
}

void uc_probe_features(CpuFeatures *f, char *desc, size_t desc_len)
{
    static const Probe probes[] = {
        { "cmov", { 0x0f, 0x44, 0xc1 }, 3, false },
        { "cx8", { 0x0f, 0xc7, 0x08 }, 3, false },
        { "cx16", { 0x48, 0x0f, 0xc7, 0x08 }, 4, false },
        { "popcnt", { 0xf3, 0x0f, 0xb8, 0xc1 }, 4, false },
        { "movbe", { 0x0f, 0x38, 0xf0, 0x00 }, 4, false },
        { "bmi1(tzcnt)", { 0xf3, 0x0f, 0xbc, 0xc1 }, 4, true },
        { "abm(lzcnt)", { 0xf3, 0x0f, 0xbd, 0xc1 }, 4, true },
        { "lahf64", { 0x9f }, 1, false },
        { "clflush", { 0x0f, 0xae, 0x38 }, 3, false },
    };
    bool ok[sizeof(probes) / sizeof(probes[0])];
    size_t pos = 0;
    desc[0] = 0;
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        ok[i] = probe_one(&probes[i]);
        int n = snprintf(desc + pos, desc_len - pos, "%s%s%s", pos ? " " : "",
                         ok[i] ? "+" : "-", probes[i].name);
        if (n > 0 && (size_t)n < desc_len - pos)
            pos += (size_t)n;
    }
    cpu_default_features(f);
    set_bit(&f->leaf1_edx, CPUID1_EDX_CMOV, ok[0]);
    set_bit(&f->leaf1_edx, CPUID1_EDX_CX8, ok[1]);
    set_bit(&f->leaf1_ecx, CPUID1_ECX_CX16, ok[2]);
    set_bit(&f->leaf1_ecx, CPUID1_ECX_POPCNT, ok[3]);
    set_bit(&f->leaf1_ecx, CPUID1_ECX_MOVBE, ok[4]);
    set_bit(&f->leaf7_ebx, CPUID7_EBX_BMI1, ok[5]);
    set_bit(&f->ext1_ecx, CPUIDX_ECX_ABM, ok[6]);
    set_bit(&f->ext1_ecx, CPUIDX_ECX_LAHF, ok[7]);
    set_bit(&f->leaf1_edx, CPUID1_EDX_CLFLUSH, ok[8]);
}

int ucbox_probe_unit(UcBox *ub, const ArchState *st, const uint8_t *window,
                     const uint8_t *code, size_t code_len, uint64_t end,
                     uint64_t *addr)
{
    ucbox_load(ub, st, window, code, code_len);
    ub->outside = false;
    ArchState out;
    ucbox_run_to(ub, end, 100000, &out);
    if (ub->outside || out.uc_err) {
        *addr = ub->outside_addr;
        return PROBE_OUTSIDE;
    }
    if (out.vector >= 0 || out.rip != end)
        return PROBE_UNCLEAR;
    return PROBE_INSIDE;
}

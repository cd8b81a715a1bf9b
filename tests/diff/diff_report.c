/* The differential harness: comparing states and reporting failures.
 *
 * A failure report is meant to be enough to act on without re-running
 * anything: the seed, mode and program index (with the command that
 * replays it), the first unit after which the two sides differ (found by
 * re-running both one unit at a time), that unit's address, bytes and
 * Capstone disassembly, the registers and flags before and after it on both
 * sides, and the whole program.
 */
#include "tests/diff/diff.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpu/disas.h"

static const char *const reg_names64[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const reg_names32[8] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
};

static const char *reg_name(const Layout *lay, int i)
{
    return lay->nregs == 16 ? reg_names64[i] : reg_names32[i];
}

/* EFLAGS bits compared: the arithmetic flags (less the undefined ones),
 * DF, IF, TF, IOPL, NT, AC, ID; RF and VM stay 0 on both sides. */
#define EFLAGS_COMPARED 0x00277fd5u

static void flags_text(uint64_t f, char *buf, size_t len)
{
    snprintf(buf, len, "%c%c%c%c%c%c%c",
             (f & F_OF) ? 'O' : '-', (f & F_DF) ? 'D' : '-',
             (f & F_SF) ? 'S' : '-', (f & F_ZF) ? 'Z' : '-',
             (f & F_AF) ? 'A' : '-', (f & F_PF) ? 'P' : '-',
             (f & F_CF) ? 'C' : '-');
}

bool state_equal(const Layout *lay, const ArchState *a, const ArchState *b,
                 uint32_t undef, char *why, size_t why_len)
{
    if (b->uc_err) {
        snprintf(why, why_len, "unicorn stopped with error %d at %#" PRIx64,
                 b->uc_err, b->rip);
        return false;
    }
    if (a->vector != b->vector) {
        snprintf(why, why_len, "exception: vireo %d, unicorn %d (-1: none)",
                 a->vector, b->vector);
        return false;
    }
    for (int i = 0; i < lay->nregs; i++) {
        if (a->gpr[i] != b->gpr[i]) {
            snprintf(why, why_len, "%s: vireo %#" PRIx64 ", unicorn %#" PRIx64,
                     reg_name(lay, i), a->gpr[i], b->gpr[i]);
            return false;
        }
    }
    if (a->rip != b->rip) {
        snprintf(why, why_len, "rip: vireo %#" PRIx64 ", unicorn %#" PRIx64,
                 a->rip, b->rip);
        return false;
    }
    uint64_t mask = EFLAGS_COMPARED & ~(uint64_t)undef;
    if ((a->eflags & mask) != (b->eflags & mask)) {
        char fa[8], fb[8];
        flags_text(a->eflags, fa, sizeof(fa));
        flags_text(b->eflags, fb, sizeof(fb));
        snprintf(why, why_len,
                 "eflags: vireo %#" PRIx64 " (%s), unicorn %#" PRIx64
                 " (%s), differing bits %#" PRIx64 ", undefined %#x",
                 a->eflags, fa, b->eflags, fb, (a->eflags ^ b->eflags) & mask,
                 undef);
        return false;
    }
    return true;
}

/* Compare the data windows; false with a description on a difference. */
static bool memory_equal(const Layout *lay, const uint8_t *a, const uint8_t *b,
                         char *why, size_t why_len)
{
    if (memcmp(a, b, lay->data_size) == 0)
        return true;
    uint64_t i = 0;
    while (a[i] == b[i])
        i++;
    uint64_t last = lay->data_size - 1;
    while (a[last] == b[last])
        last--;
    snprintf(why, why_len,
             "memory at %#" PRIx64 ": vireo %02x, unicorn %02x (differences up to %#" PRIx64 ")",
             lay->data_base + i, a[i], b[i], lay->data_base + last);
    return false;
}

bool run_compare(VireoBox *vb, UcBox *ub, const ArchState *vs,
                 const ArchState *us, uint32_t undef, char *why, size_t why_len)
{
    return state_equal(vb->lay, vs, us, undef, why, why_len) &&
           memory_equal(vb->lay, vb->data, ucbox_data(ub), why, why_len);
}

/* ---- printing -------------------------------------------------------------- */

static void print_insn(const Layout *lay, uint64_t addr, const uint8_t *bytes,
                       unsigned len, const char *note)
{
    char text[128], hex[64];
    disas_one(bytes, len, addr, lay->cpu_mode, text, sizeof(text));
    size_t pos = 0;
    for (unsigned i = 0; i < len && pos + 4 < sizeof(hex); i++)
        pos += (size_t)snprintf(hex + pos, sizeof(hex) - pos, "%02x ", bytes[i]);
    printf("  %010" PRIx64 ":  %-36s %-40s%s\n", addr, hex, text, note);
}

static void print_unit(const Layout *lay, const Program *p, int i, const char *note)
{
    const Unit *u = &p->units[i];
    uint64_t addr = lay->prog_base + u->off;
    char buf[64];
    snprintf(buf, sizeof(buf), "%s%s", u->is_setup ? "  (setup)" : "", note);
    print_insn(lay, addr, p->code + u->off, u->first_len, buf);
    if (u->len > u->first_len)
        print_insn(lay, addr + u->first_len, p->code + u->off + u->first_len,
                   u->len - u->first_len, "  (filler)");
}

void print_program(const Layout *lay, const Program *p)
{
    printf("program %" PRIu64 ": %d units, %u instructions, %zu bytes%s\n",
           p->index, p->nunits, p->insns, p->len,
           p->end_vector >= 0 ? ", ends with an exception" : "");
    for (int i = 0; i < p->nunits; i++)
        print_unit(lay, p, i, "");
    printf("  bytes:");
    for (size_t i = 0; i < p->len; i++)
        printf(" %02x", p->code[i]);
    printf("\n");
}

void print_state(const Layout *lay, const char *title, const ArchState *s)
{
    char f[8];
    flags_text(s->eflags, f, sizeof(f));
    printf("  %s: rip=%#" PRIx64 " eflags=%#" PRIx64 " [%s] vector=%d\n", title,
           s->rip, s->eflags, f, s->vector);
    for (int i = 0; i < lay->nregs; i++)
        printf("    %-3s %016" PRIx64 "%s", reg_name(lay, i), s->gpr[i],
               (i % 4 == 3) ? "\n" : "");
}

static void print_side_by_side(const Layout *lay, const ArchState *before,
                               const ArchState *v, const ArchState *u,
                               uint32_t undef)
{
    printf("  %-6s %-18s %-18s %-18s\n", "", "before", "vireo", "unicorn");
    for (int i = 0; i < lay->nregs; i++)
        printf("  %-6s %016" PRIx64 "   %016" PRIx64 "   %016" PRIx64 "%s\n",
               reg_name(lay, i), before->gpr[i], v->gpr[i], u->gpr[i],
               v->gpr[i] != u->gpr[i] ? "   <--" : "");
    printf("  %-6s %016" PRIx64 "   %016" PRIx64 "   %016" PRIx64 "%s\n", "rip",
           before->rip, v->rip, u->rip, v->rip != u->rip ? "   <--" : "");
    char fb[8], fv[8], fu[8];
    flags_text(before->eflags, fb, sizeof(fb));
    flags_text(v->eflags, fv, sizeof(fv));
    flags_text(u->eflags, fu, sizeof(fu));
    uint64_t mask = EFLAGS_COMPARED & ~(uint64_t)undef;
    printf("  %-6s %08" PRIx64 " %-9s %08" PRIx64 " %-9s %08" PRIx64 " %-9s%s\n",
           "eflags", before->eflags, fb, v->eflags, fv, u->eflags, fu,
           ((v->eflags ^ u->eflags) & mask) ? "<--" : "");
    printf("  undefined flags masked: %#x; vector: vireo %d, unicorn %d\n",
           undef, v->vector, u->vector);
}

/* ---- the divergence search ------------------------------------------------ */

/* Both sides from the initial state, Vireo one unit at a time (REP
 * iterations visible), Unicorn to each unit's end: the first unit after
 * which they differ, or -1. */
static int search_stepping(VireoBox *vb, UcBox *ub, const Program *p,
                           const uint8_t *master, ArchState *before,
                           ArchState *vs, ArchState *us, char *why, size_t why_len)
{
    const Layout *lay = vb->lay;
    vbox_set_gen_mode(vb, false);
    vbox_load(vb, &p->init, master);
    ucbox_load(ub, &p->init, master, p->code, p->len);
    vbox_save(vb, before);
    for (int i = 0; i < p->nunits; i++) {
        const Unit *u = &p->units[i];
        uint64_t end = lay->prog_ip + u->off + u->len, icount;
        vbox_run_to(vb, end, &icount);
        vbox_save(vb, vs);
        ucbox_run_to(ub, end, 100000, us);
        if (!run_compare(vb, ub, vs, us, u->undef_after, why, why_len))
            return i;
        if (vs->vector >= 0)
            break;
        *before = *vs;
    }
    return -1;
}

/* The same with whole-block runs: for each unit, both sides start over
 * and run to its end in one go, Vireo with cpu_exec and an instruction
 * budget, so its blocks are built and run as in the full run. */
static int search_whole_runs(VireoBox *vb, UcBox *ub, const Program *p,
                             const uint8_t *master, ArchState *before,
                             ArchState *vs, ArchState *us, char *why, size_t why_len)
{
    const Layout *lay = vb->lay;
    uint64_t budget = 0;
    vbox_set_gen_mode(vb, false);
    vbox_load(vb, &p->init, master);
    vbox_save(vb, before);
    for (int i = 0; i < p->nunits; i++) {
        const Unit *u = &p->units[i];
        bool faults = i == p->nunits - 1 && p->end_vector >= 0;
        budget += u->icount + (faults ? 1 : 0);
        vbox_load(vb, &p->init, master);
        cpu_exec(&vb->cpu, vb->cpu.s.icount + budget);
        vbox_save(vb, vs);
        ucbox_load(ub, &p->init, master, p->code, p->len);
        ucbox_run_to(ub, lay->prog_ip + u->off + u->len, 100000, us);
        if (!run_compare(vb, ub, vs, us, u->undef_after, why, why_len))
            return i;
        *before = *vs;
    }
    return -1;
}

void report_failure(VireoBox *vb, UcBox *ub, const Program *p,
                    const uint8_t *master, uint64_t seed, const char *why)
{
    const Layout *lay = vb->lay;
    printf("FAIL seed=%" PRIu64 " mode=%s program=%" PRIu64 ": %s\n", seed,
           lay->name, p->index, why);

    ArchState before, vs, us;
    char unit_why[256] = "";
    const char *how = "one unit at a time";
    int found = search_stepping(vb, ub, p, master, &before, &vs, &us, unit_why,
                                sizeof(unit_why));
    if (found < 0) {
        how = "running whole blocks up to each unit";
        found = search_whole_runs(vb, ub, p, master, &before, &vs, &us, unit_why,
                                  sizeof(unit_why));
    }
    if (found >= 0) {
        printf("first divergence (%s) after unit %d of %d: %s\n", how, found,
               p->nunits, unit_why);
        print_unit(lay, p, found, "   <-- here");
        print_side_by_side(lay, &before, &vs, &us, p->units[found].undef_after);
    } else {
        printf("no divergence found unit by unit, only in the whole run\n");
    }
    print_program(lay, p);
    print_state(lay, "initial", &p->init);
    printf("replay: build/tests/diff/diff_unicorn --mode %s --seed %" PRIu64
           " --program %" PRIu64 " --verbose\n", lay->name, seed, p->index);
}

void trace_program(VireoBox *vb, UcBox *ub, const Program *p,
                   const uint8_t *master)
{
    const Layout *lay = vb->lay;
    printf("trace of program %" PRIu64 " one unit at a time (flags: vireo / unicorn):\n",
           p->index);
    vbox_set_gen_mode(vb, false);
    vbox_load(vb, &p->init, master);
    ucbox_load(ub, &p->init, master, p->code, p->len);
    for (int i = 0; i < p->nunits; i++) {
        const Unit *u = &p->units[i];
        uint64_t end = lay->prog_ip + u->off + u->len, icount;
        ArchState vs, us;
        vbox_run_to(vb, end, &icount);
        vbox_save(vb, &vs);
        ucbox_run_to(ub, end, 100000, &us);
        char fv[8], fu[8];
        flags_text(vs.eflags, fv, sizeof(fv));
        flags_text(us.eflags, fu, sizeof(fu));
        char note[96];
        snprintf(note, sizeof(note), "  %s / %s undef %#x%s", fv, fu, u->undef_after,
                 memcmp(vb->data, ucbox_data(ub), lay->data_size) ? " MEMORY" : "");
        print_unit(lay, p, i, note);
        for (int r = 0; r < lay->nregs; r++)
            if (vs.gpr[r] != us.gpr[r])
                printf("      %s: vireo %#" PRIx64 ", unicorn %#" PRIx64 "\n",
                       reg_name(lay, r), vs.gpr[r], us.gpr[r]);
        if (vs.vector >= 0 || us.vector >= 0 || us.uc_err)
            break;
    }
}

void report_trap(const Layout *lay, uint64_t seed, const Program *p,
                 const uint8_t *unit, unsigned len, const ArchState *before,
                 uint64_t vireo_addr)
{
    printf("FAIL seed=%" PRIu64 " mode=%s program=%" PRIu64 ": while generating, "
           "vireo accessed %#" PRIx64 " outside the data window; unicorn ran the "
           "same unit from the same state inside it\n", seed, lay->name, p->index,
           vireo_addr);
    print_insn(lay, lay->prog_base + p->len, unit, len, "   <-- here");
    print_state(lay, "state before it", before);
    print_program(lay, p);
    printf("replay: build/tests/diff/diff_unicorn --mode %s --seed %" PRIu64
           " --program %" PRIu64 " --verbose\n", lay->name, seed, p->index);
}

/* The real-chip vector runner: SingleStepTests 80286, real mode (issue 3).
 *
 *   build/tests/sst/sst286 [--all] [DIR [STEM...]]
 *
 * DIR (default ../shared/tests/sst286) holds the converted vectors, one
 * `<stem>.txt.gz` per opcode; its README.md defines the line format, how to
 * run a test and what to compare ("Running a test"), and the table "80286
 * versus 386+/x86-64 in real mode" of what a 386+ must do differently.
 * Optional STEMs (e.g. `01 F7.6`) restrict the run to those files; --all
 * (for triage) applies no rule, so each skipped or masked test shows how a
 * 386+ differs.
 *
 * Each test runs on one real-mode Cpu, reset for it (registers, decoded
 * blocks), over 16 MiB of RAM filled with F4 and an I/O space with nothing
 * mapped (every port reads all-ones), until the HLT that
 * follows the instruction (or its exception handler) has executed.  Vireo
 * is a 386+, so the cases where the README says a 386+ must differ are
 * skipped or masked, each by a rule computed from the test's own bytes and
 * fields; the table printed at the end gives every rule, its count and the
 * README row it comes from.  Everything else must match the chip: the
 * registers of field 5 (and, stricter, every other register unchanged), the
 * flags under the mask of field 8, the RAM bytes of field 6 (and every other
 * initial byte unchanged; the FLAGS word pushed by an exception under the
 * mask), and no write anywhere else (RAM is scanned after every file).
 *
 * The last line is "N passed, M failed", counting test vectors.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "cpu/cpu.h"
#include "mmu/addrspace.h"

#define DEFAULT_DIR "../shared/tests/sst286"
#define RAM_SIZE (16u << 20)
#define RAM_FILL 0xf4            /* a stray jump halts at once */
#define LINE_MAX_LEN (64 * 1024)
#define MAX_RAM_BYTES 1024
#define MAX_INSN_BYTES 32
#define MAX_REPORTS 40           /* failing tests described in full */

/* ---- one test ----------------------------------------------------------- */

/* Field order of the register lists (README "Line format", field 3). */
enum { RG_AX, RG_BX, RG_CX, RG_DX, RG_CS, RG_SS, RG_DS, RG_ES, RG_SP, RG_BP,
       RG_SI, RG_DI, RG_IP, RG_FLAGS, RG_COUNT };
static const char *const reg_names[RG_COUNT] = {
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di",
    "ip", "flags",
};
/* Where each field register lives in Vireo: a GPR or a segment number. */
static const int reg_gpr[RG_COUNT] = {
    R_AX, R_BX, R_CX, R_DX, -1, -1, -1, -1, R_SP, R_BP, R_SI, R_DI, -1, -1,
};
static const int reg_seg[RG_COUNT] = {
    -1, -1, -1, -1, SEG_CS, SEG_SS, SEG_DS, SEG_ES, -1, -1, -1, -1, -1, -1,
};

typedef struct RamByte {
    uint32_t addr;
    uint8_t value;
} RamByte;

typedef struct Test {
    const char *name, *hash;        /* point into the line buffer */
    uint8_t bytes[MAX_INSN_BYTES];
    unsigned nbytes;                /* including the trailing f4 */
    uint16_t init[RG_COUNT];
    uint16_t final[RG_COUNT];       /* expected: field 5 over field 3 */
    unsigned final_listed;          /* bit per register listed in field 5 */
    RamByte iram[MAX_RAM_BYTES], fram[MAX_RAM_BYTES];
    unsigned n_iram, n_fram;
    int vector;                     /* field 7, -1 for "-" */
    uint16_t mask;                  /* field 8 */
} Test;

/* Split `s` at the list separator `sep`, then each item at `kv`. */
static bool parse_regs(char *s, uint16_t *vals, unsigned *listed)
{
    *listed = 0;
    if (strcmp(s, "-") == 0)
        return true;
    for (char *item = strtok(s, ","); item; item = strtok(NULL, ",")) {
        char *eq = strchr(item, '=');
        if (!eq)
            return false;
        *eq = '\0';
        int r;
        for (r = 0; r < RG_COUNT && strcmp(reg_names[r], item) != 0; r++)
            ;
        if (r == RG_COUNT)
            return false;
        vals[r] = (uint16_t)strtoul(eq + 1, NULL, 16);
        *listed |= 1u << r;
    }
    return true;
}

static bool parse_ram(char *s, RamByte *out, unsigned *n)
{
    *n = 0;
    if (strcmp(s, "-") == 0)
        return true;
    for (char *item = strtok(s, ","); item; item = strtok(NULL, ",")) {
        char *colon = strchr(item, ':');
        if (!colon || *n >= MAX_RAM_BYTES)
            return false;
        out[*n].addr = (uint32_t)strtoul(item, NULL, 16);
        out[*n].value = (uint8_t)strtoul(colon + 1, NULL, 16);
        if (out[*n].addr >= RAM_SIZE)
            return false;
        (*n)++;
    }
    return true;
}

/* Parse one line (modified in place) into `t`. */
static bool parse_test(char *line, Test *t)
{
    char *field[9];
    line[strcspn(line, "\r\n")] = '\0';
    for (int i = 0; i < 9; i++) {
        field[i] = line;
        char *sep = strstr(line, " | ");
        if (i < 8) {
            if (!sep)
                return false;
            *sep = '\0';
            line = sep + 3;
        }
    }
    t->name = field[0];
    t->hash = field[8];
    size_t hex = strlen(field[1]);
    if (hex < 2 || hex % 2 || hex / 2 > MAX_INSN_BYTES)
        return false;
    t->nbytes = (unsigned)(hex / 2);
    for (unsigned i = 0; i < t->nbytes; i++) {
        char pair[3] = { field[1][2 * i], field[1][2 * i + 1], '\0' };
        t->bytes[i] = (uint8_t)strtoul(pair, NULL, 16);
    }
    unsigned listed;
    if (!parse_regs(field[2], t->init, &listed) || listed != (1u << RG_COUNT) - 1)
        return false;
    memcpy(t->final, t->init, sizeof(t->final));
    /* Bits 12-15 of the initial FLAGS are random: load them as 0 (README
     * "Running a test" step 2); an unlisted final FLAGS never has them. */
    t->final[RG_FLAGS] &= 0x0fff;
    if (!parse_regs(field[4], t->final, &t->final_listed))
        return false;
    if (!parse_ram(field[3], t->iram, &t->n_iram) ||
        !parse_ram(field[5], t->fram, &t->n_fram))
        return false;
    t->vector = strcmp(field[6], "-") == 0 ? -1 : (int)strtol(field[6], NULL, 16);
    t->mask = (uint16_t)strtoul(field[7], NULL, 16);
    return true;
}

/* ---- what the instruction is (for the 286-vs-386 rules) ----------------- */

typedef struct InsnInfo {
    unsigned len;          /* bytes before the trailing HLT */
    bool lock, rep;
    int seg;               /* segment override, or -1 */
    uint8_t op, modrm;
    unsigned reg;          /* ModRM.reg */
    bool mem;              /* has a memory operand at `ea` */
    bool mem_ss;           /* ... in the stack segment */
    uint16_t ea;
} InsnInfo;

/* One-byte opcodes with a ModRM byte on the 286. */
static bool op_has_modrm(uint8_t op)
{
    if (op < 0x40)
        return (op & 7) < 4;
    if (op >= 0x80 && op <= 0x8f)
        return true;
    switch (op) {
    case 0x62: case 0x63: case 0x69: case 0x6b: case 0xc0: case 0xc1:
    case 0xc4: case 0xc5: case 0xc6: case 0xc7: case 0xd0: case 0xd1:
    case 0xd2: case 0xd3: case 0xf6: case 0xf7: case 0xfe: case 0xff:
        return true;
    default:
        return op >= 0xd8 && op <= 0xdf;
    }
}

static void analyse(const Test *t, InsnInfo *in)
{
    const uint8_t *b = t->bytes;
    unsigned i = 0, n = t->nbytes - 1;
    memset(in, 0, sizeof(*in));
    in->len = n;
    in->seg = -1;
    for (; i < n; i++) {
        switch (b[i]) {
        case 0xf0: in->lock = true; continue;
        case 0xf2: case 0xf3: in->rep = true; continue;
        case 0x26: in->seg = SEG_ES; continue;
        case 0x2e: in->seg = SEG_CS; continue;
        case 0x36: in->seg = SEG_SS; continue;
        case 0x3e: in->seg = SEG_DS; continue;
        }
        break;
    }
    if (i >= n)
        return;
    in->op = b[i++];
    if (in->op == 0xa0 || in->op == 0xa1 || in->op == 0xa2 || in->op == 0xa3) {
        in->mem = true;
        in->ea = (uint16_t)(b[i] | b[i + 1] << 8);
        in->mem_ss = in->seg == SEG_SS;
        return;
    }
    if (!op_has_modrm(in->op) || i >= n)
        return;
    in->modrm = b[i++];
    in->reg = (in->modrm >> 3) & 7;
    unsigned mod = in->modrm >> 6, rm = in->modrm & 7;
    if (mod == 3)
        return;
    /* The 16-bit effective address (SDM Vol. 2 Table 2-1). */
    const uint16_t *r = t->init;
    static const int base[8] = { RG_BX, RG_BX, RG_BP, RG_BP, -1, -1, RG_BP, RG_BX };
    static const int index[8] = { RG_SI, RG_DI, RG_SI, RG_DI, RG_SI, RG_DI, -1, -1 };
    uint16_t ea = 0;
    bool bp_based = false;
    if (mod == 0 && rm == 6) {
        ea = (uint16_t)(b[i] | b[i + 1] << 8);
    } else {
        if (base[rm] >= 0) ea += r[base[rm]];
        if (index[rm] >= 0) ea += r[index[rm]];
        bp_based = base[rm] == RG_BP;
        if (mod == 1) ea += (uint16_t)(int8_t)b[i];
        if (mod == 2) ea += (uint16_t)(b[i] | b[i + 1] << 8);
    }
    in->mem = in->op != 0x8d;   /* LEA computes, never accesses */
    in->ea = ea;
    in->mem_ss = in->seg >= 0 ? in->seg == SEG_SS : bp_based;
}

/* How many consecutive words the memory operand covers (0: a byte). */
static unsigned mem_words(const InsnInfo *in)
{
    uint8_t op = in->op;
    if (op < 0x40)
        return op & 1;
    switch (op) {
    case 0x62: case 0xc4: case 0xc5:
        return 2;
    case 0x69: case 0x6b: case 0x81: case 0x83: case 0x85: case 0x87:
    case 0x89: case 0x8b: case 0x8c: case 0x8e: case 0x8f: case 0xa1:
    case 0xa3: case 0xc1: case 0xc7: case 0xd1: case 0xd3: case 0xf7:
        return 1;
    case 0xff:
        return in->reg == 3 || in->reg == 5 ? 2 : 1;
    default:
        return 0;
    }
}

static bool mem_hits_ffff(const InsnInfo *in)
{
    unsigned words = in->mem ? mem_words(in) : 0;
    for (unsigned k = 0; k < words; k++)
        if ((uint16_t)(in->ea + 2 * k) == 0xffff)
            return true;
    return false;
}

/* Does an implicit stack access of the instruction touch SS:FFFF? */
static bool stack_hits_ffff(const Test *t, const InsnInfo *in)
{
    unsigned push = 0, pop = 0;
    uint8_t op = in->op;
    uint16_t sp = t->init[RG_SP];
    if (op == 0xc9)                      /* LEAVE pops at BP */
        return t->init[RG_BP] == 0xffff;
    if ((op >= 0x50 && op <= 0x57) || op == 0x06 || op == 0x0e || op == 0x16 ||
        op == 0x1e || op == 0x68 || op == 0x6a || op == 0x9c || op == 0xe8 ||
        (op == 0xff && (in->reg == 2 || in->reg == 6)))
        push = 1;
    else if (op == 0x9a || (op == 0xff && in->reg == 3))
        push = 2;
    else if (op == 0x60)
        push = 8;
    else if ((op >= 0x58 && op <= 0x5f) || op == 0x07 || op == 0x17 ||
             op == 0x1f || op == 0x8f || op == 0x9d || op == 0xc2 || op == 0xc3)
        pop = 1;
    else if (op == 0xca || op == 0xcb)
        pop = 2;
    else if (op == 0xcf)
        pop = 3;
    else if (op == 0x61)
        pop = 8;
    for (unsigned k = 1; k <= push; k++)
        if ((uint16_t)(sp - 2 * k) == 0xffff)
            return true;
    for (unsigned k = 0; k < pop; k++)
        if ((uint16_t)(sp + 2 * k) == 0xffff)
            return true;
    return false;
}

/* A word string instruction that faults at offset FFFF: does the first
 * access to reach FFFF use SS (a 386+ raises #SS there, not #GP)? */
static bool string_fault_in_ss(const Test *t, const InsnInfo *in)
{
    uint8_t op = in->op;
    bool src = op == 0xa5 || op == 0xa7 || op == 0xad || op == 0x6f;
    int src_seg = in->seg >= 0 ? in->seg : SEG_DS;
    unsigned count = in->rep ? t->init[RG_CX] : 1;
    int step = (t->init[RG_FLAGS] & F_DF) ? -2 : 2;
    uint16_t si = t->init[RG_SI];
    for (unsigned k = 0; k < count; k++) {
        if (src && (uint16_t)(si + k * step) == 0xffff)
            return src_seg == SEG_SS;
        if (op != 0xad && op != 0x6f &&
            (uint16_t)(t->init[RG_DI] + k * step) == 0xffff)
            return false;   /* the ES:DI side faults: #GP on a 386+ too */
    }
    return false;
}

static bool is_word_string(uint8_t op)
{
    return op == 0xa5 || op == 0xa7 || op == 0xab || op == 0xad ||
           op == 0xaf || op == 0x6d || op == 0x6f;
}

/* LOCK is legal on a 386+ only before these, with a memory destination
 * (SDM Vol. 2 "LOCK"). */
static bool lockable(const InsnInfo *in)
{
    uint8_t op = in->op;
    if (!in->mem)
        return false;
    if (op < 0x38)
        return (op & 7) < 2;
    if (op == 0x80 || op == 0x81 || op == 0x83)
        return in->reg != 7;
    if (op == 0x86 || op == 0x87)
        return true;
    if (op == 0xf6 || op == 0xf7)
        return in->reg == 2 || in->reg == 3;
    if (op == 0xfe || op == 0xff)
        return in->reg <= 1;
    return false;
}

/* ---- the 286-versus-386 rules (README table rows) ----------------------- */

enum {
    RULE_NONE,
    SKIP_LOCK, SKIP_LENGTH, SKIP_SS_FAULT, SKIP_POP_RM_FAULT, SKIP_MOV_FS_GS,
    MASK_STRING_FAULT, MASK_POPF_IOPL,
    RULE_COUNT
};

static const struct {
    const char *name;
    const char *reason;
} rules[RULE_COUNT] = {
    [SKIP_LOCK] = { "skip lock-not-lockable",
        "row 4: the 286 ignores LOCK; a 386+ raises #UD for LOCK on a "
        "non-lockable instruction or a register destination" },
    [SKIP_LENGTH] = { "skip longer-than-10",
        "row 5: the 286 faults (vector 0x0d) on >10 bytes; the 386+ limit is 15" },
    [SKIP_SS_FAULT] = { "skip ss-word-at-ffff",
        "row 6: the 286 raises 0x0d for an SS word access at offset FFFF; "
        "a 386+ raises #SS (12)" },
    [SKIP_POP_RM_FAULT] = { "skip pop-rm-fault",
        "row 7a: 8F faulting on its destination has already moved SP on the "
        "286; 386+ faults are restartable" },
    [SKIP_MOV_FS_GS] = { "skip mov-sreg-4-5",
        "row 8: 8C/8E with reg 4 or 5 are #UD on the 286, MOV FS/GS on a 386+" },
    [MASK_STRING_FAULT] = { "mask si/di/cx",
        "row 7b: a word string op faulting at FFFF has advanced SI/DI (and CX "
        "under REP) on the 286; 386+ faults are restartable" },
    [MASK_POPF_IOPL] = { "mask flags 12-15",
        "row 1: POPF/IRET in real mode load IOPL/NT on a 386+, not on the "
        "286; flags compared under mask & 0x0fff" },
};

/* The FLAGS word a POPF/IRET of this test pops, or -1 if not in the RAM. */
static int popped_flags(const Test *t, unsigned offset)
{
    int v = 0;
    for (unsigned k = 0; k < 2; k++) {
        uint32_t a = ((uint32_t)t->init[RG_SS] << 4) +
                     (uint16_t)(t->init[RG_SP] + offset + k);
        unsigned j;
        for (j = 0; j < t->n_iram && t->iram[j].addr != a; j++)
            ;
        if (j == t->n_iram)
            return -1;
        v |= t->iram[j].value << (8 * k);
    }
    return v;
}

/* Which rule applies to `t`, and the register/flag masks it implies. */
static int classify(const Test *t, unsigned *reg_skip, uint16_t *flag_mask)
{
    InsnInfo in;
    analyse(t, &in);
    *reg_skip = 0;
    *flag_mask = t->mask;
    /* An encoding the 286 already rejects (vector 6) is #UD on a 386+ too,
     * LOCK or length notwithstanding: those tests still run. */
    if (in.lock && !lockable(&in) && t->vector != EXC_UD)
        return SKIP_LOCK;
    if (in.len > 10 && t->vector != EXC_UD)
        return SKIP_LENGTH;
    if ((in.op == 0x8c || in.op == 0x8e) && (in.reg == 4 || in.reg == 5))
        return SKIP_MOV_FS_GS;
    if (t->vector == 0x0d) {
        if (is_word_string(in.op)) {
            if (string_fault_in_ss(t, &in))
                return SKIP_SS_FAULT;
            *reg_skip = 1u << RG_SI | 1u << RG_DI | (in.rep ? 1u << RG_CX : 0);
            return MASK_STRING_FAULT;
        }
        bool mem = mem_hits_ffff(&in), stack = stack_hits_ffff(t, &in);
        if (in.op == 0x8f) {          /* POP m16: the stack is read first */
            if (stack)
                return SKIP_SS_FAULT;
            if (mem)
                return in.mem_ss ? SKIP_SS_FAULT : SKIP_POP_RM_FAULT;
        }
        if (mem ? in.mem_ss : stack)
            return SKIP_SS_FAULT;
    }
    int popped = in.op == 0x9d ? popped_flags(t, 0) :
                 in.op == 0xcf ? popped_flags(t, 4) : -2;
    if (popped == -1 || (popped >= 0 && (popped & (F_IOPL | F_NT)))) {
        *flag_mask &= 0x0fff;
        return MASK_POPF_IOPL;
    }
    return RULE_NONE;
}

/* ---- running and comparing ---------------------------------------------- */

typedef struct Harness {
    AddressSpace mem, io;
    uint8_t *ram;
    Cpu cpu;
    unsigned reports;
    bool all;           /* --all: no rule applies, every failure reported */
} Harness;

static void load_test(Harness *h, const Test *t)
{
    Cpu *cpu = &h->cpu;
    cpu_reset(cpu);            /* also drops the decoded blocks */
    for (int r = 0; r < RG_COUNT; r++) {
        if (reg_gpr[r] >= 0)
            cpu->s.regs[reg_gpr[r]] = t->init[r];
        if (reg_seg[r] >= 0)
            cpu_load_seg_real(cpu, reg_seg[r], t->init[r]);
    }
    cpu->s.rip = t->init[RG_IP];
    cpu_set_eflags(cpu, t->init[RG_FLAGS] & 0x0fff, ~0ull);
    for (unsigned i = 0; i < t->n_iram; i++)
        h->ram[t->iram[i].addr] = t->iram[i].value;
}

/* Append a difference to `buf` (kept short: the first few suffice). */
static void note(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    if (used + 1 < size)
        vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

/* Compare the machine with the expected final state; returns true if it
 * matches, else describes the differences in `why`. */
static bool compare(Harness *h, const Test *t, unsigned reg_skip,
                    uint16_t flag_mask, char *why, size_t size)
{
    Cpu *cpu = &h->cpu;
    why[0] = '\0';
    if (!cpu->s.halted || cpu->shutdown)
        note(why, size, "  did not reach the HLT (%s, pending vector %d)\n",
             cpu->shutdown ? "shutdown" : "still running",
             (int)cpu->s.exception.vector);
    for (int r = 0; r < RG_COUNT; r++) {
        if (reg_skip & (1u << r))
            continue;
        uint64_t got, want = t->final[r];
        if (reg_gpr[r] >= 0)
            got = cpu->s.regs[reg_gpr[r]];
        else if (reg_seg[r] >= 0)
            got = cpu->s.seg[reg_seg[r]].selector;
        else if (r == RG_IP)
            got = cpu->s.rip;
        else
            got = cpu_get_eflags(cpu);
        bool ok = r == RG_FLAGS ? ((got ^ want) & flag_mask) == 0 && got >> 16 == 0
                                : got == want;
        if (reg_seg[r] >= 0 && cpu->s.seg[reg_seg[r]].base != (uint64_t)want << 4)
            ok = false;
        if (!ok)
            note(why, size, "  %s: expected %04llx, got %04llx\n", reg_names[r],
                 (unsigned long long)want, (unsigned long long)got);
    }
    /* Where an exception or interrupt pushed FLAGS: compared under the mask. */
    uint32_t flags_at = UINT32_MAX;
    if (t->vector >= 0)
        flags_at = ((uint32_t)t->final[RG_SS] << 4) +
                   (uint16_t)(t->final[RG_SP] + 4);
    /* Expected RAM: field 6 over field 4; every listed byte must match. */
    for (unsigned pass = 0; pass < 2; pass++) {
        const RamByte *list = pass ? t->fram : t->iram;
        unsigned n = pass ? t->n_fram : t->n_iram;
        for (unsigned i = 0; i < n; i++) {
            uint32_t a = list[i].addr;
            uint8_t want = list[i].value;
            bool dup = false;
            /* A byte in both lists is compared once, against field 6. */
            for (unsigned j = 0; j < (pass ? t->n_iram : t->n_fram); j++) {
                if (pass && t->iram[j].addr == a)
                    dup = true;
                if (!pass && t->fram[j].addr == a)
                    want = t->fram[j].value;
            }
            if (dup)
                continue;
            uint8_t m = 0xff;
            if (a == flags_at)
                m = (uint8_t)flag_mask;
            else if (a == flags_at + 1)
                m = (uint8_t)(flag_mask >> 8);
            if ((h->ram[a] ^ want) & m)
                note(why, size, "  ram[%05x]: expected %02x, got %02x\n",
                     (unsigned)a, want, h->ram[a]);
        }
    }
    return why[0] == '\0';
}

/* Put the RAM bytes a test named back to the fill value. */
static void unload_test(Harness *h, const Test *t)
{
    for (unsigned i = 0; i < t->n_iram; i++)
        h->ram[t->iram[i].addr] = RAM_FILL;
    for (unsigned i = 0; i < t->n_fram; i++)
        h->ram[t->fram[i].addr] = RAM_FILL;
}

/* Find bytes that differ from the fill (writes no test listed), report up
 * to a few, and restore them.  Returns how many were found. */
static unsigned scan_stray_writes(Harness *h, const char *where)
{
    static uint8_t fill[4096];
    unsigned found = 0;
    if (!fill[0])
        memset(fill, RAM_FILL, sizeof(fill));
    for (uint32_t page = 0; page < RAM_SIZE; page += sizeof(fill)) {
        if (memcmp(h->ram + page, fill, sizeof(fill)) == 0)
            continue;
        for (uint32_t a = page; a < page + sizeof(fill); a++) {
            if (h->ram[a] == RAM_FILL)
                continue;
            if (found++ < 4)
                printf("  %s: stray write ram[%05x] = %02x\n", where, a, h->ram[a]);
            h->ram[a] = RAM_FILL;
        }
    }
    return found;
}

typedef struct Counts {
    unsigned long passed, failed, rule[RULE_COUNT];
} Counts;

/* Run one file.  With `scan_each`, RAM is scanned after every test (used to
 * name the tests behind a stray write the per-file scan found). */
static int run_file(Harness *h, const char *path, const char *stem,
                    bool scan_each, Counts *c)
{
    static char line[LINE_MAX_LEN];
    static Test t;
    char why[1024];
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        printf("sst286: cannot open %s\n", path);
        return -1;
    }
    unsigned index = 0;
    while (gzgets(gz, line, sizeof(line))) {
        index++;
        if (!parse_test(line, &t)) {
            printf("sst286: %s line %u: malformed test\n", path, index);
            c->failed++;
            continue;
        }
        unsigned reg_skip;
        uint16_t flag_mask;
        int rule = classify(&t, &reg_skip, &flag_mask);
        c->rule[rule]++;
        if (h->all) {
            reg_skip = 0;
            flag_mask = t.mask;
        } else if (rule >= SKIP_LOCK && rule <= SKIP_MOV_FS_GS) {
            continue;
        }
        load_test(h, &t);
        cpu_exec(&h->cpu, h->cpu.s.icount + 1000);
        bool ok = compare(h, &t, reg_skip, flag_mask, why, sizeof(why));
        unload_test(h, &t);
        if (scan_each && scan_stray_writes(h, t.hash)) {
            ok = false;
            note(why, sizeof(why), "  wrote RAM outside the test's lists\n");
        }
        if (ok) {
            c->passed++;
            continue;
        }
        c->failed++;
        if (h->reports++ < MAX_REPORTS || h->all)
            printf("FAIL %s #%u [%s]: %s | %s\n%s", stem, index,
                   rule ? rules[rule].name : "no rule", t.name, t.hash, why);
    }
    int err;
    const char *msg = gzerror(gz, &err);
    if (err != Z_OK && err != Z_STREAM_END) {
        printf("sst286: %s: read error: %s\n", path, msg);
        c->failed++;
    }
    gzclose(gz);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The `<stem>.txt.gz` files of `dir`, sorted; NULL-terminated. */
static char **list_files(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t n = 0, cap = 512;
    char **names = malloc(cap * sizeof(*names));
    struct dirent *e;
    while (names && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 7 || strcmp(e->d_name + len - 7, ".txt.gz") != 0)
            continue;
        if (n + 1 >= cap)
            break;
        names[n] = strndup(e->d_name, len - 7);
        if (names[n])
            n++;
    }
    closedir(d);
    if (!names)
        return NULL;
    qsort(names, n, sizeof(*names), cmp_names);
    names[n] = NULL;
    *count = n;
    return names;
}

/* Command line: [--all] [DIR [STEM...]]. */
typedef struct Options {
    const char *dir;
    char **stems;
    int nstems;
    bool all;        /* triage: ignore the rules, run and compare everything */
} Options;

static bool wanted(const Options *o, const char *stem)
{
    if (o->nstems == 0)
        return true;
    for (int i = 0; i < o->nstems; i++)
        if (strcasecmp(o->stems[i], stem) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    Options o = { DEFAULT_DIR, NULL, 0, false };
    int arg = 1;
    if (arg < argc && strcmp(argv[arg], "--all") == 0) {
        o.all = true;
        arg++;
    }
    if (arg < argc)
        o.dir = argv[arg++];
    o.stems = argv + arg;
    o.nstems = argc - arg;
    const char *dir = o.dir;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("sst286: test directory %s not found "
               "(usage: sst286 [--all] [DIR [STEM...]])\n", dir);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    size_t nfiles = 0;
    char **stems = list_files(dir, &nfiles);
    if (!stems || nfiles == 0) {
        printf("sst286: no <stem>.txt.gz test files in %s\n", dir);
        printf("0 passed, 1 failed\n");
        return 1;
    }

    static Harness h;
    h.ram = malloc(RAM_SIZE);
    if (!h.ram) {
        printf("sst286: out of memory\n0 passed, 1 failed\n");
        return 1;
    }
    memset(h.ram, RAM_FILL, RAM_SIZE);
    as_init(&h.mem, "memory", 0);
    as_init(&h.io, "io", 1u << 16);   /* nothing mapped: ports read all-ones */
    if (as_map_ram(&h.mem, "ram", 0, RAM_SIZE, h.ram) != 0) {
        printf("sst286: cannot map RAM\n0 passed, 1 failed\n");
        return 1;
    }
    cpu_init(&h.cpu, &h.mem, &h.io);
    h.all = o.all;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    Counts total = { 0 };
    size_t files_run = 0;
    for (size_t i = 0; i < nfiles; i++) {
        if (!wanted(&o, stems[i]))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.txt.gz", dir, stems[i]);
        Counts c = { 0 };
        if (run_file(&h, path, stems[i], false, &c) != 0) {
            total.failed++;
            continue;
        }
        if (scan_stray_writes(&h, stems[i])) {
            /* Run the file again, scanning after each test, to name them. */
            memset(&c, 0, sizeof(c));
            run_file(&h, path, stems[i], true, &c);
        }
        total.passed += c.passed;
        total.failed += c.failed;
        for (int r = 0; r < RULE_COUNT; r++)
            total.rule[r] += c.rule[r];
        files_run++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

    unsigned long skipped = 0, masked = 0;
    printf("\n286-vs-386+ rules (README \"80286 versus 386+/x86-64 in real mode\")%s:\n",
           o.all ? ", counted but not applied (--all)" : "");
    printf("  %-24s %7s  %s\n", "category", "tests", "reason");
    for (int r = SKIP_LOCK; r < RULE_COUNT; r++) {
        printf("  %-24s %7lu  %s\n", rules[r].name, total.rule[r], rules[r].reason);
        if (o.all)
            continue;
        if (r <= SKIP_MOV_FS_GS)
            skipped += total.rule[r];
        else
            masked += total.rule[r];
    }
    printf("%zu files, %lu vectors: %lu skipped, %lu run (%lu of them with a mask), "
           "%.2f s\n", files_run, total.passed + total.failed + skipped, skipped,
           total.passed + total.failed, masked, secs);
    printf("%lu passed, %lu failed\n", total.passed, total.failed);

    cpu_destroy(&h.cpu);
    as_destroy(&h.mem);
    as_destroy(&h.io);
    free(h.ram);
    for (size_t i = 0; i < nfiles; i++)
        free(stems[i]);
    free(stems);
    return total.failed ? 1 : 0;
}

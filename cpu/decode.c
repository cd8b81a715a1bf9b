/* The instruction decoder (SDM Vol. 2, ch. 2 "Instruction Format" and
 * Appendix A "Opcode Map").
 *
 * Prefixes, REX, the opcode (one-byte, 0F, 0F 38, 0F 3A maps), ModRM, SIB,
 * displacement and immediates, driven by the rows of cpu/opcodes.def.  See
 * docs/decoder.md for how a row is chosen and how operand specs become
 * operand kinds.
 */
#include "cpu/decode.h"

#include <pthread.h>
#include <string.h>

#include "cpu/insn.h"
#include "util/log.h"

/* ---- the table ---------------------------------------------------------- */

enum { M1, M0F, M38, M3A, MAP_COUNT };

/* ModRM constraints of a row (the `ext` column). */
#define X_NONE   0x000
#define R(n)     (0x100 | (n))   /* reg field n, any mod */
#define RM(n)    (0x200 | (n))   /* reg field n, memory form only */
#define RR(n)    (0x400 | (n))   /* reg field n, register form only */
#define MR(b)    (0x800 | (b))   /* exact ModRM byte (mod = 3) */

enum { P_ANY, P_NONE, P_66, P_F3, P_F2 };

enum { S_NONE, S_B, S_W, S_D, S_Q, S_V, S_Y, S_Z, S_D64, S_F64 };

enum {
    O_NONE,
    O_Eb, O_Ev, O_Ew, O_Ed,
    O_Gb, O_Gv, O_Gw,
    O_Zb, O_Zv,
    O_AL, O_rAX, O_CL, O_DX,
    O_Ib, O_Ibs, O_Iw, O_Iz, O_Iv, O_I1,
    O_Jb, O_Jz,
    O_M, O_Ob, O_Ov, O_Ap,
    O_Sw, O_ES, O_CS, O_SS, O_DS, O_FS, O_GS,
    O_Cy, O_Dy, O_Ry,
    /* SIMD (SDM Vol. 2 A.2.1): V/W/U are XMM (reg, reg-or-mem, reg only),
     * P/Q/N the same for MMX, whose register numbers ignore REX. */
    O_Vx, O_Wx, O_Ux, O_Pq, O_Qq, O_Nq,
};

enum {
    A_LOCK = 1u << 0, A_BRANCH = 1u << 1, A_END = 1u << 2, A_STR = 1u << 3,
    A_I64 = 1u << 4, A_O64 = 1u << 5,
    /* feature gates */
    A_POPCNT = 1u << 8, A_LZCNT = 1u << 9, A_BMI1 = 1u << 10,
    A_CMOV = 1u << 11, A_CX8 = 1u << 12, A_CX16 = 1u << 13,
    A_RDTSCP = 1u << 14, A_SEP = 1u << 15, A_SYSCALL = 1u << 16,
    A_LAHF64 = 1u << 17, A_MOVBE = 1u << 18, A_CLFLUSH = 1u << 19,
    A_FXSR = 1u << 20, A_SSE3 = 1u << 21,
    A_MMX = 1u << 22, A_SSE = 1u << 23, A_SSE2 = 1u << 24, A_SSSE3 = 1u << 25,
    A_SSE41 = 1u << 26, A_SSE42 = 1u << 27,
    A_FEATURES = 0xfffff00u,
};

typedef struct OpcodeRow {
    uint8_t map, opcode, pfx, size;
    uint16_t ext;
    uint16_t id;
    uint8_t op[3];
    uint32_t attr;
    uint32_t undef;
} OpcodeRow;

static const OpcodeRow rows[] = {
    { 0 },  /* row 0: "no row", so DecodedInsn.row == 0 means none */
#define OP(map, opc, ext, pfx, id, size, o1, o2, o3, attr, undef) \
    { map, opc, pfx, size, ext, INSN_##id, { o1, o2, o3 }, attr, undef },
#include "cpu/opcodes.def"
#undef OP
};

#define ROW_COUNT (sizeof(rows) / sizeof(rows[0]))

static const char *const insn_names[INSN_COUNT] = {
#define INSN(name) #name,
#include "cpu/insns.def"
#undef INSN
};

/* Rows indexed by slot: slot_first[map][opcode] is the first row of a
 * chain continued by row_next[]; 0 ends a chain. */
static uint16_t slot_first[MAP_COUNT][256];
static uint16_t row_next[ROW_COUNT];
static uint8_t slot_has_modrm[MAP_COUNT][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static bool spec_uses_modrm(uint8_t spec)
{
    switch (spec) {
    case O_Eb: case O_Ev: case O_Ew: case O_Ed: case O_Gb: case O_Gv:
    case O_Gw: case O_M: case O_Sw: case O_Cy: case O_Dy: case O_Ry:
    case O_Vx: case O_Wx: case O_Ux: case O_Pq: case O_Qq: case O_Nq:
        return true;
    default:
        return false;
    }
}

static bool row_uses_modrm(const OpcodeRow *r)
{
    return r->ext != X_NONE || spec_uses_modrm(r->op[0]) ||
           spec_uses_modrm(r->op[1]) || spec_uses_modrm(r->op[2]);
}

/* How many consecutive opcodes a row covers (docs/decoder.md). */
static unsigned row_span(const OpcodeRow *r)
{
    if (r->id == INSN_JCC || r->id == INSN_SETCC || r->id == INSN_CMOVCC)
        return 16;
    if (r->op[0] == O_Zb || r->op[0] == O_Zv)
        return 8;
    return 1;
}

static void build_tables(void)
{
    /* Insert in reverse so that chains keep the file's order.  A row that
     * spans several opcodes must be alone in each of its slots, since it
     * has a single chain link; the table respects that (checked here). */
    for (size_t i = ROW_COUNT - 1; i >= 1; i--) {
        const OpcodeRow *r = &rows[i];
        unsigned span = row_span(r);
        for (unsigned k = 0; k < span; k++) {
            unsigned opc = r->opcode + k;
            if (span > 1 && slot_first[r->map][opc])
                die("opcodes.def: row %zu shares a slot with a spanning row", i);
            row_next[i] = slot_first[r->map][opc];
            slot_first[r->map][opc] = (uint16_t)i;
            if (row_uses_modrm(r))
                slot_has_modrm[r->map][opc] = 1;
        }
    }
}

const char *insn_name(int id)
{
    return id >= 0 && id < INSN_COUNT ? insn_names[id] : "?";
}

uint32_t decode_undefined_flags(const DecodedInsn *d)
{
    return d->row < ROW_COUNT ? rows[d->row].undef : 0;
}

/* ---- row selection ------------------------------------------------------ */

static bool feature_enabled(uint32_t attr, uint32_t mode, const CpuFeatures *f)
{
    if ((attr & A_POPCNT) && !(f->leaf1_ecx & CPUID1_ECX_POPCNT)) return false;
    if ((attr & A_LZCNT) && !(f->ext1_ecx & CPUIDX_ECX_ABM)) return false;
    if ((attr & A_BMI1) && !(f->leaf7_ebx & CPUID7_EBX_BMI1)) return false;
    if ((attr & A_CMOV) && !(f->leaf1_edx & CPUID1_EDX_CMOV)) return false;
    if ((attr & A_CX8) && !(f->leaf1_edx & CPUID1_EDX_CX8)) return false;
    if ((attr & A_CX16) && !(f->leaf1_ecx & CPUID1_ECX_CX16)) return false;
    if ((attr & A_RDTSCP) && !(f->ext1_edx & CPUIDX_EDX_RDTSCP)) return false;
    if ((attr & A_SEP) && !(f->leaf1_edx & CPUID1_EDX_SEP)) return false;
    if ((attr & A_SYSCALL) && !(f->ext1_edx & CPUIDX_EDX_SYSCALL)) return false;
    if ((attr & A_MOVBE) && !(f->leaf1_ecx & CPUID1_ECX_MOVBE)) return false;
    if ((attr & A_CLFLUSH) && !(f->leaf1_edx & CPUID1_EDX_CLFLUSH)) return false;
    if ((attr & A_FXSR) && !(f->leaf1_edx & CPUID1_EDX_FXSR)) return false;
    if ((attr & A_SSE3) && !(f->leaf1_ecx & CPUID1_ECX_SSE3)) return false;
    if ((attr & A_MMX) && !(f->leaf1_edx & CPUID1_EDX_MMX)) return false;
    if ((attr & A_SSE) && !(f->leaf1_edx & CPUID1_EDX_SSE)) return false;
    if ((attr & A_SSE2) && !(f->leaf1_edx & CPUID1_EDX_SSE2)) return false;
    if ((attr & A_SSSE3) && !(f->leaf1_ecx & CPUID1_ECX_SSSE3)) return false;
    if ((attr & A_SSE41) && !(f->leaf1_ecx & CPUID1_ECX_SSE41)) return false;
    if ((attr & A_SSE42) && !(f->leaf1_ecx & CPUID1_ECX_SSE42)) return false;
    if ((attr & A_LAHF64) && (mode & CPU_MODE_SIZE_MASK) == CPU_MODE_CODE64 &&
        !(f->ext1_ecx & CPUIDX_ECX_LAHF))
        return false;
    return true;
}

/* How well a row's ModRM constraint fits: 0 no match, higher is more
 * specific. */
static int ext_match(uint16_t ext, bool has_modrm, uint8_t modrm)
{
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7;
    if (ext == X_NONE)
        return 1;
    if (!has_modrm)
        return 0;
    if (ext & 0x800)
        return mod == 3 && (ext & 0xff) == modrm ? 4 : 0;
    if ((ext & 7) != reg)
        return 0;
    if (ext & 0x200)
        return mod != 3 ? 3 : 0;
    if (ext & 0x400)
        return mod == 3 ? 3 : 0;
    return 2;
}

/* The mandatory prefix in effect: F2/F3 (the last one seen) take
 * precedence over 66, as for SSE encodings. */
static int prefix_score(uint8_t pfx_col, int mandatory)
{
    if (pfx_col == P_ANY)
        return 1;
    return pfx_col == mandatory ? 2 : 0;
}

static const OpcodeRow *select_row(unsigned map, unsigned opc, bool has_modrm,
                                   uint8_t modrm, int mandatory, uint32_t mode,
                                   const CpuFeatures *f, uint16_t *row_index)
{
    bool is64 = (mode & CPU_MODE_SIZE_MASK) == CPU_MODE_CODE64;
    int best = 0;
    uint16_t best_i = 0;
    for (uint16_t i = slot_first[map][opc]; i; i = row_next[i]) {
        const OpcodeRow *r = &rows[i];
        if ((is64 && (r->attr & A_I64)) || (!is64 && (r->attr & A_O64)))
            continue;
        int e = ext_match(r->ext, has_modrm, modrm);
        int p = prefix_score(r->pfx, mandatory);
        if (!e || !p || !feature_enabled(r->attr, mode, f))
            continue;
        int score = e * 4 + p;
        if (score > best) {
            best = score;
            best_i = i;
        }
    }
    *row_index = best_i;
    return best_i ? &rows[best_i] : NULL;
}

/* ---- byte reader -------------------------------------------------------- */

typedef struct Reader {
    const uint8_t *bytes;
    size_t avail;
    unsigned pos;
    int error;       /* 0, INSN_FETCH_FAULT or INSN_GP_LENGTH */
} Reader;

static uint64_t take(Reader *rd, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (rd->error)
            return 0;
        if (rd->pos >= 15) {
            rd->error = INSN_GP_LENGTH;
            return 0;
        }
        if (rd->pos >= rd->avail) {
            rd->error = INSN_FETCH_FAULT;
            return 0;
        }
        v |= (uint64_t)rd->bytes[rd->pos++] << (8 * i);
    }
    return v;
}

/* ---- operand sizes ------------------------------------------------------ */

typedef struct Prefixes {
    unsigned pfx;        /* PFX_* */
    int seg;             /* override, or -1 */
    uint8_t rex;         /* 0 or 0x40..0x4f */
    int mandatory;       /* P_NONE, P_66, P_F3, P_F2 */
} Prefixes;

static unsigned operand_size(uint8_t size, const Prefixes *p, uint32_t mode)
{
    unsigned code = mode & CPU_MODE_SIZE_MASK;
    bool o16 = (code == CPU_MODE_CODE16) != !!(p->pfx & PFX_OPSIZE);
    bool rexw = p->rex & 8;
    switch (size) {
    case S_B: return 1;
    case S_W: return 2;
    case S_D: return 4;
    case S_Q: return 8;
    case S_Y: return rexw ? 8 : 4;
    case S_Z: return o16 && !rexw ? 2 : 4;
    case S_D64:
        if (code == CPU_MODE_CODE64)
            return (p->pfx & PFX_OPSIZE) && !rexw ? 2 : 8;
        return o16 ? 2 : 4;
    case S_F64:
        if (code == CPU_MODE_CODE64)
            return 8;
        return o16 ? 2 : 4;
    default:  /* S_V, S_NONE */
        if (rexw)
            return 8;
        return o16 ? 2 : 4;
    }
}

static unsigned address_size(const Prefixes *p, uint32_t mode)
{
    bool a67 = p->pfx & PFX_ADSIZE;
    switch (mode & CPU_MODE_SIZE_MASK) {
    case CPU_MODE_CODE64: return a67 ? 4 : 8;
    case CPU_MODE_CODE32: return a67 ? 2 : 4;
    default:              return a67 ? 4 : 2;
    }
}

/* ---- prefixes ----------------------------------------------------------- */

static void read_prefixes(Reader *rd, uint32_t mode, Prefixes *p)
{
    bool is64 = (mode & CPU_MODE_SIZE_MASK) == CPU_MODE_CODE64;
    p->pfx = 0;
    p->seg = -1;
    p->rex = 0;
    p->mandatory = P_NONE;
    for (;;) {
        unsigned start = rd->pos;
        uint8_t b = (uint8_t)take(rd, 1);
        if (rd->error)
            return;
        if (is64 && (b & 0xf0) == 0x40) {
            p->rex = b;
            continue;
        }
        switch (b) {
        case 0xf0: p->pfx |= PFX_LOCK; break;
        case 0xf2: p->pfx = (p->pfx & ~PFX_REP) | PFX_REPNE; p->mandatory = P_F2; break;
        case 0xf3: p->pfx = (p->pfx & ~PFX_REPNE) | PFX_REP; p->mandatory = P_F3; break;
        case 0x66:
            p->pfx |= PFX_OPSIZE;
            if (p->mandatory == P_NONE)
                p->mandatory = P_66;
            break;
        case 0x67: p->pfx |= PFX_ADSIZE; break;
        case 0x26: p->seg = SEG_ES; break;
        case 0x2e: p->seg = SEG_CS; break;
        case 0x36: p->seg = SEG_SS; break;
        case 0x3e: p->seg = SEG_DS; break;
        case 0x64: p->seg = SEG_FS; break;
        case 0x65: p->seg = SEG_GS; break;
        default:
            rd->pos = start;   /* not a prefix: the opcode starts here */
            if (p->rex) {
                p->pfx |= PFX_REX;
                if (p->rex & 8)
                    p->pfx |= PFX_REXW;
            }
            /* In 64-bit mode ES, CS, SS and DS overrides are ignored. */
            if (is64 && p->seg >= 0 && p->seg < SEG_FS)
                p->seg = -1;
            if (p->seg >= 0)
                p->pfx |= PFX_SEG;
            return;
        }
        /* A REX prefix counts only right before the opcode. */
        p->rex = 0;
    }
}

/* ---- ModRM / SIB -------------------------------------------------------- */

static const uint8_t base16[8] = { R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX };
static const uint8_t index16[8] = { R_SI, R_DI, R_SI, R_DI, R_NONE, R_NONE, R_NONE, R_NONE };

/* Decode the memory form of ModRM into d->base/index/scale/disp and the
 * default segment (SS for BP/SP-based addresses, DS otherwise). */
static void decode_memory(Reader *rd, DecodedInsn *d, uint8_t modrm,
                          const Prefixes *p, bool is64)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    int seg = SEG_DS;
    d->base = R_NONE;
    d->index = R_NONE;
    d->scale = 0;
    if (d->asize == 2) {
        if (mod == 0 && rm == 6) {
            d->disp = (int16_t)take(rd, 2);
        } else {
            d->base = base16[rm];
            d->index = index16[rm];
            if (d->base == R_BP)
                seg = SEG_SS;
            if (mod == 1)
                d->disp = (int8_t)take(rd, 1);
            else if (mod == 2)
                d->disp = (int16_t)take(rd, 2);
        }
    } else {
        unsigned rex_b = (p->rex & 1) << 3;
        if (rm == 4) {
            uint8_t sib = (uint8_t)take(rd, 1);
            unsigned idx = ((sib >> 3) & 7) | ((p->rex & 2) << 2);
            unsigned base = sib & 7;
            d->scale = sib >> 6;
            d->index = idx == R_SP ? R_NONE : (uint8_t)idx;
            if (base == 5 && mod == 0) {
                d->disp = (int32_t)take(rd, 4);
            } else {
                d->base = (uint8_t)(base | rex_b);
            }
        } else if (rm == 5 && mod == 0) {
            d->disp = (int32_t)take(rd, 4);
            if (is64)
                d->base = R_RIP;
        } else {
            d->base = (uint8_t)(rm | rex_b);
        }
        if (mod == 1)
            d->disp = (int8_t)take(rd, 1);
        else if (mod == 2)
            d->disp = (int32_t)take(rd, 4);
        if (d->base == R_SP || d->base == R_BP)
            seg = SEG_SS;
    }
    d->seg = (uint8_t)(p->seg >= 0 ? p->seg : seg);
    d->attr |= DA_MEM;
}

/* A byte register: without REX, encodings 4-7 are AH, CH, DH, BH. */
static uint8_t byte_reg(unsigned r, const Prefixes *p)
{
    if (!p->rex && r >= 4 && r < 8)
        return (uint8_t)(R_AH + r - 4);
    return (uint8_t)r;
}

/* ---- operands ----------------------------------------------------------- */

typedef struct OperandCtx {
    Reader *rd;
    const Prefixes *p;
    uint8_t modrm;
    bool mem;            /* ModRM is a memory form */
    unsigned reg;        /* ModRM.reg + REX.R */
    unsigned rm;         /* ModRM.rm + REX.B */
    unsigned low3;       /* opcode bits 0-2 + REX.B */
    int imm_count;
} OperandCtx;

static uint64_t take_signed(Reader *rd, unsigned n)
{
    uint64_t v = take(rd, n);
    return sign_extend(v, n);
}

static void set_imm(DecodedInsn *d, OperandCtx *c, int i, uint64_t v)
{
    if (c->imm_count++ == 0) {
        d->kind[i] = OPK_IMM;
        d->imm = v;
    } else {
        d->kind[i] = OPK_IMM2;
        d->imm2 = v;
    }
}

static void set_reg(DecodedInsn *d, int i, unsigned kind, unsigned r)
{
    d->kind[i] = (uint8_t)kind;
    d->reg[i] = (uint8_t)r;
}

/* Returns false if the operand makes the encoding invalid. */
static bool decode_operand(DecodedInsn *d, OperandCtx *c, int i, uint8_t spec)
{
    Reader *rd = c->rd;
    switch (spec) {
    case O_NONE:
        return true;
    case O_Eb:
        if (c->mem) d->kind[i] = OPK_MEM;
        else set_reg(d, i, OPK_REG, byte_reg(c->rm, c->p));
        return true;
    case O_Ev: case O_Ew: case O_Ed:
        if (c->mem) d->kind[i] = OPK_MEM;
        else set_reg(d, i, OPK_REG, c->rm);
        return true;
    case O_Gb: set_reg(d, i, OPK_REG, byte_reg(c->reg, c->p)); return true;
    case O_Gv: case O_Gw: set_reg(d, i, OPK_REG, c->reg); return true;
    case O_Zb: set_reg(d, i, OPK_REG, byte_reg(c->low3, c->p)); return true;
    case O_Zv: set_reg(d, i, OPK_REG, c->low3); return true;
    case O_AL: case O_rAX: set_reg(d, i, OPK_REG, R_AX); return true;
    case O_CL: set_reg(d, i, OPK_REG, R_CX); return true;
    case O_DX: set_reg(d, i, OPK_REG, R_DX); return true;
    case O_Ib: set_imm(d, c, i, take(rd, 1)); return true;
    case O_Ibs: case O_Jb: set_imm(d, c, i, take_signed(rd, 1)); return true;
    case O_Iw: set_imm(d, c, i, take(rd, 2)); return true;
    case O_I1: d->kind[i] = OPK_IMM; d->imm = 1; return true;
    case O_Iz: case O_Jz:
        set_imm(d, c, i, d->osize == 2 ? take_signed(rd, 2) : take_signed(rd, 4));
        return true;
    case O_Iv: set_imm(d, c, i, take(rd, d->osize)); return true;
    case O_M:
        d->kind[i] = OPK_MEM;
        return c->mem;
    case O_Ob: case O_Ov:
        d->kind[i] = OPK_MEM;
        d->base = d->index = R_NONE;
        d->disp = (int64_t)take(rd, d->asize);
        d->seg = (uint8_t)(c->p->seg >= 0 ? c->p->seg : SEG_DS);
        d->attr |= DA_MEM;
        return true;
    case O_Ap:
        set_imm(d, c, 0, take(rd, d->osize == 2 ? 2 : 4));
        set_imm(d, c, 1, take(rd, 2));
        return true;
    case O_Sw:
        set_reg(d, i, OPK_SREG, c->reg & 7);
        return (c->reg & 7) < SEG_COUNT;
    case O_ES: case O_CS: case O_SS: case O_DS: case O_FS: case O_GS:
        set_reg(d, i, OPK_SREG, (unsigned)(spec - O_ES));
        return true;
    case O_Cy:
        set_reg(d, i, OPK_CREG, c->reg);
        return c->reg == 0 || (c->reg >= 2 && c->reg <= 4) || c->reg == 8;
    case O_Dy:
        set_reg(d, i, OPK_DREG, c->reg);
        return c->reg < 8;
    case O_Ry:
        set_reg(d, i, OPK_REG, c->rm);
        return true;
    case O_Vx: set_reg(d, i, OPK_XMM, c->reg); return true;
    case O_Wx:
        if (c->mem) d->kind[i] = OPK_MEM;
        else set_reg(d, i, OPK_XMM, c->rm);
        return true;
    case O_Ux:
        set_reg(d, i, OPK_XMM, c->rm);
        return !c->mem;
    case O_Pq: set_reg(d, i, OPK_MMX, c->reg & 7); return true;
    case O_Qq:
        if (c->mem) d->kind[i] = OPK_MEM;
        else set_reg(d, i, OPK_MMX, c->rm & 7);
        return true;
    case O_Nq:
        set_reg(d, i, OPK_MMX, c->rm & 7);
        return !c->mem;
    default:
        return false;
    }
}

/* ---- the decoder -------------------------------------------------------- */

static int finish_invalid(DecodedInsn *d, int id, unsigned len)
{
    d->id = (uint16_t)id;
    d->row = 0;
    d->len = (uint8_t)(len > 15 ? 15 : len);
    /* Pseudo-instructions manage RIP themselves (they fault, or re-decode). */
    d->attr = DA_END | DA_BRANCH;
    d->kind[0] = d->kind[1] = d->kind[2] = OPK_NONE;
    return id;
}

static bool lock_allowed(const OpcodeRow *r, const DecodedInsn *d)
{
    return (r->attr & A_LOCK) && d->kind[0] == OPK_MEM;
}

static uint8_t decoded_attr(uint32_t attr)
{
    return (uint8_t)(((attr & A_BRANCH) ? DA_BRANCH : 0) |
                     ((attr & A_END) ? DA_END : 0) |
                     ((attr & A_STR) ? DA_STRING : 0));
}

int decode_insn(const uint8_t *bytes, size_t avail, uint32_t mode,
                const CpuFeatures *features, DecodedInsn *d)
{
    pthread_once(&table_once, build_tables);
    memset(d, 0, sizeof(*d));
    Reader rd = { bytes, avail, 0, 0 };
    bool is64 = (mode & CPU_MODE_SIZE_MASK) == CPU_MODE_CODE64;

    Prefixes p;
    read_prefixes(&rd, mode, &p);
    unsigned map = M1;
    uint8_t opc = (uint8_t)take(&rd, 1);
    if (!rd.error && opc == 0x0f) {
        map = M0F;
        opc = (uint8_t)take(&rd, 1);
        if (!rd.error && (opc == 0x38 || opc == 0x3a)) {
            map = opc == 0x38 ? M38 : M3A;
            opc = (uint8_t)take(&rd, 1);
        }
    }
    if (rd.error)
        return finish_invalid(d, rd.error, rd.pos);

    bool has_modrm = slot_has_modrm[map][opc];
    uint8_t modrm = has_modrm ? (uint8_t)take(&rd, 1) : 0;
    if (rd.error)
        return finish_invalid(d, rd.error, rd.pos);

    uint16_t row_index;
    const OpcodeRow *r = select_row(map, opc, has_modrm, modrm, p.mandatory,
                                    mode, features, &row_index);
    if (!r)
        return finish_invalid(d, INSN_UD, rd.pos);

    d->id = r->id;
    d->row = row_index;
    d->opcode = opc;
    d->modrm = modrm;
    d->pfx = (uint8_t)p.pfx;
    d->osize = (uint8_t)operand_size(r->size, &p, mode);
    d->asize = (uint8_t)address_size(&p, mode);
    d->seg = (uint8_t)(p.seg >= 0 ? p.seg : SEG_DS);
    d->attr = decoded_attr(r->attr);
    d->base = d->index = R_NONE;

    /* MOV to/from CR/DR ignore the mod bits: always a register form. */
    bool force_reg = r->op[0] == O_Ry || r->op[1] == O_Ry;
    bool mem = has_modrm && (modrm >> 6) != 3 && !force_reg;
    if (mem)
        decode_memory(&rd, d, modrm, &p, is64);

    OperandCtx c = {
        .rd = &rd, .p = &p, .modrm = modrm, .mem = mem,
        .reg = ((modrm >> 3) & 7) | ((p.rex & 4) << 1),
        .rm = (modrm & 7) | ((p.rex & 1) << 3),
        .low3 = (opc & 7) | ((p.rex & 1) << 3),
    };
    bool valid = true;
    for (int i = 0; i < 3 && valid; i++)
        valid = decode_operand(d, &c, i, r->op[i]);
    if (rd.error)
        return finish_invalid(d, rd.error, rd.pos);
    d->len = (uint8_t)rd.pos;

    /* 90 without REX.B is NOP (XCHG eAX, eAX would clear RAX[63:32]). */
    if (map == M1 && opc == 0x90 && !(p.rex & 1))
        d->id = INSN_NOP;
    if ((p.pfx & PFX_LOCK) && !lock_allowed(r, d))
        valid = false;
    if (r->id == INSN_MOV_TO_SEG && d->reg[0] == SEG_CS)
        valid = false;
    if (r->op[0] == O_Dy && (p.rex & 4))
        valid = false;
    if (!valid) {
        unsigned len = d->len;
        return finish_invalid(d, INSN_UD, len);
    }
    return d->id;
}

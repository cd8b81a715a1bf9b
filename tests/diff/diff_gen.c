/* The differential harness: the program generator.
 *
 * Programs are built one unit at a time.  A candidate is random bytes:
 * legacy prefixes and REX with some probability, an opcode drawn from the
 * slots of the opcode map that decode to something the harness runs, then
 * ModRM, SIB, displacement and immediate bytes.  Vireo's decoder says what
 * the bytes are; excluded instructions are dropped; memory operands are
 * steered into the data window by rewriting the displacement (or, failing
 * that, by loading the base register first); near branches get a
 * displacement that jumps over a filler MOV emitted right after them, so a
 * wrong branch decision shows in a register.  Then Vireo single-steps the
 * unit in generation mode (tests/diff/diff_vireo.c): if it touched memory
 * outside the window, faulted (other than a #DE the generator decides to
 * keep as the program's last instruction), or would read a flag left
 * undefined, its effects are undone and the candidate is rejected.
 *
 * Everything is drawn from one generator seeded by (seed, mode, program
 * index), so `--seed S --program K` rebuilds program K exactly.
 */
#include "tests/diff/diff.h"

#include <string.h>

#include "cpu/insn.h"

/* ---- opcode slots ------------------------------------------------------- */

typedef struct Slot {
    uint8_t map;      /* 0: one-byte, 1: 0F, 2: 0F 38 */
    uint8_t opc;
} Slot;

static Slot slots[4 * 3 * 256];
static size_t slot_count;
static CpuFeatures features;

static bool is_prefix(uint8_t b, bool is64)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3: case 0x0f:
        return true;
    default:
        return is64 && (b & 0xf0) == 0x40;
    }
}

static unsigned opcode_bytes(Slot s, uint8_t *out)
{
    switch (s.map) {
    case 0: out[0] = s.opc; return 1;
    case 1: out[0] = 0x0f; out[1] = s.opc; return 2;
    default: out[0] = 0x0f; out[1] = 0x38; out[2] = s.opc; return 3;
    }
}

/* Does any prefix/ModRM combination of this slot decode to an instruction
 * the harness runs?  Sixteen ModRM bytes (every reg field, memory and
 * register form) and a few prefixes are enough to find out. */
static bool slot_usable(const Layout *lay, Slot s)
{
    static const uint8_t pfx[] = { 0, 0xf3, 0xf2, 0x66, 0x48 };
    for (unsigned p = 0; p < sizeof(pfx); p++) {
        if (pfx[p] == 0x48 && lay->mode != MODE_LONG64)
            continue;
        for (unsigned m = 0; m < 16; m++) {
            uint8_t b[24] = { 0 };
            unsigned n = 0;
            if (pfx[p])
                b[n++] = pfx[p];
            n += opcode_bytes(s, b + n);
            b[n] = (uint8_t)(((m & 8) ? 0xc0 : 0x00) | ((m & 7) << 3));
            DecodedInsn d;
            decode_insn(b, 15, lay->cpu_mode, &features, &d);
            if (!insn_exclusion(&d, b, lay))
                return true;
        }
    }
    return false;
}

/* Opcodes that hold a whole group of instructions (ModRM.reg selects
 * one) are drawn more often, so that each member is about as frequent as
 * an instruction with an opcode of its own. */
static unsigned slot_weight(Slot s)
{
    if (s.map == 0) {
        switch (s.opc) {
        case 0xf6: case 0xf7:
            return 4;
        case 0x80: case 0x81: case 0x83: case 0xc0: case 0xc1:
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: case 0xfe: case 0xff:
            return 2;
        default:
            return 1;
        }
    }
    if (s.map == 1 && (s.opc == 0xba || s.opc == 0xc7 || s.opc == 0xbc || s.opc == 0xbd))
        return 2;
    return 1;
}

void gen_init(const Layout *lay, const CpuFeatures *f)
{
    features = *f;
    slot_count = 0;
    bool is64 = lay->mode == MODE_LONG64;
    for (unsigned map = 0; map < 3; map++) {
        for (unsigned opc = 0; opc < 256; opc++) {
            if (map == 0 && is_prefix((uint8_t)opc, is64))
                continue;
            if (map == 1 && (opc == 0x38 || opc == 0x3a))
                continue;
            Slot s = { (uint8_t)map, (uint8_t)opc };
            if (!slot_usable(lay, s))
                continue;
            for (unsigned w = slot_weight(s); w > 0; w--)
                slots[slot_count++] = s;
        }
    }
}

/* ---- random values ------------------------------------------------------- */

Rng program_rng(uint64_t seed, DiffMode mode, uint64_t index)
{
    Rng r = { seed * 0x9e3779b97f4a7c15ull ^ ((uint64_t)mode + 1) * 0xd1b54a32d192ed03ull ^
              (index + 1) * 0x8cb92ba72f3d8dd7ull };
    rng_next(&r);
    return r;
}

static uint64_t width_mask(const Layout *lay)
{
    return lay->width == 8 ? ~0ull : 0xffffffffull;
}

static uint64_t pick_alignment(Rng *r, uint64_t a, unsigned align)
{
    unsigned pick = (unsigned)rng_below(r, 10);
    if (pick < 6 && align > 1)
        return a & ~(uint64_t)(align - 1);
    if (pick < 8)
        return a & ~1ull;
    return a;
}

/* A linear address in the data window with `room` bytes free on both
 * sides, usually aligned to `align`; now and then just below a page
 * boundary, so that accesses straddle two pages. */
static uint64_t window_addr(const Layout *lay, Rng *r, uint64_t room, unsigned align)
{
    uint64_t a = lay->data_base + room + rng_below(r, lay->data_size - 2 * room);
    if (rng_percent(r, 5))
        return ((a | 0xfff) + 1) - 1 - rng_below(r, 8);
    return pick_alignment(r, a, align);
}

/* An offset in segment `seg` that reaches the window with `room` bytes
 * free on both sides.  Real mode: each data segment's 64 KiB lies in the
 * window, so any offset away from the segment's ends does. */
static uint64_t window_offset(const Layout *lay, Rng *r, int seg, uint64_t room,
                              unsigned align)
{
    if (lay->mode == MODE_REAL)
        return pick_alignment(r, room + rng_below(r, 0x10000 - 2 * room), align);
    uint64_t lin = window_addr(lay, r, room, align);
    return (lin - layout_seg_base(lay, seg)) & width_mask(lay);
}

static uint64_t random_value(const Layout *lay, Rng *r)
{
    static const uint64_t special[] = {
        0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff,
        0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
        0x8000000000000000ull, ~0ull, 0x5555555555555555ull,
    };
    uint64_t v;
    unsigned pick = (unsigned)rng_below(r, 100);
    if (pick < 40)
        v = window_offset(lay, r, SEG_DS, 16, 8);
    else if (pick < 55)
        v = rng_below(r, 256);
    else if (pick < 65)
        v = (uint64_t)-(int64_t)(1 + rng_below(r, 256));
    else if (pick < 75)
        v = special[rng_below(r, sizeof(special) / sizeof(special[0]))];
    else
        v = rng_next(r);
    if (lay->mode == MODE_REAL && rng_percent(r, 60))
        v &= 0xffff;
    return v & width_mask(lay);
}

void gen_initial_state(const Layout *lay, Rng *r, ArchState *st)
{
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < lay->nregs; i++)
        st->gpr[i] = random_value(lay, r);
    st->gpr[R_SP] = window_offset(lay, r, SEG_SS, 1024, lay->width);
    st->rip = lay->prog_ip;
    st->eflags = F_FIXED1 | (rng_next(r) & F_ARITH) | (rng_percent(r, 20) ? F_DF : 0);
    st->vector = -1;
}

/* ---- candidates ---------------------------------------------------------- */

typedef struct Cand {
    uint8_t b[48];
    unsigned opc_end;         /* offset just past the opcode bytes */
    Slot slot;
} Cand;

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Where the displacement sits after a ModRM byte: offset from the ModRM
 * byte and size (0: none), SDM Vol. 2 tables 2-1 to 2-3. */
static void disp_field(unsigned asize, const uint8_t *modrm, unsigned *off,
                       unsigned *size)
{
    unsigned mod = modrm[0] >> 6, rm = modrm[0] & 7;
    *off = 1;
    *size = 0;
    if (mod == 3)
        return;
    if (asize == 2) {
        *size = mod == 1 ? 1 : mod == 2 ? 2 : rm == 6 ? 2 : 0;
        return;
    }
    if (rm == 4)
        *off = 2;
    if (mod == 1)
        *size = 1;
    else if (mod == 2)
        *size = 4;
    else if (rm == 5 || (rm == 4 && (modrm[1] & 7) == 5))
        *size = 4;
}

static unsigned address_size(const Layout *lay, bool a67)
{
    switch (lay->mode) {
    case MODE_REAL: return a67 ? 4 : 2;
    case MODE_PROT32: return a67 ? 2 : 4;
    default: return a67 ? 4 : 8;
    }
}

static uint64_t random_disp(Rng *r, unsigned size)
{
    unsigned pick = (unsigned)rng_below(r, 10);
    if (pick < 5)
        return (uint64_t)(int64_t)(int8_t)rng_next(r);
    if (pick < 8)
        return (uint64_t)(int64_t)((int)rng_below(r, 8192) - 4096);
    return rng_next(r) & size_mask(size);
}

static uint8_t random_imm_byte(Rng *r, bool first)
{
    unsigned pick = (unsigned)rng_below(r, 10);
    if (first && pick < 4)
        return (uint8_t)rng_below(r, 34);   /* shift and rotate counts */
    if (pick < 6)
        return (uint8_t)rng_next(r);
    static const uint8_t special[] = { 0, 1, 0x7f, 0x80, 0xff };
    return special[rng_below(r, sizeof(special))];
}

static void gen_candidate(const Layout *lay, Rng *r, Cand *c)
{
    static const uint8_t legacy[] = {
        0x66, 0x66, 0x66, 0x66, 0x67, 0x67, 0xf3, 0xf3, 0xf2, 0xf2,
        0xf0, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65,
    };
    unsigned n = 0;
    bool a67 = false;
    uint8_t rep = 0;
    memset(c->b, 0, sizeof(c->b));
    if (rng_percent(r, 40)) {
        unsigned count = rng_percent(r, 75) ? 1 : 2 + (unsigned)rng_below(r, 2);
        for (unsigned i = 0; i < count; i++) {
            uint8_t p = legacy[rng_below(r, sizeof(legacy))];
            /* F2 and F3 together: the SDM calls more than one prefix of a
             * group "not useful"; QEMU lets F2 win, processors the last. */
            if (p == 0xf2 || p == 0xf3) {
                if (rep && rep != p)
                    p = rep;
                rep = p;
            }
            a67 |= p == 0x67;
            c->b[n++] = p;
        }
    }
    if (lay->mode == MODE_LONG64 && rng_percent(r, 50))
        c->b[n++] = (uint8_t)(0x40 | rng_below(r, 16));
    c->slot = slots[rng_below(r, slot_count)];
    /* POPCNT, TZCNT and LZCNT exist only with F3. */
    if (c->slot.map == 1 && (c->slot.opc == 0xb8 || c->slot.opc == 0xbc ||
                             c->slot.opc == 0xbd) && !rep && rng_percent(r, 40)) {
        if (n > 0 && (c->b[n - 1] & 0xf0) == 0x40 && lay->mode == MODE_LONG64) {
            c->b[n] = c->b[n - 1];     /* keep REX last */
            c->b[n - 1] = 0xf3;
            n++;
        } else {
            c->b[n++] = 0xf3;
        }
    }
    n += opcode_bytes(c->slot, c->b + n);
    c->opc_end = n;

    static const uint8_t mods[20] = { 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0,
                                      1, 1, 1, 2, 2, 2, 2, 2 };
    unsigned mod = mods[rng_below(r, 20)];
    c->b[n++] = (uint8_t)((mod << 6) | rng_below(r, 64));
    c->b[n] = (uint8_t)rng_next(r);   /* SIB, if the ModRM asks for one */
    unsigned off, size;
    disp_field(address_size(lay, a67), &c->b[c->opc_end], &off, &size);
    n = c->opc_end + off;
    put_le(c->b + n, random_disp(r, size ? size : 1), size);
    n += size;
    for (unsigned i = 0; i < 10; i++)
        c->b[n++] = random_imm_byte(r, i == 0);
}

/* ---- the generator state ---------------------------------------------- */

typedef struct Gen {
    VireoBox *vb;
    UcBox *ub;
    uint64_t seed;
    const Layout *lay;
    Program *p;
    GenStats *st;
    Rng rng;
    uint32_t undef;           /* arithmetic flags currently undefined */
    uint64_t icount_base;     /* Vireo's icount when the program started */
    bool full;                /* no room left in the program */
} Gen;

enum { TRY_OK, TRY_END, TRY_REJECT };

static Cpu *cpu_of(Gen *g)
{
    return &g->vb->cpu;
}

/* FNV-1a over what a unit leaves in the registers. */
static uint64_t state_hash(Cpu *cpu, uint64_t icount_base)
{
    uint64_t words[20];
    memcpy(words, cpu->s.regs, sizeof(cpu->s.regs));
    words[16] = cpu->s.rip;
    words[17] = cpu_get_eflags(cpu);
    words[18] = (uint64_t)(int64_t)cpu->s.exception.vector;
    words[19] = cpu->s.icount - icount_base;
    const uint8_t *b = (const uint8_t *)words;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sizeof(words); i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Vireo touched memory outside the window: so should Unicorn.  If
 * Unicorn runs the same unit from the same state touching only the window,
 * Vireo computed a wrong address, which rejecting the candidate would
 * hide.  (Run for one such rejection in eight, to keep the cost low.) */
static void check_trap(Gen *g, const uint8_t *bytes, unsigned len)
{
    Program *p = g->p;
    uint64_t trap_addr = g->vb->trap_addr;
    ArchState before;
    vbox_save(g->vb, &before);
    uint8_t code[MAX_PROG_BYTES + 64];
    memcpy(code, p->code, p->len);
    memcpy(code + p->len, bytes, len);
    uint64_t addr = 0;
    g->st->trap_checks++;
    int r = ucbox_probe_unit(g->ub, &before, g->vb->data, code, p->len + len,
                             g->lay->prog_ip + p->len + len, &addr);
    if (r == PROBE_INSIDE) {
        p->gen_failures++;
        report_trap(g->lay, g->seed, p, bytes, len, &before, trap_addr);
    }
}

/* Run one unit on Vireo from the current state and keep or undo it. */
static int try_unit(Gen *g, const uint8_t *bytes, unsigned len,
                    unsigned first_len, const DecodedInsn *d, bool setup)
{
    Program *p = g->p;
    Cpu *cpu = cpu_of(g);
    const Layout *lay = g->lay;
    if (p->len + len + 16 > MAX_PROG_BYTES || p->nunits + 4 >= MAX_UNITS) {
        g->full = true;
        return TRY_REJECT;
    }
    FlagEffect fe = insn_flag_effect(d, cpu);
    fe.undef |= reference_flag_quirks(d) & fe.written;
    if (fe.read & g->undef) {
        g->st->rej_flags++;
        return TRY_REJECT;
    }
    if (insn_result_undefined(d, cpu)) {
        g->st->rej_undefined++;
        return TRY_REJECT;
    }

    CpuState saved = cpu->s;
    uint64_t code_off = lay->prog_base - lay->code_base + p->len;
    uint8_t tmp[64];
    memcpy(tmp, bytes, len);
    tmp[len] = 0xf4;
    vbox_write_code(g->vb, code_off, tmp, len + 1);
    g->vb->trapped = false;
    g->vb->trapped_outside = false;
    g->vb->undo_len = 0;
    uint64_t icount = 0;
    int rc = vbox_run_to(g->vb, lay->prog_ip + p->len + len, &icount);

    uint64_t *reject = NULL;
    if (g->vb->trapped)
        reject = &g->st->rej_memory;
    else if (rc == STEP_STUCK)
        reject = &g->st->rej_fault;
    else if (rc == STEP_FAULT &&
             !(cpu->s.exception.vector == EXC_DE && rng_percent(&g->rng, 30)))
        reject = &g->st->rej_fault;
    else if (rc == STEP_OK && insn_result_undefined_after(d, cpu))
        reject = &g->st->rej_undefined;
    if (reject == &g->st->rej_fault && rc == STEP_FAULT)
    {
        g->st->fault_by_vector[cpu->s.exception.vector & 31]++;
        g->st->fault_by_id[cpu->s.exception.vector & 31][d->id]++;
    }
    if (reject) {
        vbox_undo(g->vb);
        cpu->s = saved;
        (*reject)++;
        if (reject == &g->st->rej_memory && g->vb->trapped_outside &&
            g->st->rej_memory % 8 == 1)
            check_trap(g, bytes, len);
        return TRY_REJECT;
    }

    memcpy(p->code + p->len, bytes, len);
    if (!setup)
        g->st->by_id[d->id]++;
    Unit *u = &p->units[p->nunits++];
    u->off = (uint16_t)p->len;
    u->len = (uint16_t)len;
    u->first_len = (uint16_t)first_len;
    u->is_setup = setup;
    u->executed = (d->attr & DA_STRING) ? 1 : (uint8_t)icount;
    u->icount = (uint32_t)icount;
    p->len += len;
    p->vireo_icount += icount;
    u->state_hash = state_hash(cpu, g->icount_base);
    if (rc == STEP_FAULT) {
        p->end_vector = cpu->s.exception.vector;
        u->executed = 1;
        u->undef_after = g->undef;
        p->insns += 1;
        return TRY_END;
    }
    g->undef = (g->undef & ~fe.written) | (fe.undef & fe.written);
    u->undef_after = g->undef;
    p->insns += u->executed;
    return TRY_OK;
}

/* MOV reg, imm at full register width (setups). */
static unsigned mov_imm_full(const Layout *lay, int reg, uint64_t v, uint8_t *b)
{
    unsigned n = 0;
    if (lay->mode == MODE_REAL) {
        b[n++] = 0x66;
    } else if (lay->mode == MODE_LONG64) {
        bool wide = v > 0xffffffffull;
        if (wide || reg >= 8)
            b[n++] = (uint8_t)(0x40 | (wide ? 8 : 0) | (reg >= 8 ? 1 : 0));
        b[n++] = (uint8_t)(0xb8 + (reg & 7));
        put_le(b + n, v, wide ? 8 : 4);
        return n + (wide ? 8 : 4);
    }
    b[n++] = (uint8_t)(0xb8 + (reg & 7));
    put_le(b + n, v, 4);
    return n + 4;
}

static bool emit_setup(Gen *g, int reg, uint64_t value)
{
    uint8_t b[16];
    unsigned n = mov_imm_full(g->lay, reg, value & width_mask(g->lay), b);
    DecodedInsn d;
    decode_insn(b, n, g->lay->cpu_mode, &features, &d);
    g->st->setups++;
    return try_unit(g, b, n, n, &d, true) == TRY_OK;
}

/* ---- steering operands into the window ---------------------------------- */

static uint64_t stack_pointer(Gen *g)
{
    uint64_t sp = cpu_of(g)->s.regs[R_SP];
    switch (g->lay->mode) {
    case MODE_REAL: return sp & 0xffff;
    case MODE_PROT32: return sp & 0xffffffffull;
    default: return sp;
    }
}

static bool stack_in_window(Gen *g)
{
    uint64_t lin = layout_linear(g->lay, SEG_SS, stack_pointer(g));
    if (g->lay->mode == MODE_REAL && (stack_pointer(g) < 512 || stack_pointer(g) > 0xfe00))
        return false;
    return lin >= g->lay->data_base + 512 &&
           lin <= g->lay->data_base + g->lay->data_size - 512;
}

static bool is_moffs(const Cand *c)
{
    return c->slot.map == 0 && c->slot.opc >= 0xa0 && c->slot.opc <= 0xa3;
}

/* Rewrite the displacement so that the memory operand's offset becomes
 * `target`; re-decodes into d.  False if the field cannot reach. */
static bool retarget(Gen *g, Cand *c, DecodedInsn *d, uint64_t target)
{
    unsigned pos, size;
    if (target & ~size_mask(d->asize))
        return false;
    if (is_moffs(c)) {
        pos = c->opc_end;
        size = d->asize;
        put_le(c->b + pos, target, size);
    } else {
        unsigned off;
        disp_field(d->asize, &c->b[c->opc_end], &off, &size);
        if (size == 0)
            return false;
        pos = c->opc_end + off;
        uint64_t ea = insn_ea(cpu_of(g), d);
        int64_t delta = (int64_t)sign_extend(target - ea, d->asize);
        int64_t disp = (int64_t)sign_extend(get_le(c->b + pos, size), size) + delta;
        if (size == 1 && (disp < -128 || disp > 127))
            return false;
        if (size == 4 && d->asize == 8 && (disp < INT32_MIN || disp > INT32_MAX))
            return false;
        put_le(c->b + pos, (uint64_t)disp, size);
    }
    decode_insn(c->b, 15, g->lay->cpu_mode, &features, d);
    return insn_ea(cpu_of(g), d) == target;
}

static void steer_memory(Gen *g, Cand *c, DecodedInsn *d)
{
    Cpu *cpu = cpu_of(g);
    uint64_t target = window_offset(g->lay, &g->rng, d->seg, 64, d->osize);
    /* BT m, r addresses the bit string relative to the operand. */
    bool bit_string = (d->id == INSN_BT || d->id == INSN_BTS ||
                       d->id == INSN_BTR || d->id == INSN_BTC) &&
                      d->kind[1] == OPK_REG;
    if (bit_string) {
        int64_t bits = (int64_t)sign_extend(reg_read(cpu, d->reg[1], d->osize), d->osize);
        target -= (uint64_t)((bits >> 3) & ~(int64_t)(d->osize - 1));
    }
    if (retarget(g, c, d, target))
        return;
    if (d->base < 16 && d->base != R_SP && d->base != d->index &&
        rng_percent(&g->rng, 60)) {
        uint64_t ea = insn_ea(cpu, d);
        uint64_t value = cpu->s.regs[d->base] + (target - ea);
        emit_setup(g, d->base, value);
    }
}

static void steer_string(Gen *g, const DecodedInsn *d)
{
    if (!rng_percent(&g->rng, 75))
        return;
    bool rep = d->pfx & (PFX_REP | PFX_REPNE);
    uint64_t count = rep ? rng_below(&g->rng, 9) : 1;
    if (rep)
        emit_setup(g, R_CX, count);
    uint64_t room = (count + 2) * 8 + 64;
    bool src = d->id != INSN_STOS && d->id != INSN_SCAS;
    bool dst = d->id != INSN_LODS;
    if (src)
        emit_setup(g, R_SI, window_offset(g->lay, &g->rng, d->seg, room, d->osize));
    if (dst)   /* the destination is always ES:rDI */
        emit_setup(g, R_DI, window_offset(g->lay, &g->rng, SEG_ES, room, d->osize));
}

/* ---- branches ---------------------------------------------------------- */

static bool is_relative_branch(const DecodedInsn *d)
{
    switch (d->id) {
    case INSN_JCC: case INSN_LOOP: case INSN_LOOPE: case INSN_LOOPNE:
    case INSN_JCXZ:
        return true;
    case INSN_JMP: case INSN_CALL:
        return d->kind[0] == OPK_IMM;
    default:
        return false;
    }
}

/* A branch with a displacement over a filler MOV reg, imm. */
static int emit_branch(Gen *g, Cand *c, DecodedInsn *d)
{
    bool rel8 = !(c->slot.map == 1 || (c->slot.map == 0 &&
                                       (c->slot.opc == 0xe8 || c->slot.opc == 0xe9)));
    unsigned dsize = rel8 ? 1 : d->osize == 2 ? 2 : 4;
    uint8_t filler[8];
    unsigned fl = 0;
    int reg = (int)rng_below(&g->rng, (uint64_t)g->lay->nregs - 1);
    if (reg >= R_SP)
        reg++;
    if (g->lay->mode == MODE_LONG64 && reg >= 8)
        filler[fl++] = 0x41;
    filler[fl++] = (uint8_t)(0xb8 + (reg & 7));
    unsigned imm = g->lay->mode == MODE_REAL ? 2 : 4;
    put_le(filler + fl, rng_next(&g->rng), imm);
    fl += imm;

    unsigned len = d->len;
    put_le(c->b + len - dsize, fl, dsize);
    memcpy(c->b + len, filler, fl);
    decode_insn(c->b, len, g->lay->cpu_mode, &features, d);
    return try_unit(g, c->b, len + fl, len, d, false);
}

/* Does the memory operand touch the code area?  Even an operand a
 * processor only rewrites with the same value (a rotate by a multiple of
 * 9, say) is self-modifying code to QEMU, whose recovery from it can
 * replay the instruction with stale lazy flags; stores there are not
 * generated, and neither are loads, whose value would differ between
 * generation and the run. */
static bool hits_code(Gen *g, const DecodedInsn *d)
{
    const Layout *lay = g->lay;
    uint64_t lin = layout_linear(lay, d->seg, insn_ea(cpu_of(g), d));
    return lin + 16 > lay->code_base && lin < lay->code_base + lay->code_size;
}

/* ---- one unit ---------------------------------------------------------- */

static int gen_one(Gen *g)
{
    const Layout *lay = g->lay;
    Cpu *cpu = cpu_of(g);
    Cand c;
    DecodedInsn d;
    gen_candidate(lay, &g->rng, &c);
    decode_insn(c.b, 15, lay->cpu_mode, &features, &d);
    g->st->tries++;
    const char *why = insn_exclusion(&d, c.b, lay);
    if (why) {
        if (d.id == INSN_UD || d.id == INSN_GP_LENGTH || d.id == INSN_FETCH_FAULT)
            g->st->rej_invalid++;
        else
            g->st->rej_excluded++;
        return TRY_REJECT;
    }
    if (is_relative_branch(&d))
        return emit_branch(g, &c, &d);

    if (d.id == INSN_ENTER) {
        /* Small frames and nesting levels keep the stack in the window. */
        put_le(c.b + d.len - 3, rng_below(&g->rng, 9) * 4, 2);
        c.b[d.len - 1] = (uint8_t)(rng_percent(&g->rng, 60) ? 0 : rng_below(&g->rng, 4));
        decode_insn(c.b, 15, lay->cpu_mode, &features, &d);
    }
    if (d.id == INSN_XLAT && rng_percent(&g->rng, 60))
        emit_setup(g, R_BX, window_offset(lay, &g->rng, d.seg, 512, 1));
    if (d.id == INSN_LEAVE && rng_percent(&g->rng, 60))
        emit_setup(g, R_BP, window_offset(lay, &g->rng, SEG_SS, 512, lay->width));
    if (d.attr & DA_STRING) {
        steer_string(g, &d);
        if ((d.pfx & (PFX_REP | PFX_REPNE)) &&
            (cpu->s.regs[R_CX] & size_mask(d.asize)) > 64) {
            g->st->rej_memory++;
            return TRY_REJECT;
        }
    } else if ((d.attr & DA_MEM) && rng_percent(&g->rng, 90)) {
        steer_memory(g, &c, &d);
    }
    if (g->full)
        return TRY_REJECT;
    if ((d.attr & DA_MEM) && hits_code(g, &d)) {
        g->st->rej_memory++;
        return TRY_REJECT;
    }
    return try_unit(g, c.b, d.len, d.len, &d, false);
}

bool gen_program(VireoBox *vb, UcBox *ub, const uint8_t *master,
                 uint64_t seed, uint64_t index, Program *p, GenStats *stats)
{
    const Layout *lay = vb->lay;
    memset(p, 0, sizeof(*p));
    p->index = index;
    p->end_vector = -1;
    Gen g = { .vb = vb, .ub = ub, .seed = seed, .lay = lay, .p = p, .st = stats,
              .rng = program_rng(seed, lay->mode, index) };
    gen_initial_state(lay, &g.rng, &p->init);

    vbox_set_gen_mode(vb, true);
    vbox_load(vb, &p->init, master);
    g.icount_base = vb->cpu.s.icount;
    static uint8_t fill[1 << 16];
    memset(fill, 0xf4, sizeof(fill));
    vbox_write_code(vb, 0, fill, lay->code_size);

    unsigned target = 20 + (unsigned)rng_below(&g.rng, 41);
    unsigned failures = 0;
    while (p->insns < target && !g.full && failures < 1000) {
        if (!stack_in_window(&g) && rng_percent(&g.rng, 50))
            emit_setup(&g, R_SP, window_offset(lay, &g.rng, SEG_SS, 1024, lay->width));
        int r = gen_one(&g);
        if (r == TRY_END)
            break;
        failures = r == TRY_OK ? 0 : failures + 1;
    }
    p->final_undef = g.undef;
    uint64_t used = lay->prog_base - lay->code_base + p->len;
    vbox_write_code(vb, used, fill, lay->code_size - used);
    return p->nunits > 0;
}

bool gen_validate(VireoBox *vb, const uint8_t *master, const Program *p)
{
    const Layout *lay = vb->lay;
    memcpy(vb->shadow, vb->data, lay->data_size);
    vbox_set_gen_mode(vb, false);
    vbox_load(vb, &p->init, master);
    uint64_t base = vb->cpu.s.icount;
    for (int i = 0; i < p->nunits; i++) {
        const Unit *u = &p->units[i];
        uint64_t icount;
        vbox_run_to(vb, lay->prog_ip + u->off + u->len, &icount);
        if (state_hash(&vb->cpu, base) != u->state_hash)
            return false;
    }
    return memcmp(vb->data, vb->shadow, lay->data_size) == 0;
}

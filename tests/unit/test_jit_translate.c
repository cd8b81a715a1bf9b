/* The translator, the optimizer and the IR interpreter against the
 * interpreter (tests/unit/jit_test.h): every block runs both ways from
 * the same state and must leave the same CpuState and RAM.
 *
 *  - random programs from instruction templates (ALU, MOV, LEA, shifts,
 *    PUSH/POP, CALL/RET, Jcc, SETcc/CMOVcc, string moves, and
 *    instructions that keep the default lowering), in 64-bit mode and in
 *    flat 32-bit protected mode;
 *  - a fault in the middle of a block: same exception, RIP and registers;
 *  - self-modifying code: a store into its own block.
 */
#include "jit_test.h"

/* ---- a seeded generator of instruction bytes ------------------------- */

typedef struct Gen {
    uint64_t rng;
    bool x64;           /* 64-bit mode: REX, RIP-relative */
    bool regs_only;     /* only the register templates: long blocks */
    uint8_t *p;         /* where the next instruction goes */
    uint64_t addr;      /* its guest address */
} Gen;

static uint32_t rnd(Gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return (uint32_t)(g->rng >> 16);
}

static unsigned pick(Gen *g, unsigned n)
{
    return rnd(g) % n;
}

static void out(Gen *g, uint8_t byte)
{
    *g->p++ = byte;
    g->addr++;
}

static void out32(Gen *g, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        out(g, (uint8_t)(v >> (8 * i)));
}

/* Registers an instruction may write: never rSP (the stack) or rBX (the
 * data pointer). */
static unsigned dst_reg(Gen *g)
{
    static const uint8_t ok[] = { 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                  14, 15 };
    return ok[pick(g, g->x64 ? 14 : 6)];
}

/* A byte register to write: without REX, encoding 7 is BH (rBX). */
static unsigned byte_dst(Gen *g)
{
    unsigned r = dst_reg(g);
    return !g->x64 && r == 7 ? 1 : r;
}

static unsigned any_reg(Gen *g)
{
    return pick(g, g->x64 ? 16 : 8);
}

/* Prefixes for operand size `size` (2, 4, 8) and the REX bits. */
static void prefixes(Gen *g, unsigned size, unsigned reg, unsigned rm,
                     bool force_rex)
{
    if (size == 2)
        out(g, 0x66);
    if (!g->x64)
        return;
    uint8_t rex = 0x40 | (size == 8 ? 8 : 0) | ((reg >> 3) << 2) | (rm >> 3);
    if (rex != 0x40 || force_rex)
        out(g, rex);
}

static unsigned op_size(Gen *g)
{
    static const uint8_t sizes[] = { 4, 4, 2, 8, 8 };
    return sizes[pick(g, g->x64 ? 5 : 3)];
}

/* A memory operand in the data page: [rbx+disp8], [rbx+disp32],
 * [rbx+rbx*1+disp8] (in the next 2 MiB), or RIP-relative / absolute. */
static void mem_operand(Gen *g, unsigned reg, unsigned imm_bytes)
{
    unsigned disp = pick(g, 0x78) & ~1u;
    switch (pick(g, 4)) {
    case 0:
        out(g, (uint8_t)(0x40 | (reg & 7) << 3 | 3));
        out(g, (uint8_t)disp);
        break;
    case 1:
        out(g, (uint8_t)(0x80 | (reg & 7) << 3 | 3));
        out32(g, disp + 0x100);
        break;
    case 2:
        out(g, (uint8_t)(0x44 | (reg & 7) << 3));
        out(g, 0x1b);   /* SIB: rbx + rbx*1 */
        out(g, (uint8_t)disp);
        break;
    default:
        out(g, (uint8_t)(0x05 | (reg & 7) << 3));
        if (g->x64)   /* relative to the next instruction */
            out32(g, (uint32_t)(DATA + 0x200 + disp - (g->addr + 4 + imm_bytes)));
        else
            out32(g, DATA + 0x200 + disp);
        break;
    }
}

static void modrm_reg(Gen *g, unsigned reg, unsigned rm)
{
    out(g, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* One instruction (or a short fixed sequence) from the templates. */
static void gen_insn(Gen *g)
{
    unsigned size = op_size(g), dst = dst_reg(g), src = any_reg(g);
    unsigned alu = pick(g, 8), cc = pick(g, 16);
    static const uint8_t register_templates[] = { 0, 1, 4, 6, 9, 11, 12, 14,
                                                  20, 25, 26 };
    unsigned template = g->regs_only ? register_templates[pick(g, 11)]
                                     : pick(g, 29);
    switch (template) {
    case 0: case 1:   /* ALU r/m, r (register) */
        prefixes(g, size, src, dst, false);
        out(g, (uint8_t)(alu << 3 | 1));
        modrm_reg(g, src, alu == 7 ? any_reg(g) : dst);
        break;
    case 2:   /* ALU r, m, maybe through FS/GS or a 32-bit address */
        if (pick(g, 3) == 0)
            out(g, pick(g, 2) ? 0x64 : 0x65);
        if (g->x64 && pick(g, 4) == 0)
            out(g, 0x67);
        prefixes(g, size, dst, 0, false);
        out(g, (uint8_t)(alu << 3 | 3));
        mem_operand(g, dst, 0);
        break;
    case 3:   /* ALU m, r */
        prefixes(g, size, src, 0, false);
        out(g, (uint8_t)(alu << 3 | 1));
        mem_operand(g, src, 0);
        break;
    case 4:   /* ALU r/m, imm8 / imm32 */
        prefixes(g, size, 0, dst, false);
        if (pick(g, 2)) {
            out(g, 0x83);
            modrm_reg(g, alu, dst);
            out(g, (uint8_t)rnd(g));
        } else {
            out(g, 0x81);
            modrm_reg(g, alu, dst);
            if (size == 2) {
                out(g, (uint8_t)rnd(g));
                out(g, (uint8_t)rnd(g));
            } else {
                out32(g, rnd(g) | (pick(g, 2) << 31));
            }
        }
        break;
    case 5:   /* byte ALU, the high-byte registers without REX */
        out(g, (uint8_t)(alu << 3));
        /* Writable without REX: AL, CL, DL, AH, CH, DH. */
        modrm_reg(g, pick(g, 8),
                  alu == 7 ? pick(g, 8) : pick(g, 3) + 4 * pick(g, 2));
        break;
    case 6:   /* MOV r, r / r, imm */
        if (pick(g, 2)) {
            prefixes(g, size, src, dst, false);
            out(g, 0x89);
            modrm_reg(g, src, dst);
        } else {
            prefixes(g, size, 0, dst, false);
            out(g, (uint8_t)(0xb8 | (dst & 7)));
            unsigned n = size == 8 ? 8 : size;
            for (unsigned i = 0; i < n; i++)
                out(g, (uint8_t)rnd(g));
        }
        break;
    case 7: {   /* MOV r, m / m, r, byte and full size */
        uint8_t opc = (uint8_t)(0x88 | pick(g, 2) | 2 * pick(g, 2));
        if (!(opc & 1))
            dst = byte_dst(g);
        prefixes(g, size, dst, 0, !(opc & 1));
        out(g, opc);
        mem_operand(g, dst, 0);
        break;
    }
    case 8:   /* MOVZX / MOVSX / MOVSXD */
        if (g->x64 && pick(g, 3) == 0) {
            prefixes(g, 8, dst, src, false);
            out(g, 0x63);
            modrm_reg(g, dst, src);
        } else {
            bool reg = pick(g, 2);
            prefixes(g, size == 2 ? 4 : size, dst, reg ? src : 0, false);
            out(g, 0x0f);
            out(g, (uint8_t)(0xb6 | pick(g, 2) | 8 * pick(g, 2)));
            if (reg)
                modrm_reg(g, dst, src);
            else
                mem_operand(g, dst, 0);
        }
        break;
    case 9:   /* LEA */
        prefixes(g, size, dst, 0, false);
        out(g, 0x8d);
        if (pick(g, 2)) {
            mem_operand(g, dst, 0);
        } else {
            out(g, (uint8_t)(0x84 | (dst & 7) << 3));
            out(g, (uint8_t)(pick(g, 4) << 6 | pick(g, 8) << 3 | pick(g, 8)));
            out32(g, rnd(g));
        }
        break;
    case 10:   /* INC/DEC/NOT/NEG, register or memory */
        if (pick(g, 2)) {
            prefixes(g, size, 0, dst, false);
            out(g, 0xff);
            modrm_reg(g, pick(g, 2), dst);
        } else if (pick(g, 2)) {
            prefixes(g, size, 0, dst, false);
            out(g, 0xf7);
            modrm_reg(g, 2 + pick(g, 2), dst);
        } else {
            prefixes(g, size, 0, 0, false);
            bool incdec = pick(g, 2);
            out(g, incdec ? 0xff : 0xf7);
            mem_operand(g, pick(g, 2) + (incdec ? 0 : 2), 0);
        }
        break;
    case 11:   /* TEST */
        prefixes(g, size, src, dst, false);
        out(g, 0x85);
        modrm_reg(g, src, any_reg(g));
        break;
    case 12:   /* ROL/ROR/SHL/SHR/SAR by immediate or by 1 */
        prefixes(g, size, 0, dst, false);
        {
            static const uint8_t ops[] = { 0, 1, 4, 5, 7 };
            unsigned op = ops[pick(g, 5)];
            if (pick(g, 3)) {
                out(g, 0xc1);
                modrm_reg(g, op, dst);
                out(g, (uint8_t)pick(g, 70));
            } else {
                out(g, 0xd1);
                modrm_reg(g, op, dst);
            }
        }
        break;
    case 13:   /* PUSH r / PUSH imm / POP r */
        switch (pick(g, 3)) {
        case 0:
            prefixes(g, 4, 0, src, false);
            out(g, (uint8_t)(0x50 | (src & 7)));
            break;
        case 1:
            out(g, 0x6a);
            out(g, (uint8_t)rnd(g));
            break;
        default:
            prefixes(g, pick(g, 4) ? 4 : 2, 0, dst, false);
            out(g, (uint8_t)(0x58 | (dst & 7)));
            break;
        }
        break;
    case 24: {   /* JMP through a register or memory to the next insn */
        unsigned store = g->x64 ? 7 : 6, jump = 6;
        if (g->x64) {
            prefixes(g, 8, dst, 0, false);         /* lea dst, [rip+n] */
            out(g, 0x8d);
            out(g, (uint8_t)(0x05 | (dst & 7) << 3));
            out32(g, store + jump);
        } else {
            out(g, (uint8_t)(0xb8 | (dst & 7)));   /* mov dst, target */
            out32(g, (uint32_t)g->addr + 4 + store + jump);
        }
        prefixes(g, 8, dst, 0, false);             /* mov [rbx+0x800], dst */
        out(g, 0x89);
        out(g, (uint8_t)(0x83 | (dst & 7) << 3));
        out32(g, 0x800);
        uint64_t start_jump = g->addr;
        if (pick(g, 2)) {
            prefixes(g, 4, 0, dst, false);         /* jmp dst */
            out(g, 0xff);
            out(g, (uint8_t)(0xe0 | (dst & 7)));
            while (g->addr - start_jump < jump)
                out(g, 0x90);
        } else {
            out(g, 0xff);                          /* jmp [rbx+0x800] */
            out(g, 0xa3);
            out32(g, 0x800);
        }
        break;
    }
    case 25: {   /* shifts by CL, byte and full size */
        static const uint8_t ops[] = { 4, 5, 7 };
        bool byte = pick(g, 3) == 0;
        if (byte)
            dst = byte_dst(g);
        prefixes(g, byte ? 4 : size, 0, dst, byte);
        out(g, byte ? 0xd2 : 0xd3);
        modrm_reg(g, ops[pick(g, 3)], dst);
        break;
    }
    case 26:   /* CBW/CWDE/CDQE, CWD/CDQ/CQO */
        prefixes(g, size, 0, 0, false);
        out(g, (uint8_t)(0x98 + pick(g, 2)));
        break;
    case 27:   /* LEAVE with rBP just below rSP */
        prefixes(g, 8, 0, 0, false);
        out(g, 0x8d);                              /* lea rbp, [rsp-0x40] */
        out(g, 0x6c);
        out(g, 0x24);
        out(g, 0xc0);
        out(g, 0xc9);
        break;
    case 28:   /* IMUL r, r/m, imm; IMUL r, m; XCHG m, r; CMPXCHG m, r */
        switch (pick(g, 5)) {
        case 0: {
            bool imm8 = pick(g, 2);
            prefixes(g, size, dst, src, false);
            out(g, imm8 ? 0x6b : 0x69);
            modrm_reg(g, dst, src);
            if (imm8) {
                out(g, (uint8_t)rnd(g));
            } else if (size == 2) {
                out(g, (uint8_t)rnd(g));
                out(g, (uint8_t)rnd(g));
            } else {
                out32(g, rnd(g));
            }
            break;
        }
        case 1:
            prefixes(g, size, dst, 0, false);
            out(g, 0x0f);
            out(g, 0xaf);
            mem_operand(g, dst, 0);
            break;
        case 2:
            prefixes(g, size, dst, 0, false);
            out(g, 0x87);
            mem_operand(g, dst, 0);
            break;
        case 3:   /* CMPXCHG that succeeds: rAX loaded from the memory */
            prefixes(g, size, 0, 0, false);
            out(g, 0x8b);                          /* mov rax, [rbx+0x10] */
            out(g, 0x43);
            out(g, 0x10);
            prefixes(g, size, src, 0, false);
            out(g, 0x0f);
            out(g, 0xb1);
            out(g, (uint8_t)(0x43 | (src & 7) << 3));
            out(g, 0x10);
            break;
        default:   /* (LOCK) CMPXCHG m, r */
            if (pick(g, 2))
                out(g, 0xf0);
            prefixes(g, size, src, 0, false);
            out(g, 0x0f);
            out(g, 0xb1);
            mem_operand(g, src, 0);
            break;
        }
        break;
    case 14:   /* SETcc / CMOVcc */
        if (pick(g, 2)) {
            dst = byte_dst(g);
            prefixes(g, 4, 0, dst, true);
            out(g, 0x0f);
            out(g, (uint8_t)(0x90 | cc));
            modrm_reg(g, 0, dst);
        } else {
            prefixes(g, size, dst, src, false);
            out(g, 0x0f);
            out(g, (uint8_t)(0x40 | cc));
            modrm_reg(g, dst, src);
        }
        break;
    case 15: {   /* Jcc over the next instruction */
        uint8_t *jcc = g->p;
        out(g, (uint8_t)(0x70 | cc));
        out(g, 0);
        uint64_t start = g->addr;
        gen_insn(g);
        jcc[1] = (uint8_t)(g->addr - start);
        break;
    }
    case 16:   /* CALL the next instruction, then pop the return address */
        out(g, 0xe8);
        out32(g, 0);
        prefixes(g, 4, 0, dst, false);
        out(g, (uint8_t)(0x58 | (dst & 7)));
        break;
    case 17:   /* PUSH the address after RET; RET */
        if (g->x64) {
            prefixes(g, 8, dst, 0, false);
            out(g, 0x8d);                          /* lea dst, [rip+n] */
            out(g, (uint8_t)(0x05 | (dst & 7) << 3));
            out32(g, dst >= 8 ? 3 : 2);
            if (dst >= 8)
                out(g, 0x41);
        } else {
            out(g, (uint8_t)(0xb8 | (dst & 7)));   /* mov dst, addr */
            out32(g, (uint32_t)g->addr + 4 + 2);
        }
        out(g, (uint8_t)(0x50 | (dst & 7)));
        out(g, 0xc3);
        break;
    case 18:   /* string moves and stores, DF either way */
        prefixes(g, 8, 0, 6, false);
        out(g, 0xbe);                              /* mov esi, DATA+n */
        out32(g, DATA + 0x400 + pick(g, 0x40));
        if (g->x64)
            out32(g, 0);
        prefixes(g, 8, 0, 7, false);
        out(g, 0xbf);                              /* mov edi, DATA+n */
        out32(g, DATA + 0x480 + pick(g, 0x40));
        if (g->x64)
            out32(g, 0);
        out(g, pick(g, 2) ? 0xfc : 0xfd);          /* cld / std */
        if (size == 2)
            out(g, 0x66);
        if (size == 8)
            out(g, 0x48);
        out(g, (uint8_t)(0xa4 | pick(g, 2) | (pick(g, 2) ? 0 : 8)));
        break;
    case 19:   /* the default lowering: XCHG, IMUL, BT, BSWAP, CMC */
        switch (pick(g, 5)) {
        case 0: {
            unsigned other = dst_reg(g);
            prefixes(g, size, dst, other, false);
            out(g, 0x87);
            modrm_reg(g, dst, other);
            break;
        }
        case 1:
            prefixes(g, size, dst, src, false);
            out(g, 0x0f);
            out(g, 0xaf);
            modrm_reg(g, dst, src);
            break;
        case 2:
            prefixes(g, size, src, dst, false);
            out(g, 0x0f);
            out(g, 0xa3);
            modrm_reg(g, src, dst);
            break;
        case 3:
            prefixes(g, size == 2 ? 4 : size, 0, dst, false);
            out(g, 0x0f);
            out(g, (uint8_t)(0xc8 | (dst & 7)));
            break;
        default:
            out(g, 0xf5);
            break;
        }
        break;
    case 20:   /* ADC/SBB after something that sets CF */
        prefixes(g, size, src, dst, false);
        out(g, (uint8_t)((2 + pick(g, 2)) << 3 | 1));
        modrm_reg(g, src, dst);
        break;
    case 21:   /* JMP over the next instruction */
        out(g, 0xeb);
        {
            uint8_t *rel = g->p;
            out(g, 0);
            uint64_t start = g->addr;
            gen_insn(g);
            *rel = (uint8_t)(g->addr - start);
        }
        break;
    case 22:   /* 8-bit ALU on memory with an immediate */
        out(g, 0x80);
        mem_operand(g, alu, 1);
        out(g, (uint8_t)rnd(g));
        break;
    default:   /* CMP then Jcc (fused condition) */
        prefixes(g, size, src, 0, false);
        out(g, 0x39);
        modrm_reg(g, src, any_reg(g));
        {
            uint8_t *jcc = g->p;
            out(g, (uint8_t)(0x70 | cc));
            out(g, 0);
            uint64_t start = g->addr;
            gen_insn(g);
            jcc[1] = (uint8_t)(g->addr - start);
        }
        break;
    }
}

/* Fill the registers and the data area from the seed. */
static void randomize(JitBox *b, Gen *g)
{
    for (int r = 0; r < 16; r++) {
        if (r == R_SP || r == R_BX)
            continue;
        uint64_t v = (uint64_t)rnd(g) << 32 | rnd(g);
        if (!g->x64 || pick(g, 4) == 0)
            v &= 0xffffffff;
        b->cpu.s.regs[r] = g->x64 ? v : v & 0xffffffff;
    }
    for (unsigned i = 0; i < 0x1000; i++)
        b->ram[DATA + i] = (uint8_t)rnd(g);
    cc_set(&b->cpu, CC_SUB, 4, rnd(g), rnd(g), 0);
    /* FS and GS overrides reach the data area at an offset. */
    b->cpu.s.seg[SEG_FS].base = 0x1000;
    b->cpu.s.seg[SEG_GS].base = 0x2000;
}

/* Run the program at CODE block by block, comparing each, until HLT, a
 * fault, or a budget of blocks. */
static void run_program(JitBox *b, const char *what)
{
    for (int n = 0; n < 2000; n++) {
        int r = jitbox_step(b, what);
        if (r != CPU_OK && r != CPU_EXIT)
            return;
        if (b->cpu.s.halted || b->cpu.s.exception.vector >= 0)
            return;
    }
    cr_assert_fail("%s: the program did not reach its HLT", what);
}

static void random_programs(bool x64, unsigned seeds, unsigned length,
                            const JitBackend *backend, bool regs_only)
{
    unsigned blocks = 0;
    if (!backend)
        cr_skip_test("no native backend on this host");
    /* JIT_TEST_SEED=n, JIT_TEST_LENGTH=n: one program, to study it. */
    const char *only = getenv("JIT_TEST_SEED"), *len = getenv("JIT_TEST_LENGTH");
    if (len)
        length = (unsigned)atoi(len);
    for (unsigned seed = 1; seed <= seeds; seed++) {
        if (only && (unsigned)atoi(only) != seed)
            continue;
        JitBox *b = jitbox_new(x64);
        b->backend = backend;
        Gen g = { .rng = 0x9e3779b97f4a7c15ull * seed, .x64 = x64,
                  .regs_only = regs_only, .p = b->ram + CODE, .addr = CODE };
        randomize(b, &g);
        for (unsigned i = 0; i < length; i++)
            gen_insn(&g);
        out(&g, 0xf4);   /* HLT */
        char what[64];
        snprintf(what, sizeof(what), "%s %s seed %u", backend->name,
                 x64 ? "64-bit" : "32-bit", seed);
        run_program(b, what);
        cr_assert(b->cpu.s.halted, "%s: stopped early at %llx, exception %d",
                  what, (unsigned long long)b->cpu.s.rip,
                  b->cpu.s.exception.vector);
        blocks += b->blocks_compared;
        jitbox_free(b);
    }
    cr_log_info("%u blocks compared\n", blocks);
}

Test(jit_translate, random_64bit)
{
    random_programs(true, 200, 300, &jit_backend_irinterp, false);
}

Test(jit_translate, random_32bit)
{
    random_programs(false, 200, 300, &jit_backend_irinterp, false);
}

/* The same programs through the host's backend: the IR means the same
 * there. */
Test(jit_translate, random_64bit_native)
{
    random_programs(true, 200, 300, jit_backend_native(), false);
}

Test(jit_translate, random_32bit_native)
{
    random_programs(false, 200, 300, jit_backend_native(), false);
}

/* Long blocks of register arithmetic (as in hash functions): many live
 * values, no barrier. */
Test(jit_translate, random_registers)
{
    random_programs(true, 100, 200, &jit_backend_irinterp, true);
    random_programs(false, 100, 200, &jit_backend_irinterp, true);
}

Test(jit_translate, random_registers_native)
{
    random_programs(true, 100, 200, jit_backend_native(), true);
    random_programs(false, 100, 200, jit_backend_native(), true);
}

/* Run block by block until a fault, HLT or a budget, without requiring
 * the HLT; returns the blocks compared. */
static unsigned run_until_stop(JitBox *b, const char *what)
{
    for (int n = 0; n < 500; n++) {
        int r = jitbox_step(b, what);
        if ((r != CPU_OK && r != CPU_EXIT) || b->cpu.s.halted ||
            b->cpu.s.exception.vector >= 0)
            break;
    }
    return b->blocks_compared;
}

/* Real mode: every instruction keeps the default lowering, and the
 * templates (made for 32-bit code) decode to whatever they decode to,
 * so the run stops at the first fault. */
Test(jit_translate, random_16bit)
{
    unsigned blocks = 0;
    for (unsigned seed = 1; seed <= 40; seed++) {
        JitBox *b = jitbox_new_mode(JITBOX_REAL);
        Gen g = { .rng = 0x9e3779b97f4a7c15ull * seed, .x64 = false,
                  .p = b->ram + CODE, .addr = 0 };
        randomize(b, &g);
        for (int r = 0; r < 8; r++)
            b->cpu.s.regs[r] &= 0xffff;
        b->cpu.s.regs[R_SP] = 0x8000;
        b->cpu.s.regs[R_BX] = 0x100;
        for (unsigned i = 0; i < 200; i++)
            gen_insn(&g);
        out(&g, 0xf4);
        blocks += run_until_stop(b, "16-bit");
        jitbox_free(b);
    }
    cr_log_info("%u blocks compared\n", blocks);
}

/* CPL 3 with alignment checking on: memory operands keep the default
 * lowering (which raises #AC), register operands are still inline. */
Test(jit_translate, random_32bit_alignment_check)
{
    unsigned blocks = 0;
    for (unsigned seed = 1; seed <= 60; seed++) {
        JitBox *b = jitbox_new(false);
        Gen g = { .rng = 0x9e3779b97f4a7c15ull * seed, .x64 = false,
                  .p = b->ram + CODE, .addr = CODE };
        randomize(b, &g);
        b->cpu.s.seg[SEG_CS].selector |= 3;
        b->cpu.s.cr0 |= CR0_AM;
        b->cpu.s.eflags |= F_AC;
        cr_assert_eq(jit_assumptions(&b->cpu) & JIT_ASSUME_NO_AC, 0);
        for (unsigned i = 0; i < 200; i++)
            gen_insn(&g);
        out(&g, 0xf4);
        blocks += run_until_stop(b, "32-bit #AC");
        jitbox_free(b);
    }
    cr_log_info("%u blocks compared\n", blocks);
}

static void put(JitBox *b, uint64_t addr, const uint8_t *code, size_t len)
{
    memcpy(b->ram + addr, code, len);
}

/* A load from the unmapped HOLE in the middle of a block: #PF with the
 * registers of the instructions before it retired, RIP on the load. */
Test(jit_translate, fault_mid_block)
{
    static const uint8_t code[] = {
        0x48, 0x83, 0xc1, 0x05,             /* add rcx, 5 */
        0x48, 0x89, 0x0b,                   /* mov [rbx], rcx */
        0x48, 0x8b, 0x04, 0x5b,             /* mov rax, [rbx+rbx*2] */
        0x48, 0x83, 0xc1, 0x01,             /* add rcx, 1 */
        0xf4,
    };
    JitBox *b = jitbox_new(true);
    put(b, CODE, code, sizeof(code));
    b->cpu.s.regs[R_CX] = 7;
    cr_assert_eq(jitbox_step(b, "fault"), CPU_FAULT);
    cr_assert_eq(b->cpu.s.exception.vector, EXC_PF);
    cr_assert_eq(b->cpu.s.cr2, HOLE);
    cr_assert_eq(b->cpu.s.rip, CODE + 7);
    cr_assert_eq(b->cpu.s.regs[R_CX], 12);
    cr_assert_eq(b->cpu.s.icount, 2);
    jitbox_free(b);
}

/* A store into the block's own next instruction, after another store:
 * the interpreter leaves after it, and so must the translation. */
Test(jit_translate, self_modifying_store)
{
    static const uint8_t code[] = {
        0x48, 0x89, 0x0b,                         /* mov [rbx], rcx */
        0xc6, 0x05, 0x03, 0x00, 0x00, 0x00, 0x02, /* mov byte [rip+3], 2 */
        0x48, 0x83, 0xc1, 0x01,                   /* add rcx, 1 -> 2 */
        0x48, 0x83, 0xc1, 0x01,
        0xf4,
    };
    JitBox *b = jitbox_new(true);
    put(b, CODE, code, sizeof(code));
    run_program(b, "smc");
    cr_assert(b->cpu.s.halted);
    cr_assert_eq(b->cpu.s.regs[R_CX], 3);
    jitbox_free(b);
}

/* Count the ops of the optimized translation of the block at CODE that
 * store to guest-state offset `off`. */
static unsigned stores_to(JitBox *b, size_t off)
{
    Block *blk = jitbox_block(b);
    jit_translate(&b->cpu, blk, jit_assumptions(&b->cpu), b->ir);
    jit_optimize(b->ir);
    unsigned n = 0;
    for (uint32_t i = 0; i < b->ir->count; i++) {
        const IrOp *op = &b->ir->ops[i];
        if (op->opc == IR_ST && op->imm == off)
            n++;
        cr_assert_neq(op->opc, IR_NOP, "NOPs are removed");
    }
    return n;
}

/* The optimizer: of three ALU instructions only the last records the
 * flags; a register written twice is stored once; and the block still
 * computes the same (random_64bit checks that at large). */
Test(jit_translate, optimizer_removes_dead_state_stores)
{
    static const uint8_t code[] = {
        0x48, 0x01, 0xd8,       /* add rax, rbx */
        0x48, 0x29, 0xc8,       /* sub rax, rcx */
        0x48, 0x31, 0xd0,       /* xor rax, rdx */
        0xf4,
    };
    JitBox *b = jitbox_new(true);
    put(b, CODE, code, sizeof(code));
    cr_assert_eq(stores_to(b, offsetof(Cpu, s.cc_op)), 1);
    cr_assert_eq(stores_to(b, offsetof(Cpu, s.regs[R_AX])), 1);
    b->cpu.s.regs[R_AX] = 5;
    b->cpu.s.regs[R_BX] = 7;
    b->cpu.s.regs[R_CX] = 2;
    b->cpu.s.regs[R_DX] = 0xff;
    jitbox_step(b, "optimizer");
    cr_assert_eq(b->cpu.s.regs[R_AX], 10 ^ 0xff);
    jitbox_free(b);
}

/* What a translation may assume (jit/translate.h). */
Test(jit_translate, assumptions)
{
    JitBox *b = jitbox_new(false);
    Cpu *c = &b->cpu;
    cr_assert_eq(jit_assumptions(c), JIT_ASSUME_FLAT | JIT_ASSUME_NO_AC);
    c->s.seg[SEG_DS].base = 0x1000;              /* not flat */
    cr_assert_eq(jit_assumptions(c), JIT_ASSUME_NO_AC);
    c->s.seg[SEG_DS].base = 0;
    c->s.seg[SEG_ES].attr &= ~0x2;               /* read-only data */
    cr_assert_eq(jit_assumptions(c), JIT_ASSUME_NO_AC);
    c->s.seg[SEG_ES].attr |= 0x2;
    c->s.seg[SEG_CS].selector |= 3;              /* CPL 3 */
    cr_assert_eq(jit_assumptions(c),
                 JIT_ASSUME_USER | JIT_ASSUME_FLAT | JIT_ASSUME_NO_AC);
    c->s.cr0 |= CR0_AM;                          /* #AC checking on */
    c->s.eflags |= F_AC;
    cr_assert_eq(jit_assumptions(c), JIT_ASSUME_USER | JIT_ASSUME_FLAT);
    jitbox_free(b);

    b = jitbox_new(true);                        /* 64-bit: never FLAT */
    cr_assert_eq(jit_assumptions(&b->cpu), JIT_ASSUME_NO_AC);
    jitbox_free(b);
}

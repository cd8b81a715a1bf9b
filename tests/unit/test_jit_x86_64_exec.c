/* Unit tests for the code cache (jit/cache.c) and the x86-64 backend's
 * encoder, guest memory accesses (the inline TLB path and the slow
 * helpers), entry test, exits and chaining.  Encodings are checked by
 * disassembling them with Capstone.
 */
#include "tests/unit/jit_x86_64_test.h"

/* ======================================================================
 * The code cache
 * ====================================================================== */

/* The permissions /proc/self/maps shows for the mapping holding p. */
static void perms_of(const void *p, char out[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert(f);
    char line[512];
    strcpy(out, "none");
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
            (uintptr_t)p >= lo && (uintptr_t)p < hi) {
            memcpy(out, perms, 5);
            break;
        }
    }
    fclose(f);
}

Test(jit_cache, two_views_bump_allocation_flush_and_keep)
{
    JitCache *c = jit_cache_new(100000);
    cr_assert_not_null(c);
    cr_assert_eq(c->size % 4096, 0);
    cr_assert_geq(c->size, 100000);
    char p[5];
    perms_of(c->rx, p);
    cr_assert_str_eq(p, "r-xs", "executable view is %s", p);
    perms_of(c->rw, p);
    cr_assert_str_eq(p, "rw-s", "writable view is %s", p);

    size_t room;
    uint8_t *next = jit_cache_next(c, &room);
    cr_assert_eq(next, c->rx);
    cr_assert_eq(room, c->size);
    uint8_t *a = jit_cache_alloc(c, 10);
    cr_assert_eq(a, c->rx);
    /* The same bytes through both views. */
    ((uint8_t *)jit_cache_rw(c, a))[3] = 0xab;
    cr_assert_eq(a[3], 0xab);
    uint8_t *b = jit_cache_alloc(c, 5);
    cr_assert_eq(b, c->rx + JIT_CACHE_ALIGN, "allocations are aligned");
    jit_cache_keep(c);
    cr_assert_null(jit_cache_alloc(c, c->size), "too big");
    uint8_t *d = jit_cache_alloc(c, 100);
    cr_assert_eq(d, c->rx + 2 * JIT_CACHE_ALIGN);
    jit_cache_flush(c);
    cr_assert_eq(c->flushes, 1);
    cr_assert_eq(jit_cache_alloc(c, 1), d, "the kept part survives a flush");
    cr_assert(jit_cache_contains(c, d));
    cr_assert_not(jit_cache_contains(c, c->rw));
    jit_cache_free(c);
}

/* ======================================================================
 * The encoder, checked by Capstone
 * ====================================================================== */

static void expect_disas(const uint8_t *code, size_t len, const char *const *want,
                         size_t nwant)
{
    csh h;
    cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
    cs_insn *insn;
    size_t n = cs_disasm(h, code, len, 0, 0, &insn);
    cr_assert_eq(n, nwant, "%zu instructions decoded, %zu expected", n, nwant);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        char text[320];
        snprintf(text, sizeof(text), "%s %s", insn[i].mnemonic, insn[i].op_str);
        cr_expect_str_eq(text, want[i], "instruction %zu: %s", i, text);
        bytes += insn[i].size;
    }
    cr_assert_eq(bytes, len, "every byte belongs to an instruction");
    cs_free(insn, n);
    cs_close(&h);
}

Test(jit_x86_64_emit, encodings_match_capstone)
{
    uint8_t buf[512];
    XEmitter e;
    x_init(&e, buf, buf, sizeof(buf));
    x_mov_r_rm(&e, 1, X_RSI, x_mem(X_RSP, 8));          /* SIL needs REX */
    x_mov_rm_r(&e, 1, x_mem(X_R12, 0), X_RDI);          /* R12 needs a SIB */
    x_mov_r_rm(&e, 8, X_R13, x_mem(X_RBP, 0));          /* RBP needs a disp8 */
    x_mov_r_rm(&e, 4, X_RAX, x_mem(X_R13, 0x1234));
    x_mov_r_rm(&e, 2, X_R9, x_mem_index(X_RBX, X_R10, 8, -4));
    x_alu_r_rm(&e, XA_SUB, 8, X_R15, x_reg(X_RAX));
    x_alu_rm_imm(&e, XA_AND, 4, x_reg(X_R11), 0xfff);
    x_alu_rm_imm(&e, XA_CMP, 1, x_mem_index(X_RBX, X_RAX, 1, 0x40), 0);
    x_alu_rm_imm(&e, XA_ADD, 2, x_reg(X_RDX), -2);
    x_imul_r_rm_imm(&e, 4, X_RAX, x_reg(X_RAX), 48);
    x_shift_rm_cl(&e, XS_SAR, 8, x_reg(X_R8));
    x_shift_rm_imm(&e, XS_SHR, 8, x_reg(X_RAX), 12);
    x_movzx(&e, X_R8, 1, x_reg(X_RDI));
    x_movsx(&e, 8, X_RDI, 4, x_reg(X_RBP));
    x_movsx(&e, 4, X_RBP, 2, x_reg(X_R14));
    x_mov_r_imm(&e, X_R12, 0xffffffff);
    x_mov_r_imm(&e, X_RCX, (uint64_t)-5);
    x_mov_r_imm(&e, X_RDX, 0x123456789ull);
    x_setcc(&e, XC_L, X_RCX);
    x_test_rm_r(&e, 8, x_reg(X_R9), X_RDI);
    x_neg(&e, 4, x_reg(X_RDI));
    x_push(&e, X_R15);
    x_pop(&e, X_RBX);
    x_call_r(&e, X_RAX);
    x_lea(&e, 8, X_RCX, x_mem(X_RSP, 0x880));
    x_lea(&e, 4, X_R9, x_mem(X_R13, -1));
    x_mov_rm_imm32(&e, 8, x_mem(X_RCX, 0), 0);
    cr_assert_not(e.overflow);
    static const char *const want[] = {
        "mov sil, byte ptr [rsp + 8]",
        "mov byte ptr [r12], dil",
        "mov r13, qword ptr [rbp]",
        "mov eax, dword ptr [r13 + 0x1234]",
        "mov r9w, word ptr [rbx + r10*8 - 4]",
        "sub r15, rax",
        "and r11d, 0xfff",
        "cmp byte ptr [rbx + rax + 0x40], 0",
        "add dx, -2",
        "imul eax, eax, 0x30",
        "sar r8, cl",
        "shr rax, 0xc",
        "movzx r8d, dil",
        "movsxd rdi, ebp",
        "movsx ebp, r14w",
        "mov r12d, 0xffffffff",
        "mov rcx, -5",
        "movabs rdx, 0x123456789",
        "setl cl",
        "test r9, rdi",
        "neg edi",
        "push r15",
        "pop rbx",
        "call rax",
        "lea rcx, [rsp + 0x880]",
        "lea r9d, [r13 - 1]",
        "mov qword ptr [rcx], 0",
    };
    expect_disas(buf, e.pos, want, sizeof(want) / sizeof(want[0]));
}

Test(jit_x86_64_emit, overflow_is_sticky)
{
    uint8_t buf[4];
    XEmitter e;
    x_init(&e, buf, buf, sizeof(buf));
    x_mov_r_imm(&e, X_RAX, 0x123456789ull);
    cr_assert(e.overflow);
}

/* ======================================================================
 * Guest memory: the inline TLB path and the slow helpers
 * ====================================================================== */

static uint8_t host_page[2 * 4096] __attribute__((aligned(4096)));

/* Point the supervisor TLB entry of `linear` at host_page. */
static void fake_tlb(uint64_t linear, bool read, bool write)
{
    uint64_t page = linear & ~0xfffull;
    TlbFill f = { .phys = 0x9000, .host = (uintptr_t)host_page, .read = read,
                  .write = write };
    /* Current, or mem.c would flush it (the dispatcher's check). */
    cpu->tlb_generation = cpu->mem->generation;
    tlb_fill(&cpu->tlb, TLB_SUPERVISOR, page, &f);
}

/* regs[2..5] = loads of 1, 2, 4, 8 bytes at regs[0] (I32 for 1, 2 and 8,
 * to check truncation, I64 for 4); then stores regs[1] with each size at
 * regs[0] + 16, 32, 48, 64. */
/* regs[0] + offset, or with `known` the constant known + offset (the
 * backend then computes the TLB entry and page when translating). */
static IrTemp address(IrBlock *ir, uint64_t known, uint64_t offset)
{
    if (known)
        return ir_movi(ir, IR_I64, known + offset);
    IrTemp base = ir_ld(ir, IR_I64, REG(0), 8);
    return offset ? ir_binop(ir, IR_ADD, IR_I64, base, ir_movi(ir, IR_I64, offset)) : base;
}

static void mem_block(IrBlock *ir, int priv, uint64_t known)
{
    ir_reset(ir);
    IrTemp addr = address(ir, known, 0);
    IrTemp v = ir_ld(ir, IR_I64, REG(1), 8);
    ir_st(ir, REG(2), 8, ir_qld(ir, IR_I32, addr, 1, priv));
    ir_st(ir, REG(3), 8, ir_qld(ir, IR_I32, addr, 2, priv));
    ir_st(ir, REG(4), 8, ir_qld(ir, IR_I64, addr, 4, priv));
    ir_st(ir, REG(5), 8, ir_qld(ir, IR_I32, addr, 8, priv));
    ir_st(ir, REG(6), 8, ir_qld(ir, IR_I64, addr, 8, priv));
    for (unsigned s = 1; s <= 8; s *= 2)
        ir_qst(ir, address(ir, known, 8 + 8 * s), v, s, priv);
    ir_exit(ir, CPU_OK);
}

static void check_mem_results(const uint8_t *base)
{
    uint64_t q;
    memcpy(&q, base, 8);
    cr_assert_eq(cpu->s.regs[2], (uint8_t)q);
    cr_assert_eq(cpu->s.regs[3], (uint16_t)q);
    cr_assert_eq(cpu->s.regs[4], (uint32_t)q);
    cr_assert_eq(cpu->s.regs[5], (uint32_t)q);
    cr_assert_eq(cpu->s.regs[6], q);
    uint64_t v = cpu->s.regs[1];
    for (unsigned s = 1; s <= 8; s *= 2) {
        uint64_t got = 0;
        memcpy(&got, base + 8 + 8 * s, 8);
        uint64_t keep = s == 8 ? 0 : ~0ull << (8 * s);
        cr_assert_eq(got & ~keep, v & ~keep, "store of %u bytes", s);
        cr_assert_eq(got & keep, 0xeeeeeeeeeeeeeeeeull & keep, "store of %u bytes", s);
    }
}

Test(jit_x86_64, tlb_hit_uses_the_host_addend)
{
    /* The TLB says linear 0x40000 is host_page: RAM there stays untouched. */
    IrBlock *ir = calloc(1, sizeof(*ir));
    for (int known = 0; known < 2; known++) {
        mem_block(ir, TLB_SUPERVISOR, known ? 0x40100 : 0);
        memset(host_page, 0xee, sizeof(host_page));
        for (int i = 0; i < 8; i++)
            host_page[0x100 + i] = (uint8_t)(0xf1 + 0x11 * i);
        memset(ram + 0x40000, 0x77, 4096);
        fake_tlb(0x40000, true, true);
        cpu->s.regs[0] = 0x40100;
        cpu->s.regs[1] = 0x8877665544332211ull + (uint64_t)known;
        cr_assert_eq(run(ir), CPU_OK);
        check_mem_results(host_page + 0x100);
        cr_assert_eq(ram[0x40100], 0x77);
        cr_assert_eq(ram[0x40150], 0x77);
    }
    ir_free(ir);
    free(ir);
}

/* The block of mem_block at 0x50ffa, with the address known or not. */
static void miss_then_hit(uint64_t known)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    mem_block(ir, TLB_SUPERVISOR, known);
    tlb_flush_all(&cpu->tlb);
    memset(ram + 0x50000, 0xee, 8192);
    for (int i = 0; i < 8; i++)
        ram[0x50ffa + i] = (uint8_t)(0x10 + i);
    /* Miss: through mem_read/mem_write, which fill the TLB... */
    cpu->s.regs[0] = 0x50ffa;
    cpu->s.regs[1] = 0x0102030405060708ull;
    cr_assert_eq(run(ir), CPU_OK);
    check_mem_results(ram + 0x50ffa);
    cr_assert_not_null(tlb_lookup(&cpu->tlb, TLB_SUPERVISOR, 0x50ffa, TLB_READ));
    /* ...so the same page now hits, except the 8-byte load crossing into
     * the next page. */
    memset(ram + 0x50000, 0xee, 8192);
    for (int i = 0; i < 8; i++)
        ram[0x50ffa + i] = (uint8_t)(0x20 + i);
    cpu->s.regs[1] = 0xa0b0c0d0e0f00102ull;
    cr_assert_eq(run(ir), CPU_OK);
    check_mem_results(ram + 0x50ffa);
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, tlb_miss_and_page_crossing_use_the_slow_path)
{
    miss_then_hit(0);
    miss_then_hit(0x50ffa);
}

/* The entry of page 0x40000 says host_page (phys 0x9000); an 8-byte
 * access at 0x40ffc reaches into 0x41000 and must take the slow path,
 * which reads phys 0x9ffc.. and 0x41000.. from RAM. */
static void crossing_access(uint64_t known)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    IrTemp addr = address(ir, known, 0);
    ir_st(ir, REG(1), 8, ir_qld(ir, IR_I64, addr, 8, TLB_SUPERVISOR));
    ir_qst(ir, addr, ir_ld(ir, IR_I64, REG(2), 8), 4, TLB_SUPERVISOR);
    ir_exit(ir, CPU_OK);
    memset(host_page, 0xee, sizeof(host_page));
    for (unsigned i = 0; i < 4; i++) {
        ram[0x9ffc + i] = (uint8_t)(0x10 + i);
        ram[0x41000 + i] = (uint8_t)(0x20 + i);
    }
    fake_tlb(0x40000, true, true);
    cpu->s.regs[0] = 0x40ffc;
    cpu->s.regs[2] = 0x44332211;
    cr_assert_eq(run(ir), CPU_OK);
    cr_assert_eq(cpu->s.regs[1], 0x2322212013121110ull, "%#llx",
                 (unsigned long long)cpu->s.regs[1]);
    /* A 4-byte store at 0xffc fits in the page: it hits. */
    cr_assert_eq(host_page[0xffc], 0x11);
    cr_assert_eq(host_page[0xfff], 0x44);
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, page_crossing_access_never_hits)
{
    crossing_access(0);
    crossing_access(0x40ffc);
}

typedef struct Dev { unsigned reads, writes; uint64_t last; } Dev;

static uint64_t dev_read(void *opaque, uint64_t offset, unsigned size)
{
    ((Dev *)opaque)->reads++;
    return 0x5a5a5a5a5a5a5a5aull;
}

static void dev_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    ((Dev *)opaque)->writes++;
    ((Dev *)opaque)->last = value;
}

Test(jit_x86_64, mmio_pages_never_use_the_addend)
{
    static const MemOps ops = { .read = dev_read, .write = dev_write };
    Dev dev = { 0 };
    cr_assert_eq(as_map_io(&mem, "dev", 0x200000, 4096, &ops, &dev), 0);
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    IrTemp addr = ir_movi(ir, IR_I64, 0x200010);
    for (int i = 0; i < 3; i++) {
        ir_st(ir, REG(i), 8, ir_qld(ir, IR_I32, addr, 4, TLB_SUPERVISOR));
        ir_qst(ir, addr, ir_movi(ir, IR_I32, 0x100 + i), 4, TLB_SUPERVISOR);
    }
    ir_exit(ir, CPU_OK);
    cr_assert_eq(run(ir), CPU_OK);
    /* The rule the inline path relies on (cpu/mem.c): no data tags where
     * the addend does not reach RAM. */
    cr_assert_null(tlb_lookup(&cpu->tlb, TLB_SUPERVISOR, 0x200010, TLB_READ));
    cr_assert_null(tlb_lookup(&cpu->tlb, TLB_SUPERVISOR, 0x200010, TLB_WRITE));
    cr_assert_eq(dev.reads, 3);
    cr_assert_eq(dev.writes, 3);
    cr_assert_eq(dev.last, 0x102);
    cr_assert_eq(cpu->s.regs[2], 0x5a5a5a5a);
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, fault_in_the_slow_path_leaves_the_block)
{
    cpu->s.seg[SEG_DS].limit = 0xfff;
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    IrTemp live = ir_ld(ir, IR_I64, REG(1), 8);
    IrTemp addr = ir_movi(ir, IR_I64, 0x3000);
    IrTemp v = ir_qld(ir, IR_I32, addr, 4, TLB_SUPERVISOR);
    ir->ops[ir->count - 1].imm = SEG_DS;
    ir_st(ir, REG(0), 8, v);
    ir_st(ir, REG(2), 8, live);
    ir_exit(ir, CPU_EXIT);
    cpu->s.regs[0] = 0x1234;
    cpu->s.regs[1] = 99;
    cpu->s.regs[2] = 0;
    cr_assert_eq(run(ir), CPU_FAULT);
    cr_assert_eq(cpu->s.exception.vector, EXC_GP);
    cr_assert_eq(cpu->s.regs[0], 0x1234, "the block went on after the fault");
    cr_assert_eq(cpu->s.regs[2], 0);
    /* Within the limit, the same block runs through. */
    cpu->s.exception.vector = -1;
    cpu->s.seg[SEG_DS].limit = 0xffffffff;
    ram[0x3000] = 0x42;
    cr_assert_eq(run(ir), CPU_EXIT);
    cr_assert_eq(cpu->s.regs[0], 0x42);
    cr_assert_eq(cpu->s.regs[2], 99);
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, temps_survive_the_slow_path_under_pressure)
{
    enum { N = 24 };
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    IrTemp t[N];
    for (int i = 0; i < N; i++)
        t[i] = ir_ld(ir, IR_I64, REG(i % 16), 8);
    IrTemp addr = ir_movi(ir, IR_I64, 0x60008);
    IrTemp x = ir_qld(ir, IR_I64, addr, 8, TLB_SUPERVISOR);
    ir_qst(ir, ir_binop(ir, IR_ADD, IR_I64, addr, ir_movi(ir, IR_I64, 8)), x, 8,
           TLB_SUPERVISOR);
    IrTemp sum = x;
    for (int i = 0; i < N; i++)
        sum = ir_binop(ir, IR_ADD, IR_I64, ir_binop(ir, IR_MUL, IR_I64, sum,
                                                    ir_movi(ir, IR_I64, 3)), t[i]);
    ir_st(ir, REG(0), 8, sum);
    ir_exit(ir, CPU_OK);
    uint64_t in[16];
    for (int i = 0; i < 16; i++)
        in[i] = cpu->s.regs[i] = 0x1111111111111111ull * (uint64_t)(i + 1);
    uint64_t q = 0xdeadbeefcafef00dull;
    memcpy(ram + 0x60008, &q, 8);
    cr_assert_eq(run(ir), CPU_OK);
    uint64_t want = q;
    for (int i = 0; i < N; i++)
        want = want * 3 + in[i % 16];
    cr_assert_eq(cpu->s.regs[0], want);
    uint64_t stored;
    memcpy(&stored, ram + 0x60010, 8);
    cr_assert_eq(stored, q);
    ir_free(ir);
    free(ir);
}

/* ======================================================================
 * Entry test, exits, chaining
 * ====================================================================== */

Test(jit_x86_64, entry_test_leaves_state_untouched)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    ir_st(ir, REG(0), 8, ir_movi(ir, IR_I64, 7));
    ir_exit(ir, CPU_EXIT);
    JitBlock jb;
    translate(ir, &jb, 5);
    cpu->s.icount = 100;
    cpu->icount_limit = 104;
    jit->exit_block = &jb;
    cr_assert_eq(be->enter(cpu, &jb), CPU_OK);
    cr_assert_eq(cpu->s.regs[0], 0);
    cr_assert_null(jit->exit_block);
    cpu->icount_limit = 105;   /* exactly enough room */
    cr_assert_eq(be->enter(cpu, &jb), CPU_EXIT);
    cr_assert_eq(cpu->s.regs[0], 7);
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, chain_and_unchain)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    JitBlock a, b;
    /* a: regs[0] += 1; if regs[0] == 3 goto slot 1 else goto slot 0. */
    ir_reset(ir);
    IrTemp v = ir_binop(ir, IR_ADD, IR_I64, ir_ld(ir, IR_I64, REG(0), 8),
                        ir_movi(ir, IR_I64, 1));
    ir_st(ir, REG(0), 8, v);
    uint32_t l = ir_label(ir);
    ir_brcond(ir, IR_I64, IR_EQ, v, ir_movi(ir, IR_I64, 3), l);
    ir_goto(ir, 0);
    ir_set_label(ir, l);
    ir_goto(ir, 1);
    translate(ir, &a, 1);
    cr_assert_not_null(a.goto_site[0]);
    cr_assert_not_null(a.goto_site[1]);
    /* b: regs[1] += 1; exit CPU_EXIT. */
    ir_reset(ir);
    ir_st(ir, REG(1), 8, ir_binop(ir, IR_ADD, IR_I64, ir_ld(ir, IR_I64, REG(1), 8),
                                  ir_movi(ir, IR_I64, 1)));
    ir_exit(ir, CPU_EXIT);
    translate(ir, &b, 5);
    cr_assert_null(b.goto_site[0]);

    cr_assert_eq(be->enter(cpu, &a), CPU_OK);
    cr_assert_eq(jit->exit_block, &a);
    cr_assert_eq(jit->exit_slot, 0);
    cr_assert_eq(cpu->s.regs[0], 1);

    be->chain(&a, 0, &b);
    jit->exit_block = &a;
    cr_assert_eq(be->enter(cpu, &a), CPU_EXIT);
    cr_assert_null(jit->exit_block);
    cr_assert_eq(cpu->s.regs[0], 2);
    cr_assert_eq(cpu->s.regs[1], 1);

    /* Slot 1 is still unchained. */
    cr_assert_eq(be->enter(cpu, &a), CPU_OK);
    cr_assert_eq(jit->exit_block, &a);
    cr_assert_eq(jit->exit_slot, 1);
    cr_assert_eq(cpu->s.regs[0], 3);

    /* A chained jump goes through the target's entry test. */
    cpu->s.regs[0] = 0;
    cpu->s.icount = 10;
    cpu->icount_limit = 10;
    cr_assert_eq(be->enter(cpu, &a), CPU_OK, "a itself must not run");
    cr_assert_eq(cpu->s.regs[0], 0);
    cpu->icount_limit = 11;
    cr_assert_eq(be->enter(cpu, &a), CPU_OK);
    cr_assert_null(jit->exit_block, "b's entry test leaves like a lookup");
    cr_assert_eq(cpu->s.regs[0], 1);
    cr_assert_eq(cpu->s.regs[1], 1);
    cpu->icount_limit = UINT64_MAX;

    /* A self loop through slot 0 runs until regs[0] == 3. */
    cpu->s.regs[0] = 0;
    be->chain(&a, 0, &a);
    cr_assert_eq(be->enter(cpu, &a), CPU_OK);
    cr_assert_eq(jit->exit_block, &a);
    cr_assert_eq(jit->exit_slot, 1);
    cr_assert_eq(cpu->s.regs[0], 3);

    be->unchain(&a, 0);
    cpu->s.regs[0] = 0;
    cr_assert_eq(be->enter(cpu, &a), CPU_OK);
    cr_assert_eq(jit->exit_block, &a);
    cr_assert_eq(jit->exit_slot, 0);
    cr_assert_eq(cpu->s.regs[0], 1);

    /* The rel32 of each site is 4-byte aligned, for atomic patching. */
    for (int s = 0; s < 2; s++)
        cr_assert_eq(((uintptr_t)a.goto_site[s] + 1) % 4, 0);
    be->disas(&a);
    be->release(&a);
    be->release(&b);
    ir_free(ir);
    free(ir);
}

Test(jit_x86_64, flush_keeps_the_trampolines)
{
    IrBlock *ir = calloc(1, sizeof(*ir));
    ir_reset(ir);
    ir_st(ir, REG(0), 8, ir_movi(ir, IR_I64, 5));
    ir_exit(ir, CPU_EXIT);
    cr_assert_eq(run(ir), CPU_EXIT);
    jit_cache_flush(jit->cache);
    cpu->s.regs[0] = 0;
    cr_assert_eq(run(ir), CPU_EXIT);
    cr_assert_eq(cpu->s.regs[0], 5);
    /* A full cache refuses, and works again after a flush. */
    size_t room;
    jit_cache_next(jit->cache, &room);
    jit_cache_alloc(jit->cache, room - 8);
    JitBlock jb = { .insns = 1 };
    cr_assert_not(be->emit(jit->cache, ir, &jb));
    jit_cache_flush(jit->cache);
    cr_assert(be->emit(jit->cache, ir, &jb));
    ir_free(ir);
    free(ir);
}

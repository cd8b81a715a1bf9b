/* Unit tests for the JIT's dispatcher (jit/jit.c) with both backends:
 * hot blocks get translated and run, the retired count stops exactly at
 * cpu_exec's budget, a loop chains to itself, a full code cache is
 * flushed and filled again, and self-modifying code
 * invalidates the running translation (its page has no write tag, so the
 * store takes the slow path: SDM Vol. 3 11.6 says the next fetch sees it).
 *
 * A bare CPU in flat 32-bit protected mode without paging runs
 * hand-assembled code from RAM; each result is also computed by the
 * interpreter alone, which is the reference.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "jit/cache.h"
#include "jit/jit.h"
#include "mmu/addrspace.h"

#define RAM_SIZE (1u << 20)
#define CODE 0x1000

static AddressSpace mem, io;
static Cpu cpu;
static uint8_t *ram;

static void boot_mode(const uint8_t *code, size_t len, bool long_mode)
{
    ram = calloc(1, RAM_SIZE);
    cr_assert_not_null(ram);
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, RAM_SIZE, ram), 0);
    memcpy(ram + CODE, code, len);
    cpu_init(&cpu, &mem, &io);
    cpu.stop_on_exception = true;
    cpu.s.cr0 |= CR0_PE;
    const uint16_t data = SEG_ATTR_G | SEG_ATTR_DB | SEG_ATTR_P | SEG_ATTR_S | 0x3;
    for (int i = 0; i < SEG_COUNT; i++)
        cpu.s.seg[i] = (SegmentCache){ .selector = 0x10, .base = 0,
                                       .limit = 0xffffffffu, .attr = data };
    cpu.s.seg[SEG_CS].selector = 0x08;
    cpu.s.seg[SEG_CS].attr = SEG_ATTR_G | SEG_ATTR_DB | SEG_ATTR_P | SEG_ATTR_S | 0xb;
    if (long_mode) {
        /* 64-bit mode the way the differential harness enters it: EFER.LMA
         * and a long-mode CS, no paging needed for this test. */
        cpu.s.efer |= EFER_LME | EFER_LMA;
        cpu.s.seg[SEG_CS].attr = SEG_ATTR_G | SEG_ATTR_L | SEG_ATTR_P | SEG_ATTR_S | 0xb;
    }
    cpu.s.rip = CODE;
    cpu.s.regs[R_SP] = 0x8000;
    cpu_update_mode(&cpu);
}

static void boot(const uint8_t *code, size_t len)
{
    boot_mode(code, len, false);
}

static void shut_down(void)
{
    jit_free(cpu.jit);
    cpu_destroy(&cpu);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
}

/* Run to the HLT in steps of `step` instructions; returns EAX. */
static uint32_t run(uint64_t step)
{
    for (int guard = 0; guard < 1000000 && !cpu.s.halted; guard++) {
        uint64_t start = cpu.s.icount;
        cpu_exec(&cpu, start + step);
        cr_assert_lt(cpu.s.exception.vector, 0, "exception %d at %llx",
                     cpu.s.exception.vector, (unsigned long long)cpu.s.rip);
        /* The budget is exact: only HLT stops short of it. */
        if (!cpu.s.halted)
            cr_assert_eq(cpu.s.icount, start + step);
    }
    cr_assert(cpu.s.halted);
    return (uint32_t)cpu.s.regs[R_AX];
}

/* The interpreter's EAX and retired count for `code`, run whole. */
static void reference(const uint8_t *code, size_t len, uint32_t *eax,
                      uint64_t *icount)
{
    boot(code, len);
    *eax = run(1u << 30);
    *icount = cpu.s.icount;
    shut_down();
}

static const JitBackend *backend(int i)
{
    return i == 0 ? &jit_backend_irinterp : jit_backend_native();
}

/* mov ecx, 1000 ; L: add eax, ecx ; dec ecx ; jnz L ; hlt */
static const uint8_t loop[] = { 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x01, 0xc8,
                                0x49, 0x75, 0xfb, 0xf4 };

Test(jit_dispatch, hot_loop_runs_translated_and_chains)
{
    uint32_t want;
    uint64_t icount;
    reference(loop, sizeof(loop), &want, &icount);
    cr_assert_eq(want, 500500);
    for (int i = 0; i < 2; i++) {
        if (!backend(i))
            continue;
        boot(loop, sizeof(loop));
        cr_assert_not_null(jit_new(&cpu, backend(i), 1));
        cr_assert_eq(run(1u << 30), want, "%s", backend(i)->name);
        cr_assert_eq(cpu.s.icount, icount, "%s", backend(i)->name);
        cr_assert_gt(cpu.jit->stats.translated, 0);
        cr_assert_gt(cpu.jit->stats.chained, 0, "%s: the loop jumps to itself",
                     backend(i)->name);
        shut_down();
    }
}

Test(jit_dispatch, budget_is_exact)
{
    uint32_t want;
    uint64_t icount;
    reference(loop, sizeof(loop), &want, &icount);
    for (int i = 0; i < 2; i++) {
        if (!backend(i))
            continue;
        /* Odd steps end budgets inside the loop's block, at every offset. */
        for (uint64_t step = 1; step <= 7; step += 2) {
            boot(loop, sizeof(loop));
            cr_assert_not_null(jit_new(&cpu, backend(i), 2));
            cr_assert_eq(run(step), want, "%s, step %llu", backend(i)->name,
                         (unsigned long long)step);
            cr_assert_eq(cpu.s.icount, icount);
            shut_down();
        }
    }
}

/* mov ecx, 100
 * L: mov ebx, 1 ; add eax, ebx ; mov dword [L + 1], 2 ; dec ecx ; jnz L
 * hlt
 * The store rewrites the immediate of the block that runs it: 1 + 99 * 2. */
static const uint8_t smc[] = {
    0xb9, 0x64, 0x00, 0x00, 0x00,
    0xbb, 0x01, 0x00, 0x00, 0x00,
    0x01, 0xd8,
    0xc7, 0x05, 0x06, 0x10, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x49,
    0x75, 0xec,
    0xf4,
};

Test(jit_dispatch, self_modifying_code_invalidates_the_running_block)
{
    uint32_t want;
    uint64_t icount;
    reference(smc, sizeof(smc), &want, &icount);
    cr_assert_eq(want, 199);
    for (int i = 0; i < 2; i++) {
        if (!backend(i))
            continue;
        boot(smc, sizeof(smc));
        cr_assert_not_null(jit_new(&cpu, backend(i), 1));
        cr_assert_eq(run(1u << 30), want, "%s", backend(i)->name);
        cr_assert_eq(cpu.s.icount, icount);
        shut_down();
    }
}

Test(jit_dispatch, code_pages_have_no_write_tag)
{
    boot(loop, sizeof(loop));
    cr_assert_not_null(jit_new(&cpu, &jit_backend_irinterp, 1));
    /* Write-tag the code page through a store, then decode a block there. */
    cr_assert_eq(mem_write(&cpu, SEG_DS, CODE + 0x800, 4, 0), CPU_OK);
    cr_assert_not_null(tlb_lookup(&cpu.tlb, TLB_SUPERVISOR, CODE, TLB_WRITE));
    run(1u << 30);
    cr_assert_null(tlb_lookup(&cpu.tlb, TLB_SUPERVISOR, CODE, TLB_WRITE),
                   "a page holding code kept its write tag");
    cr_assert_eq(mem_write(&cpu, SEG_DS, CODE + 0x800, 4, 0), CPU_OK);
    cr_assert_null(tlb_lookup(&cpu.tlb, TLB_SUPERVISOR, CODE, TLB_WRITE),
                   "a store to a code page filled a write tag");
    shut_down();
}

/* mov ecx, 3 ; L: 200 x (add eax, 1 ; jmp $+2) ; dec ecx ; jnz L ; hlt:
 * 200 blocks a round, three rounds, through a code cache too small for
 * one round, so the JIT flushes it and translates again. */
Test(jit_dispatch, full_code_cache_is_flushed)
{
    static uint8_t code[5 + 200 * 5 + 1 + 6 + 1];
    size_t n = 0;
    const uint8_t head[] = { 0xb9, 0x03, 0x00, 0x00, 0x00 };
    memcpy(code, head, sizeof(head));
    n = sizeof(head);
    for (int i = 0; i < 200; i++) {
        const uint8_t unit[] = { 0x83, 0xc0, 0x01, 0xeb, 0x00 };
        memcpy(code + n, unit, sizeof(unit));
        n += sizeof(unit);
    }
    code[n++] = 0x49;
    int32_t rel = (int32_t)(5 - (n + 6));
    code[n++] = 0x0f;
    code[n++] = 0x85;
    memcpy(code + n, &rel, 4);
    n += 4;
    code[n++] = 0xf4;
    const JitBackend *native = jit_backend_native();
    if (!native)
        cr_skip_test("no native backend on this host");
    boot(code, n);
    cr_assert_not_null(jit_new(&cpu, native, 1));
    jit_cache_free(cpu.jit->cache);
    cpu.jit->cache = jit_cache_new(16384);
    cr_assert_not_null(cpu.jit->cache);
    cr_assert_eq(run(1u << 30), 600);
    cr_assert_gt(cpu.jit->stats.cache_flushes, 0);
    cr_assert_gt(cpu.jit->stats.translated, 200);
    shut_down();
}

/* 52 instructions of the kernel's ChaCha20 (add/xor/rotate on 14
 * registers and stack words): more live values than host registers, so
 * the backend spills.  A temp evicted to a spill slot once shared the slot
 * with one that had used it earlier in the evicted temp's range. */
static const char chacha_hex[] =
    "8b6c242c8b04244101ef8b6c24384101d74431ffc1c71001fb31dac1ca0c4101c1"
    "8b4424784101eb4101c98b6c247c4501f7448b74244c4431ce4101c34101d7c1c6"
    "104431dd4501f14431ff4101f54189ee8b6c2430c1cf084431e941c1c61001fbc1"
    "c90c4501f44101eb8b6c24284101c94431e031dac1c80c4431cec1ca07c1ce0841"
    "01c34101f54531de4431e9c1c90741c1ce084101ea8b6c24404101d24501f4f4";

Test(jit_dispatch, spilled_values_keep_their_slots)
{
    uint8_t code[sizeof(chacha_hex) / 2];
    size_t n = sizeof(chacha_hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        cr_assert_eq(sscanf(chacha_hex + 2 * i, "%2x", &v), 1);
        code[i] = (uint8_t)v;
    }
    uint64_t want[16];
    for (int i = -1; i < 2; i++) {
        if (i >= 0 && !backend(i))
            continue;
        boot_mode(code, n, true);
        for (int r = 0; r < 16; r++)
            cpu.s.regs[r] = 0x9e3779b9u * (uint32_t)(r + 1);
        cpu.s.regs[R_SP] = 0x8000;
        for (int k = 0; k < 0x100; k++)
            ram[0x8000 + k] = (uint8_t)(k * 37 + 11);
        if (i >= 0)
            cr_assert_not_null(jit_new(&cpu, backend(i), 1));
        run(1u << 30);
        if (i < 0) {
            memcpy(want, cpu.s.regs, sizeof(want));
        } else {
            for (int r = 0; r < 16; r++)
                cr_expect_eq(cpu.s.regs[r], want[r], "%s: register %d",
                             backend(i)->name, r);
        }
        shut_down();
    }
}

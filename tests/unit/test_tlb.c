/* Unit tests for the soft TLB (mmu/tlb.c) and for what the CPU builds on
 * it: self-modifying code seen through another virtual alias and through
 * DMA, code-page tracking, and CR3 reloads that keep global entries.
 *
 * Part (a) drives mmu/tlb.c directly.  Part (b) builds a Cpu over a RAM
 * AddressSpace with 32-bit paging (SDM Vol. 3 4.3) and runs hand-assembled
 * 32-bit code with cpu_exec.  Architectural rules followed:
 *  - SDM Vol. 3 4.10.4.1: MOV to CR3 invalidates all TLB entries except
 *    global ones (CR4.PGE = 1); INVLPG invalidates the page, global or not;
 *  - SDM Vol. 3 11.6 (self-modifying code): a store to an instruction that
 *    is about to run is seen by that fetch, whichever linear address the
 *    store used.  Vireo also applies this to DMA (any AddressSpace write).
 * ROM and MMIO pages must never be reached through the host addend
 * (DESIGN.md, Memory): ROM stores are dropped, MMIO stores reach the device.
 * Keeping a stale global translation across a CR3 reload is what Vireo
 * does and what the SDM permits (4.10.4.1); the test pins that behaviour
 * because it is how we observe that global entries survived.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "mmu/addrspace.h"
#include "mmu/tlb.h"

/* ======================================================================
 * (a) mmu/tlb.c on its own
 * ====================================================================== */

static Tlb tlb;
static uint8_t host_page[3][4096];

static void tlb_setup(void)
{
    memset(&tlb, 0x5a, sizeof(tlb));   /* garbage: flush_all must clean it */
    tlb_flush_all(&tlb);
    tlb.hits = tlb.victim_hits = tlb.misses = 0;
    memset(tlb.victim_next, 0, sizeof(tlb.victim_next));
}

TestSuite(tlb, .init = tlb_setup);

static TlbFill fill_rwx(uint64_t phys, int host, bool r, bool w, bool x, bool g)
{
    return (TlbFill){ .phys = phys,
                      .host = host >= 0 ? (uintptr_t)host_page[host] : 0,
                      .read = r, .write = w, .exec = x, .global = g };
}

/* The address a hit resolves to: linear + addend. */
static uint8_t *host_of(const TlbEntry *e, uint64_t linear)
{
    return (uint8_t *)(uintptr_t)(linear + e->addend);
}

/* Conflicting pages: same index (bits 12..19), different tags. */
#define CONFLICT(n) (0x00400000ull + (uint64_t)(n) * TLB_SIZE * 4096)

Test(tlb, empty_after_flush_all)
{
    for (int k = TLB_READ; k <= TLB_EXEC; k++) {
        cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x1000, k));
        cr_assert_null(tlb_lookup(&tlb, TLB_USER, 0, k));
        cr_assert_null(tlb_lookup_victim(&tlb, TLB_USER, 0, k));
    }
    /* TLB_INVALID is not page-aligned, so no linear address can match it,
     * not even the last page of the space. */
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, ~0ull, TLB_READ));
}

Test(tlb, hits_per_kind)
{
    TlbFill f = fill_rwx(0x5000, 0, true, false, true, false);
    TlbEntry *e = tlb_fill(&tlb, TLB_SUPERVISOR, 0x00401234, &f);
    cr_assert_not_null(e);
    /* Any offset in the page hits, only for the kinds allowed. */
    cr_assert_eq(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x00401000, TLB_READ), e);
    cr_assert_eq(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x00401fff, TLB_EXEC), e);
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x00401000, TLB_WRITE));
    /* Rights are per privilege: the user half knows nothing. */
    cr_assert_null(tlb_lookup(&tlb, TLB_USER, 0x00401000, TLB_READ));
    /* A neighbour page with another index, and the same index with
     * another tag, miss. */
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x00402000, TLB_READ));
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(1) + 0x1000, TLB_READ));
    cr_assert_eq(tlb.hits, 2);
    cr_assert_eq(e->phys, 0x5000);
    cr_assert(e->ram);
    cr_assert_eq(host_of(e, 0x00401234), &host_page[0][0x234]);
}

Test(tlb, write_only_and_mmio_entries)
{
    /* A page that is not RAM (host 0) still translates, with ram = false,
     * so accesses go through the dispatcher. */
    TlbFill f = fill_rwx(0xfee00000ull, -1, true, true, false, false);
    TlbEntry *e = tlb_fill(&tlb, TLB_USER, 0x7000, &f);
    cr_assert_not(e->ram);
    cr_assert_eq(e->phys, 0xfee00000ull);
    cr_assert_eq(tlb_lookup(&tlb, TLB_USER, 0x7008, TLB_WRITE), e);
    cr_assert_null(tlb_lookup(&tlb, TLB_USER, 0x7008, TLB_EXEC));
}

Test(tlb, refill_same_page_replaces_rights)
{
    TlbFill ro = fill_rwx(0x5000, 0, true, false, false, false);
    TlbFill rw = fill_rwx(0x5000, 0, true, true, false, false);
    tlb_fill(&tlb, TLB_SUPERVISOR, 0x9000, &ro);
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x9000, TLB_WRITE));
    tlb_fill(&tlb, TLB_SUPERVISOR, 0x9000, &rw);
    cr_assert_not_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x9000, TLB_WRITE));
    /* Refilling the same page displaces nothing into the victims. */
    for (unsigned i = 0; i < TLB_VICTIMS; i++)
        cr_assert_eq(tlb.victims[TLB_SUPERVISOR][i].tag[TLB_READ], TLB_INVALID);
}

Test(tlb, victim_hit_after_conflicting_fill)
{
    TlbFill a = fill_rwx(0xa000, 0, true, true, true, false);
    TlbFill b = fill_rwx(0xb000, 1, true, false, false, false);
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(0), &a);
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(1), &b);
    /* A was displaced: the main array misses, the victim TLB hits and
     * swaps A back in, pushing B out. */
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_READ));
    TlbEntry *e = tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(0) + 8, TLB_WRITE);
    cr_assert_not_null(e);
    cr_assert_eq(e->phys, 0xa000);
    cr_assert_eq(host_of(e, CONFLICT(0) + 8), &host_page[0][8]);
    cr_assert_eq(tlb.victim_hits, 1);
    cr_assert_eq(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_EXEC), e);
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(1), TLB_READ));
    /* The victim lookup respects kinds: B is read-only. */
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(1), TLB_WRITE));
    e = tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(1), TLB_READ);
    cr_assert_not_null(e);
    cr_assert_eq(e->phys, 0xb000);
    cr_assert_eq(tlb.victim_hits, 2);
    /* And privileges: nothing was filled for user. */
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_USER, CONFLICT(0), TLB_READ));
    cr_assert_eq(tlb.misses, 2);
}

Test(tlb, victim_ring_keeps_the_last_eight)
{
    /* Fill 10 conflicting pages: 9 displacements into an 8-entry ring, so
     * the first page is gone and pages 1..8 are victims. */
    for (int i = 0; i < 10; i++) {
        TlbFill f = fill_rwx(0x100000ull + (uint64_t)i * 0x1000, -1, true,
                             false, false, false);
        tlb_fill(&tlb, TLB_USER, CONFLICT(i), &f);
    }
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_USER, CONFLICT(0), TLB_READ));
    for (int i = 1; i <= 8; i++) {
        /* Each hit swaps; the displaced newest goes to the hit slot. */
        TlbEntry *e = tlb_lookup_victim(&tlb, TLB_USER, CONFLICT(i), TLB_READ);
        cr_assert_not_null(e, "page %d should be a victim", i);
        cr_assert_eq(e->phys, 0x100000ull + (uint64_t)i * 0x1000);
    }
}

Test(tlb, refill_drops_stale_victim_copy)
{
    TlbFill rw = fill_rwx(0xa000, 0, true, true, false, false);
    TlbFill ro = fill_rwx(0xa000, 0, true, false, false, false);
    TlbFill other = fill_rwx(0xb000, 1, true, true, false, false);
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(0), &rw);
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(1), &other);   /* rw -> victim */
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(0), &ro);      /* new rights */
    /* The old writable copy must not come back from the victims. */
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_WRITE));
    TlbEntry *v = tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_WRITE);
    cr_assert_null(v, "a stale writable copy of the page was still a victim");
}

Test(tlb, flush_page_both_privileges_and_victims)
{
    TlbFill f = fill_rwx(0xa000, 0, true, true, true, true);   /* global */
    TlbFill g = fill_rwx(0xb000, 1, true, true, true, false);
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(0), &f);
    tlb_fill(&tlb, TLB_USER, CONFLICT(0), &f);
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(1), &g);   /* f(sup) -> victim */
    tlb_fill(&tlb, TLB_SUPERVISOR, 0x3000, &g);
    /* INVLPG drops the page even though it is global, in both halves and
     * among the victims; other pages, same index or not, stay. */
    tlb_flush_page(&tlb, CONFLICT(0) + 0x123);
    cr_assert_null(tlb_lookup(&tlb, TLB_USER, CONFLICT(0), TLB_READ));
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_USER, CONFLICT(0), TLB_READ));
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_READ));
    cr_assert_not_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(1), TLB_READ));
    cr_assert_not_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x3000, TLB_EXEC));
    /* Flushing a page that is only a victim works too. */
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(2), &f);   /* CONFLICT(1) -> victim */
    tlb_flush_page(&tlb, CONFLICT(1));
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(1), TLB_READ));
    cr_assert_not_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(2), TLB_READ));
}

Test(tlb, flush_nonglobal_keeps_global)
{
    TlbFill glob = fill_rwx(0xa000, 0, true, false, true, true);
    TlbFill loc = fill_rwx(0xb000, 1, true, true, false, false);
    tlb_fill(&tlb, TLB_SUPERVISOR, 0x1000, &glob);
    tlb_fill(&tlb, TLB_USER, 0x1000, &glob);
    tlb_fill(&tlb, TLB_SUPERVISOR, 0x2000, &loc);
    tlb_fill(&tlb, TLB_USER, 0x2000, &loc);
    /* One global and one local entry among the victims. */
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(0), &glob);
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(1), &loc);   /* glob -> victim */
    tlb_fill(&tlb, TLB_SUPERVISOR, CONFLICT(2), &glob);  /* loc -> victim */
    tlb_flush_nonglobal(&tlb);
    cr_assert_not_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x1000, TLB_EXEC));
    cr_assert_not_null(tlb_lookup(&tlb, TLB_USER, 0x1000, TLB_READ));
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x2000, TLB_READ));
    cr_assert_null(tlb_lookup(&tlb, TLB_USER, 0x2000, TLB_WRITE));
    cr_assert_not_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(2), TLB_READ));
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(1), TLB_READ));
    cr_assert_not_null(tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_READ));
    /* flush_all drops the global ones too. */
    tlb_flush_all(&tlb);
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, 0x1000, TLB_EXEC));
    cr_assert_null(tlb_lookup(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_READ));
    cr_assert_null(tlb_lookup_victim(&tlb, TLB_SUPERVISOR, CONFLICT(0), TLB_READ));
}

/* ======================================================================
 * (b) through the CPU: 32-bit paging, flat segments, CPL 0.
 *
 * Physical layout (RAM 0..2 MiB):
 *   0x1000  page directory: PDE 1 -> PT 0x2000 (0x400000..0x7fffff),
 *                           PDE 2 -> PT 0x3000 (0x800000..0xbfffff)
 *   0x5000  code page, mapped at 0x400000 (alias A) and 0x800000 (alias B)
 *   0x6000  "store" code page, at 0x401000
 *   0x7000  data page, at 0x402000
 *   0x8000  data page, at 0x403000 (global when a test asks)
 *   0x9000  another data page, for remapping 0x403000
 * ====================================================================== */

#define CPU_RAM (2u << 20)
#define ALIAS_A 0x400000u
#define ALIAS_B 0x800000u
#define STORE_VA 0x401000u
#define DATA_VA 0x402000u
#define GDATA_VA 0x403000u

static AddressSpace mem, io;
static uint8_t *ram;
static Cpu *cpu;

static void put32(uint64_t addr, uint32_t v) { memcpy(ram + addr, &v, 4); }

static void put_code(uint64_t addr, const uint8_t *code, size_t len)
{
    /* Through the dispatcher, like a loader: also exercises tracking. */
    as_write_buf(&mem, addr, code, len, false);
}

static void map_page(uint32_t pt, uint32_t va, uint32_t pa, uint32_t flags)
{
    put32(pt + ((va >> 12) & 0x3ff) * 4, pa | flags);
}

static void flat32(Cpu *c)
{
    for (int i = 0; i < SEG_COUNT; i++) {
        c->s.seg[i] = (SegmentCache){ .base = 0, .limit = 0xffffffff,
                                      .selector = 0x10,
                                      .attr = 0x93 | SEG_ATTR_DB | SEG_ATTR_G };
    }
    c->s.seg[SEG_CS].selector = 0x08;
    c->s.seg[SEG_CS].attr = 0x9b | SEG_ATTR_DB | SEG_ATTR_G;
}

static void cpu_setup(void)
{
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    ram = calloc(1, CPU_RAM);
    cr_assert(ram);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, CPU_RAM, ram), 0);
    cpu = calloc(1, sizeof(*cpu));
    cr_assert(cpu);
    cpu_init(cpu, &mem, &io);
    cpu->stop_on_exception = true;

    put32(0x1000 + 1 * 4, 0x2000 | 0x3);   /* P | RW */
    put32(0x1000 + 2 * 4, 0x3000 | 0x3);
    map_page(0x2000, ALIAS_A, 0x5000, 0x3);
    map_page(0x3000, ALIAS_B, 0x5000, 0x3);
    map_page(0x2000, STORE_VA, 0x6000, 0x3);
    map_page(0x2000, DATA_VA, 0x7000, 0x3);
    map_page(0x2000, GDATA_VA, 0x8000, 0x3);

    flat32(cpu);
    cpu->s.cr3 = 0x1000;
    cpu->s.cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_WP;
    cpu_update_mode(cpu);
}

static void cpu_teardown(void)
{
    cpu_destroy(cpu);
    free(cpu);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
}

TestSuite(cpu_tlb, .init = cpu_setup, .fini = cpu_teardown);

/* Run from `rip` until HLT; no exception may happen. */
static void run_at(uint32_t rip)
{
    cpu->s.rip = rip;
    cpu->s.halted = 0;
    cpu_exec(cpu, cpu->s.icount + 1000);
    cr_assert_eq(cpu->s.exception.vector, -1,
                 "exception %d (error %#x) at %#llx, CR2 %#llx",
                 cpu->s.exception.vector, cpu->s.exception.error_code,
                 (unsigned long long)cpu->s.rip, (unsigned long long)cpu->s.cr2);
    cr_assert(cpu->s.halted, "did not reach HLT (rip %#llx)",
              (unsigned long long)cpu->s.rip);
}

static uint32_t eax(void) { return (uint32_t)cpu->s.regs[R_AX]; }

/* mov eax, imm32 ; hlt */
static const uint8_t set_eax_1[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 };

/* mov byte [addr], imm8 ; hlt */
static void store_byte_prog(uint64_t at, uint32_t addr, uint8_t v)
{
    uint8_t code[] = { 0xc6, 0x05, addr & 0xff, (addr >> 8) & 0xff,
                       (addr >> 16) & 0xff, addr >> 24, v, 0xf4 };
    put_code(at, code, sizeof(code));
}

Test(cpu_tlb, smc_store_through_other_alias)
{
    put_code(0x5000, set_eax_1, sizeof(set_eax_1));
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 1);
    cr_assert(block_page_has_code(cpu->blocks, 0x5000));
    cr_assert_not_null(block_lookup(cpu->blocks, 0x5000, cpu->mode));

    /* The guest patches the immediate through alias B (a TLB fill on the
     * write path), then again (a TLB write hit, the fast path). */
    store_byte_prog(0x6000, ALIAS_B + 1, 2);
    run_at(STORE_VA);
    cr_assert_null(block_lookup(cpu->blocks, 0x5000, cpu->mode),
                   "the store through alias B left the block at 0x5000");
    cr_assert_not(block_page_has_code(cpu->blocks, 0x5000));
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 2, "alias A ran stale code after a store via alias B");

    store_byte_prog(0x6010, ALIAS_B + 1, 3);
    /* Aliases A and B share a TLB index (bits 19:12 are 0 in both), so
     * running from A moved B's entry to the victim TLB. */
    cr_assert_null(tlb_lookup(&cpu->tlb, TLB_SUPERVISOR, ALIAS_B, TLB_WRITE));
    cr_assert_not_null(tlb_lookup_victim(&cpu->tlb, TLB_SUPERVISOR, ALIAS_B, TLB_WRITE),
                       "the second store should hit the TLB write tag");
    run_at(STORE_VA + 0x10);
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 3, "fast-path store via alias B missed");
    /* Running through alias B itself sees the same, new code. */
    run_at(ALIAS_B);
    cr_assert_eq(eax(), 3);
}

Test(cpu_tlb, smc_by_dma)
{
    put_code(0x5000, set_eax_1, sizeof(set_eax_1));
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 1);
    /* A device writes the page: as_write on the memory space. */
    as_write(&mem, 0x5001, 0x44, 1);
    cr_assert_not(block_page_has_code(cpu->blocks, 0x5000));
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 0x44);
    /* A bulk DMA transfer (as_write_buf) too. */
    const uint8_t imm[4] = { 0x78, 0x56, 0x34, 0x12 };
    as_write_buf(&mem, 0x5001, imm, 4, false);
    run_at(ALIAS_B);
    cr_assert_eq(eax(), 0x12345678);
}

Test(cpu_tlb, smc_next_instruction_in_same_block)
{
    /* 0x400000: mov byte [0x400008], 5   (C6 05 disp32 imm8, 7 bytes)
     * 0x400007: mov eax, 0               (B8 imm32: imm at 0x400008)
     * 0x40000c: hlt
     * The store rewrites the next instruction of the running block. */
    const uint8_t code[] = { 0xc6, 0x05, 0x08, 0x00, 0x40, 0x00, 0x05,
                             0xb8, 0x00, 0x00, 0x00, 0x00, 0xf4 };
    put_code(0x5000, code, sizeof(code));
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 5);
    /* Again, storing through alias B (0x800008) into the block running
     * from alias A. */
    const uint8_t code2[] = { 0xc6, 0x05, 0x08, 0x00, 0x80, 0x00, 0x06,
                              0xb8, 0x00, 0x00, 0x00, 0x00, 0xf4 };
    put_code(0x5000, code2, sizeof(code2));
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 6);
}

Test(cpu_tlb, store_to_data_page_keeps_blocks)
{
    put_code(0x5000, set_eax_1, sizeof(set_eax_1));
    run_at(ALIAS_A);
    Block *b = block_lookup(cpu->blocks, 0x5000, cpu->mode);
    cr_assert_not_null(b);
    store_byte_prog(0x6000, DATA_VA + 0x10, 0x99);
    run_at(STORE_VA);
    cr_assert_eq(ram[0x7010], 0x99);
    cr_assert_not(block_page_has_code(cpu->blocks, 0x7000));
    cr_assert(block_page_has_code(cpu->blocks, 0x5000));
    cr_assert_eq(block_lookup(cpu->blocks, 0x5000, cpu->mode), b);
    cr_assert_not(b->invalid);
    /* DMA to a data page leaves code alone as well. */
    as_write(&mem, 0x7020, 1, 4);
    cr_assert_eq(block_lookup(cpu->blocks, 0x5000, cpu->mode), b);
}

Test(cpu_tlb, cr3_reload_keeps_global_entries)
{
    cpu->s.cr4 |= CR4_PGE;
    map_page(0x2000, ALIAS_A, 0x5000, 0x103);     /* G | RW | P */
    map_page(0x2000, GDATA_VA, 0x8000, 0x103);
    put32(0x8000, 0x11111111);
    put32(0x9000, 0x22222222);
    put32(0x7000, 0x33333333);
    /* mov ebx, [0x402000] ; mov ecx, [0x403000] ; mov eax, cr3 ;
     * mov cr3, eax ; hlt */
    const uint8_t code[] = { 0x8b, 0x1d, 0x00, 0x20, 0x40, 0x00,
                             0x8b, 0x0d, 0x00, 0x30, 0x40, 0x00,
                             0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8, 0xf4 };
    put_code(0x5000, code, sizeof(code));
    run_at(ALIAS_A);
    cr_assert_eq((uint32_t)cpu->s.regs[R_BX], 0x33333333);
    cr_assert_eq((uint32_t)cpu->s.regs[R_CX], 0x11111111);
    Tlb *t = &cpu->tlb;
    cr_assert_null(tlb_lookup(t, TLB_SUPERVISOR, DATA_VA, TLB_READ),
                   "MOV CR3 kept a non-global entry");
    cr_assert_null(tlb_lookup_victim(t, TLB_SUPERVISOR, DATA_VA, TLB_READ));
    cr_assert_not_null(tlb_lookup(t, TLB_SUPERVISOR, GDATA_VA, TLB_READ),
                       "MOV CR3 dropped a global entry");
    cr_assert_not_null(tlb_lookup(t, TLB_SUPERVISOR, ALIAS_A, TLB_EXEC));

    /* Remap 0x403000 to 0x9000 without INVLPG and reload CR3: the global
     * entry still answers with the old frame (allowed by SDM 4.10.4.1). */
    map_page(0x2000, GDATA_VA, 0x9000, 0x103);
    /* mov eax, cr3 ; mov cr3, eax ; mov ecx, [0x403000] ; hlt */
    const uint8_t code2[] = { 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8,
                              0x8b, 0x0d, 0x00, 0x30, 0x40, 0x00, 0xf4 };
    put_code(0x5100, code2, sizeof(code2));
    run_at(ALIAS_A + 0x100);
    cr_assert_eq((uint32_t)cpu->s.regs[R_CX], 0x11111111);

    /* INVLPG drops a global entry: the new mapping becomes visible.
     * invlpg [0x403000] ; mov ecx, [0x403000] ; hlt */
    const uint8_t code3[] = { 0x0f, 0x01, 0x3d, 0x00, 0x30, 0x40, 0x00,
                              0x8b, 0x0d, 0x00, 0x30, 0x40, 0x00, 0xf4 };
    put_code(0x5200, code3, sizeof(code3));
    run_at(ALIAS_A + 0x200);
    cr_assert_eq((uint32_t)cpu->s.regs[R_CX], 0x22222222);
}

Test(cpu_tlb, cr3_reload_without_pge_drops_g_entries)
{
    /* G set in the PTE but CR4.PGE = 0: the entry is not global and a CR3
     * reload must drop it (4.10.2.4). */
    map_page(0x2000, GDATA_VA, 0x8000, 0x103);
    put32(0x8000, 0x11111111);
    put32(0x9000, 0x22222222);
    const uint8_t code[] = { 0x8b, 0x0d, 0x00, 0x30, 0x40, 0x00, 0xf4 };
    put_code(0x5000, code, sizeof(code));
    run_at(ALIAS_A);
    cr_assert_eq((uint32_t)cpu->s.regs[R_CX], 0x11111111);
    map_page(0x2000, GDATA_VA, 0x9000, 0x103);
    const uint8_t code2[] = { 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8,
                              0x8b, 0x0d, 0x00, 0x30, 0x40, 0x00, 0xf4 };
    put_code(0x5100, code2, sizeof(code2));
    run_at(ALIAS_A + 0x100);
    cr_assert_eq((uint32_t)cpu->s.regs[R_CX], 0x22222222);
}

Test(cpu_tlb, dirty_bit_then_write_tag)
{
    /* The first write to a clean page walks (to set D), later writes may
     * hit the TLB; D must end up set in the PTE (SDM 4.8). */
    store_byte_prog(0x6000, DATA_VA, 0x42);
    cr_assert_eq(ram[0x2000 + ((DATA_VA >> 12) & 0x3ff) * 4] & 0x60, 0);
    run_at(STORE_VA);
    cr_assert_eq(ram[0x2000 + ((DATA_VA >> 12) & 0x3ff) * 4] & 0x60, 0x60,
                 "A and D should be set in the PTE after a write");
    cr_assert_eq(ram[0x7000], 0x42);
    cr_assert_not_null(tlb_lookup(&cpu->tlb, TLB_SUPERVISOR, DATA_VA, TLB_WRITE));
}

Test(cpu_tlb, read_then_write_sets_dirty)
{
    /* A read fills the TLB with a clean entry; a later write must not
     * use it without setting D.
     * mov ebx, [0x402000] ; mov byte [0x402000], 7 ; hlt */
    const uint8_t code[] = { 0x8b, 0x1d, 0x00, 0x20, 0x40, 0x00,
                             0xc6, 0x05, 0x00, 0x20, 0x40, 0x00, 0x07, 0xf4 };
    put_code(0x5000, code, sizeof(code));
    run_at(ALIAS_A);
    uint8_t pte = ram[0x2000 + ((DATA_VA >> 12) & 0x3ff) * 4];
    cr_assert_eq(pte & 0x60, 0x60, "PTE flags %#x: D missing", pte);
    cr_assert_eq(ram[0x7000], 7);
}

/* A recording device for the MMIO test. */
typedef struct Rec {
    uint64_t offset, value;
    unsigned size, writes;
} Rec;

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0x5a5a5a5a;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value,
                      unsigned size)
{
    Rec *r = opaque;
    r->offset = offset;
    r->value = value;
    r->size = size;
    r->writes++;
}

static const MemOps rec_ops = { .read = rec_read, .write = rec_write };

Test(cpu_tlb, rom_and_mmio_stores_take_the_slow_path)
{
    /* ROM at 0x300000 and a device at 0x301000, mapped at 0x405000 and
     * 0x406000.  A store to ROM must be dropped and one to the device
     * must reach it: neither may be done through a host pointer. */
    static uint8_t rom[4096];
    static Rec rec;
    memset(rom, 0xee, sizeof(rom));
    memset(&rec, 0, sizeof(rec));
    cr_assert_eq(as_map_rom(&mem, "rom", 0x300000, 4096, rom), 0);
    cr_assert_eq(as_map_io(&mem, "dev", 0x301000, 4096, &rec_ops, &rec), 0);
    map_page(0x2000, 0x405000, 0x300000, 0x3);
    map_page(0x2000, 0x406000, 0x301000, 0x3);
    /* mov dword [0x405000], 0x11111111 ; mov dword [0x406008], 0x22222222 ;
     * mov eax, [0x405000] ; mov ebx, [0x406000] ; hlt */
    const uint8_t code[] = { 0xc7, 0x05, 0x00, 0x50, 0x40, 0x00, 0x11, 0x11, 0x11, 0x11,
                             0xc7, 0x05, 0x08, 0x60, 0x40, 0x00, 0x22, 0x22, 0x22, 0x22,
                             0xa1, 0x00, 0x50, 0x40, 0x00,
                             0x8b, 0x1d, 0x00, 0x60, 0x40, 0x00, 0xf4 };
    put_code(0x5000, code, sizeof(code));
    run_at(ALIAS_A);
    cr_assert_eq(eax(), 0xeeeeeeee, "a store to ROM changed it");
    cr_assert_eq(rom[0], 0xee);
    cr_assert_eq(rec.writes, 1);
    cr_assert_eq(rec.offset, 8);
    cr_assert_eq(rec.value, 0x22222222);
    cr_assert_eq(rec.size, 4);
    cr_assert_eq((uint32_t)cpu->s.regs[R_BX], 0x5a5a5a5a);
    /* No read or write tag either: a tag hit means the host addend is
     * valid, which the JIT's inline accesses rely on (mmu/tlb.h). */
    for (int kind = TLB_READ; kind <= TLB_WRITE; kind++) {
        cr_assert_null(tlb_lookup(&cpu->tlb, TLB_SUPERVISOR, 0x405000, kind),
                       "ROM page tagged for access kind %d", kind);
        cr_assert_null(tlb_lookup(&cpu->tlb, TLB_SUPERVISOR, 0x406000, kind),
                       "MMIO page tagged for access kind %d", kind);
    }
}

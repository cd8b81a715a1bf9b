/* Unit tests for mmu/pagewalk.c: the page-table walker.
 *
 * Page tables are written by hand into a RAM AddressSpace and pagewalk()
 * is called directly.  Every expected physical address and error code is
 * worked out by hand from the SDM Vol. 3 ch. 4 and written as a literal:
 *   4.3  32-bit paging, Table 4-4..4-6 (PDE/PTE formats, PSE, PSE-36)
 *   4.4  PAE paging, Table 4-8..4-11 (PDPTE reserved bits 1-2, 5-8, 63)
 *   4.5  4-level paging, Table 4-14..4-19 (PS reserved in the PML4E)
 *   4.6  access rights (U/S, R/W, CR0.WP, XD with EFER.NXE)
 *   4.7  page-fault error code (P, W/R, U/S, RSVD, I/D)
 *   4.8  accessed and dirty flags
 * MAXPHYADDR is 40 unless a test says otherwise.
 *
 * Where the SDM leaves a choice, the test pins Vireo's choice and says so:
 * A bits are written only when the whole walk succeeds (the SDM only
 * requires them for entries "used" in a translation, 4.8).
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "mmu/addrspace.h"
#include "mmu/pagewalk.h"

/* Entry bits, spelled out here rather than taken from the walker. */
#define P    0x001ull
#define RW   0x002ull
#define US   0x004ull
#define PWT  0x008ull
#define ACC  0x020ull
#define DIRTY 0x040ull
#define PS   0x080ull
#define G    0x100ull
#define XD   (1ull << 63)

/* Error-code bits (4.7). */
#define E_P    0x01u
#define E_W    0x02u
#define E_U    0x04u
#define E_RSVD 0x08u
#define E_I    0x10u

#define RAM_SIZE (4u << 20)

static AddressSpace mem;
static uint8_t *ram;

static void setup(void)
{
    as_init(&mem, "memory", 0);
    ram = calloc(1, RAM_SIZE);
    cr_assert(ram);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, RAM_SIZE, ram), 0);
}

static void teardown(void)
{
    as_destroy(&mem);
    free(ram);
}

TestSuite(pagewalk, .init = setup, .fini = teardown);

static void put32(uint64_t addr, uint32_t v) { memcpy(ram + addr, &v, 4); }
static void put64(uint64_t addr, uint64_t v) { memcpy(ram + addr, &v, 8); }
static uint32_t get32(uint64_t addr) { uint32_t v; memcpy(&v, ram + addr, 4); return v; }
static uint64_t get64(uint64_t addr) { uint64_t v; memcpy(&v, ram + addr, 8); return v; }

static PagingParams params(PagingMode mode, uint64_t cr3)
{
    return (PagingParams){ .mode = mode, .cr3 = cr3, .phys_bits = 40 };
}

/* Walk and expect success at `phys`. */
static PageWalk ok(const PagingParams *p, uint64_t linear, int kind, bool user,
                   uint64_t phys)
{
    PageWalk w;
    memset(&w, 0xa5, sizeof(w));
    int r = pagewalk(&mem, p, linear, kind, user, &w);
    cr_assert_eq(r, 0, "walk of %#llx kind %d user %d faulted, error %#x",
                 (unsigned long long)linear, kind, user, w.error_code);
    cr_assert_eq(w.phys, phys, "phys of %#llx: got %#llx, want %#llx",
                 (unsigned long long)linear, (unsigned long long)w.phys,
                 (unsigned long long)phys);
    cr_assert_eq(w.page_base, phys & ~0xfffull);
    return w;
}

/* Walk and expect a fault with exactly `error`. */
static void fault(const PagingParams *p, uint64_t linear, int kind, bool user,
                  uint32_t error)
{
    PageWalk w;
    memset(&w, 0, sizeof(w));
    int r = pagewalk(&mem, p, linear, kind, user, &w);
    cr_assert_eq(r, -1, "walk of %#llx kind %d user %d should fault "
                 "(got phys %#llx)", (unsigned long long)linear, kind, user,
                 (unsigned long long)w.phys);
    cr_assert_eq(w.error_code, error, "error code of %#llx kind %d user %d: "
                 "got %#x, want %#x", (unsigned long long)linear, kind, user,
                 w.error_code, error);
}

/* ======================================================================
 * 32-bit paging, 4 KiB pages (4.3).  CR3 = 0x1000 (PD), PT at 0x2000.
 * Linear 0x00403123: PDE index 1 (bits 31:22), PTE index 3 (bits 21:12),
 * offset 0x123.  PDE at 0x1000 + 1*4 = 0x1004, PTE at 0x2000 + 3*4 = 0x200c.
 * ====================================================================== */
#define L32     0x00403123ull
#define PDE32   0x1004ull
#define PTE32   0x200cull

static void map32(uint32_t pde_flags, uint32_t pte_flags)
{
    put32(PDE32, 0x2000u | pde_flags);
    put32(PTE32, 0x00abc000u | pte_flags);
}

Test(pagewalk, p32_4k_translates)
{
    PagingParams p = params(PAGING_32, 0x1000);
    map32(P | RW | US, P | RW | US);
    PageWalk w = ok(&p, L32, WALK_READ, false, 0xabc123);
    cr_assert_eq(w.page_size, 4096);
    cr_assert(w.writable && w.user && w.executable && !w.global);
    /* Same page at user privilege, and a fetch: 32-bit paging has no XD. */
    ok(&p, L32, WALK_READ, true, 0xabc123);
    ok(&p, L32 + 0xedc, WALK_FETCH, true, 0xabcfff);
}

Test(pagewalk, p32_cr3_low_bits_ignored)
{
    /* CR3 bits 11:0 are flags/ignored: the PD base is CR3[31:12]. */
    PagingParams p = params(PAGING_32, 0x1000 | 0x18 /* PWT|PCD */ | 0x7);
    map32(P | RW, P | RW);
    ok(&p, L32, WALK_READ, false, 0xabc123);
}

Test(pagewalk, p32_accessed_dirty)
{
    PagingParams p = params(PAGING_32, 0x1000);
    map32(P | RW | US, P | RW | US);
    PageWalk w = ok(&p, L32, WALK_READ, false, 0xabc123);
    /* 4.8: A set in every entry used; a read sets no D. */
    cr_assert_eq(get32(PDE32), 0x2000u | P | RW | US | ACC);
    cr_assert_eq(get32(PTE32), 0x00abc000u | P | RW | US | ACC);
    cr_assert(!w.dirty);
    /* A write sets D in the PTE (the entry mapping the page) only; bit 6 of
     * a PDE that references a page table is ignored and stays 0. */
    w = ok(&p, L32, WALK_WRITE, false, 0xabc123);
    cr_assert(w.dirty);
    cr_assert_eq(get32(PDE32), 0x2000u | P | RW | US | ACC);
    cr_assert_eq(get32(PTE32), 0x00abc000u | P | RW | US | ACC | DIRTY);
    /* A fetch does not set D either. */
    put32(PTE32, 0x00abc000u | P | RW | US);
    ok(&p, L32, WALK_FETCH, false, 0xabc123);
    cr_assert_eq(get32(PTE32), 0x00abc000u | P | RW | US | ACC);
}

Test(pagewalk, p32_not_present)
{
    PagingParams p = params(PAGING_32, 0x1000);
    /* PDE not present: P=0 in the error code, W/R and U/S from the access;
     * 32-bit paging never sets I/D (4.7). */
    map32(0 | RW | US, P | RW | US);
    fault(&p, L32, WALK_READ, false, 0);
    fault(&p, L32, WALK_WRITE, false, E_W);
    fault(&p, L32, WALK_READ, true, E_U);
    fault(&p, L32, WALK_WRITE, true, E_U | E_W);
    fault(&p, L32, WALK_FETCH, false, 0);
    fault(&p, L32, WALK_FETCH, true, E_U);
    /* PTE not present. */
    map32(P | RW | US, RW | US);
    fault(&p, L32, WALK_READ, false, 0);
    fault(&p, L32, WALK_WRITE, true, E_U | E_W);
    /* Nothing was marked accessed by the faulting walks. */
    cr_assert_eq(get32(PDE32) & ACC, 0);
    cr_assert_eq(get32(PTE32) & ACC, 0);
}

Test(pagewalk, p32_user_supervisor)
{
    PagingParams p = params(PAGING_32, 0x1000);
    /* U/S clear in the PDE: user accesses fault with P=1, U=1. */
    map32(P | RW, P | RW | US);
    fault(&p, L32, WALK_READ, true, E_P | E_U);
    fault(&p, L32, WALK_WRITE, true, E_P | E_U | E_W);
    fault(&p, L32, WALK_FETCH, true, E_P | E_U);
    ok(&p, L32, WALK_READ, false, 0xabc123);
    /* U/S clear in the PTE only. */
    map32(P | RW | US, P | RW);
    fault(&p, L32, WALK_READ, true, E_P | E_U);
    cr_assert_eq(get32(PTE32) & ACC, 0, "a user fault must not set A");
    PageWalk w = ok(&p, L32, WALK_WRITE, false, 0xabc123);
    cr_assert(!w.user);
}

Test(pagewalk, p32_read_write_and_wp)
{
    PagingParams p = params(PAGING_32, 0x1000);
    /* R/W clear in the PTE. */
    map32(P | RW | US, P | US);
    fault(&p, L32, WALK_WRITE, true, E_P | E_U | E_W);
    ok(&p, L32, WALK_READ, true, 0xabc123);
    /* Supervisor write with CR0.WP = 0: allowed, and D is set (4.6). */
    PageWalk w = ok(&p, L32, WALK_WRITE, false, 0xabc123);
    cr_assert(!w.writable && w.dirty);
    cr_assert_eq(get32(PTE32), 0x00abc000u | P | US | ACC | DIRTY);
    /* With CR0.WP = 1 the same write faults: P=1, W=1, U=0. */
    p.wp = true;
    put32(PTE32, 0x00abc000u | P | US);
    fault(&p, L32, WALK_WRITE, false, E_P | E_W);
    cr_assert_eq(get32(PTE32), 0x00abc000u | P | US, "no A/D on a fault");
    /* R/W clear at the PDE level only has the same effect. */
    map32(P | US, P | RW | US);
    fault(&p, L32, WALK_WRITE, false, E_P | E_W);
    fault(&p, L32, WALK_WRITE, true, E_P | E_U | E_W);
    p.wp = false;
    ok(&p, L32, WALK_WRITE, false, 0xabc123);
    /* WP does not matter for user writes: always a fault. */
    fault(&p, L32, WALK_WRITE, true, E_P | E_U | E_W);
}

Test(pagewalk, p32_global_needs_pge)
{
    PagingParams p = params(PAGING_32, 0x1000);
    map32(P | RW, P | RW | G);
    PageWalk w = ok(&p, L32, WALK_READ, false, 0xabc123);
    cr_assert(!w.global, "G without CR4.PGE is ignored");
    p.pge = true;
    w = ok(&p, L32, WALK_READ, false, 0xabc123);
    cr_assert(w.global);
    /* G in a PDE that references a page table is ignored (Table 4-5). */
    map32(P | RW | G, P | RW);
    w = ok(&p, L32, WALK_READ, false, 0xabc123);
    cr_assert(!w.global);
}

/* ======================================================================
 * 32-bit paging, 4 MiB pages (CR4.PSE) and PSE-36.  PDE index 2:
 * linear 0x00923456 = 2 << 22 | 0x123456, PDE at 0x1008.
 * ====================================================================== */
#define L4M   0x00923456ull
#define PDE4M 0x1008ull

Test(pagewalk, p32_pse_4m)
{
    PagingParams p = params(PAGING_32, 0x1000);
    p.pse = true;
    put32(PDE4M, 0x01c00000u | PS | P | RW);
    PageWalk w = ok(&p, L4M, WALK_WRITE, false, 0x01c00000ull + 0x123456);
    cr_assert_eq(w.page_size, 4u << 20);
    /* The PDE is the leaf: A and D both land in it. */
    cr_assert_eq(get32(PDE4M), 0x01c00000u | PS | P | RW | ACC | DIRTY);
    /* Bit 12 is PAT in a 4 MiB PDE, not an address bit. */
    put32(PDE4M, 0x01c00000u | 0x1000 | PS | P | RW);
    ok(&p, L4M, WALK_READ, false, 0x01d23456);
    /* G in a 4 MiB PDE counts (with PGE). */
    p.pge = true;
    put32(PDE4M, 0x01c00000u | PS | P | G);
    w = ok(&p, L4M, WALK_READ, false, 0x01d23456);
    cr_assert(w.global);
}

Test(pagewalk, p32_ps_ignored_without_pse)
{
    /* The same PDE read two ways.  0x00005000 | PS: with CR4.PSE = 0 PS is
     * ignored and bits 31:12 point at a page table at 0x5000; with
     * CR4.PSE = 1 it maps a 4 MiB page whose bits 20:13 (here bit 14, i.e.
     * 0x02 << 13) are physical-address bits 39:32 -> 0x2_0000_0000. */
    PagingParams p = params(PAGING_32, 0x1000);
    put32(PDE4M, 0x00005000u | PS | P | RW);
    put32(0x5000 + 0x123 * 4, 0x00777000u | P | RW);   /* PTE index 0x123 */
    ok(&p, L4M, WALK_READ, false, 0x00777456);
    p.pse = true;
    ok(&p, L4M, WALK_READ, false, 0x200123456ull);
}

Test(pagewalk, p32_pse36_high_bits)
{
    PagingParams p = params(PAGING_32, 0x1000);
    p.pse = true;
    /* Bits 20:13 = 0xab hold physical bits 39:32. */
    put32(PDE4M, 0x00400000u | (0xabu << 13) | PS | P | RW);
    ok(&p, L4M, WALK_READ, false, 0xab00400000ull + 0x123456);
    /* With MAXPHYADDR = 36 only bits 16:13 are address bits and bits 20:17
     * are reserved (Table 4-4, note on PSE-36): 0xab has bit 17+ set. */
    p.phys_bits = 36;
    fault(&p, L4M, WALK_READ, false, E_P | E_RSVD);
    put32(PDE4M, 0x00400000u | (0x0bu << 13) | PS | P | RW);
    ok(&p, L4M, WALK_READ, false, 0xb00400000ull + 0x123456);
}

Test(pagewalk, p32_pse_reserved_bit21)
{
    PagingParams p = params(PAGING_32, 0x1000);
    p.pse = true;
    /* Bit 21 of a 4 MiB PDE is reserved (Table 4-4): RSVD with P=1 and the
     * access bits. */
    put32(PDE4M, 0x00200000u | PS | P | RW | US);
    fault(&p, L4M, WALK_READ, false, E_P | E_RSVD);
    fault(&p, L4M, WALK_WRITE, false, E_P | E_RSVD | E_W);
    fault(&p, L4M, WALK_READ, true, E_P | E_RSVD | E_U);
    fault(&p, L4M, WALK_FETCH, true, E_P | E_RSVD | E_U);
    cr_assert_eq(get32(PDE4M) & ACC, 0);
    /* Without PSE the same bit is part of a page-table address (PT at
     * 0x200000, PTE index 0x123): no reserved-bit fault. */
    p.pse = false;
    put32(0x200000 + 0x123 * 4, 0x00555000u | P | RW | US);
    ok(&p, L4M, WALK_READ, false, 0x555456);
}

/* ======================================================================
 * PAE paging (4.4).  CR3 = 0x10020: the PDPT is 32-byte aligned and CR3
 * bits 31:5 locate it.  Linear 0x40605678: PDPTE 1 (bits 31:30), PDE 3
 * (bits 29:21), PTE 5 (bits 20:12), offset 0x678.
 *   PDPTE at 0x10020 + 8 = 0x10028 -> PD 0x11000
 *   PDE   at 0x11000 + 3*8 = 0x11018 -> PT 0x12000
 *   PTE   at 0x12000 + 5*8 = 0x12028 -> 0xab_cdef_0000 (a 40-bit address)
 * 2 MiB page: linear 0x40812345, PDE 4 at 0x11020 -> 0x12_3460_0000.
 * ====================================================================== */
#define LPAE     0x40605678ull
#define PDPTE_P  0x10028ull
#define PDE_P    0x11018ull
#define PTE_PAE  0x12028ull
#define LPAE2M   0x40812345ull
#define PDE_P2M  0x11020ull

static void map_pae(uint64_t pdpte_flags, uint64_t pde_flags, uint64_t pte_flags)
{
    put64(PDPTE_P, 0x11000 | pdpte_flags);
    put64(PDE_P, 0x12000 | pde_flags);
    put64(PTE_PAE, 0xabcdef0000ull | pte_flags);
}

Test(pagewalk, pae_4k_translates)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    map_pae(P, P | RW | US, P | RW | US);
    PageWalk w = ok(&p, LPAE, WALK_READ, true, 0xabcdef0678ull);
    cr_assert_eq(w.page_size, 4096);
    /* A in the PDE and PTE; PDPTEs have no A bit in PAE paging (bits 8:5
     * are reserved, Table 4-8), so the PDPTE must be left unchanged. */
    cr_assert_eq(get64(PDPTE_P), 0x11000 | P);
    cr_assert_eq(get64(PDE_P), 0x12000 | P | RW | US | ACC);
    cr_assert_eq(get64(PTE_PAE), 0xabcdef0000ull | P | RW | US | ACC);
    ok(&p, LPAE, WALK_WRITE, true, 0xabcdef0678ull);
    cr_assert_eq(get64(PTE_PAE), 0xabcdef0000ull | P | RW | US | ACC | DIRTY);
    cr_assert_eq(get64(PDE_P), 0x12000 | P | RW | US | ACC);
}

Test(pagewalk, pae_2m_translates)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    put64(PDPTE_P, 0x11000 | P);
    put64(PDE_P2M, 0x1234600000ull | PS | P | RW);
    PageWalk w = ok(&p, LPAE2M, WALK_WRITE, false, 0x1234612345ull);
    cr_assert_eq(w.page_size, 2u << 20);
    cr_assert_eq(get64(PDE_P2M), 0x1234600000ull | PS | P | RW | ACC | DIRTY);
    /* Bit 12 is PAT, allowed; bits 20:13 are reserved (Table 4-9). */
    put64(PDE_P2M, 0x1234600000ull | 0x1000 | PS | P | RW);
    ok(&p, LPAE2M, WALK_READ, false, 0x1234612345ull);
    put64(PDE_P2M, 0x1234600000ull | 0x2000 | PS | P | RW);
    fault(&p, LPAE2M, WALK_READ, false, E_P | E_RSVD);
    put64(PDE_P2M, 0x1234600000ull | 0x100000 | PS | P | RW);
    fault(&p, LPAE2M, WALK_WRITE, true, E_P | E_RSVD | E_W | E_U);
}

Test(pagewalk, pae_not_present_each_level)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    p.nxe = true;
    map_pae(0, P | RW | US, P | RW | US);
    fault(&p, LPAE, WALK_READ, false, 0);
    fault(&p, LPAE, WALK_WRITE, true, E_W | E_U);
    /* With NXE a fetch sets I/D even for a not-present fault. */
    fault(&p, LPAE, WALK_FETCH, false, E_I);
    map_pae(P, RW | US, P | RW | US);
    fault(&p, LPAE, WALK_READ, true, E_U);
    map_pae(P, P | RW | US, RW | US);
    fault(&p, LPAE, WALK_FETCH, true, E_I | E_U);
    cr_assert_eq(get64(PDE_P) & ACC, 0, "no A on a faulting walk");
}

Test(pagewalk, pae_pdpte_reserved_bits)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    /* Table 4-8: bits 2:1, 8:5 and 63 of a PDPTE are reserved, and bits
     * 51:MAXPHYADDR.  (On hardware MOV CR3 loads PDPTEs and a reserved bit
     * is #GP there; Vireo reads them per walk, a documented deviation, so
     * the walker reports RSVD.) */
    static const uint64_t bad[] = { RW, US, ACC, DIRTY, PS, G, 1ull << 40, XD };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        map_pae(P | bad[i], P | RW | US, P | RW | US);
        fault(&p, LPAE, WALK_READ, false, E_P | E_RSVD);
        p.nxe = true;   /* XD stays reserved in a PDPTE even with NXE */
        fault(&p, LPAE, WALK_WRITE, true, E_P | E_RSVD | E_W | E_U);
        p.nxe = false;
    }
    /* PWT/PCD (bits 3, 4) and the ignored bits 11:9 are fine. */
    map_pae(P | PWT | 0x10 | 0xe00, P | RW | US, P | RW | US);
    ok(&p, LPAE, WALK_READ, false, 0xabcdef0678ull);
}

Test(pagewalk, pae_high_address_bits_reserved)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    /* Bits 51:40 are reserved with MAXPHYADDR 40, in every level. */
    map_pae(P, P | RW | (1ull << 40), P | RW);
    fault(&p, LPAE, WALK_READ, false, E_P | E_RSVD);
    map_pae(P, P | RW, P | RW | (1ull << 51));
    fault(&p, LPAE, WALK_READ, false, E_P | E_RSVD);
    map_pae(P, P | RW, P | RW | (1ull << 39));
    ok(&p, LPAE, WALK_READ, false, 0x8000000000ull | 0xabcdef0678ull);
    /* With MAXPHYADDR 36, bit 39 becomes reserved too. */
    p.phys_bits = 36;
    fault(&p, LPAE, WALK_READ, false, E_P | E_RSVD);
    /* Bits 62:52 are ignored (available to software), not reserved. */
    p.phys_bits = 40;
    map_pae(P, P | RW, P | RW | (0x7ffull << 52));
    ok(&p, LPAE, WALK_READ, false, 0xabcdef0678ull);
}

Test(pagewalk, pae_nx)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    /* EFER.NXE = 0: bit 63 is reserved in every entry, whatever the access
     * (RSVD, and no I/D since NX is not enabled). */
    map_pae(P, P | RW | US, P | RW | US | XD);
    fault(&p, LPAE, WALK_READ, false, E_P | E_RSVD);
    fault(&p, LPAE, WALK_FETCH, true, E_P | E_RSVD | E_U);
    /* NXE = 1: reads and writes pass, fetches fault with P and I/D. */
    p.nxe = true;
    PageWalk w = ok(&p, LPAE, WALK_READ, false, 0xabcdef0678ull);
    cr_assert(!w.executable);
    ok(&p, LPAE, WALK_WRITE, true, 0xabcdef0678ull);
    fault(&p, LPAE, WALK_FETCH, false, E_P | E_I);
    fault(&p, LPAE, WALK_FETCH, true, E_P | E_I | E_U);
    /* XD in the PDE (not the leaf) forbids execution of the whole range. */
    map_pae(P, P | RW | US | XD, P | RW | US);
    fault(&p, LPAE, WALK_FETCH, false, E_P | E_I);
    /* Without XD anywhere a fetch works and I/D never shows. */
    map_pae(P, P | RW | US, P | RW | US);
    w = ok(&p, LPAE, WALK_FETCH, true, 0xabcdef0678ull);
    cr_assert(w.executable);
    /* I/D with NXE also accompanies other causes of a fetch fault. */
    map_pae(P, P | RW, P | RW | US);
    fault(&p, LPAE, WALK_FETCH, true, E_P | E_U | E_I);
}

Test(pagewalk, pae_fetch_without_nxe_has_no_id_bit)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    map_pae(P, RW | US, P | RW | US);
    fault(&p, LPAE, WALK_FETCH, false, 0);
    map_pae(P, P | RW, P | RW | US);
    fault(&p, LPAE, WALK_FETCH, true, E_P | E_U);
}

Test(pagewalk, pae_wp_and_rights)
{
    PagingParams p = params(PAGING_PAE, 0x10020);
    map_pae(P, P | RW | US, P | US);
    fault(&p, LPAE, WALK_WRITE, true, E_P | E_W | E_U);
    ok(&p, LPAE, WALK_WRITE, false, 0xabcdef0678ull);
    p.wp = true;
    put64(PTE_PAE, 0xabcdef0000ull | P | US);
    fault(&p, LPAE, WALK_WRITE, false, E_P | E_W);
    cr_assert_eq(get64(PTE_PAE), 0xabcdef0000ull | P | US);
}

/* ======================================================================
 * 4-level paging (4.5).  CR3 = 0x20000.  Linear 0x0000_0080_8060_4567:
 * PML4 1, PDPT 2, PD 3, PT 4, offset 0x567.
 *   PML4E at 0x20000 + 8     -> PDPT 0x21000
 *   PDPTE at 0x21000 + 2*8   -> PD 0x22000
 *   PDE   at 0x22000 + 3*8   -> PT 0x23000
 *   PTE   at 0x23000 + 4*8   -> 0x00_3456_7000
 * 2 MiB: linear 0x0000_0080_80a1_2345 (PD index 5, PDE at 0x22028)
 *   -> 0x77_7760_0000.
 * ====================================================================== */
#define L4L     0x0000008080604567ull
#define PML4E   0x20008ull
#define PDPTE4  0x21010ull
#define PDE4    0x22018ull
#define PTE4    0x23020ull
#define L4L2M   0x0000008080a12345ull
#define PDE4_2M 0x22028ull

static void map4(uint64_t f4, uint64_t f3, uint64_t f2, uint64_t f1)
{
    put64(PML4E, 0x21000 | f4);
    put64(PDPTE4, 0x22000 | f3);
    put64(PDE4, 0x23000 | f2);
    put64(PTE4, 0x34567000ull | f1);
}

#define ALL (P | RW | US)

Test(pagewalk, l4_4k_translates_and_sets_a_everywhere)
{
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    p.nxe = true;
    map4(ALL, ALL, ALL, ALL);
    PageWalk w = ok(&p, L4L, WALK_READ, true, 0x34567567ull);
    cr_assert_eq(w.page_size, 4096);
    cr_assert(w.user && w.writable && w.executable && !w.dirty);
    cr_assert_eq(get64(PML4E), 0x21000 | ALL | ACC);
    cr_assert_eq(get64(PDPTE4), 0x22000 | ALL | ACC);
    cr_assert_eq(get64(PDE4), 0x23000 | ALL | ACC);
    cr_assert_eq(get64(PTE4), 0x34567000ull | ALL | ACC);
    ok(&p, L4L, WALK_WRITE, true, 0x34567567ull);
    cr_assert_eq(get64(PTE4), 0x34567000ull | ALL | ACC | DIRTY);
    cr_assert_eq(get64(PDE4), 0x23000 | ALL | ACC, "D only in the leaf");
    cr_assert_eq(get64(PML4E), 0x21000 | ALL | ACC);
}

Test(pagewalk, l4_high_half)
{
    /* 0xffff_8000_0000_0000: PML4 index 256 (bits 47:39). */
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    put64(0x20000 + 256 * 8, 0x24000 | P | RW);
    put64(0x24000, 0x25000 | P | RW);
    put64(0x25000, 0x26000 | P | RW);
    put64(0x26000 + 1 * 8, 0x99000 | P | RW);
    ok(&p, 0xffff800000001abcull, WALK_READ, false, 0x99abc);
}

Test(pagewalk, l4_2m_and_1g)
{
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    map4(ALL, ALL, ALL, ALL);
    put64(PDE4_2M, 0x7777600000ull | PS | ALL);
    PageWalk w = ok(&p, L4L2M, WALK_WRITE, false, 0x7777612345ull);
    cr_assert_eq(w.page_size, 2u << 20);
    cr_assert_eq(get64(PDE4_2M), 0x7777600000ull | PS | ALL | ACC | DIRTY);
    /* Bits 20:13 of a 2 MiB PDE are reserved. */
    put64(PDE4_2M, 0x7777600000ull | (1u << 13) | PS | ALL);
    fault(&p, L4L2M, WALK_READ, false, E_P | E_RSVD);
    /* PS in a PDPTE: reserved unless 1 GiB pages exist. */
    put64(PDPTE4, 0x40000000ull | PS | ALL);
    fault(&p, L4L, WALK_READ, false, E_P | E_RSVD);
    p.gb_pages = true;
    /* 1 GiB page at 0x40000000: linear offset bits 29:0 = 0x00604567. */
    w = ok(&p, L4L, WALK_READ, false, 0x40604567ull);
    cr_assert_eq(w.page_size, 1u << 30);
    /* Bits 29:13 of a 1 GiB PDPTE are reserved. */
    put64(PDPTE4, 0x40000000ull | (1u << 21) | PS | ALL);
    fault(&p, L4L, WALK_READ, false, E_P | E_RSVD);
}

Test(pagewalk, l4_ps_in_pml4e_is_reserved)
{
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    p.gb_pages = true;
    map4(ALL | PS, ALL, ALL, ALL);
    fault(&p, L4L, WALK_READ, false, E_P | E_RSVD);
    fault(&p, L4L, WALK_WRITE, true, E_P | E_RSVD | E_W | E_U);
    cr_assert_eq(get64(PML4E) & ACC, 0);
}

Test(pagewalk, l4_not_present_each_level)
{
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    p.nxe = true;
    for (int level = 4; level >= 1; level--) {
        map4(level == 4 ? RW | US : ALL, level == 3 ? RW | US : ALL,
             level == 2 ? RW | US : ALL, level == 1 ? RW | US : ALL);
        fault(&p, L4L, WALK_READ, false, 0);
        fault(&p, L4L, WALK_WRITE, false, E_W);
        fault(&p, L4L, WALK_READ, true, E_U);
        fault(&p, L4L, WALK_FETCH, true, E_I | E_U);
        cr_assert_eq(get64(PML4E) & ACC, 0, "level %d: no A on a fault", level);
    }
    /* A not-present entry may hold anything else, reserved bits included:
     * they are not checked when P = 0 (4.7, RSVD). */
    map4(ALL, ALL, RW | PS | (1ull << 45), ALL);
    fault(&p, L4L, WALK_READ, false, 0);
}

Test(pagewalk, l4_rights_at_each_level)
{
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    p.nxe = true;
    /* U/S clear only in the PML4E. */
    map4(P | RW, ALL, ALL, ALL);
    fault(&p, L4L, WALK_READ, true, E_P | E_U);
    ok(&p, L4L, WALK_READ, false, 0x34567567);
    /* R/W clear only in the PDPTE. */
    map4(ALL, P | US, ALL, ALL);
    fault(&p, L4L, WALK_WRITE, true, E_P | E_W | E_U);
    ok(&p, L4L, WALK_WRITE, false, 0x34567567);   /* WP = 0 */
    p.wp = true;
    fault(&p, L4L, WALK_WRITE, false, E_P | E_W);
    /* XD only in the PML4E. */
    map4(ALL | XD, ALL, ALL, ALL);
    fault(&p, L4L, WALK_FETCH, false, E_P | E_I);
    ok(&p, L4L, WALK_WRITE, true, 0x34567567);
    /* Without NXE the same entry is a reserved-bit fault for any access. */
    p.nxe = false;
    map4(ALL | XD, ALL, ALL, ALL);
    fault(&p, L4L, WALK_READ, false, E_P | E_RSVD);
    fault(&p, L4L, WALK_FETCH, false, E_P | E_RSVD);
}

Test(pagewalk, l4_high_address_bits_reserved)
{
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    map4(ALL | (1ull << 40), ALL, ALL, ALL);
    fault(&p, L4L, WALK_READ, false, E_P | E_RSVD);
    map4(ALL, ALL, ALL | (1ull << 47), ALL);
    fault(&p, L4L, WALK_READ, false, E_P | E_RSVD);
    map4(ALL, ALL, ALL, ALL | (1ull << 40));
    fault(&p, L4L, WALK_FETCH, true, E_P | E_RSVD | E_U);
}

Test(pagewalk, l4_global)
{
    PagingParams p = params(PAGING_4LEVEL, 0x20000);
    p.pge = true;
    map4(ALL, ALL, ALL, ALL | G);
    cr_assert(ok(&p, L4L, WALK_READ, false, 0x34567567).global);
    /* G is only meaningful in the entry that maps the page. */
    map4(ALL | G, ALL | G, ALL | G, ALL);
    cr_assert(!ok(&p, L4L, WALK_READ, false, 0x34567567).global);
    put64(PDE4_2M, 0x7777600000ull | PS | G | ALL);
    cr_assert(ok(&p, L4L2M, WALK_READ, false, 0x7777612345ull).global);
    p.pge = false;
    cr_assert(!ok(&p, L4L2M, WALK_READ, false, 0x7777612345ull).global);
}

Test(pagewalk, paging_off_is_identity)
{
    PagingParams p = params(PAGING_NONE, 0);
    PageWalk w = ok(&p, 0x12345678, WALK_WRITE, true, 0x12345678);
    cr_assert(w.writable && w.user && w.executable);
}

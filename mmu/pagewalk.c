/* The page-table walker, from the SDM Vol. 3: 4.3 (32-bit paging, PSE,
 * PSE-36), 4.4 (PAE paging), 4.5 (4-level paging), 4.6 (access rights),
 * 4.7 (page-fault error codes) and 4.8 (accessed and dirty flags).
 *
 * Deviation, on purpose: PAE PDPTEs are read at each walk rather than
 * cached at MOV CR3; a guest that rewrites its PDPTEs without reloading
 * CR3 sees the new values earlier than on hardware.
 */
#include "mmu/pagewalk.h"

enum {
    PTE_P = 1u << 0, PTE_RW = 1u << 1, PTE_US = 1u << 2, PTE_A = 1u << 5,
    PTE_D = 1u << 6, PTE_PS = 1u << 7, PTE_G = 1u << 8,
};
#define PTE_XD (1ull << 63)

typedef struct Walk {
    AddressSpace *mem;
    const PagingParams *p;
    uint64_t touched[5];      /* addresses of the entries used */
    unsigned count;
    bool rw, us, xd;
} Walk;

/* Physical-address bits 51..MAXPHYADDR of an 8-byte entry are reserved. */
static uint64_t high_reserved(const PagingParams *p)
{
    unsigned bits = p->phys_bits ? p->phys_bits : 40;
    return (0x000fffffffffffffull >> bits) << bits;
}

static uint64_t frame(const PagingParams *p, uint64_t entry)
{
    unsigned bits = p->phys_bits ? p->phys_bits : 40;
    return entry & ((1ull << bits) - 1) & ~0xfffull;
}

/* Read one entry and fold its rights in; returns the entry, or sets
 * *error on not-present or reserved bits. */
static uint64_t read_entry(Walk *w, uint64_t addr, unsigned size,
                           uint64_t reserved, uint32_t *error)
{
    uint64_t e = as_read(w->mem, addr, size);
    if (!(e & PTE_P)) {
        *error = 0;
        return 0;
    }
    if (size == 8 && !w->p->nxe)
        reserved |= PTE_XD;
    if (e & reserved) {
        *error = PF_RSVD | PF_PRESENT;
        return 0;
    }
    w->touched[w->count++] = addr;
    w->rw = w->rw && (e & PTE_RW);
    w->us = w->us && (e & PTE_US);
    w->xd = w->xd || (size == 8 && w->p->nxe && (e & PTE_XD));
    *error = PF_PRESENT;   /* "no error yet": present */
    return e;
}

/* Walk 8-byte tables from `table` starting at bit `shift` until a leaf;
 * `large_min_shift`: the lowest level where PS makes a leaf (21), and
 * `large_max_shift` the highest (30 with 1 GiB pages, else 21). */
static int walk_long(Walk *w, uint64_t table, unsigned shift, uint64_t linear,
                     uint64_t *leaf, unsigned *leaf_shift, uint32_t *error)
{
    const PagingParams *p = w->p;
    for (;;) {
        uint64_t addr = table + ((linear >> shift) & 0x1ff) * 8;
        bool large_ok = shift == 21 || (shift == 30 && p->gb_pages);
        uint64_t reserved = high_reserved(p);
        if (shift == 39 || (shift == 30 && !large_ok))
            reserved |= PTE_PS;
        uint64_t e = read_entry(w, addr, 8, reserved, error);
        if (*error != PF_PRESENT)
            return -1;
        if (shift == 12 || (large_ok && (e & PTE_PS))) {
            /* Large pages: the frame's low bits below the page size,
             * except PAT (bit 12), are reserved. */
            if (shift > 12 && (e & (((1ull << shift) - 1) & ~0x1fffull))) {
                *error = PF_RSVD | PF_PRESENT;
                return -1;
            }
            *leaf = e;
            *leaf_shift = shift;
            return 0;
        }
        table = frame(p, e);
        shift -= 9;
    }
}

static int walk_pae(Walk *w, uint64_t linear, uint64_t *leaf,
                    unsigned *leaf_shift, uint32_t *error)
{
    const PagingParams *p = w->p;
    uint64_t addr = (p->cr3 & 0xffffffe0ull) + ((linear >> 30) & 3) * 8;
    /* PDPTE: no R/W, U/S or XD; bits 1-2 and 5-8 are reserved. */
    uint64_t reserved = high_reserved(p) | 0x1e6ull | PTE_XD;
    uint64_t e = as_read(w->mem, addr, 8);
    if (!(e & PTE_P)) {
        *error = 0;
        return -1;
    }
    if (e & reserved) {
        *error = PF_RSVD | PF_PRESENT;
        return -1;
    }
    return walk_long(w, frame(p, e), 21, linear, leaf, leaf_shift, error);
}

static int walk_32(Walk *w, uint64_t linear, uint64_t *leaf,
                   unsigned *leaf_shift, uint32_t *error)
{
    const PagingParams *p = w->p;
    uint64_t addr = (p->cr3 & 0xfffff000ull) + ((linear >> 22) & 0x3ff) * 4;
    uint64_t pde = read_entry(w, addr, 4, 0, error);
    if (*error != PF_PRESENT)
        return -1;
    if ((pde & PTE_PS) && p->pse) {
        /* PSE-36: bits 13..20 hold physical address bits 32..39; those
         * beyond MAXPHYADDR, and bit 21, are reserved. */
        unsigned bits = p->phys_bits ? p->phys_bits : 40;
        uint64_t high_bits = bits > 32 ? bits - 32 : 0;
        uint64_t reserved = (1ull << 21) | (((1ull << 21) - 1) & ~((1ull << (13 + high_bits)) - 1));
        if (pde & reserved) {
            *error = PF_RSVD | PF_PRESENT;
            return -1;
        }
        *leaf = (pde & 0xffc00fffull) | (((pde >> 13) & 0xff) << 32);
        *leaf_shift = 22;
        return 0;
    }
    addr = (pde & 0xfffff000ull) + ((linear >> 12) & 0x3ff) * 4;
    uint64_t pte = read_entry(w, addr, 4, 0, error);
    if (*error != PF_PRESENT)
        return -1;
    *leaf = pte;
    *leaf_shift = 12;
    return 0;
}

/* SDM 4.6: user accesses need U/S everywhere; writes need R/W everywhere
 * for user mode, and for supervisor mode when CR0.WP is set; fetches need
 * no XD. */
static bool access_allowed(const Walk *w, int kind, bool user)
{
    if (user && !w->us)
        return false;
    if (kind == WALK_WRITE && !w->rw && (user || w->p->wp))
        return false;
    return !(kind == WALK_FETCH && w->xd);
}

/* Set A in every entry used, and D in the leaf for a write; only the
 * low byte is rewritten, as the flags live there. */
static void set_flags(Walk *w, bool write)
{
    for (unsigned i = 0; i < w->count; i++) {
        uint64_t e = as_read(w->mem, w->touched[i], 1);
        uint64_t want = e | PTE_A;
        if (write && i == w->count - 1)
            want |= PTE_D;
        if (want != e)
            as_write(w->mem, w->touched[i], want, 1);
    }
}

int pagewalk(AddressSpace *mem, const PagingParams *p, uint64_t linear,
             int kind, bool user, PageWalk *out)
{
    Walk w = { .mem = mem, .p = p, .rw = true, .us = true };
    uint64_t leaf = 0;
    unsigned shift = 12;
    uint32_t error = 0;
    int r;
    switch (p->mode) {
    case PAGING_32:     r = walk_32(&w, linear, &leaf, &shift, &error); break;
    case PAGING_PAE:    r = walk_pae(&w, linear, &leaf, &shift, &error); break;
    case PAGING_4LEVEL:
        r = walk_long(&w, frame(p, p->cr3), 39, linear, &leaf, &shift, &error);
        break;
    default:
        out->phys = linear;
        out->page_base = linear & ~0xfffull;
        out->page_size = 4096;
        out->writable = out->user = out->executable = out->dirty = true;
        out->global = false;
        return 0;
    }
    bool nx_capable = p->mode != PAGING_32 && p->nxe;
    uint32_t access_bits = (kind == WALK_WRITE ? PF_WRITE : 0) |
                           (user ? PF_USER : 0) |
                           (kind == WALK_FETCH && nx_capable ? PF_FETCH : 0);
    if (r == 0 && !access_allowed(&w, kind, user)) {
        r = -1;
        error = PF_PRESENT;
    }
    if (r != 0) {
        out->error_code = (error & (PF_PRESENT | PF_RSVD)) | access_bits;
        return -1;
    }
    uint64_t size = 1ull << shift;
    uint64_t base = (shift == 22 ? leaf & 0xffffffc00000ull : frame(p, leaf)) & ~(size - 1);
    set_flags(&w, kind == WALK_WRITE);
    out->phys = base | (linear & (size - 1));
    out->page_base = out->phys & ~0xfffull;
    out->page_size = size;
    out->writable = w.rw;
    out->user = w.us;
    out->executable = !w.xd;
    out->global = p->pge && (leaf & PTE_G);
    out->dirty = (leaf & PTE_D) || kind == WALK_WRITE;
    out->error_code = 0;
    return 0;
}

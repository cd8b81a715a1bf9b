/* The decoded-block cache: lookup by (physical address, mode) and a
 * per-page index for self-modifying-code invalidation.  Pages holding
 * blocks are marked in a PageTracker attached to the memory AddressSpace,
 * so every write to them, by the CPU or by DMA, reaches
 * block_invalidate_range.
 */
#include "cpu/block.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define HASH_BUCKETS 8192
#define PAGE_BUCKETS 4096

typedef struct PageEntry {
    uint64_t page;
    Block *blocks;               /* linked through Block.page_next */
    struct PageEntry *next;
} PageEntry;

struct BlockCache {
    Block *hash[HASH_BUCKETS];
    PageEntry *pages[PAGE_BUCKETS];
    PageTracker code;            /* pages holding blocks */
    AddressSpace *mem;           /* whose writes the tracker watches */
    Block *dead;                 /* invalidated, freed at reclaim */
    void (*on_invalidate)(void *opaque, Block *b);
    void *on_invalidate_opaque;
};

/* A block that straddles two pages sits in both page lists, so it needs a
 * link per list: the first is Block.page_next, the second lives here. */
typedef struct BlockTail {
    Block *page_next2;
} BlockTail;

static BlockTail *block_tail(Block *b)
{
    return (BlockTail *)&b->insns[b->count];
}

static unsigned hash_of(uint64_t phys, uint32_t mode)
{
    uint64_t h = (phys ^ ((uint64_t)mode << 40)) * 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> 51) & (HASH_BUCKETS - 1);
}

static unsigned page_bucket(uint64_t page)
{
    return (unsigned)((page * 0x9e3779b97f4a7c15ull) >> 52) & (PAGE_BUCKETS - 1);
}

static void code_written(void *opaque, uint64_t addr, uint64_t len)
{
    block_invalidate_range(opaque, addr, len);
}

BlockCache *block_cache_new(AddressSpace *mem)
{
    BlockCache *bc = calloc(1, sizeof(*bc));
    if (!bc || pagetrack_init(&bc->code, code_written, bc) < 0)
        die("out of memory for the block cache");
    bc->mem = mem;
    if (mem)
        mem->code_pages = &bc->code;
    return bc;
}

void block_cache_on_invalidate(BlockCache *bc,
                               void (*fn)(void *opaque, Block *b),
                               void *opaque)
{
    bc->on_invalidate = fn;
    bc->on_invalidate_opaque = opaque;
}

/* Mark b invalid, tell the hook, and queue it for reclaim. */
static void kill_block(BlockCache *bc, Block *b)
{
    b->invalid = true;
    if (bc->on_invalidate)
        bc->on_invalidate(bc->on_invalidate_opaque, b);
    b->hash_next = bc->dead;
    bc->dead = b;
}

static void free_list(Block *b)
{
    while (b) {
        Block *next = b->hash_next;
        free(b);
        b = next;
    }
}

static void set_code_bit(BlockCache *bc, uint64_t page, bool on)
{
    if (!on)
        pagetrack_clear(&bc->code, page << PAGE_SHIFT);
    else if (pagetrack_set(&bc->code, page << PAGE_SHIFT) < 0)
        die("out of memory for the code-page tracker");
}

static PageEntry *page_find(const BlockCache *bc, uint64_t page)
{
    for (PageEntry *e = bc->pages[page_bucket(page)]; e; e = e->next)
        if (e->page == page)
            return e;
    return NULL;
}

static PageEntry *page_get(BlockCache *bc, uint64_t page)
{
    PageEntry *e = page_find(bc, page);
    if (e)
        return e;
    e = calloc(1, sizeof(*e));
    if (!e)
        die("out of memory for the block cache");
    e->page = page;
    e->next = bc->pages[page_bucket(page)];
    bc->pages[page_bucket(page)] = e;
    return e;
}

/* Move every block to the dead list and forget all pages. */
void block_cache_flush(BlockCache *bc)
{
    if (!bc)
        return;
    for (unsigned i = 0; i < HASH_BUCKETS; i++) {
        Block *b = bc->hash[i];
        while (b) {
            Block *next = b->hash_next;
            kill_block(bc, b);
            b = next;
        }
        bc->hash[i] = NULL;
    }
    for (unsigned i = 0; i < PAGE_BUCKETS; i++) {
        PageEntry *e = bc->pages[i];
        while (e) {
            PageEntry *next = e->next;
            set_code_bit(bc, e->page, false);
            free(e);
            e = next;
        }
        bc->pages[i] = NULL;
    }
}

void block_cache_reclaim(BlockCache *bc)
{
    free_list(bc->dead);
    bc->dead = NULL;
}

void block_cache_free(BlockCache *bc)
{
    if (!bc)
        return;
    block_cache_flush(bc);
    block_cache_reclaim(bc);
    if (bc->mem && bc->mem->code_pages == &bc->code)
        bc->mem->code_pages = NULL;
    pagetrack_destroy(&bc->code);
    free(bc);
}

Block *block_lookup(BlockCache *bc, uint64_t phys, uint32_t mode)
{
    for (Block *b = bc->hash[hash_of(phys, mode)]; b; b = b->hash_next)
        if (b->phys == phys && b->mode == mode)
            return b;
    return NULL;
}

static void page_link(BlockCache *bc, Block *b, uint64_t page, bool second)
{
    PageEntry *e = page_get(bc, page);
    if (second) {
        block_tail(b)->page_next2 = e->blocks;
    } else {
        b->page_next = e->blocks;
    }
    e->blocks = b;
    set_code_bit(bc, page, true);
}

Block *block_insert(BlockCache *bc, uint64_t phys, uint64_t phys2,
                    uint32_t mode, const DecodedInsn *insns, uint32_t count)
{
    Block *b = malloc(sizeof(*b) + count * sizeof(DecodedInsn) + sizeof(BlockTail));
    if (!b)
        die("out of memory for decoded blocks");
    b->phys = phys;
    b->phys2 = phys2;
    b->mode = mode;
    b->count = count;
    b->exec_count = 0;
    b->invalid = false;
    b->jit = NULL;
    memcpy(b->insns, insns, count * sizeof(DecodedInsn));
    block_tail(b)->page_next2 = NULL;
    unsigned h = hash_of(phys, mode);
    b->hash_next = bc->hash[h];
    bc->hash[h] = b;
    page_link(bc, b, phys >> PAGE_SHIFT, false);
    if (phys2 != UINT64_MAX)
        page_link(bc, b, phys2 >> PAGE_SHIFT, true);
    return b;
}

bool block_page_has_code(const BlockCache *bc, uint64_t phys)
{
    return pagetrack_test(&bc->code, phys);
}

static void hash_unlink(BlockCache *bc, Block *b)
{
    Block **pp = &bc->hash[hash_of(b->phys, b->mode)];
    while (*pp && *pp != b)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = b->hash_next;
}

static Block *next_on_page(Block *b, uint64_t page)
{
    return (b->phys >> PAGE_SHIFT) == page ? b->page_next
                                            : block_tail(b)->page_next2;
}

/* Remove `b` from the list of the page it shares with the dying page. */
static void page_unlink_other(BlockCache *bc, Block *b, uint64_t dying)
{
    uint64_t p1 = b->phys >> PAGE_SHIFT;
    uint64_t other = p1 == dying ? b->phys2 >> PAGE_SHIFT : p1;
    if (b->phys2 == UINT64_MAX || other == dying)
        return;
    PageEntry *e = page_find(bc, other);
    if (!e)
        return;
    Block **pp = &e->blocks;
    while (*pp && *pp != b)
        pp = (*pp)->phys >> PAGE_SHIFT == other ? &(*pp)->page_next
                                                : &block_tail(*pp)->page_next2;
    if (*pp)
        *pp = next_on_page(b, other);
}

static void invalidate_page(BlockCache *bc, uint64_t page)
{
    PageEntry *e = page_find(bc, page);
    if (!e)
        return;
    Block *b = e->blocks;
    while (b) {
        Block *next = next_on_page(b, page);
        if (!b->invalid) {
            hash_unlink(bc, b);
            page_unlink_other(bc, b, page);
            kill_block(bc, b);
        }
        b = next;
    }
    /* Unlink and free the page entry itself. */
    PageEntry **pp = &bc->pages[page_bucket(page)];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    free(e);
    set_code_bit(bc, page, false);
}

void block_invalidate_range(BlockCache *bc, uint64_t phys, uint64_t len)
{
    if (!len)
        return;
    uint64_t first = phys >> PAGE_SHIFT, last = (phys + len - 1) >> PAGE_SHIFT;
    for (uint64_t page = first; page <= last; page++)
        if (block_page_has_code(bc, page << PAGE_SHIFT))
            invalidate_page(bc, page);
}

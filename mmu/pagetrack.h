/* Physical pages that someone needs to hear about when they are written.
 *
 * The decoded-block cache marks the pages that hold code; every write to
 * RAM through an AddressSpace (CPU stores, DMA, loaders) tests the page's
 * bit, one load and one AND, and calls `notify` on a hit, so self-modifying
 * code is caught however the page is written.  Remapping a range (PAM,
 * BAR moves) notifies too, since the bytes behind the address change.
 * The same structure will serve dirty logging.
 */
#ifndef VIREO_MMU_PAGETRACK_H
#define VIREO_MMU_PAGETRACK_H

#include <stdbool.h>
#include <stdint.h>

#define PAGETRACK_SHIFT 12
/* Tracked physical space: 2^46 bytes; pages above are never marked. */
#define PAGETRACK_BITS 46

typedef void (*PageNotify)(void *opaque, uint64_t addr, uint64_t len);

typedef struct PageTracker {
    uint8_t **chunks;      /* one bitmap of 2^18 pages (1 GiB) each, lazily */
    PageNotify notify;
    void *opaque;
} PageTracker;

int pagetrack_init(PageTracker *t, PageNotify notify, void *opaque);
void pagetrack_destroy(PageTracker *t);

/* Mark or unmark the page holding `addr`.  Marking returns -ENOMEM if a
 * bitmap chunk cannot be allocated (the caller then must not rely on it). */
int pagetrack_set(PageTracker *t, uint64_t addr);
void pagetrack_clear(PageTracker *t, uint64_t addr);
void pagetrack_clear_all(PageTracker *t);

static inline bool pagetrack_test(const PageTracker *t, uint64_t addr)
{
    uint64_t page = addr >> PAGETRACK_SHIFT;
    if (page >> (PAGETRACK_BITS - PAGETRACK_SHIFT))
        return false;
    const uint8_t *chunk = t->chunks[page >> 18];
    return chunk && (chunk[(page & 0x3ffff) >> 3] & (1u << (page & 7)));
}

/* Notify if any page of [addr, addr + len) is marked. */
void pagetrack_written(const PageTracker *t, uint64_t addr, uint64_t len);

#endif

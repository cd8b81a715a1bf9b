/* Physical page tracking (see pagetrack.h): a two-level bitmap, 1 GiB of
 * pages per lazily allocated chunk, so tracking costs memory only where
 * code actually lives. */
#include "mmu/pagetrack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_PAGES (1u << 18)
#define CHUNK_COUNT (1u << (PAGETRACK_BITS - PAGETRACK_SHIFT - 18))

int pagetrack_init(PageTracker *t, PageNotify notify, void *opaque)
{
    t->chunks = calloc(CHUNK_COUNT, sizeof(*t->chunks));
    t->notify = notify;
    t->opaque = opaque;
    return t->chunks ? 0 : -ENOMEM;
}

void pagetrack_destroy(PageTracker *t)
{
    if (!t->chunks)
        return;
    for (unsigned i = 0; i < CHUNK_COUNT; i++)
        free(t->chunks[i]);
    free(t->chunks);
    t->chunks = NULL;
}

int pagetrack_set(PageTracker *t, uint64_t addr)
{
    uint64_t page = addr >> PAGETRACK_SHIFT;
    if (page >> (PAGETRACK_BITS - PAGETRACK_SHIFT))
        return -ERANGE;
    uint8_t **chunk = &t->chunks[page >> 18];
    if (!*chunk && !(*chunk = calloc(CHUNK_PAGES / 8, 1)))
        return -ENOMEM;
    (*chunk)[(page & 0x3ffff) >> 3] |= (uint8_t)(1u << (page & 7));
    return 0;
}

void pagetrack_clear(PageTracker *t, uint64_t addr)
{
    uint64_t page = addr >> PAGETRACK_SHIFT;
    if (page >> (PAGETRACK_BITS - PAGETRACK_SHIFT))
        return;
    uint8_t *chunk = t->chunks[page >> 18];
    if (chunk)
        chunk[(page & 0x3ffff) >> 3] &= (uint8_t)~(1u << (page & 7));
}

void pagetrack_clear_all(PageTracker *t)
{
    for (unsigned i = 0; i < CHUNK_COUNT; i++)
        if (t->chunks[i])
            memset(t->chunks[i], 0, CHUNK_PAGES / 8);
}

/* Scan only what can hold marks: pages beyond the tracked space are never
 * marked, unallocated chunks are skipped whole, and zero bytes skip eight
 * pages, so mapping a huge region costs little. */
void pagetrack_written(const PageTracker *t, uint64_t addr, uint64_t len)
{
    const uint64_t limit = (1ull << (PAGETRACK_BITS - PAGETRACK_SHIFT)) - 1;
    if (!len || !t->notify)
        return;
    uint64_t end = addr + len - 1;
    if (end < addr)
        end = UINT64_MAX;
    uint64_t page = addr >> PAGETRACK_SHIFT, last = end >> PAGETRACK_SHIFT;
    if (last > limit)
        last = limit;
    while (page <= last) {
        const uint8_t *chunk = t->chunks[page >> 18];
        if (!chunk) {
            page = ((page >> 18) + 1) << 18;
            continue;
        }
        uint8_t bits = chunk[(page & 0x3ffff) >> 3];
        if (!bits && (page & 7) == 0) {
            page += 8;
            continue;
        }
        if (bits & (1u << (page & 7))) {
            t->notify(t->opaque, addr, len);
            return;
        }
        page++;
    }
}

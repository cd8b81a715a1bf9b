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

void pagetrack_written(const PageTracker *t, uint64_t addr, uint64_t len)
{
    if (!len || !t->notify)
        return;
    uint64_t first = addr >> PAGETRACK_SHIFT;
    uint64_t last = (addr + len - 1) >> PAGETRACK_SHIFT;
    for (uint64_t page = first; page <= last; page++) {
        if (pagetrack_test(t, page << PAGETRACK_SHIFT)) {
            t->notify(t->opaque, addr, len);
            return;
        }
    }
}

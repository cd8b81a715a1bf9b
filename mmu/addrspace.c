/* Address spaces: the region map and the access dispatcher for guest
 * physical memory and the I/O port space (see mmu/addrspace.h).
 *
 * Regions live in an array sorted by base, so a lookup is a binary search;
 * `last_hit` short-circuits the common case of repeated accesses to the same
 * region.  Values are little-endian as on x86 (SDM vol. 1, 1.3.1), whatever
 * the host's byte order.  Bytes that hit no region behave like a PC's
 * floating bus: reads return all-ones, writes vanish, and both are logged
 * under `-d unimp`, rate-limited because the guest controls the address.
 */
#include "mmu/addrspace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* ---- small helpers ------------------------------------------------------ */

/* The last valid address.  Working with inclusive ends avoids overflow for
 * regions that reach the top of the 2^64 memory space. */
static uint64_t space_last(const AddressSpace *as)
{
    return as->size ? as->size - 1 : UINT64_MAX;
}

static uint64_t region_last(const Region *r)
{
    return r->base + (r->length - 1);
}

static bool region_contains(const Region *r, uint64_t addr)
{
    return addr >= r->base && addr - r->base <= r->length - 1;
}

/* Whether the `size` bytes at `addr` all lie inside `r`. */
static bool region_fits(const Region *r, uint64_t addr, unsigned size)
{
    return region_contains(r, addr) && size - 1 <= region_last(r) - addr;
}

/* How many of `len` bytes from `addr` lie at or below `last` (addr <= last):
 * computed without forming last - addr + 1, which overflows for the full
 * space. */
static size_t run_length(uint64_t addr, uint64_t last, size_t len)
{
    uint64_t avail_minus_one = last - addr;

    if (len == 0 || avail_minus_one >= (uint64_t)len - 1)
        return len;
    return (size_t)(avail_minus_one + 1);
}

/* How many of the `len` bytes from `addr` exist in the space: the rest
 * would lie past its end (or wrap past 2^64) and are treated as unassigned. */
static size_t bytes_in_space(const AddressSpace *as, uint64_t addr, size_t len)
{
    uint64_t last = space_last(as);

    if (addr > last)
        return 0;
    return run_length(addr, last, len);
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

/* ---- little-endian host memory ------------------------------------------ */

/* Explicit byte order only on big-endian hosts; on little-endian ones the
 * host layout already is the guest's and memcpy compiles to one move. */
static uint64_t load_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
#else
    memcpy(&v, p, size);
#endif
    return v;
}

static void store_le(uint8_t *p, uint64_t value, unsigned size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(value >> (8 * i));
#else
    memcpy(p, &value, size);
#endif
}

/* ---- the region map ------------------------------------------------------ */

void as_init(AddressSpace *as, const char *name, uint64_t size)
{
    memset(as, 0, sizeof(*as));
    as->name = name ? name : "?";
    as->size = size;
}

void as_destroy(AddressSpace *as)
{
    free(as->regions);
    as->regions = NULL;
    as->count = 0;
    as->capacity = 0;
    as->last_hit = 0;
    as->generation++;
}

/* Index of the first region whose base is above `addr` (count if none).
 * The region that may contain `addr` is the one just before it. */
static size_t upper_bound(const AddressSpace *as, uint64_t addr)
{
    size_t lo = 0, hi = as->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (as->regions[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* `last_hit` is read and written with relaxed atomics because vCPU threads
 * share a space; it is only a hint, validated before use, so any value
 * another thread left behind is fine.  Map changes themselves must be
 * serialized with accesses by the caller. */
static Region *find_region(AddressSpace *as, uint64_t addr)
{
    size_t hint = __atomic_load_n(&as->last_hit, __ATOMIC_RELAXED);
    size_t idx;

    if (hint < as->count && region_contains(&as->regions[hint], addr))
        return &as->regions[hint];
    idx = upper_bound(as, addr);
    if (idx == 0 || !region_contains(&as->regions[idx - 1], addr))
        return NULL;
    __atomic_store_n(&as->last_hit, idx - 1, __ATOMIC_RELAXED);
    return &as->regions[idx - 1];
}

const Region *as_lookup(AddressSpace *as, uint64_t addr)
{
    return find_region(as, addr);
}

static int ensure_capacity(AddressSpace *as)
{
    size_t cap;
    Region *grown;

    if (as->count < as->capacity)
        return 0;
    cap = as->capacity ? as->capacity * 2 : 16;
    if (cap > SIZE_MAX / sizeof(Region))
        return -ENOMEM;
    grown = realloc(as->regions, cap * sizeof(Region));
    if (grown == NULL)
        return -ENOMEM;
    as->regions = grown;
    as->capacity = cap;
    return 0;
}

/* Validate, check for overlap, and insert in sorted position.  Every check
 * happens before anything is modified, so a refused map changes nothing. */
static int map_region(AddressSpace *as, const Region *r)
{
    uint64_t last = space_last(as);
    size_t idx;
    int ret;

    if (r->length == 0 || r->length - 1 > last || r->base > last - (r->length - 1))
        return -EINVAL;
    idx = upper_bound(as, r->base);
    if (idx > 0 && region_last(&as->regions[idx - 1]) >= r->base)
        return -EEXIST;
    if (idx < as->count && as->regions[idx].base <= region_last(r))
        return -EEXIST;
    ret = ensure_capacity(as);
    if (ret < 0)
        return ret;
    memmove(&as->regions[idx + 1], &as->regions[idx],
            (as->count - idx) * sizeof(Region));
    as->regions[idx] = *r;
    as->count++;
    as->last_hit = idx;
    as->generation++;
    /* New bytes now answer at these addresses: code decoded there is stale. */
    if (as->code_pages)
        pagetrack_written(as->code_pages, r->base, r->length);
    return 0;
}

int as_map_ram(AddressSpace *as, const char *name, uint64_t base,
               uint64_t length, uint8_t *host)
{
    Region r = { .name = name ? name : "?", .base = base, .length = length,
                 .kind = REGION_RAM, .host = host };

    if (host == NULL)
        return -EINVAL;
    return map_region(as, &r);
}

int as_map_rom(AddressSpace *as, const char *name, uint64_t base,
               uint64_t length, uint8_t *host)
{
    Region r = { .name = name ? name : "?", .base = base, .length = length,
                 .kind = REGION_ROM, .host = host };

    if (host == NULL)
        return -EINVAL;
    return map_region(as, &r);
}

int as_map_io(AddressSpace *as, const char *name, uint64_t base,
              uint64_t length, const MemOps *ops, void *opaque)
{
    Region r = { .name = name ? name : "?", .base = base, .length = length,
                 .kind = REGION_IO, .ops = ops, .opaque = opaque };

    if (ops == NULL)
        return -EINVAL;
    return map_region(as, &r);
}

int as_unmap(AddressSpace *as, uint64_t base)
{
    size_t idx = upper_bound(as, base);

    if (idx == 0 || as->regions[idx - 1].base != base)
        return -ENOENT;
    idx--;
    uint64_t old_base = as->regions[idx].base, old_len = as->regions[idx].length;
    memmove(&as->regions[idx], &as->regions[idx + 1],
            (as->count - idx - 1) * sizeof(Region));
    as->count--;
    as->last_hit = 0;
    as->generation++;
    if (as->code_pages)
        pagetrack_written(as->code_pages, old_base, old_len);
    return 0;
}

/* ---- logging ------------------------------------------------------------ */

/* One LOG_LIMITED site per kind of event, so a guest hammering holes with
 * reads does not also hide its ROM writes. */
static void log_unassigned_read(const AddressSpace *as, uint64_t addr,
                                uint64_t size)
{
    LOG_LIMITED(LOG_UNIMP, "%s: unassigned read at 0x%" PRIx64 " size %" PRIu64 "\n",
                as->name, addr, size);
}

static void log_unassigned_write(const AddressSpace *as, uint64_t addr,
                                 uint64_t size)
{
    LOG_LIMITED(LOG_UNIMP, "%s: unassigned write at 0x%" PRIx64 " size %" PRIu64 "\n",
                as->name, addr, size);
}

/* Bytes past the end of the space (a word at port 0xFFFF) have no address
 * of their own, so they are reported with the access that produced them. */
static void log_beyond_space(const AddressSpace *as, const char *dir,
                             uint64_t addr, uint64_t size)
{
    LOG_LIMITED(LOG_UNIMP, "%s: %s at 0x%" PRIx64 " size %" PRIu64
                " runs past the end of the space\n", as->name, dir, addr, size);
}

static void log_rom_write(const AddressSpace *as, const Region *r,
                          uint64_t addr)
{
    LOG_LIMITED(LOG_UNIMP, "%s: write to ROM %s at 0x%" PRIx64 " dropped\n",
                as->name, r->name, addr);
}

static void log_missing_handler(const Region *r, const char *dir,
                                uint64_t offset)
{
    LOG_LIMITED(LOG_UNIMP, "%s: device has no %s handler (offset 0x%" PRIx64 ")\n",
                r->name, dir, offset);
}

/* ---- device dispatch ----------------------------------------------------- */

/* The widest power-of-two piece, at most 8, the device accepts.  A
 * max_access that is not 1, 2, 4 or 8 is rounded down rather than trusted. */
static unsigned io_piece_limit(const MemOps *ops)
{
    unsigned max = ops->max_access ? ops->max_access : 8;

    if (max >= 8)
        return 8;
    if (max >= 4)
        return 4;
    return max >= 2 ? 2 : 1;
}

/* Piece size for an access of `size`: devices only ever see 1, 2, 4 or 8,
 * so other sizes (3, 5, 6, 7 from callers) fall back to bytes. */
static unsigned io_piece(const MemOps *ops, unsigned size)
{
    unsigned limit = io_piece_limit(ops);

    if (size & (size - 1))
        return 1;
    return size < limit ? size : limit;
}

/* Pieces are issued lowest offset first, as a little-endian bus would. */
static uint64_t io_read(const Region *r, uint64_t addr, unsigned size)
{
    unsigned piece = io_piece(r->ops, size);
    uint64_t offset = addr - r->base;
    uint64_t value = 0;

    if (r->ops->read == NULL) {
        log_missing_handler(r, "read", offset);
        return size_mask(size);
    }
    for (unsigned i = 0; i < size; i += piece) {
        /* Masked so a device that leaves junk in high bits cannot corrupt
         * the neighbouring piece. */
        uint64_t part = r->ops->read(r->opaque, offset + i, piece);
        value |= (part & size_mask(piece)) << (8 * i);
    }
    return value;
}

static void io_write(const Region *r, uint64_t addr, uint64_t value,
                     unsigned size)
{
    unsigned piece = io_piece(r->ops, size);
    uint64_t offset = addr - r->base;

    if (r->ops->write == NULL) {
        log_missing_handler(r, "write", offset);
        return;
    }
    for (unsigned i = 0; i < size; i += piece)
        r->ops->write(r->opaque, offset + i,
                      (value >> (8 * i)) & size_mask(piece), piece);
}

/* ---- the dispatcher ------------------------------------------------------ */

/* An access wholly inside one region. */
static uint64_t region_read(const Region *r, uint64_t addr, unsigned size)
{
    if (r->kind == REGION_IO)
        return io_read(r, addr, size);
    return load_le(r->host + (addr - r->base), size);
}

static void region_write(const AddressSpace *as, const Region *r,
                         uint64_t addr, uint64_t value, unsigned size)
{
    switch (r->kind) {
    case REGION_RAM:
        store_le(r->host + (addr - r->base), value, size);
        /* An access may start on an untracked page and end on a tracked one. */
        if (as->code_pages && (pagetrack_test(as->code_pages, addr) ||
                               pagetrack_test(as->code_pages, addr + size - 1)))
            pagetrack_written(as->code_pages, addr, size);
        break;
    case REGION_ROM:
        log_rom_write(as, r, addr);
        break;
    case REGION_IO:
        io_write(r, addr, value, size);
        break;
    }
}

/* Whether the whole access falls in one hole, so it can be logged as one
 * line with its real size rather than byte by byte. */
static bool hole_covers(AddressSpace *as, uint64_t addr, unsigned size)
{
    size_t idx;

    if (bytes_in_space(as, addr, size) < size)
        return false;
    idx = upper_bound(as, addr);
    if (idx > 0 && region_contains(&as->regions[idx - 1], addr))
        return false;
    return idx == as->count || as->regions[idx].base - addr >= size;
}

static bool valid_size(const AddressSpace *as, uint64_t addr, unsigned size)
{
    if (size >= 1 && size <= 8)
        return true;
    LOG_LIMITED(LOG_UNIMP, "%s: access of bad size %u at 0x%" PRIx64 " ignored\n",
                as->name, size, addr);
    return false;
}

/* The slow path: each byte goes where its own address says.  Bytes past
 * the end of the space read as all-ones like a hole. */
static uint64_t read_bytes(AddressSpace *as, uint64_t addr, unsigned size)
{
    unsigned inside = (unsigned)bytes_in_space(as, addr, size);
    uint64_t value = 0;

    for (unsigned i = 0; i < size; i++) {
        const Region *r = i < inside ? find_region(as, addr + i) : NULL;
        uint64_t byte = 0xFF;

        if (r)
            byte = region_read(r, addr + i, 1);
        else if (i < inside)
            log_unassigned_read(as, addr + i, 1);
        value |= byte << (8 * i);
    }
    if (inside < size)
        log_beyond_space(as, "read", addr, size);
    return value;
}

static void write_bytes(AddressSpace *as, uint64_t addr, uint64_t value,
                        unsigned size)
{
    unsigned inside = (unsigned)bytes_in_space(as, addr, size);

    for (unsigned i = 0; i < inside; i++) {
        const Region *r = find_region(as, addr + i);

        if (r)
            region_write(as, r, addr + i, (value >> (8 * i)) & 0xFF, 1);
        else
            log_unassigned_write(as, addr + i, 1);
    }
    if (inside < size)
        log_beyond_space(as, "write", addr, size);
}

uint64_t as_read(AddressSpace *as, uint64_t addr, unsigned size)
{
    const Region *r;

    if (!valid_size(as, addr, size))
        return UINT64_MAX;
    r = find_region(as, addr);
    if (r && region_fits(r, addr, size))
        return region_read(r, addr, size);
    if (!r && hole_covers(as, addr, size)) {
        log_unassigned_read(as, addr, size);
        return size_mask(size);
    }
    return read_bytes(as, addr, size);
}

void as_write(AddressSpace *as, uint64_t addr, uint64_t value, unsigned size)
{
    const Region *r;

    if (!valid_size(as, addr, size))
        return;
    value &= size_mask(size);
    r = find_region(as, addr);
    if (r && region_fits(r, addr, size)) {
        region_write(as, r, addr, value, size);
        return;
    }
    if (!r && hole_covers(as, addr, size)) {
        log_unassigned_write(as, addr, size);
        return;
    }
    write_bytes(as, addr, value, size);
}

/* ---- bulk copies --------------------------------------------------------- */

/* How many bytes from `addr` (in the space) share its fate: the rest of its
 * region, or the hole up to the next region or the end of the space. */
static size_t chunk_length(AddressSpace *as, const Region *r, uint64_t addr,
                           size_t len)
{
    size_t idx;

    if (r)
        return run_length(addr, region_last(r), len);
    idx = upper_bound(as, addr);
    if (idx < as->count)
        return run_length(addr, as->regions[idx].base - 1, len);
    return run_length(addr, space_last(as), len);
}

static void read_chunk(const AddressSpace *as, const Region *r, uint64_t addr,
                       uint8_t *out, size_t n)
{
    if (r == NULL) {
        log_unassigned_read(as, addr, n);
        memset(out, 0xFF, n);
    } else if (r->kind == REGION_IO) {
        for (size_t i = 0; i < n; i++)
            out[i] = (uint8_t)io_read(r, addr + i, 1);
    } else {
        memcpy(out, r->host + (addr - r->base), n);
    }
}

void as_read_buf(AddressSpace *as, uint64_t addr, void *buf, size_t len)
{
    size_t inside = bytes_in_space(as, addr, len);
    uint8_t *out = buf;
    size_t done = 0;

    while (done < inside) {
        const Region *r = find_region(as, addr + done);
        size_t n = chunk_length(as, r, addr + done, inside - done);

        read_chunk(as, r, addr + done, out + done, n);
        done += n;
    }
    if (inside < len) {
        log_beyond_space(as, "read", addr, len);
        memset(out + inside, 0xFF, len - inside);
    }
}

static void write_chunk(const AddressSpace *as, const Region *r, uint64_t addr,
                        const uint8_t *in, size_t n, bool force)
{
    if (r == NULL) {
        log_unassigned_write(as, addr, n);
    } else if (r->kind == REGION_IO) {
        for (size_t i = 0; i < n; i++)
            io_write(r, addr + i, in[i], 1);
    } else if (r->kind == REGION_ROM && !force) {
        log_rom_write(as, r, addr);
    } else {
        memcpy(r->host + (addr - r->base), in, n);
        if (as->code_pages)
            pagetrack_written(as->code_pages, addr, n);
    }
}

void as_write_buf(AddressSpace *as, uint64_t addr, const void *buf,
                  size_t len, bool force)
{
    size_t inside = bytes_in_space(as, addr, len);
    const uint8_t *in = buf;
    size_t done = 0;

    while (done < inside) {
        const Region *r = find_region(as, addr + done);
        size_t n = chunk_length(as, r, addr + done, inside - done);

        write_chunk(as, r, addr + done, in + done, n, force);
        done += n;
    }
    if (inside < len)
        log_beyond_space(as, "write", addr, len);
}

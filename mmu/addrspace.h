/* Address spaces: guest physical memory and the I/O port space.
 *
 * One API serves both (contract 6 of DESIGN.md, "one I/O path").  A space is
 * a sorted set of non-overlapping regions.  A region is RAM or ROM (backed by
 * host memory the caller owns, so guest RAM stays one mmap shared with KVM,
 * snapshots and clones) or I/O (a device's `MemOps` called with the offset
 * into the region).  Every caller, the interpreter, JIT helpers, DMA and KVM
 * exits, goes through as_read/as_write or through a host pointer obtained
 * from as_lookup for RAM.
 *
 * Accesses that hit no region read as all-ones and drop writes, logged under
 * `-d unimp`, as on a PC's floating bus.
 */
#ifndef VIREO_MMU_ADDRSPACE_H
#define VIREO_MMU_ADDRSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmu/pagetrack.h"

/* A device's handlers.  `size` is 1, 2, 4 or 8 and `offset` is relative to
 * the region base.  Reads return the value zero-extended; the dispatcher
 * never hands a device an access that crosses the end of its region. */
typedef struct MemOps {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    /* Largest access the device accepts in one call (0 means 8): wider
     * accesses are split into little-endian pieces by the dispatcher. */
    unsigned max_access;
} MemOps;

typedef enum RegionKind {
    REGION_RAM,  /* reads and writes go to host memory */
    REGION_ROM,  /* reads from host memory, writes dropped (logged) */
    REGION_IO,   /* both go to the device */
} RegionKind;

typedef struct Region {
    const char *name;
    uint64_t base;
    uint64_t length;
    RegionKind kind;
    uint8_t *host;          /* RAM/ROM: host address of `base` */
    const MemOps *ops;      /* IO */
    void *opaque;           /* IO */
} Region;

typedef struct AddressSpace {
    const char *name;       /* "memory" or "io", used in log lines */
    uint64_t size;          /* addresses are < size (2^64 for memory: 0) */
    Region *regions;        /* sorted by base, non-overlapping */
    size_t count;
    size_t capacity;
    size_t last_hit;        /* index of the last region found: a cheap cache */
    uint64_t generation;    /* bumped on every map change, so caches (TLBs)
                               built from lookups know when to flush */
    PageTracker *code_pages; /* NULL, or pages whose writes and remaps must
                               be reported (self-modifying code) */
} AddressSpace;

/* `size` bounds the space: 1 << 16 for ports, 0 for the full 64-bit range. */
void as_init(AddressSpace *as, const char *name, uint64_t size);
void as_destroy(AddressSpace *as);

/* Map a region.  Each returns 0, -EEXIST if it would overlap an existing
 * region (nothing is changed), -EINVAL for a zero length, a range that wraps
 * or leaves the space, or -ENOMEM. */
int as_map_ram(AddressSpace *as, const char *name, uint64_t base,
               uint64_t length, uint8_t *host);
int as_map_rom(AddressSpace *as, const char *name, uint64_t base,
               uint64_t length, uint8_t *host);
int as_map_io(AddressSpace *as, const char *name, uint64_t base,
              uint64_t length, const MemOps *ops, void *opaque);

/* Remove the region that starts exactly at `base`.  Returns 0 or -ENOENT.
 * Used when a PCI BAR moves or PAM remaps the BIOS area. */
int as_unmap(AddressSpace *as, uint64_t base);

/* The region containing `addr`, or NULL.  Pointers stay valid until the
 * next map or unmap. */
const Region *as_lookup(AddressSpace *as, uint64_t addr);

/* The dispatcher.  `size` is 1, 2, 4 or 8; values are little-endian.  An
 * access that spans two regions (or a region and a hole) is split into
 * bytes, so each byte goes where its address says. */
uint64_t as_read(AddressSpace *as, uint64_t addr, unsigned size);
void as_write(AddressSpace *as, uint64_t addr, uint64_t value, unsigned size);

/* Bulk copies for DMA and loaders: RAM/ROM are copied directly, I/O regions
 * byte by byte.  `as_write_buf` ignores ROM write protection when `force`
 * is true, so loaders can place firmware. */
void as_read_buf(AddressSpace *as, uint64_t addr, void *buf, size_t len);
void as_write_buf(AddressSpace *as, uint64_t addr, const void *buf,
                  size_t len, bool force);

#endif

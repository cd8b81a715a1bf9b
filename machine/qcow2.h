/* qcow2: the state shared by the driver's files.
 *
 * Private to machine/qcow2*.c.  Section names in comments refer to QEMU's
 * qcow2 specification, docs/interop/qcow2.txt ("Header", "Header
 * extensions", "Host cluster management", "Cluster mapping", "Compressed
 * Clusters Descriptor", "Snapshots").
 *
 *   qcow2.c           open: header, extensions, feature bits, backing file
 *   qcow2_io.c        reads, writes and discards through L1/L2 tables
 *   qcow2_refcount.c  refcounts, cluster allocation, creating an image
 *
 * Crash consistency.  Refcounts are kept exact on disk (no lazy refcounts,
 * the dirty bit is never set).  Guest data goes to the file at once;
 * metadata changes (refcounts, L2 entries, L1 entries) are kept in memory
 * and written by qcow2_flush, which the guest's flush, a full cache and
 * close call, in an order that never lets an on-disk pointer refer to a
 * cluster whose refcount or contents are not on disk yet:
 *
 *   1. refcount blocks (new allocations)  + the data written so far
 *      fdatasync
 *   2. L2 tables (changed entries, whole new tables)
 *      fdatasync
 *   3. L1 entries (new tables)
 *      fdatasync
 *   4. refcounts of clusters the writes replaced drop by one; only now
 *      may they be allocated again (pending frees wait for this step)
 *
 * An interruption anywhere leaves at worst clusters whose refcount is
 * higher than their references: leaks, which qemu-img check reports and
 * repairs but which corrupt nothing.  What a killed process loses is
 * what the guest had not flushed, as with a disk's write cache.
 *
 * Internal snapshots stay intact because only clusters whose L2 entry (and
 * L2 tables whose L1 entry) carry the COPIED flag, i.e. refcount exactly
 * one, are written in place; anything else is copied first.
 */
#ifndef VIREO_MACHINE_QCOW2_H
#define VIREO_MACHINE_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/block_int.h"

#define QCOW2_MAGIC 0x514649fbu            /* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21          /* 2 MiB, as QEMU */
#define QCOW2_MAX_BACKING_NAME 1023
/* Table limits as QEMU's, so that every image QEMU makes opens here and
 * a corrupt header cannot make us allocate gigabytes. */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)

/* "Header": byte offsets of the fields. */
enum {
    QH_MAGIC = 0, QH_VERSION = 4, QH_BACKING_OFFSET = 8, QH_BACKING_SIZE = 16,
    QH_CLUSTER_BITS = 20, QH_SIZE = 24, QH_CRYPT = 32, QH_L1_SIZE = 36,
    QH_L1_OFFSET = 40, QH_RT_OFFSET = 48, QH_RT_CLUSTERS = 56,
    QH_NB_SNAPSHOTS = 60, QH_SNAPSHOTS_OFFSET = 64,
    QH_INCOMPAT = 72, QH_COMPAT = 80, QH_AUTOCLEAR = 88,
    QH_REFCOUNT_ORDER = 96, QH_HEADER_LENGTH = 100, QH_COMPRESSION = 104,
};

/* incompatible_features */
#define QCOW2_INCOMPAT_DIRTY       (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ull << 4)

/* "Header extensions" */
#define QCOW2_EXT_END          0x00000000u
#define QCOW2_EXT_BACKING_FMT  0xe2792acau
#define QCOW2_EXT_FEATURES     0x6803f857u

/* "Cluster mapping": L1 and L2 entries. */
#define QCOW2_OFLAG_COPIED     (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       (1ull << 0)
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ull   /* bits 9-55 */
#define QCOW2_RT_OFFSET_MASK   0xfffffffffffffe00ull   /* bits 9-63 */

/* L2 tables cached: about 4 MiB of them, at least 4, at most 256. */
#define QCOW2_L2_CACHE_BYTES (4u << 20)
#define QCOW2_L2_CACHE_MIN 4
#define QCOW2_L2_CACHE_MAX 256

typedef struct Qcow2L2 {
    uint64_t offset;       /* host offset of the table; 0: empty slot */
    uint64_t *table;       /* big-endian, as it will be on disk */
    uint64_t used;         /* LRU stamp */
    uint32_t dirty_lo, dirty_hi;   /* entries not yet written; lo == hi: clean */
} Qcow2L2;

typedef struct Qcow2RefBlock {
    uint8_t *data;         /* as on disk; NULL: not loaded yet */
    uint32_t dirty_lo, dirty_hi;   /* bytes not yet written; lo == hi: clean */
} Qcow2RefBlock;

typedef struct Qcow2 {
    BlockImage *img;
    int fd;
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits;              /* log2 of the entries of one L2 table */
    uint64_t size;
    uint64_t incompat, compat, autoclear;
    uint32_t header_length;
    uint32_t compression;          /* 0 deflate, 1 zstd */
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;

    uint64_t *l1;                  /* host byte order */
    uint32_t l1_size;
    uint64_t l1_offset;
    uint32_t l1_dirty_lo, l1_dirty_hi;   /* entries not yet written */

    uint64_t *rt;                  /* refcount table, host byte order */
    uint64_t rt_entries;
    uint64_t rt_offset;
    uint32_t rt_clusters;
    Qcow2RefBlock *rb;             /* one per refcount table entry */
    uint32_t refcount_order;
    uint64_t rb_entries;           /* refcounts in one block */
    uint64_t *rb_dirty;            /* indices of blocks with dirty bytes */
    size_t rb_ndirty, rb_dirty_cap;
    uint64_t free_hint;            /* a cluster index: none below is free */

    Qcow2L2 *l2;                   /* the L2 cache */
    unsigned l2_count, l2_last;
    uint64_t l2_clock;
    uint64_t *pending;             /* L2 entries to free after the next flush */
    size_t npending, pending_cap;

    uint8_t *cbuf;                 /* compressed bytes: up to 2 clusters */
    uint8_t *dbuf;                 /* one decompressed cluster */
    uint64_t dbuf_entry;           /* L2 entry dbuf holds; 0: none */
    void *zstd;                    /* ZSTD_DCtx, made on first use */
    uint8_t *tmp;                  /* one cluster for copy-on-write */

    uint64_t file_end;             /* bytes: the file's end as far as known */
    bool writable;
    bool broken;                   /* found corrupt while running: no writes */
} Qcow2;

/* qcow2.c */
/* Report corrupt metadata found while running (once per image, on
 * stderr), refuse further writes, and return -EIO. */
int qcow2_corrupt(Qcow2 *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int qcow2_write_at(Qcow2 *s, const void *buf, size_t len, uint64_t off);
/* Does [off, off+len) of the file touch the header, the L1 table or the
 * refcount table?  Guards data writes against corrupt pointers. */
bool qcow2_overlaps_metadata(const Qcow2 *s, uint64_t off, uint64_t len);

/* qcow2_io.c */
int qcow2_cache_init(Qcow2 *s);
void qcow2_cache_free(Qcow2 *s);
int qcow2_read(Qcow2 *s, uint64_t off, uint8_t *buf, size_t len);
int qcow2_write(Qcow2 *s, uint64_t off, const uint8_t *buf, size_t len);
int qcow2_discard(Qcow2 *s, uint64_t off, uint64_t len);
/* Write every metadata change, in the order above, and make it durable. */
int qcow2_flush(Qcow2 *s);

/* qcow2_refcount.c */
int qcow2_refcount_open(Qcow2 *s, char *err, size_t errlen);
void qcow2_refcount_close(Qcow2 *s);
int qcow2_refcount_get(Qcow2 *s, uint64_t cluster, uint64_t *rc);
/* Take one cluster whose refcount is 0 and make it 1 (in memory; the
 * next flush writes it).  *off: its byte offset in the file. */
int qcow2_alloc_cluster(Qcow2 *s, uint64_t *off);
/* Drop one reference to each host cluster an L2 entry uses (standard,
 * preallocated zero or compressed).  Call only once the entry is gone
 * from disk (step 4 of qcow2_flush). */
int qcow2_free_entry(Qcow2 *s, uint64_t entry);
int qcow2_free_clusters(Qcow2 *s, uint64_t off, uint64_t count);
/* Write dirty refcount blocks (always safe: increments early only leak,
 * and decrements are made only once nothing on disk needs the cluster),
 * then fdatasync. */
int qcow2_sync(Qcow2 *s);
int qcow2_refcount_writeback(Qcow2 *s);
/* fdatasync, skipped for temporary overlays, which no crash leaves behind. */
int qcow2_datasync(Qcow2 *s);

/* Big-endian helpers. */
static inline uint16_t qcow2_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t qcow2_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t qcow2_be64(const uint8_t *p)
{
    return (uint64_t)qcow2_be32(p) << 32 | qcow2_be32(p + 4);
}

static inline void qcow2_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void qcow2_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void qcow2_put_be64(uint8_t *p, uint64_t v)
{
    qcow2_put_be32(p, (uint32_t)(v >> 32));
    qcow2_put_be32(p + 4, (uint32_t)v);
}

#endif

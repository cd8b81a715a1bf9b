/* qcow2: reads, writes and discards through the L1 and L2 tables.
 *
 * Follows "Cluster mapping" and "Compressed Clusters Descriptor" of QEMU's
 * qcow2 specification (docs/interop/qcow2.txt).  A guest cluster is
 * unallocated (read from the backing file, or zeros), a zero cluster (v3
 * bit 0), a standard cluster, or a compressed one (raw deflate, or zstd
 * with the compression type feature).
 *
 * Writes go in place only to standard clusters whose L2 entry and whose
 * L2 table's L1 entry both say COPIED (refcount exactly one).  Everything
 * else gets a new cluster holding the old contents merged with the new
 * bytes, and the old cluster loses one reference afterwards; that is how
 * internal snapshots, compressed and zero clusters survive writes.  The
 * ordering of those steps is the crash-consistency argument of
 * machine/qcow2.h.
 *
 * L2 tables are cached (LRU) and written back by qcow2_flush, with the
 * L1 entries and the refcounts, in the order machine/qcow2.h describes.
 */
#include "machine/qcow2.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/log.h"

typedef enum ClusterKind { CLUSTER_UNALLOCATED, CLUSTER_ZERO, CLUSTER_NORMAL,
                           CLUSTER_COMPRESSED } ClusterKind;

/* ---- the L2 cache ------------------------------------------------------- */

int qcow2_cache_init(Qcow2 *s)
{
    unsigned n = QCOW2_L2_CACHE_BYTES >> s->cluster_bits;

    if (n < QCOW2_L2_CACHE_MIN)
        n = QCOW2_L2_CACHE_MIN;
    if (n > QCOW2_L2_CACHE_MAX)
        n = QCOW2_L2_CACHE_MAX;
    s->l2 = calloc(n, sizeof(*s->l2));
    s->l2_count = s->l2 ? n : 0;
    return s->l2 ? 0 : -ENOMEM;
}

void qcow2_cache_free(Qcow2 *s)
{
    for (unsigned i = 0; i < s->l2_count; i++)
        free(s->l2[i].table);
    free(s->l2);
    free(s->pending);
    free(s->cbuf);
    free(s->dbuf);
    ZSTD_freeDCtx(s->zstd);
    s->l2 = NULL;
    s->l2_count = 0;
    s->pending = NULL;
    s->cbuf = s->dbuf = NULL;
    s->zstd = NULL;
}

static bool l2_dirty(const Qcow2L2 *e)
{
    return e->dirty_lo != e->dirty_hi;
}

static void l2_mark(Qcow2L2 *e, uint32_t lo, uint32_t hi)
{
    if (!l2_dirty(e)) {
        e->dirty_lo = lo;
        e->dirty_hi = hi;
        return;
    }
    if (lo < e->dirty_lo)
        e->dirty_lo = lo;
    if (hi > e->dirty_hi)
        e->dirty_hi = hi;
}

static Qcow2L2 *l2_find(Qcow2 *s, uint64_t off)
{
    /* Sequential I/O stays in one table: try the last hit first. */
    if (s->l2[s->l2_last].offset == off) {
        s->l2[s->l2_last].used = ++s->l2_clock;
        return &s->l2[s->l2_last];
    }
    for (unsigned i = 0; i < s->l2_count; i++) {
        if (s->l2[i].offset == off) {
            s->l2[i].used = ++s->l2_clock;
            s->l2_last = i;
            return &s->l2[i];
        }
    }
    return NULL;
}

/* A free slot: an empty one, else the least recently used clean one;
 * when every table is dirty, flush first.  Pointers to cached tables
 * are invalid afterwards. */
static int l2_slot(Qcow2 *s, Qcow2L2 **out)
{
    Qcow2L2 *v = NULL;
    int r;

    for (unsigned i = 0; i < s->l2_count; i++) {
        Qcow2L2 *e = &s->l2[i];
        if (e->offset == 0) {
            v = e;
            break;
        }
        if (!l2_dirty(e) && (!v || e->used < v->used))
            v = e;
    }
    if (!v) {
        if ((r = qcow2_flush(s)) < 0)
            return r;
        return l2_slot(s, out);
    }
    if (!v->table && !(v->table = malloc(s->cluster_size)))
        return -ENOMEM;
    v->offset = 0;
    v->dirty_lo = v->dirty_hi = 0;
    v->used = ++s->l2_clock;
    *out = v;
    return 0;
}

static void l2_forget(Qcow2 *s, uint64_t off)
{
    for (unsigned i = 0; i < s->l2_count; i++) {
        if (s->l2[i].offset == off) {
            s->l2[i].offset = 0;
            s->l2[i].dirty_lo = s->l2[i].dirty_hi = 0;
        }
    }
}

static int l2_load(Qcow2 *s, uint64_t off, Qcow2L2 **out)
{
    Qcow2L2 *e = l2_find(s, off);
    ssize_t got;
    int r;

    if (e) {
        *out = e;
        return 0;
    }
    if (off & (s->cluster_size - 1) || qcow2_overlaps_metadata(s, off, s->cluster_size))
        return qcow2_corrupt(s, "L2 table at bad offset %#llx", (unsigned long long)off);
    if ((r = l2_slot(s, &e)) < 0)
        return r;
    got = block_pread_full(s->fd, e->table, s->cluster_size, off);
    if (got != (ssize_t)s->cluster_size)
        return got < 0 ? (int)got
                       : qcow2_corrupt(s, "L2 table at %#llx past the end of the file",
                                       (unsigned long long)off);
    e->offset = off;
    *out = e;
    return 0;
}

/* Free `entry`'s clusters at the next flush, once nothing on disk points
 * at them.  Without memory to remember that, they leak: harmless. */
static void free_later(Qcow2 *s, uint64_t entry)
{
    if (!(entry & (QCOW2_OFLAG_COMPRESSED | QCOW2_OFFSET_MASK)))
        return;
    if (s->npending == s->pending_cap) {
        size_t cap = s->pending_cap ? s->pending_cap * 2 : 64;
        uint64_t *p = realloc(s->pending, cap * sizeof(*p));
        if (!p)
            return;
        s->pending = p;
        s->pending_cap = cap;
    }
    s->pending[s->npending++] = entry;
}

static void l1_mark(Qcow2 *s, uint32_t i)
{
    if (s->l1_dirty_lo == s->l1_dirty_hi) {
        s->l1_dirty_lo = i;
        s->l1_dirty_hi = i + 1;
    } else {
        if (i < s->l1_dirty_lo)
            s->l1_dirty_lo = i;
        if (i + 1 > s->l1_dirty_hi)
            s->l1_dirty_hi = i + 1;
    }
}

int qcow2_flush(Qcow2 *s)
{
    bool meta = s->l1_dirty_lo != s->l1_dirty_hi || s->npending;
    int r;

    if (s->broken)
        return -EIO;
    for (unsigned i = 0; i < s->l2_count && !meta; i++)
        meta = l2_dirty(&s->l2[i]);
    /* 1: refcounts (and the data written so far). */
    if ((r = qcow2_sync(s)) < 0 || !meta)
        return r;
    /* 2: L2 tables. */
    for (unsigned i = 0; i < s->l2_count; i++) {
        Qcow2L2 *e = &s->l2[i];
        if (!l2_dirty(e))
            continue;
        r = qcow2_write_at(s, e->table + e->dirty_lo, (e->dirty_hi - e->dirty_lo) * 8ull,
                           e->offset + e->dirty_lo * 8ull);
        if (r < 0)
            return r;
        e->dirty_lo = e->dirty_hi = 0;
    }
    if ((r = qcow2_datasync(s)) < 0)
        return r;
    /* 3: L1 entries of new tables. */
    if (s->l1_dirty_lo != s->l1_dirty_hi) {
        uint32_t lo = s->l1_dirty_lo, n = s->l1_dirty_hi - lo;
        uint8_t *be = malloc(n * 8ull);
        if (!be)
            return -ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            qcow2_put_be64(be + i * 8, s->l1[lo + i]);
        r = qcow2_write_at(s, be, n * 8ull, s->l1_offset + lo * 8ull);
        free(be);
        if (r == 0)
            r = qcow2_datasync(s);
        if (r < 0)
            return r;
        s->l1_dirty_lo = s->l1_dirty_hi = 0;
    }
    /* 4: what the writes replaced. */
    for (size_t i = 0; i < s->npending && r == 0; i++)
        r = qcow2_free_entry(s, s->pending[i]);
    s->npending = 0;
    return r < 0 ? r : qcow2_refcount_writeback(s);
}

/* ---- mapping ------------------------------------------------------------ */

static int get_entry(Qcow2 *s, uint64_t cluster, uint64_t *entry)
{
    uint64_t l1i = cluster >> s->l2_bits, l2_off;
    Qcow2L2 *t;
    int r;

    *entry = 0;
    if (l1i >= s->l1_size)
        return 0;
    l2_off = s->l1[l1i] & QCOW2_OFFSET_MASK;
    if (l2_off == 0)
        return 0;
    r = l2_load(s, l2_off, &t);
    if (r == 0)
        *entry = be64toh(t->table[cluster & ((1ull << s->l2_bits) - 1)]);
    return r;
}

static int classify(Qcow2 *s, uint64_t entry, uint64_t *host)
{
    *host = entry & QCOW2_OFFSET_MASK;
    if (entry & QCOW2_OFLAG_COMPRESSED)
        return CLUSTER_COMPRESSED;
    if (entry & QCOW2_OFLAG_ZERO)
        return CLUSTER_ZERO;
    if (*host == 0)
        return CLUSTER_UNALLOCATED;
    if (*host & (s->cluster_size - 1))
        return qcow2_corrupt(s, "unaligned cluster offset %#llx",
                             (unsigned long long)*host);
    return CLUSTER_NORMAL;
}

/* ---- compressed clusters ------------------------------------------------ */

static int inflate_cluster(Qcow2 *s, size_t in_len)
{
    z_stream z = {0};
    int r;

    if (inflateInit2(&z, -15) != Z_OK)      /* raw deflate, no zlib header */
        return -ENOMEM;
    z.next_in = s->cbuf;
    z.avail_in = (uInt)in_len;
    z.next_out = s->dbuf;
    z.avail_out = (uInt)s->cluster_size;
    r = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    /* The stream may end in the padding of its last sector, or not be
     * ended at all: only a full cluster matters. */
    return (r == Z_STREAM_END || r == Z_BUF_ERROR || r == Z_OK) && z.avail_out == 0
           ? 0 : -EIO;
}

static int unzstd_cluster(Qcow2 *s, size_t in_len)
{
    ZSTD_inBuffer in = { s->cbuf, in_len, 0 };
    ZSTD_outBuffer out = { s->dbuf, s->cluster_size, 0 };

    if (!s->zstd && !(s->zstd = ZSTD_createDCtx()))
        return -ENOMEM;
    ZSTD_DCtx_reset(s->zstd, ZSTD_reset_session_only);
    while (out.pos < out.size) {
        size_t before_in = in.pos, before_out = out.pos;
        size_t r = ZSTD_decompressStream(s->zstd, &out, &in);
        if (ZSTD_isError(r) || (in.pos == before_in && out.pos == before_out))
            return -EIO;
    }
    return 0;
}

/* Decompress the cluster `entry` describes into s->dbuf. */
static int decompress(Qcow2 *s, uint64_t entry)
{
    unsigned shift = 62 - (s->cluster_bits - 8);
    uint64_t off = entry & ((1ull << shift) - 1);
    uint64_t sectors = ((entry >> shift) & ((1ull << (s->cluster_bits - 8)) - 1)) + 1;
    size_t len = (size_t)(sectors * 512 - (off & 511));
    ssize_t got;
    int r;

    if (s->dbuf_entry == entry)
        return 0;
    if (off >> 56)
        return qcow2_corrupt(s, "compressed cluster offset %#llx out of range",
                             (unsigned long long)off);
    if (!s->cbuf)
        s->cbuf = malloc(2 * s->cluster_size);
    if (!s->dbuf)
        s->dbuf = malloc(s->cluster_size);
    if (!s->cbuf || !s->dbuf)
        return -ENOMEM;
    s->dbuf_entry = 0;
    got = block_pread_full(s->fd, s->cbuf, len, off);
    if (got < 0)
        return (int)got;
    r = s->compression ? unzstd_cluster(s, (size_t)got) : inflate_cluster(s, (size_t)got);
    if (r < 0) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "%s: bad compressed cluster at %#llx\n",
                    s->img->path, (unsigned long long)off);
        return r;
    }
    s->dbuf_entry = entry;
    return 0;
}

/* ---- reads -------------------------------------------------------------- */

static int read_host(Qcow2 *s, uint64_t host, uint8_t *buf, size_t len)
{
    ssize_t got = block_pread_full(s->fd, buf, len, host);

    if (got < 0)
        return (int)got;
    /* Past the end of the file reads as zeros, as the file would. */
    memset(buf + got, 0, len - (size_t)got);
    return 0;
}

/* Bytes of one kind of cluster: [off, off+len) all of kind `kind`. */
static int read_run(Qcow2 *s, int kind, uint64_t entry, uint64_t host,
                    uint64_t off, uint8_t *buf, size_t len)
{
    uint64_t in = off & (s->cluster_size - 1);
    int r;

    switch (kind) {
    case CLUSTER_UNALLOCATED:
        if (s->img->backing)
            return block_image_pread_padded(s->img->backing, off, buf, len);
        memset(buf, 0, len);
        return 0;
    case CLUSTER_ZERO:
        memset(buf, 0, len);
        return 0;
    case CLUSTER_NORMAL:
        return read_host(s, host + in, buf, len);
    default:
        r = decompress(s, entry);
        if (r == 0)
            memcpy(buf, s->dbuf + in, len);
        return r;
    }
}

int qcow2_read(Qcow2 *s, uint64_t off, uint8_t *buf, size_t len)
{
    const uint64_t cs = s->cluster_size, per_table = 1ull << s->l2_bits;

    while (len) {
        uint64_t c = off >> s->cluster_bits, entry, host;
        size_t n = (size_t)(cs - (off & (cs - 1)));
        int kind, r;

        if (n > len)
            n = len;
        if ((r = get_entry(s, c, &entry)) < 0 || (kind = classify(s, entry, &host)) < 0)
            return r < 0 ? r : kind;
        /* Extend the run over following clusters of the same kind (and,
         * for standard ones, contiguous in the file): one host read for a
         * sequentially written file. */
        while (n < len && kind != CLUSTER_COMPRESSED && (++c & (per_table - 1))) {
            uint64_t e2, h2;
            int k2;
            if ((r = get_entry(s, c, &e2)) < 0 || (k2 = classify(s, e2, &h2)) < 0)
                return r < 0 ? r : k2;
            if (k2 != kind || (kind == CLUSTER_NORMAL && h2 != host + n + (off & (cs - 1))))
                break;
            n += len - n < cs ? len - n : (size_t)cs;
        }
        r = read_run(s, kind, entry, host, off, buf, n);
        if (r < 0)
            return r;
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

/* The whole of guest cluster `c` as it reads now, into buf. */
static int read_cluster(Qcow2 *s, uint64_t c, uint64_t entry, uint8_t *buf)
{
    uint64_t host;
    int kind = classify(s, entry, &host);

    if (kind < 0)
        return kind;
    return read_run(s, kind, entry, host, c << s->cluster_bits, buf, s->cluster_size);
}

/* ---- writes ------------------------------------------------------------- */

/* A guest cluster moved to a new host cluster by the current write. */
typedef struct Moved {
    uint32_t index;        /* in its L2 table */
    uint64_t host;
    uint64_t old;          /* the L2 entry it replaces */
} Moved;

static bool writable_in_place(uint64_t l1e, uint64_t entry)
{
    return (l1e & QCOW2_OFLAG_COPIED) && (entry & QCOW2_OFLAG_COPIED) &&
           !(entry & (QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_ZERO)) &&
           (entry & QCOW2_OFFSET_MASK);
}

/* Data first.  In-place writes go straight to their clusters; the rest
 * get a new cluster each (old contents merged in), recorded in moved[]. */
static int write_data(Qcow2 *s, uint64_t off, const uint8_t *buf, size_t len,
                      uint64_t l1e, Moved *moved, size_t *nmoved)
{
    const uint64_t cs = s->cluster_size, mask = (1ull << s->l2_bits) - 1;
    uint64_t l2_off = l1e & QCOW2_OFFSET_MASK;

    while (len) {
        uint64_t c = off >> s->cluster_bits, in = off & (cs - 1), entry = 0;
        size_t n = (size_t)(cs - in) < len ? (size_t)(cs - in) : len;
        Qcow2L2 *t;
        int r = 0;

        if (l2_off && (r = l2_load(s, l2_off, &t)) == 0)
            entry = be64toh(t->table[c & mask]);
        if (r < 0)
            return r;
        if (writable_in_place(l1e, entry)) {
            uint64_t host = entry & QCOW2_OFFSET_MASK;
            if (host & (cs - 1) || qcow2_overlaps_metadata(s, host, cs))
                return qcow2_corrupt(s, "data cluster at bad offset %#llx",
                                     (unsigned long long)host);
            r = qcow2_write_at(s, buf, n, host + in);
        } else {
            uint64_t host;
            r = qcow2_alloc_cluster(s, &host);
            if (r == 0 && n < cs) {
                r = read_cluster(s, c, entry, s->tmp);
                memcpy(s->tmp + in, buf, n);
            }
            if (r == 0)
                r = qcow2_write_at(s, n < cs ? s->tmp : buf, cs, host);
            if (r == 0)
                moved[(*nmoved)++] = (Moved){ (uint32_t)(c & mask), host, entry };
        }
        if (r < 0)
            return r;
        off += n;
        buf += n;
        len -= n;
    }
    return 0;
}

/* Then the mapping, in memory: the L2 table in place if only the active
 * L1 table uses it, else a new copy and a new L1 entry. */
static int write_mapping(Qcow2 *s, uint64_t l1i, const Moved *moved, size_t nmoved)
{
    uint64_t l1e = s->l1[l1i], l2_off = l1e & QCOW2_OFFSET_MASK, t_off;
    Qcow2L2 *t;
    int r;

    if (l2_off && (l1e & QCOW2_OFLAG_COPIED)) {
        if ((r = l2_load(s, l2_off, &t)) < 0)
            return r;
    } else {
        /* Copy the old table aside first: finding a slot may evict it. */
        if (l2_off && (r = l2_load(s, l2_off, &t)) < 0)
            return r;
        if (l2_off)
            memcpy(s->tmp, t->table, s->cluster_size);
        else
            memset(s->tmp, 0, s->cluster_size);
        if ((r = l2_slot(s, &t)) < 0 || (r = qcow2_alloc_cluster(s, &t_off)) < 0)
            return r;
        memcpy(t->table, s->tmp, s->cluster_size);
        t->offset = t_off;
        l2_mark(t, 0, (uint32_t)(s->cluster_size / 8));
        s->l1[l1i] = t_off | QCOW2_OFLAG_COPIED;
        l1_mark(s, (uint32_t)l1i);
        if (l2_off) {
            l2_forget(s, l2_off);
            free_later(s, l2_off);
        }
    }
    for (size_t i = 0; i < nmoved; i++) {
        t->table[moved[i].index] = htobe64(moved[i].host | QCOW2_OFLAG_COPIED);
        l2_mark(t, moved[i].index, moved[i].index + 1);
        free_later(s, moved[i].old);
    }
    return 0;
}

/* A write inside one L2 table's range. */
static int write_chunk(Qcow2 *s, uint64_t off, const uint8_t *buf, size_t len)
{
    uint64_t c0 = off >> s->cluster_bits, l1i = c0 >> s->l2_bits;
    size_t nmoved = 0, nclusters = (size_t)(((off + len - 1) >> s->cluster_bits) - c0 + 1);
    Moved *moved = malloc(nclusters * sizeof(*moved));
    int r;

    if (!moved)
        return -ENOMEM;
    r = write_data(s, off, buf, len, s->l1[l1i], moved, &nmoved);
    if (r == 0 && nmoved)
        r = write_mapping(s, l1i, moved, nmoved);
    free(moved);
    return r;
}

int qcow2_write(Qcow2 *s, uint64_t off, const uint8_t *buf, size_t len)
{
    const uint64_t span = 1ull << (s->l2_bits + s->cluster_bits);

    while (len) {
        uint64_t n = span - (off & (span - 1));
        int r;

        if (n > len)
            n = len;
        r = write_chunk(s, off, buf, (size_t)n);
        if (r < 0)
            return r;
        off += n;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- discard ------------------------------------------------------------ */

/* Whole clusters inside one L2 table: unallocated (or, over a backing
 * file, zero clusters in v3), their host clusters freed at the next
 * flush.  A shared table is left alone: discard is only a hint. */
static int discard_chunk(Qcow2 *s, uint64_t c0, uint64_t count)
{
    uint64_t l1e = s->l1[c0 >> s->l2_bits], l2_off = l1e & QCOW2_OFFSET_MASK;
    uint64_t first = c0 & ((1ull << s->l2_bits) - 1);
    uint64_t fill = s->img->backing ? QCOW2_OFLAG_ZERO : 0;
    Qcow2L2 *t;
    int r;

    if (!l2_off || !(l1e & QCOW2_OFLAG_COPIED) || (s->img->backing && s->version < 3))
        return 0;
    if ((r = l2_load(s, l2_off, &t)) < 0)
        return r;
    for (uint64_t i = first; i < first + count; i++) {
        uint64_t old = be64toh(t->table[i]);
        if (old == fill)
            continue;
        t->table[i] = htobe64(fill);
        l2_mark(t, (uint32_t)i, (uint32_t)i + 1);
        free_later(s, old);
    }
    return 0;
}

int qcow2_discard(Qcow2 *s, uint64_t off, uint64_t len)
{
    const uint64_t cs = s->cluster_size, per_table = 1ull << s->l2_bits;
    uint64_t end = off + len;
    uint64_t c = (off + cs - 1) >> s->cluster_bits;
    /* The last cluster of a disk whose size is not a cluster multiple
     * counts as whole when the range reaches the end of the disk. */
    uint64_t c_end = end == s->size ? (end + cs - 1) >> s->cluster_bits
                                    : end >> s->cluster_bits;

    while (c < c_end) {
        uint64_t n = per_table - (c & (per_table - 1));
        int r;

        if (n > c_end - c)
            n = c_end - c;
        r = discard_chunk(s, c, n);
        if (r < 0)
            return r;
        c += n;
    }
    return 0;
}

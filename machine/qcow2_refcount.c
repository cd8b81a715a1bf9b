/* qcow2: reference counts, cluster allocation and new images.
 *
 * Follows "Host cluster management" of QEMU's qcow2 specification
 * (docs/interop/qcow2.txt): a refcount table of cluster-sized refcount
 * blocks, each entry 1 << refcount_order bits wide (orders 0 to 6; below
 * 8 bits the lowest bits come first within a byte, wider entries are
 * big-endian).
 *
 * Refcount blocks are loaded on first use and kept; changes are made in
 * memory and written back by qcow2_sync before anything that points at
 * the clusters concerned (machine/qcow2.h gives the ordering of a flush).  A new
 * refcount block always describes itself, and a grown refcount table is
 * written in full before the header switches to it, so a crash between
 * any two writes leaves only leaked clusters.
 */
#include "machine/qcow2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A consistent image has no used cluster past its end, except those a
 * crash leaked between a refcount update and the cluster's first write:
 * a few.  Scanning further means corrupt refcounts, not a full disk. */
#define QCOW2_SCAN_PAST_END (1u << 16)

static uint64_t rc_get_raw(const uint8_t *b, unsigned order, uint64_t i)
{
    switch (order) {
    case 3: return b[i];
    case 4: return qcow2_be16(b + 2 * i);
    case 5: return qcow2_be32(b + 4 * i);
    case 6: return qcow2_be64(b + 8 * i);
    default: {
        unsigned bits = 1u << order;
        uint64_t bit = i * bits;
        return (b[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
    }
    }
}

static void rc_set_raw(uint8_t *b, unsigned order, uint64_t i, uint64_t v)
{
    switch (order) {
    case 3: b[i] = (uint8_t)v; break;
    case 4: qcow2_put_be16(b + 2 * i, (uint16_t)v); break;
    case 5: qcow2_put_be32(b + 4 * i, (uint32_t)v); break;
    case 6: qcow2_put_be64(b + 8 * i, v); break;
    default: {
        unsigned bits = 1u << order;
        uint64_t bit = i * bits;
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
        b[bit / 8] = (uint8_t)((b[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
        break;
    }
    }
}

int qcow2_refcount_open(Qcow2 *s, char *err, size_t errlen)
{
    size_t bytes = (size_t)s->rt_clusters << s->cluster_bits;
    ssize_t got;

    s->rb_entries = (s->cluster_size * 8) >> s->refcount_order;
    s->rt_entries = bytes / 8;
    s->rt = malloc(bytes);
    s->rb = calloc(s->rt_entries, sizeof(*s->rb));
    if (!s->rt || !s->rb)
        return -ENOMEM;
    got = block_pread_full(s->fd, s->rt, bytes, s->rt_offset);
    if (got < 0) {
        block_error(err, errlen, s->img->path, "reading the refcount table: %s",
                    strerror((int)-got));
        return (int)got;
    }
    if ((size_t)got != bytes) {
        block_error(err, errlen, s->img->path, "corrupt refcount table (truncated)");
        return -EINVAL;
    }
    for (uint64_t i = 0; i < s->rt_entries; i++)
        s->rt[i] = qcow2_be64((const uint8_t *)&s->rt[i]);
    return 0;
}

void qcow2_refcount_close(Qcow2 *s)
{
    if (s->rb) {
        for (uint64_t i = 0; i < s->rt_entries; i++)
            free(s->rb[i].data);
    }
    free(s->rb);
    free(s->rt);
    free(s->rb_dirty);
    s->rb = NULL;
    s->rt = NULL;
    s->rb_dirty = NULL;
}

/* Load refcount block `bi`; *out is NULL if the table has none there
 * (all its refcounts are 0). */
static int rb_load(Qcow2 *s, uint64_t bi, uint8_t **out)
{
    uint64_t off = s->rt[bi];
    ssize_t got;

    *out = s->rb[bi].data;
    if (*out || off == 0)
        return 0;
    if (off & ~QCOW2_RT_OFFSET_MASK || off & (s->cluster_size - 1) ||
        qcow2_overlaps_metadata(s, off, s->cluster_size))
        return qcow2_corrupt(s, "refcount block %llu at bad offset %#llx",
                             (unsigned long long)bi, (unsigned long long)off);
    uint8_t *data = malloc(s->cluster_size);
    if (!data)
        return -ENOMEM;
    got = block_pread_full(s->fd, data, s->cluster_size, off);
    if (got != (ssize_t)s->cluster_size) {
        free(data);
        return got < 0 ? (int)got
                       : qcow2_corrupt(s, "refcount block %llu past the end of "
                                       "the file", (unsigned long long)bi);
    }
    s->rb[bi].data = data;
    *out = data;
    return 0;
}

static int rb_mark_dirty(Qcow2 *s, uint64_t bi, uint64_t entry)
{
    Qcow2RefBlock *b = &s->rb[bi];
    uint32_t lo = (uint32_t)((entry << s->refcount_order) / 8);
    uint32_t hi = (uint32_t)((((entry + 1) << s->refcount_order) + 7) / 8);

    if (b->dirty_lo == b->dirty_hi) {
        if (s->rb_ndirty == s->rb_dirty_cap) {
            size_t cap = s->rb_dirty_cap ? s->rb_dirty_cap * 2 : 16;
            uint64_t *d = realloc(s->rb_dirty, cap * sizeof(*d));
            if (!d)
                return -ENOMEM;
            s->rb_dirty = d;
            s->rb_dirty_cap = cap;
        }
        s->rb_dirty[s->rb_ndirty++] = bi;
        b->dirty_lo = lo;
        b->dirty_hi = hi;
    } else {
        if (lo < b->dirty_lo)
            b->dirty_lo = lo;
        if (hi > b->dirty_hi)
            b->dirty_hi = hi;
    }
    return 0;
}

int qcow2_refcount_writeback(Qcow2 *s)
{
    while (s->rb_ndirty) {
        uint64_t bi = s->rb_dirty[s->rb_ndirty - 1];
        Qcow2RefBlock *b = &s->rb[bi];
        int r = qcow2_write_at(s, b->data + b->dirty_lo, b->dirty_hi - b->dirty_lo,
                               (s->rt[bi] & QCOW2_RT_OFFSET_MASK) + b->dirty_lo);
        if (r < 0)
            return r;
        b->dirty_lo = b->dirty_hi = 0;
        s->rb_ndirty--;
    }
    return 0;
}

int qcow2_datasync(Qcow2 *s)
{
    if (s->img->temporary)
        return 0;
    while (fdatasync(s->fd) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

int qcow2_sync(Qcow2 *s)
{
    int r = qcow2_refcount_writeback(s);

    return r < 0 ? r : qcow2_datasync(s);
}

int qcow2_refcount_get(Qcow2 *s, uint64_t cluster, uint64_t *rc)
{
    uint64_t bi = cluster / s->rb_entries;
    uint8_t *b;
    int r;

    *rc = 0;
    if (bi >= s->rt_entries)
        return 0;
    r = rb_load(s, bi, &b);
    if (r == 0 && b)
        *rc = rc_get_raw(b, s->refcount_order, cluster % s->rb_entries);
    return r;
}

/* Set the refcount of a cluster whose block is loaded. */
static int rc_set(Qcow2 *s, uint64_t cluster, uint64_t v)
{
    uint64_t bi = cluster / s->rb_entries, i = cluster % s->rb_entries;

    rc_set_raw(s->rb[bi].data, s->refcount_order, i, v);
    return rb_mark_dirty(s, bi, i);
}

int qcow2_free_clusters(Qcow2 *s, uint64_t off, uint64_t count)
{
    for (uint64_t c = off >> s->cluster_bits; count--; c++) {
        uint64_t rc;
        int r = qcow2_refcount_get(s, c, &rc);

        if (r < 0)
            return r;
        if (rc == 0)
            return qcow2_corrupt(s, "cluster %#llx is freed but has no "
                                 "references", (unsigned long long)c << s->cluster_bits);
        r = rc_set(s, c, rc - 1);
        if (r < 0)
            return r;
        if (rc == 1 && c < s->free_hint)
            s->free_hint = c;
    }
    return 0;
}

int qcow2_free_entry(Qcow2 *s, uint64_t entry)
{
    if (entry & QCOW2_OFLAG_COMPRESSED) {
        unsigned shift = 62 - (s->cluster_bits - 8);
        uint64_t off = entry & ((1ull << shift) - 1);
        uint64_t sectors = ((entry >> shift) & ((1ull << (s->cluster_bits - 8)) - 1)) + 1;
        uint64_t first = off >> s->cluster_bits;
        uint64_t last = ((off & ~511ull) + sectors * 512 - 1) >> s->cluster_bits;

        s->dbuf_entry = 0;
        return qcow2_free_clusters(s, first << s->cluster_bits, last - first + 1);
    }
    uint64_t host = entry & QCOW2_OFFSET_MASK;
    if (host == 0)
        return 0;
    if (host & (s->cluster_size - 1))
        return qcow2_corrupt(s, "unaligned cluster offset %#llx",
                             (unsigned long long)host);
    return qcow2_free_clusters(s, host, 1);
}

/* Refcount block `bi` is missing: put one at the first cluster of the
 * range it describes (all free, since their refcounts are 0) and let it
 * count itself.  Written and synced before the table points at it. */
static int rb_create(Qcow2 *s, uint64_t bi)
{
    uint64_t cluster = bi * s->rb_entries, off = cluster << s->cluster_bits;
    uint8_t be[8];
    uint8_t *data;
    int r;

    if (qcow2_overlaps_metadata(s, off, s->cluster_size))
        return qcow2_corrupt(s, "metadata at %#llx has no refcount",
                             (unsigned long long)off);
    data = calloc(1, s->cluster_size);
    if (!data)
        return -ENOMEM;
    rc_set_raw(data, s->refcount_order, 0, 1);
    r = qcow2_write_at(s, data, s->cluster_size, off);
    if (r == 0)
        r = qcow2_sync(s);
    qcow2_put_be64(be, off);
    if (r == 0)
        r = qcow2_write_at(s, be, 8, s->rt_offset + bi * 8);
    if (r < 0) {
        free(data);
        return r;
    }
    s->rt[bi] = off;
    s->rb[bi].data = data;
    return 0;
}

/* The refcount table has no entry for block `need`: write a larger table
 * and the blocks it needs, at the start of block `need`'s range (past
 * everything the old table describes, so all free), then switch the
 * header to it and free the old table.
 *
 *   [block need][block need+1]...[new table ...]
 *
 * k blocks describe the k + table clusters placed there. */
static int rt_grow(Qcow2 *s, uint64_t need)
{
    const uint64_t per_cluster = s->cluster_size / 8;
    uint64_t base = need * s->rb_entries, k = 1, entries, tclusters;
    uint64_t old_off = s->rt_offset, old_clusters = s->rt_clusters;
    uint8_t *blocks = NULL, *table = NULL, hdr[12];
    Qcow2RefBlock *rb = NULL;
    uint64_t *rt = NULL;
    int r = -ENOMEM;

    for (;;) {
        entries = need + k;
        if (entries < s->rt_entries + s->rt_entries / 2)
            entries = s->rt_entries + s->rt_entries / 2;
        tclusters = (entries + per_cluster - 1) / per_cluster;
        entries = tclusters * per_cluster;
        uint64_t k_need = (k + tclusters + s->rb_entries - 1) / s->rb_entries;
        if (k_need <= k)
            break;
        k = k_need;
    }
    if (entries * 8 > QCOW2_MAX_RT_BYTES ||
        base + k + tclusters >= (1ull << (56 - s->cluster_bits)))
        return qcow2_corrupt(s, "refcount table would grow beyond its limit");
    if (qcow2_overlaps_metadata(s, base << s->cluster_bits,
                                (k + tclusters) << s->cluster_bits))
        return qcow2_corrupt(s, "metadata at %#llx has no refcount",
                             (unsigned long long)base << s->cluster_bits);

    blocks = calloc(k, s->cluster_size);
    table = calloc(tclusters, s->cluster_size);
    rt = calloc(entries, sizeof(*rt));
    rb = calloc(entries, sizeof(*rb));
    if (!blocks || !table || !rt || !rb)
        goto out;
    memcpy(rt, s->rt, s->rt_entries * sizeof(*rt));
    for (uint64_t c = 0; c < k + tclusters; c++)
        rc_set_raw(blocks + (c / s->rb_entries) * s->cluster_size, s->refcount_order,
                   c % s->rb_entries, 1);
    for (uint64_t j = 0; j < k; j++)
        rt[need + j] = (base + j) << s->cluster_bits;
    for (uint64_t i = 0; i < entries; i++)
        qcow2_put_be64(table + i * 8, rt[i]);

    r = qcow2_write_at(s, blocks, k * s->cluster_size, base << s->cluster_bits);
    if (r == 0)
        r = qcow2_write_at(s, table, tclusters * s->cluster_size,
                           (base + k) << s->cluster_bits);
    if (r == 0)
        r = qcow2_sync(s);
    qcow2_put_be64(hdr, (base + k) << s->cluster_bits);
    qcow2_put_be32(hdr + 8, (uint32_t)tclusters);
    if (r == 0)
        r = qcow2_write_at(s, hdr, sizeof(hdr), QH_RT_OFFSET);
    if (r == 0)
        r = qcow2_sync(s);
    if (r < 0)
        goto out;

    memcpy(rb, s->rb, s->rt_entries * sizeof(*rb));
    for (uint64_t j = 0; j < k; j++) {
        rb[need + j].data = malloc(s->cluster_size);
        if (rb[need + j].data)
            memcpy(rb[need + j].data, blocks + j * s->cluster_size, s->cluster_size);
    }
    free(s->rb);
    free(s->rt);
    s->rb = rb;
    s->rt = rt;
    s->rt_entries = entries;
    s->rt_offset = (base + k) << s->cluster_bits;
    s->rt_clusters = (uint32_t)tclusters;
    rb = NULL;
    rt = NULL;
    /* The header no longer points at the old table (synced above). */
    r = qcow2_free_clusters(s, old_off, old_clusters);
out:
    free(blocks);
    free(table);
    free(rt);
    free(rb);
    return r;
}

int qcow2_alloc_cluster(Qcow2 *s, uint64_t *off)
{
    const uint64_t limit = 1ull << (56 - s->cluster_bits);
    uint64_t past_end = 0;

    for (uint64_t c = s->free_hint; c < limit;) {
        uint64_t bi = c / s->rb_entries, rc;
        uint8_t *b;
        int r;

        if (bi >= s->rt_entries) {
            r = rt_grow(s, bi);
            if (r < 0)
                return r;
            continue;
        }
        r = rb_load(s, bi, &b);
        if (r == 0 && !b)
            r = rb_create(s, bi);
        if (r < 0)
            return r;
        if (!b)
            continue;
        rc = rc_get_raw(b, s->refcount_order, c % s->rb_entries);
        if (rc == 0) {
            if (qcow2_overlaps_metadata(s, c << s->cluster_bits, s->cluster_size))
                return qcow2_corrupt(s, "metadata at %#llx has refcount 0",
                                     (unsigned long long)c << s->cluster_bits);
            r = rc_set(s, c, 1);
            if (r < 0)
                return r;
            s->free_hint = c + 1;
            *off = c << s->cluster_bits;
            return 0;
        }
        if ((c << s->cluster_bits) >= s->file_end && ++past_end > QCOW2_SCAN_PAST_END)
            return qcow2_corrupt(s, "clusters past the end of the file are in use");
        c++;
    }
    return -ENOSPC;
}

/* "Header" of a fresh version 3 image: cluster 0 header, 1 refcount
 * table, 2 refcount block, 3... L1 table. */
int qcow2_create(int fd, uint64_t size, char *err, size_t errlen)
{
    const unsigned cb = 16;
    const uint64_t cs = 1ull << cb, per_l1 = cs / 8 * cs;
    uint64_t l1_size = size / per_l1 + (size % per_l1 != 0);
    uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs;
    uint64_t total = 3 + (l1_clusters ? l1_clusters : 1);
    uint8_t *buf;
    int r;

    if (l1_size > QCOW2_MAX_L1_BYTES / 8 || total > cs * 8 / 16) {
        block_error(err, errlen, "qcow2", "disk size %llu is too large",
                    (unsigned long long)size);
        return -EFBIG;
    }
    buf = calloc(3, cs);
    if (!buf)
        return -ENOMEM;
    qcow2_put_be32(buf + QH_MAGIC, QCOW2_MAGIC);
    qcow2_put_be32(buf + QH_VERSION, 3);
    qcow2_put_be32(buf + QH_CLUSTER_BITS, cb);
    qcow2_put_be64(buf + QH_SIZE, size);
    qcow2_put_be32(buf + QH_L1_SIZE, (uint32_t)l1_size);
    qcow2_put_be64(buf + QH_L1_OFFSET, 3 * cs);
    qcow2_put_be64(buf + QH_RT_OFFSET, cs);
    qcow2_put_be32(buf + QH_RT_CLUSTERS, 1);
    qcow2_put_be32(buf + QH_REFCOUNT_ORDER, 4);
    qcow2_put_be32(buf + QH_HEADER_LENGTH, QCOW2_V3_HEADER_LEN);
    qcow2_put_be64(buf + cs, 2 * cs);
    for (uint64_t c = 0; c < total; c++)
        qcow2_put_be16(buf + 2 * cs + 2 * c, 1);
    r = ftruncate(fd, (off_t)(total * cs)) < 0 ? -errno : 0;
    if (r == 0)
        r = block_pwrite_full(fd, buf, 3 * cs, 0);
    free(buf);
    if (r < 0)
        block_error(err, errlen, "qcow2", "creating an image: %s", strerror(-r));
    return r;
}

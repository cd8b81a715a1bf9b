/* qcow2: opening an image and checking its header.
 *
 * Follows QEMU's qcow2 specification (docs/interop/qcow2.txt), sections
 * "Header" (versions 2 and 3, feature bits, additional fields),
 * "Header extensions", "Feature name table" and "String header
 * extensions".  Everything a header says is checked against the file
 * before it is used, so that a corrupt or hostile image gets one line
 * naming the problem and never an out-of-bounds access or a huge
 * allocation.  See machine/qcow2.h for the on-disk ordering rules.
 */
#include "machine/qcow2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/block.h"

/* Incompatible features this driver understands (for some, only to say
 * clearly that it refuses them). */
#define QCOW2_INCOMPAT_KNOWN                                               \
    (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATA_FILE | \
     QCOW2_INCOMPAT_COMPRESSION | QCOW2_INCOMPAT_EXTL2)

#define QCOW2_FEATURE_NAME_LEN 46

/* What the header extensions told us. */
typedef struct Qcow2Ext {
    char backing_fmt[32];
    bool has_backing_fmt;
    const uint8_t *features;   /* the feature name table, inside the header */
    size_t nfeatures;
} Qcow2Ext;

int qcow2_corrupt(Qcow2 *s, const char *fmt, ...)
{
    if (!s->broken && !block_quiet) {
        va_list ap;

        fprintf(stderr, "vireo: %s: corrupt qcow2 image: ", s->img->path);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s\n", s->writable ? "; no further writes to it" : "");
    }
    s->broken = true;
    return -EIO;
}

int qcow2_write_at(Qcow2 *s, const void *buf, size_t len, uint64_t off)
{
    int r = block_pwrite_full(s->fd, buf, len, off);

    if (r == 0 && off + len > s->file_end)
        s->file_end = off + len;
    return r;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

bool qcow2_overlaps_metadata(const Qcow2 *s, uint64_t off, uint64_t len)
{
    return ranges_overlap(off, len, 0, s->cluster_size) ||
           ranges_overlap(off, len, s->l1_offset, (uint64_t)s->l1_size * 8) ||
           ranges_overlap(off, len, s->rt_offset,
                          (uint64_t)s->rt_clusters << s->cluster_bits);
}

/* The name a feature name table gives incompatible bit `bit`, or NULL. */
static const char *feature_name(const Qcow2Ext *ext, unsigned bit, char *buf)
{
    for (size_t i = 0; i < ext->nfeatures; i++) {
        const uint8_t *f = ext->features + i * 48;
        if (f[0] == 0 && f[1] == bit) {
            memcpy(buf, f + 2, QCOW2_FEATURE_NAME_LEN);
            buf[QCOW2_FEATURE_NAME_LEN] = '\0';
            for (char *c = buf; *c; c++) {
                if (*c < 0x20 || *c > 0x7e)
                    *c = '?';
            }
            return buf[0] ? buf : NULL;
        }
    }
    return NULL;
}

/* "Header extensions": from the end of the header to the end of the
 * first cluster, each {type, length, data padded to 8}. */
static int parse_extensions(Qcow2 *s, const uint8_t *hdr, uint64_t end,
                            Qcow2Ext *ext, char *err, size_t errlen)
{
    const char *path = s->img->path;
    uint64_t pos = s->header_length;

    while (pos + 8 <= end) {
        uint32_t type = qcow2_be32(hdr + pos);
        uint32_t len = qcow2_be32(hdr + pos + 4);

        pos += 8;
        if (type == QCOW2_EXT_END)
            return 0;
        if (len > end - pos) {
            block_error(err, errlen, path, "corrupt header extension %#x "
                        "(length %u runs past the first cluster)", type, len);
            return -EINVAL;
        }
        if (type == QCOW2_EXT_BACKING_FMT) {
            if (len == 0 || len >= sizeof(ext->backing_fmt) ||
                memchr(hdr + pos, '\0', len)) {
                block_error(err, errlen, path, "corrupt backing format extension");
                return -EINVAL;
            }
            memcpy(ext->backing_fmt, hdr + pos, len);
            ext->backing_fmt[len] = '\0';
            ext->has_backing_fmt = true;
        } else if (type == QCOW2_EXT_FEATURES) {
            ext->features = hdr + pos;
            ext->nfeatures = len / 48;
        }
        /* Anything else (bitmaps, encryption, external data file,
         * unknown types) is left as it is: we never rewrite this area. */
        pos += ((uint64_t)len + 7) & ~7ull;
    }
    return 0;
}

/* Incompatible, compatible and autoclear bits: refuse what we cannot
 * honour, with the feature's name. */
static int check_features(Qcow2 *s, const uint8_t *hdr, const Qcow2Ext *ext,
                          char *err, size_t errlen)
{
    const char *path = s->img->path;
    uint64_t unknown = s->incompat & ~QCOW2_INCOMPAT_KNOWN;
    char name[QCOW2_FEATURE_NAME_LEN + 1];

    if (unknown) {
        unsigned bit = (unsigned)__builtin_ctzll(unknown);
        const char *n = feature_name(ext, bit, name);
        if (n)
            block_error(err, errlen, path, "unsupported qcow2 feature '%s'", n);
        else
            block_error(err, errlen, path, "unsupported qcow2 feature "
                        "(incompatible feature bit %u)", bit);
        return -ENOTSUP;
    }
    if (s->incompat & QCOW2_INCOMPAT_DATA_FILE) {
        block_error(err, errlen, path, "external data files are not supported");
        return -ENOTSUP;
    }
    if (s->incompat & QCOW2_INCOMPAT_EXTL2) {
        block_error(err, errlen, path,
                    "extended L2 entries (subclusters) are not supported");
        return -ENOTSUP;
    }
    s->compression = s->header_length > QH_COMPRESSION ? hdr[QH_COMPRESSION] : 0;
    if (s->incompat & QCOW2_INCOMPAT_COMPRESSION) {
        if (s->compression != 1) {
            block_error(err, errlen, path, "unsupported compression type %u "
                        "(deflate, zstd)", s->compression);
            return -ENOTSUP;
        }
    } else if (s->compression != 0) {
        block_error(err, errlen, path, "corrupt header: compression type %u "
                    "without the compression type feature bit", s->compression);
        return -EINVAL;
    }
    if (!s->writable)
        return 0;
    /* Both bits mean the refcounts cannot be trusted; writing would
     * allocate clusters that are in use.  Reading needs no refcounts. */
    if (s->incompat & QCOW2_INCOMPAT_DIRTY) {
        block_error(err, errlen, path, "image was not closed cleanly (dirty "
                    "bit set); repair it with 'qemu-img check -r all' or open "
                    "it read-only");
        return -EINVAL;
    }
    if (s->incompat & QCOW2_INCOMPAT_CORRUPT) {
        block_error(err, errlen, path, "image is marked corrupt; repair it "
                    "with 'qemu-img check -r all' or open it read-only");
        return -EINVAL;
    }
    return 0;
}

/* The fixed header fields: version, cluster size, encryption, sizes. */
static int check_header(Qcow2 *s, const uint8_t *hdr, ssize_t got,
                        char *err, size_t errlen)
{
    const char *path = s->img->path;

    if (got < QCOW2_V2_HEADER_LEN || qcow2_be32(hdr + QH_MAGIC) != QCOW2_MAGIC) {
        block_error(err, errlen, path, got < 4 || qcow2_be32(hdr) != QCOW2_MAGIC
                    ? "not a qcow2 image (bad magic)" : "truncated qcow2 header");
        return -EINVAL;
    }
    s->version = qcow2_be32(hdr + QH_VERSION);
    if (s->version != 2 && s->version != 3) {
        block_error(err, errlen, path, "unsupported qcow2 version %u (2, 3)",
                    s->version);
        return -ENOTSUP;
    }
    if (s->version == 3 && got < QCOW2_V3_HEADER_LEN) {
        block_error(err, errlen, path, "truncated qcow2 header");
        return -EINVAL;
    }
    s->cluster_bits = qcow2_be32(hdr + QH_CLUSTER_BITS);
    if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
        s->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        block_error(err, errlen, path, "unsupported cluster size (cluster_bits "
                    "%u, 9..21)", s->cluster_bits);
        return -ENOTSUP;
    }
    s->cluster_size = 1ull << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    if (qcow2_be32(hdr + QH_CRYPT) != 0) {
        block_error(err, errlen, path, "encrypted qcow2 images are not "
                    "supported (crypt_method %u)", qcow2_be32(hdr + QH_CRYPT));
        return -ENOTSUP;
    }
    if (s->version == 2) {
        s->refcount_order = 4;
        s->header_length = QCOW2_V2_HEADER_LEN;
        return 0;
    }
    s->incompat = qcow2_be64(hdr + QH_INCOMPAT);
    s->compat = qcow2_be64(hdr + QH_COMPAT);
    s->autoclear = qcow2_be64(hdr + QH_AUTOCLEAR);
    s->refcount_order = qcow2_be32(hdr + QH_REFCOUNT_ORDER);
    s->header_length = qcow2_be32(hdr + QH_HEADER_LENGTH);
    if (s->header_length < QCOW2_V3_HEADER_LEN || s->header_length % 8 ||
        s->header_length > s->cluster_size) {
        block_error(err, errlen, path, "corrupt header length %u",
                    s->header_length);
        return -EINVAL;
    }
    if (s->refcount_order > 6) {
        block_error(err, errlen, path, "corrupt refcount order %u (0..6)",
                    s->refcount_order);
        return -EINVAL;
    }
    return 0;
}

/* A table of `bytes` at `off` must be cluster aligned, clear of the
 * header and inside the file. */
static int check_table(Qcow2 *s, const char *what, uint64_t off, uint64_t bytes,
                       char *err, size_t errlen)
{
    const char *path = s->img->path;

    if (off == 0 || off % s->cluster_size) {
        block_error(err, errlen, path, "corrupt %s offset %#llx (%s)", what,
                    (unsigned long long)off, off ? "unaligned" : "the header");
        return -EINVAL;
    }
    if (off > s->file_end || bytes > s->file_end - off) {
        block_error(err, errlen, path, "corrupt %s offset %#llx (beyond the "
                    "end of the file)", what, (unsigned long long)off);
        return -EINVAL;
    }
    return 0;
}

/* The virtual size, the active L1 table and the snapshot table. */
static int load_tables(Qcow2 *s, const uint8_t *hdr, char *err, size_t errlen)
{
    const char *path = s->img->path;
    uint64_t clusters, l1_needed;
    int r;

    s->size = qcow2_be64(hdr + QH_SIZE);
    clusters = (s->size >> s->cluster_bits) + ((s->size & (s->cluster_size - 1)) != 0);
    l1_needed = (clusters >> s->l2_bits) + ((clusters & ((1ull << s->l2_bits) - 1)) != 0);
    if (l1_needed > QCOW2_MAX_L1_BYTES / 8) {
        block_error(err, errlen, path, "disk size %llu is too large for %llu-byte "
                    "clusters", (unsigned long long)s->size,
                    (unsigned long long)s->cluster_size);
        return -EFBIG;
    }
    s->l1_size = qcow2_be32(hdr + QH_L1_SIZE);
    s->l1_offset = qcow2_be64(hdr + QH_L1_OFFSET);
    if (s->l1_size > QCOW2_MAX_L1_BYTES / 8) {
        block_error(err, errlen, path, "corrupt L1 table size %u (too large)",
                    s->l1_size);
        return -EINVAL;
    }
    if (s->l1_size < l1_needed) {
        block_error(err, errlen, path, "corrupt L1 table size %u (too small "
                    "for the disk size)", s->l1_size);
        return -EINVAL;
    }
    if (s->l1_size) {
        r = check_table(s, "L1 table", s->l1_offset, (uint64_t)s->l1_size * 8, err, errlen);
        if (r < 0)
            return r;
    }
    s->nb_snapshots = qcow2_be32(hdr + QH_NB_SNAPSHOTS);
    s->snapshots_offset = qcow2_be64(hdr + QH_SNAPSHOTS_OFFSET);
    /* Snapshots are kept intact (copy on write of shared clusters) but
     * never parsed; their table must at least lie in the file. */
    if (s->nb_snapshots) {
        r = check_table(s, "snapshot table", s->snapshots_offset, 40, err, errlen);
        if (r < 0)
            return r;
    }
    s->rt_offset = qcow2_be64(hdr + QH_RT_OFFSET);
    s->rt_clusters = qcow2_be32(hdr + QH_RT_CLUSTERS);
    if (s->rt_clusters == 0 ||
        s->rt_clusters > QCOW2_MAX_RT_BYTES >> s->cluster_bits) {
        block_error(err, errlen, path, "corrupt refcount table size (%u clusters)",
                    s->rt_clusters);
        return -EINVAL;
    }
    r = check_table(s, "refcount table", s->rt_offset,
                    (uint64_t)s->rt_clusters << s->cluster_bits, err, errlen);
    if (r < 0)
        return r;

    s->l1 = calloc(s->l1_size ? s->l1_size : 1, sizeof(*s->l1));
    if (!s->l1)
        return -ENOMEM;
    if (s->l1_size) {
        size_t bytes = (size_t)s->l1_size * 8;
        ssize_t got = block_pread_full(s->fd, s->l1, bytes, s->l1_offset);
        if (got < 0) {
            block_error(err, errlen, path, "reading the L1 table: %s", strerror((int)-got));
            return (int)got;
        }
        if ((size_t)got != bytes) {
            block_error(err, errlen, path, "corrupt L1 table (truncated)");
            return -EINVAL;
        }
        for (uint32_t i = 0; i < s->l1_size; i++)
            s->l1[i] = qcow2_be64((const uint8_t *)&s->l1[i]);
    }
    return 0;
}

/* The backing file named in the header, relative to this image's folder. */
static int open_backing(Qcow2 *s, const uint8_t *hdr, const Qcow2Ext *ext,
                        char *err, size_t errlen)
{
    BlockImage *img = s->img;
    uint64_t off = qcow2_be64(hdr + QH_BACKING_OFFSET);
    uint32_t len = qcow2_be32(hdr + QH_BACKING_SIZE);
    char name[QCOW2_MAX_BACKING_NAME + 1], *full;
    const char *slash, *fmt = NULL;
    char inner[512];
    int r;

    if (off == 0 || len == 0 || img->backing)
        return 0;
    if (len > QCOW2_MAX_BACKING_NAME || off >= s->cluster_size ||
        len > s->cluster_size - off || memchr(hdr + off, '\0', len)) {
        block_error(err, errlen, img->path, "corrupt backing file name");
        return -EINVAL;
    }
    memcpy(name, hdr + off, len);
    name[len] = '\0';
    if (ext->has_backing_fmt) {
        if (strcmp(ext->backing_fmt, "raw") && strcmp(ext->backing_fmt, "qcow2")) {
            block_error(err, errlen, img->path, "backing file %s: format '%s' "
                        "is not supported (raw, qcow2)", name, ext->backing_fmt);
            return -ENOTSUP;
        }
        fmt = ext->backing_fmt;
    }
    slash = strrchr(img->path, '/');
    if (name[0] == '/' || !slash) {
        full = strdup(name);
    } else {
        int dirlen = (int)(slash - img->path);
        size_t n = (size_t)dirlen + 1 + len + 1;
        full = malloc(n);
        if (full)
            snprintf(full, n, "%.*s/%s", dirlen, img->path, name);
    }
    if (!full)
        return -ENOMEM;
    r = block_image_open(full, fmt, true, img, &img->backing, inner, sizeof(inner));
    free(full);
    if (r < 0)
        block_error(err, errlen, img->path, "backing file %s", inner);
    return r;
}

static int qcow2_drv_pread(BlockImage *img, uint64_t off, void *buf, size_t len)
{
    return qcow2_read(img->opaque, off, buf, len);
}

static int qcow2_drv_pwrite(BlockImage *img, uint64_t off, const void *buf, size_t len)
{
    Qcow2 *s = img->opaque;

    if (!s->writable)
        return -EROFS;
    if (s->broken)
        return -EIO;
    return qcow2_write(s, off, buf, len);
}

static int qcow2_drv_flush(BlockImage *img)
{
    Qcow2 *s = img->opaque;

    return s->writable ? qcow2_flush(s) : 0;
}

static int qcow2_drv_discard(BlockImage *img, uint64_t off, uint64_t len)
{
    Qcow2 *s = img->opaque;

    if (!s->writable)
        return -EROFS;
    if (s->broken)
        return -EIO;
    return qcow2_discard(s, off, len);
}

static void qcow2_free_state(Qcow2 *s)
{
    qcow2_cache_free(s);
    qcow2_refcount_close(s);
    free(s->l1);
    free(s->tmp);
    free(s);
}

static void qcow2_drv_close(BlockImage *img)
{
    Qcow2 *s = img->opaque;

    if (!s)
        return;
    if (s->writable && !s->broken)
        qcow2_flush(s);
    qcow2_free_state(s);
    img->opaque = NULL;
}

const BlockDriver block_qcow2_driver = {
    .name = "qcow2",
    .pread = qcow2_drv_pread,
    .pwrite = qcow2_drv_pwrite,
    .flush = qcow2_drv_flush,
    .discard = qcow2_drv_discard,
    .close = qcow2_drv_close,
};

/* A writer must clear the autoclear bits it does not maintain ("Header",
 * autoclear_features): we keep no bitmaps, so all of them. */
static int clear_autoclear(Qcow2 *s, char *err, size_t errlen)
{
    uint8_t zero[8] = {0};
    int r;

    if (s->version < 3 || !s->autoclear || !s->writable)
        return 0;
    r = qcow2_write_at(s, zero, sizeof(zero), QH_AUTOCLEAR);
    if (r == 0 && !s->img->temporary && fdatasync(s->fd) < 0)
        r = -errno;
    if (r < 0)
        block_error(err, errlen, s->img->path, "updating the header: %s", strerror(-r));
    s->autoclear = 0;
    return r;
}

int qcow2_open(BlockImage *img, char *err, size_t errlen)
{
    Qcow2 *s = calloc(1, sizeof(*s));
    uint8_t fixed[QH_COMPRESSION + 8] = {0}, *hdr = NULL;
    Qcow2Ext ext = {0};
    struct stat st;
    ssize_t got;
    int r;

    if (!s)
        return -ENOMEM;
    s->img = img;
    s->fd = img->fd;
    s->writable = !img->readonly;
    if (fstat(s->fd, &st) < 0) {
        r = -errno;
        block_error(err, errlen, img->path, "%s", strerror(errno));
        goto fail;
    }
    s->file_end = (uint64_t)st.st_size;

    /* The first cluster holds the header, its extensions and the backing
     * file name: read the fixed fields, check them, then the cluster. */
    got = block_pread_full(s->fd, fixed, sizeof(fixed), 0);
    if (got < 0) {
        r = (int)got;
        block_error(err, errlen, img->path, "%s", strerror((int)-got));
        goto fail;
    }
    r = check_header(s, fixed, got, err, errlen);
    if (r < 0)
        goto fail;
    hdr = calloc(1, s->cluster_size);
    r = -ENOMEM;
    if (!hdr)
        goto fail;
    got = block_pread_full(s->fd, hdr, s->cluster_size, 0);
    r = got < 0 ? (int)got : 0;
    if (r < 0)
        block_error(err, errlen, img->path, "%s", strerror(-r));
    if (r == 0)
        r = parse_extensions(s, hdr, s->cluster_size, &ext, err, errlen);
    if (r == 0)
        r = check_features(s, hdr, &ext, err, errlen);
    if (r == 0)
        r = load_tables(s, hdr, err, errlen);
    if (r == 0)
        r = qcow2_refcount_open(s, err, errlen);
    if (r == 0)
        r = open_backing(s, hdr, &ext, err, errlen);
    if (r == 0)
        r = clear_autoclear(s, err, errlen);
    if (r < 0)
        goto fail;
    s->tmp = malloc(s->cluster_size);
    r = s->tmp ? qcow2_cache_init(s) : -ENOMEM;
    if (r < 0)
        goto fail;
    free(hdr);
    img->drv = &block_qcow2_driver;
    img->opaque = s;
    img->size = s->size;
    return 0;
fail:
    if (r == -ENOMEM && err && errlen && !err[0])
        block_error(err, errlen, img->path, "out of memory");
    free(hdr);
    qcow2_free_state(s);
    return r;
}

/* The generic state walker (contract 3 of DESIGN.md: state is plain data,
 * described by tables).  See machine/state.h for the field tables.
 *
 * A section, every integer little-endian whatever the host:
 *
 *     u32  magic 'VSTS' (0x53545356: the bytes "VSTS")
 *     u16  name length, then the name bytes (no NUL)
 *     u32  version
 *     u64  fingerprint: xxHash64 of the field table (names, types, counts,
 *          nested tables), so that a layout change without a version bump
 *          is still caught
 *     u64  payload length
 *     ...  payload: every element of every field in table order, at its
 *          natural width (1, 2, 4 or 8 bytes), nested structs in place
 *
 * Padding and fields left out of the table are never written; a load keeps
 * what the target already holds there.  Saving, hashing and diffing share
 * one encoder: the bytes hashed are exactly the payload bytes saved.
 */
#include "machine/state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY   /* XXH64_state_t on the stack */
#include <xxhash.h>

#define STATE_MAGIC 0x53545356u
/* magic + name length + version + fingerprint + payload length */
#define STATE_HEADER_FIXED (4 + 2 + 4 + 8 + 8)
#define STATE_NAME_SHOWN 64       /* longest foreign name put in an error */

/* ---- field tables -------------------------------------------------------- */

static unsigned field_width(StateFieldType type)
{
    switch (type) {
    case FIELD_U8:  return 1;
    case FIELD_U16: return 2;
    case FIELD_U32: return 4;
    case FIELD_U64: return 8;
    default:        return 0;
    }
}

static uint64_t payload_size(const StateDesc *desc)
{
    uint64_t total = 0;

    for (const StateField *f = desc->fields; f->type != FIELD_END; f++) {
        uint64_t elem = f->type == FIELD_STRUCT ? payload_size(f->sub)
                                                : field_width(f->type);
        total += elem * f->count;
    }
    return total;
}

/* Size in host memory of one element of `f`, or 0 if the type is bogus. */
static size_t field_elem_size(const StateField *f)
{
    if (f->type == FIELD_STRUCT)
        return f->sub ? f->sub->size : 0;
    return field_width(f->type);
}

/* The first field (at any depth) whose elements would not lie inside the
 * struct, or NULL if the table is sound.  Catches a table that disagrees
 * with its struct before any byte is read through it. */
static const StateField *desc_bad_field(const StateDesc *desc)
{
    for (const StateField *f = desc->fields; f->type != FIELD_END; f++) {
        size_t elem = field_elem_size(f);

        if (elem == 0)
            return f;
        if (f->count == 0)
            continue;
        if (f->count > 1 && f->stride < elem)
            return f;
        if (f->offset > desc->size ||
            (f->count - 1) * f->stride + elem > desc->size - f->offset)
            return f;
        if (f->type == FIELD_STRUCT) {
            const StateField *bad = desc_bad_field(f->sub);
            if (bad)
                return bad;
        }
    }
    return NULL;
}

static void put_le_bytes(uint8_t *p, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le_bytes(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Fields are read and written with memcpy: they need not be aligned. */
static uint64_t host_read(const uint8_t *p, unsigned width)
{
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;

    switch (width) {
    case 1: memcpy(&v8, p, 1); return v8;
    case 2: memcpy(&v16, p, 2); return v16;
    case 4: memcpy(&v32, p, 4); return v32;
    default: memcpy(&v64, p, 8); return v64;
    }
}

static void host_write(uint8_t *p, unsigned width, uint64_t v)
{
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;

    switch (width) {
    case 1: memcpy(p, &v8, 1); break;
    case 2: memcpy(p, &v16, 2); break;
    case 4: memcpy(p, &v32, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

/* One record per field: name length, name, type, count; each table ends
 * with a FIELD_END byte so that nesting boundaries are part of the hash. */
static void fingerprint_table(const StateDesc *desc, XXH64_state_t *h)
{
    uint8_t rec[2 + 1 + 8];

    for (const StateField *f = desc->fields; f->type != FIELD_END; f++) {
        size_t name_len = strlen(f->name);

        put_le_bytes(rec, name_len, 2);
        XXH64_update(h, rec, 2);
        XXH64_update(h, f->name, name_len);
        rec[0] = (uint8_t)f->type;
        put_le_bytes(rec + 1, f->count, 8);
        XXH64_update(h, rec, 9);
        if (f->type == FIELD_STRUCT)
            fingerprint_table(f->sub, h);
    }
    rec[0] = FIELD_END;
    XXH64_update(h, rec, 1);
}

static uint64_t fingerprint(const StateDesc *desc)
{
    XXH64_state_t h;

    XXH64_reset(&h, 0);
    fingerprint_table(desc, &h);
    return XXH64_digest(&h);
}

/* ---- encoding ------------------------------------------------------------ */

/* Writes into [start, end).  With `hash` set the window is a scratch chunk
 * that is hashed and reused when full; without, it is the whole output. */
typedef struct Emitter {
    uint8_t *start, *out, *end;
    XXH64_state_t *hash;
} Emitter;

static void emit_flush(Emitter *e)
{
    if (e->hash)
        XXH64_update(e->hash, e->start, (size_t)(e->out - e->start));
    e->out = e->start;
}

static void emit_le(Emitter *e, uint64_t v, unsigned width)
{
    if ((size_t)(e->end - e->out) < width)
        emit_flush(e);
    put_le_bytes(e->out, v, width);
    e->out += width;
}

static void emit_bytes(Emitter *e, const uint8_t *p, size_t n)
{
    while (n) {
        if (e->out == e->end)
            emit_flush(e);
        size_t k = (size_t)(e->end - e->out);
        k = k < n ? k : n;
        memcpy(e->out, p, k);
        e->out += k;
        p += k;
        n -= k;
    }
}

static void encode_struct(const StateDesc *desc, const uint8_t *base,
                          Emitter *e)
{
    for (const StateField *f = desc->fields; f->type != FIELD_END; f++) {
        const uint8_t *elem = base + f->offset;
        unsigned width = field_width(f->type);

        if (f->type == FIELD_U8 && f->stride == 1) {
            emit_bytes(e, elem, f->count);   /* byte arrays: RAM-like bulk */
            continue;
        }
        for (size_t i = 0; i < f->count; i++, elem += f->stride) {
            if (f->type == FIELD_STRUCT)
                encode_struct(f->sub, elem, e);
            else
                emit_le(e, host_read(elem, width), width);
        }
    }
}

/* The reader is only used on a payload already checked to be complete. */
static void decode_struct(const StateDesc *desc, uint8_t *base,
                          const uint8_t **in)
{
    for (const StateField *f = desc->fields; f->type != FIELD_END; f++) {
        uint8_t *elem = base + f->offset;
        unsigned width = field_width(f->type);

        if (f->type == FIELD_U8 && f->stride == 1) {
            memcpy(elem, *in, f->count);
            *in += f->count;
            continue;
        }
        for (size_t i = 0; i < f->count; i++, elem += f->stride) {
            if (f->type == FIELD_STRUCT) {
                decode_struct(f->sub, elem, in);
            } else {
                host_write(elem, width, get_le_bytes(*in, width));
                *in += width;
            }
        }
    }
}

/* ---- save ---------------------------------------------------------------- */

void statebuf_free(StateBuf *b)
{
    free(b->data);
    *b = (StateBuf){0};
}

static int statebuf_reserve(StateBuf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *data = realloc(b->data, cap);
    if (!data)
        return -ENOMEM;
    b->data = data;
    b->cap = cap;
    return 0;
}

int state_save(const StateDesc *desc, const void *state, StateBuf *out)
{
    size_t name_len = strlen(desc->name);
    uint64_t plen = payload_size(desc);

    if (name_len > UINT16_MAX || desc_bad_field(desc))
        return -EINVAL;
    if (plen > SIZE_MAX - STATE_HEADER_FIXED - name_len)
        return -ENOMEM;
    size_t total = STATE_HEADER_FIXED + name_len + (size_t)plen;
    if (statebuf_reserve(out, total))
        return -ENOMEM;

    uint8_t *start = out->data + out->len;
    Emitter e = { .start = start, .out = start, .end = start + total };
    emit_le(&e, STATE_MAGIC, 4);
    emit_le(&e, name_len, 2);
    emit_bytes(&e, (const uint8_t *)desc->name, name_len);
    emit_le(&e, desc->version, 4);
    emit_le(&e, fingerprint(desc), 8);
    emit_le(&e, plen, 8);
    encode_struct(desc, state, &e);
    out->len += total;
    return 0;
}

/* ---- load ---------------------------------------------------------------- */

typedef struct Reader {
    const uint8_t *data;
    size_t len, pos;
} Reader;

static bool read_le(Reader *r, unsigned width, uint64_t *v)
{
    if (r->len - r->pos < width)
        return false;
    *v = get_le_bytes(r->data + r->pos, width);
    r->pos += width;
    return true;
}

__attribute__((format(printf, 3, 4)))
static int load_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* A name read from a file, made safe to print on one line. */
static void printable_name(const uint8_t *p, size_t n, char *out)
{
    size_t shown = n < STATE_NAME_SHOWN ? n : STATE_NAME_SHOWN;

    for (size_t i = 0; i < shown; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    out[shown] = '\0';
}

static int check_name(const StateDesc *desc, Reader *r, size_t start,
                      char *err, size_t errlen)
{
    uint64_t n;
    char found[STATE_NAME_SHOWN + 1];

    if (!read_le(r, 2, &n) || r->len - r->pos < n)
        return load_error(err, errlen,
                          "%s: truncated section header at offset %zu",
                          desc->name, start);
    const uint8_t *name = r->data + r->pos;
    r->pos += n;
    if (n == strlen(desc->name) && memcmp(name, desc->name, n) == 0)
        return 0;
    printable_name(name, n, found);
    return load_error(err, errlen, "expected section '%s', found '%s'",
                      desc->name, found);
}

/* Checks the whole header; on success r->pos is at the payload, which is
 * known to be complete and of the size this build expects. */
static int check_header(const StateDesc *desc, Reader *r,
                        char *err, size_t errlen)
{
    size_t start = r->pos;
    uint64_t magic, version, fp, plen;
    int rc;

    if (!read_le(r, 4, &magic))
        return load_error(err, errlen,
                          "%s: truncated section header at offset %zu",
                          desc->name, start);
    if (magic != STATE_MAGIC)
        return load_error(err, errlen, "bad section magic at offset %zu",
                          start);
    rc = check_name(desc, r, start, err, errlen);
    if (rc)
        return rc;
    if (!read_le(r, 4, &version) || !read_le(r, 8, &fp) ||
        !read_le(r, 8, &plen))
        return load_error(err, errlen,
                          "%s: truncated section header at offset %zu",
                          desc->name, start);
    if (version != desc->version)
        return load_error(err, errlen,
                          "%s: version %" PRIu64 " not supported (expected %"
                          PRIu32 ")", desc->name, version, desc->version);
    if (fp != fingerprint(desc))
        return load_error(err, errlen,
                          "%s: field layout differs from this build",
                          desc->name);
    uint64_t want = payload_size(desc);
    if (plen != want)
        return load_error(err, errlen,
                          "%s: payload length %" PRIu64 " (expected %" PRIu64
                          ")", desc->name, plen, want);
    if (r->len - r->pos < plen)
        return load_error(err, errlen,
                          "%s: truncated section (need %" PRIu64
                          " bytes, have %zu)", desc->name, plen,
                          r->len - r->pos);
    return 0;
}

/* Decode into a copy, swap it in, and swap back if post_load refuses. */
static int install_payload(const StateDesc *desc, void *state, void *opaque,
                           const uint8_t *payload, char *err, size_t errlen)
{
    uint8_t *fresh = malloc(desc->size * 2 + 1);   /* +1: size may be 0 */
    if (!fresh) {
        load_error(err, errlen, "%s: out of memory", desc->name);
        return -ENOMEM;
    }
    uint8_t *backup = fresh + desc->size;

    memcpy(fresh, state, desc->size);   /* unlisted bytes stay as they are */
    memcpy(backup, state, desc->size);
    decode_struct(desc, fresh, &payload);
    memcpy(state, fresh, desc->size);

    int rc = desc->post_load ? desc->post_load(state, opaque) : 0;
    if (rc) {
        memcpy(state, backup, desc->size);
        load_error(err, errlen, "%s: post-load failed: %s", desc->name,
                   strerror(rc < 0 ? -rc : rc));
    }
    free(fresh);
    return rc;
}

int state_load(const StateDesc *desc, void *state, void *opaque,
               const uint8_t *data, size_t len, size_t *pos,
               char *err, size_t errlen)
{
    Reader r = { .data = data, .len = len, .pos = *pos };
    const StateField *bad = desc_bad_field(desc);
    int rc;

    if (bad)
        return load_error(err, errlen, "%s: bad field table at '%s'",
                          desc->name, bad->name);
    if (*pos > len)
        return load_error(err, errlen,
                          "%s: truncated section header at offset %zu",
                          desc->name, *pos);
    rc = check_header(desc, &r, err, errlen);
    if (rc)
        return rc;
    rc = install_payload(desc, state, opaque, data + r.pos, err, errlen);
    if (rc)
        return rc;
    *pos = r.pos + (size_t)payload_size(desc);
    return 0;
}

/* ---- hash and diff ------------------------------------------------------- */

uint64_t state_hash(const StateDesc *desc, const void *state)
{
    XXH64_state_t h;
    uint8_t chunk[1024];
    Emitter e = { .start = chunk, .out = chunk, .end = chunk + sizeof(chunk),
                  .hash = &h };

    XXH64_reset(&h, 0);
    encode_struct(desc, state, &e);
    emit_flush(&e);
    return XXH64_digest(&h);
}

typedef struct Differ {
    FILE *out;
    int count;
    char path[256];
} Differ;

/* Write ".name" or ".name[i]" at path[at]; returns the new path length. */
static size_t diff_path(Differ *d, size_t at, const StateField *f, size_t i)
{
    size_t room = sizeof(d->path) - at;
    int n = f->count == 1
          ? snprintf(d->path + at, room, ".%s", f->name)
          : snprintf(d->path + at, room, ".%s[%zu]", f->name, i);

    if (n < 0)
        return at;
    return (size_t)n < room ? at + (size_t)n : sizeof(d->path) - 1;
}

static void diff_struct(Differ *d, size_t at, const StateDesc *desc,
                        const uint8_t *a, const uint8_t *b)
{
    for (const StateField *f = desc->fields; f->type != FIELD_END; f++) {
        unsigned width = field_width(f->type);

        for (size_t i = 0; i < f->count; i++) {
            size_t off = f->offset + i * f->stride;
            size_t end = diff_path(d, at, f, i);

            if (f->type == FIELD_STRUCT) {
                diff_struct(d, end, f->sub, a + off, b + off);
                continue;
            }
            uint64_t va = host_read(a + off, width);
            uint64_t vb = host_read(b + off, width);
            if (va == vb)
                continue;
            d->count++;
            if (d->out)
                fprintf(d->out, "%s: 0x%" PRIx64 " -> 0x%" PRIx64 "\n",
                        d->path, va, vb);
        }
    }
}

int state_diff(const StateDesc *desc, const void *a, const void *b, FILE *out)
{
    Differ d = { .out = out };
    int n = snprintf(d.path, sizeof(d.path), "%s", desc->name);
    size_t at = n < 0 ? 0 : (size_t)n;

    diff_struct(&d, at < sizeof(d.path) ? at : sizeof(d.path) - 1, desc,
                a, b);
    return d.count;
}

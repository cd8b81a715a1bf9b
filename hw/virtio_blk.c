/* virtio-blk (see hw/virtio_blk.h; Virtio 1.1 section 5.2).
 *
 * A request is a byte stream: the device-readable part starts with the
 * 16-byte header (le32 type, le32 reserved, le64 sector) followed by data
 * for OUT, DISCARD and WRITE_ZEROES; the device-writable part ends with
 * the status byte, preceded by data for IN and GET_ID.  Descriptor
 * boundaries do not matter (legacy drivers without ANY_LAYOUT split the
 * header off; modern ones may not).  A chain without room for a header
 * or a status byte cannot even be failed properly: the device is marked
 * broken.  Everything else a request gets wrong (a length that is not a
 * whole number of sectors, a range past the end, an unknown type or flag)
 * is answered with IOERR or UNSUPP as 5.2.6.2 says.
 */
#include "hw/virtio_blk.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define SECTOR      512
#define ZERO_CHUNK  65536u

struct VirtioBlk {
    VirtioBlkState s;
    VirtioPci vp;
    BlockDevice *bd;
    char serial[VIRTIO_BLK_ID_BYTES + 1];
    uint64_t sectors;
    bool readonly;
    struct VblkReq *inflight;
    uint8_t *zeroes;                /* ZERO_CHUNK bytes for WRITE_ZEROES */
};

typedef struct VblkSeg {
    uint64_t sector;
    uint32_t num;
} VblkSeg;

/* One request.  It owns what the I/O thread touches (the element's
 * iovecs into guest RAM, its own iovec arrays), so a reset can abandon
 * it: dev becomes NULL and the completion only frees it. */
typedef struct VblkReq {
    VirtioBlk *dev;
    struct VblkReq *prev, *next;
    VirtqElement *elem;
    unsigned queue;
    uint32_t type;
    BlockRequest br;
    DmaSg data;
    struct iovec *zero_iov;
    uint8_t *status;
    uint64_t status_gpa;
    uint32_t used_len;
    unsigned nseg, seg;
    VblkSeg segs[VIRTIO_BLK_MAX_DISCARD_SEG];
} VblkReq;

static int vblk_post_load(void *state, void *opaque);

static const StateField virtio_blk_fields[] = {
    STATE_STRUCT(VirtioBlkState, vp, virtio_pci_state_desc),
    STATE_END
};

const StateDesc virtio_blk_state_desc = {
    .name = "virtio-blk", .version = 1, .size = sizeof(VirtioBlkState),
    .fields = virtio_blk_fields, .post_load = vblk_post_load,
};

static VirtioBlk *to_blk(VirtioPci *vp)
{
    return vp->cfg.opaque;
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, (uint16_t)v);
    st16(p + 2, (uint16_t)(v >> 16));
}

/* ---- requests ------------------------------------------------------------ */

static void req_free(VblkReq *r)
{
    virtq_element_free(r->elem);
    dma_sg_free(&r->data);
    free(r->zero_iov);
    free(r);
}

static void req_unlink(VblkReq *r)
{
    VirtioBlk *b = r->dev;

    if (r->prev)
        r->prev->next = r->next;
    else if (b && b->inflight == r)
        b->inflight = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

/* Write the status, return the chain and interrupt. */
static void finish(VblkReq *r, uint8_t status)
{
    VirtioBlk *b = r->dev;
    VirtioPci *vp = &b->vp;

    *r->status = status;
    if (vp->mem->code_pages)
        pagetrack_written(vp->mem->code_pages, r->status_gpa, 1);
    virtq_push(vp, r->queue, r->elem, r->used_len);
    virtq_notify(vp, r->queue);
    req_unlink(r);
    req_free(r);
}

static int submit_seg(VblkReq *r);

static void req_done(void *opaque, int ret)
{
    VblkReq *r = opaque;

    if (!r->dev) {                  /* abandoned by a reset */
        req_free(r);
        return;
    }
    if (ret == 0 && r->seg + 1 < r->nseg) {
        r->seg++;
        dma_sg_free(&r->data);
        free(r->zero_iov);
        r->zero_iov = NULL;
        ret = submit_seg(r);
        if (ret == 0)
            return;
    }
    if (ret)
        LOG_LIMITED(LOG_GUEST_ERRORS, "virtio-blk: request type %u failed: %s\n",
                    r->type, strerror(-ret));
    finish(r, ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

static int submit(VblkReq *r, BlockOp op, uint64_t offset, uint64_t length,
                  const DmaSg *sg)
{
    VirtioBlk *b = r->dev;

    r->br = (BlockRequest){
        .op = op, .offset = offset, .length = length,
        .iov = sg ? sg->iov : NULL, .iovcnt = sg ? sg->n : 0,
        .done = req_done, .opaque = r,
    };
    return block_submit(b->bd, &r->br);
}

/* DISCARD and WRITE_ZEROES run their segments one after the other. */
static int submit_seg(VblkReq *r)
{
    const VblkSeg *g = &r->segs[r->seg];
    uint64_t off = g->sector * SECTOR, len = (uint64_t)g->num * SECTOR;

    if (r->type == VIRTIO_BLK_T_DISCARD || len == 0)
        return submit(r, BLOCK_DISCARD, off, len, NULL);
    /* Zeroes come from one shared zero buffer, repeated. */
    unsigned n = (unsigned)((len + ZERO_CHUNK - 1) / ZERO_CHUNK);
    r->zero_iov = calloc(n, sizeof(*r->zero_iov));
    if (!r->zero_iov)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        uint64_t left = len - (uint64_t)i * ZERO_CHUNK;
        r->zero_iov[i].iov_base = r->dev->zeroes;
        r->zero_iov[i].iov_len = left < ZERO_CHUNK ? left : ZERO_CHUNK;
    }
    r->br = (BlockRequest){
        .op = BLOCK_WRITE, .offset = off, .length = len,
        .iov = r->zero_iov, .iovcnt = (int)n,
        .done = req_done, .opaque = r,
    };
    return block_submit(r->dev->bd, &r->br);
}

static bool range_ok(const VirtioBlk *b, uint64_t sector, uint64_t bytes)
{
    return bytes % SECTOR == 0 && sector <= b->sectors &&
           bytes / SECTOR <= b->sectors - sector;
}

/* Parse the segments of DISCARD / WRITE_ZEROES: 0 or a status. */
static int parse_segs(VblkReq *r, uint64_t out_len)
{
    VirtioBlk *b = r->dev;
    bool discard = r->type == VIRTIO_BLK_T_DISCARD;
    unsigned max = discard ? VIRTIO_BLK_MAX_DISCARD_SEG : VIRTIO_BLK_MAX_WZ_SEG;
    uint32_t max_sectors = discard ? VIRTIO_BLK_MAX_DISCARD_SECTORS
                                   : VIRTIO_BLK_MAX_WZ_SECTORS;

    if (!virtio_has_feature(&b->vp, discard ? VIRTIO_BLK_F_DISCARD
                                            : VIRTIO_BLK_F_WRITE_ZEROES))
        return VIRTIO_BLK_S_UNSUPP;
    if (out_len == 0 || out_len % 16 || out_len / 16 > max)
        return VIRTIO_BLK_S_IOERR;
    r->nseg = (unsigned)(out_len / 16);
    for (unsigned i = 0; i < r->nseg; i++) {
        uint8_t seg[16];
        dma_sg_to_buf(&r->elem->out, 16 + 16 * i, seg, sizeof(seg));
        uint32_t flags = ld32(seg + 12);
        r->segs[i].sector = ld64(seg);
        r->segs[i].num = ld32(seg + 8);
        if ((flags & ~(uint32_t)VIRTIO_BLK_WZ_UNMAP) ||
            (discard && (flags & VIRTIO_BLK_WZ_UNMAP)))
            return VIRTIO_BLK_S_UNSUPP;
        if (r->segs[i].num > max_sectors ||
            !range_ok(b, r->segs[i].sector, (uint64_t)r->segs[i].num * SECTOR))
            return VIRTIO_BLK_S_IOERR;
    }
    return 0;
}

/* Start one request; a status to finish with at once, or -1 if it is on
 * its way. */
static int start(VblkReq *r, uint64_t sector, uint64_t in_len, uint64_t out_len)
{
    VirtioBlk *b = r->dev;
    VirtqElement *e = r->elem;
    int rc;

    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        if (!range_ok(b, sector, in_len))
            return VIRTIO_BLK_S_IOERR;
        r->used_len = in_len < UINT32_MAX ? (uint32_t)(in_len + 1) : UINT32_MAX;
        if (in_len == 0)
            return VIRTIO_BLK_S_OK;
        if (dma_sg_slice(&r->data, &e->in, 0, in_len))
            return VIRTIO_BLK_S_IOERR;
        rc = submit(r, BLOCK_READ, sector * SECTOR, in_len, &r->data);
        break;
    case VIRTIO_BLK_T_OUT:
        if (b->readonly || !range_ok(b, sector, out_len))
            return VIRTIO_BLK_S_IOERR;
        if (out_len == 0)
            return VIRTIO_BLK_S_OK;
        if (dma_sg_slice(&r->data, &e->out, 16, out_len))
            return VIRTIO_BLK_S_IOERR;
        rc = submit(r, BLOCK_WRITE, sector * SECTOR, out_len, &r->data);
        break;
    case VIRTIO_BLK_T_FLUSH:
        rc = submit(r, BLOCK_FLUSH, 0, 0, NULL);
        break;
    case VIRTIO_BLK_T_GET_ID: {
        uint8_t id[VIRTIO_BLK_ID_BYTES] = { 0 };
        size_t n = in_len < sizeof(id) ? (size_t)in_len : sizeof(id);
        memcpy(id, b->serial, strnlen(b->serial, sizeof(id)));
        dma_sg_from_buf(&e->in, 0, id, n);
        r->used_len = (uint32_t)n + 1;
        return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        if (b->readonly)
            return VIRTIO_BLK_S_IOERR;
        rc = parse_segs(r, out_len);
        if (rc)
            return rc;
        rc = submit_seg(r);
        break;
    default:
        LOG_LIMITED(LOG_UNIMP, "virtio-blk: request type %u not supported\n",
                    r->type);
        return VIRTIO_BLK_S_UNSUPP;
    }
    if (rc) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "virtio-blk: request type %u refused: "
                    "%s\n", r->type, strerror(-rc));
        return VIRTIO_BLK_S_IOERR;
    }
    return -1;
}

static void handle_request(VirtioBlk *b, unsigned q, VirtqElement *e)
{
    VirtioPci *vp = &b->vp;
    uint8_t hdr[16];

    if (e->out.bytes < sizeof(hdr) || e->in.bytes < 1) {
        virtio_pci_set_broken(vp, "request without a %s",
                              e->in.bytes < 1 ? "status byte" : "16-byte header");
        virtq_element_free(e);
        return;
    }
    VblkReq *r = calloc(1, sizeof(*r));
    if (!r) {
        virtq_element_free(e);      /* lost; the driver will time out */
        return;
    }
    dma_sg_init(&r->data);
    r->dev = b;
    r->elem = e;
    r->queue = q;
    r->used_len = 1;
    dma_sg_to_buf(&e->out, 0, hdr, sizeof(hdr));
    r->type = ld32(hdr);
    /* The status byte: the last device-writable byte. */
    const struct iovec *last = &e->in.iov[e->in.n - 1];
    r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    r->status_gpa = e->in.gpa[e->in.n - 1] + last->iov_len - 1;
    r->next = b->inflight;
    if (b->inflight)
        b->inflight->prev = r;
    b->inflight = r;
    int st = start(r, ld64(hdr + 8), e->in.bytes - 1, e->out.bytes - sizeof(hdr));
    if (st >= 0)
        finish(r, (uint8_t)st);
}

static void vblk_notify(VirtioPci *vp, unsigned q)
{
    VirtioBlk *b = to_blk(vp);
    VirtqElement *e;

    while (virtq_pop(vp, q, &e) > 0)
        handle_request(b, q, e);
}

/* Abandon what is in flight once its I/O is done. */
static void abandon_all(VirtioBlk *b)
{
    VblkReq *r = b->inflight;

    if (!r)
        return;
    b->inflight = NULL;
    while (r) {
        VblkReq *next = r->next;
        r->dev = NULL;
        r->prev = r->next = NULL;
        r = next;
    }
    block_drain(b->bd);
}

static void vblk_reset(VirtioPci *vp)
{
    abandon_all(to_blk(vp));
}

/* ---- configuration -------------------------------------------------------- */

static uint64_t vblk_features(VirtioPci *vp)
{
    VirtioBlk *b = to_blk(vp);
    uint64_t f = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
                 1ull << VIRTIO_BLK_F_FLUSH;

    if (b->readonly)
        f |= 1ull << VIRTIO_BLK_F_RO;
    else
        f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
    return f;
}

/* struct virtio_blk_config (5.2.4). */
static void vblk_config_read(VirtioPci *vp, uint32_t off, uint8_t *buf, uint32_t len)
{
    VirtioBlk *b = to_blk(vp);
    uint8_t c[VIRTIO_BLK_CONFIG_SIZE] = { 0 };

    st32(c + 0x00, (uint32_t)b->sectors);
    st32(c + 0x04, (uint32_t)(b->sectors >> 32));
    st32(c + 0x0c, VIRTIO_BLK_SEG_MAX);
    st32(c + 0x14, SECTOR);                        /* blk_size */
    c[0x20] = 1;                                    /* writeback */
    st16(c + 0x22, 1);                              /* num_queues */
    st32(c + 0x24, VIRTIO_BLK_MAX_DISCARD_SECTORS);
    st32(c + 0x28, VIRTIO_BLK_MAX_DISCARD_SEG);
    st32(c + 0x2c, VIRTIO_BLK_DISCARD_ALIGNMENT);
    st32(c + 0x30, VIRTIO_BLK_MAX_WZ_SECTORS);
    st32(c + 0x34, VIRTIO_BLK_MAX_WZ_SEG);
    memcpy(buf, c + off, len);
}

static const VirtioDeviceOps vblk_ops = {
    .features = vblk_features,
    .config_read = vblk_config_read,
    .queue_notify = vblk_notify,
    .reset = vblk_reset,
};

/* ---- life cycle ------------------------------------------------------------ */

int virtio_blk_new(PciBus *bus, unsigned devfn, const VirtioBlkConfig *cfg,
                   VirtioBlk **out)
{
    VirtioBlk *b;
    int rc;

    if (!cfg->bd)
        return -EINVAL;
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->zeroes = calloc(1, ZERO_CHUNK);
    if (!b->zeroes) {
        free(b);
        return -ENOMEM;
    }
    b->bd = cfg->bd;
    b->sectors = block_size(cfg->bd) / SECTOR;
    b->readonly = block_is_readonly(cfg->bd);
    snprintf(b->serial, sizeof(b->serial), "%s", cfg->serial ? cfg->serial : "");
    VirtioPciConfig vc = {
        .name = "virtio-blk", .device_type = VIRTIO_ID_BLOCK,
        .class_code = 0x010000, .transitional = cfg->transitional,
        .num_queues = 1, .queue_max = VIRTIO_BLK_QUEUE_SIZE,
        .config_size = VIRTIO_BLK_CONFIG_SIZE, .ops = &vblk_ops, .opaque = b,
    };
    rc = virtio_pci_init(&b->vp, &b->s.vp, bus, devfn, &vc);
    if (rc) {
        free(b->zeroes);
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void virtio_blk_reset(VirtioBlk *b)
{
    virtio_pci_reset(&b->vp);
}

void virtio_blk_drain(VirtioBlk *b)
{
    if (b->inflight)
        block_drain(b->bd);
}

void virtio_blk_free(VirtioBlk *b)
{
    if (!b)
        return;
    abandon_all(b);
    virtio_pci_exit(&b->vp);
    free(b->zeroes);
    free(b);
}

PciDevice *virtio_blk_pci(VirtioBlk *b)
{
    return &b->vp.pci;
}

VirtioBlkState *virtio_blk_state(VirtioBlk *b)
{
    return &b->s;
}

static int vblk_post_load(void *state, void *opaque)
{
    VirtioBlk *b = opaque;

    (void)state;
    abandon_all(b);
    return virtio_pci_post_load(&b->vp);
}

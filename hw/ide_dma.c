/* PIIX3 IDE bus master: the BMIBA registers, PRD tables, and the
 * requests the drives hand to the block layer (PIO staged through a
 * bounce buffer, DMA straight to and from guest RAM).  See hw/ide.h for
 * the sources: Intel 82371FB/SB datasheet, "Bus Master IDE Function".
 *
 * A request owns everything the I/O thread touches (its bounce buffer,
 * its scatter-gather list), so a reset can abandon it after waiting for
 * the I/O: the completion that arrives later through the event queue
 * finds no drive and only frees memory.
 */
#include "hw/ide_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define PRD_MAX_ENTRIES 8192        /* 64 KiB of 8-byte entries */
#define IDE_MAX_IOV     (2 * PRD_MAX_ENTRIES)

/* ---- requests -------------------------------------------------------- */

static void req_free(IdeReq *req)
{
    dma_sg_free(&req->sg);
    free(req->bounce);
    free(req);
}

void ide_abandon(IdeDrive *d)
{
    IdeReq *req = d->req;

    ide_ds(d)->inflight = 0;
    if (!req)
        return;
    /* Its completion still arrives through the event queue (or from
     * block_drain itself) and must then find nothing to finish. */
    req->drive = NULL;
    d->req = NULL;
    block_drain(d->bd);
}

static void req_done(void *opaque, int ret)
{
    IdeReq *req = opaque;
    IdeDrive *d = req->drive;

    if (!d) {
        req_free(req);
        return;
    }
    IdeChannel *ch = d->ch;
    d->req = NULL;
    ide_ds(d)->inflight = 0;
    if (ret == 0 && req->br.op == BLOCK_READ) {
        if (req->dma)
            dma_sg_written(&req->sg, ch->ide->mem, req->sg.bytes);
        else
            memcpy(ch->s->buf, req->bounce, req->br.length);
    }
    /* BMIDEA drops when the transfer used up the table to its EOT entry;
     * a table longer than the transfer leaves it set (PIIX3 2.7.x). */
    if (req->dma && ret == 0 && req->prd_exact)
        ch->s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    req_free(req);
    if (d->cdrom)
        ide_atapi_req_done(d, ret);
    else
        ide_ata_req_done(d, ret);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void dma_fail(IdeChannel *ch)
{
    ch->s->bm_status |= BM_ST_ERROR;
    ch->s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
}

/* Walk the PRD table into a scatter-gather list of `len` bytes.  A table
 * outside RAM, a region outside RAM or a table shorter than the transfer
 * are what a master abort would be on the real bus: the error bit is
 * set and the command fails (the real chip would leave the drive waiting
 * for data that never comes). */
static int dma_map(IdeChannel *ch, uint64_t len, bool to_mem, DmaSg *sg,
                   bool *exact)
{
    Ide *ide = ch->ide;
    uint32_t prd = ch->s->bm_prd;
    uint64_t total = 0;
    bool last_exact = false;

    *exact = false;
    if (!(pci_get_word(ide->s.pci.config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u: DMA with bus mastering "
                    "disabled in the PCI command register\n", ch->idx);
        goto fail;
    }
    for (unsigned i = 0; i < PRD_MAX_ENTRIES && total < len; i++) {
        const uint8_t *e = dma_ram_ptr(ide->mem, prd, 8, false);
        if (!e) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u: PRD table at 0x%" PRIx32
                        " is not in RAM\n", ch->idx, prd);
            goto fail;
        }
        uint32_t addr = le32(e) & ~1u;
        uint32_t cnt = (uint32_t)(e[4] | e[5] << 8) & 0xfffe;
        bool eot = e[7] & 0x80;
        if (cnt == 0)
            cnt = 0x10000;
        uint64_t take = len - total < cnt ? len - total : cnt;
        if (dma_sg_add(sg, ide->mem, addr, take, to_mem, IDE_MAX_IOV)) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u: PRD region 0x%" PRIx32
                        "+0x%" PRIx64 " is not in RAM\n", ch->idx, addr, take);
            goto fail;
        }
        total += take;
        last_exact = eot && take == cnt;
        if (eot)
            break;
        prd += 8;
        if ((prd & 0xffff) == 0)    /* a table never crosses 64 KiB */
            break;
    }
    if (total < len) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u: PRD table covers %" PRIu64
                    " of %" PRIu64 " bytes\n", ch->idx, total, len);
        goto fail;
    }
    *exact = last_exact;
    return 0;
fail:
    dma_sg_free(sg);
    dma_fail(ch);
    return -EFAULT;
}

int ide_submit(IdeDrive *d, BlockOp op, uint64_t offset, uint64_t len,
               bool dma)
{
    IdeReq *req = calloc(1, sizeof(*req));
    int rc;

    if (!req)
        return -ENOMEM;
    req->drive = d;
    req->dma = dma;
    dma_sg_init(&req->sg);
    if (op == BLOCK_READ || op == BLOCK_WRITE) {
        if (dma) {
            rc = dma_map(d->ch, len, op == BLOCK_READ, &req->sg, &req->prd_exact);
            if (rc)
                goto fail;
            req->br.iov = req->sg.iov;
            req->br.iovcnt = req->sg.n;
        } else {
            rc = -EINVAL;
            if (len == 0 || len > IDE_BUF_SIZE)
                goto fail;
            rc = -ENOMEM;
            req->bounce = malloc(len);
            if (!req->bounce)
                goto fail;
            if (op == BLOCK_WRITE)
                memcpy(req->bounce, d->ch->s->buf, len);
            req->one.iov_base = req->bounce;
            req->one.iov_len = len;
            req->br.iov = &req->one;
            req->br.iovcnt = 1;
        }
    }
    req->br.op = op;
    req->br.offset = offset;
    req->br.length = len;
    req->br.done = req_done;
    req->br.opaque = req;
    rc = block_submit(d->bd, &req->br);
    if (rc)
        goto fail;
    d->req = req;
    ide_ds(d)->inflight = 1;
    ide_ds(d)->status = ATA_SR_BSY;
    return 0;
fail:
    req_free(req);
    return rc;
}

int ide_dma_from_buffer(IdeDrive *d, uint32_t len)
{
    IdeChannel *ch = d->ch;
    DmaSg sg;
    bool exact;

    dma_sg_init(&sg);
    if (dma_map(ch, len, true, &sg, &exact))
        return -EFAULT;
    dma_sg_from_buf(&sg, 0, ch->s->buf, len);
    dma_sg_written(&sg, ch->ide->mem, len);
    dma_sg_free(&sg);
    if (exact)
        ch->s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    return 0;
}

/* Start the transfer of a DMA command once both halves are there: the
 * drive has its command (it asserts DMARQ) and the bus master is
 * started.  Drivers do these in either order. */
static void dma_kick(IdeChannel *ch)
{
    if (!(ch->s->bm_cmd & BM_CMD_START))
        return;
    for (unsigned u = 0; u < IDE_DRIVES; u++) {
        IdeDrive *d = &ch->drive[u];
        IdeDriveState *ds = ide_ds(d);
        if (!d->present || !ds->dma_ready || d->req)
            continue;
        ds->dma_ready = 0;
        if (d->cdrom)
            ide_atapi_dma_run(d);
        else
            ide_ata_dma_run(d);
    }
}

void ide_dma_ready(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    ds->dma_ready = 1;
    ds->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    dma_kick(d->ch);
}

/* ---- the bus master ---------------------------------------------------- */

static void bm_cmd_write(IdeChannel *ch, uint8_t v)
{
    IdeChannelState *s = ch->s;
    uint8_t old = s->bm_cmd;

    s->bm_cmd = v & (BM_CMD_START | BM_CMD_WRITE);
    if (!(old & BM_CMD_START) && (v & BM_CMD_START)) {
        s->bm_status |= BM_ST_ACTIVE;
        dma_kick(ch);
    } else if ((old & BM_CMD_START) && !(v & BM_CMD_START)) {
        /* Stopping in the middle cannot take back what the disk already
         * did; wait for it (its completion still finishes the command). */
        for (unsigned u = 0; u < IDE_DRIVES; u++) {
            IdeDrive *d = &ch->drive[u];
            if (d->req && d->req->dma)
                block_drain(d->bd);
        }
        s->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    }
}

static uint8_t bm_read_byte(IdeChannel *ch, unsigned r)
{
    IdeChannelState *s = ch->s;

    switch (r) {
    case 0: return s->bm_cmd;
    case 2: return s->bm_status;
    case 4: case 5: case 6: case 7:
        return (uint8_t)(s->bm_prd >> (8 * (r - 4)));
    default: return 0;
    }
}

static void bm_write_byte(IdeChannel *ch, unsigned r, uint8_t v)
{
    IdeChannelState *s = ch->s;

    switch (r) {
    case 0:
        bm_cmd_write(ch, v);
        break;
    case 2:
        s->bm_status &= (uint8_t)~(v & (BM_ST_ERROR | BM_ST_INTR));
        s->bm_status = (uint8_t)((s->bm_status & ~(BM_ST_DMA0 | BM_ST_DMA1)) |
                                 (v & (BM_ST_DMA0 | BM_ST_DMA1)));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (r - 4);
        s->bm_prd = (s->bm_prd & ~(0xffu << sh)) | (uint32_t)v << sh;
        s->bm_prd &= ~3u;
        break;
    }
    }
}

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
    Ide *ide = opaque;
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        unsigned o = ((unsigned)off + i) & 15;
        v |= (uint64_t)bm_read_byte(&ide->ch[o >> 3], o & 7) << (8 * i);
    }
    return v;
}

static void bm_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    Ide *ide = opaque;

    for (unsigned i = 0; i < size; i++) {
        unsigned o = ((unsigned)off + i) & 15;
        bm_write_byte(&ide->ch[o >> 3], o & 7, (uint8_t)(value >> (8 * i)));
    }
}

const MemOps ide_bm_ops = {
    .read = bm_read, .write = bm_write, .max_access = 4,
};

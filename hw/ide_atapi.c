/* ATAPI CD/DVD-ROM drives: the PACKET protocol and the packet commands
 * that firmware El Torito boot and operating-system CD drivers use.
 *
 * Sources: ATA/ATAPI-7 (IDENTIFY PACKET DEVICE data, the PACKET command
 * protocol: the byte count limit in the cylinder registers, the interrupt
 * reason in the sector count register (CoD bit 0, IO bit 1)), SFF-8020i
 * (the ATAPI CD-ROM model: 12-byte packets, the error register carrying
 * the sense key in bits 7:4), MMC-5 (READ TOC/PMA/ATIP formats 0-2, GET
 * CONFIGURATION with the profile list, core, morphing, removable medium
 * and random readable features, GET EVENT STATUS NOTIFICATION (polled,
 * media class), READ DISC INFORMATION, READ TRACK INFORMATION, MECHANISM
 * STATUS, the CD capabilities and mechanical status mode page 2Ah, START
 * STOP UNIT with LoEj) and SPC-3 (INQUIRY, REQUEST SENSE fixed-format sense data, MODE
 * SENSE(6/10), PREVENT ALLOW MEDIUM REMOVAL, unit attention conditions).
 *
 * Media change: after a medium is inserted (ide_cd_insert, or closing the
 * tray on one), the next command that does not tolerate it fails once
 * with UNIT ATTENTION / NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED
 * (28h/00h), as SeaBIOS and Linux's sr driver expect; INQUIRY, REQUEST
 * SENSE, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION never report
 * it.  Without a medium, media access fails with NOT READY / MEDIUM NOT
 * PRESENT (3Ah, qualifier 01h tray closed or 02h tray open).
 */
#include "hw/ide_internal.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"

enum {
    SENSE_NONE = 0x00,
    SENSE_NOT_READY = 0x02,
    SENSE_MEDIUM_ERROR = 0x03,
    SENSE_ILLEGAL_REQUEST = 0x05,
    SENSE_UNIT_ATTENTION = 0x06,
    SENSE_ABORTED_COMMAND = 0x0b,
};

enum {
    ASC_UNRECOVERED_READ = 0x11,
    ASC_INVALID_OPCODE = 0x20,
    ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INVALID_FIELD = 0x24,
    ASC_MEDIUM_CHANGED = 0x28,
    ASC_SAVING_UNSUPPORTED = 0x39,
    ASC_MEDIUM_NOT_PRESENT = 0x3a,
    ASC_REMOVAL_PREVENTED = 0x53,
};

/* GET EVENT STATUS NOTIFICATION media event codes. */
enum { MEV_NONE, MEV_EJECT_REQUEST, MEV_NEW_MEDIA, MEV_MEDIA_REMOVAL };

/* A disc larger than an 80-minute CD is presented as a DVD. */
#define CD_MAX_SECTORS  (80u * 60 * 75)

/* Command properties. */
#define F_UA_OK   1     /* does not report a pending unit attention */
#define F_MEDIUM  2     /* needs a medium */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

static uint32_t cd_sectors(const IdeDrive *d)
{
    uint64_t n = d->bd ? block_size(d->bd) / CD_SECTOR : 0;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static bool medium_ready(const IdeDrive *d)
{
    const IdeDriveState *ds = ide_ds(d);
    return d->bd && ds->media_present && !ds->tray_open;
}

/* ---- completion ------------------------------------------------------- */

static void atapi_ok(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    ds->status = ATA_SR_DRDY | ATA_SR_DSC;
    ds->error = 0;
    ds->nsector = ATAPI_IR_IO | ATAPI_IR_COD;
    ds->xfer = IDE_XFER_NONE;
    ds->sense_key = SENSE_NONE;
    ds->asc = ds->ascq = 0;
    ide_raise(d);
}

/* CHECK CONDITION: the sense data waits for REQUEST SENSE. */
static void atapi_check(IdeDrive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    IdeDriveState *ds = ide_ds(d);

    ds->sense_key = key;
    ds->asc = asc;
    ds->ascq = ascq;
    ds->error = (uint8_t)(key << 4);
    ds->status = ATA_SR_DRDY | ATA_SR_ERR;
    ds->nsector = ATAPI_IR_IO | ATAPI_IR_COD;
    ds->xfer = IDE_XFER_NONE;
    ds->dma_ready = 0;
    ide_raise(d);
}

static void not_ready(IdeDrive *d)
{
    atapi_check(d, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT,
                ide_ds(d)->tray_open ? 0x02 : 0x01);
}

/* One DRQ data block: at most the byte count limit the host gave, and
 * for sector reads whole sectors when the limit allows. */
static void pio_block(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    uint32_t n = ds->end - ds->pos;

    if (n > ds->bcl) {
        n = ds->bcl;
        if (ds->xfer == IDE_XFER_ATAPI_READ && n >= CD_SECTOR)
            n -= n % CD_SECTOR;
    }
    ds->drq_end = ds->pos + n;
    ds->lcyl = (uint8_t)n;
    ds->hcyl = (uint8_t)(n >> 8);
    ds->nsector = ATAPI_IR_IO;
    ds->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    ide_raise(d);
}

/* Send the first min(len, alloc) bytes of the channel buffer. */
static void reply(IdeDrive *d, uint32_t len, uint32_t alloc)
{
    IdeDriveState *ds = ide_ds(d);

    if (len > alloc)
        len = alloc;
    if (len == 0) {
        atapi_ok(d);
        return;
    }
    ds->pos = 0;
    ds->end = len;
    if (ds->atapi_dma) {
        ds->xfer = IDE_XFER_ATAPI_DMA_IN;
        ide_dma_ready(d);
    } else {
        ds->xfer = IDE_XFER_ATAPI_IN;
        pio_block(d);
    }
}

static void read_chunk(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    uint32_t max = IDE_BUF_SIZE / CD_SECTOR;

    if (!medium_ready(d)) {             /* ejected under the command */
        not_ready(d);
        return;
    }
    ds->chunk = ds->remaining < max ? ds->remaining : max;
    if (ide_submit(d, BLOCK_READ, ds->lba * CD_SECTOR,
                   (uint64_t)ds->chunk * CD_SECTOR, false))
        atapi_check(d, SENSE_ABORTED_COMMAND, 0, 0);
}

void ide_atapi_dma_run(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    if (ds->xfer == IDE_XFER_ATAPI_DMA_IN) {
        if (ide_dma_from_buffer(d, ds->end))
            atapi_check(d, SENSE_ABORTED_COMMAND, 0, 0);
        else
            atapi_ok(d);
    } else if (ds->xfer == IDE_XFER_ATAPI_DMA_READ) {
        if (!medium_ready(d))
            not_ready(d);
        else if (ide_submit(d, BLOCK_READ, ds->lba * CD_SECTOR,
                            (uint64_t)ds->remaining * CD_SECTOR, true))
            atapi_check(d, SENSE_ABORTED_COMMAND, 0, 0);
    }
}

void ide_atapi_req_done(IdeDrive *d, int ret)
{
    IdeDriveState *ds = ide_ds(d);

    if (ret) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u.%u: CD read failed: %s\n",
                    d->ch->idx, d->unit, strerror(-ret));
        if (ret == -ECANCELED)
            atapi_check(d, SENSE_ABORTED_COMMAND, 0, 0);
        else
            atapi_check(d, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
        return;
    }
    if (ds->xfer == IDE_XFER_ATAPI_READ) {
        ds->pos = 0;
        ds->end = ds->chunk * CD_SECTOR;
        ds->lba += ds->chunk;
        ds->remaining -= ds->chunk;
        pio_block(d);
    } else {
        ds->lba += ds->remaining;
        ds->remaining = 0;
        atapi_ok(d);
    }
}

/* ---- the commands -------------------------------------------------------- */

static void cmd_request_sense(IdeDrive *d, uint8_t *b, const uint8_t *p)
{
    IdeDriveState *ds = ide_ds(d);
    uint8_t key = ds->sense_key, asc = ds->asc, ascq = ds->ascq;

    /* With nothing stored, report the condition the drive is in. */
    if (key == SENSE_NONE && ds->ua_pending) {
        key = SENSE_UNIT_ATTENTION;
        asc = ASC_MEDIUM_CHANGED;
        ascq = 0;
        ds->ua_pending = 0;
    } else if (key == SENSE_NONE && !medium_ready(d)) {
        key = SENSE_NOT_READY;
        asc = ASC_MEDIUM_NOT_PRESENT;
        ascq = ds->tray_open ? 0x02 : 0x01;
    }
    memset(b, 0, 18);
    b[0] = 0x70;                    /* current error, fixed format */
    b[2] = key;
    b[7] = 10;                      /* additional sense length */
    b[12] = asc;
    b[13] = ascq;
    reply(d, 18, p[4]);
}

static void cmd_inquiry(IdeDrive *d, uint8_t *b, const uint8_t *p)
{
    if ((p[1] & 1) || p[2]) {       /* no vital product data pages */
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;                    /* CD/DVD device */
    b[1] = 0x80;                    /* removable */
    b[3] = 0x21;                    /* ATAPI version 2, response format 1 */
    b[4] = 31;
    memcpy(b + 8, "VIREO   ", 8);
    memcpy(b + 16, "DVD-ROM         ", 16);
    memcpy(b + 32, "1.0 ", 4);
    reply(d, 36, be16(p + 3));
}

static uint32_t mode_page(IdeDrive *d, uint8_t *b, uint8_t page, bool changeable)
{
    uint32_t len = page == 0x01 ? 8 : 22;

    memset(b, 0, len);
    b[0] = page;
    b[1] = (uint8_t)(len - 2);
    if (changeable)                 /* nothing can be changed */
        return len;
    if (page == 0x01) {             /* read error recovery */
        b[3] = 5;                   /* read retry count */
        return len;
    }
    /* CD capabilities and mechanical status (MMC-3 layout). */
    b[2] = 0x3b;                    /* reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R */
    b[4] = 0x71;                    /* audio play, mode 2 form 1/2, multi-session */
    b[5] = 0x01;                    /* CD-DA commands */
    b[6] = (uint8_t)(0x29 | (ide_ds(d)->tray_locked ? 0x02 : 0));  /* tray, eject, lock */
    put_be16(b + 8, 706);           /* maximum read speed, KB/s (4x) */
    put_be16(b + 10, 256);          /* volume levels */
    put_be16(b + 12, 512);          /* buffer, KiB */
    put_be16(b + 14, 706);          /* current read speed */
    return len;
}

static void cmd_mode_sense(IdeDrive *d, uint8_t *b, const uint8_t *p)
{
    bool ten = p[0] == 0x5a;
    uint8_t pc = p[2] >> 6, page = p[2] & 0x3f;
    uint32_t alloc = ten ? be16(p + 7) : p[4], len = ten ? 8 : 4;

    if (pc == 3) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_SAVING_UNSUPPORTED, 0);
        return;
    }
    if (page != 0x01 && page != 0x2a && page != 0x3f) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, len);
    if (page == 0x01 || page == 0x3f)
        len += mode_page(d, b + len, 0x01, pc == 1);
    if (page == 0x2a || page == 0x3f)
        len += mode_page(d, b + len, 0x2a, pc == 1);
    if (ten)
        put_be16(b, (uint16_t)(len - 2));
    else
        b[0] = (uint8_t)(len - 1);
    reply(d, len, alloc);
}

static void put_addr(uint8_t *b, uint32_t lba, bool msf)
{
    if (!msf) {
        put_be32(b, lba);
        return;
    }
    lba += 150;                     /* the 2-second pregap */
    b[0] = 0;
    b[1] = (uint8_t)(lba / (75 * 60));
    b[2] = (uint8_t)(lba / 75 % 60);
    b[3] = (uint8_t)(lba % 75);
}

/* One data track: the form every ISO image takes. */
static void cmd_read_toc(IdeDrive *d, uint8_t *b, const uint8_t *p)
{
    bool msf = p[1] & 2;
    uint8_t format = p[2] & 0x0f, start = p[6];
    uint32_t cap = cd_sectors(d), len = 4;

    if (format == 0 && (p[9] >> 6))  /* SFF-8020i put the format here */
        format = p[9] >> 6;
    switch (format) {
    case 0:
        if (start > 1 && start != 0xaa)
            goto bad;
        if (start <= 1) {
            memset(b + len, 0, 8);
            b[len + 1] = 0x14;      /* ADR 1, data track */
            b[len + 2] = 1;
            put_addr(b + len + 4, 0, msf);
            len += 8;
        }
        memset(b + len, 0, 8);
        b[len + 1] = 0x14;
        b[len + 2] = 0xaa;          /* lead-out */
        put_addr(b + len + 4, cap, msf);
        len += 8;
        break;
    case 1:                         /* session information */
        memset(b + len, 0, 8);
        b[len + 1] = 0x14;
        b[len + 2] = 1;
        put_addr(b + len + 4, 0, msf);
        len += 8;
        break;
    case 2: {                       /* raw TOC: points A0, A1, A2, 1 */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        for (unsigned i = 0; i < 4; i++) {
            uint8_t *e = b + len;
            memset(e, 0, 11);
            e[0] = 1;               /* session */
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1)
                e[8] = 1;           /* first / last track; disc type 0 */
            else            /* lead-out, track 1: zero, PMIN, PSEC, PFRAME */
                put_addr(e + 7, points[i] == 0xa2 ? cap : 0, true);
            len += 11;
        }
        break;
    }
    default:
        goto bad;
    }
    put_be16(b, (uint16_t)(len - 2));
    b[2] = 1;
    b[3] = 1;
    reply(d, len, be16(p + 7));
    return;
bad:
    atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

static uint16_t current_profile(const IdeDrive *d)
{
    if (!medium_ready(d))
        return 0;
    return cd_sectors(d) > CD_MAX_SECTORS ? 0x0010 : 0x0008;
}

static void cmd_get_configuration(IdeDrive *d, uint8_t *b, const uint8_t *p)
{
    uint8_t rt = p[1] & 3;
    uint16_t start = be16(p + 2), prof = current_profile(d);
    uint32_t len = 8;

    if (rt == 3) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 64);
    static const uint16_t codes[] = { 0x0000, 0x0001, 0x0002, 0x0003, 0x0010 };
    for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        uint16_t fc = codes[i];
        bool current = fc != 0x0010 || prof != 0;
        if (rt == 2 ? fc != start : fc < start)
            continue;
        if (rt == 1 && !current)
            continue;
        uint8_t *f = b + len;
        put_be16(f, fc);
        switch (fc) {
        case 0x0000:                /* profile list: DVD-ROM, CD-ROM */
            f[2] = 0x03;
            f[3] = 8;
            put_be16(f + 4, 0x0010);
            f[6] = prof == 0x0010;
            put_be16(f + 8, 0x0008);
            f[10] = prof == 0x0008;
            break;
        case 0x0001:                /* core: ATAPI, DBE */
            f[2] = 0x0b;
            f[3] = 8;
            put_be32(f + 4, 2);
            f[8] = 0x01;
            break;
        case 0x0002:                /* morphing: OCEvent (polled only) */
            f[2] = 0x07;
            f[3] = 4;
            f[4] = 0x02;
            break;
        case 0x0003:                /* removable medium: tray, eject, lock */
            f[2] = 0x03;
            f[3] = 4;
            f[4] = 0x29;
            break;
        case 0x0010:                /* random readable */
            f[2] = current ? 0x01 : 0x00;
            f[3] = 8;
            put_be32(f + 4, CD_SECTOR);
            put_be16(f + 8, prof == 0x0010 ? 16 : 1);
            break;
        }
        len += 4 + f[3];
    }
    put_be32(b, len - 4);
    put_be16(b + 6, prof);
    reply(d, len, be16(p + 7));
}

static void cmd_get_event_status(IdeDrive *d, uint8_t *b, const uint8_t *p)
{
    IdeDriveState *ds = ide_ds(d);
    uint32_t len;

    if (!(p[1] & 1)) {              /* only polled operation */
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;                    /* supported classes: media */
    if (p[4] & 0x10) {
        put_be16(b, 6);
        b[2] = 0x04;                /* media class */
        b[4] = ds->media_event;
        b[5] = (uint8_t)((medium_ready(d) ? 0x02 : 0) | (ds->tray_open ? 0x01 : 0));
        ds->media_event = MEV_NONE;
        len = 8;
    } else {
        put_be16(b, 2);
        b[2] = 0x80;                /* no event available */
        len = 4;
    }
    reply(d, len, be16(p + 7));
}

static void cmd_start_stop(IdeDrive *d, const uint8_t *p)
{
    IdeDriveState *ds = ide_ds(d);

    if (p[4] & 2) {                 /* LoEj */
        if (!(p[4] & 1)) {
            if (ds->tray_locked) {
                atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
                return;
            }
            if (!ds->tray_open && medium_ready(d))
                ds->media_event = MEV_MEDIA_REMOVAL;
            ds->tray_open = 1;
        } else if (ds->tray_open) {
            ds->tray_open = 0;
            if (d->bd && ds->media_present) {
                ds->ua_pending = 1;
                ds->media_event = MEV_NEW_MEDIA;
            }
        }
    }
    atapi_ok(d);
}

static void cmd_read(IdeDrive *d, const uint8_t *p)
{
    IdeDriveState *ds = ide_ds(d);
    uint32_t lba = be32(p + 2);
    uint32_t n = p[0] == 0x28 ? be16(p + 7) : be32(p + 6);
    uint32_t cap = cd_sectors(d);

    if (n == 0) {
        atapi_ok(d);
        return;
    }
    if (lba >= cap || n > cap - lba) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    ds->lba = lba;
    ds->remaining = n;
    if (ds->atapi_dma) {
        ds->xfer = IDE_XFER_ATAPI_DMA_READ;
        ide_dma_ready(d);
    } else {
        ds->xfer = IDE_XFER_ATAPI_READ;
        read_chunk(d);
    }
}

/* READ TRACK INFORMATION, addressed by LBA (0), track (1) or session (2):
 * all name the one data track. */
static void cmd_read_track_info(IdeDrive *d, uint8_t *b, const uint8_t *p)
{
    uint32_t addr = be32(p + 2), cap = cd_sectors(d);
    uint8_t type = p[1] & 3;

    if (type == 3 || (type == 0 ? addr >= cap : addr != 1)) {
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 36);
    put_be16(b, 34);
    b[2] = b[3] = 1;                /* track 1, session 1 */
    b[5] = 0x04;                    /* data track, uninterrupted */
    b[6] = 0x01;                    /* data mode 1 */
    put_be32(b + 24, cap);          /* track size; it starts at 0 */
    reply(d, 36, be16(p + 7));
}

static unsigned cmd_flags(uint8_t op)
{
    switch (op) {
    case 0x03: case 0x12: case 0x46: case 0x4a:
        return F_UA_OK;
    case 0x25: case 0x28: case 0xa8: case 0x2b: case 0x43: case 0x51:
    case 0x52:
        return F_MEDIUM;
    default:
        return 0;
    }
}

static void execute(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    const uint8_t *p = ds->packet;
    uint8_t *b = d->ch->s->buf;
    unsigned flags = cmd_flags(p[0]);

    if (!(flags & F_UA_OK) && ds->ua_pending) {
        ds->ua_pending = 0;
        atapi_check(d, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    if ((flags & F_MEDIUM) && !medium_ready(d)) {
        not_ready(d);
        return;
    }
    switch (p[0]) {
    case 0x00:                      /* TEST UNIT READY */
        if (medium_ready(d))
            atapi_ok(d);
        else
            not_ready(d);
        break;
    case 0x03: cmd_request_sense(d, b, p); break;
    case 0x12: cmd_inquiry(d, b, p); break;
    case 0x1a: case 0x5a: cmd_mode_sense(d, b, p); break;
    case 0x1b: cmd_start_stop(d, p); break;
    case 0x1e:                      /* PREVENT ALLOW MEDIUM REMOVAL */
        ds->tray_locked = p[4] & 1;
        atapi_ok(d);
        break;
    case 0x25: {                    /* READ CAPACITY */
        put_be32(b, cd_sectors(d) - 1);
        put_be32(b + 4, CD_SECTOR);
        reply(d, 8, 8);
        break;
    }
    case 0x28: case 0xa8: cmd_read(d, p); break;
    case 0x2b:                      /* SEEK(10) */
        if (be32(p + 2) >= cd_sectors(d))
            atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        else
            atapi_ok(d);
        break;
    case 0x43: cmd_read_toc(d, b, p); break;
    case 0x46: cmd_get_configuration(d, b, p); break;
    case 0x4a: cmd_get_event_status(d, b, p); break;
    case 0x51:                      /* READ DISC INFORMATION */
        if (p[1] & 7) {
            atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            break;
        }
        memset(b, 0, 34);
        put_be16(b, 32);
        b[2] = 0x0e;                /* last session complete, disc complete */
        b[3] = b[4] = b[5] = b[6] = 1;  /* tracks and sessions */
        reply(d, 34, be16(p + 7));
        break;
    case 0x52: cmd_read_track_info(d, b, p); break;
    case 0xbb:                      /* SET CD SPEED */
        atapi_ok(d);
        break;
    case 0xbd:                      /* MECHANISM STATUS */
        memset(b, 0, 8);
        b[1] = ds->tray_open ? 0x10 : 0;
        reply(d, 8, be16(p + 8));
        break;
    default:
        LOG_LIMITED(LOG_UNIMP, "ide%u.%u: ATAPI command %#04x not supported\n",
                    d->ch->idx, d->unit, p[0]);
        atapi_check(d, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}

/* ---- the PACKET protocol ------------------------------------------------ */

void ide_atapi_packet_cmd(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    uint32_t bcl = ds->lcyl | ds->hcyl << 8;

    ds->atapi_dma = ds->feature & 1;
    /* The limit must be even; 0 and FFFFh are taken as "as much as fits"
     * rather than refused. */
    if (bcl == 0 || bcl == 0xffff)
        bcl = 0xfffe;
    bcl &= ~1u;
    ds->bcl = (uint16_t)(bcl ? bcl : 2);
    ds->xfer = IDE_XFER_PACKET;
    ds->pos = 0;
    ds->end = ds->drq_end = 12;
    ds->nsector = ATAPI_IR_COD;
    /* No interrupt: IDENTIFY PACKET DEVICE word 0 says DRQ comes within
     * 50 us of the command. */
    ds->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
}

void ide_atapi_pio_done(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    if (ds->xfer == IDE_XFER_PACKET) {
        memcpy(ds->packet, d->ch->s->buf, sizeof(ds->packet));
        execute(d);
    } else if (ds->pos < ds->end) {
        pio_block(d);
    } else if (ds->xfer == IDE_XFER_ATAPI_READ && ds->remaining) {
        read_chunk(d);
    } else {
        atapi_ok(d);
    }
}

void ide_atapi_identify(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    uint8_t *b = d->ch->s->buf;
    uint8_t mode = ds->xfer_mode;

    memset(b, 0, ATA_SECTOR);
    /* ATAPI, CD-ROM command set, removable, DRQ within 50 us, 12-byte
     * packets. */
    ide_put_word(b, 0, 0x85c0);
    ide_identify_string(b, 10, d->serial, 20);
    ide_identify_string(b, 23, "1.0", 8);
    ide_identify_string(b, 27, d->model, 40);
    ide_put_word(b, 49, 1 << 11 | 1 << 9 | 1 << 8);     /* IORDY, LBA, DMA */
    ide_put_word(b, 53, 0x0007);
    ide_put_word(b, 63, (uint16_t)(0x07 | ((mode & 0xf8) == 0x20 ?
                                           0x100 << (mode & 7) : 0)));
    ide_put_word(b, 64, 0x03);
    ide_put_word(b, 65, 0xb4);
    ide_put_word(b, 66, 0xb4);
    ide_put_word(b, 67, 0x12c);
    ide_put_word(b, 68, 0xb4);
    ide_put_word(b, 71, 30);
    ide_put_word(b, 72, 30);
    ide_put_word(b, 80, 0x1e);                  /* ATA/ATAPI-4 to -7 */
    ide_put_word(b, 82, 1 << 14 | 1 << 4);      /* NOP, PACKET */
    ide_put_word(b, 83, 1 << 14);
    ide_put_word(b, 84, 1 << 14);
    ide_put_word(b, 85, 1 << 14 | 1 << 4);
    ide_put_word(b, 87, 1 << 14);
    ide_put_word(b, 88, (uint16_t)(0x3f | ((mode & 0xf8) == 0x40 ?
                                           0x100 << (mode & 7) : 0)));
    ide_put_word(b, 93, 1 << 14 | 1);
    ide_pio_in_prepared(d, ATA_SECTOR);
}

void ide_atapi_reset(IdeDrive *d, bool power_on)
{
    IdeDriveState *ds = ide_ds(d);

    ds->sense_key = SENSE_NONE;
    ds->asc = ds->ascq = 0;
    ds->bcl = 0;
    ds->atapi_dma = 0;
    if (power_on) {
        ds->media_present = d->bd != NULL;
        ds->tray_open = 0;
        ds->tray_locked = 0;
        ds->ua_pending = 0;
        ds->media_event = MEV_NONE;
    }
}

/* ---- media change (monitor) ------------------------------------------ */

static IdeDrive *cd_drive(Ide *ide, unsigned idx)
{
    if (idx >= IDE_CHANNELS * IDE_DRIVES)
        return NULL;
    IdeDrive *d = &ide->ch[idx / IDE_DRIVES].drive[idx % IDE_DRIVES];
    return d->present && d->cdrom ? d : NULL;
}

int ide_cd_eject(Ide *ide, unsigned idx, bool force, BlockDevice **old)
{
    IdeDrive *d = cd_drive(ide, idx);

    *old = NULL;
    if (!d)
        return -ENODEV;
    IdeDriveState *ds = ide_ds(d);
    if (d->req)
        return -EAGAIN;
    if (ds->tray_locked && !force) {
        ds->media_event = MEV_EJECT_REQUEST;
        return -EBUSY;
    }
    *old = d->bd;
    d->bd = NULL;
    if (ds->media_present && !ds->tray_open)
        ds->media_event = MEV_MEDIA_REMOVAL;
    ds->media_present = 0;
    ds->tray_open = 1;
    ds->tray_locked = 0;
    return 0;
}

int ide_cd_insert(Ide *ide, unsigned idx, BlockDevice *bd)
{
    IdeDrive *d = cd_drive(ide, idx);

    if (!d || !bd)
        return -ENODEV;
    if (d->bd)
        return -EBUSY;
    IdeDriveState *ds = ide_ds(d);
    d->bd = bd;
    ds->media_present = 1;
    ds->tray_open = 0;
    ds->ua_pending = 1;
    ds->media_event = MEV_NEW_MEDIA;
    return 0;
}

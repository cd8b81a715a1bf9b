/* The ATA command set of the IDE disks, and the ATA commands a PACKET
 * device answers (see hw/ide.h for the sources).
 *
 * ATA/ATAPI-7 volume 1: IDENTIFY DEVICE data (7.16), READ/WRITE SECTORS
 * (EXT), READ/WRITE MULTIPLE (EXT), READ/WRITE DMA (EXT), READ VERIFY,
 * FLUSH CACHE (EXT), SET FEATURES, SET MULTIPLE MODE, INITIALIZE DEVICE
 * PARAMETERS, READ NATIVE MAX ADDRESS (EXT), CHECK POWER MODE, the idle
 * and standby commands, EXECUTE DEVICE DIAGNOSTIC, DEVICE RESET; volume 2
 * for the protocols.  Addresses are LBA28 (Device bit 6), LBA48 (the EXT
 * commands, high-order bytes in the previous register contents) or CHS
 * through the translation INITIALIZE DEVICE PARAMETERS set.
 *
 * PIO commands are staged through the 64 KiB channel buffer: a read
 * fetches up to 128 sectors asynchronously (BSY meanwhile) and hands them
 * out in DRQ blocks of one sector (or the multiple count), with an
 * interrupt per block; a write collects blocks the same way and writes
 * them out when the buffer is full or the command's data is complete, so
 * the interrupt that asks for the next block comes right away except at
 * a chunk boundary.
 */
#include "hw/ide_internal.h"

#include <errno.h>
#include <string.h>

#include "util/log.h"

#define MAX_MULT_SECTORS    16

void ide_put_word(uint8_t *buf, unsigned word, uint16_t v)
{
    buf[2 * word] = (uint8_t)v;
    buf[2 * word + 1] = (uint8_t)(v >> 8);
}

/* IDENTIFY strings: space padded, two characters per word with the first
 * in the high byte. */
void ide_identify_string(uint8_t *buf, unsigned word, const char *s,
                         unsigned len)
{
    size_t sl = strlen(s);

    for (unsigned i = 0; i < len; i++)
        buf[2 * word + (i ^ 1)] = i < sl ? (uint8_t)s[i] : ' ';
}

static void ata_ok(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    ds->status = ATA_SR_DRDY | ATA_SR_DSC;
    ds->xfer = IDE_XFER_NONE;
    ide_raise(d);
}

static bool cmd_is_lba48(uint8_t cmd)
{
    switch (cmd) {
    case 0x24: case 0x25: case 0x27: case 0x29:
    case 0x34: case 0x35: case 0x39: case 0x42:
        return true;
    default:
        return false;
    }
}

static bool cmd_is_multiple(uint8_t cmd)
{
    return cmd == 0xc4 || cmd == 0x29 || cmd == 0xc5 || cmd == 0x39;
}

/* The starting sector the registers name, or UINT64_MAX for a CHS
 * address outside the translation. */
static uint64_t ata_lba(const IdeDriveState *ds, bool lba48)
{
    if (lba48)
        return (uint64_t)ds->sector | (uint64_t)ds->lcyl << 8 |
               (uint64_t)ds->hcyl << 16 | (uint64_t)ds->hob_sector << 24 |
               (uint64_t)ds->hob_lcyl << 32 | (uint64_t)ds->hob_hcyl << 40;
    if (ds->select & 0x40)
        return (uint64_t)ds->sector | (uint64_t)ds->lcyl << 8 |
               (uint64_t)ds->hcyl << 16 | (uint64_t)(ds->select & 0x0f) << 24;
    unsigned cyl = ds->lcyl | ds->hcyl << 8, head = ds->select & 0x0f;
    if (ds->sector == 0 || ds->sector > ds->sects || head >= ds->heads)
        return UINT64_MAX;
    return ((uint64_t)cyl * ds->heads + head) * ds->sects + ds->sector - 1;
}

static uint32_t ata_count(const IdeDriveState *ds, bool lba48)
{
    if (lba48) {
        uint32_t n = ds->nsector | ds->hob_nsector << 8;
        return n ? n : 65536;
    }
    return ds->nsector ? ds->nsector : 256;
}

/* Put a sector address back in the registers (the error location, or the
 * last sector transferred), in the form the command used. */
static void ata_set_sector(IdeDrive *d, uint64_t lba)
{
    IdeDriveState *ds = ide_ds(d);

    if (cmd_is_lba48(ds->command)) {
        ds->sector = (uint8_t)lba;
        ds->lcyl = (uint8_t)(lba >> 8);
        ds->hcyl = (uint8_t)(lba >> 16);
        ds->hob_sector = (uint8_t)(lba >> 24);
        ds->hob_lcyl = (uint8_t)(lba >> 32);
        ds->hob_hcyl = (uint8_t)(lba >> 40);
    } else if (ds->select & 0x40) {
        ds->sector = (uint8_t)lba;
        ds->lcyl = (uint8_t)(lba >> 8);
        ds->hcyl = (uint8_t)(lba >> 16);
        ds->select = (uint8_t)((ds->select & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (ds->heads && ds->sects) {
        uint64_t per_cyl = (uint64_t)ds->heads * ds->sects;
        uint64_t cyl = lba / per_cyl, r = lba % per_cyl;
        ds->lcyl = (uint8_t)cyl;
        ds->hcyl = (uint8_t)(cyl >> 8);
        ds->select = (uint8_t)((ds->select & 0xf0) | ((r / ds->sects) & 0x0f));
        ds->sector = (uint8_t)(r % ds->sects + 1);
    }
}

static void ata_error(IdeDrive *d, uint8_t err, uint64_t lba)
{
    IdeDriveState *ds = ide_ds(d);

    ata_set_sector(d, lba);
    ds->status = ATA_SR_DRDY | ATA_SR_ERR;
    ds->error = err;
    ds->xfer = IDE_XFER_NONE;
    ds->dma_ready = 0;
    ide_raise(d);
}

/* ---- IDENTIFY DEVICE ---------------------------------------------------- */

static void ata_identify(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    uint8_t *b = d->ch->s->buf;
    uint64_t n = d->sectors, cyls = n / (16 * 63);
    uint64_t lba28 = n < 0x0fffffff ? n : 0x0fffffff;
    uint32_t chs = ds->cyls * ds->heads * ds->sects;
    uint8_t mode = ds->xfer_mode;

    memset(b, 0, ATA_SECTOR);
    ide_put_word(b, 0, 0x0040);                 /* fixed, not removable */
    ide_put_word(b, 1, (uint16_t)(cyls > 16383 ? 16383 : cyls ? cyls : 1));
    ide_put_word(b, 3, 16);
    ide_put_word(b, 6, 63);
    ide_identify_string(b, 10, d->serial, 20);
    ide_identify_string(b, 23, "1.0", 8);
    ide_identify_string(b, 27, d->model, 40);
    ide_put_word(b, 47, 0x8000 | MAX_MULT_SECTORS);
    ide_put_word(b, 49, 1 << 11 | 1 << 9 | 1 << 8);     /* IORDY, LBA, DMA */
    ide_put_word(b, 50, 0x4000);
    ide_put_word(b, 51, 0x200);
    ide_put_word(b, 52, 0x200);
    ide_put_word(b, 53, 0x0007);                /* words 54-58, 64-70, 88 */
    ide_put_word(b, 54, (uint16_t)ds->cyls);
    ide_put_word(b, 55, ds->heads);
    ide_put_word(b, 56, ds->sects);
    ide_put_word(b, 57, (uint16_t)chs);
    ide_put_word(b, 58, (uint16_t)(chs >> 16));
    ide_put_word(b, 59, ds->mult_sectors ? 0x100 | ds->mult_sectors : 0);
    ide_put_word(b, 60, (uint16_t)lba28);
    ide_put_word(b, 61, (uint16_t)(lba28 >> 16));
    ide_put_word(b, 63, (uint16_t)(0x07 | ((mode & 0xf8) == 0x20 ?
                                           0x100 << (mode & 7) : 0)));
    ide_put_word(b, 64, 0x03);                  /* PIO modes 3 and 4 */
    ide_put_word(b, 65, 120);
    ide_put_word(b, 66, 120);
    ide_put_word(b, 67, 120);
    ide_put_word(b, 68, 120);
    ide_put_word(b, 80, 0x00f0);                /* ATA-4 to ATA/ATAPI-7 */
    ide_put_word(b, 81, 0x0016);
    ide_put_word(b, 82, 1 << 14 | 1 << 5);      /* NOP, write cache */
    /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit address. */
    ide_put_word(b, 83, 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10);
    ide_put_word(b, 84, 1 << 14);
    ide_put_word(b, 85, (uint16_t)(1 << 14 | (ds->wcache ? 1 << 5 : 0)));
    ide_put_word(b, 86, 1 << 13 | 1 << 12 | 1 << 10);
    ide_put_word(b, 87, 1 << 14);
    ide_put_word(b, 88, (uint16_t)(0x3f | ((mode & 0xf8) == 0x40 ?
                                           0x100 << (mode & 7) : 0)));
    ide_put_word(b, 93, 1 << 14 | 1 << 13 | 1);
    for (unsigned i = 0; i < 4; i++)
        ide_put_word(b, 100 + i, (uint16_t)(n >> (16 * i)));
    ide_pio_in_prepared(d, ATA_SECTOR);
}

/* ---- reads and writes ------------------------------------------------- */

static uint32_t block_bytes(const IdeDriveState *ds)
{
    return (cmd_is_multiple(ds->command) ? ds->mult_sectors : 1) * ATA_SECTOR;
}

/* The next DRQ block of the staged chunk. */
static void next_drq(IdeDrive *d, bool irq)
{
    IdeDriveState *ds = ide_ds(d);
    uint32_t blk = block_bytes(ds);

    ds->drq_end = ds->end - ds->pos < blk ? ds->end : ds->pos + blk;
    ds->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    if (irq)
        ide_raise(d);
}

static uint32_t chunk_sectors(const IdeDriveState *ds)
{
    uint32_t max = IDE_BUF_SIZE / ATA_SECTOR;
    return ds->remaining < max ? ds->remaining : max;
}

static void read_chunk(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    ds->chunk = chunk_sectors(ds);
    if (ide_submit(d, BLOCK_READ, ds->lba * ATA_SECTOR,
                   (uint64_t)ds->chunk * ATA_SECTOR, false))
        ata_error(d, ATA_ER_ABRT, ds->lba);
}

static void write_chunk_begin(IdeDrive *d, bool irq)
{
    IdeDriveState *ds = ide_ds(d);

    ds->chunk = chunk_sectors(ds);
    ds->pos = 0;
    ds->end = ds->chunk * ATA_SECTOR;
    next_drq(d, irq);
}

/* Common checks of a read or write; false if the command already ended. */
static bool rw_setup(IdeDrive *d, bool write, bool lba48)
{
    IdeDriveState *ds = ide_ds(d);
    uint64_t lba = ata_lba(ds, lba48);
    uint32_t count = ata_count(ds, lba48);

    if (cmd_is_multiple(ds->command) && !ds->mult_sectors) {
        ide_abort(d);
        return false;
    }
    if (write && block_is_readonly(d->bd)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u.%u: write to a read-only disk\n",
                    d->ch->idx, d->unit);
        ide_abort(d);
        return false;
    }
    if (lba == UINT64_MAX || lba > d->sectors || count > d->sectors - lba) {
        ata_error(d, ATA_ER_IDNF, lba == UINT64_MAX ? 0 : lba);
        return false;
    }
    ds->lba = lba;
    ds->remaining = count;
    return true;
}

void ide_ata_pio_done(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    if (ds->pos < ds->end) {
        next_drq(d, true);
        return;
    }
    if (ds->xfer == IDE_XFER_READ) {
        ds->lba += ds->chunk;
        if (ds->remaining) {
            read_chunk(d);
            return;
        }
        /* PIO data-in ends without an interrupt after the last block. */
        ata_set_sector(d, ds->lba - 1);
        ds->status = ATA_SR_DRDY | ATA_SR_DSC;
        ds->xfer = IDE_XFER_NONE;
    } else if (ds->xfer == IDE_XFER_WRITE) {
        if (ide_submit(d, BLOCK_WRITE, ds->lba * ATA_SECTOR, ds->end, false))
            ata_error(d, ATA_ER_ABRT, ds->lba);
    }
}

void ide_ata_dma_run(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    BlockOp op = ds->xfer == IDE_XFER_DMA_READ ? BLOCK_READ : BLOCK_WRITE;

    if (ds->xfer != IDE_XFER_DMA_READ && ds->xfer != IDE_XFER_DMA_WRITE)
        return;
    if (ide_submit(d, op, ds->lba * ATA_SECTOR,
                   (uint64_t)ds->remaining * ATA_SECTOR, true))
        ata_error(d, ATA_ER_ABRT, ds->lba);
}

void ide_ata_req_done(IdeDrive *d, int ret)
{
    IdeDriveState *ds = ide_ds(d);

    if (ret) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u.%u: command %#04x failed: %s\n",
                    d->ch->idx, d->unit, ds->command, strerror(-ret));
        uint8_t err = ATA_ER_ABRT;
        if (ret == -EIO && (ds->xfer == IDE_XFER_READ ||
                            ds->xfer == IDE_XFER_DMA_READ))
            err = ATA_ER_UNC;
        ata_error(d, err, ds->lba);
        return;
    }
    switch (ds->xfer) {
    case IDE_XFER_READ:
        ds->pos = 0;
        ds->end = ds->chunk * ATA_SECTOR;
        ds->remaining -= ds->chunk;
        next_drq(d, true);
        break;
    case IDE_XFER_WRITE:
        ds->lba += ds->chunk;
        ds->remaining -= ds->chunk;
        if (ds->remaining) {
            write_chunk_begin(d, true);
        } else {
            ata_set_sector(d, ds->lba - 1);
            ata_ok(d);
        }
        break;
    case IDE_XFER_DMA_READ:
    case IDE_XFER_DMA_WRITE:
        ata_set_sector(d, ds->lba + ds->remaining - 1);
        ds->lba += ds->remaining;
        ds->remaining = 0;
        ata_ok(d);
        break;
    default:                        /* FLUSH CACHE */
        ata_ok(d);
        break;
    }
}

/* ---- the command register ------------------------------------------- */

static void set_features(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);
    uint8_t m = ds->nsector;

    switch (ds->feature) {
    case 0x02: ds->wcache = 1; break;
    case 0x82: ds->wcache = 0; break;
    case 0x03:      /* transfer mode: PIO default/flow control, MWDMA, UDMA */
        if (m > 0x01 && !(m >= 0x08 && m <= 0x0c) && !(m >= 0x20 && m <= 0x22) &&
            !(m >= 0x40 && m <= 0x45)) {
            ide_abort(d);
            return;
        }
        ds->xfer_mode = m;
        break;
    case 0x55: case 0xaa:           /* read look-ahead */
    case 0x66: case 0xcc:           /* revert to power-on defaults */
        break;
    default:
        LOG_LIMITED(LOG_UNIMP, "ide%u.%u: SET FEATURES %#04x not supported\n",
                    d->ch->idx, d->unit, ds->feature);
        ide_abort(d);
        return;
    }
    ata_ok(d);
}

/* What a PACKET device does with ATA commands (ATA-7 6.x "PACKET command
 * feature set"): most are aborted, IDENTIFY DEVICE and the media access
 * commands with the signature left in the registers, so that a driver
 * probing with them learns it talks to an ATAPI device. */
static void atapi_ata_command(IdeDrive *d, uint8_t cmd)
{
    switch (cmd) {
    case 0x08:                      /* DEVICE RESET */
        ide_drive_reset(d, false);
        break;
    case 0xa0:
        ide_atapi_packet_cmd(d);
        break;
    case 0xa1:
        ide_atapi_identify(d);
        break;
    case 0xef:
        set_features(d);
        break;
    case 0xe5: case 0x98:           /* CHECK POWER MODE */
        ide_ds(d)->nsector = 0xff;
        ata_ok(d);
        break;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe7:
        ata_ok(d);
        break;
    case 0xec: case 0x20: case 0x21: case 0x24: case 0x29: case 0xc4:
    case 0xc8: case 0x25: case 0x30: case 0x34: case 0xca: case 0x35:
        ide_set_signature(d);
        ide_abort(d);
        break;
    default:
        ide_abort(d);
        break;
    }
}

void ide_exec_command(IdeDrive *d, uint8_t cmd)
{
    IdeDriveState *ds = ide_ds(d);
    bool lba48 = cmd_is_lba48(cmd);

    ds->command = cmd;
    if (d->cdrom) {
        atapi_ata_command(d, cmd);
        return;
    }
    switch (cmd) {
    case 0xec:                      /* IDENTIFY DEVICE */
        ata_identify(d);
        break;
    case 0x20: case 0x21: case 0x24: case 0xc4: case 0x29:
        if (rw_setup(d, false, lba48)) {
            ds->xfer = IDE_XFER_READ;
            read_chunk(d);
        }
        break;
    case 0x30: case 0x31: case 0x34: case 0xc5: case 0x39:
        if (rw_setup(d, true, lba48)) {
            ds->xfer = IDE_XFER_WRITE;
            write_chunk_begin(d, false);    /* no interrupt for block 1 */
        }
        break;
    case 0xc8: case 0xc9: case 0x25:
        if (rw_setup(d, false, lba48)) {
            ds->xfer = IDE_XFER_DMA_READ;
            ide_dma_ready(d);
        }
        break;
    case 0xca: case 0xcb: case 0x35:
        if (rw_setup(d, true, lba48)) {
            ds->xfer = IDE_XFER_DMA_WRITE;
            ide_dma_ready(d);
        }
        break;
    case 0x40: case 0x41: case 0x42:    /* READ VERIFY SECTORS (EXT) */
        if (rw_setup(d, false, lba48)) {
            ata_set_sector(d, ds->lba + ds->remaining - 1);
            ata_ok(d);
        }
        break;
    case 0xe7: case 0xea:               /* FLUSH CACHE (EXT) */
        ds->xfer = IDE_XFER_FLUSH;
        if (ide_submit(d, BLOCK_FLUSH, 0, 0, false))
            ata_error(d, ATA_ER_ABRT, 0);
        break;
    case 0xef:
        set_features(d);
        break;
    case 0xc6:                          /* SET MULTIPLE MODE */
        if (ds->nsector > MAX_MULT_SECTORS ||
            (ds->nsector & (ds->nsector - 1))) {
            ide_abort(d);
        } else {
            ds->mult_sectors = ds->nsector;
            ata_ok(d);
        }
        break;
    case 0x91: {                        /* INITIALIZE DEVICE PARAMETERS */
        ds->sects = ds->nsector;
        ds->heads = (uint16_t)((ds->select & 0x0f) + 1);
        uint64_t c = ds->sects ? d->sectors / ((uint64_t)ds->heads * ds->sects) : 0;
        ds->cyls = (uint32_t)(c > 65535 ? 65535 : c);
        ata_ok(d);
        break;
    }
    case 0xf8: {                        /* READ NATIVE MAX ADDRESS */
        uint64_t max = (d->sectors < (1u << 28) ? d->sectors : (1u << 28)) - 1;
        ds->sector = (uint8_t)max;
        ds->lcyl = (uint8_t)(max >> 8);
        ds->hcyl = (uint8_t)(max >> 16);
        ds->select = (uint8_t)((ds->select & 0xf0) | 0x40 | ((max >> 24) & 0x0f));
        ata_ok(d);
        break;
    }
    case 0x27:                          /* READ NATIVE MAX ADDRESS EXT */
        ata_set_sector(d, d->sectors - 1);
        ata_ok(d);
        break;
    case 0xe5: case 0x98:               /* CHECK POWER MODE: active */
        ds->nsector = 0xff;
        ata_ok(d);
        break;
    case 0x70:                          /* SEEK */
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6:
    case 0x94: case 0x95: case 0x96: case 0x97: case 0x99:
        ata_ok(d);
        break;
    default:
        if ((cmd & 0xf0) == 0x10) {     /* RECALIBRATE */
            ata_ok(d);
            break;
        }
        /* NOP, DEVICE RESET and PACKET on a disk, SMART, logs, ... */
        LOG_LIMITED(LOG_UNIMP, "ide%u.%u: ATA command %#04x not supported\n",
                    d->ch->idx, d->unit, cmd);
        ide_abort(d);
        break;
    }
}

/* EXECUTE DEVICE DIAGNOSTIC goes to both drives; device 0 reports for
 * the pair and asserts INTRQ. */
void ide_exec_diagnostic(IdeChannel *ch)
{
    for (unsigned u = 0; u < IDE_DRIVES; u++) {
        ch->s->drive[u].select = 0;
        ide_drive_reset(&ch->drive[u], false);
        ch->s->drive[u].command = 0x90;
    }
    ch->s->cur = 0;
    if (ch->drive[0].present)
        ide_raise(&ch->drive[0]);
}

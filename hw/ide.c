/* PIIX3 IDE: the PCI function, the task-file registers of both channels,
 * INTRQ, the bus master and the requests to the block layer (see
 * hw/ide.h for the sources).  The ATA command set is hw/ide_ata.c, the
 * PACKET devices hw/ide_atapi.c.
 *
 * Interrupts follow ATA-7 5.x: a drive's interrupt is pending from the
 * moment it wants service until the host reads its Status register,
 * writes its Command register or resets it; INTRQ is driven by the
 * selected drive, and released while nIEN is set.  The PIIX latches every
 * assertion of the channel's IRQ in the bus master status (bit 2), which
 * is how Linux's ata_piix tells its DMA completion interrupt from a
 * spurious one.
 */
#include "hw/ide_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* ---- state table ----------------------------------------------------- */

static const StateField ide_drive_fields[] = {
    STATE_U8(IdeDriveState, feature), STATE_U8(IdeDriveState, hob_feature),
    STATE_U8(IdeDriveState, nsector), STATE_U8(IdeDriveState, hob_nsector),
    STATE_U8(IdeDriveState, sector), STATE_U8(IdeDriveState, hob_sector),
    STATE_U8(IdeDriveState, lcyl), STATE_U8(IdeDriveState, hob_lcyl),
    STATE_U8(IdeDriveState, hcyl), STATE_U8(IdeDriveState, hob_hcyl),
    STATE_U8(IdeDriveState, select),
    STATE_U8(IdeDriveState, status), STATE_U8(IdeDriveState, error),
    STATE_U8(IdeDriveState, command), STATE_U8(IdeDriveState, intrq),
    STATE_U8(IdeDriveState, mult_sectors), STATE_U8(IdeDriveState, wcache),
    STATE_U8(IdeDriveState, xfer_mode),
    STATE_U16(IdeDriveState, heads), STATE_U16(IdeDriveState, sects),
    STATE_U32(IdeDriveState, cyls),
    STATE_U8(IdeDriveState, xfer), STATE_U8(IdeDriveState, inflight),
    STATE_U8(IdeDriveState, dma_ready),
    STATE_U64(IdeDriveState, lba), STATE_U32(IdeDriveState, remaining),
    STATE_U32(IdeDriveState, chunk),
    STATE_U32(IdeDriveState, pos), STATE_U32(IdeDriveState, end),
    STATE_U32(IdeDriveState, drq_end),
    STATE_U8_ARRAY(IdeDriveState, packet),
    STATE_U8(IdeDriveState, sense_key), STATE_U8(IdeDriveState, asc),
    STATE_U8(IdeDriveState, ascq), STATE_U8(IdeDriveState, ua_pending),
    STATE_U8(IdeDriveState, media_present), STATE_U8(IdeDriveState, tray_open),
    STATE_U8(IdeDriveState, tray_locked), STATE_U8(IdeDriveState, media_event),
    STATE_U16(IdeDriveState, bcl), STATE_U8(IdeDriveState, atapi_dma),
    STATE_END
};

static const StateDesc ide_drive_desc = {
    .name = "ide-drive", .version = 1, .size = sizeof(IdeDriveState),
    .fields = ide_drive_fields,
};

static const StateField ide_channel_fields[] = {
    STATE_STRUCT_ARRAY(IdeChannelState, drive, ide_drive_desc),
    STATE_U8(IdeChannelState, ctl), STATE_U8(IdeChannelState, cur),
    STATE_U8(IdeChannelState, irq_level),
    STATE_U8(IdeChannelState, bm_cmd), STATE_U8(IdeChannelState, bm_status),
    STATE_U32(IdeChannelState, bm_prd),
    STATE_U8_ARRAY(IdeChannelState, buf),
    STATE_END
};

static const StateDesc ide_channel_desc = {
    .name = "ide-channel", .version = 1, .size = sizeof(IdeChannelState),
    .fields = ide_channel_fields,
};

static const StateField ide_fields[] = {
    STATE_STRUCT(IdeState, pci, pci_device_state_desc),
    STATE_STRUCT_ARRAY(IdeState, ch, ide_channel_desc),
    STATE_END
};

static int ide_post_load(void *state, void *opaque);

/* post_load's opaque is the Ide. */
const StateDesc ide_state_desc = {
    .name = "piix3-ide", .version = 1, .size = sizeof(IdeState),
    .fields = ide_fields, .post_load = ide_post_load,
};

/* ---- interrupts ------------------------------------------------------ */

void ide_update_irq(IdeChannel *ch)
{
    IdeChannelState *s = ch->s;
    IdeDrive *d = &ch->drive[s->cur & 1];
    uint8_t level = d->present && ide_ds(d)->intrq && !(s->ctl & ATA_CTL_NIEN);

    if (level && !s->irq_level)
        s->bm_status |= BM_ST_INTR;
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set(&ch->irq, level);
    }
}

void ide_raise(IdeDrive *d)
{
    ide_ds(d)->intrq = 1;
    ide_update_irq(d->ch);
}

void ide_abort(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    ds->status = ATA_SR_DRDY | ATA_SR_ERR;
    ds->error = ATA_ER_ABRT;
    ds->xfer = IDE_XFER_NONE;
    ds->dma_ready = 0;
    ide_raise(d);
}

/* ATA-7 9.12: what a drive leaves in its registers after a reset tells
 * the host whether it speaks ATA or PACKET. */
void ide_set_signature(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    ds->nsector = 1;
    ds->sector = 1;
    ds->lcyl = d->cdrom ? 0x14 : 0;
    ds->hcyl = d->cdrom ? 0xeb : 0;
    ds->hob_nsector = ds->hob_sector = ds->hob_lcyl = ds->hob_hcyl = 0;
    ds->select &= 0x10;
}

void ide_pio_in_prepared(IdeDrive *d, uint32_t len)
{
    IdeDriveState *ds = ide_ds(d);

    ds->xfer = IDE_XFER_PIO_IN;
    ds->pos = 0;
    ds->end = ds->drq_end = len;
    ds->status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    ide_raise(d);
}

/* ---- reset ------------------------------------------------------------ */

void ide_drive_reset(IdeDrive *d, bool power_on)
{
    IdeDriveState *ds = ide_ds(d);

    ide_abandon(d);
    ds->feature = ds->hob_feature = 0;
    ds->error = 0x01;               /* diagnostics passed */
    ds->status = d->cdrom ? 0 : ATA_SR_DRDY | ATA_SR_DSC;
    ds->command = 0;
    ds->intrq = 0;
    ds->xfer = IDE_XFER_NONE;
    ds->dma_ready = 0;
    ds->pos = ds->end = ds->drq_end = 0;
    ds->remaining = ds->chunk = 0;
    if (power_on) {
        ds->select = 0;
        ds->mult_sectors = 0;
        ds->wcache = 1;
        ds->xfer_mode = 0;
    }
    ide_set_signature(d);
    if (d->cdrom)
        ide_atapi_reset(d, power_on);
    else if (power_on) {
        /* The default translation of IDENTIFY words 1, 3 and 6. */
        uint64_t cyls = d->sectors / (16 * 63);
        ds->heads = 16;
        ds->sects = 63;
        ds->cyls = (uint32_t)(cyls > 16383 ? 16383 : cyls ? cyls : 1);
    }
}

/* ---- the task file ----------------------------------------------------- */

static IdeDrive *cur_drive(IdeChannel *ch)
{
    return &ch->drive[ch->s->cur & 1];
}

static bool xfer_in(uint8_t x)
{
    return x == IDE_XFER_PIO_IN || x == IDE_XFER_READ ||
           x == IDE_XFER_ATAPI_IN || x == IDE_XFER_ATAPI_READ;
}

static bool xfer_out(uint8_t x)
{
    return x == IDE_XFER_WRITE || x == IDE_XFER_PACKET;
}

static void pio_block_done(IdeDrive *d)
{
    IdeDriveState *ds = ide_ds(d);

    if (ds->xfer == IDE_XFER_PIO_IN) {
        ds->status = ATA_SR_DRDY | ATA_SR_DSC;
        ds->xfer = IDE_XFER_NONE;
    } else if (d->cdrom) {
        ide_atapi_pio_done(d);
    } else {
        ide_ata_pio_done(d);
    }
}

static uint32_t data_read(IdeChannel *ch, unsigned size)
{
    IdeDrive *d = cur_drive(ch);
    IdeDriveState *ds = ide_ds(d);
    uint32_t v = 0;

    if (!d->present || !(ds->status & ATA_SR_DRQ) || !xfer_in(ds->xfer)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u: data port read without DRQ\n",
                    ch->idx);
        return size == 4 ? 0xffffffffu : 0xffffu;
    }
    for (unsigned i = 0; i < size; i++)
        if (ds->pos < ds->drq_end)
            v |= (uint32_t)ch->s->buf[ds->pos++] << (8 * i);
    if (ds->pos >= ds->drq_end)
        pio_block_done(d);
    return v;
}

static void data_write(IdeChannel *ch, uint32_t v, unsigned size)
{
    IdeDrive *d = cur_drive(ch);
    IdeDriveState *ds = ide_ds(d);

    if (!d->present || !(ds->status & ATA_SR_DRQ) || !xfer_out(ds->xfer)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u: data port write without DRQ\n",
                    ch->idx);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        if (ds->pos < ds->drq_end)
            ch->s->buf[ds->pos++] = (uint8_t)(v >> (8 * i));
    if (ds->pos >= ds->drq_end)
        pio_block_done(d);
}

static uint8_t reg_read(IdeChannel *ch, unsigned reg)
{
    IdeChannelState *s = ch->s;
    IdeDrive *d = cur_drive(ch);
    IdeDriveState *ds = ide_ds(d);
    bool hob = s->ctl & ATA_CTL_HOB;

    /* An empty channel reads as zeros, so probes that write patterns to
     * the count and LBA registers find nothing; an absent device 1 reads
     * status 0 with device 0 answering for its registers (ATA-7 9.x). */
    if (!ch->drive[0].present && !ch->drive[1].present)
        return 0;
    switch (reg) {
    case 1: return d->present ? ds->error : 0;
    case 2: return hob ? ds->hob_nsector : ds->nsector;
    case 3: return hob ? ds->hob_sector : ds->sector;
    case 4: return hob ? ds->hob_lcyl : ds->lcyl;
    case 5: return hob ? ds->hob_hcyl : ds->hcyl;
    case 6: return ds->select;
    default:
        if (!d->present)
            return 0;
        ds->intrq = 0;
        ide_update_irq(ch);
        return ds->status;
    }
}

static void command_write(IdeChannel *ch, uint8_t cmd)
{
    IdeDrive *d = cur_drive(ch);
    IdeDriveState *ds = ide_ds(d);
    IdeDrive *other = &ch->drive[d->unit ^ 1];

    if (cmd == 0x90) {              /* EXECUTE DEVICE DIAGNOSTIC: both */
        ide_exec_diagnostic(ch);
        return;
    }
    if (!d->present)
        return;
    /* Only DEVICE RESET may interrupt a PACKET device's command. */
    if ((ds->status & (ATA_SR_BSY | ATA_SR_DRQ)) && !(d->cdrom && cmd == 0x08)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u.%u: command %#04x while "
                    "busy, ignored\n", ch->idx, d->unit, cmd);
        return;
    }
    ds->intrq = 0;
    ide_update_irq(ch);
    /* The channel buffer belongs to one command at a time; ATA forbids
     * overlapping commands on the two drives of a cable anyway. */
    if (other->present && ide_ds(other)->xfer != IDE_XFER_NONE) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ide%u.%u: command %#04x while the "
                    "other drive has one in progress\n", ch->idx, d->unit, cmd);
        ds->command = cmd;
        ide_abort(d);
        return;
    }
    ide_exec_command(d, cmd);
}

static void reg_write(IdeChannel *ch, unsigned reg, uint8_t v)
{
    IdeChannelState *s = ch->s;

    s->ctl &= (uint8_t)~ATA_CTL_HOB;    /* any register write clears HOB */
    for (unsigned u = 0; u < IDE_DRIVES && reg >= 1 && reg <= 6; u++) {
        IdeDriveState *ds = &s->drive[u];
        switch (reg) {
        case 1: ds->hob_feature = ds->feature; ds->feature = v; break;
        case 2: ds->hob_nsector = ds->nsector; ds->nsector = v; break;
        case 3: ds->hob_sector = ds->sector; ds->sector = v; break;
        case 4: ds->hob_lcyl = ds->lcyl; ds->lcyl = v; break;
        case 5: ds->hob_hcyl = ds->hcyl; ds->hcyl = v; break;
        case 6: ds->select = v; break;
        }
    }
    if (reg == 6) {
        s->cur = (v >> 4) & 1;
        ide_update_irq(ch);
    } else if (reg == 7) {
        command_write(ch, v);
    }
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    IdeChannel *ch = opaque;
    uint64_t v = 0;

    if (off == 0 && (size == 2 || size == 4))
        return data_read(ch, size);
    for (unsigned i = 0; i < size; i++) {
        unsigned reg = (unsigned)off + i;
        uint8_t b = reg == 0 ? (uint8_t)data_read(ch, 1) : reg_read(ch, reg);
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void cmd_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    IdeChannel *ch = opaque;

    if (off == 0 && (size == 2 || size == 4)) {
        data_write(ch, (uint32_t)value, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        unsigned reg = (unsigned)off + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (reg == 0)
            data_write(ch, b, 1);
        else
            reg_write(ch, reg, b);
    }
}

static const MemOps ide_cmd_ops = {
    .read = cmd_read, .write = cmd_write, .max_access = 4,
};

/* The control block: alternate status (no side effects) and device
 * control (nIEN, SRST, HOB). */
static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    IdeChannel *ch = opaque;
    IdeDrive *d = cur_drive(ch);

    return d->present ? ide_ds(d)->status : 0;
}

static void ctl_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    IdeChannel *ch = opaque;
    IdeChannelState *s = ch->s;
    uint8_t old = s->ctl, v = (uint8_t)value;

    s->ctl = v;
    if (!(old & ATA_CTL_SRST) && (v & ATA_CTL_SRST)) {
        for (unsigned u = 0; u < IDE_DRIVES; u++) {
            IdeDrive *d = &ch->drive[u];
            if (!d->present)
                continue;
            ide_abandon(d);
            ide_ds(d)->xfer = IDE_XFER_NONE;
            ide_ds(d)->dma_ready = 0;
            ide_ds(d)->intrq = 0;
            ide_ds(d)->status = ATA_SR_BSY;
        }
    } else if ((old & ATA_CTL_SRST) && !(v & ATA_CTL_SRST)) {
        /* The reset completes at once; hosts poll BSY anyway.  An absent
         * device 1 gets the ATA signature in its register copy too, so
         * that a driver which found the registers writable classifies it
         * by its zero status as absent rather than as unknown. */
        for (unsigned u = 0; u < IDE_DRIVES; u++) {
            s->drive[u].select = 0;
            ide_drive_reset(&ch->drive[u], false);
        }
        s->cur = 0;
    }
    ide_update_irq(ch);
}

static const MemOps ide_ctl_ops = {
    .read = ctl_read, .write = ctl_write, .max_access = 1,
};

/* ---- the PCI function ------------------------------------------------- */

static const PciDeviceInfo ide_pci_info = {
    .name = "piix3-ide",
    .vendor_id = 0x8086, .device_id = 0x7010,
    .class_code = 0x010180,
    .status = PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK,
};

static const uint16_t chan_base[IDE_CHANNELS] = { IDE_PRIMARY_BASE, IDE_SECONDARY_BASE };
static const uint16_t chan_ctl[IDE_CHANNELS] = { IDE_PRIMARY_CTL, IDE_SECONDARY_CTL };

void ide_reset(Ide *ide)
{
    pci_device_reset(&ide->pci);
    /* IDETIM bit 15 (IDE decode enable) resets to 0 on the chip and the
     * firmware sets it (SeaBIOS writes 8000h to both); Linux's ata_piix
     * skips a channel without it.  Vireo also boots Linux with no
     * firmware at all (-kernel), so the bit starts set, as if firmware
     * had run. */
    ide->s.pci.config[IDE_IDETIM + 1] = 0x80;
    ide->s.pci.config[IDE_IDETIM + 3] = 0x80;
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        IdeChannel *ch = &ide->ch[c];
        IdeChannelState *s = ch->s;
        for (unsigned u = 0; u < IDE_DRIVES; u++)
            ide_drive_reset(&ch->drive[u], true);
        s->ctl = 0;
        s->cur = 0;
        s->bm_cmd = 0;
        s->bm_status = 0;
        s->bm_prd = 0;
        s->irq_level = 0;
        irq_lower(&ch->irq);
    }
}

static void unmap_all(Ide *ide)
{
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        if (ide->mapped[c][0])
            as_unmap(ide->io, chan_base[c]);
        if (ide->mapped[c][1])
            as_unmap(ide->io, chan_ctl[c]);
        ide->mapped[c][0] = ide->mapped[c][1] = false;
    }
}

int ide_new(PciBus *bus, unsigned devfn, const IdeConfig *cfg, Ide **out)
{
    Ide *ide = calloc(1, sizeof(*ide));
    int rc;

    if (!ide)
        return -ENOMEM;
    ide->bus = bus;
    ide->mem = bus->mem;
    ide->io = bus->io;
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        IdeChannel *ch = &ide->ch[c];
        ch->ide = ide;
        ch->idx = c;
        ch->irq = cfg->irq[c];
        ch->s = &ide->s.ch[c];
        for (unsigned u = 0; u < IDE_DRIVES; u++) {
            const IdeDriveConfig *dc = &cfg->drive[c * IDE_DRIVES + u];
            IdeDrive *d = &ch->drive[u];
            d->ch = ch;
            d->unit = u;
            d->bd = dc->bd;
            d->cdrom = dc->cdrom;
            d->present = dc->bd || dc->cdrom;
            if (!d->present)
                continue;
            if (!d->cdrom)
                d->sectors = block_size(d->bd) / ATA_SECTOR;
            snprintf(d->model, sizeof(d->model), "%s", dc->model ? dc->model :
                     d->cdrom ? "VIREO DVD-ROM" : "VIREO HARDDISK");
            if (dc->serial)
                snprintf(d->serial, sizeof(d->serial), "%s", dc->serial);
            else
                snprintf(d->serial, sizeof(d->serial), "VR%05u",
                         c * IDE_DRIVES + u + 1);
        }
    }
    rc = pci_device_register(bus, &ide->pci, &ide->s.pci, devfn, &ide_pci_info, ide);
    if (rc)
        goto fail_free;
    rc = pci_register_bar(&ide->pci, IDE_BMIBA_BAR, PCI_BAR_IO, IDE_BM_SIZE,
                          &ide_bm_ops, ide);
    if (rc)
        goto fail_unreg;
    /* IDETIM and SIDETIM: timing registers the drivers program and read
     * back; IDETIM bit 15 is the decode enable the firmware sets. */
    for (unsigned r = IDE_IDETIM; r <= IDE_SIDETIM; r++)
        ide->pci.wmask[r] = 0xff;
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        rc = as_map_io(ide->io, c ? "ide1" : "ide0", chan_base[c], 8,
                       &ide_cmd_ops, &ide->ch[c]);
        if (rc)
            goto fail_unmap;
        ide->mapped[c][0] = true;
        rc = as_map_io(ide->io, c ? "ide1-ctl" : "ide0-ctl", chan_ctl[c], 1,
                       &ide_ctl_ops, &ide->ch[c]);
        if (rc)
            goto fail_unmap;
        ide->mapped[c][1] = true;
    }
    ide_reset(ide);
    *out = ide;
    return 0;
fail_unmap:
    unmap_all(ide);
fail_unreg:
    pci_device_unregister(&ide->pci);
fail_free:
    free(ide);
    return rc;
}

void ide_drain(Ide *ide)
{
    for (unsigned c = 0; c < IDE_CHANNELS; c++)
        for (unsigned u = 0; u < IDE_DRIVES; u++)
            if (ide->ch[c].drive[u].req)
                block_drain(ide->ch[c].drive[u].bd);
}

void ide_free(Ide *ide)
{
    if (!ide)
        return;
    for (unsigned c = 0; c < IDE_CHANNELS; c++)
        for (unsigned u = 0; u < IDE_DRIVES; u++)
            ide_abandon(&ide->ch[c].drive[u]);
    unmap_all(ide);
    pci_device_unregister(&ide->pci);
    free(ide);
}

PciDevice *ide_pci(Ide *ide)
{
    return &ide->pci;
}

IdeState *ide_state(Ide *ide)
{
    return &ide->s;
}

/* A loaded state is checked like any guest input: indexes and buffer
 * windows are clamped, so a corrupt snapshot cannot make the data port
 * walk off the buffer.  A request that was in flight when the state was
 * saved is gone: its command fails and the guest retries. */
static int ide_post_load(void *state, void *opaque)
{
    Ide *ide = opaque;

    (void)state;
    for (unsigned c = 0; c < IDE_CHANNELS; c++) {
        IdeChannel *ch = &ide->ch[c];
        ch->s->cur &= 1;
        for (unsigned u = 0; u < IDE_DRIVES; u++) {
            IdeDrive *d = &ch->drive[u];
            IdeDriveState *ds = ide_ds(d);
            if (d->req)
                ide_abandon(d);
            if (ds->xfer > IDE_XFER_ATAPI_DMA_READ || ds->end > IDE_BUF_SIZE ||
                ds->drq_end > ds->end || ds->pos > ds->drq_end) {
                ds->xfer = IDE_XFER_NONE;
                ds->pos = ds->end = ds->drq_end = 0;
                ds->status &= (uint8_t)~ATA_SR_DRQ;
            }
            if (d->cdrom && !d->bd)
                ds->media_present = 0;
            if (ds->bcl == 0 || (ds->bcl & 1))
                ds->bcl = 0xfffe;
            if (ds->inflight && d->present) {
                ds->inflight = 0;
                if (d->cdrom)
                    ide_atapi_req_done(d, -ECANCELED);
                else
                    ide_ata_req_done(d, -ECANCELED);
            }
            ds->inflight = 0;
        }
        ide_update_irq(ch);
    }
    return pci_device_post_load(&ide->pci);
}

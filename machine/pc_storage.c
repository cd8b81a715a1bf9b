/* The pc board's disks: the images of -drive/-hda/-cdrom opened through
 * the block layer and attached to their controllers, as QEMU's `pc` does:
 *
 *   PIIX3 IDE 00:01.1, always present (IRQ14 primary, IRQ15 secondary),
 *     slots 0-3 = primary master, primary slave, secondary master,
 *     secondary slave; -cdrom is slot 2;
 *   virtio-blk, transitional, one PCI function per drive from 00:03.0 on,
 *     in command-line order.
 *
 * Completions of disk requests come back through the input queue
 * (EVENT_BLOCK_DONE), so they reach the guest at an instruction boundary
 * that record/replay can reproduce.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machine/pc_internal.h"

#define VIRTIO_FIRST_SLOT 3

static bool is_ide(const DriveConfig *d)
{
    return strcmp(d->interface, "ide") == 0;
}

/* The IDE slot of each IDE drive: its index=, else the first free slot
 * (the options parser has refused duplicates and a full bus). */
static int ide_slot(const VmConfig *cfg, unsigned drive, bool used[4])
{
    const DriveConfig *d = &cfg->drives[drive];
    if (d->index >= 0 && d->index < PC_IDE_SLOTS)
        return d->index;
    for (int s = 0; s < PC_IDE_SLOTS; s++)
        if (!used[s])
            return s;
    return -1;
}

static int open_drive(Pc *pc, unsigned i, char *err, size_t errlen)
{
    const DriveConfig *d = &pc->cfg->drives[i];
    BlockOpenOptions o = {
        .format = d->format, .readonly = d->readonly,
        .snapshot = d->snapshot || pc->cfg->snapshot, .cdrom = d->cdrom,
    };
    char why[512];
    int r = block_open(d->file, &o, &pc->disks[i], why, sizeof(why));
    if (r) {
        snprintf(err, errlen, "-drive: %s", why);
        return r;
    }
    block_set_event_queue(pc->disks[i], &pc->events, i);
    return 0;
}

static int create_ide(Pc *pc, char *err, size_t errlen)
{
    const VmConfig *cfg = pc->cfg;
    IdeConfig ic = {
        .irq = { pc_isa_irq(pc, IDE_PRIMARY_IRQ, PC_IRQ_SRC_ISA),
                 pc_isa_irq(pc, IDE_SECONDARY_IRQ, PC_IRQ_SRC_ISA) },
    };
    bool used[PC_IDE_SLOTS] = { false };
    for (unsigned i = 0; i < cfg->drive_count; i++) {
        if (!is_ide(&cfg->drives[i]))
            continue;
        int s = ide_slot(cfg, i, used);
        if (s < 0) {
            snprintf(err, errlen, "-drive: no free IDE slot for '%s'",
                     cfg->drives[i].file);
            return -EINVAL;
        }
        used[s] = true;
        ic.drive[s].bd = pc->disks[i];
        ic.drive[s].cdrom = cfg->drives[i].cdrom;
    }
    int r = ide_new(pc->pci, IDE_DEVFN, &ic, &pc->ide);
    if (r)
        snprintf(err, errlen, "cannot create the IDE controller: %s", strerror(-r));
    return r;
}

static int create_virtio(Pc *pc, char *err, size_t errlen)
{
    const VmConfig *cfg = pc->cfg;
    unsigned slot = VIRTIO_FIRST_SLOT;
    for (unsigned i = 0; i < cfg->drive_count; i++) {
        if (is_ide(&cfg->drives[i]))
            continue;
        VirtioBlkConfig vc = { .bd = pc->disks[i], .transitional = true };
        int r = virtio_blk_new(pc->pci, PCI_DEVFN(slot, 0), &vc,
                               &pc->virtio_blk[pc->virtio_blk_count]);
        if (r) {
            snprintf(err, errlen, "cannot create virtio-blk for '%s': %s",
                     cfg->drives[i].file, strerror(-r));
            return r;
        }
        pc->virtio_blk_count++;
        slot++;
    }
    return 0;
}

int pc_storage_create(Pc *pc, char *err, size_t errlen)
{
    for (unsigned i = 0; i < pc->cfg->drive_count; i++) {
        int r = open_drive(pc, i, err, errlen);
        if (r)
            return r;
    }
    events_set_sink(&pc->events, EVENT_BLOCK_DONE, block_complete_event, NULL);
    int r = create_ide(pc, err, errlen);
    return r ? r : create_virtio(pc, err, errlen);
}

void pc_storage_reset(Pc *pc)
{
    ide_reset(pc->ide);
    for (unsigned i = 0; i < pc->virtio_blk_count; i++)
        virtio_blk_reset(pc->virtio_blk[i]);
}

void pc_storage_destroy(Pc *pc)
{
    for (unsigned i = pc->virtio_blk_count; i-- > 0;)
        virtio_blk_free(pc->virtio_blk[i]);
    pc->virtio_blk_count = 0;
    if (pc->ide)
        ide_free(pc->ide);
    pc->ide = NULL;
    for (unsigned i = 0; i < CONFIG_MAX_DRIVES; i++) {
        if (pc->disks[i])
            block_close(pc->disks[i]);
        pc->disks[i] = NULL;
    }
}

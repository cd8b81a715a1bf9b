/* The IDE function of the Intel 82371SB PIIX3 (PCI 00:01.1, 8086:7010,
 * class 0101, prog-if 0x80) with up to four drives: ATA disks and ATAPI
 * CD/DVD-ROMs.
 *
 * Sources:
 *  - Intel 82371FB/82371SB (PIIX/PIIX3) datasheet, IDE interface: the
 *    compatibility-mode ports (primary 0x1F0-0x1F7 and 0x3F6 on IRQ14,
 *    secondary 0x170-0x177 and 0x376 on IRQ15), IDETIM (40h-43h) and
 *    SIDETIM (44h), BMIBA (BAR4, 16 bytes of I/O), the bus master
 *    registers (BMICx command: start/stop bit 0, read/write control bit 3;
 *    BMISx status: active bit 0, error bit 1, interrupt bit 2, both R/WC,
 *    drive DMA-capable bits 5-6; BMIDTPx: the physical region descriptor
 *    table address) and the PRD format (dword 0: physical address, bit 0
 *    zero; dword 1: byte count in bits 15:1, 0 meaning 64 KiB, EOT bit 31;
 *    a table never crosses a 64 KiB boundary);
 *  - ATA/ATAPI-6 and -7 (T13/1410D, 1532D): the command and control block
 *    registers, the 48-bit address feature set, the PIO data-in, PIO
 *    data-out, DMA, non-data and PACKET protocols, INTRQ and nIEN, SRST,
 *    signatures, IDENTIFY (PACKET) DEVICE data;
 *  - SFF-8020i and MMC-5 (T10/1675D) with SPC-3 for the ATAPI commands
 *    (hw/ide_atapi.c).
 *
 * As on QEMU's `pc`, both channels stay in compatibility mode and their
 * legacy ports decode whatever IDETIM says; only BAR4 follows the PCI
 * command register.  IDETIM's decode-enable bits start set (the chip
 * resets them to 0 and firmware sets them), because Vireo also boots
 * Linux without firmware and ata_piix ignores a channel without them.
 *
 * Disk I/O never blocks the vCPU: reads and writes go to the block layer
 * asynchronously, the drive shows BSY meanwhile, and the completion comes
 * back through the board's EVENT_BLOCK_DONE sink.  DMA transfers go
 * straight between the image and guest RAM (scatter-gather built from the
 * PRD table); PIO transfers are staged in a 64 KiB buffer per channel.
 *
 * Snapshots: the state is plain data (ide_state_desc), but a request in
 * flight lives in the block layer.  Before saving, the board calls
 * ide_drain() and then delivers pending input events (events_deliver) so
 * that every completion has run; a state saved with a request still in
 * flight loads with that command failed (ABRT), which guests retry.
 */
#ifndef VIREO_HW_IDE_H
#define VIREO_HW_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"
#include "machine/block.h"
#include "machine/irq.h"
#include "machine/state.h"

#define IDE_DEVFN           PCI_DEVFN(1, 1)
#define IDE_CHANNELS        2
#define IDE_DRIVES          2                   /* per channel */
#define IDE_BUF_SIZE        (64u * 1024)        /* PIO staging, per channel */

/* Compatibility-mode resources. */
#define IDE_PRIMARY_BASE    0x1f0
#define IDE_PRIMARY_CTL     0x3f6
#define IDE_PRIMARY_IRQ     14
#define IDE_SECONDARY_BASE  0x170
#define IDE_SECONDARY_CTL   0x376
#define IDE_SECONDARY_IRQ   15

/* PIIX configuration registers. */
#define IDE_IDETIM          0x40    /* 40h-41h primary, 42h-43h secondary */
#define IDE_SIDETIM         0x44
#define IDE_BMIBA_BAR       4
#define IDE_BM_SIZE         16

/* Status register (ATA-7 6.x). */
#define ATA_SR_BSY   0x80
#define ATA_SR_DRDY  0x40
#define ATA_SR_DF    0x20
#define ATA_SR_DSC   0x10    /* seek complete; SERV for PACKET devices */
#define ATA_SR_DRQ   0x08
#define ATA_SR_ERR   0x01

/* Error register. */
#define ATA_ER_ICRC  0x80
#define ATA_ER_UNC   0x40
#define ATA_ER_MC    0x20
#define ATA_ER_IDNF  0x10
#define ATA_ER_MCR   0x08
#define ATA_ER_ABRT  0x04

/* Device control register. */
#define ATA_CTL_NIEN 0x02
#define ATA_CTL_SRST 0x04
#define ATA_CTL_HOB  0x80

/* Bus master registers (per channel, at BMIBA + 8 * channel). */
#define BM_CMD_START     0x01
#define BM_CMD_WRITE     0x08    /* 1: the bus master writes memory */
#define BM_ST_ACTIVE     0x01
#define BM_ST_ERROR      0x02
#define BM_ST_INTR       0x04
#define BM_ST_DMA0       0x20
#define BM_ST_DMA1       0x40

/* One drive's plain-data state.  Each drive keeps its own copy of the
 * command block registers, since writes reach both drives of a channel
 * and only the selected one answers reads. */
typedef struct IdeDriveState {
    uint8_t feature, hob_feature;
    uint8_t nsector, hob_nsector;
    uint8_t sector, hob_sector;
    uint8_t lcyl, hob_lcyl;
    uint8_t hcyl, hob_hcyl;
    uint8_t select;
    uint8_t status, error;
    uint8_t command;
    uint8_t intrq;          /* the drive's interrupt is pending */
    uint8_t mult_sectors;   /* SET MULTIPLE MODE: 0 = off */
    uint8_t wcache;         /* write cache enabled (SET FEATURES 02h/82h) */
    uint8_t xfer_mode;      /* SET FEATURES 03h: the selected mode */
    uint16_t heads, sects;  /* CHS translation in use (91h) */
    uint32_t cyls;
    /* The command in progress. */
    uint8_t xfer;           /* IDE_XFER_* (hw/ide_internal.h) */
    uint8_t inflight;       /* a block request is outstanding */
    uint8_t dma_ready;      /* the DMA command waits for the bus master */
    uint8_t reset_pending;  /* SRST/DEVICE RESET waits for a request */
    uint64_t lba;           /* next sector (512 or 2048 bytes) */
    uint32_t remaining;     /* sectors of the command not yet staged */
    uint32_t chunk;         /* sectors staged in the buffer (PIO) */
    uint32_t pos, end;      /* PIO: buffer window [pos, end) */
    uint32_t drq_end;       /* end of the current DRQ data block */
    /* PACKET devices. */
    uint8_t packet[12];
    uint8_t sense_key, asc, ascq;
    uint8_t ua_pending;     /* UNIT ATTENTION to report (medium changed) */
    uint8_t media_present;
    uint8_t tray_open;
    uint8_t tray_locked;    /* PREVENT ALLOW MEDIUM REMOVAL */
    uint8_t media_event;    /* GET EVENT STATUS NOTIFICATION media event */
    uint16_t bcl;           /* byte count limit of the PACKET command */
    uint8_t atapi_dma;      /* the PACKET command asked for DMA */
} IdeDriveState;

typedef struct IdeChannelState {
    IdeDriveState drive[IDE_DRIVES];
    uint8_t ctl;            /* device control */
    uint8_t cur;            /* selected drive, 0 or 1 */
    uint8_t irq_level;      /* level driven on IRQ14/15 */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;        /* PRD table address */
    uint8_t buf[IDE_BUF_SIZE];
} IdeChannelState;

typedef struct IdeState {
    PciDeviceState pci;
    IdeChannelState ch[IDE_CHANNELS];
} IdeState;

extern const StateDesc ide_state_desc;

/* A drive as the board attaches it.  `bd` NULL with cdrom set is an
 * empty CD-ROM drive; `bd` NULL without cdrom is no drive at all. */
typedef struct IdeDriveConfig {
    BlockDevice *bd;
    bool cdrom;
    const char *model;      /* NULL: "VIREO HARDDISK" / "VIREO DVD-ROM" */
    const char *serial;     /* NULL: "VR" + channel/drive digits */
} IdeDriveConfig;

typedef struct IdeConfig {
    IrqLine irq[IDE_CHANNELS];          /* ISA IRQ14 and IRQ15 */
    /* [channel * 2 + drive]: primary master, primary slave, secondary
     * master, secondary slave. */
    IdeDriveConfig drive[IDE_CHANNELS * IDE_DRIVES];
} IdeConfig;

typedef struct Ide Ide;

/* Attach at `devfn` (IDE_DEVFN on the PC), map the legacy ports in the
 * bus's I/O space.  DMA goes to the bus's memory space.  Returns 0 or
 * -errno (-EEXIST if a port or the devfn is taken, -EINVAL for a bad
 * drive configuration). */
int ide_new(PciBus *bus, unsigned devfn, const IdeConfig *cfg, Ide **out);
/* Power-on state.  A request still in flight is waited for (block_drain)
 * and its completion discarded. */
void ide_reset(Ide *ide);
/* Waits for requests in flight, then detaches.  The board must not
 * deliver EVENT_BLOCK_DONE events for this device's requests afterwards
 * unless they were delivered first (completions of requests that were
 * abandoned by a reset only free memory and stay safe). */
void ide_free(Ide *ide);

/* Wait for every request in flight (before a snapshot; see above). */
void ide_drain(Ide *ide);

/* Removable media of ATAPI drive `idx` (0-3).  Eject opens the tray and
 * removes the medium, handing its BlockDevice back in *old for the caller
 * to close: -EBUSY if the guest locked the tray (unless `force`; the
 * guest then sees an eject request event), -EAGAIN while a request is in
 * flight, -ENODEV for no ATAPI drive there.  Insert puts `bd` in and
 * closes the tray; the guest sees UNIT ATTENTION (medium may have
 * changed) and a new-media event: -EBUSY if a medium is already in. */
int ide_cd_eject(Ide *ide, unsigned idx, bool force, BlockDevice **old);
int ide_cd_insert(Ide *ide, unsigned idx, BlockDevice *bd);

/* The PCI function, for the board and tests. */
PciDevice *ide_pci(Ide *ide);
/* The plain-data state, for state_save/state_load with ide_state_desc. */
IdeState *ide_state(Ide *ide);

#endif

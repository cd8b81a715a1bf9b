/* What hw/ide.c (registers, bus master, requests), hw/ide_ata.c (the ATA
 * command set) and hw/ide_atapi.c (PACKET devices) share.  Private to
 * those three files. */
#ifndef VIREO_HW_IDE_INTERNAL_H
#define VIREO_HW_IDE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/dma.h"
#include "hw/ide.h"

/* What the command in progress is doing (IdeDriveState.xfer). */
enum {
    IDE_XFER_NONE,
    IDE_XFER_PIO_IN,        /* a prepared block (IDENTIFY) to the host */
    IDE_XFER_READ,          /* ATA PIO read, staged chunk by chunk */
    IDE_XFER_WRITE,         /* ATA PIO write, staged chunk by chunk */
    IDE_XFER_DMA_READ,      /* ATA READ DMA */
    IDE_XFER_DMA_WRITE,     /* ATA WRITE DMA */
    IDE_XFER_FLUSH,         /* FLUSH CACHE */
    IDE_XFER_PACKET,        /* receiving the 12-byte command packet */
    IDE_XFER_ATAPI_IN,      /* a prepared reply, PIO */
    IDE_XFER_ATAPI_READ,    /* READ(10/12), PIO, staged */
    IDE_XFER_ATAPI_DMA_IN,  /* a prepared reply, DMA */
    IDE_XFER_ATAPI_DMA_READ,/* READ(10/12), DMA */
};

#define ATA_SECTOR      512
#define CD_SECTOR       2048

/* ATAPI interrupt reason (the sector count register). */
#define ATAPI_IR_COD    0x01
#define ATAPI_IR_IO     0x02

typedef struct Ide Ide;
typedef struct IdeChannel IdeChannel;
typedef struct IdeReq IdeReq;

typedef struct IdeDrive {
    IdeChannel *ch;
    unsigned unit;              /* 0 master, 1 slave */
    BlockDevice *bd;
    bool present, cdrom;
    char model[41], serial[21];
    uint64_t sectors;           /* 512-byte sectors of a disk */
    IdeReq *req;                /* the request in flight, or NULL */
} IdeDrive;

struct IdeChannel {
    Ide *ide;
    unsigned idx;
    IrqLine irq;
    IdeChannelState *s;
    IdeDrive drive[IDE_DRIVES];
};

struct Ide {
    IdeState s;
    PciDevice pci;
    PciBus *bus;
    AddressSpace *mem, *io;
    IdeChannel ch[IDE_CHANNELS];
    bool mapped[IDE_CHANNELS][2];
};

/* A request handed to the block layer.  It owns everything the I/O
 * thread touches, so that a reset can abandon it (drive = NULL) and its
 * completion later only frees memory. */
struct IdeReq {
    BlockRequest br;
    IdeDrive *drive;
    bool dma;
    bool prd_exact;             /* the transfer ends the PRD table */
    uint8_t *bounce;            /* PIO staging copy */
    struct iovec one;
    DmaSg sg;
};

static inline IdeDriveState *ide_ds(const IdeDrive *d)
{
    return &d->ch->s->drive[d->unit];
}

/* ide.c */
void ide_update_irq(IdeChannel *ch);
void ide_raise(IdeDrive *d);
void ide_abort(IdeDrive *d);
void ide_set_signature(IdeDrive *d);
/* ide_dma.c */
extern const MemOps ide_bm_ops;
/* Hand the transfer of [offset, offset + len) to the block layer: PIO
 * through the channel buffer, or DMA through the bus master's PRD table.
 * Returns 0 (BSY is set), or -errno with the command not started
 * (-EFAULT: the PRD table is bad, the bus master error bit is set). */
int ide_submit(IdeDrive *d, BlockOp op, uint64_t offset, uint64_t len,
               bool dma);
/* Hand a prepared buffer of `len` bytes to the host in one DRQ block
 * (IDENTIFY data), with an interrupt. */
void ide_pio_in_prepared(IdeDrive *d, uint32_t len);
/* Copy `len` bytes of the channel buffer to memory through the PRD
 * table (ATAPI replies in DMA mode).  0 or -EFAULT. */
int ide_dma_from_buffer(IdeDrive *d, uint32_t len);
/* The DMA command is set up: transfer once the bus master is started. */
void ide_dma_ready(IdeDrive *d);
/* Drop a request in flight (waits for the I/O to finish). */
void ide_abandon(IdeDrive *d);
/* Power-on / reset state of a drive: registers, signature, status. */
void ide_drive_reset(IdeDrive *d, bool power_on);

/* ide_ata.c */
void ide_exec_command(IdeDrive *d, uint8_t cmd);
void ide_exec_diagnostic(IdeChannel *ch);
void ide_ata_pio_done(IdeDrive *d);
void ide_ata_req_done(IdeDrive *d, int ret);
void ide_ata_dma_run(IdeDrive *d);
void ide_identify_string(uint8_t *buf, unsigned word, const char *s,
                         unsigned len);
void ide_put_word(uint8_t *buf, unsigned word, uint16_t v);

/* ide_atapi.c */
void ide_atapi_identify(IdeDrive *d);
void ide_atapi_packet_cmd(IdeDrive *d);
void ide_atapi_pio_done(IdeDrive *d);
void ide_atapi_req_done(IdeDrive *d, int ret);
void ide_atapi_dma_run(IdeDrive *d);
void ide_atapi_reset(IdeDrive *d, bool power_on);

#endif

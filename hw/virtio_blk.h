/* virtio-blk over virtio-pci (Virtio 1.1, 5.2 "Block Device"): one
 * request queue of 256 entries; requests IN, OUT, FLUSH, GET_ID, DISCARD
 * and WRITE_ZEROES; features SEG_MAX, BLK_SIZE, FLUSH, DISCARD,
 * WRITE_ZEROES (or RO for a read-only image), plus the transport's
 * INDIRECT_DESC and EVENT_IDX.  Modern-only (1AF4:1042) or transitional
 * (1AF4:1001, with the legacy I/O interface) as the board chooses; QEMU's
 * default, and what older guests need, is transitional.
 *
 * Requests never block the vCPU: each one becomes a block-layer request
 * that reads or writes guest RAM directly, and its completion (delivered
 * through the board's EVENT_BLOCK_DONE sink) writes the status byte,
 * fills the used ring and interrupts.  A device reset waits for the I/O
 * in flight (block_drain) and abandons those requests, so the driver may
 * reuse the memory as soon as the reset returns.
 *
 * Snapshots: requests in flight are not part of the state.  Before saving,
 * the board calls virtio_blk_drain() and then delivers the pending input
 * events, so every taken request has been returned to the used ring.
 */
#ifndef VIREO_HW_VIRTIO_BLK_H
#define VIREO_HW_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"
#include "hw/virtio_pci.h"
#include "machine/block.h"
#include "machine/state.h"

#define VIRTIO_ID_BLOCK             2
#define VIRTIO_BLK_QUEUE_SIZE       256
#define VIRTIO_BLK_CONFIG_SIZE      0x3c

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX       1
#define VIRTIO_BLK_F_SEG_MAX        2
#define VIRTIO_BLK_F_GEOMETRY       4
#define VIRTIO_BLK_F_RO             5
#define VIRTIO_BLK_F_BLK_SIZE       6
#define VIRTIO_BLK_F_FLUSH          9
#define VIRTIO_BLK_F_TOPOLOGY       10
#define VIRTIO_BLK_F_CONFIG_WCE     11
#define VIRTIO_BLK_F_MQ             12
#define VIRTIO_BLK_F_DISCARD        13
#define VIRTIO_BLK_F_WRITE_ZEROES   14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN             0
#define VIRTIO_BLK_T_OUT            1
#define VIRTIO_BLK_T_FLUSH          4
#define VIRTIO_BLK_T_GET_ID         8
#define VIRTIO_BLK_T_DISCARD        11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_S_OK             0
#define VIRTIO_BLK_S_IOERR          1
#define VIRTIO_BLK_S_UNSUPP         2
#define VIRTIO_BLK_ID_BYTES         20
#define VIRTIO_BLK_WZ_UNMAP         1

/* Limits advertised in the configuration space. */
#define VIRTIO_BLK_SEG_MAX          (VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIRTIO_BLK_MAX_DISCARD_SECTORS  0x3fffffu
#define VIRTIO_BLK_MAX_DISCARD_SEG      16
#define VIRTIO_BLK_DISCARD_ALIGNMENT    8   /* sectors: 4 KiB */
#define VIRTIO_BLK_MAX_WZ_SECTORS       65536u
#define VIRTIO_BLK_MAX_WZ_SEG           16

typedef struct VirtioBlkState {
    VirtioPciState vp;
} VirtioBlkState;

/* post_load's opaque is the VirtioBlk. */
extern const StateDesc virtio_blk_state_desc;

typedef struct VirtioBlkConfig {
    BlockDevice *bd;
    bool transitional;
    const char *serial;     /* GET_ID; NULL: none (an empty string) */
} VirtioBlkConfig;

typedef struct VirtioBlk VirtioBlk;

int virtio_blk_new(PciBus *bus, unsigned devfn, const VirtioBlkConfig *cfg,
                   VirtioBlk **out);
void virtio_blk_reset(VirtioBlk *b);
/* Abandons requests in flight (after waiting for their I/O); their late
 * completions only free memory. */
void virtio_blk_free(VirtioBlk *b);
/* Wait for the I/O of every request in flight (before a snapshot). */
void virtio_blk_drain(VirtioBlk *b);
PciDevice *virtio_blk_pci(VirtioBlk *b);
/* The plain-data state, for state_save/state_load. */
VirtioBlkState *virtio_blk_state(VirtioBlk *b);

#endif

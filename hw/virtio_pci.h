/* The virtio PCI transport and split virtqueues, shared by every virtio
 * device (virtio-blk first).
 *
 * Follows the Virtio 1.1 specification (OASIS, csprd01/cs01): 4.1 (Virtio
 * over PCI: vendor 1AF4h, device 1040h + type for modern-only devices and
 * 1000h + type - 1 for transitional ones with the subsystem device ID
 * equal to the type; the vendor-specific capabilities for the common,
 * notify, ISR, device-specific and PCI configuration access structures;
 * the legacy I/O BAR layout of 4.1.4.8), 2.1 (device status), 2.2
 * (feature bits, VIRTIO_F_VERSION_1 = 32), 2.6 (split virtqueues:
 * descriptor table, available ring, used ring, indirect descriptors,
 * VIRTIO_F_EVENT_IDX notification suppression, the legacy layout with
 * 4096-byte alignment).
 *
 * Layout: a transitional device has the legacy registers in I/O BAR0; both
 * kinds have the modern structures in a 16 KiB 64-bit memory BAR4 (common
 * configuration at 0x0000, ISR at 0x1000, device configuration at 0x2000,
 * notifications at 0x3000 + 4 * queue).  Interrupts are INTx (INTA#); MSI-X
 * is not offered, so vector registers read NO_VECTOR.
 *
 * A virtqueue is walked with every guest-supplied number checked: ring
 * and descriptor addresses must be in RAM, indexes in range, chains no
 * longer than the queue (or the indirect table), device-writable buffers
 * after the device-readable ones, indirect tables not nested.  A guest
 * that breaks a rule gets the device marked DEVICE_NEEDS_RESET (with a
 * configuration-change interrupt once DRIVER_OK is set), a rate-limited
 * -d guest_errors line, and no further processing until it resets the
 * device; the emulator never crashes on it.
 */
#ifndef VIREO_HW_VIRTIO_PCI_H
#define VIREO_HW_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/dma.h"
#include "hw/pci.h"
#include "machine/state.h"

#define VIRTIO_PCI_VENDOR       0x1af4
#define VIRTIO_QUEUES_MAX       4       /* per device */
#define VIRTIO_BAR_LEGACY       0
#define VIRTIO_BAR_MODERN       4
#define VIRTIO_MODERN_BAR_SIZE  0x4000
#define VIRTIO_COMMON_OFF       0x0000
#define VIRTIO_ISR_OFF          0x1000
#define VIRTIO_DEVICE_OFF       0x2000
#define VIRTIO_NOTIFY_OFF       0x3000
#define VIRTIO_NOTIFY_MULT      4
#define VIRTIO_LEGACY_CONFIG    0x14    /* device config in BAR0, no MSI-X */
#define VIRTIO_INDIRECT_MAX     1024    /* entries of one indirect table */

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE   0x01
#define VIRTIO_STATUS_DRIVER        0x02
#define VIRTIO_STATUS_DRIVER_OK     0x04
#define VIRTIO_STATUS_FEATURES_OK   0x08
#define VIRTIO_STATUS_NEEDS_RESET   0x40
#define VIRTIO_STATUS_FAILED        0x80

/* Transport feature bits (6). */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24
#define VIRTIO_F_ANY_LAYOUT         27
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

/* Descriptor flags and ring flags (2.6). */
#define VIRTQ_DESC_F_NEXT       1
#define VIRTQ_DESC_F_WRITE      2
#define VIRTQ_DESC_F_INDIRECT   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY  1

/* ISR bits. */
#define VIRTIO_ISR_QUEUE        0x01
#define VIRTIO_ISR_CONFIG       0x02

/* PCI capability cfg_type values (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

typedef struct VirtqState {
    uint64_t desc, avail, used;     /* guest-physical ring addresses */
    uint32_t pfn;                   /* legacy: queue address >> 12 */
    uint16_t size;
    uint16_t last_avail;            /* next available entry to take */
    uint16_t used_idx;              /* next used entry to fill */
    uint16_t signalled_used;        /* used_idx at the last interrupt */
    uint8_t signalled_valid;
    uint8_t enabled;
} VirtqState;

/* Plain-data transport state; nest it in the device's state with
 * STATE_STRUCT(FooState, vp, virtio_pci_state_desc). */
typedef struct VirtioPciState {
    PciDeviceState pci;
    uint64_t guest_features;
    uint32_t dfselect, gfselect;
    uint16_t queue_sel;
    uint8_t status;
    uint8_t isr;
    uint8_t config_generation;
    uint8_t legacy;                 /* the driver uses the legacy registers */
    uint8_t broken;                 /* DEVICE_NEEDS_RESET was raised */
    VirtqState vq[VIRTIO_QUEUES_MAX];
} VirtioPciState;

extern const StateDesc virtio_pci_state_desc;

typedef struct VirtioPci VirtioPci;

/* What a device adds to the transport.  Callbacks run on the vCPU
 * thread. */
typedef struct VirtioDeviceOps {
    /* Device feature bits (the transport adds its own). */
    uint64_t (*features)(VirtioPci *vp);
    /* Device configuration space: `len` bytes at `off`, inside
     * config_size (the transport checks). */
    void (*config_read)(VirtioPci *vp, uint32_t off, uint8_t *buf, uint32_t len);
    void (*config_write)(VirtioPci *vp, uint32_t off, const uint8_t *buf,
                         uint32_t len);
    /* The driver notified queue `q` (already checked to be usable). */
    void (*queue_notify)(VirtioPci *vp, unsigned q);
    /* Device reset (status 0 written, or power-on): abandon every request
     * in flight; the transport resets its own state after this returns. */
    void (*reset)(VirtioPci *vp);
} VirtioDeviceOps;

typedef struct VirtioPciConfig {
    const char *name;
    uint16_t device_type;           /* 2: block */
    uint32_t class_code;
    bool transitional;              /* also expose the legacy interface */
    unsigned num_queues;
    uint16_t queue_max;             /* a power of two, at most 32768 */
    uint32_t config_size;
    const VirtioDeviceOps *ops;
    void *opaque;                   /* the device, for its callbacks */
} VirtioPciConfig;

struct VirtioPci {
    VirtioPciState *s;
    PciDevice pci;
    PciDeviceInfo info;
    VirtioPciConfig cfg;
    AddressSpace *mem;
};

/* The scatter-gather lists of one available descriptor chain. */
typedef struct VirtqElement {
    uint16_t head;
    DmaSg out;                      /* device-readable */
    DmaSg in;                       /* device-writable */
} VirtqElement;

/* Register at `devfn` with its BARs and capabilities; `s` lives in the
 * device's state.  Returns 0 or -errno. */
int virtio_pci_init(VirtioPci *vp, VirtioPciState *s, PciBus *bus,
                    unsigned devfn, const VirtioPciConfig *cfg);
void virtio_pci_exit(VirtioPci *vp);
/* Power-on: PCI header, capabilities, transport state (calls ops->reset). */
void virtio_pci_reset(VirtioPci *vp);
/* For the device's post_load: check the loaded numbers, redo BARs. */
int virtio_pci_post_load(VirtioPci *vp);

bool virtio_has_feature(const VirtioPci *vp, unsigned bit);
/* Queue `q` exists, is enabled, the driver is running, nothing broke. */
bool virtio_queue_usable(const VirtioPci *vp, unsigned q);
/* INTx follows the ISR. */
void virtio_pci_update_irq(VirtioPci *vp);
/* Tell the driver the device configuration changed. */
void virtio_pci_config_changed(VirtioPci *vp);
/* The guest broke the protocol: log, DEVICE_NEEDS_RESET, stop. */
void virtio_pci_set_broken(VirtioPci *vp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* hw/virtqueue.c.  Take the next available chain of queue `q`: 1 with *out set, 0 if
 * there is none, -EIO if the device is (now) broken. */
int virtq_pop(VirtioPci *vp, unsigned q, VirtqElement **out);
/* Return a chain in the used ring, `len` bytes written into its
 * device-writable buffers.  Nothing happens once the device is broken or
 * reset. */
void virtq_push(VirtioPci *vp, unsigned q, const VirtqElement *e, uint32_t len);
/* Interrupt the driver for queue `q` unless it suppressed that. */
void virtq_notify(VirtioPci *vp, unsigned q);
void virtq_element_free(VirtqElement *e);

#endif

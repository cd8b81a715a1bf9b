/* PCI bus 0 of the PC: configuration mechanism #1, type-0 headers, BARs
 * and INTx routing.
 *
 * Follows the PCI Local Bus Specification 3.0: 3.2.2.3.2 (configuration
 * mechanism #1 at ports 0xCF8/0xCFC), 6.1-6.2 (the type-0 header:
 * command, status, BARs, interrupt line/pin), 6.2.5 (BAR sizing and
 * decoding) and 2.2.6 (INTA#-INTD#, shared and level-triggered).
 *
 * A device embeds a `PciDevice` in its runtime struct and a
 * `PciDeviceState` (the 256 configuration bytes and the INTx level) in its
 * plain-data state (nest it with STATE_STRUCT(FooState, pci,
 * pci_device_state_desc)), and calls pci_device_register().  The bus then
 * answers configuration cycles: generic header handling (write masks,
 * write-one-to-clear status bits, BAR sizing) is done here, and a device
 * may hook reads and writes for its own registers.  Whenever the command
 * register or a BAR changes, the bus maps each enabled, programmed BAR at
 * its address in the memory or I/O AddressSpace and unmaps it when it
 * moves; a BAR the guest puts over something else is logged under
 * `-d guest_errors` and stays unmapped until it is moved.
 *
 * INTx: a device calls pci_set_irq(); the bus maps (device, pin) to one of
 * four board interrupt lines (PIRQA-D on the PC) through a router the
 * board or the ISA bridge installs, and reports each line's wired-OR level.
 */
#ifndef VIREO_HW_PCI_H
#define VIREO_HW_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/state.h"
#include "mmu/addrspace.h"

#define PCI_DEVFN(slot, fn)  ((unsigned)(((slot) << 3) | (fn)))
#define PCI_SLOT(devfn)      (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)      ((devfn) & 7)

#define PCI_CONFIG_SIZE      256
#define PCI_NUM_BARS         6
#define PCI_ROM_SLOT         6      /* bars[6] is the expansion ROM */
#define PCI_NUM_PIRQ         4
#define PCI_BAR_UNMAPPED     UINT64_MAX

/* The configuration mechanism #1 ports (PCI 3.0, 3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT    0xcfc

/* Type-0 header offsets (PCI 3.0, 6.1). */
#define PCI_VENDOR_ID        0x00
#define PCI_DEVICE_ID        0x02
#define PCI_COMMAND          0x04
#define PCI_STATUS           0x06
#define PCI_REVISION_ID      0x08
#define PCI_CLASS_PROG       0x09
#define PCI_CLASS_DEVICE     0x0a
#define PCI_CACHE_LINE_SIZE  0x0c
#define PCI_LATENCY_TIMER    0x0d
#define PCI_HEADER_TYPE      0x0e
#define PCI_BIST             0x0f
#define PCI_BASE_ADDRESS_0   0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID     0x2e
#define PCI_ROM_ADDRESS      0x30
#define PCI_CAPABILITY_LIST  0x34
#define PCI_INTERRUPT_LINE   0x3c
#define PCI_INTERRUPT_PIN    0x3d
#define PCI_MIN_GNT          0x3e
#define PCI_MAX_LAT          0x3f

/* Command register bits (PCI 3.0, 6.2.2). */
#define PCI_COMMAND_IO           0x0001
#define PCI_COMMAND_MEMORY       0x0002
#define PCI_COMMAND_MASTER       0x0004
#define PCI_COMMAND_SPECIAL      0x0008
#define PCI_COMMAND_INVALIDATE   0x0010
#define PCI_COMMAND_VGA_PALETTE  0x0020
#define PCI_COMMAND_PARITY       0x0040
#define PCI_COMMAND_SERR         0x0100
#define PCI_COMMAND_FAST_BACK    0x0200
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* Status register bits (PCI 3.0, 6.2.3). */
#define PCI_STATUS_INTERRUPT     0x0008
#define PCI_STATUS_CAP_LIST      0x0010
#define PCI_STATUS_66MHZ         0x0020
#define PCI_STATUS_FAST_BACK     0x0080
#define PCI_STATUS_DEVSEL_MEDIUM 0x0200

#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80

/* BAR kinds: these are also the read-only low bits of the BAR register
 * (PCI 3.0, 6.2.5.1), so they can be or-ed into it directly. */
#define PCI_BAR_MEM32    0x00
#define PCI_BAR_IO       0x01
#define PCI_BAR_MEM64    0x04
#define PCI_BAR_PREFETCH 0x08

#define PCI_ROM_ENABLE   0x01

/* Plain-data state of one PCI function (contract 3). */
typedef struct PciDeviceState {
    uint8_t config[PCI_CONFIG_SIZE];
    uint8_t irq_level;      /* 1 while the function asserts its INTx pin */
} PciDeviceState;

extern const StateDesc pci_device_state_desc;

typedef struct PciBusState {
    uint32_t config_address;    /* CONFIG_ADDRESS at 0xCF8 */
} PciBusState;

extern const StateDesc pci_bus_state_desc;

typedef struct PciBus PciBus;
typedef struct PciDevice PciDevice;

/* What the function looks like at power-on, and its hooks. */
typedef struct PciDeviceInfo {
    const char *name;           /* used for region names and log lines */
    uint16_t vendor_id, device_id;
    uint8_t revision;
    uint32_t class_code;        /* base << 16 | sub-class << 8 | prog-if */
    uint8_t header_type;        /* 0; the multi-function bit is computed */
    uint16_t subsystem_vendor_id, subsystem_id;  /* 0: QEMU's 1af4:1100 */
    uint8_t irq_pin;            /* 0 none, 1 INTA# ... 4 INTD# */
    uint16_t status;            /* power-on status (DEVSEL timing, caps) */
    /* Optional.  `reg` + `len` never crosses a dword; `len` is 1, 2 or 4.
     * A read hook returns the value (it may call pci_default_config_read);
     * a write hook replaces the default handling and usually calls
     * pci_default_config_write() for the bytes it does not own. */
    uint32_t (*config_read)(PciDevice *d, unsigned reg, unsigned len);
    void (*config_write)(PciDevice *d, unsigned reg, uint32_t val,
                         unsigned len);
} PciDeviceInfo;

/* A base address register: what backs it and where it is mapped now. */
typedef struct PciBar {
    uint64_t size;              /* 0: not implemented */
    uint8_t type;               /* PCI_BAR_* */
    const MemOps *ops;          /* device registers, or ... */
    void *opaque;
    uint8_t *host;              /* ... host memory (RAM-like, or the ROM) */
    bool mapped;
    uint64_t addr;              /* where it is mapped, if mapped */
    uint64_t refused;           /* last address that failed to map (logged
                                   once), PCI_BAR_UNMAPPED if none */
} PciBar;

/* Runtime part of a function; embed it in the device's runtime struct. */
struct PciDevice {
    PciDeviceState *s;
    PciBus *bus;
    const PciDeviceInfo *info;
    void *opaque;               /* the device, for hooks */
    uint8_t devfn;
    uint8_t wmask[PCI_CONFIG_SIZE];   /* guest-writable bits */
    uint8_t w1cmask[PCI_CONFIG_SIZE]; /* write-one-to-clear bits */
    PciBar bars[PCI_NUM_BARS + 1];
};

/* The four board interrupt lines and how functions reach them. */
typedef struct PciIrqRouter {
    /* Which line (0-3) a function's pin (0 = INTA#) is wired to, or -1. */
    int (*map)(void *opaque, unsigned devfn, unsigned pin);
    /* The wired-OR level of line `pirq` (called on every recompute; the
     * receiver filters unchanged levels). */
    void (*set)(void *opaque, int pirq, int level);
    void *opaque;
} PciIrqRouter;

/* Byte accesses to 0xCF9 that are not part of CONFIG_ADDRESS (the PIIX's
 * reset control register shares the dword at 0xCF8). */
typedef struct PciCf9Handler {
    uint8_t (*read)(void *opaque);
    void (*write)(void *opaque, uint8_t value);
    void *opaque;
} PciCf9Handler;

struct PciBus {
    PciBusState s;
    AddressSpace *mem, *io;
    PciDevice *devs[256];       /* by devfn */
    PciIrqRouter router;
    PciCf9Handler cf9;
    bool io_mapped;
};

/* Create bus 0 and map CONFIG_ADDRESS/CONFIG_DATA at 0xCF8-0xCFF in `io`.
 * Returns 0 or -errno (-EEXIST if the ports are taken). */
int pci_bus_new(AddressSpace *mem, AddressSpace *io, PciBus **out);
void pci_bus_free(PciBus *bus);
/* CONFIG_ADDRESS back to 0.  Devices are reset by their own foo_reset. */
void pci_bus_reset(PciBus *bus);

void pci_bus_set_irq_router(PciBus *bus, const PciIrqRouter *router);
void pci_bus_set_cf9_handler(PciBus *bus, const PciCf9Handler *h);

/* Configuration cycles on bus 0 as the guest would issue them (for board
 * code, ACPI generation and tests).  Absent functions read as all-ones. */
uint32_t pci_bus_config_read(PciBus *bus, unsigned devfn, unsigned reg,
                             unsigned len);
void pci_bus_config_write(PciBus *bus, unsigned devfn, unsigned reg,
                          uint32_t val, unsigned len);

/* Recompute every BAR mapping on the bus and every PIRQ level. */
void pci_bus_update_mappings(PciBus *bus);
void pci_bus_update_irqs(PciBus *bus);

/* Attach a function at `devfn`.  `s` is the caller's state (usually inside
 * its FooState); the header is initialised from `info`, which must outlive
 * the device.  Returns 0, -EEXIST if the devfn is taken or -EINVAL. */
int pci_device_register(PciBus *bus, PciDevice *d, PciDeviceState *s,
                        unsigned devfn, const PciDeviceInfo *info,
                        void *opaque);
/* Detach: unmap the BARs and drop the INTx level. */
void pci_device_unregister(PciDevice *d);

/* Declare a BAR before the first reset.  `size` is a power of two, at
 * least 4 for I/O (at most 256) and 16 for memory; a 64-bit BAR takes
 * slots idx and idx+1.  Either device registers (`ops`) or host memory
 * mapped as RAM (a framebuffer).  Returns 0 or -EINVAL. */
int pci_register_bar(PciDevice *d, int idx, uint8_t type, uint64_t size,
                     const MemOps *ops, void *opaque);
int pci_register_bar_ram(PciDevice *d, int idx, uint8_t type, uint64_t size,
                         uint8_t *host);
/* The expansion ROM (offset 0x30): `size` bytes (a power of two, at least
 * 2 KiB) of host memory, mapped read-only when enabled. */
int pci_register_rom(PciDevice *d, uint64_t size, uint8_t *host);

/* Power-on header: ids, class, BAR kinds, command 0, the line register 0;
 * BARs unmapped and INTx deasserted.  Device resets call this first and
 * then set their own registers. */
void pci_device_reset(PciDevice *d);
/* For the device's post_load: redo the BAR mappings.  Wire levels (INTx,
 * PIRQ) are part of the saved states, so nothing is re-raised. */
int pci_device_post_load(PciDevice *d);

/* Assert (1) or deassert (0) the function's INTx pin (level-triggered). */
void pci_set_irq(PciDevice *d, int level);

/* Where BAR `idx` (or PCI_ROM_SLOT) is mapped, or PCI_BAR_UNMAPPED. */
uint64_t pci_bar_address(const PciDevice *d, int idx);

uint32_t pci_default_config_read(PciDevice *d, unsigned reg, unsigned len);
void pci_default_config_write(PciDevice *d, unsigned reg, uint32_t val,
                              unsigned len);

/* Little-endian helpers on a function's configuration bytes. */
static inline uint16_t pci_get_word(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pci_get_long(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void pci_set_word(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif

/* PCI bus 0: configuration mechanism #1, type-0 headers, BAR decoding and
 * INTx routing (see hw/pci.h).
 *
 * Sources: PCI Local Bus Specification 3.0 -
 *   3.2.2.3.2  configuration mechanism #1: CONFIG_ADDRESS is claimed only
 *              by dword accesses to 0xCF8; other accesses to 0xCF8-0xCFB
 *              are ordinary I/O cycles (which is how the PIIX's reset
 *              control register at 0xCF9 coexists with it).  Bits 30:24
 *              and 1:0 are reserved and read as 0.  CONFIG_DATA at
 *              0xCFC-0xCFF takes byte, word and dword accesses; the byte
 *              lanes select bytes of the addressed dword.  With the enable
 *              bit clear, CONFIG_DATA is not claimed (reads float high).
 *   6.1        absent functions: a read completes with master abort and
 *              returns all-ones, writes are dropped.
 *   6.2.2-6.2.3 command (I/O and memory decode enables, INTx disable) and
 *              status (write-one-to-clear error bits, interrupt status).
 *   6.2.5      BARs: the low bits are read-only type bits, the bits below
 *              the size read as zero, so writing all-ones and reading back
 *              yields the size; 6.2.5.2 the expansion ROM BAR.
 *   6.8 / 2.2.6 INTx# is level-triggered and shareable: the board wires
 *              each (slot, pin) to a PIRQ line, wire-ORed.
 */
#include "hw/pci.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define CONFIG_ADDRESS_ENABLE   0x80000000u
/* Bus, device, function and dword register; the rest is reserved. */
#define CONFIG_ADDRESS_MASK     0x80fffffcu

/* QEMU presents every function with this subsystem id; firmware and
 * guests have seen it for years, so we do the same. */
#define PCI_SUBVENDOR_DEFAULT   0x1af4
#define PCI_SUBDEVICE_DEFAULT   0x1100

static const StateField pci_device_fields[] = {
    STATE_U8_ARRAY(PciDeviceState, config),
    STATE_U8(PciDeviceState, irq_level),
    STATE_END
};

const StateDesc pci_device_state_desc = {
    .name = "pci-device", .version = 1, .size = sizeof(PciDeviceState),
    .fields = pci_device_fields,
};

static const StateField pci_bus_fields[] = {
    STATE_U32(PciBusState, config_address),
    STATE_END
};

const StateDesc pci_bus_state_desc = {
    .name = "pci-bus", .version = 1, .size = sizeof(PciBusState),
    .fields = pci_bus_fields,
};

static bool ranges_overlap(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

static uint64_t len_mask(unsigned len)
{
    return len >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * len)) - 1;
}

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static const char *dev_name(const PciDevice *d)
{
    return d->info && d->info->name ? d->info->name : "pci";
}

/* ---- BAR decoding ------------------------------------------------------- */

static AddressSpace *bar_space(const PciDevice *d, int idx)
{
    if (idx != PCI_ROM_SLOT && (d->bars[idx].type & PCI_BAR_IO))
        return d->bus->io;
    return d->bus->mem;
}

/* Where BAR `idx` should be decoded now, or PCI_BAR_UNMAPPED: decoding is
 * off, the BAR holds 0 (never programmed), or it holds all-ones in its
 * address bits (the guest is in the middle of sizing it, 6.2.5.1). */
static uint64_t bar_target(const PciDevice *d, int idx)
{
    const PciBar *b = &d->bars[idx];
    const uint8_t *c = d->s->config;
    uint16_t cmd = pci_get_word(c + PCI_COMMAND);
    uint64_t addr, mask;

    if (b->size == 0)
        return PCI_BAR_UNMAPPED;
    if (idx == PCI_ROM_SLOT) {
        uint32_t v = pci_get_long(c + PCI_ROM_ADDRESS);
        if (!(cmd & PCI_COMMAND_MEMORY) || !(v & PCI_ROM_ENABLE))
            return PCI_BAR_UNMAPPED;
        mask = (uint32_t)~(b->size - 1) & 0xfffff800u;
        addr = v & mask;
    } else if (b->type & PCI_BAR_IO) {
        if (!(cmd & PCI_COMMAND_IO))
            return PCI_BAR_UNMAPPED;
        mask = (uint32_t)~(b->size - 1) & 0xfffffffcu;
        addr = pci_get_long(c + PCI_BASE_ADDRESS_0 + 4 * idx) & mask;
    } else {
        if (!(cmd & PCI_COMMAND_MEMORY))
            return PCI_BAR_UNMAPPED;
        addr = pci_get_long(c + PCI_BASE_ADDRESS_0 + 4 * idx) & 0xfffffff0u;
        if (b->type & PCI_BAR_MEM64) {
            addr |= (uint64_t)pci_get_long(c + PCI_BASE_ADDRESS_0 + 4 * idx + 4) << 32;
            mask = ~(b->size - 1) & ~UINT64_C(0xf);
        } else {
            mask = (uint32_t)~(b->size - 1) & 0xfffffff0u;
        }
        addr &= mask;
    }
    if (addr == 0 || addr == mask)
        return PCI_BAR_UNMAPPED;
    /* A 64-bit BAR is sized one dword at a time: either half holding
     * all-ones means the probe is still under way. */
    if ((b->type & PCI_BAR_MEM64) && idx != PCI_ROM_SLOT &&
        (((uint32_t)mask && (uint32_t)addr == (uint32_t)mask) ||
         ((mask >> 32) && (addr >> 32) == (mask >> 32))))
        return PCI_BAR_UNMAPPED;
    return addr;
}

static int bar_map(PciDevice *d, int idx, uint64_t addr)
{
    PciBar *b = &d->bars[idx];
    AddressSpace *as = bar_space(d, idx);

    if (idx == PCI_ROM_SLOT)
        return as_map_rom(as, dev_name(d), addr, b->size, b->host);
    if (b->host)
        return as_map_ram(as, dev_name(d), addr, b->size, b->host);
    return as_map_io(as, dev_name(d), addr, b->size, b->ops, b->opaque);
}

/* Two passes over the whole bus, so a BAR can move into the place another
 * BAR has just left in the same update. */
void pci_bus_update_mappings(PciBus *bus)
{
    for (unsigned fn = 0; fn < 256; fn++) {
        PciDevice *d = bus->devs[fn];
        for (int i = 0; d && i <= PCI_NUM_BARS; i++) {
            PciBar *b = &d->bars[i];
            if (b->mapped && b->addr != bar_target(d, i)) {
                as_unmap(bar_space(d, i), b->addr);
                b->mapped = false;
            }
        }
    }
    for (unsigned fn = 0; fn < 256; fn++) {
        PciDevice *d = bus->devs[fn];
        for (int i = 0; d && i <= PCI_NUM_BARS; i++) {
            PciBar *b = &d->bars[i];
            uint64_t want = bar_target(d, i);
            if (b->mapped)
                continue;
            if (want == PCI_BAR_UNMAPPED) {
                b->refused = PCI_BAR_UNMAPPED;
                continue;
            }
            if (bar_map(d, i, want) == 0) {
                b->mapped = true;
                b->addr = want;
                b->refused = PCI_BAR_UNMAPPED;
            } else if (b->refused != want) {
                /* Overlaps RAM, another device or leaves the space: real
                 * hardware would decode both and corrupt cycles; we keep
                 * the first owner and wait for the guest to move it. */
                LOG_LIMITED(LOG_GUEST_ERRORS,
                            "pci: %s (00:%02x.%u) %s%d at 0x%" PRIx64
                            " size 0x%" PRIx64 " overlaps another region or "
                            "leaves the space; left unmapped\n",
                            dev_name(d), PCI_SLOT(d->devfn), PCI_FUNC(d->devfn),
                            i == PCI_ROM_SLOT ? "ROM" : "BAR",
                            i == PCI_ROM_SLOT ? 0 : i, want, b->size);
                b->refused = want;
            }
        }
    }
}

uint64_t pci_bar_address(const PciDevice *d, int idx)
{
    if (idx < 0 || idx > PCI_NUM_BARS || !d->bars[idx].mapped)
        return PCI_BAR_UNMAPPED;
    return d->bars[idx].addr;
}

/* ---- INTx --------------------------------------------------------------- */

void pci_bus_update_irqs(PciBus *bus)
{
    int level[PCI_NUM_PIRQ] = { 0 };

    if (!bus->router.set || !bus->router.map)
        return;
    for (unsigned fn = 0; fn < 256; fn++) {
        PciDevice *d = bus->devs[fn];
        if (!d || !d->s->irq_level)
            continue;
        unsigned pin = d->s->config[PCI_INTERRUPT_PIN];
        if (pin < 1 || pin > 4 ||
            (pci_get_word(d->s->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE))
            continue;
        int p = bus->router.map(bus->router.opaque, fn, pin - 1);
        if (p >= 0 && p < PCI_NUM_PIRQ)
            level[p] = 1;
    }
    for (int p = 0; p < PCI_NUM_PIRQ; p++)
        bus->router.set(bus->router.opaque, p, level[p]);
}

void pci_set_irq(PciDevice *d, int level)
{
    uint8_t *status = &d->s->config[PCI_STATUS];

    level = level != 0;
    if (d->s->irq_level == level)
        return;
    d->s->irq_level = (uint8_t)level;
    /* Interrupt status reflects the function's request even when INTx
     * disable keeps it off the wire (6.2.3). */
    if (level)
        *status |= PCI_STATUS_INTERRUPT;
    else
        *status &= (uint8_t)~PCI_STATUS_INTERRUPT;
    if (d->bus)
        pci_bus_update_irqs(d->bus);
}

void pci_bus_set_irq_router(PciBus *bus, const PciIrqRouter *router)
{
    bus->router = router ? *router : (PciIrqRouter){ 0 };
    pci_bus_update_irqs(bus);
}

void pci_bus_set_cf9_handler(PciBus *bus, const PciCf9Handler *h)
{
    bus->cf9 = h ? *h : (PciCf9Handler){ 0 };
}

/* ---- configuration space ------------------------------------------------ */

uint32_t pci_default_config_read(PciDevice *d, unsigned reg, unsigned len)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < len && reg + i < PCI_CONFIG_SIZE; i++)
        v |= (uint32_t)d->s->config[reg + i] << (8 * i);
    return v;
}

void pci_default_config_write(PciDevice *d, unsigned reg, uint32_t val,
                              unsigned len)
{
    uint8_t *c = d->s->config;
    uint16_t old_cmd = pci_get_word(c + PCI_COMMAND);

    for (unsigned i = 0; i < len && reg + i < PCI_CONFIG_SIZE; i++) {
        unsigned a = reg + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        c[a] = (uint8_t)((c[a] & ~d->wmask[a]) | (b & d->wmask[a]));
        c[a] &= (uint8_t)~(b & d->w1cmask[a]);
    }
    if (!d->bus)
        return;
    if (ranges_overlap(reg, len, PCI_COMMAND, 2) &&
        ((old_cmd ^ pci_get_word(c + PCI_COMMAND)) & PCI_COMMAND_INTX_DISABLE))
        pci_bus_update_irqs(d->bus);
    if (ranges_overlap(reg, len, PCI_COMMAND, 2) ||
        ranges_overlap(reg, len, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS) ||
        ranges_overlap(reg, len, PCI_ROM_ADDRESS, 4))
        pci_bus_update_mappings(d->bus);
}

static bool slot_is_multifunction(const PciBus *bus, unsigned devfn)
{
    for (unsigned fn = 1; fn < 8; fn++)
        if (bus->devs[(devfn & ~7u) | fn])
            return true;
    return false;
}

uint32_t pci_bus_config_read(PciBus *bus, unsigned devfn, unsigned reg,
                             unsigned len)
{
    PciDevice *d = devfn < 256 ? bus->devs[devfn] : NULL;
    uint32_t v;

    if (!d || reg >= PCI_CONFIG_SIZE || len == 0 || len > 4)
        return (uint32_t)len_mask(len > 4 ? 4 : len);
    v = d->info->config_read ? d->info->config_read(d, reg, len)
                             : pci_default_config_read(d, reg, len);
    /* Function 0 advertises the other functions of its slot (6.2.1); it is
     * computed so that it stays right whatever order functions attach. */
    if (PCI_FUNC(devfn) == 0 && ranges_overlap(reg, len, PCI_HEADER_TYPE, 1) &&
        slot_is_multifunction(bus, devfn))
        v |= (uint32_t)PCI_HEADER_TYPE_MULTI_FUNCTION << (8 * (PCI_HEADER_TYPE - reg));
    return (uint32_t)(v & len_mask(len));
}

void pci_bus_config_write(PciBus *bus, unsigned devfn, unsigned reg,
                          uint32_t val, unsigned len)
{
    PciDevice *d = devfn < 256 ? bus->devs[devfn] : NULL;

    if (!d || reg >= PCI_CONFIG_SIZE || len == 0 || len > 4)
        return;
    val &= (uint32_t)len_mask(len);
    if (d->info->config_write)
        d->info->config_write(d, reg, val, len);
    else
        pci_default_config_write(d, reg, val, len);
}

/* ---- configuration mechanism #1 ---------------------------------------- */

/* An access to CONFIG_DATA: `off` (0-3) picks the byte lanes of the dword
 * CONFIG_ADDRESS names; off + size never exceeds 4. */
static uint32_t data_read(PciBus *bus, unsigned off, unsigned size)
{
    uint32_t a = bus->s.config_address;

    /* Only bus 0 exists: there are no PCI-to-PCI bridges to forward a
     * type-1 cycle to, so it ends in master abort. */
    if (!(a & CONFIG_ADDRESS_ENABLE) || ((a >> 16) & 0xff) != 0)
        return (uint32_t)len_mask(size);
    return pci_bus_config_read(bus, (a >> 8) & 0xff, (a & 0xfc) + off, size);
}

static void data_write(PciBus *bus, unsigned off, uint32_t val, unsigned size)
{
    uint32_t a = bus->s.config_address;

    if (!(a & CONFIG_ADDRESS_ENABLE) || ((a >> 16) & 0xff) != 0)
        return;
    pci_bus_config_write(bus, (a >> 8) & 0xff, (a & 0xfc) + off, val, size);
}

/* A byte of 0xCF8-0xCFB outside a dword access: an ordinary I/O cycle,
 * claimed only at 0xCF9 (the PIIX's reset control register). */
static uint8_t legacy_byte_read(PciBus *bus, unsigned off)
{
    if (off == 1 && bus->cf9.read)
        return bus->cf9.read(bus->cf9.opaque);
    return 0xff;
}

static void legacy_byte_write(PciBus *bus, unsigned off, uint8_t v)
{
    if (off == 1 && bus->cf9.write)
        bus->cf9.write(bus->cf9.opaque, v);
}

static uint64_t host_read(void *opaque, uint64_t off, unsigned size)
{
    PciBus *bus = opaque;
    uint64_t v = 0;

    if (off == 0 && size == 4)
        return bus->s.config_address;
    if (off >= 4)
        return data_read(bus, (unsigned)off - 4, size);
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        uint64_t b = o < 4 ? legacy_byte_read(bus, o) : data_read(bus, o - 4, 1);
        v |= b << (8 * i);
    }
    return v;
}

static void host_write(void *opaque, uint64_t off, uint64_t value,
                       unsigned size)
{
    PciBus *bus = opaque;

    if (off == 0 && size == 4) {
        bus->s.config_address = (uint32_t)value & CONFIG_ADDRESS_MASK;
        return;
    }
    if (off >= 4) {
        data_write(bus, (unsigned)off - 4, (uint32_t)value, size);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        if (o < 4)
            legacy_byte_write(bus, o, b);
        else
            data_write(bus, o - 4, b, 1);
    }
}

static const MemOps pci_host_ops = {
    .read = host_read, .write = host_write, .max_access = 4,
};

int pci_bus_new(AddressSpace *mem, AddressSpace *io, PciBus **out)
{
    PciBus *bus = calloc(1, sizeof(*bus));
    int r;

    if (!bus)
        return -ENOMEM;
    bus->mem = mem;
    bus->io = io;
    r = as_map_io(io, "pci-config", PCI_CONFIG_ADDRESS_PORT, 8, &pci_host_ops, bus);
    if (r < 0) {
        free(bus);
        return r;
    }
    bus->io_mapped = true;
    *out = bus;
    return 0;
}

void pci_bus_free(PciBus *bus)
{
    if (!bus)
        return;
    if (bus->io_mapped)
        as_unmap(bus->io, PCI_CONFIG_ADDRESS_PORT);
    free(bus);
}

void pci_bus_reset(PciBus *bus)
{
    bus->s.config_address = 0;
}

/* ---- functions ---------------------------------------------------------- */

static void init_wmask(PciDevice *d)
{
    memset(d->wmask, 0, sizeof(d->wmask));
    memset(d->w1cmask, 0, sizeof(d->w1cmask));
    /* I/O, memory, bus master, parity response; SERR#, INTx disable. */
    pci_set_word(d->wmask + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    /* Error bits of the status register are write-one-to-clear: master
     * data parity error (8), target/master aborts, SERR#, parity (11-15). */
    pci_set_word(d->w1cmask + PCI_STATUS, 0xf900);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_device_reset(PciDevice *d)
{
    const PciDeviceInfo *in = d->info;
    uint8_t *c = d->s->config;
    uint16_t subven = in->subsystem_vendor_id, subdev = in->subsystem_id;

    memset(c, 0, PCI_CONFIG_SIZE);
    pci_set_word(c + PCI_VENDOR_ID, in->vendor_id);
    pci_set_word(c + PCI_DEVICE_ID, in->device_id);
    pci_set_word(c + PCI_STATUS, in->status);
    c[PCI_REVISION_ID] = in->revision;
    c[PCI_CLASS_PROG] = (uint8_t)in->class_code;
    c[PCI_CLASS_DEVICE] = (uint8_t)(in->class_code >> 8);
    c[PCI_CLASS_DEVICE + 1] = (uint8_t)(in->class_code >> 16);
    c[PCI_HEADER_TYPE] = in->header_type & 0x7f;
    if (!subven && !subdev) {
        subven = PCI_SUBVENDOR_DEFAULT;
        subdev = PCI_SUBDEVICE_DEFAULT;
    }
    pci_set_word(c + PCI_SUBSYSTEM_VENDOR_ID, subven);
    pci_set_word(c + PCI_SUBSYSTEM_ID, subdev);
    c[PCI_INTERRUPT_PIN] = in->irq_pin;
    for (int i = 0; i < PCI_NUM_BARS; i++)
        if (d->bars[i].size)
            c[PCI_BASE_ADDRESS_0 + 4 * i] = d->bars[i].type;
    d->s->irq_level = 0;
    if (d->bus) {
        pci_bus_update_irqs(d->bus);
        pci_bus_update_mappings(d->bus);
    }
}

int pci_device_register(PciBus *bus, PciDevice *d, PciDeviceState *s,
                        unsigned devfn, const PciDeviceInfo *info,
                        void *opaque)
{
    if (!bus || !d || !s || !info || devfn > 255)
        return -EINVAL;
    if (bus->devs[devfn])
        return -EEXIST;
    memset(d, 0, sizeof(*d));
    d->s = s;
    d->info = info;
    d->opaque = opaque;
    d->devfn = (uint8_t)devfn;
    for (int i = 0; i <= PCI_NUM_BARS; i++)
        d->bars[i].refused = PCI_BAR_UNMAPPED;
    init_wmask(d);
    pci_device_reset(d);
    d->bus = bus;
    bus->devs[devfn] = d;
    return 0;
}

void pci_device_unregister(PciDevice *d)
{
    PciBus *bus = d->bus;

    if (!bus)
        return;
    for (int i = 0; i <= PCI_NUM_BARS; i++) {
        if (d->bars[i].mapped)
            as_unmap(bar_space(d, i), d->bars[i].addr);
        d->bars[i].mapped = false;
    }
    bus->devs[d->devfn] = NULL;
    d->bus = NULL;
    d->s->irq_level = 0;
    pci_bus_update_irqs(bus);
}

static int add_bar(PciDevice *d, int idx, uint8_t type, uint64_t size,
                   const MemOps *ops, void *opaque, uint8_t *host)
{
    uint8_t *c = d->s->config, *w = d->wmask;
    unsigned reg = PCI_BASE_ADDRESS_0 + 4 * (unsigned)idx;
    bool io = type & PCI_BAR_IO, wide = !io && (type & PCI_BAR_MEM64);

    if (idx < 0 || idx >= PCI_NUM_BARS || (wide && idx == PCI_NUM_BARS - 1))
        return -EINVAL;
    if (!is_pow2(size) || (io && (size < 4 || size > 256)) ||
        (!io && size < 16) || (!wide && !io && size > (UINT64_C(1) << 31)))
        return -EINVAL;
    if ((type & ~(PCI_BAR_IO | PCI_BAR_MEM64 | PCI_BAR_PREFETCH)) ||
        (io && type != PCI_BAR_IO) || d->bars[idx].size ||
        (wide && d->bars[idx + 1].size))
        return -EINVAL;
    d->bars[idx] = (PciBar){ .size = size, .type = type, .ops = ops,
                             .opaque = opaque, .host = host,
                             .refused = PCI_BAR_UNMAPPED };
    /* Address bits below the size are hardwired to 0, which is what makes
     * the all-ones sizing probe work (6.2.5.1). */
    pci_set_long(w + reg, (uint32_t)~(size - 1) & (io ? 0xfffffffcu : 0xfffffff0u));
    pci_set_long(c + reg, type);
    if (wide) {
        pci_set_long(w + reg + 4, (uint32_t)(~(size - 1) >> 32));
        pci_set_long(c + reg + 4, 0);
    }
    return 0;
}

int pci_register_bar(PciDevice *d, int idx, uint8_t type, uint64_t size,
                     const MemOps *ops, void *opaque)
{
    if (!ops)
        return -EINVAL;
    return add_bar(d, idx, type, size, ops, opaque, NULL);
}

int pci_register_bar_ram(PciDevice *d, int idx, uint8_t type, uint64_t size,
                         uint8_t *host)
{
    if (!host || (type & PCI_BAR_IO))
        return -EINVAL;
    return add_bar(d, idx, type, size, NULL, NULL, host);
}

int pci_register_rom(PciDevice *d, uint64_t size, uint8_t *host)
{
    if (!host || !is_pow2(size) || size < 2048 || size > (UINT64_C(1) << 31) ||
        d->bars[PCI_ROM_SLOT].size)
        return -EINVAL;
    d->bars[PCI_ROM_SLOT] = (PciBar){ .size = size, .host = host,
                                      .refused = PCI_BAR_UNMAPPED };
    pci_set_long(d->wmask + PCI_ROM_ADDRESS,
                 ((uint32_t)~(size - 1) & 0xfffff800u) | PCI_ROM_ENABLE);
    return 0;
}

int pci_device_post_load(PciDevice *d)
{
    if (d->bus)
        pci_bus_update_mappings(d->bus);
    return 0;
}

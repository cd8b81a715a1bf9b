/* The virtio PCI transport: capabilities, the modern registers in BAR4,
 * the legacy registers in BAR0 of a transitional device, the
 * configuration-space access window, feature negotiation, device status
 * and reset, ISR and INTx (see hw/virtio_pci.h for the specification
 * sections followed).  The rings themselves are hw/virtqueue.c.
 *
 * Registers are decoded byte by byte against their fields, so any access
 * width a driver uses reads consistently; writes must hit one field (the
 * 64-bit queue addresses may be written as two 32-bit halves, as Linux
 * does).
 */
#include "hw/virtio_pci.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* ---- state table --------------------------------------------------------- */

static const StateField virtq_fields[] = {
    STATE_U64(VirtqState, desc), STATE_U64(VirtqState, avail),
    STATE_U64(VirtqState, used), STATE_U32(VirtqState, pfn),
    STATE_U16(VirtqState, size), STATE_U16(VirtqState, last_avail),
    STATE_U16(VirtqState, used_idx), STATE_U16(VirtqState, signalled_used),
    STATE_U8(VirtqState, signalled_valid), STATE_U8(VirtqState, enabled),
    STATE_END
};

static const StateDesc virtq_desc = {
    .name = "virtqueue", .version = 1, .size = sizeof(VirtqState),
    .fields = virtq_fields,
};

static const StateField virtio_pci_fields[] = {
    STATE_STRUCT(VirtioPciState, pci, pci_device_state_desc),
    STATE_U64(VirtioPciState, guest_features),
    STATE_U32(VirtioPciState, dfselect), STATE_U32(VirtioPciState, gfselect),
    STATE_U16(VirtioPciState, queue_sel),
    STATE_U8(VirtioPciState, status), STATE_U8(VirtioPciState, isr),
    STATE_U8(VirtioPciState, config_generation),
    STATE_U8(VirtioPciState, legacy), STATE_U8(VirtioPciState, broken),
    STATE_STRUCT_ARRAY(VirtioPciState, vq, virtq_desc),
    STATE_END
};

const StateDesc virtio_pci_state_desc = {
    .name = "virtio-pci", .version = 1, .size = sizeof(VirtioPciState),
    .fields = virtio_pci_fields,
};

/* ---- little-endian helpers -------------------------------------------- */

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16;
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, (uint16_t)v);
    st16(p + 2, (uint16_t)(v >> 16));
}

/* ---- features, interrupts, breakage ------------------------------------ */

/* What the device offers through the modern or the legacy registers:
 * VERSION_1 only where a modern driver can see it; ANY_LAYOUT is implied
 * by VERSION_1 and offered to legacy drivers explicitly (requests are
 * parsed as byte streams whatever their descriptor boundaries). */
static uint64_t host_features(const VirtioPci *vp, bool legacy)
{
    uint64_t f = vp->cfg.ops->features((VirtioPci *)vp) |
                 1ull << VIRTIO_RING_F_INDIRECT_DESC |
                 1ull << VIRTIO_RING_F_EVENT_IDX;

    return legacy ? (uint32_t)(f | 1ull << VIRTIO_F_ANY_LAYOUT)
                  : f | 1ull << VIRTIO_F_VERSION_1;
}

bool virtio_has_feature(const VirtioPci *vp, unsigned bit)
{
    return bit < 64 && (vp->s->guest_features >> bit) & 1;
}

void virtio_pci_update_irq(VirtioPci *vp)
{
    pci_set_irq(&vp->pci, vp->s->isr != 0);
}

void virtio_pci_config_changed(VirtioPci *vp)
{
    vp->s->config_generation++;
    if (vp->s->status & VIRTIO_STATUS_DRIVER_OK) {
        vp->s->isr |= VIRTIO_ISR_CONFIG;
        virtio_pci_update_irq(vp);
    }
}

void virtio_pci_set_broken(VirtioPci *vp, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    LOG_LIMITED(LOG_GUEST_ERRORS, "%s (00:%02x.%u): %s; device needs reset\n",
                vp->cfg.name, PCI_SLOT(vp->pci.devfn), PCI_FUNC(vp->pci.devfn),
                msg);
    if (vp->s->broken)
        return;
    vp->s->broken = 1;
    vp->s->status |= VIRTIO_STATUS_NEEDS_RESET;
    virtio_pci_config_changed(vp);
}

/* ---- reset ----------------------------------------------------------------- */

static void transport_reset(VirtioPci *vp)
{
    VirtioPciState *s = vp->s;

    if (vp->cfg.ops->reset)
        vp->cfg.ops->reset(vp);
    s->guest_features = 0;
    s->dfselect = s->gfselect = 0;
    s->queue_sel = 0;
    s->status = 0;
    s->isr = 0;
    s->legacy = 0;
    s->broken = 0;
    memset(s->vq, 0, sizeof(s->vq));
    for (unsigned q = 0; q < vp->cfg.num_queues; q++)
        s->vq[q].size = vp->cfg.queue_max;
    virtio_pci_update_irq(vp);
}

/* The vendor-specific capabilities (4.1.4): common, ISR, device, notify
 * and the configuration-space access window, chained from 0x40. */
#define CAP_COMMON  0x40
#define CAP_ISR     0x50
#define CAP_DEVICE  0x60
#define CAP_NOTIFY  0x70
#define CAP_PCICFG  0x84
#define CAP_PCICFG_DATA (CAP_PCICFG + 16)

static void put_cap(uint8_t *c, unsigned at, unsigned next, unsigned len,
                    uint8_t type, uint32_t off, uint32_t length)
{
    c[at] = 0x09;                   /* vendor specific */
    c[at + 1] = (uint8_t)next;
    c[at + 2] = (uint8_t)len;
    c[at + 3] = type;
    c[at + 4] = type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_BAR_MODERN;
    st32(c + at + 8, off);
    st32(c + at + 12, length);
}

void virtio_pci_reset(VirtioPci *vp)
{
    uint8_t *c = vp->s->pci.config;

    pci_device_reset(&vp->pci);
    c[PCI_CAPABILITY_LIST] = CAP_COMMON;
    put_cap(c, CAP_COMMON, CAP_ISR, 16, VIRTIO_PCI_CAP_COMMON_CFG,
            VIRTIO_COMMON_OFF, 0x38);
    put_cap(c, CAP_ISR, CAP_DEVICE, 16, VIRTIO_PCI_CAP_ISR_CFG,
            VIRTIO_ISR_OFF, 1);
    put_cap(c, CAP_DEVICE, CAP_NOTIFY, 16, VIRTIO_PCI_CAP_DEVICE_CFG,
            VIRTIO_DEVICE_OFF, vp->cfg.config_size);
    put_cap(c, CAP_NOTIFY, CAP_PCICFG, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
            VIRTIO_NOTIFY_OFF, VIRTIO_NOTIFY_MULT * vp->cfg.num_queues);
    st32(c + CAP_NOTIFY + 16, VIRTIO_NOTIFY_MULT);
    put_cap(c, CAP_PCICFG, 0, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
    transport_reset(vp);
}

/* ---- queues ---------------------------------------------------------------- */

bool virtio_queue_usable(const VirtioPci *vp, unsigned q)
{
    const VirtioPciState *s = vp->s;

    return q < vp->cfg.num_queues && s->vq[q].enabled && !s->broken &&
           ((s->status & VIRTIO_STATUS_DRIVER_OK) || s->legacy);
}

static void notify(VirtioPci *vp, unsigned q)
{
    if (q >= vp->cfg.num_queues) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "%s: notify of queue %u that does not "
                    "exist\n", vp->cfg.name, q);
        return;
    }
    if (virtio_queue_usable(vp, q))
        vp->cfg.ops->queue_notify(vp, q);
}

/* ---- device status ------------------------------------------------------- */

static void status_write(VirtioPci *vp, uint8_t v)
{
    VirtioPciState *s = vp->s;

    if (v == 0) {
        /* The device reset drains requests in flight before returning,
         * so the driver may reuse its memory as soon as it reads 0. */
        transport_reset(vp);
        return;
    }
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(s->status & VIRTIO_STATUS_FEATURES_OK)) {
        uint64_t offered = host_features(vp, false);
        if ((s->guest_features & ~offered) ||
            !(s->guest_features & 1ull << VIRTIO_F_VERSION_1)) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "%s: features %#" PRIx64 " refused "
                        "(offered %#" PRIx64 ")\n", vp->cfg.name,
                        s->guest_features, offered);
            v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
        }
    }
    s->status = (uint8_t)(v | (s->status & VIRTIO_STATUS_NEEDS_RESET));
}

/* ---- the modern registers (BAR4) ------------------------------------------- */

static VirtqState *sel_queue(VirtioPci *vp)
{
    unsigned q = vp->s->queue_sel;
    return q < vp->cfg.num_queues ? &vp->s->vq[q] : NULL;
}

static uint64_t common_field(VirtioPci *vp, unsigned base)
{
    VirtioPciState *s = vp->s;
    VirtqState *q = sel_queue(vp);

    switch (base) {
    case 0x00: return s->dfselect;
    case 0x04: return s->dfselect < 2 ? (uint32_t)(host_features(vp, false) >> (32 * s->dfselect)) : 0;
    case 0x08: return s->gfselect;
    case 0x0c: return s->gfselect < 2 ? (uint32_t)(s->guest_features >> (32 * s->gfselect)) : 0;
    case 0x10: return 0xffff;       /* msix_config: NO_VECTOR */
    case 0x12: return vp->cfg.num_queues;
    case 0x14: return s->status;
    case 0x15: return s->config_generation;
    case 0x16: return s->queue_sel;
    case 0x18: return q ? q->size : 0;
    case 0x1a: return 0xffff;       /* queue_msix_vector */
    case 0x1c: return q ? q->enabled : 0;
    case 0x1e: return q ? s->queue_sel : 0;     /* queue_notify_off */
    case 0x20: return q ? q->desc : 0;
    case 0x28: return q ? q->avail : 0;
    case 0x30: return q ? q->used : 0;
    default: return 0;
    }
}

/* Field start and size of common-configuration byte `off`. */
static unsigned field_of(unsigned off, unsigned *size)
{
    static const uint8_t starts[] = { 0x00, 0x04, 0x08, 0x0c, 0x10, 0x12, 0x14,
                                      0x15, 0x16, 0x18, 0x1a, 0x1c, 0x1e,
                                      0x20, 0x28, 0x30, 0x38 };
    for (unsigned i = 0; i + 1 < sizeof(starts); i++)
        if (off >= starts[i] && off < starts[i + 1]) {
            *size = starts[i + 1] - starts[i];
            return starts[i];
        }
    *size = 0;
    return off;
}

static uint64_t common_read(VirtioPci *vp, unsigned off, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++) {
        unsigned fs, base = field_of(off + i, &fs);
        uint8_t b = fs ? (uint8_t)(common_field(vp, base) >> (8 * (off + i - base))) : 0;
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void queue_enable(VirtioPci *vp, VirtqState *q)
{
    uint16_t n = q->size;

    if (n == 0 || n > vp->cfg.queue_max || (n & (n - 1)) ||
        (q->desc & 15) || (q->avail & 1) || (q->used & 3)) {
        virtio_pci_set_broken(vp, "queue %u enabled with size %u, rings at "
                              "0x%" PRIx64 "/0x%" PRIx64 "/0x%" PRIx64,
                              vp->s->queue_sel, n, q->desc, q->avail, q->used);
        return;
    }
    q->enabled = 1;
}

static void common_write(VirtioPci *vp, unsigned off, uint64_t val, unsigned size)
{
    VirtioPciState *s = vp->s;
    VirtqState *q;
    unsigned fs, base = field_of(off, &fs);

    /* Every field is written whole or in aligned parts; the parts of a
     * 64-bit queue address arrive as two 32-bit writes. */
    if (!fs || off + size > base + fs) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "%s: common config write of %u bytes at "
                    "%#x\n", vp->cfg.name, size, off);
        return;
    }
    unsigned sh = 8 * (off - base);
    uint64_t mask = (size >= 8 ? ~0ull : (1ull << (8 * size)) - 1) << sh;
    uint64_t cur = common_field(vp, base);
    uint64_t nv = (cur & ~mask) | ((val << sh) & mask);

    switch (base) {
    case 0x00: s->dfselect = (uint32_t)nv; break;
    case 0x08: s->gfselect = (uint32_t)nv; break;
    case 0x0c:
        if (s->gfselect < 2 && !(s->status & VIRTIO_STATUS_FEATURES_OK)) {
            unsigned gs = 32 * s->gfselect;
            s->guest_features = (s->guest_features & ~(0xffffffffull << gs)) |
                                (nv & 0xffffffffull) << gs;
        }
        break;
    case 0x14: status_write(vp, (uint8_t)nv); break;
    case 0x16: s->queue_sel = (uint16_t)nv; break;
    case 0x18: case 0x1c: case 0x20: case 0x28: case 0x30:
        q = sel_queue(vp);
        if (!q || q->enabled) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "%s: queue %u register %#x written "
                        "while %s\n", vp->cfg.name, s->queue_sel, base,
                        q ? "enabled" : "absent");
            break;
        }
        if (base == 0x18) q->size = (uint16_t)nv;
        else if (base == 0x20) q->desc = nv;
        else if (base == 0x28) q->avail = nv;
        else if (base == 0x30) q->used = nv;
        else if (nv & 1) queue_enable(vp, q);
        break;
    default:                        /* read-only or vectors */
        break;
    }
}

static void device_config_access(VirtioPci *vp, uint64_t off, uint8_t *buf,
                                 unsigned size, bool write)
{
    if (off >= vp->cfg.config_size || size > vp->cfg.config_size - off) {
        if (!write)
            memset(buf, 0, size);
        return;
    }
    if (write) {
        if (vp->cfg.ops->config_write)
            vp->cfg.ops->config_write(vp, (uint32_t)off, buf, size);
    } else {
        vp->cfg.ops->config_read(vp, (uint32_t)off, buf, size);
    }
}

static uint64_t modern_read(void *opaque, uint64_t off, unsigned size)
{
    VirtioPci *vp = opaque;
    uint8_t buf[8] = { 0 };
    uint64_t v = 0;

    if (off < VIRTIO_ISR_OFF)
        return common_read(vp, (unsigned)off, size);
    if (off < VIRTIO_DEVICE_OFF) {
        if (off != VIRTIO_ISR_OFF)
            return 0;
        v = vp->s->isr;             /* reading acknowledges */
        vp->s->isr = 0;
        virtio_pci_update_irq(vp);
        return v;
    }
    if (off < VIRTIO_NOTIFY_OFF) {
        device_config_access(vp, off - VIRTIO_DEVICE_OFF, buf, size, false);
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)buf[i] << (8 * i);
        return v;
    }
    return 0;
}

static void modern_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    VirtioPci *vp = opaque;
    uint8_t buf[8];

    if (off < VIRTIO_ISR_OFF) {
        common_write(vp, (unsigned)off, value, size);
    } else if (off >= VIRTIO_DEVICE_OFF && off < VIRTIO_NOTIFY_OFF) {
        for (unsigned i = 0; i < size; i++)
            buf[i] = (uint8_t)(value >> (8 * i));
        device_config_access(vp, off - VIRTIO_DEVICE_OFF, buf, size, true);
    } else if (off >= VIRTIO_NOTIFY_OFF) {
        notify(vp, (unsigned)((off - VIRTIO_NOTIFY_OFF) / VIRTIO_NOTIFY_MULT));
    }
}

static const MemOps modern_ops = {
    .read = modern_read, .write = modern_write, .max_access = 8,
};

/* ---- the legacy registers (BAR0 of a transitional device) --------------- */

static uint8_t legacy_byte(VirtioPci *vp, unsigned off)
{
    VirtioPciState *s = vp->s;
    VirtqState *q = sel_queue(vp);
    uint32_t v;

    switch (off & ~3u) {
    case 0x00: v = (uint32_t)host_features(vp, true); break;
    case 0x04: v = (uint32_t)s->guest_features; break;
    case 0x08: v = q ? q->pfn : 0; break;
    case 0x0c: v = (q ? vp->cfg.queue_max : 0) | (uint32_t)s->queue_sel << 16; break;
    case 0x10: v = (uint32_t)s->status << 16 | (uint32_t)s->isr << 24; break;
    default: return 0;
    }
    return (uint8_t)(v >> (8 * (off & 3)));
}

static uint64_t legacy_read(void *opaque, uint64_t off, unsigned size)
{
    VirtioPci *vp = opaque;
    uint8_t buf[4] = { 0 };
    uint64_t v = 0;

    if (off >= VIRTIO_LEGACY_CONFIG) {
        device_config_access(vp, off - VIRTIO_LEGACY_CONFIG, buf, size, false);
        for (unsigned i = 0; i < size; i++)
            v |= (uint64_t)buf[i] << (8 * i);
        return v;
    }
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)legacy_byte(vp, (unsigned)off + i) << (8 * i);
    if (off <= 0x13 && off + size > 0x13) {     /* ISR read acknowledges */
        vp->s->isr = 0;
        virtio_pci_update_irq(vp);
    }
    return v;
}

static void legacy_queue_pfn(VirtioPci *vp, uint32_t pfn)
{
    VirtqState *q = sel_queue(vp);

    if (!q)
        return;
    if (pfn == 0) {                 /* the legacy way to stop a queue */
        memset(q, 0, sizeof(*q));
        q->size = vp->cfg.queue_max;
        return;
    }
    /* 2.6.2 legacy layout: avail follows the table, used is aligned to
     * 4096 after it. */
    uint64_t base = (uint64_t)pfn << 12, n = vp->cfg.queue_max;
    q->pfn = pfn;
    q->size = (uint16_t)n;
    q->desc = base;
    q->avail = base + 16 * n;
    q->used = (q->avail + 6 + 2 * n + 4095) & ~4095ull;
    q->enabled = 1;
}

static void legacy_write(void *opaque, uint64_t off, uint64_t value, unsigned size)
{
    VirtioPci *vp = opaque;
    VirtioPciState *s = vp->s;
    uint8_t buf[4];

    if (off >= VIRTIO_LEGACY_CONFIG) {
        for (unsigned i = 0; i < size; i++)
            buf[i] = (uint8_t)(value >> (8 * i));
        device_config_access(vp, off - VIRTIO_LEGACY_CONFIG, buf, size, true);
        return;
    }
    s->legacy = 1;
    switch (off) {
    case 0x04:
        if (size == 4)
            s->guest_features = (uint32_t)value;
        return;
    case 0x08:
        if (size == 4)
            legacy_queue_pfn(vp, (uint32_t)value);
        return;
    case 0x0e:
        if (size == 2)
            s->queue_sel = (uint16_t)value;
        return;
    case 0x10:
        if (size == 2)
            notify(vp, (uint16_t)value);
        return;
    case 0x12:
        if (size == 1) {
            status_write(vp, (uint8_t)value);
            if (value == 0)
                s->legacy = 1;      /* still the legacy driver after reset */
        }
        return;
    }
    LOG_LIMITED(LOG_GUEST_ERRORS, "%s: legacy register write of %u bytes at "
                "%#" PRIx64 "\n", vp->cfg.name, size, off);
}

static const MemOps legacy_ops = {
    .read = legacy_read, .write = legacy_write, .max_access = 4,
};

/* ---- VIRTIO_PCI_CAP_PCI_CFG: BAR access through configuration space ---- */

static bool pcicfg_window(VirtioPci *vp, unsigned reg, unsigned len,
                          uint32_t *off, unsigned *size)
{
    const uint8_t *c = vp->s->pci.config;

    if (reg < CAP_PCICFG_DATA || reg >= CAP_PCICFG_DATA + 4)
        return false;
    *off = ld32(c + CAP_PCICFG + 8);
    *size = ld32(c + CAP_PCICFG + 12);
    return c[CAP_PCICFG + 4] == VIRTIO_BAR_MODERN &&
           (*size == 1 || *size == 2 || *size == 4) && len >= *size &&
           *off < VIRTIO_MODERN_BAR_SIZE && (*off & (*size - 1)) == 0;
}

static uint32_t vp_config_read(PciDevice *d, unsigned reg, unsigned len)
{
    VirtioPci *vp = d->opaque;
    uint32_t off;
    unsigned size;

    if (pcicfg_window(vp, reg, len, &off, &size))
        return (uint32_t)modern_read(vp, off, size);
    return pci_default_config_read(d, reg, len);
}

static void vp_config_write(PciDevice *d, unsigned reg, uint32_t val, unsigned len)
{
    VirtioPci *vp = d->opaque;
    uint32_t off;
    unsigned size;

    if (pcicfg_window(vp, reg, len, &off, &size)) {
        modern_write(vp, off, val, size);
        return;
    }
    pci_default_config_write(d, reg, val, len);
}

/* ---- life cycle ----------------------------------------------------------- */

int virtio_pci_init(VirtioPci *vp, VirtioPciState *s, PciBus *bus,
                    unsigned devfn, const VirtioPciConfig *cfg)
{
    int rc;

    if (cfg->num_queues == 0 || cfg->num_queues > VIRTIO_QUEUES_MAX ||
        !cfg->queue_max || cfg->queue_max > 32768 ||
        (cfg->queue_max & (cfg->queue_max - 1)) || !cfg->ops ||
        !cfg->ops->features || !cfg->ops->config_read ||
        !cfg->ops->queue_notify || cfg->config_size > 0x1000)
        return -EINVAL;
    memset(vp, 0, sizeof(*vp));
    vp->s = s;
    vp->cfg = *cfg;
    vp->mem = bus->mem;
    vp->info = (PciDeviceInfo){
        .name = cfg->name,
        .vendor_id = VIRTIO_PCI_VENDOR,
        .device_id = (uint16_t)(cfg->transitional ? 0x1000 + cfg->device_type - 1
                                                  : 0x1040 + cfg->device_type),
        .revision = cfg->transitional ? 0 : 1,
        .class_code = cfg->class_code,
        .subsystem_vendor_id = VIRTIO_PCI_VENDOR,
        .subsystem_id = cfg->transitional ? cfg->device_type : 0x1100,
        .irq_pin = 1,
        .status = PCI_STATUS_CAP_LIST,
        .config_read = vp_config_read,
        .config_write = vp_config_write,
    };
    rc = pci_device_register(bus, &vp->pci, &s->pci, devfn, &vp->info, vp);
    if (rc)
        return rc;
    if (cfg->transitional) {
        uint64_t size = 32;
        while (size < VIRTIO_LEGACY_CONFIG + cfg->config_size)
            size <<= 1;
        rc = pci_register_bar(&vp->pci, VIRTIO_BAR_LEGACY, PCI_BAR_IO, size,
                              &legacy_ops, vp);
        if (rc)
            goto fail;
    }
    rc = pci_register_bar(&vp->pci, VIRTIO_BAR_MODERN,
                          PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
                          VIRTIO_MODERN_BAR_SIZE, &modern_ops, vp);
    if (rc)
        goto fail;
    /* The window registers of the configuration access capability. */
    memset(vp->pci.wmask + CAP_PCICFG + 4, 0xff, 1);
    memset(vp->pci.wmask + CAP_PCICFG + 8, 0xff, 8);
    memset(vp->pci.wmask + CAP_PCICFG_DATA, 0xff, 4);
    virtio_pci_reset(vp);
    return 0;
fail:
    pci_device_unregister(&vp->pci);
    return rc;
}

void virtio_pci_exit(VirtioPci *vp)
{
    pci_device_unregister(&vp->pci);
}

int virtio_pci_post_load(VirtioPci *vp)
{
    VirtioPciState *s = vp->s;

    for (unsigned q = 0; q < VIRTIO_QUEUES_MAX; q++) {
        VirtqState *v = &s->vq[q];
        uint16_t n = v->size;
        if (q >= vp->cfg.num_queues) {
            memset(v, 0, sizeof(*v));
            continue;
        }
        if (n == 0 || n > vp->cfg.queue_max || (n & (n - 1))) {
            v->size = vp->cfg.queue_max;
            v->enabled = 0;
        }
    }
    return pci_device_post_load(&vp->pci);
}

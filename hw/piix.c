/* Intel 82371SB PIIX3 function 0, the PCI-to-ISA bridge (see hw/piix.h).
 *
 * Source: Intel 82371FB (PIIX) and 82371SB (PIIX3) PCI ISA IDE Xcelerator
 * datasheet -
 *   PCI configuration registers of function 0: VID 8086h, DID 7000h,
 *   PCICMD 0007h, PCISTS 0200h, class 060100h (ISA bridge), IORT 4Ch = 4Dh,
 *   XBCS 4Eh = 0003h, PIRQRC[A:D] 60h-63h = 80h, TOM 69h = 02h, MBIRQ0/1
 *   70h-71h = 80h, MBDMA0/1 76h-77h = 0Ch, PCSC 78h = 0002h, APICBASE 80h,
 *   DLC 82h, SMICNTL A0h = 08h, SMIEN A2h, SEE A4h, FTMR A8h = 0Fh, SMIREQ
 *   AAh, CTLTMR ACh, CTHTMR AEh.  The revision is 00h as on QEMU's board.
 *   PIRQRC: bit 7 disables routing; bits 3:0 name IRQ 3-7, 9-12, 14 or 15
 *   (0-2, 8 and 13 are reserved).
 *   ELCR1/ELCR2 at I/O 4D0h/4D1h: one bit per IRQ, 1 = level-triggered;
 *   IRQ0, 1, 2, 8 and 13 are edge-only, so those bits read as 0.
 *   RC at I/O CF9h: bit 2 (RCPU) going from 0 to 1 resets the CPU; bit 1
 *   (SRST) chooses a hard reset (the whole system) over a soft one (INIT).
 * Several PCI functions can share a PIRQ and several PIRQs an IRQ: the
 * lines are wire-ORed, active high towards the 8259s in level mode.
 */
#include "hw/piix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define PIIX_IORT      0x4c
#define PIIX_XBCS      0x4e
#define PIIX_TOM       0x69
#define PIIX_MBIRQ0    0x70
#define PIIX_MBDMA0    0x76
#define PIIX_PCSC      0x78
#define PIIX_APICBASE  0x80
#define PIIX_DLC       0x82
#define PIIX_SMICNTL   0xa0
#define PIIX_FTMR      0xa8

#define ELCR1_MASK     0xf8     /* IRQ0-2 are edge-only */
#define ELCR2_MASK     0xde     /* IRQ8 and IRQ13 are edge-only */

static const StateField piix_fields[] = {
    STATE_STRUCT(PiixState, pci, pci_device_state_desc),
    STATE_U16(PiixState, elcr),
    STATE_U8(PiixState, rc),
    STATE_U8(PiixState, pirq_in),
    STATE_U16(PiixState, isa_out),
    STATE_END
};

static int piix_post_load(void *state, void *opaque);

const StateDesc piix_state_desc = {
    .name = "piix3", .version = 1, .size = sizeof(PiixState),
    .fields = piix_fields, .post_load = piix_post_load,
};

/* ---- PIRQ routing ------------------------------------------------------- */

int piix_pirq_of(unsigned devfn, unsigned pin)
{
    return (int)((PCI_SLOT(devfn) + pin + 3) & 3);
}

static bool irq_routable(unsigned irq)
{
    return irq >= 3 && irq != 8 && irq != 13 && irq <= 15;
}

int piix_pirq_route(const Piix *p, int pirq)
{
    uint8_t v;

    if (pirq < 0 || pirq >= PCI_NUM_PIRQ)
        return -1;
    v = p->s.pci.config[PIIX_PIRQRC + pirq];
    if ((v & PIIX_PIRQ_DISABLE) || !irq_routable(v & 0x0f))
        return -1;
    return v & 0x0f;
}

/* Recompute the 16 ISA lines from the PIRQ levels and routes, and drive
 * those that changed. */
static void drive_isa(Piix *p)
{
    uint16_t out = 0, diff;

    for (int pirq = 0; pirq < PCI_NUM_PIRQ; pirq++) {
        int irq = piix_pirq_route(p, pirq);
        if (irq >= 0 && (p->s.pirq_in & (1u << pirq)))
            out |= (uint16_t)(1u << irq);
    }
    diff = out ^ p->s.isa_out;
    p->s.isa_out = out;
    for (int irq = 0; irq < 16 && p->cfg.set_isa_irq; irq++)
        if (diff & (1u << irq))
            p->cfg.set_isa_irq(p->cfg.opaque, irq, (out >> irq) & 1);
}

static int router_map(void *opaque, unsigned devfn, unsigned pin)
{
    (void)opaque;
    return piix_pirq_of(devfn, pin);
}

static void router_set(void *opaque, int pirq, int level)
{
    Piix *p = opaque;
    uint8_t bit = (uint8_t)(1u << pirq);
    uint8_t in = level ? (p->s.pirq_in | bit) : (p->s.pirq_in & ~bit);

    if (in == p->s.pirq_in)
        return;
    p->s.pirq_in = in;
    drive_isa(p);
}

/* ---- configuration space ------------------------------------------------ */

static void piix_config_write(PciDevice *d, unsigned reg, uint32_t val,
                              unsigned len)
{
    Piix *p = d->opaque;

    pci_default_config_write(d, reg, val, len);
    if (reg < PIIX_PIRQRC + PCI_NUM_PIRQ && PIIX_PIRQRC < reg + len) {
        for (int pirq = 0; pirq < PCI_NUM_PIRQ; pirq++) {
            uint8_t v = d->s->config[PIIX_PIRQRC + pirq];
            if (!(v & PIIX_PIRQ_DISABLE) && !irq_routable(v & 0x0f))
                LOG_LIMITED(LOG_GUEST_ERRORS, "piix: PIRQ%c routed to "
                            "reserved IRQ %u; left unrouted\n", 'A' + pirq,
                            v & 0x0f);
        }
        drive_isa(p);
    }
    if (reg <= PIIX_APICBASE && PIIX_APICBASE < reg + len &&
        d->s->config[PIIX_APICBASE])
        LOG_LIMITED(LOG_UNIMP, "piix: APICBASE relocation (0x%02x) is not "
                    "emulated\n", d->s->config[PIIX_APICBASE]);
}

static const PciDeviceInfo piix_info = {
    .name = "piix3",
    .vendor_id = 0x8086, .device_id = 0x7000, .revision = 0x00,
    .class_code = 0x060100,                 /* ISA bridge */
    .status = PCI_STATUS_DEVSEL_MEDIUM,
    .config_write = piix_config_write,
};

static void set_wmasks(PciDevice *d)
{
    uint8_t *w = d->wmask;

    /* I/O, memory and bus master are always on; special cycles and SERR#
     * follow the guest. */
    pci_set_word(w + PCI_COMMAND, PCI_COMMAND_SPECIAL | PCI_COMMAND_SERR);
    w[PCI_INTERRUPT_LINE] = 0;              /* the bridge has no INTx */
    w[PCI_CACHE_LINE_SIZE] = 0;
    w[PCI_LATENCY_TIMER] = 0;
    w[PIIX_IORT] = 0xff;
    w[PIIX_XBCS] = 0xff;
    w[PIIX_XBCS + 1] = 0x03;
    memset(w + PIIX_PIRQRC, 0x8f, PCI_NUM_PIRQ);
    w[PIIX_TOM] = 0xfe;
    w[PIIX_MBIRQ0] = 0xcf;
    w[PIIX_MBIRQ0 + 1] = 0xcf;
    w[PIIX_MBDMA0] = 0x8f;
    w[PIIX_MBDMA0 + 1] = 0x8f;
    w[PIIX_PCSC] = 0xff;
    w[PIIX_PCSC + 1] = 0xff;
    w[PIIX_APICBASE] = 0x3f;
    w[PIIX_DLC] = 0x0f;
    memset(w + PIIX_SMICNTL, 0xff, 0x10);   /* SMI registers, stored only */
}

/* ---- ELCR and reset control -------------------------------------------- */

static uint64_t elcr_read(void *opaque, uint64_t off, unsigned size)
{
    Piix *p = opaque;

    (void)size;
    return (p->s.elcr >> (8 * off)) & 0xff;
}

static void elcr_write(void *opaque, uint64_t off, uint64_t value,
                       unsigned size)
{
    Piix *p = opaque;
    uint16_t v = p->s.elcr;

    (void)size;
    if (off == 0)
        v = (uint16_t)((v & 0xff00) | (value & ELCR1_MASK));
    else
        v = (uint16_t)((v & 0x00ff) | (value & ELCR2_MASK) << 8);
    if ((value & (off == 0 ? ~ELCR1_MASK : ~ELCR2_MASK) & 0xff) != 0)
        LOG_LIMITED(LOG_GUEST_ERRORS, "piix: ELCR%u bits 0x%02x name "
                    "edge-only IRQs; ignored\n", (unsigned)off + 1,
                    (unsigned)(value & (off == 0 ? ~ELCR1_MASK : ~ELCR2_MASK) & 0xff));
    p->s.elcr = v;
    if (p->cfg.elcr_changed)
        p->cfg.elcr_changed(p->cfg.opaque, v);
}

static const MemOps elcr_ops = {
    .read = elcr_read, .write = elcr_write, .max_access = 1,
};

static uint8_t rc_read(void *opaque)
{
    return ((Piix *)opaque)->s.rc;
}

static void rc_write(void *opaque, uint8_t value)
{
    Piix *p = opaque;
    bool start = (value & PIIX_RC_RCPU) && !(p->s.rc & PIIX_RC_RCPU);

    p->s.rc = value & (PIIX_RC_SRST | PIIX_RC_RCPU);
    if (value & ~(PIIX_RC_SRST | PIIX_RC_RCPU))
        LOG_LIMITED(LOG_GUEST_ERRORS, "piix: reserved bits 0x%02x written "
                    "to the reset control register\n", value);
    if (!start)
        return;
    /* The reset is carried out now, so RCPU is consumed: after a soft
     * reset (which does not reset this register) the ACPI reset register
     * write of 06h must again be a 0 -> 1 transition. */
    p->s.rc &= (uint8_t)~PIIX_RC_RCPU;
    if (p->cfg.reset)
        p->cfg.reset(p->cfg.opaque, (value & PIIX_RC_SRST) != 0);
    else
        LOG_LIMITED(LOG_UNIMP, "piix: reset requested but the board "
                    "handles none\n");
}

/* ---- life cycle --------------------------------------------------------- */

void piix_reset(Piix *p)
{
    uint8_t *c = p->s.pci.config;

    pci_device_reset(&p->pci);
    pci_set_word(c + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    c[PIIX_IORT] = 0x4d;
    c[PIIX_XBCS] = 0x03;
    memset(c + PIIX_PIRQRC, PIIX_PIRQ_DISABLE, PCI_NUM_PIRQ);
    c[PIIX_TOM] = 0x02;
    c[PIIX_MBIRQ0] = 0x80;
    c[PIIX_MBIRQ0 + 1] = 0x80;
    c[PIIX_MBDMA0] = 0x0c;
    c[PIIX_MBDMA0 + 1] = 0x0c;
    c[PIIX_PCSC] = 0x02;
    c[PIIX_SMICNTL] = 0x08;
    c[PIIX_FTMR] = 0x0f;
    p->s.rc = 0;
    p->s.elcr = 0;
    if (p->cfg.elcr_changed)
        p->cfg.elcr_changed(p->cfg.opaque, 0);
    drive_isa(p);           /* routes are off now: lower what we drove */
}

/* Wire levels (pirq_in, isa_out) were saved with everyone else's, so no
 * line is re-driven; the 8259s are told the ELCR again because setting it
 * is idempotent and they may keep no copy of their own. */
static int piix_post_load(void *state, void *opaque)
{
    Piix *p = opaque;

    (void)state;
    if (p->cfg.elcr_changed)
        p->cfg.elcr_changed(p->cfg.opaque, p->s.elcr);
    return pci_device_post_load(&p->pci);
}

int piix_new(PciBus *bus, const PiixConfig *cfg, Piix **out)
{
    Piix *p;
    int r;

    if (!bus || !cfg || !cfg->io)
        return -EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    p->bus = bus;
    r = pci_device_register(bus, &p->pci, &p->s.pci, PIIX_DEVFN, &piix_info, p);
    if (r < 0) {
        free(p);
        return r;
    }
    set_wmasks(&p->pci);
    r = as_map_io(cfg->io, "piix-elcr", PIIX_ELCR_PORT, 2, &elcr_ops, p);
    if (r < 0) {
        piix_free(p);
        return r;
    }
    p->elcr_mapped = true;
    pci_bus_set_cf9_handler(bus, &(PciCf9Handler){ rc_read, rc_write, p });
    pci_bus_set_irq_router(bus, &(PciIrqRouter){ router_map, router_set, p });
    piix_reset(p);
    *out = p;
    return 0;
}

void piix_free(Piix *p)
{
    if (!p)
        return;
    if (p->pci.bus) {
        if (p->bus->router.opaque == p)
            pci_bus_set_irq_router(p->bus, NULL);
        if (p->bus->cf9.opaque == p)
            pci_bus_set_cf9_handler(p->bus, NULL);
    }
    if (p->elcr_mapped)
        as_unmap(p->cfg.io, PIIX_ELCR_PORT);
    pci_device_unregister(&p->pci);
    free(p);
}

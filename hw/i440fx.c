/* Intel 82441FX PMC: the i440FX host bridge (see hw/i440fx.h).
 *
 * Source: Intel 440FX PCIset 82441FX PCI and Memory Controller (PMC) and
 * 82442FX Data Bus Accelerator (DBX) datasheet, section 3.2 (PCI
 * configuration registers): 3.2.1-3.2.10 the header (VID 8086h, DID 1237h,
 * PCICMD 0006h with memory and bus-master hardwired on, PCISTS 0280h,
 * class 060000h), 3.2.18 PAM0-PAM6 (59h-5Fh), 3.2.28 SMRAM (72h), and the
 * other defaults named below.  Revision 02h is what QEMU's board reports.
 *
 * PAM: each nibble holds RE (bit 0) and WE (bit 1) for one segment; bits
 * 2-3 of each nibble, and the low nibble of PAM0, are reserved.  With RE
 * clear reads go to PCI, where the firmware alias answers; with WE clear
 * writes go to PCI, where ROM drops them.  We realise each segment as one
 * region of the memory AddressSpace, re-mapped when its attribute changes:
 * PCI = the ROM backing as ROM, RO = DRAM as ROM, RW = DRAM as RAM, and
 * WO = an I/O region that reads the ROM and writes DRAM (rare: only
 * firmware copying itself uses it, so it need not be fast).
 *
 * SMRAM: with G_SMRAME set, D_OPEN makes the SMRAM DRAM at 0xA0000-0xBFFFF
 * visible outside SMM; D_LCK forces D_OPEN to 0 and freezes D_LCK and
 * G_SMRAME until reset.  We have no SMM, so only the register, its lock and
 * a board notification exist.
 */
#include "hw/i440fx.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define PAM_BASE       0xc0000u
#define PAM_END        0x100000u
#define BIOS_ALIAS     0xe0000u
#define PAM_UNKNOWN    0xff     /* segment not (successfully) mapped yet */

/* Datasheet power-on values of registers SeaBIOS or guests may read. */
#define I440FX_DRAMC   0x57
#define I440FX_DRAMT   0x58
#define I440FX_DRB0    0x60
#define I440FX_MTT     0x70
#define I440FX_CLT     0x71
#define I440FX_ERRCMD  0x90
#define I440FX_ERRSTS  0x91

static const StateField i440fx_fields[] = {
    STATE_STRUCT(I440fxState, pci, pci_device_state_desc),
    STATE_END
};

static int i440fx_post_load(void *state, void *opaque);

const StateDesc i440fx_state_desc = {
    .name = "i440fx", .version = 1, .size = sizeof(I440fxState),
    .fields = i440fx_fields, .post_load = i440fx_post_load,
};

/* Names of the 13 regions, for `info mtree`-style dumps and log lines. */
static const char *const seg_names[I440FX_PAM_SEGMENTS] = {
    "pam-f0000", "pam-c0000", "pam-c4000", "pam-c8000", "pam-cc000",
    "pam-d0000", "pam-d4000", "pam-d8000", "pam-dc000", "pam-e0000",
    "pam-e4000", "pam-e8000", "pam-ec000",
};

/* Segment 0 is 0xF0000-0xFFFFF (PAM0 high nibble); segment i >= 1 is the
 * i-1'th 16 KiB block from 0xC0000, PAM1 low nibble first. */
static unsigned seg_mode(const I440fx *h, unsigned i)
{
    const uint8_t *c = h->s.pci.config;

    if (i == 0)
        return (c[I440FX_PAM0] >> 4) & 3;
    return (c[I440FX_PAM0 + 1 + (i - 1) / 2] >> (4 * ((i - 1) & 1))) & 3;
}

/* The PCI-side contents of `addr`: the firmware alias or the ISA ROM. */
static uint8_t *rom_backing(const I440fx *h, uint32_t addr)
{
    if (addr >= BIOS_ALIAS)
        return h->cfg.bios + (addr - BIOS_ALIAS);
    return h->cfg.isa_rom ? h->cfg.isa_rom + (addr - PAM_BASE) : NULL;
}

static bool ram_covers(const I440fx *h, const I440fxPamSeg *g)
{
    return h->cfg.ram && h->cfg.ram_size >= (uint64_t)g->base + g->size;
}

/* ---- write-only segments: read the ROM, write DRAM ---------------------- */

static uint64_t pam_wo_read(void *opaque, uint64_t off, unsigned size)
{
    I440fxPamSeg *g = opaque;
    const uint8_t *src = rom_backing(g->dev, g->base);
    uint64_t v = 0;

    if (!src)
        return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)src[off + i] << (8 * i);
    return v;
}

static void pam_wo_write(void *opaque, uint64_t off, uint64_t value,
                         unsigned size)
{
    I440fxPamSeg *g = opaque;
    uint8_t *dst = g->dev->cfg.ram + g->base + off;

    for (unsigned i = 0; i < size; i++)
        dst[i] = (uint8_t)(value >> (8 * i));
}

static const MemOps pam_wo_ops = {
    .read = pam_wo_read, .write = pam_wo_write, .max_access = 8,
};

/* ---- PAM ---------------------------------------------------------------- */

/* Map segment i for attribute `mode`; g->mapped says whether a region now
 * exists (an ISA hole without a ROM has none).  Returns 0 or -errno. */
static int seg_map(I440fx *h, unsigned i, unsigned mode)
{
    I440fxPamSeg *g = &h->seg[i];
    AddressSpace *mem = h->cfg.mem;
    uint8_t *rom = rom_backing(h, g->base);
    int r;

    if (mode != PAM_PCI && !ram_covers(h, g)) {
        LOG_LIMITED(LOG_UNIMP, "i440fx: no RAM behind %s; it keeps "
                    "showing the ROM\n", seg_names[i]);
        mode = PAM_PCI;
    }
    switch (mode) {
    case PAM_RO:
        r = as_map_rom(mem, seg_names[i], g->base, g->size, h->cfg.ram + g->base);
        break;
    case PAM_RW:
        r = as_map_ram(mem, seg_names[i], g->base, g->size, h->cfg.ram + g->base);
        break;
    case PAM_WO:
        r = as_map_io(mem, seg_names[i], g->base, g->size, &pam_wo_ops, g);
        break;
    default:
        /* Nothing decodes an ISA hole without an ISA ROM: leave it empty. */
        if (!rom) {
            g->mapped = false;
            return 0;
        }
        r = as_map_rom(mem, seg_names[i], g->base, g->size, rom);
        break;
    }
    g->mapped = r == 0;
    return r;
}

/* Bring every segment's region in line with the PAM registers.  A failure
 * is only possible if the board mapped something inside 0xC0000-0xFFFFF,
 * which it must not; the segment is then retried on the next update. */
static void pam_update(I440fx *h)
{
    for (unsigned i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        I440fxPamSeg *g = &h->seg[i];
        unsigned mode = seg_mode(h, i);

        if (g->mode == mode)
            continue;
        if (g->mapped)
            as_unmap(h->cfg.mem, g->base);
        g->mapped = false;
        if (seg_map(h, i, mode) < 0) {
            LOG_LIMITED(LOG_UNIMP, "i440fx: cannot map %s at 0x%" PRIx32
                        ": the range is taken\n", seg_names[i], g->base);
            g->mode = PAM_UNKNOWN;
            continue;
        }
        g->mode = (uint8_t)mode;
    }
}

int i440fx_pam_mode(const I440fx *h, uint32_t addr)
{
    if (addr < PAM_BASE || addr >= PAM_END)
        return -1;
    if (addr >= 0xf0000)
        return (int)seg_mode(h, 0);
    return (int)seg_mode(h, 1 + (addr - PAM_BASE) / 0x4000);
}

/* ---- SMRAM -------------------------------------------------------------- */

static bool smram_visible(const I440fx *h)
{
    uint8_t v = h->s.pci.config[I440FX_SMRAM];

    return (v & I440FX_SMRAM_G_SMRAME) && (v & I440FX_SMRAM_D_OPEN);
}

static void smram_sync(I440fx *h)
{
    bool open = smram_visible(h);

    if (open == h->smram_open)
        return;
    h->smram_open = open;
    if (h->cfg.smram_changed)
        h->cfg.smram_changed(h->cfg.opaque, open);
    else
        LOG_LIMITED(LOG_UNIMP, "i440fx: SMRAM %s, but SMRAM visibility is "
                    "not emulated: 0xA0000-0xBFFFF stays VGA\n",
                    open ? "opened" : "closed");
}

static void smram_write(I440fx *h, uint8_t val)
{
    uint8_t *reg = &h->s.pci.config[I440FX_SMRAM];
    uint8_t old = *reg, v;

    if (old & I440FX_SMRAM_D_LCK) {
        /* Locked: D_OPEN stays 0, D_LCK and G_SMRAME are read-only until
         * the next reset; only D_CLS still follows the guest. */
        if (val & I440FX_SMRAM_D_OPEN)
            LOG_LIMITED(LOG_GUEST_ERRORS, "i440fx: SMRAM is locked; "
                        "D_OPEN write ignored\n");
        v = (uint8_t)((old & (I440FX_SMRAM_D_LCK | I440FX_SMRAM_G_SMRAME)) |
                      (val & I440FX_SMRAM_D_CLS));
    } else {
        v = val & (I440FX_SMRAM_D_OPEN | I440FX_SMRAM_D_CLS |
                   I440FX_SMRAM_D_LCK | I440FX_SMRAM_G_SMRAME);
        if (v & I440FX_SMRAM_D_LCK)
            v &= (uint8_t)~I440FX_SMRAM_D_OPEN;
    }
    v |= I440FX_SMRAM_C_BASE;
    if ((v & I440FX_SMRAM_D_OPEN) && (v & I440FX_SMRAM_D_CLS))
        LOG_LIMITED(LOG_GUEST_ERRORS, "i440fx: SMRAM D_OPEN and D_CLS both "
                    "set (the datasheet forbids it)\n");
    if ((v & I440FX_SMRAM_G_SMRAME) && !(old & I440FX_SMRAM_G_SMRAME))
        LOG_LIMITED(LOG_UNIMP, "i440fx: SMRAM enabled, but SMM is not "
                    "emulated\n");
    *reg = v;
    smram_sync(h);
}

/* ---- configuration space ------------------------------------------------ */

static bool overlaps(unsigned reg, unsigned len, unsigned a, unsigned alen)
{
    return reg < a + alen && a < reg + len;
}

static void i440fx_config_write(PciDevice *d, unsigned reg, uint32_t val,
                                unsigned len)
{
    I440fx *h = d->opaque;

    /* SMRAM's wmask is 0: the generic path leaves it to smram_write. */
    pci_default_config_write(d, reg, val, len);
    if (overlaps(reg, len, I440FX_SMRAM, 1))
        smram_write(h, (uint8_t)(val >> (8 * (I440FX_SMRAM - reg))));
    if (overlaps(reg, len, I440FX_PAM0, 7))
        pam_update(h);
}

static const PciDeviceInfo i440fx_info = {
    .name = "i440fx",
    .vendor_id = 0x8086, .device_id = 0x1237, .revision = 0x02,
    .class_code = 0x060000,                 /* host bridge */
    .status = PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM,
    .config_write = i440fx_config_write,
};

static void set_wmasks(PciDevice *d)
{
    uint8_t *w = d->wmask;

    /* Memory and bus master are hardwired on; parity and SERR# follow. */
    pci_set_word(w + PCI_COMMAND, PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
    w[PCI_INTERRUPT_LINE] = 0;              /* no interrupt */
    memset(w + 0x50, 0xff, I440FX_PAM0 - 0x50);  /* PMCCFG .. DRAMT */
    w[I440FX_PAM0] = 0x30;
    memset(w + I440FX_PAM0 + 1, 0x33, 6);
    memset(w + I440FX_DRB0, 0xff, 8);
    w[0x68] = 0xff;                         /* FDHC */
    w[I440FX_MTT] = 0xf8;
    w[I440FX_CLT] = 0xf8;
    w[I440FX_ERRCMD] = 0xff;
    d->w1cmask[I440FX_ERRSTS] = 0xff;
}

void i440fx_reset(I440fx *h)
{
    uint8_t *c = h->s.pci.config;

    pci_device_reset(&h->pci);
    pci_set_word(c + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    c[I440FX_DRAMC] = 0x01;
    c[I440FX_DRAMT] = 0x10;
    memset(c + I440FX_DRB0, 0x01, 8);
    c[I440FX_MTT] = 0x20;
    c[I440FX_CLT] = 0x10;
    c[I440FX_SMRAM] = I440FX_SMRAM_C_BASE;  /* PAM registers: 0, all PCI */
    pam_update(h);
    smram_sync(h);
}

static int i440fx_post_load(void *state, void *opaque)
{
    I440fx *h = opaque;

    (void)state;
    pam_update(h);
    smram_sync(h);
    return pci_device_post_load(&h->pci);
}

int i440fx_new(PciBus *bus, const I440fxConfig *cfg, I440fx **out)
{
    I440fx *h;
    int r;

    if (!bus || !cfg || !cfg->mem || !cfg->bios)
        return -EINVAL;
    h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->cfg = *cfg;
    for (unsigned i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        h->seg[i].dev = h;
        h->seg[i].base = i == 0 ? 0xf0000 : PAM_BASE + (i - 1) * 0x4000;
        h->seg[i].size = i == 0 ? 0x10000 : 0x4000;
        h->seg[i].mode = PAM_UNKNOWN;
    }
    r = pci_device_register(bus, &h->pci, &h->s.pci, I440FX_DEVFN, &i440fx_info, h);
    if (r < 0) {
        free(h);
        return r;
    }
    set_wmasks(&h->pci);
    i440fx_reset(h);
    r = 0;
    for (unsigned i = 0; i < I440FX_PAM_SEGMENTS && !r; i++)
        if (h->seg[i].mode == PAM_UNKNOWN)
            r = -EEXIST;
    if (r) {
        i440fx_free(h);
        return r;
    }
    *out = h;
    return 0;
}

void i440fx_free(I440fx *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < I440FX_PAM_SEGMENTS; i++)
        if (h->seg[i].mapped)
            as_unmap(h->cfg.mem, h->seg[i].base);
    pci_device_unregister(&h->pci);
    free(h);
}

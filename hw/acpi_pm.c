/* PIIX4 power management function: ACPI fixed hardware, the PM timer,
 * APM ports and a device-less SMBus host (see hw/acpi_pm.h).
 *
 * Sources:
 *  - Intel 82371AB PIIX4 datasheet, function 3 (power management):
 *    configuration registers PMBA (40h, bits 15:6, bit 0 hardwired 1),
 *    DEVACTB (58h, bit 25 APMC_EN), PMREGMISC (80h, bit 0 PMIOSE), SMBBA
 *    (90h, bits 15:4, bit 0 hardwired 1), SMBHSTCFG (D2h, bit 0 host
 *    enable); the PM I/O block (PMSTS 00h, PMEN 02h, PMCNTRL 04h, PMTMR
 *    08h, then GPSTS, GPEN, PCNTRL, PLVL2/3, GLBSTS ... up to 3Fh); APMC
 *    and APMS at I/O B2h/B3h; the SMBus host registers (HST_STS 0, HST_CNT
 *    2, HST_CMD 3, HST_ADD 4, HST_DAT0/1 5-6, BLOCK_DAT 7).  PMCNTRL's
 *    SUS_TYP 000b is soft off, which is why S5 is 0 in QEMU's DSDT.
 *  - ACPI 1.0b/2.0 4.7.3: PM1 status bits are write-one-to-clear; SLP_EN
 *    is write-only and reads 0; the PM timer runs at 3.579545 MHz, and
 *    TMR_STS is set whenever its most significant bit (bit 23 of the
 *    24-bit counter) changes; with SCI_EN set, enabled events raise the
 *    SCI, a level-triggered, shareable interrupt.
 *
 * The timer is a pure function of virtual time (contract 4), so it needs
 * no state of its own and agrees with every other device after a load;
 * TMR_STS is computed when read, and a Timer is armed for the next bit-23
 * change only while the overflow interrupt is enabled.  SMM does not exist
 * here: DEVACTB's APMC_EN is set at reset to tell firmware (SeaBIOS) that
 * its SMI handler is already installed, as QEMU does without SMM, and
 * ACPI_ENABLE/ACPI_DISABLE written to APMC do what the firmware's SMI
 * handler would do: set or clear SCI_EN.
 */
#include "hw/acpi_pm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define NS_PER_S            1000000000ull
#define TMR_MSB_SHIFT       23

#define PM1_STS_W1C   (ACPI_PM1_TMR_STS | ACPI_PM1_BM_STS | ACPI_PM1_GBL_STS | \
                       ACPI_PM1_PWRBTN_STS | ACPI_PM1_RTC_STS | 0x0800 | \
                       ACPI_PM1_WAK_STS)
#define PM1_EN_MASK   (ACPI_PM1_TMR_EN | ACPI_PM1_GBL_EN | ACPI_PM1_PWRBTN_EN | \
                       ACPI_PM1_RTC_EN)
#define PM1_CNT_MASK  (ACPI_PM1_SCI_EN | 0x0002 | ACPI_PM1_SLP_TYP)

#define DEVACTB_APMC_EN     (1u << 25)

/* SMBus host status and control bits. */
#define SMB_HST_STS   0
#define SMB_HST_CNT   2
#define SMB_STS_BUSY  0x01
#define SMB_STS_DEV_ERR 0x04
#define SMB_STS_W1C   0x1e
#define SMB_CNT_START 0x40

static const StateField acpi_pm_fields[] = {
    STATE_STRUCT(AcpiPmState, pci, pci_device_state_desc),
    STATE_U16(AcpiPmState, pm1_sts),
    STATE_U16(AcpiPmState, pm1_en),
    STATE_U16(AcpiPmState, pm1_cnt),
    STATE_U16(AcpiPmState, gpe0_sts),
    STATE_U16(AcpiPmState, gpe0_en),
    STATE_U8(AcpiPmState, apmc),
    STATE_U8(AcpiPmState, apms),
    STATE_U8(AcpiPmState, sci_level),
    STATE_U64(AcpiPmState, tmr_next),
    STATE_U8_ARRAY(AcpiPmState, regs),
    STATE_U8_ARRAY(AcpiPmState, smb),
    STATE_END
};

static int acpi_pm_post_load(void *state, void *opaque);

const StateDesc acpi_pm_state_desc = {
    .name = "piix4-pm", .version = 1, .size = sizeof(AcpiPmState),
    .fields = acpi_pm_fields, .post_load = acpi_pm_post_load,
};

/* ---- the PM timer ------------------------------------------------------- */

/* Ticks elapsed at virtual time `ns`: exact, and free of overflow for any
 * time the clock can reach, by splitting whole seconds off first. */
static uint64_t ns_to_ticks(int64_t ns)
{
    uint64_t n = ns < 0 ? 0 : (uint64_t)ns;

    return n / NS_PER_S * ACPI_PM_TIMER_HZ +
           n % NS_PER_S * ACPI_PM_TIMER_HZ / NS_PER_S;
}

/* The first virtual nanosecond at which `ticks` have elapsed. */
static int64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t q = ticks / ACPI_PM_TIMER_HZ, r = ticks % ACPI_PM_TIMER_HZ;

    return (int64_t)(q * NS_PER_S +
                     (r * NS_PER_S + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

static uint64_t now_ticks(AcpiPm *pm)
{
    return ns_to_ticks(clock_ns(pm->cfg.clock));
}

static uint64_t next_msb_change(uint64_t ticks)
{
    return ((ticks >> TMR_MSB_SHIFT) + 1) << TMR_MSB_SHIFT;
}

uint32_t acpi_pm_timer(AcpiPm *pm)
{
    return (uint32_t)(now_ticks(pm) & 0xffffff);
}

/* Catch TMR_STS up with the counter. */
static void tmr_sync(AcpiPm *pm)
{
    uint64_t t = now_ticks(pm);

    if (t >= pm->s.tmr_next) {
        pm->s.pm1_sts |= ACPI_PM1_TMR_STS;
        pm->s.tmr_next = next_msb_change(t);
    }
}

static void update_sci(AcpiPm *pm)
{
    uint16_t pm1 = pm->s.pm1_sts & pm->s.pm1_en & PM1_EN_MASK;
    uint8_t level = (pm->s.pm1_cnt & ACPI_PM1_SCI_EN) &&
                    (pm1 || (pm->s.gpe0_sts & pm->s.gpe0_en));

    if (level != pm->s.sci_level) {
        pm->s.sci_level = level;
        irq_set(&pm->cfg.sci, level);
    }
}

/* The overflow interrupt needs a wake-up only while it can fire. */
static void tmr_arm(AcpiPm *pm)
{
    if ((pm->s.pm1_en & ACPI_PM1_TMR_EN) && (pm->s.pm1_cnt & ACPI_PM1_SCI_EN))
        timer_mod(&pm->tmr, ticks_to_ns(pm->s.tmr_next));
    else
        timer_del(&pm->tmr);
}

static void tmr_fire(void *opaque)
{
    AcpiPm *pm = opaque;

    tmr_sync(pm);
    update_sci(pm);
    tmr_arm(pm);
}

/* ---- the PM I/O block --------------------------------------------------- */

static uint8_t pm_byte(AcpiPm *pm, unsigned off, uint32_t tmr)
{
    unsigned sh = 8 * (off & 1);

    switch (off) {
    case 0: case 1:
        return (uint8_t)(pm->s.pm1_sts >> sh);
    case 2: case 3:
        return (uint8_t)(pm->s.pm1_en >> sh);
    case 4: case 5:
        return (uint8_t)(pm->s.pm1_cnt >> sh);
    case 8: case 9: case 10: case 11:
        return (uint8_t)(tmr >> (8 * (off - 8)));
    case 0x14: case 0x15:
        /* PLVL2/PLVL3: reading enters C2/C3; a nop without power states. */
        return 0;
    default:
        return pm->s.regs[off];
    }
}

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *pm = opaque;
    uint32_t tmr = 0;
    uint64_t v = 0;

    /* One clock read per access, so a dword read of PMTMR is coherent. */
    if (off < 12 && off + size > 8)
        tmr = acpi_pm_timer(pm);
    if (off < 2)
        tmr_sync(pm);
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)pm_byte(pm, (unsigned)off + i, tmr) << (8 * i);
    return v;
}

static void pm1_cnt_write(AcpiPm *pm, uint16_t v)
{
    pm->s.pm1_cnt = v & PM1_CNT_MASK;
    if (v & ACPI_PM1_GBL_RLS)
        LOG_LIMITED(LOG_UNIMP, "acpi_pm: GBL_RLS (an SMI to the BIOS) is "
                    "not emulated\n");
    if (v & ACPI_PM1_SLP_EN) {
        unsigned type = (v & ACPI_PM1_SLP_TYP) >> ACPI_PM1_SLP_TYP_SHIFT;
        if (pm->cfg.sleep)
            pm->cfg.sleep(pm->cfg.opaque, type);
        else
            LOG_LIMITED(LOG_UNIMP, "acpi_pm: sleep type %u requested; the "
                        "board handles none\n", type);
    }
}

static void pm_write(void *opaque, uint64_t off, uint64_t value,
                     unsigned size)
{
    AcpiPm *pm = opaque;

    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        uint16_t b = (uint16_t)((value >> (8 * i)) & 0xff), sh = 8 * (o & 1);
        switch (o) {
        case 0: case 1:
            tmr_sync(pm);
            pm->s.pm1_sts &= (uint16_t)~((b << sh) & PM1_STS_W1C);
            break;
        case 2: case 3:
            pm->s.pm1_en = (uint16_t)((pm->s.pm1_en & ~(0xff << sh)) |
                                      ((b << sh) & PM1_EN_MASK));
            break;
        case 4:
            pm1_cnt_write(pm, (uint16_t)((pm->s.pm1_cnt & 0xff00) | b));
            break;
        case 5:
            /* SLP_TYP and SLP_EN share this byte, so a sleep request in a
             * word write is seen whole. */
            pm1_cnt_write(pm, (uint16_t)((pm->s.pm1_cnt & 0x00ff) | b << 8));
            break;
        case 8: case 9: case 10: case 11:
            LOG_LIMITED(LOG_GUEST_ERRORS, "acpi_pm: write to the read-only "
                        "PM timer ignored\n");
            break;
        default:
            pm->s.regs[o] = (uint8_t)b;
            break;
        }
    }
    update_sci(pm);
    tmr_arm(pm);
}

static const MemOps pm_ops = {
    .read = pm_read, .write = pm_write, .max_access = 4,
};

/* ---- GPE0 and APM ------------------------------------------------------- */

static uint64_t gpe_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *pm = opaque;
    uint32_t both = pm->s.gpe0_sts | (uint32_t)pm->s.gpe0_en << 16;

    (void)size;
    return (both >> (8 * off)) & 0xff;
}

static void gpe_write(void *opaque, uint64_t off, uint64_t value,
                      unsigned size)
{
    AcpiPm *pm = opaque;
    unsigned sh = 8 * (off & 1);

    (void)size;
    if (off < 2)
        pm->s.gpe0_sts &= (uint16_t)~((value & 0xff) << sh);
    else
        pm->s.gpe0_en = (uint16_t)((pm->s.gpe0_en & ~(0xff << sh)) |
                                   (value & 0xff) << sh);
    update_sci(pm);
}

static const MemOps gpe_ops = {
    .read = gpe_read, .write = gpe_write, .max_access = 1,
};

static uint64_t apm_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *pm = opaque;

    (void)size;
    return off == 0 ? pm->s.apmc : pm->s.apms;
}

static void apm_write(void *opaque, uint64_t off, uint64_t value,
                      unsigned size)
{
    AcpiPm *pm = opaque;

    (void)size;
    if (off == 1) {
        pm->s.apms = (uint8_t)value;
        return;
    }
    pm->s.apmc = (uint8_t)value;
    if (value == ACPI_PM_ACPI_ENABLE)
        pm->s.pm1_cnt |= ACPI_PM1_SCI_EN;
    else if (value == ACPI_PM_ACPI_DISABLE)
        pm->s.pm1_cnt &= (uint16_t)~ACPI_PM1_SCI_EN;
    else if (pci_get_long(pm->s.pci.config + ACPI_PM_DEVACTB) & DEVACTB_APMC_EN)
        LOG_LIMITED(LOG_UNIMP, "acpi_pm: APM command 0x%02x would raise an "
                    "SMI; SMM is not emulated\n", (unsigned)value);
    update_sci(pm);
    tmr_arm(pm);
}

static const MemOps apm_ops = {
    .read = apm_read, .write = apm_write, .max_access = 1,
};

/* ---- SMBus host: no devices answer -------------------------------------- */

static uint64_t smb_read(void *opaque, uint64_t off, unsigned size)
{
    (void)size;
    return ((AcpiPm *)opaque)->s.smb[off];
}

static void smb_write(void *opaque, uint64_t off, uint64_t value,
                      unsigned size)
{
    AcpiPm *pm = opaque;

    (void)size;
    if (off == SMB_HST_STS) {
        pm->s.smb[SMB_HST_STS] &= (uint8_t)~(value & SMB_STS_W1C);
        return;
    }
    pm->s.smb[off] = (uint8_t)(value & (off == SMB_HST_CNT ? ~SMB_CNT_START : 0xff));
    /* A transaction to an address nobody answers ends at once with a
     * device error, as on a board with no SMBus devices. */
    if (off == SMB_HST_CNT && (value & SMB_CNT_START))
        pm->s.smb[SMB_HST_STS] |= SMB_STS_DEV_ERR;
}

static const MemOps smb_ops = {
    .read = smb_read, .write = smb_write, .max_access = 1,
};

/* ---- configuration space and windows ------------------------------------ */

static void window_update(AcpiPm *pm, AcpiPmWindow *w, bool want,
                          uint16_t base, unsigned len, const MemOps *ops,
                          const char *name)
{
    if (w->mapped && (!want || w->base != base)) {
        as_unmap(pm->cfg.io, w->base);
        w->mapped = false;
    }
    if (!want) {
        w->refused = UINT32_MAX;
        return;
    }
    if (w->mapped)
        return;
    if (as_map_io(pm->cfg.io, name, base, len, ops, pm) == 0) {
        w->mapped = true;
        w->base = base;
        w->refused = UINT32_MAX;
    } else if (w->refused != base) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "acpi_pm: %s at port 0x%x overlaps "
                    "another device; left unmapped\n", name, base);
        w->refused = base;
    }
}

static void update_windows(AcpiPm *pm)
{
    const uint8_t *c = pm->s.pci.config;

    window_update(pm, &pm->pm_win, c[ACPI_PM_PMREGMISC] & 1,
                  pci_get_word(c + ACPI_PM_PMBA) & 0xffc0, ACPI_PM_BLOCK_LEN,
                  &pm_ops, "piix4-pm");
    window_update(pm, &pm->smb_win,
                  (c[ACPI_PM_SMBHSTCFG] & 1) &&
                  (pci_get_word(c + PCI_COMMAND) & PCI_COMMAND_IO),
                  pci_get_word(c + ACPI_PM_SMBBA) & 0xfff0, 16, &smb_ops,
                  "piix4-smbus");
}

static void acpi_pm_config_write(PciDevice *d, unsigned reg, uint32_t val,
                                 unsigned len)
{
    pci_default_config_write(d, reg, val, len);
    update_windows(d->opaque);
}

static const PciDeviceInfo acpi_pm_info = {
    .name = "piix4-pm",
    .vendor_id = 0x8086, .device_id = 0x7113, .revision = 0x03,
    .class_code = 0x068000,                 /* other bridge */
    .irq_pin = 1,
    .status = PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM,
    .config_write = acpi_pm_config_write,
};

static void set_wmasks(PciDevice *d)
{
    uint8_t *w = d->wmask;

    pci_set_word(w + ACPI_PM_PMBA, 0xffc0);
    memset(w + 0x44, 0xff, 0x80 - 0x44);    /* CNTA .. DEVRESJ: stored */
    w[ACPI_PM_PMREGMISC] = 0x01;
    pci_set_word(w + ACPI_PM_SMBBA, 0xfff0);
    w[ACPI_PM_SMBHSTCFG] = 0x0f;
    w[ACPI_PM_SMBHSTCFG + 1] = 0xff;        /* SMBSLVC */
    w[ACPI_PM_SMBHSTCFG + 2] = 0xff;        /* SMBSHDW1/2 */
    w[ACPI_PM_SMBHSTCFG + 3] = 0xff;
}

void acpi_pm_reset(AcpiPm *pm)
{
    uint8_t *c = pm->s.pci.config;

    pci_device_reset(&pm->pci);
    pci_set_long(c + ACPI_PM_PMBA, 0x00000001);
    pci_set_long(c + ACPI_PM_SMBBA, 0x00000001);
    pci_set_long(c + ACPI_PM_DEVACTB, DEVACTB_APMC_EN);
    pm->s.pm1_sts = pm->s.pm1_en = pm->s.pm1_cnt = 0;
    pm->s.gpe0_sts = pm->s.gpe0_en = 0;
    pm->s.apmc = pm->s.apms = 0;
    memset(pm->s.regs, 0, sizeof(pm->s.regs));
    memset(pm->s.smb, 0, sizeof(pm->s.smb));
    pm->s.tmr_next = next_msb_change(now_ticks(pm));
    update_sci(pm);
    tmr_arm(pm);
    update_windows(pm);
}

static int acpi_pm_post_load(void *state, void *opaque)
{
    AcpiPm *pm = opaque;

    (void)state;
    update_windows(pm);
    tmr_arm(pm);
    return pci_device_post_load(&pm->pci);
}

void acpi_pm_power_button(AcpiPm *pm)
{
    pm->s.pm1_sts |= ACPI_PM1_PWRBTN_STS;
    update_sci(pm);
}

void acpi_pm_raise_gpe(AcpiPm *pm, unsigned bit)
{
    if (bit >= 16)
        return;
    pm->s.gpe0_sts |= (uint16_t)(1u << bit);
    update_sci(pm);
}

int acpi_pm_new(PciBus *bus, const AcpiPmConfig *cfg, AcpiPm **out)
{
    AcpiPm *pm;
    int r;

    if (!bus || !cfg || !cfg->io || !cfg->clock)
        return -EINVAL;
    pm = calloc(1, sizeof(*pm));
    if (!pm)
        return -ENOMEM;
    pm->cfg = *cfg;
    pm->pm_win.refused = pm->smb_win.refused = UINT32_MAX;
    timer_init(&pm->tmr, cfg->clock, tmr_fire, pm);
    r = pci_device_register(bus, &pm->pci, &pm->s.pci, ACPI_PM_DEVFN,
                            &acpi_pm_info, pm);
    if (r < 0) {
        free(pm);
        return r;
    }
    set_wmasks(&pm->pci);
    r = as_map_io(cfg->io, "apm", ACPI_PM_APM_PORT, 2, &apm_ops, pm);
    pm->apm_mapped = r == 0;
    if (!r && cfg->gpe0_base) {
        r = as_map_io(cfg->io, "acpi-gpe0", cfg->gpe0_base, 4, &gpe_ops, pm);
        pm->gpe_mapped = r == 0;
    }
    if (r < 0) {
        acpi_pm_free(pm);
        return r;
    }
    acpi_pm_reset(pm);
    *out = pm;
    return 0;
}

void acpi_pm_free(AcpiPm *pm)
{
    if (!pm)
        return;
    timer_del(&pm->tmr);
    if (pm->pm_win.mapped)
        as_unmap(pm->cfg.io, pm->pm_win.base);
    if (pm->smb_win.mapped)
        as_unmap(pm->cfg.io, pm->smb_win.base);
    if (pm->apm_mapped)
        as_unmap(pm->cfg.io, ACPI_PM_APM_PORT);
    if (pm->gpe_mapped)
        as_unmap(pm->cfg.io, pm->cfg.gpe0_base);
    pci_device_unregister(&pm->pci);
    free(pm);
}

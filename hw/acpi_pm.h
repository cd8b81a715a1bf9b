/* Intel 82371AB PIIX4 function 3, power management, at PCI 00:01.3
 * (8086:7113, revision 03), as on QEMU's `pc` board: the ACPI fixed
 * hardware (PM1a event and control blocks, the PM timer), the APM ports
 * 0xB2/0xB3, a GPE0 block and an SMBus host controller without devices.
 *
 * The PM I/O block sits where the firmware puts it: PMBA (config 0x40),
 * enabled by PMREGMISC (0x80) bit 0; SeaBIOS picks 0x600.  The SCI is an
 * IrqLine the board wires to IRQ9.  Sleep requests (SLP_EN) go to a board
 * callback with the SLP_TYP value: on PIIX4, and in QEMU's DSDT, 0 is S5
 * (soft off).  The board's FADT must say SMI_CMD = 0xB2, ACPI_ENABLE =
 * 0xF1 and ACPI_DISABLE = 0xF0, PM1a_EVT = base, PM1a_CNT = base + 4,
 * PM_TMR = base + 8 (24-bit), and GPE0_BLK = gpe0_base, length 4.
 */
#ifndef VIREO_HW_ACPI_PM_H
#define VIREO_HW_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"
#include "machine/clock.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define ACPI_PM_DEVFN        PCI_DEVFN(1, 3)
#define ACPI_PM_PMBA         0x40
#define ACPI_PM_DEVACTB      0x58
#define ACPI_PM_PMREGMISC    0x80
#define ACPI_PM_SMBBA        0x90
#define ACPI_PM_SMBHSTCFG    0xd2

#define ACPI_PM_BLOCK_LEN    64
#define ACPI_PM_TIMER_HZ     3579545u
#define ACPI_PM_APM_PORT     0xb2
#define ACPI_PM_ACPI_ENABLE  0xf1   /* written to SMI_CMD (0xB2) */
#define ACPI_PM_ACPI_DISABLE 0xf0
#define ACPI_PM_GPE0_QEMU    0xafe0 /* where QEMU's board puts GPE0 */

/* PM1 registers (ACPI 1.0b 4.7.3; PIIX4 PMSTS/PMEN/PMCNTRL). */
#define ACPI_PM1_TMR_STS     0x0001
#define ACPI_PM1_BM_STS      0x0010
#define ACPI_PM1_GBL_STS     0x0020
#define ACPI_PM1_PWRBTN_STS  0x0100
#define ACPI_PM1_RTC_STS     0x0400
#define ACPI_PM1_WAK_STS     0x8000
#define ACPI_PM1_TMR_EN      0x0001
#define ACPI_PM1_GBL_EN      0x0020
#define ACPI_PM1_PWRBTN_EN   0x0100
#define ACPI_PM1_RTC_EN      0x0400
#define ACPI_PM1_SCI_EN      0x0001
#define ACPI_PM1_GBL_RLS     0x0004
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP     0x1c00
#define ACPI_PM1_SLP_EN      0x2000

typedef struct AcpiPmState {
    PciDeviceState pci;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint16_t gpe0_sts, gpe0_en;
    uint8_t apmc, apms;             /* ports 0xB2/0xB3 */
    uint8_t sci_level;              /* level driven on the SCI line */
    uint64_t tmr_next;              /* PM timer tick at which the counter's
                                       bit 23 next changes (TMR_STS) */
    uint8_t regs[ACPI_PM_BLOCK_LEN]; /* other PIIX4 PM registers: stored */
    uint8_t smb[16];                /* SMBus host registers */
} AcpiPmState;

extern const StateDesc acpi_pm_state_desc;

typedef struct AcpiPmConfig {
    AddressSpace *io;
    Clock *clock;                   /* the PM timer counts virtual time */
    IrqLine sci;                    /* IRQ9 on the PC */
    uint16_t gpe0_base;             /* 0: no GPE0 block */
    /* SLP_EN was written with SLP_TYP `type` (0 = S5 on PIIX4).  For S5
     * the board powers off; it decides what other types mean. */
    void (*sleep)(void *opaque, unsigned type);
    void *opaque;
} AcpiPmConfig;

/* A movable I/O window (the PM block, the SMBus host). */
typedef struct AcpiPmWindow {
    bool mapped;
    uint16_t base;
    uint32_t refused;               /* last base that failed (logged once) */
} AcpiPmWindow;

typedef struct AcpiPm {
    AcpiPmState s;
    PciDevice pci;
    AcpiPmConfig cfg;
    Timer tmr;
    AcpiPmWindow pm_win, smb_win;
    bool apm_mapped, gpe_mapped;
} AcpiPm;

/* Attach at 00:01.3 and map the fixed ports (0xB2-0xB3, GPE0).  Returns 0
 * or -errno. */
int acpi_pm_new(PciBus *bus, const AcpiPmConfig *cfg, AcpiPm **out);
void acpi_pm_reset(AcpiPm *pm);
void acpi_pm_free(AcpiPm *pm);

/* The PM timer's current 24-bit value. */
uint32_t acpi_pm_timer(AcpiPm *pm);

/* Host-side events: the power button (PWRBTN_STS) and a GPE0 status bit
 * (0-15), each raising the SCI when the guest enabled it. */
void acpi_pm_power_button(AcpiPm *pm);
void acpi_pm_raise_gpe(AcpiPm *pm, unsigned bit);

#endif

/* Intel 82441FX PCI and Memory Controller (PMC), the host bridge of the
 * i440FX chipset, at PCI 00:00.0 (8086:1237, revision 02 as on QEMU's
 * `pc` board, which Debian's SeaBIOS looks for to unlock shadow RAM).
 *
 * Owns the memory range 0xC0000-0xFFFFF: the PAM registers decide, per
 * 16 KiB (64 KiB for 0xF0000) segment, whether reads and writes go to DRAM
 * or to PCI (the firmware alias), so the board must NOT map anything in
 * 0xC0000-0xFFFFF itself.  SMRAM (register 0x72) is modelled as a register
 * with its lock; SMM itself is not emulated.
 */
#ifndef VIREO_HW_I440FX_H
#define VIREO_HW_I440FX_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define I440FX_DEVFN        PCI_DEVFN(0, 0)
#define I440FX_PAM0         0x59        /* PAM0-PAM6: 0x59-0x5F */
#define I440FX_SMRAM        0x72

/* SMRAM register bits (82441FX datasheet, 3.2.28). */
#define I440FX_SMRAM_D_OPEN   0x40
#define I440FX_SMRAM_D_CLS    0x20
#define I440FX_SMRAM_D_LCK    0x10
#define I440FX_SMRAM_G_SMRAME 0x08
#define I440FX_SMRAM_C_BASE   0x02      /* 0xA0000, hardwired */

/* PAM attribute of a segment (bits RE = 1, WE = 2 of each nibble). */
enum {
    PAM_PCI = 0,      /* reads and writes to PCI: the ROM backing */
    PAM_RO = 1,       /* reads DRAM, writes to PCI (dropped) */
    PAM_WO = 2,       /* reads PCI (the ROM), writes DRAM */
    PAM_RW = 3,       /* DRAM */
};

#define I440FX_PAM_SEGMENTS 13          /* 0xF0000 (64 KiB) + 12 x 16 KiB */

typedef struct I440fxState {
    PciDeviceState pci;     /* PAM and SMRAM are configuration registers */
} I440fxState;

extern const StateDesc i440fx_state_desc;

typedef struct I440fxConfig {
    AddressSpace *mem;
    /* Guest RAM: host address of guest physical 0 and its size.  Segments
     * past the end of RAM can only show the ROM backing. */
    uint8_t *ram;
    uint64_t ram_size;
    /* 128 KiB seen at 0xE0000-0xFFFFF when PAM routes it to PCI: the last
     * 128 KiB of the firmware image (the isa-bios alias).  Required. */
    uint8_t *bios;
    /* 128 KiB seen at 0xC0000-0xDFFFF when routed to PCI, or NULL for
     * nothing there (reads float high, as on a board without ISA ROMs). */
    uint8_t *isa_rom;
    /* Optional: called when SMRAM becomes visible to non-SMM accesses
     * (D_OPEN with G_SMRAME) or hidden again, so the board can put RAM
     * instead of VGA at 0xA0000-0xBFFFF.  NULL: only logged. */
    void (*smram_changed)(void *opaque, bool open);
    void *opaque;
} I440fxConfig;

typedef struct I440fx I440fx;

typedef struct I440fxPamSeg {
    I440fx *dev;
    uint32_t base, size;
    uint8_t mode;           /* PAM_* mapped now; 0xff before the first map */
    bool mapped;
} I440fxPamSeg;

struct I440fx {
    I440fxState s;
    PciDevice pci;
    I440fxConfig cfg;
    I440fxPamSeg seg[I440FX_PAM_SEGMENTS];
    bool smram_open;        /* last state reported to the board */
};

/* Attach at 00:00.0 and map 0xC0000-0xFFFFF as after reset.  Returns 0 or
 * -errno (-EEXIST if the devfn or part of 0xC0000-0xFFFFF is taken). */
int i440fx_new(PciBus *bus, const I440fxConfig *cfg, I440fx **out);
void i440fx_reset(I440fx *h);
void i440fx_free(I440fx *h);

/* The attribute a segment has now, for tests and `info` commands:
 * `addr` anywhere in 0xC0000-0xFFFFF, else -1. */
int i440fx_pam_mode(const I440fx *h, uint32_t addr);

#endif

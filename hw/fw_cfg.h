/* QEMU's firmware configuration interface (fw_cfg), at I/O ports
 * 0x510-0x511 (selector, data) and 0x514-0x51B (DMA address), which
 * Debian's SeaBIOS uses to learn the RAM size, the boot order, the e820
 * map, ACPI and SMBIOS tables and option ROMs, and to load a kernel.
 *
 * The board fills it at creation: numbered items (fw_cfg_add_bytes and the
 * integer helpers, which store little-endian as the interface defines) and
 * named files (fw_cfg_add_file), which get selector keys from 0x0020 in
 * name order and an entry in the file directory at key 0x0019.  Keys of
 * files change as files are added, so add every file before the guest
 * runs.  The guest can only read; DMA writes are refused with the error
 * bit.
 */
#ifndef VIREO_HW_FW_CFG_H
#define VIREO_HW_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/state.h"
#include "mmu/addrspace.h"

#define FW_CFG_PORT_SEL      0x510
#define FW_CFG_PORT_DATA     0x511
#define FW_CFG_PORT_DMA      0x514

/* Selector keys (docs/specs/fw_cfg.rst and QEMU's numbering, which the
 * firmware hardcodes). */
#define FW_CFG_SIGNATURE     0x0000
#define FW_CFG_ID            0x0001
#define FW_CFG_UUID          0x0002
#define FW_CFG_RAM_SIZE      0x0003
#define FW_CFG_NOGRAPHIC     0x0004
#define FW_CFG_NB_CPUS       0x0005
#define FW_CFG_MACHINE_ID    0x0006
#define FW_CFG_KERNEL_ADDR   0x0007
#define FW_CFG_KERNEL_SIZE   0x0008
#define FW_CFG_KERNEL_CMDLINE 0x0009
#define FW_CFG_INITRD_ADDR   0x000a
#define FW_CFG_INITRD_SIZE   0x000b
#define FW_CFG_BOOT_DEVICE   0x000c
#define FW_CFG_NUMA          0x000d
#define FW_CFG_BOOT_MENU     0x000e
#define FW_CFG_MAX_CPUS      0x000f
#define FW_CFG_KERNEL_ENTRY  0x0010
#define FW_CFG_KERNEL_DATA   0x0011
#define FW_CFG_INITRD_DATA   0x0012
#define FW_CFG_CMDLINE_ADDR  0x0013
#define FW_CFG_CMDLINE_SIZE  0x0014
#define FW_CFG_CMDLINE_DATA  0x0015
#define FW_CFG_SETUP_ADDR    0x0016
#define FW_CFG_SETUP_SIZE    0x0017
#define FW_CFG_SETUP_DATA    0x0018
#define FW_CFG_FILE_DIR      0x0019
#define FW_CFG_FILE_FIRST    0x0020
#define FW_CFG_WRITE_CHANNEL 0x4000     /* ignored when selecting */
#define FW_CFG_ARCH_LOCAL    0x8000
#define FW_CFG_ACPI_TABLES   (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE    (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET          (FW_CFG_ARCH_LOCAL + 4)

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA         0x02

/* FWCfgDmaAccess.control bits. */
#define FW_CFG_DMA_ERROR     0x01
#define FW_CFG_DMA_READ      0x02
#define FW_CFG_DMA_SKIP      0x04
#define FW_CFG_DMA_SELECT    0x08
#define FW_CFG_DMA_WRITE     0x10

#define FW_CFG_MAX_NAME      56         /* including the NUL */
#define FW_CFG_MAX_FILES     1024

typedef struct FwCfgState {
    uint16_t cur_key;       /* as written to the selector */
    uint32_t cur_offset;    /* data offset in the selected item */
    uint32_t dma_addr_hi;   /* high half of the DMA address register */
} FwCfgState;

extern const StateDesc fw_cfg_state_desc;

typedef struct FwCfgItem {
    uint16_t key;
    uint32_t len;
    uint8_t *data;          /* owned copy */
} FwCfgItem;

typedef struct FwCfgFile {
    char name[FW_CFG_MAX_NAME];
    uint32_t len;
    uint8_t *data;          /* owned copy */
} FwCfgFile;

typedef struct FwCfg {
    FwCfgState s;
    AddressSpace *io, *mem;
    FwCfgItem *items;       /* numbered items, any order */
    size_t nitems, cap_items;
    FwCfgFile *files;       /* sorted by name; key = FW_CFG_FILE_FIRST + i */
    size_t nfiles, cap_files;
    const uint8_t *cur_data;    /* the selected item (runtime cache) */
    uint32_t cur_len;
    bool ports_mapped, dma_mapped;
} FwCfg;

/* Map the ports in `io`; DMA goes to `mem`.  Creates the signature, ID and
 * (empty) file directory items.  Returns 0 or -errno. */
int fw_cfg_new(AddressSpace *io, AddressSpace *mem, FwCfg **out);
/* Selector to key 0, offset 0, DMA address 0.  Items stay. */
void fw_cfg_reset(FwCfg *fw);
void fw_cfg_free(FwCfg *fw);

/* Add or replace a numbered item (a copy of `data`).  Keys 0x0000,
 * 0x0001, 0x0019, the file range 0x0020-0x3fff and keys with bit 14 set
 * are refused with -EINVAL; -ENOMEM on allocation failure. */
int fw_cfg_add_bytes(FwCfg *fw, uint16_t key, const void *data, size_t len);
int fw_cfg_add_u16(FwCfg *fw, uint16_t key, uint16_t value);
int fw_cfg_add_u32(FwCfg *fw, uint16_t key, uint32_t value);
int fw_cfg_add_u64(FwCfg *fw, uint16_t key, uint64_t value);
/* Add a named file (a copy).  Returns 0, -EEXIST for a duplicate name,
 * -EINVAL for an empty or too long name (55 characters at most), -ENOSPC
 * past FW_CFG_MAX_FILES, -ENOMEM. */
int fw_cfg_add_file(FwCfg *fw, const char *name, const void *data, size_t len);

/* The selector key a file has now, or -1. */
int fw_cfg_file_key(const FwCfg *fw, const char *name);

#endif

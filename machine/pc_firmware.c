/* What the firmware reads about the machine: the CMOS bytes of the PC/AT
 * layout that SeaBIOS consults (memory sizes, equipment, boot order, CPU
 * count) and the fw_cfg items of QEMU's interface (RAM size, CPU counts,
 * the e820 map, the boot menu).  Layout facts: the IBM PC/AT technical
 * reference for CMOS 0x10-0x31, QEMU's documented extensions for 0x34/0x35
 * (RAM above 16 MiB), 0x5B-0x5D (above 4 GiB) and 0x5F (CPUs - 1), and
 * QEMU's docs/specs/fw_cfg.rst for the items.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machine/acpi.h"
#include "machine/pc_internal.h"

enum {
    CMOS_FLOPPY_TYPES = 0x10, CMOS_DISK_TYPES = 0x12, CMOS_EQUIPMENT = 0x14,
    CMOS_BASE_LO = 0x15, CMOS_BASE_HI = 0x16, CMOS_EXT_LO = 0x17,
    CMOS_EXT_HI = 0x18, CMOS_EXT2_LO = 0x30, CMOS_EXT2_HI = 0x31,
    CMOS_MEM16M_LO = 0x34, CMOS_MEM16M_HI = 0x35, CMOS_BOOT_3 = 0x38,
    CMOS_BOOT_12 = 0x3d, CMOS_MEM4G = 0x5b, CMOS_CPUS = 0x5f,
};

enum { E820_RAM = 1 };

static void cmos_u16(MC146818 *rtc, unsigned lo, uint16_t v)
{
    mc146818_set_cmos(rtc, lo, (uint8_t)v);
    mc146818_set_cmos(rtc, lo + 1, (uint8_t)(v >> 8));
}

/* The boot order in the CMOS bytes SeaBIOS reads on QEMU-like boards: one
 * nibble per device, 1 floppy (a), 2 hard disk (c), 3 CD-ROM (d), 4
 * network (n); the first two in 0x3D (low nibble first), the third in the
 * high nibble of 0x38, whose bit 0 clear keeps the floppy boot-signature
 * check.  The default, QEMU's "cad", tries the disk, the floppy, then
 * the CD-ROM. */
static void setup_boot_order(MC146818 *rtc, const char *order)
{
    uint8_t dev[3] = { 0, 0, 0 };
    for (unsigned i = 0; i < 3 && order[i]; i++)
        dev[i] = (uint8_t)(strchr("acdn", order[i]) - "acdn" + 1);
    mc146818_set_cmos(rtc, CMOS_BOOT_12, (uint8_t)(dev[0] | dev[1] << 4));
    mc146818_set_cmos(rtc, CMOS_BOOT_3, (uint8_t)(dev[2] << 4));
}

static void setup_cmos(Pc *pc)
{
    MC146818 *rtc = pc->rtc;
    uint64_t low = pc->lowmem, high = pc->ram_size - pc->lowmem;
    uint64_t ext_kib = low > (1u << 20) ? (low - (1u << 20)) >> 10 : 0;
    uint64_t above16m = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
    uint64_t above4g = high >> 16;

    mc146818_set_cmos(rtc, CMOS_FLOPPY_TYPES, 0);
    mc146818_set_cmos(rtc, CMOS_DISK_TYPES, 0);
    /* Math coprocessor present (bit 1) and a PS/2 mouse (bit 2). */
    mc146818_set_cmos(rtc, CMOS_EQUIPMENT, 0x06);
    cmos_u16(rtc, CMOS_BASE_LO, 640);
    cmos_u16(rtc, CMOS_EXT_LO, (uint16_t)(ext_kib > 0xffff ? 0xffff : ext_kib));
    cmos_u16(rtc, CMOS_EXT2_LO, (uint16_t)(ext_kib > 0xffff ? 0xffff : ext_kib));
    cmos_u16(rtc, CMOS_MEM16M_LO, (uint16_t)(above16m > 0xffff ? 0xffff : above16m));
    mc146818_set_cmos(rtc, CMOS_MEM4G, (uint8_t)above4g);
    mc146818_set_cmos(rtc, CMOS_MEM4G + 1, (uint8_t)(above4g >> 8));
    mc146818_set_cmos(rtc, CMOS_MEM4G + 2, (uint8_t)(above4g >> 16));
    mc146818_set_cmos(rtc, CMOS_CPUS, (uint8_t)(pc->cfg->cpus ? pc->cfg->cpus - 1 : 0));
    setup_boot_order(rtc, pc->cfg->boot_order ? pc->cfg->boot_order : "cad");
}

/* One e820 entry as fw_cfg's "etc/e820" carries it: little-endian
 * address, length and type, packed (20 bytes). */
static size_t put_e820(uint8_t *p, uint64_t addr, uint64_t len, uint32_t type)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(addr >> (8 * i));
        p[8 + i] = (uint8_t)(len >> (8 * i));
    }
    for (int i = 0; i < 4; i++)
        p[16 + i] = (uint8_t)(type >> (8 * i));
    return 20;
}

static int setup_fw_cfg(Pc *pc)
{
    FwCfg *fw = pc->fw_cfg;
    uint8_t e820[40];
    size_t n = put_e820(e820, 0, pc->lowmem, E820_RAM);
    if (pc->ram_size > pc->lowmem)
        n += put_e820(e820 + n, PC_HIGHMEM_BASE, pc->ram_size - pc->lowmem, E820_RAM);
    uint16_t cpus = (uint16_t)(pc->cfg->cpus ? pc->cfg->cpus : 1);
    uint64_t numa_nodes = 0;
    int r = fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE, pc->ram_size);
    if (!r) r = fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, cpus);
    if (!r) r = fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, cpus);
    if (!r) r = fw_cfg_add_u16(fw, FW_CFG_NOGRAPHIC, pc->cfg->nographic);
    if (!r) r = fw_cfg_add_u16(fw, FW_CFG_BOOT_MENU, pc->cfg->boot_menu);
    if (!r) r = fw_cfg_add_bytes(fw, FW_CFG_NUMA, &numa_nodes, sizeof(numa_nodes));
    if (!r) r = fw_cfg_add_file(fw, "etc/e820", e820, n);
    /* QEMU's default -boot reboot-timeout: -1, never retry after a failed
     * boot (SeaBIOS reads it as a little-endian integer). */
    static const uint8_t no_retry[4] = { 0xff, 0xff, 0xff, 0xff };
    if (!r) r = fw_cfg_add_file(fw, "etc/boot-fail-wait", no_retry, sizeof(no_retry));
    /* The ACPI tables and the loader commands that place them
     * (machine/acpi.c). */
    if (!r) r = acpi_fw_cfg_setup(pc);
    return r;
}

int pc_firmware_setup(Pc *pc, char *err, size_t errlen)
{
    setup_cmos(pc);
    int r = setup_fw_cfg(pc);
    if (r)
        snprintf(err, errlen, "cannot set up the firmware configuration: %s",
                 strerror(-r));
    return r;
}

/* The pc board's internals, shared by machine/pc.c (memory, run loop),
 * machine/pc_devices.c (device wiring) and machine/pc_firmware.c (what
 * the firmware reads: CMOS and fw_cfg). */
#ifndef VIREO_MACHINE_PC_INTERNAL_H
#define VIREO_MACHINE_PC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "hw/acpi_pm.h"
#include "hw/debug_exit.h"
#include "hw/debugcon.h"
#include "hw/fw_cfg.h"
#include "hw/hpet.h"
#include "hw/i8042.h"
#include "hw/ide.h"
#include "hw/i440fx.h"
#include "hw/i8254.h"
#include "hw/i8259.h"
#include "hw/ioapic.h"
#include "hw/lapic.h"
#include "hw/mc146818.h"
#include "hw/pci.h"
#include "hw/piix.h"
#include "hw/port80.h"
#include "hw/port92.h"
#include "hw/uart16550.h"
#include "hw/vga.h"
#include "hw/virtio_blk.h"
#include "machine/block.h"
#include "machine/chardev.h"
#include "machine/clock.h"
#include "machine/config.h"
#include "machine/events.h"
#include "machine/pc.h"
#include "mmu/addrspace.h"

#define PC_MAX_SERIAL 4
#define PC_IDE_SLOTS 4
#define PC_HIGHMEM_BASE 0x100000000ull

/* Who drives an ISA IRQ input: the levels are ORed, as on the board where
 * several open-collector sources share a line. */
enum { PC_IRQ_SRC_ISA, PC_IRQ_SRC_PCI, PC_IRQ_SRC_SCI, PC_IRQ_SRC_HPET,
       PC_IRQ_SRC_COUNT };

struct Pc {
    const VmConfig *cfg;
    uint8_t *ram;
    uint64_t ram_size, lowmem;
    uint8_t *bios;
    size_t bios_size;          /* the buffer: the image, at least 128 KiB */
    size_t bios_image;         /* the image as loaded */
    AddressSpace mem, io;
    Clock clock;
    EventQueue events;
    Cpu cpu;

    I8259Pair *pic;
    Lapic *lapic;
    Ioapic *ioapic;
    Hpet *hpet;
    bool hpet_legacy;          /* HPET timers 0/1 own IRQ0/IRQ8 */
    I8254 *pit;
    MC146818 *rtc;
    Uart *uart[PC_MAX_SERIAL];
    CharBackend *serial[PC_MAX_SERIAL];
    uint64_t serial_delivered[PC_MAX_SERIAL];  /* bytes given to the UART */
    unsigned uart_count;
    Debugcon *debugcon;
    CharBackend *debugcon_backend;
    DebugExit *debug_exit;
    Port80 *port80;
    Port92 *port92;
    I8042 *kbc;
    bool a20_port92, a20_kbc;  /* the A20 gate is the OR of both */
    PciBus *pci;
    I440fx *i440fx;
    Piix *piix;
    AcpiPm *acpi;
    FwCfg *fw_cfg;
    Vga *vga;
    /* Disks (machine/pc_storage.c): the image of cfg->drives[i] is
     * disks[i]. */
    BlockDevice *disks[CONFIG_MAX_DRIVES];
    Ide *ide;
    VirtioBlk *virtio_blk[CONFIG_MAX_DRIVES];
    unsigned virtio_blk_count;
    struct LinuxBoot *linux_boot;  /* -kernel: machine/linux_boot.c, or NULL */
    struct Multiboot *multiboot;   /* -kernel with a Multiboot header:
                                      machine/multiboot.c, or NULL */
    uint8_t irq_sources[16];   /* bit per PC_IRQ_SRC_* */

    int exit_status;
    atomic_bool exit_requested;
    atomic_bool reset_requested;
};

/* pc.c: a firmware file bundled in roms/ next to the executable, else the
 * copy Debian's seabios package installs. */
void pc_rom_path(const char *name, char *buf, size_t len);

/* pc_devices.c */
int pc_devices_create(Pc *pc, char *err, size_t errlen);
void pc_devices_reset(Pc *pc);
void pc_devices_destroy(Pc *pc);
/* Move queued host input into the devices and re-open the flow-control
 * windows of their backends. */
void pc_devices_poll(Pc *pc);

/* An IrqLine driving ISA IRQ `irq` as one of its sources (PC_IRQ_SRC_*). */
IrqLine pc_isa_irq(Pc *pc, int irq, int source);

/* pc_storage.c: the disk images and their controllers. */
int pc_storage_create(Pc *pc, char *err, size_t errlen);
void pc_storage_reset(Pc *pc);
void pc_storage_destroy(Pc *pc);

/* Write the VGA text screen to `path` (the -screendump test hook). */
void pc_write_screendump(Pc *pc, const char *path);

/* pc_firmware.c: the CMOS bytes and fw_cfg items SeaBIOS reads. */
int pc_firmware_setup(Pc *pc, char *err, size_t errlen);

#endif

/* The pc board's devices and how they are wired, in a fixed order (the
 * same order on every run, so snapshots and replays line up):
 *
 *   8259 pair -> local APIC LINT0 (virtual wire) -> CPU INTR;
 *   local APIC NMI (LINT1, NMI messages) -> CPU NMI;
 *   ISA IRQs -> IOAPIC pins (IRQ0 on pin 2, the rest identity, as QEMU);
 *   HPET timers -> IOAPIC pins 20-23, or IRQ0/IRQ8 in legacy replacement;
 *   8254 -> IRQ0;  MC146818 -> IRQ8;
 *   8042 keyboard controller -> IRQ1 (keyboard), IRQ12 (mouse);
 *   16550 UARTs COM1..COM4 -> IRQ4/3/4/3;  port 0x80, port 0x92 (A20);
 *   x87 FERR# -> IRQ13, cleared by a write to port 0xF0;
 *   debug console 0xE9/0x402;  isa-debug-exit 0xF4;
 *   PCI: i440FX 00:00.0 (PAM owns 0xC0000-0xFFFFF), PIIX3 00:01.0 (PIRQ
 *   routing, ELCR, 0xCF9), PIIX4 PM 00:01.3 (SCI -> IRQ9, S5 -> power off),
 *   VGA with Bochs VBE 00:02.0 (Debian's vgabios-stdvga.bin in its ROM BAR);
 *   IDE 00:01.1 and virtio-blk from 00:03.0 (machine/pc_storage.c);
 *   fw_cfg 0x510-0x51B.
 *
 * ISA IRQ inputs are the OR of their sources (ISA device, PCI PIRQ, SCI).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "machine/pc_internal.h"
#include "util/log.h"

static const uint16_t uart_bases[PC_MAX_SERIAL] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const int uart_irqs[PC_MAX_SERIAL] = { 4, 3, 4, 3 };
#define FERR_LATCH_PORT 0xf0

/* ---- interrupt routing ---------------------------------------------------- */

/* The level seen on ISA IRQ `irq`: the OR of its sources, except that in
 * HPET legacy replacement the PIT (IRQ0) and RTC (IRQ8) are cut off. */
static int isa_level(const Pc *pc, int irq)
{
    uint8_t sources = pc->irq_sources[irq];
    if (pc->hpet_legacy && (irq == 0 || irq == 8))
        sources &= (uint8_t)~(1u << PC_IRQ_SRC_ISA);
    return sources != 0;
}

static void drive_isa_irq(Pc *pc, int irq)
{
    int level = isa_level(pc, irq);
    i8259_pair_set_irq(pc->pic, irq, level);
    if (pc->ioapic && irq != 2)
        ioapic_set_irq(pc->ioapic, irq == 0 ? 2 : irq, level);
}

static void set_isa_irq(Pc *pc, int irq, int source, int level)
{
    uint8_t bit = (uint8_t)(1u << source);
    if (irq < 0 || irq > 15)
        return;
    if (level)
        pc->irq_sources[irq] |= bit;
    else
        pc->irq_sources[irq] &= (uint8_t)~bit;
    drive_isa_irq(pc, irq);
}

/* FERR# (x87 error reporting with CR0.NE clear, SDM Vol. 1 8.7): the PC
 * routes it to IRQ13 through the chipset. */
static void cpu_ferr(void *opaque, int level)
{
    set_isa_irq(opaque, 13, PC_IRQ_SRC_ISA, level);
}

/* Port 0xF0, the PC/AT's coprocessor error latch: an IRQ13 handler writes
 * it to drop IRQ13 (and assert IGNNE#, which the x87 behaves as if always
 * asserted with CR0.NE = 0: see cpu/fpu/x87.c) before its FNCLEX.  IRQ13
 * rises again with the next FERR# assertion. */
static uint64_t ferr_latch_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0xff;   /* nothing answers reads */
}

static void ferr_latch_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    set_isa_irq(opaque, 13, PC_IRQ_SRC_ISA, 0);
}

static const MemOps ferr_latch_ops = {
    .read = ferr_latch_read, .write = ferr_latch_write, .max_access = 1,
};

static void hpet_legacy_changed(void *opaque, int enabled)
{
    Pc *pc = opaque;
    pc->hpet_legacy = enabled;
    drive_isa_irq(pc, 0);
    drive_isa_irq(pc, 8);
}

/* IrqLine handler: n = irq | source << 8. */
static void isa_irq_line(void *opaque, int n, int level)
{
    set_isa_irq(opaque, n & 0xff, n >> 8, level);
}

IrqLine pc_isa_irq(Pc *pc, int irq, int source)
{
    return irq_line(isa_irq_line, pc, irq | (source << 8));
}

static void pci_irq(void *opaque, int irq, int level)
{
    set_isa_irq(opaque, irq, PC_IRQ_SRC_PCI, level);
}

/* The 8259's INT output feeds LINT0 of the local APIC (ExtINT, virtual
 * wire mode after reset); the APIC drives the CPU's INTR. */
static void pic_intr(void *opaque, int n, int level)
{
    lapic_set_lint(((Pc *)opaque)->lapic, 0, level);
}

static void apic_cpu_intr(void *opaque, int level)
{
    Pc *pc = opaque;
    pc->cpu.intr_pending = level;
    if (level)
        cpu_kick(&pc->cpu);   /* translated code checks only at block entry */
}

static int apic_ext_ack(void *opaque)
{
    return i8259_pair_ack(((Pc *)opaque)->pic);
}

static void apic_eoi_broadcast(void *opaque, int vector)
{
    Pc *pc = opaque;
    if (pc->ioapic)
        ioapic_eoi_broadcast(pc->ioapic, vector);
}

/* cpu/ knows no hw/ types: these adapt the APIC to the CPU's table. */
static uint8_t op_get_tpr(void *a) { return lapic_get_tpr(a); }
static void op_set_tpr(void *a, uint8_t v) { lapic_set_tpr(a, v); }
static void op_set_base(void *a, uint64_t v) { lapic_set_base(a, v); }
static uint64_t op_read_deadline(void *a) { return lapic_read_tsc_deadline(a); }
static void op_write_deadline(void *a, uint64_t deadline, uint64_t now)
{
    lapic_write_tsc_deadline(a, deadline, now);
}
static bool op_has_interrupt(void *a) { return lapic_has_interrupt(a); }
static int op_ack(void *a) { return lapic_ack(a); }

static const CpuApicOps apic_ops = {
    .get_tpr = op_get_tpr, .set_tpr = op_set_tpr, .set_base = op_set_base,
    .read_tsc_deadline = op_read_deadline,
    .write_tsc_deadline = op_write_deadline,
    .has_interrupt = op_has_interrupt, .ack = op_ack,
};

/* NMI from the local APIC (LINT1 in NMI mode, an NMI IPI or message) goes
 * to the CPU's NMI input; SMI, INIT and SIPI have no CPU side yet. */
static void apic_signal(void *opaque, int kind, int vector)
{
    if (kind == LAPIC_SIGNAL_NMI)
        cpu_raise_nmi(&((Pc *)opaque)->cpu);
    else
        LOG_LIMITED(LOG_UNIMP, "pc: local APIC signal %d (vector %#x) "
                    "not implemented\n", kind, vector);
}

/* The local APIC, IOAPIC and HPET of modern kernels. */
static int create_apics(Pc *pc)
{
    LapicHooks lh = {
        .ext_ack = apic_ext_ack, .set_cpu_intr = apic_cpu_intr,
        .eoi_broadcast = apic_eoi_broadcast, .signal = apic_signal,
        .opaque = pc,
    };
    int r = lapic_new(&pc->mem, &pc->clock, &lh, &pc->lapic);
    if (r)
        return r;
    lapic_configure(pc->lapic, 0, true);
    pc->cpu.ferr = cpu_ferr;
    pc->cpu.ferr_opaque = pc;
    pc->cpu.apic = pc->lapic;
    pc->cpu.apic_ops = &apic_ops;
    pc->cpu.apic_id = 0;
    r = ioapic_new(&pc->mem, IOAPIC_DEFAULT_BASE, 0, lapic_bus_deliver,
                   pc->lapic, &pc->ioapic);
    if (r)
        return r;
    HpetHooks hh = {
        .legacy = { pc_isa_irq(pc, 0, PC_IRQ_SRC_HPET),
                    pc_isa_irq(pc, 8, PC_IRQ_SRC_HPET) },
        .legacy_changed = hpet_legacy_changed, .opaque = pc,
    };
    for (int pin = 0; pin < HPET_ROUTES; pin++)
        hh.route[pin] = irq_line(ioapic_set_irq, pc->ioapic, pin);
    return hpet_new(&pc->mem, &pc->clock, &hh, &pc->hpet);
}

static void elcr_changed(void *opaque, uint16_t elcr)
{
    Pc *pc = opaque;
    i8259_pair_set_elcr(pc->pic, 0, (uint8_t)elcr);
    i8259_pair_set_elcr(pc->pic, 1, (uint8_t)(elcr >> 8));
}

/* ---- board requests from devices --------------------------------------- */

/* Requests arrive inside a port write: set a flag and stop the CPU at the
 * end of the instruction; the run loop acts on it. */
static void request_reset(Pc *pc)
{
    atomic_store(&pc->reset_requested, true);
    pc->cpu.exit_request = 1;
    cpu_kick(&pc->cpu);
}

static void on_debug_exit(void *opaque, int status)
{
    Pc *pc = opaque;
    pc->exit_status = status;
    atomic_store(&pc->exit_requested, true);
    pc->cpu.exit_request = 1;
    cpu_kick(&pc->cpu);
}

/* Port 0x92 and the keyboard controller's output port both drive A20;
 * the gate is open when either says so. */
static void on_a20_port92(void *opaque, bool enabled)
{
    Pc *pc = opaque;
    pc->a20_port92 = enabled;
    cpu_set_a20(&pc->cpu, pc->a20_port92 || pc->a20_kbc);
}

static void on_a20_kbc(void *opaque, bool enabled)
{
    Pc *pc = opaque;
    pc->a20_kbc = enabled;
    cpu_set_a20(&pc->cpu, pc->a20_port92 || pc->a20_kbc);
}

static void on_kbc_reset(void *opaque)
{
    request_reset(opaque);
}

static void on_port92_reset(void *opaque)
{
    request_reset(opaque);
}

static void on_piix_reset(void *opaque, bool hard)
{
    request_reset(opaque);
}

/* ACPI sleep: S5 (SLP_TYP 0 on the PIIX4) powers the machine off, which
 * ends the run with status 0.  Other states are not modelled. */
static void on_sleep(void *opaque, unsigned type)
{
    Pc *pc = opaque;
    if (type == 0) {
        pc->exit_status = 0;
        atomic_store(&pc->exit_requested, true);
        pc->cpu.exit_request = 1;
        cpu_kick(&pc->cpu);
        return;
    }
    LOG_LIMITED(LOG_UNIMP, "pc: ACPI sleep type %u not supported, ignored\n", type);
}

/* ---- creation ------------------------------------------------------------ */

static int create_isa(Pc *pc)
{
    Port92Hooks hooks = { on_a20_port92, on_port92_reset, pc };
    I8042Hooks kbc_hooks = { on_a20_kbc, on_kbc_reset, pc };
    int r = create_apics(pc);
    if (r)
        return r;
    pc->pic = i8259_pair_new(&pc->io, irq_line(pic_intr, pc, 0));
    if (!pc->pic)
        return -ENOMEM;
    pc->pit = i8254_new(&pc->io, &pc->clock, pc_isa_irq(pc, 0, PC_IRQ_SRC_ISA));
    /* Deterministic runs must not depend on the host's date. */
    int64_t base = pc->cfg->deterministic ? 946684800 /* 2000-01-01 */
                                          : (int64_t)time(NULL);
    pc->rtc = mc146818_new(&pc->io, &pc->clock, pc_isa_irq(pc, 8, PC_IRQ_SRC_ISA), base);
    if ((r = as_map_io(&pc->io, "ferr-latch", FERR_LATCH_PORT, 1,
                       &ferr_latch_ops, pc)) < 0)
        return r;
    pc->port80 = port80_new(&pc->io);
    pc->port92 = port92_new(&pc->io, &hooks);
    pc->debug_exit = debug_exit_new(&pc->io, DEBUG_EXIT_PORT, 4, on_debug_exit, pc);
    if (!pc->pit || !pc->rtc || !pc->port80 || !pc->port92 || !pc->debug_exit)
        return -ENOMEM;
    r = i8042_new(&pc->io, pc_isa_irq(pc, 1, PC_IRQ_SRC_ISA),
                      pc_isa_irq(pc, 12, PC_IRQ_SRC_ISA), &kbc_hooks, &pc->kbc);
    if (r)
        return r;
    for (unsigned i = 0; i < pc->uart_count; i++) {
        pc->uart[i] = uart_new(&pc->io, uart_bases[i],
                               pc_isa_irq(pc, uart_irqs[i], PC_IRQ_SRC_ISA),
                               &pc->clock, NULL);
        if (!pc->uart[i])
            return -ENOMEM;
    }
    if (pc->cfg->debugcon && !(pc->debugcon = debugcon_new(&pc->io, NULL)))
        return -ENOMEM;
    return 0;
}

/* The VGA BIOS: roms/ next to the executable, else Debian's copy. */
static void vga_rom_path(char *buf, size_t len)
{
    pc_rom_path("vgabios-stdvga.bin", buf, len);
}

static int create_pci(Pc *pc, char *err, size_t errlen)
{
    int r = pci_bus_new(&pc->mem, &pc->io, &pc->pci);
    if (r)
        return r;
    I440fxConfig hc = {
        .mem = &pc->mem, .ram = pc->ram, .ram_size = pc->lowmem,
        .bios = pc->bios + pc->bios_size - 0x20000, .isa_rom = NULL,
        .opaque = pc,
    };
    PiixConfig xc = {
        .io = &pc->io, .set_isa_irq = pci_irq, .elcr_changed = elcr_changed,
        .reset = on_piix_reset, .opaque = pc,
    };
    AcpiPmConfig ac = {
        .io = &pc->io, .clock = &pc->clock, .sci = pc_isa_irq(pc, 9, PC_IRQ_SRC_SCI),
        .gpe0_base = ACPI_PM_GPE0_QEMU, .sleep = on_sleep, .opaque = pc,
    };
    AcpiPm *pm = NULL;
    if ((r = i440fx_new(pc->pci, &hc, &pc->i440fx)) ||
        (r = piix_new(pc->pci, &xc, &pc->piix)) ||
        (r = acpi_pm_new(pc->pci, &ac, &pm)))
        return r;
    pc->acpi = pm;
    char rom[4200];
    vga_rom_path(rom, sizeof(rom));
    if ((r = vga_new(pc->pci, &pc->mem, &pc->io, &pc->clock, rom, &pc->vga,
                     err, errlen)))
        return r;
    return fw_cfg_new(&pc->io, &pc->mem, &pc->fw_cfg);
}

/* Serial input: the queue hands bytes to the UART of the port. */
static void serial_sink(void *opaque, const InputEvent *ev)
{
    Pc *pc = opaque;
    if (ev->unit >= pc->uart_count)
        return;
    pc->serial_delivered[ev->unit] += ev->len;
    uart_receive(pc->uart[ev->unit], ev->data, ev->len);
}

int pc_devices_create(Pc *pc, char *err, size_t errlen)
{
    pc->uart_count = pc->cfg->serial_count ? pc->cfg->serial_count : 1;
    if (pc->uart_count > PC_MAX_SERIAL)
        pc->uart_count = PC_MAX_SERIAL;
    err[0] = 0;
    int r = create_isa(pc);
    if (!r)
        r = create_pci(pc, err, errlen);
    if (!r)
        r = pc_storage_create(pc, err, errlen);
    if (r) {
        if (!err[0])
            snprintf(err, errlen, "cannot create the platform devices: %s",
                     strerror(-r));
        return r;
    }
    events_set_sink(&pc->events, EVENT_SERIAL_RX, serial_sink, pc);
    events_set_sink(&pc->events, EVENT_KEY, i8042_input_event, pc->kbc);
    events_set_sink(&pc->events, EVENT_MOUSE, i8042_input_event, pc->kbc);
    return 0;
}

void pc_devices_reset(Pc *pc)
{
    lapic_reset(pc->lapic);
    ioapic_reset(pc->ioapic);
    hpet_reset(pc->hpet);
    i8259_pair_reset(pc->pic);
    i8254_reset(pc->pit);
    mc146818_reset(pc->rtc);
    port80_reset(pc->port80);
    port92_reset(pc->port92);
    i8042_reset(pc->kbc);
    for (unsigned i = 0; i < pc->uart_count; i++)
        uart_reset(pc->uart[i]);
    pci_bus_reset(pc->pci);
    i440fx_reset(pc->i440fx);
    piix_reset(pc->piix);
    acpi_pm_reset(pc->acpi);
    vga_reset(pc->vga);
    pc_storage_reset(pc);
    fw_cfg_reset(pc->fw_cfg);
}

void pc_devices_poll(Pc *pc)
{
    for (unsigned i = 0; i < pc->uart_count; i++) {
        CharBackend *cb = pc->serial[i];
        if (cb && cb->set_input_limit)
            cb->set_input_limit(cb, pc->serial_delivered[i] + uart_rx_space(pc->uart[i]));
    }
}

void pc_devices_destroy(Pc *pc)
{
    /* Reverse order of creation; the devices go before their backends,
     * which main.c closes after pc_destroy. */
    fw_cfg_free(pc->fw_cfg);
    pc_storage_destroy(pc);
    vga_free(pc->vga);
    acpi_pm_free(pc->acpi);
    piix_free(pc->piix);
    i440fx_free(pc->i440fx);
    pci_bus_free(pc->pci);
    debugcon_free(pc->debugcon);
    for (unsigned i = 0; i < PC_MAX_SERIAL; i++)
        uart_free(pc->uart[i]);
    debug_exit_free(pc->debug_exit);
    i8042_free(pc->kbc);
    port92_free(pc->port92);
    port80_free(pc->port80);
    as_unmap(&pc->io, FERR_LATCH_PORT);
    mc146818_free(pc->rtc);
    i8254_free(pc->pit);
    i8259_pair_free(pc->pic);
    hpet_free(pc->hpet);
    ioapic_free(pc->ioapic);
    lapic_free(pc->lapic);
}

/* ---- host backends -------------------------------------------------------- */

int pc_attach_serial(Pc *pc, unsigned index, CharBackend *cb)
{
    if (index >= pc->uart_count)
        return -EINVAL;
    pc->serial[index] = cb;
    pc->uart[index]->backend = cb;
    pc_devices_poll(pc);
    return 0;
}

int pc_attach_debugcon(Pc *pc, CharBackend *cb)
{
    if (!pc->debugcon)
        return -EINVAL;
    pc->debugcon_backend = cb;
    pc->debugcon->backend = cb;
    return 0;
}

EventQueue *pc_event_queue(Pc *pc)
{
    return &pc->events;
}

unsigned pc_serial_count(const Pc *pc)
{
    return pc->uart_count;
}

void pc_request_quit(Pc *pc)
{
    atomic_store(&pc->exit_requested, true);
    pc->cpu.exit_request = 1;
    cpu_kick(&pc->cpu);
    events_kick(&pc->events);
}

void pc_write_screendump(Pc *pc, const char *path)
{
    char text[16384];
    vga_text_dump(pc->vga, text, sizeof(text));
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vireo: -screendump: cannot write '%s': %s\n", path,
                strerror(errno));
        return;
    }
    fputs(text, f);
    fclose(f);
}

/* The pc board's devices and how they are wired, in a fixed order (the
 * same order on every run, so snapshots and replays line up):
 *
 *   8259 pair -> CPU INTR;  8254 -> IRQ0;  MC146818 -> IRQ8;
 *   8042 keyboard controller -> IRQ1 (keyboard), IRQ12 (mouse);
 *   16550 UARTs COM1..COM4 -> IRQ4/3/4/3;  port 0x80, port 0x92 (A20);
 *   debug console 0xE9/0x402;  isa-debug-exit 0xF4;
 *   PCI: i440FX 00:00.0 (PAM owns 0xC0000-0xFFFFF), PIIX3 00:01.0 (PIRQ
 *   routing, ELCR, 0xCF9), PIIX4 PM 00:01.3 (SCI -> IRQ9, S5 -> power off),
 *   VGA with Bochs VBE 00:02.0 (Debian's vgabios-stdvga.bin in its ROM BAR);
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

/* ---- interrupt routing ---------------------------------------------------- */

static void set_isa_irq(Pc *pc, int irq, int source, int level)
{
    uint8_t bit = (uint8_t)(1u << source);
    if (irq < 0 || irq > 15)
        return;
    if (level)
        pc->irq_sources[irq] |= bit;
    else
        pc->irq_sources[irq] &= (uint8_t)~bit;
    i8259_pair_set_irq(pc->pic, irq, pc->irq_sources[irq] != 0);
}

/* IrqLine handler: n = irq | source << 8. */
static void isa_irq_line(void *opaque, int n, int level)
{
    set_isa_irq(opaque, n & 0xff, n >> 8, level);
}

static IrqLine isa_irq(Pc *pc, int irq, int source)
{
    return irq_line(isa_irq_line, pc, irq | (source << 8));
}

static void pci_irq(void *opaque, int irq, int level)
{
    set_isa_irq(opaque, irq, PC_IRQ_SRC_PCI, level);
}

static void cpu_intr(void *opaque, int n, int level)
{
    ((Pc *)opaque)->cpu.intr_pending = level;
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
}

static void on_debug_exit(void *opaque, int status)
{
    Pc *pc = opaque;
    pc->exit_status = status;
    atomic_store(&pc->exit_requested, true);
    pc->cpu.exit_request = 1;
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
        return;
    }
    LOG_LIMITED(LOG_UNIMP, "pc: ACPI sleep type %u not supported, ignored\n", type);
}

/* ---- creation ------------------------------------------------------------ */

static int create_isa(Pc *pc)
{
    Port92Hooks hooks = { on_a20_port92, on_port92_reset, pc };
    I8042Hooks kbc_hooks = { on_a20_kbc, on_kbc_reset, pc };
    pc->pic = i8259_pair_new(&pc->io, irq_line(cpu_intr, pc, 0));
    if (!pc->pic)
        return -ENOMEM;
    pc->cpu.intr_ack = i8259_pair_intack;
    pc->cpu.intr_opaque = pc->pic;
    pc->pit = i8254_new(&pc->io, &pc->clock, isa_irq(pc, 0, PC_IRQ_SRC_ISA));
    /* Deterministic runs must not depend on the host's date. */
    int64_t base = pc->cfg->deterministic ? 946684800 /* 2000-01-01 */
                                          : (int64_t)time(NULL);
    pc->rtc = mc146818_new(&pc->io, &pc->clock, isa_irq(pc, 8, PC_IRQ_SRC_ISA), base);
    pc->port80 = port80_new(&pc->io);
    pc->port92 = port92_new(&pc->io, &hooks);
    pc->debug_exit = debug_exit_new(&pc->io, DEBUG_EXIT_PORT, 4, on_debug_exit, pc);
    if (!pc->pit || !pc->rtc || !pc->port80 || !pc->port92 || !pc->debug_exit)
        return -ENOMEM;
    int r = i8042_new(&pc->io, isa_irq(pc, 1, PC_IRQ_SRC_ISA),
                      isa_irq(pc, 12, PC_IRQ_SRC_ISA), &kbc_hooks, &pc->kbc);
    if (r)
        return r;
    for (unsigned i = 0; i < pc->uart_count; i++) {
        pc->uart[i] = uart_new(&pc->io, uart_bases[i],
                               isa_irq(pc, uart_irqs[i], PC_IRQ_SRC_ISA),
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
        .io = &pc->io, .clock = &pc->clock, .sci = isa_irq(pc, 9, PC_IRQ_SRC_SCI),
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
    mc146818_free(pc->rtc);
    i8254_free(pc->pit);
    i8259_pair_free(pc->pic);
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

/* Interrupt request lines (contract 7 of DESIGN.md).
 *
 * A device raises an IrqLine that the board wired up; it never calls the PIC
 * or the APIC by name, so a test can wire a device to a recorder and the
 * board can route one line to several controllers (PIC and IOAPIC).
 */
#ifndef VIREO_MACHINE_IRQ_H
#define VIREO_MACHINE_IRQ_H

typedef void (*IrqHandler)(void *opaque, int n, int level);

typedef struct IrqLine {
    IrqHandler set;   /* NULL: an unconnected line, setting it does nothing */
    void *opaque;
    int n;            /* which input of the receiver this line drives */
} IrqLine;

static inline IrqLine irq_line(IrqHandler set, void *opaque, int n)
{
    IrqLine line = { set, opaque, n };
    return line;
}

static inline void irq_set(const IrqLine *line, int level)
{
    if (line->set)
        line->set(line->opaque, line->n, level);
}

static inline void irq_raise(const IrqLine *line) { irq_set(line, 1); }
static inline void irq_lower(const IrqLine *line) { irq_set(line, 0); }

/* An edge for edge-triggered receivers: high then low. */
static inline void irq_pulse(const IrqLine *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}

#endif

/* Delivering exceptions and interrupts (cpu/interrupt.c). */
#ifndef VIREO_CPU_INTERRUPT_H
#define VIREO_CPU_INTERRUPT_H

#include "cpu/cpu.h"

/* PendingException.is_soft: where an event comes from. */
enum {
    EXC_SOURCE_EXCEPTION = 0,  /* a fault or trap of the instruction */
    EXC_SOURCE_SOFT = 1,       /* INT n, INT3, INTO, INT1: gate DPL checked */
    EXC_SOURCE_EXTERNAL = 2,   /* INTR or NMI */
};

/* Deliver `e` through the IVT/IDT, applying the double- and triple-fault
 * rules.  Sets Cpu.shutdown on a triple fault. */
void cpu_deliver(Cpu *cpu, PendingException e);
void cpu_deliver_pending(Cpu *cpu);
void cpu_deliver_external(Cpu *cpu, int vector);

#endif

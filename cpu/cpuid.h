/* CPUID leaves and model-specific registers (cpu/cpuid.c, cpu/msr.c). */
#ifndef VIREO_CPU_CPUID_H
#define VIREO_CPU_CPUID_H

#include <stdint.h>

#include "cpu/cpu.h"

/* EAX, EBX, ECX, EDX of CPUID leaf/subleaf. */
void cpu_cpuid(const Cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* MSR access; both return 0, or -1 for an MSR that does not exist or a
 * value it refuses (the caller raises #GP(0)). */
int cpu_rdmsr(Cpu *cpu, uint32_t index, uint64_t *value);
int cpu_wrmsr(Cpu *cpu, uint32_t index, uint64_t value);

/* The time-stamp counter: virtual nanoseconds (1 GHz) plus the offset. */
uint64_t cpu_tsc(const Cpu *cpu);

#endif

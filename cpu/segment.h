/* Segment descriptors (SDM Vol. 3 3.4.5): reading them from the GDT/LDT
 * and unpacking them into a SegmentCache.  Shared by segment loads,
 * interrupt delivery and the descriptor-query instructions. */
#ifndef VIREO_CPU_SEGMENT_H
#define VIREO_CPU_SEGMENT_H

#include <stdint.h>

#include "cpu/cpu.h"

/* Read the 8-byte descriptor of `selector`.  On a selector beyond the table
 * limit raises #GP(selector) and sets *fault_vec; a page fault while
 * reading leaves *fault_vec = -1.  Returns CPU_OK or CPU_FAULT. */
int desc_read(Cpu *cpu, uint16_t selector, uint64_t *desc, int *fault_vec);

void desc_to_cache(uint64_t desc, uint16_t selector, SegmentCache *s);

#endif

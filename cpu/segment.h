/* Segment descriptors (SDM Vol. 3 3.4.5): reading them from the GDT/LDT
 * and unpacking them into a SegmentCache, and the checks of code and stack
 * segments that far transfers make (5.8).  Shared by segment loads, far
 * transfers, task switches, interrupt delivery and the descriptor-query
 * instructions. */
#ifndef VIREO_CPU_SEGMENT_H
#define VIREO_CPU_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Read the 8-byte descriptor of `selector`.  On a selector beyond the table
 * limit raises #GP(selector) and sets *fault_vec; a page fault while
 * reading leaves *fault_vec = -1.  Returns CPU_OK or CPU_FAULT. */
int desc_read(Cpu *cpu, uint16_t selector, uint64_t *desc, int *fault_vec);

void desc_to_cache(uint64_t desc, uint16_t selector, SegmentCache *s);

/* Set the accessed bit of `selector`'s descriptor in the GDT/LDT, as a
 * segment load does (no write if `desc` has it already). */
int desc_set_accessed(Cpu *cpu, uint16_t selector, uint64_t desc);

/* The far transfers that load CS; each has its own privilege rules for
 * the target code segment (SDM Vol. 3 5.8, and the JMP, CALL, RET and IRET
 * pseudo-code). */
typedef enum FarKind { FAR_JMP, FAR_CALL, FAR_RET, FAR_IRET } FarKind;

/* Check code segment `selector` as the target of a far transfer of `kind`,
 * directly or (`via_gate`) through a call gate, without loading anything.
 * On success *out is the cache to load, its selector's RPL set to the new
 * CPL, and *raw the descriptor.  Faults: #GP(0) for a null selector,
 * #GP(selector) for a bad type, privilege or (IA-32e) L/D combination,
 * #NP(selector) if not present. */
int seg_check_code(Cpu *cpu, FarKind kind, bool via_gate, uint16_t selector,
                   SegmentCache *out, uint64_t *raw);

/* Check `selector` as a new SS at privilege `cpl` (a stack switch or an
 * outer-level return): a writable data segment with RPL = DPL = cpl.  A
 * null selector, one beyond its table, and type or privilege mismatches
 * raise `fault_vec` (#TS for stack switches and task switches, #GP for
 * returns) with the selector; a segment not present raises #SS(selector).
 * The caller decides beforehand whether a null SS is allowed (64-bit). */
int seg_check_stack(Cpu *cpu, uint16_t selector, unsigned cpl, int fault_vec,
                    SegmentCache *out, uint64_t *raw);

#endif

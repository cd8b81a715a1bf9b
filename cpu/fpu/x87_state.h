/* The x87 FPU's architectural state (SDM Vol. 1 8.1): plain data, part of
 * CpuState (DESIGN.md contract 3).
 *
 * Registers are kept by physical number R0-R7; ST(i) is R((TOP + i) & 7),
 * TOP being FSW bits 11-13.  The tag word is kept abridged, one "not empty"
 * bit per physical register as FXSAVE stores it (Vol. 1 10.5.1.1): the
 * full two-bit tags (valid, zero, special) are a function of the register
 * contents and are derived when FSTENV/FSAVE write them, as processors do
 * (FLDENV/FRSTOR only look at empty versus not empty, Vol. 1 8.1.7).
 */
#ifndef VIREO_CPU_FPU_X87_STATE_H
#define VIREO_CPU_FPU_X87_STATE_H

#include <stdint.h>

#include "cpu/fpu/float80.h"

typedef struct X87State {
    Float80 r[8];      /* physical registers R0-R7 */
    uint16_t fcw;      /* control word */
    uint16_t fsw;      /* status word, TOP included */
    uint16_t fop;      /* last non-control opcode: 11 bits */
    uint8_t tags;      /* bit i set: R(i) is not empty */
    uint8_t pad0;
    uint16_t fcs, fds; /* selectors of the last instruction and operand */
    uint16_t pad1, pad2;
    uint64_t fip;      /* offset of the last non-control instruction */
    uint64_t fdp;      /* offset of its memory operand */
} X87State;

#endif

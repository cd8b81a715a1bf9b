/* SSE architectural state (SDM Vol. 1 10.2): the XMM registers and MXCSR,
 * plain data in CpuState. */
#ifndef VIREO_CPU_SSE_SSE_STATE_H
#define VIREO_CPU_SSE_SSE_STATE_H

#include <stdint.h>

/* 128 bits as two little-endian 64-bit halves: q[0] holds bytes 0-7. */
typedef struct XmmReg {
    uint64_t q[2];
} XmmReg;

typedef struct SseState {
    XmmReg xmm[16];
    uint32_t mxcsr;     /* 0x1F80 after reset: all exceptions masked, RN */
    uint32_t pad;
} SseState;

#define MXCSR_RESET 0x1f80u
/* Bits that may be set: flags, DAZ, masks, RC, FTZ (MXCSR_MASK 0xFFFF). */
#define MXCSR_WRITABLE 0xffffu

#endif

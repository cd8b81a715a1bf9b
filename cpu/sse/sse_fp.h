/* What the SSE floating-point handler files share (sse_float.c, sse_cvt.c,
 * sse_move.c): lane access, the MXCSR environment, and the end of an
 * instruction that may raise SIMD floating-point exceptions.
 *
 * The handler protocol (SDM Vol. 1 11.5, Vol. 3 13.1-13.2):
 *  1. sse_check(): #UD (CR0.EM, !CR4.OSFXSR), #NM (CR0.TS);
 *  2. the memory operand is read, with the 16-byte alignment check of
 *     legacy-SSE packed operands (#GP(0)) where the SDM asks for it;
 *  3. every lane is computed into an SfEnv;
 *  4. sse_fp_commit() merges the flags into MXCSR and, if an unmasked
 *     exception was detected, raises #XM (or #UD when CR4.OSXMMEXCPT is
 *     clear) so the destination is left unchanged (Vol. 1 11.5.2.2);
 *  5. only then is the destination written.
 */
#ifndef VIREO_CPU_SSE_SSE_FP_H
#define VIREO_CPU_SSE_SSE_FP_H

#include "cpu/sse/softfloat.h"
#include "cpu/sse/sse_common.h"

static inline SfEnv sse_env(const Cpu *cpu)
{
    return sf_env(cpu->s.sse.mxcsr);
}

static inline unsigned sf_lanes(SfFormat f)
{
    return f == SF_F32 ? 4 : 2;
}

static inline unsigned sf_bytes(SfFormat f)
{
    return f == SF_F32 ? 4 : 8;
}

/* Lane i of an XMM value in format f (binary32 lanes are 0-3). */
static inline uint64_t xmm_lane(const XmmReg *r, SfFormat f, unsigned i)
{
    if (f == SF_F64)
        return r->q[i & 1];
    return (r->q[(i >> 1) & 1] >> (32 * (i & 1))) & 0xffffffffu;
}

static inline void xmm_set_lane(XmmReg *r, SfFormat f, unsigned i, uint64_t v)
{
    if (f == SF_F64) {
        r->q[i & 1] = v;
        return;
    }
    unsigned sh = 32 * (i & 1);
    uint64_t *q = &r->q[(i >> 1) & 1];
    *q = (*q & ~(0xffffffffull << sh)) | ((v & 0xffffffffu) << sh);
}

/* Step 4 of the protocol: CPU_OK if the result may be written. */
int sse_fp_commit(Cpu *cpu, const SfEnv *e);

#endif

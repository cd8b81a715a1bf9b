/* One decoded instruction by the protocol of cpu/insn.h, shared by the
 * interpreter's loop (cpu/exec.c) and the JIT's default lowering
 * (jit/helpers.c), so both retire instructions by the same rules.
 *
 * Internal to cpu/ and jit/.
 */
#ifndef VIREO_CPU_EXEC_INSN_H
#define VIREO_CPU_EXEC_INSN_H

#include "cpu/insn.h"

/* Run d's handler: RIP and the retired count advance after CPU_OK and
 * CPU_EXIT. */
static inline int run_insn(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t start = cpu->s.rip, next = insn_next_rip(cpu, d);
    int r = insn_handlers[d->id](cpu, d);
    if (r == CPU_FAULT && cpu->s.exception.is_soft) {
        /* The handler moved RIP past the INT; keep that as the return
         * address and point RIP back at the instruction. */
        cpu->s.exception.return_rip = cpu->s.rip;
        cpu->s.rip = start;
    }
    if (r != CPU_OK && r != CPU_EXIT)
        return r;   /* CPU_FAULT: delivered by the loop; CPU_RESTART */
    if (!(d->attr & DA_BRANCH))
        cpu->s.rip = next;
    if (!(d->attr & DA_STRING))
        cpu->s.icount++;
    return r;
}

#endif

/* C functions that translated code calls (jit/helpers.h, docs/jit.md):
 * the default lowering of an instruction, the slow paths of inline
 * memory accesses, and the small helpers the inline lowerings need.
 */
#include "jit/helpers.h"

#include "cpu/exec_insn.h"
#include "cpu/insn.h"
#include "jit/jit.h"

/* Did the instruction that just ran make the running translation stale:
 * a store invalidated its block (jit->stale), or the address space
 * changed under the TLB the inline accesses read (a remap by a device)? */
static bool translation_stale(const Cpu *cpu, uint64_t generation_before)
{
    return (cpu->jit && cpu->jit->stale) ||
           cpu->mem->generation != generation_before ||
           cpu->mem->generation != cpu->tlb_generation;
}

uint64_t jit_helper_insn(Cpu *cpu, uint64_t insn, uint64_t unused1,
                         uint64_t unused2)
{
    uint64_t generation = cpu->mem->generation;
    int r = run_insn(cpu, (const DecodedInsn *)(uintptr_t)insn);
    /* The interpreter's block loop also stops when the budget was cut
     * (cpu_kick: an event the instruction raised). */
    if (r == CPU_OK && (translation_stale(cpu, generation) ||
                        cpu->s.icount >= cpu->icount_limit))
        r = CPU_EXIT;
    return (uint64_t)r;
}

uint64_t jit_helper_flags(Cpu *cpu, uint64_t unused0, uint64_t unused1,
                          uint64_t unused2)
{
    return cc_compute(cpu);
}

uint64_t jit_helper_cond(Cpu *cpu, uint64_t cond, uint64_t unused1,
                         uint64_t unused2)
{
    return cc_condition(cpu, (int)cond);
}

uint64_t jit_helper_carry(Cpu *cpu, uint64_t unused0, uint64_t unused1,
                          uint64_t unused2)
{
    return cc_carry(cpu);
}

/* The offset the translator turned into `linear` by adding the segment's
 * base: bases other than FS/GS count as 0 in 64-bit mode (SDM Vol. 3
 * 3.4.4); legacy modes wrap linear addresses at 4 GiB. */
static uint64_t segment_offset(const Cpu *cpu, uint64_t linear, int seg)
{
    if (cpu_is_64(cpu))
        return seg == SEG_FS || seg == SEG_GS ? linear - cpu->s.seg[seg].base
                                              : linear;
    return (linear - cpu->s.seg[seg].base) & 0xffffffffull;
}

int jit_mem_load(Cpu *cpu, uint64_t linear, uint32_t how, uint64_t *value)
{
    int seg = (int)(how >> 8);
    return mem_read(cpu, seg, segment_offset(cpu, linear, seg), how & 0xff,
                    value);
}

int jit_mem_store(Cpu *cpu, uint64_t linear, uint64_t value, uint32_t how)
{
    int seg = (int)(how >> 8);
    uint64_t generation = cpu->mem->generation;
    int r = mem_write(cpu, seg, segment_offset(cpu, linear, seg), how & 0xff,
                      value);
    /* The store invalidated a translation (maybe the running one), or
     * remapped memory under the inline TLB path: cut the budget, and the
     * translated code leaves after this instruction (tr_exit_if_kicked). */
    if (r == CPU_OK && translation_stale(cpu, generation))
        cpu_kick(cpu);
    return r;
}

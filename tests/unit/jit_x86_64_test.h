/* The fixture of the x86-64 JIT backend's unit tests
 * (test_jit_x86_64*.c): a Cpu over 1 MiB of RAM in flat 32-bit protected
 * mode without paging, so the memory slow paths (jit_mem_load/store) work,
 * with a Jit on the native backend and an 8 MiB code cache.
 */
#ifndef VIREO_TESTS_UNIT_JIT_X86_64_TEST_H
#define VIREO_TESTS_UNIT_JIT_X86_64_TEST_H

#include <criterion/criterion.h>

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "jit/backend.h"
#include "jit/cache.h"
#include "jit/ir.h"
#include "jit/jit.h"
#include "jit/x86_64/emit.h"
#include "mmu/addrspace.h"
#include "mmu/tlb.h"

#define RAM_SIZE (1u << 20)
#define REG(i) offsetof(Cpu, s.regs[i])

static AddressSpace mem, io;
static uint8_t *ram;
static Cpu *cpu;
static Jit *jit;
static const JitBackend *be;

static inline void setup(void)
{
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    ram = calloc(1, RAM_SIZE);
    cr_assert(ram);
    cr_assert_eq(as_map_ram(&mem, "ram", 0, RAM_SIZE, ram), 0);
    cpu = calloc(1, sizeof(*cpu));
    cr_assert(cpu);
    cpu_init(cpu, &mem, &io);
    cpu->stop_on_exception = true;
    for (int i = 0; i < SEG_COUNT; i++)
        cpu->s.seg[i] = (SegmentCache){ .base = 0, .limit = 0xffffffff,
                                        .selector = 0x10,
                                        .attr = 0x93 | SEG_ATTR_DB | SEG_ATTR_G };
    cpu->s.seg[SEG_CS].attr = 0x9b | SEG_ATTR_DB | SEG_ATTR_G;
    cpu->s.cr0 = CR0_PE | CR0_ET;
    cpu_update_mode(cpu);
    cpu->icount_limit = UINT64_MAX;

    jit = calloc(1, sizeof(*jit));
    cr_assert(jit);
    be = jit_backend_native();
    cr_assert_not_null(be);
    jit->backend = be;
    jit->cache = jit_cache_new(8u << 20);
    cr_assert_not_null(jit->cache);
    cpu->jit = jit;
}

static inline void teardown(void)
{
    cpu->jit = NULL;
    jit_cache_free(jit->cache);
    free(jit);
    cpu_destroy(cpu);
    free(cpu);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
}

TestSuite(jit_x86_64, .init = setup, .fini = teardown);

/* Translate `ir` (flushing the cache once if full). */
static inline void translate(const IrBlock *ir, JitBlock *jb, uint32_t insns)
{
    memset(jb, 0, sizeof(*jb));
    jb->insns = insns;
    if (!be->emit(jit->cache, ir, jb)) {
        jit_cache_flush(jit->cache);
        cr_assert(be->emit(jit->cache, ir, jb), "emit failed");
    }
}

static inline int run(const IrBlock *ir)
{
    JitBlock jb;
    translate(ir, &jb, 1);
    jit->exit_block = (JitBlock *)1;   /* must be cleared by the exit */
    int status = be->enter(cpu, &jb);
    cr_assert_null(jit->exit_block);
    return status;
}

#endif

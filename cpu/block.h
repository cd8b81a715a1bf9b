/* Decoded blocks, cached per guest physical page.
 *
 * A block is a run of decoded instructions starting at a physical address,
 * ending at a DA_END instruction, a page boundary or BLOCK_MAX_INSNS.  Blocks
 * are a cache: never saved, flushed on load, and invalidated page by page
 * when the page is written (self-modifying code).  Each block counts its
 * executions so that the JIT can pick hot ones.
 */
#ifndef VIREO_CPU_BLOCK_H
#define VIREO_CPU_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/decode.h"
#include "mmu/addrspace.h"

#define BLOCK_MAX_INSNS 64
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)

typedef struct Block {
    uint64_t phys;            /* physical address of the first byte */
    uint64_t phys2;           /* second page when the last instruction
                                 straddles a page, else UINT64_MAX */
    uint32_t mode;            /* Cpu.mode it was decoded for */
    uint32_t count;           /* instructions */
    uint64_t exec_count;
    bool invalid;             /* its page was written: do not run again */
    struct JitBlock *jit;     /* its translation (jit/jit.c), or NULL */
    struct Block *hash_next;  /* lookup chain */
    struct Block *page_next;  /* blocks on the same page */
    DecodedInsn insns[];
} Block;

typedef struct BlockCache BlockCache;

/* The cache attaches its code-page tracker to `mem`, so that every write
 * to a page holding blocks invalidates them. */
BlockCache *block_cache_new(AddressSpace *mem);
void block_cache_free(BlockCache *bc);
/* Drop every block (mode-independent state changed, snapshot load). */
void block_cache_flush(BlockCache *bc);

Block *block_lookup(BlockCache *bc, uint64_t phys, uint32_t mode);
/* Allocate a block for `count` instructions and register it. */
Block *block_insert(BlockCache *bc, uint64_t phys, uint64_t phys2,
                    uint32_t mode, const DecodedInsn *insns, uint32_t count);

/* Does any block start on, or reach into, this physical page? */
bool block_page_has_code(const BlockCache *bc, uint64_t phys);
/* A write hit [phys, phys+len): invalidate the blocks of those pages.
 * Blocks are only marked; they are freed at the next block_cache_reclaim,
 * so an executing block can finish its current instruction safely. */
void block_invalidate_range(BlockCache *bc, uint64_t phys, uint64_t len);
void block_cache_reclaim(BlockCache *bc);

/* Run b in the interpreter (cpu/exec.c) until it ends, faults, is
 * invalidated or icount reaches cpu->icount_limit. */
void cpu_run_block(Cpu *cpu, Block *b);

/* Call fn(opaque, b) for each block as it is invalidated or flushed (it
 * stays allocated until the next reclaim): the JIT drops its translation
 * there.  fn NULL: no hook. */
void block_cache_on_invalidate(BlockCache *bc,
                               void (*fn)(void *opaque, Block *b),
                               void *opaque);

#endif

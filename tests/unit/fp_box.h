/* A real-mode CPU over 1 MiB of RAM, for the x87, SSE and MMX/SSE-integer
 * unit tests: one instruction at a time, exceptions left pending
 * (stop_on_exception) so each test reads the vector. */
#ifndef VIREO_TESTS_UNIT_FP_BOX_H
#define VIREO_TESTS_UNIT_FP_BOX_H

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"

#define RAM_SIZE 0x100000
#define CODE 0x1000
#define DATA 0x2000

typedef struct Box {
    AddressSpace mem, io;
    Cpu cpu;
    uint8_t *ram;
    bool rewind;            /* every step starts at 0:CODE again */
    int ferr_calls, ferr_level;
} Box;

static void on_ferr(void *opaque, int level)
{
    Box *b = opaque;
    b->ferr_calls++;
    b->ferr_level = level;
}

static Box *box_new(void)
{
    Box *b = calloc(1, sizeof(*b));
    b->ram = calloc(1, RAM_SIZE);
    as_init(&b->mem, "memory", 0);
    as_init(&b->io, "io", 1u << 16);
    cr_assert_eq(as_map_ram(&b->mem, "ram", 0, RAM_SIZE, b->ram), 0);
    cpu_init(&b->cpu, &b->mem, &b->io);
    b->cpu.stop_on_exception = true;
    b->cpu.ferr = on_ferr;
    b->cpu.ferr_opaque = b;
    cpu_load_seg_real(&b->cpu, SEG_CS, 0);
    cpu_load_seg_real(&b->cpu, SEG_DS, 0);
    b->cpu.s.rip = CODE;
    return b;
}

static void box_free(Box *b)
{
    cpu_destroy(&b->cpu);
    as_destroy(&b->mem);
    as_destroy(&b->io);
    free(b->ram);
    free(b);
}

/* Put `n` code bytes at CS:IP (0:CODE with `rewind`) and run one
 * instruction; returns the exception vector or -1. */
static int step(Box *b, const uint8_t *code, size_t n)
{
    if (b->rewind)
        b->cpu.s.rip = CODE;
    uint64_t addr = b->cpu.s.seg[SEG_CS].base + b->cpu.s.rip;
    memcpy(b->ram + addr, code, n);
    block_invalidate_range(b->cpu.blocks, addr, n);   /* no stale blocks */
    b->cpu.s.exception.vector = -1;
    cpu_exec(&b->cpu, b->cpu.s.icount + 1);
    return b->cpu.s.exception.vector;
}

#define STEP(b, ...) step(b, (const uint8_t[]){ __VA_ARGS__ }, \
                          sizeof((const uint8_t[]){ __VA_ARGS__ }))

#endif

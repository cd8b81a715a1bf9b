/* isa-debug-exit (see hw/debug_exit.h).  No datasheet: this follows the
 * behaviour QEMU documents for its isa-debug-exit device, which test
 * suites (kvm-unit-tests, OS test harnesses) are written against.
 */
#include "hw/debug_exit.h"

#include <stdlib.h>

#include "util/log.h"

static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

/* The value of the whole access counts, whatever its width and offset. */
static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value,
                             unsigned size)
{
    DebugExit *d = opaque;
    uint32_t v = (uint32_t)value;
    int status = (int)((v << 1) | 1u);

    LOG(LOG_IOPORT, "debug-exit: guest wrote 0x%x, exit status %d\n", v,
        status & 0xff);
    if (d->request_exit)
        d->request_exit(d->opaque, status);
}

static const MemOps debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .max_access = 4,
};

DebugExit *debug_exit_new(AddressSpace *io, uint16_t base, unsigned size,
                          DebugExitFn request_exit, void *opaque)
{
    DebugExit *d;

    if (size < 1 || size > 4)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    *d = (DebugExit){ .io = io, .base = base, .request_exit = request_exit,
                      .opaque = opaque };
    if (as_map_io(io, "isa-debug-exit", base, size, &debug_exit_ops, d) < 0) {
        free(d);
        return NULL;
    }
    return d;
}

void debug_exit_free(DebugExit *d)
{
    if (!d)
        return;
    as_unmap(d->io, d->base);
    free(d);
}

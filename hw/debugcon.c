/* The debug console at ports 0xE9 and 0x402 (see hw/debugcon.h).
 *
 * There is no datasheet: the behaviour is QEMU's isa-debugcon device as
 * documented in its -debugcon option and relied on by SeaBIOS (its
 * src/hw/serialio.c checks the 0xE9 readback before logging to 0x402).
 */
#include "hw/debugcon.h"

#include <stdlib.h>

static uint64_t debugcon_read(void *opaque, uint64_t offset, unsigned size)
{
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    Debugcon *d = opaque;
    uint8_t byte = (uint8_t)value;

    chardev_write(d->backend, &byte, 1);
}

static const MemOps debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .max_access = 1,
};

Debugcon *debugcon_new(AddressSpace *io, CharBackend *backend)
{
    Debugcon *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->io = io;
    d->backend = backend;
    if (as_map_io(io, "debugcon", DEBUGCON_PORT_BOCHS, 1, &debugcon_ops, d) < 0)
        goto fail;
    if (as_map_io(io, "debugcon", DEBUGCON_PORT_SEABIOS, 1, &debugcon_ops, d) < 0) {
        as_unmap(io, DEBUGCON_PORT_BOCHS);
        goto fail;
    }
    return d;
fail:
    free(d);
    return NULL;
}

void debugcon_free(Debugcon *d)
{
    if (!d)
        return;
    as_unmap(d->io, DEBUGCON_PORT_BOCHS);
    as_unmap(d->io, DEBUGCON_PORT_SEABIOS);
    free(d);
}

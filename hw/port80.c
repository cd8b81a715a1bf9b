/* Port 0x80, the POST-code port (see hw/port80.h).  There is no chip to
 * follow: a POST card latches the byte written and shows it. */
#include "hw/port80.h"

#include <stdlib.h>

#include "util/log.h"

static uint64_t port80_read(void *opaque, uint64_t offset, unsigned size)
{
    Port80 *p = opaque;

    return p->s.code;
}

static void port80_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    Port80 *p = opaque;

    p->s.code = (uint8_t)value;
    LOG(LOG_IOPORT, "port80: POST code 0x%02x\n", p->s.code);
}

static const MemOps port80_ops = {
    .read = port80_read,
    .write = port80_write,
    .max_access = 1,
};

Port80 *port80_new(AddressSpace *io)
{
    Port80 *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->io = io;
    if (as_map_io(io, "port80", PORT80_PORT, 1, &port80_ops, p) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void port80_free(Port80 *p)
{
    if (!p)
        return;
    as_unmap(p->io, PORT80_PORT);
    free(p);
}

void port80_reset(Port80 *p)
{
    p->s.code = 0;
}

static const StateField port80_fields[] = {
    STATE_U8(Port80State, code),
    STATE_END
};

const StateDesc port80_state_desc = {
    .name = "port80",
    .version = 1,
    .size = sizeof(Port80State),
    .fields = port80_fields,
};

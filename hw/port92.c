/* System Control Port A at 0x92 (see hw/port92.h for the sources).
 *
 * The reset is edge-triggered: firmware writes the port back with bit 0
 * still set after other changes, and only a 0 -> 1 transition resets.
 * A20 is reported on change only, so the board's A20 logic sees one call
 * per real transition.
 */
#include "hw/port92.h"

#include <stdlib.h>

#include "util/log.h"

static void port92_report_a20(Port92 *p, bool enabled)
{
    if (p->hooks.set_a20)
        p->hooks.set_a20(p->hooks.opaque, enabled);
}

static uint64_t port92_read(void *opaque, uint64_t offset, unsigned size)
{
    Port92 *p = opaque;

    return p->s.value;
}

static void port92_write(void *opaque, uint64_t offset, uint64_t value,
                         unsigned size)
{
    Port92 *p = opaque;
    uint8_t old = p->s.value, v = (uint8_t)value;

    p->s.value = v;
    LOG(LOG_IOPORT, "port92: 0x%02x (A20 %s%s)\n", v,
        v & PORT92_A20 ? "on" : "off",
        (v & ~old & PORT92_RESET) ? ", reset" : "");
    if ((old ^ v) & PORT92_A20)
        port92_report_a20(p, v & PORT92_A20);
    if ((v & ~old & PORT92_RESET) && p->hooks.reset)
        p->hooks.reset(p->hooks.opaque);
}

static const MemOps port92_ops = {
    .read = port92_read,
    .write = port92_write,
    .max_access = 1,
};

Port92 *port92_new(AddressSpace *io, const Port92Hooks *hooks)
{
    Port92 *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->io = io;
    if (hooks)
        p->hooks = *hooks;
    if (as_map_io(io, "port92", PORT92_PORT, 1, &port92_ops, p) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void port92_free(Port92 *p)
{
    if (!p)
        return;
    as_unmap(p->io, PORT92_PORT);
    free(p);
}

void port92_reset(Port92 *p)
{
    bool had_a20 = p->s.value & PORT92_A20;

    p->s.value = 0;
    if (had_a20)
        port92_report_a20(p, false);
}

static int port92_post_load(void *state, void *opaque)
{
    Port92 *p = opaque;

    /* The board's A20 gate is not part of this state: tell it again. */
    port92_report_a20(p, ((Port92State *)state)->value & PORT92_A20);
    return 0;
}

static const StateField port92_fields[] = {
    STATE_U8(Port92State, value),
    STATE_END
};

const StateDesc port92_state_desc = {
    .name = "port92",
    .version = 1,
    .size = sizeof(Port92State),
    .fields = port92_fields,
    .post_load = port92_post_load,
};

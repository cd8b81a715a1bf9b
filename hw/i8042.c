/* The 8042 keyboard controller (see hw/i8042.h for the references and the
 * model, hw/ps2.h for the devices).
 *
 * Every change that can fill or empty the output buffer ends in
 * kbc_update(), which refills the buffer from the pending controller reply
 * or the devices and then drives the two IRQ lines from "buffer full, whose
 * data, interrupt enabled".  That one function keeps the status bits, the
 * output buffer and the lines consistent whatever the order of events.
 */
#include "hw/i8042.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define CTR(s) ((s)->ram[0])

/* Power-on command byte: both interrupts on, both clocks on, translation
 * on, system flag clear (no self test yet).  Firmware rewrites it. */
#define CTR_POWER_ON (I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE)
/* Power-on output port: reset released, A20 enabled, the clock and data
 * lines of both ports idle (high); bits 4-5 are derived. */
#define OUTPORT_POWER_ON 0xCF
/* Input port (C0): keyboard not inhibited (bit 7), colour display (bit 6
 * clear), no manufacturing jumper (bit 5), 512 KiB on the board (bit 4). */
#define INPORT_VALUE 0xB0

static void kbc_drive(const IrqLine *line, int *last, int level, bool force)
{
    if (force || *last != level) {
        *last = level;
        irq_set(line, level);
    }
}

static void kbc_drive_irqs(I8042 *c, bool force)
{
    const I8042State *s = &c->s;
    int kbd = s->obf && !s->obf_aux && (CTR(s) & I8042_CTR_KBDINT);
    int aux = s->obf && s->obf_aux && (CTR(s) & I8042_CTR_AUXINT);

    kbc_drive(&c->kbd_irq, &c->kbd_level, kbd, force);
    kbc_drive(&c->aux_irq, &c->aux_level, aux, force);
}

static void kbc_fill(I8042State *s, uint8_t byte, bool aux)
{
    s->obuf = byte;
    s->obf = 1;
    s->obf_aux = aux;
}

/* A keyboard byte through the translator, or -1 if nothing came out
 * (an F0 prefix is held until the code it marks arrives). */
static int kbc_take_kbd(I8042State *s)
{
    while (ps2_kbd_pending(&s->kbd)) {
        uint8_t b = ps2_kbd_read(&s->kbd);

        if (!(CTR(s) & I8042_CTR_XLATE))
            return b;
        if (b == 0xF0) {
            s->xlate_break = 1;
            continue;
        }
        b = ps2_set2_to_set1[b] | (s->xlate_break ? 0x80 : 0);
        s->xlate_break = 0;
        return b;
    }
    return -1;
}

static void kbc_update(I8042 *c)
{
    I8042State *s = &c->s;

    if (!s->obf) {
        int b;

        if (s->reply_pending) {
            kbc_fill(s, s->reply, s->reply_aux);
            s->reply_pending = 0;
        } else if (!(CTR(s) & I8042_CTR_KBDDIS) &&
                   (b = kbc_take_kbd(s)) >= 0) {
            kbc_fill(s, (uint8_t)b, false);
        } else if (!(CTR(s) & I8042_CTR_AUXDIS) &&
                   ps2_mouse_pending(&s->mouse)) {
            kbc_fill(s, ps2_mouse_read(&s->mouse), true);
        }
    }
    kbc_drive_irqs(c, false);
}

/* A byte the controller itself produces (command results, D2/D3). */
static void kbc_reply(I8042State *s, uint8_t byte, bool aux)
{
    if (s->reply_pending)
        LOG_LIMITED(LOG_GUEST_ERRORS, "i8042: controller byte 0x%02x "
                    "replaced before the guest read it\n", s->reply);
    s->reply = byte;
    s->reply_aux = aux;
    s->reply_pending = 1;
}

static void kbc_report_a20(I8042 *c)
{
    if (c->hooks.a20)
        c->hooks.a20(c->hooks.opaque, c->s.outport & I8042_OUT_A20);
}

static void kbc_request_reset(I8042 *c)
{
    LOG(LOG_IOPORT, "i8042: CPU reset\n");
    if (c->hooks.reset)
        c->hooks.reset(c->hooks.opaque);
}

static void kbc_write_outport(I8042 *c, uint8_t v)
{
    uint8_t old = c->s.outport;

    /* The reset line is a level the firmware drives; once the board has
     * reset the CPU it is released again, so it is stored high. */
    c->s.outport = (uint8_t)((v | I8042_OUT_RESET) &
                             ~(I8042_OUT_OBF_KBD | I8042_OUT_OBF_AUX));
    if ((old ^ c->s.outport) & I8042_OUT_A20)
        kbc_report_a20(c);
    if (!(v & I8042_OUT_RESET))
        kbc_request_reset(c);
}

static uint8_t kbc_read_outport(const I8042State *s)
{
    uint8_t v = s->outport;

    if (s->obf)
        v |= s->obf_aux ? I8042_OUT_OBF_AUX : I8042_OUT_OBF_KBD;
    return v;
}

static uint8_t kbc_status(const I8042State *s)
{
    uint8_t v = I8042_STR_INH;

    if (s->obf)
        v |= I8042_STR_OBF | (s->obf_aux ? I8042_STR_AUXB : 0);
    if (CTR(s) & I8042_CTR_SYS)
        v |= I8042_STR_SYS;
    if (s->last_cmd)
        v |= I8042_STR_CMD;
    return v;
}

static void kbc_command(I8042 *c, uint8_t cmd)
{
    I8042State *s = &c->s;

    s->last_cmd = 1;
    s->data_cmd = 0;        /* a new command supersedes one awaiting data */
    if (cmd >= 0x20 && cmd <= 0x3F) {           /* read RAM (0x20: CTR) */
        kbc_reply(s, s->ram[cmd & 0x1F], false);
        return;
    }
    if (cmd >= 0x60 && cmd <= 0x7F) {           /* write RAM */
        s->data_cmd = cmd;
        return;
    }
    if (cmd >= 0xF0) {      /* pulse output port bits 0-3 where cmd has 0 */
        if (!(cmd & I8042_OUT_RESET))
            kbc_request_reset(c);
        return;
    }
    switch (cmd) {
    case 0xA4:              /* password installed?  F1: none */
        kbc_reply(s, 0xF1, false);
        break;
    case 0xA7:
        CTR(s) |= I8042_CTR_AUXDIS;
        break;
    case 0xA8:
        CTR(s) &= (uint8_t)~I8042_CTR_AUXDIS;
        break;
    case 0xA9:              /* aux interface test: 00 = no error */
    case 0xAB:              /* keyboard interface test */
        kbc_reply(s, 0x00, false);
        break;
    case 0xAA:              /* self test: 55 = passed, system flag set */
        CTR(s) |= I8042_CTR_SYS;
        s->xlate_break = 0;
        kbc_reply(s, 0x55, false);
        break;
    case 0xAD:
        CTR(s) |= I8042_CTR_KBDDIS;
        break;
    case 0xAE:
        CTR(s) &= (uint8_t)~I8042_CTR_KBDDIS;
        break;
    case 0xC0:
        kbc_reply(s, INPORT_VALUE, false);
        break;
    case 0xD0:
        kbc_reply(s, kbc_read_outport(s), false);
        break;
    case 0xD1: case 0xD2: case 0xD3: case 0xD4:
        s->data_cmd = cmd;
        break;
    case 0xDD: case 0xDF:   /* A20 off / on (HP Vectra-style shortcut) */
        kbc_write_outport(c, (uint8_t)((s->outport & ~I8042_OUT_A20) |
                                       (cmd == 0xDF ? I8042_OUT_A20 : 0)));
        break;
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "i8042: unknown command 0x%02x\n", cmd);
        break;
    }
}

static void kbc_data(I8042 *c, uint8_t v)
{
    I8042State *s = &c->s;
    uint8_t cmd = s->data_cmd;

    s->last_cmd = 0;
    s->data_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
        s->ram[cmd & 0x1F] = v;
        return;
    }
    switch (cmd) {
    case 0:                 /* to the keyboard, whose clock must run */
        CTR(s) &= (uint8_t)~I8042_CTR_KBDDIS;
        ps2_kbd_write(&s->kbd, v);
        break;
    case 0xD1:
        kbc_write_outport(c, v);
        break;
    case 0xD2: case 0xD3:   /* as if the keyboard / mouse had sent it */
        kbc_reply(s, v, cmd == 0xD3);
        break;
    case 0xD4:
        ps2_mouse_write(&s->mouse, v);
        break;
    }
}

static uint64_t kbc_read(void *opaque, uint64_t offset, unsigned size)
{
    I8042 *c = opaque;
    I8042State *s = &c->s;
    uint8_t v;

    if (offset)
        return kbc_status(s);
    v = s->obuf;
    if (s->obf) {
        s->obf = 0;
        s->obf_aux = 0;
        /* Drop the line before the next byte refills the buffer, so an
         * edge-triggered PIC sees an edge for every byte. */
        kbc_drive_irqs(c, false);
        kbc_update(c);
    }
    return v;
}

static void kbc_write(void *opaque, uint64_t offset, uint64_t value,
                      unsigned size)
{
    I8042 *c = opaque;

    LOG(LOG_IOPORT, "i8042: %s 0x%02x\n", offset ? "command" : "data",
        (unsigned)(value & 0xFF));
    if (offset)
        kbc_command(c, (uint8_t)value);
    else
        kbc_data(c, (uint8_t)value);
    kbc_update(c);
}

static const MemOps kbc_ops = {
    .read = kbc_read,
    .write = kbc_write,
    .max_access = 1,
};

/* Port 0x60 is offset 0; port 0x64 reaches the same handlers as offset 1
 * through its own opaque wrapper. */
static uint64_t kbc_cmd_read(void *opaque, uint64_t offset, unsigned size)
{
    return kbc_read(opaque, 1, size);
}

static void kbc_cmd_write(void *opaque, uint64_t offset, uint64_t value,
                          unsigned size)
{
    kbc_write(opaque, 1, value, size);
}

static const MemOps kbc_cmd_ops = {
    .read = kbc_cmd_read,
    .write = kbc_cmd_write,
    .max_access = 1,
};

static void kbc_power_on(I8042State *s)
{
    PS2KbdState kbd = s->kbd;
    PS2MouseState mouse = s->mouse;

    memset(s, 0, sizeof(*s));
    CTR(s) = CTR_POWER_ON;
    s->outport = OUTPORT_POWER_ON;
    s->kbd = kbd;
    s->mouse = mouse;
    ps2_kbd_reset(&s->kbd);
    ps2_mouse_reset(&s->mouse);
}

int i8042_new(AddressSpace *io, IrqLine kbd_irq, IrqLine aux_irq,
              const I8042Hooks *hooks, I8042 **out)
{
    I8042 *c = calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (!c)
        return -ENOMEM;
    c->io = io;
    c->kbd_irq = kbd_irq;
    c->aux_irq = aux_irq;
    if (hooks)
        c->hooks = *hooks;
    c->kbd_level = c->aux_level = -1;
    kbc_power_on(&c->s);
    rc = as_map_io(io, "i8042-data", I8042_DATA_PORT, 1, &kbc_ops, c);
    if (rc < 0)
        goto fail;
    rc = as_map_io(io, "i8042-cmd", I8042_CMD_PORT, 1, &kbc_cmd_ops, c);
    if (rc < 0) {
        as_unmap(io, I8042_DATA_PORT);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    free(c);
    return rc;
}

void i8042_free(I8042 *c)
{
    if (!c)
        return;
    as_unmap(c->io, I8042_DATA_PORT);
    as_unmap(c->io, I8042_CMD_PORT);
    free(c);
}

void i8042_reset(I8042 *c)
{
    kbc_power_on(&c->s);
    kbc_drive_irqs(c, true);
    kbc_report_a20(c);
}

void i8042_key(I8042 *c, unsigned keycode, bool down)
{
    ps2_kbd_key(&c->s.kbd, keycode, down);
    kbc_update(c);
}

void i8042_mouse(I8042 *c, int dx, int dy, int dz, unsigned buttons)
{
    ps2_mouse_move(&c->s.mouse, dx, dy, dz, buttons);
    kbc_update(c);
}

static int16_t le16s(const uint8_t *p)
{
    return (int16_t)(uint16_t)(p[0] | p[1] << 8);
}

void i8042_input_event(void *opaque, const InputEvent *ev)
{
    I8042 *c = opaque;

    if (ev->kind == EVENT_KEY && ev->len >= 3) {
        i8042_key(c, (unsigned)(ev->data[0] | ev->data[1] << 8),
                  ev->data[2] != 0);
    } else if (ev->kind == EVENT_MOUSE && ev->len >= 7) {
        i8042_mouse(c, le16s(ev->data), le16s(ev->data + 2),
                    le16s(ev->data + 4), ev->data[6]);
    } else {
        LOG_LIMITED(LOG_UNIMP, "i8042: input event kind %u length %u "
                    "ignored\n", ev->kind, ev->len);
    }
}

unsigned i8042_kbd_leds(const I8042 *c)
{
    return c->s.kbd.leds;
}

static int i8042_post_load(void *state, void *opaque)
{
    I8042 *c = opaque;
    I8042State *s = state;

    if (!c || state != &c->s || !ps2_kbd_state_valid(&s->kbd) ||
        !ps2_mouse_state_valid(&s->mouse) || s->obf > 1 || s->obf_aux > 1 ||
        s->reply_pending > 1)
        return -EINVAL;
    kbc_drive_irqs(c, true);
    kbc_report_a20(c);
    return 0;
}

static const StateField i8042_fields[] = {
    STATE_U8_ARRAY(I8042State, ram),
    STATE_U8(I8042State, outport),
    STATE_U8(I8042State, obuf),
    STATE_U8(I8042State, obf),
    STATE_U8(I8042State, obf_aux),
    STATE_U8(I8042State, last_cmd),
    STATE_U8(I8042State, data_cmd),
    STATE_U8(I8042State, reply_pending),
    STATE_U8(I8042State, reply),
    STATE_U8(I8042State, reply_aux),
    STATE_U8(I8042State, xlate_break),
    STATE_STRUCT(I8042State, kbd, ps2_kbd_state_desc),
    STATE_STRUCT(I8042State, mouse, ps2_mouse_state_desc),
    STATE_END
};

const StateDesc i8042_state_desc = {
    .name = "i8042", .version = 1, .size = sizeof(I8042State),
    .fields = i8042_fields, .post_load = i8042_post_load,
};

/* PS/2 keyboard and mouse (see hw/ps2.h for the references and the model).
 *
 * Scan codes are written once, as set 2 (the keyboard's native set); set 1
 * is derived from them through the 8042 translation table, which is exactly
 * the mapping between the two sets (set-2 make code -> set-1 make code, a
 * set-2 F0 prefix -> set-1 code | 0x80, E0/E1 unchanged).  Set 3 has its own
 * table since it is not a translation of set 2 for the function, cursor
 * and keypad keys.
 */
#include "hw/ps2.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "util/log.h"

#include "hw/ps2_tables.inc"

/* Held modifiers, for the PrintScreen and Pause variants. */
enum {
    KBD_MOD_LSHIFT = 0x01, KBD_MOD_RSHIFT = 0x02,
    KBD_MOD_LCTRL = 0x04, KBD_MOD_RCTRL = 0x08,
    KBD_MOD_LALT = 0x10, KBD_MOD_RALT = 0x20,
    KBD_MOD_SHIFT = KBD_MOD_LSHIFT | KBD_MOD_RSHIFT,
    KBD_MOD_CTRL = KBD_MOD_LCTRL | KBD_MOD_RCTRL,
    KBD_MOD_ALT = KBD_MOD_LALT | KBD_MOD_RALT,
};

/* ---- the queue ------------------------------------------------------- */

/* Replies sit at the front, so dropping the stream data truncates. */
static void q_drop_stream(PS2Queue *q)
{
    q->count = q->replies;
}

static unsigned q_index(const PS2Queue *q, unsigned i)
{
    return (q->head + i) % PS2_RING_SIZE;
}

static unsigned q_stream(const PS2Queue *q)
{
    return (unsigned)q->count - q->replies;
}

/* Room for `n` more stream bytes, within `limit` stream bytes in all. */
static bool q_stream_fits(const PS2Queue *q, unsigned n, unsigned limit)
{
    return q_stream(q) + n <= limit && q->count + n <= PS2_RING_SIZE;
}

static void q_push_stream(PS2Queue *q, const uint8_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        q->data[q_index(q, q->count++)] = b[i];
}

/* After earlier replies, ahead of stream data. */
static bool q_push_reply(PS2Queue *q, uint8_t b)
{
    if (q->count == PS2_RING_SIZE)
        return false;
    for (unsigned i = q->count; i > q->replies; i--)
        q->data[q_index(q, i)] = q->data[q_index(q, i - 1)];
    q->data[q_index(q, q->replies)] = b;
    q->replies++;
    q->count++;
    return true;
}

static uint8_t q_pop(PS2Queue *q)
{
    uint8_t b = q->data[q->head];

    q->head = (uint8_t)((q->head + 1) % PS2_RING_SIZE);
    q->count--;
    if (q->replies)
        q->replies--;
    return b;
}

static bool q_valid(const PS2Queue *q)
{
    return q->head < PS2_RING_SIZE && q->count <= PS2_RING_SIZE &&
           q->replies <= q->count;
}

/* ---- keyboard -------------------------------------------------------- */

static void kbd_reply(PS2KbdState *k, uint8_t b)
{
    if (!q_push_reply(&k->q, b))
        LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 kbd: reply 0x%02x lost, output "
                    "never read\n", b);
}

/* Typematic 10.9 cps, 500 ms delay: the IBM power-on default (0x2B). */
#define KBD_TYPEMATIC_DEFAULT 0x2b

static void kbd_defaults(PS2KbdState *k)
{
    k->typematic = KBD_TYPEMATIC_DEFAULT;
    k->param_cmd = 0;
    k->key_list = 0;
    k->overrun = 0;
}

void ps2_kbd_reset(PS2KbdState *k)
{
    uint8_t modifiers = k->modifiers;   /* the keys are still held */

    memset(k, 0, sizeof(*k));
    kbd_defaults(k);
    k->scancode_set = 2;
    k->scanning = 1;
    k->modifiers = modifiers;
}

static void kbd_param(PS2KbdState *k, uint8_t cmd, uint8_t v)
{
    switch (cmd) {
    case 0xED:                      /* Set/Reset Mode Indicators */
        k->leds = v & 7;
        kbd_reply(k, PS2_ACK);
        break;
    case 0xF3:                      /* Set Typematic Rate/Delay */
        k->typematic = v & 0x7f;
        kbd_reply(k, PS2_ACK);
        break;
    case 0xF0:                      /* Select Alternate Scan Codes */
        if (v > 3) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 kbd: scan code set %u\n", v);
            kbd_reply(k, PS2_RESEND);
            k->param_cmd = cmd;     /* still waiting for a valid one */
            return;
        }
        kbd_reply(k, PS2_ACK);
        if (v == 0)
            kbd_reply(k, k->scancode_set);
        else
            k->scancode_set = v;
        break;
    }
}

void ps2_kbd_write(PS2KbdState *k, uint8_t v)
{
    uint8_t pending = k->param_cmd;

    k->param_cmd = 0;
    /* A byte with bit 7 set is never a parameter (the LED, typematic and
     * set bytes are all below 0x80): the reference says a command in place
     * of an option byte cancels the first command. */
    if (pending && v < 0x80) {
        kbd_param(k, pending, v);
        return;
    }
    if (k->key_list && v < 0xED) {  /* a set-3 key number after FB-FD */
        kbd_reply(k, PS2_ACK);
        return;
    }
    k->key_list = 0;
    switch (v) {
    case 0xED: case 0xF0: case 0xF3:
        kbd_reply(k, PS2_ACK);
        k->param_cmd = v;
        break;
    case 0xEE:                      /* Echo */
        kbd_reply(k, 0xEE);
        break;
    case 0xF2:                      /* Read ID: MF2 keyboard */
        kbd_reply(k, PS2_ACK);
        kbd_reply(k, 0xAB);
        kbd_reply(k, 0x83);
        break;
    case 0xF4:                      /* Enable */
        q_drop_stream(&k->q);       /* "clears its output buffer" */
        k->overrun = 0;
        k->scanning = 1;
        kbd_reply(k, PS2_ACK);
        break;
    case 0xF5:                      /* Default Disable */
    case 0xF6:                      /* Set Default */
        q_drop_stream(&k->q);
        kbd_defaults(k);
        k->scanning = v == 0xF6;
        kbd_reply(k, PS2_ACK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA:   /* set 3: all keys ... */
        kbd_reply(k, PS2_ACK);
        break;
    case 0xFB: case 0xFC: case 0xFD:               /* set 3: these keys ... */
        kbd_reply(k, PS2_ACK);
        k->key_list = 1;
        break;
    case 0xFE:                      /* Resend */
        kbd_reply(k, k->last_sent);
        break;
    case 0xFF:                      /* Reset: ACK, then the BAT result */
        ps2_kbd_reset(k);
        kbd_reply(k, PS2_ACK);
        kbd_reply(k, PS2_BAT_OK);
        break;
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 kbd: unknown command 0x%02x\n", v);
        kbd_reply(k, PS2_RESEND);
        break;
    }
}

static void kbd_track_modifiers(PS2KbdState *k, unsigned keycode, bool down)
{
    uint8_t bit;

    switch (keycode) {
    case KEY_LEFTSHIFT: bit = KBD_MOD_LSHIFT; break;
    case KEY_RIGHTSHIFT: bit = KBD_MOD_RSHIFT; break;
    case KEY_LEFTCTRL: bit = KBD_MOD_LCTRL; break;
    case KEY_RIGHTCTRL: bit = KBD_MOD_RCTRL; break;
    case KEY_LEFTALT: bit = KBD_MOD_LALT; break;
    case KEY_RIGHTALT: bit = KBD_MOD_RALT; break;
    default: return;
    }
    if (down)
        k->modifiers |= bit;
    else
        k->modifiers &= (uint8_t)~bit;
}

/* The set-2 sequence of a key event into out[]; returns its length. */
static unsigned kbd_set2_seq(const PS2KbdState *k, uint16_t e, bool down,
                             uint8_t *out)
{
    static const uint8_t prtsc_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
    static const uint8_t prtsc_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
    static const uint8_t pause[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14,
                                     0xf0, 0x77 };
    static const uint8_t ctrl_break[] = { 0xe0, 0x7e, 0xe0, 0xf0, 0x7e };
    unsigned n = 0;

    if (e & K_PRTSC) {
        /* With Alt it is SysRq (84); with Shift or Ctrl the fake-shift
         * prefix is left out. */
        if (k->modifiers & KBD_MOD_ALT)
            e = 0x84;
        else if (k->modifiers & (KBD_MOD_SHIFT | KBD_MOD_CTRL))
            e = K_E0 | 0x7c;
        else {
            n = down ? sizeof(prtsc_make) : sizeof(prtsc_break);
            memcpy(out, down ? prtsc_make : prtsc_break, n);
            return n;
        }
    }
    if (e & K_PAUSE) {
        if (!down)
            return 0;
        if (k->modifiers & KBD_MOD_CTRL) {      /* Ctrl+Pause is Break */
            memcpy(out, ctrl_break, sizeof(ctrl_break));
            return sizeof(ctrl_break);
        }
        memcpy(out, pause, sizeof(pause));
        return sizeof(pause);
    }
    if (!down && (e & K_NOBREAK))
        return 0;
    if (e & K_E0)
        out[n++] = 0xe0;
    if (!down)
        out[n++] = 0xf0;
    out[n++] = (uint8_t)e;
    return n;
}

/* Set 1 is set 2 through the 8042 translation: F0 becomes bit 7. */
static unsigned kbd_to_set1(uint8_t *seq, unsigned n)
{
    unsigned m = 0;
    uint8_t brk = 0;

    for (unsigned i = 0; i < n; i++) {
        if (seq[i] == 0xf0) {
            brk = 0x80;
            continue;
        }
        seq[m++] = ps2_set2_to_set1[seq[i]] | brk;
        brk = 0;
    }
    return m;
}

void ps2_kbd_key(PS2KbdState *k, unsigned keycode, bool down)
{
    uint8_t seq[8];
    unsigned n = 0;
    bool known;

    kbd_track_modifiers(k, keycode, down);
    if (!k->scanning)
        return;
    if (k->scancode_set == 3) {
        uint8_t c = keycode < 256 ? set3_keys[keycode] : 0;
        known = c != 0;
        if (known) {
            if (!down)
                seq[n++] = 0xf0;
            seq[n++] = c;
        }
    } else {
        uint16_t e = keycode < 256 ? set2_keys[keycode] : 0;
        known = e != 0;
        if (known) {
            n = kbd_set2_seq(k, e, down, seq);
            if (k->scancode_set == 1)
                n = kbd_to_set1(seq, n);
        }
    }
    if (!known)
        LOG_LIMITED(LOG_UNIMP, "ps2 kbd: no scan code in set %u for key %u\n",
                    k->scancode_set, keycode);
    if (n == 0)         /* unknown, or a release that sends nothing */
        return;
    if (q_stream_fits(&k->q, n, PS2_QUEUE_SIZE)) {
        q_push_stream(&k->q, seq, n);
        k->overrun = 0;
        return;
    }
    /* The buffer is full: the overrun code goes in a 17th place. */
    if (!k->overrun && q_stream_fits(&k->q, 1, PS2_QUEUE_SIZE + 1)) {
        uint8_t code = k->scancode_set == 1 ? 0xff : 0x00;
        q_push_stream(&k->q, &code, 1);
        k->overrun = 1;
    }
    LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 kbd: buffer full, key %u %s lost\n",
                keycode, down ? "press" : "release");
}

bool ps2_kbd_pending(const PS2KbdState *k)
{
    return k->q.count != 0;
}

uint8_t ps2_kbd_read(PS2KbdState *k)
{
    if (!k->q.count)
        return k->last_sent;
    k->last_sent = q_pop(&k->q);
    return k->last_sent;
}

bool ps2_kbd_state_valid(const PS2KbdState *k)
{
    return q_valid(&k->q) && k->scancode_set >= 1 && k->scancode_set <= 3;
}

/* ---- mouse ----------------------------------------------------------- */

/* Counters are kept within this, so sums never overflow an int. */
#define MOUSE_COUNTER_MAX (1 << 24)

static void mouse_reply(PS2MouseState *m, const uint8_t *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!q_push_reply(&m->q, b[i]))
            LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 mouse: reply 0x%02x lost, "
                        "output never read\n", b[i]);
    }
    memcpy(m->last_msg, b, n);
    m->last_msg_len = (uint8_t)n;
}

static void mouse_ack(PS2MouseState *m)
{
    static const uint8_t ack = PS2_ACK;

    mouse_reply(m, &ack, 1);
}

static void mouse_reset_counters(PS2MouseState *m)
{
    m->dx = m->dy = m->dz = 0;
}

static void mouse_defaults(PS2MouseState *m)
{
    m->sample_rate = 100;
    m->resolution = 2;
    m->scaling21 = 0;
    m->reporting = 0;
    m->remote = 0;
    m->param_cmd = 0;
    mouse_reset_counters(m);
}

void ps2_mouse_reset(PS2MouseState *m)
{
    uint8_t buttons = m->buttons;   /* the buttons are still held */

    memset(m, 0, sizeof(*m));
    mouse_defaults(m);
    m->buttons = m->sent_buttons = buttons;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling, per the reference's table: 1->1, 2->1, 3->3, 4->6, 5->9,
 * then 2n. */
static int scale21(int v)
{
    static const int small[6] = { 0, 1, 1, 3, 6, 9 };
    int a = v < 0 ? -v : v;
    int s = a < 6 ? small[a] : 2 * a;

    return v < 0 ? -s : s;
}

static unsigned mouse_packet_len(const PS2MouseState *m)
{
    return m->id ? 4 : 3;
}

/* Cut one packet from the counters.  Stream packets take what fits and
 * leave the rest; a Read Data reply takes everything, flagging overflow. */
static unsigned mouse_packet(PS2MouseState *m, bool stream, uint8_t *p)
{
    /* 9-bit two's complement; with 2:1 scaling the scaled value must fit. */
    bool scaled = stream && m->scaling21;
    int hi = scaled ? 127 : 255, lo = scaled ? -127 : -256;
    int x = clampi(m->dx, lo, hi);
    int y = clampi(m->dy, lo, hi);
    int zlim = m->id == 4 ? 7 : 127;
    int z = clampi(m->dz, -zlim - 1, zlim);
    uint8_t b0 = 0x08 | (m->buttons & 7);

    if (stream) {
        m->dx -= x;
        m->dy -= y;
        m->dz -= z;
        if (m->scaling21) {
            x = scale21(x);
            y = scale21(y);
        }
    } else {
        if (x != m->dx)
            b0 |= 0x40;
        if (y != m->dy)
            b0 |= 0x80;
        mouse_reset_counters(m);
    }
    m->sent_buttons = m->buttons;       /* the host knows them now */
    if (x < 0)
        b0 |= 0x10;
    if (y < 0)
        b0 |= 0x20;
    p[0] = b0;
    p[1] = (uint8_t)x;
    p[2] = (uint8_t)y;
    if (m->id == 3)
        p[3] = (uint8_t)z;
    else if (m->id == 4)
        p[3] = (uint8_t)((z & 0x0f) |
                         (m->buttons & PS2_MOUSE_SIDE ? 0x10 : 0) |
                         (m->buttons & PS2_MOUSE_EXTRA ? 0x20 : 0));
    return mouse_packet_len(m);
}

static bool mouse_streaming(const PS2MouseState *m)
{
    return m->reporting && !m->remote && !m->wrap;
}

/* Move counters into stream packets while the queue has room. */
static void mouse_pump(PS2MouseState *m)
{
    uint8_t p[4];

    while (mouse_streaming(m) &&
           (m->dx || m->dy || m->dz || m->buttons != m->sent_buttons) &&
           q_stream_fits(&m->q, mouse_packet_len(m), PS2_QUEUE_SIZE)) {
        unsigned n = mouse_packet(m, true, p);
        q_push_stream(&m->q, p, n);
        memcpy(m->last_msg, p, n);
        m->last_msg_len = (uint8_t)n;
    }
}

/* The IntelliMouse "knocks": sample rates 200, 100, 80 turn on the wheel
 * (ID 3); then 200, 200, 80 the fourth and fifth buttons (ID 4). */
static void mouse_set_rate(PS2MouseState *m, uint8_t rate)
{
    m->sample_rate = rate;
    m->rates[0] = m->rates[1];
    m->rates[1] = m->rates[2];
    m->rates[2] = rate;
    if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80 &&
        m->id == 0)
        m->id = 3;
    else if (m->rates[0] == 200 && m->rates[1] == 200 && m->rates[2] == 80 &&
             m->id == 3)
        m->id = 4;
}

static void mouse_param(PS2MouseState *m, uint8_t cmd, uint8_t v)
{
    if (cmd == 0xF3) {
        switch (v) {
        case 10: case 20: case 40: case 60: case 80: case 100: case 200:
            break;
        default:
            LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 mouse: sample rate %u\n", v);
        }
        mouse_set_rate(m, v);
    } else {
        if (v > 3)
            LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 mouse: resolution %u\n", v);
        m->resolution = v & 3;
    }
    mouse_ack(m);
    mouse_reset_counters(m);
}

void ps2_mouse_write(PS2MouseState *m, uint8_t v)
{
    uint8_t pending = m->param_cmd, p[4];

    m->param_cmd = 0;
    if (pending) {      /* any byte: 200 (0xC8) is a valid sample rate */
        mouse_param(m, pending, v);
        mouse_pump(m);
        return;
    }
    if (m->wrap && v != 0xEC && v != 0xFF) {
        mouse_reply(m, &v, 1);      /* wrap mode echoes */
        return;
    }
    switch (v) {
    case 0xE6: case 0xE7:           /* Set Scaling 1:1 / 2:1 */
        m->scaling21 = v == 0xE7;
        mouse_ack(m);
        break;
    case 0xE8: case 0xF3:           /* Set Resolution / Sample Rate */
        mouse_ack(m);
        m->param_cmd = v;
        break;
    case 0xE9:                      /* Status Request */
        p[0] = PS2_ACK;
        p[1] = (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
                         (m->scaling21 ? 0x10 : 0) |
                         (m->buttons & PS2_MOUSE_LEFT ? 0x04 : 0) |
                         (m->buttons & PS2_MOUSE_MIDDLE ? 0x02 : 0) |
                         (m->buttons & PS2_MOUSE_RIGHT ? 0x01 : 0));
        p[2] = m->resolution;
        p[3] = m->sample_rate;
        mouse_reply(m, p, 4);
        mouse_reset_counters(m);
        break;
    case 0xEA: case 0xF0:           /* Set Stream / Remote Mode */
        m->remote = v == 0xF0;
        if (m->remote)
            q_drop_stream(&m->q);           /* no more stream data */
        mouse_ack(m);
        mouse_reset_counters(m);
        break;
    case 0xEB:                      /* Read Data */
        p[0] = PS2_ACK;
        mouse_reply(m, p, 1 + mouse_packet(m, false, p + 1));
        break;
    case 0xEC:                      /* Reset Wrap Mode */
        m->wrap = 0;
        mouse_ack(m);
        mouse_reset_counters(m);
        break;
    case 0xEE:                      /* Set Wrap Mode */
        m->wrap = 1;
        mouse_ack(m);
        mouse_reset_counters(m);
        break;
    case 0xF2:                      /* Get Device ID */
        p[0] = PS2_ACK;
        p[1] = m->id;
        mouse_reply(m, p, 2);
        mouse_reset_counters(m);
        break;
    case 0xF4:                      /* Enable Data Reporting */
        m->reporting = 1;
        mouse_ack(m);
        mouse_reset_counters(m);
        break;
    case 0xF5:                      /* Disable Data Reporting */
    case 0xF6:                      /* Set Defaults */
        if (v == 0xF6)
            mouse_defaults(m);
        m->reporting = 0;
        q_drop_stream(&m->q);               /* drop queued packets */
        mouse_ack(m);
        mouse_reset_counters(m);
        break;
    case 0xFE:                      /* Resend the last packet or reply */
        if (m->last_msg_len) {
            memcpy(p, m->last_msg, m->last_msg_len);
            mouse_reply(m, p, m->last_msg_len);
        } else {
            mouse_ack(m);
        }
        break;
    case 0xFF:                      /* Reset: ACK, BAT passed, ID */
        ps2_mouse_reset(m);
        p[0] = PS2_ACK;
        p[1] = PS2_BAT_OK;
        p[2] = 0x00;
        mouse_reply(m, p, 3);
        break;
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "ps2 mouse: unknown command 0x%02x\n",
                    v);
        p[0] = PS2_RESEND;
        mouse_reply(m, p, 1);
        break;
    }
    mouse_pump(m);
}

static int32_t counter_add(int32_t c, int d)
{
    return clampi(c + clampi(d, -MOUSE_COUNTER_MAX, MOUSE_COUNTER_MAX),
                  -MOUSE_COUNTER_MAX, MOUSE_COUNTER_MAX);
}

void ps2_mouse_move(PS2MouseState *m, int dx, int dy, int dz,
                    unsigned buttons)
{
    m->dx = counter_add(m->dx, dx);
    m->dy = counter_add(m->dy, -dy);        /* PS/2 counts y upward */
    if (m->id)                              /* no wheel: nothing to report */
        m->dz = counter_add(m->dz, dz);
    m->buttons = (uint8_t)(buttons & (m->id == 4 ? 0x1f : 0x07));
    mouse_pump(m);
}

bool ps2_mouse_pending(const PS2MouseState *m)
{
    return m->q.count != 0;
}

uint8_t ps2_mouse_read(PS2MouseState *m)
{
    uint8_t b;

    if (!m->q.count)
        return 0;
    b = q_pop(&m->q);
    mouse_pump(m);
    return b;
}

bool ps2_mouse_state_valid(const PS2MouseState *m)
{
    return q_valid(&m->q) && m->last_msg_len <= 4 && m->resolution <= 3 &&
           (m->id == 0 || m->id == 3 || m->id == 4);
}

/* ---- state tables ---------------------------------------------------- */

static const StateField ps2_queue_fields[] = {
    STATE_U8_ARRAY(PS2Queue, data),
    STATE_U8(PS2Queue, head),
    STATE_U8(PS2Queue, count),
    STATE_U8(PS2Queue, replies),
    STATE_END
};

const StateDesc ps2_queue_state_desc = {
    .name = "ps2-queue", .version = 1, .size = sizeof(PS2Queue),
    .fields = ps2_queue_fields,
};

static const StateField ps2_kbd_fields[] = {
    STATE_STRUCT(PS2KbdState, q, ps2_queue_state_desc),
    STATE_U8(PS2KbdState, scancode_set),
    STATE_U8(PS2KbdState, scanning),
    STATE_U8(PS2KbdState, leds),
    STATE_U8(PS2KbdState, typematic),
    STATE_U8(PS2KbdState, param_cmd),
    STATE_U8(PS2KbdState, key_list),
    STATE_U8(PS2KbdState, last_sent),
    STATE_U8(PS2KbdState, overrun),
    STATE_U8(PS2KbdState, modifiers),
    STATE_END
};

static int ps2_kbd_post_load(void *state, void *opaque)
{
    return ps2_kbd_state_valid(state) ? 0 : -EINVAL;
}

const StateDesc ps2_kbd_state_desc = {
    .name = "ps2-kbd", .version = 1, .size = sizeof(PS2KbdState),
    .fields = ps2_kbd_fields, .post_load = ps2_kbd_post_load,
};

static const StateField ps2_mouse_fields[] = {
    STATE_STRUCT(PS2MouseState, q, ps2_queue_state_desc),
    STATE_I32(PS2MouseState, dx),
    STATE_I32(PS2MouseState, dy),
    STATE_I32(PS2MouseState, dz),
    STATE_U8(PS2MouseState, buttons),
    STATE_U8(PS2MouseState, sent_buttons),
    STATE_U8(PS2MouseState, reporting),
    STATE_U8(PS2MouseState, remote),
    STATE_U8(PS2MouseState, wrap),
    STATE_U8(PS2MouseState, scaling21),
    STATE_U8(PS2MouseState, resolution),
    STATE_U8(PS2MouseState, sample_rate),
    STATE_U8(PS2MouseState, id),
    STATE_U8_ARRAY(PS2MouseState, rates),
    STATE_U8(PS2MouseState, param_cmd),
    STATE_U8_ARRAY(PS2MouseState, last_msg),
    STATE_U8(PS2MouseState, last_msg_len),
    STATE_END
};

static int ps2_mouse_post_load(void *state, void *opaque)
{
    return ps2_mouse_state_valid(state) ? 0 : -EINVAL;
}

const StateDesc ps2_mouse_state_desc = {
    .name = "ps2-mouse", .version = 1, .size = sizeof(PS2MouseState),
    .fields = ps2_mouse_fields, .post_load = ps2_mouse_post_load,
};

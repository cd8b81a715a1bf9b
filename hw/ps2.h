/* PS/2 keyboard and mouse: the devices at the far end of the 8042's two
 * serial ports.
 *
 * References: IBM "Keyboards (101- and 102-Key)" technical reference
 * (commands, the 16-byte buffer, overrun codes, scan code sets 1-3);
 * Microsoft "Keyboard Scan Code Specification" rev 1.3a (set 1 / set 2
 * sequences, PrintScreen and Pause, the consumer keys); IBM PS/2 Hardware
 * Interface Technical Reference, "Pointing Device" (mouse commands, the
 * 3-byte packet, status bytes); Microsoft IntelliMouse PS/2 extensions
 * (the 200-100-80 and 200-200-80 sample-rate sequences, IDs 3 and 4); the
 * 8042 set-2 -> set-1 translation table as published in A. Brouwer's
 * "Keyboard scancodes" notes.
 *
 * The devices have no runtime links: whoever owns them (hw/i8042.c) writes
 * the bytes the host sends with ps2_*_write(), delivers host input with
 * ps2_kbd_key() / ps2_mouse_move(), and pulls bytes out with ps2_*_read()
 * when its input buffer is free.  So the plain-data state is the whole
 * device, and an owner embeds it in its own state.
 *
 * Output queue.  A device buffers stream data (scan codes, mouse packets)
 * in a queue of PS2_QUEUE_SIZE bytes, as the keyboard's 16-byte buffer.
 * Replies to host commands (ACK, IDs, status) go ahead of queued stream
 * data, so a host that sends a command and waits for the ACK gets it
 * next, however much typing is queued (a byte already in the 8042's
 * output buffer still comes first).  Stream data is queued whole (a key's
 * make or break sequence, a whole packet) or not at all; a reply can
 * still land inside a mouse packet the host has begun reading, which
 * PS/2 drivers resynchronise from.  Replies that find the ring full
 * (a host sending commands and never reading) are dropped and logged.
 * Keyboard F4/F5/F6 and mouse F5/F6/F0 drop queued stream data, not
 * replies; a reset (FF) empties the queue.
 *
 * Keyboard: host keys are Linux input-event codes (KEY_*), turned into set
 * 2 (also E0 keys, PrintScreen and Pause with their modifier variants),
 * set 1 (the set-2 sequence through the translation table) or set 3.
 * When the 16-byte buffer cannot take a key, the key is dropped and the
 * overrun code (0x00 in sets 2 and 3, 0xFF in set 1) takes a 17th place,
 * once until a key fits again, as the IBM reference describes.  No
 * typematic repeat is generated: host auto-repeat arrives as repeated
 * presses, which become repeated make codes.  Set 3 keys are all
 * make/break; the set-3 key-type commands (F7-FD) are acknowledged and
 * otherwise ignored.  A keyboard with scanning disabled (F5) drops keys.
 *
 * Mouse: movement accumulates in counters.  In stream mode with reporting
 * on, packets are cut from the counters at once; a counter beyond the
 * 9-bit packet range is sent over several packets (the remainder stays for
 * the next one), and while the queue is full movement keeps accumulating,
 * so no movement is lost.  Overflow bits appear only in Read Data (EB)
 * replies, which report the counters and reset them, as the reference
 * says.  With reporting off the counters still accumulate (Read Data
 * returns them), but the commands the reference says reset the counters
 * do so, Enable (F4) among them: motion made while the guest had the mouse
 * disabled is not replayed when it enables it.
 * Packets are not paced at the sample rate; resolution and sample rate are
 * stored and reported, not applied; 2:1 scaling applies to stream packets.
 */
#ifndef VIREO_HW_PS2_H
#define VIREO_HW_PS2_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/state.h"

#define PS2_QUEUE_SIZE 16   /* stream bytes a device buffers */
#define PS2_RING_SIZE 32    /* stream bytes plus the replies ahead of them */

/* Replies and acknowledgements shared by both devices. */
#define PS2_ACK 0xFA
#define PS2_RESEND 0xFE
#define PS2_BAT_OK 0xAA

/* Host mouse buttons, in the PS/2 packet's bit order. */
#define PS2_MOUSE_LEFT 0x01
#define PS2_MOUSE_RIGHT 0x02
#define PS2_MOUSE_MIDDLE 0x04
#define PS2_MOUSE_SIDE 0x08   /* button 4: IntelliMouse Explorer only */
#define PS2_MOUSE_EXTRA 0x10  /* button 5: IntelliMouse Explorer only */

typedef struct PS2Queue {
    uint8_t data[PS2_RING_SIZE];
    uint8_t head;       /* ring index of the oldest byte */
    uint8_t count;      /* bytes held */
    uint8_t replies;    /* the first `replies` bytes are command replies */
} PS2Queue;

typedef struct PS2KbdState {
    PS2Queue q;
    uint8_t scancode_set;   /* 1, 2 or 3 */
    uint8_t scanning;       /* keys are reported (F4 / F5) */
    uint8_t leds;           /* ED: bit 0 scroll, 1 num, 2 caps lock */
    uint8_t typematic;      /* F3: rate and delay, stored only */
    uint8_t param_cmd;      /* ED, F0 or F3 awaiting its parameter, else 0 */
    uint8_t key_list;       /* after FB-FD: set-3 key numbers follow */
    uint8_t last_sent;      /* the last byte read out, for Resend (FE) */
    uint8_t overrun;        /* an overrun code is queued, no key since */
    uint8_t modifiers;      /* held Shift/Ctrl/Alt keys, left and right */
} PS2KbdState;

typedef struct PS2MouseState {
    PS2Queue q;
    int32_t dx, dy, dz;     /* movement counters, PS/2 sense (y up) */
    uint8_t buttons;        /* held host buttons (PS2_MOUSE_*) */
    uint8_t sent_buttons;   /* buttons in the last stream packet */
    uint8_t reporting;      /* F4 / F5 */
    uint8_t remote;         /* F0 remote mode, EA stream mode */
    uint8_t wrap;           /* EE wrap (echo) mode */
    uint8_t scaling21;      /* E7 / E6 */
    uint8_t resolution;     /* E8: 0-3 (1, 2, 4, 8 counts per mm) */
    uint8_t sample_rate;    /* F3, reports per second */
    uint8_t id;             /* F2 reply: 0, 3 (wheel) or 4 (wheel + 5 btn) */
    uint8_t rates[3];       /* the last three sample rates, newest last */
    uint8_t param_cmd;      /* E8 or F3 awaiting its parameter, else 0 */
    uint8_t last_msg[4];    /* the last reply or packet, for Resend (FE) */
    uint8_t last_msg_len;
} PS2MouseState;

/* The 8042's set-2 -> set-1 translation table (0xF0 is handled apart:
 * it marks the next code as a break, which the 8042 ORs with 0x80). */
extern const uint8_t ps2_set2_to_set1[256];

/* ---- keyboard ---- */

/* Power-on state: set 2, scanning on, LEDs off, empty queue (held
 * modifier keys stay held). */
void ps2_kbd_reset(PS2KbdState *kbd);
/* A byte from the host (command or parameter). */
void ps2_kbd_write(PS2KbdState *kbd, uint8_t byte);
/* A host key (Linux KEY_* code) pressed or released.  Unknown codes are
 * ignored (logged under -d unimp). */
void ps2_kbd_key(PS2KbdState *kbd, unsigned keycode, bool down);
bool ps2_kbd_pending(const PS2KbdState *kbd);
/* The next byte; only when ps2_kbd_pending(). */
uint8_t ps2_kbd_read(PS2KbdState *kbd);

/* ---- mouse ---- */

/* Power-on state: stream mode, reporting off, 100 samples/s, 4 counts/mm,
 * 1:1 scaling, ID 0, empty queue and counters (held buttons stay held). */
void ps2_mouse_reset(PS2MouseState *m);
void ps2_mouse_write(PS2MouseState *m, uint8_t byte);
/* Host movement: dx right, dy down (screen sense; the mouse reports y up),
 * dz the wheel, positive toward the user (scrolling down), as the
 * IntelliMouse packet counts it; `buttons` are the held PS2_MOUSE_* bits. */
void ps2_mouse_move(PS2MouseState *m, int dx, int dy, int dz,
                    unsigned buttons);
bool ps2_mouse_pending(const PS2MouseState *m);
uint8_t ps2_mouse_read(PS2MouseState *m);

/* For owners embedding the states: a loaded state is sane (indices in
 * range, enums valid), so nothing can index out of bounds. */
bool ps2_kbd_state_valid(const PS2KbdState *kbd);
bool ps2_mouse_state_valid(const PS2MouseState *m);

/* Field tables; their post_load only validates (opaque unused). */
extern const StateDesc ps2_queue_state_desc;
extern const StateDesc ps2_kbd_state_desc;
extern const StateDesc ps2_mouse_state_desc;

#endif

/* The 8042 keyboard controller with its PS/2 keyboard and mouse.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard
 * and Auxiliary Device Controller" (status register, command byte,
 * controller commands, input and output ports); IBM AT Technical
 * Reference (the 8042's command set and output port, A20 and reset);
 * the devices behind it are described in hw/ps2.h.
 *
 * Ports 0x60 (data) and 0x64 (status on read, command on write).  One
 * output buffer feeds both devices: when it is empty the controller takes
 * its own pending reply first, then a keyboard byte (through the set-2 ->
 * set-1 translation when command byte bit 6 is set), then a mouse byte;
 * a device whose clock is disabled (command byte bits 4 and 5) keeps its
 * bytes.  IRQ1 follows "output buffer full with keyboard data and command
 * byte bit 0", IRQ12 "... with mouse data and bit 1", as the 8042's OBF
 * interrupt pins do: raised when the buffer fills, lowered when the guest
 * reads port 0x60.  Edge-triggered PICs see one edge per byte because the
 * line drops on each read before the next byte fills the buffer.
 *
 * Not modelled: the input buffer (IBF is always 0: writes are taken at
 * once), the timeout and parity status bits (always 0: the devices are
 * always present), password commands beyond "none installed", pulses of
 * output port lines other than reset, and the output port's IRQ bits as
 * outputs (D0 reports them; writing them with D1 does not raise IRQs).
 * A byte written to port 0x60 for the keyboard re-enables the keyboard
 * clock (command byte bit 4), as 8042 firmware must to send it.  The
 * controller holds one reply of its own (to 20-3F, A4, A9-AB, C0, D0, D2,
 * D3) until the output buffer is free; a second before the guest reads
 * the first replaces it (logged under -d guest_errors).
 *
 * Wiring, for the board:
 *   I8042Hooks hooks = { on_a20, on_reset, pc };
 *   i8042_new(io, irq_line(pic_set, pic, 1), irq_line(pic_set, pic, 12),
 *             &hooks, &kbc);
 *   events_set_sink(q, EVENT_KEY, i8042_input_event, kbc);
 *   events_set_sink(q, EVENT_MOUSE, i8042_input_event, kbc);
 *   machine reset: i8042_reset(kbc) (reports A20 enabled).  It is a
 *     power-on reset and clears the system flag; a real 8042 that pulses
 *     the CPU's reset line is not itself reset, so a board that wants the
 *     flag to survive a warm reset skips this call there;
 *   snapshots: state_save/state_load(&i8042_state_desc, &kbc->s, kbc).
 * A20: the output port's bit 1 (enabled at power-on); the board ORs it
 * with port 0x92's.  Reset: output port bit 0 written 0 (D1) or pulsed
 * (F0-FE with bit 0 clear, 0xFE being the usual one).
 */
#ifndef VIREO_HW_I8042_H
#define VIREO_HW_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/ps2.h"
#include "machine/events.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

/* Status register (port 0x64 read). */
#define I8042_STR_OBF 0x01      /* output buffer full */
#define I8042_STR_IBF 0x02      /* input buffer full (never) */
#define I8042_STR_SYS 0x04      /* system flag (command byte bit 2) */
#define I8042_STR_CMD 0x08      /* A2: last write was to port 0x64 */
#define I8042_STR_INH 0x10      /* keyboard not inhibited (keylock off) */
#define I8042_STR_AUXB 0x20     /* the output buffer holds mouse data */
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY 0x80

/* Command byte (controller RAM byte 0). */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

/* Output port (D0 / D1). */
#define I8042_OUT_RESET 0x01    /* 0 resets the CPU */
#define I8042_OUT_A20 0x02
#define I8042_OUT_OBF_KBD 0x10  /* IRQ1 */
#define I8042_OUT_OBF_AUX 0x20  /* IRQ12 */

#define I8042_RAM_SIZE 32

typedef struct I8042State {
    uint8_t ram[I8042_RAM_SIZE]; /* ram[0] is the command byte */
    uint8_t outport;             /* output port, bits 4-5 derived */
    uint8_t obuf;                /* output buffer (reads after it empties
                                    return the last byte again) */
    uint8_t obf;                 /* output buffer full */
    uint8_t obf_aux;             /* ... with mouse data */
    uint8_t last_cmd;            /* status A2 */
    uint8_t data_cmd;            /* command waiting for its port 0x60 byte */
    uint8_t reply_pending;       /* a controller byte waits for the buffer */
    uint8_t reply;
    uint8_t reply_aux;           /* ... to be seen as mouse data (D3) */
    uint8_t xlate_break;         /* the translator swallowed an F0 */
    PS2KbdState kbd;
    PS2MouseState mouse;
} I8042State;

typedef struct I8042Hooks {
    void (*a20)(void *opaque, bool enabled);  /* output port bit 1 */
    void (*reset)(void *opaque);              /* CPU reset requested */
    void *opaque;
} I8042Hooks;

typedef struct I8042 {
    I8042State s;
    /* Runtime links, not saved. */
    AddressSpace *io;
    IrqLine kbd_irq, aux_irq;
    I8042Hooks hooks;
    int kbd_level, aux_level;    /* last driven, -1: unknown */
} I8042;

/* Maps ports 0x60 and 0x64 and puts the controller and both devices in
 * their power-on state without calling the hooks.  Returns 0, -EEXIST
 * (a port is taken) or -ENOMEM. */
int i8042_new(AddressSpace *io, IrqLine kbd_irq, IrqLine aux_irq,
              const I8042Hooks *hooks, I8042 **out);
/* Unmaps the ports and frees; NULL is fine. */
void i8042_free(I8042 *ctl);
/* Power-on reset of controller, keyboard and mouse (queues emptied; held
 * keys and buttons stay held).  Lowers both IRQ lines and reports A20
 * enabled. */
void i8042_reset(I8042 *ctl);

/* Host input.  keycode: a Linux KEY_* code.  Mouse: dx right, dy down,
 * dz toward the user, buttons PS2_MOUSE_* (see hw/ps2.h). */
void i8042_key(I8042 *ctl, unsigned keycode, bool down);
void i8042_mouse(I8042 *ctl, int dx, int dy, int dz, unsigned buttons);
/* An EventSink for EVENT_KEY and EVENT_MOUSE (opaque: the I8042).
 * Short events are logged and ignored. */
void i8042_input_event(void *opaque, const InputEvent *ev);

/* The keyboard LEDs the guest last set (bit 0 scroll, 1 num, 2 caps). */
unsigned i8042_kbd_leds(const I8042 *ctl);

/* The whole controller, keyboard and mouse included.  opaque for
 * state_load is the I8042 *; post_load checks the devices' queues,
 * re-drives both IRQ lines and re-reports A20. */
extern const StateDesc i8042_state_desc;

#endif

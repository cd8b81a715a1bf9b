/* Unit tests for hw/i8042.c and hw/ps2.c: the 8042 with its keyboard and
 * mouse, driven through ports 0x60/0x64 only, plus the host-input entry
 * points and the IRQ/A20/reset pins.
 *
 * Expected bytes come from the references, worked out by hand in the
 * comments: set-2 codes from the IBM keyboard reference and Microsoft's
 * scan code specification, set-1 codes from the same tables (or the 8042
 * translation table, which maps one to the other), mouse packets from the
 * IBM pointing device reference.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "hw/i8042.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

typedef struct Line {
    int level;
    int rises;
} Line;

static void line_set(void *opaque, int n, int level)
{
    Line *l = opaque;

    if (level && !l->level)
        l->rises++;
    l->level = level;
}

typedef struct Board {
    int a20_calls;
    bool a20;
    int resets;
} Board;

static void on_a20(void *opaque, bool enabled)
{
    Board *b = opaque;

    b->a20_calls++;
    b->a20 = enabled;
}

static void on_reset(void *opaque)
{
    ((Board *)opaque)->resets++;
}

static AddressSpace io;
static I8042 *kbc;
static Line irq1, irq12;
static Board board;

static void setup(void)
{
    I8042Hooks hooks = { on_a20, on_reset, &board };

    as_init(&io, "io", 1 << 16);
    irq1 = irq12 = (Line){0};
    board = (Board){0};
    cr_assert_eq(i8042_new(&io, irq_line(line_set, &irq1, 1),
                           irq_line(line_set, &irq12, 12), &hooks, &kbc), 0);
    cr_assert_not_null(kbc);
}

static void teardown(void)
{
    i8042_free(kbc);
    as_destroy(&io);
}

TestSuite(i8042, .init = setup, .fini = teardown);

/* ---- port helpers -------------------------------------------------------- */

static void outb(uint16_t port, uint8_t v) { as_write(&io, port, v, 1); }
static uint8_t inb(uint16_t port) { return (uint8_t)as_read(&io, port, 1); }
static uint8_t status(void) { return inb(0x64); }

static void cmd(uint8_t c) { outb(0x64, c); }
static void cmd_data(uint8_t c, uint8_t d) { outb(0x64, c); outb(0x60, d); }
static void write_ctr(uint8_t v) { cmd_data(0x60, v); }
static void kbd_send(uint8_t b) { outb(0x60, b); }
static void aux_send(uint8_t b) { cmd_data(0xD4, b); }

/* The next byte must be `v`, from the mouse (AUXB) iff `aux`. */
static void expect_at(uint8_t v, bool aux, int line, size_t i)
{
    uint8_t st = status();

    cr_assert(st & I8042_STR_OBF, "line %d byte %zu: none, expected 0x%02x",
              line, i, v);
    cr_assert_eq(!!(st & I8042_STR_AUXB), aux, "line %d byte %zu: AUXB "
                 "wrong for 0x%02x", line, i, v);
    uint8_t got = inb(0x60);
    cr_assert_eq(got, v, "line %d byte %zu: read 0x%02x, expected 0x%02x",
                 line, i, got, v);
}

static void expect_byte(uint8_t v, bool aux) { expect_at(v, aux, 0, 0); }

static void expect_seq(const uint8_t *v, size_t n, bool aux, int line)
{
    for (size_t i = 0; i < n; i++)
        expect_at(v[i], aux, line, i);
}

#define EXPECT_KBD(...) do { \
    static const uint8_t e_[] = { __VA_ARGS__ }; \
    expect_seq(e_, sizeof(e_), false, __LINE__); \
} while (0)
#define EXPECT_AUX(...) do { \
    static const uint8_t e_[] = { __VA_ARGS__ }; \
    expect_seq(e_, sizeof(e_), true, __LINE__); \
} while (0)

static void expect_empty(void)
{
    uint8_t st = status();

    cr_assert_eq(st & I8042_STR_OBF, 0, "unexpected byte 0x%02x",
                 (st & I8042_STR_OBF) ? inb(0x60) : 0);
}

static uint8_t read_ctr(void)
{
    cmd(0x20);
    cr_assert(status() & I8042_STR_OBF);
    return inb(0x60);
}

static int flush(void)
{
    int n = 0;

    while (status() & I8042_STR_OBF) {
        inb(0x60);
        n++;
        cr_assert_lt(n, 100, "flush never ends");
    }
    return n;
}

static void key(unsigned code, bool down) { i8042_key(kbc, code, down); }
static void tap(unsigned code) { key(code, true); key(code, false); }

/* Mouse on the aux port, reporting on, controller passing its bytes. */
static void mouse_enable(void)
{
    write_ctr(I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
    aux_send(0xF4);
    EXPECT_AUX(0xFA);
}

/* ---- controller ------------------------------------------------------------ */

Test(i8042, power_on_status_and_command_byte)
{
    /* Keylock off (INH), nothing to read, no self test yet (SYS clear). */
    cr_assert_eq(status(), I8042_STR_INH);
    cr_assert_eq(read_ctr(), 0x43);         /* ints, translation */
    /* A2 follows the last port written. */
    cr_assert(status() & I8042_STR_CMD);
    kbd_send(0xEE);
    cr_assert_eq(status() & I8042_STR_CMD, 0);
    EXPECT_KBD(0xEE);
}

Test(i8042, self_test_sets_system_flag)
{
    cmd(0xAA);
    cr_assert(status() & I8042_STR_OBF);
    expect_byte(0x55, false);
    cr_assert(status() & I8042_STR_SYS);
    cr_assert(read_ctr() & I8042_CTR_SYS);
    /* Interface tests: 00 = no error. */
    cmd(0xAB);
    EXPECT_KBD(0x00);
    cmd(0xA9);
    EXPECT_KBD(0x00);
    /* Input port: keyboard not inhibited. */
    cmd(0xC0);
    cr_assert(inb(0x60) & 0x80);
    expect_empty();
}

Test(i8042, command_byte_and_ram)
{
    write_ctr(0x65);
    cr_assert_eq(read_ctr(), 0x65);
    cr_assert(status() & I8042_STR_SYS);   /* bit 2 of 0x65 */
    write_ctr(0x30);
    cr_assert_eq(read_ctr(), 0x30);
    cr_assert_eq(status() & I8042_STR_SYS, 0);
    cmd_data(0x7F, 0x5A);                   /* RAM byte 31 */
    cmd(0x3F);
    EXPECT_KBD(0x5A);
    /* A7/A8 and AD/AE toggle bits 5 and 4. */
    cmd(0xA8);
    cmd(0xAE);
    cr_assert_eq(read_ctr(), 0x00);
    cmd(0xA7);
    cr_assert_eq(read_ctr(), I8042_CTR_AUXDIS);
    cmd(0xAD);
    cr_assert_eq(read_ctr(), I8042_CTR_AUXDIS | I8042_CTR_KBDDIS);
    /* A new command cancels one still waiting for its data byte. */
    cmd(0x60);
    cmd(0xAA);
    EXPECT_KBD(0x55);
}

Test(i8042, write_output_buffers_d2_d3)
{
    write_ctr(I8042_CTR_KBDINT | I8042_CTR_AUXINT);
    cmd_data(0xD2, 0x99);
    cr_assert_eq(irq1.level, 1);
    cr_assert_eq(irq12.level, 0);
    EXPECT_KBD(0x99);
    cr_assert_eq(irq1.level, 0);
    /* D3 is what Linux's i8042_check_aux loops 0x5A through: it must come
     * back as mouse data even with the aux clock disabled. */
    write_ctr(I8042_CTR_AUXINT | I8042_CTR_AUXDIS | I8042_CTR_KBDDIS);
    cmd_data(0xD3, 0x5A);
    cr_assert_eq(irq12.level, 1);
    EXPECT_AUX(0x5A);
    cr_assert_eq(irq12.level, 0);
    cr_assert_eq(irq1.rises, 1);
    cr_assert_eq(irq12.rises, 1);
}

/* ---- A20 and reset ------------------------------------------------------ */

Test(i8042, output_port_a20_and_reset)
{
    cmd(0xD0);
    EXPECT_KBD(0xCF);               /* reset high, A20 on, lines idle */
    cmd_data(0xD1, 0xDD);           /* A20 off: what DOS's HIMEM writes */
    cr_assert_eq(board.a20_calls, 1);
    cr_assert_eq(board.a20, false);
    cmd(0xD0);
    EXPECT_KBD(0xCD);
    cmd_data(0xD1, 0xDF);           /* A20 on */
    cr_assert_eq(board.a20_calls, 2);
    cr_assert_eq(board.a20, true);
    cmd_data(0xD1, 0xDF);           /* no change, no call */
    cr_assert_eq(board.a20_calls, 2);
    cr_assert_eq(board.resets, 0);
    cmd_data(0xD1, 0xDE);           /* bit 0 low: reset the CPU */
    cr_assert_eq(board.resets, 1);
    cmd(0xDD);                      /* the A20 shortcuts */
    cr_assert_eq(board.a20, false);
    cmd(0xDF);
    cr_assert_eq(board.a20, true);
    /* The output port's OBF bit shows keyboard data waiting. */
    cmd_data(0xD2, 0x11);
    cmd(0xD0);
    EXPECT_KBD(0x11, 0xDF);
    expect_empty();
}

Test(i8042, pulse_reset)
{
    cmd(0xFF);                      /* pulse nothing */
    cr_assert_eq(board.resets, 0);
    cmd(0xFE);                      /* pulse bit 0: the classic reboot */
    cr_assert_eq(board.resets, 1);
    expect_empty();
    /* A machine reset reports A20 enabled again. */
    cmd(0xDD);
    i8042_reset(kbc);
    cr_assert_eq(board.a20, true);
    cr_assert_eq(read_ctr(), 0x43);
}

/* ---- firmware and OS initialisation ------------------------------------- */

/* SeaBIOS's ps2_command(): both ports disabled and silent, flush, enable
 * the one port, send, collect, restore the command byte. */
static void seabios_command(bool aux, const uint8_t *send, int nsend,
                            uint8_t *recv, int nrecv)
{
    uint8_t ctr = read_ctr();
    uint8_t quiet = (uint8_t)((ctr | I8042_CTR_KBDDIS | I8042_CTR_AUXDIS) &
                              ~(I8042_CTR_KBDINT | I8042_CTR_AUXINT));

    write_ctr(quiet);
    flush();
    write_ctr((uint8_t)(quiet & ~(aux ? I8042_CTR_AUXDIS : I8042_CTR_KBDDIS)));
    for (int i = 0; i < nsend; i++) {
        if (aux)
            aux_send(send[i]);
        else
            kbd_send(send[i]);
        expect_byte(0xFA, aux);
    }
    for (int i = 0; i < nrecv; i++) {
        cr_assert(status() & I8042_STR_OBF);
        cr_assert_eq(!!(status() & I8042_STR_AUXB), aux);
        recv[i] = inb(0x60);
    }
    write_ctr(ctr);
}

Test(i8042, seabios_init_sequence)
{
    uint8_t r[2];

    flush();
    cmd(0xAA);
    EXPECT_KBD(0x55);
    cmd(0xAB);
    EXPECT_KBD(0x00);
    seabios_command(false, (const uint8_t[]){ 0xFF }, 1, r, 1);
    cr_assert_eq(r[0], 0xAA);                   /* BAT passed */
    seabios_command(false, (const uint8_t[]){ 0xF5 }, 1, r, 0);
    seabios_command(false, (const uint8_t[]){ 0xF0, 0x02 }, 2, r, 0);
    write_ctr(I8042_CTR_AUXDIS | I8042_CTR_XLATE | I8042_CTR_KBDINT);
    seabios_command(false, (const uint8_t[]){ 0xF4 }, 1, r, 0);
    /* The mouse: reset gives AA and ID 00. */
    seabios_command(true, (const uint8_t[]){ 0xFF }, 1, r, 2);
    cr_assert_eq(r[0], 0xAA);
    cr_assert_eq(r[1], 0x00);
    expect_empty();

    /* A key now raises IRQ1 with a set-1 code: A = set 2 1C -> set 1 1E. */
    key(KEY_A, true);
    cr_assert_eq(irq1.level, 1);
    EXPECT_KBD(0x1E);
    cr_assert_eq(irq1.level, 0);
}

Test(i8042, linux_init_sequence)
{
    flush();
    cmd(0xAA);
    EXPECT_KBD(0x55);
    uint8_t ctr = read_ctr();
    cr_assert_eq(read_ctr(), ctr);              /* read twice, equal */
    /* i8042_controller_init: keyboard off, no keyboard interrupt. */
    ctr = (uint8_t)((ctr | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT);
    write_ctr(ctr);
    cr_assert(status() & I8042_STR_INH, "keylock would be reported");
    /* i8042_check_aux: loop, then disable/enable must show in the CTR. */
    cmd_data(0xD3, 0x5A);
    EXPECT_AUX(0x5A);
    cmd(0xA7);
    cr_assert(read_ctr() & I8042_CTR_AUXDIS);
    cmd(0xA8);
    cr_assert_eq(read_ctr() & I8042_CTR_AUXDIS, 0);
    /* i8042_enable_kbd_port, then atkbd_probe: GETID through translation:
     * AB 83 -> AB 41 (the table maps 0x83, F7's code, to 0x41). */
    ctr = (uint8_t)((ctr & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT);
    write_ctr(ctr);
    irq1.rises = 0;
    kbd_send(0xF2);
    EXPECT_KBD(0xFA, 0xAB, 0x41);
    /* atkbd_select_set(2): F0 02, then F0 00 reads the set back: 02
     * translated is 0x41. */
    kbd_send(0xF0);
    kbd_send(0x02);
    EXPECT_KBD(0xFA, 0xFA);
    kbd_send(0xF0);
    kbd_send(0x00);
    EXPECT_KBD(0xFA, 0xFA, 0x41);
    kbd_send(0xF3);                             /* typematic */
    kbd_send(0x00);
    kbd_send(0xED);                             /* LEDs off */
    kbd_send(0x00);
    kbd_send(0xF4);                             /* enable */
    EXPECT_KBD(0xFA, 0xFA, 0xFA, 0xFA, 0xFA);
    cr_assert_eq(irq1.rises, 13);       /* one edge per byte */
    expect_empty();
}

/* ---- keyboard scan codes ---------------------------------------------------- */

Test(i8042, keys_translated_to_set1)
{
    /* Set 2 through the translator. */
    tap(KEY_A);                     /* 1C, F0 1C -> 1E, 9E */
    EXPECT_KBD(0x1E, 0x9E);
    tap(KEY_F7);                    /* 83, F0 83 -> 41, C1 */
    EXPECT_KBD(0x41, 0xC1);
    tap(KEY_UP);                    /* E0 75, E0 F0 75 -> E0 48, E0 C8 */
    EXPECT_KBD(0xE0, 0x48, 0xE0, 0xC8);
    tap(KEY_RIGHTCTRL);             /* E0 14 -> E0 1D */
    EXPECT_KBD(0xE0, 0x1D, 0xE0, 0x9D);
    tap(KEY_KPENTER);               /* E0 5A -> E0 1C */
    EXPECT_KBD(0xE0, 0x1C, 0xE0, 0x9C);
    tap(KEY_ESC);                   /* 76 -> 01 */
    EXPECT_KBD(0x01, 0x81);
    expect_empty();
}

/* Linux numbers KEY_ESC (1) .. KEY_KPDOT (83) and KEY_102ND, KEY_F11,
 * KEY_F12 (86-88) after their XT (set-1) scan codes: an oracle for the
 * whole main block, independent of the set-2 table and the translation
 * table that together must reproduce it. */
static void check_xt_block(void)
{
    for (unsigned k = 1; k <= 88; k++) {
        if (k == 84 || k == 85)     /* no key / Zenkaku-Hankaku */
            continue;
        tap(k);
        expect_at((uint8_t)k, false, __LINE__, k);
        expect_at((uint8_t)(k | 0x80), false, __LINE__, k);
    }
    expect_empty();
}

Test(i8042, xt_block_through_translation)
{
    check_xt_block();
}

Test(i8042, xt_block_in_keyboard_set1)
{
    write_ctr(I8042_CTR_KBDINT);    /* no translation: the keyboard's own */
    kbd_send(0xF0);
    kbd_send(0x01);
    EXPECT_KBD(0xFA, 0xFA);
    check_xt_block();
}

Test(i8042, keys_raw_set2)
{
    write_ctr(I8042_CTR_KBDINT);    /* translation off */
    tap(KEY_A);
    EXPECT_KBD(0x1C, 0xF0, 0x1C);
    tap(KEY_UP);
    EXPECT_KBD(0xE0, 0x75, 0xE0, 0xF0, 0x75);
    tap(KEY_LEFTMETA);
    EXPECT_KBD(0xE0, 0x1F, 0xE0, 0xF0, 0x1F);
    tap(KEY_F7);
    EXPECT_KBD(0x83, 0xF0, 0x83);
    tap(KEY_MUTE);                  /* consumer key: E0 23 */
    EXPECT_KBD(0xE0, 0x23, 0xE0, 0xF0, 0x23);
    expect_empty();
}

Test(i8042, print_screen_and_pause)
{
    write_ctr(I8042_CTR_KBDINT);
    tap(KEY_SYSRQ);
    EXPECT_KBD(0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12);
    tap(KEY_PAUSE);                 /* make only, no break */
    EXPECT_KBD(0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77);
    key(KEY_LEFTALT, true);         /* Alt+PrintScreen is SysRq: 84 */
    tap(KEY_SYSRQ);
    key(KEY_LEFTALT, false);
    EXPECT_KBD(0x11, 0x84, 0xF0, 0x84, 0xF0, 0x11);
    key(KEY_LEFTCTRL, true);        /* Ctrl+Pause is Break: E0 7E ... */
    tap(KEY_PAUSE);
    key(KEY_LEFTCTRL, false);
    EXPECT_KBD(0x14, 0xE0, 0x7E, 0xE0, 0xF0, 0x7E, 0xF0, 0x14);

    /* The same through translation: set 1 E0 2A E0 37 / E0 B7 E0 AA and
     * E1 1D 45 E1 9D C5. */
    write_ctr(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    tap(KEY_SYSRQ);
    EXPECT_KBD(0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA);
    tap(KEY_PAUSE);
    EXPECT_KBD(0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
    expect_empty();
}

Test(i8042, keyboard_set1_and_set3)
{
    write_ctr(I8042_CTR_KBDINT);
    kbd_send(0xF0);
    kbd_send(0x01);
    EXPECT_KBD(0xFA, 0xFA);
    tap(KEY_A);                     /* set 1: 1E / 9E */
    EXPECT_KBD(0x1E, 0x9E);
    tap(KEY_UP);                    /* E0 48 / E0 C8 */
    EXPECT_KBD(0xE0, 0x48, 0xE0, 0xC8);
    kbd_send(0xF0);
    kbd_send(0x00);
    EXPECT_KBD(0xFA, 0xFA, 0x01);

    kbd_send(0xF0);
    kbd_send(0x03);
    EXPECT_KBD(0xFA, 0xFA);
    tap(KEY_A);                     /* set 3: 1C / F0 1C */
    EXPECT_KBD(0x1C, 0xF0, 0x1C);
    tap(KEY_UP);                    /* 63, no E0 */
    EXPECT_KBD(0x63, 0xF0, 0x63);
    tap(KEY_F1);                    /* 07 */
    EXPECT_KBD(0x07, 0xF0, 0x07);
    /* Set query through translation: 03 -> 3F. */
    write_ctr(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    kbd_send(0xF0);
    kbd_send(0x00);
    EXPECT_KBD(0xFA, 0xFA, 0x3F);
    /* A bad set number asks for a resend; the keyboard still waits for
     * the option byte. */
    kbd_send(0xF0);
    kbd_send(0x07);
    EXPECT_KBD(0xFA, 0xFE);
    kbd_send(0x02);
    EXPECT_KBD(0xFA);
    tap(KEY_A);
    EXPECT_KBD(0x1E, 0x9E);
    expect_empty();
}

Test(i8042, keyboard_commands)
{
    write_ctr(I8042_CTR_KBDINT);
    kbd_send(0xED);
    kbd_send(0x07);
    EXPECT_KBD(0xFA, 0xFA);
    cr_assert_eq(i8042_kbd_leds(kbc), 7);
    kbd_send(0xEE);                 /* echo: EE, no ACK */
    EXPECT_KBD(0xEE);
    kbd_send(0xFE);                 /* resend the last byte */
    EXPECT_KBD(0xEE);
    kbd_send(0xE8);                 /* not a command: resend request */
    EXPECT_KBD(0xFE);
    kbd_send(0xED);                 /* a command instead of the option */
    kbd_send(0xF2);
    EXPECT_KBD(0xFA, 0xFA, 0xAB, 0x83);
    cr_assert_eq(i8042_kbd_leds(kbc), 7);
    kbd_send(0xF5);                 /* disabled: keys are not reported */
    EXPECT_KBD(0xFA);
    tap(KEY_A);
    expect_empty();
    kbd_send(0xF4);
    EXPECT_KBD(0xFA);
    tap(KEY_B);                     /* set 2 B = 32 */
    EXPECT_KBD(0x32, 0xF0, 0x32);
    kbd_send(0xFF);
    EXPECT_KBD(0xFA, 0xAA);
    cr_assert_eq(i8042_kbd_leds(kbc), 0);
}

Test(i8042, ack_goes_ahead_of_queued_keys)
{
    /* Keys wait in the keyboard while its clock is off; a command written
     * to it (which turns the clock back on) is answered first. */
    cmd(0xAD);
    key(KEY_A, true);
    key(KEY_B, true);
    expect_empty();
    kbd_send(0xED);
    EXPECT_KBD(0xFA, 0x1E, 0x30);
    kbd_send(0x02);
    EXPECT_KBD(0xFA);
    expect_empty();
    cr_assert_eq(read_ctr() & I8042_CTR_KBDDIS, 0);
}

Test(i8042, input_event_sink)
{
    InputEvent ev = { .kind = EVENT_KEY, .len = 3,
                      .data = { KEY_Q, 0, 1 } };
    i8042_input_event(kbc, &ev);
    ev.data[2] = 0;
    i8042_input_event(kbc, &ev);
    EXPECT_KBD(0x10, 0x90);         /* Q: set 2 15 -> set 1 10 */
    ev.len = 1;                     /* truncated: ignored */
    i8042_input_event(kbc, &ev);
    expect_empty();

    mouse_enable();
    /* dx = -2, dy = +1 (down), dz = 0, left button. */
    InputEvent mv = { .kind = EVENT_MOUSE, .len = 7,
                      .data = { 0xFE, 0xFF, 0x01, 0x00, 0, 0, 1 } };
    i8042_input_event(kbc, &mv);
    EXPECT_AUX(0x39, 0xFE, 0xFF);   /* 08|01 left|10 x neg|20 y neg */
    expect_empty();
}

/* ---- interrupts ----------------------------------------------------------------- */

Test(i8042, irq1_follows_output_buffer)
{
    write_ctr(I8042_CTR_KBDINT | I8042_CTR_XLATE);
    key(KEY_A, true);
    cr_assert_eq(irq1.level, 1);
    cr_assert_eq(irq1.rises, 1);
    status();                       /* reading status changes nothing */
    cr_assert_eq(irq1.level, 1);
    EXPECT_KBD(0x1E);
    cr_assert_eq(irq1.level, 0);
    inb(0x60);                      /* empty buffer: no new edge */
    cr_assert_eq(irq1.rises, 1);
    /* Two bytes: the line drops on the read and rises for the next. */
    key(KEY_UP, true);
    cr_assert_eq(irq1.rises, 2);
    EXPECT_KBD(0xE0);
    cr_assert_eq(irq1.level, 1);
    cr_assert_eq(irq1.rises, 3);
    EXPECT_KBD(0x48);
    cr_assert_eq(irq1.level, 0);
    cr_assert_eq(irq12.rises, 0);

    /* Interrupt disabled: the byte waits, no IRQ; enabling the interrupt
     * with the buffer full raises the line. */
    write_ctr(I8042_CTR_XLATE);
    key(KEY_A, false);
    cr_assert(status() & I8042_STR_OBF);
    cr_assert_eq(irq1.level, 0);
    write_ctr(I8042_CTR_XLATE | I8042_CTR_KBDINT);
    cr_assert_eq(irq1.level, 1);
    EXPECT_KBD(0x9E);
    cr_assert_eq(irq1.level, 0);
}

Test(i8042, irq12_and_auxb_for_mouse_bytes)
{
    mouse_enable();
    cr_assert_eq(irq12.rises, 1);   /* the ACK */
    i8042_mouse(kbc, 1, 0, 0, 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(irq12.level, 1);
        cr_assert_eq(irq12.rises, 2 + i);   /* a new edge per byte */
        cr_assert(status() & I8042_STR_AUXB);
        inb(0x60);
    }
    cr_assert_eq(irq12.level, 0);
    cr_assert_eq(irq12.rises, 4);
    cr_assert_eq(irq1.rises, 0);
    cr_assert_eq(status() & (I8042_STR_OBF | I8042_STR_AUXB), 0);

    /* Keyboard and mouse data interleave, each on its own line. */
    i8042_mouse(kbc, 0, 0, 0, PS2_MOUSE_LEFT);
    key(KEY_A, true);
    EXPECT_AUX(0x09);
    EXPECT_KBD(0x1E);               /* the keyboard is served first */
    EXPECT_AUX(0x00, 0x00);
    cr_assert_eq(irq1.rises, 1);
}

/* ---- mouse ---------------------------------------------------------------------- */

Test(i8042, mouse_reset_id_and_intellimouse)
{
    write_ctr(I8042_CTR_AUXINT);
    aux_send(0xFF);
    EXPECT_AUX(0xFA, 0xAA, 0x00);
    aux_send(0xF2);
    EXPECT_AUX(0xFA, 0x00);
    /* The wheel knock: 200, 100, 80. */
    static const uint8_t knock[] = { 200, 100, 80 };
    for (int i = 0; i < 3; i++) {
        aux_send(0xF3);
        aux_send(knock[i]);
        EXPECT_AUX(0xFA, 0xFA);
    }
    aux_send(0xF2);
    EXPECT_AUX(0xFA, 0x03);
    aux_send(0xF4);
    EXPECT_AUX(0xFA);
    i8042_mouse(kbc, 0, 0, 1, 0);   /* one notch toward the user */
    EXPECT_AUX(0x08, 0x00, 0x00, 0x01);
    i8042_mouse(kbc, 0, 0, -2, 0);
    EXPECT_AUX(0x08, 0x00, 0x00, 0xFE);
    /* The Explorer knock: 200, 200, 80 -> ID 4, 4-bit wheel, buttons 4/5. */
    static const uint8_t knock2[] = { 200, 200, 80 };
    for (int i = 0; i < 3; i++) {
        aux_send(0xF3);
        aux_send(knock2[i]);
        EXPECT_AUX(0xFA, 0xFA);
    }
    aux_send(0xF2);
    EXPECT_AUX(0xFA, 0x04);
    i8042_mouse(kbc, 0, 0, -1, PS2_MOUSE_SIDE);
    EXPECT_AUX(0x08, 0x00, 0x00, 0x1F);
    /* Reset forgets the extensions. */
    aux_send(0xFF);
    EXPECT_AUX(0xFA, 0xAA, 0x00);
    aux_send(0xF2);
    EXPECT_AUX(0xFA, 0x00);
    expect_empty();
}

Test(i8042, mouse_packet_sign_bits)
{
    mouse_enable();
    i8042_mouse(kbc, 10, -20, 0, 0);        /* right 10, up 20 */
    EXPECT_AUX(0x08, 0x0A, 0x14);
    i8042_mouse(kbc, -5, 3, 0, 0);          /* left 5, down 3 */
    EXPECT_AUX(0x38, 0xFB, 0xFD);           /* X and Y sign bits */
    i8042_mouse(kbc, -256, 0, 0, 0);        /* the 9-bit minimum */
    EXPECT_AUX(0x18, 0x00, 0x00);
    i8042_mouse(kbc, 0, 0, 0, PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT);
    EXPECT_AUX(0x0B, 0x00, 0x00);
    i8042_mouse(kbc, 0, 0, 0, PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT);
    expect_empty();                         /* nothing changed */
    i8042_mouse(kbc, 0, 0, 5, 0);           /* no wheel on ID 0 */
    EXPECT_AUX(0x08, 0x00, 0x00);           /* only the buttons' release */
    expect_empty();
    /* 2:1 scaling: 4 -> 6, 2 -> 1 (the reference's table). */
    aux_send(0xE7);
    EXPECT_AUX(0xFA);
    i8042_mouse(kbc, 4, -2, 0, 0);
    EXPECT_AUX(0x08, 0x06, 0x01);
    expect_empty();
}

Test(i8042, mouse_status_and_remote_read)
{
    mouse_enable();
    aux_send(0xE7);
    aux_send(0xE8);
    aux_send(0x03);
    aux_send(0xF3);
    aux_send(40);
    EXPECT_AUX(0xFA, 0xFA, 0xFA, 0xFA, 0xFA);
    i8042_mouse(kbc, 0, 0, 0, PS2_MOUSE_MIDDLE);
    EXPECT_AUX(0x0C, 0x00, 0x00);
    aux_send(0xE9);         /* enabled|2:1, middle (bit 1); res 3; 40/s */
    EXPECT_AUX(0xFA, 0x32, 0x03, 40);

    /* Remote mode: no stream packets; Read Data reports and clears the
     * counters, with the overflow bit when they exceed 9 bits. */
    aux_send(0xF0);
    EXPECT_AUX(0xFA);
    i8042_mouse(kbc, 300, 10, 0, 0);        /* right 300, down 10 */
    expect_empty();
    aux_send(0xEB);                         /* 08|40 x ovf|20 y neg */
    EXPECT_AUX(0xFA, 0x68, 0xFF, 0xF6);
    aux_send(0xEB);
    EXPECT_AUX(0xFA, 0x08, 0x00, 0x00);
    aux_send(0xEA);                         /* back to stream mode */
    EXPECT_AUX(0xFA);
    /* Wrap mode echoes until EC. */
    aux_send(0xEE);
    aux_send(0x42);
    aux_send(0xEC);
    EXPECT_AUX(0xFA, 0x42, 0xFA);
    aux_send(0xD0);                         /* not a command */
    EXPECT_AUX(0xFE);
    expect_empty();
}

/* Sum the packets waiting, checking each one's always-1 bit. */
static void sum_packets(int *dx, int *dy, int *packets)
{
    *dx = *dy = *packets = 0;
    while (status() & I8042_STR_OBF) {
        uint8_t b0 = inb(0x60), x = inb(0x60), y = inb(0x60);
        cr_assert(b0 & 0x08, "packet out of step");
        cr_assert_eq(b0 & 0xC0, 0, "overflow in a stream packet");
        *dx += x - ((b0 & 0x10) ? 256 : 0);
        *dy += y - ((b0 & 0x20) ? 256 : 0);
        ++*packets;
        cr_assert_lt(*packets, 1000);
    }
}

Test(i8042, mouse_movement_never_lost)
{
    int dx, dy, packets;

    mouse_enable();
    /* One big move is cut into packets within the 9-bit range. */
    i8042_mouse(kbc, 600, -700, 0, 0);
    sum_packets(&dx, &dy, &packets);
    cr_assert_eq(dx, 600);
    cr_assert_eq(dy, 700);
    cr_assert_eq(packets, 3);               /* 255+255+90, 255+255+190 */

    /* With the aux port off the 16-byte queue fills (5 packets) and the
     * rest accumulates; all of it arrives once the port is back on. */
    cmd(0xA7);
    for (int i = 0; i < 100; i++)
        i8042_mouse(kbc, 7, 3, 0, 0);
    expect_empty();
    cmd(0xA8);
    sum_packets(&dx, &dy, &packets);
    cr_assert_eq(dx, 700);
    cr_assert_eq(dy, -300);
    cr_assert_eq(packets, 8);               /* 5 queued + 3 to drain 700 */
}

/* ---- overflow ------------------------------------------------------------------ */

Test(i8042, keyboard_buffer_overrun)
{
    /* Translation off, keyboard clock off: keys pile up in the 16-byte
     * buffer.  A tap is 3 bytes (make, F0, code), so five fit (15 bytes);
     * the sixth make fills the 16th place, its break does not fit and the
     * overrun code 00 takes the 17th; later keys are lost without a
     * second overrun code. */
    write_ctr(I8042_CTR_KBDDIS);
    static const unsigned keys[] = { KEY_A, KEY_S, KEY_D, KEY_F, KEY_G,
                                     KEY_H, KEY_J, KEY_K };
    for (unsigned i = 0; i < 8; i++)
        tap(keys[i]);
    expect_empty();
    write_ctr(0);
    EXPECT_KBD(0x1C, 0xF0, 0x1C, 0x1B, 0xF0, 0x1B, 0x23, 0xF0, 0x23,
               0x2B, 0xF0, 0x2B, 0x34, 0xF0, 0x34,
               0x33,            /* H's make fits, its break does not */
               0x00);
    expect_empty();
    tap(KEY_L);                     /* room again */
    EXPECT_KBD(0x4B, 0xF0, 0x4B);

    /* In set 1 (here through translation) the overrun code is FF. */
    write_ctr(I8042_CTR_KBDDIS | I8042_CTR_XLATE);
    for (unsigned i = 0; i < 20; i++)
        tap(KEY_A);
    write_ctr(I8042_CTR_XLATE);
    for (int i = 0; i < 5; i++)
        EXPECT_KBD(0x1E, 0x9E);
    EXPECT_KBD(0x1E, 0xFF);
    expect_empty();

    /* Commands nobody answers: replies beyond the device's room are
     * dropped (logged), never written past the queue: one in the output
     * buffer plus a full ring. */
    for (int i = 0; i < 100; i++)
        kbd_send(0xEE);
    int n = flush();
    cr_assert_eq(n, PS2_RING_SIZE + 1);
    expect_empty();
}

/* ---- state ------------------------------------------------------------------- */

Test(i8042, state_round_trip_with_bytes_pending)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;

    write_ctr(I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
    aux_send(0xF4);
    EXPECT_AUX(0xFA);
    tap(KEY_UP);                    /* E0 48 E0 C8, through F0 */
    i8042_mouse(kbc, -3, 0, 0, 0);
    kbd_send(0xF0);                 /* a command waiting for its option */
    cmd(0xD1);                      /* and a controller one for its data */
    cr_assert_eq(irq1.level, 1);
    cr_assert_eq(state_save(&i8042_state_desc, &kbc->s, &buf), 0);

    /* A second machine: load, and it must say the same things. */
    AddressSpace io2;
    I8042 *k2;
    Line l1 = {0}, l12 = {0};
    Board b2 = {0};
    I8042Hooks h2 = { on_a20, on_reset, &b2 };
    as_init(&io2, "io2", 1 << 16);
    cr_assert_eq(i8042_new(&io2, irq_line(line_set, &l1, 1),
                           irq_line(line_set, &l12, 12), &h2, &k2), 0);
    cr_assert_eq(state_load(&i8042_state_desc, &k2->s, k2, buf.data,
                            buf.len, &pos, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(pos, buf.len);
    cr_assert_eq(l1.level, 1);      /* post_load re-raised IRQ1 */
    cr_assert_eq(l12.level, 0);
    cr_assert_eq(b2.a20_calls, 1);
    cr_assert(b2.a20);

    for (int i = 0; i < 20; i++) {
        uint8_t st = status();
        cr_assert_eq((uint8_t)as_read(&io2, 0x64, 1), st, "status %d", i);
        if (!(st & I8042_STR_OBF))
            break;
        cr_assert_eq((uint8_t)as_read(&io2, 0x60, 1), inb(0x60), "byte %d",
                     i);
        cr_assert_eq(l1.level, irq1.level);
        cr_assert_eq(l12.level, irq12.level);
    }
    /* The pending D1 and the keyboard's pending F0 survived too. */
    as_write(&io2, 0x60, 0xDD, 1);
    cr_assert_eq(b2.a20, false);
    as_write(&io2, 0x60, 0x00, 1);
    cr_assert_eq((uint8_t)as_read(&io2, 0x60, 1), 0xFA);
    cr_assert_eq((uint8_t)as_read(&io2, 0x60, 1), 0x41);   /* set 2 */

    i8042_free(k2);
    as_destroy(&io2);
    statebuf_free(&buf);
}

Test(i8042, load_rejects_bad_queue)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;
    I8042State bad = kbc->s;

    tap(KEY_A);
    bad.kbd.q.count = 200;
    cr_assert_eq(state_save(&i8042_state_desc, &bad, &buf), 0);
    cr_assert_neq(state_load(&i8042_state_desc, &kbc->s, kbc, buf.data,
                             buf.len, &pos, err, sizeof(err)), 0);
    EXPECT_KBD(0x1E, 0x9E);         /* the live state is untouched */
    statebuf_free(&buf);
}

Test(i8042, ports_taken)
{
    I8042 *k2 = (I8042 *)1;

    cr_assert_eq(i8042_new(&io, (IrqLine){0}, (IrqLine){0}, NULL, &k2),
                 -EEXIST);
    cr_assert_null(k2);
}

/* Random port traffic and host input (fixed seed): nothing may crash or
 * trip the sanitizers, the status bits stay coherent, and a reset always
 * brings back a working keyboard. */
Test(i8042, random_traffic_is_harmless)
{
    uint32_t x = 12345;

    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        switch (r & 7) {
        case 0: outb(0x64, (uint8_t)(r >> 3)); break;
        case 1: case 2: outb(0x60, (uint8_t)(r >> 3)); break;
        case 3: inb(0x60); break;
        case 4: key((r >> 3) % 260, (r >> 12) & 1); break;
        case 5: i8042_mouse(kbc, (int)((r >> 3) & 0x3ff) - 512,
                            (int)((r >> 13) & 0x3ff) - 512,
                            (int)((r >> 23) & 7) - 4, (r >> 26) & 0x1f);
            break;
        default: {
            uint8_t st = status();
            cr_assert(!(st & I8042_STR_AUXB) || (st & I8042_STR_OBF));
            cr_assert_eq(irq1.level, (st & I8042_STR_OBF) &&
                         !(st & I8042_STR_AUXB) &&
                         (kbc->s.ram[0] & I8042_CTR_KBDINT));
            break;
        }
        }
    }
    i8042_reset(kbc);
    cr_assert_eq(irq1.level, 0);
    cr_assert_eq(irq12.level, 0);
    tap(KEY_A);
    EXPECT_KBD(0x1E, 0x9E);
    expect_empty();
}

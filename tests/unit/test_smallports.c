/* Unit tests for the small port devices: hw/debugcon.c, hw/debug_exit.c,
 * hw/port92.c and hw/port80.c, driven through the I/O address space.
 *
 * Expectations: QEMU's documented isa-debugcon readback (0xE9) and
 * isa-debug-exit status ((v << 1) | 1); the PS/2 System Control Port A
 * bits (1 = A20, 0 = reset on a rising edge).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "hw/debug_exit.h"
#include "hw/debugcon.h"
#include "hw/port80.h"
#include "hw/port92.h"
#include "machine/state.h"

static AddressSpace io;

static void setup(void)
{
    as_init(&io, "io", 1u << 16);
}

static void teardown(void)
{
    as_destroy(&io);
}

TestSuite(debugcon, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(debug_exit, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(port92, .init = setup, .fini = teardown, .timeout = 10);
TestSuite(port80, .init = setup, .fini = teardown, .timeout = 10);

/* ---- debugcon ----------------------------------------------------------- */

typedef struct Rec {
    CharBackend cb;
    char out[256];
    size_t len;
} Rec;

static void rec_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    Rec *r = (Rec *)cb;

    memcpy(r->out + r->len, buf, len);
    r->len += len;
}

Test(debugcon, both_ports_write_to_the_backend)
{
    Rec r = { .cb = { .write = rec_write, .name = "rec" } };
    Debugcon *d = debugcon_new(&io, &r.cb);

    cr_assert_not_null(d);
    as_write(&io, 0xe9, 'B', 1);
    as_write(&io, 0x402, 'i', 1);
    as_write(&io, 0x402, 'o', 1);
    as_write(&io, 0xe9, '\n', 1);
    cr_assert_eq(r.len, 4);
    cr_assert_arr_eq(r.out, "Bio\n", 4);
    debugcon_free(d);
}

Test(debugcon, reads_back_0xe9_on_both_ports)
{
    Debugcon *d = debugcon_new(&io, NULL);

    cr_assert_not_null(d);
    cr_assert_eq(as_read(&io, 0xe9, 1), 0xe9);
    cr_assert_eq(as_read(&io, 0x402, 1), 0xe9, "SeaBIOS checks this");
    as_write(&io, 0x402, 'x', 1);      /* no backend: dropped */
    cr_assert_eq(as_read(&io, 0x403, 1), 0xff, "one port, not a range");
    debugcon_free(d);
    cr_assert_eq(as_read(&io, 0x402, 1), 0xff, "unmapped after free");
    cr_assert_eq(as_read(&io, 0xe9, 1), 0xff);
}

Test(debugcon, refuses_taken_ports_and_leaves_nothing_behind)
{
    static const MemOps none = {0};

    cr_assert_eq(as_map_io(&io, "other", 0x402, 1, &none, NULL), 0);
    cr_assert_null(debugcon_new(&io, NULL));
    cr_assert_eq(as_lookup(&io, 0xe9), NULL, "0xE9 was given back");
}

/* ---- isa-debug-exit -------------------------------------------------------- */

typedef struct ExitRec {
    int calls;
    int status;
} ExitRec;

static void on_exit_request(void *opaque, int status)
{
    ExitRec *e = opaque;

    e->calls++;
    e->status = status;
}

Test(debug_exit, status_is_value_shifted_left_or_one)
{
    ExitRec e = {0};
    DebugExit *d = debug_exit_new(&io, 0xf4, 4, on_exit_request, &e);

    cr_assert_not_null(d);
    as_write(&io, 0xf4, 0x00, 1);
    cr_assert_eq(e.calls, 1);
    cr_assert_eq(e.status, 1);
    as_write(&io, 0xf4, 0x10, 1);
    cr_assert_eq(e.status, 0x21);
    as_write(&io, 0xf4, 0x31, 4);      /* outl, as kvm-unit-tests do */
    cr_assert_eq(e.status, 0x63);
    as_write(&io, 0xf4, 0x1234, 2);
    cr_assert_eq(e.status, 0x2469);
    cr_assert_eq(e.calls, 4);
    cr_assert_eq(as_read(&io, 0xf4, 1), 0);
    debug_exit_free(d);
    cr_assert_eq(as_read(&io, 0xf4, 1), 0xff);
}

Test(debug_exit, one_byte_port)
{
    ExitRec e = {0};
    DebugExit *d = debug_exit_new(&io, 0xf4, 1, on_exit_request, &e);

    cr_assert_not_null(d);
    cr_assert_eq(as_read(&io, 0xf5, 1), 0xff, "only 0xF4 is decoded");
    as_write(&io, 0xf4, 0x02, 1);
    cr_assert_eq(e.status, 5);
    debug_exit_free(d);
}

Test(debug_exit, bad_size_or_taken_port)
{
    ExitRec e = {0};

    cr_assert_null(debug_exit_new(&io, 0xf4, 0, on_exit_request, &e));
    cr_assert_null(debug_exit_new(&io, 0xf4, 5, on_exit_request, &e));
    DebugExit *d = debug_exit_new(&io, 0xf4, 4, on_exit_request, &e);
    cr_assert_null(debug_exit_new(&io, 0xf6, 1, on_exit_request, &e));
    debug_exit_free(d);
    cr_assert_eq(e.calls, 0);
}

/* ---- port 0x92 --------------------------------------------------------------- */

typedef struct BoardRec {
    int a20_calls, a20;
    int resets;
} BoardRec;

static void board_a20(void *opaque, bool on)
{
    BoardRec *b = opaque;

    b->a20_calls++;
    b->a20 = on;
}

static void board_reset(void *opaque)
{
    ((BoardRec *)opaque)->resets++;
}

static Port92 *new_port92(BoardRec *b)
{
    Port92Hooks hooks = { .set_a20 = board_a20, .reset = board_reset,
                          .opaque = b };
    Port92 *p = port92_new(&io, &hooks);

    cr_assert_not_null(p);
    return p;
}

Test(port92, fast_a20)
{
    BoardRec b = {0};
    Port92 *p = new_port92(&b);

    cr_assert_eq(as_read(&io, 0x92, 1), 0x00);
    as_write(&io, 0x92, 0x02, 1);
    cr_assert_eq(b.a20_calls, 1);
    cr_assert_eq(b.a20, 1);
    cr_assert_eq(as_read(&io, 0x92, 1), 0x02);
    as_write(&io, 0x92, 0x02, 1);
    cr_assert_eq(b.a20_calls, 1, "no change, no call");
    as_write(&io, 0x92, 0x00, 1);
    cr_assert_eq(b.a20_calls, 2);
    cr_assert_eq(b.a20, 0);
    cr_assert_eq(b.resets, 0);
    port92_free(p);
}

Test(port92, fast_reset_on_rising_edge)
{
    BoardRec b = {0};
    Port92 *p = new_port92(&b);

    as_write(&io, 0x92, 0x03, 1);
    cr_assert_eq(b.resets, 1);
    cr_assert_eq(b.a20, 1);
    as_write(&io, 0x92, 0x03, 1);
    cr_assert_eq(b.resets, 1, "bit 0 still set: no new edge");
    as_write(&io, 0x92, 0x02, 1);
    as_write(&io, 0x92, 0x03, 1);
    cr_assert_eq(b.resets, 2);
    cr_assert_eq(as_read(&io, 0x92, 1), 0x03);
    port92_reset(p);                  /* what the board does on reset */
    cr_assert_eq(as_read(&io, 0x92, 1), 0x00);
    cr_assert_eq(b.a20, 0, "reset reports A20 off");
    as_write(&io, 0x92, 0x01, 1);
    cr_assert_eq(b.resets, 3, "a new edge after the reset cleared bit 0");
    port92_free(p);
}

Test(port92, other_bits_read_back)
{
    BoardRec b = {0};
    Port92 *p = new_port92(&b);

    as_write(&io, 0x92, 0xc8, 1);
    cr_assert_eq(as_read(&io, 0x92, 1), 0xc8);
    cr_assert_eq(b.a20_calls + b.resets, 0);
    port92_free(p);
}

Test(port92, state_round_trip_reports_a20)
{
    BoardRec b = {0}, b2 = {0};
    Port92 *p = new_port92(&b);
    StateBuf sb = {0};
    size_t pos = 0;
    char err[128];

    as_write(&io, 0x92, 0x02, 1);
    cr_assert_eq(state_save(&port92_state_desc, &p->s, &sb), 0);
    port92_free(p);
    p = new_port92(&b2);
    cr_assert_eq(state_load(&port92_state_desc, &p->s, p, sb.data, sb.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(as_read(&io, 0x92, 1), 0x02);
    cr_assert_eq(b2.a20, 1, "post_load re-announced A20");
    cr_assert_eq(b2.resets, 0);
    statebuf_free(&sb);
    port92_free(p);
}

/* ---- port 0x80 ----------------------------------------------------------------- */

Test(port80, remembers_the_last_code)
{
    Port80 *p = port80_new(&io);
    StateBuf sb = {0};
    size_t pos = 0;
    char err[128];

    cr_assert_not_null(p);
    cr_assert_eq(as_read(&io, 0x80, 1), 0x00);
    as_write(&io, 0x80, 0x55, 1);
    as_write(&io, 0x80, 0xa7, 1);
    cr_assert_eq(as_read(&io, 0x80, 1), 0xa7);
    cr_assert_eq(state_save(&port80_state_desc, &p->s, &sb), 0);
    port80_reset(p);
    cr_assert_eq(as_read(&io, 0x80, 1), 0x00);
    cr_assert_eq(state_load(&port80_state_desc, &p->s, p, sb.data, sb.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(as_read(&io, 0x80, 1), 0xa7);
    cr_assert_null(port80_new(&io), "0x80 is taken");
    statebuf_free(&sb);
    port80_free(p);
    cr_assert_eq(as_read(&io, 0x80, 1), 0xff);
}

/* Unit tests for hw/uart16550.c, driven through the I/O ports only.
 *
 * Expected values come from the PC16550D datasheet and from what real
 * drivers do (Linux's 8250 autoconfig and start-up, SeaBIOS's detection),
 * not from the implementation: IIR codes from its interrupt control table,
 * reset values from its reset table, character times computed here in floating point as
 * bits * divisor * 16 / 1.8432 MHz and checked with a margin on either side.
 * Time is a deterministic clock at 1 ns per fake instruction.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "hw/uart16550.h"
#include "machine/state.h"

#define BASE 0x3f8
#define RBR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define US 1000LL
#define MS 1000000LL

typedef struct Rec {
    CharBackend cb;          /* first, so the callback can cast */
    uint8_t out[65536];
    size_t len;
    int dtr, rts, modem_calls;
} Rec;

typedef struct IrqRec {
    int level;
    int raises;
} IrqRec;

static AddressSpace io, io2;
static Clock clk;
static uint64_t icount;
static Rec rec, rec2;
static IrqRec irq, irq2;
static Uart *u;

static void rec_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    Rec *r = (Rec *)cb;

    memcpy(r->out + r->len, buf, len);
    r->len += len;
}

static void rec_modem(CharBackend *cb, int dtr, int rts)
{
    Rec *r = (Rec *)cb;

    r->dtr = dtr;
    r->rts = rts;
    r->modem_calls++;
}

static void irq_set_rec(void *opaque, int n, int level)
{
    IrqRec *r = opaque;

    cr_assert_eq(n, 4);
    if (level && !r->level)
        r->raises++;
    r->level = level;
}

static uint64_t fake_icount(void *opaque)
{
    return icount;
}

static void rec_init(Rec *r)
{
    memset(r, 0, sizeof(*r));
    r->cb.write = rec_write;
    r->cb.set_modem = rec_modem;
    r->cb.name = "recorder";
}

static void setup(void)
{
    icount = 0;
    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    clock_set_icount_source(&clk, fake_icount, NULL);
    as_init(&io, "io", 1u << 16);
    as_init(&io2, "io2", 1u << 16);
    rec_init(&rec);
    rec_init(&rec2);
    irq = (IrqRec){0};
    irq2 = (IrqRec){0};
    u = uart_new(&io, BASE, irq_line(irq_set_rec, &irq, 4), &clk, &rec.cb);
    cr_assert_not_null(u);
}

static void teardown(void)
{
    uart_free(u);
    as_destroy(&io);
    as_destroy(&io2);
}

TestSuite(uart, .init = setup, .fini = teardown, .timeout = 30);

static uint8_t inb_at(AddressSpace *as, unsigned off)
{
    return (uint8_t)as_read(as, BASE + off, 1);
}

static void outb_at(AddressSpace *as, unsigned off, uint8_t v)
{
    as_write(as, BASE + off, v, 1);
}

static uint8_t inb(unsigned off) { return inb_at(&io, off); }
static void outb(unsigned off, uint8_t v) { outb_at(&io, off, v); }

/* Let virtual time pass and fire whatever timers came due. */
static void advance(int64_t ns)
{
    icount += (uint64_t)ns;
    while (clock_run_timers(&clk) > 0) {
    }
}

/* Line time of one character in ns, from first principles. */
static double char_time(double bits, unsigned divisor)
{
    return bits * divisor * 16 * 1e9 / 1843200.0;
}

/* What Linux's 8250 driver and SeaBIOS do: divisor, 8N1, FIFOs. */
static void init_port(unsigned divisor, uint8_t fcr)
{
    outb(LCR, 0x80);
    outb(0, divisor & 0xff);
    outb(1, divisor >> 8);
    outb(LCR, 0x03);
    outb(FCR, fcr);
    outb(MCR, 0x0b);           /* DTR | RTS | OUT2 */
}

static void deliver(const void *buf, size_t len)
{
    cr_assert_eq(uart_receive(u, buf, len), len);
}

/* ---- registers after reset and initialisation --------------------------- */

Test(uart, reset_values)
{
    cr_assert_eq(inb(IER), 0x00);
    cr_assert_eq(inb(IIR), 0x01);
    cr_assert_eq(inb(LCR), 0x00);
    cr_assert_eq(inb(MCR), 0x00);
    cr_assert_eq(inb(LSR), 0x60);
    cr_assert_eq(inb(MSR), 0xb0, "a ready null-modem peer: CTS DSR DCD");
    cr_assert_eq(irq.level, 0);
}

Test(uart, init_like_linux)
{
    outb(LCR, 0x80);
    outb(0, 0x01);
    outb(1, 0x00);
    cr_assert_eq(inb(0), 0x01, "DLL under DLAB");
    cr_assert_eq(inb(1), 0x00, "DLM under DLAB");
    outb(LCR, 0x03);
    cr_assert_eq(inb(LCR), 0x03);
    cr_assert_eq(inb(IER), 0x00, "offset 1 is IER again");
    outb(FCR, 0xc7);
    cr_assert_eq(inb(IIR), 0xc1, "FIFOs enabled, nothing pending");
    outb(IER, 0xff);
    cr_assert_eq(inb(IER), 0x0f, "IER bits 4-7 read 0");
    outb(IER, 0x00);
    outb(SCR, 0x55);
    cr_assert_eq(inb(SCR), 0x55);
    outb(SCR, 0xaa);
    cr_assert_eq(inb(SCR), 0xaa);
    outb(MCR, 0xff);
    cr_assert_eq(inb(MCR), 0x1f, "MCR bits 5-7 read 0 on a 16550A");
    /* Linux's existence test: loopback with RTS and OUT2 reads 0x90. */
    outb(MCR, 0x1a);
    cr_assert_eq(inb(MSR) & 0xf0, 0x90);
    outb(MCR, 0x0b);
    cr_assert_eq(inb(MSR) & 0xf0, 0xb0);
    cr_assert_eq(inb(LSR), 0x60);
}

Test(uart, detected_as_16550a)
{
    outb(FCR, 0x01);
    cr_assert_eq(inb(IIR) >> 6, 3, "16550A: both FIFO bits in IIR");
    /* Linux: with LCR 0xBF a 16650 shows EFR (0) at offset 2. */
    outb(LCR, 0xbf);
    cr_assert_neq(inb(IIR), 0x00);
    /* Linux: the 16750's 64-byte FIFO bit must not stick. */
    outb(LCR, 0x80);
    outb(FCR, 0x21);
    outb(LCR, 0x00);
    cr_assert_eq(inb(IIR) & 0x30, 0x00);
    outb(FCR, 0x00);
    cr_assert_eq(inb(IIR), 0x01, "no FIFO bits with FIFOs off");
}

/* SeaBIOS's detect_serial(): IER=2 reads back, and IIR says THRE. */
Test(uart, seabios_detection)
{
    outb(IER, 0x02);
    cr_assert_eq(inb(IER), 0x02);
    cr_assert_eq(inb(IIR) & 0x3f, 0x02);
    outb(IER, 0x00);
    cr_assert_eq(inb(IIR), 0x01);
}

/* ---- transmitter ----------------------------------------------------------- */

static void send_polled(const char *text)
{
    for (const char *p = text; *p; p++) {
        int spins = 0;
        while (!(inb(LSR) & 0x20)) {
            cr_assert_lt(spins++, 10000, "THRE never came back");
            advance(1 * US);
        }
        outb(0, (uint8_t)*p);
    }
}

Test(uart, transmit_reaches_backend)
{
    init_port(1, 0xc7);
    send_polled("Hello, world\r\n");
    cr_assert_eq(rec.len, 14);
    cr_assert_arr_eq(rec.out, "Hello, world\r\n", 14);
}

Test(uart, thre_and_temt_timing_without_fifo)
{
    double t = char_time(10, 1);

    uart_set_tx_pacing(u, UART_TX_REAL_BAUD);
    init_port(1, 0x00);
    outb(0, 'A');
    cr_assert_eq(rec.len, 1, "the host sees the byte at once");
    cr_assert_eq(inb(LSR) & 0x60, 0x20, "A moved to TSR: THR empty, TEMT 0");
    outb(0, 'B');
    cr_assert_eq(rec.len, 2);
    cr_assert_eq(inb(LSR) & 0x60, 0x00, "B waits in THR");
    advance((int64_t)(t * 0.98));
    cr_assert_eq(inb(LSR) & 0x60, 0x00);
    advance((int64_t)(t * 0.04));
    cr_assert_eq(inb(LSR) & 0x60, 0x20, "A done, B shifting");
    advance((int64_t)(t * 0.94));
    cr_assert_eq(inb(LSR) & 0x60, 0x20);
    advance((int64_t)(t * 0.06));
    cr_assert_eq(inb(LSR) & 0x60, 0x60, "both characters gone");
    cr_assert_arr_eq(rec.out, "AB", 2);
}

/* FIFO interrupt mode: with FIFOs, THRE after a lone byte is delayed about one
 * character time; with two bytes seen at once it comes when the FIFO
 * empties. */
Test(uart, thre_timing_with_fifo)
{
    double t = char_time(10, 1);

    uart_set_tx_pacing(u, UART_TX_REAL_BAUD);
    init_port(1, 0x07);
    outb(0, 'x');
    cr_assert_eq(inb(LSR) & 0x60, 0x00);
    advance((int64_t)(t * 0.98));
    cr_assert_eq(inb(LSR) & 0x60, 0x00);
    advance((int64_t)(t * 0.04));
    cr_assert_eq(inb(LSR) & 0x60, 0x60);

    outb(0, '1');
    outb(0, '2');
    outb(0, '3');
    int64_t t0 = clock_ns(&clk);
    cr_assert_eq(inb(LSR) & 0x60, 0x00);
    icount = (uint64_t)(t0 + (int64_t)(t * 1.02));
    cr_assert_eq(inb(LSR) & 0x60, 0x00, "3 still in the FIFO");
    icount = (uint64_t)(t0 + (int64_t)(t * 2.02));
    cr_assert_eq(inb(LSR) & 0x60, 0x20, "FIFO empty, 3 shifting");
    icount = (uint64_t)(t0 + (int64_t)(t * 3.02));
    cr_assert_eq(inb(LSR) & 0x60, 0x60);
}

Test(uart, real_baud_pacing_follows_divisor)
{
    double t = char_time(10, 12);   /* 9600 baud: 1.0417 ms */

    uart_set_tx_pacing(u, UART_TX_REAL_BAUD);
    init_port(12, 0x00);
    outb(0, 'a');
    int64_t start = clock_ns(&clk);
    while (!(inb(LSR) & 0x40))
        advance(10 * US);
    double took = (double)(clock_ns(&clk) - start);
    cr_assert(took >= t && took < t + 11 * US, "took %.0f ns, want %.0f", took, t);
}

/* The default pacing must not hold a polling console to 9600 baud. */
Test(uart, fast_pacing_keeps_console_fast)
{
    char text[201];

    memset(text, 'z', 200);
    text[200] = 0;
    init_port(12, 0xc7);
    int64_t start = clock_ns(&clk);
    send_polled(text);
    cr_assert_eq(rec.len, 200);
    cr_assert_lt(clock_ns(&clk) - start, 200 * 5 * US,
                 "200 chars took %lld ns", (long long)(clock_ns(&clk) - start));
    /* ... yet THRE still lags a write, as on hardware. */
    advance(10 * US);
    outb(FCR, 0x00);
    outb(0, 'a');
    outb(0, 'b');
    cr_assert_eq(inb(LSR) & 0x60, 0x00);
}

Test(uart, thre_interrupt_rules)
{
    init_port(1, 0x07);
    outb(IER, 0x02);
    cr_assert_eq(irq.level, 1, "ETBEI with THR empty interrupts at once");
    cr_assert_eq(inb(IIR), 0xc2);
    cr_assert_eq(irq.level, 0, "reading IIR that reports THRE clears it");
    cr_assert_eq(inb(IIR), 0xc1);
    outb(IER, 0x02);
    cr_assert_eq(inb(IIR), 0xc2, "rewriting IER re-arms THRE");
    outb(IER, 0x02);
    cr_assert_eq(irq.level, 1);
    outb(0, 'q');
    cr_assert_eq(irq.level, 0, "writing THR clears THRE");
    cr_assert_eq(inb(IIR), 0xc1);
    advance(100 * US);
    cr_assert_eq(irq.level, 1, "the timer raised THRE without any polling");
    cr_assert_eq(inb(IIR), 0xc2);
    cr_assert_eq(inb(IIR), 0xc1);
    outb(IER, 0x00);
    cr_assert_eq(irq.level, 0);
}

/* Filling the FIFO byte by byte must not flicker the line (the THRE delay);
 * a 16450 interrupts as soon as THR moves to the shift register. */
Test(uart, no_thre_glitch_while_filling_fifo)
{
    init_port(1, 0x07);
    outb(IER, 0x02);
    cr_assert_eq(inb(IIR), 0xc2);
    int raises = irq.raises;
    for (int i = 0; i < 16; i++)
        outb(0, (uint8_t)('a' + i));
    cr_assert_eq(irq.raises, raises);
    cr_assert_eq(rec.len, 16);
    advance(1 * MS);
    cr_assert_eq(irq.raises, raises + 1, "one THRE when the FIFO drained");

    outb(FCR, 0x00);
    inb(IIR);
    raises = irq.raises;
    outb(0, 'x');
    cr_assert_eq(irq.raises, raises + 1);
    cr_assert_eq(inb(IIR), 0x02);
}

/* ---- receiver ---------------------------------------------------------------- */

Test(uart, rx_trigger_levels)
{
    static const struct { uint8_t bits; unsigned level; } trig[] = {
        { 0x00, 1 }, { 0x40, 4 }, { 0x80, 8 }, { 0xc0, 14 },
    };
    uint8_t buf[16];

    memset(buf, 'r', sizeof(buf));
    init_port(1, 0x07);
    outb(IER, 0x01);
    for (size_t i = 0; i < 4; i++) {
        outb(FCR, 0x03 | trig[i].bits);
        deliver(buf, trig[i].level - 1);
        cr_assert_eq(inb(IIR), 0xc1, "level %u: below trigger", trig[i].level);
        cr_assert_eq(irq.level, 0);
        deliver(buf, 1);
        cr_assert_eq(inb(IIR), 0xc4, "level %u: at trigger", trig[i].level);
        cr_assert_eq(irq.level, 1);
        cr_assert_eq(inb(RBR), 'r');
        cr_assert_eq(inb(IIR), 0xc1, "level %u: below again", trig[i].level);
        cr_assert_eq(irq.level, 0);
    }
}

Test(uart, rx_without_fifo)
{
    init_port(1, 0x00);
    outb(IER, 0x01);
    deliver("ab", 2);
    cr_assert_eq(inb(IIR), 0x04);
    cr_assert_eq(inb(LSR) & 0x01, 0x01);
    advance(10 * MS);
    cr_assert_eq(inb(IIR), 0x04, "no character timeout without FIFOs");
    cr_assert_eq(inb(RBR), 'a');
    cr_assert_eq(inb(RBR), 'b', "the next byte refilled RBR");
    cr_assert_eq(inb(LSR) & 0x01, 0);
    cr_assert_eq(inb(IIR), 0x01);
    cr_assert_eq(inb(RBR), 'b', "an empty RBR reads the last byte");
}

static void check_timeout(unsigned divisor, uint8_t lcr, double bits)
{
    double four = 4 * char_time(bits, divisor);

    init_port(divisor, 0xc7);
    outb(LCR, lcr);
    outb(IER, 0x01);
    deliver("abc", 3);
    advance((int64_t)(four * 0.98));
    cr_assert_eq(inb(IIR), 0xc1, "before 4 character times");
    cr_assert_eq(irq.level, 0);
    advance((int64_t)(four * 0.04));
    cr_assert_eq(irq.level, 1, "timeout raised the line by itself");
    cr_assert_eq(inb(IIR), 0xcc);
    cr_assert_eq(inb(RBR), 'a');
    cr_assert_eq(inb(IIR), 0xc1, "a read clears the timeout and restarts it");
    cr_assert_eq(irq.level, 0);
    advance((int64_t)(four * 0.98));
    cr_assert_eq(inb(IIR), 0xc1);
    advance((int64_t)(four * 0.04));
    cr_assert_eq(inb(IIR), 0xcc);
    cr_assert_eq(inb(RBR), 'b');
    cr_assert_eq(inb(RBR), 'c');
    advance((int64_t)(four * 3));
    cr_assert_eq(inb(IIR), 0xc1, "no timeout with an empty FIFO");
}

Test(uart, character_timeout_115200_8n1) { check_timeout(1, 0x03, 10); }
Test(uart, character_timeout_9600_8n1) { check_timeout(12, 0x03, 10); }
/* 7 data bits, even parity, 2 stop bits: 1 + 7 + 1 + 2 = 11 bits. */
Test(uart, character_timeout_7e2) { check_timeout(1, 0x1e, 11); }
/* 5 data bits and "2" stop bits means 1.5: 1 + 5 + 1.5 = 7.5 bits. */
Test(uart, character_timeout_5n15) { check_timeout(3, 0x04, 7.5); }

/* Status computed lazily at a read must match what the timers would have
 * done: a looped-back byte arrives at the end of its character, and its
 * timeout counts from there, even if nobody looked in between. */
Test(uart, lazy_status_keeps_exact_times)
{
    double c = char_time(10, 1);

    uart_set_tx_pacing(u, UART_TX_REAL_BAUD);
    init_port(1, 0xc7);
    outb(MCR, 0x10);
    outb(IER, 0x01);
    outb(0, 'k');
    icount = (uint64_t)(5.02 * c);    /* no timers run meanwhile */
    cr_assert_eq(inb(IIR), 0xcc);
    cr_assert_eq(inb(RBR), 'k');
}

Test(uart, character_timeout_restarts_on_new_data)
{
    double four = 4 * char_time(10, 1);

    init_port(1, 0xc7);
    outb(IER, 0x01);
    deliver("a", 1);
    advance((int64_t)(four * 0.7));
    deliver("b", 1);
    advance((int64_t)(four * 0.7));
    cr_assert_eq(inb(IIR), 0xc1, "a new character restarted the count");
    advance((int64_t)(four * 0.4));
    cr_assert_eq(inb(IIR), 0xcc);
}

/* Several sources at once, taken in the IIR priority order; the break is
 * looped back from LCR bit 6 and its BI appears when it reaches the top. */
Test(uart, iir_priority_order)
{
    init_port(1, 0x07);
    outb(MCR, 0x18);             /* loopback, OUT2: CTS and DSR fall */
    outb(0, 'Z');
    advance(100 * US);
    outb(LCR, 0x43);             /* break: one zero character, BI */
    outb(IER, 0x0f);
    cr_assert_eq(irq.level, 0, "loopback disconnects the IRQ output");
    cr_assert_eq(inb(IIR), 0xc4, "data; the break is not on top yet");
    cr_assert_eq(inb(LSR), 0xe1, "DR, THRE, TEMT, error in FIFO");
    cr_assert_eq(inb(RBR), 'Z');
    cr_assert_eq(inb(IIR), 0xc6, "BI reached the top: line status first");
    cr_assert_eq(inb(LSR), 0xf1);
    cr_assert_eq(inb(IIR), 0xc4);
    cr_assert_eq(inb(RBR), 0x00);
    cr_assert_eq(inb(IIR), 0xc2);
    cr_assert_eq(inb(IIR), 0xc0, "THRE cleared by the read: modem status");
    cr_assert_eq(inb(MSR), 0x83, "DCTS DDSR, DCD from OUT2");
    cr_assert_eq(inb(IIR), 0xc1);
    cr_assert_eq(inb(LSR), 0xe0, "bit 7 clears on the LSR read after...");
    cr_assert_eq(inb(LSR), 0x60, "... the last errored byte left the FIFO");
    outb(LCR, 0x03);
}

Test(uart, line_status_outranks_data)
{
    static uint8_t big[UART_PENDING_SIZE + 100];

    init_port(1, 0xc7);
    outb(IER, 0x07);
    cr_assert_eq(uart_receive(u, big, sizeof(big)), UART_PENDING_SIZE + 16);
    cr_assert_eq(inb(IIR), 0xc6);
    cr_assert_eq(inb(LSR) & 0x03, 0x03, "OE and DR");
    cr_assert_eq(inb(IIR), 0xc4);
    cr_assert_eq(inb(LSR) & 0x02, 0, "OE cleared by reading LSR");
}

Test(uart, overrun_in_loopback_with_fifo)
{
    init_port(1, 0x07);
    outb(MCR, 0x10);
    for (int i = 0; i < 16; i++)
        outb(0, (uint8_t)i);
    advance(1 * MS);
    cr_assert_eq(inb(LSR) & 0x03, 0x01, "16 bytes fit");
    outb(0, 0x99);
    advance(1 * MS);
    cr_assert_eq(inb(LSR) & 0x03, 0x03, "the 17th overran");
    cr_assert_eq(inb(LSR) & 0x02, 0x00);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(inb(RBR), i);
    cr_assert_eq(inb(LSR) & 0x01, 0, "the overrun byte never entered");
    cr_assert_eq(rec.len, 0, "loopback output stays inside");
}

Test(uart, overrun_without_fifo_overwrites_rbr)
{
    init_port(1, 0x00);
    outb(MCR, 0x10);
    outb(0, 'a');
    advance(1 * MS);
    outb(0, 'b');
    advance(1 * MS);
    cr_assert_eq(inb(LSR) & 0x03, 0x03);
    cr_assert_eq(inb(RBR), 'b');
}

Test(uart, loopback_modem_lines)
{
    init_port(1, 0x07);
    cr_assert_eq(rec.dtr, 1);
    cr_assert_eq(rec.rts, 1);
    inb(MSR);
    outb(MCR, 0x10);
    cr_assert_eq(rec.dtr + rec.rts, 0, "outputs forced inactive");
    cr_assert_eq(inb(MSR), 0x0b, "CTS DSR DCD fell");
    cr_assert_eq(inb(MSR), 0x00, "deltas clear on read");
    outb(MCR, 0x11);
    cr_assert_eq(inb(MSR), 0x22, "DTR -> DSR");
    outb(MCR, 0x12);
    cr_assert_eq(inb(MSR), 0x13, "RTS -> CTS, DSR fell");
    outb(MCR, 0x14);
    cr_assert_eq(inb(MSR), 0x41, "OUT1 -> RI; no TERI on the leading edge");
    outb(MCR, 0x10);
    cr_assert_eq(inb(MSR), 0x04, "TERI on the trailing edge");
    outb(MCR, 0x18);
    cr_assert_eq(inb(MSR), 0x88, "OUT2 -> DCD");
    outb(IER, 0x08);
    cr_assert_eq(inb(IIR), 0xc1);
    outb(MCR, 0x19);
    cr_assert_eq(inb(IIR), 0xc0, "modem status interrupt");
    cr_assert_eq(inb(MSR), 0xa2);
    cr_assert_eq(inb(IIR), 0xc1);
    outb(MCR, 0x01);
    cr_assert_eq(inb(MSR), 0xb1, "back to the host's lines: CTS rose");
    cr_assert_eq(rec.dtr, 1);
    cr_assert_eq(rec.rts, 0);
}

Test(uart, loopback_data_and_held_host_input)
{
    init_port(1, 0x07);
    outb(MCR, 0x10);
    deliver("hi", 2);
    cr_assert_eq(inb(LSR) & 0x01, 0, "the receive pin is disconnected");
    outb(0, 'L');
    advance(100 * US);
    cr_assert_eq(inb(RBR), 'L');
    cr_assert_eq(rec.len, 0);
    outb(MCR, 0x0b);
    cr_assert_eq(inb(RBR), 'h', "held host bytes arrive after loopback");
    cr_assert_eq(inb(RBR), 'i');
}

Test(uart, out2_gates_the_irq)
{
    init_port(1, 0x00);
    outb(MCR, 0x03);
    outb(IER, 0x01);
    deliver("x", 1);
    cr_assert_eq(inb(IIR), 0x04);
    cr_assert_eq(irq.level, 0, "OUT2 off: the PIC sees nothing");
    outb(MCR, 0x0b);
    cr_assert_eq(irq.level, 1);
    outb(MCR, 0x1b);
    cr_assert_eq(irq.level, 0, "loopback forces OUT2 inactive");
    outb(MCR, 0x0b);
    cr_assert_eq(irq.level, 1);
    inb(RBR);
    cr_assert_eq(irq.level, 0);
}

Test(uart, fifo_reset_and_pending_refill)
{
    uint8_t buf[20];

    for (int i = 0; i < 20; i++)
        buf[i] = (uint8_t)i;
    init_port(1, 0x07);
    deliver(buf, 20);
    outb(FCR, 0x03);            /* drop the 16 in the FIFO */
    for (int i = 16; i < 20; i++)
        cr_assert_eq(inb(RBR), i, "bytes still on the wire survive");
    cr_assert_eq(inb(LSR) & 0x01, 0);

    uart_set_tx_pacing(u, UART_TX_REAL_BAUD);
    for (int i = 0; i < 5; i++)
        outb(0, 'a');
    cr_assert_eq(inb(LSR) & 0x60, 0x00);
    outb(FCR, 0x05);
    cr_assert_eq(inb(LSR) & 0x60, 0x20, "XMIT FIFO cleared, TSR busy");
}

static void read_all_polled(size_t n, uint8_t (*pattern)(size_t))
{
    size_t got = 0;
    int idle = 0;

    while (got < n) {
        if (inb(LSR) & 0x01) {
            uint8_t b = inb(RBR);
            cr_assert_eq(b, pattern(got), "byte %zu", got);
            got++;
            idle = 0;
            if (got % 97 == 0)
                advance(50 * US);    /* a slow guest */
        } else {
            cr_assert_lt(idle++, 100, "stalled after %zu bytes", got);
            advance(100 * US);
        }
    }
    cr_assert_eq(inb(LSR) & 0x01, 0);
}

static uint8_t pattern5000(size_t i)
{
    return (uint8_t)(i * 7 + i / 256 + 3);
}

static void check_5000(uint8_t fcr)
{
    static uint8_t buf[5000];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = pattern5000(i);
    init_port(1, fcr);
    deliver(buf, sizeof(buf));
    cr_assert_lt(uart_rx_space(u), UART_PENDING_SIZE);
    read_all_polled(sizeof(buf), pattern5000);
    cr_assert_eq(uart_rx_space(u), UART_PENDING_SIZE);
}

Test(uart, pending_5000_bytes_fifo) { check_5000(0xc7); }
Test(uart, pending_5000_bytes_no_fifo) { check_5000(0x00); }

/* The same burst read the way Linux does: on RDA/timeout interrupts. */
Test(uart, pending_5000_bytes_interrupt_driven)
{
    static uint8_t buf[5000];
    size_t got = 0;
    int idle = 0;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = pattern5000(i);
    init_port(1, 0x87);          /* trigger 8, as Linux sets a 16550A */
    outb(IER, 0x05);
    deliver(buf, sizeof(buf));
    while (got < sizeof(buf)) {
        if (!irq.level) {
            cr_assert_lt(idle++, 100, "no interrupt after %zu bytes", got);
            advance(100 * US);
            continue;
        }
        idle = 0;
        uint8_t iir = inb(IIR);
        cr_assert(iir == 0xc4 || iir == 0xcc, "IIR 0x%02x", iir);
        for (int n = 0; n < 256 && (inb(LSR) & 0x01); n++)
            cr_assert_eq(inb(RBR), pattern5000(got++));
    }
    cr_assert_eq(got, sizeof(buf));
}

Test(uart, overflow_of_pending_is_reported)
{
    static uint8_t buf[9000];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = pattern5000(i);
    init_port(1, 0xc7);
    size_t took = uart_receive(u, buf, sizeof(buf));
    cr_assert_eq(took, UART_PENDING_SIZE + 16, "the buffer and the FIFO");
    cr_assert_eq(uart_rx_space(u), 0);
    cr_assert_eq(inb(LSR) & 0x02, 0x02);
    read_all_polled(took, pattern5000);
}

/* ---- life cycle and state --------------------------------------------------- */

Test(uart, reset_keeps_divisor_and_pending)
{
    init_port(3, 0xc7);
    outb(IER, 0x0f);
    outb(SCR, 0x5a);
    uint8_t buf[20];
    memset(buf, 'p', sizeof(buf));
    deliver(buf, 20);
    uart_reset(u);
    cr_assert_eq(inb(IER), 0x00);
    cr_assert_eq(inb(IIR), 0x01);
    cr_assert_eq(inb(LCR), 0x00);
    cr_assert_eq(inb(MCR), 0x00);
    cr_assert_eq(inb(MSR), 0xb0);
    cr_assert_eq(irq.level, 0);
    outb(LCR, 0x80);
    cr_assert_eq(inb(0), 3, "the divisor latch is not reset");
    outb(LCR, 0x00);
    cr_assert_eq(inb(SCR), 0x5a);
    cr_assert_eq(inb(LSR), 0x61, "FIFO cleared; a pending byte refilled RBR");
    cr_assert_eq(inb(RBR), 'p');
}

Test(uart, ports_are_exclusive)
{
    cr_assert_null(uart_new(&io, BASE + 4, (IrqLine){0}, &clk, NULL));
    Uart *other = uart_new(&io, 0x2f8, (IrqLine){0}, &clk, NULL);
    cr_assert_not_null(other);
    as_write(&io, 0x2f8, 'n', 1);    /* no backend: dropped quietly */
    uart_free(other);
    cr_assert_eq(as_read(&io, 0x2fd, 1), 0xff, "unmapped after free");
}

static Uart *twin(void)
{
    Uart *v = uart_new(&io2, BASE, irq_line(irq_set_rec, &irq2, 4), &clk,
                       &rec2.cb);
    cr_assert_not_null(v);
    uart_set_tx_pacing(v, UART_TX_REAL_BAUD);
    return v;
}

Test(uart, save_load_mid_transfer)
{
    static uint8_t buf[300];
    StateBuf sb = {0};
    size_t pos = 0;
    char err[200];

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = pattern5000(i);
    uart_set_tx_pacing(u, UART_TX_REAL_BAUD);
    init_port(1, 0x87);
    outb(IER, 0x0f);
    deliver(buf, sizeof(buf));
    for (int i = 0; i < 20; i++)
        inb(RBR);
    for (int i = 0; i < 5; i++)
        outb(0, (uint8_t)('0' + i));
    advance(50 * US);                /* in the middle of a character */

    cr_assert_eq(state_save(&uart_state_desc, &u->s, &sb), 0);
    Uart *v = twin();
    cr_assert_eq(state_load(&uart_state_desc, &v->s, v, sb.data, sb.len, &pos,
                            err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(pos, sb.len);
    cr_assert_eq(state_hash(&uart_state_desc, &v->s),
                 state_hash(&uart_state_desc, &u->s));
    cr_assert_eq(irq2.level, irq.level, "post_load drove the line");
    cr_assert_eq(rec2.dtr, 1, "post_load told the backend DTR/RTS");

    /* Both run on, in lockstep: same line status at every step, same
     * bytes, and the copy never re-sends what the original already sent. */
    size_t got = 20;
    for (int step = 0; step < 2000 && got < sizeof(buf); step++) {
        uint8_t a = inb_at(&io, LSR), b = inb_at(&io2, LSR);
        cr_assert_eq(a, b, "step %d: LSR 0x%02x vs 0x%02x", step, a, b);
        cr_assert_eq(inb_at(&io, IIR), inb_at(&io2, IIR));
        cr_assert_eq(irq.level, irq2.level);
        if (a & 0x01) {
            uint8_t x = inb_at(&io, RBR), y = inb_at(&io2, RBR);
            cr_assert_eq(x, pattern5000(got));
            cr_assert_eq(y, x);
            got++;
        }
        advance(7 * US);
    }
    cr_assert_eq(got, sizeof(buf));
    cr_assert_eq(inb_at(&io2, LSR) & 0x60, 0x60);
    cr_assert_eq(rec2.len, 0);
    cr_assert_eq(rec.len, 5);
    statebuf_free(&sb);
    uart_free(v);
}

Test(uart, corrupt_state_is_refused)
{
    StateBuf sb = {0};
    size_t pos = 0;
    char err[200];
    UartState bad = u->s;

    bad.rx_count = 17;
    cr_assert_eq(state_save(&uart_state_desc, &bad, &sb), 0);
    Uart *v = twin();
    uint64_t before = state_hash(&uart_state_desc, &v->s);
    cr_assert_eq(state_load(&uart_state_desc, &v->s, v, sb.data, sb.len, &pos,
                            err, sizeof(err)), -EINVAL);
    cr_assert_eq(state_hash(&uart_state_desc, &v->s), before);
    cr_assert_eq(pos, 0);
    statebuf_free(&sb);
    uart_free(v);
}

/* The 16550A UART, after the National Semiconductor PC16550D datasheet
 * ("PC16550D Universal Asynchronous Receiver/Transmitter with FIFOs",
 * reissued by TI as SNLS378).  Citations below name the
 * datasheet's register descriptions and its "FIFO Interrupt Mode
 * Operation" section; see hw/uart16550.h for the model in one paragraph.
 *
 * Time.  The line runs in virtual time: one character is start + data +
 * parity + stop bits at 1.8432 MHz / (16 * divisor).  Every register access
 * first brings the line up to clock_ns() ("catch up"), so a guest that
 * polls LSR sees THRE/TEMT change at the right instant even though the
 * board fires timers only between CPU slices; the two timers exist only to
 * raise the interrupt line when nothing is polling.
 *
 * Not modelled: parity and framing errors (host bytes arrive intact; the
 * only receive error is a break looped back from LCR bit 6), the word
 * length mask (a guest that never programs LCR, whose reset value selects
 * 5-bit words, still prints readable text, as on QEMU), the RXRDY/TXRDY
 * DMA pins (FCR3 is stored and ignored).
 */
#include "hw/uart16550.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

enum {
    REG_RBR = 0, REG_IER = 1, REG_IIR = 2, REG_LCR = 3,
    REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
    UART_PORTS = 8,
};

enum {
    IER_ERBFI = 0x01, IER_ETBEI = 0x02, IER_ELSI = 0x04, IER_EDSSI = 0x08,

    IIR_NONE = 0x01, IIR_RLS = 0x06, IIR_RDA = 0x04, IIR_CTI = 0x0c,
    IIR_THRE = 0x02, IIR_MS = 0x00, IIR_FIFO = 0xc0,

    FCR_ENABLE = 0x01, FCR_RX_RESET = 0x02, FCR_TX_RESET = 0x04,
    FCR_DMA = 0x08, FCR_TRIGGER = 0xc0,

    LCR_STOP2 = 0x04, LCR_PARITY = 0x08, LCR_BREAK = 0x40, LCR_DLAB = 0x80,

    MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08,
    MCR_LOOP = 0x10, MCR_MASK = 0x1f,

    LSR_DR = 0x01, LSR_OE = 0x02, LSR_PE = 0x04, LSR_FE = 0x08,
    LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_FIFO_ERR = 0x80,
    LSR_INT_ERRS = LSR_OE | LSR_PE | LSR_FE | LSR_BI,

    MSR_DCTS = 0x01, MSR_DDSR = 0x02, MSR_TERI = 0x04, MSR_DDCD = 0x08,
    MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80,
    MSR_DELTAS = 0x0f,
};

/* The host side behaves like a null-modem cable to a ready terminal:
 * CTS, DSR and DCD asserted, so guests with hardware flow control or
 * carrier detect still talk. */
#define UART_HOST_MODEM_IN (MSR_CTS | MSR_DSR | MSR_DCD)
#define UART_XTAL_HZ 1843200u
/* Power-on divisor (the latch is not touched by MR): 9600 baud. */
#define UART_POWER_ON_DIVISOR 12

/* ---- derived values ------------------------------------------------------- */

static bool fifo_on(const UartState *s) { return s->fcr & FCR_ENABLE; }
static bool loopback(const UartState *s) { return s->mcr & MCR_LOOP; }

static unsigned rx_capacity(const UartState *s)
{
    return fifo_on(s) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 6-7: 1, 4, 8 or 14 bytes. */
static unsigned rx_trigger(const UartState *s)
{
    static const uint8_t level[4] = { 1, 4, 8, 14 };
    return level[s->fcr >> 6];
}

static bool thre(const UartState *s)
{
    return s->tx_count == 0 && !s->thre_delayed;
}

static uint8_t lsr_value(const UartState *s)
{
    uint8_t v = s->lsr;

    if (s->rx_count)
        v |= LSR_DR;
    if (thre(s)) {
        v |= LSR_THRE;
        if (!s->tsr_busy)
            v |= LSR_TEMT;
    }
    return v;
}

/* One character on the line in ns: start bit, 5-8 data bits, optional
 * parity, 1, 1.5 (5-bit words) or 2 stop bits; counted in half bits. */
static int64_t char_ns(const UartState *s)
{
    unsigned data = 5 + (s->lcr & 3);
    unsigned half_bits = 2 * (1 + data + !!(s->lcr & LCR_PARITY));
    uint64_t divisor = (uint64_t)s->dll | (uint64_t)s->dlm << 8;

    if (divisor == 0)
        divisor = 65536;   /* the 16-bit counter wraps: the slowest rate */
    half_bits += !(s->lcr & LCR_STOP2) ? 2 : data == 5 ? 3 : 4;
    /* Bit time is 16 * divisor clocks; half a bit is 8 * divisor. */
    uint64_t ns = ((uint64_t)half_bits * divisor * 8u * 1000000000u +
                   UART_XTAL_HZ - 1) / UART_XTAL_HZ;
    return (int64_t)ns;
}

static int64_t tx_char_ns(const Uart *u)
{
    int64_t ns = char_ns(&u->s);

    if (u->pacing == UART_TX_FAST && ns > UART_TX_FAST_CHAR_NS)
        ns = UART_TX_FAST_CHAR_NS;
    return ns;
}

/* The IIR's interrupt control table: the highest-priority source. */
static uint8_t iir_id(const UartState *s)
{
    if ((s->ier & IER_ELSI) && (s->lsr & LSR_INT_ERRS))
        return IIR_RLS;
    if (s->ier & IER_ERBFI) {
        if (fifo_on(s) ? s->rx_count >= rx_trigger(s) : s->rx_count > 0)
            return IIR_RDA;
        if (fifo_on(s) && s->timeout_ipending)
            return IIR_CTI;
    }
    if ((s->ier & IER_ETBEI) && s->thr_ipending)
        return IIR_THRE;
    if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS))
        return IIR_MS;
    return IIR_NONE;
}

/* ---- receiver ------------------------------------------------------------- */

static void rx_clear(UartState *s)
{
    s->rx_head = s->rx_count = 0;
    s->timeout_ipending = 0;
    s->rx_timeout_ns = -1;
    s->lsr &= (uint8_t)~LSR_FIFO_ERR;
}

/* FIFO interrupt mode: the timeout counter restarts whenever a character enters
 * the FIFO or the CPU reads one, as long as the FIFO holds data. */
static void rx_restart_timeout(UartState *s, int64_t now)
{
    if (fifo_on(s) && s->rx_count)
        s->rx_timeout_ns = now + 4 * char_ns(s);
    else
        s->rx_timeout_ns = -1;
}

/* A character completes in the receiver at time `now`.  `err` holds its
 * PE/FE/BI bits, which reach LSR when it is at the top of the FIFO. */
static void rx_push(UartState *s, uint8_t byte, uint8_t err, int64_t now)
{
    if (s->rx_count == rx_capacity(s)) {
        /* LSR bit 1 (OE).  With FIFOs the character in the shift
         * register is lost; without, it overwrites RBR. */
        s->lsr |= LSR_OE;
        LOG_LIMITED(LOG_GUEST_ERRORS, "uart: receiver overrun, byte 0x%02x "
                    "lost\n", fifo_on(s) ? byte : s->rx_fifo[s->rx_head]);
        if (!fifo_on(s)) {
            s->rx_fifo[s->rx_head] = byte;
            s->rx_err[s->rx_head] = err;
            s->lsr |= err;
        }
        rx_restart_timeout(s, now);
        return;
    }
    unsigned i = (s->rx_head + s->rx_count) % UART_FIFO_SIZE;
    s->rx_fifo[i] = byte;
    s->rx_err[i] = err;
    if (++s->rx_count == 1)
        s->lsr |= err;
    if (err && fifo_on(s))
        s->lsr |= LSR_FIFO_ERR;
    rx_restart_timeout(s, now);
}

/* Move host bytes into the FIFO while it has room.  The receive pin is
 * disconnected in loopback (MCR bit 4), so they wait until it ends. */
static void rx_refill(UartState *s, int64_t now)
{
    while (s->pending_count && !loopback(s) && s->rx_count < rx_capacity(s)) {
        rx_push(s, s->pending[s->pending_head], 0, now);
        s->pending_head = (s->pending_head + 1) % UART_PENDING_SIZE;
        s->pending_count--;
    }
}

static uint8_t rx_pop(UartState *s, int64_t now)
{
    if (s->rx_count == 0)
        return s->rbr_last;
    uint8_t v = s->rx_fifo[s->rx_head];
    s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
    s->rx_count--;
    s->rbr_last = v;
    s->timeout_ipending = 0;
    /* The next character's errors are revealed now that it is on top. */
    if (s->rx_count)
        s->lsr |= s->rx_err[s->rx_head];
    rx_refill(s, now);
    rx_restart_timeout(s, now);
    return v;
}

/* ---- transmitter ---------------------------------------------------------- */

/* THRE went from 0 to 1: that is what arms the THRE interrupt. */
static void thre_rose(UartState *s)
{
    s->thr_ipending = 1;
    s->tx_two_seen = 0;
}

/* FIFO interrupt mode: the THRE indication is delayed by about one
 * character time when the FIFO has not held two bytes at once since THRE
 * was last set, so that a driver filling the FIFO byte by byte does not see
 * THRE flicker (and take an interrupt) after its first byte.  The delay
 * ends when the character that emptied the FIFO completes. */
static void tx_fifo_emptied(UartState *s)
{
    if (fifo_on(s) && !s->tx_two_seen)
        s->thre_delayed = 1;
    else
        thre_rose(s);
}

/* Move the oldest THR/FIFO byte into the shift register at time `at`. */
static void tx_start(Uart *u, int64_t at)
{
    UartState *s = &u->s;

    s->tsr = s->tx_fifo[s->tx_head];
    s->tx_head = (s->tx_head + 1) % UART_FIFO_SIZE;
    s->tx_count--;
    s->tsr_busy = 1;
    s->tsr_done_ns = at + tx_char_ns(u);
    if (s->tx_count == 0)
        tx_fifo_emptied(s);
}

/* Bring the line up to `now`: finish every character whose time has come,
 * each at its own completion time so that timing never drifts. */
static void catch_up(Uart *u, int64_t now)
{
    UartState *s = &u->s;

    while (s->tsr_busy && s->tsr_done_ns <= now) {
        int64_t t = s->tsr_done_ns;
        s->tsr_busy = 0;
        s->tsr_done_ns = -1;
        if (loopback(s))
            rx_push(s, s->tsr, 0, t);
        if (s->thre_delayed) {
            s->thre_delayed = 0;
            thre_rose(s);
        }
        if (s->tx_count)
            tx_start(u, t);
    }
    if (s->rx_timeout_ns >= 0 && s->rx_timeout_ns <= now) {
        s->rx_timeout_ns = -1;
        if (fifo_on(s) && s->rx_count)
            s->timeout_ipending = 1;
    }
}

static void thr_write(Uart *u, uint8_t v, int64_t now)
{
    UartState *s = &u->s;

    if (s->tx_count == rx_capacity(s)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "uart 0x%x: THR written while full, "
                    "byte 0x%02x lost\n", u->base,
                    fifo_on(s) ? v : s->tx_fifo[s->tx_head]);
        if (fifo_on(s))
            return;
        s->tx_fifo[s->tx_head] = v;     /* a 16450 overwrites THR */
    } else {
        s->tx_fifo[(s->tx_head + s->tx_count) % UART_FIFO_SIZE] = v;
        s->tx_count++;
    }
    s->thr_ipending = 0;
    s->thre_delayed = 0;
    if (s->tx_count >= 2)
        s->tx_two_seen = 1;
    /* The host sees the byte now; only the guest-visible line status waits
     * for virtual time.  In loopback the output pin is held marking. */
    if (!loopback(s))
        chardev_write(u->backend, &v, 1);
    if (!s->tsr_busy)
        tx_start(u, now);
}

/* ---- modem lines ---------------------------------------------------------- */

/* MCR bit 4: in loopback DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
static uint8_t modem_inputs(const UartState *s)
{
    if (!loopback(s))
        return UART_HOST_MODEM_IN;
    return (uint8_t)(((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
                     ((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
                     ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
                     ((s->mcr & MCR_OUT2) ? MSR_DCD : 0));
}

static void modem_update_inputs(UartState *s)
{
    uint8_t old = s->msr & ~MSR_DELTAS, now = modem_inputs(s);
    uint8_t delta = 0;

    if ((old ^ now) & MSR_CTS)
        delta |= MSR_DCTS;
    if ((old ^ now) & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old & MSR_RI) && !(now & MSR_RI))
        delta |= MSR_TERI;          /* trailing edge only */
    if ((old ^ now) & MSR_DCD)
        delta |= MSR_DDCD;
    s->msr = (uint8_t)((s->msr & MSR_DELTAS) | delta | now);
}

/* Outputs are forced inactive in loopback; tell the backend on change. */
static void modem_sync_outputs(Uart *u, bool force)
{
    int out = loopback(&u->s) ? 0 : u->s.mcr & (MCR_DTR | MCR_RTS);

    if (out == u->modem_out && !force)
        return;
    u->modem_out = out;
    if (u->backend && u->backend->set_modem)
        u->backend->set_modem(u->backend, !!(out & MCR_DTR), !!(out & MCR_RTS));
}

/* ---- interrupt line and timers -------------------------------------------- */

static void sync_timer(Timer *t, int64_t deadline)
{
    if (deadline < 0) {
        timer_del(t);
    } else if (t->deadline_ns != deadline) {
        timer_mod(t, deadline);
    }
}

/* After every change: timers follow the deadlines, the line follows IIR
 * gated by OUT2 (and by loopback, which forces OUT2 inactive). */
static void sync_outputs(Uart *u, bool force)
{
    UartState *s = &u->s;

    sync_timer(&u->tx_timer, s->tsr_busy ? s->tsr_done_ns : -1);
    sync_timer(&u->rx_timer, s->rx_timeout_ns);
    int level = iir_id(s) != IIR_NONE && (s->mcr & MCR_OUT2) && !loopback(s);
    if (level != u->irq_level || force) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

static void uart_timer_cb(void *opaque)
{
    Uart *u = opaque;

    catch_up(u, clock_ns(u->clock));
    sync_outputs(u, false);
}

/* ---- registers ------------------------------------------------------------ */

static void fcr_write(Uart *u, uint8_t v, int64_t now)
{
    UartState *s = &u->s;
    bool was_thre = thre(s);

    if ((v ^ s->fcr) & FCR_ENABLE) {
        /* FCR bit 0: switching modes clears both FIFOs. */
        rx_clear(s);
        s->tx_head = s->tx_count = 0;
        s->thre_delayed = 0;
    }
    if (!(v & FCR_ENABLE)) {
        /* The other bits are only programmed while FCR0 is written 1. */
        s->fcr &= (uint8_t)~FCR_ENABLE;
    } else {
        s->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
        if (v & FCR_RX_RESET)
            rx_clear(s);       /* the shift register is not cleared */
        if (v & FCR_TX_RESET) {
            s->tx_head = s->tx_count = 0;
            s->thre_delayed = 0;
        }
    }
    if (!was_thre && thre(s))
        thre_rose(s);
    rx_refill(s, now);
}

static void mcr_write(Uart *u, uint8_t v, int64_t now)
{
    UartState *s = &u->s;
    uint8_t old = s->mcr;

    if (v & ~MCR_MASK)
        LOG_LIMITED(LOG_GUEST_ERRORS, "uart 0x%x: MCR reserved bits 0x%02x "
                    "written\n", u->base, v & ~MCR_MASK);
    s->mcr = v & MCR_MASK;
    modem_update_inputs(s);
    modem_sync_outputs(u, false);
    if ((old & MCR_LOOP) && !loopback(s))
        rx_refill(s, now);
}

static void lcr_write(Uart *u, uint8_t v, int64_t now)
{
    UartState *s = &u->s;
    uint8_t old = s->lcr;

    s->lcr = v;
    /* A break holds the output spacing; looped back, the receiver loads
     * one zero character flagged BI (LSR bit 4).  Outside loopback
     * the backend has no break signal to carry it. */
    if ((v & LCR_BREAK) && !(old & LCR_BREAK) && loopback(s))
        rx_push(s, 0, LSR_BI, now);
}

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    Uart *u = opaque;
    UartState *s = &u->s;
    int64_t now = clock_ns(u->clock);
    uint8_t v = 0;

    catch_up(u, now);
    switch (offset) {
    case REG_RBR:
        v = (s->lcr & LCR_DLAB) ? s->dll : rx_pop(s, now);
        break;
    case REG_IER:
        v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
        break;
    case REG_IIR:
        v = iir_id(s);
        /* Reading IIR when it reports THRE is what clears THRE. */
        if (v == IIR_THRE)
            s->thr_ipending = 0;
        if (fifo_on(s))
            v |= IIR_FIFO;
        break;
    case REG_LCR:
        v = s->lcr;
        break;
    case REG_MCR:
        v = s->mcr;
        break;
    case REG_LSR: {
        v = lsr_value(s);
        s->lsr &= (uint8_t)~(LSR_INT_ERRS | LSR_FIFO_ERR);
        /* LSR7 stays set while errored characters remain in the FIFO. */
        for (unsigned i = 0; fifo_on(s) && i < s->rx_count; i++) {
            if (s->rx_err[(s->rx_head + i) % UART_FIFO_SIZE])
                s->lsr |= LSR_FIFO_ERR;
        }
        break;
    }
    case REG_MSR:
        v = s->msr;
        s->msr &= (uint8_t)~MSR_DELTAS;
        break;
    case REG_SCR:
        v = s->scr;
        break;
    }
    sync_outputs(u, false);
    return v;
}

static void uart_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    Uart *u = opaque;
    UartState *s = &u->s;
    int64_t now = clock_ns(u->clock);
    uint8_t v = (uint8_t)value;

    catch_up(u, now);
    switch (offset) {
    case REG_RBR:
        if (s->lcr & LCR_DLAB)
            s->dll = v;
        else
            thr_write(u, v, now);
        break;
    case REG_IER:
        if (s->lcr & LCR_DLAB) {
            s->dlm = v;
            break;
        }
        s->ier = v & 0x0f;
        /* Enabling ETBEI while THR is empty raises THRE at once; drivers
         * rely on it to start transmission. */
        if ((s->ier & IER_ETBEI) && thre(s))
            s->thr_ipending = 1;
        else if (!(s->ier & IER_ETBEI))
            s->thr_ipending = 0;
        break;
    case REG_IIR:
        fcr_write(u, v, now);
        break;
    case REG_LCR:
        lcr_write(u, v, now);
        break;
    case REG_MCR:
        mcr_write(u, v, now);
        break;
    case REG_LSR:
    case REG_MSR:
        /* Factory-test writes; the datasheet says not to. */
        LOG_LIMITED(LOG_GUEST_ERRORS, "uart 0x%x: write 0x%02x to read-only "
                    "%s ignored\n", u->base, v,
                    offset == REG_LSR ? "LSR" : "MSR");
        break;
    case REG_SCR:
        s->scr = v;
        break;
    }
    sync_outputs(u, false);
}

static const MemOps uart_ops = {
    .read = uart_read,
    .write = uart_write,
    .max_access = 1,
};

/* ---- life cycle ----------------------------------------------------------- */

void uart_reset(Uart *u)
{
    UartState *s = &u->s;

    /* The reset-functions table: IER, FCR, LCR, MCR and the FIFOs clear,
     * LSR reads THRE | TEMT, MSR's deltas clear. */
    s->ier = s->lcr = s->mcr = s->fcr = 0;
    s->lsr = 0;
    s->msr = UART_HOST_MODEM_IN;
    s->rbr_last = 0;
    s->thr_ipending = 0;
    rx_clear(s);
    s->tx_head = s->tx_count = 0;
    s->tsr_busy = 0;
    s->tsr_done_ns = -1;
    s->thre_delayed = s->tx_two_seen = 0;
    rx_refill(s, clock_ns(u->clock));
    modem_sync_outputs(u, true);
    sync_outputs(u, true);
}

Uart *uart_new(AddressSpace *io, uint16_t base, IrqLine irq, Clock *clock,
               CharBackend *backend)
{
    Uart *u = calloc(1, sizeof(*u));

    if (!u)
        return NULL;
    u->io = io;
    u->base = base;
    u->irq = irq;
    u->clock = clock;
    u->backend = backend;
    u->irq_level = -1;
    u->modem_out = -1;
    u->pacing = UART_TX_FAST;
    u->s.dll = UART_POWER_ON_DIVISOR;
    timer_init(&u->tx_timer, clock, uart_timer_cb, u);
    timer_init(&u->rx_timer, clock, uart_timer_cb, u);
    if (as_map_io(io, "uart16550", base, UART_PORTS, &uart_ops, u) < 0) {
        free(u);
        return NULL;
    }
    uart_reset(u);
    return u;
}

void uart_free(Uart *u)
{
    if (!u)
        return;
    timer_del(&u->tx_timer);
    timer_del(&u->rx_timer);
    as_unmap(u->io, u->base);
    free(u);
}

void uart_set_tx_pacing(Uart *u, UartTxPacing pacing)
{
    u->pacing = pacing;
}

size_t uart_receive(Uart *u, const uint8_t *buf, size_t len)
{
    UartState *s = &u->s;
    int64_t now = clock_ns(u->clock);
    size_t done = 0;

    catch_up(u, now);
    /* Top the FIFO up between chunks so that FIFO room counts too. */
    while (done < len && s->pending_count < UART_PENDING_SIZE) {
        while (done < len && s->pending_count < UART_PENDING_SIZE) {
            s->pending[(s->pending_head + s->pending_count) % UART_PENDING_SIZE] =
                buf[done++];
            s->pending_count++;
        }
        rx_refill(s, now);
    }
    if (done < len) {
        s->host_dropped += len - done;
        s->lsr |= LSR_OE;
        LOG_LIMITED(LOG_GUEST_ERRORS, "uart 0x%x: %zu input bytes dropped, "
                    "the guest is not reading\n", u->base, len - done);
    }
    sync_outputs(u, false);
    return done;
}

size_t uart_rx_space(const Uart *u)
{
    return UART_PENDING_SIZE - u->s.pending_count;
}

/* ---- state ---------------------------------------------------------------- */

static int uart_post_load(void *state, void *opaque)
{
    Uart *u = opaque;
    UartState *s = state;

    /* A corrupt snapshot must not index outside the rings. */
    if (s->rx_head >= UART_FIFO_SIZE || s->rx_count > rx_capacity(s) ||
        s->tx_head >= UART_FIFO_SIZE || s->tx_count > rx_capacity(s) ||
        s->pending_head >= UART_PENDING_SIZE ||
        s->pending_count > UART_PENDING_SIZE || s->mcr & ~MCR_MASK ||
        s->ier & ~0x0f || (s->tsr_busy && s->tsr_done_ns < 0))
        return -EINVAL;
    if (s != &u->s)
        u->s = *s;
    modem_sync_outputs(u, true);
    sync_outputs(u, true);
    return 0;
}

static const StateField uart_fields[] = {
    STATE_U8(UartState, ier),
    STATE_U8(UartState, lcr),
    STATE_U8(UartState, mcr),
    STATE_U8(UartState, scr),
    STATE_U8(UartState, dll),
    STATE_U8(UartState, dlm),
    STATE_U8(UartState, fcr),
    STATE_U8(UartState, lsr),
    STATE_U8(UartState, msr),
    STATE_U8(UartState, rbr_last),
    STATE_U8(UartState, thr_ipending),
    STATE_U8(UartState, timeout_ipending),
    STATE_U8_ARRAY(UartState, rx_fifo),
    STATE_U8_ARRAY(UartState, rx_err),
    STATE_U8(UartState, rx_head),
    STATE_U8(UartState, rx_count),
    STATE_U8_ARRAY(UartState, tx_fifo),
    STATE_U8(UartState, tx_head),
    STATE_U8(UartState, tx_count),
    STATE_U8(UartState, tsr),
    STATE_U8(UartState, tsr_busy),
    STATE_U8(UartState, thre_delayed),
    STATE_U8(UartState, tx_two_seen),
    STATE_I64(UartState, tsr_done_ns),
    STATE_I64(UartState, rx_timeout_ns),
    STATE_U8_ARRAY(UartState, pending),
    STATE_U32(UartState, pending_head),
    STATE_U32(UartState, pending_count),
    STATE_U64(UartState, host_dropped),
    STATE_END
};

const StateDesc uart_state_desc = {
    .name = "uart16550",
    .version = 1,
    .size = sizeof(UartState),
    .fields = uart_fields,
    .post_load = uart_post_load,
};

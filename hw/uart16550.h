/* The 16550A UART (National Semiconductor / TI PC16550D datasheet).
 *
 * Eight I/O ports at `base` (0x3F8, 0x2F8, 0x3E8, 0x2E8 on the PC).  Output
 * goes to a CharBackend as soon as the guest writes THR; line timing (THRE,
 * TEMT, the THRE interrupt, loopback delivery) runs in virtual time from the
 * programmed divisor.  Input arrives from the board through uart_receive()
 * into a host-side pending buffer that is part of the saved state: bytes
 * move from it into the 16-byte receive FIFO as the guest frees space, so a
 * paste larger than the FIFO is never lost to a slow guest.
 *
 * The interrupt output is gated by MCR.OUT2 as on every PC serial card (the
 * card's IRQ driver is enabled by the OUT2 pin), and therefore also silent
 * in loopback mode, where the datasheet forces OUT2 inactive.
 */
#ifndef VIREO_HW_UART16550_H
#define VIREO_HW_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/chardev.h"
#include "machine/clock.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define UART_FIFO_SIZE 16
/* Host bytes waiting for FIFO space: more than one full input event
 * (EVENT_MAX_DATA) plus a typical paste, so the board's flow control
 * (uart_rx_space) has room to work with. */
#define UART_PENDING_SIZE 8192

/* Plain data (contract 3): everything the guest can observe.  DR, THRE and
 * TEMT are derived, not stored; deadlines are virtual ns, -1 when idle. */
typedef struct UartState {
    uint8_t ier, lcr, mcr, scr;
    uint8_t dll, dlm;            /* divisor latch */
    uint8_t fcr;                 /* FIFO enable, DMA mode, trigger bits */
    uint8_t lsr;                 /* latched bits only: OE PE FE BI, bit 7 */
    uint8_t msr;                 /* modem inputs and their delta bits */
    uint8_t rbr_last;            /* what an empty RBR reads as */
    uint8_t thr_ipending;        /* THRE interrupt armed */
    uint8_t timeout_ipending;    /* character timeout indicated */
    uint8_t rx_fifo[UART_FIFO_SIZE];
    uint8_t rx_err[UART_FIFO_SIZE];  /* PE/FE/BI of each received char */
    uint8_t rx_head, rx_count;
    uint8_t tx_fifo[UART_FIFO_SIZE];
    uint8_t tx_head, tx_count;
    uint8_t tsr, tsr_busy;       /* the character being shifted out */
    uint8_t thre_delayed;        /* datasheet's delayed-THRE rule active */
    uint8_t tx_two_seen;         /* two bytes in the XMIT FIFO since THRE */
    int64_t tsr_done_ns;         /* when the TSR character completes */
    int64_t rx_timeout_ns;       /* when the character timeout expires */
    uint8_t pending[UART_PENDING_SIZE];
    uint32_t pending_head, pending_count;
    uint64_t host_dropped;       /* host bytes lost to a full buffer */
} UartState;

typedef enum UartTxPacing {
    /* Each character takes the programmed line time, but at most
     * UART_TX_FAST_CHAR_NS: THRE and TEMT still lag a write as on
     * hardware, yet a console at 9600 baud is not slowed to 960 chars/s. */
    UART_TX_FAST,
    /* The real line time at the programmed baud rate. */
    UART_TX_REAL_BAUD,
} UartTxPacing;

#define UART_TX_FAST_CHAR_NS 1000

typedef struct Uart {
    UartState s;
    /* Runtime links, not saved. */
    AddressSpace *io;
    uint16_t base;
    IrqLine irq;
    Clock *clock;
    CharBackend *backend;
    Timer tx_timer, rx_timer;
    int irq_level;               /* last level driven, -1 unknown */
    int modem_out;               /* last DTR | RTS << 1 told, -1 unknown */
    UartTxPacing pacing;         /* configuration, like the clock mode */
} Uart;

/* Map the eight ports at `base` and reset.  `backend` may be NULL (output
 * is discarded).  Returns NULL if the ports are taken or memory runs out. */
Uart *uart_new(AddressSpace *io, uint16_t base, IrqLine irq, Clock *clock,
               CharBackend *backend);
/* Unmap the ports, stop the timers, free. */
void uart_free(Uart *u);
/* The MR pin: registers to their datasheet reset values.  The divisor,
 * SCR and the host pending buffer (bytes still "on the wire") survive. */
void uart_reset(Uart *u);

/* Record/replay needs the same pacing in both runs: set it from the
 * configuration before the guest runs. */
void uart_set_tx_pacing(Uart *u, UartTxPacing pacing);

/* vCPU thread, from the EVENT_SERIAL_RX sink: queue host bytes for the
 * guest.  Returns how many were accepted; the rest are dropped, counted
 * and reported to the guest as an overrun (LSR.OE). */
size_t uart_receive(Uart *u, const uint8_t *buf, size_t len);
/* Free bytes in the pending buffer, for the board's flow control. */
size_t uart_rx_space(const Uart *u);

/* opaque for state_load is the Uart *. */
extern const StateDesc uart_state_desc;

#endif

/* Host character backends: where -serial and -debugcon bytes go.
 *
 * Each backend implements machine/chardev.h's CharBackend.  The spec is the
 * user's string, in the syntax frontends/options.c accepts:
 *
 *   stdio            the terminal; raw when stdin is a tty, with QEMU's
 *                    escapes (Ctrl-A x quit, Ctrl-A h help, Ctrl-A Ctrl-A
 *                    sends Ctrl-A); Ctrl-C goes to the guest
 *   null, none       output discarded, no input
 *   file:PATH        output only, created or truncated
 *   pty              a new pseudo-terminal, announced on stderr as
 *                    "vireo: char device redirected to /dev/pts/N"
 *   tcp:[HOST]:PORT[,server=on|off][,wait=on|off][,nowait]
 *                    client by default; as a server with wait=on (the
 *                    default) opening blocks until a client connects.
 *                    Output is dropped while nobody is connected
 *   mon:DEV          DEV (no monitor yet)
 *
 * Input: when a queue is given, a reader thread per backend posts what it
 * reads as EVENT_SERIAL_RX events for `unit`, in order, retrying while the
 * queue is full so nothing is lost.  events_post wakes an idle vCPU itself,
 * so no events_kick is needed.  Output never blocks the vCPU for long:
 * sockets and ptys drop what the peer does not take within a bounded wait.
 */
#ifndef VIREO_FRONTENDS_CHARDEV_H
#define VIREO_FRONTENDS_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

#include "machine/chardev.h"
#include "machine/events.h"

/* Open the backend `spec`.  `q` may be NULL for an output-only device (the
 * debug console): then no reader thread runs.  Returns 0, or -errno with
 * one line in err naming the spec ("file:/x/y: No such file or
 * directory"); nothing is left open on failure. */
int chardev_open(const char *spec, EventQueue *q, uint32_t unit,
                 CharBackend **out, char *err, size_t errlen);

/* Stop the reader, restore the terminal, release everything.  NULL is ok. */
void chardev_close(CharBackend *cb);

/* Ctrl-A x on a stdio backend calls `fn` on the reader thread (it should
 * set a flag and return).  Without a hook the process gets SIGTERM, which
 * the board's run loop already treats as "quit". */
typedef void (*ChardevQuitFn)(void *opaque);
void chardev_set_quit_hook(CharBackend *cb, ChardevQuitFn fn, void *opaque);

/* Input flow control.  The reader posts bytes only while its running
 * total of posted bytes stays at or below `limit` (default: unlimited).
 * The board keeps limit = bytes it has handed to the UART + uart_rx_space():
 * everything in flight in the queue then fits in the UART's pending buffer,
 * and a paste of any size reaches the guest whole.  Any thread. */
void chardev_set_input_limit(CharBackend *cb, uint64_t limit);
uint64_t chardev_input_posted(CharBackend *cb);

/* Output bytes a congested or disconnected peer did not take. */
uint64_t chardev_output_dropped(CharBackend *cb);

/* tcp server: the port actually bound (useful with port 0); else -1. */
int chardev_local_port(CharBackend *cb);

#endif

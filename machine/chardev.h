/* Character devices as devices see them.
 *
 * hw/ may include machine/ only, so the UART and the debug console talk to
 * this interface; frontends/ implements it (stdio, file, pty, TCP socket,
 * null).  Output goes straight to the backend.  Input does not: a backend's
 * reader thread posts EVENT_SERIAL_RX events to the input queue (contract
 * 5), and the board hands each byte to the device, so replay sees exactly
 * what the guest saw.
 */
#ifndef VIREO_MACHINE_CHARDEV_H
#define VIREO_MACHINE_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

typedef struct CharBackend CharBackend;

struct CharBackend {
    /* Write guest output; never blocks the vCPU for long (a backend that
     * cannot keep up drops output and counts it, rather than stall). */
    void (*write)(CharBackend *cb, const uint8_t *buf, size_t len);
    /* Stop the reader thread and release the backend. */
    void (*close)(CharBackend *cb);
    /* Modem control from the guest (DTR/RTS), for backends that care. */
    void (*set_modem)(CharBackend *cb, int dtr, int rts);
    /* Flow control: the reader may post input bytes until it has posted
     * `limit` in total; the board raises the limit as the device drains,
     * so a large paste waits in the host instead of being dropped. */
    void (*set_input_limit)(CharBackend *cb, uint64_t limit);
    const char *name;   /* the user's spec, e.g. "file:serial.log" */
};

static inline void chardev_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    if (cb && cb->write)
        cb->write(cb, buf, len);
}

#endif

/* The host input queue (contract 5 of DESIGN.md: one input queue).
 *
 * Every host input that the guest can observe, serial bytes, key presses,
 * mouse moves, received network frames, monitor commands that touch the
 * guest, enters here.  Host threads (the stdin reader, SDL, the network
 * backend) post events at any time; the vCPU thread delivers them at an
 * instruction boundary, stamping each with the retired-instruction count at
 * which the guest sees it.  Record/replay logs exactly that stream.
 */
#ifndef VIREO_MACHINE_EVENTS_H
#define VIREO_MACHINE_EVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum EventKind {
    EVENT_SERIAL_RX,   /* bytes for a character device (unit = port index) */
    EVENT_KEY,         /* a key: data = {keycode (2 bytes LE), down} */
    EVENT_MOUSE,       /* data = {dx, dy, dz (int16 LE each), buttons} */
    EVENT_NET_RX,      /* one frame for NIC `unit` */
    EVENT_MONITOR,     /* a monitor command that touches guest state */
    EVENT_BLOCK_DONE,  /* a disk request finished (machine/block.h) */
    EVENT_KIND_COUNT
} EventKind;

#define EVENT_MAX_DATA 2048   /* a full Ethernet frame fits */

typedef struct InputEvent {
    uint32_t kind;     /* EventKind */
    uint32_t unit;     /* which device of that kind */
    uint64_t icount;   /* stamped at delivery */
    uint32_t len;
    uint8_t data[EVENT_MAX_DATA];
} InputEvent;

typedef void (*EventSink)(void *opaque, const InputEvent *ev);

typedef struct EventQueue {
    pthread_mutex_t lock;
    pthread_cond_t posted;
    InputEvent *ring;       /* pending, not yet delivered */
    size_t capacity, head, count;
    uint64_t dropped;       /* events refused because the ring was full */
    bool kicked;            /* events_kick() since the last events_wait() */
    struct { EventSink fn; void *opaque; } sinks[EVENT_KIND_COUNT];
    /* Sees every delivered event after it is stamped (record/replay). */
    EventSink observer;
    void *observer_opaque;
} EventQueue;

int events_init(EventQueue *q, size_t capacity);
void events_destroy(EventQueue *q);

void events_set_sink(EventQueue *q, EventKind kind, EventSink fn, void *opaque);
void events_set_observer(EventQueue *q, EventSink fn, void *opaque);

/* Any thread.  Returns 0, -E2BIG if len > EVENT_MAX_DATA, or -ENOSPC if
 * the queue is full (the event is dropped and counted; the producer
 * should retry later, as a UART with a full FIFO would). */
int events_post(EventQueue *q, EventKind kind, uint32_t unit,
                const void *data, size_t len);

/* vCPU thread: deliver the events pending at entry, in posting order,
 * stamped with `icount`: first to the observer, then to the sink of their
 * kind (an event whose kind has no sink is discarded).  No lock is held
 * while observer and sinks run, so they may post.  Returns the number
 * delivered. */
int events_deliver(EventQueue *q, uint64_t icount);

bool events_pending(EventQueue *q);

/* vCPU thread, idle: wait up to `timeout_ns` of host time (negative:
 * forever) for a post or a kick.  Returns true if something is pending or
 * a kick arrived (the kick is consumed), false on timeout. */
bool events_wait(EventQueue *q, int64_t timeout_ns);

/* Wake a waiter without posting (e.g. to ask the vCPU loop to stop). */
void events_kick(EventQueue *q);

#endif

/* The host input queue (contract 5 of DESIGN.md: one input queue).
 * See machine/events.h.
 *
 * A fixed ring of InputEvent behind one mutex.  Producers (any host thread)
 * copy their bytes in; the vCPU thread copies each event out under the lock
 * and hands it to the observer and the sink with the lock released, so a
 * sink may post (a loopback, a monitor reply) without deadlocking and slow
 * sinks never stall producers.  The condition variable runs on
 * CLOCK_MONOTONIC so that a timed wait is immune to wall-clock jumps.
 */
#include "machine/events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "machine/clock.h"

static int events_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);

    if (rc)
        return -rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return -rc;
}

int events_init(EventQueue *q, size_t capacity)
{
    int rc;

    *q = (EventQueue){0};
    if (capacity == 0)
        return -EINVAL;
    q->ring = calloc(capacity, sizeof(*q->ring));
    if (!q->ring)
        return -ENOMEM;
    q->capacity = capacity;
    rc = -pthread_mutex_init(&q->lock, NULL);
    if (rc)
        goto fail;
    rc = events_cond_init(&q->posted);
    if (rc) {
        pthread_mutex_destroy(&q->lock);
        goto fail;
    }
    return 0;
fail:
    free(q->ring);
    *q = (EventQueue){0};
    return rc;
}

void events_destroy(EventQueue *q)
{
    if (!q->ring)
        return;
    pthread_cond_destroy(&q->posted);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    *q = (EventQueue){0};
}

void events_set_sink(EventQueue *q, EventKind kind, EventSink fn, void *opaque)
{
    if ((unsigned)kind >= EVENT_KIND_COUNT)
        return;
    pthread_mutex_lock(&q->lock);
    q->sinks[kind].fn = fn;
    q->sinks[kind].opaque = opaque;
    pthread_mutex_unlock(&q->lock);
}

void events_set_observer(EventQueue *q, EventSink fn, void *opaque)
{
    pthread_mutex_lock(&q->lock);
    q->observer = fn;
    q->observer_opaque = opaque;
    pthread_mutex_unlock(&q->lock);
}

int events_post(EventQueue *q, EventKind kind, uint32_t unit,
                const void *data, size_t len)
{
    if (len > EVENT_MAX_DATA)
        return -E2BIG;
    if ((unsigned)kind >= EVENT_KIND_COUNT || (len && !data))
        return -EINVAL;

    pthread_mutex_lock(&q->lock);
    if (q->count == q->capacity) {
        q->dropped++;
        pthread_mutex_unlock(&q->lock);
        return -ENOSPC;
    }
    InputEvent *ev = &q->ring[(q->head + q->count) % q->capacity];
    ev->kind = kind;
    ev->unit = unit;
    ev->icount = 0;
    ev->len = (uint32_t)len;
    if (len)
        memcpy(ev->data, data, len);
    q->count++;
    pthread_cond_signal(&q->posted);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* Everything needed to deliver one event once the lock is dropped. */
typedef struct Delivery {
    EventSink observer, sink;
    void *observer_opaque, *sink_opaque;
} Delivery;

/* Pop the oldest event into *ev (only its `len` data bytes are copied). */
static void events_pop_locked(EventQueue *q, InputEvent *ev, Delivery *d)
{
    const InputEvent *src = &q->ring[q->head];

    ev->kind = src->kind;
    ev->unit = src->unit;
    ev->len = src->len;
    memcpy(ev->data, src->data, src->len);
    q->head = (q->head + 1) % q->capacity;
    q->count--;

    d->observer = q->observer;
    d->observer_opaque = q->observer_opaque;
    d->sink = q->sinks[ev->kind].fn;
    d->sink_opaque = q->sinks[ev->kind].opaque;
}

int events_deliver(EventQueue *q, uint64_t icount)
{
    InputEvent ev;
    size_t n;

    pthread_mutex_lock(&q->lock);
    n = q->count;
    pthread_mutex_unlock(&q->lock);

    /* Only the events pending at entry: a sink that posts must not keep
     * this loop going forever. */
    for (size_t i = 0; i < n; i++) {
        Delivery d;

        pthread_mutex_lock(&q->lock);
        events_pop_locked(q, &ev, &d);
        pthread_mutex_unlock(&q->lock);

        ev.icount = icount;
        if (d.observer)
            d.observer(d.observer_opaque, &ev);
        if (d.sink)
            d.sink(d.sink_opaque, &ev);
    }
    return (int)n;
}

bool events_pending(EventQueue *q)
{
    pthread_mutex_lock(&q->lock);
    bool pending = q->count > 0;
    pthread_mutex_unlock(&q->lock);
    return pending;
}

/* CLOCK_MONOTONIC time `timeout_ns` from now, saturating. */
static struct timespec events_deadline(int64_t timeout_ns)
{
    int64_t now = clock_host_ns();
    int64_t at = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;

    return (struct timespec){ .tv_sec = at / 1000000000,
                              .tv_nsec = at % 1000000000 };
}

bool events_wait(EventQueue *q, int64_t timeout_ns)
{
    struct timespec deadline = {0};

    if (timeout_ns > 0)
        deadline = events_deadline(timeout_ns);
    pthread_mutex_lock(&q->lock);
    while (q->count == 0 && !q->kicked && timeout_ns != 0) {
        if (timeout_ns < 0) {
            pthread_cond_wait(&q->posted, &q->lock);
        } else if (pthread_cond_timedwait(&q->posted, &q->lock,
                                          &deadline) == ETIMEDOUT) {
            break;
        }
    }
    bool woken = q->count > 0 || q->kicked;
    q->kicked = false;
    pthread_mutex_unlock(&q->lock);
    return woken;
}

void events_kick(EventQueue *q)
{
    pthread_mutex_lock(&q->lock);
    q->kicked = true;
    pthread_cond_signal(&q->posted);
    pthread_mutex_unlock(&q->lock);
}

/* The block layer: disk images as the disk devices see them.
 *
 * One place for every disk device (IDE, ATAPI, virtio-blk).  An image is
 * raw or qcow2 (versions 2 and 3), possibly with a chain of backing files,
 * and with -snapshot a temporary qcow2 overlay that is deleted at close.
 * Devices never touch host files themselves.
 *
 * Requests are asynchronous so the vCPU never waits on the host disk: a
 * device submits a request, an I/O thread performs it, and the completion
 * enters the machine through the input queue (EVENT_BLOCK_DONE, contract 5
 * of DESIGN.md), so record/replay sees completions at the instruction
 * count at which the guest saw them.  The synchronous calls are for
 * set-up, tests and tools.
 */
#ifndef VIREO_MACHINE_BLOCK_H
#define VIREO_MACHINE_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "machine/events.h"

#define BLOCK_SECTOR 512

typedef struct BlockDevice BlockDevice;

typedef struct BlockOpenOptions {
    const char *format;   /* "raw", "qcow2", or NULL to probe */
    bool readonly;
    bool snapshot;        /* -snapshot: writes go to a temporary overlay */
    bool cdrom;           /* media=cdrom: the file must exist; implies
                             readonly */
} BlockOpenOptions;

/* Open `path`.  Returns 0, or -errno with one line in err naming the file
 * and the problem ("disk.qcow2: unsupported qcow2 version 4", "x.img: No
 * such file or directory", "y.qcow2: corrupt L1 table offset"). */
int block_open(const char *path, const BlockOpenOptions *opts, BlockDevice **out,
               char *err, size_t errlen);
/* Finish in-flight requests, flush, close every file of the chain, delete
 * a -snapshot overlay.  Completions not yet posted to the event queue are
 * dropped (their done never runs): close after the vCPU has stopped. */
void block_close(BlockDevice *bd);

uint64_t block_size(const BlockDevice *bd);      /* bytes */
bool block_is_readonly(const BlockDevice *bd);
const char *block_path(const BlockDevice *bd);

/* Synchronous I/O (set-up, tests, tools).  Offsets and lengths in bytes,
 * any alignment.  Reads beyond the end fail with -EINVAL, writes to a
 * read-only device with -EROFS.  0 or -errno.
 *
 * Writes are in the host page cache at once and survive the process being
 * killed; block_flush makes them durable (fdatasync), as a disk's FLUSH
 * CACHE does.  qcow2 keeps its metadata consistent on disk across any
 * crash (machine/qcow2.h); unflushed writes may be lost.  Discard is a
 * hint: raw punches a hole, qcow2 frees whole clusters (reads then return
 * zeros, or the backing file's data over an image version 2). */
int block_pread(BlockDevice *bd, uint64_t offset, void *buf, size_t len);
int block_pwrite(BlockDevice *bd, uint64_t offset, const void *buf, size_t len);
int block_flush(BlockDevice *bd);
int block_discard(BlockDevice *bd, uint64_t offset, uint64_t len);

/* Asynchronous requests. */
typedef enum BlockOp { BLOCK_READ, BLOCK_WRITE, BLOCK_FLUSH, BLOCK_DISCARD } BlockOp;

typedef void (*BlockDone)(void *opaque, int ret);   /* 0 or -errno */

typedef struct BlockRequest {
    BlockOp op;
    uint64_t offset;        /* bytes */
    uint64_t length;        /* bytes (DISCARD; READ/WRITE: sum of iov) */
    struct iovec *iov;      /* host buffers: guest RAM pointers, stable
                               until completion */
    int iovcnt;
    BlockDone done;         /* called on the vCPU thread */
    void *opaque;
    /* Private to the block layer. */
    int ret;
    uint64_t id;
} BlockRequest;

/* Queue a request; `done` runs later on the vCPU thread when the board
 * delivers its EVENT_BLOCK_DONE.  Requests of one device run in
 * submission order (a FLUSH follows the writes before it).  Returns 0, or
 * -errno with nothing queued and no callback: -EINVAL (bad op, iov or
 * range), -EROFS (write or discard to a read-only device), -ENOMEM.
 * Without an event queue attached (tools, tests), `done` runs on the I/O
 * thread instead.  The request and its buffers must stay valid until
 * `done` has run. */
int block_submit(BlockDevice *bd, BlockRequest *req);

/* Attach the queue completions are posted to (the board's input queue). */
void block_set_event_queue(BlockDevice *bd, EventQueue *q, uint32_t unit);

/* The board's EVENT_BLOCK_DONE sink (opaque unused): run the completion
 * named by the event.  The event data is {uint64_t request pointer,
 * int32_t result, uint32_t 0}, so a recorded stream carries the result. */
void block_complete_event(void *opaque, const InputEvent *ev);

/* Wait until the I/O thread has performed every request of `bd` submitted
 * so far: guest buffers are no longer touched (reset, snapshot, close).
 * Their completions may still be in the input queue: `done` runs at the
 * next delivery, so a device that resets meanwhile must recognise a stale
 * completion (e.g. by comparing the request with its current one). */
void block_drain(BlockDevice *bd);

#endif

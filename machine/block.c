/* The block layer: opening images, backing chains, -snapshot overlays,
 * synchronous I/O and the I/O thread.  See machine/block.h.
 *
 * Each BlockDevice has one I/O thread, started by its first request, that
 * runs requests in submission order (so a flush follows the writes before
 * it, as on a real disk queue).  Formats are not thread-safe, so one
 * mutex (io_lock) serializes every operation on a device's chain, from the
 * thread and from the synchronous calls alike.
 *
 * Completions are posted to the board's input queue as EVENT_BLOCK_DONE
 * (contract 5 of DESIGN.md) carrying the request pointer and the result.
 * If the queue is full the thread keeps the completion and retries; it
 * never drops one while the device is open.
 */
#include "machine/block.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "machine/block_int.h"

bool block_quiet;
long block_crash_countdown;

/* The payload of EVENT_BLOCK_DONE. */
typedef struct BlockDoneData {
    uint64_t req;          /* BlockRequest * */
    int32_t ret;
    uint32_t pad;
} BlockDoneData;

typedef struct Completion {
    BlockRequest *req;
    int ret;
} Completion;

struct BlockDevice {
    BlockImage *top;
    char *path;
    bool readonly;
    pthread_mutex_t io_lock;       /* one operation on the chain at a time */

    pthread_mutex_t lock;          /* everything below */
    pthread_cond_t wake;           /* work for the thread */
    pthread_cond_t idle;           /* busy dropped to 0 */
    BlockRequest **queue;          /* ring of submitted requests */
    size_t qcap, qhead, qcount;
    Completion *posts;             /* ring of completions not yet posted */
    size_t pcap, phead, pcount;
    unsigned busy;                 /* submitted and not yet performed */
    bool thread_started, stop;
    pthread_t thread;
    EventQueue *eq;
    uint32_t unit;
    uint64_t next_id;
};

/* ---- helpers ------------------------------------------------------------ */

void block_error(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!err || !errlen)
        return;
    n = snprintf(err, errlen, "%s: ", path);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

ssize_t block_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
    size_t done = 0;

    if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
        return -EFBIG;
    if (block_crash_countdown > 0 && --block_crash_countdown == 0)
        raise(SIGKILL);
    while (done < len) {
        ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done,
                           (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* ---- images and chains -------------------------------------------------- */

void block_image_close(BlockImage *img)
{
    if (!img)
        return;
    if (img->drv && img->drv->close)
        img->drv->close(img);
    block_image_close(img->backing);
    if (img->fd >= 0)
        close(img->fd);
    free(img->path);
    free(img);
}

int block_image_pread_padded(BlockImage *img, uint64_t off, void *buf, size_t len)
{
    size_t n = 0;
    int r = 0;

    if (off < img->size)
        n = img->size - off < len ? (size_t)(img->size - off) : len;
    if (n)
        r = img->drv->pread(img, off, buf, n);
    memset((uint8_t *)buf + n, 0, len - n);
    return r;
}

/* One writer or many readers per image across processes (QEMU takes
 * its own locks on the same files, so the two also exclude each other). */
static int lock_image(BlockImage *img, char *err, size_t errlen)
{
    struct flock fl = { .l_type = img->readonly ? F_RDLCK : F_WRLCK,
                        .l_whence = SEEK_SET };

    if (fcntl(img->fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno == EAGAIN || errno == EACCES) {
        block_error(err, errlen, img->path, "image is in use by another "
                    "process (locked)");
        return -EBUSY;
    }
    return 0;   /* no locks on this file system: go on without */
}

/* Is the file open as img already further up its chain? */
static bool chain_loops(const BlockImage *img)
{
    for (const BlockImage *a = img->above; a; a = a->above) {
        if (a->dev == img->dev && a->ino == img->ino)
            return true;
    }
    return false;
}

int block_image_open(const char *path, const char *format, bool readonly,
                     const BlockImage *above, BlockImage **out, char *err,
                     size_t errlen)
{
    BlockImage *img;
    struct stat st = {0};
    int depth = 0, r;

    *out = NULL;
    for (const BlockImage *a = above; a; a = a->above)
        depth++;
    if (depth >= BLOCK_MAX_CHAIN) {
        block_error(err, errlen, path, "backing chain longer than %d images "
                    "(does it loop?)", BLOCK_MAX_CHAIN);
        return -ELOOP;
    }
    if (format && strcmp(format, "raw") && strcmp(format, "qcow2")) {
        block_error(err, errlen, path, "unknown format '%s' (raw, qcow2)", format);
        return -EINVAL;
    }
    img = calloc(1, sizeof(*img));
    if (!img || !(img->path = strdup(path))) {
        free(img);
        block_error(err, errlen, path, "out of memory");
        return -ENOMEM;
    }
    img->readonly = readonly;
    /* O_NONBLOCK so that a FIFO named as an image (or as a backing file
     * by a hostile header) cannot hang the open; it is refused below. */
    img->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
    if (img->fd < 0) {
        r = -errno;
        block_error(err, errlen, path, "%s", strerror(errno));
        goto fail;
    }
    if (fstat(img->fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
        r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        block_error(err, errlen, path, "%s", S_ISDIR(st.st_mode) ? "is a directory"
                    : "not a regular file or block device");
        goto fail;
    }
    fcntl(img->fd, F_SETFL, fcntl(img->fd, F_GETFL) & ~O_NONBLOCK);
    img->above = above;
    img->dev = st.st_dev;
    img->ino = st.st_ino;
    if (chain_loops(img)) {
        block_error(err, errlen, path, "the backing chain loops back to this file");
        r = -ELOOP;
        goto fail;
    }
    r = lock_image(img, err, errlen);
    if (r < 0)
        goto fail;
    if (!format) {
        uint8_t magic[4] = {0};
        ssize_t got = block_pread_full(img->fd, magic, sizeof(magic), 0);
        if (got < 0) {
            r = (int)got;
            block_error(err, errlen, path, "%s", strerror(-r));
            goto fail;
        }
        format = memcmp(magic, "QFI\xfb", 4) == 0 ? "qcow2" : "raw";
        img->probed = true;
    }
    r = strcmp(format, "qcow2") == 0 ? qcow2_open(img, err, errlen)
                                     : raw_open(img, err, errlen);
    if (r < 0)
        goto fail;
    *out = img;
    return 0;
fail:
    block_image_close(img);
    return r;
}

/* -snapshot: a qcow2 overlay in $TMPDIR, unlinked at once so that nothing
 * is left behind however the process ends, over the read-only base. */
static int open_overlay(BlockImage *base, BlockImage **out, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[4096], inner[256];
    BlockImage *img;
    int fd, r;

    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(tmpl, sizeof(tmpl), "%s/vireo-snapshot-XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0) {
        block_error(err, errlen, base->path, "creating the -snapshot overlay "
                    "in %s: %s", dir, strerror(errno));
        return -errno;
    }
    unlink(tmpl);
    img = calloc(1, sizeof(*img));
    if (img)
        img->path = malloc(strlen(base->path) + 32);
    if (!img || !img->path) {
        free(img);
        close(fd);
        return -ENOMEM;
    }
    sprintf(img->path, "%s (-snapshot overlay)", base->path);
    img->fd = fd;
    img->temporary = true;
    img->backing = base;
    r = qcow2_create(fd, base->size, inner, sizeof(inner));
    if (r == 0)
        r = qcow2_open(img, inner, sizeof(inner));
    if (r < 0) {
        block_error(err, errlen, base->path, "creating the -snapshot overlay: %s",
                    inner);
        img->backing = NULL;   /* the caller closes the base */
        block_image_close(img);
        return r;
    }
    *out = img;
    return 0;
}

/* ---- devices ------------------------------------------------------------ */

int block_open(const char *path, const BlockOpenOptions *opts, BlockDevice **out,
               char *err, size_t errlen)
{
    const BlockOpenOptions none = {0};
    BlockImage *top = NULL, *base;
    BlockDevice *bd;
    bool ro, overlay;
    int r;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!opts)
        opts = &none;
    ro = opts->readonly || opts->cdrom;
    overlay = opts->snapshot && !ro;
    r = block_image_open(path, opts->format, ro || overlay, NULL, &base, err, errlen);
    if (r < 0)
        return r;
    top = base;
    if (overlay && (r = open_overlay(base, &top, err, errlen)) < 0) {
        block_image_close(base);
        return r;
    }
    bd = calloc(1, sizeof(*bd));
    if (!bd || !(bd->path = strdup(path))) {
        free(bd);
        block_image_close(top);
        block_error(err, errlen, path, "out of memory");
        return -ENOMEM;
    }
    bd->top = top;
    bd->readonly = ro;
    pthread_mutex_init(&bd->io_lock, NULL);
    pthread_mutex_init(&bd->lock, NULL);
    pthread_cond_init(&bd->wake, NULL);
    pthread_cond_init(&bd->idle, NULL);
    *out = bd;
    return 0;
}

void block_close(BlockDevice *bd)
{
    if (!bd)
        return;
    block_drain(bd);
    pthread_mutex_lock(&bd->lock);
    bd->stop = true;
    pthread_cond_signal(&bd->wake);
    pthread_mutex_unlock(&bd->lock);
    if (bd->thread_started)
        pthread_join(bd->thread, NULL);
    if (!bd->readonly)
        block_flush(bd);
    block_image_close(bd->top);
    pthread_cond_destroy(&bd->idle);
    pthread_cond_destroy(&bd->wake);
    pthread_mutex_destroy(&bd->lock);
    pthread_mutex_destroy(&bd->io_lock);
    free(bd->queue);
    free(bd->posts);
    free(bd->path);
    free(bd);
}

uint64_t block_size(const BlockDevice *bd)
{
    return bd->top->size;
}

bool block_is_readonly(const BlockDevice *bd)
{
    return bd->readonly;
}

const char *block_path(const BlockDevice *bd)
{
    return bd->path;
}

static int check_range(const BlockDevice *bd, uint64_t off, uint64_t len)
{
    uint64_t size = bd->top->size;

    return off > size || len > size - off ? -EINVAL : 0;
}

/* The operations with io_lock held and the range checked. */
static int do_read(BlockDevice *bd, uint64_t off, void *buf, size_t len)
{
    return len ? bd->top->drv->pread(bd->top, off, buf, len) : 0;
}

static int do_write(BlockDevice *bd, uint64_t off, const void *buf, size_t len)
{
    return len ? bd->top->drv->pwrite(bd->top, off, buf, len) : 0;
}

int block_pread(BlockDevice *bd, uint64_t offset, void *buf, size_t len)
{
    int r = check_range(bd, offset, len);

    if (r < 0)
        return r;
    pthread_mutex_lock(&bd->io_lock);
    r = do_read(bd, offset, buf, len);
    pthread_mutex_unlock(&bd->io_lock);
    return r;
}

int block_pwrite(BlockDevice *bd, uint64_t offset, const void *buf, size_t len)
{
    int r = bd->readonly ? -EROFS : check_range(bd, offset, len);

    if (r < 0)
        return r;
    pthread_mutex_lock(&bd->io_lock);
    r = do_write(bd, offset, buf, len);
    pthread_mutex_unlock(&bd->io_lock);
    return r;
}

int block_flush(BlockDevice *bd)
{
    int r;

    if (bd->readonly)
        return 0;
    pthread_mutex_lock(&bd->io_lock);
    r = bd->top->drv->flush(bd->top);
    pthread_mutex_unlock(&bd->io_lock);
    return r;
}

int block_discard(BlockDevice *bd, uint64_t offset, uint64_t len)
{
    int r = bd->readonly ? -EROFS : check_range(bd, offset, len);

    if (r < 0 || len == 0)
        return r;
    pthread_mutex_lock(&bd->io_lock);
    r = bd->top->drv->discard(bd->top, offset, len);
    pthread_mutex_unlock(&bd->io_lock);
    return r;
}

/* ---- asynchronous requests ---------------------------------------------- */

static int perform(BlockDevice *bd, BlockRequest *req)
{
    uint64_t off = req->offset;
    int r = 0;

    if (req->op == BLOCK_FLUSH)
        return block_flush(bd);
    if (req->op == BLOCK_DISCARD)
        return block_discard(bd, req->offset, req->length);
    pthread_mutex_lock(&bd->io_lock);
    for (int i = 0; i < req->iovcnt && r == 0; i++) {
        const struct iovec *v = &req->iov[i];
        r = req->op == BLOCK_READ ? do_read(bd, off, v->iov_base, v->iov_len)
                                  : do_write(bd, off, v->iov_base, v->iov_len);
        off += v->iov_len;
    }
    pthread_mutex_unlock(&bd->io_lock);
    return r;
}

/* Post what completions the queue takes, oldest first; the rest wait. */
static void post_completions_locked(BlockDevice *bd)
{
    while (bd->pcount && bd->eq) {
        Completion *c = &bd->posts[bd->phead];
        BlockDoneData d = { .req = (uint64_t)(uintptr_t)c->req, .ret = c->ret };

        if (events_post(bd->eq, EVENT_BLOCK_DONE, bd->unit, &d, sizeof(d)) < 0)
            return;
        bd->phead = (bd->phead + 1) % bd->pcap;
        bd->pcount--;
    }
}

static int push_completion_locked(BlockDevice *bd, BlockRequest *req, int ret)
{
    if (bd->pcount == bd->pcap) {
        size_t cap = bd->pcap ? bd->pcap * 2 : 16;
        Completion *n = malloc(cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        for (size_t i = 0; i < bd->pcount; i++)
            n[i] = bd->posts[(bd->phead + i) % bd->pcap];
        free(bd->posts);
        bd->posts = n;
        bd->pcap = cap;
        bd->phead = 0;
    }
    bd->posts[(bd->phead + bd->pcount++) % bd->pcap] = (Completion){ req, ret };
    return 0;
}

static void wait_ms_locked(BlockDevice *bd, long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000;
    ts.tv_sec += ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    pthread_cond_timedwait(&bd->wake, &bd->lock, &ts);
}

static void *block_thread(void *opaque)
{
    BlockDevice *bd = opaque;

    pthread_mutex_lock(&bd->lock);
    for (;;) {
        post_completions_locked(bd);
        if (bd->qcount == 0) {
            if (bd->stop)
                break;
            if (bd->pcount)
                wait_ms_locked(bd, 1);   /* the queue was full: retry soon */
            else
                pthread_cond_wait(&bd->wake, &bd->lock);
            continue;
        }
        BlockRequest *req = bd->queue[bd->qhead];
        bd->qhead = (bd->qhead + 1) % bd->qcap;
        bd->qcount--;
        pthread_mutex_unlock(&bd->lock);

        int ret = perform(bd, req);

        pthread_mutex_lock(&bd->lock);
        req->ret = ret;
        if (!bd->eq || push_completion_locked(bd, req, ret) < 0) {
            /* No board (tools, tests), or no memory to keep it: complete
             * here rather than lose it. */
            pthread_mutex_unlock(&bd->lock);
            req->done(req->opaque, ret);
            pthread_mutex_lock(&bd->lock);
        }
        if (--bd->busy == 0)
            pthread_cond_broadcast(&bd->idle);
    }
    pthread_mutex_unlock(&bd->lock);
    return NULL;
}

static int check_request(const BlockDevice *bd, const BlockRequest *req)
{
    uint64_t len = 0;

    switch (req->op) {
    case BLOCK_FLUSH:
        return 0;
    case BLOCK_DISCARD:
        return bd->readonly ? -EROFS : check_range(bd, req->offset, req->length);
    case BLOCK_READ:
    case BLOCK_WRITE:
        if (req->iovcnt < 0 || (req->iovcnt && !req->iov))
            return -EINVAL;
        for (int i = 0; i < req->iovcnt; i++) {
            if (req->iov[i].iov_len > UINT64_MAX - len)
                return -EINVAL;
            len += req->iov[i].iov_len;
        }
        if (req->op == BLOCK_WRITE && bd->readonly)
            return -EROFS;
        return check_range(bd, req->offset, len);
    default:
        return -EINVAL;
    }
}

int block_submit(BlockDevice *bd, BlockRequest *req)
{
    int r;

    if (!req || !req->done)
        return -EINVAL;
    r = check_request(bd, req);
    if (r < 0)
        return r;
    pthread_mutex_lock(&bd->lock);
    if (bd->qcount == bd->qcap) {
        size_t cap = bd->qcap ? bd->qcap * 2 : 16;
        BlockRequest **n = malloc(cap * sizeof(*n));
        r = -ENOMEM;
        if (!n)
            goto out;
        for (size_t i = 0; i < bd->qcount; i++)
            n[i] = bd->queue[(bd->qhead + i) % bd->qcap];
        free(bd->queue);
        bd->queue = n;
        bd->qcap = cap;
        bd->qhead = 0;
    }
    if (!bd->thread_started) {
        r = -pthread_create(&bd->thread, NULL, block_thread, bd);
        if (r < 0)
            goto out;
        bd->thread_started = true;
    }
    req->id = ++bd->next_id;
    req->ret = 0;
    bd->queue[(bd->qhead + bd->qcount++) % bd->qcap] = req;
    bd->busy++;
    pthread_cond_signal(&bd->wake);
    r = 0;
out:
    pthread_mutex_unlock(&bd->lock);
    return r;
}

void block_set_event_queue(BlockDevice *bd, EventQueue *q, uint32_t unit)
{
    pthread_mutex_lock(&bd->lock);
    bd->eq = q;
    bd->unit = unit;
    pthread_mutex_unlock(&bd->lock);
}

void block_complete_event(void *opaque, const InputEvent *ev)
{
    BlockDoneData d;
    BlockRequest *req;

    (void)opaque;
    if (ev->kind != EVENT_BLOCK_DONE || ev->len != sizeof(d))
        return;
    memcpy(&d, ev->data, sizeof(d));
    req = (BlockRequest *)(uintptr_t)d.req;
    if (!req)
        return;
    req->ret = d.ret;
    req->done(req->opaque, d.ret);
}

void block_drain(BlockDevice *bd)
{
    pthread_mutex_lock(&bd->lock);
    while (bd->busy)
        pthread_cond_wait(&bd->idle, &bd->lock);
    pthread_mutex_unlock(&bd->lock);
}

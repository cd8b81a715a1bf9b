/* The raw format: the file is the disk, byte for byte.
 *
 * Works on regular files and on host block devices (whose size comes from
 * seeking to their end).  Discard punches a hole where the host file
 * system can (fallocate PUNCH_HOLE|KEEP_SIZE) and is a no-op elsewhere:
 * discard is a hint.
 *
 * A raw image whose format was guessed must not become something else: a
 * guest that writes a qcow2 header into sector 0 would otherwise turn the
 * disk into a qcow2 image at the next boot, with a backing file of its
 * choosing (any host file).  Such writes are refused, as QEMU does; giving
 * format=raw lifts the restriction.
 */
#include "machine/block_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

static const uint8_t qcow2_magic[4] = { 'Q', 'F', 'I', 0xfb };

static int raw_pread(BlockImage *img, uint64_t off, void *buf, size_t len)
{
    ssize_t got = block_pread_full(img->fd, buf, len, off);

    if (got < 0)
        return (int)got;
    /* The file shrank under us: what is gone reads as zeros. */
    memset((uint8_t *)buf + got, 0, len - (size_t)got);
    return 0;
}

/* Would this write make the first bytes the qcow2 magic? */
static bool raw_write_changes_format(BlockImage *img, uint64_t off,
                                     const void *buf, size_t len)
{
    uint8_t head[4] = {0};

    if (off >= sizeof(head))
        return false;
    if (block_pread_full(img->fd, head, sizeof(head), 0) < 0)
        return true;
    for (uint64_t i = off; i < sizeof(head) && i - off < len; i++)
        head[i] = ((const uint8_t *)buf)[i - off];
    return memcmp(head, qcow2_magic, sizeof(head)) == 0;
}

static int raw_pwrite(BlockImage *img, uint64_t off, const void *buf, size_t len)
{
    if (img->probed && raw_write_changes_format(img, off, buf, len)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "%s: refusing a write that would make "
                    "this probed raw image look like qcow2 (give format=raw)\n",
                    img->path);
        return -EPERM;
    }
    return block_pwrite_full(img->fd, buf, len, off);
}

static int raw_flush(BlockImage *img)
{
    while (fdatasync(img->fd) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

static int raw_discard(BlockImage *img, uint64_t off, uint64_t len)
{
#ifdef FALLOC_FL_PUNCH_HOLE
    if (fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)off, (off_t)len) < 0 &&
        errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
        return -errno;
#else
    (void)img;
    (void)off;
    (void)len;
#endif
    return 0;
}

static void raw_close(BlockImage *img)
{
    (void)img;
}

const BlockDriver block_raw_driver = {
    .name = "raw",
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .discard = raw_discard,
    .close = raw_close,
};

int raw_open(BlockImage *img, char *err, size_t errlen)
{
    off_t end = lseek(img->fd, 0, SEEK_END);

    if (end < 0) {
        block_error(err, errlen, img->path, "%s", strerror(errno));
        return -errno;
    }
    img->drv = &block_raw_driver;
    img->size = (uint64_t)end;
    return 0;
}

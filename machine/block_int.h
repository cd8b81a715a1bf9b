/* The block layer's inside: one open image file and its format driver.
 *
 * Private to machine/block*.c and machine/qcow2*.c; devices use
 * machine/block.h.  A BlockDevice (what a disk device holds) owns a chain
 * of BlockImages: the top image, then its backing file, and so on.  Each
 * image has one format driver (raw or qcow2) working on one file
 * descriptor.  Drivers are synchronous and not thread-safe: block.c runs
 * at most one operation on a chain at a time.
 */
#ifndef VIREO_MACHINE_BLOCK_INT_H
#define VIREO_MACHINE_BLOCK_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A backing chain deeper than this is refused: it is almost certainly a
 * loop (an image naming itself, directly or not). */
#define BLOCK_MAX_CHAIN 16

typedef struct BlockImage BlockImage;

typedef struct BlockDriver {
    const char *name;
    /* Ranges are checked by the caller to lie inside [0, size). */
    int (*pread)(BlockImage *img, uint64_t off, void *buf, size_t len);
    int (*pwrite)(BlockImage *img, uint64_t off, const void *buf, size_t len);
    int (*flush)(BlockImage *img);
    int (*discard)(BlockImage *img, uint64_t off, uint64_t len);
    void (*close)(BlockImage *img);
} BlockDriver;

struct BlockImage {
    const BlockDriver *drv;
    void *opaque;          /* the driver's state */
    int fd;
    char *path;            /* as opened (backing names resolved) */
    uint64_t size;         /* virtual size in bytes */
    bool readonly;
    bool probed;           /* the format was guessed, not given */
    bool temporary;        /* a -snapshot overlay: never fsync'd */
    BlockImage *backing;   /* owned; NULL if none */
    const BlockImage *above;   /* the image this one backs; NULL: the top */
    dev_t dev;             /* the file's identity, to catch chains that loop */
    ino_t ino;
};

extern const BlockDriver block_raw_driver;
extern const BlockDriver block_qcow2_driver;

/* Open `path` (format "raw", "qcow2" or NULL to probe) as the backing
 * file of `above` (NULL: the top of a chain).  Errors are one line in err
 * naming the file. */
int block_image_open(const char *path, const char *format, bool readonly,
                     const BlockImage *above, BlockImage **out, char *err,
                     size_t errlen);
void block_image_close(BlockImage *img);

/* Read [off, off+len) of an image that may be shorter than the reader
 * expects (a backing file smaller than its overlay): bytes past its end
 * read as zeros. */
int block_image_pread_padded(BlockImage *img, uint64_t off, void *buf, size_t len);

/* Driver entry points called by block_image_open with img->fd, path and
 * readonly set.  They fill in drv, opaque and size. */
int raw_open(BlockImage *img, char *err, size_t errlen);
int qcow2_open(BlockImage *img, char *err, size_t errlen);

/* Make a new, empty qcow2 version 3 image of `size` bytes in the empty
 * file `fd` (64 KiB clusters, 16-bit refcounts, no backing file named in
 * the header).  For -snapshot overlays and tests. */
int qcow2_create(int fd, uint64_t size, char *err, size_t errlen);

/* Whole-buffer pread/pwrite that retry on EINTR and short transfers.
 * pread returns the bytes read (short only at end of file) or -errno;
 * pwrite returns 0 or -errno. */
ssize_t block_pread_full(int fd, void *buf, size_t len, uint64_t off);
int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Set by the fuzz target: do not print run-time corruption reports. */
extern bool block_quiet;
/* Tests of crash consistency: when it counts down to 0, the process
 * kills itself instead of making that write (0: off). */
extern long block_crash_countdown;

/* "path: message" into err. */
void block_error(char *err, size_t errlen, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

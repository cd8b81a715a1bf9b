/* Diagnostic logging: the `-d` categories, the `-D` log file and die().
 *
 * Category names and their meaning follow QEMU's `-d` option (see
 * `qemu-system-x86_64 -d help`) so that users' habits carry over.  The log
 * goes to stderr unless `-D` names a file.  log_set_file() and log_close()
 * belong to setup: they must not race with logging from vCPU threads.
 */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint32_t log_mask;

/* The open `-D` file, or NULL when the log goes to stderr.  stderr itself is
 * never stored here, so log_close() cannot close it by mistake. */
static FILE *log_file;

typedef struct LogCategory {
    const char *name;
    uint32_t bit;
} LogCategory;

static const LogCategory log_categories[] = {
    { "in_asm",       LOG_IN_ASM },
    { "int",          LOG_INT },
    { "mmu",          LOG_MMU },
    { "ioport",       LOG_IOPORT },
    { "unimp",        LOG_UNIMP },
    { "guest_errors", LOG_GUEST_ERRORS },
    { "out_asm",      LOG_OUT_ASM },
    { "op",           LOG_OP },
    { "cpu",          LOG_CPU },
    { "exec",         LOG_EXEC },
    { "jitcheck",     LOG_JITCHECK },
};

/* Kept in the same order as log_categories; the unit test checks that every
 * line starts with a category name and that none is missing. */
const char *const log_category_help[] = {
    "in_asm        guest code as it is decoded",
    "int           exceptions and interrupts taken",
    "mmu           page walks and TLB flushes",
    "ioport        every I/O port access",
    "unimp         unassigned memory and ports, unimplemented features",
    "guest_errors  the guest misprogrammed a device",
    "out_asm       host code emitted by the JIT",
    "op            JIT intermediate representation",
    "cpu           CPU state before each block",
    "exec          each block executed",
    "jitcheck      check each translated block against the interpreter",
    NULL,
};

/* The bit for the category spelled by the `len` bytes at `name`, or 0.
 * Names are compared exactly, as QEMU does. */
static uint32_t category_bit(const char *name, size_t len)
{
    size_t n = sizeof(log_categories) / sizeof(log_categories[0]);

    for (size_t i = 0; i < n; i++) {
        const char *cand = log_categories[i].name;
        if (strlen(cand) == len && memcmp(cand, name, len) == 0)
            return log_categories[i].bit;
    }
    return 0;
}

/* Empty items ("int,,unimp", a trailing comma, an empty list) are refused
 * with `*bad` set to "", because they are almost always typos.  `*mask` is
 * only written on success, so a caller's mask survives a bad argument. */
int log_parse_categories(const char *list, uint32_t *mask, const char **bad)
{
    /* Static so the caller can print it after we return; names longer than
     * the buffer are truncated, which is enough for an error message. */
    static char bad_name[64];
    uint32_t result = 0;
    const char *item = list ? list : "";

    for (;;) {
        size_t len = strcspn(item, ",");
        uint32_t bit = category_bit(item, len);

        if (bit == 0) {
            size_t copy = len < sizeof(bad_name) - 1 ? len : sizeof(bad_name) - 1;
            memcpy(bad_name, item, copy);
            bad_name[copy] = '\0';
            if (bad)
                *bad = bad_name;
            return -1;
        }
        result |= bit;
        if (item[len] == '\0')
            break;
        item += len + 1;
    }
    *mask = result;
    return 0;
}

/* On failure the previous destination stays in use, so a bad `-D` does not
 * silence the log before the caller reports the error. */
int log_set_file(const char *path)
{
    int fd = -1;
    int err;
    FILE *f;

    if (path == NULL || strcmp(path, "-") == 0) {
        log_close();
        return 0;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    f = fdopen(fd, "w");
    if (f == NULL)
        goto fail;
    /* Line buffering keeps the file readable with `tail -f` and loses at
     * most one partial line if the emulator is killed. */
    setvbuf(f, NULL, _IOLBF, 0);
    log_close();
    log_file = f;
    return 0;

fail:
    err = errno;
    close(fd);
    return -err;
}

void log_close(void)
{
    if (log_file != NULL) {
        fclose(log_file);
        log_file = NULL;
    }
}

void log_vprintf(const char *fmt, va_list ap)
{
    FILE *out = log_file ? log_file : stderr;

    /* One lock around the whole message so lines from different vCPU
     * threads do not interleave, even if a message is built by several
     * calls in the future. */
    flockfile(out);
    vfprintf(out, fmt, ap);
    funlockfile(out);
}

void log_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vprintf(fmt, ap);
    va_end(ap);
}

void die(const char *fmt, ...)
{
    va_list ap;

    flockfile(stderr);
    fputs("vireo: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    /* exit() rather than _exit() so the log file's last lines are flushed. */
    exit(1);
}

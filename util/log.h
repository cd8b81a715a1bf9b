/* Diagnostic logging: the `-d` categories and the `-D` log file.
 *
 * util/ is the bottom layer of the tree: every other folder may include it,
 * it includes nothing of the project.  Categories follow QEMU's `-d` names so
 * that users' habits carry over.  Logging is off unless a category is enabled,
 * and the test for it is one load and one AND, so calls may sit on warm paths.
 */
#ifndef VIREO_UTIL_LOG_H
#define VIREO_UTIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    LOG_IN_ASM       = 1u << 0, /* guest code as it is decoded (Capstone) */
    LOG_INT          = 1u << 1, /* exceptions and interrupts taken */
    LOG_MMU          = 1u << 2, /* page walks, TLB flushes */
    LOG_IOPORT       = 1u << 3, /* every port access */
    LOG_UNIMP        = 1u << 4, /* unassigned memory/ports, unimplemented features */
    LOG_GUEST_ERRORS = 1u << 5, /* the guest misprogrammed a device */
    LOG_OUT_ASM      = 1u << 6, /* host code emitted by the JIT */
    LOG_OP           = 1u << 7, /* JIT intermediate representation */
    LOG_CPU          = 1u << 8, /* CPU state before each block */
    LOG_EXEC         = 1u << 9, /* each block executed */
    LOG_JITCHECK     = 1u << 10, /* run each translated block twice, compare */
};

extern uint32_t log_mask;

static inline bool log_enabled(uint32_t category)
{
    return (log_mask & category) != 0;
}

/* Parse a `-d` argument ("int,unimp", "help" is handled by the caller).
 * Returns 0, or -1 with `*bad` pointing at a static copy of the first
 * unknown category name. */
int log_parse_categories(const char *list, uint32_t *mask, const char **bad);

/* The "name   description" lines `-d help` prints, NULL-terminated. */
extern const char *const log_category_help[];

/* Send log output to `path` ("-" or NULL means stderr).  Returns 0 or
 * -errno; the file is created with mode 0644 and truncated. */
int log_set_file(const char *path);
void log_close(void);

/* Write to the log unconditionally (callers check log_enabled first). */
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_vprintf(const char *fmt, va_list ap);

/* Log under `category`, if enabled. */
#define LOG(category, ...)                    \
    do {                                      \
        if (log_enabled(category))            \
            log_printf(__VA_ARGS__);          \
    } while (0)

/* Log a guest-caused message at most `LOG_RATE_LIMIT` times per call site,
 * so a guest hammering a bad register cannot flood the disk. */
#define LOG_RATE_LIMIT 64
#define LOG_LIMITED(category, ...)                       \
    do {                                                 \
        static unsigned log_limited_count_;              \
        if (log_enabled(category) &&                     \
            log_limited_count_ < LOG_RATE_LIMIT) {       \
            if (++log_limited_count_ == LOG_RATE_LIMIT)  \
                log_printf("(further messages from %s:%d suppressed)\n", \
                           __FILE__, __LINE__);          \
            log_printf(__VA_ARGS__);                     \
        }                                                \
    } while (0)

/* Fatal setup error: print "vireo: <message>" and exit(1).  Only during
 * setup, never because of guest behaviour. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

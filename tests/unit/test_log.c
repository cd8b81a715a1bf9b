/* Unit tests for util/log.c: `-d` parsing, the `-D` file, LOG gating,
 * rate limiting and die().
 *
 * Criterion runs each test in its own process, so log_mask and the log file
 * start fresh in every test.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"

/* ---- helpers --------------------------------------------------------------- */

static char tmp_path[64];

static const char *make_tmp_path(void)
{
    int fd;

    strcpy(tmp_path, "/tmp/vireo-test-log-XXXXXX");
    fd = mkstemp(tmp_path);
    cr_assert_geq(fd, 0);
    close(fd);
    return tmp_path;
}

static const char *slurp(const char *path)
{
    static char text[8192];
    FILE *f = fopen(path, "r");
    size_t n;

    cr_assert_not_null(f, "cannot open %s", path);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void expect_parse(const char *list, uint32_t want)
{
    uint32_t mask = 0xDEADBEEF;
    const char *bad = NULL;

    cr_expect_eq(log_parse_categories(list, &mask, &bad), 0, "\"%s\"", list);
    cr_expect_eq(mask, want, "\"%s\" gave 0x%x, want 0x%x", list, mask, want);
}

static void expect_bad(const char *list, const char *want_bad)
{
    uint32_t mask = 0x1234;
    const char *bad = NULL;

    cr_expect_eq(log_parse_categories(list, &mask, &bad), -1, "\"%s\"", list);
    cr_assert_not_null(bad, "\"%s\": bad not set", list);
    cr_expect_str_eq(bad, want_bad, "\"%s\"", list);
    cr_expect_eq(mask, 0x1234u, "\"%s\" changed the mask on error", list);
}

/* ---- parsing --------------------------------------------------------------- */

Test(log, parse_each_category_name)
{
    expect_parse("in_asm", LOG_IN_ASM);
    expect_parse("int", LOG_INT);
    expect_parse("mmu", LOG_MMU);
    expect_parse("ioport", LOG_IOPORT);
    expect_parse("unimp", LOG_UNIMP);
    expect_parse("guest_errors", LOG_GUEST_ERRORS);
    expect_parse("out_asm", LOG_OUT_ASM);
    expect_parse("op", LOG_OP);
    expect_parse("cpu", LOG_CPU);
    expect_parse("exec", LOG_EXEC);
    expect_parse("jitcheck", LOG_JITCHECK);
}

Test(log, parse_lists)
{
    expect_parse("int,unimp", LOG_INT | LOG_UNIMP);
    expect_parse("unimp,int", LOG_INT | LOG_UNIMP);
    expect_parse("int,int", LOG_INT);
    expect_parse("in_asm,int,mmu,ioport,unimp,guest_errors,out_asm,op,cpu,exec",
                 0x3FFu);
}

Test(log, parse_reports_unknown_name_exactly)
{
    expect_bad("bogus", "bogus");
    expect_bad("int,bogus,unimp", "bogus");
    expect_bad("int,unimp,cpux", "cpux");
    expect_bad("in", "in");              /* a prefix of in_asm and int */
    expect_bad("INT", "INT");            /* names are case-sensitive */
    expect_bad("int ,unimp", "int ");    /* no trimming */
    expect_bad("all", "all");            /* only QEMU's category names */
    expect_bad("help", "help");          /* the caller handles help */
    expect_bad("foo,bar", "foo");        /* the first bad one */
}

Test(log, parse_refuses_empty_items)
{
    expect_bad("", "");
    expect_bad(",", "");
    expect_bad("int,", "");
    expect_bad(",int", "");
    expect_bad("int,,unimp", "");
}

Test(log, parse_long_bad_name_is_truncated_not_overflowed)
{
    char list[300];
    uint32_t mask = 0;
    const char *bad = NULL;

    memset(list, 'x', sizeof(list) - 1);
    list[sizeof(list) - 1] = '\0';
    cr_assert_eq(log_parse_categories(list, &mask, &bad), -1);
    cr_assert_not_null(bad);
    cr_expect_gt(strlen(bad), 0u);
    cr_expect_lt(strlen(bad), sizeof(list) - 1);
    cr_expect_eq(strspn(bad, "x"), strlen(bad));
}

Test(log, help_lists_every_category_once)
{
    static const char *const names[] = {
        "in_asm", "int", "mmu", "ioport", "unimp",
        "guest_errors", "out_asm", "op", "cpu", "exec", "jitcheck",
    };
    int seen[11] = { 0 };
    int lines = 0;

    for (const char *const *line = log_category_help; *line; line++, lines++) {
        size_t len = strcspn(*line, " ");
        char name[32];
        uint32_t mask;
        const char *bad;

        cr_assert_lt(len, sizeof(name));
        memcpy(name, *line, len);
        name[len] = '\0';
        cr_expect_eq(log_parse_categories(name, &mask, &bad), 0,
                     "help line \"%s\" names no category", *line);
        cr_expect_gt(strlen(*line + len), 1u, "no description: \"%s\"", *line);
        for (int i = 0; i < 11; i++)
            seen[i] += strcmp(name, names[i]) == 0;
    }
    cr_expect_eq(lines, 11);
    for (int i = 0; i < 11; i++)
        cr_expect_eq(seen[i], 1, "%s listed %d times", names[i], seen[i]);
}

/* ---- the log file ---------------------------------------------------------- */

Test(log, set_file_creates_truncates_with_mode_0644)
{
    const char *path = make_tmp_path();
    FILE *f = fopen(path, "w");
    struct stat st;

    fputs("old content\n", f);
    fclose(f);
    chmod(path, 0600);
    unlink(path);           /* so the mode comes from log_set_file */

    umask(022);
    cr_assert_eq(log_set_file(path), 0);
    log_printf("hello %d\n", 42);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0644u, "mode %o", st.st_mode & 0777);
    log_close();
    cr_expect_str_eq(slurp(path), "hello 42\n");

    /* an existing file is truncated */
    cr_assert_eq(log_set_file(path), 0);
    log_printf("second\n");
    log_close();
    cr_expect_str_eq(slurp(path), "second\n");
    unlink(path);
}

Test(log, output_is_line_buffered)
{
    const char *path = make_tmp_path();

    cr_assert_eq(log_set_file(path), 0);
    log_printf("visible before close\n");
    /* read while the log is still open: the line must already be there */
    cr_expect_str_eq(slurp(path), "visible before close\n");
    log_close();
    unlink(path);
}

Test(log, set_file_errors_are_negative_errno)
{
    cr_expect_eq(log_set_file("/nonexistent-vireo-dir/x.log"), -ENOENT);
    cr_expect_eq(log_set_file("/tmp"), -EISDIR);
    cr_expect_eq(log_set_file(""), -ENOENT);
}

Test(log, failed_set_file_keeps_the_previous_file)
{
    const char *path = make_tmp_path();

    cr_assert_eq(log_set_file(path), 0);
    cr_assert_lt(log_set_file("/nonexistent-vireo-dir/x.log"), 0);
    log_printf("still here\n");
    log_close();
    cr_expect_str_eq(slurp(path), "still here\n");
    unlink(path);
}

Test(log, dash_and_null_mean_stderr, .init = cr_redirect_stderr)
{
    const char *path = make_tmp_path();

    cr_assert_eq(log_set_file(path), 0);
    cr_assert_eq(log_set_file("-"), 0);
    log_printf("one\n");
    cr_assert_eq(log_set_file(path), 0);
    cr_assert_eq(log_set_file(NULL), 0);
    log_printf("two\n");
    log_close();            /* closing when on stderr is harmless */
    log_close();
    log_printf("three\n");
    fflush(stderr);
    cr_expect_stderr_eq_str("one\ntwo\nthree\n");
    cr_expect_str_empty(slurp(path));
    unlink(path);
}

static int open_fd_count(void)
{
    DIR *dir = opendir("/proc/self/fd");
    int n = 0;

    cr_assert_not_null(dir);
    while (readdir(dir) != NULL)
        n++;
    closedir(dir);
    return n;
}

Test(log, switching_files_closes_the_previous_one)
{
    const char *path = make_tmp_path();
    int before = open_fd_count();

    for (int i = 0; i < 20; i++)
        cr_assert_eq(log_set_file(path), 0);
    cr_expect_eq(open_fd_count(), before + 1, "log files leak descriptors");
    log_close();
    cr_expect_eq(open_fd_count(), before);
    unlink(path);
}

static void vprintf_wrapper(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vprintf(fmt, ap);
    va_end(ap);
}

Test(log, vprintf_formats)
{
    const char *path = make_tmp_path();

    cr_assert_eq(log_set_file(path), 0);
    vprintf_wrapper("%s=0x%04x\n", "port", 0x3F8);
    log_close();
    cr_expect_str_eq(slurp(path), "port=0x03f8\n");
    unlink(path);
}

/* ---- gating ---------------------------------------------------------------- */

Test(log, LOG_writes_only_enabled_categories)
{
    const char *path = make_tmp_path();

    cr_assert_eq(log_set_file(path), 0);
    log_mask = 0;
    LOG(LOG_INT, "off %d\n", 1);
    log_mask = LOG_INT | LOG_MMU;
    LOG(LOG_UNIMP, "unimp\n");
    LOG(LOG_INT, "int\n");
    LOG(LOG_MMU, "mmu\n");
    LOG(LOG_EXEC, "exec\n");
    log_close();
    cr_expect_str_eq(slurp(path), "int\nmmu\n");
    unlink(path);
}

Test(log, LOG_does_not_evaluate_arguments_when_disabled)
{
    int calls = 0;

    log_mask = 0;
    LOG(LOG_INT, "%d\n", ++calls);
    cr_expect_eq(calls, 0);
}

static void limited_site(int i)
{
    LOG_LIMITED(LOG_GUEST_ERRORS, "bad %d\n", i);
}

Test(log, LOG_LIMITED_stops_after_the_limit)
{
    const char *path = make_tmp_path();
    char expect[4096];
    size_t len = 0;

    cr_assert_eq(log_set_file(path), 0);
    log_mask = LOG_GUEST_ERRORS;
    for (int i = 0; i < 200; i++)
        limited_site(i);
    log_close();

    /* 64 messages, with the "suppressed" notice just before the last */
    const char *text = slurp(path);
    for (int i = 0; i < 63; i++)
        len += (size_t)snprintf(expect + len, sizeof(expect) - len, "bad %d\n", i);
    cr_assert_eq(strncmp(text, expect, len), 0, "log: %s", text);
    const char *notice = text + len;
    const char *eol = strchr(notice, '\n');
    cr_assert_not_null(eol);
    cr_expect(strstr(notice, "suppressed") != NULL && strstr(notice, "suppressed") < eol,
              "notice line: %s", notice);
    cr_expect_str_eq(eol + 1, "bad 63\n");
    unlink(path);
}

Test(log, LOG_LIMITED_counts_nothing_while_disabled)
{
    const char *path = make_tmp_path();

    cr_assert_eq(log_set_file(path), 0);
    log_mask = 0;
    for (int i = 0; i < 200; i++)
        limited_site(i);
    log_mask = LOG_GUEST_ERRORS;
    limited_site(1000);
    log_close();
    cr_expect_str_eq(slurp(path), "bad 1000\n");
    unlink(path);
}

/* ---- die ------------------------------------------------------------------- */

/* The child that calls die() inherits Criterion's threads, which LeakSanitizer
 * (when built in) would report at exit, changing the exit status and adding
 * text to stderr.  LSan calls this hook, if defined, to ask whether to run. */
int __lsan_is_turned_off(void);
static volatile int in_die_child;

int __lsan_is_turned_off(void)
{
    return in_die_child;
}

Test(log, die_prints_prefixed_message_and_exits_1)
{
    int fds[2];
    pid_t pid;
    char out[256];
    ssize_t n, total = 0;
    int status;

    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        in_die_child = 1;
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        die("cannot open %s: %s", "disk.img", "No such file or directory");
    }
    close(fds[1]);
    while ((n = read(fds[0], out + total, sizeof(out) - 1 - (size_t)total)) > 0)
        total += n;
    out[total] = '\0';
    close(fds[0]);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status));
    cr_expect_eq(WEXITSTATUS(status), 1);
    cr_expect_str_eq(out, "vireo: cannot open disk.img: No such file or directory\n");
}

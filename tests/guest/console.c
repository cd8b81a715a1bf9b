/* A small expect-like driver for guest tests: runs an emulator with its
 * serial console on pipes, and follows a script that waits for text and
 * types commands.
 *
 *   console [-l LOG] SCRIPT -- PROGRAM [ARGS...]
 *
 * Everything the program prints (stdout and stderr) is appended to LOG as
 * it arrives.  SCRIPT has one command per line ('#' starts a comment):
 *
 *   expect SECS TEXT   wait until TEXT appears after the previous match
 *   send TEXT          type TEXT (escapes: \n \r \t \\ \xHH)
 *   time LABEL         print "time LABEL SECONDS" (since PROGRAM started)
 *   sleep SECS
 *   exit SECS          wait for PROGRAM to end; print "exit STATUS"
 *
 * On a timeout it prints "timeout SECS waiting for 'TEXT'", kills the
 * program and exits 3; if the program ends while text is awaited, it
 * prints "ended (status N) waiting for 'TEXT'" and exits 4.  Exit 0 means
 * the whole script ran; the status of PROGRAM is the "exit" line's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child = -1;
static int child_in = -1, child_out = -1, log_fd = -1;
static char *buf;                  /* all output so far */
static size_t len, cap, cursor;    /* cursor: end of the last match */
static int child_status = -1;      /* set once reaped */
static struct timespec t0;

static double elapsed(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

static void kill_child(void)
{
    if (child > 0 && child_status < 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child_status = 128 + SIGKILL;
    }
}

static int reap(int options)
{
    int st;
    if (child_status >= 0)
        return 1;
    pid_t r = waitpid(child, &st, options);
    if (r != child)
        return 0;
    child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 1;
}

/* Read what is available (waiting at most ms); 0 at end of output. */
static int pump(int ms)
{
    if (child_out < 0) {
        if (ms > 0)
            usleep((useconds_t)ms * 1000);
        return 0;
    }
    struct pollfd p = { child_out, POLLIN, 0 };
    int n = poll(&p, 1, ms);
    if (n <= 0)
        return 1;
    char tmp[4096];
    ssize_t got = read(child_out, tmp, sizeof(tmp));
    if (got <= 0) {
        close(child_out);
        child_out = -1;
        return 0;
    }
    if (len + (size_t)got + 1 > cap) {
        cap = (len + (size_t)got + 1) * 2;
        buf = realloc(buf, cap);
        if (!buf) {
            fprintf(stderr, "console: out of memory\n");
            kill_child();
            exit(2);
        }
    }
    memcpy(buf + len, tmp, (size_t)got);
    len += (size_t)got;
    buf[len] = 0;
    if (log_fd >= 0 && write(log_fd, tmp, (size_t)got) != got)
        perror("console: log");
    return 1;
}

static char *find(const char *text)
{
    size_t n = strlen(text);
    if (len < cursor + n)
        return NULL;
    return memmem(buf + cursor, len - cursor, text, n);
}

static int do_expect(double secs, const char *text)
{
    double end = elapsed() + secs;
    for (;;) {
        char *hit = find(text);
        if (hit) {
            cursor = (size_t)(hit - buf) + strlen(text);
            return 0;
        }
        if (child_out < 0) {
            reap(0);
            printf("ended (status %d) waiting for '%s'\n", child_status, text);
            return 4;
        }
        double left = end - elapsed();
        if (left <= 0) {
            printf("timeout %.0f waiting for '%s'\n", secs, text);
            kill_child();
            return 3;
        }
        pump(left > 0.2 ? 200 : (int)(left * 1000) + 1);
    }
}

static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    for (; *in; in++) {
        if (*in != '\\' || !in[1]) {
            out[n++] = *in;
            continue;
        }
        switch (*++in) {
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'x': {
            unsigned v = 0;
            int d = 0;
            while (d < 2 && in[1] && strchr("0123456789abcdefABCDEF", in[1])) {
                char c = *++in;
                v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
                d++;
            }
            out[n++] = (char)v;
            break;
        }
        default: out[n++] = *in; break;
        }
    }
    return n;
}

static int do_send(const char *text)
{
    char out[4096];
    size_t n = unescape(text, out), done = 0;
    while (done < n) {
        struct pollfd p = { child_in, POLLOUT, 0 };
        pump(0);
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t w = write(child_in, out + done, n - done);
        if (w < 0) {
            printf("cannot send: %s\n", strerror(errno));
            return 4;
        }
        done += (size_t)w;
    }
    return 0;
}

static int do_exit(double secs)
{
    double end = elapsed() + secs;
    while (!reap(WNOHANG)) {
        if (elapsed() > end) {
            printf("timeout %.0f waiting for the program to end\n", secs);
            kill_child();
            return 3;
        }
        pump(100);
    }
    while (pump(0))
        ;
    printf("exit %d\n", child_status);
    return 0;
}

static int run_line(char *line)
{
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = 0;
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line || *line == '#')
        return 0;
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = 0;
    else
        arg = line + strlen(line);
    if (!strcmp(line, "send"))
        return do_send(arg);
    if (!strcmp(line, "time")) {
        printf("time %s %.2f\n", arg, elapsed());
        return 0;
    }
    char *rest;
    double secs = strtod(arg, &rest);
    if (rest == arg) {
        printf("bad script line: %s %s\n", line, arg);
        return 2;
    }
    while (*rest == ' ')
        rest++;
    if (!strcmp(line, "expect"))
        return do_expect(secs, rest);
    if (!strcmp(line, "exit"))
        return do_exit(secs);
    if (!strcmp(line, "sleep")) {
        double end = elapsed() + secs;
        while (elapsed() < end)
            pump(50);
        return 0;
    }
    printf("bad script line: %s\n", line);
    return 2;
}

int main(int argc, char **argv)
{
    const char *log_path = NULL;
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-l")) {
        log_path = argv[i + 1];
        i += 2;
    }
    if (i + 2 >= argc || strcmp(argv[i + 1], "--")) {
        fprintf(stderr, "usage: console [-l LOG] SCRIPT -- PROGRAM [ARGS...]\n");
        return 2;
    }
    FILE *script = fopen(argv[i], "r");
    if (!script) {
        fprintf(stderr, "console: cannot open '%s': %s\n", argv[i], strerror(errno));
        return 2;
    }
    if (log_path && (log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        fprintf(stderr, "console: cannot write '%s': %s\n", log_path, strerror(errno));
        return 2;
    }
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        perror("console: pipe");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    child = fork();
    if (child < 0) {
        perror("console: fork");
        return 2;
    }
    if (child == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        setsid();    /* no controlling terminal: the program sees pipes */
        execvp(argv[i + 2], argv + i + 2);
        fprintf(stderr, "console: cannot run '%s': %s\n", argv[i + 2], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    child_in = in[1];
    child_out = out[0];
    fcntl(child_in, F_SETFL, O_NONBLOCK);
    char line[4096];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), script)) {
        rc = run_line(line);
        fflush(stdout);
    }
    fclose(script);
    kill_child();
    return rc;
}

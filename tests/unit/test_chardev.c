/* Unit tests for frontends/chardev.c: the host character backends.
 *
 * Everything runs over loopback sockets, pseudo-terminals and temporary
 * files, with every wait bounded (poll timeouts, Criterion's .timeout), so a
 * broken backend fails a test instead of hanging it.  The stdio tests put a
 * pty behind fds 0 and 1 of the (forked, per-test) Criterion worker so that
 * raw mode and the Ctrl-A escapes can be checked for real.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "frontends/chardev.h"

#define UNIT 3

static EventQueue q;

typedef struct Collect {
    uint8_t buf[300000];
    size_t len;
    int events;
    int bad_unit;
} Collect;

static Collect got;

static void sink(void *opaque, const InputEvent *ev)
{
    Collect *c = opaque;

    if (ev->unit != UNIT || ev->kind != EVENT_SERIAL_RX)
        c->bad_unit++;
    if (c->len + ev->len <= sizeof(c->buf))
        memcpy(c->buf + c->len, ev->data, ev->len);
    c->len += ev->len;
    c->events++;
}

static void setup(void)
{
    cr_assert_eq(events_init(&q, 64), 0);
    memset(&got, 0, sizeof(got));
    events_set_sink(&q, EVENT_SERIAL_RX, sink, &got);
}

static void teardown(void)
{
    events_destroy(&q);
}

TestSuite(chardev, .init = setup, .fini = teardown, .timeout = 30);

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Deliver input events until `want` bytes arrived or `ms` passed. */
static void pump(size_t want, int ms)
{
    int64_t end = now_ms() + ms;

    while (got.len < want && now_ms() < end) {
        events_wait(&q, 10 * 1000000);
        events_deliver(&q, 0);
    }
}

static CharBackend *open_ok(const char *spec, EventQueue *queue)
{
    CharBackend *cb = NULL;
    char err[256] = "";
    int rc = chardev_open(spec, queue, UNIT, &cb, err, sizeof(err));

    cr_assert_eq(rc, 0, "%s: %d %s", spec, rc, err);
    cr_assert_not_null(cb);
    cr_assert_str_eq(cb->name, spec);
    return cb;
}

static void write_str(CharBackend *cb, const char *s)
{
    chardev_write(cb, (const uint8_t *)s, strlen(s));
}

/* Read until `len` bytes came or `ms` passed; returns how many. */
static size_t read_for(int fd, char *buf, size_t len, int ms)
{
    size_t n = 0;
    int64_t end = now_ms() + ms;

    while (n < len && now_ms() < end) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 20) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, len - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

static void write_fd(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };
            poll(&pf, 1, 100);
            continue;
        }
        cr_assert_gt(n, 0, "write: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

/* A loopback listener on a kernel-chosen port. */
static int listen_any(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static int connect_to(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0,
                 "connect: %s", strerror(errno));
    return fd;
}

/* A port nobody listens on: bind, note it, close. */
static int dead_port(void)
{
    int port, fd = listen_any(&port);

    close(fd);
    return port;
}

/* ---- files and null -------------------------------------------------------- */

Test(chardev, file_writes_and_truncates)
{
    char path[] = "/tmp/vireo-chardev-XXXXXX";
    int fd = mkstemp(path);
    char spec[64], buf[64] = "";

    cr_assert_geq(fd, 0);
    write_fd(fd, "old contents that must go", 25);
    close(fd);
    snprintf(spec, sizeof(spec), "file:%s", path);
    CharBackend *cb = open_ok(spec, &q);
    write_str(cb, "serial ");
    write_str(cb, "log\n");
    chardev_close(cb);
    fd = open(path, O_RDONLY);
    cr_assert_eq(read(fd, buf, sizeof(buf)), 11);
    cr_assert_str_eq(buf, "serial log\n");
    close(fd);
    unlink(path);
}

Test(chardev, mon_prefix_and_null)
{
    char path[] = "/tmp/vireo-chardev-XXXXXX";
    int fd = mkstemp(path);
    char spec[64], buf[8] = "";

    close(fd);
    snprintf(spec, sizeof(spec), "mon:file:%s", path);
    CharBackend *cb = open_ok(spec, NULL);
    write_str(cb, "m");
    chardev_close(cb);
    fd = open(path, O_RDONLY);
    cr_assert_eq(read(fd, buf, sizeof(buf)), 1);
    close(fd);
    unlink(path);

    for (int i = 0; i < 2; i++) {
        cb = open_ok(i ? "none" : "null", &q);
        write_str(cb, "into the void");
        cr_assert_eq(chardev_output_dropped(cb), 0);
        chardev_close(cb);
    }
    chardev_close(NULL);
}

/* ---- errors ------------------------------------------------------------------ */

static void expect_error(const char *spec, int want_rc, const char *want_msg)
{
    CharBackend *cb = (CharBackend *)&cb;
    char err[256] = "";
    int rc = chardev_open(spec, &q, UNIT, &cb, err, sizeof(err));

    cr_assert_eq(rc, want_rc, "%s: rc %d (%s), want %d", spec, rc, err, want_rc);
    cr_assert_null(cb);
    cr_assert_null(strchr(err, '\n'), "one line: %s", err);
    cr_assert_eq(strncmp(err, spec, strlen(spec)), 0, "names the spec: %s", err);
    cr_assert_eq(err[strlen(spec)], ':', "%s", err);
    if (want_msg)
        cr_assert_str_eq(err, want_msg);
}

Test(chardev, bad_specs)
{
    char spec[64], msg[128];

    expect_error("file:/nonexistent/x", -ENOENT,
                 "file:/nonexistent/x: No such file or directory");
    expect_error("bogus", -EINVAL, NULL);
    expect_error("file:", -EINVAL, NULL);
    expect_error("tcp:127.0.0.1", -EINVAL, NULL);
    expect_error("tcp:127.0.0.1:99999", -EINVAL, NULL);
    expect_error("tcp:127.0.0.1:http", -EINVAL, NULL);
    expect_error("tcp:127.0.0.1:80,frobnicate=on", -EINVAL, NULL);
    expect_error("tcp:127.0.0.1:80,server=maybe", -EINVAL, NULL);
    expect_error("tcp:[::1:80", -EINVAL, NULL);
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", dead_port());
    snprintf(msg, sizeof(msg), "%s: Connection refused", spec);
    expect_error(spec, -ECONNREFUSED, msg);
}

Test(chardev, server_port_in_use)
{
    char spec[64];
    int port, fd = listen_any(&port);

    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d,server=on,wait=off", port);
    expect_error(spec, -EADDRINUSE, NULL);
    close(fd);
}

/* ---- pty ------------------------------------------------------------------------ */

/* Run chardev_open with stderr captured into `out`. */
static CharBackend *open_capturing_stderr(const char *spec, char *out, size_t len)
{
    char path[] = "/tmp/vireo-stderr-XXXXXX";
    int tmp = mkstemp(path), saved = dup(2);

    cr_assert_geq(tmp, 0);
    fflush(stderr);
    dup2(tmp, 2);
    CharBackend *cb = open_ok(spec, &q);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(tmp, out, len - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(tmp);
    unlink(path);
    return cb;
}

Test(chardev, pty_both_ways)
{
    char line[256], path[200], buf[16] = "";
    CharBackend *cb = open_capturing_stderr("pty", line, sizeof(line));

    cr_assert_eq(sscanf(line, "vireo: char device redirected to %199s", path), 1,
                 "stderr said: %s", line);
    cr_assert_eq(strncmp(path, "/dev/pts/", 9), 0, "%s", path);
    cr_assert_eq(line[strlen(line) - 1], '\n');
    int fd = open(path, O_RDWR | O_NOCTTY);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));

    write_fd(fd, "ping\n", 5);
    pump(5, 5000);
    cr_assert_eq(got.len, 5);
    cr_assert_arr_eq(got.buf, "ping\n", 5, "raw: no echo, no CR mapping");
    cr_assert_eq(got.bad_unit, 0);

    write_str(cb, "pong\n");
    cr_assert_eq(read_for(fd, buf, 5, 5000), 5);
    cr_assert_arr_eq(buf, "pong\n", 5);
    close(fd);
    /* Nobody attached now: output must not block, whatever the amount. */
    static uint8_t big[1 << 16];
    int64_t start = now_ms();
    for (int i = 0; i < 16; i++)
        chardev_write(cb, big, sizeof(big));
    cr_assert_lt(now_ms() - start, 2000);
    cr_assert_gt(chardev_output_dropped(cb), 0);
    chardev_close(cb);
}

/* ---- tcp ---------------------------------------------------------------------- */

Test(chardev, tcp_server_nowait)
{
    CharBackend *cb = open_ok("tcp:127.0.0.1:0,server=on,wait=off", &q);
    int port = chardev_local_port(cb);
    char buf[16] = "";

    cr_assert_gt(port, 0);
    write_str(cb, "lost");                  /* nobody connected yet */
    cr_assert_eq(chardev_output_dropped(cb), 4);

    int c = connect_to(port);
    write_fd(c, "hello", 5);
    pump(5, 5000);
    cr_assert_eq(got.len, 5);
    cr_assert_arr_eq(got.buf, "hello", 5);
    write_str(cb, "world");
    cr_assert_eq(read_for(c, buf, 5, 5000), 5);
    cr_assert_arr_eq(buf, "world", 5);
    close(c);

    /* A second client after the first left. */
    c = connect_to(port);
    write_fd(c, "again", 5);
    pump(10, 5000);
    cr_assert_arr_eq(got.buf + 5, "again", 5);
    write_str(cb, "back");
    cr_assert_eq(read_for(c, buf, 4, 5000), 4);
    cr_assert_arr_eq(buf, "back", 4);
    close(c);
    chardev_close(cb);
}

/* -debugcon tcp:...,server: no input queue, clients still come and go. */
Test(chardev, tcp_server_output_only)
{
    CharBackend *cb = open_ok("tcp:127.0.0.1:0,server=on,wait=off", NULL);
    char buf[8] = "";

    for (int round = 0; round < 2; round++) {
        int c = connect_to(chardev_local_port(cb));
        write_fd(c, "ignored", 7);
        int64_t end = now_ms() + 5000;
        size_t n = 0;
        while (n == 0 && now_ms() < end) {   /* until the server accepted */
            write_str(cb, "d");
            n = read_for(c, buf, 1, 20);
        }
        cr_assert_eq(n, 1, "round %d", round);
        cr_assert_eq(buf[0], 'd');
        close(c);
    }
    chardev_close(cb);
}

typedef struct Dialer {
    int port;
    int fd;
} Dialer;

static void *dial_later(void *opaque)
{
    Dialer *d = opaque;

    sleep_ms(200);
    d->fd = connect_to(d->port);
    return NULL;
}

Test(chardev, tcp_server_wait_blocks_until_a_client)
{
    Dialer d = { .port = dead_port(), .fd = -1 };
    pthread_t t;
    char spec[64], line[256], buf[8] = "";

    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d,server", d.port);
    pthread_create(&t, NULL, dial_later, &d);
    int64_t start = now_ms();
    CharBackend *cb = open_capturing_stderr(spec, line, sizeof(line));
    cr_assert_geq(now_ms() - start, 150, "returned before the client came");
    pthread_join(t, NULL);
    cr_assert_not_null(strstr(line, "waiting for connection"), "%s", line);
    cr_assert_not_null(strstr(line, spec), "%s", line);
    write_str(cb, "hi");
    cr_assert_eq(read_for(d.fd, buf, 2, 5000), 2, "connected at once");
    cr_assert_arr_eq(buf, "hi", 2);
    close(d.fd);
    chardev_close(cb);
}

Test(chardev, tcp_client)
{
    int port, l = listen_any(&port);
    char spec[64], buf[8] = "";

    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", port);
    CharBackend *cb = open_ok(spec, &q);
    int c = accept(l, NULL, NULL);
    cr_assert_geq(c, 0);
    write_str(cb, "out");
    cr_assert_eq(read_for(c, buf, 3, 5000), 3);
    cr_assert_arr_eq(buf, "out", 3);
    write_fd(c, "in", 2);
    pump(2, 5000);
    cr_assert_arr_eq(got.buf, "in", 2);
    close(c);
    sleep_ms(50);
    write_str(cb, "gone");                 /* the peer left: dropped, no crash */
    chardev_close(cb);
    close(l);
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
}

/* A queue of two slots forces the reader through its full-queue retry. */
Test(chardev, socket_input_in_order_through_a_full_queue)
{
    static uint8_t data[200000];
    EventQueue small;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = pattern(i);
    cr_assert_eq(events_init(&small, 2), 0);
    events_set_sink(&small, EVENT_SERIAL_RX, sink, &got);
    CharBackend *cb = open_ok("tcp:127.0.0.1:0,server=on,wait=off", &small);
    int c = connect_to(chardev_local_port(cb));
    write_fd(c, data, sizeof(data));
    int64_t end = now_ms() + 20000;
    while (got.len < sizeof(data) && now_ms() < end) {
        events_wait(&small, 10 * 1000000);
        events_deliver(&small, 0);
        sleep_ms(1);                        /* a slow vCPU */
    }
    cr_assert_eq(got.len, sizeof(data));
    for (size_t i = 0; i < sizeof(data); i++)
        cr_assert_eq(got.buf[i], data[i], "byte %zu", i);
    cr_assert_gt(small.dropped, 0, "the queue really was full");
    cr_assert_eq(chardev_input_posted(cb), sizeof(data));
    close(c);
    chardev_close(cb);
    events_destroy(&small);
}

Test(chardev, input_limit_holds_bytes_back)
{
    static uint8_t data[1000];
    CharBackend *cb = open_ok("tcp:127.0.0.1:0,server=on,wait=off", &q);

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = pattern(i);
    chardev_set_input_limit(cb, 100);
    int c = connect_to(chardev_local_port(cb));
    write_fd(c, data, sizeof(data));
    pump(sizeof(data), 300);
    cr_assert_eq(got.len, 100, "only up to the limit");
    cr_assert_eq(chardev_input_posted(cb), 100);
    chardev_set_input_limit(cb, 400);
    pump(sizeof(data), 300);
    cr_assert_eq(got.len, 400);
    chardev_set_input_limit(cb, UINT64_MAX);
    pump(sizeof(data), 5000);
    cr_assert_eq(got.len, sizeof(data));
    cr_assert_arr_eq(got.buf, data, sizeof(data));
    close(c);
    chardev_close(cb);
}

/* A client that never reads: writes stall at most briefly, then drop. */
Test(chardev, slow_peer_does_not_block_output)
{
    static uint8_t chunk[1 << 16];
    CharBackend *cb = open_ok("tcp:127.0.0.1:0,server=on,wait=off", &q);
    int c = connect_to(chardev_local_port(cb));

    write_fd(c, "x", 1);
    pump(1, 5000);                          /* the server has accepted */
    int64_t start = now_ms();
    for (int i = 0; i < 400; i++)
        chardev_write(cb, chunk, sizeof(chunk));
    cr_assert_lt(now_ms() - start, 3000, "took %lld ms",
                 (long long)(now_ms() - start));
    cr_assert_gt(chardev_output_dropped(cb), 0);
    close(c);
    chardev_close(cb);
}

/* ---- stdio ----------------------------------------------------------------------- */

typedef struct Tty {
    int master, slave;
    int saved0, saved1;
} Tty;

/* Put a fresh pty (in its default cooked mode) behind fds 0 and 1. */
static void tty_attach(Tty *t)
{
    t->master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(t->master, 0);
    cr_assert_eq(grantpt(t->master), 0);
    cr_assert_eq(unlockpt(t->master), 0);
    t->slave = open(ptsname(t->master), O_RDWR | O_NOCTTY);
    cr_assert_geq(t->slave, 0);
    t->saved0 = dup(0);
    t->saved1 = dup(1);
    dup2(t->slave, 0);
    dup2(t->slave, 1);
}

static void tty_detach(Tty *t)
{
    dup2(t->saved0, 0);
    dup2(t->saved1, 1);
    close(t->saved0);
    close(t->saved1);
    close(t->slave);
    close(t->master);
}

static tcflag_t lflags(int fd)
{
    struct termios tio;

    cr_assert_eq(tcgetattr(fd, &tio), 0);
    return tio.c_lflag;
}

static volatile int quits;

static void on_quit(void *opaque)
{
    (void)opaque;
    quits++;
}

Test(chardev, stdio_raw_mode_and_escapes)
{
    Tty t;
    char buf[512] = "";

    tty_attach(&t);
    cr_assert(lflags(t.slave) & ICANON);
    CharBackend *cb = open_ok("stdio", &q);
    chardev_set_quit_hook(cb, on_quit, NULL);
    tcflag_t raw = lflags(t.slave);
    cr_assert_not(raw & (ICANON | ECHO | ISIG), "raw: 0x%x", (unsigned)raw);

    /* Ctrl-C reaches the guest; Ctrl-A Ctrl-A sends one Ctrl-A; an unknown
     * command is swallowed. */
    write_fd(t.master, "a\x03\x01\x01" "b\x01zc", 8);
    pump(5, 5000);
    cr_assert_eq(got.len, 5);
    cr_assert_arr_eq(got.buf, "a\x03\x01" "bc", 5);

    write_fd(t.master, "\x01h", 2);
    size_t n = read_for(t.master, buf, sizeof(buf) - 1, 1000);
    cr_assert_not_null(strstr(buf, "C-a x"), "help: %.*s", (int)n, buf);

    write_fd(t.master, "\x01x", 2);
    for (int i = 0; i < 500 && !quits; i++)
        sleep_ms(10);
    cr_assert_eq(quits, 1);
    cr_assert_eq(got.len, 5, "escapes never reach the guest");

    write_str(cb, "guest says hi");
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(read_for(t.master, buf, 13, 5000), 13);
    cr_assert_str_eq(buf, "guest says hi");

    CharBackend *other = NULL;
    char err[256];
    cr_assert_eq(chardev_open("stdio", &q, 1, &other, err, sizeof(err)), -EBUSY);
    cr_assert_eq(strncmp(err, "stdio: ", 7), 0, "%s", err);
    CharBackend *out_only = open_ok("stdio", NULL);   /* -debugcon stdio */
    chardev_close(out_only);
    cr_assert_not(lflags(t.slave) & ICANON, "still raw for the reader");

    chardev_close(cb);
    cr_assert(lflags(t.slave) & ICANON, "terminal restored on close");
    cr_assert(lflags(t.slave) & ECHO);
    cb = open_ok("stdio", &q);              /* free again */
    chardev_close(cb);
    tty_detach(&t);
}

Test(chardev, stdio_from_a_pipe_is_verbatim)
{
    int p[2], saved = dup(0);

    cr_assert_eq(pipe(p), 0);
    dup2(p[0], 0);
    CharBackend *cb = open_ok("stdio", &q);
    chardev_set_quit_hook(cb, on_quit, NULL);
    write_fd(p[1], "\x01x\x03", 3);
    close(p[1]);                            /* EOF must not spin or crash */
    pump(3, 5000);
    cr_assert_eq(got.len, 3);
    cr_assert_arr_eq(got.buf, "\x01x\x03", 3);
    cr_assert_eq(quits, 0);
    chardev_close(cb);
    dup2(saved, 0);
    close(saved);
    close(p[0]);
}

/* In a child: raw stdio on a pty, then die in one of three ways.  The
 * parent checks the terminal was put back each time. */
static void check_restored_after(int how)
{
    Tty t;

    tty_attach(&t);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        CharBackend *cb = NULL;
        char err[256];
        if (chardev_open("stdio", NULL, 0, &cb, err, sizeof(err)) < 0)
            _exit(90);
        chardev_close(cb);
        EventQueue cq;
        events_init(&cq, 4);
        if (chardev_open("stdio", &cq, 0, &cb, err, sizeof(err)) < 0)
            _exit(91);
        if (lflags(0) & ICANON)
            _exit(92);
        if (how == 0)
            exit(0);                        /* as die() does */
        if (how == 1)
            raise(SIGTERM);
        chardev_set_quit_hook(cb, NULL, NULL);
        sleep(10);                          /* the parent sends Ctrl-A x */
        _exit(93);
    }
    if (how == 2) {
        sleep_ms(300);
        write_fd(t.master, "\x01x", 2);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (how == 0)
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
    else
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
                  "status 0x%x", status);
    cr_assert(lflags(t.slave) & ICANON, "terminal restored (how %d)", how);
    tty_detach(&t);
}

Test(chardev, terminal_restored_at_exit) { check_restored_after(0); }
Test(chardev, terminal_restored_on_sigterm) { check_restored_after(1); }
Test(chardev, ctrl_a_x_without_hook_terminates) { check_restored_after(2); }

/* Host character backends: stdio, null, file, pty and TCP sockets (see
 * frontends/chardev.h for the spec syntax, which follows QEMU's -serial).
 *
 * Threads.  Output is written on the vCPU thread by the device.  Input is
 * read by one reader thread per backend, which posts it to the input queue
 * (DESIGN.md contract 5) and is stopped through a self-pipe, never by
 * closing a descriptor under it.  For sockets the reader alone opens and
 * closes the connection; writers only use it under `lock`, so a descriptor
 * is never closed while another thread sends on it.
 *
 * The terminal.  Raw mode is process-wide, so the saved settings are too:
 * they are restored by chardev_close, at exit, and by handlers for the
 * signals that would otherwise leave the user's shell unusable (installed
 * only where the disposition is still the default, so the board's own
 * SIGINT/SIGTERM handling and sanitizers keep theirs).
 */
#include "frontends/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "machine/clock.h"

#define CHR_READ_CHUNK 1024
#define CHR_CONNECT_TIMEOUT_MS 10000
#define CHR_SEND_WAIT_MS 50        /* longest a socket write may stall */
#define CHR_RETRY_MS 2             /* queue full or input limit reached */
#define CHR_ESCAPE 0x01            /* Ctrl-A */

typedef enum ChrKind { CHR_NULL, CHR_STDIO, CHR_FILE, CHR_PTY, CHR_TCP } ChrKind;

typedef struct HostChar {
    CharBackend cb;              /* first: a CharBackend * is a HostChar * */
    ChrKind kind;
    int in_fd, out_fd;           /* -1 when unused */
    int slave_fd;                /* pty: held open so reads never see EOF */
    int listen_fd, conn_fd;      /* tcp */
    int local_port;
    bool escapes;                /* stdio on a tty: Ctrl-A commands */
    bool escape_seen;
    bool congested;              /* last socket write timed out */
    bool input_eof;
    bool owns_stdin;             /* this backend reads stdin (and the tty) */
    pthread_mutex_t lock;        /* conn_fd swaps, quit hook */
    int wake[2];                 /* self-pipe: stop the reader */
    pthread_t reader;
    bool reader_started;
    EventQueue *q;
    uint32_t unit;
    _Atomic uint64_t posted, limit, dropped;
    ChardevQuitFn quit;
    void *quit_opaque;
} HostChar;

/* ---- the terminal (process-wide) ---------------------------------------- */

static pthread_mutex_t tty_lock = PTHREAD_MUTEX_INITIALIZER;
static struct termios tty_saved;
static volatile sig_atomic_t tty_is_raw;
static bool stdio_reader_taken;
static bool tty_atexit_done;

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
                                   SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define TTY_NSIG (sizeof(tty_signals) / sizeof(tty_signals[0]))
static bool tty_handler_installed[TTY_NSIG];

/* Async-signal-safe: tcsetattr is on POSIX's list. */
static void tty_restore(void)
{
    if (tty_is_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &tty_saved);
        tty_is_raw = 0;
    }
}

static void tty_signal_handler(int sig)
{
    tty_restore();
    /* Die of the same signal, so the parent sees the real cause. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void tty_install_handlers(void)
{
    for (size_t i = 0; i < TTY_NSIG; i++) {
        struct sigaction old, sa = { .sa_handler = tty_signal_handler };
        if (sigaction(tty_signals[i], NULL, &old) < 0 || old.sa_handler != SIG_DFL)
            continue;
        sigemptyset(&sa.sa_mask);
        tty_handler_installed[i] = sigaction(tty_signals[i], &sa, NULL) == 0;
    }
}

/* Put back SIG_DFL only where our handler is still the one installed. */
static void tty_remove_handlers(void)
{
    for (size_t i = 0; i < TTY_NSIG; i++) {
        struct sigaction cur;
        if (!tty_handler_installed[i])
            continue;
        tty_handler_installed[i] = false;
        if (sigaction(tty_signals[i], NULL, &cur) == 0 &&
            cur.sa_handler == tty_signal_handler)
            signal(tty_signals[i], SIG_DFL);
    }
}

/* Raw input, as QEMU's stdio: no echo, no line editing, no signals from
 * Ctrl-C/Ctrl-Z (they belong to the guest), 8-bit clean.  Output
 * processing stays on so that a guest printing bare "\n" stays readable. */
static int tty_make_raw(void)
{
    struct termios t;

    if (tcgetattr(STDIN_FILENO, &tty_saved) < 0)
        return -errno;
    t = tty_saved;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
                             IGNCR | ICRNL | IXON);
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (!tty_atexit_done)
        tty_atexit_done = atexit(tty_restore) == 0;
    tty_install_handlers();
    tty_is_raw = 1;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0) {
        int e = errno;
        tty_is_raw = 0;
        tty_remove_handlers();
        return -e;
    }
    return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Sleep up to `ms`, returning true early if the reader is asked to stop. */
static bool wait_wake(HostChar *h, int ms)
{
    struct pollfd p = { .fd = h->wake[0], .events = POLLIN };

    return poll(&p, 1, ms) > 0;
}

/* ---- output --------------------------------------------------------------- */

/* Blocking write for stdio and files: a terminal that scrolls is allowed
 * to hold the guest back, and must not lose text. */
static void write_all_blocking(HostChar *h, int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            /* Someone made our stdout non-blocking: wait, but not forever. */
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            if (poll(&p, 1, 1000) <= 0)
                break;
        } else {
            break;
        }
    }
    atomic_fetch_add(&h->dropped, len);
}

/* Sockets: wait at most CHR_SEND_WAIT_MS for a slow peer, and once that
 * has timed out do not wait again until the peer drains, so a client that
 * stops reading costs one stall, not one per byte. */
static void write_socket(HostChar *h, const uint8_t *buf, size_t len)
{
    int64_t deadline = clock_host_ns() + (int64_t)CHR_SEND_WAIT_MS * 1000000;

    pthread_mutex_lock(&h->lock);
    while (len && h->conn_fd >= 0) {
        ssize_t n = send(h->conn_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            h->congested = false;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && !h->congested) {
            int64_t left = (deadline - clock_host_ns()) / 1000000;
            struct pollfd p = { .fd = h->conn_fd, .events = POLLOUT };
            if (left > 0 && poll(&p, 1, (int)left) > 0)
                continue;
            h->congested = true;
        }
        break;   /* a dead peer: the reader sees it and closes */
    }
    pthread_mutex_unlock(&h->lock);
    atomic_fetch_add(&h->dropped, len);
}

static void chr_write(CharBackend *cb, const uint8_t *buf, size_t len)
{
    HostChar *h = (HostChar *)cb;

    switch (h->kind) {
    case CHR_NULL:
        break;
    case CHR_TCP:
        write_socket(h, buf, len);
        break;
    case CHR_PTY: {
        /* Nobody may be attached: drop what the pty buffer cannot hold. */
        ssize_t n;
        do {
            n = write(h->out_fd, buf, len);
        } while (n < 0 && errno == EINTR);
        atomic_fetch_add(&h->dropped, n < 0 ? len : len - (size_t)n);
        break;
    }
    default:
        write_all_blocking(h, h->out_fd, buf, len);
        break;
    }
}

/* ---- input ---------------------------------------------------------------- */

/* Post in order; a full queue is retried, as a UART's sender would wait.
 * Returns false if asked to stop meanwhile. */
static bool post_input(HostChar *h, const uint8_t *buf, size_t len)
{
    if (!h->q)
        return true;       /* an output-only socket: input is discarded */
    while (len) {
        size_t n = len < EVENT_MAX_DATA ? len : EVENT_MAX_DATA;
        int rc = events_post(h->q, EVENT_SERIAL_RX, h->unit, buf, n);
        if (rc == -ENOSPC) {
            if (wait_wake(h, CHR_RETRY_MS))
                return false;
            continue;
        }
        if (rc == 0)
            atomic_fetch_add(&h->posted, n);
        buf += n;
        len -= n;
    }
    return true;
}

static void write_help(HostChar *h)
{
    static const char help[] =
        "\r\n"
        "C-a h    print this help\r\n"
        "C-a x    exit emulator\r\n"
        "C-a C-a  sends C-a\r\n";

    write_all_blocking(h, h->out_fd, (const uint8_t *)help, sizeof(help) - 1);
}

static void request_quit(HostChar *h)
{
    pthread_mutex_lock(&h->lock);
    ChardevQuitFn fn = h->quit;
    void *opaque = h->quit_opaque;
    pthread_mutex_unlock(&h->lock);
    if (fn)
        fn(opaque);
    else
        kill(getpid(), SIGTERM);
}

/* QEMU's mux escapes; unknown commands are swallowed, as QEMU does.
 * Returns the number of bytes left in buf for the guest. */
static size_t filter_escapes(HostChar *h, uint8_t *buf, size_t len)
{
    size_t out = 0;

    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (!h->escape_seen) {
            if (c == CHR_ESCAPE)
                h->escape_seen = true;
            else
                buf[out++] = c;
            continue;
        }
        h->escape_seen = false;
        if (c == CHR_ESCAPE)
            buf[out++] = c;
        else if (c == 'x' || c == 'X')
            request_quit(h);
        else if (c == 'h' || c == 'H' || c == '?')
            write_help(h);
    }
    return out;
}

/* tcp: take a waiting client (server) in the reader thread. */
static void accept_client(HostChar *h)
{
    int fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    int one = 1;

    if (fd < 0)
        return;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pthread_mutex_lock(&h->lock);
    h->conn_fd = fd;
    h->congested = false;
    pthread_mutex_unlock(&h->lock);
}

static void drop_client(HostChar *h)
{
    pthread_mutex_lock(&h->lock);
    close_fd(&h->conn_fd);
    pthread_mutex_unlock(&h->lock);
}

/* The descriptor to wait on now, or -1 (nothing to read: just wait). */
static int reader_fd(HostChar *h, bool *is_listen)
{
    *is_listen = false;
    if (h->kind != CHR_TCP)
        return h->input_eof ? -1 : h->in_fd;
    if (h->conn_fd >= 0)      /* only this thread changes conn_fd */
        return h->conn_fd;
    *is_listen = h->listen_fd >= 0;
    return h->listen_fd;
}

static void *reader_main(void *opaque)
{
    HostChar *h = opaque;
    uint8_t buf[CHR_READ_CHUNK];

    for (;;) {
        bool is_listen;
        int fd = reader_fd(h, &is_listen);
        uint64_t limit = atomic_load(&h->limit), posted = atomic_load(&h->posted);
        uint64_t room = posted < limit ? limit - posted : 0;
        bool can_read = fd >= 0 && (is_listen || room > 0);
        struct pollfd p[2] = { { .fd = h->wake[0], .events = POLLIN },
                               { .fd = fd, .events = POLLIN } };

        /* At the input limit, poll the limit every few ms rather than add
         * a second wake-up channel for it. */
        int rc = poll(p, can_read ? 2 : 1, can_read || fd < 0 ? -1 : CHR_RETRY_MS);
        if (rc < 0 && errno != EINTR)
            break;
        if (rc <= 0)
            continue;
        if (p[0].revents)
            break;
        if (is_listen) {
            accept_client(h);
            continue;
        }
        size_t want = room < sizeof(buf) ? (size_t)room : sizeof(buf);
        ssize_t n = read(fd, buf, want);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            /* EOF or error: a socket client went away; stdin ended. */
            if (h->kind == CHR_TCP)
                drop_client(h);
            else
                h->input_eof = true;
            continue;
        }
        size_t len = h->escapes ? filter_escapes(h, buf, (size_t)n) : (size_t)n;
        if (!post_input(h, buf, len))
            break;
    }
    return NULL;
}

/* Start the reader with every signal blocked, so that SIGINT and SIGTERM
 * reach the main thread's handlers. */
static int start_reader(HostChar *h)
{
    sigset_t all, old;
    int rc;

    if (pipe2(h->wake, O_CLOEXEC) < 0)
        return -errno;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&h->reader, NULL, reader_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return -rc;
    h->reader_started = true;
    return 0;
}

/* ---- opening -------------------------------------------------------------- */

static int open_stdio(HostChar *h, bool want_input)
{
    h->in_fd = STDIN_FILENO;
    h->out_fd = STDOUT_FILENO;
    if (!want_input)
        return 0;
    pthread_mutex_lock(&tty_lock);
    if (stdio_reader_taken) {
        pthread_mutex_unlock(&tty_lock);
        return -EBUSY;
    }
    int rc = isatty(STDIN_FILENO) ? tty_make_raw() : 0;
    if (rc == 0) {
        stdio_reader_taken = true;
        h->owns_stdin = true;
        h->escapes = tty_is_raw;
    }
    pthread_mutex_unlock(&tty_lock);
    return rc;
}

static int open_file(HostChar *h, const char *path)
{
    h->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return h->out_fd < 0 ? -errno : 0;
}

static int open_pty(HostChar *h)
{
    struct termios t;
    char name[128];
    int rc;

    h->in_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (h->in_fd < 0)
        return -errno;
    h->out_fd = h->in_fd;
    if (grantpt(h->in_fd) < 0 || unlockpt(h->in_fd) < 0)
        return -errno;
    rc = ptsname_r(h->in_fd, name, sizeof(name));   /* ptsname isn't MT-safe */
    if (rc)
        return -rc;
    h->slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (h->slave_fd < 0)
        return -errno;
    /* Raw until the user's program sets its own modes: with the default
     * echo on, the guest's output would come back as its input. */
    if (tcgetattr(h->slave_fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(h->slave_fd, TCSANOW, &t);
    }
    rc = set_nonblock(h->in_fd);
    if (rc == 0)
        fprintf(stderr, "vireo: char device redirected to %s\n", name);
    return rc;
}

typedef struct TcpSpec {
    char host[256];
    char port[16];
    bool server, wait;
} TcpSpec;

/* options.c's booleans; a bare "server" means on. */
static bool parse_bool_word(const char *v, bool *out)
{
    static const char *const words[] = { "on", "off", "yes", "no", "true",
                                         "false", "y", "n" };

    for (size_t i = 0; v && i < 8; i++) {
        if (strcmp(v, words[i]) == 0)
            return *out = i % 2 == 0, true;
    }
    return v ? false : (*out = true);
}

/* "[HOST]:PORT[,server[=B]][,wait=B][,nowait]", as options.c checks it. */
static int parse_tcp(const char *arg, TcpSpec *t)
{
    char buf[512];
    char *save = NULL, *item, *addr, *colon;
    bool wait_given = false;

    *t = (TcpSpec){0};
    if (strlen(arg) >= sizeof(buf))
        return -ENAMETOOLONG;
    strcpy(buf, arg);
    addr = strtok_r(buf, ",", &save);
    if (!addr)
        return -EINVAL;
    if (strchr(addr, '='))
        addr = strchr(addr, '=') + 1;    /* "address=HOST:PORT" */
    colon = strrchr(addr, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(t->port) ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        strtoul(colon + 1, NULL, 10) > 65535)
        return -EINVAL;
    strcpy(t->port, colon + 1);
    *colon = '\0';
    if (addr[0] == '[') {
        size_t n = strlen(addr);
        if (n < 3 || addr[n - 1] != ']')
            return -EINVAL;
        addr[n - 1] = '\0';
        addr++;
    }
    if (strlen(addr) >= sizeof(t->host))
        return -EINVAL;
    strcpy(t->host, addr);
    while ((item = strtok_r(NULL, ",", &save))) {
        char *val = strchr(item, '=');
        if (val)
            *val++ = '\0';
        if (strcmp(item, "server") == 0 && parse_bool_word(val, &t->server))
            continue;
        if (strcmp(item, "wait") == 0 && parse_bool_word(val, &t->wait)) {
            wait_given = true;
            continue;
        }
        if (strcmp(item, "nowait") == 0 && !val) {
            t->wait = false;
            wait_given = true;
            continue;
        }
        return -EINVAL;
    }
    if (!wait_given)
        t->wait = true;    /* QEMU's default for a server */
    return 0;
}

/* Wait for a non-blocking connect to finish. */
static int connect_wait(int fd, const struct addrinfo *ai)
{
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -errno;
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int rc;
    do {
        rc = poll(&p, 1, CHR_CONNECT_TIMEOUT_MS);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return -ETIMEDOUT;
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        return -errno;
    return -soerr;
}

/* Try each address; *fd_out gets a bound+listening or connected socket. */
static int tcp_socket(const TcpSpec *t, int *fd_out)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = t->server ? AI_PASSIVE : 0 };
    struct addrinfo *res, *ai;
    const char *host = t->host[0] ? t->host : t->server ? NULL : "localhost";
    int rc = getaddrinfo(host, t->port, &hints, &res);
    int err = -EADDRNOTAVAIL, one = 1;

    if (rc != 0)
        return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
                        SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            err = -errno;
            continue;
        }
        if (t->server) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            err = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
                  listen(fd, 1) == 0 ? 0 : -errno;
        } else {
            err = connect_wait(fd, ai);
            if (!err)
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        if (!err) {
            *fd_out = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return err;
}

static int open_tcp(HostChar *h, const char *arg, const char *spec)
{
    TcpSpec t;
    int rc = parse_tcp(arg, &t);

    if (rc < 0)
        return rc;
    if (!t.server)
        return tcp_socket(&t, &h->conn_fd);
    rc = tcp_socket(&t, &h->listen_fd);
    if (rc < 0)
        return rc;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(h->listen_fd, (struct sockaddr *)&ss, &len) == 0)
        h->local_port = ntohs(ss.ss_family == AF_INET6
                              ? ((struct sockaddr_in6 *)&ss)->sin6_port
                              : ((struct sockaddr_in *)&ss)->sin_port);
    if (!t.wait)
        return 0;
    fprintf(stderr, "vireo: waiting for connection on %s (port %d)\n", spec,
            h->local_port);
    struct pollfd p = { .fd = h->listen_fd, .events = POLLIN };
    while (h->conn_fd < 0) {
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return -errno;
        accept_client(h);
    }
    return 0;
}

static int open_kind(HostChar *h, const char *spec, bool want_input)
{
    if (strcmp(spec, "null") == 0 || strcmp(spec, "none") == 0) {
        h->kind = CHR_NULL;
        return 0;
    }
    if (strcmp(spec, "stdio") == 0) {
        h->kind = CHR_STDIO;
        return open_stdio(h, want_input);
    }
    if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
        h->kind = CHR_FILE;
        return open_file(h, spec + 5);
    }
    if (strcmp(spec, "pty") == 0) {
        h->kind = CHR_PTY;
        return open_pty(h);
    }
    if (strncmp(spec, "tcp:", 4) == 0) {
        h->kind = CHR_TCP;
        return open_tcp(h, spec + 4, spec);
    }
    return -EINVAL;
}

static const char *open_error_text(int rc, const char *spec)
{
    if (rc == -EINVAL)
        return strncmp(spec, "tcp:", 4) == 0
            ? "invalid address or option (tcp:[HOST]:PORT[,server=on|off]"
              "[,wait=on|off])"
            : "unknown character device (stdio, null, none, pty, file:PATH, "
              "tcp:[HOST]:PORT, mon:DEV)";
    if (rc == -EBUSY)
        return "stdin is already read by another character device";
    if (rc == -EHOSTUNREACH)
        return "cannot resolve host";
    return strerror(-rc);
}

static void host_close(CharBackend *cb);

int chardev_open(const char *spec, EventQueue *q, uint32_t unit,
                 CharBackend **out, char *err, size_t errlen)
{
    const char *kind_spec = spec;
    HostChar *h = calloc(1, sizeof(*h));
    int rc = -ENOMEM;

    *out = NULL;
    if (!h)
        goto fail_nomem;
    if (strncmp(kind_spec, "mon:", 4) == 0)
        kind_spec += 4;          /* no monitor yet: the device alone */
    h->cb.write = chr_write;
    h->cb.close = host_close;
    h->cb.set_input_limit = chardev_set_input_limit;
    h->cb.name = strdup(spec);
    h->in_fd = h->out_fd = h->slave_fd = h->listen_fd = h->conn_fd = -1;
    h->wake[0] = h->wake[1] = -1;
    h->local_port = -1;
    h->q = q;
    h->unit = unit;
    atomic_init(&h->limit, UINT64_MAX);
    atomic_init(&h->posted, 0);
    atomic_init(&h->dropped, 0);
    if (!h->cb.name || pthread_mutex_init(&h->lock, NULL) != 0) {
        free((char *)h->cb.name);
        free(h);
        goto fail_nomem;
    }
    rc = open_kind(h, kind_spec, q != NULL);
    /* Sockets always get a reader: it accepts and notices hang-ups even
     * for an output-only device. */
    if (rc == 0 && ((q && (h->kind == CHR_STDIO || h->kind == CHR_PTY)) ||
                    h->kind == CHR_TCP))
        rc = start_reader(h);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", spec, open_error_text(rc, spec));
        host_close(&h->cb);
        return rc;
    }
    *out = &h->cb;
    return 0;

fail_nomem:
    snprintf(err, errlen, "%s: out of memory", spec);
    return -ENOMEM;
}

static void host_close(CharBackend *cb)
{
    HostChar *h = (HostChar *)cb;

    if (h->reader_started) {
        ssize_t n;
        do {
            n = write(h->wake[1], "q", 1);
        } while (n < 0 && errno == EINTR);
        pthread_join(h->reader, NULL);
    }
    close_fd(&h->wake[0]);
    close_fd(&h->wake[1]);
    if (h->owns_stdin) {
        pthread_mutex_lock(&tty_lock);
        tty_restore();
        tty_remove_handlers();
        stdio_reader_taken = false;
        pthread_mutex_unlock(&tty_lock);
    } else if (h->kind != CHR_STDIO) {
        close_fd(&h->in_fd);
        if (h->out_fd != h->in_fd)
            close_fd(&h->out_fd);
    }
    close_fd(&h->slave_fd);
    close_fd(&h->conn_fd);
    close_fd(&h->listen_fd);
    pthread_mutex_destroy(&h->lock);
    free((char *)h->cb.name);
    free(h);
}

void chardev_close(CharBackend *cb)
{
    if (cb && cb->close)
        cb->close(cb);
}

void chardev_set_quit_hook(CharBackend *cb, ChardevQuitFn fn, void *opaque)
{
    HostChar *h = (HostChar *)cb;

    pthread_mutex_lock(&h->lock);
    h->quit = fn;
    h->quit_opaque = opaque;
    pthread_mutex_unlock(&h->lock);
}

void chardev_set_input_limit(CharBackend *cb, uint64_t limit)
{
    atomic_store(&((HostChar *)cb)->limit, limit);
}

uint64_t chardev_input_posted(CharBackend *cb)
{
    return atomic_load(&((HostChar *)cb)->posted);
}

uint64_t chardev_output_dropped(CharBackend *cb)
{
    return atomic_load(&((HostChar *)cb)->dropped);
}

int chardev_local_port(CharBackend *cb)
{
    return ((HostChar *)cb)->local_port;
}

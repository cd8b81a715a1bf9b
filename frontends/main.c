/* The program entry: parse the command line, build the PC, run it.
 *
 * Exit statuses: 0 after --help/--version, 2 for a bad command line (as
 * QEMU's usage errors), 1 when the machine cannot be built, and otherwise
 * whatever the guest asked for (pc_run's status, e.g. isa-debug-exit's).
 * Every error is one line on stderr starting "vireo: ".
 */
#include <stdio.h>
#include <string.h>

#include "frontends/chardev.h"
#include "frontends/options.h"
#include "machine/config.h"
#include "machine/pc.h"
#include "util/log.h"

#define EXIT_USAGE 2
#define EXIT_SETUP 1

/* -d and -D; on failure the message is in err. */
static int apply_logging(const VmConfig *cfg, char *err, size_t errlen)
{
    int rc;

    log_mask = cfg->log_mask;
    if (cfg->log_file == NULL)
        return 0;
    rc = log_set_file(cfg->log_file);
    if (rc < 0)
        snprintf(err, errlen, "-D: cannot open '%s': %s", cfg->log_file,
                 strerror(-rc));
    return rc;
}

#define MAX_BACKENDS 8

/* Ctrl-A x on a terminal backend. */
static void quit_from_terminal(void *opaque)
{
    pc_request_quit(opaque);
}

/* Open the backend for `spec` and attach it; returns 0 or -errno with the
 * reason in err, prefixed with the option it came from. */
static int open_backend(Pc *pc, const char *option, const char *spec,
                        EventQueue *q, unsigned unit, CharBackend **out,
                        char *err, size_t errlen)
{
    char why[400];
    int rc = chardev_open(spec, q, unit, out, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", option, why);
        return rc;
    }
    chardev_set_quit_hook(*out, quit_from_terminal, pc);
    return 0;
}

/* The serial ports get their -serial backends; without -serial, COM1 goes
 * to the terminal (there is no graphical console yet), as with QEMU's
 * -nographic.  The debug console is output only. */
static int attach_backends(Pc *pc, const VmConfig *cfg, CharBackend **cbs,
                           unsigned *count, char *err, size_t errlen)
{
    for (unsigned i = 0; i < pc_serial_count(pc); i++) {
        const char *spec = i < cfg->serial_count ? cfg->serial[i] : "mon:stdio";
        if (open_backend(pc, "-serial", spec, pc_event_queue(pc), i,
                         &cbs[*count], err, errlen) < 0)
            return -1;
        pc_attach_serial(pc, i, cbs[(*count)++]);
    }
    if (cfg->debugcon) {
        if (open_backend(pc, "-debugcon", cfg->debugcon, NULL, 0, &cbs[*count],
                         err, errlen) < 0)
            return -1;
        pc_attach_debugcon(pc, cbs[(*count)++]);
    }
    return 0;
}

static int run_machine(const VmConfig *cfg)
{
    char err[512];
    Pc *pc = NULL;
    CharBackend *backends[MAX_BACKENDS];
    unsigned count = 0;
    int status = EXIT_SETUP;

    if (pc_create(cfg, &pc, err, sizeof(err)) < 0) {
        fprintf(stderr, "vireo: %s\n", err);
        return EXIT_SETUP;
    }
    if (attach_backends(pc, cfg, backends, &count, err, sizeof(err)) < 0)
        fprintf(stderr, "vireo: %s\n", err);
    else
        status = pc_run(pc);
    pc_destroy(pc);
    while (count > 0)
        chardev_close(backends[--count]);
    return status;
}

int main(int argc, char **argv)
{
    char msg[512];
    VmConfig cfg;
    int status;

    config_defaults(&cfg);
    switch (options_parse(argc, argv, &cfg, msg, sizeof(msg), stdout)) {
    case OPTIONS_RUN:
        break;
    case OPTIONS_EXIT_OK:
        config_free(&cfg);
        return 0;
    default:
        fprintf(stderr, "vireo: %s\n", msg);
        config_free(&cfg);
        return EXIT_USAGE;
    }
    if (apply_logging(&cfg, msg, sizeof(msg)) < 0) {
        fprintf(stderr, "vireo: %s\n", msg);
        config_free(&cfg);
        return EXIT_USAGE;
    }
    status = run_machine(&cfg);
    log_close();
    config_free(&cfg);
    return status;
}

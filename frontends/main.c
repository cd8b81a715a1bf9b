/* The program entry: parse the command line, build the PC, run it.
 *
 * Exit statuses: 0 after --help/--version, 2 for a bad command line (as
 * QEMU's usage errors), 1 when the machine cannot be built, and otherwise
 * whatever the guest asked for (pc_run's status, e.g. isa-debug-exit's).
 * Every error is one line on stderr starting "vireo: ".
 */
#include <stdio.h>
#include <string.h>

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

static int run_machine(const VmConfig *cfg)
{
    char err[512];
    Pc *pc = NULL;
    int status;

    if (pc_create(cfg, &pc, err, sizeof(err)) < 0) {
        fprintf(stderr, "vireo: %s\n", err);
        return EXIT_SETUP;
    }
    status = pc_run(pc);
    pc_destroy(pc);
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

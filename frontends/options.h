/* The command-line parser: QEMU's option names and conventions.
 *
 * Parsing never exits: it returns a status and one line of text, so that
 * the unit tests can check every error.  main() prints the line and exits
 * with the status.
 */
#ifndef VIREO_FRONTENDS_OPTIONS_H
#define VIREO_FRONTENDS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "machine/config.h"

typedef enum OptionsResult {
    OPTIONS_RUN = 0,        /* boot the machine described by cfg */
    OPTIONS_EXIT_OK = 1,    /* --help, --version, -d help: message printed */
    OPTIONS_ERROR = 2,      /* bad input: msg holds one line, exit status 2 */
} OptionsResult;

/* Parse argv into cfg (which must hold config_defaults).  On OPTIONS_ERROR,
 * msg holds one line without a trailing newline, e.g.
 *   "-m: invalid size 'abc' (expected a number with optional K/M/G/T suffix)"
 *   "unknown option '-foo' (try --help)"
 *   "-snapshot: not implemented yet"
 * Output for --help/--version goes to `out`. */
OptionsResult options_parse(int argc, char **argv, VmConfig *cfg,
                            char *msg, size_t msglen, FILE *out);

/* Parse a QEMU-style size ("512", "512M", "1G", "1.5G"; bare numbers are
 * MiB for -m).  Returns 0 or -1. */
int options_parse_size(const char *text, uint64_t default_unit,
                       uint64_t *bytes);

#endif

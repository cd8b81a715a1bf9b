/* The machine configuration: defaults and clean-up.
 *
 * The defaults are QEMU's for its `pc` machine where QEMU has one (128 MiB
 * of RAM, one CPU, TCG), so that a command line means the same thing on
 * both.  Every string in a VmConfig is owned by it and freed here.
 */
#include "machine/config.h"

#include <stdlib.h>
#include <string.h>

void config_defaults(VmConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_bytes = 128ull << 20;
    cfg->cpus = 1;
    cfg->accel = ACCEL_TCG;
    cfg->jit = true;
    cfg->display = DISPLAY_DEFAULT;
}

static void drive_free(DriveConfig *drive)
{
    free(drive->file);
    free(drive->format);
    free(drive->interface);
}

/* Frees every slot, not only the first drive_count/serial_count ones, so a
 * config that a caller filled in by hand cannot leak.  Leaves cfg as
 * config_defaults() does, so freeing twice is harmless. */
void config_free(VmConfig *cfg)
{
    free(cfg->bios);
    free(cfg->kernel);
    free(cfg->initrd);
    free(cfg->append);
    for (unsigned i = 0; i < CONFIG_MAX_DRIVES; i++)
        drive_free(&cfg->drives[i]);
    free(cfg->boot_order);
    for (unsigned i = 0; i < CONFIG_MAX_SERIAL; i++)
        free(cfg->serial[i]);
    free(cfg->log_file);
    free(cfg->screendump);
    free(cfg->debugcon);
    config_defaults(cfg);
}

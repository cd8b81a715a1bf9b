/* The machine configuration: what the command line asked for.
 *
 * frontends/ fills it in; machine/ builds the board from it.  Plain data, so
 * that tests can build a config without parsing anything.
 */
#ifndef VIREO_MACHINE_CONFIG_H
#define VIREO_MACHINE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_MAX_DRIVES 8
#define CONFIG_MAX_SERIAL 4

typedef enum AccelKind { ACCEL_TCG, ACCEL_KVM, ACCEL_AUTO } AccelKind;
typedef enum DisplayKind { DISPLAY_DEFAULT, DISPLAY_NONE, DISPLAY_SDL } DisplayKind;

typedef struct DriveConfig {
    char *file;
    char *format;         /* "raw", "qcow2" or NULL to probe */
    char *interface;      /* "ide", "virtio" */
    bool cdrom;
    bool readonly;
    bool snapshot;        /* snapshot=on: writes go to a temporary overlay */
    int index;            /* -1: next free */
} DriveConfig;

/* A character backend as given to -serial or -debugcon:
 * "stdio", "file:PATH", "pty", "tcp:HOST:PORT[,server][,nowait]", "none",
 * "null".  Kept as the user's string; frontends/chardev parses it. */
typedef struct VmConfig {
    uint64_t ram_bytes;          /* -m, default 128 MiB as on QEMU */
    unsigned cpus;               /* -smp */
    char *bios;                  /* -bios, NULL: the bundled SeaBIOS */
    char *kernel, *initrd, *append;
    DriveConfig drives[CONFIG_MAX_DRIVES];
    unsigned drive_count;
    char *boot_order;            /* -boot order= (or once=): the device
                                    letters, e.g. "dc"; NULL: "cad" */
    bool boot_menu;              /* -boot menu=on */
    bool snapshot;               /* -snapshot: every drive as snapshot=on */
    bool nographic;
    char *serial[CONFIG_MAX_SERIAL];
    unsigned serial_count;
    DisplayKind display;
    bool no_reboot;
    AccelKind accel;
    bool jit;                    /* -accel tcg,jit=on|off */
    bool deterministic;          /* -icount shift=N */
    unsigned icount_shift;
    uint32_t log_mask;           /* -d */
    char *log_file;              /* -D */
    char *screendump;            /* -screendump: the VGA text screen is
                                    written here when the machine stops */
    char *debugcon;              /* -debugcon */
} VmConfig;

void config_defaults(VmConfig *cfg);
void config_free(VmConfig *cfg);

#endif

/* Unit tests for frontends/options.c and machine/config.c: every option's
 * happy path lands in the VmConfig, every error path gives OPTIONS_ERROR
 * with one line naming the option, and QEMU's size syntax gives the byte
 * counts worked out by hand.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/options.h"
#include "machine/config.h"
#include "util/log.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static VmConfig cfg;
static char msg[256];
static char *out_text;
static size_t out_len;
static FILE *out;

static void setup(void)
{
    config_defaults(&cfg);
    memset(msg, 0, sizeof(msg));
    out = open_memstream(&out_text, &out_len);
    cr_assert_not_null(out);
}

static void teardown(void)
{
    config_free(&cfg);
    fclose(out);
    free(out_text);
}

TestSuite(options, .init = setup, .fini = teardown);
TestSuite(size);
TestSuite(config);

#define ARGV(...) ((const char *[]){ "vireo", __VA_ARGS__, NULL })

static OptionsResult parse_argv(const char **argv)
{
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    return options_parse(argc, (char **)argv, &cfg, msg, sizeof(msg), out);
}

#define PARSE(...) parse_argv(ARGV(__VA_ARGS__))

static const char *output(void)
{
    fflush(out);
    return out_text ? out_text : "";
}

static void check_one_line(void)
{
    cr_assert_neq(msg[0], '\0', "empty error message");
    cr_assert_null(strchr(msg, '\n'), "message has a newline: '%s'", msg);
}

/* The message must start with `start` (normally "-opt: ..."). */
static void expect_error_argv(const char **argv, const char *start)
{
    OptionsResult r = parse_argv(argv);

    cr_assert_eq(r, OPTIONS_ERROR, "expected error '%s', got %d ('%s')",
                 start, r, msg);
    check_one_line();
    cr_assert(strncmp(msg, start, strlen(start)) == 0,
              "message '%s' does not start with '%s'", msg, start);
}

/* The message must start with `start` and contain `part`. */
static void expect_error_has_argv(const char **argv, const char *start,
                                  const char *part)
{
    expect_error_argv(argv, start);
    cr_assert_not_null(strstr(msg, part), "message '%s' lacks '%s'", msg, part);
}

#define EXPECT_ERROR(start, ...) expect_error_argv(ARGV(__VA_ARGS__), start)
#define EXPECT_ERROR_HAS(start, part, ...) \
    expect_error_has_argv(ARGV(__VA_ARGS__), start, part)
#define EXPECT_RUN(...)                                                  \
    cr_assert_eq(PARSE(__VA_ARGS__), OPTIONS_RUN, "unexpected error '%s'", msg)

/* ---- config ------------------------------------------------------------- */

Test(config, defaults)
{
    VmConfig c;

    memset(&c, 0xa5, sizeof(c));
    config_defaults(&c);
    cr_assert_eq(c.ram_bytes, 128 * MiB);
    cr_assert_eq(c.cpus, 1);
    cr_assert_eq(c.accel, ACCEL_TCG);
    cr_assert(c.jit);
    cr_assert_eq(c.display, DISPLAY_DEFAULT);
    cr_assert_null(c.bios);
    cr_assert_null(c.kernel);
    cr_assert_null(c.initrd);
    cr_assert_null(c.append);
    cr_assert_eq(c.drive_count, 0);
    cr_assert_null(c.drives[0].file);
    cr_assert_null(c.boot_order);
    cr_assert_not(c.nographic);
    cr_assert_eq(c.serial_count, 0);
    cr_assert_null(c.serial[0]);
    cr_assert_not(c.no_reboot);
    cr_assert_not(c.deterministic);
    cr_assert_eq(c.icount_shift, 0);
    cr_assert_eq(c.log_mask, 0);
    cr_assert_null(c.log_file);
    cr_assert_null(c.debugcon);
}

Test(config, free_releases_everything_and_resets)
{
    VmConfig c;

    config_defaults(&c);
    c.bios = strdup("b");
    c.kernel = strdup("k");
    c.initrd = strdup("i");
    c.append = strdup("a");
    c.drives[0].file = strdup("f");
    c.drives[0].format = strdup("raw");
    c.drives[0].interface = strdup("ide");
    c.drives[7].file = strdup("beyond count");
    c.drive_count = 1;
    c.boot_order = strdup("d");
    c.serial[0] = strdup("stdio");
    c.serial[3] = strdup("null");
    c.serial_count = 1;
    c.log_file = strdup("log");
    c.debugcon = strdup("stdio");
    c.ram_bytes = 1;
    config_free(&c);
    cr_assert_null(c.bios);
    cr_assert_null(c.drives[7].file);
    cr_assert_eq(c.ram_bytes, 128 * MiB);
    config_free(&c); /* twice is harmless */
}

/* ---- options_parse_size ------------------------------------------------- */

typedef struct SizeCase {
    const char *text;
    uint64_t unit;
    uint64_t bytes;
} SizeCase;

Test(size, valid)
{
    static const SizeCase cases[] = {
        { "0", 1, 0 },
        { "1", 1, 1 },
        { "512", MiB, 536870912ull },
        { "512M", 1, 536870912ull },
        { "512m", 1, 536870912ull },
        { "2G", MiB, 2147483648ull },
        { "2g", MiB, 2147483648ull },
        { "1024k", MiB, 1048576ull },
        { "1024K", MiB, 1048576ull },
        { "1.5G", MiB, 1610612736ull },
        { "0.5K", 1, 512 },
        { "1.1K", 1, 1126 },            /* 1126.4, truncated as QEMU */
        { "1.5", MiB, 1572864ull },     /* the default unit scales fractions */
        { "1.001M", 1, 1049624ull },    /* 1049624.576 */
        { "100B", MiB, 100 },
        { "1T", 1, 1099511627776ull },
        { "1t", 1, 1099511627776ull },
        { "007", 1, 7 },
        { "0.000000000000000001T", 1, 0 },
        /* 18 nines after the point: just under 16384 TiB */
        { "16383.999999999999999999T", 1, 18014398509481983ull },
        { "16777215T", 1, 18446742974197923840ull },
        { "18446744073709551615", 1, 18446744073709551615ull },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t bytes = 12345;
        int rc = options_parse_size(cases[i].text, cases[i].unit, &bytes);
        cr_assert_eq(rc, 0, "'%s' refused", cases[i].text);
        cr_assert_eq(bytes, cases[i].bytes, "'%s': %llu, expected %llu",
                     cases[i].text, (unsigned long long)bytes,
                     (unsigned long long)cases[i].bytes);
    }
}

Test(size, invalid)
{
    static const char *const bad[] = {
        "", "abc", "-1", "+1", " 1", "1 ", "1.", ".5", "1.5.5", "1KB",
        "1X", "1e3", "0x10", "1,5", "M", "1.5B", "16777216T",
        "18446744073709551616", "99999999999999999999999", "1 G",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t bytes = 12345;
        cr_assert_eq(options_parse_size(bad[i], MiB, &bytes), -1,
                     "'%s' accepted", bad[i]);
        cr_assert_eq(bytes, 12345, "'%s' wrote the result", bad[i]);
    }
}

Test(size, fraction_needs_a_unit)
{
    uint64_t bytes;

    cr_assert_eq(options_parse_size("1.5", 1, &bytes), -1);
    cr_assert_eq(options_parse_size("2", 1, &bytes), 0);
    cr_assert_eq(bytes, 2);
}

/* ---- general syntax ----------------------------------------------------- */

Test(options, no_arguments_keeps_defaults)
{
    cr_assert_eq(parse_argv((const char *[]){ "vireo", NULL }), OPTIONS_RUN);
    cr_assert_eq(cfg.ram_bytes, 128 * MiB);
    cr_assert_eq(cfg.cpus, 1);
    cr_assert_eq(cfg.accel, ACCEL_TCG);
    cr_assert(cfg.jit);
}

Test(options, two_dashes_work_too)
{
    EXPECT_RUN("--m", "256M", "--nographic", "--serial", "stdio");
    cr_assert_eq(cfg.ram_bytes, 256 * MiB);
    cr_assert(cfg.nographic);
    cr_assert_str_eq(cfg.serial[0], "stdio");
}

Test(options, unknown_option)
{
    EXPECT_ERROR("unknown option '-foo' (try --help)", "-foo");
    cr_assert_str_eq(msg, "unknown option '-foo' (try --help)");
    EXPECT_ERROR("unknown option '--foo' (try --help)", "--foo");
    EXPECT_ERROR("unknown option '-m=512' (try --help)", "-m=512");
    EXPECT_ERROR("unknown option '--' (try --help)", "--");
}

Test(options, stray_argument)
{
    EXPECT_ERROR("unexpected argument 'disk.img' (try --help)", "disk.img");
    cr_assert_str_eq(msg, "unexpected argument 'disk.img' (try --help)");
    EXPECT_ERROR("unexpected argument '-' (try --help)", "-");
    EXPECT_ERROR("unexpected argument 'x' (try --help)", "-m", "64", "x");
}

Test(options, missing_argument)
{
    EXPECT_ERROR("-m: missing argument", "-m");
    EXPECT_ERROR("-serial: missing argument", "-nographic", "-serial");
    EXPECT_ERROR("-kernel: missing argument", "-kernel");
    EXPECT_ERROR("-drive: missing argument", "--drive");
    EXPECT_ERROR("-d: missing argument", "-d");
}

Test(options, value_that_looks_like_an_option_is_a_value)
{
    EXPECT_ERROR("-m: invalid size '-5'", "-m", "-5");
    EXPECT_RUN("-bios", "-weird-name.bin");
    cr_assert_str_eq(cfg.bios, "-weird-name.bin");
}

Test(options, message_stays_one_line)
{
    EXPECT_ERROR("-m: invalid size 'a?b'", "-m", "a\nb");
    EXPECT_ERROR("unknown option '-x?y'", "-x\ty");
}

Test(options, small_or_missing_message_buffer)
{
    char small[8];
    const char *argv[] = { "vireo", "-m", "abc", NULL };

    cr_assert_eq(options_parse(3, (char **)argv, &cfg, small, sizeof(small), out),
                 OPTIONS_ERROR);
    cr_assert_str_eq(small, "-m: inv");
    cr_assert_eq(options_parse(3, (char **)argv, &cfg, NULL, 0, out),
                 OPTIONS_ERROR);
}

Test(options, too_many_parameters)
{
    EXPECT_ERROR("-drive: too many parameters",
                 "-drive", "file=a,format=raw,format=raw,format=raw,format=raw,"
                 "format=raw,format=raw,format=raw,format=raw,format=raw,"
                 "format=raw,format=raw,format=raw,format=raw,format=raw,"
                 "format=raw,format=raw");
}

/* ---- -m ----------------------------------------------------------------- */

Test(options, memory_sizes)
{
    static const struct { const char *arg; uint64_t bytes; } cases[] = {
        { "512", 536870912ull },
        { "512M", 536870912ull },
        { "2G", 2147483648ull },
        { "1024k", 1048576ull },
        { "size=512M", 536870912ull },
        { "1.5G", 1610612736ull },
        { "1.001M", 1052672ull },       /* 1049624 rounded up to 4 KiB */
        { "1T", 1099511627776ull },
        { "1M", 1048576ull },
        { "256m,size=64M", 67108864ull }, /* last one wins */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_free(&cfg);
        EXPECT_RUN("-m", cases[i].arg);
        cr_assert_eq(cfg.ram_bytes, cases[i].bytes, "-m %s: %llu", cases[i].arg,
                     (unsigned long long)cfg.ram_bytes);
        cr_assert_eq(cfg.ram_bytes % 4096, 0);
    }
}

Test(options, memory_errors)
{
    EXPECT_ERROR_HAS("-m: invalid size 'abc'", "K/M/G/T", "-m", "abc");
    EXPECT_ERROR("-m: 0 is too small (minimum 1M)", "-m", "0");
    EXPECT_ERROR("-m: 1023K is too small (minimum 1M)", "-m", "1023K");
    EXPECT_ERROR("-m: 2T is too large (maximum 1T)", "-m", "2T");
    EXPECT_ERROR("-m: 1025G is too large", "-m", "1025G");
    EXPECT_ERROR("-m: 99999999999999999999 is too large", "-m",
                 "99999999999999999999");
    EXPECT_ERROR("-m: missing size", "-m", "");
    EXPECT_ERROR("-m: size needs a value", "-m", "64M,size");
    EXPECT_ERROR("-m: maxmem is not implemented yet", "-m", "512M,maxmem=1G");
    EXPECT_ERROR("-m: slots is not implemented yet", "-m", "512M,slots=2");
    EXPECT_ERROR("-m: unknown parameter 'foo'", "-m", "512M,foo=1");
    EXPECT_ERROR("-m: invalid size '1.5.5'", "-m", "1.5.5");
}

/* ---- -smp --------------------------------------------------------------- */

Test(options, smp)
{
    EXPECT_RUN("-smp", "1");
    cr_assert_eq(cfg.cpus, 1);
    EXPECT_RUN("-smp", "cpus=1");
    cr_assert_eq(cfg.cpus, 1);
}

Test(options, smp_errors)
{
    EXPECT_ERROR("-smp: more than 1 CPU is not implemented yet", "-smp", "2");
    EXPECT_ERROR("-smp: more than 1 CPU is not implemented yet", "-smp", "255");
    EXPECT_ERROR("-smp: more than 1 CPU is not implemented yet", "-smp",
                 "cpus=4");
    EXPECT_ERROR("-smp: invalid CPU count '0' (1..255)", "-smp", "0");
    EXPECT_ERROR("-smp: invalid CPU count '256' (1..255)", "-smp", "256");
    EXPECT_ERROR("-smp: invalid CPU count 'abc'", "-smp", "abc");
    EXPECT_ERROR("-smp: invalid CPU count '-1'", "-smp", "-1");
    EXPECT_ERROR("-smp: cores is not implemented yet", "-smp", "1,cores=1");
    EXPECT_ERROR("-smp: unknown parameter 'foo'", "-smp", "1,foo=2");
}

/* ---- firmware and boot -------------------------------------------------- */

Test(options, bios_is_stored_and_replaced)
{
    EXPECT_RUN("-bios", "a.bin", "-bios", "b.bin");
    cr_assert_str_eq(cfg.bios, "b.bin");
}

/* The files are only stored here; pc_create reads and checks them. */
Test(options, kernel_initrd_append_are_stored)
{
    EXPECT_RUN("-kernel", "bzImage", "-initrd", "initrd.img", "-append",
               "console=ttyS0 quiet");
    cr_assert_str_eq(cfg.kernel, "bzImage");
    cr_assert_str_eq(cfg.initrd, "initrd.img");
    cr_assert_str_eq(cfg.append, "console=ttyS0 quiet");
    EXPECT_RUN("-kernel", "a", "-kernel", "b", "-append", "");
    cr_assert_str_eq(cfg.kernel, "b");
    cr_assert_str_eq(cfg.append, "");
}

Test(options, initrd_and_append_need_kernel)
{
    EXPECT_ERROR("-initrd: only allowed with -kernel", "-initrd", "initrd.img");
    cr_assert_str_eq(msg, "-initrd: only allowed with -kernel");
    config_free(&cfg);
    config_defaults(&cfg);
    EXPECT_ERROR("-append: only allowed with -kernel", "-append", "console=ttyS0");
    cr_assert_str_eq(msg, "-append: only allowed with -kernel");
    config_free(&cfg);
    config_defaults(&cfg);
    EXPECT_RUN("-append", "console=ttyS0", "-initrd", "i", "-kernel", "k");
}

Test(options, boot_order_once_and_menu)
{
    EXPECT_RUN("-boot", "d");
    cr_assert_str_eq(cfg.boot_order, "d");
    cr_assert_not(cfg.boot_menu);
    EXPECT_RUN("-boot", "order=dc,once=n,menu=on");
    cr_assert_str_eq(cfg.boot_order, "n");
    cr_assert(cfg.boot_menu);
    EXPECT_RUN("-boot", "acdn");
    cr_assert_str_eq(cfg.boot_order, "acdn");
    EXPECT_RUN("-boot", "menu=off");
    cr_assert_str_eq(cfg.boot_order, "acdn");
    cr_assert_not(cfg.boot_menu);
}

Test(options, boot_errors)
{
    EXPECT_ERROR("-boot: invalid boot device 'x' (a, c, d, n)", "-boot", "x");
    EXPECT_ERROR("-boot: invalid boot device 'z'", "-boot", "order=cz");
    EXPECT_ERROR("-boot: boot device 'c' given twice", "-boot", "cdc");
    EXPECT_ERROR("-boot: unknown parameter 'splash'", "-boot", "c,splash=x");
    EXPECT_ERROR("-boot: menu 'maybe' is not on or off", "-boot", "menu=maybe");
    EXPECT_ERROR("-boot: order is empty", "-boot", "order=");
    EXPECT_ERROR("-boot: missing boot order", "-boot", "");
    cr_assert_null(cfg.boot_order);
}

/* ---- storage ------------------------------------------------------------ */

Test(options, drive_is_parsed)
{
    EXPECT_RUN("-drive", "file=a.qcow2,format=qcow2,if=virtio,media=disk,"
               "readonly=on,index=1");
    cr_assert_eq(cfg.drive_count, 1);
    cr_assert_str_eq(cfg.drives[0].file, "a.qcow2");
    cr_assert_str_eq(cfg.drives[0].format, "qcow2");
    cr_assert_str_eq(cfg.drives[0].interface, "virtio");
    cr_assert_not(cfg.drives[0].cdrom);
    cr_assert(cfg.drives[0].readonly);
    cr_assert_eq(cfg.drives[0].index, 1);
}

Test(options, drive_defaults_and_escapes)
{
    EXPECT_RUN("-drive", "file=a,,b.img");
    cr_assert_str_eq(cfg.drives[0].file, "a,b.img");
    cr_assert_null(cfg.drives[0].format);
    cr_assert_str_eq(cfg.drives[0].interface, "ide");
    cr_assert_eq(cfg.drives[0].index, -1);
    cr_assert_not(cfg.drives[0].readonly);
}

Test(options, drive_cdrom_is_readonly)
{
    EXPECT_RUN("-drive", "file=x.iso,media=cdrom,format=raw,readonly=off");
    cr_assert(cfg.drives[0].cdrom);
    cr_assert(cfg.drives[0].readonly);
    cr_assert_str_eq(cfg.drives[0].format, "raw");
}

Test(options, drive_errors)
{
    EXPECT_ERROR("-drive: format 'vmdk' is not supported (raw, qcow2)",
                 "-drive", "format=vmdk,file=x");
    EXPECT_ERROR("-drive: if 'scsi' is not supported (ide, virtio)",
                 "-drive", "file=x,if=scsi");
    EXPECT_ERROR("-drive: media 'floppy' is not supported (disk, cdrom)",
                 "-drive", "file=x,media=floppy");
    EXPECT_ERROR("-drive: readonly 'maybe' is not on or off",
                 "-drive", "file=x,readonly=maybe");
    EXPECT_ERROR("-drive: invalid index '4' (0..3)", "-drive", "file=x,index=4");
    EXPECT_ERROR("-drive: invalid index 'one'", "-drive", "file=x,index=one");
    EXPECT_ERROR("-drive: unknown parameter 'foo'", "-drive", "file=x,foo=1");
    EXPECT_ERROR("-drive: unknown parameter 'cache'", "-drive", "file=x,cache");
    EXPECT_ERROR("-drive: missing file=", "-drive", "format=raw");
    EXPECT_ERROR("-drive: media=cdrom needs if=ide", "-drive",
                 "file=x.iso,media=cdrom,if=virtio");
    EXPECT_ERROR("-drive: missing file=", "-drive", "file=");
    EXPECT_ERROR("-drive: missing file=", "-drive", "");
    EXPECT_ERROR("-drive: file needs a value", "-drive", "file");
    EXPECT_ERROR("-drive: format needs a value", "-drive", "file=x,format");
    cr_assert_eq(cfg.drive_count, 0);
}

Test(options, snapshot_is_stored)
{
    EXPECT_RUN("-snapshot");
    cr_assert(cfg.snapshot);
    config_free(&cfg);
    EXPECT_RUN("-drive", "file=x,snapshot=on");
    cr_assert(cfg.drives[0].snapshot);
    cr_assert_not(cfg.snapshot);
}

Test(options, drive_readonly_spellings)
{
    static const struct { const char *arg; bool readonly; } cases[] = {
        { "file=x,readonly", true }, { "file=x,readonly=on", true },
        { "file=x,readonly=yes", true }, { "file=x,readonly=off", false },
        { "file=x,readonly=no", false }, { "file=x,readonly=false", false },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_free(&cfg);
        EXPECT_RUN("-drive", cases[i].arg);
        cr_assert_eq(cfg.drives[0].readonly, cases[i].readonly, "%s",
                     cases[i].arg);
    }
}

static void add_drive_by_hand(const char *interface, int index)
{
    DriveConfig *d = &cfg.drives[cfg.drive_count++];

    d->file = strdup("earlier.img");
    d->interface = strdup(interface);
    d->index = index;
}

Test(options, drive_slot_conflicts)
{
    add_drive_by_hand("ide", 0);
    EXPECT_ERROR("-drive: index 0 is already in use", "-drive", "file=b,index=0");
    EXPECT_ERROR("-hda: index 0 is already in use", "-hda", "b");
    EXPECT_RUN("-drive", "file=b,index=0,if=virtio");
    EXPECT_RUN("-cdrom", "c.iso");
    EXPECT_ERROR("-hdc: index 2 is already in use", "-hdc", "d");
}

Test(options, drive_ide_bus_full)
{
    for (int i = 0; i < 4; i++)
        add_drive_by_hand("ide", -1);
    EXPECT_ERROR("-drive: no free IDE slot", "-drive", "file=b");
    EXPECT_ERROR("-cdrom: no free IDE slot", "-cdrom", "b.iso");
}

Test(options, too_many_drives)
{
    for (int i = 0; i < CONFIG_MAX_DRIVES; i++)
        add_drive_by_hand("virtio", -1);
    EXPECT_ERROR("-drive: too many drives (at most 8)", "-drive",
                 "file=b,if=virtio");
}

Test(options, legacy_drive_options)
{
    static const struct { const char *opt; int index; bool cdrom; } cases[] = {
        { "-hda", 0, false }, { "-hdb", 1, false }, { "-hdc", 2, false },
        { "-hdd", 3, false }, { "-cdrom", 2, true },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_free(&cfg);
        EXPECT_RUN(cases[i].opt, "disk,1.img");
        cr_assert_eq(cfg.drive_count, 1);
        cr_assert_str_eq(cfg.drives[0].file, "disk,1.img");
        cr_assert_str_eq(cfg.drives[0].interface, "ide");
        cr_assert_eq(cfg.drives[0].index, cases[i].index);
        cr_assert_eq(cfg.drives[0].cdrom, cases[i].cdrom);
        cr_assert_eq(cfg.drives[0].readonly, cases[i].cdrom);
    }
    EXPECT_ERROR("-hda: missing file name", "-hda", "");
}

/* ---- display and character devices -------------------------------------- */

Test(options, nographic_and_no_reboot)
{
    EXPECT_RUN("-nographic", "-no-reboot");
    cr_assert(cfg.nographic);
    cr_assert(cfg.no_reboot);
}

Test(options, display)
{
    EXPECT_RUN("-display", "none");
    cr_assert_eq(cfg.display, DISPLAY_NONE);
    EXPECT_RUN("-display", "type=none");
    cr_assert_eq(cfg.display, DISPLAY_NONE);
}

Test(options, display_errors)
{
    EXPECT_ERROR("-display: sdl is not implemented yet", "-display", "sdl");
    EXPECT_ERROR("-display: sdl is not implemented yet", "-display", "sdl,gl=on");
    EXPECT_ERROR("-display: curses is not implemented yet", "-display", "curses");
    EXPECT_ERROR("-display: unknown display type 'gtk' (none, sdl, curses)",
                 "-display", "gtk");
    EXPECT_ERROR("-display: unknown parameter 'gl'", "-display", "none,gl=on");
    EXPECT_ERROR("-display: missing display type", "-display", "");
    EXPECT_ERROR("-nographic: cannot be used with -display",
                 "-display", "none", "-nographic");
}

Test(options, serial_forms)
{
    static const char *const ok[] = {
        "stdio", "null", "none", "pty", "file:/tmp/serial.log", "file:a,b",
        "tcp::4444", "tcp:localhost:4444,server,nowait",
        "tcp:127.0.0.1:4444,server=on,wait=off", "tcp:[::1]:4444,server=off",
        "tcp::1,wait", "mon:stdio", "mon:tcp::4444,server,nowait",
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        config_free(&cfg);
        EXPECT_RUN("-serial", ok[i]);
        cr_assert_eq(cfg.serial_count, 1);
        cr_assert_str_eq(cfg.serial[0], ok[i]);
    }
}

Test(options, serial_up_to_four)
{
    EXPECT_RUN("-serial", "stdio", "-serial", "null", "-serial", "pty",
               "-serial", "file:x");
    cr_assert_eq(cfg.serial_count, 4);
    cr_assert_str_eq(cfg.serial[3], "file:x");
    EXPECT_ERROR("-serial: too many serial ports (at most 4)", "-serial", "null");
}

Test(options, serial_errors)
{
    EXPECT_ERROR_HAS("-serial: unknown character device 'foo'", "file:PATH",
                     "-serial", "foo");
    EXPECT_ERROR("-serial: unknown character device ''", "-serial", "");
    EXPECT_ERROR("-serial: unknown character device 'vc'", "-serial", "vc");
    EXPECT_ERROR("-serial: file: needs a path", "-serial", "file:");
    EXPECT_ERROR("-serial: tcp: needs [HOST]:PORT", "-serial", "tcp:localhost");
    EXPECT_ERROR("-serial: tcp: needs [HOST]:PORT", "-serial", "tcp:");
    EXPECT_ERROR("-serial: tcp: invalid port '0' (1..65535)", "-serial", "tcp::0");
    EXPECT_ERROR("-serial: tcp: invalid port '70000'", "-serial", "tcp::70000");
    EXPECT_ERROR("-serial: tcp: invalid port 'http'", "-serial", "tcp:h:http");
    EXPECT_ERROR("-serial: tcp: an IPv6 host needs brackets", "-serial",
                 "tcp:::1:4444");
    EXPECT_ERROR("-serial: tcp: invalid host", "-serial", "tcp:[::1:4444");
    EXPECT_ERROR("-serial: tcp: unknown option 'bogus'", "-serial",
                 "tcp::4444,bogus");
    EXPECT_ERROR("-serial: server 'maybe' is not on or off", "-serial",
                 "tcp::4444,server=maybe");
    EXPECT_ERROR("-serial: unknown character device 'bogus'", "-serial",
                 "mon:bogus");
    EXPECT_ERROR("-serial: unknown character device 'mon:stdio'", "-serial",
                 "mon:mon:stdio");
    cr_assert_eq(cfg.serial_count, 0);
}

Test(options, debugcon)
{
    EXPECT_RUN("-debugcon", "file:debug.log");
    cr_assert_str_eq(cfg.debugcon, "file:debug.log");
    EXPECT_RUN("-debugcon", "stdio");
    cr_assert_str_eq(cfg.debugcon, "stdio");
    EXPECT_ERROR("-debugcon: unknown character device 'foo'", "-debugcon", "foo");
}

/* ---- machine, accelerator, icount --------------------------------------- */

Test(options, machine)
{
    EXPECT_RUN("-M", "pc");
    EXPECT_RUN("-machine", "pc");
    EXPECT_RUN("-machine", "type=pc");
    EXPECT_ERROR("-M: machine 'q35' is not supported (pc)", "-M", "q35");
    EXPECT_ERROR("-machine: machine 'isapc' is not supported (pc)",
                 "-machine", "isapc");
    EXPECT_ERROR("-machine: unknown parameter 'usb'", "-machine", "pc,usb=off");
}

Test(options, accel)
{
    EXPECT_RUN("-accel", "tcg");
    cr_assert_eq(cfg.accel, ACCEL_TCG);
    cr_assert(cfg.jit);
    EXPECT_RUN("-accel", "tcg,jit=off");
    cr_assert_not(cfg.jit);
    EXPECT_RUN("-accel", "tcg,thread=single");
    EXPECT_RUN("-accel", "tcg,jit=on");
    cr_assert(cfg.jit);
    EXPECT_RUN("-accel", "jit=off,accel=tcg");
    cr_assert_not(cfg.jit);
}

Test(options, accel_errors)
{
    EXPECT_ERROR("-accel: kvm is not implemented yet", "-accel", "kvm");
    EXPECT_ERROR("-accel: unknown accelerator 'bogus' (tcg, kvm)", "-accel",
                 "bogus");
    EXPECT_ERROR("-accel: unknown accelerator 'hvf'", "-accel", "hvf,jit=on");
    EXPECT_ERROR("-accel: unknown tcg property 'foo'", "-accel", "tcg,foo=1");
    EXPECT_ERROR("-accel: jit 'fast' is not on or off", "-accel", "tcg,jit=fast");
    EXPECT_ERROR("-accel: thread=multi is not implemented yet", "-accel",
                 "tcg,thread=multi");
    EXPECT_ERROR("-accel: thread 'x' is not supported (single)", "-accel",
                 "tcg,thread=x");
    EXPECT_ERROR("-accel: missing accelerator name", "-accel", "");
    EXPECT_ERROR("-enable-kvm: not implemented yet", "-enable-kvm");
}

Test(options, icount)
{
    EXPECT_RUN("-icount", "shift=7");
    cr_assert(cfg.deterministic);
    cr_assert_eq(cfg.icount_shift, 7);
    EXPECT_RUN("-icount", "0");
    cr_assert_eq(cfg.icount_shift, 0);
    EXPECT_RUN("-icount", "10");
    cr_assert_eq(cfg.icount_shift, 10);
}

Test(options, icount_errors)
{
    EXPECT_ERROR("-icount: invalid shift '11' (0..10)", "-icount", "11");
    EXPECT_ERROR("-icount: invalid shift 'x'", "-icount", "shift=x");
    EXPECT_ERROR("-icount: shift=auto is not implemented yet", "-icount", "auto");
    EXPECT_ERROR("-icount: align is not implemented yet", "-icount",
                 "shift=7,align=on");
    EXPECT_ERROR("-icount: unknown parameter 'foo'", "-icount", "foo=1");
    EXPECT_ERROR("-icount: missing shift", "-icount", "");
    cr_assert_not(cfg.deterministic);
}

/* ---- logging ------------------------------------------------------------ */

Test(options, log_categories_and_file)
{
    EXPECT_RUN("-d", "int,unimp", "-D", "/tmp/vireo.log");
    cr_assert_eq(cfg.log_mask, LOG_INT | LOG_UNIMP);
    cr_assert_str_eq(cfg.log_file, "/tmp/vireo.log");
    EXPECT_RUN("-d", "guest_errors");
    cr_assert_eq(cfg.log_mask, LOG_GUEST_ERRORS);
}

Test(options, log_errors)
{
    EXPECT_ERROR("-d: unknown logging category 'bogus' (try -d help)",
                 "-d", "bogus");
    cr_assert_str_eq(msg, "-d: unknown logging category 'bogus' (try -d help)");
    EXPECT_ERROR("-d: unknown logging category 'nope'", "-d", "int,nope");
}

Test(options, log_help)
{
    cr_assert_eq(PARSE("-d", "help"), OPTIONS_EXIT_OK);
    cr_assert_not_null(strstr(output(), "int"));
    cr_assert_not_null(strstr(output(), "guest_errors"));
    cr_assert_not_null(strstr(output(), "in_asm"));
}

/* ---- help, version, not implemented ------------------------------------- */

Test(options, help_lists_every_option)
{
    static const char *const spellings[] = { "--help", "-help", "-h", "--h" };
    static const char *const names[] = {
        "-m ", "-smp", "-machine", "-M", "-bios", "-kernel", "-initrd",
        "-append", "-drive", "-hda", "-cdrom", "-boot", "-nographic",
        "-serial", "-display", "-no-reboot", "-accel", "-d ", "-D ",
        "-debugcon", "-icount", "-snapshot", "-S ", "-s ", "-gdb", "-qmp",
        "-monitor", "-netdev", "-device", "-loadvm", "-incoming", "-vnc",
        "-cpu", "-version", "-help", "not implemented yet",
    };

    for (size_t s = 0; s < sizeof(spellings) / sizeof(spellings[0]); s++) {
        rewind(out);
        cr_assert_eq(PARSE(spellings[s]), OPTIONS_EXIT_OK, "%s", spellings[s]);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            cr_assert_not_null(strstr(output(), names[i]),
                               "%s does not mention '%s'", spellings[s], names[i]);
    }
}

Test(options, help_marks_only_unimplemented_options)
{
    const char *text, *line;

    cr_assert_eq(PARSE("--help"), OPTIONS_EXIT_OK);
    text = output();
    line = strstr(text, "  -S ");
    cr_assert_not_null(line);
    cr_assert(strstr(line, "[not implemented yet]") < strstr(line, "  -s "));
    line = strstr(text, "  -bios ");
    cr_assert_not_null(line);
    cr_assert(strstr(line, "[not implemented yet]") > strstr(line, "  -boot"));
    line = strstr(text, "  -kernel ");
    cr_assert_not_null(line);
    cr_assert(strstr(line, "[not implemented yet]") > strstr(line, "  -boot"));
}

Test(options, help_stops_parsing)
{
    cr_assert_eq(PARSE("--help", "-foo"), OPTIONS_EXIT_OK);
    cr_assert_eq(PARSE("-foo", "--help"), OPTIONS_ERROR);
}

Test(options, version)
{
    cr_assert_eq(PARSE("--version"), OPTIONS_EXIT_OK);
    cr_assert_not_null(strstr(output(), "vireo 0.1.0\n"));
    rewind(out);
    cr_assert_eq(PARSE("-version"), OPTIONS_EXIT_OK);
    cr_assert_eq(strncmp(output(), "vireo 0.1.0\n", 12), 0);
    cr_assert_gt(strlen(output()), 20, "no description line");
}

Test(options, recognised_but_not_implemented)
{
    static const struct { const char *opt, *arg; } cases[] = {
        { "-S", NULL }, { "-s", NULL },
        { "-gdb", "tcp::1234" }, { "-qmp", "stdio" }, { "-monitor", "stdio" },
        { "-netdev", "user,id=n0" }, { "-device", "e1000,netdev=n0" },
        { "-loadvm", "snap1" }, { "-incoming", "tcp::4444" }, { "-vnc", ":0" },
        { "-cpu", "max" }, { "-enable-kvm", NULL },
    };
    char want[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name = cases[i].opt + (cases[i].opt[1] == '-');
        snprintf(want, sizeof(want), "%s: not implemented yet", name);
        if (cases[i].arg)
            EXPECT_ERROR(want, cases[i].opt, cases[i].arg);
        else
            EXPECT_ERROR(want, cases[i].opt);
        cr_assert_str_eq(msg, want);
    }
}

Test(options, full_command_line)
{
    EXPECT_RUN("-M", "pc", "-m", "1G", "-smp", "1", "-bios", "bios.bin",
               "-nographic", "-serial", "mon:stdio", "-no-reboot",
               "-accel", "tcg,jit=off", "-d", "int", "-D", "log.txt",
               "-debugcon", "file:dbg.txt", "-icount", "shift=3");
    cr_assert_eq(cfg.ram_bytes, GiB);
    cr_assert_str_eq(cfg.bios, "bios.bin");
    cr_assert(cfg.nographic);
    cr_assert_str_eq(cfg.serial[0], "mon:stdio");
    cr_assert(cfg.no_reboot);
    cr_assert_not(cfg.jit);
    cr_assert_eq(cfg.log_mask, LOG_INT);
    cr_assert_str_eq(cfg.log_file, "log.txt");
    cr_assert_str_eq(cfg.debugcon, "file:dbg.txt");
    cr_assert(cfg.deterministic);
    cr_assert_eq(cfg.icount_shift, 3);
}

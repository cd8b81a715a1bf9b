/* The command-line parser: QEMU's option names and value syntax.
 *
 * Follows the QEMU System Emulation User's Documentation ("Invocation")
 * and QEMU's QemuOpts conventions: options take one dash or two, a value is
 * always the next argv item, and "key=value,key=value" lists allow an
 * implied first key ("-m 512M" is "-m size=512M"), bare boolean keys
 * ("server" is "server=on") and ",," for a literal comma.
 *
 * One table describes every option.  Each entry says whether the feature
 * behind it is implemented yet; an unimplemented option still has its value
 * checked and stored, then reports "not implemented yet", so that turning a
 * feature on is one edit to the table and the parser is testable today.
 */
#include "frontends/options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define VIREO_VERSION "0.1.0"

#define RAM_MIN (1ull << 20)
#define RAM_MAX (1ull << 40)
#define RAM_ALIGN 4096ull
#define CPUS_MAX 255
#define ICOUNT_SHIFT_MAX 10
#define DRIVE_INDEX_MAX 3
#define IDE_SLOTS 4
#define PORT_MAX 65535
#define KEYVALS_MAX 16
#define SIZE_FRACTION_DIGITS 18
#define HELP_COLUMN 26
#define HELP_WIDTH 79

typedef struct Parser {
    VmConfig *cfg;
    const char *opt;    /* option name as typed, without dashes; NULL if none */
    char *msg;
    size_t msglen;
    FILE *out;
} Parser;

typedef OptionsResult (*OptionHandler)(Parser *p, const char *arg);

typedef struct OptionSpec {
    const char *name;       /* NULL: a section heading in --help */
    const char *alias;
    const char *arg;        /* the value's name in --help; NULL: a flag */
    bool implemented;
    OptionHandler handler;  /* checks and stores the value; NULL: nothing to do */
    const char *help;
} OptionSpec;

/* "key=value" items of one option argument, pointing into buf. */
typedef struct KeyVal {
    const char *key;
    const char *value;      /* NULL for a bare word such as "server" */
} KeyVal;

typedef struct KeyVals {
    char *buf;
    size_t count;
    KeyVal item[KEYVALS_MAX];
} KeyVals;

typedef OptionsResult (*KeyValsHandler)(Parser *p, const KeyVals *kv);

static void print_usage(FILE *out);

/* ---- error messages ----------------------------------------------------- */

/* Control characters from the user's input would break the one-line rule. */
static void sanitize_line(char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
    }
}

/* Set msg to "-<option>: <text>" (or just <text> outside an option). */
__attribute__((format(printf, 2, 3)))
static OptionsResult fail(Parser *p, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (p->msg == NULL || p->msglen == 0)
        return OPTIONS_ERROR;
    if (p->opt != NULL)
        n = snprintf(p->msg, p->msglen, "-%s: ", p->opt);
    if (n >= 0 && (size_t)n < p->msglen) {
        va_start(ap, fmt);
        vsnprintf(p->msg + n, p->msglen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    sanitize_line(p->msg);
    return OPTIONS_ERROR;
}

static OptionsResult store_string(Parser *p, char **slot, const char *value)
{
    char *copy = strdup(value);

    if (copy == NULL)
        return fail(p, "out of memory");
    free(*slot);
    *slot = copy;
    return OPTIONS_RUN;
}

/* ---- numbers and sizes -------------------------------------------------- */

/* A plain decimal number in 0..max: no sign, no spaces, no suffix. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (*s == '\0')
        return false;
    for (; *s; s++) {
        unsigned long d = (unsigned long)(*s - '0');
        if (*s < '0' || *s > '9' || d > max || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool size_suffix(char c, uint64_t *mul)
{
    switch (c) {
    case 'b': case 'B': *mul = 1; return true;
    case 'k': case 'K': *mul = 1ull << 10; return true;
    case 'm': case 'M': *mul = 1ull << 20; return true;
    case 'g': case 'G': *mul = 1ull << 30; return true;
    case 't': case 'T': *mul = 1ull << 40; return true;
    default: return false;
    }
}

/* floor(mul * num / den) for num < den <= 10^18, without a 128-bit
 * product: binary long division over the bits of mul, keeping
 * q + r/den equal to (the bits of mul seen so far) * num/den. */
static uint64_t scale_fraction(uint64_t mul, uint64_t num, uint64_t den)
{
    uint64_t q = 0, r = 0;

    for (int bit = 63; bit >= 0; bit--) {
        q <<= 1;
        r <<= 1;
        if ((mul >> bit) & 1)
            r += num;
        while (r >= den) {
            r -= den;
            q++;
        }
    }
    return q;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits before the point; *overflow is set (and scanning goes on) when
 * they do not fit, so that "99999999999999999999x" is still a syntax
 * error rather than a range error. */
static const char *scan_whole(const char *s, uint64_t *whole, bool *overflow)
{
    for (*whole = 0; is_digit(*s); s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (*whole > (UINT64_MAX - d) / 10)
            *overflow = true;
        else
            *whole = *whole * 10 + d;
    }
    return s;
}

/* Digits after the point as num/den; digits past the 18th only truncate. */
static const char *scan_fraction(const char *s, uint64_t *num, uint64_t *den)
{
    unsigned digits = 0;

    for (*num = 0, *den = 1; is_digit(*s); s++, digits++) {
        if (digits < SIZE_FRACTION_DIGITS) {
            *num = *num * 10 + (uint64_t)(*s - '0');
            *den *= 10;
        }
    }
    return s;
}

/* QEMU's qemu_strtosz() grammar, decimal only: DIGITS[.DIGITS][SUFFIX].
 * A fraction needs a unit bigger than a byte; bytes are truncated as QEMU
 * does.  Returns 0, -EINVAL for bad syntax or -ERANGE for overflow. */
static int parse_size(const char *text, uint64_t default_unit, uint64_t *bytes)
{
    uint64_t whole, num = 0, den = 1, mul = default_unit, part;
    bool overflow = false, has_fraction = false;
    const char *s = text;

    if (!is_digit(*s) || default_unit == 0)
        return -EINVAL;
    s = scan_whole(s, &whole, &overflow);
    if (*s == '.') {
        if (!is_digit(s[1]))
            return -EINVAL;
        s = scan_fraction(s + 1, &num, &den);
        has_fraction = true;
    }
    if (*s != '\0' && (!size_suffix(*s++, &mul) || *s != '\0'))
        return -EINVAL;
    if (has_fraction && mul == 1)
        return -EINVAL;
    if (overflow || whole > UINT64_MAX / mul)
        return -ERANGE;
    part = scale_fraction(mul, num, den);
    if (whole * mul > UINT64_MAX - part)
        return -ERANGE;
    *bytes = whole * mul + part;
    return 0;
}

int options_parse_size(const char *text, uint64_t default_unit,
                       uint64_t *bytes)
{
    return parse_size(text, default_unit, bytes) == 0 ? 0 : -1;
}

/* ---- key=value lists ---------------------------------------------------- */

static void keyvals_add(KeyVals *kv, char *item, const char *implied_key)
{
    KeyVal *kvi = &kv->item[kv->count];
    char *eq = strchr(item, '=');

    if (eq != NULL) {
        *eq = '\0';
        kvi->key = item;
        kvi->value = eq + 1;
    } else if (kv->count == 0 && implied_key != NULL) {
        kvi->key = implied_key;
        kvi->value = item;
    } else {
        kvi->key = item;
        kvi->value = NULL;
    }
    kv->count++;
}

/* Split "a=1,b,,c=2" into items in place; ",," is a literal comma.  An
 * empty argument has no items. */
static OptionsResult keyvals_split(Parser *p, const char *arg,
                                   const char *implied_key, KeyVals *kv)
{
    char *r, *w, *start;

    kv->count = 0;
    kv->buf = strdup(arg);
    if (kv->buf == NULL)
        return fail(p, "out of memory");
    if (*kv->buf == '\0')
        return OPTIONS_RUN;
    for (r = w = start = kv->buf;; ) {
        if (r[0] == ',' && r[1] == ',') {
            *w++ = ',';
            r += 2;
        } else if (*r == ',' || *r == '\0') {
            bool last = *r == '\0';
            *w = '\0';
            if (kv->count == KEYVALS_MAX)
                return fail(p, "too many parameters (at most %d)", KEYVALS_MAX);
            keyvals_add(kv, start, implied_key);
            if (last)
                return OPTIONS_RUN;
            start = ++w;
            r++;
        } else {
            *w++ = *r++;
        }
    }
}

/* Split arg, hand the items to fn, free them. */
static OptionsResult with_keyvals(Parser *p, const char *arg,
                                  const char *implied_key, KeyValsHandler fn)
{
    KeyVals kv;
    OptionsResult r = keyvals_split(p, arg, implied_key, &kv);

    if (r == OPTIONS_RUN)
        r = fn(p, &kv);
    free(kv.buf);
    return r;
}

static bool key_is(const KeyVal *kv, const char *key)
{
    return strcmp(kv->key, key) == 0;
}

static OptionsResult need_value(Parser *p, const KeyVal *kv)
{
    if (kv->value != NULL)
        return OPTIONS_RUN;
    return fail(p, "%s needs a value (%s=...)", kv->key, kv->key);
}

static int choice_index(const char *const *choices, const char *value)
{
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(choices[i], value) == 0)
            return i;
    }
    return -1;
}

/* "what 'value' is not supported (a, b, c)" */
static OptionsResult fail_choice(Parser *p, const char *what, const char *value,
                                 const char *const *choices)
{
    char list[160] = "";
    size_t used = 0;

    for (int i = 0; choices[i] != NULL && used < sizeof(list); i++) {
        int n = snprintf(list + used, sizeof(list) - used, "%s%s",
                         i ? ", " : "", choices[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return fail(p, "%s '%s' is not supported (%s)", what, value, list);
}

/* Value of kv, which must be one of choices; its index goes to *index. */
static OptionsResult parse_choice(Parser *p, const KeyVal *kv,
                                  const char *const *choices, int *index)
{
    OptionsResult r = need_value(p, kv);

    if (r != OPTIONS_RUN)
        return r;
    *index = choice_index(choices, kv->value);
    if (*index < 0)
        return fail_choice(p, kv->key, kv->value, choices);
    return OPTIONS_RUN;
}

/* QEMU's boolean spellings; a bare key means on. */
static OptionsResult parse_bool(Parser *p, const KeyVal *kv, bool *out)
{
    static const char *const on[] = { "on", "yes", "true", "y", NULL };
    static const char *const off[] = { "off", "no", "false", "n", NULL };

    if (kv->value == NULL || choice_index(on, kv->value) >= 0) {
        *out = true;
        return OPTIONS_RUN;
    }
    if (choice_index(off, kv->value) >= 0) {
        *out = false;
        return OPTIONS_RUN;
    }
    return fail(p, "%s '%s' is not on or off", kv->key, kv->value);
}

static OptionsResult fail_unknown_key(Parser *p, const KeyVal *kv)
{
    return fail(p, "unknown parameter '%s'", kv->key);
}

/* ---- character devices (-serial, -debugcon) ----------------------------- */

static OptionsResult check_tcp_address(Parser *p, const char *addr)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    unsigned long port;
    size_t host_len;

    if (colon == NULL)
        return fail(p, "tcp: needs [HOST]:PORT, got '%s'", addr ? addr : "");
    if (!parse_uint(colon + 1, PORT_MAX, &port) || port == 0)
        return fail(p, "tcp: invalid port '%s' (1..%d)", colon + 1, PORT_MAX);
    host_len = (size_t)(colon - addr);
    if (host_len > 0 && addr[0] == '[') {
        if (host_len < 3 || addr[host_len - 1] != ']')
            return fail(p, "tcp: invalid host in '%s'", addr);
    } else if (memchr(addr, ':', host_len) != NULL) {
        return fail(p, "tcp: an IPv6 host needs brackets, as in tcp:[::1]:%lu",
                    port);
    }
    return OPTIONS_RUN;
}

static OptionsResult check_tcp_option(Parser *p, const KeyVal *kv)
{
    bool flag;

    if (key_is(kv, "server") || key_is(kv, "wait"))
        return parse_bool(p, kv, &flag);
    if (key_is(kv, "nowait") && kv->value == NULL)
        return OPTIONS_RUN;
    return fail(p, "tcp: unknown option '%s' (server, wait, nowait)", kv->key);
}

static OptionsResult check_tcp_keyvals(Parser *p, const KeyVals *kv)
{
    OptionsResult r = check_tcp_address(p, kv->count ? kv->item[0].value : NULL);

    for (size_t i = 1; i < kv->count && r == OPTIONS_RUN; i++)
        r = check_tcp_option(p, &kv->item[i]);
    return r;
}

/* The syntax only; frontends/chardev opens the backend. */
static OptionsResult check_chardev(Parser *p, const char *spec, bool allow_mon)
{
    static const char *const simple[] = { "stdio", "null", "none", "pty", NULL };

    if (choice_index(simple, spec) >= 0)
        return OPTIONS_RUN;
    if (strncmp(spec, "file:", 5) == 0) {
        if (spec[5] == '\0')
            return fail(p, "file: needs a path (file:PATH)");
        return OPTIONS_RUN;
    }
    if (strncmp(spec, "tcp:", 4) == 0)
        return with_keyvals(p, spec + 4, "address", check_tcp_keyvals);
    if (allow_mon && strncmp(spec, "mon:", 4) == 0)
        return check_chardev(p, spec + 4, false);
    return fail(p, "unknown character device '%s' (stdio, null, none, pty, "
                "file:PATH, tcp:[HOST]:PORT[,server][,nowait], mon:stdio)",
                spec);
}

static OptionsResult opt_serial(Parser *p, const char *arg)
{
    VmConfig *cfg = p->cfg;
    OptionsResult r = check_chardev(p, arg, true);

    if (r != OPTIONS_RUN)
        return r;
    if (cfg->serial_count == CONFIG_MAX_SERIAL)
        return fail(p, "too many serial ports (at most %d)", CONFIG_MAX_SERIAL);
    r = store_string(p, &cfg->serial[cfg->serial_count], arg);
    if (r == OPTIONS_RUN)
        cfg->serial_count++;
    return r;
}

static OptionsResult opt_debugcon(Parser *p, const char *arg)
{
    OptionsResult r = check_chardev(p, arg, true);

    return r == OPTIONS_RUN ? store_string(p, &p->cfg->debugcon, arg) : r;
}

/* ---- machine, memory, CPUs, accelerator --------------------------------- */

static OptionsResult machine_keyvals(Parser *p, const KeyVals *kv)
{
    for (size_t i = 0; i < kv->count; i++) {
        const KeyVal *item = &kv->item[i];
        if (!key_is(item, "type"))
            return fail_unknown_key(p, item);
        if (item->value == NULL || strcmp(item->value, "pc") != 0)
            return fail(p, "machine '%s' is not supported (pc)",
                        item->value ? item->value : "");
    }
    return OPTIONS_RUN;
}

static OptionsResult opt_machine(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, "type", machine_keyvals);
}

static OptionsResult set_ram_size(Parser *p, const char *text)
{
    uint64_t bytes = 0;
    int rc = parse_size(text, 1ull << 20, &bytes);

    if (rc == -EINVAL)
        return fail(p, "invalid size '%s' (expected a number with optional "
                    "K/M/G/T suffix)", text);
    if (rc == -ERANGE || bytes > RAM_MAX)
        return fail(p, "%s is too large (maximum 1T)", text);
    if (bytes < RAM_MIN)
        return fail(p, "%s is too small (minimum 1M)", text);
    p->cfg->ram_bytes = (bytes + RAM_ALIGN - 1) & ~(RAM_ALIGN - 1);
    return OPTIONS_RUN;
}

static OptionsResult memory_keyvals(Parser *p, const KeyVals *kv)
{
    const char *size = NULL;

    for (size_t i = 0; i < kv->count; i++) {
        const KeyVal *item = &kv->item[i];
        if (key_is(item, "slots") || key_is(item, "maxmem"))
            return fail(p, "%s is not implemented yet", item->key);
        if (!key_is(item, "size"))
            return fail_unknown_key(p, item);
        if (need_value(p, item) != OPTIONS_RUN)
            return OPTIONS_ERROR;
        size = item->value;
    }
    if (size == NULL)
        return fail(p, "missing size (e.g. -m 512M)");
    return set_ram_size(p, size);
}

static OptionsResult opt_memory(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, "size", memory_keyvals);
}

static OptionsResult set_cpu_count(Parser *p, const char *text)
{
    unsigned long n;

    if (!parse_uint(text, CPUS_MAX, &n) || n == 0)
        return fail(p, "invalid CPU count '%s' (1..%d)", text, CPUS_MAX);
    if (n > 1)
        return fail(p, "more than 1 CPU is not implemented yet");
    p->cfg->cpus = (unsigned)n;
    return OPTIONS_RUN;
}

static OptionsResult smp_keyvals(Parser *p, const KeyVals *kv)
{
    static const char *const topology[] = {
        "sockets", "dies", "clusters", "cores", "threads", "maxcpus", NULL
    };

    for (size_t i = 0; i < kv->count; i++) {
        const KeyVal *item = &kv->item[i];
        if (choice_index(topology, item->key) >= 0)
            return fail(p, "%s is not implemented yet (only cpus=N)", item->key);
        if (!key_is(item, "cpus"))
            return fail_unknown_key(p, item);
        if (need_value(p, item) != OPTIONS_RUN ||
            set_cpu_count(p, item->value) != OPTIONS_RUN)
            return OPTIONS_ERROR;
    }
    return OPTIONS_RUN;
}

static OptionsResult opt_smp(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, "cpus", smp_keyvals);
}

typedef struct AccelChoice {
    const char *name;
    AccelKind kind;
    bool implemented;
} AccelChoice;

static const AccelChoice accel_choices[] = {
    { "tcg", ACCEL_TCG, true },
    { "kvm", ACCEL_KVM, false },
};

static const char *const accel_names[] = { "tcg", "kvm", NULL };

static OptionsResult tcg_property(Parser *p, const KeyVal *kv)
{
    if (key_is(kv, "jit")) {
        return parse_bool(p, kv, &p->cfg->jit);
    }
    if (!key_is(kv, "thread"))
        return fail(p, "unknown tcg property '%s' (jit, thread)", kv->key);
    if (need_value(p, kv) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    if (strcmp(kv->value, "multi") == 0)
        return fail(p, "thread=multi is not implemented yet (single)");
    if (strcmp(kv->value, "single") != 0)
        return fail(p, "thread '%s' is not supported (single)", kv->value);
    return OPTIONS_RUN;
}

/* The name first, wherever it stands, so that a property is checked
 * against the right accelerator. */
static OptionsResult accel_keyvals(Parser *p, const KeyVals *kv)
{
    const char *name = NULL;
    int choice;

    for (size_t i = 0; i < kv->count; i++) {
        if (key_is(&kv->item[i], "accel"))
            name = kv->item[i].value;
    }
    if (name == NULL)
        return fail(p, "missing accelerator name (tcg, kvm)");
    choice = choice_index(accel_names, name);
    if (choice < 0)
        return fail(p, "unknown accelerator '%s' (tcg, kvm)", name);
    if (!accel_choices[choice].implemented)
        return fail(p, "%s is not implemented yet", name);
    p->cfg->accel = accel_choices[choice].kind;
    for (size_t i = 0; i < kv->count; i++) {
        if (!key_is(&kv->item[i], "accel") &&
            tcg_property(p, &kv->item[i]) != OPTIONS_RUN)
            return OPTIONS_ERROR;
    }
    return OPTIONS_RUN;
}

static OptionsResult opt_accel(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, "accel", accel_keyvals);
}

static OptionsResult icount_shift(Parser *p, const KeyVal *kv,
                                  unsigned long *shift)
{
    if (need_value(p, kv) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    if (strcmp(kv->value, "auto") == 0)
        return fail(p, "shift=auto is not implemented yet (0..%d)",
                    ICOUNT_SHIFT_MAX);
    if (!parse_uint(kv->value, ICOUNT_SHIFT_MAX, shift))
        return fail(p, "invalid shift '%s' (0..%d)", kv->value,
                    ICOUNT_SHIFT_MAX);
    return OPTIONS_RUN;
}

/* The config changes only once every item has been accepted. */
static OptionsResult icount_keyvals(Parser *p, const KeyVals *kv)
{
    static const char *const later[] = {
        "align", "sleep", "rr", "rrfile", "rrsnapshot", NULL
    };
    unsigned long shift = 0;
    bool have_shift = false;

    for (size_t i = 0; i < kv->count; i++) {
        const KeyVal *item = &kv->item[i];
        if (choice_index(later, item->key) >= 0)
            return fail(p, "%s is not implemented yet", item->key);
        if (!key_is(item, "shift"))
            return fail_unknown_key(p, item);
        if (icount_shift(p, item, &shift) != OPTIONS_RUN)
            return OPTIONS_ERROR;
        have_shift = true;
    }
    if (!have_shift)
        return fail(p, "missing shift (e.g. -icount shift=7)");
    p->cfg->deterministic = true;
    p->cfg->icount_shift = (unsigned)shift;
    return OPTIONS_RUN;
}

static OptionsResult opt_icount(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, "shift", icount_keyvals);
}

static OptionsResult opt_no_reboot(Parser *p, const char *arg)
{
    p->cfg->no_reboot = true;
    return OPTIONS_RUN;
}

/* ---- firmware and boot -------------------------------------------------- */

static OptionsResult opt_bios(Parser *p, const char *arg)
{
    return store_string(p, &p->cfg->bios, arg);
}

static OptionsResult opt_kernel(Parser *p, const char *arg)
{
    return store_string(p, &p->cfg->kernel, arg);
}

static OptionsResult opt_initrd(Parser *p, const char *arg)
{
    return store_string(p, &p->cfg->initrd, arg);
}

static OptionsResult opt_append(Parser *p, const char *arg)
{
    return store_string(p, &p->cfg->append, arg);
}

/* Letters as in QEMU: a floppy, c hard disk, d CD-ROM, n network. */
static OptionsResult check_boot_devices(Parser *p, const KeyVal *kv)
{
    if (need_value(p, kv) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    if (kv->value[0] == '\0')
        return fail(p, "%s is empty (letters a, c, d, n)", kv->key);
    for (const char *c = kv->value; *c; c++) {
        if (strchr("acdn", *c) == NULL)
            return fail(p, "invalid boot device '%c' (a, c, d, n)", *c);
        if (strchr(c + 1, *c) != NULL)
            return fail(p, "boot device '%c' given twice", *c);
    }
    return OPTIONS_RUN;
}

/* once= wins over order= for the first boot; Vireo does not yet go back
 * to order= when the machine resets after a once= boot. */
static OptionsResult boot_keyvals(Parser *p, const KeyVals *kv)
{
    const char *order = NULL, *once = NULL;

    if (kv->count == 0)
        return fail(p, "missing boot order (e.g. -boot d or -boot order=dc)");
    for (size_t i = 0; i < kv->count; i++) {
        const KeyVal *item = &kv->item[i];
        OptionsResult r;
        if (key_is(item, "order") || key_is(item, "once")) {
            r = check_boot_devices(p, item);
            *(key_is(item, "once") ? &once : &order) = item->value;
        } else if (key_is(item, "menu"))
            r = parse_bool(p, item, &p->cfg->boot_menu);
        else
            r = fail(p, "unknown parameter '%s' (order, once, menu)", item->key);
        if (r != OPTIONS_RUN)
            return r;
    }
    if (once || order)
        return store_string(p, &p->cfg->boot_order, once ? once : order);
    return OPTIONS_RUN;
}

static OptionsResult opt_boot(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, "order", boot_keyvals);
}

/* ---- storage ------------------------------------------------------------ */

static const char *const drive_formats[] = { "raw", "qcow2", NULL };
static const char *const drive_interfaces[] = { "ide", "virtio", NULL };
static const char *const drive_media[] = { "disk", "cdrom", NULL };

static void drive_clear(DriveConfig *d)
{
    free(d->file);
    free(d->format);
    free(d->interface);
}

static OptionsResult drive_key_file(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    if (need_value(p, kv) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    return store_string(p, &d->file, kv->value);
}

static OptionsResult drive_key_format(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    int i;

    if (parse_choice(p, kv, drive_formats, &i) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    return store_string(p, &d->format, kv->value);
}

static OptionsResult drive_key_if(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    int i;

    if (parse_choice(p, kv, drive_interfaces, &i) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    return store_string(p, &d->interface, kv->value);
}

static OptionsResult drive_key_media(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    int i;

    if (parse_choice(p, kv, drive_media, &i) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    d->cdrom = strcmp(kv->value, "cdrom") == 0;
    return OPTIONS_RUN;
}

static OptionsResult drive_key_readonly(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    return parse_bool(p, kv, &d->readonly);
}

static OptionsResult drive_key_snapshot(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    return parse_bool(p, kv, &d->snapshot);
}

static OptionsResult drive_key_index(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    unsigned long index;

    if (need_value(p, kv) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    if (!parse_uint(kv->value, DRIVE_INDEX_MAX, &index))
        return fail(p, "invalid index '%s' (0..%d)", kv->value, DRIVE_INDEX_MAX);
    d->index = (int)index;
    return OPTIONS_RUN;
}

typedef struct DriveKey {
    const char *key;
    OptionsResult (*parse)(Parser *p, DriveConfig *d, const KeyVal *kv);
} DriveKey;

static const DriveKey drive_keys[] = {
    { "file", drive_key_file },
    { "format", drive_key_format },
    { "if", drive_key_if },
    { "media", drive_key_media },
    { "readonly", drive_key_readonly },
    { "snapshot", drive_key_snapshot },
    { "index", drive_key_index },
};

static OptionsResult drive_key(Parser *p, DriveConfig *d, const KeyVal *kv)
{
    for (size_t i = 0; i < sizeof(drive_keys) / sizeof(drive_keys[0]); i++) {
        if (key_is(kv, drive_keys[i].key))
            return drive_keys[i].parse(p, d, kv);
    }
    return fail(p, "unknown parameter '%s' (file, format, if, media, "
                "readonly, snapshot, index)", kv->key);
}

/* Refuse what the board could not wire: a used slot or a full IDE bus. */
static OptionsResult drive_check_slot(Parser *p, const DriveConfig *d)
{
    const VmConfig *cfg = p->cfg;
    unsigned same_bus = 0;

    for (unsigned i = 0; i < cfg->drive_count; i++) {
        const DriveConfig *other = &cfg->drives[i];
        if (strcmp(other->interface, d->interface) != 0)
            continue;
        if (d->index >= 0 && other->index == d->index)
            return fail(p, "index %d is already in use", d->index);
        same_bus++;
    }
    if (strcmp(d->interface, "ide") == 0 && same_bus == IDE_SLOTS)
        return fail(p, "no free IDE slot (at most %d IDE drives)", IDE_SLOTS);
    return OPTIONS_RUN;
}

/* Complete d and move it into the config; d is left for the caller to
 * free on error only. */
static OptionsResult drive_add(Parser *p, DriveConfig *d)
{
    VmConfig *cfg = p->cfg;

    if (d->file == NULL || d->file[0] == '\0')
        return fail(p, "missing file= (e.g. -drive file=disk.img,format=raw)");
    if (cfg->drive_count == CONFIG_MAX_DRIVES)
        return fail(p, "too many drives (at most %d)", CONFIG_MAX_DRIVES);
    if (d->interface == NULL &&
        store_string(p, &d->interface, "ide") != OPTIONS_RUN)
        return OPTIONS_ERROR;
    if (d->cdrom && strcmp(d->interface, "ide") != 0)
        return fail(p, "media=cdrom needs if=ide (virtio-blk has no removable media)");
    if (d->cdrom)
        d->readonly = true;
    if (drive_check_slot(p, d) != OPTIONS_RUN)
        return OPTIONS_ERROR;
    cfg->drives[cfg->drive_count++] = *d;
    return OPTIONS_RUN;
}

static OptionsResult drive_keyvals(Parser *p, const KeyVals *kv)
{
    DriveConfig d = { .index = -1 };
    OptionsResult r = OPTIONS_RUN;

    for (size_t i = 0; i < kv->count && r == OPTIONS_RUN; i++)
        r = drive_key(p, &d, &kv->item[i]);
    if (r == OPTIONS_RUN)
        r = drive_add(p, &d);
    if (r != OPTIONS_RUN)
        drive_clear(&d);
    return r;
}

static OptionsResult opt_drive(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, NULL, drive_keyvals);
}

/* -hda FILE is -drive file=FILE,index=0,media=disk, and so on; the file
 * name is taken literally, commas included. */
static OptionsResult add_legacy_drive(Parser *p, const char *file, int index,
                                      bool cdrom)
{
    DriveConfig d = { .index = index, .cdrom = cdrom };
    OptionsResult r = OPTIONS_RUN;

    if (file[0] == '\0')
        r = fail(p, "missing file name");
    if (r == OPTIONS_RUN)
        r = store_string(p, &d.file, file);
    if (r == OPTIONS_RUN)
        r = drive_add(p, &d);
    if (r != OPTIONS_RUN)
        drive_clear(&d);
    return r;
}

static OptionsResult opt_hda(Parser *p, const char *arg)
{
    return add_legacy_drive(p, arg, 0, false);
}

static OptionsResult opt_hdb(Parser *p, const char *arg)
{
    return add_legacy_drive(p, arg, 1, false);
}

static OptionsResult opt_hdc(Parser *p, const char *arg)
{
    return add_legacy_drive(p, arg, 2, false);
}

static OptionsResult opt_hdd(Parser *p, const char *arg)
{
    return add_legacy_drive(p, arg, 3, false);
}

static OptionsResult opt_snapshot(Parser *p, const char *arg)
{
    p->cfg->snapshot = true;
    return OPTIONS_RUN;
}

static OptionsResult opt_cdrom(Parser *p, const char *arg)
{
    return add_legacy_drive(p, arg, 2, true);
}

/* ---- display ------------------------------------------------------------ */

typedef struct DisplayChoice {
    const char *name;
    DisplayKind kind;
    bool implemented;
} DisplayChoice;

static const DisplayChoice display_choices[] = {
    { "none", DISPLAY_NONE, true },
    { "sdl", DISPLAY_SDL, false },
    { "curses", DISPLAY_DEFAULT, false },
};

static const char *const display_names[] = { "none", "sdl", "curses", NULL };

static OptionsResult display_keyvals(Parser *p, const KeyVals *kv)
{
    const DisplayChoice *choice;
    int i;

    if (kv->count == 0 || !key_is(&kv->item[0], "type"))
        return fail(p, "missing display type (none, sdl, curses)");
    i = choice_index(display_names, kv->item[0].value);
    if (i < 0)
        return fail(p, "unknown display type '%s' (none, sdl, curses)",
                    kv->item[0].value);
    choice = &display_choices[i];
    if (!choice->implemented)
        return fail(p, "%s is not implemented yet", choice->name);
    if (kv->count > 1)
        return fail_unknown_key(p, &kv->item[1]);
    p->cfg->display = choice->kind;
    return OPTIONS_RUN;
}

static OptionsResult opt_display(Parser *p, const char *arg)
{
    return with_keyvals(p, arg, "type", display_keyvals);
}

static OptionsResult opt_nographic(Parser *p, const char *arg)
{
    p->cfg->nographic = true;
    return OPTIONS_RUN;
}

/* ---- debugging and information ------------------------------------------ */

static OptionsResult opt_log(Parser *p, const char *arg)
{
    const char *bad = "";
    uint32_t mask = 0;

    if (strcmp(arg, "help") == 0 || strcmp(arg, "?") == 0) {
        fputs("Log categories for -d (comma separated, e.g. -d int,unimp):\n",
              p->out);
        for (size_t i = 0; log_category_help[i] != NULL; i++)
            fprintf(p->out, "  %s\n", log_category_help[i]);
        return OPTIONS_EXIT_OK;
    }
    if (log_parse_categories(arg, &mask, &bad) < 0)
        return fail(p, "unknown logging category '%s' (try -d help)", bad);
    p->cfg->log_mask = mask;
    return OPTIONS_RUN;
}

static OptionsResult opt_log_file(Parser *p, const char *arg)
{
    return store_string(p, &p->cfg->log_file, arg);
}

static OptionsResult opt_screendump(Parser *p, const char *arg)
{
    return store_string(p, &p->cfg->screendump, arg);
}

static OptionsResult opt_help(Parser *p, const char *arg)
{
    print_usage(p->out);
    return OPTIONS_EXIT_OK;
}

static OptionsResult opt_version(Parser *p, const char *arg)
{
    fputs("vireo " VIREO_VERSION "\n"
          "A full-system x86 PC emulator with a QEMU-compatible command line.\n",
          p->out);
    return OPTIONS_EXIT_OK;
}

/* ---- the option table --------------------------------------------------- */

#define SECTION(title) { NULL, NULL, NULL, false, NULL, title }

static const OptionSpec option_table[] = {
    SECTION("Machine"),
    { "machine", "M", "TYPE", true, opt_machine,
      "machine type; only pc (i440FX, as on QEMU)" },
    { "m", NULL, "SIZE", true, opt_memory,
      "guest RAM: 512 (MiB), 512M, 2G, 1.5G; default 128M" },
    { "smp", NULL, "N", true, opt_smp, "number of CPUs (only 1 for now)" },
    { "cpu", NULL, "MODEL", false, NULL, "CPU model" },
    { "accel", NULL, "NAME[,jit=on|off]", true, opt_accel,
      "accelerator: tcg, with the JIT unless jit=off (kvm: not implemented "
      "yet)" },
    { "enable-kvm", NULL, NULL, false, NULL, "same as -accel kvm" },
    { "icount", NULL, "shift=N", true, opt_icount,
      "deterministic: virtual time advances 2^N ns per instruction (N 0..10)" },
    { "no-reboot", NULL, NULL, true, opt_no_reboot,
      "exit instead of rebooting" },

    SECTION("Firmware and boot"),
    { "bios", NULL, "FILE", true, opt_bios,
      "firmware image (default: the bundled SeaBIOS)" },
    { "kernel", NULL, "FILE", true, opt_kernel, "Linux bzImage to boot directly" },
    { "initrd", NULL, "FILE", true, opt_initrd, "initial ramdisk for -kernel" },
    { "append", NULL, "CMDLINE", true, opt_append,
      "kernel command line for -kernel" },
    { "boot", NULL, "ORDER", true, opt_boot,
      "boot order: letters a, c, d, n, or order=,once=,menu=on|off" },

    SECTION("Storage"),
    { "drive", NULL, "file=F[,...]", true, opt_drive,
      "a disk: format=raw|qcow2, if=ide|virtio, media=disk|cdrom, "
      "readonly=on|off, index=0..3" },
    { "hda", NULL, "FILE", true, opt_hda, "IDE disk 0" },
    { "hdb", NULL, "FILE", true, opt_hdb, "IDE disk 1" },
    { "hdc", NULL, "FILE", true, opt_hdc, "IDE disk 2" },
    { "hdd", NULL, "FILE", true, opt_hdd, "IDE disk 3" },
    { "cdrom", NULL, "FILE", true, opt_cdrom, "IDE CD-ROM (slot 2)" },
    { "snapshot", NULL, NULL, true, opt_snapshot,
      "write disk changes to temporary files" },

    SECTION("Display and character devices"),
    { "nographic", NULL, NULL, true, opt_nographic,
      "no window; the serial port goes to the terminal" },
    { "display", NULL, "TYPE", true, opt_display,
      "none (sdl, curses: not implemented yet)" },
    { "serial", NULL, "DEV", true, opt_serial,
      "serial port (up to 4): stdio, null, none, pty, file:PATH, "
      "tcp:[HOST]:PORT[,server][,nowait], mon:stdio" },
    { "debugcon", NULL, "DEV", true, opt_debugcon,
      "debug console; same DEV syntax as -serial" },
    { "vnc", NULL, "DISPLAY", false, NULL, "VNC server" },
    { "monitor", NULL, "DEV", false, NULL, "human monitor" },
    { "qmp", NULL, "DEV", false, NULL, "QMP monitor" },

    SECTION("Network and devices"),
    { "netdev", NULL, "SPEC", false, NULL, "network backend" },
    { "device", NULL, "SPEC", false, NULL, "add a device" },

    SECTION("Debugging"),
    { "d", NULL, "LIST", true, opt_log, "log categories (-d help lists them)" },
    { "D", NULL, "FILE", true, opt_log_file, "log to FILE instead of stderr" },
    { "screendump", NULL, "FILE", true, opt_screendump,
      "when the machine stops, write the VGA text screen to FILE" },
    { "S", NULL, NULL, false, NULL, "do not start the CPU at startup" },
    { "s", NULL, NULL, false, NULL, "same as -gdb tcp::1234" },
    { "gdb", NULL, "DEV", false, NULL, "gdb stub" },

    SECTION("Snapshots and migration"),
    { "loadvm", NULL, "NAME", false, NULL, "start from a snapshot" },
    { "incoming", NULL, "URI", false, NULL, "wait for a live migration" },

    SECTION("Information"),
    { "help", "h", NULL, true, opt_help, "print this help and exit" },
    { "version", NULL, NULL, true, opt_version, "print the version and exit" },
};

#define OPTION_COUNT (sizeof(option_table) / sizeof(option_table[0]))

/* Print one word at *col, first moving to a new line indented to
 * HELP_COLUMN if it would end past HELP_WIDTH. */
static void print_word(FILE *out, const char *word, size_t len, size_t *col)
{
    if (*col > HELP_COLUMN && *col + 1 + len > HELP_WIDTH) {
        fprintf(out, "\n%*s", HELP_COLUMN, "");
        *col = HELP_COLUMN;
    } else if (*col > HELP_COLUMN) {
        fputc(' ', out);
        (*col)++;
    }
    fwrite(word, 1, len, out);
    *col += len;
}

static void print_option(FILE *out, const OptionSpec *spec)
{
    static const char not_yet[] = "[not implemented yet]";
    char left[64];
    size_t col = HELP_COLUMN;

    snprintf(left, sizeof(left), "  -%s%s%s%s%s", spec->name,
             spec->alias ? ", -" : "", spec->alias ? spec->alias : "",
             spec->arg ? " " : "", spec->arg ? spec->arg : "");
    if (strlen(left) >= HELP_COLUMN)
        fprintf(out, "%s\n%*s", left, HELP_COLUMN, "");
    else
        fprintf(out, "%-*s", HELP_COLUMN, left);
    for (const char *w = spec->help; *w; w += strspn(w, " ")) {
        size_t len = strcspn(w, " ");
        print_word(out, w, len, &col);
        w += len;
    }
    if (!spec->implemented)
        print_word(out, not_yet, strlen(not_yet), &col);
    fputc('\n', out);
}

static void print_usage(FILE *out)
{
    fputs("Usage: vireo [options]\n"
          "Vireo, a full-system x86 PC emulator.  The options are QEMU's; each\n"
          "may be written with one dash or two, and takes its value as the\n"
          "next argument.\n",
          out);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (option_table[i].name == NULL)
            fprintf(out, "\n%s:\n", option_table[i].help);
        else
            print_option(out, &option_table[i]);
    }
}

static const OptionSpec *find_option(const char *name)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const OptionSpec *spec = &option_table[i];
        if (spec->name == NULL)
            continue;
        if (strcmp(spec->name, name) == 0 ||
            (spec->alias != NULL && strcmp(spec->alias, name) == 0))
            return spec;
    }
    return NULL;
}

/* ---- the parser --------------------------------------------------------- */

/* Check and store first, so that an unimplemented option still has its
 * value checked; then refuse it if its feature has not landed. */
static OptionsResult run_option(Parser *p, const OptionSpec *spec,
                                const char *arg)
{
    OptionsResult r = spec->handler ? spec->handler(p, arg) : OPTIONS_RUN;

    if (r == OPTIONS_RUN && !spec->implemented)
        return fail(p, "not implemented yet");
    return r;
}

static OptionsResult parse_one(Parser *p, int argc, char **argv, int *i)
{
    const char *word = argv[*i];
    const OptionSpec *spec;
    const char *name;

    p->opt = NULL;
    if (word[0] != '-' || word[1] == '\0')
        return fail(p, "unexpected argument '%s' (try --help)", word);
    name = word[1] == '-' ? word + 2 : word + 1;
    spec = find_option(name);
    if (spec == NULL)
        return fail(p, "unknown option '%s' (try --help)", word);
    p->opt = name;
    if (spec->arg == NULL)
        return run_option(p, spec, NULL);
    if (*i + 1 >= argc)
        return fail(p, "missing argument (-%s %s)", name, spec->arg);
    *i += 1;
    return run_option(p, spec, argv[*i]);
}

/* Rules that involve more than one option, as QEMU has them. */
static OptionsResult check_combinations(Parser *p)
{
    const VmConfig *cfg = p->cfg;

    if (cfg->initrd != NULL && cfg->kernel == NULL) {
        p->opt = "initrd";
        return fail(p, "only allowed with -kernel");
    }
    if (cfg->append != NULL && cfg->kernel == NULL) {
        p->opt = "append";
        return fail(p, "only allowed with -kernel");
    }
    if (cfg->nographic && cfg->display != DISPLAY_DEFAULT) {
        p->opt = "nographic";
        return fail(p, "cannot be used with -display");
    }
    return OPTIONS_RUN;
}

OptionsResult options_parse(int argc, char **argv, VmConfig *cfg,
                            char *msg, size_t msglen, FILE *out)
{
    Parser p = {
        .cfg = cfg, .msg = msg, .msglen = msglen, .out = out ? out : stdout,
    };

    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    for (int i = 1; i < argc; i++) {
        OptionsResult r = parse_one(&p, argc, argv, &i);
        if (r != OPTIONS_RUN)
            return r;
    }
    return check_combinations(&p);
}

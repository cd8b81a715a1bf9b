/* The `pc` board: RAM, firmware, address spaces, clock, input queue and
 * the vCPU run loop.
 *
 * Memory layout follows QEMU's i440FX machine, which Debian's SeaBIOS is
 * built for: RAM from 0 up to the PCI hole (at most 3 GiB when the guest
 * has 3.5 GiB or more, the rest above 4 GiB); the legacy VGA window at
 * 0xA0000-0xBFFFF; 0xC0000-0xFFFFF belongs to the i440FX's PAM logic
 * (shadow RAM or the firmware's last 128 KiB); the firmware image sits at
 * the top of 4 GiB.  Devices are wired in pc_devices.c, what the firmware
 * reads is set up in pc_firmware.c.
 */
#include "machine/pc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit/jit.h"
#include "machine/linux_boot.h"
#include "machine/multiboot.h"
#include "machine/pc_internal.h"
#include "util/log.h"

#define PC_BIOS_NAME "bios-256k.bin"
#define PC_BIOS_MAX (16u << 20)
#define PC_LOWMEM_LIMIT 0xe0000000ull   /* above this, the PCI hole */
#define PC_LOWMEM_SPLIT 0xc0000000ull   /* lowmem when RAM reaches the hole */
#define PC_SLICE_INSNS 100000           /* instructions between device checks */

/* Set by SIGINT/SIGTERM: the only process-wide state, as signals are. */
static volatile sig_atomic_t quit_signal;

static void on_quit_signal(int sig)
{
    quit_signal = sig;
}

static int64_t pc_time_ns(void *opaque)
{
    return clock_ns(opaque);
}

static uint64_t pc_icount(void *opaque)
{
    return ((Cpu *)opaque)->s.icount;
}

/* The chipset aliases the firmware's last 128 KiB below 1 MiB. */
#define PC_BIOS_ALIAS (128u << 10)

/* Read the firmware image whole; its size must be a multiple of 64 KiB
 * (the chipset decodes it at the top of 4 GiB).  An image smaller than the
 * 128 KiB alias sits at the end of a 128 KiB buffer filled with 0xFF, as
 * an erased flash part would read. */
static int load_bios(Pc *pc, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open firmware '%s': %s", path, strerror(errno));
        return -errno;
    }
    if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > PC_BIOS_MAX ||
        st.st_size % 65536 != 0) {
        snprintf(err, errlen, "firmware '%s': size %lld is not a multiple of "
                 "64 KiB up to 16 MiB", path, (long long)st.st_size);
        close(fd);
        return -EINVAL;
    }
    size_t image = (size_t)st.st_size;
    pc->bios_size = image < PC_BIOS_ALIAS ? PC_BIOS_ALIAS : image;
    pc->bios = malloc(pc->bios_size);
    ssize_t got = -1;
    if (pc->bios) {
        memset(pc->bios, 0xff, pc->bios_size - image);
        got = read(fd, pc->bios + pc->bios_size - image, image);
    }
    close(fd);
    if (got != (ssize_t)image) {
        snprintf(err, errlen, "cannot read firmware '%s'", path);
        return -EIO;
    }
    pc->bios_image = image;
    return 0;
}

static int map_memory(Pc *pc, char *err, size_t errlen)
{
    uint64_t size = pc->ram_size;
    pc->lowmem = size >= PC_LOWMEM_LIMIT ? PC_LOWMEM_SPLIT : size;
    pc->ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (pc->ram == MAP_FAILED) {
        pc->ram = NULL;
        snprintf(err, errlen, "-m: cannot allocate %llu MiB of guest RAM: %s",
                 (unsigned long long)(size >> 20), strerror(errno));
        return -ENOMEM;
    }
    uint64_t low = pc->lowmem;
    int r = as_map_ram(&pc->mem, "ram-below-vga", 0, low < 0xa0000 ? low : 0xa0000, pc->ram);
    if (!r && low > 0x100000)
        r = as_map_ram(&pc->mem, "ram-low", 0x100000, low - 0x100000, pc->ram + 0x100000);
    if (!r && size > low)
        r = as_map_ram(&pc->mem, "ram-high", PC_HIGHMEM_BASE, size - low, pc->ram + low);
    if (!r)
        r = as_map_rom(&pc->mem, "bios", PC_HIGHMEM_BASE - pc->bios_image,
                       pc->bios_image, pc->bios + pc->bios_size - pc->bios_image);
    if (r) {
        snprintf(err, errlen, "cannot lay out guest memory: %s", strerror(-r));
        return r;
    }
    return 0;
}

void pc_rom_path(const char *name, char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(buf, len, "%s/roms/%s", exe, name);
            if (access(buf, R_OK) == 0)
                return;
        }
    }
    snprintf(buf, len, "/usr/share/seabios/%s", name);
}

/* Power-on state for everything: the RESET line of the board. */
static void pc_reset(Pc *pc)
{
    cpu_reset(&pc->cpu);
    pc_devices_reset(pc);
    /* -kernel: the kernel is entered directly, as a boot loader would
     * leave it; every reset loads it again. */
    if (pc->linux_boot)
        linux_boot_reset(pc, pc->linux_boot);
    if (pc->multiboot)
        multiboot_reset(pc, pc->multiboot);
    atomic_store(&pc->reset_requested, false);
}

int pc_create(const VmConfig *cfg, Pc **out, char *err, size_t errlen)
{
    Pc *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pc->cfg = cfg;
    pc->ram_size = cfg->ram_bytes;
    as_init(&pc->mem, "memory", 0);
    as_init(&pc->io, "io", 1u << 16);
    char bios[4200];
    pc_rom_path(PC_BIOS_NAME, bios, sizeof(bios));
    int r = load_bios(pc, cfg->bios ? cfg->bios : bios, err, errlen);
    if (!r)
        r = map_memory(pc, err, errlen);
    if (!r && events_init(&pc->events, 4096) < 0) {
        snprintf(err, errlen, "cannot create the input queue");
        r = -ENOMEM;
    }
    if (r) {
        pc_destroy(pc);
        return r;
    }
    clock_init(&pc->clock, cfg->deterministic ? CLOCK_MODE_DETERMINISTIC
                                              : CLOCK_MODE_REALTIME,
               cfg->icount_shift);
    cpu_init(&pc->cpu, &pc->mem, &pc->io);
    /* Hosts without a JIT backend yet interpret: -accel tcg still works. */
    const JitBackend *backend = cfg->jit ? jit_backend_default() : NULL;
    if (backend && !jit_new(&pc->cpu, backend, jit_threshold_from_env()))
        fprintf(stderr, "vireo: cannot start the JIT, interpreting\n");
    pc->cpu.time_ns = pc_time_ns;
    pc->cpu.time_opaque = &pc->clock;
    clock_set_icount_source(&pc->clock, pc_icount, &pc->cpu);
    r = pc_devices_create(pc, err, errlen);
    if (!r)
        r = pc_firmware_setup(pc, err, errlen);
    if (!r && cfg->kernel) {
        /* A Multiboot header wins, as on QEMU; anything else must be a
         * bzImage. */
        r = multiboot_try_load(pc, cfg->kernel, cfg->append, cfg->initrd,
                               &pc->multiboot, err, errlen);
        if (r == 0)
            r = linux_boot_create(pc, &pc->linux_boot, err, errlen);
        else if (r > 0)
            r = 0;
    }
    if (r) {
        pc_destroy(pc);
        return r;
    }
    pc_reset(pc);
    *out = pc;
    return 0;
}

/* Longest idle sleep: a signal cannot wake the input queue's condition
 * variable safely, so the loop comes back this often to notice one. */
#define PC_IDLE_MAX_NS 50000000

/* The CPU is idle (HLT): move time on to the next timer, or wait for an
 * input event. */
static void pc_idle(Pc *pc)
{
    int64_t wait = PC_IDLE_MAX_NS;
    if (pc->cfg->deterministic) {
        if (clock_skip_to_next_deadline(&pc->clock))
            return;
    } else {
        int64_t until_timer = clock_host_wait_ns(&pc->clock);
        if (until_timer >= 0 && until_timer < wait)
            wait = until_timer;
    }
    events_wait(&pc->events, wait);
}

/* A triple fault resets the machine, or ends the run with -no-reboot. */
static void pc_shutdown(Pc *pc)
{
    if (pc->cfg->no_reboot) {
        atomic_store(&pc->exit_requested, true);
        return;
    }
    pc_reset(pc);
}

int pc_run(Pc *pc)
{
    signal(SIGINT, on_quit_signal);
    signal(SIGTERM, on_quit_signal);
    clock_resume(&pc->clock);
    while (!atomic_load(&pc->exit_requested) && !quit_signal) {
        events_deliver(&pc->events, pc->cpu.s.icount);
        pc_devices_poll(pc);
        clock_run_timers(&pc->clock);
        uint64_t limit = pc->cpu.s.icount + PC_SLICE_INSNS;
        if (pc->cfg->deterministic) {
            int64_t next = clock_next_deadline(&pc->clock);
            int64_t now = clock_ns(&pc->clock);
            if (next != INT64_MAX && next > now) {
                uint64_t ahead = ((uint64_t)(next - now) >> pc->cfg->icount_shift) + 1;
                if (ahead < PC_SLICE_INSNS)
                    limit = pc->cpu.s.icount + ahead;
            }
        }
        cpu_exec(&pc->cpu, limit);
        pc->cpu.exit_request = 0;
        if (atomic_load(&pc->reset_requested)) {
            /* -no-reboot: a reset the guest asks for ends the run, as on
             * QEMU. */
            if (pc->cfg->no_reboot)
                atomic_store(&pc->exit_requested, true);
            else
                pc_reset(pc);
        }
        else if (pc->cpu.shutdown)
            pc_shutdown(pc);
        else if (pc->cpu.s.halted)
            pc_idle(pc);
    }
    clock_pause(&pc->clock);
    if (pc->cfg->screendump)
        pc_write_screendump(pc, pc->cfg->screendump);
    if (quit_signal)
        fprintf(stderr, "vireo: terminated by signal %d\n", (int)quit_signal);
    return pc->exit_status;
}

void pc_destroy(Pc *pc)
{
    if (!pc)
        return;
    pc_devices_destroy(pc);
    linux_boot_free(pc->linux_boot);
    multiboot_free(pc->multiboot);
    jit_free(pc->cpu.jit);
    if (pc->cpu.blocks)
        cpu_destroy(&pc->cpu);
    if (pc->events.ring)
        events_destroy(&pc->events);
    as_destroy(&pc->mem);
    as_destroy(&pc->io);
    if (pc->ram)
        munmap(pc->ram, pc->ram_size);
    free(pc->bios);
    free(pc);
}

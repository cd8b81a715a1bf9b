/* Unit tests for hw/acpi_pm.c, the PIIX4 power management function.
 *
 * Virtual time comes from a deterministic Clock over a fake instruction
 * counter at 1 ns per instruction, so every expected timer value is exact:
 * the ACPI PM timer counts at 3.579545 MHz (ACPI 4.7.3.3), is 24 bits
 * wide, and TMR_STS is set each time bit 23 changes, i.e. every 2^23 ticks
 * = 2.3435 s.  Register layout and values are the PIIX4 datasheet's and
 * ACPI's (PM1_STS at +0, PM1_EN +2, PM1_CNT +4, PM_TMR +8; SCI_EN bit 0,
 * SLP_TYP bits 12:10, SLP_EN bit 13), programmed as SeaBIOS does: PMBA =
 * 0x601, PMREGMISC = 1.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/acpi_pm.h"
#include "hw/pci.h"
#include "machine/clock.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"
#include "util/log.h"

#define PM 0x600

static AddressSpace mem, io;
static PciBus *bus;
static Clock clk;
static uint64_t icount;
static AcpiPm *pm;
static int sci_level, sci_changes, sci_n;
static int sleeps, sleep_type;

static uint64_t fake_icount(void *opaque)
{
    return *(uint64_t *)opaque;
}

static void rec_sci(void *opaque, int n, int level)
{
    (void)opaque;
    sci_n = n;
    if (level != sci_level)
        sci_changes++;
    sci_level = level;
}

static void rec_sleep(void *opaque, unsigned type)
{
    (void)opaque;
    sleeps++;
    sleep_type = (int)type;
}

static void setup(void)
{
    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    icount = 0;
    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    clock_set_icount_source(&clk, fake_icount, &icount);
    cr_assert_eq(pci_bus_new(&mem, &io, &bus), 0);
    AcpiPmConfig cfg = { .io = &io, .clock = &clk,
                         .sci = irq_line(rec_sci, NULL, 9),
                         .gpe0_base = ACPI_PM_GPE0_QEMU, .sleep = rec_sleep };
    cr_assert_eq(acpi_pm_new(bus, &cfg, &pm), 0);
    sci_level = sci_changes = sleeps = 0;
    sleep_type = -1;
}

static void teardown(void)
{
    acpi_pm_free(pm);
    pci_bus_free(bus);
    as_destroy(&mem);
    as_destroy(&io);
}

TestSuite(acpi_pm, .init = setup, .fini = teardown);

static uint32_t in(uint16_t port, unsigned size) { return (uint32_t)as_read(&io, port, size); }
static void out(uint16_t port, uint32_t v, unsigned size) { as_write(&io, port, v, size); }

static uint32_t cfg_read(unsigned reg, unsigned size)
{
    out(0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
    return in((uint16_t)(0xcfc + (reg & 3)), size);
}

static void cfg_write(unsigned reg, uint32_t v, unsigned size)
{
    out(0xcf8, 0x80000000u | 1u << 11 | 3u << 8 | (reg & 0xfc), 4);
    out((uint16_t)(0xcfc + (reg & 3)), v, size);
}

/* What SeaBIOS's piix4_pm_setup does with acpi_pm_base = 0x600. */
static void seabios_setup(void)
{
    cfg_write(0x3c, 9, 1);
    cfg_write(0x40, PM | 1, 4);
    cfg_write(0x80, 0x01, 1);
    cfg_write(0x90, (PM + 0x100) | 1, 4);
    cfg_write(0xd2, 0x09, 1);
}

static void advance_to(uint64_t ns)
{
    icount = ns;
    clock_run_timers(&clk);
}

/* ---- configuration ---------------------------------------------------------- */

Test(acpi_pm, header_matches_qemus_piix4_pm)
{
    cr_expect_eq(cfg_read(0x00, 4), 0x71138086);
    cr_expect_eq(cfg_read(0x08, 4), 0x06800003);    /* class 068000, rev 03 */
    cr_expect_eq(cfg_read(0x3d, 1), 1);             /* INTA# */
    cr_expect_eq(cfg_read(0x40, 4), 0x00000001);    /* PMBA: I/O indicator */
    cr_expect_eq(cfg_read(0x90, 4), 0x00000001);    /* SMBBA */
    cr_expect_eq(cfg_read(0x80, 1), 0);
}

Test(acpi_pm, apmc_en_preset_so_firmware_skips_smm_setup)
{
    /* SeaBIOS tests DEVACTB (0x58) bit 25 before installing its SMI
     * handler; with no SMM it must find it already set. */
    cr_expect_eq(cfg_read(0x58, 4) & (1u << 25), 1u << 25);
}

Test(acpi_pm, pmba_masks_and_enable)
{
    cfg_write(0x40, 0xffffffff, 4);
    cr_expect_eq(cfg_read(0x40, 4), 0x0000ffc1);    /* 64-byte aligned */
    cfg_write(0x40, PM | 1, 4);
    cr_expect_eq(in(PM + 8, 4), 0xffffffff);        /* PMIOSE still clear */
    cfg_write(0x80, 0x01, 1);
    cr_expect_eq(in(PM + 8, 4), 0);                 /* the timer at t = 0 */
    cfg_write(0x40, 0x0700, 2);                     /* move the block */
    cr_expect_eq(in(PM + 8, 4), 0xffffffff);
    cr_expect_eq(in(0x708, 4), 0);
    cfg_write(0x80, 0x00, 1);
    cr_expect_eq(in(0x708, 4), 0xffffffff);
}

Test(acpi_pm, pm_block_over_another_device_is_logged)
{
    static const MemOps dummy = { 0 };
    char path[] = "/tmp/vireo-test-acpi-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(log_set_file(path), 0);
    log_mask = LOG_GUEST_ERRORS;
    cr_assert_eq(as_map_io(&io, "other", 0x620, 4, &dummy, NULL), 0);
    seabios_setup();                                /* 0x600-0x63f overlaps */
    cr_expect_eq(in(PM + 8, 4), 0xffffffff);
    cfg_write(0x40, 0x0681, 4);                     /* move somewhere free */
    cr_expect_eq(in(0x688, 4), 0);
    log_close();
    FILE *f = fopen(path, "r");
    char text[4096] = { 0 };
    cr_assert_not_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = 0;
    fclose(f);
    unlink(path);
    cr_expect_not_null(strstr(text, "0x600"), "log: %s", text);
}

/* ---- the PM timer ------------------------------------------------------------- */

Test(acpi_pm, timer_runs_at_3_579545_mhz_of_virtual_time)
{
    seabios_setup();
    advance_to(1000000000);                         /* 1 s */
    cr_expect_eq(in(PM + 8, 4), 3579545);
    advance_to(10000000);                           /* back to 10 ms (fake) */
    cr_expect_eq(in(PM + 8, 4), 35795);             /* 35795.45 */
    advance_to(2000000000);                         /* 2 s */
    cr_expect_eq(in(PM + 8, 4), 7159090);
    advance_to(5000000000ull);                      /* 17897725 mod 2^24 */
    cr_expect_eq(in(PM + 8, 4), 1120509);
    cr_expect_eq(in(PM + 8, 4) >> 24, 0);           /* 24-bit */
    cr_expect_eq(in(PM + 8, 2), 1120509 & 0xffff);
    cr_expect_eq(in(PM + 10, 1), (1120509 >> 16) & 0xff);
    out(PM + 8, 0, 4);                              /* read-only */
    cr_expect_eq(in(PM + 8, 4), 1120509);
}

Test(acpi_pm, timer_wraps_at_2_pow_24)
{
    seabios_setup();
    /* 2^24 ticks = 4.6869689 s: 1 us before and after. */
    advance_to(4686968000ull);
    uint32_t before = in(PM + 8, 4);
    advance_to(4686969000ull);
    uint32_t after = in(PM + 8, 4);
    cr_expect_gt(before, 0xfffff0);
    cr_expect_lt(after, 0x10);
}

Test(acpi_pm, tmr_sts_when_bit_23_changes)
{
    seabios_setup();
    advance_to(2300000000ull);                      /* 8232953 ticks < 2^23 */
    cr_expect_eq(in(PM + 0, 2) & 1, 0);
    advance_to(2350000000ull);                      /* 8411930 >= 2^23 */
    cr_expect_eq(in(PM + 0, 2) & 1, 1);
    out(PM + 0, 0x0001, 2);                         /* write one to clear */
    cr_expect_eq(in(PM + 0, 2) & 1, 0);
    advance_to(4600000000ull);                      /* bit 23 still 1 */
    cr_expect_eq(in(PM + 0, 2) & 1, 0);
    advance_to(4700000000ull);                      /* wrapped: 1 -> 0 */
    cr_expect_eq(in(PM + 0, 2) & 1, 1);
}

Test(acpi_pm, sci_on_timer_overflow_when_enabled)
{
    seabios_setup();
    out(0xb2, ACPI_PM_ACPI_ENABLE, 1);              /* OSPM takes over: SCI_EN */
    cr_expect_eq(in(PM + 4, 2) & 1, 1);
    out(PM + 2, 0x0001, 2);                         /* TMR_EN */
    cr_expect_eq(clock_next_deadline(&clk) / 1000000, 2343);   /* 2.3435 s */
    advance_to(2340000000ull);
    cr_expect_eq(sci_level, 0);
    advance_to(2350000000ull);
    cr_expect_eq(sci_level, 1);
    cr_expect_eq(sci_n, 9);
    out(PM + 0, 0x0001, 2);                         /* acknowledge */
    cr_expect_eq(sci_level, 0);
    advance_to(4700000000ull);                      /* next change of bit 23 */
    cr_expect_eq(sci_level, 1);
}

Test(acpi_pm, no_sci_without_tmr_en_or_sci_en)
{
    seabios_setup();
    out(PM + 2, 0x0001, 2);                         /* TMR_EN, SCI_EN clear */
    cr_expect_eq(clock_next_deadline(&clk), INT64_MAX);
    advance_to(2350000000ull);
    cr_expect_eq(sci_level, 0);
    cr_expect_eq(in(PM + 0, 2) & 1, 1);             /* status still latches */
    out(PM + 2, 0x0000, 2);
    out(PM + 4, 0x0001, 2);                         /* SCI_EN, TMR_EN clear */
    cr_expect_eq(sci_level, 0);
    out(PM + 2, 0x0001, 2);                         /* both: pending status fires */
    cr_expect_eq(sci_level, 1);
    out(0xb2, ACPI_PM_ACPI_DISABLE, 1);
    cr_expect_eq(sci_level, 0);
}

/* ---- sleep ------------------------------------------------------------------- */

Test(acpi_pm, slp_en_with_s5_calls_the_board)
{
    seabios_setup();
    out(PM + 4, 0x0001 | 0 << 10, 2);               /* SLP_TYP 0, no SLP_EN */
    cr_expect_eq(sleeps, 0);
    out(PM + 4, 0x2000 | 0 << 10 | 1, 2);           /* S5 = SLP_TYP 0 on PIIX4 */
    cr_expect_eq(sleeps, 1);
    cr_expect_eq(sleep_type, 0);
    cr_expect_eq(in(PM + 4, 2) & 0x2000, 0);        /* SLP_EN reads 0 */
    out(PM + 4, 0x2000 | 1 << 10, 2);               /* another type is passed on */
    cr_expect_eq(sleeps, 2);
    cr_expect_eq(sleep_type, 1);
    cr_expect_eq(in(PM + 4, 2), 1 << 10);
    out(PM + 5, 0x20 | 5 << 2, 1);                  /* byte write of the high half */
    cr_expect_eq(sleeps, 3);
    cr_expect_eq(sleep_type, 5);
}

/* ---- other events --------------------------------------------------------------- */

Test(acpi_pm, power_button)
{
    seabios_setup();
    out(PM + 4, 1, 2);
    acpi_pm_power_button(pm);
    cr_expect_eq(in(PM + 0, 2) & 0x0100, 0x0100);
    cr_expect_eq(sci_level, 0);                     /* PWRBTN_EN clear */
    out(PM + 2, 0x0100, 2);
    cr_expect_eq(sci_level, 1);
    out(PM + 0, 0x0100, 2);
    cr_expect_eq(sci_level, 0);
    cr_expect_eq(in(PM + 0, 2) & 0x0100, 0);
}

Test(acpi_pm, gpe0_block)
{
    out(0xb2, ACPI_PM_ACPI_ENABLE, 1);
    acpi_pm_raise_gpe(pm, 1);
    cr_expect_eq(in(0xafe0, 1), 0x02);
    cr_expect_eq(sci_level, 0);
    out(0xafe2, 0x02, 1);                           /* GPE0_EN bit 1 */
    cr_expect_eq(sci_level, 1);
    out(0xafe0, 0x02, 1);                           /* clear */
    cr_expect_eq(sci_level, 0);
    cr_expect_eq(in(0xafe0, 4), 0x00020000);
}

Test(acpi_pm, smbus_host_without_devices)
{
    seabios_setup();
    cr_expect_eq(in(0x700, 1), 0xff);               /* PCI I/O decode still off */
    cfg_write(0x04, PCI_COMMAND_IO, 2);
    cr_expect_eq(in(0x700, 1), 0x00);               /* idle */
    out(0x704, 0xa1, 1);                            /* read from 0x50 */
    out(0x702, 0x48, 1);                            /* start, byte data */
    cr_expect_eq(in(0x700, 1) & 0x04, 0x04);        /* DEV_ERR: nobody there */
    out(0x700, 0x04, 1);
    cr_expect_eq(in(0x700, 1), 0x00);
}

Test(acpi_pm, reset_clears_events_and_unmaps)
{
    seabios_setup();
    out(0xb2, ACPI_PM_ACPI_ENABLE, 1);
    out(PM + 2, 0x0100, 2);
    acpi_pm_power_button(pm);
    cr_expect_eq(sci_level, 1);
    acpi_pm_reset(pm);
    cr_expect_eq(sci_level, 0);
    cr_expect_eq(in(PM + 8, 4), 0xffffffff);
    cr_expect_eq(cfg_read(0x40, 4), 1);
}

Test(acpi_pm, post_load_remaps_and_rearms)
{
    StateBuf buf = { 0 };
    size_t pos = 0;
    char err[128];

    seabios_setup();
    out(0xb2, ACPI_PM_ACPI_ENABLE, 1);
    out(PM + 2, 0x0001, 2);
    cr_assert_eq(state_save(&acpi_pm_state_desc, &pm->s, &buf), 0);
    acpi_pm_reset(pm);
    cr_expect_eq(clock_next_deadline(&clk), INT64_MAX);
    cr_assert_eq(state_load(&acpi_pm_state_desc, &pm->s, pm, buf.data, buf.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    cr_expect_eq(in(PM + 2, 2), 0x0001);
    cr_expect_neq(clock_next_deadline(&clk), INT64_MAX);
    advance_to(2350000000ull);
    cr_expect_eq(sci_level, 1);
    statebuf_free(&buf);
}

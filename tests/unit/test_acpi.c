/* Unit tests for machine/acpi.c: the tables are relocated with their own
 * loader commands into a buffer that stands for guest memory, then read
 * back the way an OS does (RSDP -> XSDT/RSDT -> FADT -> FACS/DSDT, MADT,
 * HPET).  Offsets and values are those of the ACPI 6.4 specification
 * (5.2.5.3 RSDP, 5.2.9 FADT Table 5.34, 5.2.12 MADT), the IA-PC HPET
 * specification 3.2.4, and QEMU's linker/loader command layout, written out
 * here as numbers rather than taken from the code under test.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine/acpi.h"
#include "machine/config.h"
#include "machine/pc_internal.h"

#define MEM_BASE   0x07ff0000ull   /* where "guest memory" starts */
#define MEM_SIZE   0x10000u
#define RSDP_ADDR  MEM_BASE
#define TABLES_ADDR (MEM_BASE + 0x40)

static uint8_t mem[MEM_SIZE];

static const AcpiConfig base_cfg = {
    .lowmem = 128u << 20, .cpus = 1, .pm_base = 0x600, .gpe0_base = 0xafe0,
    .hpet_id = 0x8086a201,
};

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* A guest-physical address inside `mem`, with `len` bytes behind it. */
static uint8_t *at(uint64_t addr, size_t len)
{
    cr_assert(addr >= MEM_BASE && addr + len <= MEM_BASE + MEM_SIZE,
              "address 0x%llx+%zu outside the tables", (unsigned long long)addr,
              len);
    return mem + (addr - MEM_BASE);
}

/* A table at `addr`: its signature, a length within memory, checksum 0. */
static uint8_t *table(uint64_t addr, const char *sig)
{
    uint8_t *t = at(addr, 36);
    uint32_t len = (uint32_t)le(t + 4, 4);
    cr_assert_eq(memcmp(t, sig, 4), 0, "expected %s at 0x%llx", sig,
                 (unsigned long long)addr);
    at(addr, len);
    cr_assert_eq(sum(t, len), 0, "%s checksum", sig);
    return t;
}

/* Build, relocate with the blob's own commands, copy into `mem`. */
static void place(const AcpiConfig *cfg, AcpiBlob *b)
{
    cr_assert_eq(acpi_build_tables(cfg, b), 0);
    cr_assert_eq(acpi_blob_relocate(b, TABLES_ADDR, RSDP_ADDR), 0);
    cr_assert(0x40 + b->tables_len <= MEM_SIZE);
    memset(mem, 0, sizeof(mem));
    memcpy(mem, b->rsdp, 36);
    memcpy(mem + 0x40, b->tables, b->tables_len);
}

/* The table with signature `sig` listed by the XSDT, or 0. */
static uint64_t find(const char *sig)
{
    uint8_t *x = table(le(at(RSDP_ADDR, 36) + 24, 8), "XSDT");
    unsigned n = (unsigned)(le(x + 4, 4) - 36) / 8;
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = le(x + 36 + 8 * i, 8);
        if (!memcmp(at(a, 4), sig, 4))
            return a;
    }
    return 0;
}

static AcpiBlob blob;

static void teardown(void)
{
    acpi_blob_free(&blob);
}

TestSuite(acpi, .fini = teardown);

Test(acpi, rsdp_revision2_both_checksums)
{
    place(&base_cfg, &blob);
    uint8_t *r = at(RSDP_ADDR, 36);
    cr_assert_eq(memcmp(r, "RSD PTR ", 8), 0);
    cr_assert_eq(sum(r, 20), 0, "ACPI 1.0 checksum over 20 bytes");
    cr_assert_eq(sum(r, 36), 0, "extended checksum over 36 bytes");
    cr_assert_eq(r[15], 2);
    cr_assert_eq(le(r + 20, 4), 36);
    table(le(r + 16, 4), "RSDT");
    table(le(r + 24, 8), "XSDT");
}

Test(acpi, rsdt_and_xsdt_list_the_same_tables)
{
    place(&base_cfg, &blob);
    uint8_t *r = at(RSDP_ADDR, 36);
    uint8_t *rs = table(le(r + 16, 4), "RSDT");
    uint8_t *xs = table(le(r + 24, 8), "XSDT");
    unsigned n = (unsigned)(le(rs + 4, 4) - 36) / 4;
    cr_assert_eq(n, 3);
    cr_assert_eq(le(xs + 4, 4), 36 + 8 * n);
    const char *sigs[] = { "FACP", "APIC", "HPET" };
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = le(rs + 36 + 4 * i, 4);
        cr_assert_eq(a, le(xs + 36 + 8 * i, 8), "entry %u", i);
        table(a, sigs[i]);
    }
}

Test(acpi, every_table_checksums_before_relocation_too)
{
    cr_assert_eq(acpi_build_tables(&base_cfg, &blob), 0);
    cr_assert_eq(sum(blob.rsdp, 20), 0);
    cr_assert_eq(sum(blob.rsdp, 36), 0);
    cr_assert_eq(blob.ntables, 7);
    for (unsigned i = 0; i < blob.ntables; i++) {
        const AcpiTableInfo *ti = &blob.table[i];
        const uint8_t *t = blob.tables + ti->offset;
        cr_assert(ti->offset + ti->len <= blob.tables_len);
        cr_assert_eq(memcmp(t, ti->sig, 4), 0);
        cr_assert_eq(le(t + 4, 4), ti->len, "%s length", ti->sig);
        if (strcmp(ti->sig, "FACS"))
            cr_assert_eq(sum(t, ti->len), 0, "%s checksum", ti->sig);
    }
}

Test(acpi, fadt_fields)
{
    place(&base_cfg, &blob);
    uint64_t fa = find("FACP");
    uint8_t *f = table(fa, "FACP");
    cr_assert_eq(le(f + 4, 4), 244);
    cr_assert_eq(f[8], 3, "revision 3");
    cr_assert_eq(le(f + 46, 2), 9, "SCI_INT");
    cr_assert_eq(le(f + 48, 4), 0xb2, "SMI_CMD");
    cr_assert_eq(f[52], 0xf1, "ACPI_ENABLE");
    cr_assert_eq(f[53], 0xf0, "ACPI_DISABLE");
    cr_assert_eq(le(f + 56, 4), 0x600, "PM1a_EVT_BLK");
    cr_assert_eq(le(f + 60, 4), 0, "PM1b_EVT_BLK");
    cr_assert_eq(le(f + 64, 4), 0x604, "PM1a_CNT_BLK");
    cr_assert_eq(le(f + 76, 4), 0x608, "PM_TMR_BLK");
    cr_assert_eq(le(f + 80, 4), 0xafe0, "GPE0_BLK");
    cr_assert_eq(f[88], 4, "PM1_EVT_LEN");
    cr_assert_eq(f[89], 2, "PM1_CNT_LEN");
    cr_assert_eq(f[91], 4, "PM_TMR_LEN");
    cr_assert_eq(f[92], 4, "GPE0_BLK_LEN");
    cr_assert_eq(f[108], 0x32, "CENTURY");
    cr_assert_eq(le(f + 109, 2) & 3, 3, "IAPC_BOOT_ARCH: legacy devices, 8042");
    uint32_t flags = (uint32_t)le(f + 112, 4);
    cr_assert(flags & (1u << 10), "RESET_REG_SUP");
    cr_assert_not(flags & (1u << 8), "TMR_VAL_EXT: 24-bit timer");
    cr_assert_not(flags & (1u << 4), "fixed power button present");
    /* RESET_REG: system I/O, 8 bits, byte access, 0xCF9; value 6. */
    cr_assert_eq(f[116], 1);
    cr_assert_eq(f[117], 8);
    cr_assert_eq(f[119], 1);
    cr_assert_eq(le(f + 120, 8), 0xcf9);
    cr_assert_eq(f[128], 0x06);
    /* The 64-bit blocks say the same as the 32-bit ones. */
    cr_assert_eq(f[148], 1);
    cr_assert_eq(f[149], 32);
    cr_assert_eq(le(f + 152, 8), 0x600, "X_PM1a_EVT_BLK");
    cr_assert_eq(f[173], 16);
    cr_assert_eq(le(f + 176, 8), 0x604, "X_PM1a_CNT_BLK");
    cr_assert_eq(f[209], 32);
    cr_assert_eq(le(f + 212, 8), 0x608, "X_PM_TMR_BLK");
    cr_assert_eq(le(f + 224, 8), 0xafe0, "X_GPE0_BLK");
    /* The FACS through FIRMWARE_CTRL only (X_FIRMWARE_CTRL 0), the DSDT
     * through both pointer sizes. */
    uint64_t facs = le(f + 36, 4), dsdt = le(f + 40, 4);
    cr_assert_eq(le(f + 132, 8), 0);
    cr_assert_eq(le(f + 140, 8), dsdt);
    uint8_t *fs = at(facs, 64);
    cr_assert_eq(memcmp(fs, "FACS", 4), 0);
    cr_assert_eq(le(fs + 4, 4), 64);
    cr_assert_eq(facs % 64, 0, "FACS 64-byte aligned");
    table(dsdt, "DSDT");
}

Test(acpi, madt_entries)
{
    place(&base_cfg, &blob);
    uint8_t *m = table(find("APIC"), "APIC");
    uint32_t len = (uint32_t)le(m + 4, 4);
    cr_assert_eq(le(m + 36, 4), 0xfee00000u, "local APIC address");
    cr_assert_eq(le(m + 40, 4) & 1, 1, "PCAT_COMPAT");
    int lapics = 0, ioapics = 0, nmis = 0;
    uint16_t iso_flags[16];
    uint32_t iso_gsi[16];
    memset(iso_gsi, 0xff, sizeof(iso_gsi));
    for (uint32_t o = 44; o < len;) {
        uint8_t *e = m + o;
        cr_assert(e[1] >= 2 && o + e[1] <= len, "entry at %u", o);
        switch (e[0]) {
        case 0:
            cr_assert_eq(e[1], 8);
            cr_assert_eq(e[2], 0, "processor UID");
            cr_assert_eq(e[3], 0, "APIC ID");
            cr_assert_eq(le(e + 4, 4) & 1, 1, "enabled");
            lapics++;
            break;
        case 1:
            cr_assert_eq(e[1], 12);
            cr_assert_eq(e[2], 0, "IOAPIC ID");
            cr_assert_eq(le(e + 4, 4), 0xfec00000u);
            cr_assert_eq(le(e + 8, 4), 0, "GSI base");
            ioapics++;
            break;
        case 2:
            cr_assert_eq(e[1], 10);
            cr_assert_eq(e[2], 0, "bus ISA");
            cr_assert(e[3] < 16);
            iso_gsi[e[3]] = (uint32_t)le(e + 4, 4);
            iso_flags[e[3]] = (uint16_t)le(e + 8, 2);
            break;
        case 4:
            cr_assert_eq(e[1], 6);
            cr_assert_eq(e[2], 0xff, "all processors");
            cr_assert_eq(e[5], 1, "LINT1");
            nmis++;
            break;
        default:
            cr_assert_fail("unexpected MADT entry type %u", e[0]);
        }
        o += e[1];
    }
    cr_assert_eq(lapics, 1);
    cr_assert_eq(ioapics, 1);
    cr_assert_eq(nmis, 1);
    cr_assert_eq(iso_gsi[0], 2, "IRQ0 -> GSI 2");
    cr_assert_eq(iso_flags[0], 0);
    cr_assert_eq(iso_gsi[9], 9, "SCI");
    cr_assert_eq(iso_flags[9], 0x0d, "level, active high");
    for (int irq = 1; irq < 16; irq++)
        if (irq != 5 && irq != 9 && irq != 10 && irq != 11)
            cr_assert_eq(iso_gsi[irq], 0xffffffffu, "no override for IRQ%d", irq);
}

Test(acpi, madt_one_lapic_per_cpu)
{
    AcpiConfig cfg = base_cfg;
    cfg.cpus = 4;
    place(&cfg, &blob);
    uint8_t *m = table(find("APIC"), "APIC");
    uint8_t *e = m + 44;
    for (unsigned i = 0; i < 4; i++, e += 8) {
        cr_assert_eq(e[0], 0);
        cr_assert_eq(e[2], i);
        cr_assert_eq(e[3], i);
    }
    cr_assert_eq(e[0], 1, "then the IOAPIC");
}

Test(acpi, hpet_table)
{
    place(&base_cfg, &blob);
    uint8_t *h = table(find("HPET"), "HPET");
    cr_assert_eq(le(h + 4, 4), 56);
    cr_assert_eq(le(h + 36, 4), 0x8086a201u, "event timer block ID");
    cr_assert_eq(h[40], 0, "memory space");
    cr_assert_eq(le(h + 44, 8), 0xfed00000u);
    cr_assert_eq(h[52], 0, "HPET number");
}

Test(acpi, no_hpet_no_table)
{
    AcpiConfig cfg = base_cfg;
    cfg.hpet_id = 0;
    place(&cfg, &blob);
    cr_assert_eq(find("HPET"), 0);
    cr_assert_neq(find("APIC"), 0);
    uint8_t *rs = table(le(at(RSDP_ADDR, 36) + 16, 4), "RSDT");
    cr_assert_eq(le(rs + 4, 4), 36 + 2 * 4);
}

/* Where a NameSeg occurs in the AML, or NULL. */
static const uint8_t *aml_find(const uint8_t *t, size_t len, const char *seg)
{
    for (size_t i = 36; i + 4 <= len; i++)
        if (!memcmp(t + i, seg, 4))
            return t + i;
    return NULL;
}

Test(acpi, dsdt_names_and_s5)
{
    place(&base_cfg, &blob);
    uint8_t *f = table(find("FACP"), "FACP");
    uint8_t *d = table(le(f + 40, 4), "DSDT");
    uint32_t len = (uint32_t)le(d + 4, 4);
    cr_assert_eq(len, acpi_dsdt_aml_len);
    cr_assert_eq(d[8], 2, "DSDT revision 2: 64-bit integers");
    const char *names[] = { "_PRT", "PCI0", "LNKA", "LNKB", "LNKC", "LNKD",
                            "HPET", "PHLO", "_CRS" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert_not_null(aml_find(d, len, names[i]), "%s in the DSDT", names[i]);
    /* Name (\_S5, Package (4) {...}): NameOp 0x08, the root prefix '\'
     * or none, "_S5_", PackageOp 0x12, a one-byte PkgLength, NumElements
     * 4, then SLP_TYP for PM1a: ZeroOp or BytePrefix 0x0A n. */
    const uint8_t *s5 = aml_find(d, len, "_S5_");
    cr_assert_not_null(s5);
    cr_assert(s5[-1] == 0x08 || (s5[-1] == '\\' && s5[-2] == 0x08));
    cr_assert_eq(s5[4], 0x12, "a package");
    cr_assert_eq(s5[6], 4, "four elements");
    cr_assert(s5[7] == 0x00 || s5[7] == 0x0a, "an integer");
    unsigned slp_typ = s5[7] == 0x0a ? s5[8] : 0;
    /* hw/acpi_pm.c reports PIIX4 SUS_TYP 0 (soft off), which the board
     * treats as power-off. */
    cr_assert_eq(slp_typ, 0);
}

Test(acpi, dsdt_pci_window_starts_at_lowmem)
{
    AcpiConfig cfg = base_cfg;
    cfg.lowmem = 0x12340000;
    place(&cfg, &blob);
    uint8_t *f = table(find("FACP"), "FACP");
    uint8_t *d = table(le(f + 40, 4), "DSDT");
    uint32_t len = (uint32_t)le(d + 4, 4);
    /* Name (PHLO, DWordConst): 0x08 "PHLO" 0x0C value. */
    const uint8_t *p = aml_find(d, len, "PHLO");
    cr_assert_not_null(p);
    cr_assert_eq(p[-1], 0x08);
    cr_assert_eq(p[4], 0x0c);
    cr_assert_eq(le(p + 5, 4), 0x12340000);
    const uint8_t marker[4] = { 0xde, 0xc0, 0xed, 0x5e };
    for (uint32_t i = 0; i + 4 <= len; i++)
        cr_assert_neq(memcmp(d + i, marker, 4), 0, "marker left at %u", i);
}

/* ---- the loader command stream ------------------------------------------ */

static const char *cmd_file(const uint8_t *c, unsigned off)
{
    cr_assert_not_null(memchr(c + off, 0, 56), "file name NUL-terminated");
    return (const char *)c + off;
}

Test(acpi, loader_stream_is_well_formed)
{
    cr_assert_eq(acpi_build_tables(&base_cfg, &blob), 0);
    cr_assert_eq(blob.loader_len % 128, 0);
    unsigned n = (unsigned)(blob.loader_len / 128);
    unsigned allocs = 0, ptrs = 0, sums = 0, phase = 1;
    bool tables_summed[8] = { false };
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *c = blob.loader + 128 * i;
        uint32_t cmd = (uint32_t)le(c, 4);
        cr_assert(cmd >= 1 && cmd <= 3, "command %u: %u", i, cmd);
        cr_assert(cmd >= phase, "ALLOCATE, then ADD_POINTER, then ADD_CHECKSUM");
        phase = cmd;
        if (cmd == 1) {
            const char *f = cmd_file(c, 4);
            uint32_t align = (uint32_t)le(c + 60, 4);
            if (!strcmp(f, "etc/acpi/tables")) {
                cr_assert_eq(align, 64, "the FACS needs 64");
                cr_assert_eq(c[64], 1, "zone HIGH");
            } else {
                cr_assert_str_eq(f, "etc/acpi/rsdp");
                cr_assert_eq(align, 16);
                cr_assert_eq(c[64], 2, "zone FSEG");
            }
            allocs++;
        } else if (cmd == 2) {
            const char *dst = cmd_file(c, 4);
            cr_assert_str_eq(cmd_file(c, 60), "etc/acpi/tables");
            size_t dlen = !strcmp(dst, "etc/acpi/rsdp") ? 36 : blob.tables_len;
            uint32_t off = (uint32_t)le(c + 116, 4);
            cr_assert(c[120] == 4 || c[120] == 8);
            cr_assert(off + c[120] <= dlen);
            ptrs++;
        } else {
            const char *file = cmd_file(c, 4);
            uint32_t off = (uint32_t)le(c + 60, 4), start = (uint32_t)le(c + 64, 4);
            uint32_t len = (uint32_t)le(c + 68, 4);
            if (!strcmp(file, "etc/acpi/tables")) {
                for (unsigned t = 0; t < blob.ntables; t++)
                    if (blob.table[t].offset == start && blob.table[t].len == len) {
                        cr_assert_eq(off, start + 9, "the header's checksum byte");
                        tables_summed[t] = true;
                    }
            } else {
                cr_assert((off == 8 && start == 0 && len == 20) ||
                          (off == 32 && start == 0 && len == 36));
            }
            sums++;
        }
    }
    cr_assert_eq(allocs, 2);
    /* RSDP 2, RSDT 3, XSDT 3, FADT 3 (FACS; DSDT, 32 and 64 bits). */
    cr_assert_eq(ptrs, 11);
    /* Every table but the FACS, and the RSDP twice. */
    cr_assert_eq(sums, 6 + 2);
    for (unsigned t = 0; t < blob.ntables; t++)
        cr_assert(tables_summed[t] || !strcmp(blob.table[t].sig, "FACS"),
                  "%s has a checksum command", blob.table[t].sig);
}

/* A one-file loader run over `data`, for the error cases. */
static int run1(uint8_t *cmds, size_t n, uint8_t *data, size_t len,
                uint64_t addr)
{
    AcpiLoaderFile f = { "f", data, len, addr, false };
    char err[128];
    return acpi_loader_run(cmds, n * 128, &f, 1, err, sizeof(err));
}

static void cmd(uint8_t *c, uint32_t command, uint32_t a, uint32_t b,
                uint32_t d)
{
    memset(c, 0, 128);
    c[0] = (uint8_t)command;
    c[4] = 'f';
    if (command == 1) {
        memcpy(c + 60, &a, 4);
        c[64] = (uint8_t)b;
    } else if (command == 2) {
        c[60] = 'f';
        memcpy(c + 116, &a, 4);
        c[120] = (uint8_t)b;
    } else {
        memcpy(c + 60, &a, 4);
        memcpy(c + 64, &b, 4);
        memcpy(c + 68, &d, 4);
    }
}

Test(acpi, loader_runs_pointer_and_checksum)
{
    uint8_t c[3 * 128], data[16] = { 0 };
    data[4] = 8;                        /* pointer to offset 8 */
    cmd(c, 1, 16, 1, 0);
    cmd(c + 128, 2, 4, 4, 0);
    cmd(c + 256, 3, 0, 0, 16);
    cr_assert_eq(run1(c, 3, data, 16, 0x1000), 0);
    cr_assert_eq(le(data + 4, 4), 0x1008);
    cr_assert_eq(sum(data, 16), 0);
}

Test(acpi, loader_rejects_bad_streams)
{
    uint8_t c[2 * 128], data[16] = { 0 };
    cmd(c, 1, 16, 1, 0);
    cmd(c + 128, 2, 4, 4, 0);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), 0);
    memset(data, 0, sizeof(data));

    cmd(c, 1, 16, 1, 0);
    cr_assert_eq(run1(c, 1, data, 16, 0x1008), -EINVAL, "misaligned");
    cmd(c, 1, 12, 1, 0);
    cr_assert_eq(run1(c, 1, data, 16, 0x1000), -EINVAL, "align not 2^n");
    cmd(c, 1, 16, 3, 0);
    cr_assert_eq(run1(c, 1, data, 16, 0x1000), -EINVAL, "bad zone");
    cmd(c, 1, 16, 1, 0);
    cmd(c + 128, 1, 16, 1, 0);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "allocated twice");
    cmd(c, 2, 4, 4, 0);
    cr_assert_eq(run1(c, 1, data, 16, 0x1000), -EINVAL, "before ALLOCATE");
    cmd(c, 1, 16, 1, 0);
    cmd(c + 128, 2, 14, 4, 0);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "pointer outside");
    cmd(c + 128, 2, 4, 3, 0);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "pointer size 3");
    data[4] = 16;
    cmd(c + 128, 2, 4, 4, 0);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "points past the file");
    data[4] = 0;
    cr_assert_eq(run1(c, 2, data, 16, 0x100000000ull), -EINVAL,
                 "address does not fit 4 bytes");
    cmd(c + 128, 3, 0, 8, 9);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "checksum range");
    cmd(c + 128, 9, 0, 0, 0);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "unknown command");
    cmd(c + 128, 2, 4, 4, 0);
    c[128 + 4] = 'g';
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "unknown file");
    memset(c + 128 + 4, 'f', 56);
    cr_assert_eq(run1(c, 2, data, 16, 0x1000), -EINVAL, "name not terminated");
    AcpiLoaderFile f = { "f", data, 16, 0, false };
    char err[64];
    cr_assert_eq(acpi_loader_run(c, 100, &f, 1, err, sizeof(err)), -EINVAL,
                 "partial command");
}

Test(acpi, bad_configs_are_refused)
{
    AcpiConfig cfg = base_cfg;
    cfg.cpus = 0;
    cr_assert_eq(acpi_build_tables(&cfg, &blob), -EINVAL);
    cfg = base_cfg;
    cfg.lowmem = 0xfec00000ull;
    cr_assert_eq(acpi_build_tables(&cfg, &blob), -EINVAL);
    cr_assert_null(blob.tables);
}

/* ---- the board ------------------------------------------------------------ */

static VmConfig vm;
static Pc *pc;

static void board_setup(void)
{
    char err[256];
    config_defaults(&vm);
    cr_assert_eq(pc_create(&vm, &pc, err, sizeof(err)), 0, "%s", err);
}

static void board_teardown(void)
{
    pc_destroy(pc);
    config_free(&vm);
}

Test(acpi_board, fw_cfg_files, .init = board_setup, .fini = board_teardown)
{
    cr_assert_geq(fw_cfg_file_key(pc->fw_cfg, "etc/acpi/tables"), 0x20);
    cr_assert_geq(fw_cfg_file_key(pc->fw_cfg, "etc/acpi/rsdp"), 0x20);
    cr_assert_geq(fw_cfg_file_key(pc->fw_cfg, "etc/table-loader"), 0x20);
    for (size_t i = 0; i < pc->fw_cfg->nfiles; i++)
        if (!strcmp(pc->fw_cfg->files[i].name, "etc/acpi/rsdp")) {
            cr_assert_eq(pc->fw_cfg->files[i].len, 36);
            cr_assert_eq(memcmp(pc->fw_cfg->files[i].data, "RSD PTR ", 8), 0);
        }
}

Test(acpi_board, direct_boot, .init = board_setup, .fini = board_teardown)
{
    uint64_t base, len;
    cr_assert_eq(acpi_reserved_range(pc, &base, &len), 0);
    cr_assert_eq(len, ACPI_RESERVED_SIZE);
    cr_assert_eq(base + len, pc->lowmem);
    cr_assert_eq(acpi_rsdp_address(pc), base);
    cr_assert_eq(acpi_load_direct(pc), 0);
    uint8_t r[36];
    as_read_buf(&pc->mem, base, r, sizeof(r));
    cr_assert_eq(memcmp(r, "RSD PTR ", 8), 0);
    cr_assert_eq(sum(r, 36), 0);
    uint64_t xsdt = le(r + 24, 8);
    cr_assert(xsdt > base && xsdt < base + len);
    uint8_t h[8];
    as_read_buf(&pc->mem, xsdt, h, sizeof(h));
    cr_assert_eq(memcmp(h, "XSDT", 4), 0);
    /* The PM block is where the FADT says, and decodes. */
    cr_assert_eq(pci_bus_config_read(pc->pci, ACPI_PM_DEVFN, ACPI_PM_PMBA, 4) & ~1u,
                 ACPI_PM_BASE);
    cr_assert_eq(pci_bus_config_read(pc->pci, ACPI_PM_DEVFN, ACPI_PM_PMREGMISC, 1) & 1, 1);
}

/* The FADT and DSDT of the board, read from guest memory after a direct
 * boot load, as an OS finds them. */
static void board_fadt_dsdt(uint8_t *fadt, uint8_t **dsdt, uint32_t *dsdt_len)
{
    uint64_t base = acpi_rsdp_address(pc);
    uint8_t r[36], x[44];
    cr_assert_eq(acpi_load_direct(pc), 0);
    as_read_buf(&pc->mem, base, r, sizeof(r));
    as_read_buf(&pc->mem, le(r + 24, 8), x, sizeof(x));
    as_read_buf(&pc->mem, le(x + 36, 8), fadt, 244);     /* entry 0 */
    cr_assert_eq(memcmp(fadt, "FACP", 4), 0);
    uint8_t dh[8];
    as_read_buf(&pc->mem, le(fadt + 140, 8), dh, sizeof(dh));
    *dsdt_len = (uint32_t)le(dh + 4, 4);
    *dsdt = malloc(*dsdt_len);
    as_read_buf(&pc->mem, le(fadt + 140, 8), *dsdt, *dsdt_len);
}

/* Power-off as an OS does it: SLP_TYP from \_S5, written with SLP_EN to
 * PM1a_CNT from the FADT.  The board must stop with status 0. */
Test(acpi_board, s5_powers_off, .init = board_setup, .fini = board_teardown)
{
    uint8_t fadt[244], *dsdt;
    uint32_t dlen;
    board_fadt_dsdt(fadt, &dsdt, &dlen);
    const uint8_t *s5 = aml_find(dsdt, dlen, "_S5_");
    cr_assert_not_null(s5);
    unsigned slp_typ = s5[7] == 0x0a ? s5[8] : 0;
    free(dsdt);
    uint16_t cnt = (uint16_t)le(fadt + 64, 4);
    pc->exit_status = 99;
    as_write(&pc->io, cnt, (uint64_t)(slp_typ << 10 | 0x2000), 2);
    cr_assert(atomic_load(&pc->exit_requested));
    cr_assert_eq(pc->exit_status, 0);
}

/* Reboot as an OS does it: RESET_VALUE to RESET_REG. */
Test(acpi_board, reset_register_resets, .init = board_setup, .fini = board_teardown)
{
    uint8_t fadt[244], *dsdt;
    uint32_t dlen;
    board_fadt_dsdt(fadt, &dsdt, &dlen);
    free(dsdt);
    cr_assert(le(fadt + 112, 4) & (1u << 10));
    cr_assert_eq(fadt[116], 1, "system I/O");
    cr_assert_not(atomic_load(&pc->reset_requested));
    as_write(&pc->io, le(fadt + 120, 8), fadt[128], 1);
    cr_assert(atomic_load(&pc->reset_requested));
    cr_assert_not(atomic_load(&pc->exit_requested));
}

/* The HPET table follows the device: present with the device's own
 * GCAP_ID when an HPET answers at 0xFED00000, absent otherwise. */
Test(acpi_board, hpet_follows_the_device, .init = board_setup,
     .fini = board_teardown)
{
    cr_assert_eq(acpi_build(pc, &blob), 0);
    const AcpiTableInfo *hpet = NULL;
    for (unsigned i = 0; i < blob.ntables; i++)
        if (!strcmp(blob.table[i].sig, "HPET"))
            hpet = &blob.table[i];
    if (!as_lookup(&pc->mem, 0xfed00000)) {
        cr_assert_null(hpet);
        return;
    }
    cr_assert_not_null(hpet);
    uint32_t gcap = (uint32_t)as_read(&pc->mem, 0xfed00000, 4);
    cr_assert_eq(le(blob.tables + hpet->offset + 36, 4), gcap);
    cr_assert_eq(gcap >> 16, 0x8086, "vendor");
}

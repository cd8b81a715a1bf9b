/* The pc board's ACPI tables and the loader commands that place them (see
 * machine/acpi.h for the two ways they reach the guest).
 *
 * Byte layouts from the ACPI 6.4 specification:
 *   5.2.3.2  Generic Address Structure (space, bit width, bit offset,
 *            access size, 64-bit address);
 *   5.2.5.3  RSDP (revision 2: RSDT and XSDT addresses, two checksums);
 *   5.2.6    the common table header (36 bytes);
 *   5.2.7/8  RSDT (32-bit entries) and XSDT (64-bit entries);
 *   5.2.9    FADT, Table 5.34 fields, Table 5.35 flags, 5.2.9.3 IA-PC
 *            boot architecture flags; revision 3 (244 bytes, the ACPI 2.0
 *            and 3.0 layout that every OS of interest reads);
 *   5.2.10   FACS (64 bytes, 64-byte aligned);
 *   5.2.12   MADT: 5.2.12.2 processor local APIC, 5.2.12.3 I/O APIC,
 *            5.2.12.5 interrupt source override (MPS INTI flags: polarity
 *            bits 1:0, trigger mode bits 3:2), 5.2.12.7 local APIC NMI;
 * and the IA-PC HPET specification 1.0a, 3.2.4 (the HPET description
 * table, whose Event Timer Block ID is GCAP_ID bits 31:0).
 *
 * What the tables say is the board as hw/ describes it: PIIX4 PM block
 * at 0x600 with SCI on IRQ9, SMI_CMD 0xB2 taking 0xF1/0xF0, GPE0 at
 * 0xAFE0, a 24-bit PM timer (hw/acpi_pm.h); the PIIX3 reset control
 * register 0xCF9, where 0x06 asks for a hard reset (hw/piix.h); one local
 * APIC, the IOAPIC (ID 0, 24 pins, GSI 0) with ISA IRQ0 on pin 2
 * (hw/ioapic.h); the HPET at 0xFED00000 (hw/hpet.h).
 */
#include "machine/acpi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hpet.h"
#include "hw/ioapic.h"
#include "hw/lapic.h"
#include "machine/pc_internal.h"

#define OEM_ID          "VIREO "
#define OEM_TABLE_ID    "VIREOPC "
#define CREATOR_ID      "VIRO"

#define PCI_HOLE_END    0xFEC00000ull   /* the IOAPIC and up are not PCI */

/* GAS address spaces and access sizes (5.2.3.2). */
enum { GAS_MEMORY = 0, GAS_IO = 1 };
enum { GAS_ACCESS_ANY = 0, GAS_BYTE = 1, GAS_WORD = 2, GAS_DWORD = 3 };

/* FADT field offsets (Table 5.34). */
enum {
    FADT_FIRMWARE_CTRL = 36, FADT_DSDT = 40, FADT_PM_PROFILE = 45,
    FADT_SCI_INT = 46, FADT_SMI_CMD = 48, FADT_ACPI_ENABLE = 52,
    FADT_ACPI_DISABLE = 53, FADT_PM1A_EVT = 56, FADT_PM1A_CNT = 64,
    FADT_PM_TMR = 76, FADT_GPE0 = 80, FADT_PM1_EVT_LEN = 88,
    FADT_PM1_CNT_LEN = 89, FADT_PM_TMR_LEN = 91, FADT_GPE0_LEN = 92,
    FADT_P_LVL2_LAT = 96, FADT_P_LVL3_LAT = 98, FADT_CENTURY = 108,
    FADT_BOOT_ARCH = 109, FADT_FLAGS = 112, FADT_RESET_REG = 116,
    FADT_RESET_VALUE = 128, FADT_X_DSDT = 140,
    FADT_X_PM1A_EVT = 148, FADT_X_PM1A_CNT = 172, FADT_X_PM_TMR = 208,
    FADT_X_GPE0 = 220,
};

/* FADT flags (Table 5.35). */
#define FADT_F_WBINVD       (1u << 0)
#define FADT_F_PROC_C1      (1u << 2)
#define FADT_F_SLP_BUTTON   (1u << 5)   /* no fixed sleep button */
#define FADT_F_FIX_RTC      (1u << 6)   /* RTC wake status not fixed */
#define FADT_F_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags (5.2.9.3). */
#define BOOT_ARCH_LEGACY_DEVICES 0x0001
#define BOOT_ARCH_8042      0x0002

#define PIIX_RESET_VALUE    (PIIX_RC_SRST | PIIX_RC_RCPU)   /* 0x06 */
#define CMOS_CENTURY        0x32

/* MADT structure types and lengths (5.2.12). */
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_NMI = 4 };
#define MADT_FIXED_LEN      44
#define MADT_LAPIC_LEN      8
#define MADT_IOAPIC_LEN     12
#define MADT_ISO_LEN        10
#define MADT_NMI_LEN        6
#define MADT_PCAT_COMPAT    1u          /* 8259s present */
#define INTI_ACTIVE_HIGH    0x1
#define INTI_LEVEL          0xc

/* ISA IRQs whose IOAPIC wiring differs from "pin = IRQ, edge, active
 * high": the PIT on pin 2; the SCI and the PCI interrupts (PIRQs go to
 * 5, 10, 11), which are level-triggered and, on this board, active
 * high. */
static const struct {
    uint8_t irq;
    uint8_t gsi;
    uint16_t flags;
} madt_overrides[] = {
    { 0, 2, 0 },
    { 5, 5, INTI_LEVEL | INTI_ACTIVE_HIGH },
    { ACPI_SCI_IRQ, ACPI_SCI_IRQ, INTI_LEVEL | INTI_ACTIVE_HIGH },
    { 10, 10, INTI_LEVEL | INTI_ACTIVE_HIGH },
    { 11, 11, INTI_LEVEL | INTI_ACTIVE_HIGH },
};
#define N_OVERRIDES (sizeof(madt_overrides) / sizeof(madt_overrides[0]))

/* ---- little-endian helpers ----------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static void fix_checksum(uint8_t *start, size_t len, uint8_t *field)
{
    *field = (uint8_t)(*field - sum8(start, len));
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* ---- the loader command stream -------------------------------------------- */

typedef struct Loader {
    uint8_t *buf;
    size_t len, cap;
    int err;
} Loader;

static uint8_t *loader_cmd(Loader *l, uint32_t command)
{
    if (l->err)
        return NULL;
    if (l->len + ACPI_LOADER_CMD_LEN > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32 * ACPI_LOADER_CMD_LEN;
        uint8_t *p = realloc(l->buf, cap);
        if (!p) {
            l->err = -ENOMEM;
            return NULL;
        }
        l->buf = p;
        l->cap = cap;
    }
    uint8_t *c = l->buf + l->len;
    memset(c, 0, ACPI_LOADER_CMD_LEN);
    put_le(c, command, 4);
    l->len += ACPI_LOADER_CMD_LEN;
    return c;
}

/* Names are our own constants, all shorter than the 56-byte field. */
static void put_name(uint8_t *field, const char *name)
{
    memcpy(field, name, strlen(name));
}

static void loader_allocate(Loader *l, const char *file, uint32_t align,
                            uint8_t zone)
{
    uint8_t *c = loader_cmd(l, ACPI_LOADER_ALLOCATE);
    if (!c)
        return;
    put_name(c + 4, file);
    put_le(c + 60, align, 4);
    c[64] = zone;
}

static void loader_add_pointer(Loader *l, const char *dest, const char *src,
                               uint32_t offset, uint8_t size)
{
    uint8_t *c = loader_cmd(l, ACPI_LOADER_ADD_POINTER);
    if (!c)
        return;
    put_name(c + 4, dest);
    put_name(c + 60, src);
    put_le(c + 116, offset, 4);
    c[120] = size;
}

static void loader_add_checksum(Loader *l, const char *file, uint32_t offset,
                                uint32_t start, uint32_t length)
{
    uint8_t *c = loader_cmd(l, ACPI_LOADER_ADD_CHECKSUM);
    if (!c)
        return;
    put_name(c + 4, file);
    put_le(c + 60, offset, 4);
    put_le(c + 64, start, 4);
    put_le(c + 68, length, 4);
}

/* ---- table building --------------------------------------------------------- */

typedef struct Builder {
    AcpiBlob *b;
    uint8_t *t;             /* b->tables */
    Loader l;
} Builder;

static uint8_t *add_table(Builder *B, const char *sig, uint32_t off,
                          uint32_t len)
{
    AcpiTableInfo *ti = &B->b->table[B->b->ntables++];
    memcpy(ti->sig, sig, 4);
    ti->sig[4] = 0;
    ti->offset = off;
    ti->len = len;
    return B->t + off;
}

/* The common header (5.2.6); the checksum is set at the end. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put_le(t + 4, len, 4);
    t[8] = rev;
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE_ID, 8);
    put_le(t + 24, 1, 4);
    memcpy(t + 28, CREATOR_ID, 4);
    put_le(t + 32, 1, 4);
}

/* A pointer field of `size` bytes at tables offset `field` to tables
 * offset `target`: the offset now, the address once the loader ran. */
static void table_pointer(Builder *B, uint32_t field, uint8_t size,
                          uint32_t target)
{
    put_le(B->t + field, target, size);
    loader_add_pointer(&B->l, ACPI_FILE_TABLES, ACPI_FILE_TABLES, field, size);
}

static void gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access,
                uint64_t addr)
{
    p[0] = space;
    p[1] = bits;
    p[2] = 0;
    p[3] = access;
    put_le(p + 4, addr, 8);
}

static void build_facs(Builder *B, uint32_t off)
{
    uint8_t *t = add_table(B, "FACS", off, ACPI_FACS_LEN);
    memcpy(t, "FACS", 4);
    put_le(t + 4, ACPI_FACS_LEN, 4);
    t[32] = 1;              /* version: the ACPI 2.0/3.0 layout */
}

/* The compiled DSDT with the PCI window's start written in. */
static int build_dsdt(Builder *B, uint32_t off, const AcpiConfig *cfg)
{
    uint8_t *t = add_table(B, "DSDT", off, (uint32_t)acpi_dsdt_aml_len);
    uint8_t marker[4];
    uint8_t *at = NULL;
    memcpy(t, acpi_dsdt_aml, acpi_dsdt_aml_len);
    put_le(marker, ACPI_DSDT_LOWMEM_MARKER, 4);
    for (size_t i = ACPI_HEADER_LEN; i + 4 <= acpi_dsdt_aml_len; i++) {
        if (memcmp(t + i, marker, 4))
            continue;
        if (at)
            return -EINVAL;
        at = t + i;
    }
    if (!at)
        return -EINVAL;
    put_le(at, cfg->lowmem, 4);
    return 0;
}

static void build_fadt(Builder *B, uint32_t off, uint32_t facs, uint32_t dsdt,
                       const AcpiConfig *cfg)
{
    uint8_t *t = add_table(B, "FACP", off, ACPI_FADT_LEN);
    uint16_t pm = cfg->pm_base;

    header(t, "FACP", ACPI_FADT_LEN, 3);
    table_pointer(B, off + FADT_FIRMWARE_CTRL, 4, facs);
    table_pointer(B, off + FADT_DSDT, 4, dsdt);
    t[FADT_PM_PROFILE] = 0;         /* unspecified */
    put_le(t + FADT_SCI_INT, ACPI_SCI_IRQ, 2);
    put_le(t + FADT_SMI_CMD, ACPI_PM_APM_PORT, 4);
    t[FADT_ACPI_ENABLE] = ACPI_PM_ACPI_ENABLE;
    t[FADT_ACPI_DISABLE] = ACPI_PM_ACPI_DISABLE;
    put_le(t + FADT_PM1A_EVT, pm, 4);
    put_le(t + FADT_PM1A_CNT, pm + 4u, 4);
    put_le(t + FADT_PM_TMR, pm + 8u, 4);
    put_le(t + FADT_GPE0, cfg->gpe0_base, 4);
    t[FADT_PM1_EVT_LEN] = 4;
    t[FADT_PM1_CNT_LEN] = 2;
    t[FADT_PM_TMR_LEN] = 4;
    t[FADT_GPE0_LEN] = cfg->gpe0_base ? 4 : 0;
    /* Latencies above 100 and 1000 us: no C2, no C3. */
    put_le(t + FADT_P_LVL2_LAT, 0x0fff, 2);
    put_le(t + FADT_P_LVL3_LAT, 0x0fff, 2);
    t[FADT_CENTURY] = CMOS_CENTURY;
    put_le(t + FADT_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042, 2);
    /* TMR_VAL_EXT clear: the PM timer has 24 bits.  PWR_BUTTON clear: the
     * fixed power button (PWRBTN_STS) exists. */
    put_le(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
                           FADT_F_FIX_RTC | FADT_F_RESET_REG_SUP, 4);
    gas(t + FADT_RESET_REG, GAS_IO, 8, GAS_BYTE, PIIX_RC_PORT);
    t[FADT_RESET_VALUE] = PIIX_RESET_VALUE;
    /* X_FIRMWARE_CTRL stays 0: with both set, an OS may take the FACS
     * twice (Linux reserves and lists it twice); the tables are below
     * 4 GiB, so FIRMWARE_CTRL is enough.  The DSDT has both. */
    table_pointer(B, off + FADT_X_DSDT, 8, dsdt);
    gas(t + FADT_X_PM1A_EVT, GAS_IO, 32, GAS_WORD, pm);
    gas(t + FADT_X_PM1A_CNT, GAS_IO, 16, GAS_WORD, pm + 4u);
    gas(t + FADT_X_PM_TMR, GAS_IO, 32, GAS_DWORD, pm + 8u);
    if (cfg->gpe0_base)
        gas(t + FADT_X_GPE0, GAS_IO, 32, GAS_BYTE, cfg->gpe0_base);
}

static uint32_t madt_len(const AcpiConfig *cfg)
{
    return MADT_FIXED_LEN + MADT_LAPIC_LEN * cfg->cpus + MADT_IOAPIC_LEN +
           MADT_ISO_LEN * (uint32_t)N_OVERRIDES + MADT_NMI_LEN;
}

static void build_madt(Builder *B, uint32_t off, const AcpiConfig *cfg)
{
    uint32_t len = madt_len(cfg);
    uint8_t *t = add_table(B, "APIC", off, len);
    uint8_t *p = t + MADT_FIXED_LEN;

    header(t, "APIC", len, 1);
    put_le(t + 36, LAPIC_DEFAULT_BASE, 4);
    put_le(t + 40, MADT_PCAT_COMPAT, 4);
    for (unsigned i = 0; i < cfg->cpus; i++, p += MADT_LAPIC_LEN) {
        p[0] = MADT_LAPIC;
        p[1] = MADT_LAPIC_LEN;
        p[2] = (uint8_t)i;              /* ACPI processor UID (\_SB.CPUn) */
        p[3] = (uint8_t)i;              /* APIC ID */
        put_le(p + 4, 1, 4);            /* enabled */
    }
    p[0] = MADT_IOAPIC;
    p[1] = MADT_IOAPIC_LEN;
    p[2] = 0;                           /* I/O APIC ID */
    put_le(p + 4, IOAPIC_DEFAULT_BASE, 4);
    put_le(p + 8, 0, 4);                /* GSI base */
    p += MADT_IOAPIC_LEN;
    for (size_t i = 0; i < N_OVERRIDES; i++, p += MADT_ISO_LEN) {
        p[0] = MADT_ISO;
        p[1] = MADT_ISO_LEN;
        p[2] = 0;                       /* bus: ISA */
        p[3] = madt_overrides[i].irq;
        put_le(p + 4, madt_overrides[i].gsi, 4);
        put_le(p + 8, madt_overrides[i].flags, 2);
    }
    /* NMI on LINT1 of every processor, as the board's NMI would come. */
    p[0] = MADT_LAPIC_NMI;
    p[1] = MADT_NMI_LEN;
    p[2] = 0xff;                        /* all processors */
    put_le(p + 3, 0, 2);                /* flags: as the bus says */
    p[5] = 1;                           /* LINT1 */
}

static void build_hpet(Builder *B, uint32_t off, const AcpiConfig *cfg)
{
    uint8_t *t = add_table(B, "HPET", off, ACPI_HPET_LEN);

    header(t, "HPET", ACPI_HPET_LEN, 1);
    put_le(t + 36, cfg->hpet_id, 4);
    gas(t + 40, GAS_MEMORY, 64, GAS_ACCESS_ANY, HPET_DEFAULT_BASE);
    t[52] = 0;                          /* HPET number */
    /* Minimum periodic tick: 128 ticks of 100 ns. */
    put_le(t + 53, 128, 2);
    t[55] = 0;                          /* no page protection claim */
}

/* RSDT (entry = 4) or XSDT (entry = 8) listing `entries`. */
static void build_sdt(Builder *B, uint32_t off, const char *sig, unsigned entry,
                      const uint32_t *entries, unsigned n)
{
    uint32_t len = ACPI_HEADER_LEN + entry * n;
    add_table(B, sig, off, len);
    header(B->t + off, sig, len, 1);
    for (unsigned i = 0; i < n; i++)
        table_pointer(B, off + ACPI_HEADER_LEN + entry * i, (uint8_t)entry,
                      entries[i]);
}

static void build_rsdp(Builder *B, uint32_t rsdt, uint32_t xsdt)
{
    uint8_t *r = B->b->rsdp;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, OEM_ID, 6);
    r[15] = 2;                          /* revision: ACPI 2.0+ */
    put_le(r + 16, rsdt, 4);
    loader_add_pointer(&B->l, ACPI_FILE_RSDP, ACPI_FILE_TABLES, 16, 4);
    put_le(r + 20, ACPI_RSDP_LEN, 4);
    put_le(r + 24, xsdt, 8);
    loader_add_pointer(&B->l, ACPI_FILE_RSDP, ACPI_FILE_TABLES, 24, 8);
}

/* Every checksum, now and as loader commands that redo them after the
 * pointers moved: the RSDP's first (over 20 bytes) before its extended one
 * (over all 36, which includes the first). */
static void checksums(Builder *B)
{
    for (unsigned i = 0; i < B->b->ntables; i++) {
        const AcpiTableInfo *ti = &B->b->table[i];
        if (!memcmp(ti->sig, "FACS", 4))
            continue;
        fix_checksum(B->t + ti->offset, ti->len, B->t + ti->offset + 9);
        loader_add_checksum(&B->l, ACPI_FILE_TABLES, ti->offset + 9,
                            ti->offset, ti->len);
    }
    fix_checksum(B->b->rsdp, 20, B->b->rsdp + 8);
    loader_add_checksum(&B->l, ACPI_FILE_RSDP, 8, 0, 20);
    fix_checksum(B->b->rsdp, ACPI_RSDP_LEN, B->b->rsdp + 32);
    loader_add_checksum(&B->l, ACPI_FILE_RSDP, 32, 0, ACPI_RSDP_LEN);
}

static bool config_ok(const AcpiConfig *cfg)
{
    return cfg->cpus >= 1 && cfg->cpus <= 255 && cfg->lowmem >= 0x100000 &&
           cfg->lowmem < PCI_HOLE_END && cfg->pm_base &&
           acpi_dsdt_aml_len > ACPI_HEADER_LEN &&
           !memcmp(acpi_dsdt_aml, "DSDT", 4) &&
           get_le(acpi_dsdt_aml + 4, 4) == acpi_dsdt_aml_len;
}

int acpi_build_tables(const AcpiConfig *cfg, AcpiBlob *out)
{
    memset(out, 0, sizeof(*out));
    if (!config_ok(cfg))
        return -EINVAL;

    /* Layout: FACS at 0 (the file is 64-aligned), the DSDT, then the
     * tables that point at others, 8-aligned. */
    bool hpet = cfg->hpet_id != 0;
    uint32_t facs = 0, dsdt = ACPI_FACS_LEN;
    uint32_t fadt = (uint32_t)align_up(dsdt + acpi_dsdt_aml_len, 8);
    uint32_t madt = (uint32_t)align_up(fadt + ACPI_FADT_LEN, 8);
    uint32_t hpet_off = (uint32_t)align_up(madt + madt_len(cfg), 8);
    uint32_t entries[3] = { fadt, madt, hpet_off };
    unsigned n = hpet ? 3 : 2;
    uint32_t rsdt = hpet ? (uint32_t)align_up(hpet_off + ACPI_HPET_LEN, 8)
                         : hpet_off;
    uint32_t xsdt = (uint32_t)align_up(rsdt + ACPI_HEADER_LEN + 4 * n, 8);
    size_t total = xsdt + ACPI_HEADER_LEN + 8 * n;

    Builder B = { .b = out };
    out->tables = calloc(1, total);
    if (!out->tables)
        return -ENOMEM;
    out->tables_len = total;
    B.t = out->tables;

    loader_allocate(&B.l, ACPI_FILE_TABLES, 64, ACPI_LOADER_ZONE_HIGH);
    loader_allocate(&B.l, ACPI_FILE_RSDP, 16, ACPI_LOADER_ZONE_FSEG);
    build_facs(&B, facs);
    int r = build_dsdt(&B, dsdt, cfg);
    if (!r) {
        build_fadt(&B, fadt, facs, dsdt, cfg);
        build_madt(&B, madt, cfg);
        if (hpet)
            build_hpet(&B, hpet_off, cfg);
        build_sdt(&B, rsdt, "RSDT", 4, entries, n);
        build_sdt(&B, xsdt, "XSDT", 8, entries, n);
        build_rsdp(&B, rsdt, xsdt);
        checksums(&B);
        r = B.l.err;
    }
    out->loader = B.l.buf;
    out->loader_len = B.l.len;
    if (r)
        acpi_blob_free(out);
    return r;
}

void acpi_blob_free(AcpiBlob *b)
{
    free(b->tables);
    free(b->loader);
    memset(b, 0, sizeof(*b));
}

/* ---- running loader commands ------------------------------------------------ */

static AcpiLoaderFile *loader_file(AcpiLoaderFile *files, size_t n,
                                   const uint8_t *field)
{
    if (!memchr(field, 0, ACPI_LOADER_FILESZ))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(files[i].name, (const char *)field))
            return &files[i];
    return NULL;
}

#define LOADER_FAIL(...) do { \
        snprintf(err, errlen, __VA_ARGS__); \
        return -EINVAL; \
    } while (0)

int acpi_loader_run(const uint8_t *cmds, size_t len, AcpiLoaderFile *files,
                    size_t nfiles, char *err, size_t errlen)
{
    if (len % ACPI_LOADER_CMD_LEN)
        LOADER_FAIL("length %zu is not a multiple of %d", len,
                    ACPI_LOADER_CMD_LEN);
    for (size_t i = 0; i < nfiles; i++)
        files[i].allocated = false;
    for (size_t pos = 0; pos < len; pos += ACPI_LOADER_CMD_LEN) {
        const uint8_t *c = cmds + pos;
        size_t k = pos / ACPI_LOADER_CMD_LEN;
        uint32_t command = (uint32_t)get_le(c, 4);
        AcpiLoaderFile *f = loader_file(files, nfiles, c + 4);
        if (!f)
            LOADER_FAIL("command %zu: unknown file", k);
        if (command == ACPI_LOADER_ALLOCATE) {
            uint32_t align = (uint32_t)get_le(c + 60, 4);
            if (f->allocated)
                LOADER_FAIL("command %zu: %s allocated twice", k, f->name);
            if (!align || (align & (align - 1)) || f->addr % align)
                LOADER_FAIL("command %zu: %s: alignment %u not met", k,
                            f->name, align);
            if (c[64] != ACPI_LOADER_ZONE_HIGH && c[64] != ACPI_LOADER_ZONE_FSEG)
                LOADER_FAIL("command %zu: bad zone %u", k, c[64]);
            f->allocated = true;
            continue;
        }
        if (!f->allocated)
            LOADER_FAIL("command %zu: %s used before ALLOCATE", k, f->name);
        if (command == ACPI_LOADER_ADD_POINTER) {
            AcpiLoaderFile *src = loader_file(files, nfiles, c + 60);
            uint64_t off = get_le(c + 116, 4);
            unsigned size = c[120];
            if (!src || !src->allocated)
                LOADER_FAIL("command %zu: pointer source not allocated", k);
            if (size != 1 && size != 2 && size != 4 && size != 8)
                LOADER_FAIL("command %zu: pointer size %u", k, size);
            if (off + size > f->len)
                LOADER_FAIL("command %zu: pointer outside %s", k, f->name);
            uint64_t v = get_le(f->data + off, size);
            if (v >= src->len)
                LOADER_FAIL("command %zu: pointer 0x%llx past the end of %s",
                            k, (unsigned long long)v, src->name);
            v += src->addr;
            if (size < 8 && v >> (8 * size))
                LOADER_FAIL("command %zu: address 0x%llx does not fit %u bytes",
                            k, (unsigned long long)v, size);
            put_le(f->data + off, v, size);
        } else if (command == ACPI_LOADER_ADD_CHECKSUM) {
            uint64_t off = get_le(c + 60, 4), start = get_le(c + 64, 4);
            uint64_t n = get_le(c + 68, 4);
            if (off >= f->len || start + n > f->len)
                LOADER_FAIL("command %zu: checksum range outside %s", k,
                            f->name);
            fix_checksum(f->data + start, n, f->data + off);
        } else {
            LOADER_FAIL("command %zu: unknown command %u", k, command);
        }
    }
    return 0;
}

int acpi_blob_relocate(AcpiBlob *b, uint64_t tables_addr, uint64_t rsdp_addr)
{
    AcpiLoaderFile files[2] = {
        { ACPI_FILE_TABLES, b->tables, b->tables_len, tables_addr, false },
        { ACPI_FILE_RSDP, b->rsdp, ACPI_RSDP_LEN, rsdp_addr, false },
    };
    char err[128];
    return acpi_loader_run(b->loader, b->loader_len, files, 2, err,
                           sizeof(err));
}

/* ---- the board ------------------------------------------------------------- */

int acpi_build(Pc *pc, AcpiBlob *out)
{
    AcpiConfig cfg = {
        .lowmem = pc->lowmem,
        .cpus = 1,                      /* the board has one vCPU */
        .pm_base = ACPI_PM_BASE,
        .gpe0_base = ACPI_PM_GPE0_QEMU,
    };
    /* The HPET's own capabilities register, if one is mapped. */
    if (as_lookup(&pc->mem, HPET_DEFAULT_BASE)) {
        uint32_t id = (uint32_t)as_read(&pc->mem, HPET_DEFAULT_BASE, 4);
        if (id != 0 && id != 0xffffffffu)
            cfg.hpet_id = id;
    }
    return acpi_build_tables(&cfg, out);
}

int acpi_fw_cfg_setup(Pc *pc)
{
    AcpiBlob b;
    int r = acpi_build(pc, &b);
    if (r)
        return r;
    r = fw_cfg_add_file(pc->fw_cfg, ACPI_FILE_TABLES, b.tables, b.tables_len);
    if (!r)
        r = fw_cfg_add_file(pc->fw_cfg, ACPI_FILE_RSDP, b.rsdp, ACPI_RSDP_LEN);
    if (!r)
        r = fw_cfg_add_file(pc->fw_cfg, ACPI_FILE_LOADER, b.loader, b.loader_len);
    acpi_blob_free(&b);
    return r;
}

int acpi_reserved_range(Pc *pc, uint64_t *base, uint64_t *len)
{
    uint64_t top = pc->lowmem & ~0xfffull;
    if (top < (2u << 20))
        return -ENOSPC;
    *base = top - ACPI_RESERVED_SIZE;
    *len = ACPI_RESERVED_SIZE;
    return 0;
}

uint64_t acpi_rsdp_address(Pc *pc)
{
    uint64_t base, len;
    return acpi_reserved_range(pc, &base, &len) ? 0 : base;
}

int acpi_load_direct(Pc *pc)
{
    uint64_t base, len;
    AcpiBlob b;
    int r = acpi_reserved_range(pc, &base, &len);
    if (r)
        return r;
    if ((r = acpi_build(pc, &b)))
        return r;
    /* The RSDP first, the tables (FACS first) at the next 64 bytes. */
    uint64_t tables = base + 64;
    if (64 + b.tables_len > len)
        r = -E2BIG;
    if (!r)
        r = acpi_blob_relocate(&b, tables, base);
    if (!r) {
        uint8_t zero[256] = { 0 };
        for (uint64_t a = base; a < base + len; a += sizeof(zero))
            as_write_buf(&pc->mem, a, zero, sizeof(zero), false);
        as_write_buf(&pc->mem, base, b.rsdp, ACPI_RSDP_LEN, false);
        as_write_buf(&pc->mem, tables, b.tables, b.tables_len, false);
        /* What SeaBIOS does before it hands over: the PM block at the
         * FADT's address, decoding. */
        pci_bus_config_write(pc->pci, ACPI_PM_DEVFN, ACPI_PM_PMBA,
                             ACPI_PM_BASE | 1, 4);
        pci_bus_config_write(pc->pci, ACPI_PM_DEVFN, ACPI_PM_PMREGMISC, 1, 1);
        pci_bus_config_write(pc->pci, ACPI_PM_DEVFN, 0x3c, ACPI_SCI_IRQ, 1);
    }
    acpi_blob_free(&b);
    return r;
}

/* The standard VGA and the Bochs VBE dispi interface: registers, the
 * legacy memory window, the PCI function (see hw/vga.h for the model).
 *
 * Sources: the IBM VGA register set as documented by FreeVGA -
 *   "Sequencer Registers" (reset, clocking mode, map mask, character map
 *   select, sequencer memory mode), "Graphics Registers" (set/reset,
 *   enable set/reset, color compare, data rotate and logical function,
 *   read map select, graphics mode, miscellaneous graphics, color don't
 *   care, bit mask), "Attribute Controller Registers" (the 0x3C0
 *   address/data flip-flop, reset by reading input status 1), "CRT
 *   Controller Registers" (the protect bit in CR11 guarding CR00-CR07 but
 *   for CR07 bit 4), "External Registers" (misc output, feature control,
 *   input status 0/1), "DAC Operation" (read/write index, three-step RGB
 *   with auto-increment, PEL mask), "VGA Memory Organization" and "VGA
 *   Read/Write Operations" (the latches, the write-mode pipeline and the
 *   colour compare of read mode 1);
 * QEMU's standard-vga spec for the PCI function.  The dispi registers and
 * the BAR2 MMIO window are in hw/vga_vbe.c, the display side (renderer
 * and text dump) in hw/vga_render.c.
 */
#include "hw/vga.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Guest-writable bits of each register (FreeVGA's register maps; the
 * others are reserved and read as 0). */
static const uint8_t sr_wmask[VGA_SR_COUNT] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e };
static const uint8_t gr_wmask[VGA_GR_COUNT] = {
    0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff,
};

/* BIOS mode 3 (80x25, 16 colours, 720x400): what the card holds after
 * reset, so that text written before any BIOS runs is still decoded and
 * dumped sensibly (Bochs does the same; a real card's power-on contents
 * are undefined and its BIOS programs these values at POST). */
static const uint8_t mode3_sr[VGA_SR_COUNT] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_gr[VGA_GR_COUNT] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff,
};
static const uint8_t mode3_ar[VGA_AR_COUNT] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
    0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x0c, 0x00, 0x0f, 0x08, 0x00,
};
static const uint8_t mode3_cr[VGA_CR_COUNT] = {
    0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f,
    0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
    0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
#define MODE3_MISC 0x67

/* Register fields used below. */
enum {
    MISC_COLOR_IO = 0x01,       /* CRTC at 0x3Dx (1) or 0x3Bx (0) */
    MISC_RAM_ENABLE = 0x02,     /* 0: the CPU window does not decode */

    SR01_DOT8 = 0x01,
    SR01_DOTCLK_HALF = 0x08,
    SR04_ODD_EVEN_DISABLE = 0x04,
    SR04_CHAIN4 = 0x08,

    GR05_WRITE_MODE = 0x03,
    GR05_READ_MODE1 = 0x08,
    GR05_ODD_EVEN_READ = 0x10,
    GR06_MEMMAP = 0x0c,

    AR_INDEX_PAS = 0x20,

    CR11_PROTECT = 0x80,
    CR07_LC8 = 0x10,

    ST1_DISPLAY_DISABLED = 0x01,
    ST1_VRETRACE = 0x08,
};

/* ---- input status 1: retrace from virtual time ---------------------------- */

typedef struct VgaTiming {
    uint64_t line_ns_x1000;     /* one scanline, in picoseconds */
    unsigned htotal, hdisp;     /* character clocks */
    unsigned vtotal, vdisp;     /* scanlines */
    unsigned vrs, vrlen;        /* vertical retrace start and length */
} VgaTiming;

/* The CRTC timing programmed now, or mode 3's when the registers make no
 * sense (a half-programmed CRTC must not stop retrace polling loops). */
static void vga_timing(const VgaState *s, VgaTiming *t)
{
    const uint8_t *cr = s->cr;
    uint64_t dotclk = ((s->misc >> 2) & 3) == 1 ? 28322000 : 25175000;
    unsigned dots = (s->sr[1] & SR01_DOT8) ? 8 : 9;

    if (s->sr[1] & SR01_DOTCLK_HALF)
        dotclk /= 2;
    t->htotal = cr[0x00] + 5u;
    t->hdisp = cr[0x01] + 1u;
    t->vtotal = (cr[0x06] | (cr[0x07] & 0x01) << 8 | (cr[0x07] & 0x20) << 4) + 2u;
    t->vdisp = vga_vdisp_lines(s);
    t->vrs = cr[0x10] | (cr[0x07] & 0x04) << 6 | (cr[0x07] & 0x80) << 2;
    /* The end register holds only the low four bits of the end line. */
    t->vrlen = ((cr[0x11] & 0x0f) - (t->vrs & 0x0f)) & 0x0f;
    if (t->vrlen == 0)
        t->vrlen = 16;
    if (t->hdisp > t->htotal || t->vdisp > t->vtotal ||
        t->vrs + t->vrlen > t->vtotal || t->vrs < t->vdisp) {
        /* mode 3: 900 dots at 28.322 MHz, 449 lines, retrace 412-413 */
        dotclk = 28322000;
        dots = 9;
        *t = (VgaTiming){ .htotal = 100, .hdisp = 80, .vtotal = 449,
                          .vdisp = 400, .vrs = 412, .vrlen = 2 };
    }
    t->line_ns_x1000 = (uint64_t)t->htotal * dots * 1000000000000ull / dotclk;
}

static uint8_t input_status1(Vga *v)
{
    VgaTiming t;
    int64_t now = clock_ns(v->clock);
    uint64_t frame, pos, line, col;
    uint8_t st = 0;

    vga_timing(&v->s, &t);
    frame = t.line_ns_x1000 * t.vtotal;
    /* (ns * 1000) mod frame without overflowing: reduce first. */
    pos = (uint64_t)(now < 0 ? 0 : now) % frame * 1000 % frame;
    line = pos / t.line_ns_x1000;
    col = pos % t.line_ns_x1000 * t.htotal / t.line_ns_x1000;
    if (line >= t.vdisp || col >= t.hdisp)
        st |= ST1_DISPLAY_DISABLED;
    if (line >= t.vrs && line < t.vrs + t.vrlen)
        st |= ST1_VRETRACE;
    return st;
}

/* ---- the DAC --------------------------------------------------------------- */

static uint8_t dac_read(VgaState *s)
{
    uint8_t v = s->dac[s->dac_read_index * 3 + s->dac_step];

    if (++s->dac_step == 3) {
        s->dac_step = 0;
        s->dac_read_index++;
    }
    return v;
}

static void dac_write(VgaState *s, uint8_t val)
{
    /* The classic DAC holds 6 bits per component; the dispi 8-bit DAC
     * flag widens it for VBE palettes. */
    bool wide = vga_vbe_enabled(s) &&
                (s->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC);

    s->dac_cache[s->dac_step] = wide ? val : val & 0x3f;
    if (++s->dac_step == 3) {
        memcpy(&s->dac[s->dac_write_index * 3], s->dac_cache, 3);
        s->dac_step = 0;
        s->dac_write_index++;
    }
}

/* ---- I/O ports 0x3B0-0x3DF ------------------------------------------------- */

/* The CRTC and input status 1 answer at 0x3Bx in monochrome and 0x3Dx in
 * colour mode; the other group does not decode. */
static bool port_decoded(const VgaState *s, unsigned port)
{
    if (port >= 0x3b0 && port <= 0x3bf)
        return !(s->misc & MISC_COLOR_IO);
    if (port >= 0x3d0 && port <= 0x3df)
        return (s->misc & MISC_COLOR_IO) != 0;
    return true;
}

uint8_t vga_port_read(Vga *v, unsigned port)
{
    VgaState *s = &v->s;
    unsigned idx;

    if (!port_decoded(s, port))
        return 0xff;
    switch (port) {
    case 0x3c0:
        return s->ar_index;
    case 0x3c1:
        idx = s->ar_index & 0x1f;
        return idx < VGA_AR_COUNT ? s->ar[idx] : 0;
    case 0x3c2:
        return 0;               /* input status 0: no switch sense, no IRQ */
    case 0x3c3:
        return s->vga_enable;
    case 0x3c4:
        return s->sr_index;
    case 0x3c5:
        if (s->sr_index < VGA_SR_COUNT)
            return s->sr[s->sr_index];
        LOG_LIMITED(LOG_GUEST_ERRORS, "vga: read of sequencer register %u\n",
                    s->sr_index);
        return 0xff;
    case 0x3c6:
        return s->pel_mask;
    case 0x3c7:
        return s->dac_state;
    case 0x3c8:
        return s->dac_write_index;
    case 0x3c9:
        return dac_read(s);
    case 0x3ca:
        return s->feature;
    case 0x3cc:
        return s->misc;
    case 0x3ce:
        return s->gr_index;
    case 0x3cf:
        if (s->gr_index < VGA_GR_COUNT)
            return s->gr[s->gr_index];
        LOG_LIMITED(LOG_GUEST_ERRORS, "vga: read of graphics register %u\n",
                    s->gr_index);
        return 0xff;
    case 0x3b4: case 0x3d4:
        return s->cr_index;
    case 0x3b5: case 0x3d5:
        if (s->cr_index < VGA_CR_COUNT)
            return s->cr[s->cr_index];
        /* SVGA drivers probe vendor extensions here; this card has none. */
        LOG_LIMITED(LOG_UNIMP, "vga: read of CRTC register 0x%02x\n",
                    s->cr_index);
        return 0xff;
    case 0x3ba: case 0x3da:
        /* Reading input status 1 puts the attribute flip-flop back to
         * "address", which is how software synchronises with it. */
        s->ar_flipflop = 0;
        return input_status1(v);
    default:
        LOG_LIMITED(LOG_UNIMP, "vga: read of port 0x%03x\n", port);
        return 0xff;
    }
}

static void ar_write(VgaState *s, uint8_t val)
{
    unsigned idx;

    if (!s->ar_flipflop) {
        s->ar_index = val & 0x3f;
        s->ar_flipflop = 1;
        return;
    }
    s->ar_flipflop = 0;
    idx = s->ar_index & 0x1f;
    if (idx < 0x10)
        s->ar[idx] = val & 0x3f;
    else if (idx == 0x10)
        s->ar[idx] = val & 0xef;
    else if (idx == 0x11)
        s->ar[idx] = val;
    else if (idx == 0x12)
        s->ar[idx] = val & 0x3f;
    else if (idx < VGA_AR_COUNT)
        s->ar[idx] = val & 0x0f;
    else
        LOG_LIMITED(LOG_GUEST_ERRORS,
                    "vga: write 0x%02x to attribute register 0x%02x\n",
                    val, idx);
}

static void cr_write(VgaState *s, uint8_t val)
{
    unsigned idx = s->cr_index;

    if (idx >= VGA_CR_COUNT) {
        LOG_LIMITED(LOG_UNIMP, "vga: write 0x%02x to CRTC register 0x%02x\n",
                    val, idx);
        return;
    }
    /* CR11 bit 7 write-protects the horizontal and vertical timing
     * registers, except the line compare bit 8 in CR07 (FreeVGA). */
    if ((s->cr[0x11] & CR11_PROTECT) && idx <= 0x07) {
        if (idx == 0x07)
            s->cr[7] = (uint8_t)((s->cr[7] & ~CR07_LC8) | (val & CR07_LC8));
        return;
    }
    s->cr[idx] = val;
}

void vga_port_write(Vga *v, unsigned port, uint8_t val)
{
    VgaState *s = &v->s;

    if (!port_decoded(s, port))
        return;
    switch (port) {
    case 0x3c0:
        ar_write(s, val);
        break;
    case 0x3c2:
        s->misc = val & 0xef;
        break;
    case 0x3c3:
        s->vga_enable = val & 0x01;
        break;
    case 0x3c4:
        s->sr_index = val & 0x07;
        break;
    case 0x3c5:
        if (s->sr_index < VGA_SR_COUNT)
            s->sr[s->sr_index] = val & sr_wmask[s->sr_index];
        else
            LOG_LIMITED(LOG_GUEST_ERRORS,
                        "vga: write 0x%02x to sequencer register %u\n",
                        val, s->sr_index);
        break;
    case 0x3c6:
        s->pel_mask = val;
        break;
    case 0x3c7:
        s->dac_read_index = val;
        s->dac_step = 0;
        s->dac_state = 3;
        break;
    case 0x3c8:
        s->dac_write_index = val;
        s->dac_step = 0;
        s->dac_state = 0;
        break;
    case 0x3c9:
        dac_write(s, val);
        break;
    case 0x3ce:
        s->gr_index = val & 0x0f;
        break;
    case 0x3cf:
        if (s->gr_index < VGA_GR_COUNT)
            s->gr[s->gr_index] = val & gr_wmask[s->gr_index];
        else
            LOG_LIMITED(LOG_GUEST_ERRORS,
                        "vga: write 0x%02x to graphics register %u\n",
                        val, s->gr_index);
        break;
    case 0x3b4: case 0x3d4:
        s->cr_index = val;
        break;
    case 0x3b5: case 0x3d5:
        cr_write(s, val);
        break;
    case 0x3ba: case 0x3da:
        s->feature = val & 0x0b;
        break;
    default:
        /* 0x3C1, 0x3CA, 0x3CC are read-only; the rest is not decoded. */
        LOG_LIMITED(LOG_GUEST_ERRORS, "vga: write 0x%02x to port 0x%03x\n",
                    val, port);
        break;
    }
}

/* The two port ranges; max_access 1 makes the dispatcher split word
 * writes (OUT DX, AX to an index/data pair) index first. */
static uint64_t mono_read(void *opaque, uint64_t off, unsigned size)
{
    return vga_port_read(opaque, 0x3b0 + (unsigned)off);
}

static void mono_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_port_write(opaque, 0x3b0 + (unsigned)off, (uint8_t)val);
}

static uint64_t color_read(void *opaque, uint64_t off, unsigned size)
{
    return vga_port_read(opaque, 0x3c0 + (unsigned)off);
}

static void color_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    vga_port_write(opaque, 0x3c0 + (unsigned)off, (uint8_t)val);
}

static const MemOps mono_ops = {
    .read = mono_read, .write = mono_write, .max_access = 1,
};
static const MemOps color_ops = {
    .read = color_read, .write = color_write, .max_access = 1,
};

#define MONO_BASE  0x3b0
#define MONO_LEN   12           /* 0x3B0-0x3BB: LPT1 owns 0x3BC-0x3BF */
#define COLOR_BASE 0x3c0
#define COLOR_LEN  32

/* ---- the legacy window: planar access -------------------------------------- */

/* Where CPU offset `a` of the decoded window lands: the planes it may
 * reach (write) or the one it reads, and the address within a plane. */
static void plane_address(const VgaState *s, uint32_t a, bool write,
                          unsigned *planes, uint32_t *po)
{
    if (s->sr[4] & SR04_CHAIN4) {
        *planes = 1u << (a & 3);
        *po = a & ~3u;
    } else if (write ? !(s->sr[4] & SR04_ODD_EVEN_DISABLE)
                     : (s->gr[5] & GR05_ODD_EVEN_READ)) {
        /* Odd/even: even addresses go to planes 0/2, odd ones to 1/3;
         * reads pick within the pair with read map select bit 1. */
        if (write)
            *planes = (a & 1) ? 0x0a : 0x05;
        else
            *planes = 1u << ((s->gr[4] & 2) | (a & 1));
        *po = a & ~1u;
    } else {
        *planes = write ? 0x0f : 1u << (s->gr[4] & 3);
        *po = a;
    }
    *po &= VGA_PLANE_SIZE - 1;
}

static uint8_t planar_read(VgaState *s, uint32_t a)
{
    unsigned planes, p;
    uint32_t po;

    plane_address(s, a, false, &planes, &po);
    memcpy(s->latch, &s->vram[po * 4], 4);
    if (s->gr[5] & GR05_READ_MODE1) {
        /* Colour compare: a 1 where every plane not masked out by colour
         * don't care matches its colour compare bit. */
        uint8_t diff = 0;
        for (p = 0; p < 4; p++) {
            if (!(s->gr[7] & (1u << p)))
                continue;
            uint8_t want = (s->gr[2] & (1u << p)) ? 0xff : 0x00;
            diff |= s->latch[p] ^ want;
        }
        return (uint8_t)~diff;
    }
    for (p = 0; !(planes & (1u << p)); p++)
        ;
    return s->latch[p];
}

static uint8_t ror8(uint8_t v, unsigned n)
{
    n &= 7;
    return n ? (uint8_t)(v >> n | v << (8 - n)) : v;
}

static void planar_write(VgaState *s, uint32_t a, uint8_t val)
{
    const uint8_t *gr = s->gr;
    unsigned planes, mode = gr[5] & GR05_WRITE_MODE, func = (gr[3] >> 3) & 3;
    uint8_t data[4], mask = gr[8];
    uint32_t po;

    plane_address(s, a, true, &planes, &po);
    planes &= s->sr[2];
    if (!planes)
        return;
    if (mode == 1) {
        /* The latches go back unchanged: a VRAM-to-VRAM copy. */
        memcpy(data, s->latch, 4);
    } else {
        uint8_t rot = ror8(val, gr[3]);
        for (unsigned p = 0; p < 4; p++) {
            uint8_t sr_fill = (gr[0] & (1u << p)) ? 0xff : 0x00;
            if (mode == 0)
                data[p] = (gr[1] & (1u << p)) ? sr_fill : rot;
            else if (mode == 2)
                data[p] = (val & (1u << p)) ? 0xff : 0x00;
            else
                data[p] = sr_fill;
        }
        if (mode == 3)
            mask &= rot;
        for (unsigned p = 0; p < 4; p++) {
            switch (func) {
            case 1: data[p] &= s->latch[p]; break;
            case 2: data[p] |= s->latch[p]; break;
            case 3: data[p] ^= s->latch[p]; break;
            default: break;
            }
            data[p] = (uint8_t)((data[p] & mask) | (s->latch[p] & ~mask));
        }
    }
    for (unsigned p = 0; p < 4; p++)
        if (planes & (1u << p))
            s->vram[po * 4 + p] = data[p];
}

/* Decode a window offset per graphics register 6; false if the address
 * is outside the selected range (the card does not answer). */
static bool window_decode(const VgaState *s, uint32_t off, uint32_t *a)
{
    static const uint32_t base[4] = { 0x00000, 0x00000, 0x10000, 0x18000 };
    static const uint32_t size[4] = { 0x20000, 0x10000, 0x08000, 0x08000 };
    unsigned sel = (s->gr[6] & GR06_MEMMAP) >> 2;

    if (off < base[sel] || off >= base[sel] + size[sel])
        return false;
    *a = off - base[sel];
    return true;
}

static uint64_t window_read(void *opaque, uint64_t off, unsigned size)
{
    VgaState *s = &((Vga *)opaque)->s;
    uint32_t a;

    if (!(s->misc & MISC_RAM_ENABLE))
        return 0xff;
    if (vga_vbe_linear_window(s))
        return off < 0x10000 ? s->vram[vga_vbe_bank_offset(s) + off] : 0xff;
    if (!window_decode(s, (uint32_t)off, &a))
        return 0xff;
    return planar_read(s, a + vga_vbe_bank_offset(s));
}

static void window_write(void *opaque, uint64_t off, uint64_t val,
                         unsigned size)
{
    VgaState *s = &((Vga *)opaque)->s;
    uint32_t a;

    if (!(s->misc & MISC_RAM_ENABLE))
        return;
    if (vga_vbe_linear_window(s)) {
        if (off < 0x10000)
            s->vram[vga_vbe_bank_offset(s) + off] = (uint8_t)val;
        return;
    }
    if (window_decode(s, (uint32_t)off, &a))
        planar_write(s, a + vga_vbe_bank_offset(s), (uint8_t)val);
}

/* Byte-wide: the graphics controller's pipeline works on bytes. */
static const MemOps window_ops = {
    .read = window_read, .write = window_write, .max_access = 1,
};

static const PciDeviceInfo vga_pci_info = {
    .name = "vga",
    .vendor_id = VGA_PCI_VENDOR,
    .device_id = VGA_PCI_DEVICE,
    .revision = VGA_PCI_REVISION,
    .class_code = VGA_PCI_CLASS,
};

/* ---- reset, creation, state ------------------------------------------------ */

void vga_reset(Vga *v)
{
    VgaState *s = &v->s;

    if (v->pci_registered)
        pci_device_reset(&v->pci);
    s->misc = MODE3_MISC;
    s->feature = 0;
    s->vga_enable = 1;
    s->sr_index = s->gr_index = s->cr_index = 0;
    memcpy(s->sr, mode3_sr, sizeof(s->sr));
    memcpy(s->gr, mode3_gr, sizeof(s->gr));
    memcpy(s->ar, mode3_ar, sizeof(s->ar));
    memcpy(s->cr, mode3_cr, sizeof(s->cr));
    s->ar_index = AR_INDEX_PAS;
    s->ar_flipflop = 0;
    memset(s->latch, 0, sizeof(s->latch));
    s->pel_mask = 0xff;
    s->dac_state = 0;
    s->dac_read_index = s->dac_write_index = s->dac_step = 0;
    memset(s->dac_cache, 0, sizeof(s->dac_cache));
    memset(s->dac, 0, sizeof(s->dac));
    /* The 64 EGA colours in DAC entries 0-63: each 6-bit index is
     * rgbRGB, lower case worth 0x15 and upper case 0x2A. */
    for (unsigned i = 0; i < 64; i++) {
        s->dac[i * 3 + 0] = (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
        s->dac[i * 3 + 1] = (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
        s->dac[i * 3 + 2] = (uint8_t)((i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
    }
    s->vbe_index = 0;
    memset(s->vbe, 0, sizeof(s->vbe));
    s->vbe[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->qext_byteorder = VGA_QEXT_LITTLE_ENDIAN;
}

static int vga_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int vga_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Read the option ROM, padded with zeros to the power of two the ROM BAR
 * needs (at least 2 KiB). */
static int load_rom(Vga *v, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    long len;
    uint64_t size = 2048;
    int rc;

    if (!f)
        return vga_fail(err, errlen, -errno, "vga: cannot open ROM %s: %s",
                        path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        rc = vga_fail(err, errlen, -errno, "vga: cannot read ROM %s: %s",
                      path, strerror(errno));
        goto fail;
    }
    if (len < 3 || len > (16l << 20)) {
        rc = vga_fail(err, errlen, -EINVAL, "vga: ROM %s: size %ld is not "
                      "that of an option ROM", path, len);
        goto fail;
    }
    while (size < (uint64_t)len)
        size <<= 1;
    v->rom = calloc(1, size);
    if (!v->rom) {
        rc = vga_fail(err, errlen, -ENOMEM, "vga: ROM %s: out of memory", path);
        goto fail;
    }
    if (fread(v->rom, 1, (size_t)len, f) != (size_t)len) {
        rc = vga_fail(err, errlen, ferror(f) ? -EIO : -EINVAL,
                      "vga: cannot read ROM %s: short read", path);
        goto fail;
    }
    if (v->rom[0] != 0x55 || v->rom[1] != 0xaa) {
        rc = vga_fail(err, errlen, -EINVAL, "vga: ROM %s has no 55 AA "
                      "option ROM signature", path);
        goto fail;
    }
    v->rom_size = size;
    fclose(f);
    return 0;
fail:
    free(v->rom);
    v->rom = NULL;
    fclose(f);
    return rc;
}

int vga_new(PciBus *bus, AddressSpace *mem, AddressSpace *io, Clock *clock,
            const char *rom_path, Vga **out, char *err, size_t errlen)
{
    Vga *v;
    int rc;

    if (!mem || !io || !clock || !out)
        return vga_fail(err, errlen, -EINVAL, "vga: missing address space "
                        "or clock");
    /* calloc of this size comes from mmap: untouched VRAM costs nothing. */
    v = calloc(1, sizeof(*v));
    if (!v)
        return vga_fail(err, errlen, -ENOMEM, "vga: out of memory for %u MiB "
                        "of VRAM", VGA_VRAM_SIZE >> 20);
    v->bus = bus;
    v->mem = mem;
    v->io = io;
    v->clock = clock;
    if (bus && rom_path) {
        rc = load_rom(v, rom_path, err, errlen);
        if (rc < 0)
            goto fail;
    }
    rc = as_map_io(mem, "vga-window", VGA_WINDOW_BASE, VGA_WINDOW_SIZE,
                   &window_ops, v);
    if (rc < 0) {
        vga_fail(err, errlen, rc, "vga: memory 0xA0000-0xBFFFF is taken");
        goto fail;
    }
    v->window_mapped = true;
    rc = as_map_io(io, "vga", MONO_BASE, MONO_LEN, &mono_ops, v);
    if (rc < 0) {
        vga_fail(err, errlen, rc, "vga: ports 0x3B0-0x3BB are taken");
        goto fail;
    }
    v->mono_mapped = true;
    rc = as_map_io(io, "vga", COLOR_BASE, COLOR_LEN, &color_ops, v);
    if (rc < 0) {
        vga_fail(err, errlen, rc, "vga: ports 0x3C0-0x3DF are taken");
        goto fail;
    }
    v->color_mapped = true;
    rc = as_map_io(io, "vga-dispi", VBE_DISPI_IOPORT_INDEX, VGA_DISPI_PORTS,
                   &vga_dispi_ops, v);
    if (rc < 0) {
        vga_fail(err, errlen, rc, "vga: ports 0x1CE-0x1D1 are taken");
        goto fail;
    }
    v->dispi_mapped = true;
    if (bus) {
        rc = pci_device_register(bus, &v->pci, &v->s.pci, VGA_PCI_DEVFN,
                                 &vga_pci_info, v);
        if (rc < 0) {
            vga_fail(err, errlen, rc, "vga: PCI slot 00:%02x.%u is taken",
                     PCI_SLOT(VGA_PCI_DEVFN), PCI_FUNC(VGA_PCI_DEVFN));
            goto fail;
        }
        v->pci_registered = true;
        rc = pci_register_bar_ram(&v->pci, 0, PCI_BAR_MEM32 | PCI_BAR_PREFETCH,
                                  VGA_VRAM_SIZE, v->s.vram);
        if (rc == 0)
            rc = pci_register_bar(&v->pci, 2, PCI_BAR_MEM32, VGA_MMIO_SIZE,
                                  &vga_mmio_ops, v);
        if (rc == 0 && v->rom)
            rc = pci_register_rom(&v->pci, v->rom_size, v->rom);
        if (rc < 0) {
            vga_fail(err, errlen, rc, "vga: cannot declare the PCI BARs");
            goto fail;
        }
    }
    vga_reset(v);
    *out = v;
    return 0;
fail:
    vga_free(v);
    return rc;
}

void vga_free(Vga *v)
{
    if (!v)
        return;
    if (v->pci_registered)
        pci_device_unregister(&v->pci);
    if (v->window_mapped)
        as_unmap(v->mem, VGA_WINDOW_BASE);
    if (v->mono_mapped)
        as_unmap(v->io, MONO_BASE);
    if (v->color_mapped)
        as_unmap(v->io, COLOR_BASE);
    if (v->dispi_mapped)
        as_unmap(v->io, VBE_DISPI_IOPORT_INDEX);
    free(v->rom);
    free(v);
}

static int vga_post_load(void *state, void *opaque)
{
    Vga *v = opaque;
    VgaState *s = state;

    /* Every index is bounds-checked where it is used; only the DAC step
     * indexes an array directly. */
    if (s->dac_step > 2 || s->vbe[VBE_DISPI_INDEX_BANK] > VBE_DISPI_BANK_MASK)
        return -EINVAL;
    if (s != &v->s)
        v->s = *s;
    /* The legacy window and ports never move; the BARs follow the
     * restored configuration space. */
    if (v->pci_registered)
        return pci_device_post_load(&v->pci);
    return 0;
}

static const StateField vga_fields[] = {
    STATE_STRUCT(VgaState, pci, pci_device_state_desc),
    STATE_U8(VgaState, misc),
    STATE_U8(VgaState, feature),
    STATE_U8(VgaState, vga_enable),
    STATE_U8(VgaState, sr_index),
    STATE_U8_ARRAY(VgaState, sr),
    STATE_U8(VgaState, gr_index),
    STATE_U8_ARRAY(VgaState, gr),
    STATE_U8(VgaState, ar_index),
    STATE_U8(VgaState, ar_flipflop),
    STATE_U8_ARRAY(VgaState, ar),
    STATE_U8(VgaState, cr_index),
    STATE_U8_ARRAY(VgaState, cr),
    STATE_U8_ARRAY(VgaState, latch),
    STATE_U8(VgaState, pel_mask),
    STATE_U8(VgaState, dac_state),
    STATE_U8(VgaState, dac_read_index),
    STATE_U8(VgaState, dac_write_index),
    STATE_U8(VgaState, dac_step),
    STATE_U8_ARRAY(VgaState, dac_cache),
    STATE_U8_ARRAY(VgaState, dac),
    STATE_U16(VgaState, vbe_index),
    STATE_U16_ARRAY(VgaState, vbe),
    STATE_U32(VgaState, qext_byteorder),
    STATE_U8_ARRAY(VgaState, vram),
    STATE_END
};

const StateDesc vga_state_desc = {
    .name = "vga", .version = 1, .size = sizeof(VgaState),
    .fields = vga_fields, .post_load = vga_post_load,
};

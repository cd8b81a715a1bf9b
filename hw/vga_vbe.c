/* The Bochs VBE "dispi" interface of the VGA and QEMU's BAR2 MMIO window
 * (see hw/vga.h for the model).
 *
 * Sources: the Bochs VBE dispi interface - index port 0x1CE and data port
 * 0x1CF (QEMU adds a data alias at 0x1D0), the registers ID (0xB0C0-0xB0C5
 * accepted), XRES, YRES, BPP (4, 8, 15, 16, 24, 32; 0 means 8), ENABLE
 * (ENABLED, GETCAPS turning XRES/YRES/BPP into the limits, 8BIT_DAC,
 * LFB_ENABLED, NOCLEARMEM), BANK (64 KiB window at 0xA0000), VIRT_WIDTH,
 * VIRT_HEIGHT (derived from the VRAM size), X_OFFSET, Y_OFFSET and
 * VIDEO_MEMORY_64K; QEMU's docs/specs/standard-vga.rst for BAR2: the VGA
 * ports 0x3C0-0x3DF at 0x400 (words are bytes in little-endian order,
 * index first), dispi register n at 0x500 + 2n, the qext registers at
 * 0x600 (region size, framebuffer byte order).
 *
 * What Debian's vgabios-stdvga.bin does with it (read from its code): the
 * ID handshake (write ID0, read back, write ID5), VIDEO_MEMORY_64K, the
 * GETCAPS limits, BAR0 of the PCI function as the LFB address, and mode
 * sets as ENABLE=0, BPP, XRES, YRES, BANK=0, ENABLE=ENABLED|flags, all
 * through the ports; Linux's bochs-drm uses BAR2 instead when present.
 */
#include "hw/vga.h"

#include <inttypes.h>
#include <string.h>

#include "util/log.h"

#define GR06_GRAPHICS 0x01
#define GR06_MEMMAP   0x0c

#define VBE_ENABLE_BITS (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | \
                         VBE_DISPI_8BIT_DAC | VBE_DISPI_LFB_ENABLED | \
                         VBE_DISPI_NOCLEARMEM)

/* ---- dispi geometry (shared with the renderer) --------------------------- */

bool vga_vbe_enabled(const VgaState *s)
{
    return (s->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) != 0;
}

static bool vbe_bpp_valid(unsigned bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 ||
           bpp == 32;
}

/* Bytes per line for `width` pixels: 4 bpp is planar, one bit per pixel
 * in each plane. */
static uint32_t vbe_stride(unsigned width, unsigned bpp)
{
    return bpp == 4 ? width / 8 : width * ((bpp + 7) / 8);
}

bool vga_vbe_mode(const VgaState *s, VgaVbeMode *m)
{
    const uint16_t *r = s->vbe;
    unsigned bpp = r[VBE_DISPI_INDEX_BPP] ? r[VBE_DISPI_INDEX_BPP] : 8;
    unsigned xres = r[VBE_DISPI_INDEX_XRES], yres = r[VBE_DISPI_INDEX_YRES];
    unsigned vw = r[VBE_DISPI_INDEX_VIRT_WIDTH];
    uint64_t size = bpp == 4 ? VGA_PLANE_SIZE : VGA_VRAM_SIZE;
    uint64_t stride, start;

    if (!vbe_bpp_valid(bpp) || xres == 0 || yres == 0 ||
        xres > VBE_DISPI_MAX_XRES || yres > VBE_DISPI_MAX_YRES)
        return false;
    if (vw < xres)
        vw = xres;
    stride = vbe_stride(vw, bpp);
    if (stride == 0)
        return false;
    start = (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * stride +
            (bpp == 4 ? r[VBE_DISPI_INDEX_X_OFFSET] / 8
                      : (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * ((bpp + 7) / 8));
    if (start + (yres - 1) * stride + vbe_stride(xres, bpp) > size)
        return false;
    *m = (VgaVbeMode){ .xres = xres, .yres = yres, .bpp = bpp,
                       .stride = (uint32_t)stride, .start = (uint32_t)start };
    return true;
}

/* ---- the dispi interface --------------------------------------------------- */

uint16_t vga_vbe_read(Vga *v, unsigned idx)
{
    VgaState *s = &v->s;

    if ((s->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS)) {
        /* GETCAPS turns the mode registers into the card's limits. */
        if (idx == VBE_DISPI_INDEX_XRES)
            return VBE_DISPI_MAX_XRES;
        if (idx == VBE_DISPI_INDEX_YRES)
            return VBE_DISPI_MAX_YRES;
        if (idx == VBE_DISPI_INDEX_BPP)
            return VBE_DISPI_MAX_BPP;
    }
    if (idx < VBE_DISPI_NUM_REGS)
        return s->vbe[idx];
    if (idx == VBE_DISPI_INDEX_VIDEO_MEMORY_64K)
        return VGA_VRAM_SIZE >> 16;
    LOG_LIMITED(LOG_GUEST_ERRORS, "vga: read of dispi register 0x%x\n", idx);
    return 0;
}

/* After a geometry change while enabled: the virtual width is at least
 * the visible one, the virtual height is what VRAM holds, and the
 * offsets keep the visible area inside the virtual screen. */
static void vbe_fixup(VgaState *s)
{
    uint16_t *r = s->vbe;
    unsigned bpp = r[VBE_DISPI_INDEX_BPP] ? r[VBE_DISPI_INDEX_BPP] : 8;
    uint32_t stride, vh;

    if (!vbe_bpp_valid(bpp))
        return;
    if (r[VBE_DISPI_INDEX_VIRT_WIDTH] < r[VBE_DISPI_INDEX_XRES])
        r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
    stride = vbe_stride(r[VBE_DISPI_INDEX_VIRT_WIDTH], bpp);
    if (stride == 0)
        return;
    vh = (bpp == 4 ? VGA_PLANE_SIZE : VGA_VRAM_SIZE) / stride;
    r[VBE_DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)(vh > 0xffff ? 0xffff : vh);
    if (r[VBE_DISPI_INDEX_X_OFFSET] >
        r[VBE_DISPI_INDEX_VIRT_WIDTH] - r[VBE_DISPI_INDEX_XRES])
        r[VBE_DISPI_INDEX_X_OFFSET] =
            r[VBE_DISPI_INDEX_VIRT_WIDTH] - r[VBE_DISPI_INDEX_XRES];
    if (r[VBE_DISPI_INDEX_YRES] <= r[VBE_DISPI_INDEX_VIRT_HEIGHT] &&
        r[VBE_DISPI_INDEX_Y_OFFSET] >
        r[VBE_DISPI_INDEX_VIRT_HEIGHT] - r[VBE_DISPI_INDEX_YRES])
        r[VBE_DISPI_INDEX_Y_OFFSET] =
            r[VBE_DISPI_INDEX_VIRT_HEIGHT] - r[VBE_DISPI_INDEX_YRES];
}

static void vbe_enable(Vga *v, uint16_t val)
{
    VgaState *s = &v->s;
    uint16_t *r = s->vbe;
    bool was = vga_vbe_enabled(s);
    VgaVbeMode m;

    if ((val & VBE_DISPI_ENABLED) && !was) {
        if (!r[VBE_DISPI_INDEX_BPP])
            r[VBE_DISPI_INDEX_BPP] = 8;
        r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
        r[VBE_DISPI_INDEX_X_OFFSET] = 0;
        r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
        r[VBE_DISPI_INDEX_BANK] = 0;
        vbe_fixup(s);
        if (!vga_vbe_mode(s, &m)) {
            LOG_LIMITED(LOG_GUEST_ERRORS,
                        "vga: dispi enable refused: %ux%u at %u bpp does "
                        "not fit %u MiB of VRAM\n",
                        r[VBE_DISPI_INDEX_XRES], r[VBE_DISPI_INDEX_YRES],
                        r[VBE_DISPI_INDEX_BPP], VGA_VRAM_SIZE >> 20);
            return;
        }
        if (!(val & VBE_DISPI_NOCLEARMEM)) {
            uint64_t bytes = (uint64_t)m.stride * m.yres;
            /* Planar: the visible lines of all four planes. */
            if (m.bpp == 4)
                bytes *= 4;
            memset(s->vram, 0, bytes > VGA_VRAM_SIZE ? VGA_VRAM_SIZE : bytes);
        }
        /* The legacy window becomes the 64 KiB bank window at 0xA0000 in
         * graphics mode, as on Bochs and QEMU. */
        s->gr[6] = (uint8_t)((s->gr[6] & ~GR06_MEMMAP) | 0x04 | GR06_GRAPHICS);
    } else if (!(val & VBE_DISPI_ENABLED)) {
        r[VBE_DISPI_INDEX_BANK] = 0;
    }
    r[VBE_DISPI_INDEX_ENABLE] = val & VBE_ENABLE_BITS;
}

void vga_vbe_write(Vga *v, unsigned idx, uint16_t val)
{
    VgaState *s = &v->s;
    uint16_t *r = s->vbe;

    switch (idx) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5)
            r[idx] = val;
        else
            LOG_LIMITED(LOG_GUEST_ERRORS, "vga: dispi id 0x%04x refused\n", val);
        return;
    case VBE_DISPI_INDEX_BPP:
        if (val == 0)
            val = 8;
        if (!vbe_bpp_valid(val)) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "vga: dispi bpp %u refused\n", val);
            return;
        }
        r[idx] = val;
        break;
    case VBE_DISPI_INDEX_XRES:
        if (val > VBE_DISPI_MAX_XRES) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "vga: dispi xres %u refused\n", val);
            return;
        }
        r[idx] = val;
        break;
    case VBE_DISPI_INDEX_YRES:
        if (val > VBE_DISPI_MAX_YRES) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "vga: dispi yres %u refused\n", val);
            return;
        }
        r[idx] = val;
        break;
    case VBE_DISPI_INDEX_ENABLE:
        vbe_enable(v, val);
        return;
    case VBE_DISPI_INDEX_BANK:
        /* Out-of-range banks read back masked, which is how the VGA BIOS
         * notices that a window position failed. */
        if (val & ~VBE_DISPI_BANK_MASK)
            LOG_LIMITED(LOG_GUEST_ERRORS, "vga: dispi bank %u masked\n", val);
        r[idx] = val & VBE_DISPI_BANK_MASK;
        return;
    case VBE_DISPI_INDEX_VIRT_WIDTH:
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        r[idx] = val;
        break;
    case VBE_DISPI_INDEX_VIRT_HEIGHT:
        /* Derived from VRAM size and the virtual width. */
        return;
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "vga: write 0x%04x to dispi register "
                    "0x%x\n", val, idx);
        return;
    }
    if (vga_vbe_enabled(s))
        vbe_fixup(s);
}

/* 0x1CE index, 0x1CF data, 0x1D0 data alias: 16-bit registers at
 * overlapping byte addresses.  The region runs to 0x1D1 so that a word
 * access at 0x1D0 reaches us whole; a byte at 0x1D1 is the alias's high
 * half. */
static uint64_t dispi_port_read(void *opaque, uint64_t off, unsigned size)
{
    Vga *v = opaque;
    uint16_t val = off == 0 ? v->s.vbe_index : vga_vbe_read(v, v->s.vbe_index);

    if (off == 3)
        return val >> 8;
    return size == 1 ? (uint8_t)val : val;
}

static void dispi_port_write(void *opaque, uint64_t off, uint64_t val,
                             unsigned size)
{
    Vga *v = opaque;

    if (off == 0)
        v->s.vbe_index = (uint16_t)val;
    else if (off < 3)
        vga_vbe_write(v, v->s.vbe_index, (uint16_t)val);
}

const MemOps vga_dispi_ops = {
    .read = dispi_port_read, .write = dispi_port_write, .max_access = 2,
};


/* ---- the bank window -------------------------------------------------------- */

/* With a packed dispi mode on, 0xA0000-0xAFFFF is a plain window onto
 * bank * 64 KiB of VRAM; the 4 bpp mode stays planar with the bank added
 * to the plane address. */
bool vga_vbe_linear_window(const VgaState *s)
{
    return vga_vbe_enabled(s) && s->vbe[VBE_DISPI_INDEX_BPP] != 4;
}

uint32_t vga_vbe_bank_offset(const VgaState *s)
{
    return vga_vbe_enabled(s) ? (uint32_t)(s->vbe[VBE_DISPI_INDEX_BANK] &
                                           VBE_DISPI_BANK_MASK) << 16 : 0;
}

/* ---- BAR2: the MMIO view of the ports and the dispi registers ------------- */

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    Vga *v = opaque;
    uint64_t val = 0;

    if (off >= VGA_MMIO_PORTS && off < VGA_MMIO_PORTS + 0x20) {
        /* Bytes in little-endian order, so a word reads index then data. */
        for (unsigned i = 0; i < size && off + i < VGA_MMIO_PORTS + 0x20; i++)
            val |= (uint64_t)vga_port_read(v, 0x3c0 + (unsigned)(off + i -
                                                   VGA_MMIO_PORTS)) << (8 * i);
        return val;
    }
    if (off >= VGA_MMIO_DISPI && off < VGA_MMIO_DISPI + 0x16) {
        for (unsigned i = 0; i < size; i++) {
            uint64_t o = off + i - VGA_MMIO_DISPI;
            uint16_t r = vga_vbe_read(v, (unsigned)(o >> 1));
            val |= (uint64_t)((o & 1) ? r >> 8 : r & 0xff) << (8 * i);
        }
        return val;
    }
    if (off >= VGA_MMIO_QEXT && off < VGA_MMIO_QEXT + VGA_QEXT_SIZE) {
        uint64_t regs = VGA_QEXT_SIZE | (uint64_t)v->s.qext_byteorder << 32;
        return (regs >> (8 * (off - VGA_MMIO_QEXT))) &
               (size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1);
    }
    /* No EDID blob (a zero header means "none"); the rest is reserved. */
    return 0;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Vga *v = opaque;

    if (off >= VGA_MMIO_PORTS && off < VGA_MMIO_PORTS + 0x20) {
        for (unsigned i = 0; i < size && off + i < VGA_MMIO_PORTS + 0x20; i++)
            vga_port_write(v, 0x3c0 + (unsigned)(off + i - VGA_MMIO_PORTS),
                           (uint8_t)(val >> (8 * i)));
        return;
    }
    if (off >= VGA_MMIO_DISPI && off < VGA_MMIO_DISPI + 0x16) {
        uint64_t o = off - VGA_MMIO_DISPI;
        if (size == 1) {
            /* A byte lands in its half of the register. */
            uint16_t r = vga_vbe_read(v, (unsigned)(o >> 1));
            r = (o & 1) ? (uint16_t)((r & 0x00ff) | (val & 0xff) << 8)
                        : (uint16_t)((r & 0xff00) | (val & 0xff));
            vga_vbe_write(v, (unsigned)(o >> 1), r);
            return;
        }
        for (unsigned i = 0; i + 1 < size; i += 2)
            vga_vbe_write(v, (unsigned)((o + i) >> 1), (uint16_t)(val >> (8 * i)));
        return;
    }
    if (off == VGA_MMIO_QEXT + 4 && size == 4) {
        if ((uint32_t)val == VGA_QEXT_LITTLE_ENDIAN)
            v->s.qext_byteorder = (uint32_t)val;
        else
            LOG_LIMITED(LOG_UNIMP, "vga: framebuffer byte order 0x%08" PRIx64
                        " not supported (little-endian only)\n", val);
        return;
    }
    LOG_LIMITED(LOG_GUEST_ERRORS, "vga: write 0x%" PRIx64 " to MMIO offset "
                "0x%03" PRIx64 "\n", val, off);
}

const MemOps vga_mmio_ops = {
    .read = mmio_read, .write = mmio_write, .max_access = 4,
};


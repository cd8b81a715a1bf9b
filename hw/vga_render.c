/* The VGA's display side: what the CRTC, the attribute controller and the
 * DAC make of VRAM, as RGB pixels for a frontend and as ASCII for tests.
 *
 * Sources: FreeVGA's "CRT Controller Registers" (horizontal/vertical
 * display end, offset, start address, preset row scan, maximum scan line
 * and double scan, line compare, cursor start/end/location, underline
 * location, the CRTC mode control's word/byte, doubleword, count-by-2 and
 * the MA13/MA14 row-scan substitution used by the CGA-compatible modes),
 * "Attribute Controller Registers" (palette, mode control: line graphics,
 * blink, P5/P4 select, 8-bit colour; colour plane enable, pixel panning,
 * colour select), "Sequencer Registers" (8/9-dot clocking, screen off,
 * character map select), "Graphics Registers" (shift register interleave
 * and 256-colour shift modes) and "DAC Operation" (PEL mask, 6-bit
 * components); the Bochs VBE dispi registers for the VBE modes.
 *
 * This is the slow, obviously-right path: every pixel goes through the
 * same address generation the CRTC does.  A frontend that needs speed can
 * cache on top of it.
 */
#include "hw/vga.h"

#include <errno.h>
#include <string.h>

/* Room for a line's pixels before panning: 256 character clocks of 8. */
#define MAX_LINE_PIXELS ((256 + 1) * 8)

unsigned vga_vdisp_lines(const VgaState *s)
{
    const uint8_t *cr = s->cr;

    return (cr[0x12] | (cr[0x07] & 0x02) << 7 | (cr[0x07] & 0x40) << 3) + 1u;
}

static unsigned line_compare(const VgaState *s)
{
    const uint8_t *cr = s->cr;

    return cr[0x18] | (cr[0x07] & 0x10) << 4 | (cr[0x09] & 0x40) << 3;
}

uint32_t vga_crtc_address(const VgaState *s, uint32_t counter, unsigned rsc)
{
    const uint8_t *cr = s->cr;
    uint32_t ma;

    counter &= 0xffff;
    if (cr[0x14] & 0x40) {
        /* Doubleword mode: the counter rotated left by two. */
        ma = counter << 2 | (counter >> 14 & 3);
    } else if (!(cr[0x17] & 0x40)) {
        /* Word mode: rotated left by one, MA13 or MA15 into bit 0. */
        ma = counter << 1 | (counter >> ((cr[0x17] & 0x20) ? 15 : 13) & 1);
    } else {
        ma = counter;
    }
    /* CGA/Hercules interleave: row scan bits replace address bits 13/14. */
    if (!(cr[0x17] & 0x01))
        ma = (ma & ~0x2000u) | (rsc & 1u) << 13;
    if (!(cr[0x17] & 0x02))
        ma = (ma & ~0x4000u) | (rsc & 2u) << 13;
    return ma & 0xffff;
}

bool vga_is_text_mode(const Vga *v)
{
    return !vga_vbe_enabled(&v->s) && !(v->s.gr[6] & 0x01);
}

/* Character clocks that share one address counter value (CR17 bit 3
 * count-by-2, CR14 bit 5 count-by-4). */
static unsigned count_shift(const VgaState *s)
{
    if (s->cr[0x14] & 0x20)
        return 2;
    return (s->cr[0x17] & 0x08) ? 1 : 0;
}

static uint8_t plane_byte(const VgaState *s, uint32_t ma, unsigned plane)
{
    return s->vram[(ma & (VGA_PLANE_SIZE - 1)) * 4 + plane];
}

/* ---- colours --------------------------------------------------------------- */

static void build_dac(const VgaState *s, uint32_t rgb[256])
{
    bool wide = vga_vbe_enabled(s) &&
                (s->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC);

    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = 0;
        for (unsigned k = 0; k < 3; k++) {
            uint32_t v = s->dac[i * 3 + k];
            /* 6-bit components span 0-255 when the top bits repeat. */
            if (!wide)
                v = (v & 0x3f) << 2 | (v & 0x3f) >> 4;
            c = c << 8 | v;
        }
        rgb[i] = c;
    }
}

/* The attribute controller's path from a 4-bit pixel to a DAC entry. */
static void build_attr(const VgaState *s, const uint32_t dac[256],
                       uint32_t out[16])
{
    const uint8_t *ar = s->ar;

    for (unsigned i = 0; i < 16; i++) {
        unsigned d = ar[i] & 0x3f;
        if (ar[0x10] & 0x80)
            d = (d & 0x0f) | (ar[0x14] & 0x03u) << 4;
        d |= (ar[0x14] & 0x0cu) << 4;
        out[i] = dac[d & s->pel_mask];
    }
}

/* ---- VGA modes --------------------------------------------------------------- */

typedef enum RenderKind { RK_TEXT, RK_PLANAR, RK_CGA, RK_256 } RenderKind;

typedef struct Frame {
    RenderKind kind;
    unsigned cols;              /* character clocks per line */
    unsigned char_w;            /* text: 8 or 9 dots */
    unsigned step;              /* scanlines per output line */
    uint32_t dac[256];
    uint32_t attr[16];
} Frame;

static RenderKind render_kind(const VgaState *s)
{
    if (!(s->gr[6] & 0x01))
        return RK_TEXT;
    if (s->gr[5] & 0x40)
        return RK_256;
    if (s->gr[5] & 0x20)
        return RK_CGA;
    return RK_PLANAR;
}

/* Output lines stand for this many scanlines: double scan always
 * repeats a line; a character row of several scanlines repeats its
 * address unless row-scan bits are substituted into it (CGA modes). */
static unsigned graphics_step(const VgaState *s)
{
    unsigned rows = (s->cr[0x09] & 0x1f) + 1u, distinct = 1;

    if (!(s->cr[0x17] & 0x01))
        distinct *= 2;
    if (!(s->cr[0x17] & 0x02))
        distinct *= 2;
    if (distinct > rows)
        distinct = rows;
    return (1u << (s->cr[0x09] >> 7)) * (rows / distinct);
}

static void text_line(const VgaState *s, const Frame *f, uint32_t *out,
                      uint32_t row_start, unsigned rsc)
{
    const uint8_t *cr = s->cr;
    unsigned sr3 = s->sr[3], cb = count_shift(s);
    /* Character map A (attribute bit 3 set) and B: 8 KiB slots in plane 2
     * in the order 0, 2, 4, 6, 1, 3, 5, 7 of the select value. */
    unsigned sel_a = ((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3);
    unsigned sel_b = ((sr3 >> 4) & 1) << 2 | (sr3 & 3);
    uint32_t font_a = (sel_a & 3) << 14 | (sel_a >> 2) << 13;
    uint32_t font_b = (sel_b & 3) << 14 | (sel_b >> 2) << 13;
    uint32_t cursor = (uint32_t)cr[0x0e] << 8 | cr[0x0f];
    unsigned cs = cr[0x0a] & 0x1f, ce = cr[0x0b] & 0x1f;
    bool cursor_on = !(cr[0x0a] & 0x20) && cs <= ce && rsc >= cs && rsc <= ce;
    bool underline_row = rsc == (cr[0x14] & 0x1fu);
    unsigned planes_on = s->ar[0x12] & 0x0f;

    for (unsigned i = 0; i < f->cols; i++) {
        uint32_t counter = (row_start + (i >> cb)) & 0xffff;
        uint32_t ma = vga_crtc_address(s, counter, rsc);
        uint8_t ch = plane_byte(s, ma, 0), at = plane_byte(s, ma, 1);
        uint32_t font = (at & 0x08) ? font_a : font_b;
        uint8_t glyph = plane_byte(s, font + ch * 32u + (rsc & 0x1f), 2);
        unsigned fg = at & 0x0f, bg = at >> 4;
        bool ninth;

        bool solid;

        /* Blink enabled: bit 7 blinks the character instead of selecting
         * bright backgrounds; we draw the "on" phase. */
        if (s->ar[0x10] & 0x08)
            bg &= 7;
        /* The cursor, and the underline attribute (foreground 1 on
         * background 0 in the monochrome sense) on the underline row,
         * cover the whole cell, ninth dot included. */
        solid = (cursor_on && counter == cursor) ||
                (underline_row && (at & 0x77) == 0x01);
        if (solid)
            glyph = 0xff;
        /* Line-drawing characters 0xC0-0xDF extend into the ninth dot. */
        ninth = solid || ((s->ar[0x10] & 0x04) && ch >= 0xc0 && ch <= 0xdf &&
                          (glyph & 1));
        fg &= planes_on;
        bg &= planes_on;
        for (unsigned x = 0; x < 8; x++)
            out[i * f->char_w + x] = f->attr[(glyph >> (7 - x)) & 1 ? fg : bg];
        if (f->char_w == 9)
            out[i * 9 + 8] = f->attr[ninth ? fg : bg];
    }
}

static void graphics_line(const VgaState *s, const Frame *f, uint32_t *out,
                          uint32_t row_start, unsigned rsc)
{
    uint8_t idx[MAX_LINE_PIXELS];
    unsigned cb = count_shift(s), n = 0, pan = 0;
    unsigned planes_on = s->ar[0x12] & 0x0f;

    if (f->kind == RK_256) {
        for (unsigned i = 0; i < f->cols; i++) {
            uint32_t ma = vga_crtc_address(s, row_start + (i >> cb), rsc);
            /* 8-bit colour: the byte goes to the DAC as is. */
            for (unsigned p = 0; p < 4; p++)
                out[i * 4 + p] = f->dac[plane_byte(s, ma, p) & s->pel_mask];
        }
        return;
    }
    /* One character clock more than shown, for pixel panning. */
    for (unsigned i = 0; i <= f->cols && i < 257; i++) {
        uint32_t ma = vga_crtc_address(s, row_start + (i >> cb), rsc);
        uint8_t b[4];
        for (unsigned p = 0; p < 4; p++)
            b[p] = plane_byte(s, ma, p);
        if (f->kind == RK_CGA) {
            /* Shift register interleave: planes 0/1 give two bits per
             * pixel, four pixels each, planes 2/3 the upper two bits. */
            for (unsigned x = 0; x < 8; x++) {
                unsigned lo = x < 4 ? b[0] : b[1], hi = x < 4 ? b[2] : b[3];
                unsigned sh = 6 - 2 * (x & 3);
                idx[n++] = (uint8_t)(((lo >> sh) & 3) | ((hi >> sh) & 3) << 2);
            }
        } else {
            for (unsigned x = 0; x < 8; x++) {
                unsigned bit = 7 - x, v = 0;
                for (unsigned p = 0; p < 4; p++)
                    v |= ((b[p] >> bit) & 1u) << p;
                idx[n++] = (uint8_t)v;
            }
        }
    }
    if ((s->ar[0x13] & 0x0f) < 8)
        pan = s->ar[0x13] & 0x07;
    for (unsigned x = 0; x < f->cols * 8; x++)
        out[x] = f->attr[idx[x + pan] & planes_on];
}

static void render_vga(const VgaState *s, Frame *f, uint32_t *px, int w, int h)
{
    unsigned vd = vga_vdisp_lines(s), lc = line_compare(s);
    unsigned maxscan = s->cr[0x09] & 0x1f, ds = s->cr[0x09] >> 7;
    uint32_t row_start = (uint32_t)s->cr[0x0c] << 8 | s->cr[0x0d];
    unsigned rsc = s->cr[0x08] & 0x1f, dsc = 0;
    int y = 0;

    for (unsigned sl = 0; sl < vd && y < h; sl++) {
        /* Line compare restarts the address counter at 0: the bottom
         * part of a split screen. */
        if (sl == lc) {
            row_start = 0;
            rsc = 0;
            dsc = 0;
        }
        if (sl % f->step == 0) {
            if (f->kind == RK_TEXT)
                text_line(s, f, px + (size_t)y * w, row_start, rsc);
            else
                graphics_line(s, f, px + (size_t)y * w, row_start, rsc);
            y++;
        }
        if (ds && !dsc) {
            dsc = 1;
            continue;
        }
        dsc = 0;
        if (rsc >= maxscan) {
            rsc = 0;
            row_start = (row_start + 2u * s->cr[0x13]) & 0xffff;
        } else {
            rsc++;
        }
    }
    for (; y < h; y++)
        memset(px + (size_t)y * w, 0, (size_t)w * sizeof(*px));
}

/* ---- VBE modes ----------------------------------------------------------------- */

static uint32_t expand5(unsigned v) { return (v << 3 | v >> 2) & 0xff; }
static uint32_t expand6(unsigned v) { return (v << 2 | v >> 4) & 0xff; }

static void render_vbe(const VgaState *s, const VgaVbeMode *m,
                       const Frame *f, uint32_t *px)
{
    const uint8_t *vr = s->vram;
    unsigned bypp = (m->bpp + 7) / 8;

    for (unsigned y = 0; y < m->yres; y++) {
        uint32_t line = m->start + y * m->stride;
        uint32_t *out = px + (size_t)y * m->xres;
        for (unsigned x = 0; x < m->xres; x++) {
            const uint8_t *p = vr + line + (size_t)x * bypp;
            unsigned v;
            switch (m->bpp) {
            case 4: {
                uint32_t po = line + x / 8;
                unsigned bit = 7 - (x & 7), c = 0;
                for (unsigned k = 0; k < 4; k++)
                    c |= ((vr[po * 4 + k] >> bit) & 1u) << k;
                out[x] = f->attr[c & s->ar[0x12] & 0x0f];
                break;
            }
            case 8:
                out[x] = f->dac[p[0] & s->pel_mask];
                break;
            case 15:
                v = p[0] | p[1] << 8;
                out[x] = expand5(v >> 10 & 31) << 16 | expand5(v >> 5 & 31) << 8 |
                         expand5(v & 31);
                break;
            case 16:
                v = p[0] | p[1] << 8;
                out[x] = expand5(v >> 11) << 16 | expand6(v >> 5 & 63) << 8 |
                         expand5(v & 31);
                break;
            default:            /* 24 and 32: B, G, R (, X) */
                out[x] = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
                break;
            }
        }
    }
}

/* ---- the API ------------------------------------------------------------------- */

int vga_render(Vga *v, uint32_t *pixels, int *w, int *h, size_t max_pixels)
{
    const VgaState *s = &v->s;
    Frame frame, *f = &frame;
    VgaVbeMode m;
    bool vbe = vga_vbe_enabled(s), vbe_ok = vbe && vga_vbe_mode(s, &m);
    unsigned W, H;

    memset(f, 0, sizeof(*f));
    if (vbe) {
        /* An unusable dispi mode shows nothing, at a size a window
         * manager will accept. */
        W = vbe_ok ? m.xres : 640;
        H = vbe_ok ? m.yres : 480;
    } else {
        unsigned vd = vga_vdisp_lines(s);
        f->kind = render_kind(s);
        f->cols = s->cr[0x01] + 1u;
        if (f->kind == RK_TEXT) {
            f->char_w = (s->sr[1] & 0x01) ? 8 : 9;
            f->step = 1u << (s->cr[0x09] >> 7);
            W = f->cols * f->char_w;
        } else {
            f->step = graphics_step(s);
            W = f->cols * (f->kind == RK_256 ? 4 : 8);
        }
        H = vd / f->step;
        if (H == 0)
            H = 1;
    }
    *w = (int)W;
    *h = (int)H;
    if (!pixels || (size_t)W * H > max_pixels)
        return -ENOSPC;
    /* Palette address source 0 (the palette is being loaded) or screen
     * off: the monitor sees black. */
    if (!(s->ar_index & 0x20) || (s->sr[1] & 0x20) || (vbe && !vbe_ok)) {
        memset(pixels, 0, (size_t)W * H * sizeof(*pixels));
        return 0;
    }
    build_dac(s, f->dac);
    build_attr(s, f->dac, f->attr);
    if (vbe)
        render_vbe(s, &m, f, pixels);
    else
        render_vga(s, f, pixels, (int)W, (int)H);
    return 0;
}

size_t vga_text_dump(Vga *v, char *buf, size_t len)
{
    const VgaState *s = &v->s;
    const uint8_t *cr = s->cr;
    unsigned cols = cr[0x01] + 1u, cb = count_shift(s);
    unsigned char_h = ((cr[0x09] & 0x1fu) + 1u) << (cr[0x09] >> 7);
    unsigned rows = vga_vdisp_lines(s) / char_h;
    uint32_t start = (uint32_t)cr[0x0c] << 8 | cr[0x0d];
    size_t n = 0;
    char line[257];

    if (len)
        buf[0] = '\0';
    if (!vga_is_text_mode(v))
        return 0;
    for (unsigned r = 0; r < rows; r++) {
        unsigned used = 0;
        for (unsigned c = 0; c < cols; c++) {
            uint32_t counter = start + r * 2u * cr[0x13] + (c >> cb);
            uint8_t ch = plane_byte(s, vga_crtc_address(s, counter, 0), 0);
            line[c] = ch == 0 ? ' ' : (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
            if (line[c] != ' ')
                used = c + 1;
        }
        line[used++] = '\n';
        for (unsigned c = 0; c < used; c++, n++)
            if (len && n < len - 1)
                buf[n] = line[c];
    }
    if (len)
        buf[n < len ? n : len - 1] = '\0';
    return n;
}

/* Unit tests for hw/vga.c and hw/vga_render.c.
 *
 * Driven through the I/O ports, the legacy window, the PCI BARs and the
 * public render/dump API, as a guest and a frontend would.  Expected
 * values are worked out by hand from FreeVGA's register descriptions (the
 * write-mode pipeline, colour compare, odd/even and chain-4 addressing)
 * and the IBM BIOS mode tables for modes 3, 12h and 13h, written out as
 * literal numbers.  VRAM is checked through the documented layout: byte o
 * of plane p is vram[o * 4 + p] (hw/vga.h).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/pci.h"
#include "hw/vga.h"
#include "machine/clock.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define STDVGA_ROM "/usr/share/seabios/vgabios-stdvga.bin"
#define LFB_BASE   0xe0000000u
#define MMIO_BASE  0xfebf0000u
#define ROM_BASE   0xfeb00000u

static AddressSpace mem, io;
static PciBus *bus;
static Clock clk;
static uint64_t icount;
static Vga *vga;

static uint64_t test_icount(void *opaque)
{
    (void)opaque;
    return icount;
}

static void setup(void)
{
    char err[256] = "";

    as_init(&mem, "memory", 0);
    as_init(&io, "io", 1u << 16);
    cr_assert_eq(pci_bus_new(&mem, &io, &bus), 0);
    icount = 0;
    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);   /* 1 ns per insn */
    clock_set_icount_source(&clk, test_icount, NULL);
    int rc = vga_new(bus, &mem, &io, &clk, NULL, &vga, err, sizeof(err));
    cr_assert_eq(rc, 0, "vga_new: %s", err);
}

static void teardown(void)
{
    vga_free(vga);
    vga = NULL;
    pci_bus_free(bus);
    as_destroy(&io);
    as_destroy(&mem);
}

TestSuite(vga, .init = setup, .fini = teardown);

/* ---- helpers: what a guest does --------------------------------------------- */

static void outb(uint16_t port, uint8_t v) { as_write(&io, port, v, 1); }
static uint8_t inb(uint16_t port) { return (uint8_t)as_read(&io, port, 1); }
static void outw(uint16_t port, uint16_t v) { as_write(&io, port, v, 2); }
static uint16_t inw(uint16_t port) { return (uint16_t)as_read(&io, port, 2); }
static void wb(uint64_t a, uint8_t v) { as_write(&mem, a, v, 1); }
static uint8_t rb(uint64_t a) { return (uint8_t)as_read(&mem, a, 1); }

static void seq(uint8_t i, uint8_t v) { outb(0x3c4, i); outb(0x3c5, v); }
static void grc(uint8_t i, uint8_t v) { outb(0x3ce, i); outb(0x3cf, v); }
static void crt(uint8_t i, uint8_t v) { outb(0x3d4, i); outb(0x3d5, v); }
static uint8_t crt_read(uint8_t i) { outb(0x3d4, i); return inb(0x3d5); }
static uint8_t grc_read(uint8_t i) { outb(0x3ce, i); return inb(0x3cf); }

static void att(uint8_t i, uint8_t v)
{
    inb(0x3da);
    outb(0x3c0, i);
    outb(0x3c0, v);
}

static void dispi_write(uint16_t idx, uint16_t v)
{
    outw(VBE_DISPI_IOPORT_INDEX, idx);
    outw(VBE_DISPI_IOPORT_DATA, v);
}

static uint16_t dispi_read(uint16_t idx)
{
    outw(VBE_DISPI_IOPORT_INDEX, idx);
    return inw(VBE_DISPI_IOPORT_DATA);
}

static uint8_t plane(uint32_t off, unsigned p)
{
    return vga->s.vram[off * 4 + p];
}

/* Program a whole BIOS mode: misc, sequencer, CRTC (unprotected first),
 * graphics controller, attribute controller, then enable the display. */
static void set_mode(uint8_t misc, const uint8_t sr[5], const uint8_t crtc[25],
                     const uint8_t gc[9], const uint8_t ac[21])
{
    outb(0x3c2, misc);
    for (int i = 0; i < 5; i++)
        seq((uint8_t)i, sr[i]);
    crt(0x11, crtc[0x11] & 0x7f);
    for (int i = 0; i < 25; i++)
        crt((uint8_t)i, crtc[i]);
    for (int i = 0; i < 9; i++)
        grc((uint8_t)i, gc[i]);
    for (int i = 0; i < 21; i++)
        att((uint8_t)i, ac[i]);
    inb(0x3da);
    outb(0x3c0, 0x20);
}

/* IBM BIOS mode 12h: 640x480, 16 colours, planar. */
static void set_mode_12h(void)
{
    static const uint8_t sr[5] = { 0x03, 0x01, 0x0f, 0x00, 0x06 };
    static const uint8_t crtc[25] = {
        0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7,
        0x04, 0xe3, 0xff };
    static const uint8_t gc[9] = { 0, 0, 0, 0, 0, 0x00, 0x05, 0x0f, 0xff };
    static const uint8_t ac[21] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
        0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 };
    set_mode(0xe3, sr, crtc, gc, ac);
}

/* IBM BIOS mode 13h: 320x200, 256 colours, chain-4. */
static void set_mode_13h(void)
{
    static const uint8_t sr[5] = { 0x03, 0x01, 0x0f, 0x00, 0x0e };
    static const uint8_t crtc[25] = {
        0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x0e, 0x8f, 0x28, 0x40, 0x96,
        0xb9, 0xa3, 0xff };
    static const uint8_t gc[9] = { 0, 0, 0, 0, 0, 0x40, 0x05, 0x0f, 0xff };
    static const uint8_t ac[21] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 };
    set_mode(0x63, sr, crtc, gc, ac);
}

/* Planar access as the BIOS sets it up to load fonts: plane 2 only,
 * sequential addressing, 0xA0000 64K. */
static void planar_setup(void)
{
    seq(0x02, 0x0f);
    seq(0x04, 0x06);
    grc(0x05, 0x00);
    grc(0x06, 0x05);
    grc(0x00, 0x00);
    grc(0x01, 0x00);
    grc(0x03, 0x00);
    grc(0x08, 0xff);
}

/* Put bytes straight into the four planes at `off` through the map mask. */
static void poke_planes(uint32_t off, uint8_t p0, uint8_t p1, uint8_t p2,
                        uint8_t p3)
{
    const uint8_t v[4] = { p0, p1, p2, p3 };
    for (int p = 0; p < 4; p++) {
        seq(0x02, (uint8_t)(1 << p));
        wb(0xa0000 + off, v[p]);
    }
    seq(0x02, 0x0f);
}

static uint32_t *render(int *w, int *h)
{
    cr_assert_eq(vga_render(vga, NULL, w, h, 0), -ENOSPC);
    uint32_t *px = calloc((size_t)*w * *h, sizeof(*px));
    cr_assert_not_null(px);
    cr_assert_eq(vga_render(vga, px, w, h, (size_t)*w * *h), 0);
    return px;
}

/* ---- DAC ------------------------------------------------------------------ */

Test(vga, dac_write_read_autoincrement)
{
    outb(0x3c8, 5);
    cr_assert_eq(inb(0x3c7) & 3, 0, "DAC state after a write index: write");
    const uint8_t rgb[6] = { 1, 2, 3, 0x3f, 0x20, 0x10 };
    for (int i = 0; i < 6; i++)
        outb(0x3c9, rgb[i]);
    cr_assert_eq(inb(0x3c8), 7, "write index advanced past two entries");
    outb(0x3c7, 5);
    cr_assert_eq(inb(0x3c7) & 3, 3, "DAC state after a read index: read");
    for (int i = 0; i < 6; i++)
        cr_assert_eq(inb(0x3c9), rgb[i], "component %d", i);
    /* 6-bit DAC: the top two bits are dropped. */
    outb(0x3c8, 9);
    outb(0x3c9, 0xff);
    outb(0x3c9, 0x80);
    outb(0x3c9, 0x41);
    outb(0x3c7, 9);
    cr_assert_eq(inb(0x3c9), 0x3f);
    cr_assert_eq(inb(0x3c9), 0x00);
    cr_assert_eq(inb(0x3c9), 0x01);
    /* A new index restarts the R, G, B sequence. */
    outb(0x3c8, 20);
    outb(0x3c9, 0x11);
    outb(0x3c8, 21);
    outb(0x3c9, 0x0a);
    outb(0x3c9, 0x0b);
    outb(0x3c9, 0x0c);
    outb(0x3c7, 21);
    cr_assert_eq(inb(0x3c9), 0x0a);
    cr_assert_eq(inb(0x3c9), 0x0b);
    cr_assert_eq(inb(0x3c9), 0x0c);
    /* Wraps from 255 to 0. */
    outb(0x3c7, 255);
    for (int i = 0; i < 3; i++)
        inb(0x3c9);
    cr_assert_eq(inb(0x3c9), 0x00, "entry 0 red after the wrap");
    /* PEL mask. */
    outb(0x3c6, 0x0f);
    cr_assert_eq(inb(0x3c6), 0x0f);
}

/* ---- attribute controller --------------------------------------------------- */

Test(vga, attribute_flipflop_and_3da_reset)
{
    inb(0x3da);
    outb(0x3c0, 0x01);                  /* index 1, palette source 0 */
    outb(0x3c0, 0x15);                  /* data */
    cr_assert_eq(inb(0x3c0), 0x01, "0x3C0 reads the address register");
    cr_assert_eq(inb(0x3c1), 0x15);
    outb(0x3c0, 0x02);                  /* flip-flop back at index: index 2 */
    outb(0x3c0, 0x2a);
    cr_assert_eq(inb(0x3c0), 0x02);
    cr_assert_eq(inb(0x3c1), 0x2a);
    /* Leave the flip-flop at "data", then reset it by reading 0x3DA. */
    outb(0x3c0, 0x03);
    inb(0x3da);
    outb(0x3c0, 0x04);                  /* an index, not data for 3 */
    outb(0x3c0, 0x11);
    cr_assert_eq(inb(0x3c0), 0x04);
    cr_assert_eq(inb(0x3c1), 0x11);
    outb(0x3c0, 0x03);
    cr_assert_eq(inb(0x3c1), 0x03, "register 3 kept its reset value");
    /* Palette registers hold 6 bits. */
    att(0x05, 0xff);
    outb(0x3c0, 0x05);
    cr_assert_eq(inb(0x3c1), 0x3f);
    /* Mono status port is not decoded while the CRTC is at 0x3Dx. */
    cr_assert_eq(inb(0x3ba), 0xff);
}

/* ---- CRTC ------------------------------------------------------------------- */

Test(vga, crtc_protect_bit)
{
    /* After reset (mode 3) CR11 has the protect bit set. */
    cr_assert_eq(crt_read(0x11) & 0x80, 0x80);
    crt(0x00, 0x12);
    cr_assert_eq(crt_read(0x00), 0x5f, "CR00 protected");
    crt(0x06, 0x00);
    cr_assert_eq(crt_read(0x06), 0xbf, "CR06 protected");
    crt(0x07, 0x00);
    cr_assert_eq(crt_read(0x07), 0x0f, "only the line compare bit changes");
    crt(0x08, 0x05);
    cr_assert_eq(crt_read(0x08), 0x05, "CR08 is not protected");
    crt(0x11, 0x0e);
    crt(0x00, 0x12);
    cr_assert_eq(crt_read(0x00), 0x12);
    /* A word write to the index port sets index then data. */
    outw(0x3d4, 0x3301);
    cr_assert_eq(crt_read(0x01), 0x33);
    /* Misc bit 0 moves the CRTC to 0x3B4/0x3B5. */
    outb(0x3c2, 0x66);
    cr_assert_eq(inb(0x3cc), 0x66);
    outb(0x3b4, 0x01);
    cr_assert_eq(inb(0x3b5), 0x33);
    cr_assert_eq(inb(0x3d5), 0xff, "colour CRTC not decoded in mono mode");
}

/* ---- text mode -------------------------------------------------------------- */

Test(vga, text_odd_even_write_read_and_dump)
{
    const char *msg = "Hello, VGA";
    char buf[4096];
    size_t n;

    for (size_t i = 0; msg[i]; i++) {
        wb(0xb8000 + 2 * i, (uint8_t)msg[i]);
        wb(0xb8000 + 2 * i + 1, 0x1f);
    }
    /* A word store: character and attribute at once. */
    as_write(&mem, 0xb8000 + 2 * (24 * 80 + 79), 0x4e5a, 2);
    for (size_t i = 0; msg[i]; i++) {
        cr_assert_eq(rb(0xb8000 + 2 * i), (uint8_t)msg[i]);
        cr_assert_eq(rb(0xb8000 + 2 * i + 1), 0x1f);
        /* Odd/even: characters in plane 0, attributes in plane 1, both at
         * the even address. */
        cr_assert_eq(plane((uint32_t)(2 * i), 0), (uint8_t)msg[i]);
        cr_assert_eq(plane((uint32_t)(2 * i), 1), 0x1f);
        cr_assert_eq(plane((uint32_t)(2 * i), 2), 0x00);
    }
    cr_assert_eq(plane(2 * (24 * 80 + 79), 0), 'Z');
    cr_assert_eq(plane(2 * (24 * 80 + 79), 1), 0x4e);
    /* Outside the B8000 window nothing answers in mode 3. */
    cr_assert_eq(rb(0xa0000), 0xff);
    cr_assert_eq(rb(0xb0000), 0xff);

    n = vga_text_dump(vga, buf, sizeof(buf));
    cr_assert(vga_is_text_mode(vga));
    cr_assert_eq(n, strlen(buf));
    cr_assert(strncmp(buf, "Hello, VGA\n\n", 12) == 0, "dump: %.40s", buf);
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    cr_assert_eq(lines, 25);
    /* The last line ends with the Z in column 80. */
    cr_assert_eq(buf[n - 2], 'Z');
    cr_assert_eq(buf[n - 3], ' ');
    /* Non-printables become '.', character 0 a space. */
    wb(0xb8000 + 160, 0x01);
    wb(0xb8000 + 162, 'x');
    n = vga_text_dump(vga, buf, sizeof(buf));
    cr_assert(strncmp(buf, "Hello, VGA\n.x\n", 14) == 0, "dump: %.40s", buf);
    /* snprintf-like truncation. */
    char small[6];
    cr_assert_eq(vga_text_dump(vga, small, sizeof(small)), n);
    cr_assert_str_eq(small, "Hello");
}

Test(vga, text_dump_follows_crtc_geometry)
{
    char buf[8192];

    crt(0x11, 0x0e);
    /* 40 columns: horizontal display end 39, offset 20 words. */
    crt(0x01, 0x27);
    crt(0x13, 0x14);
    /* 8-line characters: 400 / 8 = 50 rows. */
    crt(0x09, 0x47);
    wb(0xb8000 + 2 * 40, 'B');          /* row 1, column 0 at 40 columns */
    wb(0xb8000 + 2 * 39, 'E');
    /* Start address 0 and rows of 40: row 49 begins at character 1960. */
    wb(0xb8000 + 2 * 1960, 'L');
    vga_text_dump(vga, buf, sizeof(buf));
    int lines = 0;
    char *line[64];
    line[0] = buf;
    for (char *p = buf; *p; p++)
        if (*p == '\n') {
            *p = 0;
            lines++;
            line[lines < 64 ? lines : 63] = p + 1;
        }
    cr_assert_eq(lines, 50);
    cr_assert_eq(strlen(line[0]), 40);
    cr_assert_eq(line[0][39], 'E');
    cr_assert_str_eq(line[1], "B");
    cr_assert_str_eq(line[49], "L");
    /* The start address scrolls the dump. */
    crt(0x0c, 0x00);
    crt(0x0d, 40);
    vga_text_dump(vga, buf, sizeof(buf));
    cr_assert(strncmp(buf, "B\n", 2) == 0);
    /* A graphics mode has no text. */
    grc(0x06, 0x05);
    cr_assert_eq(vga_text_dump(vga, buf, sizeof(buf)), 0);
    cr_assert_str_eq(buf, "");
}

Test(vga, text_render_font_cursor_attributes)
{
    int w, h;

    /* Load a glyph for 'A' into plane 2 (map 0) as the BIOS does. */
    planar_setup();
    seq(0x02, 0x04);
    seq(0x04, 0x07);
    grc(0x04, 0x02);
    grc(0x06, 0x04);
    wb(0xa0000 + 0x41 * 32 + 0, 0xff);  /* top line solid */
    wb(0xa0000 + 0x41 * 32 + 2, 0x81);  /* line 2: edges */
    wb(0xa0000 + 0xc4 * 32 + 5, 0xff);  /* a line-drawing character */
    cr_assert_eq(plane(0x41 * 32, 2), 0xff);
    cr_assert_eq(plane(0x41 * 32, 0), 0x00, "plane 0 untouched");
    /* Back to text mode 3. */
    seq(0x02, 0x03);
    seq(0x04, 0x02);
    grc(0x04, 0x00);
    grc(0x05, 0x10);
    grc(0x06, 0x0e);
    wb(0xb8000, 'A');
    wb(0xb8001, 0x1e);                  /* yellow on blue */
    wb(0xb8002, 0xc4);
    wb(0xb8003, 0x07);
    wb(0xb8004, ' ');
    wb(0xb8005, 0x9c);                  /* blink bit + light red on blue */
    crt(0x0e, 0x00);
    crt(0x0f, 0x03);                    /* cursor on the 4th cell */
    wb(0xb8007, 0x0a);                  /* its attribute: light green */

    uint32_t *px = render(&w, &h);
    cr_assert_eq(w, 720);
    cr_assert_eq(h, 400);
    const uint32_t yellow = 0xffff55, blue = 0x0000aa, grey = 0xaaaaaa;
    const uint32_t black = 0, lgreen = 0x55ff55;
    cr_assert_eq(px[0], yellow, "glyph line 0: %06x", px[0]);
    cr_assert_eq(px[7], yellow);
    cr_assert_eq(px[8], blue, "ninth dot of a letter: background");
    cr_assert_eq(px[720 * 1], blue, "glyph line 1 is empty");
    cr_assert_eq(px[720 * 2 + 0], yellow);
    cr_assert_eq(px[720 * 2 + 1], blue);
    cr_assert_eq(px[720 * 2 + 7], yellow);
    /* Line-drawing characters fill the ninth dot. */
    cr_assert_eq(px[720 * 5 + 9 + 8], grey);
    cr_assert_eq(px[720 * 5 + 9 + 0], grey);
    cr_assert_eq(px[720 * 4 + 9 + 8], black);
    /* Blink enabled: attribute bit 7 is not a bright background. */
    cr_assert_eq(px[720 * 0 + 18], blue);
    /* The cursor: CR0A/CR0B of mode 3 are lines 13-14. */
    cr_assert_eq(px[720 * 13 + 27], lgreen);
    cr_assert_eq(px[720 * 14 + 35], lgreen);
    cr_assert_eq(px[720 * 12 + 27], black);
    cr_assert_eq(px[720 * 15 + 27], black);
    /* Blink disabled: the same attribute gives a bright background. */
    att(0x10, 0x04);
    inb(0x3da);
    outb(0x3c0, 0x20);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[18], 0x5555ff, "bright blue background: %06x", px[18]);
    /* Cursor disabled. */
    crt(0x0a, 0x2d);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[720 * 13 + 27], black);
    /* Palette address source 0 blanks the screen. */
    inb(0x3da);
    outb(0x3c0, 0x00);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[0], black);
    free(px);
}

/* ---- planar access ------------------------------------------------------------ */

Test(vga, write_mode_0_set_reset_rotate_function_bitmask)
{
    planar_setup();
    /* Set/reset on all planes: 0101 -> planes 0 and 2 get 0xFF. */
    grc(0x00, 0x05);
    grc(0x01, 0x0f);
    wb(0xa0000, 0x00);
    cr_assert_eq(plane(0, 0), 0xff);
    cr_assert_eq(plane(0, 1), 0x00);
    cr_assert_eq(plane(0, 2), 0xff);
    cr_assert_eq(plane(0, 3), 0x00);
    /* Enable set/reset for plane 1 only: the others take the CPU byte. */
    grc(0x00, 0x02);
    grc(0x01, 0x02);
    wb(0xa0001, 0x5a);
    cr_assert_eq(plane(1, 0), 0x5a);
    cr_assert_eq(plane(1, 1), 0xff);
    cr_assert_eq(plane(1, 2), 0x5a);
    cr_assert_eq(plane(1, 3), 0x5a);
    /* Rotate right by 2: 1000 0001 -> 0110 0000. */
    grc(0x01, 0x00);
    grc(0x03, 0x02);
    wb(0xa0002, 0x81);
    for (int p = 0; p < 4; p++)
        cr_assert_eq(plane(2, (unsigned)p), 0x60);
    grc(0x03, 0x00);
    /* Bit mask keeps the latched bits: load latches from offset 1. */
    (void)rb(0xa0001);
    grc(0x08, 0x0f);
    wb(0xa0003, 0x33);
    cr_assert_eq(plane(3, 0), (0x33 & 0x0f) | (0x5a & 0xf0));
    cr_assert_eq(plane(3, 1), (0x33 & 0x0f) | (0xff & 0xf0));
    /* Logical functions against the latches (still offset 1's). */
    grc(0x08, 0xff);
    grc(0x03, 0x08);                    /* AND */
    wb(0xa0004, 0x0f);
    cr_assert_eq(plane(4, 0), 0x5a & 0x0f);
    cr_assert_eq(plane(4, 1), 0xff & 0x0f);
    grc(0x03, 0x10);                    /* OR */
    wb(0xa0005, 0x81);
    cr_assert_eq(plane(5, 2), 0x5a | 0x81);
    grc(0x03, 0x18);                    /* XOR */
    wb(0xa0006, 0xff);
    cr_assert_eq(plane(6, 3), 0x5a ^ 0xff);
    cr_assert_eq(plane(6, 1), 0x00);
    grc(0x03, 0x00);
    /* Map mask: only plane 1 is written. */
    seq(0x02, 0x02);
    wb(0xa0007, 0x77);
    cr_assert_eq(plane(7, 0), 0x00);
    cr_assert_eq(plane(7, 1), 0x77);
    cr_assert_eq(plane(7, 2), 0x00);
}

Test(vga, write_modes_1_2_3)
{
    planar_setup();
    poke_planes(0x10, 0x11, 0x22, 0x44, 0x88);
    /* Mode 1: a read loads the latches, a write stores them elsewhere. */
    grc(0x05, 0x01);
    (void)rb(0xa0010);
    wb(0xa0020, 0x00);
    cr_assert_eq(plane(0x20, 0), 0x11);
    cr_assert_eq(plane(0x20, 1), 0x22);
    cr_assert_eq(plane(0x20, 2), 0x44);
    cr_assert_eq(plane(0x20, 3), 0x88);
    /* Mode 2: the CPU's low nibble is a colour; bit mask 0xF0 keeps the
     * latches' low nibble (latches still from 0x10). */
    grc(0x05, 0x02);
    grc(0x08, 0xf0);
    wb(0xa0030, 0x09);                  /* planes 0 and 3 */
    cr_assert_eq(plane(0x30, 0), 0xf0 | (0x11 & 0x0f));
    cr_assert_eq(plane(0x30, 1), 0x00 | (0x22 & 0x0f));
    cr_assert_eq(plane(0x30, 2), 0x00 | (0x44 & 0x0f));
    cr_assert_eq(plane(0x30, 3), 0xf0 | (0x88 & 0x0f));
    /* Mode 3: set/reset is the colour, the rotated CPU byte ANDed with
     * the bit mask is the mask. */
    grc(0x05, 0x03);
    grc(0x00, 0x0c);                    /* planes 2 and 3 */
    grc(0x08, 0x3f);
    grc(0x03, 0x01);                    /* rotate 1: 0x78 -> 0x3c */
    wb(0xa0040, 0x78);
    cr_assert_eq(plane(0x40, 0), (0x00 & 0x3c) | (0x11 & ~0x3c));
    cr_assert_eq(plane(0x40, 1), (0x00 & 0x3c) | (0x22 & ~0x3c));
    cr_assert_eq(plane(0x40, 2), (0xff & 0x3c) | (0x44 & ~0x3c));
    cr_assert_eq(plane(0x40, 3), (0xff & 0x3c) | (0x88 & ~0x3c));
}

Test(vga, read_modes_0_and_1)
{
    planar_setup();
    poke_planes(0x100, 0xf0, 0xcc, 0xaa, 0x00);
    /* Mode 0: read map select picks the plane. */
    for (int p = 0; p < 4; p++) {
        grc(0x04, (uint8_t)p);
        const uint8_t want[4] = { 0xf0, 0xcc, 0xaa, 0x00 };
        cr_assert_eq(rb(0xa0100), want[p], "plane %d", p);
    }
    /* Mode 1: colour 0001 compared on all planes:
     * p0 & ~p1 & ~p2 & ~p3 = 0xF0 & 0x33 & 0x55 & 0xFF = 0x10. */
    grc(0x05, 0x08);
    grc(0x02, 0x01);
    grc(0x07, 0x0f);
    cr_assert_eq(rb(0xa0100), 0x10);
    /* Don't care on planes 1-3: only plane 0 == 1 matters. */
    grc(0x07, 0x01);
    cr_assert_eq(rb(0xa0100), 0xf0);
    /* Colour 0110 on planes 1 and 2: p1 & p2 = 0x88. */
    grc(0x02, 0x06);
    grc(0x07, 0x06);
    cr_assert_eq(rb(0xa0100), 0x88);
    /* No plane compared: everything matches. */
    grc(0x07, 0x00);
    cr_assert_eq(rb(0xa0100), 0xff);
}

Test(vga, odd_even_reads_and_memory_map_select)
{
    /* Mode 3: odd/even reads, B8000 32K. */
    wb(0xb8010, 'c');
    wb(0xb8011, 0x07);
    cr_assert_eq(rb(0xb8010), 'c');
    cr_assert_eq(rb(0xb8011), 0x07);
    /* Read map select bit 1 picks the plane pair 2/3. */
    grc(0x04, 0x02);
    cr_assert_eq(rb(0xb8010), 0x00);
    grc(0x04, 0x00);
    /* With map mask 0x0F an even byte goes to planes 0 and 2 (the font
     * plane: why the BIOS keeps the map mask at 0x03 in text modes). */
    seq(0x02, 0x0f);
    wb(0xb8020, 'd');
    cr_assert_eq(plane(0x20, 0), 'd');
    cr_assert_eq(plane(0x20, 2), 'd');
    cr_assert_eq(plane(0x20, 1), 0x00);
    seq(0x02, 0x03);
    /* B0000 32K. */
    grc(0x06, 0x0a);
    cr_assert_eq(rb(0xb0010), 'c');
    cr_assert_eq(rb(0xb8010), 0xff);
    /* A0000 128K reaches the same planes at B8000 + 0x18000. */
    grc(0x06, 0x02);
    cr_assert_eq(rb(0xa0010), 'c');
    cr_assert_eq(rb(0xb8010), plane(0x18010, 0));
    /* Misc output bit 1 (RAM enable) clear: the window does not decode. */
    outb(0x3c2, 0x65);
    cr_assert_eq(rb(0xa0010), 0xff);
    wb(0xa0010, 'x');
    outb(0x3c2, 0x67);
    cr_assert_eq(rb(0xa0010), 'c');
}

Test(vga, mode_13h_chain4_layout_and_render)
{
    int w, h;

    set_mode_13h();
    /* DAC entry 0x42 = (63, 0, 21). */
    outb(0x3c8, 0x42);
    outb(0x3c9, 63);
    outb(0x3c9, 0);
    outb(0x3c9, 21);
    /* Pixel (x, y) is byte y * 320 + x. */
    const unsigned x = 7, y = 3, off = y * 320 + x;
    wb(0xa0000 + off, 0x42);
    wb(0xa0000 + 0, 0x01);
    wb(0xa0000 + 1, 0x02);
    wb(0xa0000 + 4, 0x05);
    cr_assert_eq(rb(0xa0000 + off), 0x42);
    /* Chain-4: address bits 0-1 pick the plane, the plane address keeps
     * them cleared (every fourth byte of a plane is used). */
    cr_assert_eq(plane(off & ~3u, off & 3), 0x42);
    cr_assert_eq(plane(0, 0), 0x01);
    cr_assert_eq(plane(0, 1), 0x02);
    cr_assert_eq(plane(4, 0), 0x05);
    cr_assert_eq(plane(1, 0), 0x00);

    uint32_t *px = render(&w, &h);
    cr_assert_eq(w, 320);
    cr_assert_eq(h, 200);
    cr_assert_eq(px[y * 320 + x], 0xff0055, "pixel %06x", px[y * 320 + x]);
    cr_assert_eq(px[0], 0x0000aa, "DAC 1 left by reset: EGA blue");
    cr_assert_eq(px[1], 0x00aa00);
    cr_assert_eq(px[4], 0xaa0000 | 0x00aa, "DAC 5: magenta");
    /* The PEL mask applies to 256-colour pixels. */
    outb(0x3c6, 0x0f);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[y * 320 + x], 0x00aa00, "0x42 & 0x0F = 2: EGA green");
    free(px);
}

Test(vga, mode_12h_planar_render)
{
    int w, h;

    set_mode_12h();
    /* Pixel 0 of line 0 colour 9 (planes 0 and 3), pixel 9 of line 1
     * colour 14 via write mode 2. */
    grc(0x05, 0x02);
    grc(0x08, 0x80);
    (void)rb(0xa0000);
    wb(0xa0000, 0x09);
    grc(0x08, 0x40);
    (void)rb(0xa0000 + 80 + 1);
    wb(0xa0000 + 80 + 1, 0x0e);
    cr_assert_eq(plane(0, 0), 0x80);
    cr_assert_eq(plane(0, 3), 0x80);
    cr_assert_eq(plane(81, 1), 0x40);
    cr_assert_eq(plane(81, 2), 0x40);
    cr_assert_eq(plane(81, 3), 0x40);

    uint32_t *px = render(&w, &h);
    cr_assert_eq(w, 640);
    cr_assert_eq(h, 480);
    cr_assert_eq(px[0], 0x5555ff, "colour 9 -> AR 0x39 -> DAC 57: %06x", px[0]);
    cr_assert_eq(px[1], 0x000000);
    cr_assert_eq(px[640 + 9], 0xffff55, "colour 14 -> AR 0x3E: %06x", px[640 + 9]);
    /* Colour plane enable without plane 3: colour 9 becomes 1 (blue). */
    att(0x12, 0x07);
    inb(0x3da);
    outb(0x3c0, 0x20);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[0], 0x0000aa);
    /* Pixel panning by 1 moves pixel 9 of line 1 to x = 8. */
    att(0x12, 0x0f);
    att(0x13, 0x01);
    inb(0x3da);
    outb(0x3c0, 0x20);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[640 + 8], 0xffff55);
    free(px);
}

/* ---- VBE / dispi ----------------------------------------------------------- */

static void pci_map_bars(void)
{
    pci_bus_config_write(bus, VGA_PCI_DEVFN, PCI_BASE_ADDRESS_0, LFB_BASE, 4);
    pci_bus_config_write(bus, VGA_PCI_DEVFN, PCI_BASE_ADDRESS_0 + 8, MMIO_BASE, 4);
    pci_bus_config_write(bus, VGA_PCI_DEVFN, PCI_COMMAND,
                         PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
}

Test(vga, pci_header)
{
    cr_assert_eq(pci_bus_config_read(bus, VGA_PCI_DEVFN, PCI_VENDOR_ID, 2), 0x1234);
    cr_assert_eq(pci_bus_config_read(bus, VGA_PCI_DEVFN, PCI_DEVICE_ID, 2), 0x1111);
    cr_assert_eq(pci_bus_config_read(bus, VGA_PCI_DEVFN, PCI_CLASS_DEVICE, 2), 0x0300);
    cr_assert_eq(pci_bus_config_read(bus, VGA_PCI_DEVFN, PCI_REVISION_ID, 1), 2);
    /* BAR0 is a prefetchable 32-bit memory BAR of 16 MiB. */
    pci_bus_config_write(bus, VGA_PCI_DEVFN, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    cr_assert_eq(pci_bus_config_read(bus, VGA_PCI_DEVFN, PCI_BASE_ADDRESS_0, 4),
                 0xff000008);
    pci_bus_config_write(bus, VGA_PCI_DEVFN, PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
    cr_assert_eq(pci_bus_config_read(bus, VGA_PCI_DEVFN, PCI_BASE_ADDRESS_0 + 8, 4),
                 0xfffff000);
    /* No ROM without a ROM file. */
    pci_bus_config_write(bus, VGA_PCI_DEVFN, PCI_ROM_ADDRESS, 0xfffff800, 4);
    cr_assert_eq(pci_bus_config_read(bus, VGA_PCI_DEVFN, PCI_ROM_ADDRESS, 4), 0);
}

Test(vga, dispi_id_and_memory_size)
{
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_ID), VBE_DISPI_ID5);
    dispi_write(VBE_DISPI_INDEX_ID, VBE_DISPI_ID0);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_ID), VBE_DISPI_ID0);
    dispi_write(VBE_DISPI_INDEX_ID, 0x1234);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_ID), VBE_DISPI_ID0, "bad id ignored");
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
    /* GETCAPS: the mode registers read as the limits. */
    dispi_write(VBE_DISPI_INDEX_XRES, 800);
    dispi_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_XRES), VBE_DISPI_MAX_XRES);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_YRES), VBE_DISPI_MAX_YRES);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_BPP), 32);
    dispi_write(VBE_DISPI_INDEX_ENABLE, 0);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_XRES), 800);
    /* The data alias at 0x1D0. */
    outw(VBE_DISPI_IOPORT_INDEX, VBE_DISPI_INDEX_XRES);
    cr_assert_eq(inw(0x1d0), 800);
    /* Invalid depths are refused. */
    dispi_write(VBE_DISPI_INDEX_BPP, 16);
    dispi_write(VBE_DISPI_INDEX_BPP, 12);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_BPP), 16);
}

Test(vga, vbe_1024x768x32_lfb_render)
{
    int w, h;

    pci_map_bars();
    dispi_write(VBE_DISPI_INDEX_XRES, 1024);
    dispi_write(VBE_DISPI_INDEX_YRES, 768);
    dispi_write(VBE_DISPI_INDEX_BPP, 32);
    as_write(&mem, LFB_BASE + 16, 0xdeadbeef, 4);
    dispi_write(VBE_DISPI_INDEX_ENABLE,
                VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    cr_assert_eq(as_read(&mem, LFB_BASE + 16, 4), 0, "enable clears VRAM");
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_ENABLE), 0x41);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_VIRT_WIDTH), 1024);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_VIRT_HEIGHT), 4096);
    cr_assert_not(vga_is_text_mode(vga));
    cr_assert_eq(grc_read(0x06) & 0x0d, 0x05, "graphics, 0xA0000 64K window");

    /* The LFB is guest RAM: a plain store shows up at pixel (10, 20). */
    const Region *r = as_lookup(&mem, LFB_BASE);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, REGION_RAM);
    as_write(&mem, LFB_BASE + (20 * 1024 + 10) * 4, 0x00123456, 4);
    uint32_t *px = render(&w, &h);
    cr_assert_eq(w, 1024);
    cr_assert_eq(h, 768);
    cr_assert_eq(px[20 * 1024 + 10], 0x123456);
    cr_assert_eq(px[20 * 1024 + 11], 0);
    /* Panning with Y_OFFSET moves the picture up. */
    dispi_write(VBE_DISPI_INDEX_Y_OFFSET, 5);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[15 * 1024 + 10], 0x123456);
    /* A buffer too small is refused with the size reported. */
    cr_assert_eq(vga_render(vga, px, &w, &h, 100), -ENOSPC);
    cr_assert_eq(w, 1024);
    free(px);
    /* Disabling returns to the VGA picture. */
    dispi_write(VBE_DISPI_INDEX_ENABLE, 0);
    cr_assert_eq(vga_render(vga, NULL, &w, &h, 0), -ENOSPC);
    cr_assert_neq(w, 1024);
}

Test(vga, vbe_banked_window_and_pixel_formats)
{
    int w, h;

    dispi_write(VBE_DISPI_INDEX_XRES, 640);
    dispi_write(VBE_DISPI_INDEX_YRES, 480);
    dispi_write(VBE_DISPI_INDEX_BPP, 16);
    dispi_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    /* The window at 0xA0000 shows bank * 64 KiB of VRAM. */
    dispi_write(VBE_DISPI_INDEX_BANK, 1);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_BANK), 1);
    /* Pixel (0, 52) of a 1280-byte line is at 0x10400: bank 1 + 0x400. */
    as_write(&mem, 0xa0400, 0xf800, 2);        /* pure red in 5:6:5 */
    as_write(&mem, 0xa0402, 0x07e0, 2);        /* pure green */
    cr_assert_eq(vga->s.vram[0x10400], 0x00);
    cr_assert_eq(vga->s.vram[0x10401], 0xf8);
    cr_assert_eq(rb(0xa0401), 0xf8);
    cr_assert_eq(rb(0xb0000), 0xff, "only the 64K bank window decodes");
    /* An impossible bank reads back masked. */
    dispi_write(VBE_DISPI_INDEX_BANK, 0x1ff);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_BANK), 0xff);
    uint32_t *px = render(&w, &h);
    cr_assert_eq(w, 640);
    cr_assert_eq(h, 480);
    cr_assert_eq(px[52 * 640 + 0], 0xff0000);
    cr_assert_eq(px[52 * 640 + 1], 0x00ff00);
    /* 15 bpp: 0x7c00 is red. */
    dispi_write(VBE_DISPI_INDEX_ENABLE, 0);
    dispi_write(VBE_DISPI_INDEX_BPP, 15);
    dispi_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM);
    vga->s.vram[2] = 0x1f;                     /* pixel 1: blue */
    vga->s.vram[3] = 0x00;
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[1], 0x0000ff);
    /* 8 bpp with the 8-bit DAC. */
    dispi_write(VBE_DISPI_INDEX_ENABLE, 0);
    dispi_write(VBE_DISPI_INDEX_BPP, 8);
    dispi_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_8BIT_DAC);
    outb(0x3c8, 0x80);
    outb(0x3c9, 0x80);
    outb(0x3c9, 0x81);
    outb(0x3c9, 0xff);
    dispi_write(VBE_DISPI_INDEX_BANK, 0);
    wb(0xa0000 + 3, 0x80);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[3], 0x8081ff);
    /* 24 bpp: B, G, R. */
    dispi_write(VBE_DISPI_INDEX_ENABLE, 0);
    dispi_write(VBE_DISPI_INDEX_BPP, 24);
    dispi_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    wb(0xa0000 + 3, 0x01);
    wb(0xa0000 + 4, 0x02);
    wb(0xa0000 + 5, 0x03);
    cr_assert_eq(vga_render(vga, px, &w, &h, (size_t)w * h), 0);
    cr_assert_eq(px[1], 0x030201);
    free(px);
    /* A mode bigger than VRAM is refused. */
    dispi_write(VBE_DISPI_INDEX_ENABLE, 0);
    dispi_write(VBE_DISPI_INDEX_XRES, 4096);
    dispi_write(VBE_DISPI_INDEX_YRES, 4096);
    dispi_write(VBE_DISPI_INDEX_BPP, 32);
    dispi_write(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_ENABLE), 0);
}

Test(vga, bar2_mmio_ports_dispi_qext)
{
    pci_map_bars();
    cr_assert_eq(as_read(&mem, MMIO_BASE + VGA_MMIO_DISPI + 2 * VBE_DISPI_INDEX_ID, 2),
                 VBE_DISPI_ID5);
    as_write(&mem, MMIO_BASE + VGA_MMIO_DISPI + 2 * VBE_DISPI_INDEX_XRES, 1280, 2);
    cr_assert_eq(dispi_read(VBE_DISPI_INDEX_XRES), 1280);
    cr_assert_eq(as_read(&mem, MMIO_BASE + VGA_MMIO_DISPI + 2 * 0xa, 2), 256);
    /* Word write to 0x3C4 through MMIO: index then data. */
    as_write(&mem, MMIO_BASE + VGA_MMIO_PORTS + 4, 0x0702, 2);
    outb(0x3c4, 0x02);
    cr_assert_eq(inb(0x3c5), 0x07);
    cr_assert_eq(as_read(&mem, MMIO_BASE + VGA_MMIO_PORTS + 0xc, 1), 0x67,
                 "misc output read at 0x3CC");
    cr_assert_eq(as_read(&mem, MMIO_BASE + VGA_MMIO_QEXT, 4), 8);
    cr_assert_eq(as_read(&mem, MMIO_BASE + VGA_MMIO_QEXT + 4, 4),
                 VGA_QEXT_LITTLE_ENDIAN);
    as_write(&mem, MMIO_BASE + VGA_MMIO_QEXT + 4, VGA_QEXT_BIG_ENDIAN, 4);
    cr_assert_eq(as_read(&mem, MMIO_BASE + VGA_MMIO_QEXT + 4, 4),
                 VGA_QEXT_LITTLE_ENDIAN, "big-endian is not offered");
}

/* ---- retrace and virtual time ------------------------------------------------ */

Test(vga, retrace_follows_virtual_time)
{
    /* Mode 3: 900 dots at 28.322 MHz = 31777 ns a line, 449 lines, so a
     * 14.27 ms frame with vertical retrace on lines 412-413. */
    icount = 0;
    cr_assert_eq(inb(0x3da) & 0x09, 0x00, "top left: displaying");
    icount = 100 * 31777 + 31000;           /* right border of line 100 */
    cr_assert_eq(inb(0x3da) & 0x09, 0x01);
    icount = 405 * 31777;                   /* vertical blank, no retrace */
    cr_assert_eq(inb(0x3da) & 0x09, 0x01);
    icount = 412 * 31777 + 1000;
    cr_assert_eq(inb(0x3da) & 0x09, 0x09, "in vertical retrace");
    icount = 415 * 31777;
    cr_assert_eq(inb(0x3da) & 0x08, 0x00);
    /* The classic loop: wait for retrace to start then end, in 1 us steps. */
    int rising = 0, falling = 0, prev = inb(0x3da) & 8;
    for (icount = 0; icount < 50000000; icount += 1000) {
        int cur = inb(0x3da) & 8;
        rising += cur && !prev;
        falling += !cur && prev;
        prev = cur;
    }
    cr_assert(rising >= 3 && rising <= 4, "%d frames in 50 ms", rising);
    cr_assert(falling >= 3 && falling <= 4);
    /* A CRTC programmed with nonsense still gives a retrace. */
    crt(0x11, 0x00);
    crt(0x06, 0x00);
    crt(0x07, 0x00);
    rising = 0;
    prev = inb(0x3da) & 8;
    for (icount = 0; icount < 50000000; icount += 1000) {
        int cur = inb(0x3da) & 8;
        rising += cur && !prev;
        prev = cur;
    }
    cr_assert(rising >= 1);
}

/* ---- state ----------------------------------------------------------------- */

Test(vga, state_round_trip)
{
    StateBuf buf = { 0 };
    char err[256] = "";
    size_t pos = 0;

    pci_map_bars();
    set_mode_13h();
    wb(0xa0000 + 1234, 0x56);
    outb(0x3c8, 7);
    outb(0x3c9, 1);                         /* mid-colour: step 1 */
    inb(0x3da);
    outb(0x3c0, 0x31);                      /* flip-flop at data */
    dispi_write(VBE_DISPI_INDEX_XRES, 800);
    outw(VBE_DISPI_IOPORT_INDEX, VBE_DISPI_INDEX_YRES);
    (void)rb(0xa0000 + 1234);               /* latches */

    VgaState *copy = malloc(sizeof(VgaState));
    cr_assert_not_null(copy);
    memcpy(copy, &vga->s, sizeof(VgaState));
    uint64_t hash = state_hash(&vga_state_desc, &vga->s);
    cr_assert_eq(state_save(&vga_state_desc, &vga->s, &buf), 0);

    /* Disturb everything, including the BAR placement. */
    vga_reset(vga);
    memset(vga->s.vram, 0xaa, 4096);
    cr_assert_eq(pci_bar_address(&vga->pci, 0), PCI_BAR_UNMAPPED);
    cr_assert_neq(state_hash(&vga_state_desc, &vga->s), hash);

    cr_assert_eq(state_load(&vga_state_desc, &vga->s, vga, buf.data, buf.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(pos, buf.len);
    cr_assert_eq(state_diff(&vga_state_desc, copy, &vga->s, NULL), 0);
    cr_assert_eq(state_hash(&vga_state_desc, &vga->s), hash);
    cr_assert_eq(memcmp(copy, &vga->s, sizeof(VgaState)), 0);
    /* Mappings are back: the LFB and behaviour that depends on state. */
    cr_assert_eq(pci_bar_address(&vga->pci, 0), LFB_BASE);
    cr_assert_eq(as_read(&mem, LFB_BASE + (1234 & ~3u) * 4 + (1234 & 3), 1),
                 0x56);
    cr_assert_eq(rb(0xa0000 + 1234), 0x56);
    outb(0x3c9, 2);
    outb(0x3c9, 3);
    outb(0x3c7, 7);
    cr_assert_eq(inb(0x3c9), 1, "the half-written colour completed");
    cr_assert_eq(inb(0x3c9), 2);
    cr_assert_eq(inb(0x3c9), 3);
    outb(0x3c0, 0x2a);                      /* data for index 0x11 */
    outb(0x3c0, 0x31);
    cr_assert_eq(inb(0x3c1), 0x2a);
    cr_assert_eq(inw(VBE_DISPI_IOPORT_DATA), 0, "dispi index restored: YRES");

    /* A section post_load refuses (a DAC step out of range) changes
     * nothing. */
    pos = 0;
    StateBuf bad = { 0 };
    VgaState *tmp = malloc(sizeof(VgaState));
    cr_assert_not_null(tmp);
    memcpy(tmp, &vga->s, sizeof(VgaState));
    tmp->dac_step = 7;
    cr_assert_eq(state_save(&vga_state_desc, tmp, &bad), 0);
    memcpy(tmp, &vga->s, sizeof(VgaState));
    cr_assert_lt(state_load(&vga_state_desc, &vga->s, vga, bad.data, bad.len,
                            &pos, err, sizeof(err)), 0);
    cr_assert_eq(memcmp(tmp, &vga->s, sizeof(VgaState)), 0);
    statebuf_free(&bad);
    statebuf_free(&buf);
    free(tmp);
    free(copy);
}

/* ---- creation errors and the ROM ---------------------------------------------- */

Test(vga, missing_rom_is_a_clear_error)
{
    AddressSpace m2, i2;
    PciBus *b2;
    Vga *v2 = NULL;
    char err[256] = "";

    as_init(&m2, "memory", 0);
    as_init(&i2, "io", 1u << 16);
    cr_assert_eq(pci_bus_new(&m2, &i2, &b2), 0);
    int rc = vga_new(b2, &m2, &i2, &clk, "/nonexistent/vgabios.bin", &v2, err,
                     sizeof(err));
    cr_assert_eq(rc, -ENOENT);
    cr_assert_null(v2);
    cr_assert(strstr(err, "/nonexistent/vgabios.bin") != NULL, "%s", err);
    cr_assert(strchr(err, '\n') == NULL);
    /* Nothing stays mapped after a failure. */
    cr_assert_null(as_lookup(&m2, 0xa0000));
    cr_assert_null(as_lookup(&i2, 0x3c0));
    /* A file that is not an option ROM. */
    char path[] = "/tmp/vga-test-romXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "not a rom", 9), 9);
    close(fd);
    rc = vga_new(b2, &m2, &i2, &clk, path, &v2, err, sizeof(err));
    unlink(path);
    cr_assert_eq(rc, -EINVAL);
    cr_assert(strstr(err, path) != NULL, "%s", err);
    /* The ports of the fixture's VGA are taken in its own spaces only:
     * a second VGA on the same spaces is refused. */
    rc = vga_new(NULL, &mem, &io, &clk, NULL, &v2, err, sizeof(err));
    cr_assert_eq(rc, -EEXIST);
    cr_assert(strstr(err, "0xA0000") != NULL, "%s", err);
    pci_bus_free(b2);
    as_destroy(&i2);
    as_destroy(&m2);
}

Test(vga, stdvga_rom_in_the_rom_bar)
{
    AddressSpace m2, i2;
    PciBus *b2;
    Vga *v2 = NULL;
    char err[256] = "";

    if (access(STDVGA_ROM, R_OK) != 0)
        cr_skip_test("%s not installed", STDVGA_ROM);
    as_init(&m2, "memory", 0);
    as_init(&i2, "io", 1u << 16);
    cr_assert_eq(pci_bus_new(&m2, &i2, &b2), 0);
    cr_assert_eq(vga_new(b2, &m2, &i2, &clk, STDVGA_ROM, &v2, err, sizeof(err)),
                 0, "%s", err);
    /* The ROM BAR sizes as a power of two of at least the file. */
    pci_bus_config_write(b2, VGA_PCI_DEVFN, PCI_ROM_ADDRESS, 0xfffff800, 4);
    uint32_t mask = pci_bus_config_read(b2, VGA_PCI_DEVFN, PCI_ROM_ADDRESS, 4);
    cr_assert_eq(mask, 0xffff0000, "64 KiB ROM BAR: %08x", mask);
    pci_bus_config_write(b2, VGA_PCI_DEVFN, PCI_ROM_ADDRESS, ROM_BASE | 1, 4);
    pci_bus_config_write(b2, VGA_PCI_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    cr_assert_eq(as_read(&m2, ROM_BASE, 2), 0xaa55);
    /* The header's length byte (512-byte units) matches the file. */
    FILE *f = fopen(STDVGA_ROM, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fclose(f);
    cr_assert_eq(as_read(&m2, ROM_BASE + 2, 1) * 512, len);
    vga_free(v2);
    cr_assert_null(as_lookup(&m2, 0xa0000));
    pci_bus_free(b2);
    as_destroy(&i2);
    as_destroy(&m2);
}

/* The standard VGA with the Bochs VBE ("dispi") extension, presented as
 * QEMU's PCI "VGA" device (1234:1111, class 0300), which is what Debian's
 * vgabios-stdvga.bin drives.
 *
 * Sources: IBM "VGA Technical Reference" register descriptions as written
 * up in FreeVGA (sequencer, graphics controller, attribute controller,
 * CRTC, DAC, external registers; "VGA memory organization" and the
 * read/write-mode pipelines); the Bochs VBE dispi interface (ports 0x1CE
 * index / 0x1CF data, registers ID..VIDEO_MEMORY_64K); QEMU's
 * docs/specs/standard-vga.rst for the PCI side (BAR0 the framebuffer,
 * BAR2 a 4 KiB MMIO window with the VGA ports at 0x400, the dispi
 * registers at 0x500 and the "qext" registers at 0x600, revision 2, the
 * ROM BAR holding the VGA BIOS).
 *
 * What the guest sees:
 *  - I/O ports 0x3B0-0x3BB and 0x3C0-0x3DF (0x3BC-0x3BF belong to the
 *    parallel port); the CRTC and input status 1 answer at 0x3Bx or 0x3Dx
 *    as Misc Output bit 0 selects;
 *  - the legacy window 0xA0000-0xBFFFF, decoded as graphics register 6
 *    selects, through the planar pipeline (write modes 0-3, read modes 0-1,
 *    latches, chain-4 and odd/even addressing);
 *  - ports 0x1CE-0x1D1 (dispi index, data, data alias at 0x1D0);
 *  - with a PCI bus: BAR0 = the whole VRAM as a prefetchable RAM BAR (the
 *    linear framebuffer the guest writes directly), BAR2 = MMIO, and the
 *    expansion ROM.
 *
 * VRAM layout.  Byte `o` of plane `p` is vram[o * 4 + p], so the four
 * planes' bytes at one address sit together (a latch load is one 32-bit
 * neighbourhood) and the VBE modes use the same array as a packed linear
 * framebuffer.  As on the real chip, chain-4 uses CPU address bits 0-1 as
 * the plane and leaves them in the plane address (mode 13h uses every
 * fourth byte of each plane, and the CRTC's doubleword mode reads it back
 * that way), and odd/even uses bit 0 as the plane.
 */
#ifndef VIREO_HW_VGA_H
#define VIREO_HW_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/pci.h"
#include "machine/clock.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

/* QEMU's default 16 MiB: every SeaBIOS VBE mode up to 2560x1600x32 fits. */
#define VGA_VRAM_SIZE        (16u << 20)
/* One "plane" of the planar view of VRAM. */
#define VGA_PLANE_SIZE       (VGA_VRAM_SIZE / 4)

/* QEMU's pc board puts the VGA at 00:02.0; firmware and guests expect
 * nothing else, but nothing depends on it either. */
#define VGA_PCI_DEVFN        PCI_DEVFN(2, 0)
#define VGA_PCI_VENDOR       0x1234
#define VGA_PCI_DEVICE       0x1111
#define VGA_PCI_REVISION     2          /* 2: the qext registers exist */
#define VGA_PCI_CLASS        0x030000   /* display, VGA-compatible */
#define VGA_MMIO_SIZE        0x1000
#define VGA_MMIO_EDID        0x000
#define VGA_MMIO_PORTS       0x400      /* ports 0x3C0-0x3DF, 1:1 */
#define VGA_MMIO_DISPI       0x500      /* dispi register n at 0x500 + 2n */
#define VGA_MMIO_QEXT        0x600
#define VGA_QEXT_SIZE        8          /* bytes of qext registers */
#define VGA_QEXT_LITTLE_ENDIAN 0x1e1e1e1eu
#define VGA_QEXT_BIG_ENDIAN    0xbebebebeu

/* The legacy memory window. */
#define VGA_WINDOW_BASE      0xa0000
#define VGA_WINDOW_SIZE      0x20000

/* Bochs VBE dispi interface. */
#define VBE_DISPI_IOPORT_INDEX 0x1ce
#define VBE_DISPI_IOPORT_DATA  0x1cf   /* and an alias at 0x1d0 */
#define VBE_DISPI_INDEX_ID          0x0
#define VBE_DISPI_INDEX_XRES        0x1
#define VBE_DISPI_INDEX_YRES        0x2
#define VBE_DISPI_INDEX_BPP         0x3
#define VBE_DISPI_INDEX_ENABLE      0x4
#define VBE_DISPI_INDEX_BANK        0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH  0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET    0x8
#define VBE_DISPI_INDEX_Y_OFFSET    0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa   /* read-only, computed */
#define VBE_DISPI_NUM_REGS          0xa        /* stored registers */
#define VBE_DISPI_ID0               0xb0c0
#define VBE_DISPI_ID5               0xb0c5
#define VBE_DISPI_ENABLED           0x01
#define VBE_DISPI_GETCAPS           0x02
#define VBE_DISPI_8BIT_DAC          0x20
#define VBE_DISPI_LFB_ENABLED       0x40
#define VBE_DISPI_NOCLEARMEM        0x80
#define VBE_DISPI_MAX_XRES          16000
#define VBE_DISPI_MAX_YRES          12000
#define VBE_DISPI_MAX_BPP           32
/* Banks are 64 KiB windows into VRAM. */
#define VBE_DISPI_BANK_MASK         ((VGA_VRAM_SIZE >> 16) - 1)
/* 0x1CE-0x1D1: index, data, data alias (and its high byte). */
#define VGA_DISPI_PORTS             4

/* Register counts of each indexed group. */
#define VGA_SR_COUNT   5       /* sequencer 0-4 */
#define VGA_GR_COUNT   9       /* graphics controller 0-8 */
#define VGA_AR_COUNT   0x15    /* attribute controller 0x00-0x14 */
#define VGA_CR_COUNT   0x19    /* CRTC 0x00-0x18 */

/* Plain data (contract 3): every register the guest can observe, the
 * latches and flip-flops, the DAC, the dispi registers and the VRAM. */
typedef struct VgaState {
    PciDeviceState pci;
    uint8_t misc;                /* Misc Output (0x3C2 write, 0x3CC read) */
    uint8_t feature;             /* Feature Control (0x3xA write, 0x3CA) */
    uint8_t vga_enable;          /* Video Subsystem Enable (0x3C3) */
    uint8_t sr_index, sr[VGA_SR_COUNT];
    uint8_t gr_index, gr[VGA_GR_COUNT];
    uint8_t ar_index;            /* bits 0-4 index, bit 5 palette source */
    uint8_t ar_flipflop;         /* 1: the next 0x3C0 write is data */
    uint8_t ar[VGA_AR_COUNT];
    uint8_t cr_index, cr[VGA_CR_COUNT];
    uint8_t latch[4];
    uint8_t pel_mask;            /* 0x3C6 */
    uint8_t dac_state;           /* 0x3C7 read: 0 after 0x3C8, 3 after 0x3C7 */
    uint8_t dac_read_index, dac_write_index;
    uint8_t dac_step;            /* which of R, G, B comes next (0-2) */
    uint8_t dac_cache[3];        /* a colour being written */
    uint8_t dac[256 * 3];        /* R, G, B per entry */
    uint16_t vbe_index;
    uint16_t vbe[VBE_DISPI_NUM_REGS];
    uint32_t qext_byteorder;
    uint8_t vram[VGA_VRAM_SIZE];
} VgaState;

typedef struct Vga {
    VgaState s;
    /* Runtime links, not saved. */
    PciDevice pci;
    PciBus *bus;                 /* NULL: legacy (ISA-like) part only */
    AddressSpace *mem, *io;
    Clock *clock;
    uint8_t *rom;                /* the VGA BIOS, padded to a power of two */
    uint64_t rom_size;
    bool window_mapped, mono_mapped, color_mapped, dispi_mapped;
    bool pci_registered;
} Vga;

/* Create the VGA: map the ports and the legacy window, and, if `bus` is
 * not NULL, attach the PCI function at VGA_PCI_DEVFN with its BARs and,
 * if `rom_path` is not NULL, the expansion ROM read from that file
 * (without a bus there is no ROM BAR and rom_path is not read).
 * Returns 0, or -errno with a one-line reason naming what failed in
 * err[0..errlen) (-ENOENT and friends for an unreadable ROM, -EINVAL for
 * an empty or unsigned one, -EEXIST when ports or the window are taken). */
int vga_new(PciBus *bus, AddressSpace *mem, AddressSpace *io, Clock *clock,
            const char *rom_path, Vga **out, char *err, size_t errlen);
/* Unmap, detach from the bus, free.  NULL is ignored. */
void vga_free(Vga *v);
/* Registers to the values of BIOS mode 3 (80x25 colour text) with the
 * EGA colours in the DAC, dispi disabled, the PCI header to power-on.
 * VRAM is kept, as on the real card. */
void vga_reset(Vga *v);

/* Render the picture the card shows now as 0x00RRGGBB pixels, row-major,
 * *w by *h.  Text (font from plane 2, cursor shown, blinking off),
 * planar 16 colours, CGA 4 colours, 256 colours and the VBE modes
 * (4/8/15/16/24/32 bpp).  The size is the logical one: mode 13h is
 * 320x200, text is columns x 8 or 9 dots by rows x character height.
 * Returns 0, or -ENOSPC with *w and *h set and nothing drawn when
 * `pixels` is NULL or max_pixels is smaller than *w * *h. */
int vga_render(Vga *v, uint32_t *pixels, int *w, int *h, size_t max_pixels);

/* The text screen as ASCII lines ("\n" after each), trailing spaces
 * trimmed, character 0 shown as a space and other non-printables as '.'.
 * Columns are CRTC horizontal display end + 1, rows the vertical display
 * end divided by the character height.  Like snprintf: writes at most
 * len - 1 characters and a NUL, returns the full length.  In a graphics
 * or VBE mode the screen has no text and the result is "" (0). */
size_t vga_text_dump(Vga *v, char *buf, size_t len);

/* Whether the card shows text now (not a graphics or VBE mode). */
bool vga_is_text_mode(const Vga *v);

/* opaque for state_load is the Vga *. */
extern const StateDesc vga_state_desc;

/* ---- shared by hw/vga.c, hw/vga_vbe.c and hw/vga_render.c -------------- */

/* A VGA port 0x3B0-0x3DF as the CPU sees it (also BAR2's 0x400 window). */
uint8_t vga_port_read(Vga *v, unsigned port);
void vga_port_write(Vga *v, unsigned port, uint8_t val);
/* Dispi register `idx` (also BAR2's 0x500 window). */
uint16_t vga_vbe_read(Vga *v, unsigned idx);
void vga_vbe_write(Vga *v, unsigned idx, uint16_t val);
/* A packed dispi mode is on: 0xA0000-0xAFFFF is a plain window onto VRAM
 * at vga_vbe_bank_offset() (which 4 bpp adds to the planar address). */
bool vga_vbe_linear_window(const VgaState *s);
uint32_t vga_vbe_bank_offset(const VgaState *s);
extern const MemOps vga_dispi_ops;     /* at VBE_DISPI_IOPORT_INDEX */
extern const MemOps vga_mmio_ops;      /* BAR2 */

/* The dispi geometry in force, validated: bpp is 4, 8, 15, 16, 24 or 32,
 * the visible area and the start fit in VRAM. */
typedef struct VgaVbeMode {
    unsigned xres, yres, bpp;
    uint32_t stride;             /* bytes per line (per plane for 4 bpp) */
    uint32_t start;              /* byte offset of the visible origin */
} VgaVbeMode;

bool vga_vbe_enabled(const VgaState *s);
/* False when the dispi registers do not describe a usable mode. */
bool vga_vbe_mode(const VgaState *s, VgaVbeMode *m);
/* The CRTC memory address for character-clock counter `counter` on row
 * scan `rsc` (word/byte/doubleword modes, CGA bit 13/14 substitution). */
uint32_t vga_crtc_address(const VgaState *s, uint32_t counter, unsigned rsc);
/* Vertical display end + 1, in scanlines. */
unsigned vga_vdisp_lines(const VgaState *s);

#endif

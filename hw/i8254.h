/* Intel 8254 programmable interval timer at ports 0x40-0x43, and the PC's
 * system control port B (0x61), which holds channel 2's gate and shows its
 * output.
 *
 * Wiring, for the board:
 *   pit = i8254_new(io, &clock, irq_line(i8259_pair_set_irq, pic, 0));
 *   channel 0 OUT drives the IrqLine (IRQ0); channel 1 (DRAM refresh) has no
 *   output; channel 2's gate and OUT are port 0x61 bits 0 and 5;
 *   snapshots: state_save/state_load(&i8254_state_desc, &pit->s, pit).
 *
 * Time is counted in input clock edges (1.193182 MHz) since virtual time 0,
 * derived from clock_ns(); nothing ticks per count, a timer is armed only
 * for the next change of channel 0's OUT.
 */
#ifndef VIREO_HW_I8254_H
#define VIREO_HW_I8254_H

#include <stdint.h>

#include "machine/clock.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define I8254_HZ 1193182u

/* One counter.  While `running`, the counting element (CE) follows from
 * `n` and `load_tick` (the clock edge on which it was loaded) by the mode's
 * rule; otherwise it holds `ce_hold` and OUT holds `out_hold`.  Ticks are
 * input clock edges since virtual time 0. */
typedef struct I8254ChannelState {
    uint64_t load_tick;     /* edge on which CE was (or will be) loaded */
    uint64_t reload_tick;   /* modes 2/3: edge where `cr` replaces `n` */
    uint64_t pause_tick;    /* modes 0/4: gate low since this edge */
    uint64_t null_until;    /* status NULL COUNT reads 1 before this edge */
    uint32_t n;             /* count in effect, 1..65536 (or 10000 BCD) */
    uint32_t ce_hold;       /* CE while not running */
    uint16_t cr;            /* count register, as written */
    uint16_t ol;            /* output latch */
    uint8_t mode;           /* M2-M0 as written (6 and 7 act as 2 and 3) */
    uint8_t rw;             /* RW1-RW0: 1 LSB, 2 MSB, 3 LSB then MSB */
    uint8_t bcd;
    uint8_t gate;
    uint8_t wflip;          /* next count byte written is the MSB */
    uint8_t rflip;          /* next byte read is the MSB */
    uint8_t wlsb;           /* the LSB written, waiting for its MSB */
    uint8_t count_latched;
    uint8_t status_latched;
    uint8_t status;
    uint8_t have_count;     /* a count was written since the control word */
    uint8_t running;
    uint8_t out_hold;
    uint8_t phase;          /* mode 3: OUT level at load_tick */
    uint8_t reload_phase;   /* mode 3: OUT level at reload_tick */
} I8254ChannelState;

typedef struct I8254State {
    I8254ChannelState ch[3];
    uint64_t line_tick;     /* the IRQ line shows channel 0 as of this edge */
    uint8_t line_level;     /* level driven on the IRQ line */
    uint8_t port61;         /* port B bits 3-0 as written */
} I8254State;

typedef struct I8254 {
    I8254State s;
    IrqLine irq;            /* channel 0 OUT */
    Timer timer;            /* next change of channel 0 OUT */
    Clock *clock;
    AddressSpace *io;
} I8254;

extern const StateDesc i8254_state_desc;

/* Maps ports 0x40-0x43 and 0x61.  NULL if a port is taken or memory runs
 * out. */
I8254 *i8254_new(AddressSpace *io, Clock *clock, IrqLine irq0);
void i8254_free(I8254 *pit);
/* Counters unprogrammed (OUT low), gates 0 and 1 high, port B cleared. */
void i8254_reset(I8254 *pit);

/* A gate input (0..2); channel 2's is also port 0x61 bit 0. */
void i8254_set_gate(I8254 *pit, int channel, int level);

#endif

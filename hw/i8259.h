/* Intel 8259A programmable interrupt controller, and the cascaded pair the
 * PC wires from two of them (master at ports 0x20-0x21, slave at 0xA0-0xA1,
 * slave INT on master IR2).
 *
 * Wiring, for the board:
 *   pic = i8259_pair_new(io, irq_line(cpu_set_intr, cpu, 0));
 *   ISA devices get irq_line(i8259_pair_set_irq, pic, N), N = 0..15
 *     (N = 2 is the cascade and is ignored);
 *   the CPU's INTA calls i8259_pair_ack(pic) (i8259_pair_intack is the same
 *     with a void * argument, the shape of CpuIntrAck);
 *   the PIIX's ELCR registers (0x4D0/0x4D1) call i8259_pair_set_elcr();
 *   snapshots: state_save/state_load(&i8259_pair_state_desc, &pic->s, pic).
 */
#ifndef VIREO_HW_I8259_H
#define VIREO_HW_I8259_H

#include <stdint.h>

#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

/* One 8259A.  `irr` holds only edge-triggered requests (latched on a rising
 * edge); level-triggered requests are read straight from `lines`. */
typedef struct I8259ChipState {
    uint8_t irr;          /* latched edge requests */
    uint8_t isr;          /* in-service register */
    uint8_t imr;          /* interrupt mask register (OCW1) */
    uint8_t lines;        /* current level of each IR input */
    uint8_t elcr;         /* inputs that are level-triggered while LTIM = 0 */
    uint8_t icw1;         /* as written: LTIM, SNGL, IC4 */
    uint8_t icw3;         /* master: inputs with a slave; slave: its ID */
    uint8_t icw4;         /* as written: SFNM, BUF, M/S, AEOI, uPM */
    uint8_t vector_base;  /* ICW2 T7-T3 */
    uint8_t init_step;    /* next ICW expected (2, 3, 4), 0 when done */
    uint8_t lowest;       /* the IR with the lowest priority */
    uint8_t read_isr;     /* OCW3 RIS: A0=0 reads ISR (1) or IRR (0) */
    uint8_t poll;         /* OCW3 P: the next read is a poll */
    uint8_t special_mask; /* OCW3 special mask mode */
    uint8_t rotate_aeoi;  /* OCW2 rotate in automatic EOI mode */
} I8259ChipState;

typedef struct I8259PairState {
    I8259ChipState chip[2];   /* 0: master, 1: slave */
} I8259PairState;

typedef struct I8259Pair I8259Pair;

/* Per-chip port context: the region opaque of each chip's two ports. */
typedef struct I8259Port {
    I8259Pair *pair;
    int chip;
} I8259Port;

struct I8259Pair {
    I8259PairState s;
    IrqLine intr_out;         /* master INT: the CPU's INTR */
    AddressSpace *io;
    I8259Port port[2];
    int out_level;            /* level last driven on intr_out, -1: unknown */
};

extern const StateDesc i8259_pair_state_desc;

/* Maps ports 0x20-0x21 and 0xA0-0xA1.  NULL if the ports are taken or
 * memory runs out. */
I8259Pair *i8259_pair_new(AddressSpace *io, IrqLine intr_out);
/* Unmaps the ports and frees. */
void i8259_pair_free(I8259Pair *pair);
/* Both chips back to their power-on state (uninitialised, all unmasked);
 * input line levels are kept, they belong to the devices. */
void i8259_pair_reset(I8259Pair *pair);

/* An IrqHandler: `pair` is the I8259Pair, `irq` 0..15. */
void i8259_pair_set_irq(void *pair, int irq, int level);

/* The CPU's interrupt acknowledge: the vector to take.  With no request
 * left it returns the spurious vector (IR7 of the chip that was asked). */
int i8259_pair_ack(I8259Pair *pair);
int i8259_pair_intack(void *pair);

/* Edge/level control (PIIX ELCR1/ELCR2): bit N set makes IR N of `chip`
 * (0 master, 1 slave) level-triggered. */
void i8259_pair_set_elcr(I8259Pair *pair, int chip, uint8_t value);
uint8_t i8259_pair_get_elcr(const I8259Pair *pair, int chip);

#endif

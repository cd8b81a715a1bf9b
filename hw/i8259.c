/* Intel 8259A programmable interrupt controller (PIC) and the PC's cascaded
 * pair.
 *
 * Written from the Intel 8259A datasheet (order no. 231468): "Interrupt
 * Sequence" (8086 mode INTA), "Initialization Command Words" (ICW1-ICW4,
 * figure 6 flowchart), "Operation Command Words" (OCW1-OCW3), "Fully
 * Nested Mode", "End of Interrupt", "Automatic Rotation", "Specific
 * Rotation", "Special Mask Mode", "Poll Command", "Reading the 8259A
 * Status", "Edge and Level Triggered Modes", "The Special Fully Nested
 * Mode" and "Cascade Mode".  The edge/level control register per input is
 * the PIIX's ELCR (Intel 82371 PIIX3 datasheet, ELCR1/ELCR2), which this
 * file only stores; the PIIX owns its ports.
 *
 * Priorities are kept as "which IR is lowest" (`lowest`); the highest is
 * the one after it, modulo 8, so rotations are a single store.
 */
#include "hw/i8259.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/log.h"

#define ICW1_IC4   0x01
#define ICW1_SNGL  0x02
#define ICW1_LTIM  0x08
#define ICW1_INIT  0x10
#define ICW4_UPM   0x01
#define ICW4_AEOI  0x02
#define ICW4_SFNM  0x10
#define OCW3_RIS   0x01
#define OCW3_RR    0x02
#define OCW3_P     0x04
#define OCW3_SMM   0x20
#define OCW3_ESMM  0x40

#define CASCADE_IR 2   /* the PC wires the slave's INT to master IR2 */

static const char *const chip_name[2] = { "master", "slave" };

/* ---- one chip ------------------------------------------------------------ */

static bool chip_cascades(const I8259ChipState *c, int ir, bool master)
{
    return master && !(c->icw1 & ICW1_SNGL) && (c->icw3 & (1u << ir));
}

static uint8_t chip_level_mask(const I8259ChipState *c, bool master)
{
    /* LTIM makes every input level-triggered; otherwise the ELCR decides
     * per input (the PIIX ANDs its ELCR with the 8259's edge mode).  The
     * master's cascade input follows the slave's INT as a level: the slave
     * holds INT high exactly while it has a serviceable request, and an
     * edge latch there would lose a request still pending when the master
     * gets its EOI (a slave in AEOI mode with two requests, say). */
    uint8_t mask = (c->icw1 & ICW1_LTIM) ? 0xFF : c->elcr;
    if (chip_cascades(c, CASCADE_IR, master))
        mask |= 1u << CASCADE_IR;
    return mask;
}

/* The IRR as the datasheet defines it: edge latches, plus level inputs
 * that are high right now. */
static uint8_t chip_irr(const I8259ChipState *c, bool master)
{
    uint8_t level = chip_level_mask(c, master);
    return (uint8_t)((c->irr & ~level) | (c->lines & level));
}

/* The IR the priority resolver would hand the CPU now, or -1. */
static int chip_pending(const I8259ChipState *c, bool master)
{
    uint8_t req = chip_irr(c, master) & (uint8_t)~c->imr;

    if (!req || c->init_step)
        return -1;
    if (c->special_mask) {
        /* Special mask mode: every unmasked level may interrupt, lower as
         * well as higher, except one already in service. */
        req &= (uint8_t)~c->isr;
    }
    for (int p = 0; p < 8; p++) {
        int ir = (c->lowest + 1 + p) & 7;
        uint8_t bit = (uint8_t)(1u << ir);
        /* Special fully nested mode lets a slave interrupt again while its
         * cascade input is in service, so that its own higher priorities
         * can nest. */
        bool sfnm = (c->icw4 & ICW4_SFNM) && chip_cascades(c, ir, master);
        if (!c->special_mask && (c->isr & bit) && !sfnm)
            return -1;
        if (req & bit)
            return ir;
    }
    return -1;
}

/* The first INTA pulse (or a poll read): resolve and move IRR to ISR.
 * Returns the IR, or -1 when nothing is left to acknowledge. */
static int chip_ack(I8259ChipState *c, bool master)
{
    int ir = chip_pending(c, master);

    if (ir < 0)
        return -1;
    uint8_t bit = (uint8_t)(1u << ir);
    /* An edge request is consumed; a level request stays in the IRR as
     * long as its line is high. */
    c->irr &= (uint8_t)~bit;
    if (c->icw4 & ICW4_AEOI) {
        /* Automatic EOI happens at the end of the last INTA pulse. */
        if (c->rotate_aeoi)
            c->lowest = (uint8_t)ir;
    } else {
        c->isr |= bit;
    }
    return ir;
}

/* The highest-priority IR in service, or -1. */
static int chip_highest_isr(const I8259ChipState *c)
{
    for (int p = 0; p < 8; p++) {
        int ir = (c->lowest + 1 + p) & 7;
        if (c->isr & (1u << ir))
            return ir;
    }
    return -1;
}

static void chip_set_line(I8259ChipState *c, bool master, int ir, int level)
{
    uint8_t bit = (uint8_t)(1u << ir);

    if (level) {
        /* Edge sense: only a low-to-high transition latches a request. */
        if (!(c->lines & bit) && !(chip_level_mask(c, master) & bit))
            c->irr |= bit;
        c->lines |= bit;
    } else {
        c->lines &= (uint8_t)~bit;
    }
}

static void chip_reset(I8259ChipState *c)
{
    uint8_t lines = c->lines;

    *c = (I8259ChipState){ .lines = lines, .lowest = 7 };
}

static void chip_write_icw1(I8259ChipState *c, int idx, uint8_t v)
{
    /* ICW1 resets the edge sense latches (a line already high must go low
     * and high again), clears the IMR, makes IR7 lowest, clears special
     * mask mode, selects IRR for reading and, without IC4, zeroes ICW4. */
    c->icw1 = v;
    c->irr = 0;
    c->isr = 0;
    c->imr = 0;
    c->lowest = 7;
    c->special_mask = 0;
    c->read_isr = 0;
    c->poll = 0;
    c->rotate_aeoi = 0;
    c->icw4 = 0;
    c->init_step = 2;
    if (!(v & ICW1_IC4))
        LOG_LIMITED(LOG_GUEST_ERRORS, "i8259 %s: ICW1 %#04x without ICW4 "
                    "selects MCS-80/85 mode; using 8086 vectors\n",
                    chip_name[idx], v);
}

static void chip_write_icw(I8259ChipState *c, int idx, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        c->vector_base = v & 0xF8;
        if (!(c->icw1 & ICW1_SNGL))
            c->init_step = 3;
        else
            c->init_step = (c->icw1 & ICW1_IC4) ? 4 : 0;
        break;
    case 3:
        c->icw3 = v;
        if (idx == 0 && !(v & (1u << CASCADE_IR)))
            LOG_LIMITED(LOG_GUEST_ERRORS, "i8259 master: ICW3 %#04x has no "
                        "slave on IR2; the slave is unreachable\n", v);
        if (idx == 1 && (v & 7) != CASCADE_IR)
            LOG_LIMITED(LOG_GUEST_ERRORS, "i8259 slave: ICW3 ID %d, but it "
                        "is wired to master IR2\n", v & 7);
        c->init_step = (c->icw1 & ICW1_IC4) ? 4 : 0;
        break;
    case 4:
        c->icw4 = v;
        if (!(v & ICW4_UPM))
            LOG_LIMITED(LOG_GUEST_ERRORS, "i8259 %s: ICW4 %#04x selects "
                        "MCS-80/85 mode; using 8086 vectors\n",
                        chip_name[idx], v);
        c->init_step = 0;
        break;
    }
}

static void chip_write_ocw2(I8259ChipState *c, uint8_t v)
{
    int level = v & 7;
    int ir;

    switch (v >> 5) {
    case 0:     /* clear rotate in automatic EOI mode */
        c->rotate_aeoi = 0;
        break;
    case 4:     /* set rotate in automatic EOI mode */
        c->rotate_aeoi = 1;
        break;
    case 1:     /* non-specific EOI */
    case 5:     /* rotate on non-specific EOI */
        ir = chip_highest_isr(c);
        if (ir < 0)
            break;
        c->isr &= (uint8_t)~(1u << ir);
        if (v >> 5 == 5)
            c->lowest = (uint8_t)ir;
        break;
    case 3:     /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 7:     /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        c->lowest = (uint8_t)level;
        break;
    case 6:     /* set priority: `level` becomes the lowest */
        c->lowest = (uint8_t)level;
        break;
    case 2:     /* no operation */
        break;
    }
}

static void chip_write_ocw3(I8259ChipState *c, int idx, uint8_t v)
{
    if (v & 0x80)
        LOG_LIMITED(LOG_GUEST_ERRORS, "i8259 %s: OCW3 %#04x has D7 set\n",
                    chip_name[idx], v);
    if (v & OCW3_ESMM)
        c->special_mask = (v & OCW3_SMM) ? 1 : 0;
    if (v & OCW3_P)
        c->poll = 1;
    if (v & OCW3_RR)
        c->read_isr = (v & OCW3_RIS) ? 1 : 0;
}

/* ---- the pair ------------------------------------------------------------ */

/* Propagate the slave's INT to master IR2 and the master's INT to the CPU. */
static void pair_update(I8259Pair *p)
{
    I8259ChipState *m = &p->s.chip[0];
    int slave_int = chip_pending(&p->s.chip[1], false) >= 0;

    chip_set_line(m, true, CASCADE_IR, slave_int);
    int out = chip_pending(m, true) >= 0;
    if (out != p->out_level) {
        p->out_level = out;
        irq_set(&p->intr_out, out);
    }
}

void i8259_pair_set_irq(void *opaque, int irq, int level)
{
    I8259Pair *p = opaque;

    if (irq < 0 || irq > 15 || irq == CASCADE_IR) {
        /* IR2 of the master is the slave's INT; nothing else drives it. */
        LOG_LIMITED(LOG_UNIMP, "i8259: input %d is not wired\n", irq);
        return;
    }
    chip_set_line(&p->s.chip[irq >> 3], irq < 8, irq & 7, level);
    pair_update(p);
}

int i8259_pair_ack(I8259Pair *p)
{
    I8259ChipState *m = &p->s.chip[0], *s = &p->s.chip[1];
    int ir = chip_ack(m, true);
    int vector;

    if (ir < 0) {
        /* The request went away before INTA: the 8259A answers with IR7
         * and sets no ISR bit (a "spurious IRQ7"). */
        vector = m->vector_base | 7;
    } else if (ir == CASCADE_IR && chip_cascades(m, ir, true)) {
        /* The master puts the slave's ID on CAS0-2 and the slave drives
         * the vector; a slave with nothing left gives its IR7 (spurious
         * IRQ15) while the master's IR2 stays in service, as on a PC. */
        int sir = chip_ack(s, false);
        vector = s->vector_base | (sir < 0 ? 7 : sir);
    } else {
        vector = m->vector_base | ir;
    }
    pair_update(p);
    return vector;
}

int i8259_pair_intack(void *pair)
{
    return i8259_pair_ack(pair);
}

void i8259_pair_set_elcr(I8259Pair *p, int chip, uint8_t value)
{
    if (chip < 0 || chip > 1)
        return;
    I8259ChipState *c = &p->s.chip[chip];
    /* A level input keeps no edge latch; one switched to edge must see a
     * new rising edge, as after ICW1. */
    c->irr &= (uint8_t)~(c->elcr ^ value);
    c->elcr = value;
    pair_update(p);
}

uint8_t i8259_pair_get_elcr(const I8259Pair *p, int chip)
{
    return (chip == 0 || chip == 1) ? p->s.chip[chip].elcr : 0;
}

static uint64_t pic_port_read(void *opaque, uint64_t offset, unsigned size)
{
    I8259Port *port = opaque;
    I8259Pair *p = port->pair;
    I8259ChipState *c = &p->s.chip[port->chip];
    uint8_t v;

    if (c->poll) {
        /* The poll command turns the next read, at either address, into
         * an acknowledge: I (bit 7) and the level W2-W0. */
        c->poll = 0;
        int ir = chip_ack(c, port->chip == 0);
        v = ir < 0 ? 0 : (uint8_t)(0x80 | ir);
        pair_update(p);
    } else if (offset == 0) {
        v = c->read_isr ? c->isr : chip_irr(c, port->chip == 0);
    } else {
        v = c->imr;
    }
    return v;
}

static void pic_port_write(void *opaque, uint64_t offset, uint64_t value,
                           unsigned size)
{
    I8259Port *port = opaque;
    I8259Pair *p = port->pair;
    I8259ChipState *c = &p->s.chip[port->chip];
    uint8_t v = (uint8_t)value;

    if (offset == 0) {
        if (v & ICW1_INIT)
            chip_write_icw1(c, port->chip, v);
        else if (v & 0x08)
            chip_write_ocw3(c, port->chip, v);
        else
            chip_write_ocw2(c, v);
    } else if (c->init_step) {
        chip_write_icw(c, port->chip, v);
    } else {
        c->imr = v;   /* OCW1 */
    }
    pair_update(p);
}

static const MemOps pic_ops = {
    .read = pic_port_read,
    .write = pic_port_write,
    .max_access = 1,
};

/* ---- life cycle and state ------------------------------------------------ */

void i8259_pair_reset(I8259Pair *p)
{
    chip_reset(&p->s.chip[0]);
    chip_reset(&p->s.chip[1]);
    /* The board's reset also returns the PIIX's ELCR to 0; keep in step. */
    p->s.chip[0].elcr = p->s.chip[1].elcr = 0;
    pair_update(p);
}

I8259Pair *i8259_pair_new(AddressSpace *io, IrqLine intr_out)
{
    I8259Pair *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->io = io;
    p->intr_out = intr_out;
    p->out_level = -1;
    for (int i = 0; i < 2; i++)
        p->port[i] = (I8259Port){ p, i };
    if (as_map_io(io, "pic-master", 0x20, 2, &pic_ops, &p->port[0]) < 0)
        goto fail;
    if (as_map_io(io, "pic-slave", 0xA0, 2, &pic_ops, &p->port[1]) < 0) {
        as_unmap(io, 0x20);
        goto fail;
    }
    i8259_pair_reset(p);
    return p;
fail:
    free(p);
    return NULL;
}

void i8259_pair_free(I8259Pair *p)
{
    if (!p)
        return;
    as_unmap(p->io, 0x20);
    as_unmap(p->io, 0xA0);
    free(p);
}

static int i8259_post_load(void *state, void *opaque)
{
    I8259Pair *p = opaque;

    if (!p || state != &p->s)
        return -EINVAL;
    for (int i = 0; i < 2; i++) {
        const I8259ChipState *c = &p->s.chip[i];
        if (c->lowest > 7 || c->init_step == 1 || c->init_step > 4)
            return -EINVAL;
    }
    /* The receiver's state is saved on its own; drive it again so that
     * the line and the saved chip agree whatever it held before. */
    p->out_level = -1;
    pair_update(p);
    return 0;
}

static const StateField i8259_chip_fields[] = {
    STATE_U8(I8259ChipState, irr),
    STATE_U8(I8259ChipState, isr),
    STATE_U8(I8259ChipState, imr),
    STATE_U8(I8259ChipState, lines),
    STATE_U8(I8259ChipState, elcr),
    STATE_U8(I8259ChipState, icw1),
    STATE_U8(I8259ChipState, icw3),
    STATE_U8(I8259ChipState, icw4),
    STATE_U8(I8259ChipState, vector_base),
    STATE_U8(I8259ChipState, init_step),
    STATE_U8(I8259ChipState, lowest),
    STATE_U8(I8259ChipState, read_isr),
    STATE_U8(I8259ChipState, poll),
    STATE_U8(I8259ChipState, special_mask),
    STATE_U8(I8259ChipState, rotate_aeoi),
    STATE_END
};

static const StateDesc i8259_chip_desc = {
    .name = "i8259-chip", .version = 1, .size = sizeof(I8259ChipState),
    .fields = i8259_chip_fields,
};

static const StateField i8259_pair_fields[] = {
    STATE_STRUCT_ARRAY(I8259PairState, chip, i8259_chip_desc),
    STATE_END
};

const StateDesc i8259_pair_state_desc = {
    .name = "i8259", .version = 1, .size = sizeof(I8259PairState),
    .fields = i8259_pair_fields, .post_load = i8259_post_load,
};

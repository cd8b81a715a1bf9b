/* Unit tests for hw/i8259.c: the 8259A pair, driven through ports 0x20-0x21
 * and 0xA0-0xA1 only (plus the input lines, the INTA and the ELCR, which
 * are the chip's pins).
 *
 * Expected vectors and register values come from the 8259A datasheet's
 * rules, worked out by hand in the comments, not from the code.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "hw/i8259.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

/* The CPU's INTR pin. */
typedef struct Pin {
    int level;
    int rises;
    int calls;
} Pin;

static void pin_set(void *opaque, int n, int level)
{
    Pin *p = opaque;

    p->calls++;
    if (level && !p->level)
        p->rises++;
    p->level = level;
}

static AddressSpace io;
static I8259Pair *pic;
static Pin intr;

static void setup(void)
{
    as_init(&io, "io", 1 << 16);
    intr = (Pin){0};
    pic = i8259_pair_new(&io, irq_line(pin_set, &intr, 0));
    cr_assert_not_null(pic);
}

static void teardown(void)
{
    i8259_pair_free(pic);
    as_destroy(&io);
}

static void outb(uint16_t port, uint8_t v)
{
    as_write(&io, port, v, 1);
}

static uint8_t inb(uint16_t port)
{
    return (uint8_t)as_read(&io, port, 1);
}

static void irq(int n, int level)
{
    i8259_pair_set_irq(pic, n, level);
}

static void pulse(int n)
{
    irq(n, 1);
    irq(n, 0);
}

/* The sequence SeaBIOS and Linux use: ICW1 = 0x11 (edge, cascade, ICW4
 * needed), ICW2 = vector base, ICW3 = 0x04 on the master (slave on IR2)
 * and 0x02 on the slave (its ID), ICW4 = `icw4` (0x01: 8086 mode). */
static void init_pair(uint8_t master_base, uint8_t slave_base, uint8_t icw4)
{
    outb(0x20, 0x11);
    outb(0x21, master_base);
    outb(0x21, 0x04);
    outb(0x21, icw4);
    outb(0xA0, 0x11);
    outb(0xA1, slave_base);
    outb(0xA1, 0x02);
    outb(0xA1, icw4);
    outb(0x21, 0x00);
    outb(0xA1, 0x00);
}

static uint8_t read_isr(uint16_t base)
{
    outb(base, 0x0B);       /* OCW3: read ISR */
    return inb(base);
}

static uint8_t read_irr(uint16_t base)
{
    outb(base, 0x0A);       /* OCW3: read IRR */
    return inb(base);
}

static int ack(void)
{
    return i8259_pair_ack(pic);
}

TestSuite(i8259, .init = setup, .fini = teardown);

/* ---- initialisation ------------------------------------------------------ */

Test(i8259, seabios_bases_irq0_and_irq8)
{
    init_pair(0x08, 0x70, 0x01);
    cr_assert_eq(intr.level, 0);

    irq(0, 1);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x08);
    /* IRQ0 is now in service and nothing else is requested. */
    cr_assert_eq(intr.level, 0);
    cr_assert_eq(read_isr(0x20), 0x01);
    outb(0x20, 0x20);       /* non-specific EOI */
    cr_assert_eq(read_isr(0x20), 0x00);
    irq(0, 0);

    /* IRQ8 (RTC): slave IR0, vector 0x70; master IR2 in service too. */
    irq(8, 1);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x70);
    cr_assert_eq(read_isr(0x20), 0x04);
    cr_assert_eq(read_isr(0xA0), 0x01);
}

Test(i8259, linux_bases_and_imr_readback)
{
    init_pair(0x20, 0x28, 0x01);
    outb(0x21, 0xFB);       /* Linux masks all but the cascade */
    outb(0xA1, 0xFF);
    cr_assert_eq(inb(0x21), 0xFB);
    cr_assert_eq(inb(0xA1), 0xFF);

    outb(0x21, 0xF9);       /* unmask IRQ1 */
    pulse(1);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x21);

    outb(0xA1, 0xFE);       /* unmask IRQ8 */
    pulse(8);
    /* IRQ1 in service has higher priority than IR2, so IRQ8 waits. */
    cr_assert_eq(intr.level, 0);
    outb(0x20, 0x20);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x28);
}

Test(i8259, icw1_resets_mask_and_service)
{
    init_pair(0x08, 0x70, 0x01);
    outb(0x21, 0x55);
    pulse(3);
    cr_assert_eq(ack(), 0x0B);
    cr_assert_eq(read_isr(0x20), 0x08);
    outb(0x20, 0x11);       /* ICW1 again */
    outb(0x21, 0x40);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    /* ICW1 cleared the IMR and selected the IRR for reading. */
    cr_assert_eq(inb(0x21), 0x00);
    cr_assert_eq(inb(0x20), 0x00);
    cr_assert_eq(read_isr(0x20), 0x00);
    pulse(3);
    cr_assert_eq(ack(), 0x43);
}

Test(i8259, no_interrupt_during_initialisation)
{
    init_pair(0x08, 0x70, 0x01);
    outb(0x20, 0x11);
    pulse(5);
    cr_assert_eq(intr.level, 0);    /* half-initialised: no vector yet */
    outb(0x21, 0x50);
    outb(0x21, 0x04);
    cr_assert_eq(intr.level, 0);
    outb(0x21, 0x01);
    /* The pulse came after ICW1 reset the edge latches, so it was latched
     * and shows once initialisation completes. */
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x55);
}

/* ---- masking and priority ------------------------------------------------ */

Test(i8259, mask_holds_request_in_irr)
{
    init_pair(0x08, 0x70, 0x01);
    outb(0x21, 0x08);       /* mask IRQ3 */
    pulse(3);
    cr_assert_eq(intr.level, 0);
    cr_assert_eq(read_irr(0x20), 0x08);
    outb(0x21, 0x00);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x0B);
    cr_assert_eq(read_irr(0x20), 0x00);
}

Test(i8259, fully_nested_priority)
{
    init_pair(0x08, 0x70, 0x01);
    pulse(5);
    pulse(3);
    cr_assert_eq(ack(), 0x0B);          /* IR3 beats IR5 */
    cr_assert_eq(intr.level, 0);        /* IR5 is lower than IR3 */
    pulse(1);
    cr_assert_eq(intr.level, 1);        /* IR1 may nest */
    cr_assert_eq(ack(), 0x09);
    cr_assert_eq(read_isr(0x20), 0x0A);
    outb(0x20, 0x20);                   /* clears IR1, the highest */
    cr_assert_eq(read_isr(0x20), 0x08);
    cr_assert_eq(intr.level, 0);
    outb(0x20, 0x20);                   /* clears IR3 */
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x0D);
}

Test(i8259, specific_eoi)
{
    init_pair(0x08, 0x70, 0x01);
    pulse(3);
    cr_assert_eq(ack(), 0x0B);
    pulse(1);
    cr_assert_eq(ack(), 0x09);
    outb(0x20, 0x63);                   /* specific EOI, level 3 */
    cr_assert_eq(read_isr(0x20), 0x02);
    outb(0x20, 0x61);
    cr_assert_eq(read_isr(0x20), 0x00);
}

Test(i8259, slave_lower_than_master_ir1)
{
    init_pair(0x08, 0x70, 0x01);
    pulse(12);
    pulse(1);
    /* IR1 beats IR2 (the cascade) on the master. */
    cr_assert_eq(ack(), 0x09);
    outb(0x20, 0x20);
    cr_assert_eq(ack(), 0x74);
    cr_assert_eq(read_isr(0xA0), 0x10);
    cr_assert_eq(read_isr(0x20), 0x04);
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    cr_assert_eq(read_isr(0xA0), 0x00);
    cr_assert_eq(read_isr(0x20), 0x00);
    cr_assert_eq(intr.level, 0);
}

Test(i8259, slave_priority_and_pending_after_eoi)
{
    init_pair(0x08, 0x70, 0x01);
    pulse(14);
    pulse(9);
    cr_assert_eq(ack(), 0x71);          /* IR1 of the slave first */
    outb(0xA0, 0x20);
    cr_assert_eq(intr.level, 0);        /* master IR2 still in service */
    outb(0x20, 0x20);
    cr_assert_eq(intr.level, 1);        /* IRQ14 is still pending */
    cr_assert_eq(ack(), 0x76);
}

Test(i8259, rotate_on_nonspecific_eoi)
{
    init_pair(0x08, 0x70, 0x01);
    pulse(0);
    cr_assert_eq(ack(), 0x08);
    outb(0x20, 0xA0);       /* rotate on non-specific EOI: IR0 lowest */
    pulse(0);
    pulse(7);
    /* Priorities are now 1,2,...,7,0: IR7 beats IR0. */
    cr_assert_eq(ack(), 0x0F);
    outb(0x20, 0xA0);       /* IR7 lowest: order 0,1,...,7 again */
    pulse(6);
    cr_assert_eq(ack(), 0x08);
}

Test(i8259, set_priority_and_rotate_on_specific_eoi)
{
    init_pair(0x08, 0x70, 0x01);
    outb(0x20, 0xC4);       /* set priority: IR4 lowest, IR5 highest */
    pulse(3);
    pulse(5);
    cr_assert_eq(ack(), 0x0D);
    cr_assert_eq(intr.level, 0);        /* IR3 now ranks below IR5 */
    outb(0x20, 0xE5);       /* rotate on specific EOI 5: IR5 lowest */
    cr_assert_eq(ack(), 0x0B);
    pulse(5);
    pulse(7);
    outb(0x20, 0x63);
    /* Order 6,7,0,...,5: IR7 beats IR5. */
    cr_assert_eq(ack(), 0x0F);
}

Test(i8259, auto_eoi)
{
    init_pair(0x08, 0x70, 0x03);        /* ICW4: 8086, AEOI */
    pulse(2 + 1);
    cr_assert_eq(ack(), 0x0B);
    cr_assert_eq(read_isr(0x20), 0x00); /* no ISR bit in AEOI mode */
    pulse(6);
    cr_assert_eq(intr.level, 1);        /* not blocked by IR3 */
    cr_assert_eq(ack(), 0x0E);
    /* Through the cascade, both chips end the interrupt on their own. */
    pulse(11);
    cr_assert_eq(ack(), 0x73);
    cr_assert_eq(read_isr(0x20), 0x00);
    cr_assert_eq(read_isr(0xA0), 0x00);
}

Test(i8259, rotate_in_auto_eoi)
{
    init_pair(0x08, 0x70, 0x03);
    outb(0x20, 0x80);       /* set rotate in AEOI mode */
    pulse(1);
    cr_assert_eq(ack(), 0x09);          /* IR1 becomes lowest */
    pulse(1);
    pulse(4);
    cr_assert_eq(ack(), 0x0C);
    cr_assert_eq(ack(), 0x09);          /* IR4 lowest now, IR1 above */
    outb(0x20, 0x00);       /* clear rotate in AEOI mode */
    pulse(6);
    pulse(5);
    cr_assert_eq(ack(), 0x0D);          /* 5 beats 6: no rotation */
    pulse(5);
    cr_assert_eq(ack(), 0x0D);
    cr_assert_eq(ack(), 0x0E);
}

Test(i8259, special_mask_mode)
{
    init_pair(0x08, 0x70, 0x01);
    pulse(3);
    cr_assert_eq(ack(), 0x0B);
    pulse(5);
    cr_assert_eq(intr.level, 0);        /* blocked by IR3 in service */
    outb(0x21, 0x08);                   /* mask IR3 ... */
    outb(0x20, 0x68);                   /* ... and enter special mask mode */
    cr_assert_eq(intr.level, 1);        /* lower IR5 now gets through */
    cr_assert_eq(ack(), 0x0D);
    cr_assert_eq(read_isr(0x20), 0x28);
    outb(0x20, 0x65);
    outb(0x20, 0x48);                   /* leave special mask mode */
    outb(0x21, 0x00);
    pulse(6);
    cr_assert_eq(intr.level, 0);        /* IR3 still in service */
}

/* ---- trigger modes ------------------------------------------------------- */

Test(i8259, edge_latches_until_acknowledged)
{
    init_pair(0x08, 0x70, 0x01);
    pulse(4);
    cr_assert_eq(intr.level, 1);        /* latched although the line fell */
    cr_assert_eq(ack(), 0x0C);
    outb(0x20, 0x20);
    cr_assert_eq(intr.level, 0);
    irq(4, 1);
    cr_assert_eq(ack(), 0x0C);
    outb(0x20, 0x20);
    /* Still high, but no new edge: no new request. */
    cr_assert_eq(intr.level, 0);
    irq(4, 1);
    cr_assert_eq(intr.level, 0);
    irq(4, 0);
    irq(4, 1);
    cr_assert_eq(intr.level, 1);
}

Test(i8259, level_follows_line_with_elcr)
{
    init_pair(0x20, 0x28, 0x01);
    i8259_pair_set_elcr(pic, 1, 0x08);  /* IRQ11 level-triggered */
    cr_assert_eq(i8259_pair_get_elcr(pic, 1), 0x08);
    irq(11, 1);
    cr_assert_eq(ack(), 0x2B);
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    /* The line is still high: the request comes back after EOI. */
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(read_irr(0xA0), 0x08);
    irq(11, 0);
    /* Dropped before INTA: withdrawn, nothing latched. */
    cr_assert_eq(intr.level, 0);
    cr_assert_eq(read_irr(0xA0), 0x00);
}

Test(i8259, ltim_makes_all_inputs_level)
{
    outb(0x20, 0x19);                   /* ICW1 with LTIM */
    outb(0x21, 0x08);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    pulse(6);
    cr_assert_eq(intr.level, 0);        /* a pulse leaves nothing behind */
    irq(6, 1);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x0E);
}

Test(i8259, spurious_irq7)
{
    init_pair(0x08, 0x70, 0x01);
    i8259_pair_set_elcr(pic, 0, 0x10);
    irq(4, 1);
    cr_assert_eq(intr.level, 1);
    irq(4, 0);                          /* gone before the INTA */
    cr_assert_eq(ack(), 0x0F);
    cr_assert_eq(read_isr(0x20), 0x00); /* no ISR bit for a spurious IRQ7 */

    /* The same from the slave side: the master sees IR2 go away too. */
    i8259_pair_set_elcr(pic, 1, 0x10);
    irq(12, 1);
    irq(12, 0);
    cr_assert_eq(ack(), 0x0F);
    cr_assert_eq(read_isr(0xA0), 0x00);
}

/* ---- poll command and register reads ------------------------------------- */

Test(i8259, poll_command)
{
    init_pair(0x08, 0x70, 0x01);
    outb(0x20, 0x0C);                   /* OCW3: poll */
    cr_assert_eq(inb(0x20), 0x00);      /* nothing pending */
    pulse(6);
    pulse(5);
    outb(0x20, 0x0C);
    cr_assert_eq(inb(0x21), 0x85);      /* either address; I + level 5 */
    cr_assert_eq(read_isr(0x20), 0x20); /* the poll acknowledged it */
    outb(0x20, 0x20);
    outb(0x20, 0x0C);
    cr_assert_eq(inb(0x20), 0x86);
    /* After the poll read, reads are normal again (ISR still chosen). */
    cr_assert_eq(inb(0x20), 0x40);
    /* Polling a slave request: the master reports IR2, then the slave. */
    outb(0x20, 0x20);
    pulse(13);
    outb(0x20, 0x0C);
    cr_assert_eq(inb(0x20), 0x82);
    outb(0xA0, 0x0C);
    cr_assert_eq(inb(0xA0), 0x85);
}

Test(i8259, read_register_selection_persists)
{
    init_pair(0x08, 0x70, 0x01);
    outb(0x21, 0x02);
    pulse(1);
    pulse(3);
    cr_assert_eq(ack(), 0x0B);
    outb(0x20, 0x0A);
    cr_assert_eq(inb(0x20), 0x02);      /* IRR: IR1 (masked) */
    cr_assert_eq(inb(0x20), 0x02);
    outb(0x20, 0x0B);
    cr_assert_eq(inb(0x20), 0x08);      /* ISR: IR3 */
    outb(0x20, 0x08);                   /* OCW3 with RR = 0: no change */
    cr_assert_eq(inb(0x20), 0x08);
    cr_assert_eq(inb(0x21), 0x02);      /* A0 = 1 always reads the IMR */
}

/* ---- robustness ------------------------------------------------------------ */

Test(i8259, misprogramming_is_survived)
{
    outb(0x20, 0x10);                   /* ICW1 without IC4 (MCS-80) */
    outb(0x21, 0x08);
    outb(0x21, 0x00);                   /* ICW3 without a slave on IR2 */
    outb(0x20, 0x88);                   /* OCW3 with D7 set */
    outb(0xA0, 0x11);
    outb(0xA1, 0x70);
    outb(0xA1, 0x07);                   /* wrong slave ID */
    outb(0xA1, 0x00);                   /* ICW4 in MCS-80 mode */
    irq(2, 1);                          /* the cascade input: not wired */
    irq(99, 1);
    irq(-1, 1);
    i8259_pair_set_elcr(pic, 5, 0xFF);
    cr_assert_eq(intr.level, 0);
    pulse(1);
    cr_assert_eq(ack(), 0x09);
    /* The master has no cascade (ICW3 = 0): the slave's INT is an
     * ordinary edge on IR2 and the master supplies the vector itself. */
    pulse(9);
    cr_assert_eq(intr.level, 0);        /* below IR1 in service */
    outb(0x20, 0x20);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(ack(), 0x0A);
}

Test(i8259, reset_returns_to_power_on)
{
    init_pair(0x08, 0x70, 0x01);
    i8259_pair_set_elcr(pic, 0, 0x20);
    irq(5, 1);
    cr_assert_eq(intr.level, 1);
    i8259_pair_reset(pic);
    cr_assert_eq(intr.level, 0);
    cr_assert_eq(i8259_pair_get_elcr(pic, 0), 0);
    cr_assert_eq(inb(0x21), 0x00);
}

/* ---- state ----------------------------------------------------------------- */

Test(i8259, save_load_round_trip)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;
    int seq1[6], seq2[6];

    init_pair(0x20, 0x28, 0x01);
    i8259_pair_set_elcr(pic, 1, 0x08);
    outb(0x21, 0x10);
    pulse(3);
    pulse(4);
    irq(11, 1);
    pulse(9);
    /* Master: IR2 (slave INT) beats IR3; slave: IR1 beats IR3. */
    cr_assert_eq(ack(), 0x29);
    outb(0x20, 0x0B);                   /* leave ISR selected for reads */
    cr_assert_eq(state_save(&i8259_pair_state_desc, &pic->s, &buf), 0);

    /* What happens from here on ... */
    seq1[0] = ack();                    /* all blocked by IR2: spurious */
    outb(0x20, 0x20);
    seq1[1] = ack();                    /* IRQ3 */
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    seq1[2] = ack();                    /* IRQ11, level */
    seq1[3] = inb(0xA0);
    outb(0x21, 0x00);
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    seq1[4] = ack();
    seq1[5] = intr.level;

    /* ... scramble the chips, load, and do it again. */
    init_pair(0x50, 0x58, 0x03);
    i8259_pair_set_elcr(pic, 1, 0);
    pulse(1);
    cr_assert_eq(intr.level, 1);
    cr_assert_eq(state_load(&i8259_pair_state_desc, &pic->s, pic, buf.data,
                            buf.len, &pos, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(intr.level, 0, "post_load drives INTR again");
    seq2[0] = ack();
    outb(0x20, 0x20);
    seq2[1] = ack();
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    seq2[2] = ack();
    seq2[3] = inb(0xA0);
    outb(0x21, 0x00);
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    seq2[4] = ack();
    seq2[5] = intr.level;

    cr_assert_eq(seq1[0], 0x27);
    cr_assert_eq(seq1[1], 0x23);
    cr_assert_eq(seq1[2], 0x2B);
    cr_assert_eq(seq1[3], 0x08);        /* slave IRR: IRQ11 still high */
    cr_assert_eq(seq1[4], 0x2B);        /* and so requested again */
    cr_assert_eq(seq1[5], 0);           /* IR4 waits below IR2 */
    for (int i = 0; i < 6; i++)
        cr_assert_eq(seq1[i], seq2[i], "step %d: %#x vs %#x", i, seq1[i], seq2[i]);
    statebuf_free(&buf);
}

Test(i8259, load_rejects_garbage)
{
    StateBuf buf = {0};
    char err[128];
    size_t pos = 0;

    init_pair(0x08, 0x70, 0x01);
    I8259PairState bad = pic->s;
    bad.chip[0].lowest = 9;
    cr_assert_eq(state_save(&i8259_pair_state_desc, &bad, &buf), 0);
    cr_assert_neq(state_load(&i8259_pair_state_desc, &pic->s, pic, buf.data,
                             buf.len, &pos, err, sizeof(err)), 0);
    cr_assert_eq(pic->s.chip[0].lowest, 7);
    statebuf_free(&buf);
}

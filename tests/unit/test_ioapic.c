/* Unit tests for hw/ioapic.c: the 82093AA driven through IOREGSEL/IOWIN at
 * 0xFEC00000, its messages caught by a recording callback, and once wired
 * to a real hw/lapic.c to check the EOI round trip.
 *
 * Expectations come from the 82093AA datasheet: IOAPICVER = 0x00170011
 * (version 0x11, 24 entries); redirection entries reset masked; remote IRR
 * (bit 14) is set when a level interrupt is accepted and cleared by the
 * EOI for its vector; edges on a masked pin are lost.
 */
#include <criterion/criterion.h>

#include "hw/ioapic.h"
#include "hw/lapic.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define BASE 0xFEC00000ull

static AddressSpace mem;
static Ioapic *io;

typedef struct Msg {
    uint8_t dest;
    int dest_mode, vector, dm, level;
} Msg;
static Msg msgs[32];
static int n_msgs;
static int accept = 1;

static int rec_deliver(void *o, uint8_t dest, int dest_mode, int vector,
                       int dm, int level)
{
    if (n_msgs < 32)
        msgs[n_msgs++] = (Msg){ dest, dest_mode, vector, dm, level };
    return accept;
}

static void setup(void)
{
    n_msgs = 0;
    accept = 1;
    as_init(&mem, "memory", 0);
    cr_assert_eq(ioapic_new(&mem, BASE, 2, rec_deliver, NULL, &io), 0);
}

static void teardown(void)
{
    ioapic_free(io);
    as_destroy(&mem);
}

TestSuite(ioapic, .init = setup, .fini = teardown);

static uint32_t rd(uint8_t reg)
{
    as_write(&mem, BASE, reg, 4);
    return (uint32_t)as_read(&mem, BASE + 0x10, 4);
}

static void wr(uint8_t reg, uint32_t v)
{
    as_write(&mem, BASE, reg, 4);
    as_write(&mem, BASE + 0x10, v, 4);
}

static void set_entry(int pin, uint32_t lo, uint32_t hi)
{
    wr((uint8_t)(0x11 + 2 * pin), hi);
    wr((uint8_t)(0x10 + 2 * pin), lo);
}

Test(ioapic, id_version_arbitration)
{
    cr_assert_eq(rd(0x00), 0x02000000, "ID given at creation");
    cr_assert_eq(rd(0x01), 0x00170011);
    cr_assert_eq(rd(0x02), 0x02000000);
    wr(0x00, 0xF5FFFFFF);
    cr_assert_eq(rd(0x00), 0x05000000, "4-bit ID in 27:24");
    cr_assert_eq(rd(0x02), 0x05000000, "arbitration ID follows");
    wr(0x01, 0);
    wr(0x02, 0);
    cr_assert_eq(rd(0x01), 0x00170011, "read-only");
    cr_assert_eq(rd(0x02), 0x05000000);
    as_write(&mem, BASE, 0x01, 4);
    cr_assert_eq(as_read(&mem, BASE, 4), 0x01, "IOREGSEL reads back");
}

Test(ioapic, redirection_reset_and_masks)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        cr_assert_eq(rd((uint8_t)(0x10 + 2 * pin)), 0x00010000, "pin %d", pin);
        cr_assert_eq(rd((uint8_t)(0x11 + 2 * pin)), 0);
    }
    wr(0x10 + 2 * 3, 0xFFFFFFFF);
    wr(0x11 + 2 * 3, 0xFFFFFFFF);
    /* Delivery status (12) and remote IRR (14) are read-only, 31:17 and
     * 55:32 reserved. */
    cr_assert_eq(rd(0x10 + 2 * 3), 0x0001AFFF);
    cr_assert_eq(rd(0x11 + 2 * 3), 0xFF000000);
    cr_assert_eq(rd(0x10 + 2 * 24), 0, "no entry 24");
}

Test(ioapic, edge_interrupts)
{
    set_entry(4, 0x0034, 0x00000000);       /* fixed, physical 0, edge */
    ioapic_set_irq(io, 4, 1);
    cr_assert_eq(n_msgs, 1);
    cr_assert_eq(msgs[0].vector, 0x34);
    cr_assert_eq(msgs[0].dm, 0);
    cr_assert_eq(msgs[0].level, 0);
    ioapic_set_irq(io, 4, 1);               /* no new edge */
    cr_assert_eq(n_msgs, 1);
    ioapic_set_irq(io, 4, 0);
    ioapic_set_irq(io, 4, 1);
    cr_assert_eq(n_msgs, 2);
    cr_assert_eq(rd(0x10 + 2 * 4) & 0x4000, 0, "no remote IRR for edges");

    /* A masked pin loses its edges, and unmasking does not replay them. */
    ioapic_set_irq(io, 4, 0);
    set_entry(4, 0x10034, 0);
    ioapic_set_irq(io, 4, 1);
    cr_assert_eq(n_msgs, 2);
    set_entry(4, 0x0034, 0);
    cr_assert_eq(n_msgs, 2);
}

Test(ioapic, level_remote_irr_and_eoi)
{
    set_entry(9, 0x8039, 0x00000000);       /* fixed, level, vector 0x39 */
    ioapic_set_irq(io, 9, 1);
    cr_assert_eq(n_msgs, 1);
    cr_assert_eq(msgs[0].level, 1);
    cr_assert(rd(0x10 + 2 * 9) & 0x4000, "remote IRR set");
    ioapic_set_irq(io, 9, 0);
    ioapic_set_irq(io, 9, 1);
    cr_assert_eq(n_msgs, 1, "held off by remote IRR");
    ioapic_eoi_broadcast(io, 0x38);
    cr_assert_eq(n_msgs, 1, "other vector: no effect");
    cr_assert(rd(0x10 + 2 * 9) & 0x4000);
    ioapic_eoi_broadcast(io, 0x39);
    cr_assert_eq(n_msgs, 2, "still asserted: sent again");
    cr_assert(rd(0x10 + 2 * 9) & 0x4000);
    ioapic_set_irq(io, 9, 0);
    ioapic_eoi_broadcast(io, 0x39);
    cr_assert_eq(n_msgs, 2);
    cr_assert_eq(rd(0x10 + 2 * 9) & 0x4000, 0, "cleared by the EOI");
}

Test(ioapic, level_masking)
{
    set_entry(10, 0x1803A, 0);              /* level, masked */
    ioapic_set_irq(io, 10, 1);
    cr_assert_eq(n_msgs, 0);
    set_entry(10, 0x0803A, 0);              /* unmasked while asserted */
    cr_assert_eq(n_msgs, 1);
    cr_assert_eq(msgs[0].vector, 0x3A);
    /* Masking after acceptance leaves the accepted interrupt alone. */
    set_entry(10, 0x1803A, 0);
    cr_assert(rd(0x10 + 2 * 10) & 0x4000);
    ioapic_eoi_broadcast(io, 0x3A);
    cr_assert_eq(n_msgs, 1, "masked: not resent");
    cr_assert_eq(rd(0x10 + 2 * 10) & 0x4000, 0);
}

Test(ioapic, not_accepted_leaves_remote_irr_clear)
{
    accept = 0;
    set_entry(11, 0x803B, 0);
    ioapic_set_irq(io, 11, 1);
    cr_assert_eq(n_msgs, 1);
    cr_assert_eq(rd(0x10 + 2 * 11) & 0x4000, 0);
    accept = 1;
    set_entry(11, 0x803B, 0);               /* rewritten: retried */
    cr_assert_eq(n_msgs, 2);
    cr_assert(rd(0x10 + 2 * 11) & 0x4000);
}

Test(ioapic, message_fields)
{
    set_entry(1, 0x0931, 0x0F000000);       /* lowest, logical, dest 0x0F */
    ioapic_set_irq(io, 1, 1);
    cr_assert_eq(msgs[0].dest, 0x0F);
    cr_assert_eq(msgs[0].dest_mode, 1);
    cr_assert_eq(msgs[0].dm, 1);
    cr_assert_eq(msgs[0].vector, 0x31);
    /* NMI programmed level is still an edge message. */
    set_entry(2, 0xC400, 0x03000000);
    ioapic_set_irq(io, 2, 1);
    cr_assert_eq(n_msgs, 2);
    cr_assert_eq(msgs[1].dm, 4);
    cr_assert_eq(msgs[1].level, 0);
    cr_assert_eq(msgs[1].dest, 3);
    cr_assert_eq(rd(0x10 + 2 * 2) & 0x4000, 0);
    /* ExtINT. */
    set_entry(0, 0x0700, 0);
    ioapic_set_irq(io, 0, 1);
    cr_assert_eq(msgs[2].dm, 7);
    /* Pins past 23 are ignored. */
    ioapic_set_irq(io, 24, 1);
    ioapic_set_irq(io, -1, 1);
    cr_assert_eq(n_msgs, 3);
}

Test(ioapic, polarity_is_stored_not_applied)
{
    set_entry(16, 0xA050, 0);               /* level, active low */
    cr_assert_eq(rd(0x10 + 2 * 16), 0xA050);
    cr_assert_eq(n_msgs, 0, "an idle line is not asserted");
    ioapic_set_irq(io, 16, 1);
    cr_assert_eq(n_msgs, 1);
}

Test(ioapic, state_roundtrip)
{
    StateBuf buf = {0};
    size_t pos = 0;
    char err[128];

    set_entry(5, 0x8045, 0x01000000);
    ioapic_set_irq(io, 5, 1);
    cr_assert_eq(state_save(&ioapic_state_desc, &io->s, &buf), 0);
    ioapic_reset(io);
    cr_assert_eq(rd(0x10 + 2 * 5), 0x10000);
    cr_assert_eq(state_load(&ioapic_state_desc, &io->s, io, buf.data, buf.len,
                            &pos, err, sizeof(err)), 0, "%s", err);
    statebuf_free(&buf);
    cr_assert_eq(rd(0x10 + 2 * 5), 0xC045, "entry with remote IRR back");
    cr_assert_eq(rd(0x11 + 2 * 5), 0x01000000);
}

/* ---- with a real local APIC ------------------------------------------------------- */

static void eoi_to_ioapic(void *o, int vector) { ioapic_eoi_broadcast(o, vector); }

Test(ioapic, round_trip_through_lapic)
{
    Clock clk;
    Lapic *apic;
    LapicHooks h = { .eoi_broadcast = eoi_to_ioapic, .opaque = io };

    clock_init(&clk, CLOCK_MODE_DETERMINISTIC, 0);
    cr_assert_eq(lapic_new(&mem, &clk, &h, &apic), 0);
    io->deliver = lapic_bus_deliver;
    io->opaque = apic;
    as_write(&mem, 0xFEE000F0, 0x1FF, 4);       /* software-enable */

    set_entry(20, 0x8061, 0x00000000);          /* level, vector 0x61 */
    ioapic_set_irq(io, 20, 1);
    cr_assert(lapic_has_interrupt(apic));
    cr_assert(rd(0x10 + 2 * 20) & 0x4000);
    cr_assert(as_read(&mem, 0xFEE00180 + 0x30, 4) & 2, "TMR bit 0x61");
    cr_assert_eq(lapic_ack(apic), 0x61);
    ioapic_set_irq(io, 20, 0);
    as_write(&mem, 0xFEE000B0, 0, 4);           /* EOI */
    cr_assert_eq(rd(0x10 + 2 * 20) & 0x4000, 0, "EOI reached the IOAPIC");
    cr_assert_not(lapic_has_interrupt(apic));

    /* Physical destination 1 is not this APIC (ID 0). */
    set_entry(21, 0x8062, 0x01000000);
    ioapic_set_irq(io, 21, 1);
    cr_assert_not(lapic_has_interrupt(apic));
    cr_assert_eq(rd(0x10 + 2 * 21) & 0x4000, 0);
    lapic_free(apic);
}

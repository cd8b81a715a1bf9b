/* Intel 82093AA I/O APIC, written from its datasheet (order no. 290566):
 * 3.0 "Register Description" (IOREGSEL/IOWIN, IOAPICID, IOAPICVER,
 * IOAPICARB, IOREDTBL[23:0] with its fields: vector, delivery mode,
 * destination mode, delivery status, polarity, remote IRR, trigger mode,
 * mask, destination), and the interrupt flow of the redirection table:
 * an edge on an unmasked pin sends one message; an asserted level pin
 * sends one and sets remote IRR until the local APIC's EOI for that vector
 * comes back, then sends again if still asserted.
 *
 * Messages are sent at once through the board's callback, so delivery
 * status always reads idle.  Only fixed and lowest-priority interrupts can
 * be level-triggered: NMI, SMI, INIT and ExtINT are edge messages per the
 * datasheet's delivery mode table, whatever the trigger bit says.
 */
#include "hw/ioapic.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/log.h"

#define VERSION_REG 0x00170011u      /* version 0x11, max entry 0x17 */

/* Redirection entry fields (datasheet 3.2.4). */
#define RTE_VECTOR 0xFFull
#define RTE_DM(e) ((int)(((e) >> 8) & 7))
#define RTE_DEST_LOGICAL (1ull << 11)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_DEST(e) ((uint8_t)((e) >> 56))
/* Writable: vector, delivery and destination mode, polarity, trigger,
 * mask, destination.  Delivery status (12) and remote IRR (14) are not. */
#define RTE_WRITABLE 0xFF0000000001AFFFull

enum { DM_FIXED = 0, DM_LOWEST = 1 };

static bool entry_level(uint64_t e)
{
    return (e & RTE_LEVEL) && (RTE_DM(e) == DM_FIXED || RTE_DM(e) == DM_LOWEST);
}

static int send(Ioapic *io, uint64_t e)
{
    if (!io->deliver)
        return 0;
    return io->deliver(io->opaque, RTE_DEST(e), (e & RTE_DEST_LOGICAL) != 0,
                       (int)(e & RTE_VECTOR), RTE_DM(e), entry_level(e));
}

/* A level pin that is asserted, unmasked and not waiting for an EOI sends
 * a message; remote IRR records that an APIC accepted it. */
static void service_level(Ioapic *io, int pin)
{
    uint64_t *e = &io->s.redir[pin];

    if (!(io->s.lines >> pin & 1) || (*e & (RTE_MASKED | RTE_REMOTE_IRR)))
        return;
    if (send(io, *e) > 0)
        *e |= RTE_REMOTE_IRR;
}

void ioapic_set_irq(void *opaque, int pin, int level)
{
    Ioapic *io = opaque;

    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    bool rising = level && !(io->s.lines & bit);
    if (level)
        io->s.lines |= bit;
    else
        io->s.lines &= ~bit;
    uint64_t e = io->s.redir[pin];
    if (entry_level(e))
        service_level(io, pin);
    else if (rising && !(e & RTE_MASKED))
        send(io, e);    /* edges on a masked pin are lost (3.2.4, mask) */
}

void ioapic_eoi_broadcast(void *opaque, int vector)
{
    Ioapic *io = opaque;

    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t *e = &io->s.redir[pin];
        if ((*e & RTE_REMOTE_IRR) && (int)(*e & RTE_VECTOR) == vector) {
            *e &= ~RTE_REMOTE_IRR;
            if (entry_level(*e))
                service_level(io, pin);
        }
    }
}

static uint32_t reg_read(Ioapic *io, uint8_t reg)
{
    if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_PINS) {
        uint64_t e = io->s.redir[(reg - 0x10) / 2];
        return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    switch (reg) {
    case 0x00: return (uint32_t)io->s.id << 24;
    case 0x01: return VERSION_REG;
    case 0x02: return (uint32_t)io->s.arb_id << 24;
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "ioapic: read of register 0x%02x\n", reg);
        return 0;
    }
}

static void write_entry(Ioapic *io, int pin, bool high, uint32_t v)
{
    uint64_t *e = &io->s.redir[pin];
    uint64_t n = high ? (*e & 0xFFFFFFFFull) | (uint64_t)v << 32
                      : (*e & ~0xFFFFFFFFull) | v;

    n = (n & RTE_WRITABLE) | (*e & RTE_REMOTE_IRR);
    /* Remote IRR means nothing for an edge entry; drop it so a later
     * switch back to level does not start out blocked. */
    if (!entry_level(n))
        n &= ~RTE_REMOTE_IRR;
    *e = n;
    /* A level pin that was held off by the mask sends once unmasked. */
    if (entry_level(n))
        service_level(io, pin);
}

static void reg_write(Ioapic *io, uint8_t reg, uint32_t v)
{
    if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_PINS) {
        write_entry(io, (reg - 0x10) / 2, reg & 1, v);
        return;
    }
    switch (reg) {
    case 0x00:
        /* The arbitration ID follows the ID when it is written (3.2.3). */
        io->s.id = (uint8_t)((v >> 24) & 0xF);
        io->s.arb_id = io->s.id;
        break;
    default:
        LOG_LIMITED(LOG_GUEST_ERRORS, "ioapic: write to register 0x%02x "
                    "(read-only or absent)\n", reg);
        break;
    }
}

/* IOREGSEL (+0x00) takes any width; IOWIN (+0x10) is a dword register,
 * narrower reads see its low bytes.  Nothing else is decoded. */
static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    Ioapic *io = opaque;
    uint64_t mask = size >= 4 ? 0xFFFFFFFFull : (1ull << size * 8) - 1;

    if (offset == 0x00)
        return io->s.regsel & mask;
    if (offset == 0x10)
        return reg_read(io, io->s.regsel) & mask;
    return 0;
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value,
                       unsigned size)
{
    Ioapic *io = opaque;

    if (offset == 0x00) {
        io->s.regsel = (uint8_t)value;
    } else if (offset == 0x10 && size == 4) {
        reg_write(io, io->s.regsel, (uint32_t)value);
    } else {
        LOG_LIMITED(LOG_GUEST_ERRORS, "ioapic: %u-byte write at +0x%llx "
                    "dropped\n", size, (unsigned long long)offset);
    }
}

static const MemOps ioapic_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .max_access = 4,
};

void ioapic_reset(Ioapic *io)
{
    for (int i = 0; i < IOAPIC_PINS; i++)
        io->s.redir[i] = RTE_MASKED;
    io->s.id = io->reset_id & 0xF;
    io->s.arb_id = io->s.id;
    io->s.regsel = 0;
}

int ioapic_new(AddressSpace *mem, uint64_t base, uint8_t id,
               IoapicDeliver deliver, void *opaque, Ioapic **out)
{
    Ioapic *io = calloc(1, sizeof(*io));
    int r;

    *out = NULL;
    if (!io)
        return -ENOMEM;
    io->mem = mem;
    io->base = base;
    io->reset_id = id;
    io->deliver = deliver;
    io->opaque = opaque;
    r = as_map_io(mem, "ioapic", base, IOAPIC_MMIO_SIZE, &ioapic_ops, io);
    if (r < 0) {
        free(io);
        return r;
    }
    ioapic_reset(io);
    *out = io;
    return 0;
}

void ioapic_free(Ioapic *io)
{
    if (!io)
        return;
    as_unmap(io->mem, io->base);
    free(io);
}

static int ioapic_post_load(void *state, void *opaque)
{
    Ioapic *io = opaque;

    if (!io || state != &io->s || io->s.id > 0xF || io->s.arb_id > 0xF ||
        (io->s.lines >> IOAPIC_PINS))
        return -EINVAL;
    return 0;
}

static const StateField ioapic_fields[] = {
    STATE_U64_ARRAY(IoapicState, redir),
    STATE_U32(IoapicState, lines),
    STATE_U8(IoapicState, id),
    STATE_U8(IoapicState, arb_id),
    STATE_U8(IoapicState, regsel),
    STATE_END
};

const StateDesc ioapic_state_desc = {
    .name = "ioapic", .version = 1, .size = sizeof(IoapicState),
    .fields = ioapic_fields, .post_load = ioapic_post_load,
};

/* Port I/O from the CPU: the protection check of the SDM Vol. 1 19.5
 * (IOPL, and the I/O permission bitmap of the TSS) and the dispatch
 * through the I/O address space, the one I/O path every caller shares;
 * I/O breakpoints (Vol. 3 17.2.4, CR4.DE) are reported to cpu/debug.c.
 */
#include "cpu/debug.h"
#include "cpu/insn.h"
#include "util/log.h"

/* Are all `size` bits for ports port..port+size-1 clear in the TSS bitmap?
 * Only a 32/64-bit TSS has one (types 9 and 11). */
static bool bitmap_allows(Cpu *cpu, uint16_t port, unsigned size)
{
    const SegmentCache *tr = &cpu->s.tr;
    unsigned type = tr->attr & SEG_ATTR_TYPE;
    uint64_t base16, bits;
    if ((type != 9 && type != 11) || tr->limit < 0x67)
        return false;
    if (mem_read_linear(cpu, tr->base + 0x66, 2, &base16, true) != CPU_OK)
        return false;
    uint64_t offset = base16 + port / 8;
    if (offset + 1 > tr->limit)
        return false;
    if (mem_read_linear(cpu, tr->base + offset, 2, &bits, true) != CPU_OK)
        return false;
    unsigned mask = ((1u << size) - 1) << (port & 7);
    return (bits & mask) == 0;
}

int io_check(Cpu *cpu, uint16_t port, unsigned size)
{
    if (cpu_is_real(cpu))
        return CPU_OK;
    unsigned iopl = (cpu->s.eflags & F_IOPL) >> 12;
    bool v86 = cpu->mode & CPU_MODE_V86;
    if (!v86 && cpu_cpl(cpu) <= iopl)
        return CPU_OK;
    if (bitmap_allows(cpu, port, size))
        return CPU_OK;
    return cpu_raise(cpu, EXC_GP, 0, true);
}

uint64_t io_read(Cpu *cpu, uint16_t port, unsigned size)
{
    if (cpu->debug_active & DEBUG_IO)
        debug_io_access(cpu, port, size);   /* a trap after the instruction */
    uint64_t v = as_read(cpu->io, port, size);
    LOG(LOG_IOPORT, "ioport: in  %04x/%u -> %llx\n", port, size,
        (unsigned long long)v);
    return v;
}

void io_write(Cpu *cpu, uint16_t port, unsigned size, uint64_t v)
{
    LOG(LOG_IOPORT, "ioport: out %04x/%u <- %llx\n", port, size,
        (unsigned long long)v);
    if (cpu->debug_active & DEBUG_IO)
        debug_io_access(cpu, port, size);
    as_write(cpu->io, port, v, size);
}

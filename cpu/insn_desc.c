/* Segment-register and descriptor-table instructions: MOV to/from Sreg,
 * LDS/LES/LSS/LFS/LGS, SGDT/SIDT/LGDT/LIDT, SLDT/STR/LLDT/LTR, LAR/LSL,
 * VERR/VERW and ARPL (SDM Vol. 2 pages of each; descriptor formats from
 * Vol. 3 3.4.5 and 3.5, the 16-byte system descriptors of long mode from
 * Vol. 3 7.2.3).
 */
#include "cpu/insn.h"
#include "cpu/segment.h"

static bool protected_only(const Cpu *cpu)
{
    return !cpu_is_real(cpu) && !(cpu->mode & CPU_MODE_V86);
}

static void set_zf(Cpu *cpu, bool z)
{
    uint32_t f = cc_compute(cpu);
    cc_set_flags(cpu, (f & ~(uint32_t)F_ZF) | (z ? F_ZF : 0));
}

/* ---- segment registers -------------------------------------------------- */

int h_MOV_TO_SEG(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t sel;
    if (op_read(cpu, d, 1, 2, &sel) != CPU_OK ||
        seg_load(cpu, d->reg[0], (uint16_t)sel) != CPU_OK)
        return CPU_FAULT;
    if (d->reg[0] == SEG_SS) {
        /* Interrupts and #DB wait one instruction (SDM Vol. 3 6.8.3);
         * ending the block lets the loop see the shadow where it is. */
        cpu->s.intr_shadow = INTR_SHADOW_MOVSS;
        return CPU_EXIT;
    }
    return CPU_OK;
}

int h_MOV_FROM_SEG(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t sel = cpu->s.seg[d->reg[1]].selector;
    /* A memory destination is always 16 bits; a register gets the
     * selector zero-extended to the operand size. */
    return op_write(cpu, d, 0, d->kind[0] == OPK_MEM ? 2 : d->osize, sel);
}

/* Load a far pointer m16:16/32/64 into seg and the register operand. */
static int load_far_pointer(Cpu *cpu, const DecodedInsn *d, int seg)
{
    uint64_t ea = insn_ea(cpu, d), offset, sel;
    if (mem_read(cpu, d->seg, ea, d->osize, &offset) != CPU_OK ||
        mem_read(cpu, d->seg, (ea + d->osize) & size_mask(d->asize), 2, &sel) != CPU_OK ||
        seg_load(cpu, seg, (uint16_t)sel) != CPU_OK)
        return CPU_FAULT;
    reg_write(cpu, d->reg[0], d->osize, offset);
    return CPU_OK;
}

int h_LES(Cpu *cpu, const DecodedInsn *d) { return load_far_pointer(cpu, d, SEG_ES); }
int h_LDS(Cpu *cpu, const DecodedInsn *d) { return load_far_pointer(cpu, d, SEG_DS); }
int h_LSS(Cpu *cpu, const DecodedInsn *d) { return load_far_pointer(cpu, d, SEG_SS); }
int h_LFS(Cpu *cpu, const DecodedInsn *d) { return load_far_pointer(cpu, d, SEG_FS); }
int h_LGS(Cpu *cpu, const DecodedInsn *d) { return load_far_pointer(cpu, d, SEG_GS); }

/* ---- GDTR and IDTR ------------------------------------------------------ */

static int store_table(Cpu *cpu, const DecodedInsn *d, const DescriptorTable *t)
{
    uint64_t ea = insn_ea(cpu, d);
    unsigned base_size = cpu_is_64(cpu) ? 8 : 4;
    if (mem_check_write(cpu, d->seg, ea, 2 + base_size) != CPU_OK ||
        mem_write(cpu, d->seg, ea, 2, t->limit) != CPU_OK ||
        mem_write(cpu, d->seg, (ea + 2) & size_mask(d->asize), base_size,
                  t->base) != CPU_OK)
        return CPU_FAULT;
    return CPU_OK;
}

static int load_table(Cpu *cpu, const DecodedInsn *d, DescriptorTable *t)
{
    uint64_t ea = insn_ea(cpu, d), limit, base;
    unsigned base_size = cpu_is_64(cpu) ? 8 : 4;
    if (cpu_cpl(cpu) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (mem_read(cpu, d->seg, ea, 2, &limit) != CPU_OK ||
        mem_read(cpu, d->seg, (ea + 2) & size_mask(d->asize), base_size,
                 &base) != CPU_OK)
        return CPU_FAULT;
    if (cpu_is_64(cpu) && (uint64_t)((int64_t)(base << 16) >> 16) != base)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (d->osize == 2 && !cpu_is_64(cpu))
        base &= 0xffffff;   /* a 16-bit operand loads a 24-bit base */
    t->limit = (uint32_t)limit;
    t->base = base;
    return CPU_OK;
}

int h_SGDT(Cpu *cpu, const DecodedInsn *d) { return store_table(cpu, d, &cpu->s.gdtr); }
int h_SIDT(Cpu *cpu, const DecodedInsn *d) { return store_table(cpu, d, &cpu->s.idtr); }
int h_LGDT(Cpu *cpu, const DecodedInsn *d) { return load_table(cpu, d, &cpu->s.gdtr); }
int h_LIDT(Cpu *cpu, const DecodedInsn *d) { return load_table(cpu, d, &cpu->s.idtr); }

/* ---- LDTR and TR -------------------------------------------------------- */

static int store_selector(Cpu *cpu, const DecodedInsn *d, uint16_t sel)
{
    if (!protected_only(cpu))
        return cpu_raise(cpu, EXC_UD, 0, false);
    return op_write(cpu, d, 0, d->kind[0] == OPK_MEM ? 2 : d->osize, sel);
}

int h_SLDT(Cpu *cpu, const DecodedInsn *d) { return store_selector(cpu, d, cpu->s.ldtr.selector); }
int h_STR(Cpu *cpu, const DecodedInsn *d) { return store_selector(cpu, d, cpu->s.tr.selector); }

/* Read a system descriptor from the GDT for LLDT/LTR: 16 bytes in long
 * mode, whose upper half supplies base bits 63:32. */
static int read_system_desc(Cpu *cpu, uint16_t sel, SegmentCache *out,
                            uint64_t *low)
{
    int vec;
    uint32_t err = sel & ~3u;
    if (sel & 4)
        return cpu_raise(cpu, EXC_GP, err, true);
    if (desc_read(cpu, sel, low, &vec) != CPU_OK)
        return CPU_FAULT;
    desc_to_cache(*low, sel, out);
    if (cpu->mode & CPU_MODE_LONG) {
        uint64_t high;
        if ((sel & ~7u) + 15 > cpu->s.gdtr.limit)
            return cpu_raise(cpu, EXC_GP, err, true);
        if (mem_read_linear(cpu, cpu->s.gdtr.base + (sel & ~7u) + 8, 8, &high,
                            true) != CPU_OK)
            return CPU_FAULT;
        out->base |= (high & 0xffffffffull) << 32;
    }
    return CPU_OK;
}

static int load_system_selector(Cpu *cpu, const DecodedInsn *d, bool task)
{
    uint64_t v;
    if (!protected_only(cpu))
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (cpu_cpl(cpu) != 0)
        return cpu_raise(cpu, EXC_GP, 0, true);
    if (op_read(cpu, d, 0, 2, &v) != CPU_OK)
        return CPU_FAULT;
    uint16_t sel = (uint16_t)v;
    uint32_t err = sel & ~3u;
    if ((sel & ~3u) == 0) {
        if (task)
            return cpu_raise(cpu, EXC_GP, 0, true);
        cpu->s.ldtr = (SegmentCache){ 0, 0, sel, 0 };  /* unusable LDT */
        return CPU_OK;
    }
    SegmentCache c;
    uint64_t low;
    if (read_system_desc(cpu, sel, &c, &low) != CPU_OK)
        return CPU_FAULT;
    unsigned type = c.attr & SEG_ATTR_TYPE;
    bool lm = cpu->mode & CPU_MODE_LONG;
    bool ok = !(c.attr & SEG_ATTR_S) &&
              (task ? (type == 9 || (type == 1 && !lm)) : type == 2);
    if (!ok)
        return cpu_raise(cpu, EXC_GP, err, true);
    if (!(c.attr & SEG_ATTR_P))
        return cpu_raise(cpu, EXC_NP, err, true);
    if (task) {
        /* Mark the TSS busy in the GDT, as the processor does. */
        uint64_t addr = cpu->s.gdtr.base + (sel & ~7u) + 5;
        if (mem_write_linear(cpu, addr, 1, ((low >> 40) & 0xff) | 2, true) != CPU_OK)
            return CPU_FAULT;
        c.attr |= 2;
        cpu->s.tr = c;
    } else {
        cpu->s.ldtr = c;
    }
    return CPU_OK;
}

int h_LLDT(Cpu *cpu, const DecodedInsn *d) { return load_system_selector(cpu, d, false); }
int h_LTR(Cpu *cpu, const DecodedInsn *d) { return load_system_selector(cpu, d, true); }

/* ---- descriptor queries ------------------------------------------------- */

/* Read the descriptor of `sel` for LAR/LSL/VERR/VERW without raising: the
 * instructions report failure in ZF instead. */
static bool query_desc(Cpu *cpu, uint16_t sel, SegmentCache *c, uint64_t *raw)
{
    int vec;
    if ((sel & ~3u) == 0)
        return false;
    if (desc_read(cpu, sel, raw, &vec) != CPU_OK) {
        if (vec == EXC_GP)
            cpu->s.exception.vector = -1;   /* out of the table: just ZF=0 */
        return false;
    }
    desc_to_cache(*raw, sel, c);
    return true;
}

/* Privilege rule shared by the queries: conforming code is always
 * visible, everything else needs DPL >= CPL and DPL >= RPL. */
static bool visible(const Cpu *cpu, const SegmentCache *c, uint16_t sel)
{
    bool conforming_code = (c->attr & SEG_ATTR_S) && (c->attr & 0xc) == 0xc;
    unsigned dpl = (c->attr & SEG_ATTR_DPL) >> 5;
    return conforming_code || (dpl >= cpu_cpl(cpu) && dpl >= (sel & 3u));
}

static bool system_type_ok(const Cpu *cpu, unsigned type, bool for_lsl)
{
    if (cpu->mode & CPU_MODE_LONG)
        return type == 2 || type == 9 || type == 11 || (!for_lsl && type == 12);
    if (for_lsl)
        return type == 1 || type == 2 || type == 3 || type == 9 || type == 11;
    return type == 1 || type == 2 || type == 3 || type == 4 || type == 5 ||
           type == 9 || type == 11 || type == 12;
}

static int lar_lsl(Cpu *cpu, const DecodedInsn *d, bool lsl)
{
    uint64_t v, raw = 0;
    SegmentCache c;
    if (!protected_only(cpu))
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (op_read(cpu, d, 1, 2, &v) != CPU_OK)
        return CPU_FAULT;
    uint16_t sel = (uint16_t)v;
    if (!query_desc(cpu, sel, &c, &raw)) {
        if (cpu->s.exception.vector >= 0)
            return CPU_FAULT;
        set_zf(cpu, false);
        return CPU_OK;
    }
    bool ok = (c.attr & SEG_ATTR_S) ? true
              : system_type_ok(cpu, c.attr & SEG_ATTR_TYPE, lsl);
    if (!ok || !visible(cpu, &c, sel)) {
        set_zf(cpu, false);
        return CPU_OK;
    }
    uint64_t result = lsl ? c.limit : (raw >> 32) & 0x00f0ff00ull;
    reg_write(cpu, d->reg[0], d->osize, result);
    set_zf(cpu, true);
    return CPU_OK;
}

int h_LAR(Cpu *cpu, const DecodedInsn *d) { return lar_lsl(cpu, d, false); }
int h_LSL(Cpu *cpu, const DecodedInsn *d) { return lar_lsl(cpu, d, true); }

static int verify(Cpu *cpu, const DecodedInsn *d, bool write)
{
    uint64_t v, raw;
    SegmentCache c;
    if (!protected_only(cpu))
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (op_read(cpu, d, 0, 2, &v) != CPU_OK)
        return CPU_FAULT;
    uint16_t sel = (uint16_t)v;
    bool ok = query_desc(cpu, sel, &c, &raw);
    if (!ok && cpu->s.exception.vector >= 0)
        return CPU_FAULT;
    if (ok) {
        bool code = c.attr & 0x8;
        ok = (c.attr & SEG_ATTR_S) && visible(cpu, &c, sel) &&
             (write ? (!code && (c.attr & 2)) : (!code || (c.attr & 2)));
    }
    set_zf(cpu, ok);
    return CPU_OK;
}

int h_VERR(Cpu *cpu, const DecodedInsn *d) { return verify(cpu, d, false); }
int h_VERW(Cpu *cpu, const DecodedInsn *d) { return verify(cpu, d, true); }

int h_ARPL(Cpu *cpu, const DecodedInsn *d)
{
    uint64_t dst, src;
    if (!protected_only(cpu))
        return cpu_raise(cpu, EXC_UD, 0, false);
    if (op_read(cpu, d, 0, 2, &dst) != CPU_OK || op_read(cpu, d, 1, 2, &src) != CPU_OK)
        return CPU_FAULT;
    if ((dst & 3) < (src & 3)) {
        if (op_write(cpu, d, 0, 2, (dst & ~3ull) | (src & 3)) != CPU_OK)
            return CPU_FAULT;
        set_zf(cpu, true);
    } else {
        set_zf(cpu, false);
    }
    return CPU_OK;
}

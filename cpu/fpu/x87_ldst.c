/* x87 loads and stores.
 *
 * SDM Vol. 2 pages FLD, FST/FSTP, FILD, FIST/FISTP, FISTTP, FBLD, FBSTP;
 * Vol. 1 8.3.2-8.3.4 (data transfer), 4.8.3.7 (the indefinites stored as
 * the masked response to #IA), 8.5.1.1 (stack overflow and underflow).
 *
 * FLD m80 and FSTP m80 copy the register image unchanged: they raise no
 * #IA for SNaNs and no #D (Vol. 2 FLD, FST), so unsupported encodings pass
 * through them as they are.
 */
#include "cpu/fpu/x87.h"

/* Memory operand format from the escape opcode and ModRM.reg. */
enum { FMT_F32, FMT_F64, FMT_F80, FMT_I16, FMT_I32, FMT_I64, FMT_BCD };

static int mem_format(const DecodedInsn *d)
{
    unsigned reg = (d->modrm >> 3) & 7;
    switch (d->opcode) {
    case 0xd9: return FMT_F32;
    case 0xdb: return reg >= 4 ? FMT_F80 : FMT_I32;
    case 0xdd: return FMT_F64;
    default:   /* DF */
        if (reg == 4 || reg == 6)
            return FMT_BCD;
        if (reg == 5 || reg == 7)
            return FMT_I64;
        return FMT_I16;
    }
}

static int read_operand(Cpu *cpu, const DecodedInsn *d, int fmt, FpStatus *st,
                        Float80 *v)
{
    uint64_t off = insn_ea(cpu, d), raw, hi;
    int r;
    switch (fmt) {
    case FMT_F80:
        return x87_read_f80(cpu, d, off, v);
    case FMT_BCD: {
        uint8_t bcd[10];
        r = mem_read(cpu, d->seg, off, 8, &raw);
        if (r == CPU_OK)
            r = mem_read(cpu, d->seg, (off + 8) & size_mask(d->asize), 2, &hi);
        if (r != CPU_OK)
            return r;
        for (int i = 0; i < 8; i++)
            bcd[i] = (uint8_t)(raw >> (8 * i));
        bcd[8] = (uint8_t)hi;
        bcd[9] = (uint8_t)(hi >> 8);
        *v = f80_from_bcd(bcd);
        return CPU_OK;
    }
    default:
        break;
    }
    static const uint8_t size[] = { 4, 8, 10, 2, 4, 8 };
    r = mem_read(cpu, d->seg, off, size[fmt], &raw);
    if (r != CPU_OK)
        return r;
    switch (fmt) {
    case FMT_F32: *v = f80_from_f32(st, (uint32_t)raw); break;
    case FMT_F64: *v = f80_from_f64(st, raw); break;
    case FMT_I16: *v = f80_from_int((int16_t)raw); break;
    case FMT_I32: *v = f80_from_int((int32_t)raw); break;
    default: *v = f80_from_int((int64_t)raw); break;
    }
    return CPU_OK;
}

/* FLD, FILD, FBLD: push a memory operand or a copy of ST(i). */
static int load(Cpu *cpu, const DecodedInsn *d)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, false);
    Float80 v;
    bool src_empty = false;
    if (d->kind[0] == OPK_MEM) {
        r = read_operand(cpu, d, mem_format(d), &st, &v);
        if (r != CPU_OK)
            return r;
    } else {
        unsigned i = d->modrm & 7;
        src_empty = x87_empty(f, i);
        v = x87_get(f, i);
    }
    x87_note_insn(cpu, d);
    /* An empty source is reported before a full stack (C1 = 0). */
    if (src_empty || !x87_empty(f, 7)) {
        if (x87_stack_fault(cpu, !src_empty))
            x87_push(f, f80_indefinite);
        return x87_end(cpu);
    }
    /* An unmasked #D does not stop a load (as processors do): only #IA
     * does. */
    if (x87_commit(cpu, st.flags, false) || !(st.flags & FP_IE))
        x87_push(f, v);
    return x87_end(cpu);
}

int h_FLD(Cpu *cpu, const DecodedInsn *d) { return load(cpu, d); }
int h_FILD(Cpu *cpu, const DecodedInsn *d) { return load(cpu, d); }
int h_FBLD(Cpu *cpu, const DecodedInsn *d) { return load(cpu, d); }

/* The value stored for an empty ST(0) when #IS is masked. */
static void indefinite_image(int fmt, uint8_t out[10])
{
    static const uint8_t img[][10] = {
        [FMT_F32] = { 0x00, 0x00, 0xc0, 0xff },
        [FMT_F64] = { 0, 0, 0, 0, 0, 0, 0xf8, 0xff },
        [FMT_F80] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff },
        [FMT_I16] = { 0x00, 0x80 },
        [FMT_I32] = { 0, 0, 0, 0x80 },
        [FMT_I64] = { 0, 0, 0, 0, 0, 0, 0, 0x80 },
        [FMT_BCD] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff },
    };
    for (int i = 0; i < 10; i++)
        out[i] = img[fmt][i];
}

static int write_image(Cpu *cpu, const DecodedInsn *d, const uint8_t *img,
                       unsigned size)
{
    uint64_t off = insn_ea(cpu, d), mask = size_mask(d->asize);
    int r = mem_check_write(cpu, d->seg, off, size);
    for (unsigned done = 0; r == CPU_OK && done < size;) {
        unsigned n = size - done >= 8 ? 8 : size - done >= 4 ? 4 : 2;
        uint64_t v = 0;
        for (unsigned k = 0; k < n; k++)
            v |= (uint64_t)img[done + k] << (8 * k);
        r = mem_write(cpu, d->seg, (off + done) & mask, n, v);
        done += n;
    }
    return r;
}

static unsigned format_size(int fmt)
{
    static const uint8_t size[] = { 4, 8, 10, 2, 4, 8, 10 };
    return size[fmt];
}

/* FST, FSTP, FIST, FISTP, FISTTP, FBSTP to memory. */
static int store_mem(Cpu *cpu, const DecodedInsn *d, int fmt, bool pop,
                     bool truncate)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    FpStatus st = x87_status(cpu, false);
    uint8_t img[10] = { 0 };
    bool write;
    unsigned c1 = 0;
    if (x87_empty(f, 0)) {
        /* Nothing changes before the store is known not to fault. */
        r = mem_check_write(cpu, d->seg, insn_ea(cpu, d), format_size(fmt));
        if (r != CPU_OK)
            return r;
        x87_note_insn(cpu, d);
        write = x87_stack_fault(cpu, false);
        indefinite_image(fmt, img);
    } else {
        Float80 v = x87_get(f, 0);
        uint64_t raw = 0;
        switch (fmt) {
        case FMT_F32: raw = f80_to_f32(&st, v); break;
        case FMT_F64: raw = f80_to_f64(&st, v); break;
        case FMT_F80: raw = v.sig; img[8] = (uint8_t)v.se; img[9] = (uint8_t)(v.se >> 8); break;
        case FMT_I16: raw = (uint64_t)f80_to_int(&st, v, 16, truncate); break;
        case FMT_I32: raw = (uint64_t)f80_to_int(&st, v, 32, truncate); break;
        case FMT_I64: raw = (uint64_t)f80_to_int(&st, v, 64, truncate); break;
        default: f80_to_bcd(&st, v, img); break;
        }
        if (fmt != FMT_BCD)
            for (int i = 0; i < 8; i++)
                img[i] = (uint8_t)(raw >> (8 * i));
        r = mem_check_write(cpu, d->seg, insn_ea(cpu, d), format_size(fmt));
        if (r != CPU_OK)
            return r;
        x87_note_insn(cpu, d);
        write = x87_commit(cpu, st.flags, true);
        c1 = st.c1 ? FSW_C1 : 0;
        if (write)
            f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | c1);
    }
    if (!write)
        return x87_end(cpu);
    r = write_image(cpu, d, img, format_size(fmt));
    if (r != CPU_OK)
        return r;
    if (pop)
        x87_pop(f);
    return x87_end(cpu);
}

/* FST/FSTP ST(i): a register copy. */
static int store_reg(Cpu *cpu, const DecodedInsn *d, bool pop)
{
    int r = x87_begin(cpu, true);
    if (r != CPU_OK)
        return r;
    X87State *f = &cpu->s.fpu;
    unsigned i = d->modrm & 7;
    x87_note_insn(cpu, d);
    if (x87_empty(f, 0) && d->opcode == 0xd9) {
        /* D9 D8+i, the reserved alias of FSTP ST(i): from an empty ST(0)
         * the host processor (AMD) pops without a stack fault and writes
         * nothing; the SDM does not define the encoding. */
        f->fsw &= ~FSW_C1;
    } else if (x87_empty(f, 0)) {
        if (!x87_stack_fault(cpu, false))
            return x87_end(cpu);
        x87_set(f, i, f80_indefinite);
    } else {
        x87_set(f, i, x87_get(f, 0));
        f->fsw &= ~FSW_C1;
    }
    if (pop)
        x87_pop(f);
    return x87_end(cpu);
}

int h_FST(Cpu *cpu, const DecodedInsn *d)
{
    if (d->kind[0] != OPK_MEM)
        return store_reg(cpu, d, false);
    return store_mem(cpu, d, d->opcode == 0xd9 ? FMT_F32 : FMT_F64, false, false);
}

int h_FSTP(Cpu *cpu, const DecodedInsn *d)
{
    if (d->kind[0] != OPK_MEM)
        return store_reg(cpu, d, true);
    return store_mem(cpu, d, mem_format(d), true, false);
}

int h_FIST(Cpu *cpu, const DecodedInsn *d)
{
    return store_mem(cpu, d, mem_format(d), false, false);
}

int h_FISTP(Cpu *cpu, const DecodedInsn *d)
{
    return store_mem(cpu, d, mem_format(d), true, false);
}

/* DB /1 m32int, DD /1 m64int, DF /1 m16int. */
int h_FISTTP(Cpu *cpu, const DecodedInsn *d)
{
    int fmt = d->opcode == 0xdb ? FMT_I32 : d->opcode == 0xdd ? FMT_I64 : FMT_I16;
    return store_mem(cpu, d, fmt, true, true);
}

int h_FBSTP(Cpu *cpu, const DecodedInsn *d)
{
    return store_mem(cpu, d, FMT_BCD, true, false);
}

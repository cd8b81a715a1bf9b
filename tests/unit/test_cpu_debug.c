/* Unit tests for the CPU's debug features, NMI and the memory-type MSRs:
 * what tests/asm cannot reach or QEMU does not model.
 *
 *  - NMI (SDM Vol. 3 6.7.1, Table 6-2): taken before INTR, blocked until
 *    IRET, held off by the MOV SS shadow, wakes a halted CPU;
 *  - debug (Vol. 3 ch. 17): I/O breakpoints with CR4.DE, DR7.GD, DR4/DR5
 *    aliasing, 8-byte data breakpoints, single-stepping a REP string
 *    instruction one iteration at a time with RF set until the last;
 *  - IA32_MTRRCAP, the fixed and variable MTRRs, IA32_MTRR_DEF_TYPE and
 *    IA32_PAT with their reserved-bit and memory-type checks (11.11-11.12),
 *    the CPUID bits that announce them, and the boot-time MTRR layout
 *    boards without firmware install.
 * Everything runs in real mode: the rules do not depend on the mode.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "cpu/block.h"
#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/debug.h"

#define RAM_SIZE 0x100000
#define CODE 0x1000
#define NMI_HANDLER 0x2000
#define INTR_HANDLER 0x2100
#define INTR_VECTOR 0x20

typedef struct Box {
    AddressSpace mem, io;
    Cpu cpu;
    uint8_t *ram;
    int acks;
} Box;

static int intr_ack(void *opaque)
{
    Box *b = opaque;
    b->acks++;
    return INTR_VECTOR;
}

static void set_ivt(Box *b, int vector, uint16_t ip)
{
    b->ram[vector * 4] = (uint8_t)ip;
    b->ram[vector * 4 + 1] = (uint8_t)(ip >> 8);
    b->ram[vector * 4 + 2] = 0;
    b->ram[vector * 4 + 3] = 0;
}

static Box *box_new(void)
{
    Box *b = calloc(1, sizeof(*b));
    b->ram = calloc(1, RAM_SIZE);
    as_init(&b->mem, "memory", 0);
    as_init(&b->io, "io", 1u << 16);
    cr_assert_eq(as_map_ram(&b->mem, "ram", 0, RAM_SIZE, b->ram), 0);
    cpu_init(&b->cpu, &b->mem, &b->io);
    b->cpu.stop_on_exception = true;
    b->cpu.intr_ack = intr_ack;
    b->cpu.intr_opaque = b;
    cpu_load_seg_real(&b->cpu, SEG_CS, 0);
    cpu_load_seg_real(&b->cpu, SEG_SS, 0);
    b->cpu.s.regs[R_SP] = 0x8000;
    b->cpu.s.rip = CODE;
    b->cpu.s.idtr.base = 0;
    b->cpu.s.idtr.limit = 0x3ff;
    memset(b->ram + CODE, 0x90, 0x100);                 /* NOPs */
    memset(b->ram + NMI_HANDLER, 0x90, 0x10);
    b->ram[NMI_HANDLER + 2] = 0xcf;                      /* NOP NOP IRET */
    b->ram[INTR_HANDLER] = 0xcf;
    set_ivt(b, EXC_NMI, NMI_HANDLER);
    set_ivt(b, INTR_VECTOR, INTR_HANDLER);
    return b;
}

static void box_free(Box *b)
{
    cpu_destroy(&b->cpu);
    as_destroy(&b->mem);
    as_destroy(&b->io);
    free(b->ram);
    free(b);
}

static void code(Box *b, uint64_t at, const uint8_t *bytes, size_t n)
{
    memcpy(b->ram + at, bytes, n);
    block_invalidate_range(b->cpu.blocks, at, n);
}
#define CODE_AT(b, at, ...) code(b, at, (const uint8_t[]){ __VA_ARGS__ }, \
                                 sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* Run up to `n` instructions; returns the pending exception or -1. */
static int run(Box *b, unsigned n)
{
    b->cpu.s.exception.vector = -1;
    cpu_exec(&b->cpu, b->cpu.s.icount + n);
    return b->cpu.s.exception.vector;
}

static uint16_t stack_word(Box *b, unsigned i)
{
    uint64_t a = b->cpu.s.regs[R_SP] + 2 * i;
    return (uint16_t)(b->ram[a] | b->ram[a + 1] << 8);
}

/* ---- NMI ------------------------------------------------------------------ */

Test(nmi, taken_then_blocked_until_iret)
{
    Box *b = box_new();
    cpu_raise_nmi(&b->cpu);
    cr_assert_eq(run(b, 1), -1);
    cr_expect_eq(b->cpu.s.rip, NMI_HANDLER + 1, "NMI, then the handler's NOP");
    cr_expect_eq(stack_word(b, 0), CODE, "return address");
    cr_expect(b->cpu.s.nmi_blocked);
    cpu_raise_nmi(&b->cpu);
    cr_assert_eq(run(b, 1), -1);
    cr_expect_eq(b->cpu.s.rip, NMI_HANDLER + 2, "a second NMI waits");
    cr_expect(b->cpu.s.nmi_pending);
    cr_assert_eq(run(b, 1), -1);                         /* IRET */
    cr_expect_eq(b->cpu.s.rip, CODE);
    cr_expect(!b->cpu.s.nmi_blocked, "IRET ends the blocking");
    cr_assert_eq(run(b, 1), -1);
    cr_expect_eq(b->cpu.s.rip, NMI_HANDLER + 1, "the held NMI is taken now");
    cr_expect(!b->cpu.s.nmi_pending);
    box_free(b);
}

Test(nmi, before_intr)
{
    Box *b = box_new();
    b->cpu.s.eflags |= F_IF;
    b->cpu.intr_pending = 1;
    cpu_raise_nmi(&b->cpu);
    cr_assert_eq(run(b, 1), -1);
    cr_expect_eq(b->cpu.s.rip, NMI_HANDLER + 1);
    cr_expect_eq(b->acks, 0, "INTR waits: the NMI came first and cleared IF");
    box_free(b);
}

Test(nmi, held_off_by_mov_ss)
{
    Box *b = box_new();
    CODE_AT(b, CODE, 0x8e, 0xd0, 0x90, 0x90);          /* MOV SS, AX; NOP */
    cr_assert_eq(run(b, 1), -1);
    cpu_raise_nmi(&b->cpu);
    cr_assert_eq(run(b, 1), -1);
    cr_expect_eq(b->cpu.s.rip, CODE + 3, "the shadowed NOP runs first");
    cr_assert_eq(run(b, 1), -1);
    cr_expect_eq(b->cpu.s.rip, NMI_HANDLER + 1);
    cr_expect_eq(stack_word(b, 0), CODE + 3);
    box_free(b);
}

Test(nmi, wakes_hlt)
{
    Box *b = box_new();
    CODE_AT(b, CODE, 0xf4);                              /* HLT */
    cr_assert_eq(run(b, 1), -1);
    cr_expect(b->cpu.s.halted);
    cr_expect_eq(run(b, 1), -1);
    cr_expect(b->cpu.s.halted, "still halted without an event");
    cpu_raise_nmi(&b->cpu);
    cr_assert_eq(run(b, 1), -1);
    cr_expect(!b->cpu.s.halted);
    cr_expect_eq(stack_word(b, 0), CODE + 1, "returns after the HLT");
    box_free(b);
}

/* ---- debug registers ---------------------------------------------------------- */

static void set_dr7(Box *b, uint64_t v)
{
    b->cpu.s.dr[7] = v | 0x400;
    debug_update(&b->cpu);
}

Test(debug, io_breakpoint_needs_de)
{
    Box *b = box_new();
    CODE_AT(b, CODE, 0xe6, 0x80, 0xe6, 0x80, 0xe4, 0x81);   /* OUT 80h; OUT 80h; IN 81h */
    b->cpu.s.dr[0] = 0x80;
    set_dr7(b, 0x1 | (2u << 16) | (1u << 18));          /* L0, I/O, 2 bytes */
    cr_expect_eq(run(b, 1), -1, "without CR4.DE, R/W = 10 is no breakpoint");
    b->cpu.s.cr4 |= CR4_DE;
    debug_update(&b->cpu);
    cr_expect_eq(run(b, 1), EXC_DB);
    cr_expect_eq(b->cpu.s.rip, CODE + 4, "a trap: after the OUT");
    cr_expect_eq(b->cpu.s.dr[6] & 0xf, 1, "B0");
    b->cpu.s.dr[6] = 0xffff0ff0;
    cr_expect_eq(run(b, 1), EXC_DB, "port 81h is inside the 2-byte range");
    cr_expect_eq(b->cpu.s.rip, CODE + 6);
    box_free(b);
}

Test(debug, general_detect)
{
    Box *b = box_new();
    CODE_AT(b, CODE, 0x0f, 0x21, 0xf8, 0x0f, 0x21, 0xf8);   /* MOV EAX, DR7 x2 */
    set_dr7(b, DR7_GD);
    cr_expect_eq(run(b, 1), EXC_DB);
    cr_expect_eq(b->cpu.s.rip, CODE, "a fault: before the MOV");
    cr_expect(b->cpu.s.dr[6] & DR6_BD);
    cr_expect(!(b->cpu.s.dr[7] & DR7_GD), "cleared for the handler");
    cr_expect_eq(run(b, 1), -1, "the handler may read DR7");
    cr_expect_eq(b->cpu.s.regs[R_AX] & 0xffffffff, 0x400);
    box_free(b);
}

Test(debug, dr4_dr5)
{
    Box *b = box_new();
    CODE_AT(b, CODE, 0x0f, 0x21, 0xe0, 0x0f, 0x21, 0xe0);   /* MOV EAX, DR4 x2 */
    b->cpu.s.dr[6] = 0xffff4ff1;
    cr_expect_eq(run(b, 1), -1);
    cr_expect_eq(b->cpu.s.regs[R_AX] & 0xffffffff, 0xffff4ff1, "DR4 is DR6");
    b->cpu.s.cr4 |= CR4_DE;
    cr_expect_eq(run(b, 1), EXC_UD, "with CR4.DE it is #UD");
    box_free(b);
}

Test(debug, eight_byte_data_breakpoint)
{
    Box *b = box_new();
    /* MOV AX, [300Eh]; MOV AX, [3010h]; MOV [3006h], AX */
    CODE_AT(b, CODE, 0xa1, 0x0e, 0x30, 0xa1, 0x10, 0x30, 0xa3, 0x06, 0x30);
    b->cpu.s.dr[1] = 0x300c;                             /* aligned down: 3008h */
    set_dr7(b, (0x2u << 2) | (3u << 20) | (2u << 22));  /* G1, R/W, 8 bytes */
    cr_expect_eq(run(b, 1), EXC_DB, "300Eh is in 3008h-300Fh");
    cr_expect_eq(b->cpu.s.dr[6] & 0xf, 2, "B1");
    cr_expect_eq(b->cpu.s.rip, CODE + 3);
    cr_expect_eq(run(b, 1), -1, "3010h is not");
    cr_expect_eq(run(b, 1), -1, "3006h-3007h is not either");
    box_free(b);
}

Test(debug, single_step_rep_iterations)
{
    Box *b = box_new();
    CODE_AT(b, CODE, 0xf3, 0xaa, 0x90);                  /* REP STOSB; NOP */
    b->cpu.s.regs[R_CX] = 3;
    b->cpu.s.regs[R_DI] = 0x4000;
    b->cpu.s.eflags |= F_TF;
    for (int i = 2; i >= 1; i--) {
        cr_expect_eq(run(b, 1), EXC_DB);
        cr_expect_eq(b->cpu.s.rip, CODE, "a trap after an iteration: on the REP");
        cr_expect_eq(b->cpu.s.regs[R_CX], (uint64_t)i);
        cr_expect(b->cpu.s.eflags & F_RF, "RF = 1 for all but the last");
        cr_expect(b->cpu.s.dr[6] & DR6_BS);
    }
    cr_expect_eq(run(b, 1), EXC_DB);
    cr_expect_eq(b->cpu.s.rip, CODE + 2, "the last iteration ends the REP");
    cr_expect(!(b->cpu.s.eflags & F_RF));
    box_free(b);
}

Test(debug, instruction_breakpoint_and_rf)
{
    Box *b = box_new();
    b->cpu.s.dr[2] = CODE + 1;
    set_dr7(b, 0x10);                                     /* L2, execute */
    cr_expect_eq(run(b, 2), EXC_DB);
    cr_expect_eq(b->cpu.s.rip, CODE + 1, "a fault: before the instruction");
    cr_expect_eq(b->cpu.s.dr[6] & 0xf, 4, "B2");
    b->cpu.s.eflags |= F_RF;                             /* as IRET would */
    cr_expect_eq(run(b, 1), -1, "RF suppresses it once");
    cr_expect_eq(b->cpu.s.rip, CODE + 2);
    cr_expect(!(b->cpu.s.eflags & F_RF), "and is cleared after the instruction");
    box_free(b);
}

/* ---- MTRRs and PAT --------------------------------------------------------------- */

Test(msr, mtrr_cap_and_cpuid)
{
    Box *b = box_new();
    uint64_t v;
    cr_assert_eq(cpu_rdmsr(&b->cpu, 0xfe, &v), 0);
    cr_expect_eq(v & 0xff, 8, "VCNT");
    cr_expect(v & (1u << 8), "FIX");
    cr_expect(v & (1u << 10), "WC");
    cr_expect_eq(cpu_wrmsr(&b->cpu, 0xfe, v), -1, "read-only");
    uint32_t out[4];
    cpu_cpuid(&b->cpu, 1, 0, out);
    cr_expect(out[3] & CPUID1_EDX_MTRR);
    cr_expect(out[3] & CPUID1_EDX_PAT);
    box_free(b);
}

Test(msr, mtrr_checks)
{
    Box *b = box_new();
    Cpu *c = &b->cpu;
    uint64_t v;
    cr_expect_eq(cpu_wrmsr(c, 0x2ff, 0xc06), 0, "E, FE, WB");
    cr_assert_eq(cpu_rdmsr(c, 0x2ff, &v), 0);
    cr_expect_eq(v, 0xc06);
    cr_expect_eq(cpu_wrmsr(c, 0x2ff, 0x1006), -1, "reserved bit 12");
    cr_expect_eq(cpu_wrmsr(c, 0x2ff, 0x802), -1, "type 2 is reserved");
    cr_expect_eq(cpu_wrmsr(c, 0x250, 0x0606060606060606ull), 0);
    cr_expect_eq(cpu_wrmsr(c, 0x26f, 0x0504010006060606ull), 0);
    cr_assert_eq(cpu_rdmsr(c, 0x26f, &v), 0);
    cr_expect_eq(v, 0x0504010006060606ull);
    cr_expect_eq(cpu_wrmsr(c, 0x259, 0x0700000000000000ull), -1, "type 7 in a fixed MTRR");
    cr_expect_eq(cpu_rdmsr(c, 0x251, &v), -1, "0x251 is no MTRR");
    cr_expect_eq(cpu_wrmsr(c, 0x200, 0x80000006ull), 0, "PHYSBASE0: 2 GiB, WB");
    cr_expect_eq(cpu_wrmsr(c, 0x201, 0xff80000800ull), 0, "PHYSMASK0: 2 GiB, valid");
    cr_expect_eq(cpu_wrmsr(c, 0x20e, 0x106ull), -1, "PHYSBASE bits 11:8 reserved");
    cr_expect_eq(cpu_wrmsr(c, 0x20f, 0x10000000800ull), -1, "above MAXPHYADDR");
    cr_expect_eq(cpu_wrmsr(c, 0x20f, 0xfff80000801ull & 0xfffffff800ull), 0);
    cr_expect_eq(cpu_wrmsr(c, 0x20f, 0x801ull), -1, "PHYSMASK bits 10:0 reserved");
    cr_expect_eq(cpu_rdmsr(c, 0x210, &v), -1, "only 8 variable ranges");
    box_free(b);
}

Test(msr, pat_checks)
{
    Box *b = box_new();
    uint64_t v;
    cr_assert_eq(cpu_rdmsr(&b->cpu, 0x277, &v), 0);
    cr_expect_eq(v, 0x0007040600070406ull, "power-on value");
    cr_expect_eq(cpu_wrmsr(&b->cpu, 0x277, 0x0007010600070106ull), 0);
    cr_expect_eq(cpu_wrmsr(&b->cpu, 0x277, 0x0007040200070406ull), -1, "type 2");
    cr_expect_eq(cpu_wrmsr(&b->cpu, 0x277, 0x0307040600070406ull), -1, "type 3");
    cr_expect_eq(cpu_wrmsr(&b->cpu, 0x277, 0x0007040600070416ull), -1, "bits 7:3");
    box_free(b);
}

Test(msr, firmware_defaults)
{
    Box *b = box_new();
    Cpu *c = &b->cpu;
    uint64_t v;
    cpu_mtrr_firmware_defaults(c, 512ull << 20);
    cr_assert_eq(cpu_rdmsr(c, 0x2ff, &v), 0);
    cr_expect_eq(v, 0xc06, "enabled, fixed ranges on, WB");
    static const uint64_t base[3] = { 512ull << 20, 1ull << 30, 2ull << 30 };
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cpu_rdmsr(c, 0x200 + 2 * i, &v), 0);
        cr_expect_eq(v, base[i], "PHYSBASE%d: UC at %#llx", i, (unsigned long long)base[i]);
        cr_expect_eq(cpu_wrmsr(c, 0x200 + 2 * i, v), 0, "a valid value");
        cr_assert_eq(cpu_rdmsr(c, 0x201 + 2 * i, &v), 0);
        cr_expect_eq(v, (~(base[i] - 1) & 0xfffffff000ull) | 0x800,
                     "PHYSMASK%d: size %#llx, valid", i, (unsigned long long)base[i]);
        cr_expect_eq(cpu_wrmsr(c, 0x201 + 2 * i, v), 0, "a valid value");
    }
    cr_assert_eq(cpu_rdmsr(c, 0x207, &v), 0);
    cr_expect_eq(v, 0, "PHYSMASK3 unused");
    cr_assert_eq(cpu_rdmsr(c, 0x259, &v), 0);
    cr_expect_eq(v, 0, "the VGA window is UC");
    cr_assert_eq(cpu_rdmsr(c, 0x250, &v), 0);
    cr_expect_eq(cpu_wrmsr(c, 0x250, v), 0);
    cr_assert_eq(cpu_rdmsr(c, 0x26f, &v), 0);
    cr_expect_eq(cpu_wrmsr(c, 0x26f, v), 0);
    box_free(b);
}

/* The x86 CPU: architectural state and the interface the rest of Vireo sees.
 *
 * CpuState is plain data (contract 3 of DESIGN.md): registers, lazy flags,
 * segment caches, control registers, MSRs and the retired-instruction count.
 * Cpu wraps it with the runtime links (address spaces, clock, caches), which
 * are never saved.
 *
 * Layout of the state follows the SDM Vol. 1 ch. 3 (registers, EFLAGS) and
 * Vol. 3 ch. 2-3 (control registers, segment descriptors).
 */
#ifndef VIREO_CPU_CPU_H
#define VIREO_CPU_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/fpu/x87_state.h"
#include "cpu/sse/sse_state.h"
#include "mmu/addrspace.h"
#include "mmu/tlb.h"

/* General-purpose registers, in encoding order. */
enum {
    R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI,
    R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
    /* Byte registers AH, CH, DH, BH (encodings 4-7 without REX) are
     * resolved by the decoder to these numbers, so handlers never look at
     * REX to pick a byte register. */
    R_AH = 16, R_CH, R_DH, R_BH,
    R_NONE = 0xff,
    R_RIP = 0xfe,     /* base register of a RIP-relative operand */
};

/* Segment registers, in encoding order. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* EFLAGS bits (SDM Vol. 1 3.4.3). */
enum {
    F_CF = 1u << 0,  F_PF = 1u << 2,  F_AF = 1u << 4,  F_ZF = 1u << 6,
    F_SF = 1u << 7,  F_TF = 1u << 8,  F_IF = 1u << 9,  F_DF = 1u << 10,
    F_OF = 1u << 11, F_IOPL = 3u << 12, F_NT = 1u << 14, F_RF = 1u << 16,
    F_VM = 1u << 17, F_AC = 1u << 18, F_VIF = 1u << 19, F_VIP = 1u << 20,
    F_ID = 1u << 21,
    F_ARITH = F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF,
    F_FIXED1 = 1u << 1,   /* reads as 1 */
};

/* CR0 and CR4 bits used by the core (SDM Vol. 3 2.5). */
enum {
    CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3,
    CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18,
    CR0_NW = 1u << 29, CR0_CD = 1u << 30, CR0_PG = 1u << 31,
};
enum {
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8, CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10,
};
enum { EFER_SCE = 1u << 0, EFER_LME = 1u << 8, EFER_LMA = 1u << 10, EFER_NXE = 1u << 11 };

/* CpuState.intr_shadow: STI (with IF = 0 before it) holds off maskable
 * interrupts for one instruction (SDM Vol. 2 STI); MOV SS and POP SS also
 * hold off debug exceptions, single-step traps included (Vol. 3 6.8.3).
 * Both hold off NMI too here, which the SDM allows ("some processors"). */
enum { INTR_SHADOW_NONE = 0, INTR_SHADOW_STI = 1, INTR_SHADOW_MOVSS = 2 };

/* Exception vectors (SDM Vol. 3 6.3.1). */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* A segment register with its hidden descriptor cache.  `attr` holds the
 * descriptor's access byte in bits 0-7 (type, S, DPL, P) and its flags
 * nibble in bits 8-11 (AVL, L, D/B, G), as in the descriptor's bits 40-55
 * with the limit nibble squeezed out. */
typedef struct SegmentCache {
    uint64_t base;
    uint32_t limit;          /* in bytes, granularity already applied */
    uint16_t selector;
    uint16_t attr;
} SegmentCache;

enum {
    SEG_ATTR_TYPE = 0x00f, SEG_ATTR_S = 0x010, SEG_ATTR_DPL = 0x060,
    SEG_ATTR_P = 0x080, SEG_ATTR_AVL = 0x100, SEG_ATTR_L = 0x200,
    SEG_ATTR_DB = 0x400, SEG_ATTR_G = 0x800,
};

typedef struct DescriptorTable {
    uint64_t base;
    uint32_t limit;
} DescriptorTable;

/* Lazy flags (the technique of QEMU and Bochs, written from the SDM's flag
 * definitions): an arithmetic instruction records what it did, cc_op, and
 * its operands; the six arithmetic flags are computed only when something
 * reads them.  cc_op = kind * 4 + log2(operand size). */
enum {
    CC_EFLAGS = 0,  /* cc_src holds the arithmetic flags themselves */
    CC_ADD = 1,     /* dst = result, src = second operand */
    CC_ADC,         /* as ADD, src2 = carry in */
    CC_SUB,         /* dst = result, src = subtrahend */
    CC_SBB,         /* as SUB, src2 = borrow in */
    CC_LOGIC,       /* dst = result; CF = OF = 0 */
    CC_INC,         /* dst = result, src = CF before */
    CC_DEC,         /* dst = result, src = CF before */
    CC_SHL,         /* dst = result, src = operand << (count - 1) */
    CC_SHR,         /* dst = result, src = operand >> (count - 1) */
    CC_SAR,         /* dst = result, src = operand >>s (count - 1) */
    CC_MUL,         /* dst = low result, src = non-zero iff CF = OF = 1 */
    CC_KIND_COUNT
};
#define CC_OP(kind, size_log2) ((kind) * 4 + (size_log2))

/* Why the interpreter stopped running a block. */
enum {
    CPU_OK = 0,      /* continue with the next instruction */
    CPU_FAULT = 1,   /* an exception is pending in CpuState.exception */
    CPU_EXIT = 2,    /* state is consistent, leave the block (HLT, mode
                        change, a write to code, a change to IF...) */
};

typedef struct PendingException {
    int32_t vector;         /* -1: none */
    uint32_t error_code;
    uint8_t has_error_code;
    uint8_t is_soft;        /* INT n / INT3 / INTO: pushes return_rip */
    uint8_t pad[6];
    uint64_t return_rip;    /* soft interrupts: the next instruction; RIP
                               itself stays on the INT, so a fault during
                               delivery points at it (SDM Vol. 3 6.5) */
} PendingException;

/* Architectural state: plain data, saved by snapshots, compared by the
 * differential tests. */
typedef struct CpuState {
    uint64_t regs[16];
    uint64_t rip;
    uint64_t eflags;         /* all bits but F_ARITH, which live in cc_* */
    uint64_t cc_dst, cc_src, cc_src2;
    uint32_t cc_op;

    SegmentCache seg[SEG_COUNT];
    SegmentCache ldtr, tr;
    DescriptorTable gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr[8];

    /* MSRs the core implements. */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t tsc_aux, apic_base, pat, misc_enable;
    uint64_t tsc_offset;     /* TSC = clock-derived ticks + tsc_offset */

    /* Memory-type registers (SDM Vol. 3 11.11): stored and validated,
     * not acted on (an emulator has no caches to steer). */
    uint64_t mtrr_def_type;      /* IA32_MTRR_DEF_TYPE */
    uint64_t mtrr_fixed[11];     /* 0x250, 0x258, 0x259, 0x268-0x26F */
    uint64_t mtrr_var[16];       /* PHYSBASE0, PHYSMASK0, ... (0x200-0x20F) */

    uint64_t icount;         /* retired instructions */
    PendingException exception;
    uint8_t halted;
    uint8_t intr_shadow;     /* INTR_SHADOW_*: events held off until after
                                the next instruction (SDM Vol. 3 6.8.3) */
    uint8_t nmi_pending;     /* the NMI input latched an edge */
    uint8_t nmi_blocked;     /* an NMI handler runs: NMIs wait for IRET
                                (SDM Vol. 3 6.7.1) */
    uint32_t debug_pending;  /* DR6 bits (B0-B3, BD, BS, BT) of #DB traps
                                not yet delivered (cpu/debug.c) */

    X87State fpu;            /* x87 FPU (cpu/fpu/) */
    SseState sse;            /* XMM registers and MXCSR (cpu/sse/) */
} CpuState;

/* Processor features reported by CPUID and gating instructions.  Bits use
 * the CPUID register layout so the same words answer CPUID. */
typedef struct CpuFeatures {
    uint32_t leaf1_edx, leaf1_ecx;
    uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;
    uint32_t ext1_edx, ext1_ecx;     /* leaf 0x80000001 */
} CpuFeatures;

/* MAXPHYADDR reported by CPUID 80000008h; higher bits in page-table
 * entries are reserved. */
#define CPU_PHYS_BITS 40

/* CPUID feature bits the decoder gates on. */
#define CPUID1_ECX_SSE3    (1u << 0)
#define CPUID1_ECX_CX16    (1u << 13)
#define CPUID1_ECX_MOVBE   (1u << 22)
#define CPUID1_ECX_POPCNT  (1u << 23)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24) /* likewise */
#define CPUID1_EDX_TSC     (1u << 4)
#define CPUID1_EDX_CX8     (1u << 8)
#define CPUID1_EDX_APIC    (1u << 9)     /* set while an APIC is attached */
#define CPUID1_EDX_SEP     (1u << 11)
#define CPUID1_EDX_MTRR    (1u << 12)
#define CPUID1_EDX_PAT     (1u << 16)
#define CPUID1_EDX_CMOV    (1u << 15)
#define CPUID1_EDX_CLFLUSH (1u << 19)
#define CPUID1_EDX_FPU     (1u << 0)
#define CPUID1_EDX_FXSR    (1u << 24)
#define CPUID1_EDX_MMX     (1u << 23)
#define CPUID1_EDX_SSE     (1u << 25)
#define CPUID1_EDX_SSE2    (1u << 26)
#define CPUID1_ECX_SSSE3   (1u << 9)
#define CPUID1_ECX_SSE41   (1u << 19)
#define CPUID1_ECX_SSE42   (1u << 20)
#define CPUID7_EBX_BMI1    (1u << 3)
#define CPUIDX_ECX_LAHF    (1u << 0)
#define CPUIDX_ECX_ABM     (1u << 5)     /* LZCNT */
#define CPUIDX_EDX_SYSCALL (1u << 11)
#define CPUIDX_EDX_RDTSCP  (1u << 27)
#define CPUIDX_EDX_LM      (1u << 29)

struct BlockCache;
struct Jit;

/* Virtual time for RDTSC, supplied by the board (cpu/ does not include
 * machine/).  NULL: one nanosecond per retired instruction. */
typedef int64_t (*CpuTimeSource)(void *opaque);

/* How an external interrupt controller reaches the CPU (the PIC and APIC
 * issues plug in here): the INTR line is a level in `intr_pending`; when the
 * CPU can take it, it calls `intr_ack` for the vector. */
typedef int (*CpuIntrAck)(void *opaque);

/* The local APIC, when the board attaches one (cpu/ does not include hw/:
 * the board fills this table with thin wrappers around hw/lapic.h).  With
 * an APIC, `intr_pending` is the APIC's INTR output (the board's
 * set_cpu_intr hook drives it; `has_interrupt` is the same level, asked
 * on demand) and the INTA cycle is `ack`; CR8 is the TPR; IA32_APIC_BASE
 * writes and IA32_TSC_DEADLINE go to the APIC; CPUID reports the APIC and
 * TSC-deadline bits. */
typedef struct CpuApicOps {
    uint8_t (*get_tpr)(void *apic);              /* MOV from CR8: TPR[7:4] */
    void (*set_tpr)(void *apic, uint8_t cr8);     /* MOV to CR8 */
    void (*set_base)(void *apic, uint64_t msr);   /* WRMSR IA32_APIC_BASE */
    uint64_t (*read_tsc_deadline)(void *apic);    /* RDMSR 0x6E0 */
    void (*write_tsc_deadline)(void *apic, uint64_t deadline,
                               uint64_t tsc_now); /* WRMSR 0x6E0 */
    bool (*has_interrupt)(void *apic);            /* INTR level */
    int (*ack)(void *apic);                       /* INTA: the vector */
} CpuApicOps;

typedef struct Cpu {
    CpuState s;

    /* Runtime links, never saved. */
    AddressSpace *mem;
    AddressSpace *io;
    CpuTimeSource time_ns;
    void *time_opaque;
    struct BlockCache *blocks;
    struct Jit *jit;          /* tier 1 (jit/jit.h), NULL: interpreter only */
    CpuFeatures features;
    uint32_t mode;            /* CPU_MODE_* derived from CR0/EFER/CS */
    uint64_t icount_limit;    /* cpu_exec returns when icount reaches it */
    Tlb tlb;                  /* soft TLB: a cache, never saved */
    uint64_t tlb_generation;  /* mem->generation the TLB was filled under */
    uint64_t a20_mask;        /* physical address mask: ~0, or bit 20 clear
                                 while the board's A20 gate is off */
    volatile int exit_request;
    bool shutdown;            /* triple fault: the board resets or exits */
    bool stop_on_exception;   /* tests: cpu_exec returns with the exception
                                 pending in s.exception, undelivered */
    volatile int intr_pending;
    CpuIntrAck intr_ack;
    void *intr_opaque;
    /* The local APIC: NULL ops for a CPU without one (the 8259 then
     * drives intr_pending and intr_ack directly). */
    const CpuApicOps *apic_ops;
    void *apic;
    uint32_t apic_id;         /* initial APIC ID, CPUID 1 EBX[31:24] */
    /* FERR# output (CR0.NE = 0 error reporting, SDM Vol. 1 8.7): called
     * with level 1 when an unmasked x87 exception becomes pending and 0
     * when it is cleared; the board routes it to IRQ13.  NULL: unwired. */
    void (*ferr)(void *opaque, int level);
    void *ferr_opaque;
    int ferr_level;           /* last level given to ferr */
    /* DEBUG_* (cpu/debug.h): which kinds of DR0-DR3 breakpoint DR7 (and
     * CR4.DE for I/O) enable.  Zero keeps the interpreter on its fast
     * path; recomputed by debug_update() on MOV DR7, MOV CR4 and reset. */
    uint8_t debug_active;
} Cpu;

/* Derived execution mode, recomputed by cpu_update_mode() whenever CR0,
 * EFER, CS or EFLAGS.VM change. */
enum {
    CPU_MODE_CODE16 = 0,      /* default operand/address size 16 */
    CPU_MODE_CODE32 = 1,
    CPU_MODE_CODE64 = 2,
    CPU_MODE_SIZE_MASK = 3,
    CPU_MODE_PROT = 1u << 2,  /* CR0.PE */
    CPU_MODE_LONG = 1u << 3,  /* EFER.LMA */
    CPU_MODE_V86 = 1u << 4,
    CPU_MODE_SS32 = 1u << 5,  /* stack pointer is ESP (B bit) */
};

void cpu_init(Cpu *cpu, AddressSpace *mem, AddressSpace *io);
void cpu_destroy(Cpu *cpu);
/* Power-on/RESET state (SDM Vol. 3 9.1.1): CS:IP = F000:FFF0, base FFFF0000. */
void cpu_reset(Cpu *cpu);
void cpu_update_mode(Cpu *cpu);
/* The default feature set: an x86-64-v1 CPU plus what the core implements. */
void cpu_default_features(CpuFeatures *f);

/* Run until icount reaches `icount_limit`, exit_request is set, or the CPU
 * halts.  Exceptions are delivered inside.  Returns the number of
 * instructions retired. */
uint64_t cpu_exec(Cpu *cpu, uint64_t icount_limit);

/* EFLAGS with the arithmetic flags materialised. */
uint64_t cpu_get_eflags(Cpu *cpu);
/* Replace the bits of EFLAGS selected by `mask`. */
void cpu_set_eflags(Cpu *cpu, uint64_t value, uint64_t mask);

/* Raise exception `vector` (error code if has_error).  Returns CPU_FAULT so
 * handlers can write `return cpu_raise(cpu, EXC_GP, 0, true);`. */
int cpu_raise(Cpu *cpu, int vector, uint32_t error_code, bool has_error);

/* The board's A20 gate changed (port 0x92, the keyboard controller). */
void cpu_set_a20(Cpu *cpu, bool enabled);

/* The NMI input (the local APIC's LINT1 or NMI message, a monitor
 * command): latches one NMI, taken before INTR at the next instruction
 * boundary unless an NMI handler is still running (until its IRET). */
void cpu_raise_nmi(Cpu *cpu);

/* Make the running block stop at its next instruction boundary (or, for
 * translated code, at the next block entry), so cpu_exec looks at
 * interrupts and exit_request: called when the NMI or INTR input rises
 * and when exit_request is set.  A plain store: signal- and thread-safe. */
void cpu_kick(Cpu *cpu);

/* The MTRRs as PC firmware leaves them at boot (SDM Vol. 3 11.11), for
 * boards that start a kernel without firmware: write-back by default, the
 * VGA window 0xA0000-0xBFFFF uncacheable, 0xC0000-0xFFFFF write-protected,
 * and [ram_below_4g, 4 GiB) (the PCI hole and the firmware) uncacheable
 * through the variable ranges.  Linux leaves PAT alone when it finds the
 * MTRRs disabled, so this is what gives a directly booted kernel PAT. */
void cpu_mtrr_firmware_defaults(Cpu *cpu, uint64_t ram_below_4g);

/* Load a segment register in real/V86 mode (base = selector << 4). */
void cpu_load_seg_real(Cpu *cpu, int seg, uint16_t selector);

#endif

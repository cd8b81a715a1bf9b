/* The instruction decoder: bytes in, a compact DecodedInsn out.
 *
 * One table-driven decoder (contract 1 of DESIGN.md).  cpu/opcodes.def lists
 * every instruction in SDM operand notation (Vol. 2 Appendix A); the decoder
 * turns prefixes, REX, ModRM, SIB, displacement and immediates into
 * DecodedInsn, whose `id` names the one C handler that executes it.  The
 * interpreter calls that handler; the JIT's default lowering calls the same
 * handler with the same DecodedInsn, so a DecodedInsn must be self-contained:
 * nothing in it depends on where in linear memory the code sits (RIP-relative
 * addresses are computed at run time from RIP).
 */
#ifndef VIREO_CPU_DECODE_H
#define VIREO_CPU_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* Instruction ids: INSN_<name> for each distinct handler in opcodes.def. */
typedef enum InsnId {
#define INSN(name) INSN_##name,
#include "cpu/insns.def"
#undef INSN
    INSN_COUNT
} InsnId;

/* Operand kinds after decoding. */
enum {
    OPK_NONE = 0,
    OPK_REG,     /* general register number in DecodedInsn.reg[i] */
    OPK_MEM,     /* the memory operand: seg:base+index*scale+disp */
    OPK_IMM,     /* DecodedInsn.imm */
    OPK_IMM2,    /* DecodedInsn.imm2 (ENTER's level, far pointer selector) */
    OPK_SREG,    /* segment register number in reg[i] */
    OPK_CREG,    /* control register number in reg[i] */
    OPK_DREG,    /* debug register number in reg[i] */
    OPK_XMM,     /* XMM register number in reg[i] */
    OPK_MMX,     /* MMX register number (0-7) in reg[i] */
};

/* Prefix bits seen, in DecodedInsn.pfx. */
enum {
    PFX_LOCK = 1u << 0,
    PFX_REP = 1u << 1,      /* F3: REP / REPE */
    PFX_REPNE = 1u << 2,    /* F2 */
    PFX_OPSIZE = 1u << 3,   /* 66 */
    PFX_ADSIZE = 1u << 4,   /* 67 */
    PFX_SEG = 1u << 5,      /* an explicit segment override */
    PFX_REX = 1u << 6,      /* any REX prefix */
    PFX_REXW = 1u << 7,
};

/* Attributes copied from the table into DecodedInsn.attr: what the
 * interpreter and the JIT need at run time. */
enum {
    DA_BRANCH = 1u << 0,   /* the handler sets RIP itself */
    DA_END = 1u << 1,      /* ends the decoded block (control flow, mode
                              changes, HLT, interrupt-window changes) */
    DA_STRING = 1u << 2,   /* string instruction: REP semantics apply */
    DA_MEM = 1u << 3,      /* has a memory operand (ModRM with mod != 3) */
};

typedef struct DecodedInsn {
    uint16_t id;            /* InsnId */
    uint16_t row;           /* index of the opcodes.def row (0: none) */
    uint8_t len;            /* bytes, prefixes included: 1..15 */
    uint8_t osize;          /* effective operand size in bytes: 1,2,4,8 */
    uint8_t asize;          /* effective address size in bytes: 2,4,8 */
    uint8_t seg;            /* segment of the memory operand (or of a
                               string source), override applied */
    uint8_t pfx;            /* PFX_* */
    uint8_t attr;           /* DA_* */
    uint8_t opcode;         /* last opcode byte (handlers may take the
                               condition code, or a direction bit, from it) */
    uint8_t modrm;          /* raw ModRM byte, 0 if none */
    uint8_t kind[3];        /* OPK_* of operands 0..2 (destination first) */
    uint8_t reg[3];         /* register numbers for REG/SREG/CREG/DREG */
    uint8_t base;           /* memory: base register, R_NONE or R_RIP */
    uint8_t index;          /* memory: index register or R_NONE */
    uint8_t scale;          /* memory: log2 of the scale */
    int64_t disp;           /* memory: displacement (moffs: the address) */
    uint64_t imm;           /* first immediate, extended as its spec says */
    uint64_t imm2;          /* second immediate */
} DecodedInsn;

/* Decode one instruction from `bytes`, of which `avail` (<= 15) are
 * readable.  `mode` is Cpu.mode.  Never fails: an invalid or disabled
 * encoding decodes to INSN_UD, more than 15 bytes to INSN_GP_LENGTH (both
 * handlers raise the fault when executed), and running out of readable bytes
 * to INSN_FETCH_FAULT with `len` = the offset of the first missing byte.
 * Returns the id. */
int decode_insn(const uint8_t *bytes, size_t avail, uint32_t mode,
                const CpuFeatures *features, DecodedInsn *out);

/* Per-id facts for the differential tests and the docs. */
const char *insn_name(int id);

/* The arithmetic flags the SDM leaves undefined for this decoded
 * instruction (F_* bits), for comparisons against other implementations. */
uint32_t decode_undefined_flags(const DecodedInsn *d);

#endif

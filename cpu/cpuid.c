/* CPUID (SDM Vol. 2 CPUID, Table 3-8): what this CPU says it is.
 *
 * The feature words come from Cpu.features, so the decoder's gates and
 * CPUID always agree.  The vendor is GenuineIntel because guests pick
 * SYSENTER/SYSCALL behaviour and errata by vendor, and Vireo follows Intel's
 * definitions where the vendors differ.
 */
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/insn.h"

#define MAX_BASIC_LEAF 0x16u
#define MAX_EXT_LEAF 0x80000008u
#define CPU_SIGNATURE 0x000306a9u

static void put_string(uint32_t out[4], const char *text, const int order[4])
{
    for (int i = 0; i < 4; i++)
        memcpy(&out[order[i]], text + 4 * i, 4);
}

void cpu_cpuid(const Cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    static const char brand[49] = "Vireo virtual x86-64 CPU                        ";
    const CpuFeatures *f = &cpu->features;
    memset(out, 0, 4 * sizeof(uint32_t));
    switch (leaf) {
    case 0: {
        static const int order[4] = { 1, 3, 2, 0 };  /* EBX, EDX, ECX */
        put_string(out, "GenuineIntel\0\0\0\0", order);
        out[0] = MAX_BASIC_LEAF;   /* after: put_string's 4th word is EAX */
        break;
    }
    case 1:
        out[0] = CPU_SIGNATURE;
        /* CLFLUSH line size 8 (x 8 = 64 bytes), one logical processor,
         * the initial APIC ID. */
        out[1] = (8u << 8) | (1u << 16) | (cpu->apic_id << 24);
        out[2] = f->leaf1_ecx;
        out[3] = f->leaf1_edx;
        if (cpu->apic_ops) {
            out[2] |= CPUID1_ECX_TSC_DEADLINE;
            out[3] |= CPUID1_EDX_APIC;
        }
        break;
    case 7:
        if (subleaf == 0) {
            out[1] = f->leaf7_ebx;
            out[2] = f->leaf7_ecx;
            out[3] = f->leaf7_edx;
        }
        break;
    case 0x15:
        /* TSC/crystal ratio 1/1 and a 1 GHz crystal: the TSC counts
         * virtual ns (cpu/msr.c).  Linux also takes the crystal as the
         * APIC timer's clock, which hw/lapic.c runs at 1 GHz too. */
        out[0] = 1;
        out[1] = 1;
        out[2] = 1000000000u;
        break;
    case 0x16:
        out[0] = 1000;   /* base MHz */
        out[1] = 1000;   /* maximum MHz */
        out[2] = 1000;   /* bus (reference) MHz */
        break;
    case 0x80000000:
        out[0] = MAX_EXT_LEAF;
        break;
    case 0x80000001:
        out[2] = f->ext1_ecx;
        out[3] = f->ext1_edx;
        break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        static const int order[4] = { 0, 1, 2, 3 };
        put_string(out, brand + 16 * (leaf - 0x80000002), order);
        break;
    }
    case 0x80000008:
        out[0] = (48u << 8) | 40u;   /* 48 linear, 40 physical address bits */
        break;
    default:
        break;   /* unknown leaves read as zero */
    }
}

; cpuid_v1: the CPUID feature bits of the x86-64-v1 baseline.
;
; x86-64-v1 (the psABI's baseline, what Debian amd64 requires) = CMOV, CX8,
; FPU, FXSR, MMX, OSFXSR, SCE, SSE, SSE2, plus what every x86-64 CPU has and
; the issue lists: TSC, MSR, PAE, APIC, SEP, MTRR, PGE, PAT, CLFLUSH, NX,
; LM.  Bit positions from SDM Vol. 2 CPUID, Table 3-11 (leaf 01H EDX) and
; the 80000001H EDX description.  The FAIL line shows got = the bits
; present among those wanted.
%define TEST_NAME "cpuid_v1"
%include "lib.inc"

; Leaf 1 EDX: FPU 0, TSC 4, MSR 5, PAE 6, CX8 8, APIC 9, SEP 11, MTRR 12,
; PGE 13, CMOV 15, PAT 16, CLFLUSH 19, MMX 23, FXSR 24, SSE 25, SSE2 26.
LEAF1_EDX equ (1 << 0) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | \
              (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 15) | \
              (1 << 16) | (1 << 19) | (1 << 23) | (1 << 24) | (1 << 25) | \
              (1 << 26)
; Leaf 80000001H EDX: SYSCALL 11, NX 20, LM 29.
EXT1_EDX  equ (1 << 11) | (1 << 20) | (1 << 29)

main:
        ENTER_PM32
        xor eax, eax
        cpuid
        cmp eax, 1
        jae .has1
        FAIL "CPUID leaf 0: max basic leaf < 1"
.has1:
        mov eax, 1
        cpuid
        and edx, LEAF1_EDX
        CHECK edx, LEAF1_EDX, "CPUID.01H:EDX bits (FPU TSC MSR PAE CX8 APIC SEP MTRR PGE CMOV PAT CLFLUSH MMX FXSR SSE SSE2)"
        mov eax, 0x80000000
        cpuid
        cmp eax, 0x80000001
        jae .hasx
        FAIL "CPUID leaf 80000000H: no leaf 80000001H"
.hasx:
        mov eax, 0x80000001
        cpuid
        and edx, EXT1_EDX
        CHECK edx, EXT1_EDX, "CPUID.80000001H:EDX bits (SYSCALL NX LM)"
        PASS

        END_IMAGE

; msr: RDMSR/WRMSR faults.
;
; SDM Vol. 2 RDMSR/WRMSR: #GP(0) "If the value in ECX specifies a reserved
; or unimplemented MSR address", and for WRMSR "If the value in EDX:EAX
; sets bits that are reserved in the MSR specified by ECX"; Vol. 4 2.1
; (IA32_EFER: only SCE, LME, LMA, NXE are defined; LMA is read-only).
; (QEMU reads unimplemented MSRs as 0; the SDM wins, see run.sh.)
%define TEST_NAME "msr"
%include "lib.inc"

main:
        ENTER_PM32
        ; 0x00000029 is not an architectural MSR on any Intel processor.
        TRY .r1
        mov ecx, 0x29
        rdmsr
        NOFAULT "RDMSR of an unimplemented MSR"
.r1:    EXPECT 13, 0, "RDMSR of an unimplemented MSR"
        TRY .r2
        mov ecx, 0x29
        xor eax, eax
        xor edx, edx
        wrmsr
        NOFAULT "WRMSR of an unimplemented MSR"
.r2:    EXPECT 13, 0, "WRMSR of an unimplemented MSR"
        ; EFER bit 2 is reserved.
        TRY .r3
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 2
        wrmsr
        NOFAULT "WRMSR EFER with reserved bit 2"
.r3:    EXPECT 13, 0, "WRMSR EFER with reserved bit 2"
        ; A defined MSR round-trips.
        mov ecx, 0x175                   ; IA32_SYSENTER_ESP
        mov eax, 0x12345678
        xor edx, edx
        wrmsr
        xor eax, eax
        rdmsr
        CHECK eax, 0x12345678, "IA32_SYSENTER_ESP round trip"
        PASS

        END_IMAGE

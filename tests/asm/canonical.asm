; canonical: non-canonical addresses in 64-bit mode: which exception, and
; where it is reported.
;
; SDM Vol. 1 3.3.7.1 and the 64-bit-mode exception lists of MOV, PUSH and
; POP (Vol. 2): "#SS(0) If a memory address referencing the SS segment is in
; a non-canonical form", "#GP(0) If the memory address is in a non-canonical
; form" for the other segments.  RBP- and RSP-based operands use SS by
; default.  WRMSR: #GP(0) for a non-canonical value in IA32_FS_BASE,
; IA32_GS_BASE, IA32_KERNEL_GS_BASE, IA32_LSTAR, IA32_SYSENTER_EIP/ESP.  JMP: "#GP(0) If the target operand is non-canonical": a fault
; of the JMP, so the saved RIP is the JMP's (6.5).  (QEMU raises #GP(0) for
; SS references, and reports the JMP fault at the target; the SDM wins, see
; run.sh.)
%define TEST_NAME "canonical"
%include "lib.inc"

main:
        ENTER_PM32
        ENTER_LONG
        ; DS-based: #GP(0).
        TRY .r1
        mov rax, 0x0000800000000000
        mov rbx, [rax]
        NOFAULT "DS-based non-canonical load"
.r1:    EXPECT 13, 0, "DS-based non-canonical load"
        ; RBP-based: #SS(0).
        TRY .r2
        mov rbp, 0xffff7ffffffffff0
        mov rbx, [rbp]
        NOFAULT "RBP-based non-canonical load"
.r2:    EXPECT 12, 0, "RBP-based non-canonical load"
        ; PUSH with a non-canonical RSP: #SS(0), and RSP unchanged.  The
        ; handler runs on RSP0 from the TSS only on a privilege change, so
        ; the #SS goes through IST 1 here.
        mov eax, 12
        lea rbx, [lib_stubs64 + 12 * 12]
        mov cx, SEL_CODE64
        mov dx, 0x8e01
        call lib_set_gate64
        mov r12, rsp
        TRY .r4
        mov rsp, 0x0000800000000008
        push rax
        NOFAULT "PUSH with a non-canonical RSP"
.r4:    mov rsp, r12
        EXPECT 12, 0, "PUSH with a non-canonical RSP"
        CHECK [EXC_ESP], 0x0000800000000008, "RSP saved for the #SS"
        ; JMP to a non-canonical target: #GP(0) at the JMP.
        TRY .r5
        mov rax, 0x0000900000000000
.jmp:   jmp rax
        NOFAULT "JMP to a non-canonical address"
.r5:    EXPECT 13, 0, "JMP to a non-canonical address"
        CHECK [EXC_EIP], .jmp, "JMP to non-canonical: saved RIP"
        ; WRMSR of a non-canonical FS.base / KernelGSbase / LSTAR: #GP(0),
        ; and the MSR keeps its value.
        mov ecx, 0xc0000100
        mov eax, 0x1000
        xor edx, edx
        wrmsr
        TRY .r6
        mov ecx, 0xc0000100
        xor eax, eax
        mov edx, 0x00008000              ; 0x0000800000000000
        wrmsr
        NOFAULT "WRMSR FS.base non-canonical"
.r6:    EXPECT 13, 0, "WRMSR FS.base non-canonical"
        mov ecx, 0xc0000100
        rdmsr
        CHECK32 eax, 0x1000, "FS.base after a refused WRMSR"
        TRY .r7
        mov ecx, 0xc0000102
        xor eax, eax
        mov edx, 0xffff0000              ; 0xffff000000000000: bit 47 clear
        wrmsr
        NOFAULT "WRMSR KernelGSbase non-canonical"
.r7:    EXPECT 13, 0, "WRMSR KernelGSbase non-canonical"
        TRY .r8
        mov ecx, 0xc0000082
        xor eax, eax
        mov edx, 0x00010000
        wrmsr
        NOFAULT "WRMSR LSTAR non-canonical"
.r8:    EXPECT 13, 0, "WRMSR LSTAR non-canonical"
        PASS

        END_IMAGE

; callgate64: call gates in IA-32e mode.
;
; SDM Vol. 3 5.8.3.1 (IA-32e call gates are 16 bytes: offset bits 63:32 in
; the second half, whose type field must be 0; their target must be 64-bit
; code; 16-bit gates are gone), 5.8.5.1 (the inner stack is RSPn from the
; TSS with SS = a null selector of RPL n; no parameter copy: the new stack
; holds SS, RSP, CS, RIP as quadwords), 5.8.6 and the RET page (RETF with
; REX.W pops them back to the outer level), 7.7 (no task switches in
; IA-32e mode: a far CALL to a TSS is #GP(selector)), and the CALL page
; (a gate reached from compatibility mode pushes 8-byte CS:RIP through RSP).
%define TEST_NAME "callgate64"
%include "lib.inc"

SEL_G3    equ SEL_FREE           ; DPL 3 -> SEL_CODE64:gate_inner (16 bytes)
SEL_G0    equ SEL_FREE + 16      ; DPL 0 -> SEL_CODE64:gate_same
SEL_GBAD  equ SEL_FREE + 32      ; upper type field not 0
SEL_G32   equ SEL_FREE + 48      ; DPL 0 -> SEL_CODE32 (not 64-bit code)
SEL_G16   equ SEL_FREE + 64      ; a 16-bit gate (type 4)

; GATE64 sel, target selector, offset, access byte, upper dword 3
%macro GATE64 5
        mov rax, %3
        mov [GDT_BASE + %1], ax
        mov word [GDT_BASE + %1 + 2], %2
        mov byte [GDT_BASE + %1 + 4], 0
        mov byte [GDT_BASE + %1 + 5], %4
        shr rax, 16
        mov [GDT_BASE + %1 + 6], ax
        shr rax, 16
        mov [GDT_BASE + %1 + 8], eax
        mov dword [GDT_BASE + %1 + 12], %5
%endmacro

main:
        ENTER_PM32
        ENTER_LONG
        GATE64 SEL_G3, SEL_CODE64, gate_inner, 0xec, 0
        GATE64 SEL_G0, SEL_CODE64, gate_same, 0x8c, 0
        GATE64 SEL_GBAD, SEL_CODE64, gate_same, 0x8c, 0xc00   ; type C above
        GATE64 SEL_G32, SEL_CODE32, gate_same, 0x8c, 0
        GATE64 SEL_G16, SEL_CODE64, gate_same, 0x84, 0

        ; --- same privilege from 64-bit code --------------------------------
        mov rbp, rsp
        call far dword [rel fp_g0]
.ret1:  CHECK [SCRATCH], SEL_CODE64, "CS in a same-level 64-bit gate call"
        CHECK [SCRATCH + 8], 16, "a 64-bit gate pushes CS and RIP as quadwords"
        CHECK [SCRATCH + 0x10], SEL_CODE64, "pushed CS"
        mov rax, main.ret1
        CHECK [SCRATCH + 0x18], rax, "pushed RIP"
        CHECK rsp, rbp, "RSP after RETFQ"

        ; --- faults -----------------------------------------------------------
        TRY .r1
        call far dword [rel fp_gbad]
        NOFAULT "CALL through a gate with a non-zero upper type"
.r1:    EXPECT 13, SEL_GBAD, "CALL through a gate with a non-zero upper type"
        TRY .r2
        call far dword [rel fp_g32]
        NOFAULT "CALL through a gate to compatibility-mode code"
.r2:    EXPECT 13, SEL_CODE32, "CALL through a gate to compatibility-mode code"
        TRY .r3
        call far dword [rel fp_g16]
        NOFAULT "CALL through a 16-bit gate in IA-32e mode"
.r3:    EXPECT 13, SEL_G16, "CALL through a 16-bit gate in IA-32e mode"
        TRY .r4
        call far dword [rel fp_tss]
        NOFAULT "CALL to a TSS in IA-32e mode"
.r4:    EXPECT 13, SEL_TSS, "CALL to a TSS in IA-32e mode"

        ; --- from compatibility mode ---------------------------------------------
        mov qword [SCRATCH], 0
        jmp far dword [rel fp_compat]
.back_compat:
        CHECK [SCRATCH], SEL_CODE64, "CS in the gate target from compatibility mode"
        CHECK [SCRATCH + 8], 16, "quadword pushes from compatibility mode"
        CHECK [SCRATCH + 0x10], SEL_CODE32, "pushed CS (compatibility mode)"
        CHECK [SCRATCH + 0x18], compat.ret, "pushed RIP (compatibility mode)"

        ; --- ring 3 -> ring 0 ------------------------------------------------------
        mov qword [HOOKS + 0x80 * 8], lib_hook_ring0_64
        mov eax, 0x80
        lea rbx, [lib_stubs64 + 0x80 * 12]
        mov cx, SEL_CODE64
        mov dx, 0xee00
        call lib_set_gate64
        mov qword [R0_CONT], .back
        mov qword [R0_ESP], STACK0_TOP
        push SEL_DATA_U | 3
        push STACK3_TOP
        push 0x2
        push SEL_CODE64_U | 3
        push ring3
        iretq
.back:
        CHECK [SCRATCH + 0x40], 0xca11, "ring-3 part did not finish"
        CHECK [SCRATCH + 0x20], SEL_CODE64, "CS in the inner gate target"
        CHECK [SCRATCH + 0x28], 0, "SS in the inner gate target (null, RPL 0)"
        CHECK [SCRATCH + 0x30], STACK0_TOP - 32, "RSP in the inner gate target (RSP0 - 32)"
        mov rax, ring3.ret
        CHECK [SCRATCH + 0x38], rax, "pushed RIP"
        CHECK [SCRATCH + 0x48], SEL_CODE64_U | 3, "pushed CS"
        CHECK [SCRATCH + 0x50], STACK3_TOP - 8, "pushed RSP"
        CHECK [SCRATCH + 0x58], SEL_DATA_U | 3, "pushed SS"
        PASS

gate_same:
        mov eax, cs
        mov [SCRATCH], rax
        mov rax, rbp
        sub rax, rsp
        mov [SCRATCH + 8], rax
        mov rax, [rsp + 8]
        mov [SCRATCH + 0x10], rax
        mov rax, [rsp]
        mov [SCRATCH + 0x18], rax
        o64 retf

gate_inner:
        mov eax, cs
        mov [SCRATCH + 0x20], rax
        mov eax, ss
        mov [SCRATCH + 0x28], rax
        mov [SCRATCH + 0x30], rsp
        mov rax, [rsp]
        mov [SCRATCH + 0x38], rax
        mov rax, [rsp + 8]
        mov [SCRATCH + 0x48], rax
        mov rax, [rsp + 16]
        mov [SCRATCH + 0x50], rax
        mov rax, [rsp + 24]
        mov [SCRATCH + 0x58], rax
        o64 retf                         ; back to ring 3: pops SS:RSP too

ring3:
        push 0x1234                      ; not copied: 64-bit gates have no count
        call far dword [rel fp_g3]
.ret:   CHECK rsp, STACK3_TOP - 8, "RSP after the return to ring 3"
        mov eax, cs
        CHECK rax, SEL_CODE64_U | 3, "CS after the return to ring 3"
        mov qword [SCRATCH + 0x40], 0xca11
        int 0x80

        bits 32
compat:                                  ; compatibility mode, ring 0
        mov ebp, esp
        call SEL_G0:0
.ret:   cmp esp, ebp
        je .ok
        mov dword [SCRATCH + 8], -1
.ok:    jmp SEL_CODE64:main.back_compat
        bits 64

fp_g0:     dd 0
           dw SEL_G0
fp_g3:     dd 0
           dw SEL_G3 | 3
fp_gbad:   dd 0
           dw SEL_GBAD
fp_g32:    dd 0
           dw SEL_G32
fp_g16:    dd 0
           dw SEL_G16
fp_tss:    dd 0
           dw SEL_TSS
fp_compat: dd compat
           dw SEL_CODE32

        END_IMAGE

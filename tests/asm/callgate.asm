; callgate: far CALL and JMP through call gates.
;
; SDM Vol. 3 5.8.2-5.8.5 (call-gate descriptor: selector, offset, parameter
; count; privilege rules: CPL and RPL <= gate DPL, target DPL <= CPL; a CALL
; to a more privileged non-conforming segment switches to the TSS stack of
; the target level and copies the parameters, Figure 5-13: the new stack
; holds SS, ESP, params, CS, EIP; a JMP through a gate never changes CPL),
; 5.8.6 (RET n to the outer level releases the parameters on both stacks),
; 6.15 (#GP(gate selector) for a gate DPL < CPL; #NP(gate selector) for a
; not-present gate; #GP(target selector) for a target DPL > CPL).
%define TEST_NAME "callgate"
%include "lib.inc"

SEL_G3   equ SEL_FREE            ; DPL 3 gate -> SEL_CODE32:gate_target, 2 params
SEL_G0   equ SEL_FREE + 8        ; DPL 0 gate -> SEL_CODE32:gate_same
SEL_GNP  equ SEL_FREE + 16       ; not present
SEL_GUP  equ SEL_FREE + 24       ; DPL 0 gate -> SEL_CODE32_U (DPL 3 code)

; GATE sel, target selector, offset, params, access byte
%macro GATE 5
        mov eax, %3
        mov [GDT_BASE + %1], ax
        mov word [GDT_BASE + %1 + 2], %2
        mov byte [GDT_BASE + %1 + 4], %4
        mov byte [GDT_BASE + %1 + 5], %5
        shr eax, 16
        mov [GDT_BASE + %1 + 6], ax
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup
        GATE SEL_G3, SEL_CODE32, gate_target, 2, 0xec   ; P, DPL 3, type C
        GATE SEL_G0, SEL_CODE32, gate_same, 0, 0x8c
        GATE SEL_GNP, SEL_CODE32, gate_same, 0, 0x0c
        GATE SEL_GUP, SEL_CODE32_U, gate_same, 0, 0x8c

        ; --- same privilege: CALL and JMP through a DPL 0 gate ----------------
        mov ebp, esp
        call SEL_G0:0                    ; the offset is ignored
        CHECK eax, SEL_CODE32, "CS in a same-level gate call"
        CHECK ecx, 8, "same-level gate call pushed CS:EIP only"
        mov dword [SCRATCH + 8], 0
        jmp SEL_G0:0x1234
.after_jmp:
        ; --- not present: #NP(gate) ---------------------------------------------
        TRY .r1
        call SEL_GNP:0
        NOFAULT "CALL through a not-present gate"
.r1:    EXPECT 11, SEL_GNP, "CALL through a not-present gate"
        ; --- target DPL 3 > CPL 0: #GP(target) ------------------------------------
        TRY .r2
        call SEL_GUP:0
        NOFAULT "CALL through a gate to less privileged code"
.r2:    EXPECT 13, SEL_CODE32_U, "CALL through a gate to less privileged code"

        ; --- ring 3 -> ring 0 through the DPL 3 gate ----------------------------
        mov dword [HOOKS + 0x80 * 8], lib_hook_ring0_32
        mov eax, 0x80
        lea ebx, [lib_stubs32 + 0x80 * 12]
        mov cx, SEL_CODE32
        mov dx, 0xee00
        call lib_set_gate32
        mov dword [R0_CONT], .back
        mov dword [R0_ESP], STACK0_TOP
        push dword SEL_DATA_U | 3
        push dword STACK3_TOP
        push dword 0x2
        push dword SEL_CODE32_U | 3
        push dword ring3
        iretd
.back:
        CHECK [SCRATCH], 0xca11, "ring-3 part did not finish"
        ; What gate_target saw (Figure 5-13).
        CHECK [SCRATCH + 0x10], SEL_CODE32, "CS in the gate target"
        CHECK [SCRATCH + 0x14], STACK0_TOP - 24, "ESP in the gate target (TSS.ESP0 - 24)"
        CHECK [SCRATCH + 0x18], SEL_CODE32_U | 3, "pushed CS"
        CHECK [SCRATCH + 0x1c], 0x2222, "first parameter (last pushed)"
        CHECK [SCRATCH + 0x20], 0x1111, "second parameter"
        CHECK [SCRATCH + 0x24], STACK3_TOP - 8, "pushed ESP (caller's, after its pushes)"
        CHECK [SCRATCH + 0x28], SEL_DATA_U | 3, "pushed SS"
        CHECK [SCRATCH + 0x2c], ring3.ret, "pushed EIP"
        PASS

gate_same:
        mov eax, cs
        mov ecx, ebp
        sub ecx, esp
        cmp dword [SCRATCH + 8], 0
        je jmp_target
        retf
jmp_target:                              ; reached by the JMP, not a CALL
        mov dword [SCRATCH + 8], 1
        jmp main.after_jmp

gate_target:                             ; ring 0, on the TSS stack
        mov eax, cs
        mov [SCRATCH + 0x10], eax
        mov [SCRATCH + 0x14], esp
        mov eax, [esp + 4]
        mov [SCRATCH + 0x18], eax
        mov eax, [esp + 8]
        mov [SCRATCH + 0x1c], eax
        mov eax, [esp + 12]
        mov [SCRATCH + 0x20], eax
        mov eax, [esp + 16]
        mov [SCRATCH + 0x24], eax
        mov eax, [esp + 20]
        mov [SCRATCH + 0x28], eax
        mov eax, [esp]
        mov [SCRATCH + 0x2c], eax
        retf 8                           ; back to ring 3, params released

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        ; A DPL 0 gate from CPL 3: #GP(gate).
        TRY .r1
        call SEL_G0:0
        NOFAULT "CALL through a DPL 0 gate at CPL 3"
.r1:    EXPECT 13, SEL_G0, "CALL through a DPL 0 gate at CPL 3"
        push dword 0x1111
        push dword 0x2222
        call SEL_G3 | 3:0
.ret:   cmp esp, STACK3_TOP
        je .esp_ok
        FAIL "ESP after RETF 8 to ring 3"
.esp_ok:
        mov eax, cs
        CHECK eax, SEL_CODE32_U | 3, "CS after the return to ring 3"
        mov dword [SCRATCH], 0xca11
        int 0x80

        END_IMAGE

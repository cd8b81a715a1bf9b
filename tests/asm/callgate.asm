; callgate: far CALL and JMP through call gates (16- and 32-bit).
;
; SDM Vol. 3 5.8.2-5.8.5 (call-gate descriptor: selector, offset, parameter
; count; privilege rules: CPL and RPL <= gate DPL, target DPL <= CPL; a CALL
; to a more privileged non-conforming segment switches to the TSS stack of
; the target level and copies the parameters, Figure 5-13: the new stack
; holds SS, ESP, params, CS, EIP, each at the gate's size; a conforming
; target keeps the CPL, tested in gate_conf.asm; a JMP through a gate
; never changes CPL), 5.8.6 (RET n to the outer level releases the parameters on both
; stacks and nulls ES/DS/FS/GS the outer level may not use), 6.15 and the
; CALL/JMP pages (#GP(gate selector) for a gate DPL < CPL or RPL; #NP(gate
; selector) for a not-present gate; #GP(target selector) for a target DPL >
; CPL, or for a JMP to a non-conforming target DPL != CPL; #TS(new SS
; selector) for a bad stack in the TSS, #TS(TSS selector) for a TSS too
; short to hold it; RET: #GP(SS selector) for an outer SS whose DPL is not
; the new CPL).
%define TEST_NAME "callgate"
%include "lib.inc"

SEL_G3    equ SEL_FREE           ; DPL 3 gate -> SEL_CODE32:gate_target, 2 params
SEL_G0    equ SEL_FREE + 8       ; DPL 0 gate -> SEL_CODE32:gate_same
SEL_GNP   equ SEL_FREE + 16      ; not present
SEL_GUP   equ SEL_FREE + 24      ; DPL 0 gate -> SEL_CODE32_U (DPL 3 code)
SEL_C16U  equ SEL_FREE + 32      ; 16-bit code, DPL 3, base 0xF0000
SEL_G16   equ SEL_FREE + 40      ; DPL 3 16-bit gate -> SEL_CODE16:gate16_target, 2 params
SEL_CR1   equ SEL_FREE + 48      ; 32-bit code, DPL 1
SEL_DR1   equ SEL_FREE + 56      ; 32-bit data, DPL 1
SEL_G1    equ SEL_FREE + 64      ; DPL 3 gate -> SEL_CR1:ring1_target
SEL_TSMALL equ SEL_FREE + 72     ; a TSS descriptor too short for SS1:ESP1
STACK1_TOP equ DATA_AREA + 0x1000

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

; SEG sel, base, limit, access, flags
%macro SEG 5
        mov eax, %1
        mov ebx, %2
        mov ecx, %3
        mov dl, %4
        mov dh, %5
        call lib_set_desc
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup
        GATE SEL_G3, SEL_CODE32, gate_target, 2, 0xec   ; P, DPL 3, type C
        GATE SEL_G0, SEL_CODE32, gate_same, 0, 0x8c
        GATE SEL_GNP, SEL_CODE32, gate_same, 0, 0x0c
        GATE SEL_GUP, SEL_CODE32_U, gate_same, 0, 0x8c
        SEG SEL_C16U, 0xf0000, 0xffff, 0xfb, 0x0
        GATE SEL_G16, SEL_CODE16, R(gate16_target), 2, 0xe4 ; type 4: 16-bit
        SEG SEL_CR1, 0, 0xfffff, 0xbb, 0xc
        SEG SEL_DR1, 0, 0xfffff, 0xb3, 0xc
        GATE SEL_G1, SEL_CR1, ring1_target, 0, 0xec
        ; Ring 1's TSS stack is wrong for now: SS1 = a DPL 0 segment.
        mov dword [TSS_BASE + 0x0c], STACK1_TOP
        mov dword [TSS_BASE + 0x10], SEL_DATA

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
        ; --- RPL 3 > gate DPL 0: #GP(gate) ----------------------------------------
        TRY .r3
        call SEL_G0 | 3:0
        NOFAULT "CALL through a DPL 0 gate with RPL 3"
.r3:    EXPECT 13, SEL_G0, "CALL through a DPL 0 gate with RPL 3"

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
        CHECK [SCRATCH + 0x44], 13, "RETF with a DPL 0 SS for ring 3: vector"
        CHECK [SCRATCH + 0x48], SEL_DATA, "RETF with a DPL 0 SS for ring 3: error code"
        CHECK [SCRATCH + 0x4c], SEL_CODE32, "CS after the failed RETF"
        ; What gate16_target saw: 2-byte slots (Figure 5-13 for a 16-bit gate).
        CHECK [SCRATCH + 0x30], SEL_CODE16, "CS in the 16-bit gate target"
        CHECK [SCRATCH + 0x34], STACK0_TOP - 12, "ESP in the 16-bit gate target"
        CHECK [SCRATCH + 0x38], (SEL_C16U | 3) << 16 | R(r3_16.ret), "16-bit gate: pushed CS:IP"
        CHECK [SCRATCH + 0x3c], 0x11112222, "16-bit gate: the two word parameters"
        CHECK [SCRATCH + 0x40], (SEL_DATA_U | 3) << 16 | (STACK3_TOP - 4), "16-bit gate: pushed SS:SP"
        ; What ring1_target saw.
        CHECK [SCRATCH + 0x50], SEL_CR1 | 1, "CS in the ring-1 target"
        CHECK [SCRATCH + 0x54], SEL_DR1 | 1, "SS in the ring-1 target (TSS.SS1)"
        CHECK [SCRATCH + 0x58], STACK1_TOP - 16, "ESP in the ring-1 target"
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
        ; ES gets a DPL 0 segment, which the return to ring 3 must null;
        ; FS a DPL 3 one, which it must keep.
        mov ax, SEL_DATA
        mov es, ax
        mov ax, SEL_DATA_U | 3
        mov fs, ax
        ; A return SS whose DPL is not the new CPL: #GP(SS), nothing popped.
        mov dword [esp + 20], SEL_DATA
        TRY .bad_ss
        retf 8
        NOFAULT "RETF to ring 3 with a DPL 0 SS"
.bad_ss:
        mov eax, [EXC_VEC]
        mov [SCRATCH + 0x44], eax
        mov eax, [EXC_ERR]
        mov [SCRATCH + 0x48], eax
        mov eax, cs
        mov [SCRATCH + 0x4c], eax
        mov dword [esp + 20], SEL_DATA_U | 3
        retf 8                           ; back to ring 3, params released

ring1_target:                            ; ring 1, on TSS.SS1:ESP1
        mov eax, cs
        mov [SCRATCH + 0x50], eax
        mov eax, ss
        mov [SCRATCH + 0x54], eax
        mov [SCRATCH + 0x58], esp
        retf

        bits 16
gate16_target:                           ; ring 0, 16-bit code, on TSS stack
        mov eax, cs
        mov [SCRATCH + 0x30], eax
        mov [SCRATCH + 0x34], esp
        mov eax, [esp]
        mov [SCRATCH + 0x38], eax
        mov eax, [esp + 4]
        mov [SCRATCH + 0x3c], eax
        mov eax, [esp + 8]
        mov [SCRATCH + 0x40], eax
        retf 4                           ; 16-bit return to ring 3

r3_16:                                   ; ring 3, 16-bit code
        mov esp, STACK3_TOP
        push word 0x1111
        push word 0x2222
        call SEL_G16 | 3:0
.ret:   cmp esp, STACK3_TOP
        je .ok
        jmp dword SEL_CODE32_U | 3:ring3.bad16
.ok:    jmp dword SEL_CODE32_U | 3:ring3.back16
        bits 32

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        ; A DPL 0 gate from CPL 3: #GP(gate).
        TRY .r1
        call SEL_G0:0
        NOFAULT "CALL through a DPL 0 gate at CPL 3"
.r1:    EXPECT 13, SEL_G0, "CALL through a DPL 0 gate at CPL 3"
        ; A JMP through a gate cannot enter ring 0: #GP(target).
        TRY .r2
        jmp SEL_G3 | 3:0
        NOFAULT "JMP through a gate to ring 0 at CPL 3"
.r2:    EXPECT 13, SEL_CODE32, "JMP through a gate to ring 0 at CPL 3"
        push dword 0x1111
        push dword 0x2222
        call SEL_G3 | 3:0
.ret:   cmp esp, STACK3_TOP
        je .esp_ok
        FAIL "ESP after RETF 8 to ring 3"
.esp_ok:
        mov eax, cs
        CHECK eax, SEL_CODE32_U | 3, "CS after the return to ring 3"
        mov eax, es
        CHECK eax, 0, "ES (DPL 0) after the return to ring 3"
        mov eax, fs
        CHECK eax, SEL_DATA_U | 3, "FS (DPL 3) after the return to ring 3"
        mov ax, SEL_DATA_U | 3
        mov es, ax

        ; A 16-bit gate from 16-bit ring-3 code, and RETF 4 back.
        jmp word SEL_C16U | 3:R(r3_16)
.bad16: FAIL "ESP after the 16-bit RETF 4 to ring 3"
.back16:
        mov ax, SEL_DATA_U | 3
        mov ds, ax

        ; Ring 1 with TSS.SS1 naming a DPL 0 segment: #TS(SS1).
        TRY .r3
        call SEL_G1 | 3:0
        NOFAULT "CALL to ring 1 with a bad TSS.SS1"
.r3:    EXPECT 10, SEL_DATA, "CALL to ring 1 with a bad TSS.SS1"
        call lib_to_ring0_32             ; to ring 0 to fix the TSS
        mov dword [TSS_BASE + 0x10], SEL_DR1 | 1
        ; A TSS whose limit ends before the SS1:ESP1 slot: #TS(TSS).
        mov eax, SEL_TSMALL
        mov ebx, TSS_BASE
        mov ecx, 0x0b                    ; ESP0 and SS0 only
        mov dl, 0x89
        mov dh, 0
        call lib_set_desc
        mov ax, SEL_TSMALL
        ltr ax
        push dword SEL_DATA_U | 3
        push dword STACK3_TOP
        push dword 0x2
        push dword SEL_CODE32_U | 3
        push dword .ring3_small
        iretd
.ring3_small:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        TRY .r4
        call SEL_G1 | 3:0
        NOFAULT "CALL to ring 1 with a TSS too small for SS1:ESP1"
.r4:    EXPECT 10, SEL_TSMALL, "CALL to ring 1 with a TSS too small for SS1:ESP1"
        call lib_to_ring0_32
        and byte [GDT_BASE + SEL_TSS + 5], ~2    ; not busy, for LTR
        mov ax, SEL_TSS
        ltr ax
        ; Back to ring 3 for the rest.
        push dword SEL_DATA_U | 3
        push dword STACK3_TOP
        push dword 0x2
        push dword SEL_CODE32_U | 3
        push dword .ring3_again
        iretd
.ring3_again:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        call SEL_G1 | 3:0
        mov eax, cs
        CHECK eax, SEL_CODE32_U | 3, "CS after the return from ring 1"
        CHECK esp, STACK3_TOP, "ESP after the return from ring 1"
        mov dword [SCRATCH], 0xca11
        int 0x80

        END_IMAGE

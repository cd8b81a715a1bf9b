; gate_stack: the inner stack of a call gate must have room for the frame.
;
; SDM CALL pseudo-code (MORE-PRIVILEGE: "IF new stack does not have room
; for parameters plus 16 bytes THEN #SS(NewSS)", checked before anything is
; pushed) and Vol. 3 5.3 (limit checks on the stack segment): a ring-1
; stack segment with a 4 KiB limit and ESP1 = 8 cannot take SS, ESP, one
; parameter, CS and EIP; the fault leaves CS:EIP at the CALL and SS:ESP at
; the caller's, as the interrupted ring-3 frame shows.
%define TEST_NAME "gate_stack"
%include "lib.inc"

SEL_CR1 equ SEL_FREE             ; 32-bit code, DPL 1
SEL_SR1 equ SEL_FREE + 8         ; 32-bit data, DPL 1, base DATA_AREA, 4 KiB
SEL_G1  equ SEL_FREE + 16        ; DPL 3 gate -> SEL_CR1:ring1_target, 1 param

main:
        ENTER_PM32
        call lib_tss32_setup
        mov eax, SEL_CR1
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, 0xbb
        mov dh, 0xc
        call lib_set_desc
        mov eax, SEL_SR1
        mov ebx, DATA_AREA
        mov ecx, 0xfff                   ; byte granular: 4 KiB
        mov dl, 0xb3
        mov dh, 0x4                      ; B = 1
        call lib_set_desc
        mov eax, ring1_target
        mov [GDT_BASE + SEL_G1], ax
        mov word [GDT_BASE + SEL_G1 + 2], SEL_CR1
        mov word [GDT_BASE + SEL_G1 + 4], 0xec01
        shr eax, 16
        mov [GDT_BASE + SEL_G1 + 6], ax
        mov dword [TSS_BASE + 0x0c], 8   ; ESP1: 20 bytes do not fit
        mov dword [TSS_BASE + 0x10], SEL_SR1 | 1

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
        CHECK [SCRATCH], 0x900d, "ring-3 part did not finish"
        CHECK [SCRATCH + 4], 12, "no room on the ring-1 stack: vector"
        CHECK [SCRATCH + 8], SEL_SR1, "no room on the ring-1 stack: error code (new SS)"
        CHECK [SCRATCH + 12], ring3.call, "saved EIP: the CALL"
        CHECK [SCRATCH + 16], SEL_CODE32_U | 3, "saved CS: ring 3's"
        CHECK [SCRATCH + 20], STACK3_TOP - 4, "saved ESP: ring 3's"
        CHECK [SCRATCH + 24], SEL_DATA_U | 3, "saved SS: ring 3's"
        CHECK [SCRATCH + 28], 0x1000 - 20, "ESP in ring 1 once ESP1 has room"
        PASS

ring1_target:
        mov [SCRATCH + 28], esp
        retf 4

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        push dword 0x1234
        TRY .r1
.call:  call SEL_G1 | 3:0
        NOFAULT "CALL to ring 1 with no room on its stack"
.r1:    mov eax, [EXC_VEC]
        mov [SCRATCH + 4], eax
        mov eax, [EXC_ERR]
        mov [SCRATCH + 8], eax
        mov eax, [EXC_EIP]
        mov [SCRATCH + 12], eax
        mov eax, [EXC_CS]
        mov [SCRATCH + 16], eax
        mov eax, [EXC_ESP]
        mov [SCRATCH + 20], eax
        mov eax, [EXC_SS]
        mov [SCRATCH + 24], eax
        call lib_to_ring0_32
        mov dword [TSS_BASE + 0x0c], 0x1000
        push dword SEL_DATA_U | 3
        push dword STACK3_TOP - 4
        push dword 0x2
        push dword SEL_CODE32_U | 3
        push dword .again
        iretd
.again:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        call SEL_G1 | 3:0
        CHECK esp, STACK3_TOP, "ESP after RETF 4 from ring 1"
        mov dword [SCRATCH], 0x900d
        int 0x80

        END_IMAGE

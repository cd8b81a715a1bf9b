; int_fault: a fault raised while delivering INT n, INT3 or INTO is a fault
; of that instruction: the saved CS:EIP points at it, not after it.
;
; SDM Vol. 3 6.5 (faults: "the return address ... points to the faulting
; instruction"), 6.12.1.1 (INT n/INT3/INTO through a gate with DPL < CPL:
; #GP(vector * 8 + 2)), and the INT n pseudo-code of Vol. 2, where these
; checks come before anything is pushed.
%define TEST_NAME "int_fault"
%include "lib.inc"

main:
        ENTER_PM32
        call lib_tss32_setup
        ; INT 0x43 through a not-present gate at CPL 0.
        mov eax, 0x43
        lea ebx, [lib_stubs32 + 0x43 * 12]
        mov cx, SEL_CODE32
        mov dx, 0x0e00
        call lib_set_gate32
        TRY .r1
.int43: int 0x43
        NOFAULT "INT 0x43, not-present gate"
.r1:    EXPECT 11, 0x43 * 8 + 2, "INT 0x43, not-present gate"
        CHECK [EXC_EIP], .int43, "#NP from INT n: saved EIP"

        ; From ring 3: INT3 and INT 0x81 through DPL 0 gates.
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
        CHECK [SCRATCH], 0x1234, "ring-3 part did not finish"
        PASS

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        TRY .r1
.int3:  int3
        NOFAULT "INT3, DPL 0 gate"
.r1:    EXPECT 13, 3 * 8 + 2, "INT3, DPL 0 gate"
        CHECK [EXC_EIP], .int3, "#GP from INT3: saved EIP"
        TRY .r2
.int81: int 0x81
        NOFAULT "INT 0x81, DPL 0 gate"
.r2:    EXPECT 13, 0x81 * 8 + 2, "INT 0x81, DPL 0 gate"
        CHECK [EXC_EIP], .int81, "#GP from INT n: saved EIP"
        mov dword [SCRATCH], 0x1234
        int 0x80

        END_IMAGE

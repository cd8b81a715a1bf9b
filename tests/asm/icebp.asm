; icebp: INT1 (ICEBP, opcode F1) raises #DB as a trap.
;
; SDM Vol. 2, "INT n/INTO/INT3/INT1": INT1 generates a debug exception
; (vector 1) without the gate-DPL check of INT n; the saved EIP is the
; next instruction.  (QEMU 7.2 raises #UD; the SDM wins, see run.sh.)
%define TEST_NAME "icebp"
%include "lib.inc"

main:
        ENTER_PM32
        call lib_tss32_setup
        TRY .r1
        db 0xf1
.next:  NOFAULT "ICEBP"
.r1:    EXPECT 1, -1, "ICEBP"
        CHECK [EXC_EIP], .next, "ICEBP: saved EIP"
        ; No DPL check: a DPL 0 gate works from ring 3.
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
.back:  CHECK [SCRATCH], 0x1ce, "ring-3 part did not finish"
        PASS

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        TRY .r1
        db 0xf1
        NOFAULT "ICEBP at CPL 3"
.r1:    EXPECT 1, -1, "ICEBP at CPL 3 (gate DPL 0, not checked)"
        mov dword [SCRATCH], 0x1ce
        int 0x80

        END_IMAGE

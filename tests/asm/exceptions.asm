; exceptions: the architectural exceptions a program can cause, their
; vectors, error codes and saved EIP (fault: the instruction; trap: the
; next one), and the double-fault rules.
;
; SDM Vol. 3 6.3 (vectors), 6.5 (faults and traps), 6.6 (program-error
; exceptions), 6.15 (one entry per vector: #DE, #BP, #OF, #BR, #UD, #NM,
; #DF, #GP), Table 6-5 (contributory + contributory = #DF, error code 0),
; and the DIV, IDIV, INT3, INTO, BOUND, UD2, WAIT/FWAIT pages of Vol. 2.
%define TEST_NAME "exceptions"
%include "lib.inc"

main:
        ENTER_PM32

        ; --- #DE: divide by zero and quotient overflow; faults --------------
        TRY .r1
        xor ecx, ecx
        mov eax, 1
        xor edx, edx
.de1:   div ecx
        NOFAULT "DIV by 0"
.r1:    EXPECT 0, -1, "DIV by 0"
        CHECK [EXC_EIP], .de1, "#DE saved EIP (DIV by 0)"
        TRY .r2
        mov edx, 1                       ; EDX:EAX = 2^32, / 1 does not fit
        xor eax, eax
        mov ecx, 1
.de2:   div ecx
        NOFAULT "DIV quotient overflow"
.r2:    EXPECT 0, -1, "DIV quotient overflow"
        CHECK [EXC_EIP], .de2, "#DE saved EIP (overflow)"
        TRY .r3
        mov eax, 0x80000000              ; -2^31 / -1 = 2^31: overflow
        cdq
        mov ecx, -1
        idiv ecx
        NOFAULT "IDIV -2^31 / -1"
.r3:    EXPECT 0, -1, "IDIV -2^31 / -1"
        ; A divide that fits raises nothing.
        mov eax, 100
        xor edx, edx
        mov ecx, 7
        div ecx
        CHECK eax, 14, "100 / 7"

        ; --- #UD: UD2, LOCK on a non-lockable instruction, MOV to CS --------
        TRY .r4
.ud1:   ud2
        NOFAULT "UD2"
.r4:    EXPECT 6, -1, "UD2"
        CHECK [EXC_EIP], .ud1, "#UD saved EIP"
        TRY .r5
        db 0xf0, 0x90                    ; LOCK NOP
        NOFAULT "LOCK NOP"
.r5:    EXPECT 6, -1, "LOCK NOP"
        TRY .r6
        db 0x8e, 0xc8                    ; MOV CS, AX
        NOFAULT "MOV CS, AX"
.r6:    EXPECT 6, -1, "MOV CS, AX"
        TRY .r6b
        db 0xf0, 0x01, 0xc0              ; LOCK ADD EAX, EAX (register dest)
        NOFAULT "LOCK ADD with a register destination"
.r6b:   EXPECT 6, -1, "LOCK ADD with a register destination"

        ; --- #BP: INT3 is a trap, EIP after it; also INT 3 (CD 03) -----------
        TRY .r7
        int3
.bp1:   NOFAULT "INT3"
.r7:    EXPECT 3, -1, "INT3"
        CHECK [EXC_EIP], .bp1, "#BP saved EIP (after INT3)"
        TRY .r8
        int 3
.bp2:   NOFAULT "INT 3"
.r8:    EXPECT 3, -1, "INT 3"
        CHECK [EXC_EIP], .bp2, "INT 3 saved EIP"

        ; --- #OF: INTO traps only when OF = 1 -----------------------------------
        mov al, 1
        add al, 1                        ; OF = 0
        into                             ; nothing
        TRY .r9
        mov al, 0x7f
        add al, 1                        ; OF = 1
        into
.of1:   NOFAULT "INTO with OF = 1"
.r9:    EXPECT 4, -1, "INTO with OF = 1"
        CHECK [EXC_EIP], .of1, "#OF saved EIP (after INTO)"

        ; --- #BR: BOUND out of range is a fault ---------------------------------
        mov dword [DATA_AREA], 10
        mov dword [DATA_AREA + 4], 20
        mov eax, 15
        bound eax, [DATA_AREA]           ; inside: nothing
        mov eax, 20
        bound eax, [DATA_AREA]           ; the upper bound is inclusive
        TRY .r10
        mov eax, 21
.br1:   bound eax, [DATA_AREA]
        NOFAULT "BOUND above the upper bound"
.r10:   EXPECT 5, -1, "BOUND above the upper bound"
        CHECK [EXC_EIP], .br1, "#BR saved EIP"
        TRY .r11
        mov eax, -1                      ; signed: below 10
        bound eax, [DATA_AREA]
        NOFAULT "BOUND below the lower bound"
.r11:   EXPECT 5, -1, "BOUND below the lower bound"

        ; --- #NM: WAIT with CR0.MP = 1 and CR0.TS = 1 ------------------------------
        mov eax, cr0
        and eax, ~(1 << 2)               ; EM = 0
        or eax, (1 << 1) | (1 << 3)      ; MP = 1, TS = 1
        mov cr0, eax
        TRY .r12
.nm1:   fwait
        NOFAULT "WAIT with MP = TS = 1"
.r12:   EXPECT 7, -1, "WAIT with MP = TS = 1"
        CHECK [EXC_EIP], .nm1, "#NM saved EIP"
        clts                             ; TS = 0: WAIT passes
        fwait
        mov eax, cr0
        CHECKM eax, 1 << 3, 0, "CLTS left TS set"
        mov eax, cr0
        and eax, ~(1 << 1)               ; MP = 0, TS = 1: WAIT passes
        or eax, 1 << 3
        mov cr0, eax
        fwait
        clts

        ; --- error codes of #GP pushed for selector faults -----------------------
        TRY .r13
        mov ax, 0x1234 & ~7              ; beyond the GDT limit (0x7ff)
        mov ds, ax
        NOFAULT "selector beyond the GDT"
.r13:   EXPECT 13, 0x1230, "selector beyond the GDT"

        ; --- #DF: #GP while delivering #GP (gate 13 not present) --------------------
        ; #GP raises #NP (contributory) during its delivery -> #DF, error 0.
        mov eax, 13
        lea ebx, [lib_stubs32 + 13 * 12]
        mov cx, SEL_CODE32
        mov dx, 0x0e00                   ; not present
        call lib_set_gate32
        TRY .r14
        mov ax, 0x800
        mov ds, ax
        NOFAULT "#GP with a not-present #GP gate"
.r14:   EXPECT 8, 0, "#GP with a not-present #GP gate"
        mov ax, SEL_DATA
        mov ds, ax
        ; #DE (contributory) with gate 0 not present: #NP -> #DF as well.
        mov eax, 0
        lea ebx, [lib_stubs32]
        call lib_set_gate32
        TRY .r15
        xor ecx, ecx
        div ecx
        NOFAULT "#DE with a not-present #DE gate"
.r15:   EXPECT 8, 0, "#DE with a not-present #DE gate"
        ; A benign exception (#UD) through a not-present gate is not a
        ; double fault: the #NP is delivered.
        mov eax, 6
        lea ebx, [lib_stubs32 + 6 * 12]
        call lib_set_gate32
        TRY .r16
        ud2
        NOFAULT "#UD with a not-present #UD gate"
.r16:   EXPECT 11, -1, "#UD with a not-present #UD gate"
        ; INT n through a not-present gate: #NP, not #DF (a software
        ; interrupt is not an exception, Table 6-5 does not apply).
        mov eax, 0x50
        lea ebx, [lib_stubs32 + 0x50 * 12]
        call lib_set_gate32
        TRY .r17
        int 0x50
        NOFAULT "INT 0x50 with a not-present gate"
.r17:   EXPECT 11, 0x50 * 8 + 2, "INT 0x50 with a not-present gate"
        PASS

        END_IMAGE

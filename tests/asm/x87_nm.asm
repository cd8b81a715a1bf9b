; x87_nm: #NM for x87 instructions under CR0.TS and CR0.EM.
;
; SDM Vol. 3 2.5 (CR0.EM, CR0.TS, CR0.MP) and Table 2-2, 6.15 (Interrupt 7):
; an x87 instruction raises #NM when EM = 1, or when TS = 1; WAIT/FWAIT
; only when MP = 1 and TS = 1; CLTS clears TS.  (Vireo has no x87 yet: it
; decodes these opcodes to #UD; see run.sh.)
%define TEST_NAME "x87_nm"
%include "lib.inc"

main:
        ENTER_PM32
        mov eax, cr0
        and eax, ~((1 << 2) | (1 << 3))  ; EM = 0, TS = 0
        or eax, (1 << 1) | (1 << 5)      ; MP = 1, NE = 1
        mov cr0, eax
        fninit
        fld1                             ; with TS = 0 the x87 works
        fstp dword [DATA_AREA]
        CHECK [DATA_AREA], 0x3f800000, "FLD1/FSTP"

        ; TS = 1: x87 instructions fault.
        mov eax, cr0
        or eax, 1 << 3
        mov cr0, eax
        TRY .r1
.nm1:   fld1
        NOFAULT "FLD1 with TS = 1"
.r1:    EXPECT 7, -1, "FLD1 with TS = 1"
        CHECK [EXC_EIP], .nm1, "#NM saved EIP"
        TRY .r2
        fnop
        NOFAULT "FNOP with TS = 1"
.r2:    EXPECT 7, -1, "FNOP with TS = 1"
        clts
        fnop

        ; EM = 1: x87 instructions fault, whatever TS.
        mov eax, cr0
        or eax, 1 << 2
        mov cr0, eax
        TRY .r3
        fld1
        NOFAULT "FLD1 with EM = 1"
.r3:    EXPECT 7, -1, "FLD1 with EM = 1"
        ; WAIT does not fault with EM = 1 and TS = 0.
        fwait
        PASS

        END_IMAGE

; gate_ext: the EXT bit of error codes raised while delivering an event.
;
; SDM Vol. 3 6.13: EXT (bit 0) "indicates that the exception occurred
; during delivery of an event external to the program, such as an
; interrupt or an earlier exception. The bit is cleared if the exception
; occurred during delivery of a software interrupt (INT n, INT3, or INTO)."
; So #NP for a not-present #UD gate has error 6 * 8 + 2 + 1, while INT 6
; through the same gate has 6 * 8 + 2.  (QEMU leaves EXT clear in the first
; case; the SDM wins, see run.sh.)
%define TEST_NAME "gate_ext"
%include "lib.inc"

main:
        ENTER_PM32
        ; Gate 6 not present.
        mov eax, 6
        lea ebx, [lib_stubs32 + 6 * 12]
        mov cx, SEL_CODE32
        mov dx, 0x0e00
        call lib_set_gate32
        ; INT 6, a software interrupt: EXT = 0.
        TRY .r1
        int 6
        NOFAULT "INT 6 through a not-present gate"
.r1:    EXPECT 11, 6 * 8 + 2, "INT 6 through a not-present gate"
        ; #UD, a processor exception: EXT = 1.
        TRY .r2
        ud2
        NOFAULT "#UD through a not-present gate"
.r2:    EXPECT 11, 6 * 8 + 3, "#UD through a not-present gate"
        PASS

        END_IMAGE

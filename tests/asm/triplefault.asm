; triplefault: a fault while delivering #DF shuts the processor down.
;
; SDM Vol. 3 6.15 (Interrupt 8, "Double Fault Exception": "If another
; contributory or page fault exception occurs while attempting to call the
; double-fault handler, the processor enters shutdown mode"), and 6.10 (an
; IDT limit that excludes a vector makes its delivery #GP(vector * 8 + 2)).
; With an IDT limit of 0, #UD -> #GP -> #DF -> #GP: shutdown.  The board
; then resets, or with -no-reboot ends the run: QEMU and Vireo both exit
; with status 0.  run.sh checks that status and the "TRIPLE triplefault"
; line printed just before the fault (see TRIPLE there).
%define TEST_NAME "triplefault"
%include "lib.inc"

main:
        ENTER_PM32
        PUTS "TRIPLE triplefault", 10
        lidt [idtr_empty]
        ud2
        ; Not reached: a handler would mean no shutdown.
        FAIL "execution continued after a triple fault"

idtr_empty:
        dw 0
        dd IDT_BASE

        END_IMAGE

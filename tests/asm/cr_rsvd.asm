; cr_rsvd: MOV to CR0/CR4 with invalid values is #GP(0) and changes nothing.
;
; SDM Vol. 2 "MOV - Move to/from Control Registers", protected-mode
; exceptions: #GP(0) "If an attempt is made to write a 1 to any reserved bit
; in CR4", "If an attempt is made to write invalid bit combinations in CR0
; (such as setting the PG flag to 1 when the PE flag is set to 0, or
; setting the CD flag to 0 when the NW flag is set to 1)"; Vol. 3 2.5.
; (QEMU 7.2 accepts a reserved CR4 bit; the SDM wins, see run.sh.)
%define TEST_NAME "cr_rsvd"
%include "lib.inc"

PD      equ PT_BASE

main:
        ENTER_PM32
        ; Identity page tables, in case PG gets set by mistake.
        mov edi, PD
        mov ecx, 1024
        mov eax, 0x83
.pd:    stosd
        add eax, 0x400000
        loop .pd
        mov eax, PD
        mov cr3, eax
        mov eax, cr4
        or eax, 1 << 4
        mov cr4, eax

        TRY .r1
        mov eax, cr4
        or eax, 1 << 31
        mov cr4, eax
        NOFAULT "CR4 bit 31 (reserved)"
.r1:    EXPECT 13, 0, "CR4 bit 31 (reserved)"
        mov eax, cr4
        CHECKM eax, 1 << 31, 0, "CR4 after the refused write"
        TRY .r2
        mov eax, cr4
        or eax, 1 << 15                  ; reserved
        mov cr4, eax
        NOFAULT "CR4 bit 15 (reserved)"
.r2:    EXPECT 13, 0, "CR4 bit 15 (reserved)"
        TRY .r3
        mov eax, cr0
        and eax, ~1
        or eax, 1 << 31                  ; PG without PE
        mov cr0, eax
        NOFAULT "CR0.PG = 1 with PE = 0"
.r3:    EXPECT 13, 0, "CR0.PG = 1 with PE = 0"
        mov eax, cr0
        CHECKM eax, 0x80000001, 1, "CR0 after the refused write"
        TRY .r4
        mov eax, cr0
        and eax, ~(1 << 30)              ; CD = 0
        or eax, 1 << 29                  ; NW = 1
        mov cr0, eax
        NOFAULT "CR0.NW = 1 with CD = 0"
.r4:    EXPECT 13, 0, "CR0.NW = 1 with CD = 0"
        PASS

        END_IMAGE

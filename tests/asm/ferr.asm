; ferr: PC-style x87 error reporting with CR0.NE = 0, and the PC/AT's
; coprocessor error latch at port 0F0h.
;
; SDM Vol. 1 8.7 ("Handling x87 FPU Exceptions in Software"): with NE = 0
; an unmasked x87 exception asserts FERR#, which the PC routes to IRQ 13;
; the IRQ 13 handler writes port 0F0h to clear the latch, which drops
; IRQ 13 (and asserts IGNNE#) until FERR# is asserted again.  The 8259's
; edge-triggered IRQ 13 (the PIIX cannot make it level-triggered) cannot
; show the drop, so IRQ 13 goes through the IOAPIC, pin 13, programmed
; level-triggered: after the local APIC's EOI the IOAPIC delivers again
; while the line is high.  The handler writes 0F0h and EOIs without
; FNCLEX: exactly one interrupt must arrive, however long the wait.
; (QEMU 7.2 aborts on FERR# under TCG: run.sh skips it there.)
%define TEST_NAME "ferr"
%include "lib.inc"

VEC_FERR equ 0x40
IOAPIC   equ 0xfec00000
LAPIC    equ 0xfee00000

        bits 32
ferr_hook:                       ; stack: vector, error, EIP, CS, EFLAGS
        push eax
        inc dword [SCRATCH]
        fnstsw ax
        mov [SCRATCH + 8], eax
        xor al, al
        out 0xf0, al             ; clear the latch: IRQ 13 drops
        mov dword [LAPIC + 0xb0], 0   ; EOI (broadcast to the IOAPIC)
        pop eax
        add esp, 8
        iretd

        bits 16
main:
        ENTER_PM32
        mov dword [HOOKS + VEC_FERR * 8], ferr_hook
        ; The 8259s initialised with every input masked: the IOAPIC delivers.
        PIC_INIT 0xff, 0xff
        mov dword [LAPIC + 0xf0], 0x1ff      ; SVR: APIC enabled
        mov dword [LAPIC + 0x350], 0x10000   ; LINT0 masked
        mov dword [LAPIC + 0x80], 0          ; TPR 0
        ; IOAPIC pin 13: vector VEC_FERR, fixed, physical, active high,
        ; level-triggered, unmasked, to APIC ID 0 (redirection entry 13 at
        ; registers 0x2A/0x2B).
        mov dword [IOAPIC], 0x2b
        mov dword [IOAPIC + 0x10], 0
        mov dword [IOAPIC], 0x2a
        mov dword [IOAPIC + 0x10], VEC_FERR | (1 << 15)

        mov eax, cr0
        and eax, ~((1 << 2) | (1 << 3) | (1 << 5))  ; EM = TS = NE = 0
        or eax, 1 << 1                               ; MP = 1
        mov cr0, eax
        fninit
        mov word [DATA_AREA], 0x037b  ; FCW: all masked but ZE
        fldcw [DATA_AREA]
        mov dword [SCRATCH], 0
        sti
        fld1
        fldz
        fdivp st1, st0           ; 1/0: unmasked #Z, ES set, FERR#
        fwait                    ; a waiting instruction: FERR# at the latest
        mov ecx, 100000
.wait:  loop .wait               ; time for any further delivery
        cli
        CHECK [SCRATCH], 1, "exactly one IRQ 13 (the latch dropped it)"
        CHECKM [SCRATCH + 8], 0x84, 0x84, "FSW.ZE and ES in the handler"
        fnclex
        fnstsw ax
        CHECKM eax, 0x80, 0, "FNCLEX cleared ES"

        ; A new exception asserts FERR# again: a second IRQ 13.
        sti
        fld1
        fldz
        fdivp st1, st0
        fwait
        mov ecx, 100000
.wait2: loop .wait2
        cli
        CHECK [SCRATCH], 2, "a second FERR# gives a second IRQ 13"
        fnclex
        PASS

        END_IMAGE

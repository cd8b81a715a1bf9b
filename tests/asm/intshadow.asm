; intshadow: when a pending external interrupt is taken after STI and POPF.
;
; SDM Vol. 2 STI: "If IF = 0, maskable hardware interrupts remain inhibited
; on the instruction boundary following an execution of STI"; Vol. 3 6.8.3
; (the STI and MOV SS shadows) and 6.5 (an interrupt is taken at an
; instruction boundary: the saved EIP is the next instruction to run).
; POPF and IRET that set IF have no such shadow.  The interrupt comes from
; the 8254 PIT (channel 0, mode 0) through the 8259 PIC (IRQ 0 -> vector
; 0x20), both programmed here; the test waits with IF = 0 until the PIC's
; IRR shows the request, then opens the window.
; (NMI has its own program, nmi.asm.)
%define TEST_NAME "intshadow"
%include "lib.inc"

VEC_IRQ0 equ 0x20

        bits 32
irq0_hook:                               ; stack: vector, error, EIP, CS, EFLAGS
        push eax
        mov eax, [esp + 12]
        mov [SCRATCH], eax               ; EIP of the interrupted code
        inc dword [SCRATCH + 8]
        mov al, 0x20                     ; non-specific EOI
        out 0x20, al
        pop eax
        add esp, 8
        iretd

; Program the PIT for one terminal count soon and wait until IRQ 0 is
; pending in the PIC (IF = 0 throughout).
arm_and_wait:
        mov al, 0x30                     ; channel 0, lo/hi, mode 0
        out 0x43, al
        mov al, 100
        out 0x40, al
        xor al, al
        out 0x40, al
        mov ecx, 10000000
.w:     mov al, 0x0a                     ; OCW3: read IRR
        out 0x20, al
        in al, 0x20
        test al, 1
        jnz .ok
        loop .w
        FAIL "IRQ 0 never became pending in the PIC"
.ok:    ret

        bits 16
main:
        ENTER_PM32
        mov dword [HOOKS + VEC_IRQ0 * 8], irq0_hook
        PIC_INIT 0xfe, 0xff              ; only IRQ 0
        ; A local APIC, if present, passes the 8259's INTR through LINT0 in
        ; ExtINT mode ("virtual wire", MP spec 3.6.2.2): firmware normally
        ; sets this up.  Without a local APIC these stores go nowhere.
        mov dword [0xfee000f0], 0x1ff    ; SVR: APIC enabled, vector 0xff
        mov dword [0xfee00350], 0x700    ; LVT LINT0: ExtINT, not masked

        ; --- STI: taken after the next instruction ----------------------------
        mov dword [SCRATCH + 8], 0
        call arm_and_wait
        sti
.s1:    nop                              ; still in the shadow
.s2:    cli
        CHECK [SCRATCH + 8], 1, "IRQ 0 after STI: count"
        CHECK [SCRATCH], .s2, "IRQ 0 after STI: taken after the next instruction"

        ; --- POPF: no shadow, taken right after it -------------------------------
        mov dword [SCRATCH + 8], 0
        call arm_and_wait
        push dword 0x202
        popfd
.p1:    nop
        cli
        CHECK [SCRATCH + 8], 1, "IRQ 0 after POPF: count"
        CHECK [SCRATCH], .p1, "IRQ 0 after POPF: taken at once"
        PASS

        END_IMAGE

; nmi: an NMI from the local APIC (an IPI with delivery mode NMI to the
; CPU's own APIC ID), taken with IF = 0 through vector 2, and a second NMI
; raised inside the handler held until the handler's IRET.
;
; SDM Vol. 3 6.7 (NMI, vector 2, not masked by IF), 6.7.1 ("the processor
; blocks delivery of subsequent NMIs until the next execution of the IRET
; instruction"), 11.6.1 (ICR: delivery mode 100b NMI, vector ignored,
; physical destination in ICR[63:56]).  How soon an IPI arrives is not
; architectural: the program waits for it in a loop.
%define TEST_NAME "nmi"
%include "lib.inc"

APIC         equ 0xfee00000
NMI_COUNT    equ DATA_AREA
NMI_EIP      equ DATA_AREA + 4       ; EIP of the first NMI
NMI_INSIDE   equ DATA_AREA + 8       ; NMIs counted at the handler's end
NMI_EIP2     equ DATA_AREA + 12      ; EIP of the second

        bits 32
send_nmi:
        mov dword [APIC + 0x310], 0          ; destination: APIC ID 0
        mov dword [APIC + 0x300], 4 << 8     ; NMI, physical, no shorthand
        ret

nmi_hook:                                    ; stack: vector, error, EIP, CS, EFLAGS
        push eax
        inc dword [NMI_COUNT]
        mov eax, [esp + 12]
        cmp dword [NMI_COUNT], 1
        jne .second
        mov [NMI_EIP], eax
        call send_nmi                        ; blocked until our IRET
        mov ecx, 1000
.w:     loop .w
        mov eax, [NMI_COUNT]
        mov [NMI_INSIDE], eax
        jmp .out
.second:
        mov [NMI_EIP2], eax
.out:   pop eax
        add esp, 8
        iretd

        bits 16
main:
        ENTER_PM32
        mov dword [HOOKS + 2 * 8], nmi_hook
        mov dword [APIC + 0xf0], 0x1ff       ; SVR: APIC enabled
        cli
        call send_nmi
        mov ecx, 100000
.wait:  cmp dword [NMI_COUNT], 2
        je .done
        loop .wait
.done:
        CHECK [NMI_COUNT], 2, "NMIs taken (IF = 0)"
        CHECK [NMI_INSIDE], 1, "a second NMI was taken inside the NMI handler"
        mov eax, [NMI_EIP]
        cmp eax, .wait
        jbe .early
        FAIL "first NMI: EIP past the wait loop"
.early: mov eax, [NMI_EIP2]
        cmp eax, .done
        jbe .ok
        FAIL "second NMI: not taken right after the handler's IRET"
.ok:    PASS

        END_IMAGE

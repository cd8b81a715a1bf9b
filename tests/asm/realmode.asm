; realmode: real-address mode and "unreal" (big real) mode.
;
; SDM Vol. 1 3.3.4 and Vol. 3 20.1 (real-address mode: linear = selector
; * 16 + offset; interrupts through the IVT at IDTR.base, pushing FLAGS,
; CS, IP and clearing IF, TF, AC), Vol. 3 6.5 (faults report the address of
; the faulting instruction), Vol. 3 9.9 (mode switches: segment caches keep
; the limits loaded in protected mode until reloaded there, which is what
; unreal mode relies on), and the A20 gate of PC chipsets: System Control
; Port A (0x92, bit 1) and the 8042 output port (bit 1, command D1h).
%define TEST_NAME "realmode"
%include "lib.inc"

VAR     equ SCRATCH              ; scratch word

main:
        ; --- linear = segment * 16 + offset -----------------------------
        ; 1000:0010 and 1001:0000 are the same byte (linear 0x10010).
        mov ax, 0x1000
        mov ds, ax
        mov word [0x0010], 0x1234
        mov ax, 0x1001
        mov es, ax
        movzx eax, word [es:0x0000]
        CHECK eax, 0x1234, "1000:0010 and 1001:0000 differ"
        xor ax, ax
        mov ds, ax
        mov es, ax

        ; --- INT n through the IVT ----------------------------------------
        ; The handler sees FLAGS, CS, IP (next instruction) on the stack,
        ; and IF cleared.
        mov word [0x40 * 4], R(int40)
        mov word [0x40 * 4 + 2], 0xf000
        sti                              ; IF = 1 before the INT
        mov word [VAR], 0
        mov bp, sp
.int:   int 0x40
.after_int:
        cli
        cmp sp, bp
        je .sp_ok
        FAIL "SP not restored by IRET"
.sp_ok:
        CHECK dword [VAR], 0x55aa, "INT 40h handler did not run"
        movzx eax, word [SCRATCH + 8]
        CHECK eax, R(.after_int), "INT pushed IP"
        movzx eax, word [SCRATCH + 10]
        CHECK eax, 0xf000, "INT pushed CS"
        movzx eax, word [SCRATCH + 12]
        CHECKM eax, 0x200, 0x200, "INT pushed FLAGS without IF"
        movzx eax, word [SCRATCH + 14]
        CHECKM eax, 0x200, 0, "IF still set in the handler"

        ; --- #DE: a fault, IP points at the DIV ---------------------------
        mov word [0 * 4], R(de_handler)
        mov word [0 * 4 + 2], 0xf000
        mov word [VAR], 0
        xor bl, bl
        mov ax, 100
.div:   div bl                            ; F6 F3, 2 bytes
        CHECK dword [VAR], 1, "#DE handler did not run"
        movzx eax, word [SCRATCH + 8]
        CHECK eax, R(.div), "#DE pushed IP (must be the DIV)"

        ; --- #UD through IVT vector 6 ----------------------------------------
        mov word [6 * 4], R(ud_handler)
        mov word [6 * 4 + 2], 0xf000
        mov word [VAR], 0
.ud:    ud2
        CHECK dword [VAR], 1, "#UD handler did not run"
        movzx eax, word [SCRATCH + 8]
        CHECK eax, R(.ud), "#UD pushed IP"

        ; --- LIDT moves the IVT -----------------------------------------------
        ; A table at 0x600 whose vector 0x40 points elsewhere.
        mov word [0x600 + 0x40 * 4], R(int40_moved)
        mov word [0x600 + 0x40 * 4 + 2], 0xf000
        lidt [cs:R(idtr_moved)]
        mov word [VAR], 0
        int 0x40
        lidt [cs:R(lib_idtr_real)]
        CHECK dword [VAR], 0x77, "LIDT in real mode was not honoured"

        ; --- unreal mode --------------------------------------------------------
        ; Load DS, ES with flat 4 GiB data descriptors in protected mode,
        ; go back to real mode without reloading them there: the 4 GiB limit
        ; stays in the hidden cache even after reloading DS in real mode,
        ; which sets only the base.
        cli
        o32 lgdt [cs:R(lib_gdtr)]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp SEL_CODE16:R(.pm16)
.pm16:  mov ax, SEL_DATA                  ; flat, limit 4 GiB
        mov ds, ax
        mov es, ax
        mov ax, SEL_DATA16                ; 64 KiB, 16-bit stack
        mov ss, ax
        mov eax, cr0
        and al, ~1
        mov cr0, eax
        jmp 0xf000:R(.real)
.real:  xor ax, ax
        mov ss, ax
        mov ds, ax                        ; base 0, limit still 4 GiB
        mov es, ax

        ; Make sure A20 is enabled (port 0x92 bit 1).
        in al, 0x92
        or al, 2
        and al, ~1                        ; never set the reset bit
        out 0x92, al

        mov esi, 0x200000                 ; 2 MiB: above the 1 MiB of 8086
        mov dword [esi], 0xcafef00d
        mov dword [esi + 4], 0x12345678
        CHECK dword [esi], 0xcafef00d, "unreal-mode store/load at 2 MiB"
        mov edi, 0x100000
        mov dword [edi], 0x11111111
        mov dword [0], 0x22222222
        CHECK dword [edi], 0x11111111, "1 MiB aliases 0 with A20 on"

        ; --- A20 off: bit 20 of every address is 0 ----------------------------
        ; Both gates must say off: port 0x92 bit 1, and the 8042's output
        ; port bit 1 (command D1h, then the new output port value), as
        ; chipsets OR the two.
        in al, 0x92
        and al, ~3
        out 0x92, al
        call kbc_wait
        mov al, 0xd1
        out 0x64, al
        call kbc_wait
        mov al, 0xdd                      ; reset inactive, A20 off
        out 0x60, al
        call kbc_wait
        CHECK dword [edi], 0x22222222, "A20 off: 1 MiB does not alias 0"
        mov dword [edi], 0x33333333      ; lands on 0
        in al, 0x92
        or al, 2
        and al, ~1
        out 0x92, al
        mov al, 0xd1
        out 0x64, al
        call kbc_wait
        mov al, 0xdf                      ; A20 on
        out 0x60, al
        call kbc_wait
        CHECK dword [0], 0x33333333, "A20 off: store to 1 MiB missed 0"
        CHECK dword [edi], 0x11111111, "A20 on again: 1 MiB changed"

        PASS

; Wait until the 8042 input buffer is empty (status bit 1).
kbc_wait:
        push ax
.w:     in al, 0x64
        test al, 2
        jnz .w
        pop ax
        ret

int40:  push bp
        mov bp, sp
        mov ax, [bp + 2]
        mov [SCRATCH + 8], ax            ; IP
        mov ax, [bp + 4]
        mov [SCRATCH + 10], ax           ; CS
        mov ax, [bp + 6]
        mov [SCRATCH + 12], ax           ; FLAGS
        pushf
        pop ax
        mov [SCRATCH + 14], ax           ; FLAGS inside the handler
        mov word [VAR], 0x55aa
        pop bp
        iret

int40_moved:
        mov word [VAR], 0x77
        iret

de_handler:
        push bp
        mov bp, sp
        mov ax, [bp + 2]
        mov [SCRATCH + 8], ax
        add word [bp + 2], 2             ; skip the 2-byte DIV
        mov word [VAR], 1
        pop bp
        iret

ud_handler:
        push bp
        mov bp, sp
        mov ax, [bp + 2]
        mov [SCRATCH + 8], ax
        add word [bp + 2], 2             ; skip UD2
        mov word [VAR], 1
        pop bp
        iret

idtr_moved:
        dw 0x3ff
        dd 0x600

        END_IMAGE

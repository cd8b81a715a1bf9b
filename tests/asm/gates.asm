; gates: interrupt and trap gates in protected mode.
;
; SDM Vol. 3 6.11 (IDT descriptors: interrupt, trap and task gates; 16- and
; 32-bit gates), 6.12.1.3 (an interrupt gate clears IF, a trap gate leaves
; it; both clear TF, VM, RF, NT), 6.12.1.1 (INT n, INT3, INTO check the gate
; DPL against CPL; #GP(vector * 8 + 2)), 6.13 and 6.15 (error codes with
; the IDT bit: a not-present gate is #NP(vector * 8 + 2), and EXT = 1 when
; the event was not a software interrupt).
%define TEST_NAME "gates"
%include "lib.inc"

VEC_INT   equ 0x40               ; interrupt gate
VEC_TRAP  equ 0x41               ; trap gate
VEC_16    equ 0x42               ; 16-bit interrupt gate
VEC_NP    equ 0x43               ; not present
VEC_BAD   equ 0x44               ; selector of a data segment

; Record EFLAGS inside a handler into SCRATCH and return.
        bits 32
flags_handler:
        push eax
        pushfd
        pop eax
        mov [SCRATCH], eax
        pop eax
        iretd

        bits 16
main:
        ENTER_PM32
        call lib_tss32_setup
        mov eax, VEC_INT
        mov ebx, flags_handler
        mov cx, SEL_CODE32
        mov dx, 0x8e00                   ; 32-bit interrupt gate
        call lib_set_gate32
        mov eax, VEC_TRAP
        mov dx, 0x8f00                   ; 32-bit trap gate
        call lib_set_gate32

        ; --- interrupt gate clears IF; trap gate keeps it ------------------
        sti
        int VEC_INT
        cli
        CHECKM [SCRATCH], 0x200, 0, "IF set inside an interrupt-gate handler"
        sti
        int VEC_TRAP
        cli
        CHECKM [SCRATCH], 0x200, 0x200, "IF clear inside a trap-gate handler"
        ; Both clear NT (and TF, not tested here): set NT, then INT.
        pushfd
        or dword [esp], 0x4000
        popfd
        int VEC_TRAP
        pushfd
        pop eax
        CHECKM eax, 0x4000, 0x4000, "IRET did not restore NT"
        CHECKM [SCRATCH], 0x4000, 0, "NT set inside the handler"
        pushfd
        and dword [esp], ~0x4000
        popfd

        ; --- a 16-bit interrupt gate pushes a 16-bit frame -------------------
        ; Handler in SEL_CODE16 (base 0xF0000) through a 16-bit gate (type 6):
        ; the frame is IP, CS, FLAGS as words, IP being EIP truncated to 16
        ; bits, so the handler cannot IRET to our EIP > 0xFFFF; it records
        ; the frame and far-jumps back.
        mov eax, VEC_16
        mov ebx, handler16
        and ebx, 0xffff                  ; a 16-bit gate has a 16-bit offset
        mov cx, SEL_CODE16
        mov dx, 0x8600
        call lib_set_gate32
        mov ebp, esp
        int VEC_16
gates_after16:
        CHECK [SCRATCH], 6, "16-bit gate: frame size"
        CHECK [SCRATCH + 8], R(gates_after16), "16-bit gate: pushed IP"
        CHECK [SCRATCH + 12], SEL_CODE32, "16-bit gate: pushed CS"
        cmp esp, ebp
        je .esp16
        FAIL "16-bit gate: ESP after return"
.esp16:

        ; --- not-present gate: #NP(vector * 8 + 2) ----------------------------
        mov eax, VEC_NP
        mov ebx, flags_handler
        mov cx, SEL_CODE32
        mov dx, 0x0e00                   ; P = 0
        call lib_set_gate32
        TRY .r1
        int VEC_NP
        NOFAULT "INT to a not-present gate"
.r1:    EXPECT 11, VEC_NP * 8 + 2, "INT to a not-present gate"

        ; --- gate to a data segment: #GP(selector) -----------------------------
        mov eax, VEC_BAD
        mov ebx, flags_handler
        mov cx, SEL_DATA
        mov dx, 0x8e00
        call lib_set_gate32
        TRY .r2
        int VEC_BAD
        NOFAULT "INT through a gate to a data segment"
.r2:    EXPECT 13, SEL_DATA, "INT through a gate to a data segment"

        ; --- gate type 0 (reserved): #GP(vector * 8 + 2) ---------------------
        mov eax, VEC_BAD
        mov dx, 0x8000
        call lib_set_gate32
        TRY .r3
        int VEC_BAD
        NOFAULT "INT through a reserved gate type"
.r3:    EXPECT 13, VEC_BAD * 8 + 2, "INT through a reserved gate type"

        ; --- INT3 and INTO are DPL-checked; ring 3 needs DPL 3 gates -----------
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
.back:
        CHECK [SCRATCH + 16], 0x3333, "ring-3 part did not finish"
        PASS

        bits 16
handler16:                               ; CS = SEL_CODE16, base 0xF0000
        mov edx, ebp
        sub edx, esp
        mov [SCRATCH], edx               ; bytes pushed
        movzx edx, word [esp]
        mov [SCRATCH + 8], edx           ; IP
        movzx edx, word [esp + 2]
        mov [SCRATCH + 12], edx          ; CS
        add esp, 6
        jmp dword SEL_CODE32:gates_after16
        bits 32

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        TRY .r1
        int3
        NOFAULT "INT3 to a DPL 0 gate at CPL 3"
.r1:    EXPECT 13, 3 * 8 + 2, "INT3 to a DPL 0 gate at CPL 3"
        TRY .r2
        mov al, 0x7f
        add al, 1                        ; OF = 1
        into
        NOFAULT "INTO to a DPL 0 gate at CPL 3"
.r2:    EXPECT 13, 4 * 8 + 2, "INTO to a DPL 0 gate at CPL 3"
        mov dword [SCRATCH + 16], 0x3333
        int 0x80

        END_IMAGE

; debug: single-step (TF), the MOV SS shadow, RF, and DR0-DR7 breakpoints.
;
; SDM Vol. 3 17.2 (DR0-DR3 addresses, DR6 status: B0-B3, BS; DR7: Ln,
; R/Wn = 00 execute, 01 write, 11 read/write, LENn = 11 four bytes),
; 17.3.1.1 (instruction breakpoints are faults, reported before the
; instruction; RF = 1 in the image lets IRET re-execute it without a new
; #DB), 17.3.1.2 (data breakpoints are traps, after the access), 17.3.1.4
; (single-step: a trap after each instruction that began with TF = 1, not
; after the POPF that sets TF), 6.8.3 (after MOV SS, debug exceptions and
; single-step traps are inhibited until after the next instruction).
; INT1/ICEBP is in icebp.asm.
%define TEST_NAME "debug"
%include "lib.inc"

DB_COUNT equ DATA_AREA
DB_SETRF equ DATA_AREA + 4
DB_EIPS  equ DATA_AREA + 0x100   ; up to 32 dwords
DB_DR6S  equ DATA_AREA + 0x200

; #DB hook: record EIP and DR6, clear DR6, optionally set RF, return.
; Stack: vector, error, EIP, CS, EFLAGS.
        bits 32
db_hook:
        push eax
        push ebx
        mov eax, [DB_COUNT]
        and eax, 31
        mov ebx, [esp + 16]
        mov [DB_EIPS + eax * 4], ebx
        mov ebx, dr6
        mov [DB_DR6S + eax * 4], ebx
        inc dword [DB_COUNT]
        xor ebx, ebx
        mov dr6, ebx
        cmp dword [DB_SETRF], 0
        je .n
        or dword [esp + 24], 1 << 16
.n:     pop ebx
        pop eax
        add esp, 8
        iretd

%macro DB_RESET 0
        mov dword [DB_COUNT], 0
        mov dword [DB_SETRF], 0
%endmacro

        bits 16
main:
        ENTER_PM32
        mov dword [HOOKS + 1 * 8], db_hook
        xor eax, eax
        mov dr6, eax
        mov dr7, eax

        ; --- single-step ------------------------------------------------------
        DB_RESET
        pushfd
        or dword [esp], 0x100
        popfd                            ; no trap after this one
.s1:    nop
.s2:    nop
.s3:    pushfd
.s4:    and dword [esp], ~0x100
.s5:    popfd                            ; began with TF = 1: traps
.s6:    CHECK [DB_COUNT], 5, "single-step trap count"
        CHECK [DB_EIPS + 0], .s2, "single-step EIP 1"
        CHECK [DB_EIPS + 4], .s3, "single-step EIP 2"
        CHECK [DB_EIPS + 16], .s6, "single-step EIP 5 (after the POPF clearing TF)"
        CHECKM [DB_DR6S + 0], 1 << 14, 1 << 14, "DR6.BS"

        ; --- MOV SS inhibits the trap of the instruction after it -------------
        DB_RESET
        mov eax, ss
        pushfd
        or dword [esp], 0x100
        popfd
.m0:    nop
.m1:    mov ss, ax
.m2:    nop
.m3:    pushfd
        and dword [esp], ~0x100
        popfd
        ; Traps after .m0 (EIP .m1), none at the MOV SS boundary, then
        ; after .m2 (EIP .m3), then after PUSHFD, AND, POPF.
        CHECK [DB_EIPS + 0], .m1, "TF: trap after the NOP before MOV SS"
        CHECK [DB_EIPS + 4], .m3, "TF: first trap after MOV SS must follow the next instruction"

        ; --- DR0 instruction breakpoint: a fault; RF suppresses the repeat ----
        DB_RESET
        mov dword [DB_SETRF], 1
        mov eax, .bp
        mov dr0, eax
        mov eax, 0x401                   ; L0, execute, 1 byte (bit 10 reads 1)
        mov dr7, eax
.bp:    nop                              ; #DB before, then runs (RF)
        nop
        CHECK [DB_COUNT], 1, "DR0 breakpoint hits (RF must suppress the second)"
        CHECK [DB_EIPS], .bp, "DR0 breakpoint: saved EIP is the instruction"
        CHECKM [DB_DR6S], 1, 1, "DR6.B0"
        mov eax, dr7
        CHECKM eax, 0x401, 0x401, "DR7 readback"
        xor eax, eax
        mov dr7, eax

        ; --- DR1 data breakpoint on writes: a trap ---------------------------------
        DB_RESET
        mov eax, DATA_AREA + 0x40
        mov dr1, eax
        mov eax, 0x404 | (1 << 20) | (3 << 22)   ; L1, write, 4 bytes
        mov dr7, eax
        mov eax, [DATA_AREA + 0x40]      ; a read: no break
        CHECK [DB_COUNT], 0, "read hit a write-only breakpoint"
        mov eax, 0x404 | (1 << 20) | (3 << 22)
.w:     mov dword [DATA_AREA + 0x40], 1
.w_next:
        CHECK [DB_COUNT], 1, "write breakpoint did not trigger"
        CHECK [DB_EIPS], .w_next, "write breakpoint: EIP after the write"
        CHECKM [DB_DR6S], 2, 2, "DR6.B1"
        ; Read/write breakpoint.
        DB_RESET
        mov eax, 0x404 | (3 << 20) | (3 << 22)
        mov dr7, eax
        mov eax, [DATA_AREA + 0x42]      ; overlaps the 4-byte range
.r_next:
        CHECK [DB_COUNT], 1, "read/write breakpoint on a read"
        xor eax, eax
        mov dr7, eax

        PASS

        END_IMAGE

; debug2: more #DB rules in protected mode (debug.asm has the basics),
; the ones QEMU (TCG) models too; debug3.asm has the rest.
;
; SDM Vol. 3 17.3.1.1: a trap's EFLAGS image keeps RF = 0; 17.3.1.2: a
; data breakpoint in a REP string instruction traps after the iteration
; that hit, with EIP on the instruction and the registers of the
; iterations done; 17.2.4 and 17.3.1.2: an I/O breakpoint (R/W = 10 with
; CR4.DE) traps after the IN/OUT; 17.3.1.4 and 6.12.1: INT n clears TF,
; so neither it nor its handler is single-stepped, and the first trap
; follows the instruction after it.
%define TEST_NAME "debug2"
%include "lib.inc"

DB_COUNT equ DATA_AREA
DB_EIPS  equ DATA_AREA + 0x10    ; EIP of each #DB, up to 8
DB_DR6   equ DATA_AREA + 0x30    ; of the last one
DB_ECX   equ DATA_AREA + 0x34
BUF      equ DATA_AREA + 0x100

; #DB hook: record, clear DR6, return.  Stack: vector, error, EIP, CS,
; EFLAGS.
        bits 32
db_hook:
        push eax
        push ebx
        mov ebx, [DB_COUNT]
        and ebx, 7
        mov eax, [esp + 16]
        mov [DB_EIPS + ebx * 4], eax
        mov eax, dr6
        mov [DB_DR6], eax
        mov [DB_ECX], ecx
        inc dword [DB_COUNT]
        xor eax, eax
        mov dr6, eax
        pop ebx
        pop eax
        add esp, 8
        iretd

int40:  nop
        iretd

%macro DB_RESET 0
        mov dword [DB_COUNT], 0
        mov dword [DB_EIPS], 0
%endmacro

%macro DR7_OFF 0
        push eax
        mov eax, 0x400
        mov dr7, eax
        pop eax
%endmacro

        bits 16
main:
        ENTER_PM32
        mov dword [HOOKS + 1 * 8], db_hook
        xor eax, eax
        mov dr6, eax
        DR7_OFF

        ; --- RF stays 0 in a trap's frame -------------------------------------------
        TRY .a2
        int3
.a2:    EXPECT 3, -1, "INT3"
        CHECKM [EXC_FLAGS], 1 << 16, 0, "RF in the #BP frame (a trap)"

        ; --- a data breakpoint in REP STOSD ---------------------------------------
        DB_RESET
        mov eax, BUF + 8
        mov dr0, eax
        mov eax, 0x401 | (1 << 16) | (3 << 18)   ; L0, write, 4 bytes
        mov dr7, eax
        mov edi, BUF
        mov ecx, 4
        xor eax, eax
.rep:   rep stosd
        DR7_OFF
        CHECK ecx, 0, "REP STOSD did not complete"
        CHECK [DB_COUNT], 1, "REP STOSD write breakpoint hits"
        CHECK [DB_EIPS], .rep, "REP STOSD breakpoint: EIP stays on the REP"
        CHECK [DB_ECX], 1, "REP STOSD breakpoint: ECX after the third iteration"
        CHECKM [DB_DR6], 0xf, 1, "REP STOSD breakpoint: DR6.B0"

        ; --- an I/O breakpoint -------------------------------------------------------
        DB_RESET
        mov eax, cr4
        or eax, 1 << 3                   ; DE
        mov cr4, eax
        mov eax, 0x80
        mov dr2, eax
        mov eax, 0x410 | (2 << 24)       ; L2, I/O, 1 byte
        mov dr7, eax
        mov al, 0x55
        out 0x80, al
.io1:   DR7_OFF
        mov eax, cr4
        and eax, ~(1 << 3)
        mov cr4, eax
        CHECK [DB_COUNT], 1, "I/O breakpoint on OUT 80h"
        CHECK [DB_EIPS], .io1, "I/O breakpoint: a trap after the OUT"
        CHECKM [DB_DR6], 0xf, 4, "I/O breakpoint: DR6.B2"

        ; --- TF across INT n ------------------------------------------------------------
        DB_RESET
        mov eax, 0x40
        mov ebx, int40
        mov cx, SEL_CODE32
        mov dx, 0x8e00
        call lib_set_gate32
        pushfd
        or dword [esp], 0x100
        popfd
        int 0x40
        nop
.t2:    pushfd
        and dword [esp], ~0x100
        popfd
        CHECK [DB_EIPS], .t2, "TF: first trap must follow the instruction after INT n"
        CHECK [DB_COUNT], 4, "TF: traps after NOP, PUSHFD, AND, POPFD"

        PASS

        END_IMAGE

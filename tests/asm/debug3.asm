; debug3: #DB rules that QEMU 7.2 (TCG) does not model (see run.sh).
;
;  - SDM Vol. 3 17.3.1.1: RF is 1 in the EFLAGS image of a fault, and of a
;    trap taken between iterations of a REP string instruction;
;  - 6.8.3: after MOV SS, debug exceptions wait until after the next
;    instruction: a data breakpoint hit by the MOV SS is reported after
;    it, and an instruction breakpoint on it is not reported;
;  - 17.2.4: DR7.GD makes MOV DR a #DB fault with DR6.BD, and the
;    processor clears GD on entering the handler;
;  - 17.2.5: the processor "uses LENn field bits to mask the lower address
;    bits", so a 2-byte breakpoint at an odd address watches the word.
%define TEST_NAME "debug3"
%include "lib.inc"

DB_COUNT equ DATA_AREA
DB_EIP   equ DATA_AREA + 4
DB_DR6   equ DATA_AREA + 8
DB_DR7   equ DATA_AREA + 12
DB_FLAGS equ DATA_AREA + 16
SSVAL    equ DATA_AREA + 0x80
BUF      equ DATA_AREA + 0x100

        bits 32
db_hook:                                 ; stack: vector, error, EIP, CS, EFLAGS
        push eax
        mov eax, [esp + 12]
        mov [DB_EIP], eax
        mov eax, [esp + 20]
        mov [DB_FLAGS], eax
        mov eax, dr6
        mov [DB_DR6], eax
        mov eax, dr7
        mov [DB_DR7], eax
        inc dword [DB_COUNT]
        xor eax, eax
        mov dr6, eax
        or dword [esp + 20], 1 << 16     ; RF: an instruction breakpoint
        pop eax                          ; must not fire again
        add esp, 8
        iretd

%macro DB_RESET 0
        mov dword [DB_COUNT], 0
        mov dword [DB_EIP], 0
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

        ; --- RF in a fault's frame ----------------------------------------------------
        TRY .a1
        ud2
        NOFAULT "UD2"
.a1:    EXPECT 6, -1, "UD2"
        CHECKM [EXC_FLAGS], 1 << 16, 1 << 16, "RF in the #UD frame (a fault)"

        ; --- RF in a trap between REP iterations ----------------------------------------
        DB_RESET
        mov eax, BUF + 8
        mov dr0, eax
        mov eax, 0x401 | (1 << 16) | (3 << 18)   ; L0, write, 4 bytes
        mov dr7, eax
        mov edi, BUF
        mov ecx, 4
        xor eax, eax
        rep stosd
        DR7_OFF
        CHECK [DB_COUNT], 1, "REP STOSD write breakpoint hits"
        CHECKM [DB_FLAGS], 1 << 16, 1 << 16, "REP STOSD breakpoint: RF in the frame"

        ; --- MOV SS from a watched word: #DB after the next instruction -------------
        DB_RESET
        mov word [SSVAL], SEL_DATA
        mov eax, SSVAL
        mov dr1, eax
        mov eax, 0x404 | (3 << 20) | (1 << 22)   ; L1, read/write, 2 bytes
        mov dr7, eax
        mov ss, [SSVAL]
        nop
.ms2:   DR7_OFF
        CHECK [DB_COUNT], 1, "MOV SS read breakpoint hits"
        CHECK [DB_EIP], .ms2, "MOV SS read breakpoint: #DB after the next instruction"
        CHECKM [DB_DR6], 0xf, 2, "MOV SS read breakpoint: DR6.B1"

        ; --- no instruction breakpoint in the MOV SS shadow ---------------------------
        DB_RESET
        mov eax, .es1
        mov dr0, eax
        mov eax, 0x401                   ; L0, execute
        mov dr7, eax
        mov ax, ss
        mov ss, ax
.es1:   nop
        DR7_OFF
        CHECK [DB_COUNT], 0, "instruction breakpoint right after MOV SS"

        ; --- DR7.GD ------------------------------------------------------------------
        DB_RESET
        mov eax, 0x400 | (1 << 13)
        mov dr7, eax
.gd:    mov eax, dr0
        CHECK [DB_COUNT], 1, "DR7.GD: MOV from DR0 raises #DB once"
        CHECK [DB_EIP], .gd, "DR7.GD: a fault, EIP on the MOV"
        CHECKM [DB_DR6], 1 << 13, 1 << 13, "DR7.GD: DR6.BD"
        CHECKM [DB_DR7], 1 << 13, 0, "DR7.GD: cleared for the handler"

        ; --- the length masks the address -------------------------------------------
        DB_RESET
        mov eax, BUF + 0x11
        mov dr3, eax
        mov eax, 0x440 | (1 << 28) | (1 << 30)   ; L3, write, 2 bytes
        mov dr7, eax
        mov byte [BUF + 0x10], 1
.l2:    DR7_OFF
        CHECK [DB_COUNT], 1, "2-byte breakpoint at BUF+11h must watch BUF+10h"
        CHECK [DB_EIP], .l2, "2-byte breakpoint: a trap after the write"

        PASS

        END_IMAGE

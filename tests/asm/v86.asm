; v86: virtual-8086 mode and its IOPL-sensitive instructions.
;
; SDM Vol. 3 20.2 (entering V86 through IRET with EFLAGS.VM = 1 from CPL 0;
; 8086-style address formation; CPL 3), 20.2.7 (CLI, STI, PUSHF, POPF, INT n
; and IRET are IOPL-sensitive: with IOPL < 3 they raise #GP(0), CR4.VME
; being 0), 20.2.8.1 (IN/OUT are not IOPL-sensitive in V86 mode: the TSS
; I/O bitmap decides), 20.3.1 and 6.12.1 (an interrupt or exception from
; V86 mode pushes GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP on the ring-0
; stack and loads DS, ES, FS, GS with null; the handler runs in protected
; mode; IRET with VM = 1 in the image returns to V86 mode).
%define TEST_NAME "v86"
%include "lib.inc"

V86_SP  equ 0x7000

; V86 code: TRY with a V86 offset (DS = 0 in V86 code).
%macro VTRY 1
        mov dword [RESUME], R(%1)
        mov dword [EXC_VEC], -1
%endmacro

; To V86 at F000:label with EFLAGS = %2 (VM is added).
%macro ENTER_V86 2
        push dword 0                     ; GS
        push dword 0                     ; FS
        push dword 0                     ; DS
        push dword 0                     ; ES
        push dword 0                     ; SS
        push dword V86_SP                ; ESP
        push dword (%2) | (1 << 17)      ; EFLAGS with VM
        push dword 0xf000                ; CS
        push dword R(%1)                 ; EIP
        iretd
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup
        ; Let V86 code report through the debug console, COM1 and the exit
        ; port, and use port 0x80; everything else stays denied.
        and byte [TSS_BASE + 0x68 + 0xe9 / 8], ~(1 << (0xe9 & 7))
        and byte [TSS_BASE + 0x68 + 0xf4 / 8], ~(1 << (0xf4 & 7))
        and byte [TSS_BASE + 0x68 + 0x80 / 8], ~(1 << (0x80 & 7))
        and byte [TSS_BASE + 0x68 + 0x3f8 / 8], ~(1 << (0x3f8 & 7))

        ; --- IOPL 0 --------------------------------------------------------
        mov dword [R0_CONT], .back1
        mov dword [R0_ESP], STACK0_TOP
        ENTER_V86 v86_iopl0, 0x2
.back1:
        mov dword [HOOKS + 13 * 8], 0
        CHECK [SCRATCH], 0x8086, "IOPL 0 part did not finish"

        ; --- IOPL 3 ----------------------------------------------------------
        ; INT 0x30 through a DPL 3 interrupt gate to ring 0 and back by IRET;
        ; INT 0x31 leaves V86 mode for good.
        mov dword [HOOKS + 0x30 * 8], v86_int_hook
        mov dword [HOOKS + 0x31 * 8], lib_hook_ring0_32
        mov eax, 0x30
        lea ebx, [lib_stubs32 + 0x30 * 12]
        mov cx, SEL_CODE32
        mov dx, 0xee00
        call lib_set_gate32
        mov eax, 0x31
        lea ebx, [lib_stubs32 + 0x31 * 12]
        call lib_set_gate32
        mov dword [R0_CONT], .back2
        mov dword [R0_ESP], STACK0_TOP
        ENTER_V86 v86_iopl3, 0x3002
.back2:
        CHECK [SCRATCH], 0x3333, "IOPL 3 part did not finish"
        ; The INT 0x30 frame, as seen by the ring-0 handler (Figure 6-5):
        ; EIP at STACK0_TOP - 36, then CS, EFLAGS (VM), ESP, SS, ES, DS, FS, GS.
        CHECK [SCRATCH + 8], STACK0_TOP - 36, "V86 interrupt frame address"
        CHECK [SCRATCH + 12], 0xf000, "frame CS"
        CHECKM [SCRATCH + 16], 1 << 17, 1 << 17, "frame EFLAGS.VM"
        CHECK [SCRATCH + 20], 0x1234, "frame ES"
        CHECK [SCRATCH + 24], 0x2345, "frame DS"
        CHECK [SCRATCH + 28], 0x3456, "frame FS"
        CHECK [SCRATCH + 32], 0x4567, "frame GS"
        CHECK [SCRATCH + 36], 0, "DS in the handler (must be null)"
        PASS

; Ring 0: record the V86 frame of INT 0x30, return to V86 by IRET.
; Stack: vector, error, EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
v86_int_hook:
        push eax
        mov eax, ds                      ; null: the CPU cleared it
        push eax
        mov ax, SEL_DATA
        mov ds, ax
        pop eax
        mov [SCRATCH + 36], eax
        lea eax, [esp + 12]
        mov [SCRATCH + 8], eax
        mov eax, [esp + 16]
        mov [SCRATCH + 12], eax
        mov eax, [esp + 20]
        mov [SCRATCH + 16], eax
        mov eax, [esp + 32]
        mov [SCRATCH + 20], eax
        mov eax, [esp + 36]
        mov [SCRATCH + 24], eax
        mov eax, [esp + 40]
        mov [SCRATCH + 28], eax
        mov eax, [esp + 44]
        mov [SCRATCH + 32], eax
        pop eax
        add esp, 8
        iretd                            ; VM = 1 in the image: back to V86

        bits 16
; ---- V86 code, IOPL 0 ------------------------------------------------------
v86_iopl0:
        ; 8086 address formation: 1000:0010 is linear 0x10010.
        mov ax, 0x1000
        mov es, ax
        mov dword [es:0x10], 0x8086abcd
        mov ax, 0x1001
        mov es, ax
        CHECK dword [es:0], 0x8086abcd, "V86 segment * 16 + offset"
        xor eax, eax
        mov ax, cs
        CHECK eax, 0xf000, "V86 CS"
        xor ax, ax
        mov es, ax
        VTRY .r1
.cli:   cli
        NOFAULT "CLI at IOPL 0"
.r1:    EXPECT 13, 0, "CLI at IOPL 0"
        CHECK [EXC_CS], 0xf000, "#GP from V86: frame CS"
        CHECK [EXC_EIP], R(.cli), "#GP from V86: frame EIP"
        CHECKM [EXC_FLAGS], 1 << 17, 1 << 17, "#GP from V86: frame EFLAGS.VM"
        VTRY .r2
        sti
        NOFAULT "STI at IOPL 0"
.r2:    EXPECT 13, 0, "STI at IOPL 0"
        VTRY .r3
        pushf
        NOFAULT "PUSHF at IOPL 0"
.r3:    EXPECT 13, 0, "PUSHF at IOPL 0"
        VTRY .r4
        popf
        NOFAULT "POPF at IOPL 0"
.r4:    EXPECT 13, 0, "POPF at IOPL 0"
        VTRY .r5
        int 0x21
        NOFAULT "INT 0x21 at IOPL 0"
.r5:    EXPECT 13, 0, "INT 0x21 at IOPL 0"
        VTRY .r6
        iret
        NOFAULT "IRET at IOPL 0"
.r6:    EXPECT 13, 0, "IRET at IOPL 0"
        VTRY .r6b
        o32 pushf
        NOFAULT "PUSHFD at IOPL 0"
.r6b:   EXPECT 13, 0, "PUSHFD at IOPL 0"
        ; IN/OUT follow the bitmap, not IOPL: 0x80 is allowed, 0x71 not.
        out 0x80, al
        VTRY .r7
        in al, 0x71
        NOFAULT "IN 0x71 with its bitmap bit set"
.r7:    EXPECT 13, 0, "IN 0x71 with its bitmap bit set"
        ; Privileged instructions: #GP(0) at CPL 3.
        VTRY .r8
        hlt
        NOFAULT "HLT in V86 mode"
.r8:    EXPECT 13, 0, "HLT in V86 mode"
        mov dword [SCRATCH], 0x8086
        ; Leave: the next #GP goes to ring 0 for good.
        mov dword [HOOKS + 13 * 8], lib_hook_ring0_32
        cli

; ---- V86 code, IOPL 3 ------------------------------------------------------
v86_iopl3:
        cli
        sti
        cli
        xor eax, eax
        pushf
        pop ax
        CHECKM eax, 0x3000, 0x3000, "PUSHF at IOPL 3: IOPL"
        o32 pushf
        pop eax
        pop ebx
        CHECKM eax, 1 << 17, 0, "PUSHFD in V86 must not show VM"
        ; POPF at IOPL 3 cannot change IOPL (CPL 3) but changes IF.
        push word 0x0202
        popf
        pushf
        pop ax
        CHECKM eax, 0x3200, 0x3200, "POPF at IOPL 3: IF set, IOPL kept"
        cli
        ; INT through the IDT to a ring-0 handler, which returns by IRET.
        mov ax, 0x1234
        mov es, ax
        mov ax, 0x2345
        mov ds, ax
        mov ax, 0x3456
        mov fs, ax
        mov ax, 0x4567
        mov gs, ax
        int 0x30
        xor eax, eax
        mov ax, ds
        CHECK eax, 0x2345, "DS after IRET back to V86"
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov dword [SCRATCH], 0x3333
        int 0x31                         ; to ring 0 for good

        END_IMAGE

; privilege: rings 0 and 3, stack switches through the TSS, IRET and RETF
; to an outer level, INT through gates of each DPL, conforming code, and
; what CPL 3 may not do.
;
; SDM Vol. 3 5.5-5.8 (privilege levels, conforming segments, returns to an
; outer level nulling DS/ES/FS/GS that the new CPL may not use), 6.12.1
; (a handler at a more privileged level runs on SS0:ESP0 from the TSS and
; the frame holds SS, ESP, EFLAGS, CS, EIP of the interrupted code), 6.12.1.1
; (INT n checks the gate DPL against CPL: #GP(vector * 8 + 2)), 6.15 and
; Vol. 1 19.5 (IN/OUT/CLI need CPL <= IOPL, or for IN/OUT a clear bit in
; the TSS I/O bitmap), and the IRET, RETF, HLT, MOV CR, LGDT pages of Vol. 2.
%define TEST_NAME "privilege"
%include "lib.inc"

SEL_CONF equ SEL_FREE            ; conforming code, DPL 0
SEL_NC3  equ SEL_FREE + 8        ; non-conforming code, DPL 3 (= SEL_CODE32_U)

; To ring 3 at `label` with EFLAGS = %2 through IRET.
%macro IRET_TO_RING3 2
        push dword SEL_DATA_U | 3
        push dword STACK3_TOP
        push dword %2
        push dword SEL_CODE32_U | 3
        push dword %1
        iretd
%endmacro

; Back from ring 3: INT 0x80 (a DPL 3 gate) continues at `label` in ring 0.
%macro ON_INT80 1
        mov dword [R0_CONT], %1
        mov dword [R0_ESP], STACK0_TOP
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup
        mov dword [HOOKS + 0x80 * 8], lib_hook_ring0_32
        mov eax, 0x80
        lea ebx, [lib_stubs32 + 0x80 * 12]
        mov cx, SEL_CODE32
        mov dx, 0xee00                   ; interrupt gate, DPL 3
        call lib_set_gate32

        ; --- IRET to ring 3: CPL, stack, and data segment nulling ------------
        ; DS, GS hold DPL 0 data and must be nulled; FS holds DPL 3 data and
        ; must survive.
        mov ax, SEL_DATA_U | 3
        mov fs, ax
        mov ax, SEL_DATA
        mov gs, ax
        ON_INT80 .back1
        IRET_TO_RING3 ring3_a, 0x2   ; IOPL 0, IF 0
.back1:
        ; Registers from ring 3: EAX = DS, EBX = CS, ECX = ESP, EDX = FS,
        ; ESI = GS, EDI = ES.
        push ebx
        push ecx
        push edx
        push esi
        push edi
        CHECK eax, 0, "DS (DPL 0) not nulled by IRET to ring 3"
        pop eax
        CHECK eax, 0, "ES (DPL 0) not nulled by IRET to ring 3"
        pop eax
        CHECK eax, 0, "GS (DPL 0) not nulled by IRET to ring 3"
        pop eax
        CHECK eax, SEL_DATA_U | 3, "FS (DPL 3) changed by IRET"
        pop eax
        CHECK eax, STACK3_TOP, "ring-3 ESP after IRET"
        pop eax
        CHECK eax, SEL_CODE32_U | 3, "ring-3 CS after IRET"
        ; INT 0x80 from ring 3: the frame is on SS0:ESP0 of the TSS and
        ; holds the ring-3 SS:ESP (SDM 6.12.1, Figure 6-4).
        CHECK [EXC_FRAME], STACK0_TOP - 20, "INT from ring 3 did not switch to TSS.ESP0"
        CHECK [EXC_SS], SEL_DATA_U | 3, "frame SS"
        CHECK [EXC_ESP], STACK3_TOP, "frame ESP"
        CHECK [EXC_CS], SEL_CODE32_U | 3, "frame CS"
        CHECK [EXC_EIP], ring3_a.after_int, "frame EIP (after INT)"

        ; --- what ring 3 may not do -------------------------------------------
        mov ax, SEL_DATA
        mov ds, ax
        ON_INT80 .back2
        IRET_TO_RING3 ring3_b, 0x2
.back2:
        CHECK [SCRATCH], 0x600d, "ring-3 checks did not finish"

        ; --- IOPL 3: CLI and OUT allowed in ring 3 ------------------------------
        ON_INT80 .back3
        IRET_TO_RING3 ring3_c, 0x3002
.back3:
        CHECK [SCRATCH], 0x10b1, "ring-3 IOPL 3 checks did not finish"

        ; --- the I/O bitmap: port 0x80 allowed, 0x81 not, at IOPL 0 -------------
        and byte [TSS_BASE + 0x68 + 0x80 / 8], ~1
        ON_INT80 .back4
        IRET_TO_RING3 ring3_d, 0x2
.back4:
        or byte [TSS_BASE + 0x68 + 0x80 / 8], 1
        CHECK [SCRATCH], 0xb17, "ring-3 bitmap checks did not finish"

        ; --- RETF to an outer level ------------------------------------------------
        ON_INT80 .back5
        push dword SEL_DATA_U | 3
        push dword STACK3_TOP - 0x100
        push dword SEL_CODE32_U | 3
        push dword ring3_e
        retf
.back5:
        CHECK eax, SEL_CODE32_U | 3, "CS after RETF to ring 3"
        CHECK ecx, STACK3_TOP - 0x100, "ESP after RETF to ring 3"

        ; --- conforming code ----------------------------------------------------
        ; A conforming DPL 0 segment runs at the caller's CPL (5.8.1.2).
        mov eax, SEL_CONF
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, 0x9f                     ; code, conforming, readable, accessed
        mov dh, 0xc
        call lib_set_desc
        ; From ring 0: CPL stays 0.
        call SEL_CONF:conf_func
        CHECK eax, SEL_CONF, "CS in conforming code called from ring 0"
        ON_INT80 .back6
        IRET_TO_RING3 ring3_f, 0x2
.back6:
        CHECK [SCRATCH], 0xc0f, "ring-3 conforming checks did not finish"
        ; A conforming DPL 3 segment cannot be entered from ring 0 (DPL > CPL).
        mov eax, SEL_CONF
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, 0xff                     ; conforming, DPL 3
        mov dh, 0xc
        call lib_set_desc
        TRY .r7
        call SEL_CONF:conf_func
        NOFAULT "far call to conforming DPL 3 code from ring 0"
.r7:    EXPECT 13, SEL_CONF, "far call to conforming DPL 3 code from ring 0"
        PASS

; ---- ring-3 code ------------------------------------------------------------
ring3_a:
        mov eax, ds
        mov ebx, cs
        mov ecx, esp
        mov edx, fs
        mov esi, gs
        mov edi, es
        int 0x80
.after_int:
        FAIL "INT 0x80 returned"

ring3_b:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        mov ebx, cs
        CHECK ebx, SEL_CODE32_U | 3, "CPL 3 CS"
        TRY .r1
        hlt
        NOFAULT "HLT at CPL 3"
.r1:    EXPECT 13, 0, "HLT at CPL 3"
        TRY .r2
        cli
        NOFAULT "CLI at CPL 3, IOPL 0"
.r2:    EXPECT 13, 0, "CLI at CPL 3, IOPL 0"
        TRY .r3
        mov eax, cr0
        NOFAULT "MOV from CR0 at CPL 3"
.r3:    EXPECT 13, 0, "MOV from CR0 at CPL 3"
        TRY .r4
        lgdt [lib_gdtr]
        NOFAULT "LGDT at CPL 3"
.r4:    EXPECT 13, 0, "LGDT at CPL 3"
        TRY .r5
        in al, 0x80
        NOFAULT "IN at CPL 3, IOPL 0, no bitmap permission"
.r5:    EXPECT 13, 0, "IN at CPL 3, IOPL 0, no bitmap permission"
        ; INT to a DPL 0 gate: #GP with the IDT-index error code.
        TRY .r6
        int 0x81
        NOFAULT "INT 0x81 (DPL 0 gate) at CPL 3"
.r6:    EXPECT 13, 0x81 * 8 + 2, "INT 0x81 (DPL 0 gate) at CPL 3"
        ; Loading a DPL 0 data segment: #GP(selector).
        TRY .r7
        mov ax, SEL_DATA
        mov gs, ax
        NOFAULT "load DPL 0 data at CPL 3"
.r7:    EXPECT 13, SEL_DATA, "load DPL 0 data at CPL 3"
        ; IRET to ring 0 from ring 3: RPL < CPL is #GP(selector).
        TRY .r8
        pushfd
        push dword SEL_CODE32
        push dword .r8
        iretd
        NOFAULT "IRET from ring 3 to ring 0"
.r8:    EXPECT 13, SEL_CODE32, "IRET from ring 3 to ring 0"
        ; A far jump to non-conforming DPL 0 code: #GP(selector).
        TRY .r9
        jmp SEL_CODE32:.r9
        NOFAULT "far JMP to DPL 0 code at CPL 3"
.r9:    EXPECT 13, SEL_CODE32, "far JMP to DPL 0 code at CPL 3"
        ; POPF at CPL 3 leaves IOPL and IF alone (no fault).
        pushfd
        or dword [esp], 0x3200
        popfd
        pushfd
        pop eax
        CHECKM eax, 0x3200, 0, "POPF at CPL 3 changed IOPL or IF"
        mov dword [SCRATCH], 0x600d
        int 0x80

ring3_c:
        cli                              ; IOPL 3: allowed
        out 0x80, al                     ; (POST port: harmless)
        sti
        cli
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov dword [SCRATCH], 0x10b1
        int 0x80

ring3_d:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        out 0x80, al                     ; bit clear in the bitmap
        TRY .r1
        out 0x81, al
        NOFAULT "OUT 0x81 with its bitmap bit set"
.r1:    EXPECT 13, 0, "OUT 0x81 with its bitmap bit set"
        TRY .r2
        out 0x80, ax                     ; needs bits for 0x80 and 0x81
        NOFAULT "16-bit OUT 0x80 with 0x81's bit set"
.r2:    EXPECT 13, 0, "16-bit OUT 0x80 with 0x81's bit set"
        mov dword [SCRATCH], 0xb17
        int 0x80

ring3_e:
        mov eax, cs
        mov ecx, esp
        int 0x80

ring3_f:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        ; Conforming DPL 0 code from ring 3: CPL stays 3, so CS.RPL = 3.
        call SEL_CONF:conf_func
        CHECK eax, SEL_CONF | 3, "CS in conforming code called from ring 3"
        mov dword [SCRATCH], 0xc0f
        int 0x80

conf_func:
        mov eax, cs
        retf

        END_IMAGE

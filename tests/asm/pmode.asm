; pmode: protected mode, segment-register loads and 16/32-bit code.
;
; SDM Vol. 3 3.4 (selectors, descriptors, the accessed bit), 5.4-5.6
; (privilege and type checks when loading DS/ES/FS/GS and SS), 6.15
; (#GP, #NP, #SS error codes: the selector with EXT = 0), and the MOV, POP
; and far CALL pages of Vol. 2.  Each check installs a descriptor, loads it,
; and compares the exception vector and error code with the SDM's.
%define TEST_NAME "pmode"
%include "lib.inc"

SEL_T   equ SEL_FREE             ; 0x60: the descriptor under test
SEL_T2  equ SEL_FREE + 8

; SET_T access, flags: GDT[SEL_T] = base 0, limit 0xfffff, given bytes.
%macro SET_T 2
        mov eax, SEL_T
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, %1
        mov dh, %2
        call lib_set_desc
%endmacro

main:
        ENTER_PM32
        mov eax, cr0
        CHECKM eax, 1, 1, "CR0.PE after entering protected mode"

        ; --- a selector beyond the GDT limit: #GP(selector) ----------------
        TRY .r1
        mov ax, GDT_LIMIT + 1            ; 0x800, index 256
        mov ds, ax
        NOFAULT "selector beyond GDT limit"
.r1:    EXPECT 13, 0x800, "selector beyond GDT limit"

        ; --- the null selector: fine for DS, #GP(0) for SS ------------------
        xor eax, eax
        mov ds, ax
        mov ax, SEL_DATA
        mov ds, ax
        TRY .r2
        xor eax, eax
        mov ss, ax
        NOFAULT "null SS"
.r2:    EXPECT 13, 0, "null SS"

        ; --- not present: #NP(sel) for DS, #SS(sel) for SS --------------------
        SET_T 0x13, 0xc                  ; data RW, accessed, P = 0
        TRY .r3
        mov ax, SEL_T
        mov es, ax
        NOFAULT "not-present ES"
.r3:    EXPECT 11, SEL_T, "not-present ES"
        TRY .r4
        mov ax, SEL_T
        mov ss, ax
        NOFAULT "not-present SS"
.r4:    EXPECT 12, SEL_T, "not-present SS"

        ; --- type checks ---------------------------------------------------
        SET_T 0x99, 0xc                  ; code, execute-only
        TRY .r5
        mov ax, SEL_T
        mov fs, ax
        NOFAULT "execute-only code into FS"
.r5:    EXPECT 13, SEL_T, "execute-only code into FS"
        SET_T 0x9b, 0xc                  ; readable code: allowed in FS
        mov ax, SEL_T
        mov fs, ax
        TRY .r6
        mov ss, ax                       ; but never in SS
        NOFAULT "code segment into SS"
.r6:    EXPECT 13, SEL_T, "code segment into SS"
        SET_T 0x91, 0xc                  ; read-only data: not for SS
        TRY .r7
        mov ax, SEL_T
        mov ss, ax
        NOFAULT "read-only data into SS"
.r7:    EXPECT 13, SEL_T, "read-only data into SS"
        SET_T 0x82, 0x0                  ; a system descriptor (LDT)
        TRY .r8
        mov ax, SEL_T
        mov gs, ax
        NOFAULT "LDT descriptor into GS"
.r8:    EXPECT 13, SEL_T, "LDT descriptor into GS"
        ; An LDT selector while LDTR is null.
        TRY .r9
        mov ax, 0x0c                     ; index 1, TI = 1
        mov ds, ax
        NOFAULT "LDT selector with a null LDTR"
.r9:    EXPECT 13, 0x0c, "LDT selector with a null LDTR"

        ; --- privilege checks -----------------------------------------------
        ; DPL 0 data with RPL 3: max(CPL, RPL) > DPL.
        TRY .r10
        mov ax, SEL_DATA | 3
        mov ds, ax
        NOFAULT "RPL 3 selector for DPL 0 data"
.r10:   EXPECT 13, SEL_DATA, "RPL 3 selector for DPL 0 data"
        ; SS must have RPL = DPL = CPL.
        TRY .r11
        mov ax, SEL_DATA_U | 3
        mov ss, ax
        NOFAULT "DPL 3 data into SS at CPL 0"
.r11:   EXPECT 13, SEL_DATA_U, "DPL 3 data into SS at CPL 0"
        ; DPL 3 data may be loaded into DS at CPL 0 (with any RPL).
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov ax, SEL_DATA
        mov ds, ax

        ; --- the accessed bit is set by a load (3.4.5.1) -----------------------
        SET_T 0x92, 0xc                  ; data RW, A = 0
        CHECKM dword [GDT_BASE + SEL_T + 4], 0x100, 0, "A bit preset"
        mov ax, SEL_T
        mov gs, ax
        CHECKM dword [GDT_BASE + SEL_T + 4], 0x100, 0x100, "A bit not set by the load"

        ; --- the descriptor cache: changing the GDT entry does not change a
        ; loaded segment register (3.4.3) -----------------------------------------
        mov eax, SEL_T
        mov ebx, DATA_AREA               ; base 0x30000
        mov ecx, 0xfffff
        mov dl, 0x93
        mov dh, 0xc
        call lib_set_desc
        mov ax, SEL_T
        mov gs, ax
        mov dword [DATA_AREA + 0x10], 0xabcd1234
        CHECK dword [gs:0x10], 0xabcd1234, "segment base"
        mov eax, SEL_T
        xor ebx, ebx                     ; base 0 in the table now
        mov ecx, 0xfffff
        mov dl, 0x93
        mov dh, 0xc
        call lib_set_desc
        CHECK dword [gs:0x10], 0xabcd1234, "the cached base changed without a reload"
        mov ax, SEL_T
        mov gs, ax
        mov eax, [gs:DATA_AREA + 0x10]
        CHECK eax, 0xabcd1234, "the new base after the reload"

        ; --- 16-bit code segment: default operand size 16 ----------------------
        mov ebp, esp
        call SEL_CODE16:R(code16)
        CHECK eax, 0x5678, "16-bit code result"
        CHECK ecx, 2, "PUSH in 16-bit code moved ESP by"
        cmp esp, ebp
        je .esp_ok
        FAIL "ESP after the far call and return"
.esp_ok:

        ; --- POP SS, LSS also check like MOV SS -----------------------------
        TRY .r12
        push dword SEL_DATA_U | 3
        pop ss
        NOFAULT "POP SS with DPL 3 data at CPL 0"
.r12:   EXPECT 13, SEL_DATA_U, "POP SS with DPL 3 data at CPL 0"
        add esp, 4
        PASS

        bits 16
code16: mov eax, 0x12345678
        mov ax, 0x5678                   ; 16-bit: upper half kept
        and eax, 0xffff
        mov edx, esp
        push ax                          ; 2 bytes in 16-bit code
        mov ecx, edx
        sub ecx, esp
        pop ax
        o32 retf                         ; the 32-bit CALL pushed 32-bit CS:EIP

        END_IMAGE

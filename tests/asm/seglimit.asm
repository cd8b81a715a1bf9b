; seglimit: segment limit and type checks on memory accesses.
;
; SDM Vol. 3 5.3 (limit checking: every byte of an access must be within
; the limit; expand-down segments allow offsets above the limit, up to
; 0xFFFF or 0xFFFFFFFF by the B flag), 5.5 (type checking: no writes to
; read-only data or code segments, no reads from execute-only code), 3.4.2
; (a null selector in DS..GS faults when used), 6.15 (#GP(0) for DS, ES,
; FS, GS; #SS(0) for SS-based accesses).
%define TEST_NAME "seglimit"
%include "lib.inc"

SEL_T   equ SEL_FREE

; SET_T base, limit, access, flags
%macro SET_T 4
        mov eax, SEL_T
        mov ebx, %1
        mov ecx, %2
        mov dl, %3
        mov dh, %4
        call lib_set_desc
        mov ax, SEL_T
%endmacro

main:
        ENTER_PM32

        ; --- byte-granular limit 0xfff -----------------------------------
        SET_T 0, 0xfff, 0x93, 0x4        ; data RW, B = 1, G = 0
        mov es, ax
        mov eax, [es:0xffc]              ; bytes 0xffc-0xfff: inside
        TRY .r1
        mov eax, [es:0xffd]              ; byte 0x1000 is outside
        NOFAULT "dword at limit - 2"
.r1:    EXPECT 13, 0, "dword at limit - 2"
        TRY .r2
        mov byte [es:0x1000], 1
        NOFAULT "byte at limit + 1"
.r2:    EXPECT 13, 0, "byte at limit + 1"

        ; --- page-granular limit: 0 means 0xfff -----------------------------
        SET_T 0, 0, 0x93, 0xc            ; G = 1
        mov fs, ax
        mov al, [fs:0xfff]
        TRY .r3
        mov al, [fs:0x1000]
        NOFAULT "G=1 limit 0, offset 0x1000"
.r3:    EXPECT 13, 0, "G=1 limit 0, offset 0x1000"

        ; --- expand-down: valid offsets are limit+1 .. 0xffffffff ------------
        SET_T 0, 0xfff, 0x97, 0x4        ; data RW expand-down, B = 1
        mov gs, ax
        mov eax, [gs:0x1000]
        mov eax, [gs:0xfffffffc]
        TRY .r4
        mov eax, [gs:0x800]
        NOFAULT "expand-down below the limit"
.r4:    EXPECT 13, 0, "expand-down below the limit"
        TRY .r5
        mov eax, [gs:0xffe]              ; straddles limit / limit+1
        NOFAULT "expand-down dword across the limit"
.r5:    EXPECT 13, 0, "expand-down dword across the limit"
        ; With B = 0 the upper bound is 0xffff.
        SET_T 0, 0xfff, 0x97, 0x0
        mov gs, ax
        mov ax, [gs:0xfffe]
        TRY .r6
        mov eax, [gs:0xfffe]             ; bytes up to 0x10001
        NOFAULT "expand-down B=0 past 0xffff"
.r6:    EXPECT 13, 0, "expand-down B=0 past 0xffff"

        ; --- read-only data: reads pass, writes #GP(0) -----------------------
        TRY .r7                          ; (TRY writes through DS)
        SET_T 0, 0xfffff, 0x91, 0xc
        mov ds, ax
        mov eax, [DATA_AREA]
        mov dword [DATA_AREA], 1
        NOFAULT "write to read-only data"
.r7:    EXPECT 13, 0, "write to read-only data"
        mov ax, SEL_DATA
        mov ds, ax

        ; --- readable code in ES: reads pass, writes #GP(0) ------------------
        mov ax, SEL_CODE32
        mov es, ax
        mov eax, [es:lib_name]
        TRY .r8
        mov [es:DATA_AREA], eax
        NOFAULT "write through a code segment"
.r8:    EXPECT 13, 0, "write through a code segment"

        ; --- execute-only code cannot be read, even through CS ---------------
        ; A far jump to an execute-only copy of the flat code segment.
        SET_T 0, 0xfffff, 0x99, 0xc
        jmp SEL_T:.xo
.xo:    TRY .r9
        mov eax, [cs:lib_name]
        NOFAULT "read through execute-only CS"
.r9:    EXPECT 13, 0, "read through execute-only CS"
        jmp SEL_CODE32:.back
.back:

        ; --- a null selector faults on use, #GP(0) ---------------------------
        xor eax, eax
        mov es, ax
        TRY .r10
        mov eax, [es:DATA_AREA]
        NOFAULT "access through a null ES"
.r10:   EXPECT 13, 0, "access through a null ES"

        ; --- SS limit: #SS(0) ---------------------------------------------------
        ; SS limit 0xbfff; the stack itself (ESP = 0xc000 - n) stays inside.
        SET_T 0, 0xbfff, 0x93, 0x4
        mov ss, ax
        mov eax, [ss:0xbffc]
        mov ebp, 0xbffe
        TRY .r11
        mov eax, [ebp]                   ; EBP-based: SS by default
        NOFAULT "SS access past the limit"
.r11:   EXPECT 12, 0, "SS access past the limit"
        mov ax, SEL_DATA
        mov ss, ax

        ; --- DS limit with a 16-bit address wrap --------------------------------
        ; With a 16-bit address size the offset wraps at 64 KiB before the
        ; limit check: [bx+si] = 0xffff + 2 is offset 1.
        SET_T 0, 0xffff, 0x93, 0x0
        mov ds, ax
        mov byte [1], 0x5a
        mov bx, 0xffff
        mov si, 2
        a16 mov al, [bx + si]
        mov bx, SEL_DATA
        mov ds, bx
        and eax, 0xff
        CHECK eax, 0x5a, "16-bit effective address wrap"
        PASS

        END_IMAGE

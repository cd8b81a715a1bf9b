; sysenter: SYSENTER and SYSEXIT in 32-bit protected mode.
;
; SDM Vol. 3 5.8.7 and the SYSENTER/SYSEXIT pages of Vol. 2: SYSENTER loads
; CS = IA32_SYSENTER_CS, SS = CS + 8 (flat, DPL 0), ESP/EIP from
; IA32_SYSENTER_ESP/EIP, and clears VM, IF and RF; SYSEXIT loads CS =
; IA32_SYSENTER_CS + 16 | 3, SS = + 24 | 3, EIP = EDX, ESP = ECX.  #GP(0):
; SYSENTER with IA32_SYSENTER_CS[15:2] = 0; SYSEXIT with that or at CPL > 0.
%define TEST_NAME "sysenter"
%include "lib.inc"

SE_CS   equ SEL_FREE             ; 0x60 code0, 0x68 data0, 0x70 code3, 0x78 data3
SE_ESP  equ STACK0_TOP - 0x100

%macro WRMSR 2
        mov ecx, %1
        mov eax, %2
        xor edx, edx
        wrmsr
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup
        ; The four descriptors SYSENTER/SYSEXIT assume (they load fixed
        ; flat values; the GDT matches so that IRET and friends agree).
        mov eax, SE_CS
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, 0x9b
        mov dh, 0xc
        call lib_set_desc
        mov eax, SE_CS + 8
        mov dl, 0x93
        call lib_set_desc
        mov eax, SE_CS + 16
        mov dl, 0xfb
        call lib_set_desc
        mov eax, SE_CS + 24
        mov dl, 0xf3
        call lib_set_desc

        ; --- #GP(0) while IA32_SYSENTER_CS is 0 -----------------------------
        WRMSR 0x174, 0
        TRY .r1
        sysenter
        NOFAULT "SYSENTER with SYSENTER_CS = 0"
.r1:    EXPECT 13, 0, "SYSENTER with SYSENTER_CS = 0"
        TRY .r2
        sysexit
        NOFAULT "SYSEXIT with SYSENTER_CS = 0"
.r2:    EXPECT 13, 0, "SYSEXIT with SYSENTER_CS = 0"

        WRMSR 0x174, SE_CS
        WRMSR 0x175, SE_ESP
        WRMSR 0x176, sysenter_entry
        mov ecx, 0x174
        rdmsr
        CHECK eax, SE_CS, "RDMSR IA32_SYSENTER_CS"

        ; --- SYSEXIT to ring 3 ----------------------------------------------------
        ; EFLAGS: IOPL 3 so that ring 3 may STI just before SYSENTER.
        push dword 0x3002
        popfd
        mov edx, ring3
        mov ecx, STACK3_TOP - 0x40
        sysexit

        ; --- SYSENTER back in ring 0 ---------------------------------------------
sysenter_entry:
        ; Registers from ring 3: EAX = CS, EBX = SS, ESI = ESP, EDI = marker.
        mov ebp, eax
        mov eax, cs
        CHECK eax, SE_CS, "CS after SYSENTER"
        mov eax, ss
        CHECK eax, SE_CS + 8, "SS after SYSENTER"
        CHECK esp, SE_ESP, "ESP after SYSENTER"
        pushfd
        pop eax
        CHECKM eax, 0x200, 0, "IF after SYSENTER (must be cleared)"
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        CHECK ebp, SE_CS + 16 + 3, "CS after SYSEXIT"
        CHECK [SCRATCH], SE_CS + 24 + 3, "SS after SYSEXIT"
        CHECK [SCRATCH + 8], STACK3_TOP - 0x40, "ESP after SYSEXIT"
        CHECK [SCRATCH + 16], 0x5a5a, "ring-3 part did not finish"
        ; SYSEXIT at CPL 3 is #GP(0): checked in ring 3 ([SCRATCH + 24]).
        CHECK [SCRATCH + 24], 13, "SYSEXIT at CPL 3: vector"
        PASS

ring3:
        mov eax, cs
        mov ebx, ss
        mov esi, esp
        mov ds, ebx                      ; DS = SS: flat DPL 3 data
        mov es, ebx
        mov [SCRATCH], ebx
        mov [SCRATCH + 8], esi
        TRY .r1
        sysexit
        NOFAULT "SYSEXIT at CPL 3"
.r1:    mov ebx, [EXC_VEC]
        mov [SCRATCH + 24], ebx
        cmp dword [EXC_ERR], 0
        je .ok
        FAIL "SYSEXIT at CPL 3: error code"
.ok:    mov dword [SCRATCH + 16], 0x5a5a
        sti                              ; shadow: no interrupt before the next
        sysenter

        END_IMAGE

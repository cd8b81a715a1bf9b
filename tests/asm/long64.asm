; long64: IA-32e mode activation, the 64-bit IDT with IST, interrupt frame
; alignment, SYSCALL/SYSRET, SWAPGS, FS/GS bases and canonical addresses.
;
; SDM Vol. 3 9.8.5 (activation: CR4.PAE, EFER.LME, then CR0.PG sets
; EFER.LMA; a far jump to a CS with L = 1 enters 64-bit mode), 6.14.1-6.14.5
; (16-byte gates; the frame always holds SS:RSP; RSP is aligned to 16 bytes
; before the push; IST n switches to TSS.ISTn), 5.8.8 and the SYSCALL/SYSRET
; pages (RCX = next RIP, R11 = RFLAGS, CS/SS from STAR, RFLAGS &= ~SFMASK;
; SYSRET to CS = STAR[63:48] + 16 | 3, SS = + 8 | 3), SWAPGS, WRMSR (FS.base
; 0xC0000100, GS.base 0xC0000101, KernelGSbase 0xC0000102; non-canonical
; values #GP(0)), 3.3.7.1 (non-canonical memory references: #GP(0), or
; #SS(0) through the stack).
%define TEST_NAME "long64"
%include "lib.inc"

%macro WRMSR64 2                 ; msr, 64-bit value (via RAX)
        mov ecx, %1
        mov rax, %2
        mov rdx, rax
        shr rdx, 32
        wrmsr
%endmacro

%macro RDMSR64 1                 ; msr -> RAX
        mov ecx, %1
        rdmsr
        shl rdx, 32
        mov eax, eax
        or rax, rdx
%endmacro

main:
        ENTER_PM32
        ENTER_LONG
        ; --- in 64-bit mode with LMA -----------------------------------------
        RDMSR64 0xc0000080
        CHECKM rax, 1 << 10, 1 << 10, "EFER.LMA after enabling paging"
        mov eax, cs
        CHECK rax, SEL_CODE64, "CS in 64-bit mode"
        ; 64-bit operand: a value that needs all 64 bits.
        mov rax, 0x123456789abcdef0
        ror rax, 4
        mov rbx, 0x0123456789abcdef
        cmp rax, rbx
        je .ror_ok
        FAIL "64-bit ROR"
.ror_ok:

        ; --- interrupt frames are 16-byte aligned (6.14.2) -------------------
        ; With RSP misaligned by 8, INT3 (no error code): the saved RIP sits
        ; at an address = 8 mod 16 (5 pushes of 8 from a 16-aligned RSP).
        sub rsp, 8
        TRY .r1
        int3
.r1:    add rsp, 8
        EXPECT 3, -1, "INT3"
        CHECKM [EXC_FRAME], 15, 8, "INT3 frame: RIP slot not 16-byte aligned - 8"
        CHECK [EXC_SS], SEL_DATA_K, "INT3 frame: SS (always pushed in 64-bit mode)"
        ; With an error code (#GP): the RIP slot is still = 8 mod 16.
        sub rsp, 8
        TRY .r2
        mov ax, 0x800
        mov ds, ax
.r2:    add rsp, 8
        EXPECT 13, 0x800, "MOV DS, beyond the GDT"
        CHECKM [EXC_FRAME], 15, 8, "#GP frame alignment"

        ; --- IST: vector 0x40 on IST1, vector 0x41 on IST2 ---------------------
        mov eax, 0x40
        lea rbx, [lib_stubs64 + 0x40 * 12]
        mov cx, SEL_CODE64
        mov dx, 0x8e01                   ; IST 1
        call lib_set_gate64
        mov eax, 0x41
        lea rbx, [lib_stubs64 + 0x41 * 12]
        mov dx, 0x8e02                   ; IST 2
        call lib_set_gate64
        TRY .r3
        int 0x40
.r3:    CHECK [EXC_FRAME], IST1_TOP - 40, "INT 0x40 did not run on IST1"
        TRY .r4
        int 0x41
.r4:    CHECK [EXC_FRAME], IST2_TOP - 40, "INT 0x41 did not run on IST2"
        CHECK [EXC_ESP], STACK0_TOP, "IST frame: saved RSP"

        ; --- canonical addresses --------------------------------------------------
        TRY .r5
        mov rax, 0x0000800000000000
        mov rbx, [rax]
        NOFAULT "load from 0x0000800000000000"
.r5:    EXPECT 13, 0, "load from 0x0000800000000000"
        mov rax, 0xffff800000000000      ; canonical (not mapped): #PF
        TRY .r7
        mov rbx, [rax]
        NOFAULT "load from 0xffff800000000000"
.r7:    EXPECT 14, -1, "load from 0xffff800000000000 (canonical, unmapped)"

        ; --- FS and GS bases through MSRs ----------------------------------------
        mov rax, DATA_AREA
        mov qword [rax], 0x1111
        mov qword [rax + 0x100], 0x2222
        WRMSR64 0xc0000100, DATA_AREA    ; FS.base
        WRMSR64 0xc0000101, DATA_AREA + 0x100 ; GS.base
        mov rax, [fs:0]
        CHECK rax, 0x1111, "FS:0 with FS.base from the MSR"
        mov rax, [gs:0]
        CHECK rax, 0x2222, "GS:0 with GS.base from the MSR"
        RDMSR64 0xc0000100
        CHECK rax, DATA_AREA, "RDMSR FS.base"

        ; --- SWAPGS -----------------------------------------------------------------
        WRMSR64 0xc0000102, DATA_AREA + 0x200 ; KernelGSbase
        mov qword [DATA_AREA + 0x200], 0x3333
        swapgs
        mov rax, [gs:0]
        CHECK rax, 0x3333, "GS:0 after SWAPGS"
        RDMSR64 0xc0000102
        CHECK rax, DATA_AREA + 0x100, "KernelGSbase after SWAPGS"
        RDMSR64 0xc0000101
        CHECK rax, DATA_AREA + 0x200, "GS.base after SWAPGS"
        swapgs
        mov rax, [gs:0]
        CHECK rax, 0x2222, "GS:0 after the second SWAPGS"

        ; --- SYSCALL / SYSRET -----------------------------------------------------
        RDMSR64 0xc0000080
        or eax, 1                        ; EFER.SCE
        mov rdx, rax
        shr rdx, 32
        mov ecx, 0xc0000080
        wrmsr
        mov rax, (SEL_CODE32_U << 48) | (SEL_CODE64 << 32)
        WRMSR64 0xc0000081, rax          ; STAR
        WRMSR64 0xc0000082, syscall_entry ; LSTAR
        WRMSR64 0xc0000084, 0x4700       ; SFMASK: TF, IF, DF, NT... (bits 8-10, 14)
        ; SYSRET to ring 3 (64-bit), with IF and DF set in R11.
        mov qword [R0_CONT], .back
        mov qword [R0_ESP], STACK0_TOP
        mov qword [SCRATCH], 0
        mov rcx, ring3
        mov r11, 0x602                   ; IF | DF | bit 1
        mov rsp, STACK3_TOP
        o64 sysret
.back:
        FAIL "came back through INT 0x80 instead of SYSCALL"

syscall_entry:
        ; RCX = return RIP, R11 = RFLAGS at SYSCALL; RFLAGS masked.
        mov rsp, STACK0_TOP
        pushfq
        pop rax
        CHECKM rax, 0x4700, 0, "RFLAGS not masked by SFMASK"
        CHECK rcx, ring3.after_syscall, "RCX after SYSCALL"
        CHECKM r11, 0x600, 0x600, "R11 after SYSCALL (IF, DF from ring 3)"
        mov eax, cs
        CHECK rax, SEL_CODE64, "CS after SYSCALL"
        mov eax, ss
        CHECK rax, SEL_CODE64 + 8, "SS after SYSCALL"
        CHECK [SCRATCH], SEL_CODE64_U + 3, "CS after SYSRET (64-bit)"
        CHECK [SCRATCH + 8], SEL_DATA_U + 3, "SS after SYSRET"
        CHECKM [SCRATCH + 16], 0x600, 0x600, "RFLAGS after SYSRET (from R11)"
        CHECK [SCRATCH + 24], 0x5a5a, "ring-3 part did not finish"
        cld
        PASS

ring3:
        mov eax, cs
        mov [SCRATCH], rax
        mov eax, ss
        mov [SCRATCH + 8], rax
        pushfq
        pop rax
        mov [SCRATCH + 16], rax
        ; CPL 3: SWAPGS and WRMSR are #GP(0).
        TRY .r1
        swapgs
        NOFAULT "SWAPGS at CPL 3"
.r1:    EXPECT 13, 0, "SWAPGS at CPL 3"
        mov qword [SCRATCH + 24], 0x5a5a
        syscall
.after_syscall:
        FAIL "SYSCALL returned"

        END_IMAGE

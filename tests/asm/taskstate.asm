; taskstate: what a task switch loads besides the registers.
;
; SDM Vol. 3 7.6 and Figure 7-10 (a 16-bit TSS: IP, FLAGS, AX-DI, ES, CS,
; SS, DS and the LDT selector as words, limit at least 2Bh, types 1/3),
; 7.2.1 (CR3 is loaded from a 32-bit TSS, never saved, so the old task's
; field must hold its own; loading it flushes the TLB, 4.10.4.1), 7.2.1 and
; Vol. 1 19.5.2 (the I/O permission bitmap of the new task's TSS decides
; I/O at CPL > IOPL), 7.3 (the new task runs at the CPL of its CS; a
; privilege change through an interrupt in that task takes SS0:ESP0 from
; its TSS), 6.11.1 and the INT n page (INT n through a task gate checks
; the gate's DPL against the CPL: #GP(vector * 8 + 2); the task switch
; nests; a software interrupt pushes no error code).
%define TEST_NAME "taskstate"
%include "lib.inc"

SEL_T16  equ SEL_FREE            ; a 16-bit TSS
SEL_TU   equ SEL_FREE + 8        ; a ring-3 task with its own I/O bitmap
SEL_TI   equ SEL_FREE + 16       ; the task of INT 0x90
SEL_TP   equ SEL_FREE + 24       ; a task with its own CR3
TSS16    equ TSS2_BASE
TSSU     equ TSS2_BASE + 0x100   ; 0x68 bytes, then the bitmap at 0x68
TSSI     equ TSS2_BASE + 0x200
TSSP     equ TSS2_BASE + 0x300
TSSU_LIMIT equ 0x68 + 0x11       ; bitmap bytes for ports 0-0x87, then 0xff
PD1      equ PT_BASE             ; page directories for the CR3 test
PD2      equ PT_BASE + 0x1000
PT1      equ PT_BASE + 0x2000    ; maps 4 MiB.. to DATA_AREA
PT2      equ PT_BASE + 0x3000    ; maps 4 MiB.. to DATA_AREA + 0x1000
PROBE    equ 0x400000            ; linear address mapped differently

%macro TSS_DESC 4                ; selector, base, limit, access
        mov eax, %1
        mov ebx, %2
        mov ecx, %3
        mov dl, %4
        mov dh, 0
        call lib_set_desc
%endmacro

; ZERO base, bytes
%macro ZERO 2
        mov edi, %1
        mov ecx, %2
        xor eax, eax
        rep stosb
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup
        TSS_DESC SEL_T16, TSS16, 0x2b, 0x81
        TSS_DESC SEL_TU, TSSU, TSSU_LIMIT, 0x89
        TSS_DESC SEL_TI, TSSI, 0x67, 0x89
        TSS_DESC SEL_TP, TSSP, 0x67, 0x89

        ; --- a 16-bit task --------------------------------------------------------
        ZERO TSS16, 0x2c
        mov word [TSS16 + 0x0e], R(task16)       ; IP
        mov word [TSS16 + 0x10], 0x0002          ; FLAGS
        mov word [TSS16 + 0x12], 0x1616          ; AX
        mov word [TSS16 + 0x1a], 0xa000          ; SP
        mov word [TSS16 + 0x22], SEL_DATA16      ; ES
        mov word [TSS16 + 0x24], SEL_CODE16      ; CS
        mov word [TSS16 + 0x26], SEL_DATA16      ; SS
        mov word [TSS16 + 0x28], SEL_DATA        ; DS
        mov ebx, 0x12345678
        call SEL_T16:0
        CHECK ebx, 0x12345678, "EBX restored in task 1 from its 32-bit TSS"
        CHECK [SCRATCH], 0x1616, "AX in the 16-bit task"
        CHECK [SCRATCH + 4], SEL_T16, "TR in the 16-bit task"
        CHECK [SCRATCH + 8], SEL_TSS, "the 16-bit task's link"
        CHECKM [SCRATCH + 12], 0x4000, 0x4000, "NT in the 16-bit task"
        CHECK [SCRATCH + 16], 0x8b, "task 1 (32-bit TSS) busy under the 16-bit task"
        movzx eax, word [TSS16 + 0x12]
        CHECK eax, 0x2a2a, "AX saved in the 16-bit TSS by its IRET"
        movzx eax, word [TSS16 + 0x0e]
        CHECK eax, R(task16.after), "IP saved in the 16-bit TSS by its IRET"
        movzx eax, byte [GDT_BASE + SEL_T16 + 5]
        CHECK eax, 0x81, "the 16-bit task not busy after its IRET"
        clts

        ; --- a ring-3 task: its I/O bitmap, its SS0:ESP0, INT n to a task gate -----
        ZERO TSSU, TSSU_LIMIT + 1
        mov dword [TSSU + 4], 0xe000             ; ESP0
        mov dword [TSSU + 8], SEL_DATA           ; SS0
        mov eax, cr3
        mov [TSSU + 0x1c], eax
        mov dword [TSSU + 0x20], task_user
        mov dword [TSSU + 0x24], 0x0002
        mov dword [TSSU + 0x38], STACK3_TOP
        mov dword [TSSU + 0x48], SEL_DATA_U | 3
        mov dword [TSSU + 0x4c], SEL_CODE32_U | 3
        mov dword [TSSU + 0x50], SEL_DATA_U | 3
        mov dword [TSSU + 0x54], SEL_DATA_U | 3
        mov word [TSSU + 0x66], 0x68             ; I/O map base
        mov edi, TSSU + 0x68
        mov ecx, 0x11
        mov al, 0xff
        rep stosb
        mov byte [TSSU + 0x68 + 0x10], 0xfe      ; port 0x80 allowed
        ; The task of INT 0x90 (DPL 3 task gate); 0x91 has a DPL 0 one.
        ZERO TSSI, 0x68
        mov eax, cr3
        mov [TSSI + 0x1c], eax
        mov dword [TSSI + 0x20], task_int
        mov dword [TSSI + 0x24], 0x0002
        mov dword [TSSI + 0x38], 0xd000
        mov dword [TSSI + 0x48], SEL_DATA
        mov dword [TSSI + 0x4c], SEL_CODE32
        mov dword [TSSI + 0x50], SEL_DATA
        mov dword [TSSI + 0x54], SEL_DATA
        mov eax, 0x90
        xor ebx, ebx
        mov cx, SEL_TI
        mov dx, 0xe500                           ; task gate, DPL 3
        call lib_set_gate32
        mov eax, 0x91
        mov dx, 0x8500                           ; task gate, DPL 0
        call lib_set_gate32
        call SEL_TU:0
        CHECK [SCRATCH + 0x20], SEL_CODE32_U | 3, "CS in the ring-3 task"
        CHECK [SCRATCH + 0x24], 0x55, "IN from an allowed port faulted"
        CHECK [SCRATCH + 0x28], 13, "IN from a denied port: vector"
        CHECK [SCRATCH + 0x2c], 0xe000 - 20, "#GP frame on the ring-3 task's SS0:ESP0"
        CHECK [SCRATCH + 0x30], 0x91 * 8 + 2, "INT 0x91 through a DPL 0 task gate at CPL 3: #GP error"
        CHECK [SCRATCH + 0x40], SEL_TU, "INT 0x90 task's link"
        CHECK [SCRATCH + 0x44], 0xd000, "no error code on the INT task's stack"
        CHECKM [SCRATCH + 0x48], 0x4000, 0x4000, "NT in the INT task"
        CHECK [SCRATCH + 0x4c], 0x8b, "the ring-3 task busy under the INT task"
        CHECK [SCRATCH + 0x50], 0x900d, "the ring-3 task did not resume after INT 0x90"
        movzx eax, byte [GDT_BASE + SEL_TU + 5]
        CHECK eax, 0x89, "the ring-3 task not busy after its IRET"
        clts

        ; --- CR3 from the new task's TSS, with a TLB flush ----------------------
        ZERO PT_BASE, 0x4000
        mov dword [PD1], 0x87                    ; 0-4 MiB: 4 MiB page, user
        mov dword [PD2], 0x87
        mov dword [PD1 + 4], PT1 + 7
        mov dword [PD2 + 4], PT2 + 7
        mov dword [PT1], DATA_AREA + 7
        mov dword [PT2], DATA_AREA + 0x1000 + 7
        mov dword [DATA_AREA], 0x1111
        mov dword [DATA_AREA + 0x1000], 0x2222
        mov eax, cr4
        or eax, CR4_PSE_BIT
        mov cr4, eax
        mov eax, PD1
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        CHECK [PROBE], 0x1111, "the probe page through PD1"
        mov dword [TSS_BASE + 0x1c], PD1         ; not saved by the CPU
        ZERO TSSP, 0x68
        mov dword [TSSP + 0x1c], PD2
        mov dword [TSSP + 0x20], task_paging
        mov dword [TSSP + 0x24], 0x0002
        mov dword [TSSP + 0x38], 0xd000
        mov dword [TSSP + 0x48], SEL_DATA
        mov dword [TSSP + 0x4c], SEL_CODE32
        mov dword [TSSP + 0x50], SEL_DATA
        mov dword [TSSP + 0x54], SEL_DATA
        call SEL_TP:0
        CHECK [SCRATCH + 0x60], PD2, "CR3 in the new task"
        CHECK [SCRATCH + 0x64], 0x2222, "the probe page in the new task (TLB flushed?)"
        mov eax, cr3
        CHECK eax, PD1, "CR3 back in task 1"
        CHECK [PROBE], 0x1111, "the probe page back in task 1"
        CHECK [TSSP + 0x1c], PD2, "the new task's CR3 field (never written)"
        PASS

CR4_PSE_BIT equ 1 << 4

task_user:                               ; ring 3, TR = SEL_TU, NT = 1
        mov eax, cs
        mov [SCRATCH + 0x20], eax
        in al, 0x80                      ; allowed by the bitmap: no #GP
        mov byte [SCRATCH + 0x24], 0x55
        TRY .r1
        in al, 0x81
        NOFAULT "IN from a port the bitmap denies"
.r1:    mov eax, [EXC_VEC]
        mov [SCRATCH + 0x28], eax
        mov eax, [EXC_FRAME]
        mov [SCRATCH + 0x2c], eax
        TRY .r2
        int 0x91
        NOFAULT "INT 0x91 through a DPL 0 task gate at CPL 3"
.r2:    mov eax, [EXC_ERR]
        mov [SCRATCH + 0x30], eax
        int 0x90
        mov dword [SCRATCH + 0x50], 0x900d
        iretd                            ; NT = 1: back to task 1

task_int:                                ; ring 0, through the task gate
        mov eax, [TSSI]
        mov [SCRATCH + 0x40], eax
        mov [SCRATCH + 0x44], esp
        pushfd
        pop eax
        mov [SCRATCH + 0x48], eax
        movzx eax, byte [GDT_BASE + SEL_TU + 5]
        mov [SCRATCH + 0x4c], eax
        iretd                            ; back to the ring-3 task

task_paging:
        mov eax, cr3
        mov [SCRATCH + 0x60], eax
        mov eax, [PROBE]
        mov [SCRATCH + 0x64], eax
        iretd

        bits 16
task16:                                  ; the 16-bit task, CS = SEL_CODE16
        mov [SCRATCH], ax
        str ax
        mov [SCRATCH + 4], ax
        mov ax, [dword TSS16]            ; the link (DS is flat)
        mov [SCRATCH + 8], ax
        pushf
        pop ax
        mov [SCRATCH + 12], ax
        movzx ax, byte [GDT_BASE + SEL_TSS + 5]
        mov [SCRATCH + 16], ax
        mov ax, 0x2a2a
        iret                             ; NT = 1: back to task 1
.after:
        jmp .after
        bits 32

        END_IMAGE

; task_fault: faults after the commit point of a task switch.
;
; SDM Vol. 3 7.3 step 13 (once the new task's state is loaded, its LDTR and
; segment registers are checked; a fault there is raised in the new task's
; context, before its first instruction: the handler sees the new task's
; TR, CS:EIP and selectors), Table 7-1 (#TS(LDT selector) for an LDT
; selector that does not name an LDT; #TS(selector) for a data selector
; beyond the table or with DPL < CPL, the CPL being the new task's CS.RPL;
; #NP(selector) for a data segment not present), 6.15 (Interrupt 10).
%define TEST_NAME "task_fault"
%include "lib.inc"

SEL_TN   equ SEL_FREE            ; the new task's TSS
SEL_DNP  equ SEL_FREE + 8        ; a data segment not present
TSSN     equ TSS2_BASE
SEL_BEYOND equ GDT_LIMIT + 1     ; beyond the GDT limit

; INIT_TSS eip, esp: a flat ring-0 32-bit task at TSSN.
%macro INIT_TSS 2
        mov edi, TSSN
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [TSSN + 0x20], %1
        mov dword [TSSN + 0x24], 0x2
        mov dword [TSSN + 0x38], %2
        mov dword [TSSN + 0x48], SEL_DATA
        mov dword [TSSN + 0x4c], SEL_CODE32
        mov dword [TSSN + 0x50], SEL_DATA
        mov dword [TSSN + 0x54], SEL_DATA
        mov dword [TSSN + 0x58], SEL_DATA
        mov dword [TSSN + 0x5c], SEL_DATA
        mov word [TSSN + 0x66], 0x68
        mov dword [TSSN + 4], 0xe000     ; ESP0 and SS0 for a ring-3 task
        mov dword [TSSN + 8], SEL_DATA
        mov edi, SCRATCH
        mov ecx, 8
        xor eax, eax
        rep stosd
%endmacro

; The handler saw: vector, error, EIP, CS, TR, DS selector.
%macro SAW 6+
        CHECK [SCRATCH + 0x1c], 1, %6, ": handler runs"
        CHECK [SCRATCH], %1, %6, ": vector"
        CHECK [SCRATCH + 4], %2, %6, ": error code"
        CHECK [SCRATCH + 8], %3, %6, ": saved EIP (the new task's first instruction)"
        CHECK [SCRATCH + 12], %4, %6, ": saved CS"
        CHECK [SCRATCH + 16], SEL_TN, %6, ": TR (the new task)"
        CHECK [SCRATCH + 20], %5, %6, ": DS selector"
        BUSY_CHECK %6
%endmacro

; Back in task 1: the new task returned by IRET and is not busy.
%macro BUSY_CHECK 1+
        movzx eax, byte [GDT_BASE + SEL_TN + 5]
        CHECK eax, 0x89, %1, ": the new task not busy after its return"
        str eax
        and eax, 0xffff
        CHECK eax, SEL_TSS, %1, ": TR back in task 1"
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup
        mov eax, SEL_TN
        mov ebx, TSSN
        mov ecx, 0x67
        mov dl, 0x89
        mov dh, 0
        call lib_set_desc
        mov eax, SEL_DNP
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, 0x13                     ; data, not present
        mov dh, 0xc
        call lib_set_desc
        mov eax, 10
        mov ebx, ts_entry
        mov cx, SEL_CODE32
        mov dx, 0x8e00
        call lib_set_gate32
        mov eax, 11
        mov ebx, np_entry
        call lib_set_gate32

        ; --- DS beyond the GDT: #TS(DS) ---------------------------------------
        INIT_TSS task_never, 0xd000
        mov dword [TSSN + 0x54], SEL_BEYOND
        call SEL_TN:0
        SAW 10, SEL_BEYOND, task_never, SEL_CODE32, SEL_BEYOND, "DS beyond the GDT"

        ; --- DS not present: #NP(DS) ----------------------------------------------
        INIT_TSS task_never, 0xd000
        mov dword [TSSN + 0x54], SEL_DNP
        call SEL_TN:0
        SAW 11, SEL_DNP, task_never, SEL_CODE32, SEL_DNP, "DS not present"

        ; --- LDT selector naming a data segment: #TS(LDT) ---------------------------
        INIT_TSS task_never, 0xd000
        mov dword [TSSN + 0x60], SEL_DATA
        call SEL_TN:0
        SAW 10, SEL_DATA, task_never, SEL_CODE32, SEL_DATA, "LDT selector of a data segment"

        ; --- a ring-3 task: its DS is checked at its CPL 3, not the caller's 0 -----
        INIT_TSS task_never, 0x7000
        mov dword [TSSN + 0x4c], SEL_CODE32_U | 3
        mov dword [TSSN + 0x50], SEL_DATA_U | 3
        mov dword [TSSN + 0x48], SEL_DATA_U | 3
        mov dword [TSSN + 0x58], 0
        mov dword [TSSN + 0x5c], 0
        call SEL_TN:0                    ; DS = SEL_DATA: DPL 0 < CPL 3
        SAW 10, SEL_DATA, task_never, SEL_CODE32_U | 3, SEL_DATA, "ring-3 task with a DPL 0 DS"
        ; And with a DPL 3 DS it runs.
        INIT_TSS task_user, 0x7000
        mov dword [TSSN + 0x4c], SEL_CODE32_U | 3
        mov dword [TSSN + 0x50], SEL_DATA_U | 3
        mov dword [TSSN + 0x48], SEL_DATA_U | 3
        mov dword [TSSN + 0x54], SEL_DATA_U | 3
        mov dword [TSSN + 0x58], 0
        mov dword [TSSN + 0x5c], 0
        call SEL_TN:0
        CHECK [SCRATCH + 0x40], SEL_CODE32_U | 3, "CS in the ring-3 task"
        BUSY_CHECK "ring-3 task"
        PASS

task_never:
        mov dword [SCRATCH + 0x1c], 0xbad
        jmp task_never

task_user:
        mov eax, cs
        mov [SCRATCH + 0x40], eax
        iretd                            ; NT = 1: back to task 1, from ring 3

ts_entry:
        mov dword [ss:SCRATCH], 10
        jmp post_handler
np_entry:
        mov dword [ss:SCRATCH], 11
        jmp post_handler

; Runs in the new task, on its stack (or its SS0:ESP0): record, then
; return to task 1 with an IRET that has NT = 1, abandoning the new task.
post_handler:
        mov [ss:SCRATCH + 20], ds
        mov ax, SEL_DATA
        mov ds, ax
        pop dword [SCRATCH + 4]          ; error code
        mov eax, [esp]
        mov [SCRATCH + 8], eax
        mov eax, [esp + 4]
        mov [SCRATCH + 12], eax
        str eax
        mov [SCRATCH + 16], eax
        inc dword [SCRATCH + 0x1c]
        pushfd
        or dword [esp], 0x4000
        popfd
        iretd

        END_IMAGE

; task_trap: the T (debug trap) flag of a TSS.
;
; SDM Vol. 3 7.2.1 (T flag, bit 0 of the word at 64h: a debug exception
; when a task switch to this task occurs), 17.3.1.5 (task-switch exception
; condition: a #DB trap after the switch, before the new task's first
; instruction, with DR6.BT set), 17.2.4 (a task switch clears the local
; breakpoint enables L0-L3 and LE of DR7).
%define TEST_NAME "task_trap"
%include "lib.inc"

SEL_T3 equ SEL_FREE
TSS3   equ TSS2_BASE

main:
        ENTER_PM32
        call lib_tss32_setup
        mov eax, SEL_T3
        mov ebx, TSS3
        mov ecx, 0x67
        mov dl, 0x89
        mov dh, 0
        call lib_set_desc
        mov edi, TSS3
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [TSS3 + 0x20], task3
        mov dword [TSS3 + 0x24], 0x2
        mov dword [TSS3 + 0x38], 0xf000
        mov dword [TSS3 + 0x48], SEL_DATA
        mov dword [TSS3 + 0x4c], SEL_CODE32
        mov dword [TSS3 + 0x50], SEL_DATA
        mov dword [TSS3 + 0x54], SEL_DATA
        mov word [TSS3 + 0x64], 1        ; T
        mov word [TSS3 + 0x66], 0x68
        mov eax, cr3
        mov [TSS3 + 0x1c], eax
        mov dword [HOOKS + 1 * 8], db_hook
        xor eax, eax
        mov dr6, eax
        mov eax, 0x101                   ; L0 and LE, no address: must go
        mov dr7, eax
        call SEL_T3:0
        CHECK [SCRATCH], 1, "#DB count"
        CHECKM [SCRATCH + 4], 0x8000, 0x8000, "DR6.BT"
        CHECK [SCRATCH + 8], task3, "#DB saved EIP: the new task's first instruction"
        CHECK [SCRATCH + 12], SEL_T3, "TR in the #DB handler"
        CHECK [SCRATCH + 16], 0x3333, "task 3 did not run"
        CHECKM [SCRATCH + 20], 0x155, 0, "DR7 L0-L3 and LE in task 3"
        PASS

; Stack: vector, error (0), EIP, CS, EFLAGS.
db_hook:
        inc dword [SCRATCH]
        mov eax, dr6
        mov [SCRATCH + 4], eax
        mov eax, [esp + 8]
        mov [SCRATCH + 8], eax
        str eax
        mov [SCRATCH + 12], eax
        xor eax, eax
        mov dr6, eax
        add esp, 8                       ; vector and error code
        iretd

task3:
        mov dword [SCRATCH + 16], 0x3333
        mov eax, dr7
        mov [SCRATCH + 20], eax
        iretd

        END_IMAGE

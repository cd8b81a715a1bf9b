; taskswitch: hardware task switches (32-bit TSS) and a task gate for #DF.
;
; SDM Vol. 3 8.2 (TSS layout: link at 0, EIP at 0x20, EFLAGS 0x24, EAX..EDI
; 0x28-0x44, ES..GS 0x48-0x5C), 8.3 (a far CALL or JMP to a TSS descriptor,
; or an interrupt through a task gate, switches tasks: the old state is
; saved in the old TSS, the new one loaded, CR0.TS set), 8.4 (CALL and
; interrupts nest: the new TSS's link gets the old TR, EFLAGS.NT = 1 and the
; old task stays busy; IRET with NT = 1 returns to the linked task and
; clears the returning task's busy bit; JMP clears the old busy bit and
; sets no link), 6.15 (Interrupt 8: handling #DF in its own task through a
; task gate is the way to survive a stack fault; the error code 0 is pushed
; on the new task's stack).
%define TEST_NAME "taskswitch"
%include "lib.inc"

SEL_T3   equ SEL_FREE            ; TSS of task 3 (at TSS2_BASE)
SEL_TDF  equ SEL_FREE + 8        ; TSS of the #DF task (at TSS2_BASE + 0x100)
TSS3     equ TSS2_BASE
TSSDF    equ TSS2_BASE + 0x100

; INIT_TSS base, eip, esp: a flat ring-0 32-bit task.
%macro INIT_TSS 3
        mov edi, %1
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [%1 + 0x20], %2
        mov dword [%1 + 0x24], 0x2
        mov dword [%1 + 0x38], %3
        mov dword [%1 + 0x48], SEL_DATA
        mov dword [%1 + 0x4c], SEL_CODE32
        mov dword [%1 + 0x50], SEL_DATA
        mov dword [%1 + 0x54], SEL_DATA
        mov dword [%1 + 0x58], SEL_DATA
        mov dword [%1 + 0x5c], SEL_DATA
        mov word [%1 + 0x66], 0x68
        mov eax, cr3
        mov [%1 + 0x1c], eax
%endmacro

%macro TSS_DESC 2                ; selector, base
        mov eax, %1
        mov ebx, %2
        mov ecx, 0x67
        mov dl, 0x89
        mov dh, 0
        call lib_set_desc
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup             ; task 1: TR = SEL_TSS
        TSS_DESC SEL_T3, TSS3
        TSS_DESC SEL_TDF, TSSDF

        ; --- CALL to a TSS: nested task, IRET back ---------------------------
        INIT_TSS TSS3, task3_call, 0xf000
        mov eax, 0xaaaa1111
        mov esi, 0x5151
        call SEL_T3:0                    ; the offset is ignored
.after_call:
        ; Back in task 1 through IRET (NT = 1 in task 3).
        CHECK esi, 0x5151, "ESI restored from the task-1 TSS"
        CHECK [SCRATCH], 0x3333, "task 3 did not run"
        CHECK [SCRATCH + 8], SEL_T3, "TR in task 3"
        CHECK [SCRATCH + 0x10], SEL_TSS, "task 3's link field"
        CHECKM [SCRATCH + 0x18], 0x4000, 0x4000, "EFLAGS.NT in task 3"
        CHECK [SCRATCH + 0x20], 0xaaaa1111, "EAX saved in the task-1 TSS"
        CHECK [SCRATCH + 0x28], main.after_call, "EIP saved in the task-1 TSS"
        CHECKM [SCRATCH + 0x30], 8, 8, "CR0.TS after the task switch"
        CHECKM [SCRATCH + 0x38], 0x200, 0x200, "task 1 busy while task 3 ran"
        str eax
        and eax, 0xffff
        CHECK eax, SEL_TSS, "TR after IRET to task 1"
        movzx eax, byte [GDT_BASE + SEL_T3 + 5]
        CHECK eax, 0x89, "task 3 still busy after its IRET"
        pushfd
        pop eax
        CHECKM eax, 0x4000, 0, "NT in task 1 after the return"
        clts

        ; --- JMP to a TSS: no nesting --------------------------------------------
        INIT_TSS TSS3, task3_jmp, 0xf000
        jmp SEL_T3:0
.after_jmp:
        CHECK [SCRATCH], 0x4444, "task 3 (JMP) did not run"
        CHECK [SCRATCH + 0x10], 0, "JMP set a link"
        CHECKM [SCRATCH + 0x18], 0x4000, 0, "JMP set NT"
        CHECKM [SCRATCH + 0x38], 0x200, 0, "JMP left task 1 busy"
        clts

        ; --- #DF through a task gate ---------------------------------------------
        INIT_TSS TSSDF, df_task, 0xf000
        mov eax, 8
        xor ebx, ebx
        mov cx, SEL_TDF
        mov dx, 0x8500                   ; task gate, present
        call lib_set_gate32
        mov eax, 13                      ; #GP gate not present
        lea ebx, [lib_stubs32 + 13 * 12]
        mov cx, SEL_CODE32
        mov dx, 0x0e00
        call lib_set_gate32
        mov ax, 0x800
        mov ds, ax                       ; #GP -> #NP -> #DF -> task switch
        FAIL "no double fault"

task3_call:
        mov dword [SCRATCH], 0x3333
        str eax
        mov [SCRATCH + 8], eax
        mov eax, [TSS3]
        mov [SCRATCH + 0x10], eax
        pushfd
        pop eax
        mov [SCRATCH + 0x18], eax
        mov eax, [TSS_BASE + 0x28]
        mov [SCRATCH + 0x20], eax
        mov eax, [TSS_BASE + 0x20]
        mov [SCRATCH + 0x28], eax
        mov eax, cr0
        mov [SCRATCH + 0x30], eax
        movzx eax, byte [GDT_BASE + SEL_TSS + 5]
        shl eax, 8                       ; busy = type bit 1 -> 0x200
        mov [SCRATCH + 0x38], eax
        iretd                            ; NT = 1: back to task 1

task3_jmp:
        mov dword [SCRATCH], 0x4444
        mov eax, [TSS3]
        mov [SCRATCH + 0x10], eax
        pushfd
        pop eax
        mov [SCRATCH + 0x18], eax
        movzx eax, byte [GDT_BASE + SEL_TSS + 5]
        shl eax, 8
        mov [SCRATCH + 0x38], eax
        jmp SEL_TSS:0                    ; task 1 is not busy: JMP back

df_task:
        str eax
        and eax, 0xffff
        CHECK eax, SEL_TDF, "TR in the #DF task"
        CHECK [TSSDF], SEL_TSS, "#DF task's link"
        CHECK [esp], 0, "#DF error code on the new task's stack"
        CHECK esp, 0xf000 - 4, "ESP in the #DF task"
        pushfd
        pop eax
        CHECKM eax, 0x4000, 0x4000, "NT in the #DF task"
        PASS

        END_IMAGE

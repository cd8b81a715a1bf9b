; taskswitch: hardware task switches (32-bit TSS) and a task gate for #DF.
;
; SDM Vol. 3 7.2 (TSS layout: link at 0, EIP at 0x20, EFLAGS 0x24, EAX..EDI
; 0x28-0x44, ES..GS 0x48-0x5C), 7.3 (a far CALL or JMP to a TSS descriptor
; or a task gate, or an interrupt through a task gate, switches tasks: the
; old state is saved in the old TSS, the new one loaded, CR0.TS set; Table
; 7-1: #GP(TSS) for a busy TSS or a privilege violation, #TS(TSS) for a
; limit below 67h, #NP(TSS) if not present; faults after the commit point
; are task_fault.asm's), 7.4
; (CALL and interrupts nest: the new TSS's link gets the old TR, EFLAGS.NT
; = 1 and the old task stays busy; IRET with NT = 1 returns to the linked
; task and clears the returning task's busy bit, #TS(link) if that task is
; not busy; JMP clears the old busy bit and sets no link), 6.15 (Interrupt
; 8: handling #DF in its own task through a task gate is the way to survive
; a stack fault; the error code 0 is pushed on the new task's stack, and
; the handler's IRET goes back to the interrupted task).
%define TEST_NAME "taskswitch"
%include "lib.inc"

SEL_T3     equ SEL_FREE          ; TSS of task 3 (at TSS2_BASE)
SEL_TDF    equ SEL_FREE + 8      ; TSS of the #DF task
SEL_T4     equ SEL_FREE + 16     ; TSS of task 4 (nested under task 3)
SEL_TSMALL equ SEL_FREE + 24     ; a TSS descriptor with limit 0x50
SEL_TNP    equ SEL_FREE + 32     ; a TSS descriptor not present
SEL_TG3    equ SEL_FREE + 40     ; a task gate (in the GDT) to SEL_T3
TSS3       equ TSS2_BASE
TSSDF      equ TSS2_BASE + 0x100
TSS4       equ TSS2_BASE + 0x200

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

%macro TSS_DESC 2-4 0x67, 0x89   ; selector, base [, limit, access]
        mov eax, %1
        mov ebx, %2
        mov ecx, %3
        mov dl, %4
        mov dh, 0
        call lib_set_desc
%endmacro

; BUSY reg, selector: reg = the descriptor's access byte (0x8B busy).
%macro BUSY 2
        movzx %1, byte [GDT_BASE + %2 + 5]
%endmacro

main:
        ENTER_PM32
        call lib_tss32_setup             ; task 1: TR = SEL_TSS
        TSS_DESC SEL_T3, TSS3
        TSS_DESC SEL_TDF, TSSDF
        TSS_DESC SEL_T4, TSS4
        TSS_DESC SEL_TSMALL, TSS4, 0x50
        TSS_DESC SEL_TNP, TSS4, 0x67, 0x09
        mov word [GDT_BASE + SEL_TG3], 0
        mov word [GDT_BASE + SEL_TG3 + 2], SEL_T3
        mov word [GDT_BASE + SEL_TG3 + 4], 0x8500      ; task gate, P, DPL 0
        mov word [GDT_BASE + SEL_TG3 + 6], 0

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
        BUSY eax, SEL_T3
        CHECK eax, 0x89, "task 3 still busy after its IRET"
        CHECK [TSS3 + 0x20], task3_call.after_iret, "EIP saved in task 3's TSS by its IRET"
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
        BUSY eax, SEL_T3
        CHECK eax, 0x89, "task 3 busy after it JMPed away"
        clts

        ; --- a task gate in the GDT, and nesting two deep --------------------------
        INIT_TSS TSS3, task3_nest, 0xf000
        INIT_TSS TSS4, task4, 0xe000
        call SEL_TG3:0
        CHECK [SCRATCH + 0x40], SEL_T3, "task 4's link"
        CHECK [SCRATCH + 0x44], 0x8b, "task 3 busy under task 4"
        CHECK [SCRATCH + 0x48], 0x8b, "task 1 busy under task 4"
        CHECK [SCRATCH + 0x4c], 0x89, "task 4 not busy after its IRET"
        CHECKM [SCRATCH + 0x50], 0x4000, 0x4000, "NT in task 3 after task 4 returned"
        CHECK [SCRATCH + 0x54], 0x7777, "task 3 did not finish"
        BUSY eax, SEL_T3
        CHECK eax, 0x89, "task 3 busy after the nested returns"
        BUSY eax, SEL_TSS
        CHECK eax, 0x8b, "task 1 not busy after the nested returns"
        clts

        ; --- faults before the commit point: the old task's context ----------------
        TRY .r1
        jmp SEL_TSS:0
        NOFAULT "JMP to the running (busy) task"
.r1:    EXPECT 13, SEL_TSS, "JMP to the running (busy) task"
        TRY .r2
        call SEL_T3 | 3:0
        NOFAULT "CALL to a DPL 0 TSS with RPL 3"
.r2:    EXPECT 13, SEL_T3, "CALL to a DPL 0 TSS with RPL 3"
        TRY .r3
        call SEL_TSMALL:0
        NOFAULT "CALL to a TSS with limit 0x50"
.r3:    EXPECT 10, SEL_TSMALL, "CALL to a TSS with limit 0x50"
        TRY .r4
        call SEL_TNP:0
        NOFAULT "CALL to a TSS not present"
.r4:    EXPECT 11, SEL_TNP, "CALL to a TSS not present"
        ; IRET with NT = 1 to a task that is not busy: #TS(link).
        mov word [TSS_BASE], SEL_T3
        pushfd
        or dword [esp], 0x4000
        popfd
        TRY .r5
        iretd
        NOFAULT "IRET with NT = 1 to a task that is not busy"
.r5:    EXPECT 10, SEL_T3, "IRET with NT = 1 to a task that is not busy"
        pushfd
        and dword [esp], ~0x4000
        popfd
        str eax
        and eax, 0xffff
        CHECK eax, SEL_TSS, "TR after the failed task switches"

        ; --- #DF through a task gate, and IRET back ------------------------------
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
        mov ebp, 0x1234
        mov ax, 0x800
.fault1:
        mov ds, ax                       ; #GP -> #NP -> #DF -> task switch
        FAIL "no double fault"
.after_df:
        ; The #DF task patched our saved EIP to come here.
        CHECK ebp, 0x1234, "EBP restored from the task-1 TSS"
        mov eax, ds
        CHECK eax, SEL_DATA, "DS after the return from the #DF task"
        CHECK [SCRATCH + 0x60], 1, "#DF task runs"
        str eax
        and eax, 0xffff
        CHECK eax, SEL_TSS, "TR after the #DF task's IRET"
        BUSY eax, SEL_TDF
        CHECK eax, 0x89, "#DF task busy after its IRET"
        pushfd
        pop eax
        CHECKM eax, 0x4000, 0, "NT in task 1 after the #DF task's IRET"
        ; Again: the #DF task resumes after its IRET.
        mov eax, 13
        lea ebx, [lib_stubs32 + 13 * 12]
        mov cx, SEL_CODE32
        mov dx, 0x0e00
        call lib_set_gate32
        mov ax, 0x800
        mov ds, ax
        FAIL "no second double fault"
.after_df2:
        CHECK [SCRATCH + 0x60], 2, "#DF task runs"
        PASS

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
.after_iret:
        FAIL "task 3 resumed after its IRET"

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

task3_nest:
        call SEL_T4:0
        BUSY eax, SEL_T4
        mov [SCRATCH + 0x4c], eax
        pushfd
        pop eax
        mov [SCRATCH + 0x50], eax
        mov dword [SCRATCH + 0x54], 0x7777
        iretd

task4:
        mov eax, [TSS4]
        mov [SCRATCH + 0x40], eax
        BUSY eax, SEL_T3
        mov [SCRATCH + 0x44], eax
        BUSY eax, SEL_TSS
        mov [SCRATCH + 0x48], eax
        iretd

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
        CHECK [TSS_BASE + 0x20], main.fault1, "EIP saved for task 1: the faulting MOV DS"
        inc dword [SCRATCH + 0x60]
        ; Fix the cause (the #GP gate) and skip the faulting instruction.
        mov eax, 13
        lea ebx, [lib_stubs32 + 13 * 12]
        mov cx, SEL_CODE32
        mov dx, 0x8e00
        call lib_set_gate32
        mov dword [TSS_BASE + 0x20], main.after_df
        add esp, 4                       ; drop the error code
        iretd
        ; The next #DF starts here.
        CHECK esp, 0xf000 - 4, "ESP in the #DF task, second time"
        mov eax, 13
        lea ebx, [lib_stubs32 + 13 * 12]
        mov cx, SEL_CODE32
        mov dx, 0x8e00
        call lib_set_gate32
        inc dword [SCRATCH + 0x60]
        mov dword [TSS_BASE + 0x20], main.after_df2
        add esp, 4
        iretd

        END_IMAGE

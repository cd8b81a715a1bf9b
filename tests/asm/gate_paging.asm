; gate_paging: a privilege change writes the inner stack as the new level.
;
; SDM Vol. 3 4.6 (supervisor-mode accesses: every access made while CPL < 3,
; and implicit accesses to system structures), 5.8.5 (a CALL through a gate
; to an inner level pushes SS, ESP, CS, EIP on the inner stack), 6.12.1 (so
; does an interrupt from ring 3): a kernel stack in supervisor-only pages
; takes those pushes, though the instruction that caused them ran at CPL 3.
%define TEST_NAME "gate_paging"
%include "lib.inc"

SEL_G3  equ SEL_FREE             ; DPL 3 call gate -> SEL_CODE32:gate_target
PD      equ PT_BASE
PT      equ PT_BASE + 0x1000

main:
        ENTER_PM32
        call lib_tss32_setup
        ; 4 KiB pages for the first 4 MiB, all user but the ring-0 stack.
        mov edi, PD
        mov ecx, 0x2000 / 4
        xor eax, eax
        rep stosd
        mov dword [PD], PT + 7
        xor ecx, ecx
.pt:    mov eax, ecx
        shl eax, 12
        or eax, 7
        mov [PT + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .pt
        mov ecx, STACK0_TOP / 0x1000 - 4         ; 0x8000-0xbfff: supervisor
.sup:   and dword [PT + ecx * 4], ~4
        inc ecx
        cmp ecx, STACK0_TOP / 0x1000
        jb .sup
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        mov eax, gate_target             ; DPL 3 32-bit call gate, 1 parameter
        mov [GDT_BASE + SEL_G3], ax
        mov word [GDT_BASE + SEL_G3 + 2], SEL_CODE32
        mov word [GDT_BASE + SEL_G3 + 4], 0xec01
        shr eax, 16
        mov [GDT_BASE + SEL_G3 + 6], ax
        mov eax, 0x81                    ; DPL 3 interrupt gate
        mov ebx, int_target
        mov cx, SEL_CODE32
        mov dx, 0xee00
        call lib_set_gate32

        mov dword [HOOKS + 0x80 * 8], lib_hook_ring0_32
        mov eax, 0x80
        lea ebx, [lib_stubs32 + 0x80 * 12]
        mov cx, SEL_CODE32
        mov dx, 0xee00
        call lib_set_gate32
        mov dword [R0_CONT], .back
        mov dword [R0_ESP], STACK0_TOP
        push dword SEL_DATA_U | 3
        push dword STACK3_TOP
        push dword 0x2
        push dword SEL_CODE32_U | 3
        push dword ring3
        iretd
.back:
        CHECK [SCRATCH], 0x900d, "ring-3 part did not finish"
        CHECK [SCRATCH + 4], STACK0_TOP - 20, "ESP in the interrupt handler"
        CHECK [SCRATCH + 8], STACK0_TOP - 20, "ESP in the call-gate target"
        CHECK [SCRATCH + 12], 0x1234, "the copied parameter"
        CHECK [SCRATCH + 16], 14, "a ring-3 read of the supervisor stack: vector"
        CHECK [SCRATCH + 20], 5, "a ring-3 read of the supervisor stack: error code"
        PASS

int_target:
        mov [SCRATCH + 4], esp
        iretd

gate_target:
        mov [SCRATCH + 8], esp
        mov eax, [esp + 8]
        mov [SCRATCH + 12], eax
        retf 4

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        int 0x81
        push dword 0x1234
        call SEL_G3 | 3:0
        TRY .r1
        mov eax, [STACK0_TOP - 4]
        NOFAULT "ring-3 read of a supervisor page"
.r1:    mov eax, [EXC_VEC]
        mov [SCRATCH + 16], eax
        mov eax, [EXC_ERR]
        mov [SCRATCH + 20], eax
        mov dword [SCRATCH], 0x900d
        int 0x80

        END_IMAGE

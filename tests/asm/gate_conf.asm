; gate_conf: call gates to conforming code keep the caller's privilege.
;
; SDM Vol. 3 5.8.4 (Table 5-1: a CALL or JMP through a call gate may reach a
; conforming segment with DPL <= CPL; 5.8.5: only a non-conforming target
; at a higher privilege switches stacks) and the CALL and JMP pages
; (SAME-PRIVILEGE: "CS(RPL) <- CPL"): from CPL 3 the conforming DPL 0
; target runs at CPL 3, with CS.RPL = 3, on the caller's stack, where a
; privileged instruction raises #GP(0).
%define TEST_NAME "gate_conf"
%include "lib.inc"

SEL_CONF  equ SEL_FREE           ; conforming 32-bit code, DPL 0
SEL_GCONF equ SEL_FREE + 8       ; DPL 3 gate -> SEL_CONF:conf_target

main:
        ENTER_PM32
        call lib_tss32_setup
        mov eax, SEL_CONF
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, 0x9f                     ; P, DPL 0, code, conforming, readable
        mov dh, 0xc
        call lib_set_desc
        mov eax, conf_target             ; DPL 3 32-bit call gate, 1 parameter
        mov [GDT_BASE + SEL_GCONF], ax
        mov word [GDT_BASE + SEL_GCONF + 2], SEL_CONF
        mov word [GDT_BASE + SEL_GCONF + 4], 0xec01
        shr eax, 16
        mov [GDT_BASE + SEL_GCONF + 6], ax

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
        CHECK [SCRATCH], 0xc0f, "ring-3 part did not finish"
        CHECK [SCRATCH + 0x10], SEL_CONF | 3, "CS in the conforming target (RPL = CPL 3)"
        CHECK [SCRATCH + 0x14], 8, "the call pushed CS:EIP on the caller's stack"
        CHECK [SCRATCH + 0x18], 13, "CLI at CPL 3 in the conforming target: vector"
        CHECK [SCRATCH + 0x20], SEL_CONF | 3, "CS after a JMP through the gate"
        PASS

conf_target:
        mov eax, cs
        mov [SCRATCH + 0x10], eax
        mov eax, ebp
        sub eax, esp
        mov [SCRATCH + 0x14], eax
        TRY .r1
        cli                              ; IOPL 0 < CPL 3: #GP(0)
        mov dword [SCRATCH + 0x18], -1
        retf
.r1:    mov eax, [EXC_VEC]
        mov [SCRATCH + 0x18], eax
        retf

conf_jmp_target:
        mov eax, cs
        mov [SCRATCH + 0x20], eax
        jmp SEL_CODE32_U | 3:ring3.after_jmp

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        push dword 0x1234                ; a parameter that is not copied
        mov ebp, esp
        call SEL_GCONF | 3:0
        CHECK esp, STACK3_TOP - 4, "ESP after the conforming gate call"
        ; The same gate by JMP, pointed at conf_jmp_target.
        mov eax, conf_jmp_target
        mov [GDT_BASE + SEL_GCONF], ax
        jmp SEL_GCONF | 3:0
.after_jmp:
        mov dword [SCRATCH], 0xc0f
        int 0x80

        END_IMAGE

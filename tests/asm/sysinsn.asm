; sysinsn: system instructions.
;
; Each check follows the instruction's page in the SDM Vol. 2: LGDT/LIDT,
; SGDT/SIDT, LLDT/SLDT, LTR/STR (LTR marks the TSS busy; LTR of a busy TSS
; is #GP(selector)), MOV to/from CR0/CR2/CR3/CR4 (reserved bits: cr_rsvd),
; MOV DR (DR4/DR5 alias DR6/DR7 unless
; CR4.DE = 1, then #UD; DR6/DR7 fixed bits), LMSW (cannot clear PE), SMSW,
; CLTS, ARPL, LAR, LSL, VERR, VERW (no faults: ZF reports), INVD, WBINVD,
; RDMSR/WRMSR (round trip; faults: msr.asm), CPUID leaf 0, MONITOR/MWAIT (#UD unless
; CPUID.01H:ECX.MONITOR[bit 3]).  Vol. 3 2.5 and 3.4.5 for the bits.
%define TEST_NAME "sysinsn"
%include "lib.inc"

SEL_LDT  equ SEL_FREE            ; an LDT descriptor
SEL_TSSB equ SEL_FREE + 8        ; another TSS
SEL_XO   equ SEL_FREE + 16       ; execute-only code
LDT      equ DATA_AREA + 0x800

; ZF -> EAX (1 if set)
%macro ZF_TO_EAX 0
        setz al
        movzx eax, al
%endmacro

main:
        ENTER_PM32

        ; --- SGDT / SIDT return what LGDT / LIDT loaded ---------------------
        sgdt [DATA_AREA]
        movzx eax, word [DATA_AREA]
        CHECK eax, GDT_LIMIT, "SGDT limit"
        CHECK [DATA_AREA + 2], GDT_BASE, "SGDT base"
        sidt [DATA_AREA]
        movzx eax, word [DATA_AREA]
        CHECK eax, 256 * 8 - 1, "SIDT limit"
        CHECK [DATA_AREA + 2], IDT_BASE, "SIDT base"
        mov word [DATA_AREA + 0x10], 0x1234
        mov dword [DATA_AREA + 0x12], 0x00abc000
        lidt [DATA_AREA + 0x10]
        sidt [DATA_AREA + 0x20]
        lidt [lib_idtr32]
        movzx eax, word [DATA_AREA + 0x20]
        CHECK eax, 0x1234, "LIDT/SIDT round trip: limit"
        CHECK [DATA_AREA + 0x22], 0x00abc000, "LIDT/SIDT round trip: base"

        ; --- LLDT / SLDT ----------------------------------------------------------
        ; The LDT holds one flat data descriptor at index 1 (selector 0x0c).
        mov dword [LDT], 0
        mov dword [LDT + 4], 0
        mov dword [LDT + 8], 0x0000ffff
        mov dword [LDT + 12], 0x00cf9300
        mov eax, SEL_LDT
        mov ebx, LDT
        mov ecx, 15
        mov dl, 0x82                     ; LDT, present
        mov dh, 0
        call lib_set_desc
        mov ax, SEL_LDT
        lldt ax
        sldt eax
        and eax, 0xffff
        CHECK eax, SEL_LDT, "SLDT"
        mov ax, 0x0c                     ; LDT index 1, RPL 0
        mov es, ax
        mov dword [es:DATA_AREA + 0x30], 0x1d71d7
        CHECK [DATA_AREA + 0x30], 0x1d71d7, "access through an LDT selector"
        mov ax, SEL_DATA
        mov es, ax
        TRY .r1
        mov ax, SEL_DATA
        lldt ax                          ; not an LDT descriptor
        NOFAULT "LLDT of a data descriptor"
.r1:    EXPECT 13, SEL_DATA, "LLDT of a data descriptor"
        xor eax, eax
        lldt ax                          ; null: allowed, LDT unusable
        TRY .r2
        mov ax, 0x0c
        mov es, ax
        NOFAULT "LDT selector with a null LDTR"
.r2:    EXPECT 13, 0x0c, "LDT selector with a null LDTR"

        ; --- LTR / STR and the busy bit ------------------------------------------
        mov eax, SEL_TSSB
        mov ebx, TSS2_BASE
        mov ecx, 0x67
        mov dl, 0x89                     ; available 32-bit TSS
        mov dh, 0
        call lib_set_desc
        mov ax, SEL_TSSB
        ltr ax
        str eax
        and eax, 0xffff
        CHECK eax, SEL_TSSB, "STR"
        movzx eax, byte [GDT_BASE + SEL_TSSB + 5]
        CHECK eax, 0x8b, "LTR did not mark the TSS busy"
        TRY .r3
        mov ax, SEL_TSSB
        ltr ax
        NOFAULT "LTR of a busy TSS"
.r3:    EXPECT 13, SEL_TSSB, "LTR of a busy TSS"

        ; --- control registers ---------------------------------------------------
        mov eax, 0xdeadb000
        mov cr2, eax
        mov eax, cr2
        CHECK eax, 0xdeadb000, "CR2 round trip"
        mov eax, 0x00123000
        mov cr3, eax
        mov eax, cr3
        CHECK eax, 0x00123000, "CR3 round trip"
        mov eax, cr4
        or eax, 1 << 2                   ; TSD
        mov cr4, eax
        mov eax, cr4
        CHECKM eax, 4, 4, "CR4.TSD round trip"
        and eax, ~4
        mov cr4, eax
        ; (Reserved CR bits: see cr_rsvd.)

        ; --- LMSW, SMSW, CLTS -------------------------------------------------------
        lmsw [lmsw_ts]                   ; MSW = 0x000a: TS | MP, PE = 0
        mov eax, cr0
        CHECKM eax, 0xf, 0xb, "LMSW: PE cannot be cleared, MP and TS set"
        smsw eax
        CHECKM eax, 0xf, 0xb, "SMSW"
        smsw [DATA_AREA + 0x40]
        movzx eax, word [DATA_AREA + 0x40]
        CHECKM eax, 0xf, 0xb, "SMSW m16"
        clts
        mov eax, cr0
        CHECKM eax, 8, 0, "CLTS"
        lmsw [lmsw_zero]
        mov eax, cr0
        CHECKM eax, 1, 1, "LMSW 0 cleared PE"

        ; --- debug registers ---------------------------------------------------------
        mov eax, 0x12345678
        mov dr0, eax
        mov eax, 0x9abcdef0
        mov dr3, eax
        mov eax, dr0
        CHECK eax, 0x12345678, "DR0 round trip"
        mov eax, dr3
        CHECK eax, 0x9abcdef0, "DR3 round trip"
        xor eax, eax
        mov dr7, eax
        mov eax, dr7
        CHECK eax, 0x400, "DR7 = 0 reads 0x400 (bit 10 is 1)"
        xor eax, eax
        mov dr6, eax
        mov eax, dr6
        CHECKM eax, 0xffff0ff0, 0xffff0ff0, "DR6 fixed 1 bits"
        mov eax, dr4                     ; CR4.DE = 0: alias of DR6
        CHECKM eax, 0xffff0ff0, 0xffff0ff0, "DR4 aliases DR6"
        mov eax, cr4
        or eax, 1 << 3                   ; DE
        mov cr4, eax
        TRY .r6
        mov eax, dr5
        NOFAULT "MOV from DR5 with CR4.DE = 1"
.r6:    EXPECT 6, -1, "MOV from DR5 with CR4.DE = 1"
        mov eax, cr4
        and eax, ~(1 << 3)
        mov cr4, eax

        ; --- ARPL (in a 16-bit segment: 63 /r is MOVSXD elsewhere, fine here) ----
        mov ax, 0x0010
        mov bx, 0x0003
        arpl ax, bx                      ; RPL 0 < 3: raised, ZF = 1
        ZF_TO_EAX
        CHECK eax, 1, "ARPL ZF when adjusted"
        mov ax, 0x0013
        mov bx, 0x0001
        arpl ax, bx
        ZF_TO_EAX
        CHECK eax, 0, "ARPL ZF when not adjusted"
        mov ax, 0x0010
        mov bx, 0x0002
        arpl ax, bx
        and eax, 0xffff
        CHECK eax, 0x0012, "ARPL result"

        ; --- LAR, LSL, VERR, VERW -----------------------------------------------------
        mov ecx, SEL_CODE32
        lar eax, ecx
        ZF_TO_EAX
        CHECK eax, 1, "LAR of a code segment: ZF"
        mov ecx, SEL_CODE32
        lar eax, ecx
        and eax, 0x00f0ff00
        CHECK eax, 0x00c09b00, "LAR of SEL_CODE32"
        mov ecx, SEL_CODE16
        lsl eax, ecx
        CHECK eax, 0xffff, "LSL of SEL_CODE16"
        mov ecx, SEL_DATA
        lsl eax, ecx
        CHECK eax, 0xffffffff, "LSL of a 4 GiB page-granular segment"
        mov ecx, SEL_TSSB                ; system descriptors LAR/LSL accept
        lsl eax, ecx
        CHECK eax, 0x67, "LSL of a TSS"
        mov edx, 0x5555
        xor ecx, ecx
        lar edx, ecx                     ; null: ZF = 0, EDX unchanged
        ZF_TO_EAX
        CHECK eax, 0, "LAR of the null selector: ZF"
        CHECK edx, 0x5555, "LAR of the null selector changed the destination"
        mov ecx, 0x800
        lsl edx, ecx                     ; beyond the GDT: ZF = 0, no fault
        ZF_TO_EAX
        CHECK eax, 0, "LSL beyond the GDT: ZF"
        mov eax, SEL_XO
        xor ebx, ebx
        mov ecx, 0xfffff
        mov dl, 0x99                     ; execute-only code
        mov dh, 0xc
        call lib_set_desc
        mov cx, SEL_CODE32
        verr cx
        ZF_TO_EAX
        CHECK eax, 1, "VERR of readable code"
        mov cx, SEL_CODE32
        verw cx
        ZF_TO_EAX
        CHECK eax, 0, "VERW of code"
        mov cx, SEL_DATA
        verw cx
        ZF_TO_EAX
        CHECK eax, 1, "VERW of writable data"
        mov cx, SEL_XO
        verr cx
        ZF_TO_EAX
        CHECK eax, 0, "VERR of execute-only code"
        xor ecx, ecx
        verr cx
        ZF_TO_EAX
        CHECK eax, 0, "VERR of the null selector"

        ; --- cache instructions at CPL 0 -------------------------------------------------
        wbinvd
        invd

        ; --- MSRs --------------------------------------------------------------------------
        mov ecx, 0x174                   ; IA32_SYSENTER_CS
        mov eax, 0x1234
        xor edx, edx
        wrmsr
        xor eax, eax
        rdmsr
        CHECK eax, 0x1234, "IA32_SYSENTER_CS round trip"
        mov ecx, 0x10                    ; TSD = 0: RDTSC and RDMSR(TSC) work
        rdmsr
        rdtsc

        ; --- CPUID leaf 0: the highest basic leaf and the vendor ------------
        xor eax, eax
        cpuid
        cmp eax, 1
        jae .leaf_ok
        FAIL "CPUID.00H:EAX (highest basic leaf) < 1"
.leaf_ok:
        test ebx, ebx
        jnz .vendor_ok
        FAIL "CPUID.00H: empty vendor string"
.vendor_ok:

        ; --- MONITOR / MWAIT exist only if CPUID says so -------------------------------
        mov eax, 1
        cpuid
        test ecx, 1 << 3
        jz .no_monitor
        mov eax, DATA_AREA
        xor ecx, ecx
        xor edx, edx
        monitor
        xor eax, eax
        xor ecx, ecx
        jmp .monitor_done                ; (MWAIT could sleep: not run)
.no_monitor:
        TRY .r7
        mov eax, DATA_AREA
        xor ecx, ecx
        xor edx, edx
        monitor
        NOFAULT "MONITOR without CPUID.01H:ECX.MONITOR"
.r7:    EXPECT 6, -1, "MONITOR without CPUID.01H:ECX.MONITOR"
        TRY .r8
        xor eax, eax
        xor ecx, ecx
        mwait
        NOFAULT "MWAIT without CPUID.01H:ECX.MONITOR"
.r8:    EXPECT 6, -1, "MWAIT without CPUID.01H:ECX.MONITOR"
.monitor_done:
        PASS

lmsw_ts:   dw 0x000a
lmsw_zero: dw 0

        END_IMAGE

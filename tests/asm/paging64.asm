; paging64: 4-level paging in 64-bit mode.
;
; SDM Vol. 3 4.5 (4-level paging: PML4E, PDPTE, PDE with PS = 1 for 2 MiB,
; PTE; linear bits 47:39 index the PML4, so 0xFFFF8000_00000000 uses entry
; 256), 4.6 (U/S, R/W, CR0.WP, XD with EFER.NXE at any level), 4.7 (error
; codes, I/D for fetches since NXE = 1), 4.8 (A in every level used, D in
; the leaf), 4.10.4.1 (INVLPG), 6.15 (#PF CR2 and saved RIP).
%define TEST_NAME "paging64"
%include "lib.inc"

; ENTER_LONG built: PML4 at PT_BASE, PDPT at +0x1000, PD at +0x2000
; (2 MiB identity pages, user, writable).  Added here:
PT2     equ PT_BASE + 0x3000     ; PD[2] (0x400000-0x5fffff): 4 KiB pages
PDPT_H  equ PT_BASE + 0x4000     ; PML4[256] -> PDPT_H -> PD_H -> 2 MiB at 0
PD_H    equ PT_BASE + 0x5000
V_RW    equ 0x400000             ; -> DATA_AREA, user RW
V_RO    equ 0x401000             ; -> DATA_AREA, user RO
V_SUP   equ 0x402000             ; -> DATA_AREA, supervisor RW
V_NP    equ 0x403000             ; not present
V_XD    equ 0x404000             ; -> CODE_AREA, XD
V_X     equ 0x405000             ; -> CODE_AREA
HIGH    equ 0xffff800000000000

%define PTE(va) (PT2 + (((va) >> 12) & 0x1ff) * 8)

main:
        ENTER_PM32
        ENTER_LONG
        ; NXE, then the extra tables.
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 11
        wrmsr
        mov edi, PT2
        mov ecx, 0x3000 / 8
        xor eax, eax
        rep stosq
        mov qword [PT_BASE + 0x2000 + 2 * 8], PT2 | 7
        mov qword [PTE(V_RW)], DATA_AREA | 7
        mov qword [PTE(V_RO)], DATA_AREA | 5
        mov qword [PTE(V_SUP)], DATA_AREA | 3
        mov rax, CODE_AREA | 7 | (1 << 63)
        mov [PTE(V_XD)], rax
        mov qword [PTE(V_X)], CODE_AREA | 7
        mov qword [PT_BASE + 256 * 8], PDPT_H | 7
        mov qword [PDPT_H], PD_H | 7
        mov qword [PD_H], 0x87
        mov rax, cr3
        mov cr3, rax
        mov byte [CODE_AREA], 0xc3       ; RET

        ; --- translations ----------------------------------------------------
        mov dword [DATA_AREA], 0x64646464
        CHECK32 [V_RW], 0x64646464, "4 KiB page"
        mov rax, HIGH + DATA_AREA
        CHECK32 [rax], 0x64646464, "high-half 2 MiB alias"
        ; A set on every level of the fresh high-half walk, D in the leaf.
        CHECKM [PT_BASE + 256 * 8], 0x20, 0x20, "A in PML4E[256]"
        CHECKM [PDPT_H], 0x20, 0x20, "A in the PDPTE"
        CHECKM [PD_H], 0x60, 0x20, "2 MiB PDE after a read: A only"
        mov rax, HIGH + DATA_AREA
        mov dword [rax + 8], 1
        CHECKM [PD_H], 0x60, 0x60, "2 MiB PDE after a write: A and D"
        CHECKM [PDPT_H], 0x40, 0, "D in a PDPTE that maps a table"

        ; --- not present, fetch and XD: I/D set (NXE) ---------------------------
        TRY .r1
        mov eax, [V_NP]
        NOFAULT "read of a not-present page"
.r1:    EXPECT 14, 0, "read of a not-present page"
        CHECK [EXC_CR2], V_NP, "CR2"
        TRY .r2
        call V_NP + 0x40
        NOFAULT "fetch from a not-present page"
.r2:    EXPECT 14, 0x10, "fetch from a not-present page"
        CHECK [EXC_EIP], V_NP + 0x40, "RIP (fetch)"
        call V_X
        TRY .r3
        call V_XD
        NOFAULT "fetch from an XD page"
.r3:    EXPECT 14, 0x11, "fetch from an XD page"
        ; XD at the PML4 level (the high half).
        mov byte [0x1000], 0xc3
        bts qword [PT_BASE + 256 * 8], 63
        mov rax, HIGH + 0x1000
        invlpg [rax]
        TRY .r4
        mov rax, HIGH + 0x1000
        call rax
        NOFAULT "fetch under an XD PML4E"
.r4:    EXPECT 14, 0x11, "fetch under an XD PML4E"
        btr qword [PT_BASE + 256 * 8], 63
        mov rax, HIGH + 0x1000
        invlpg [rax]
        call rax

        ; --- WP ---------------------------------------------------------------------
        mov dword [V_RO], 5              ; WP = 0: allowed
        mov rax, cr0
        or eax, 1 << 16
        mov cr0, rax
        TRY .r5
        mov dword [V_RO], 6
        NOFAULT "supervisor write to read-only with WP = 1"
.r5:    EXPECT 14, 3, "supervisor write to read-only with WP = 1"

        ; --- user accesses (ring 3, 64-bit) -----------------------------------------
        mov dword [HOOKS + 0x80 * 8], lib_hook_ring0_64
        mov eax, 0x80
        lea rbx, [lib_stubs64 + 0x80 * 12]
        mov cx, SEL_CODE64
        mov dx, 0xee00
        call lib_set_gate64
        mov qword [R0_CONT], .back
        mov qword [R0_ESP], STACK0_TOP
        push SEL_DATA_U | 3
        push STACK3_TOP
        push 0x2
        push SEL_CODE64_U | 3
        push ring3
        iretq
.back:
        CHECK [SCRATCH], 0x3333, "ring-3 part did not finish"
        PASS

ring3:
        mov eax, [V_RW]
        TRY .r1
        mov eax, [V_SUP]
        NOFAULT "user read of a supervisor page"
.r1:    EXPECT 14, 5, "user read of a supervisor page"
        TRY .r2
        mov dword [V_RO], 0
        NOFAULT "user write to a read-only page"
.r2:    EXPECT 14, 7, "user write to a read-only page"
        TRY .r3
        call V_SUP
        NOFAULT "user fetch from a supervisor page"
.r3:    EXPECT 14, 0x15, "user fetch from a supervisor page"
        TRY .r4
        call V_XD
        NOFAULT "user fetch from an XD page"
.r4:    EXPECT 14, 0x15, "user fetch from an XD page"
        mov qword [SCRATCH], 0x3333
        int 0x80

        END_IMAGE

; paging_pae: PAE paging with 4 KiB and 2 MiB pages, and execute-disable.
;
; SDM Vol. 3 4.4 (PAE: CR3 locates a 32-byte-aligned PDPT; PDE with PS = 1
; maps 2 MiB; Table 4-9: bits 20:13 of a 2 MiB PDE reserved), 4.6 (with
; IA32_EFER.NXE = 1, XD = 1 in any entry forbids instruction fetches), 4.7
; (I/D = 1 for fetch faults when PAE and NXE, else 0), 4.8 (A/D bits),
; 6.15 (CR2, and a fetch fault reports the target as EIP).
%define TEST_NAME "paging_pae"
%include "lib.inc"

PDPT    equ PT_BASE              ; 0x10000
PD0     equ PT_BASE + 0x1000     ; PDPTE 0: 0 - 1 GiB
PT2     equ PT_BASE + 0x2000     ; PDE 2: 0x400000 - 0x5fffff, 4 KiB pages
V_RW    equ 0x400000             ; -> DATA_AREA
V_XD    equ 0x401000             ; -> CODE_AREA, XD
V_NP    equ 0x402000             ; not present
V_X     equ 0x403000             ; -> CODE_AREA, executable
V_2M    equ 0x600000             ; PDE 3: 2 MiB page -> 0

%define PTE(va) (PT2 + (((va) >> 12) & 0x1ff) * 8)

%macro SET64 2                   ; address, 64-bit value
        mov dword [%1], (%2) & 0xffffffff
        mov dword [%1 + 4], (%2) >> 32
%endmacro

main:
        ENTER_PM32
        mov edi, PT_BASE
        mov ecx, 0x3000 / 4
        xor eax, eax
        rep stosd
        SET64 PDPT, PD0 | 1
        SET64 PD0 + 0 * 8, 0x000000 | 0x87          ; 2 MiB identity, U RW P
        SET64 PD0 + 1 * 8, 0x200000 | 0x87
        SET64 PD0 + 2 * 8, PT2 | 7
        SET64 PD0 + 3 * 8, 0x000000 | 0x87          ; V_2M aliases 0
        SET64 PTE(V_RW), DATA_AREA | 7
        SET64 PTE(V_XD), CODE_AREA | 7 | (1 << 63)
        SET64 PTE(V_X), CODE_AREA | 7
        mov byte [CODE_AREA], 0xc3       ; RET
        mov ecx, 0xc0000080
        rdmsr
        or eax, 1 << 11                  ; NXE
        wrmsr
        mov eax, cr4
        or eax, 1 << 5                   ; PAE
        mov cr4, eax
        mov eax, PDPT
        mov cr3, eax
        mov eax, cr0
        or eax, 1 << 31
        mov cr0, eax

        ; --- 4 KiB and 2 MiB translations -------------------------------------
        mov dword [DATA_AREA], 0xfeedbeef
        CHECK [V_RW], 0xfeedbeef, "4 KiB PAE page"
        CHECK [V_2M + DATA_AREA], 0xfeedbeef, "2 MiB PAE page"

        ; --- A and D on a 2 MiB page ----------------------------------------------
        CHECKM [PD0 + 3 * 8], 0x60, 0x20, "2 MiB page after a read: A only"
        mov dword [V_2M + DATA_AREA + 4], 7
        CHECKM [PD0 + 3 * 8], 0x60, 0x60, "2 MiB page after a write: A and D"

        ; --- execute-disable --------------------------------------------------------
        call V_X                          ; executable alias: fine
        CHECK [V_XD], 0xc3, "reading an XD page"
        TRY .r1
        call V_XD
        NOFAULT "fetch from an XD page"
.r1:    EXPECT 14, 0x11, "fetch from an XD page"
        CHECK [EXC_CR2], V_XD, "CR2 (XD fetch)"
        CHECK [EXC_EIP], V_XD, "EIP (XD fetch)"
        ; Not present, fetch, NXE: I/D set too.
        TRY .r2
        call V_NP
        NOFAULT "fetch from a not-present page"
.r2:    EXPECT 14, 0x10, "fetch from a not-present page (NXE)"
        ; Clearing XD and INVLPG makes it executable.
        and dword [PTE(V_XD) + 4], 0x7fffffff
        invlpg [V_XD]
        call V_XD
        ; XD in the PDE covers the whole 2 MiB.
        or dword [PD0 + 2 * 8 + 4], 0x80000000
        invlpg [V_X]
        TRY .r3
        call V_X
        NOFAULT "fetch under an XD PDE"
.r3:    EXPECT 14, 0x11, "fetch under an XD PDE"
        and dword [PD0 + 2 * 8 + 4], 0x7fffffff
        invlpg [V_X]

        ; (Reserved bits, RSVD: see pf_rsvd.)
        mov ecx, 0xc0000080
        rdmsr
        and eax, ~(1 << 11)
        wrmsr
        ; Without NXE a fetch fault has no I/D.
        TRY .r6
        call V_NP
        NOFAULT "fetch from a not-present page, NXE = 0"
.r6:    EXPECT 14, 0, "fetch from a not-present page, NXE = 0"
        PASS

        END_IMAGE

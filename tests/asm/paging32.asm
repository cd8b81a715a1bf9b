; paging32: 32-bit paging with 4 KiB and (CR4.PSE) 4 MiB pages.
;
; SDM Vol. 3 4.3 (32-bit paging: PDE/PTE formats, Table 4-4..4-6, bit 21 of
; a 4 MiB PDE reserved: see pf_rsvd), 4.6 (U/S, R/W, CR0.WP), 4.7 (#PF error code: P,
; W/R, U/S, RSVD; I/D stays 0 without NX), 4.8 (A set on every entry used,
; D on the entry that maps the page, by writes only), 4.10.4.1 (INVLPG and
; MOV to CR3 make a changed non-global PTE visible; changing CR4.PGE flushes
; global entries too), 6.15 (#PF: CR2 = the faulting linear address; a
; fault, so EIP is the instruction, or the target for a fetch).
%define TEST_NAME "paging32"
%include "lib.inc"

PD      equ PT_BASE              ; 0x10000
PT0     equ PT_BASE + 0x1000     ; 0-4 MiB identity, 4 KiB pages
PT1     equ PT_BASE + 0x2000     ; 0x400000-0x7fffff test pages
V_RW    equ 0x400000             ; -> DATA_AREA, user, writable
V_RO    equ 0x401000             ; -> DATA_AREA, user, read-only
V_NP    equ 0x402000             ; not present
V_SUP   equ 0x403000             ; -> DATA_AREA, supervisor, writable
V_AD    equ 0x404000             ; -> DATA_AREA + 0x1000, A = D = 0
V_ST    equ 0x406000             ; -> DATA_AREA + 0x3000; 0x407000 not present
V_4M    equ 0x800000             ; PDE 2: 4 MiB page -> 0

%define PTE(va) (PT1 + (((va) >> 12) & 0x3ff) * 4)

main:
        ENTER_PM32
        call lib_tss32_setup
        ; Page tables.
        mov edi, PD
        mov ecx, 0x3000 / 4
        xor eax, eax
        rep stosd
        mov dword [PD + 0 * 4], PT0 | 7
        mov dword [PD + 1 * 4], PT1 | 7
        mov dword [PD + 2 * 4], 0x000000 | 0x87     ; 4 MiB, U, RW, P
        xor ecx, ecx
.id:    mov eax, ecx
        shl eax, 12
        or eax, 7
        mov [PT0 + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .id
        mov dword [PTE(V_RW)], DATA_AREA | 7
        mov dword [PTE(V_RO)], DATA_AREA | 5
        mov dword [PTE(V_SUP)], DATA_AREA | 3
        mov dword [PTE(V_AD)], (DATA_AREA + 0x1000) | 7
        mov dword [PTE(V_ST)], (DATA_AREA + 0x3000) | 7
        mov eax, PD
        mov cr3, eax
        mov eax, cr4
        or eax, 1 << 4                   ; PSE
        mov cr4, eax
        mov eax, cr0
        or eax, 1 << 31                  ; PG, WP = 0
        mov cr0, eax

        ; --- translation and aliases ---------------------------------------
        mov dword [DATA_AREA], 0x11223344
        CHECK [V_RW], 0x11223344, "read through V_RW"
        mov dword [V_RW + 4], 0x55667788
        CHECK [V_RO + 4], 0x55667788, "V_RO does not alias V_RW"
        CHECK [V_4M + DATA_AREA + 4], 0x55667788, "4 MiB page alias of 0"

        ; --- supervisor write to a read-only page: WP decides ----------------
        mov dword [V_RO + 8], 0xaaaa     ; WP = 0: allowed
        CHECK [DATA_AREA + 8], 0xaaaa, "supervisor write with WP = 0"
        mov eax, cr0
        or eax, 1 << 16
        mov cr0, eax
        TRY .r1
.w1:    mov dword [V_RO + 8], 0xbbbb
        NOFAULT "supervisor write to read-only with WP = 1"
.r1:    EXPECT 14, 3, "supervisor write to read-only with WP = 1"
        CHECK [EXC_CR2], V_RO + 8, "CR2 (WP)"
        CHECK [EXC_EIP], .w1, "#PF saved EIP"
        CHECK [DATA_AREA + 8], 0xaaaa, "the faulting write changed memory"

        ; --- not present ---------------------------------------------------------
        TRY .r2
        mov eax, [V_NP + 0x123]
        NOFAULT "read of a not-present page"
.r2:    EXPECT 14, 0, "read of a not-present page"
        CHECK [EXC_CR2], V_NP + 0x123, "CR2 (not present)"
        TRY .r3
        mov byte [V_NP + 0xfff], 1
        NOFAULT "write to a not-present page"
.r3:    EXPECT 14, 2, "write to a not-present page"
        CHECK [EXC_CR2], V_NP + 0xfff, "CR2 (not-present write)"
        ; A fetch: the fault is at the target, and 32-bit paging has no I/D.
        TRY .r4
        call V_NP + 0x10
        NOFAULT "call into a not-present page"
.r4:    EXPECT 14, 0, "fetch from a not-present page"
        CHECK [EXC_CR2], V_NP + 0x10, "CR2 (fetch)"
        CHECK [EXC_EIP], V_NP + 0x10, "EIP (fetch)"
        ; A dword straddling into a not-present page faults as a whole:
        ; CR2 is the first byte of the missing page, nothing is written.
        mov dword [V_ST + 0xffc], 0
        TRY .r5
        mov dword [V_ST + 0xffe], 0x12345678   ; .. 0x407001: not present
        NOFAULT "write straddling into a not-present page"
.r5:    EXPECT 14, 2, "write straddling into a not-present page"
        CHECK [EXC_CR2], V_ST + 0x1000, "CR2 (straddling write)"
        CHECK [V_ST + 0xffc], 0, "the straddling write changed the first page"

        ; --- accessed and dirty bits -----------------------------------------------
        CHECKM [PTE(V_AD)], 0x60, 0, "A/D preset"
        and dword [PD + 1 * 4], ~0x60
        invlpg [V_AD]
        mov eax, [V_AD]
        CHECKM [PTE(V_AD)], 0x60, 0x20, "after a read: A set, D clear"
        CHECKM [PD + 1 * 4], 0x20, 0x20, "after a read: A set in the PDE"
        mov dword [V_AD], 1
        CHECKM [PTE(V_AD)], 0x60, 0x60, "after a write: A and D set"
        CHECKM [PD + 1 * 4], 0x40, 0, "D set in a PDE that maps a table"
        ; 4 MiB page: A and D land in the PDE.
        and dword [PD + 2 * 4], ~0x60
        invlpg [V_4M + DATA_AREA]
        mov eax, [V_4M + DATA_AREA]
        CHECKM [PD + 2 * 4], 0x60, 0x20, "4 MiB page read: A only"
        mov dword [V_4M + DATA_AREA], 0x11223344
        CHECKM [PD + 2 * 4], 0x60, 0x60, "4 MiB page write: A and D"

        ; --- INVLPG and MOV CR3 make a changed PTE visible --------------------------
        mov dword [DATA_AREA + 0x2000], 0x2000aaaa
        mov eax, [V_RW]                   ; cached: DATA_AREA
        mov dword [PTE(V_RW)], (DATA_AREA + 0x2000) | 7
        invlpg [V_RW]
        CHECK [V_RW], 0x2000aaaa, "INVLPG: the new PTE"
        mov dword [PTE(V_RW)], DATA_AREA | 7
        mov eax, cr3
        mov cr3, eax
        CHECK [V_RW], 0x11223344, "MOV CR3: the new PTE"
        ; Global page: toggling CR4.PGE flushes it (4.10.4.1).
        mov eax, cr4
        or eax, 1 << 7
        mov cr4, eax
        or dword [PTE(V_RW)], 0x100
        invlpg [V_RW]
        mov eax, [V_RW]
        mov dword [PTE(V_RW)], (DATA_AREA + 0x2000) | 0x107
        mov eax, cr4
        and eax, ~(1 << 7)
        mov cr4, eax
        CHECK [V_RW], 0x2000aaaa, "CR4.PGE 1->0: the new global PTE"
        mov dword [PTE(V_RW)], DATA_AREA | 7
        invlpg [V_RW]

        ; --- user accesses from ring 3 ------------------------------------------------
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
        CHECK [SCRATCH], 0x3333, "ring-3 part did not finish"
        PASS

ring3:
        mov ax, SEL_DATA_U | 3
        mov ds, ax
        mov es, ax
        mov eax, [V_RW]                  ; user, present: fine
        mov [V_RW + 12], eax
        TRY .r1
        mov eax, [V_SUP]
        NOFAULT "user read of a supervisor page"
.r1:    EXPECT 14, 5, "user read of a supervisor page"
        CHECK [EXC_CR2], V_SUP, "CR2 (user/supervisor)"
        TRY .r2
        mov dword [V_RO], 0
        NOFAULT "user write to a read-only page"
.r2:    EXPECT 14, 7, "user write to a read-only page"
        TRY .r3
        mov eax, [V_NP]
        NOFAULT "user read of a not-present page"
.r3:    EXPECT 14, 4, "user read of a not-present page"
        TRY .r4
        mov dword [V_NP], 0
        NOFAULT "user write to a not-present page"
.r4:    EXPECT 14, 6, "user write to a not-present page"
        mov dword [SCRATCH], 0x3333
        int 0x80

        END_IMAGE

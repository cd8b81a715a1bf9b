; pf_rsvd: page faults for reserved bits, in each paging mode.
;
; SDM Vol. 3 4.7: RSVD (bit 3) "is 1 if there is no translation ... because
; a reserved bit was set in one of the paging-structure entries used";
; "bit 3 of the error code can be set only if bit 0 is also set": a
; supervisor read gives 9, a write 0xb.  Reserved bits checked here:
;   32-bit paging, 4 MiB PDE: bit 21 (Table 4-4);
;   PAE, 2 MiB PDE: bits 20:13 (Table 4-9); bit 63 (XD) when EFER.NXE = 0;
;     bits 51:MAXPHYADDR (here bit 40, MAXPHYADDR = 40 on both emulators);
;   4-level: PS in a PML4E (Table 4-14).
; A faulting walk need not set A bits; this program does not check them.
; (QEMU reports 8, without P; the SDM wins, see run.sh.)
%define TEST_NAME "pf_rsvd"
%include "lib.inc"

PD      equ PT_BASE              ; 32-bit: page directory
PDPT    equ PT_BASE + 0x1000     ; PAE
PD0     equ PT_BASE + 0x2000
PT2     equ PT_BASE + 0x3000

%macro SET64 2
        mov dword [%1], (%2) & 0xffffffff
        mov dword [%1 + 4], (%2) >> 32
%endmacro

main:
        ENTER_PM32
        mov edi, PT_BASE
        mov ecx, 0x4000 / 4
        xor eax, eax
        rep stosd

        ; --- 32-bit paging, PSE -----------------------------------------------
        mov dword [PD + 0 * 4], 0x000000 | 0x83     ; 4 MiB identity
        mov dword [PD + 1 * 4], 0x200000 | 0x83     ; bit 21 set
        mov eax, PD
        mov cr3, eax
        mov eax, cr4
        or eax, 1 << 4
        mov cr4, eax
        mov eax, cr0
        or eax, 1 << 31
        mov cr0, eax
        TRY .r1
        mov eax, [0x400000]
        NOFAULT "4 MiB PDE with bit 21 set"
.r1:    EXPECT 14, 9, "4 MiB PDE with bit 21 set (read)"
        CHECK [EXC_CR2], 0x400000, "CR2 (4 MiB PDE)"
        TRY .r2
        mov dword [0x400010], 0
        NOFAULT "4 MiB PDE with bit 21 set (write)"
.r2:    EXPECT 14, 0xb, "4 MiB PDE with bit 21 set (write)"
        mov eax, cr0
        and eax, ~(1 << 31)
        mov cr0, eax

        ; --- PAE ------------------------------------------------------------------
        SET64 PDPT, PD0 | 1
        SET64 PD0 + 0 * 8, 0x000000 | 0x83
        SET64 PD0 + 1 * 8, 0x200000 | 0x83
        SET64 PD0 + 2 * 8, PT2 | 3
        SET64 PD0 + 3 * 8, 0x002000 | 0x83           ; 2 MiB, bit 13 set
        SET64 PT2 + 0 * 8, DATA_AREA | 3 | (1 << 63) ; XD, NXE = 0
        SET64 PT2 + 1 * 8, DATA_AREA | 3 | (1 << 40) ; above MAXPHYADDR
        mov eax, cr4
        or eax, 1 << 5
        mov cr4, eax
        mov eax, PDPT
        mov cr3, eax
        mov eax, cr0
        or eax, 1 << 31
        mov cr0, eax
        TRY .r3
        mov eax, [0x600000]
        NOFAULT "2 MiB PDE with bit 13 set"
.r3:    EXPECT 14, 9, "2 MiB PDE with bit 13 set"
        TRY .r4
        mov eax, [0x400000]
        NOFAULT "PTE with XD while NXE = 0"
.r4:    EXPECT 14, 9, "PTE with XD while NXE = 0"
        TRY .r5
        mov dword [0x401000], 0
        NOFAULT "PTE with bit 40 set"
.r5:    EXPECT 14, 0xb, "PTE with bit 40 set (write)"
        CHECK [EXC_CR2], 0x401000, "CR2 (bit 40)"

        ; --- 4-level: PS in a PML4E -----------------------------------------------
        mov eax, cr0
        and eax, ~(1 << 31)
        mov cr0, eax
        ENTER_LONG
        mov rax, PT_BASE + 0x1000 + 0x87             ; PML4[1]: PS = 1
        mov [PT_BASE + 8], rax
        TRY .r6
        mov rax, 0x0000008000000000
        mov rbx, [rax]
        NOFAULT "PML4E with PS set"
.r6:    EXPECT 14, 9, "PML4E with PS set"
        PASS

        END_IMAGE

; pae_pdpte: PAE PDPTEs have no accessed bit.
;
; SDM Vol. 3 4.4.1 and Table 4-8: in a PAE PDPTE bits 2:1 and 8:5 are
; reserved (must be 0); unlike the other paging-structure entries it has no
; A flag, and 4.8 sets A only "in paging-structure entries" that have one.
; The processor loads the four PDPTEs into registers at MOV to CR3 and does
; not write them back.  (QEMU writes A = bit 5 into the PDPTE; the SDM wins,
; see run.sh.)
%define TEST_NAME "pae_pdpte"
%include "lib.inc"

PDPT    equ PT_BASE
PD0     equ PT_BASE + 0x1000

main:
        ENTER_PM32
        mov edi, PT_BASE
        mov ecx, 0x2000 / 4
        xor eax, eax
        rep stosd
        mov dword [PDPT], PD0 | 1
        mov dword [PD0 + 0 * 8], 0x000000 | 0x83    ; 2 MiB identity
        mov dword [PD0 + 1 * 8], 0x200000 | 0x83
        mov eax, cr4
        or eax, 1 << 5
        mov cr4, eax
        mov eax, PDPT
        mov cr3, eax
        mov eax, cr0
        or eax, 1 << 31
        mov cr0, eax
        mov dword [DATA_AREA], 1
        CHECKM [PD0], 0x60, 0x60, "A/D in the 2 MiB PDE"
        CHECK [PDPT], PD0 | 1, "the PDPTE was written"
        PASS

        END_IMAGE

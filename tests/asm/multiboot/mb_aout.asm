; mb_aout: a Multiboot v1 kernel with the address fields of header flag
; bit 16 (the "a.out kludge", Multiboot Specification 0.6.96 3.1.3),
; assembled as a flat binary loaded at 1 MiB with a bss after it.
%define TEST_NAME "mb_aout"

MB_FLAGS equ (1 << 0) | (1 << 1) | (1 << 16)   ; page-aligned modules, memory info, addresses
LOAD_ADDR equ 0x100000

        bits 32
        org LOAD_ADDR
mb_header:
        dd 0x1BADB002
        dd MB_FLAGS
        dd -(0x1BADB002 + MB_FLAGS)
        dd mb_header            ; header_addr
        dd LOAD_ADDR            ; load_addr
        dd load_end             ; load_end_addr
        dd bss_end              ; bss_end_addr
        dd _start               ; entry_addr

_start:
        ; The bss is zeroed by the loader.
        cmp dword [bss_probe], 0
        jne .dirty
        jmp mb_main
.dirty: mov esi, s_bss
        jmp mb_fail

%include "mb.inc"
s_bss:  db "bss not zeroed", 0
load_end:
        align 4
bss_probe equ load_end
bss_end equ load_end + 0x2000

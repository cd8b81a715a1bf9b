; mb_elf: a Multiboot v1 kernel as an ELF32 executable without address
; fields (header flag bit 16 clear): the loader must place it by its
; program headers (Multiboot Specification 0.6.96 3.1.3, last paragraph).
; Built with nasm -f elf32 and ld -m elf_i386 -n -Ttext=0x100000 (-n: no
; page-aligned segment holding the ELF headers below 1 MiB).
%define TEST_NAME "mb_elf"

MB_FLAGS equ (1 << 0) | (1 << 1)   ; page-aligned modules, memory info

        section .text
        bits 32
        global _start
mb_header:
        dd 0x1BADB002
        dd MB_FLAGS
        dd -(0x1BADB002 + MB_FLAGS)

_start:
        ; The bss (p_memsz beyond p_filesz) is zeroed by the loader.
        cmp dword [bss_probe + 0x1000], 0
        jne .dirty
        jmp mb_main
.dirty: mov esi, s_bss
        jmp mb_fail

%include "mb.inc"
s_bss:  db "bss not zeroed", 0

        section .bss
bss_probe: resb 0x2000

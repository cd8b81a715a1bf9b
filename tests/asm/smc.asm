; smc: self-modifying code.
;
; SDM Vol. 3 11.6 ("Self-Modifying Code"): a write to a code byte is seen
; by later fetches of that byte; the check against prefetched instructions
; is by linear address, so a store to the very next instruction through the
; same linear address takes effect without any serializing instruction
; (P6 and later).  A store through a different linear address (another
; paging alias) is guaranteed to be seen once a serializing instruction
; (CPUID here) has executed, as 11.6 prescribes for that case.  Decoded-
; code caches in an emulator must honour both, and stores by string
; instructions as well.  (DMA writes to code are covered by the unit tests,
; tests/unit/test_tlb.c: no device here can DMA yet.)
%define TEST_NAME "smc"
%include "lib.inc"

CODE    equ CODE_AREA            ; 0x40000
PD      equ PT_BASE
PT0     equ PT_BASE + 0x1000
PT1     equ PT_BASE + 0x2000
V_A     equ 0x400000             ; alias A of CODE
V_B     equ 0x401000             ; alias B of CODE

main:
        ENTER_PM32

        ; --- patch the next instruction, same linear address -----------------
        ; CODE+0: C6 05 <CODE+8> 42   mov byte [CODE+8], 0x42
        ; CODE+7: B0 00               mov al, 0     (imm byte at CODE+8)
        ; CODE+9: C3                  ret
        mov byte [CODE + 0], 0xc6
        mov byte [CODE + 1], 0x05
        mov dword [CODE + 2], CODE + 8
        mov byte [CODE + 6], 0x42
        mov word [CODE + 7], 0x00b0
        mov byte [CODE + 9], 0xc3
        call CODE
        and eax, 0xff
        CHECK eax, 0x42, "store to the next instruction"
        ; Run it again: the patched byte is now 0x42 before the store.
        mov byte [CODE + 6], 0x43
        call CODE
        and eax, 0xff
        CHECK eax, 0x43, "second run with a new immediate"

        ; --- a function patched between calls ------------------------------------
        ; CODE+0x100: 16 NOPs, mov eax, imm32, ret.  Call it, patch the
        ; immediate from here, call again: the cached block must go.
        mov edi, CODE + 0x100
        mov ecx, 16
        mov al, 0x90
        rep stosb
        mov byte [edi], 0xb8
        mov dword [edi + 1], 1
        mov byte [edi + 5], 0xc3
        mov esi, 1
.loop:  call CODE + 0x100
        CHECK eax, esi, "patched function returned a stale value"
        inc esi
        mov [CODE + 0x100 + 17], esi
        cmp esi, 5
        jbe .loop
        ; A NOP in the middle of the cached block becomes RET.
        mov byte [CODE + 0x100 + 8], 0xc3
        mov eax, 0x777
        call CODE + 0x100
        CHECK eax, 0x777, "NOP patched to RET in the middle of a block"

        ; --- rep movsb over code ------------------------------------------------------
        mov esi, tpl_ret99
        mov edi, CODE + 0x100
        mov ecx, tpl_ret99_end - tpl_ret99
        rep movsb
        call CODE + 0x100
        CHECK eax, 99, "code copied by REP MOVSB"

        ; --- a loop that rewrites its own body ---------------------------------------
        ; CODE+0x200: 40        inc eax        <- rewritten to 48 (dec eax)
        ;             C6 05 <CODE+0x200> 48     mov byte [CODE+0x200], 0x48
        ;             E2 F4     loop CODE+0x200
        ;             C3        ret
        ; Iteration 1 runs INC, then every later one DEC: 1 - (n - 1).
        mov byte [CODE + 0x200], 0x40
        mov word [CODE + 0x201], 0x05c6
        mov dword [CODE + 0x203], CODE + 0x200
        mov byte [CODE + 0x207], 0x48
        mov word [CODE + 0x208], 0xf6e2  ; loop -10 (back to CODE+0x200)
        mov byte [CODE + 0x20a], 0xc3
        xor eax, eax
        mov ecx, 5
        call CODE + 0x200
        CHECK eax, -3, "self-rewriting loop (1 INC then 4 DEC)"

        ; --- through another virtual alias -----------------------------------------
        mov edi, PD
        mov ecx, 0x3000 / 4
        xor eax, eax
        rep stosd
        mov dword [PD + 0 * 4], PT0 | 3
        mov dword [PD + 1 * 4], PT1 | 3
        xor ecx, ecx
.id:    mov eax, ecx
        shl eax, 12
        or eax, 3
        mov [PT0 + ecx * 4], eax
        inc ecx
        cmp ecx, 1024
        jb .id
        mov dword [PT1 + 0 * 4], CODE | 3
        mov dword [PT1 + 1 * 4], CODE | 3
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 1 << 31
        mov cr0, eax
        ; V_A + 0x100 is the mov eax, imm32 / ret function (returns 99).
        call V_A + 0x100
        CHECK eax, 99, "function through alias A"
        mov dword [V_B + 0x100 + 1], 1234   ; the immediate, via alias B
        cpuid                                ; serialize (SDM 11.6)
        call V_A + 0x100
        CHECK eax, 1234, "store through alias B not seen through alias A"
        ; The same the other way round, running from B.
        call V_B + 0x100
        mov dword [V_A + 0x100 + 1], 4321
        cpuid
        call V_B + 0x100
        CHECK eax, 4321, "store through alias A not seen through alias B"
        PASS

tpl_ret99:
        mov eax, 99
        ret
tpl_ret99_end:

        END_IMAGE

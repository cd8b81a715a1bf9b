; A boot sector for tests/guest/bootdisk.sh: SeaBIOS loads it from the
; disk at 0000:7C00 with the drive number in DL.  Through the BIOS's INT 13h
; extensions (the EDD 3.0 functions 41h, 42h, 43h) it reads sectors
; 1..COUNT, writes them to sectors COUNT+1..2*COUNT, reads those back and
; compares.  The host then checks the image with its own tools: the two
; ranges must be equal, and qemu-img check must be happy.
;
; Result on the debug console (port 0x402): "BOOTDISK OK" or
; "BOOTDISK FAIL <step>"; then isa-debug-exit (port 0xF4) ends the run.
bits 16
org 0x7c00

COUNT   equ 32              ; sectors per range: 16 KiB
BUF_A   equ 0x1000          ; segment of the first buffer (0x10000)
BUF_B   equ 0x2000          ; segment of the read-back buffer (0x20000)

start:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    mov [drive], dl

    mov ah, 0x41            ; extensions present?
    mov bx, 0x55aa
    int 0x13
    mov si, msg_ext
    jc fail
    cmp bx, 0xaa55
    jne fail

    mov word [dap.seg], BUF_A
    mov dword [dap.lba], 1
    mov ah, 0x42
    mov si, msg_read
    call disk
    mov dword [dap.lba], 1 + COUNT
    mov ah, 0x43
    mov al, 0               ; no verify
    mov si, msg_write
    call disk
    mov word [dap.seg], BUF_B
    mov ah, 0x42
    mov si, msg_readback
    call disk

    push ds
    mov ax, BUF_A
    mov ds, ax
    mov ax, BUF_B
    mov es, ax
    xor si, si
    xor di, di
    mov cx, COUNT * 512 / 2
    cld
    repe cmpsw
    pop ds
    mov si, msg_compare
    jne fail
    mov si, msg_ok
    call print
    xor al, al
    out 0xf4, al
    hlt

; INT 13h function AH with the packet at dap; SI names the step.
disk:
    mov word [dap.count], COUNT
    mov dl, [drive]
    push si
    mov si, dap
    int 0x13
    pop si
    jc fail
    ret

fail:
    push si
    mov si, msg_fail
    call print
    pop si
    call print
    mov si, msg_nl
    call print
    mov al, 1
    out 0xf4, al
    hlt

print:
    mov dx, 0x402
.next:
    lodsb
    test al, al
    jz .done
    out dx, al
    jmp .next
.done:
    ret

drive:        db 0
align 4
dap:                        ; EDD disk address packet
.size:        db 16
.reserved:    db 0
.count:       dw COUNT
.off:         dw 0
.seg:         dw BUF_A
.lba:         dq 1

msg_ok:       db "BOOTDISK OK", 10, 0
msg_fail:     db "BOOTDISK FAIL ", 0
msg_ext:      db "int13 extensions", 0
msg_read:     db "read", 0
msg_write:    db "write", 0
msg_readback: db "read back", 0
msg_compare:  db "compare", 0
msg_nl:       db 10, 0

times 510 - ($ - $$) db 0
dw 0xaa55

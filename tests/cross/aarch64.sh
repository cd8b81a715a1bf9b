#!/bin/sh
# Portability check (make check-long): build the whole emulator for an
# AArch64 host with Debian's cross compiler, then run it under
# qemu-aarch64-static: a tiny firmware that exits through isa-debug-exit,
# and Debian's SeaBIOS up to "No bootable device."  Nothing host-specific
# outside jit/<host>/ may stop this build.
# Needs: tests/deps.sh --cross (gcc-aarch64-linux-gnu, qemu-user-static,
# the arm64 -dev libraries).  Prints "N passed, N failed".
set -u
OUT=build/aarch64
mkdir -p "$OUT/obj"
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "not ok - $1"; fail=$((fail + 1)); }

CC=aarch64-linux-gnu-gcc
build_ok=1
for f in util/*.c mmu/*.c cpu/*.c cpu/fpu/*.c cpu/sse/*.c hw/*.c machine/*.c frontends/*.c; do
    o="$OUT/obj/$(echo "$f" | tr / _).o"
    if ! $CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
            -O2 -I. -I/usr/include/capstone -c "$f" -o "$o"; then
        build_ok=0
    fi
done
if [ "$build_ok" = 1 ] && $CC -o "$OUT/vireo" "$OUT"/obj/*.o -lcapstone \
        -lxxhash -lzstd -lz -lpthread -lm; then
    ok "the emulator builds for aarch64"
else
    bad "the emulator builds for aarch64"
fi
mkdir -p "$OUT/roms"
cp build/roms/*.bin "$OUT/roms/" 2>/dev/null
RUN="qemu-aarch64-static -L /usr/aarch64-linux-gnu $OUT/vireo"

# A 64 KiB firmware: write 0x10 to port 0xF4, so the exit status is 33.
cat >"$OUT/exit.asm" <<'ASM'
bits 16
org 0
start:
    mov al, 0x10
    out 0xf4, al
    hlt
times 0xfff0-($-$$) db 0
    jmp 0xf000:start
times 0x10000-($-$$) db 0
ASM
nasm -f bin "$OUT/exit.asm" -o "$OUT/exit.bin"
timeout 60 $RUN -bios "$OUT/exit.bin" -serial null -display none
status=$?
[ "$status" = 33 ] && ok "isa-debug-exit status 33 on aarch64" ||
    bad "isa-debug-exit status 33 on aarch64 (got $status)"

rm -f "$OUT/seabios.log"
timeout 300 $RUN -icount shift=0 -no-reboot -serial null -display none \
    -debugcon "file:$OUT/seabios.log" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q "No bootable device" "$OUT/seabios.log" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || break
    sleep 1
    i=$((i + 1))
done
kill -TERM $pid 2>/dev/null
wait $pid 2>/dev/null
grep -q "No bootable device" "$OUT/seabios.log" 2>/dev/null &&
    ok "SeaBIOS reaches 'No bootable device' on aarch64 (${i}s)" ||
    bad "SeaBIOS reaches 'No bootable device' on aarch64"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

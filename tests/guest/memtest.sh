#!/bin/sh
# Guest test: Debian's memtest86+ (/boot/memtest86+x64.bin, a bzImage with
# a 64-bit entry point) starts on Vireo through -kernel, without the BIOS:
#   its banner, the memory size it found (the same as on QEMU run the same
#   way) and the first test running, on the serial console
#   (console=ttyS0,115200) and on the VGA text screen (-screendump).
# Then it is stopped.  "nobench" skips the cache benchmarks and
# "keyboard=legacy" the USB scan, which only cost time here.
# Prints one line per check and "N passed, N failed".
set -u
VIREO=${VIREO:-build/vireo}
MEMTEST=${MEMTEST:-/boot/memtest86+x64.bin}
OUT=build/tests/guest/memtest
APPEND="console=ttyS0,115200 nobench keyboard=legacy"
mkdir -p "$OUT"
pass=0
fail=0

check() {
    name=$1
    shift
    if "$@"; then
        echo "ok - $name"
        pass=$((pass + 1))
    else
        echo "not ok - $name"
        fail=$((fail + 1))
    fi
}

if [ ! -s "$MEMTEST" ]; then
    echo "not ok - $MEMTEST is missing (tests/deps.sh installs memtest86+)"
    echo "0 passed, 1 failed"
    exit 1
fi

# run_until NAME SECS PROGRAM ARGS...: run until the serial output
# ($OUT/NAME.serial) shows the first test running, at most SECS seconds,
# then stop it with SIGTERM (Vireo writes its -screendump then).
run_until() {
    name=$1
    limit=$2
    shift 2
    rm -f "$OUT/$name.serial"
    "$@" </dev/null >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" &
    pid=$!
    i=0
    while [ "$i" -lt "$limit" ]; do
        grep -q "Address test" "$OUT/$name.serial" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
        i=$((i + 1))
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "$name: stopped after ${i}s"
}

run_until vireo 600 "$VIREO" -m 128 -display none -no-reboot \
    -serial "file:$OUT/vireo.serial" -screendump "$OUT/screen.txt" \
    -kernel "$MEMTEST" -append "$APPEND"
run_until qemu 120 qemu-system-x86_64 -accel tcg -m 128 -display none -no-reboot \
    -monitor none -serial "file:$OUT/qemu.serial" -kernel "$MEMTEST" -append "$APPEND"

# The serial console is a VT100 screen: escapes become line breaks.
lines() {
    sed 's/\x1b\[[0-9;?]*[a-zA-Z]/\n/g' "$OUT/$1.serial" 2>/dev/null | tr -d '\r'
}
memory() {
    lines "$1" | grep -m1 -o 'Memory  *: *[0-9]*[KMG]B'
}

serial_banner() { lines vireo | grep -q 'Memtest86+ v[0-9]'; }
serial_testing() { lines vireo | grep -q 'Address test'; }
same_memory() {
    v=$(memory vireo)
    q=$(memory qemu)
    echo "    vireo: ${v:-nothing}; qemu: ${q:-nothing}"
    [ -n "$v" ] && [ "$v" = "$q" ]
}
screen_shows() { [ -n "$1" ] && grep -q "$1" "$OUT/screen.txt" 2>/dev/null; }

check "memtest86+ banner on the serial console" serial_banner
check "memory size matches QEMU's" same_memory
check "the first test runs" serial_testing
check "VGA text screen shows the banner" screen_shows 'Memtest86+ v[0-9]'
check "VGA text screen shows the memory size" screen_shows "$(memory vireo | sed 's/  */ */g')"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/bin/sh
# Guest test: Debian's SeaBIOS boots on Vireo with no disk, and prints the
# same milestone lines as on QEMU's i440FX board run the same way:
#   the version banner, the RAM it found, the PCI devices it enumerated,
#   the VGA BIOS it started, and the boot attempts ending in
#   "No bootable device."
# Then the VGA text screen (Vireo's -screendump hook) must show them too.
#
# QEMU runs with -nodefaults -vga std (no NIC, no default drives) and
# -global apic-common.vapic=off: its kvmvapic.bin option ROM is a KVM
# helper that registers a boot entry and would put "Hard Disk" before
# "Floppy"; Vireo has no such ROM.
#
# Prints one line per check and "N passed, N failed".
set -u
VIREO=${VIREO:-build/vireo}
OUT=build/tests/guest/seabios
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

# Run "$@" until LOG shows "No bootable device" (at most $2 seconds), then
# stop it with SIGTERM and wait for it.
run_until_no_boot() {
    log=$1
    limit=$2
    shift 2
    rm -f "$log"
    "$@" </dev/null >"$log.stdout" 2>"$log.stderr" &
    pid=$!
    i=0
    while [ "$i" -lt "$limit" ]; do
        if grep -q "No bootable device" "$log" 2>/dev/null; then
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 1
        i=$((i + 1))
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "$(basename "$log"): stopped after ${i}s"
}

run_until_no_boot "$OUT/vireo.log" 60 \
    "$VIREO" -m 128 -icount shift=0 -no-reboot -serial null -display none \
    -debugcon "file:$OUT/vireo.log" -screendump "$OUT/screen.txt"
run_until_no_boot "$OUT/qemu.log" 120 \
    qemu-system-x86_64 -accel tcg -m 128 -nodefaults -vga std -display none \
    -no-reboot -serial none -monitor none -global apic-common.vapic=off \
    -chardev "file,id=dbg,path=$OUT/qemu.log" \
    -device isa-debugcon,iobase=0x402,chardev=dbg

# The milestone lines of one category, from a SeaBIOS log.
milestones() {
    case $1 in
    banner) grep -m1 '^SeaBIOS (version' "$2" ;;
    ram)    grep '^qemu/e820: .*\[RAM\]' "$2" ;;
    pci)    grep '^PCI: init bdf=' "$2" ;;
    vga)    grep -E '^(Start SeaVGABIOS|VBE DISPI: lfb_addr|PCI: Using .* for primary VGA)' "$2" ;;
    boot)   grep -oE '^(Booting from [A-Za-z ]+|No bootable device)' "$2" ;;
    esac
}

same_milestones() {
    milestones "$1" "$OUT/vireo.log" >"$OUT/vireo.$1"
    milestones "$1" "$OUT/qemu.log" >"$OUT/qemu.$1"
    if [ ! -s "$OUT/qemu.$1" ]; then
        echo "  QEMU printed no $1 milestone" >&2
        return 1
    fi
    if ! cmp -s "$OUT/vireo.$1" "$OUT/qemu.$1"; then
        echo "  $1 differs (vireo <, qemu >):"
        diff "$OUT/vireo.$1" "$OUT/qemu.$1" | sed 's/^/    /'
        return 1
    fi
    sed 's/^/    /' "$OUT/vireo.$1"
}

for category in banner ram pci vga boot; do
    check "seabios $category milestones match QEMU" same_milestones "$category"
done

screen_shows() {
    grep -q "$1" "$OUT/screen.txt" 2>/dev/null
}
check "VGA text screen shows the SeaBIOS banner" screen_shows '^SeaBIOS (version'
check "VGA text screen shows 'No bootable device.'" screen_shows 'No bootable device\.'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

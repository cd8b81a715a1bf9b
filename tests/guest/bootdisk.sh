#!/bin/sh
# Guest test: SeaBIOS boots from a disk on each controller and, through
# the BIOS's INT 13h, reads, writes and reads back 16 KiB
# (tests/guest/bootdisk.asm); the host then checks the image with its own
# tools.  The same program runs on QEMU TCG, to prove the program.
#
#   IDE, qcow2 (-hda):       guest OK; qemu-img check clean; the written
#                            range equals the read range (qemu-img convert
#                            to raw, then cmp)
#   virtio-blk, qcow2:       the same
#   -snapshot:               guest OK; the image is unchanged, byte for byte
#   qcow2 over a raw base:   guest OK; the base is unchanged; the overlay
#                            reads back right
#
# Prints one line per check and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
VIREO=${VIREO:-build/vireo}
OUT=build/tests/guest/bootdisk
TIMEOUT=${BOOTDISK_TIMEOUT:-60}
mkdir -p "$OUT"
. tests/guest/shell.inc

for tool in nasm qemu-img qemu-system-x86_64; do
    command -v "$tool" >/dev/null || { not_ok "prerequisites" "$tool is missing (make deps)"; finish; }
done
[ -x "$VIREO" ] || { not_ok "prerequisites" "$VIREO is not built"; finish; }
nasm -f bin -o "$OUT/boot.bin" tests/guest/bootdisk.asm ||
    { not_ok "assemble bootdisk.asm"; finish; }

# make_raw FILE: 1 MiB: the boot sector, then 16 KiB of random data in
# sectors 1-32 (any data will do: the check compares the image with
# itself), zeros after.
make_raw() {
    head -c $((1 << 20)) /dev/zero >"$1"
    dd if="$OUT/boot.bin" of="$1" conv=notrunc 2>/dev/null
    head -c 16384 /dev/urandom | dd of="$1" bs=512 seek=1 conv=notrunc 2>/dev/null
}

# boot_sector NAME EMULATOR ARGS...: run until the program exits; the
# debug console log is $OUT/NAME.log.
boot_sector() {
    name=$1; shift
    rm -f "$OUT/$name.log"
    if [ "$1" = qemu ]; then
        shift
        timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m 64 -nodefaults \
            -display none -serial none -monitor none -no-reboot \
            -global apic-common.vapic=off \
            -device isa-debug-exit,iobase=0xf4,iosize=4 \
            -chardev "file,id=dbg,path=$OUT/$name.log" \
            -device isa-debugcon,iobase=0x402,chardev=dbg "$@" \
            >"$OUT/$name.out" 2>&1
    else
        shift
        timeout "$TIMEOUT" "$VIREO" -m 64 -display none -serial null \
            -no-reboot -debugcon "file:$OUT/$name.log" "$@" \
            >"$OUT/$name.out" 2>&1
    fi
    if grep -q '^BOOTDISK OK' "$OUT/$name.log" 2>/dev/null; then
        ok "$name: the guest read, wrote and read back through INT 13h"
        return 0
    fi
    not_ok "$name" "$(grep -a BOOTDISK "$OUT/$name.log" 2>/dev/null || tail -n 2 "$OUT/$name.out")"
    return 1
}

# ranges_equal NAME IMAGE: sectors 33-64 of the image hold sectors 1-32.
ranges_equal() {
    qemu-img convert -O raw "$2" "$OUT/check.raw" || { not_ok "$1: qemu-img convert"; return; }
    dd if="$OUT/check.raw" of="$OUT/a.bin" bs=512 skip=1 count=32 2>/dev/null
    dd if="$OUT/check.raw" of="$OUT/b.bin" bs=512 skip=33 count=32 2>/dev/null
    if cmp -s "$OUT/a.bin" "$OUT/b.bin" && ! cmp -s "$OUT/a.bin" /dev/zero 2>/dev/null; then
        ok "$1: the image holds the copy (qemu-img convert, cmp)"
    else
        not_ok "$1: the image does not hold the copy"
    fi
}

image_checks() {
    if qemu-img check "$2" >"$OUT/$1.check" 2>&1; then
        ok "$1: qemu-img check: $(grep -m1 -E 'No errors|errors' "$OUT/$1.check")"
    else
        not_ok "$1: qemu-img check" "$(head -n 3 "$OUT/$1.check" | tr '\n' ' ')"
    fi
    ranges_equal "$1" "$2"
}

make_raw "$OUT/base.raw"
for emu in vireo qemu; do
    qemu-img convert -f raw -O qcow2 "$OUT/base.raw" "$OUT/ide-$emu.qcow2"
    boot_sector "$emu ide qcow2" $emu -drive "file=$OUT/ide-$emu.qcow2,format=qcow2,if=ide,index=0" &&
        image_checks "$emu ide qcow2" "$OUT/ide-$emu.qcow2"
    qemu-img convert -f raw -O qcow2 "$OUT/base.raw" "$OUT/virtio-$emu.qcow2"
    boot_sector "$emu virtio qcow2" $emu -drive "file=$OUT/virtio-$emu.qcow2,format=qcow2,if=virtio" &&
        image_checks "$emu virtio qcow2" "$OUT/virtio-$emu.qcow2"
done

# -snapshot: the guest's writes go to a temporary overlay.
qemu-img convert -f raw -O qcow2 "$OUT/base.raw" "$OUT/snap.qcow2"
cp "$OUT/snap.qcow2" "$OUT/snap.orig"
if boot_sector "vireo -snapshot" vireo -snapshot -drive "file=$OUT/snap.qcow2,format=qcow2,if=virtio"; then
    if cmp -s "$OUT/snap.qcow2" "$OUT/snap.orig"; then
        ok "-snapshot: the image is unchanged, byte for byte"
    else
        not_ok "-snapshot: the image changed"
    fi
fi

# A qcow2 overlay on a raw backing file: the base stays as it was.
cp "$OUT/base.raw" "$OUT/backing.raw"
rm -f "$OUT/overlay.qcow2"
qemu-img create -q -f qcow2 -b backing.raw -F raw "$OUT/overlay.qcow2"
if boot_sector "vireo overlay on raw" vireo -drive "file=$OUT/overlay.qcow2,format=qcow2,if=ide,index=0"; then
    if cmp -s "$OUT/backing.raw" "$OUT/base.raw"; then
        ok "overlay on raw: the backing file is unchanged"
    else
        not_ok "overlay on raw: the backing file changed"
    fi
    image_checks "overlay on raw" "$OUT/overlay.qcow2"
fi
finish

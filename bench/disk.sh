#!/bin/sh
# Disk benchmark: sequential write and read throughput in the default guest
# (booted with -kernel), on virtio-blk and on IDE, on Vireo and on QEMU TCG
# with the same command line and the same images.  Prints MB/s for each and
# the ratios.  `make bench` builds what it needs first.
#
# In the guest, busybox dd with direct I/O on the whole disk, so the
# guest's page cache is out of the way:
#   dd if=/dev/zero of=/dev/vda bs=1M count=N oflag=direct
#   dd if=/dev/vda of=/dev/null bs=1M count=N iflag=direct
# timed on the host, from the prompt before the command to the prompt after
# it (the guest's clock is the emulator's to keep, so it is not the judge).
# The disks are raw images in build/bench/, created empty for each
# machine; the host's page cache holds them, so the figures measure the
# emulated path, not the host's disk.
#
# BENCH_MB=N moves N MiB per run (default 256).
set -u
cd "$(dirname "$0")/.." || exit 1
VIREO=${VIREO:-build/vireo}
IMG=build/images
OUT=build/bench
MB=${BENCH_MB:-256}
APPEND="console=ttyS0 cryptomgr.notests"
. tests/guest/shell.inc
mkdir -p "$OUT"

for f in "$VIREO" "$CONSOLE" "$IMG/vmlinuz" "$IMG/initramfs.cpio.gz"; do
    [ -s "$f" ] || { echo "bench: $f is missing (run make bench)" >&2; exit 1; }
done

# One command per measurement, in this order: vda write, vda read, sda
# write, sda read.
CMDS=""
for d in vda sda; do
    CMDS="$CMDS
dd if=/dev/zero of=/dev/$d bs=1M count=$MB oflag=direct
dd if=/dev/$d of=/dev/null bs=1M count=$MB iflag=direct"
done
CMDS="waitdev /dev/vda /dev/sda$CMDS"

# measure M PROGRAM ARGS...: boot with a fresh virtio disk and a fresh
# IDE disk (raw, a little larger than what is written).
measure() {
    m=$1
    shift
    for d in virtio ide; do
        rm -f "$OUT/disk-$d.raw"
        qemu-img create -q -f raw "$OUT/disk-$d.raw" "$((MB + 8))M"
    done
    boot "disk-$m" 1800 "$CMDS" "$@" -m 512 -nographic -kernel "$IMG/vmlinuz" \
        -initrd "$IMG/initramfs.cpio.gz" -append "$APPEND" \
        -drive file="$OUT/disk-virtio.raw",format=raw,if=virtio \
        -drive file="$OUT/disk-ide.raw",format=raw,if=ide,index=0
    rm -f "$OUT"/disk-*.raw
    if ! grep -q '^exit 0' "$OUT/disk-$m.out"; then
        echo "bench: $m: $(head -n 1 "$OUT/disk-$m.out") (see $OUT/disk-$m.log)" >&2
        return 1
    fi
}

# mbps M N: MB/s of measurement N (command N+1), from the driver's
# "time commandN" lines; empty if dd did not copy everything.
mbps() {
    answer "disk-$1" "$(($2 + 1))" | grep -q "^$MB+0 records out" || return 0
    awk -v a="command$2" -v b="command$(($2 + 1))" -v mb="$MB" '
        $1 == "time" && $2 == a { t0 = $3 }
        $1 == "time" && $2 == b { t1 = $3 }
        END { if (t1 > t0) printf "%.1f", mb * 1.048576 / (t1 - t0) }' "$OUT/disk-$1.out"
}

echo "disk throughput: dd bs=1M count=$MB, direct I/O, raw images, $(cat "$IMG/kernel-release" 2>/dev/null)"
measure vireo "$VIREO" || exit 1
measure qemu qemu-system-x86_64 -accel tcg -no-reboot || exit 1
n=0
for what in "virtio-blk write" "virtio-blk read" "IDE write" "IDE read"; do
    n=$((n + 1))
    v=$(mbps vireo $n) q=$(mbps qemu $n)
    if [ -z "$v" ] || [ -z "$q" ]; then
        echo "bench: $what: no figure (see $OUT/disk-vireo.log, $OUT/disk-qemu.log)" >&2
        exit 1
    fi
    printf '%-17s vireo %8s MB/s   qemu tcg %8s MB/s   ratio vireo/qemu %s\n' "$what:" "$v" "$q" \
        "$(awk -v v="$v" -v q="$q" 'BEGIN { printf "%.2f", v / q }')"
done

#!/bin/sh
# Boot-time benchmark: the default guest (Debian's kernel and the busybox
# initramfs of images/build.sh, booted with -kernel) from process start to
# the shell prompt, on Vireo and on QEMU TCG with the same command line,
# in the same run.  Prints both times and their ratio.  `make bench`
# builds what it needs first.
#
# BENCH_RUNS=N boots each N times (default 1) and reports the best.
set -u
cd "$(dirname "$0")/.." || exit 1
VIREO=${VIREO:-build/vireo}
CONSOLE=build/tests/guest/console
IMG=build/images
OUT=build/bench
RUNS=${BENCH_RUNS:-1}
APPEND="console=ttyS0"
mkdir -p "$OUT"

for f in "$VIREO" "$CONSOLE" "$IMG/vmlinuz" "$IMG/initramfs.cpio.gz"; do
    [ -s "$f" ] || { echo "bench: $f is missing (run make bench)" >&2; exit 1; }
done

cat >"$OUT/boot.script" <<'SCRIPT'
expect 1800 vireo-initramfs: ready
expect 120 vireo#
time prompt
send poweroff -f\n
exit 120
SCRIPT

# best NAME PROGRAM ARGS...: the fastest of RUNS boots, in seconds.
best() {
    name=$1
    shift
    b=""
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        "$CONSOLE" -l "$OUT/$name.log" "$OUT/boot.script" -- "$@" >"$OUT/$name.out" 2>&1
        t=$(sed -n 's/^time prompt //p' "$OUT/$name.out")
        if [ -z "$t" ]; then
            echo "bench: $name did not reach the prompt: $(head -n 1 "$OUT/$name.out")" >&2
            return 1
        fi
        if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
        i=$((i + 1))
    done
    echo "$b"
}

echo "boot to shell prompt: $(cat "$IMG/kernel-release" 2>/dev/null), -m 512, -append \"$APPEND\""
vt=$(best vireo "$VIREO" -m 512 -nographic -kernel "$IMG/vmlinuz" \
    -initrd "$IMG/initramfs.cpio.gz" -append "$APPEND") || exit 1
echo "vireo (tcg, interpreter): ${vt} s"
qt=$(best qemu qemu-system-x86_64 -accel tcg -m 512 -nographic -kernel "$IMG/vmlinuz" \
    -initrd "$IMG/initramfs.cpio.gz" -append "$APPEND" -no-reboot) || exit 1
echo "qemu-system-x86_64 -accel tcg: ${qt} s"
echo "ratio vireo/qemu: $(awk -v v="$vt" -v q="$qt" 'BEGIN { printf "%.1f", v / q }')x"

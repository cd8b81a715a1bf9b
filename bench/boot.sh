#!/bin/sh
# Benchmark: the default guest (Debian's kernel and the busybox initramfs
# of images/build.sh, booted with -kernel) on QEMU TCG, on Vireo with its
# JIT and on Vireo's interpreter alone (-accel tcg,jit=off), with the same
# command line, in the same run.  For each: the time from process start to
# the shell prompt, then three compute workloads in the guest, each timed
# from its command to its output (host clock, by the console driver):
# 16 MiB from /dev/urandom into a file, sha256sum of it, gzip of it.
# Prints the times and Vireo's ratios to QEMU.  `make bench` builds what
# it needs first.
#
# BENCH_RUNS=N runs each machine N times (default 1) and keeps the best
# of each figure.
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

# Each workload ends with a marker only its output contains (the echoed
# command line has the quotes).
cat >"$OUT/bench.script" <<'SCRIPT'
expect 1800 vireo-initramfs: ready
expect 120 vireo#
time prompt
send dd if=/dev/urandom of=/tmp/buf bs=1M count=16 2>/dev/null; echo @@"G"\n
expect 1800 @@G
time urandom
send sha256sum /tmp/buf; echo @@"S"\n
expect 1800 @@S
time sha256sum
send gzip -c /tmp/buf | wc -c; echo @@"Z"\n
expect 1800 @@Z
time gzip
send poweroff -f\n
exit 120
SCRIPT
FIGURES="prompt urandom sha256sum gzip"

# run NAME PROGRAM ARGS...: writes $OUT/NAME.times, one "FIGURE SECONDS"
# line per figure (workloads as durations), the best of RUNS runs.
run() {
    name=$1
    shift
    rm -f "$OUT/$name.times"
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        "$CONSOLE" -l "$OUT/$name.log" "$OUT/bench.script" -- "$@" >"$OUT/$name.out" 2>&1
        if ! grep -q '^time gzip ' "$OUT/$name.out"; then
            echo "bench: $name did not finish: $(grep -v '^time' "$OUT/$name.out" | head -n 1)" >&2
            return 1
        fi
        awk '/^time / { t[$2] = $3; order[n++] = $2 }
             END { prev = 0
                   for (i = 0; i < n; i++) {
                       f = order[i]; d = (i == 0) ? t[f] : t[f] - prev
                       prev = t[f]; printf "%s %.2f\n", f, d } }' \
            "$OUT/$name.out" >"$OUT/$name.run"
        if [ -f "$OUT/$name.times" ]; then
            # Keep the smaller of each figure.
            paste -d' ' "$OUT/$name.times" "$OUT/$name.run" |
                awk '{ printf "%s %s\n", $1, ($2 < $4) ? $2 : $4 }' >"$OUT/$name.best"
            mv "$OUT/$name.best" "$OUT/$name.times"
        else
            mv "$OUT/$name.run" "$OUT/$name.times"
        fi
        i=$((i + 1))
    done
}

figure() { sed -n "s/^$2 //p" "$OUT/$1.times"; }

GUEST="-m 512 -nographic -kernel $IMG/vmlinuz -initrd $IMG/initramfs.cpio.gz"
echo "guest: $(cat "$IMG/kernel-release" 2>/dev/null), -m 512, -append \"$APPEND\""
run qemu qemu-system-x86_64 -accel tcg $GUEST -append "$APPEND" -no-reboot || exit 1
run vireo-jit "$VIREO" -accel tcg $GUEST -append "$APPEND" || exit 1
run vireo-interp "$VIREO" -accel tcg,jit=off $GUEST -append "$APPEND" || exit 1

printf '%-10s %10s %12s %14s %9s %12s\n' "seconds" "qemu-tcg" "vireo-jit" "vireo-jit=off" "jit/qemu" "interp/jit"
for f in $FIGURES; do
    q=$(figure qemu "$f"); j=$(figure vireo-jit "$f"); n=$(figure vireo-interp "$f")
    awk -v f="$f" -v q="$q" -v j="$j" -v n="$n" 'BEGIN {
        printf "%-10s %10.2f %12.2f %14.2f %8.1fx %11.1fx\n", f, q, j, n,
               (q > 0 ? j / q : 0), (j > 0 ? n / j : 0) }'
done

#!/bin/sh
# Guest test: the retired-instruction count is exact under the JIT.
# SeaBIOS runs in deterministic mode (-icount shift=0: virtual time is the
# instruction count) once with the JIT and once on the interpreter alone,
# side by side, logging every interrupt and exception (-d int) with the
# address it interrupted.  Timer interrupts land at instruction counts, so
# one instruction miscounted anywhere moves every later one: the two logs
# must agree line for line (each run is cut off after a fixed host time,
# so the shorter log must be a prefix of the longer, and long enough to
# cover SeaBIOS's whole boot and idle loop).
#
# Prints one line per check and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
# Not $VIREO: that may be a wrapper that already picks a mode.
VIREO=build/vireo
OUT=build/tests/guest/determinism
SECS=${DETERMINISM_SECS:-15}
MIN_LINES=50000
mkdir -p "$OUT"
. tests/guest/shell.inc

[ -x "$VIREO" ] || { not_ok "prerequisites" "$VIREO is not built"; finish; }
for jit in on off; do
    timeout "$SECS" "$VIREO" -accel "tcg,jit=$jit" -m 128 -icount shift=0 \
        -no-reboot -serial null -display none -d int -D "$OUT/int-$jit.log" \
        >"$OUT/$jit.out" 2>&1 &
done
wait

on=$(wc -l <"$OUT/int-on.log")
off=$(wc -l <"$OUT/int-off.log")
n=$((on < off ? on : off))
if [ "$n" -lt "$MIN_LINES" ]; then
    not_ok "enough events to compare" "$on lines with the JIT, $off without (want $MIN_LINES)"
    finish
fi
ok "events logged: $on with the JIT, $off on the interpreter"
head -n "$n" "$OUT/int-on.log" >"$OUT/on.cut"
head -n "$n" "$OUT/int-off.log" >"$OUT/off.cut"
# The last line may have been cut mid-write by the timeout: compare
# without it.
head -n $((n - 1)) "$OUT/on.cut" >"$OUT/on.cmp"
head -n $((n - 1)) "$OUT/off.cut" >"$OUT/off.cmp"
if cmp -s "$OUT/on.cmp" "$OUT/off.cmp"; then
    ok "the first $((n - 1)) interrupts and exceptions are the same, at the same addresses"
else
    first=$(diff "$OUT/on.cmp" "$OUT/off.cmp" | head -n 4 | tr '\n' ' ')
    not_ok "interrupt points differ between the JIT and the interpreter" "$first"
fi
finish

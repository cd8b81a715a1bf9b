#!/bin/sh
# Run every test suite and print one summary line "N passed, N failed".
#
# A suite is a program that prints, as its last counting line, either
# Criterion's "Synthesis: Tested: T | Passing: P | Failing: F | Crashing: C"
# or our own "N passed, N failed".  Counts are summed over suites; a suite
# that exits non-zero without such a line counts as one failure.
# VIREO_LONG=1 (make check-long) asks suites for their long runs.
# The guest suites run Vireo with its JIT (the default); the fast ones
# (asm programs, SeaBIOS) run again on the interpreter alone, through a
# wrapper passing -accel tcg,jit=off.  VIREO_JIT=off runs everything on
# the interpreter alone.
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
JIT_OFF=build/tests/vireo-jit-off
mkdir -p build/tests
printf '#!/bin/sh\nexec build/vireo -accel tcg,jit=off "$@"\n' >"$JIT_OFF"
chmod +x "$JIT_OFF"
if [ "${VIREO_JIT:-}" = off ]; then
    export VIREO="$JIT_OFF"
fi
# Run a suite again on the interpreter alone, unless everything does.
run_suite_jit_off() {
    [ "${VIREO_JIT:-}" = off ] && return
    name=$1; shift
    run_suite "$name-jit-off" env VIREO="$JIT_OFF" "$@"
}
total_pass=0
total_fail=0

run_suite() {
    name=$1; shift
    log="$LOGDIR/$name.log"
    mkdir -p "$(dirname "$log")"
    start=$(date +%s)
    "$@" >"$log" 2>&1
    status=$?
    secs=$(( $(date +%s) - start ))
    line=$(grep -E '^(Synthesis: Tested:|\[====\] Synthesis:|[A-Za-z_-]*:? ?[0-9]+ passed, [0-9]+ failed)' "$log" | tail -n 1)
    pass=""; fail=""
    case "$line" in
        *Synthesis*)
            pass=$(echo "$line" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
            f=$(echo "$line" | sed -n 's/.*Failing: *\([0-9]*\).*/\1/p')
            c=$(echo "$line" | sed -n 's/.*Crashing: *\([0-9]*\).*/\1/p')
            fail=$(( ${f:-0} + ${c:-0} ));;
        *passed*)
            pass=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
            fail=$(echo "$line" | sed -n 's/.*\b\([0-9][0-9]*\) failed.*/\1/p');;
    esac
    if [ -z "$pass" ]; then pass=0; fail=1; fi
    # Sanitizer reports from Criterion's forked workers do not change the
    # suite's verdict, so any report in the log counts as a failure here.
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
        fail=$((fail + 1))
    fi
    if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    if [ "$fail" -eq 0 ]; then
        printf 'PASS  %-28s %6d passed  (%ds)\n' "$name" "$pass" "$secs"
    else
        printf 'FAIL  %-28s %6d passed, %d failed  (%ds) -- see %s\n' "$name" "$pass" "$fail" "$secs" "$log"
        tail -n 25 "$log" | sed 's/^/      | /'
    fi
}

for t in build/tests/unit/*; do
    [ -x "$t" ] || continue
    run_suite "unit/$(basename "$t")" "$t" --jobs 2
done
for t in build/tests/unit-san/*; do
    [ -x "$t" ] || continue
    run_suite "unit-asan/$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$t" --jobs 2
done
# The qcow2 fuzz target: mutated images under ASan; libFuzzer too when long.
if [ -x build/tests/fuzz/qcow2_fuzz ]; then
    run_suite "fuzz/qcow2" sh tests/fuzz/run.sh
fi
for t in tests/cli/*.sh; do
    [ -f "$t" ] || continue
    run_suite "cli/$(basename "$t" .sh)" sh "$t"
done
# The 80286 vectors live in the shared test data next to the checkout,
# when it is there (a clone elsewhere has none): say so, do not fail.
SST_DIR=${VIREO_SST_DIR:-../shared/tests/sst286}
if [ -x build/tests/sst/sst286 ] && [ -d "$SST_DIR" ]; then
    run_suite "sst286" build/tests/sst/sst286 "$SST_DIR"
else
    echo "SKIP  sst286                       no vectors at $SST_DIR"
fi
if [ -x build/tests/diff/diff_unicorn ]; then
    n=200000; [ -n "$VIREO_LONG" ] && n=10000000
    for mode in real prot32 long64; do
        run_suite "diff/$mode" build/tests/diff/diff_unicorn --mode $mode --count $n --seed 1
    done
    # The same programs through the JIT, every block translated and
    # checked against the interpreter (-d jitcheck): 3 x 70,000 blocks.
    for mode in real prot32 long64; do
        run_suite "diff-jitcheck/$mode" build/tests/diff/diff_unicorn --mode $mode --count 1 --seed 1 --jitcheck 70000
    done
fi
# Vireo's x87 against the host's own and Unicorn's (tests/diff/x87,
# docs/difftest.md).
if [ -x build/tests/diff/x87_host ]; then
    run_suite "diff/x87" build/tests/diff/x87_host --count "$([ -n "$VIREO_LONG" ] && echo 5000000 || echo 200000)" --seed 1
fi
# MMX and SSE integer instructions against the host CPU and Unicorn
# (tests/diff/simd_int).
if [ -x build/tests/diff/simd_int_host ]; then
    run_suite "diff/simd_int" build/tests/diff/simd_int_host --count "$([ -n "$VIREO_LONG" ] && echo 5000000 || echo 200000)" --seed 1
fi
# SSE floating point against the host CPU and Unicorn (tests/diff/sse,
# docs/difftest.md).
if [ -x build/tests/diff/sse_host ]; then
    run_suite "diff/sse" build/tests/diff/sse_host --count "$([ -n "$VIREO_LONG" ] && echo 5000000 || echo 200000)" --seed 1
fi
if [ -f tests/asm/run.sh ]; then
    run_suite "asm" sh tests/asm/run.sh
    run_suite_jit_off "asm" sh tests/asm/run.sh
fi
for t in tests/guest/*.sh; do
    [ -f "$t" ] || continue
    guest=$(basename "$t" .sh)   # not $name: run_suite sets that
    run_suite "guest/$guest" sh "$t"
    # On the interpreter alone too: the quick ones always, the Linux
    # boots (minutes each without the JIT) in the long run.  The
    # determinism test compares the two modes itself.
    case $guest in
    seabios|bootdisk|acpi|memtest) run_suite_jit_off "guest/$guest" sh "$t";;
    determinism) ;;
    *) [ -n "${VIREO_LONG:-}" ] && run_suite_jit_off "guest/$guest" sh "$t";;
    esac
done

if [ -n "${VIREO_LONG:-}" ]; then
    run_suite "cross/aarch64" sh tests/cross/aarch64.sh
    # The x87 and SIMD harnesses built for AArch64: Vireo's results must
    # hash the same as on this host (the script prints its verdict).
    for h in x87 sse simd_int; do
        run_suite "cross/$h" sh tests/diff/hostlib/cross/aarch64.sh "$h"
    done
fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

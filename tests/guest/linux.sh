#!/bin/sh
# Guest test: Debian's kernel boots directly (-kernel/-initrd/-append, no
# BIOS) with the busybox initramfs of images/build.sh, and answers on its
# serial console:
#   uname -r                    the release of the kernel package used
#   grep -c processor           1
#   the flags line              fpu and x86-64-v2 (sse ... popcnt cx16)
#   sha256sum of 8 MiB zeros    the host's answer
#   dmesg | grep panic|BUG|warning|error
#                               nothing that QEMU, run the same way, does
#                               not also print (timestamps removed)
# then `poweroff -f` must end Vireo with exit status 0 (ACPI S5).
#
# QEMU TCG runs the same command line and the same script, for the dmesg
# comparison and for its boot time.  Boot times (process start to the
# shell prompt) are printed as information, never checked.
# Prints one line per check and "N passed, N failed".
set -u
VIREO=${VIREO:-build/vireo}
CONSOLE=build/tests/guest/console
IMG=build/images
OUT=build/tests/guest/linux
APPEND="console=ttyS0"
# Generous: the interpreter is far slower than QEMU's JIT.
VIREO_BOOT_SECS=${VIREO_BOOT_SECS:-900}
QEMU_BOOT_SECS=${QEMU_BOOT_SECS:-300}
mkdir -p "$OUT"
pass=0
fail=0

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1${2:+: $2}"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

for f in "$IMG/vmlinuz" "$IMG/initramfs.cpio.gz" "$IMG/kernel-release" "$CONSOLE" "$VIREO"; do
    if [ ! -s "$f" ]; then
        not_ok "prerequisites" "$f is missing (make images; make test builds it)"
        finish
    fi
done

# The commands, each between two markers that only its output contains
# (the echoed command line has the quotes).
COMMANDS='dmesg -n 1
uname -r
grep -c processor /proc/cpuinfo
grep -m 1 ^flags /proc/cpuinfo
dd if=/dev/zero bs=1M count=8 2>/dev/null | sha256sum
dmesg | grep -i -E "panic|BUG|warning|error"'

# write_script BOOT_SECS: the console script for one run (printf, not
# echo: dash's echo would turn the "\n" escapes into line breaks).
write_script() {
    printf '%s\n' "expect $1 vireo-initramfs: ready" "expect 120 vireo#" "time prompt"
    n=0
    printf '%s\n' "$COMMANDS" | while IFS= read -r cmd; do
        n=$((n + 1))
        printf 'send echo @@"B"%s; %s; echo @@"E"%s\\n\n' "$n" "$cmd" "$n"
        printf 'expect 300 @@E%s\n' "$n"
        printf 'expect 60 vireo#\n'
    done
    printf '%s\n' 'send poweroff -f\n' "exit 120"
}

# run NAME BOOT_SECS PROGRAM ARGS...: drive one machine; its console
# output goes to $OUT/NAME.log, the driver's report to $OUT/NAME.out.
run() {
    name=$1 secs=$2
    shift 2
    write_script "$secs" >"$OUT/$name.script"
    "$CONSOLE" -l "$OUT/$name.log" "$OUT/$name.script" -- "$@" >"$OUT/$name.out" 2>&1
    echo "$name: $(tr '\n' ';' <"$OUT/$name.out")"
}

# answer NAME N: the output lines of command N, without CRs and escapes.
answer() {
    tr -d '\r' <"$OUT/$1.log" | sed 's/\x1b\[[0-9;]*[a-zA-Z]//g' |
        awk -v b="@@B$2" -v e="@@E$2" '$0 == e { on = 0 } on { print } $0 == b { on = 1 }'
}

boot_time() {
    sed -n 's/^time prompt //p' "$OUT/$1.out"
}

run vireo "$VIREO_BOOT_SECS" "$VIREO" -m 512 -nographic -kernel "$IMG/vmlinuz" \
    -initrd "$IMG/initramfs.cpio.gz" -append "$APPEND"
run qemu "$QEMU_BOOT_SECS" qemu-system-x86_64 -accel tcg -m 512 -nographic \
    -kernel "$IMG/vmlinuz" -initrd "$IMG/initramfs.cpio.gz" -append "$APPEND" -no-reboot

vt=$(boot_time vireo)
qt=$(boot_time qemu)
echo "boot time to the shell prompt: vireo ${vt:-none}s, qemu tcg ${qt:-none}s (information only)"

if [ -z "$vt" ]; then
    # Say how far it got: the last kernel lines.
    not_ok "vireo boots to the shell" "$(head -n 1 "$OUT/vireo.out"); last output:"
    tr -d '\r' <"$OUT/vireo.log" | tail -n 15 | sed 's/^/    /'
    finish
fi
ok "vireo boots to the shell in ${vt}s"

release=$(cat "$IMG/kernel-release")
got=$(answer vireo 2)
if [ "$got" = "$release" ]; then ok "uname -r is $release"; else not_ok "uname -r" "got '$got', expected '$release'"; fi

got=$(answer vireo 3)
if [ "$got" = "1" ]; then ok "one processor"; else not_ok "grep -c processor" "got '$got', expected 1"; fi

flags=$(answer vireo 4)
missing=""
for f in fpu sse sse2 pni ssse3 sse4_1 sse4_2 popcnt cx16; do
    case " ${flags#*:} " in *" $f "*) ;; *) missing="$missing $f" ;; esac
done
if [ -n "$flags" ] && [ -z "$missing" ]; then
    ok "cpu flags include fpu and x86-64-v2"
else
    not_ok "cpu flags" "missing:$missing (flags: $flags)"
fi

want=$(dd if=/dev/zero bs=1M count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
got=$(answer vireo 5 | cut -d' ' -f1)
if [ "$got" = "$want" ]; then ok "sha256 of 8 MiB of zeros"; else not_ok "sha256sum" "got '$got', expected '$want'"; fi

# dmesg complaints: each must also be QEMU's (same text after the time).
strip_time() { sed 's/^\[ *[0-9]*\.[0-9]*\] *//'; }
answer vireo 6 | strip_time >"$OUT/vireo.dmesg"
answer qemu 6 | strip_time >"$OUT/qemu.dmesg"
if [ -z "$qt" ]; then
    not_ok "dmesg compared with QEMU" "QEMU did not reach its prompt: $(head -n 1 "$OUT/qemu.out")"
else
    extra=$(grep -v -x -F -f "$OUT/qemu.dmesg" "$OUT/vireo.dmesg")
    [ -s "$OUT/qemu.dmesg" ] || extra=$(cat "$OUT/vireo.dmesg")
    if [ -z "$extra" ]; then
        ok "dmesg has no panic/BUG/warning/error lines that QEMU lacks ($(wc -l <"$OUT/vireo.dmesg") shared)"
    else
        not_ok "dmesg has panic/BUG/warning/error lines that QEMU lacks"
        echo "$extra" | sed 's/^/    /'
    fi
fi

status=$(sed -n 's/^exit //p' "$OUT/vireo.out")
if [ "$status" = "0" ]; then
    ok "poweroff -f ends vireo with status 0"
else
    not_ok "poweroff" "vireo: $(tail -n 1 "$OUT/vireo.out")"
fi
finish

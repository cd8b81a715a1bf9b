#!/bin/sh
# Command-line behaviour of the real binary, build/vireo: a bad command line
# exits with status 2 and prints exactly one line, starting "vireo: ", on
# stderr and nothing on stdout; --help and --version exit 0.  None of these
# cases builds a machine.  Ends with "N passed, N failed".
cd "$(dirname "$0")/../.." || exit 1
VIREO=${VIREO:-build/vireo}   # overridable, to test another build
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1: $2"; }

# bad_usage DESCRIPTION ARGS...: status 2, one "vireo: " line on stderr.
bad_usage() {
    desc=$1; shift
    "$VIREO" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
    lines=$(wc -l <"$TMP/err")
    first=$(head -n 1 "$TMP/err")
    if [ "$status" -ne 2 ]; then
        not_ok "$desc" "exit status $status, expected 2"
    elif [ "$lines" -ne 1 ] || [ -n "$(tail -c 1 "$TMP/err")" ]; then
        not_ok "$desc" "stderr is not exactly one line: $(tr "\n" "|" <"$TMP/err")"
    elif [ "${first#vireo: }" = "$first" ]; then
        not_ok "$desc" "stderr does not start with 'vireo: ': $first"
    elif [ -s "$TMP/out" ]; then
        not_ok "$desc" "unexpected stdout: $(head -n 1 "$TMP/out")"
    else
        ok "$desc ($first)"
    fi
}

# setup_error DESCRIPTION TEXT ARGS...: the command line is fine but the
# machine cannot be built: status 1, one "vireo: " line containing TEXT.
setup_error() {
    desc=$1; text=$2; shift 2
    "$VIREO" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
    first=$(head -n 1 "$TMP/err")
    if [ "$status" -ne 1 ]; then
        not_ok "$desc" "exit status $status, expected 1"
    elif [ "$(wc -l <"$TMP/err")" -ne 1 ] || [ "${first#vireo: }" = "$first" ]; then
        not_ok "$desc" "stderr is not one 'vireo: ' line: $(tr "\n" "|" <"$TMP/err")"
    elif ! grep -q -F -e "$text" "$TMP/err"; then
        not_ok "$desc" "stderr lacks '$text': $first"
    else
        ok "$desc ($first)"
    fi
}

# info DESCRIPTION WORDS ARGS...: status 0, stdout mentions every word
# of the space-separated list WORDS.
info() {
    desc=$1; words=$2; shift 2
    "$VIREO" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    status=$?
    missing=""
    for w in $words; do
        grep -q -e "$w" "$TMP/out" || missing="$missing $w"
    done
    if [ "$status" -ne 0 ]; then
        not_ok "$desc" "exit status $status, expected 0"
    elif [ -n "$missing" ]; then
        not_ok "$desc" "output lacks:$missing"
    elif [ -s "$TMP/err" ]; then
        not_ok "$desc" "unexpected stderr: $(head -n 1 "$TMP/err")"
    else
        ok "$desc"
    fi
}

if [ ! -x "$VIREO" ]; then
    not_ok "$VIREO exists" "not built (run make)"
    echo "$passed passed, $failed failed"
    exit 1
fi

bad_usage "-m abc" -m abc
bad_usage "-m 0" -m 0
bad_usage "unknown option -foo" -foo
bad_usage "unknown option --foo" --foo
bad_usage "-d bogus" -d bogus
bad_usage "-smp 2" -smp 2
bad_usage "-drive media=cdrom,if=virtio" -drive file=x.iso,media=cdrom,if=virtio
bad_usage "-initrd x without -kernel" -initrd x
bad_usage "-append x without -kernel" -append x
bad_usage "-drive format=vmdk,file=x" -drive format=vmdk,file=x
bad_usage "-drive without file=" -drive format=raw
bad_usage "-accel bogus" -accel bogus
bad_usage "-accel kvm" -accel kvm
bad_usage "-accel tcg,jit=maybe" -accel tcg,jit=maybe
bad_usage "-serial bogus" -serial bogus
bad_usage "-display sdl" -display sdl
bad_usage "-M q35" -M q35
bad_usage "missing argument" -m
bad_usage "missing argument after others" -nographic -serial
bad_usage "stray argument" disk.img
bad_usage "newline in argument" -m "$(printf 'a\nb')"
bad_usage "-D into a missing directory" -D "$TMP/no/such/dir/log"

# -kernel: the file is read when the machine is built (machine/linux_boot.c).
printf 'not a kernel' >"$TMP/notkernel"
head -c 8192 /dev/zero >"$TMP/zeros"
setup_error "-kernel missing file" "-kernel: cannot open '$TMP/missing'" -kernel "$TMP/missing"
setup_error "-kernel not a bzImage" "is not a Linux bzImage" -kernel "$TMP/notkernel"
setup_error "-kernel zeros" "is not a Linux bzImage" -kernel "$TMP/zeros"
setup_error "-kernel a directory" "is not a regular file" -kernel "$TMP"
# A setup header of protocol 2.04 (boot flag 0xAA55 at 0x1FE, "HdrS" at
# 0x202, the version at 0x206).
cp "$TMP/zeros" "$TMP/old"
printf '\125\252' | dd of="$TMP/old" bs=1 seek=510 conv=notrunc 2>/dev/null
printf 'HdrS\004\002' | dd of="$TMP/old" bs=1 seek=514 conv=notrunc 2>/dev/null
setup_error "-kernel protocol 2.04" "boot protocol 2.04; 2.06 or newer" -kernel "$TMP/old"
if [ -s build/images/vmlinuz ]; then
    setup_error "-initrd missing file" "-initrd: cannot open '$TMP/missing'" \
        -kernel build/images/vmlinuz -initrd "$TMP/missing"
    head -c $((200 << 20)) /dev/zero >"$TMP/big.img" 2>/dev/null
    setup_error "-initrd too large for -m" "does not fit in guest RAM" \
        -m 128 -kernel build/images/vmlinuz -initrd "$TMP/big.img"
    setup_error "-kernel needs more RAM than -m" "try a larger -m" \
        -m 16 -kernel build/images/vmlinuz
fi

# Disk images are opened when the machine is built (machine/block.c): a
# missing file, a wrong format and a corrupt header each name the file.
printf 'QFI\373' >"$TMP/short.qcow2"
head -c 4096 /dev/zero >"$TMP/zero.img"
setup_error "-hda missing file" "$TMP/missing.img: No such file or directory" \
    -hda "$TMP/missing.img"
setup_error "-cdrom missing file" "$TMP/missing.iso: No such file or directory" \
    -cdrom "$TMP/missing.iso"
setup_error "-drive truncated qcow2 header" "$TMP/short.qcow2" \
    -drive "file=$TMP/short.qcow2,format=qcow2"
setup_error "-drive format=qcow2 on a raw image" "$TMP/zero.img" \
    -drive "file=$TMP/zero.img,format=qcow2,if=virtio"

info "--help" "-m -kernel -serial -drive -accel -nographic -display not.implemented" --help
info "-h" "-m -kernel -serial" -h
info "-help" "-m -kernel -serial" -help
info "--version" "vireo" --version
info "-version" "vireo" -version
info "-d help" "int unimp guest_errors" -d help

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

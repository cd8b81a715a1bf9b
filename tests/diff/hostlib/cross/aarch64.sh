#!/bin/sh
# A host-CPU harness on AArch64: build it with gcc-aarch64-linux-gnu, run it
# under qemu-aarch64-static (Vireo alone: there is no x86 reference there,
# neither the host CPU nor Unicorn) and check that its digest of Vireo's
# results equals the native x86-64 build's, which make test compares with
# the host CPU and Unicorn.  Equal digests mean Vireo's results are the
# same, bit for bit, on both hosts (see docs/difftest.md).
#
#   sh tests/diff/hostlib/cross/aarch64.sh x87|simd_int|sse [COUNT] [SEED]
#
# Needs: tests/deps.sh --cross (gcc-aarch64-linux-gnu, qemu-user-static),
# and build/tests/diff/<harness>_host (make build/tests/diff/x87_host ...).
# Capstone is not installed for arm64, and the harnesses never
# disassemble: disas_stub.c stands in for cpu/disas.c.  Ends with
# "N passed, M failed".
set -e
h=$1
count=${2:-200000}
seed=${3:-1}
if [ ! -d "tests/diff/$h" ] || [ -z "$h" ]; then
    echo "usage: sh tests/diff/hostlib/cross/aarch64.sh x87|simd_int|sse [COUNT] [SEED]"
    echo "0 passed, 1 failed"
    exit 1
fi
CC=aarch64-linux-gnu-gcc
for tool in $CC qemu-aarch64-static; do
    if ! command -v $tool >/dev/null; then
        echo "aarch64.sh: $tool is missing"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
out=build/tests/diff/aarch64
mkdir -p $out
srcs=$(ls cpu/*.c cpu/fpu/*.c cpu/sse/*.c jit/*.c mmu/*.c util/*.c | grep -v '^cpu/disas\.c$')
$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -O2 -I. \
    -static -o $out/${h}_host $srcs tests/diff/$h/*.c tests/diff/hostlib/*.c \
    tests/diff/hostlib/cross/disas_stub.c -lpthread -lm
arm=$(qemu-aarch64-static $out/${h}_host --count "$count" --seed "$seed" | grep 'vireo digest')
x86=$(build/tests/diff/${h}_host --vireo-only --count "$count" --seed "$seed" | grep 'vireo digest')
echo "aarch64: $arm"
echo "x86-64:  $x86"
if [ -n "$arm" ] && [ "$arm" = "$x86" ]; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
    exit 1
fi

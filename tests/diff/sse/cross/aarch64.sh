#!/bin/sh
# The SSE floating-point harness on AArch64: build it with
# gcc-aarch64-linux-gnu, run it under qemu-aarch64-static (Vireo alone:
# there is no x86 reference there) and check that its digest of Vireo's
# results equals the digest of the native x86-64 build, which make test
# compares with the host CPU.  Equal digests mean the softfloat gave the
# same bits on both hosts for every instruction (see docs/difftest.md).
#
#   sh tests/diff/sse/cross/aarch64.sh [COUNT] [SEED]
#
# Needs: apt-get install gcc-aarch64-linux-gnu qemu-user-static, and
# build/tests/diff/sse_host (make build/tests/diff/sse_host).
# Ends with "N passed, M failed".
set -e
count=${1:-100000}
seed=${2:-1}
CC=aarch64-linux-gnu-gcc
for tool in $CC qemu-aarch64-static; do
    if ! command -v $tool >/dev/null; then
        echo "aarch64.sh: $tool is missing"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
out=build/tests/diff/aarch64-sse
mkdir -p $out
srcs=$(ls cpu/*.c cpu/fpu/*.c cpu/sse/*.c mmu/*.c util/*.c | grep -v '^cpu/disas\.c$')
$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -O2 -I. \
    -static -o $out/sse_host $srcs tests/diff/sse/*.c \
    tests/diff/sse/cross/disas_stub.c -lpthread -lm
arm=$(qemu-aarch64-static $out/sse_host --count "$count" --seed "$seed" | grep 'vireo digest')
x86=$(build/tests/diff/sse_host --vireo-only --count "$count" --seed "$seed" | grep 'vireo digest')
echo "aarch64: $arm"
echo "x86-64:  $x86"
if [ -n "$arm" ] && [ "$arm" = "$x86" ]; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
    exit 1
fi

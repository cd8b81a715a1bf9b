#!/bin/sh
# The MMX/SSE integer harness on AArch64: build it with gcc-aarch64-linux-gnu,
# run it under qemu-aarch64-static (Vireo alone: there is no x86 reference
# there) and check that its digest of Vireo's results equals the digest of
# the native x86-64 build, which make test compares with the host CPU.
# Identical digests mean identical results, bit for bit, on both hosts.
#
#   sh tests/diff/simd_int/cross/aarch64.sh [COUNT] [SEED]
#
# Needs: apt-get install gcc-aarch64-linux-gnu qemu-user-static, and
# build/tests/diff/simd_int_host (make build/tests/diff/simd_int_host).
# Capstone is not installed for arm64, and the harness never disassembles:
# disas_stub.c stands in for cpu/disas.c.  Ends with "N passed, M failed".
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
out=build/tests/diff/aarch64
mkdir -p $out
srcs=$(ls cpu/*.c cpu/fpu/*.c cpu/sse/*.c mmu/*.c util/*.c | grep -v '^cpu/disas\.c$')
$CC -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -O2 -I. \
    -static -o $out/simd_int_host $srcs tests/diff/simd_int/*.c \
    tests/diff/simd_int/cross/disas_stub.c -lpthread -lm
arm=$(qemu-aarch64-static $out/simd_int_host --count "$count" --seed "$seed" | grep 'vireo digest')
x86=$(build/tests/diff/simd_int_host --vireo-only --count "$count" --seed "$seed" | grep 'vireo digest')
echo "aarch64: $arm"
echo "x86-64:  $x86"
if [ -n "$arm" ] && [ "$arm" = "$x86" ]; then
    echo "1 passed, 0 failed"
else
    echo "0 passed, 1 failed"
    exit 1
fi

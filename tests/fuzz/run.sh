#!/bin/sh
# Fuzz the qcow2 driver (tests/fuzz/qcow2_fuzz.c) from seed images that
# qemu-img makes: versions 2 and 3, small clusters, 1-bit refcounts, zero,
# compressed (deflate, zstd) clusters, a backing file, an internal snapshot.
#
#   make test        the standalone mutator under ASan, 20,000 images
#   make check-long  the same, 200,000 images, then libFuzzer for
#                    VIREO_FUZZ_SECONDS (default 180)
# Prints "N passed, N failed" for tests/run.sh.
set -e
top=$(pwd)
seeds=$(mktemp -d "${TMPDIR:-/tmp}/vireo-fuzz-seeds.XXXXXX")
trap '[ -n "${KEEP_SEEDS:-}" ] || rm -rf "$seeds"' EXIT

(
    cd "$seeds"
    q() { qemu-img "$@" >/dev/null; }
    io() { qemu-io "$@" >/dev/null; }
    q create -f qcow2 -o cluster_size=512 v3.qcow2 1M
    io -c 'write -P 0x11 0 8k' -c 'write -z 16k 4k' -c 'write -P 0x22 600k 3k' v3.qcow2
    q create -f qcow2 -o compat=0.10,cluster_size=512 v2.qcow2 1M
    io -c 'write -P 0x33 1k 6k' v2.qcow2
    q create -f qcow2 -o cluster_size=1024,refcount_bits=1 r1.qcow2 512k
    io -c 'write -P 0x44 0 5k' r1.qcow2
    q create -f qcow2 -o cluster_size=512 -b "$seeds/v2.qcow2" -F qcow2 b.qcow2
    io -c 'write -P 0x55 2k 2k' b.qcow2
    q create -f qcow2 -o cluster_size=512 s.qcow2 256k
    io -c 'write -P 0x66 0 4k' s.qcow2
    q snapshot -c one s.qcow2
    io -c 'write -P 0x67 1k 1k' s.qcow2
    head -c 65536 /dev/zero | tr '\0' 'x' > text.raw
    q convert -c -O qcow2 -o cluster_size=4096 text.raw c.qcow2
    if qemu-img create -f qcow2 -o compression_type=zstd z0.qcow2 1M >/dev/null 2>&1; then
        q convert -c -O qcow2 -o cluster_size=4096,compression_type=zstd text.raw z.qcow2
    fi
    rm -f z0.qcow2 text.raw
)

status=0
n=20000
[ -n "${VIREO_LONG:-}" ] && n=200000
ASAN_OPTIONS=detect_leaks=1 "$top/build/tests/fuzz/qcow2_fuzz" "$n" "$seeds"/*.qcow2 || status=$?

if [ "$status" -eq 0 ] && [ -n "${VIREO_LONG:-}" ]; then
    if [ -x "$top/build/tests/fuzz/qcow2_libfuzzer" ]; then
        mkdir "$seeds/corpus"
        cp "$seeds"/*.qcow2 "$seeds/corpus/"
        mkdir -p "$top/build/test-logs"
        "$top/build/tests/fuzz/qcow2_libfuzzer" -max_total_time="${VIREO_FUZZ_SECONDS:-180}" \
            -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$top/build/test-logs/qcow2-fuzz-" "$seeds/corpus" || status=$?
        [ "$status" -eq 0 ] && echo "libfuzzer: 1 passed, 0 failed"
    else
        echo "qcow2_libfuzzer not built (clang missing?)" >&2
        status=1
    fi
fi
exit "$status"

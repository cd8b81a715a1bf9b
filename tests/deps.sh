#!/bin/sh
# Install the Debian packages Vireo needs, only those that are missing.
# Quick when everything is present: one dpkg-query, no apt call.
set -e
PKGS="build-essential pkg-config zlib1g-dev
libcapstone-dev libxxhash-dev libsdl2-dev libslirp-dev libcriterion-dev libzstd-dev nasm seabios
qemu-system-x86 libunicorn-dev busybox-static cpio grub-pc-bin xorriso mtools
acpica-tools gzip memtest86+ qemu-utils e2fsprogs xz-utils zstd"

# --cross: also what check-long needs: the AArch64 portability check, and
# clang for the libFuzzer build of tests/fuzz.
if [ "${1:-}" = "--cross" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        [ "$(id -u)" -ne 0 ] && SUDO_ARCH="sudo" || SUDO_ARCH=""
        $SUDO_ARCH dpkg --add-architecture arm64
        $SUDO_ARCH apt-get update -qq
    fi
    PKGS="$PKGS gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
libcapstone-dev:arm64 libxxhash-dev:arm64 libzstd-dev:arm64 zlib1g-dev:arm64 clang"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing

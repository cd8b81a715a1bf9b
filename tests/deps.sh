#!/bin/sh
# Install the Debian packages Vireo needs, only those that are missing.
# Quick when everything is present: one dpkg-query, no apt call.
set -e
PKGS="build-essential pkg-config zlib1g-dev
libcapstone-dev libxxhash-dev libsdl2-dev libslirp-dev libcriterion-dev libzstd-dev nasm seabios
qemu-system-x86 libunicorn-dev busybox-static cpio grub-pc-bin xorriso mtools"

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

#!/bin/sh
# Build the default guest from Debian packages: the current Debian kernel
# (whatever linux-image-amd64 depends on today) and a busybox initramfs.
#
#   build/images/vmlinuz              the kernel, a bzImage
#   build/images/kernel-release       its release string (what uname -r says)
#   build/images/initramfs.cpio.gz    busybox-static, /init from images/init,
#                                     /etc/inittab and /etc/profile from images/
#
# Only Debian's archive is used, through apt.  The kernel's version is
# resolved again on every run (never pinned), the downloaded .deb is kept in
# build/images/ so that a later run downloads nothing when the version has
# not changed, and nothing is rebuilt when the inputs are older than the
# outputs.  Needs dpkg-deb, cpio, gzip and busybox-static (tests/deps.sh).
set -eu
cd "$(dirname "$0")/.."
OUT=build/images
mkdir -p "$OUT"

# linux-image-amd64 is a metapackage: its Depends names the concrete
# linux-image-<abi>-amd64 package.  apt-cache needs the package lists: an
# empty answer means they were never fetched, so fetch them once.
resolve_kernel() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}
pkg=$(resolve_kernel)
if [ -z "$pkg" ]; then
    echo "images: apt-get update (no package lists yet)"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    pkg=$(resolve_kernel)
fi
if [ -z "$pkg" ]; then
    # Offline with a kernel already built: keep using it.
    if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/kernel-release" ]; then
        echo "images: cannot resolve linux-image-amd64; keeping $(cat "$OUT/kernel-release")" >&2
    else
        echo "images: cannot resolve linux-image-amd64 to a kernel package (apt-cache depends)" >&2
        exit 1
    fi
else
    version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
    deb_glob="$OUT/${pkg}_*.deb"
    deb=""
    for f in $deb_glob; do
        [ -f "$f" ] || continue
        # apt-get download names the file with the version, ':' as %3a.
        case "$f" in *"_$(echo "$version" | sed 's/:/%3a/')_amd64.deb") deb=$f ;; esac
    done
    if [ -z "$deb" ]; then
        echo "images: downloading $pkg $version"
        rm -f $deb_glob
        # As root, apt would warn that its _apt sandbox user cannot write here.
        sandbox=""
        [ "$(id -u)" -eq 0 ] && sandbox="-o APT::Sandbox::User=root"
        (cd "$OUT" && apt-get download -q $sandbox "$pkg=$version" >/dev/null)
        for f in $deb_glob; do deb=$f; done
        [ -f "$deb" ] || { echo "images: apt-get download $pkg produced no .deb" >&2; exit 1; }
    fi
    release=${pkg#linux-image-}
    if [ ! -s "$OUT/vmlinuz" ] || [ "$deb" -nt "$OUT/vmlinuz" ] ||
       [ "$(cat "$OUT/kernel-release" 2>/dev/null)" != "$release" ]; then
        echo "images: extracting vmlinuz-$release from $(basename "$deb")"
        rm -rf "$OUT/kernel-root"
        dpkg-deb -x "$deb" "$OUT/kernel-root"
        cp "$OUT/kernel-root/boot/vmlinuz-$release" "$OUT/vmlinuz.tmp"
        rm -rf "$OUT/kernel-root"
        mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
        echo "$release" >"$OUT/kernel-release"
    fi
fi

# The initramfs: busybox and /init; the kernel's built-in 8250 driver gives
# ttyS0, so no modules are needed.
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
    echo "images: $busybox (busybox-static) is missing" >&2
    exit 1
fi
initrd="$OUT/initramfs.cpio.gz"
stale=""
for f in images/init images/inittab images/profile images/build.sh "$busybox"; do
    [ "$f" -nt "$initrd" ] && stale=1
done
if [ ! -s "$initrd" ] || [ -n "$stale" ]; then
    echo "images: building $initrd"
    root="$OUT/initramfs-root"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
             "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/etc"
    cp "$busybox" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    cp images/init "$root/init"
    cp images/inittab "$root/etc/inittab"
    cp images/profile "$root/etc/profile"
    chmod 755 "$root/init" "$root/bin/busybox"
    chmod 644 "$root/etc/inittab" "$root/etc/profile"
    # Reproducible: fixed order and timestamps, root-owned entries.
    find "$root" -exec touch -h -d @0 {} +
    (cd "$root" && find . -print | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --quiet) | gzip -n -9 >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$root"
fi
echo "images: kernel $(cat "$OUT/kernel-release"), $(basename "$initrd") ready"

#!/bin/sh
# Build the default guest from Debian packages: the current Debian kernel
# (whatever linux-image-amd64 depends on today), a busybox initramfs, a
# bootable ISO of the two and a data disk.
#
#   build/images/vmlinuz              the kernel, a bzImage
#   build/images/kernel-release       its release string (what uname -r says)
#   build/images/modules/             the kernel modules of images/modules and
#                                     their dependencies, from the same package
#   build/images/initramfs.cpio.gz    busybox-static, /init from images/init,
#                                     /etc/inittab and /etc/profile from images/,
#                                     the modules (/init loads them)
#   build/images/linux.iso            BIOS-bootable (El Torito) ISO made by
#                                     grub-mkrescue: GRUB on the serial port
#                                     (images/grub.cfg), the kernel, the initramfs
#   build/images/data.ext4            a 48 MiB ext4 file system holding
#                                     /seq.txt, the output of `seq 1 100000`
#
# Only Debian's archive is used, through apt.  The kernel's version is
# resolved again on every run (never pinned), the downloaded .deb is kept in
# build/images/ so that a later run downloads nothing when the version has
# not changed, and nothing is rebuilt when the inputs are older than the
# outputs.  Needs dpkg-deb, cpio, gzip, busybox-static, grub-pc-bin, xorriso
# and e2fsprogs (tests/deps.sh).
set -eu
cd "$(dirname "$0")/.."
OUT=build/images
mkdir -p "$OUT"

busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
    echo "images: $busybox (busybox-static) is missing" >&2
    exit 1
fi

# copy_modules ROOT RELEASE: the modules named in images/modules and all
# they depend on, from the package unpacked at ROOT into $OUT/modules, with
# a modules.dep of their own for the guest's modprobe and the list /init
# loads (etc/modules).  Compressed modules are stored decompressed, so the
# guest's modprobe needs no decompressor, and without their signatures:
# checking them costs an emulated boot tens of seconds of CPU (SHA-256 and
# RSA), while an unsigned module only taints the kernel (Debian does not
# force signatures).  strip rewrites the ELF file without what follows it,
# which is where the signature is appended.
copy_modules() {
    src=$1/lib/modules/$2
    tmp=$OUT/modules.tmp
    dst=$tmp/lib/modules/$2
    rm -rf "$tmp"
    mkdir -p "$dst" "$tmp/etc"
    # The package ships no modules.dep (its postinst runs depmod).
    "$busybox" depmod -b "$1" "$2"
    for m in $(sed 's/#.*//' images/modules); do
        if grep -q "/$m\.ko" "$src/modules.builtin"; then
            echo "images: module $m is built into $2"
            continue
        fi
        # A modules.dep line is "PATH: DEPENDENCIES", every dependency
        # direct or not; module names spell - and _ alike.
        line=$(awk -v m="$m" '{
                n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?:$/, "", n)
                gsub(/-/, "_", n); w = m; gsub(/-/, "_", w)
                if (n == w) { sub(/:/, ""); print; exit }
            }' "$src/modules.dep")
        if [ -z "$line" ]; then
            echo "images: module $m is not in linux-image-$2" >&2
            exit 1
        fi
        for p in $line; do
            mkdir -p "$dst/$(dirname "$p")"
            ko=$dst/${p%.ko*}.ko
            case "$p" in
                *.ko.xz)  xz -dc "$src/$p" >"$ko" ;;
                *.ko.zst) zstd -qdc "$src/$p" >"$ko" ;;
                *)        cp "$src/$p" "$ko" ;;
            esac
            strip --strip-debug "$ko"
        done
        echo "$m" >>"$tmp/etc/modules"
    done
    "$busybox" depmod -b "$tmp" "$2"
    rm -rf "$OUT/modules"
    mv "$tmp" "$OUT/modules"
}

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
    if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/kernel-release" ] && [ -s "$OUT/modules/etc/modules" ]; then
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
       [ "$(cat "$OUT/kernel-release" 2>/dev/null)" != "$release" ] ||
       [ ! -s "$OUT/modules/etc/modules" ] || [ images/modules -nt "$OUT/modules/etc/modules" ] ||
       [ images/build.sh -nt "$OUT/modules/etc/modules" ]; then
        echo "images: extracting vmlinuz-$release and modules from $(basename "$deb")"
        rm -rf "$OUT/kernel-root"
        dpkg-deb -x "$deb" "$OUT/kernel-root"
        cp "$OUT/kernel-root/boot/vmlinuz-$release" "$OUT/vmlinuz.tmp"
        copy_modules "$OUT/kernel-root" "$release"
        rm -rf "$OUT/kernel-root"
        mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
        echo "$release" >"$OUT/kernel-release"
    fi
fi

# The initramfs: busybox, /init and the disk modules (the kernel's built-in
# 8250 driver gives ttyS0 without any).
initrd="$OUT/initramfs.cpio.gz"
stale=""
for f in images/init images/inittab images/profile images/build.sh "$busybox" \
         "$OUT/modules/etc/modules"; do
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
    cp -R "$OUT/modules/." "$root/"
    # Reproducible: fixed order and timestamps, root-owned entries.
    find "$root" -exec touch -h -d @0 {} +
    (cd "$root" && find . -print | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --quiet) | gzip -n -9 >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$root"
fi

# The ISO: GRUB for BIOS (grub-pc-bin) booting from CD, the kernel and the
# initramfs.  No fonts, locales or themes: GRUB talks on the serial port.
iso="$OUT/linux.iso"
stale=""
for f in "$OUT/vmlinuz" "$initrd" images/grub.cfg images/build.sh; do
    [ "$f" -nt "$iso" ] && stale=1
done
if [ ! -s "$iso" ] || [ -n "$stale" ]; then
    echo "images: building $iso"
    root="$OUT/iso-root"
    rm -rf "$root"
    mkdir -p "$root/boot/grub"
    cp "$OUT/vmlinuz" "$initrd" "$root/boot/"
    cp images/grub.cfg "$root/boot/grub/grub.cfg"
    # Quiet unless it fails: xorriso reports every step on stderr.
    if ! grub-mkrescue --fonts= --locales= --themes= -o "$iso.tmp" "$root" >"$OUT/iso.log" 2>&1; then
        cat "$OUT/iso.log" >&2
        echo "images: grub-mkrescue failed (grub-pc-bin, xorriso and mtools are needed)" >&2
        exit 1
    fi
    mv "$iso.tmp" "$iso"
    rm -rf "$root" "$OUT/iso.log"
fi

# The data disk: ext4 (mkfs.ext4 -d) seeded with a file whose content the
# tests know without reading it back: `seq 1 100000`.
data="$OUT/data.ext4"
if [ ! -s "$data" ] || [ images/build.sh -nt "$data" ]; then
    echo "images: building $data"
    root="$OUT/data-root"
    rm -rf "$root" "$data.tmp"
    mkdir -p "$root"
    seq 1 100000 >"$root/seq.txt"
    mkfs.ext4 -q -F -L vireo-data -E root_owner=0:0 -d "$root" "$data.tmp" 48M >/dev/null
    mv "$data.tmp" "$data"
    rm -rf "$root"
fi
echo "images: kernel $(cat "$OUT/kernel-release"), $(basename "$initrd"), $(basename "$iso"), $(basename "$data") ready"

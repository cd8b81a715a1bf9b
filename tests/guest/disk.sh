#!/bin/sh
# Guest test: disks.  Debian's kernel (booted with -kernel, its crypto
# self-tests skipped) writes and reads ext4 files and raw sectors on qcow2
# and raw images through virtio-blk and IDE; the host checks the images
# with its own tools.  What the guest writes are copies of kernel modules
# from its initramfs, so the host knows their sha256 from its own copies
# (build/images/modules/), and the seeded /seq.txt of data.ext4 is
# `seq 1 100000`.  (Generating data in the guest is slow: busybox seq
# formats with floating point.)  Three boots:
#
#   virtio   vda: qcow2 converted from data.ext4 (qemu-img convert): the
#            seeded file reads right, a new file is written;
#            vdb: qcow2 overlay on a raw copy of data.ext4 (qemu-img
#            create -b): the same, the base must stay unchanged;
#            vdc: an empty qcow2 (qemu-img create): zeros read back, a
#            file is written raw with dd at an offset that is not a
#            multiple of the cluster size.
#   ide      the same three images on IDE (primary master and slave,
#            secondary master), a second process: what the virtio boot
#            wrote reads back right; a new file is written on the first.
#   snapshot -snapshot, a qcow2 on virtio and a raw image as -hda: files
#            written and read back in the guest, both images unchanged
#            afterwards (cmp).
#
# Files written are read back in the same boot after unmounting and
# mounting again.  After each writing boot: qemu-img check finds no errors,
# e2fsck -fn finds a clean file system, and debugfs reads the new files out
# of the image (converted to raw by qemu-img) with the expected sha256.
# The virtio and snapshot boots run side by side, then the ide boot.
# Prints one line per check and "N passed, N failed".
set -u
VIREO=${VIREO:-build/vireo}
IMG=build/images
OUT=build/tests/guest/disk
APPEND="console=ttyS0 cryptomgr.notests"
# Generous: the interpreter is far slower than QEMU's JIT.
BOOT_SECS=${VIREO_BOOT_SECS:-900}
. tests/guest/shell.inc
mkdir -p "$OUT"

need "$IMG/vmlinuz" "$IMG/initramfs.cpio.gz" "$IMG/data.ext4" "$IMG/kernel-release" "$CONSOLE" "$VIREO"
for tool in qemu-img debugfs e2fsck; do
    command -v "$tool" >/dev/null || { not_ok "prerequisites" "$tool is missing (tests/deps.sh)"; finish; }
done

# The files the guest writes: modules, at the same path in the guest's
# root and under build/images/modules/.
KO=lib/modules/$(cat "$IMG/kernel-release")/kernel
VIRTIO_FILE=$KO/fs/ext4/ext4.ko
OVERLAY_FILE=$KO/drivers/ata/libata.ko
RAW_FILE=$KO/drivers/scsi/scsi_mod.ko
IDE_FILE=$KO/fs/jbd2/jbd2.ko
SNAP_FILE=$KO/drivers/cdrom/cdrom.ko
need "$IMG/modules/$VIRTIO_FILE" "$IMG/modules/$OVERLAY_FILE" "$IMG/modules/$RAW_FILE" \
    "$IMG/modules/$IDE_FILE" "$IMG/modules/$SNAP_FILE"
hash_file() { sha256sum <"$1" | cut -d' ' -f1; }
module_hash() { hash_file "$IMG/modules/$1"; }

# The raw file on the empty disk starts at sector 16387, 1.5 KiB into a
# 64 KiB cluster.
RAW_SECTOR=16387
RAW_BYTES=$(stat -c %s "$IMG/modules/$RAW_FILE")
# raw_read DEV: the guest command that hashes the raw file back.
raw_read() {
    echo "dd if=$1 bs=512 skip=$RAW_SECTOR count=$(( (RAW_BYTES + 511) / 512 )) 2>/dev/null | head -c $RAW_BYTES | sha256sum"
}

# linux NAME COMMANDS DRIVE-OPTIONS...: one boot of the default guest.
linux() {
    name=$1 cmds=$2
    shift 2
    boot "$name" "$BOOT_SECS" "$cmds" "$VIREO" -m 512 -nographic -kernel "$IMG/vmlinuz" \
        -initrd "$IMG/initramfs.cpio.gz" -append "$APPEND" "$@"
}

# check_image WHAT FILE: qemu-img check of a qcow2 image.
check_image() {
    if r=$(qemu-img check "$2" 2>&1); then
        ok "$1: qemu-img check finds no errors"
    else
        not_ok "$1: qemu-img check" "$(echo "$r" | head -n 3 | tr '\n' ' ')"
    fi
}

# flatten IMAGE: the image as raw ($IMAGE.raw), backing files included.
flatten() { qemu-img convert -O raw "$1" "$1.raw"; }

# check_fs WHAT RAW [PATH HASH]...: e2fsck -fn on the raw image, then each
# PATH read by debugfs must have sha256 HASH.
check_fs() {
    what=$1 raw=$2
    shift 2
    # -n does not replay a journal: a file system the guest did not
    # unmount says so, and would hide the files it wrote.
    if r=$(e2fsck -fn "$raw" 2>&1) && ! echo "$r" | grep -q "journal recovery"; then
        ok "$what: e2fsck -fn finds the file system clean"
    else
        not_ok "$what: e2fsck -fn" "$(echo "$r" | tail -n 3 | tr '\n' ' ')"
    fi
    while [ $# -ge 2 ]; do
        got=$(debugfs -R "cat $1" "$raw" 2>/dev/null | sha256sum | cut -d' ' -f1)
        same "$what: debugfs reads $1 from the image" "$2" "$got"
        shift 2
    done
}

rm -f "$OUT"/*.qcow2 "$OUT"/*.raw "$OUT"/*.orig
qemu-img convert -f raw -O qcow2 "$IMG/data.ext4" "$OUT/data.qcow2"
cp "$IMG/data.ext4" "$OUT/base.raw"
# The backing file's name is relative: it is found next to the overlay.
qemu-img create -q -f qcow2 -b base.raw -F raw "$OUT/overlay.qcow2"
qemu-img create -q -f qcow2 "$OUT/blank.qcow2" 64M
qemu-img convert -f raw -O qcow2 "$IMG/data.ext4" "$OUT/snap.qcow2"
cp "$OUT/snap.qcow2" "$OUT/snap.qcow2.orig"
cp "$IMG/data.ext4" "$OUT/snap.raw"

VIRTIO_CMDS="waitdev /dev/vda /dev/vdb /dev/vdc; mkdir -p /mnt/a /mnt/b; mount -t ext4 /dev/vda /mnt/a && mount -t ext4 /dev/vdb /mnt/b && sha256sum /mnt/a/seq.txt /mnt/b/seq.txt
cp /$VIRTIO_FILE /mnt/a/virtio.bin; cp /$OVERLAY_FILE /mnt/b/overlay.bin; sync; umount /mnt/a /mnt/b; mount -t ext4 /dev/vda /mnt/a && mount -t ext4 /dev/vdb /mnt/b && sha256sum /mnt/a/virtio.bin /mnt/b/overlay.bin; umount /mnt/a /mnt/b
dd if=/dev/vdc bs=64k count=16 2>/dev/null | sha256sum
dd if=/$RAW_FILE of=/dev/vdc bs=512 seek=$RAW_SECTOR conv=fsync 2>/dev/null; echo 3 >/proc/sys/vm/drop_caches; $(raw_read /dev/vdc)"

# The SCSI disk names of IDE drives follow the order their probes end, so
# the commands find each drive by its SCSI address instead: host 0 is the
# primary channel, host 1 the secondary, the target is the drive number.
IDE_CMDS="waitdev /dev/sda /dev/sdb /dev/sdc; for a in 0:0:0 0:0:1 1:0:0; do ls /sys/class/scsi_disk/\$a:0/device/block; done
P0=/dev/\$(ls /sys/class/scsi_disk/0:0:0:0/device/block); P1=/dev/\$(ls /sys/class/scsi_disk/0:0:1:0/device/block); S0=/dev/\$(ls /sys/class/scsi_disk/1:0:0:0/device/block)
mkdir -p /mnt/a /mnt/b; mount -t ext4 \$P0 /mnt/a && mount -t ext4 \$P1 /mnt/b && sha256sum /mnt/a/seq.txt /mnt/a/virtio.bin /mnt/b/seq.txt /mnt/b/overlay.bin
$(raw_read '$S0')
cp /$IDE_FILE /mnt/a/ide.bin; sync; umount /mnt/a /mnt/b; mount -t ext4 \$P0 /mnt/a && sha256sum /mnt/a/ide.bin; umount /mnt/a"

SNAP_CMDS="waitdev /dev/vda /dev/sda; mkdir -p /mnt/a /mnt/b; mount -t ext4 /dev/vda /mnt/a && mount -t ext4 /dev/sda /mnt/b && cp /$SNAP_FILE /mnt/a/snap.bin && cp /$SNAP_FILE /mnt/b/snap.bin; sync; umount /mnt/a /mnt/b; mount -t ext4 /dev/vda /mnt/a && mount -t ext4 /dev/sda /mnt/b && sha256sum /mnt/a/snap.bin /mnt/b/snap.bin; umount /mnt/a /mnt/b"

linux virtio "$VIRTIO_CMDS" \
    -drive file="$OUT/data.qcow2",format=qcow2,if=virtio \
    -drive file="$OUT/overlay.qcow2",format=qcow2,if=virtio \
    -drive file="$OUT/blank.qcow2",format=qcow2,if=virtio &
linux snapshot "$SNAP_CMDS" -snapshot \
    -drive file="$OUT/snap.qcow2",format=qcow2,if=virtio -hda "$OUT/snap.raw" &
wait

seq_txt=$(seq 1 100000 | sha256sum | cut -d' ' -f1)
virtio_bin=$(module_hash "$VIRTIO_FILE")
overlay_bin=$(module_hash "$OVERLAY_FILE")
raw_bin=$(module_hash "$RAW_FILE")
if booted virtio; then
    same "virtio: qcow2 disk: the seeded file reads right" "$seq_txt" "$(hash_of virtio 1 /mnt/a/seq.txt)"
    same "virtio: qcow2 overlay on raw: the seeded file reads right" "$seq_txt" "$(hash_of virtio 1 /mnt/b/seq.txt)"
    same "virtio: qcow2 disk: a written file reads back after remounting" \
        "$virtio_bin" "$(hash_of virtio 2 /mnt/a/virtio.bin)"
    same "virtio: qcow2 overlay: a written file reads back after remounting" \
        "$overlay_bin" "$(hash_of virtio 2 /mnt/b/overlay.bin)"
    zeros=$(head -c 1048576 /dev/zero | sha256sum | cut -d' ' -f1)
    same "virtio: empty qcow2: its first MiB reads as zeros" "$zeros" "$(hash_of virtio 3 -)"
    same "virtio: empty qcow2: a file written raw with dd reads back" "$raw_bin" "$(hash_of virtio 4 -)"
    powered_off virtio
fi
check_image "virtio: qcow2 disk" "$OUT/data.qcow2"
check_image "virtio: qcow2 overlay" "$OUT/overlay.qcow2"
check_image "virtio: empty qcow2" "$OUT/blank.qcow2"
if cmp -s "$OUT/base.raw" "$IMG/data.ext4"; then
    ok "virtio: the overlay's raw backing file is unchanged"
else
    not_ok "virtio: the overlay's raw backing file changed"
fi
flatten "$OUT/data.qcow2"
check_fs "virtio: qcow2 disk" "$OUT/data.qcow2.raw" /virtio.bin "$virtio_bin"
flatten "$OUT/overlay.qcow2"
check_fs "virtio: qcow2 overlay" "$OUT/overlay.qcow2.raw" /overlay.bin "$overlay_bin" /seq.txt "$seq_txt"
flatten "$OUT/blank.qcow2"
got=$(dd if="$OUT/blank.qcow2.raw" bs=512 skip=$RAW_SECTOR 2>/dev/null | head -c "$RAW_BYTES" | sha256sum | cut -d' ' -f1)
same "virtio: empty qcow2: the host reads the raw file from the image" "$raw_bin" "$got"

if booted snapshot; then
    want=$(module_hash "$SNAP_FILE")
    same "snapshot: virtio qcow2: a written file reads back after remounting" "$want" "$(hash_of snapshot 1 /mnt/a/snap.bin)"
    same "snapshot: IDE raw (-hda): a written file reads back after remounting" "$want" "$(hash_of snapshot 1 /mnt/b/snap.bin)"
    powered_off snapshot
fi
if cmp -s "$OUT/snap.qcow2" "$OUT/snap.qcow2.orig"; then
    ok "snapshot: the qcow2 image is unchanged"
else
    not_ok "snapshot: the qcow2 image changed"
fi
if cmp -s "$OUT/snap.raw" "$IMG/data.ext4"; then
    ok "snapshot: the raw image is unchanged"
else
    not_ok "snapshot: the raw image changed"
fi

linux ide "$IDE_CMDS" \
    -drive file="$OUT/data.qcow2",format=qcow2,if=ide,index=0 \
    -drive file="$OUT/overlay.qcow2",format=qcow2,if=ide,index=1 \
    -drive file="$OUT/blank.qcow2",format=qcow2,if=ide,index=2
ide_bin=$(module_hash "$IDE_FILE")
if booted ide; then
    same "ide: three disks, as primary master and slave and secondary master" \
        "3" "$(answer ide 1 | grep -c '^sd[a-z]$')"
    same "ide: qcow2 disk: the seeded file reads right" "$seq_txt" "$(hash_of ide 3 /mnt/a/seq.txt)"
    same "ide: qcow2 disk: the file the virtio boot wrote reads right" \
        "$virtio_bin" "$(hash_of ide 3 /mnt/a/virtio.bin)"
    same "ide: qcow2 overlay: the seeded file reads right" "$seq_txt" "$(hash_of ide 3 /mnt/b/seq.txt)"
    same "ide: qcow2 overlay: the file the virtio boot wrote reads right" \
        "$overlay_bin" "$(hash_of ide 3 /mnt/b/overlay.bin)"
    same "ide: the raw file the virtio boot wrote reads right" "$raw_bin" "$(hash_of ide 4 -)"
    same "ide: qcow2 disk: a written file reads back after remounting" \
        "$ide_bin" "$(hash_of ide 5 /mnt/a/ide.bin)"
    powered_off ide
fi
check_image "ide: qcow2 disk" "$OUT/data.qcow2"
flatten "$OUT/data.qcow2"
check_fs "ide: qcow2 disk" "$OUT/data.qcow2.raw" /ide.bin "$ide_bin" /virtio.bin "$virtio_bin"
rm -f "$OUT"/*.qcow2.raw
finish

#!/bin/sh
# Guest test: booting from CD.  `-cdrom build/images/linux.iso -boot d`
# without -kernel: SeaBIOS boots the ISO (El Torito) from the IDE CD-ROM,
# GRUB on the serial port loads Debian's kernel and the initramfs from it,
# and the shell answers:
#   SeaBIOS's log             "Booting from DVD/CD"
#   /proc/cmdline             GRUB's BOOT_IMAGE=/boot/vmlinuz and
#                             images/grub.cfg's arguments
#   uname -r                  the release of the kernel package used
#   the ISO mounted from /dev/sr0 (isofs)
#                             grub.cfg and the initramfs hash as the host's
#   the first MiB of /dev/sr0 hashes as the ISO's first MiB
# then `poweroff -f` must end the emulator with status 0.
# Prints one line per check and "N passed, N failed".
set -u
VIREO=${VIREO:-build/vireo}
IMG=build/images
OUT=build/tests/guest/cdrom
# Generous: the interpreter is far slower than QEMU's JIT.
BOOT_SECS=${VIREO_BOOT_SECS:-900}
. tests/guest/shell.inc
mkdir -p "$OUT"

need "$IMG/linux.iso" "$IMG/initramfs.cpio.gz" "$IMG/kernel-release" "$CONSOLE" "$VIREO"

CMDS='uname -r; cat /proc/cmdline
waitdev /dev/sr0; mkdir -p /mnt/cd; mount -t iso9660 -o ro /dev/sr0 /mnt/cd && sha256sum /mnt/cd/boot/grub/grub.cfg /mnt/cd/boot/initramfs.cpio.gz
dd if=/dev/sr0 bs=2048 count=512 2>/dev/null | sha256sum'

boot cd "$BOOT_SECS" "$CMDS" "$VIREO" -m 512 -nographic -cdrom "$IMG/linux.iso" -boot d

if tr -d '\r' <"$OUT/cd.log" | grep -q "Booting from DVD/CD"; then
    ok "SeaBIOS boots from the CD"
else
    not_ok "SeaBIOS boots from the CD" "no 'Booting from DVD/CD' on the console"
fi
if booted cd; then
    same "uname -r" "$(cat "$IMG/kernel-release")" "$(answer cd 1 | sed -n 1p)"
    cmdline=$(answer cd 1 | sed -n 2p)
    args=$(sed -n 's/^ *linux \/boot\/vmlinuz //p' images/grub.cfg)
    case "$cmdline" in
        "BOOT_IMAGE=/boot/vmlinuz $args") ok "GRUB loaded the kernel with grub.cfg's command line" ;;
        *) not_ok "GRUB's kernel command line" "got '$cmdline', expected 'BOOT_IMAGE=/boot/vmlinuz $args'" ;;
    esac
    same "the ISO's grub.cfg reads right from /dev/sr0" \
        "$(sha256sum <images/grub.cfg | cut -d' ' -f1)" "$(hash_of cd 2 /mnt/cd/boot/grub/grub.cfg)"
    same "the ISO's initramfs reads right from /dev/sr0" \
        "$(sha256sum <"$IMG/initramfs.cpio.gz" | cut -d' ' -f1)" "$(hash_of cd 2 /mnt/cd/boot/initramfs.cpio.gz)"
    same "the first MiB of /dev/sr0 is the ISO's" \
        "$(head -c 1048576 "$IMG/linux.iso" | sha256sum | cut -d' ' -f1)" "$(hash_of cd 3 -)"
    powered_off cd
fi
finish

#!/bin/sh
# The self-checking guest programs of tests/asm/: assemble each *.asm into
# a 128 KiB flat firmware image in build/tests/asm/, boot it with -bios on
# Vireo and, as a cross-check, on QEMU (TCG), and judge each run.
#
# A program reports "PASS name" or "FAIL name: detail" on the debug console
# (port 0xE9) and exits through isa-debug-exit at port 0xF4: value 0 gives
# exit status 1 (pass), anything else 3, 5, ...  A run passes when the
# status is 1 and the log holds "PASS name".
#
# Triple-fault programs (TRIPLE below) end in a shutdown on purpose: with
# -no-reboot both emulators then exit with status 0 (QEMU's shutdown, and
# Vireo's board, which has no exit value of its own).  Such a run passes
# when the status is 0, the log holds the program's "TRIPLE name" line
# (written just before the fault) and no PASS/FAIL line.
#
# Expected failures: xfail_vireo / xfail_qemu below name programs that fail
# for a known reason (a feature Vireo lacks, or a place where QEMU departs from
# the SDM; the SDM wins).  They count as passes while they fail, shown as
# "ok - ... # XFAIL reason"; if one starts passing on Vireo the run fails
# with "unexpectedly passed" so that the mark gets removed (on QEMU, whose
# version we do not choose, it is only noted as XPASS).  skip_qemu names
# programs QEMU cannot run to the end at all (it hangs).
#
# Prints one line per program per emulator, then "N passed, M failed";
# exits non-zero on any failure.  No network; each run is limited to
# $ASM_TIMEOUT seconds (20).  VIREO and QEMU override the binaries; set
# QEMU=none to skip the cross-check.
cd "$(dirname "$0")/../.." || exit 1
VIREO=${VIREO:-build/vireo}
QEMU=${QEMU:-qemu-system-x86_64}
OUT=build/tests/asm
ASM_TIMEOUT=${ASM_TIMEOUT:-20}
mkdir -p "$OUT" || exit 1

passed=0
failed=0

# Programs whose exit is a triple fault.
TRIPLE="triplefault"

# name -> reason Vireo is expected to fail it (empty: must pass).
xfail_vireo() {
    case $1 in
    *) ;;
    esac
}

# name -> reason QEMU (TCG) is expected to fail it.
xfail_qemu() {
    case $1 in
    debug3) echo "QEMU 7.2 (TCG) leaves RF clear in fault frames and in #DB frames between REP iterations (SDM Vol. 3 17.3.1.1), delivers #DB inside the MOV SS shadow (6.8.3), ignores DR7.GD (17.2.4) and does not mask breakpoint addresses by LEN (17.2.5)";;
    canonical) echo "QEMU raises #GP(0), not #SS(0), for non-canonical SS references, reports a JMP to a non-canonical target at the target, not the JMP, and accepts non-canonical FS.base in WRMSR (SDM Vol. 1 3.3.7.1; JMP and WRMSR: #GP(0))";;
    icebp) echo "QEMU 7.2 (TCG) raises #UD for INT1/ICEBP (F1); the SDM (INT n page, INT1) defines it as a #DB trap";;
    gate_ext) echo "QEMU leaves EXT clear in #NP(vector * 8 + 2) raised while delivering a processor exception (SDM Vol. 3 6.13: EXT = 1)";;
    msr) echo "QEMU (TCG) reads unimplemented MSRs as 0 instead of #GP(0) (SDM RDMSR/WRMSR)";;
    pae_pdpte) echo "QEMU sets bit 5 (A) in PAE PDPTEs, where bits 8:5 are reserved (SDM Vol. 3 Table 4-8)";;
    pf_rsvd) echo "QEMU reports reserved-bit page faults without P (error 8, not 9; SDM Vol. 3 4.7: RSVD can be set only if P is)";;
    seglimit) echo "QEMU TCG does not check segment limits or types on data accesses (SDM Vol. 3 5.3, 5.5 require #GP/#SS)";;
    gate_conf) echo "QEMU 7.2 (TCG) gives a call through a gate to conforming code CS.RPL = DPL, raising the CPL to 0 (SDM CALL, SAME-PRIVILEGE: CS(RPL) <- CPL; Vol. 3 5.8.4 Table 5-1)";;
    gate_stack) echo "QEMU 7.2 (TCG) does not check the inner stack's limit on a call through a gate (SDM CALL, MORE-PRIVILEGE: #SS(NewSS) without room for the parameters plus 16 bytes)";;
    task_trap) echo "QEMU 7.2 (TCG) ignores the T flag of a TSS (SDM Vol. 3 7.2.1, 17.3.1.5: #DB with DR6.BT after the task switch)";;
    task_fault) echo "QEMU 7.2 (TCG) reports a fault after a task switch's commit point at the EIP of the instruction that switched, not the new task's first instruction (SDM Vol. 3 7.3 step 13: raised in the new task's context, before its first instruction)";;
    *) ;;
    esac
}

# name -> reason not to run it on QEMU at all (it would hang until the
# timeout, or crash).  Shown as "ok - qemu name # SKIP reason".
skip_qemu() {
    case $1 in
    cr_rsvd) echo "QEMU 7.2 (TCG) loops forever on MOV to CR4 with a reserved bit and accepts CR0.PG without PE (SDM: #GP(0))";;
    ferr) echo "QEMU 7.2 (TCG) aborts when FERR# is raised (assertion qemu_mutex_iothread_locked in tcg_handle_interrupt)";;
    *) ;;
    esac
}

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1: $2"; }

# verdict EMU NAME STATUS LOG XFAIL-REASON: judge one run, print its line.
verdict() {
    emu=$1; name=$2; status=$3; log=$4; reason=$5
    result=""
    detail=""
    case " $TRIPLE " in
    *" $name "*)
        if [ "$status" -eq 0 ] && grep -q "^TRIPLE $name\$" "$log" &&
           ! grep -qE "^(PASS|FAIL) " "$log"; then
            result=pass
        else
            result=fail
            detail=$(grep -E "^FAIL " "$log" | head -n 1)
            [ -n "$detail" ] || detail="exit status $status, expected 0 after a triple fault"
        fi;;
    *)
        if [ "$status" -eq 1 ] && grep -q "^PASS $name\$" "$log"; then
            result=pass
        else
            result=fail
            detail=$(grep -E "^FAIL " "$log" | head -n 1)
            if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
                detail="timed out after ${ASM_TIMEOUT}s${detail:+; $detail}"
            elif [ -z "$detail" ]; then
                detail="exit status $status, no PASS line"
            fi
        fi;;
    esac
    if [ -n "$reason" ]; then
        if [ "$result" = fail ]; then
            ok "$emu $name # XFAIL $reason${detail:+ ($detail)}"
        elif [ "$emu" = qemu ]; then
            # Another QEMU version may follow the SDM here: not our failure.
            ok "$emu $name # XPASS: this QEMU follows the SDM; drop the mark in tests/asm/run.sh"
        else
            not_ok "$emu $name" "unexpectedly passed: remove its expected-fail mark in tests/asm/run.sh ($reason)"
        fi
    elif [ "$result" = pass ]; then
        ok "$emu $name"
    else
        not_ok "$emu $name" "$detail"
    fi
}

# Does this Vireo take -debugcon?  Until it does, judge by exit status.
vireo_debugcon=yes
if [ -x "$VIREO" ]; then
    "$VIREO" -debugcon file:/dev/null -version >/dev/null 2>&1 ||
        vireo_debugcon=no
fi

have_qemu=no
if [ "$QEMU" != none ] && command -v "$QEMU" >/dev/null 2>&1; then
    have_qemu=yes
fi

for src in tests/asm/*.asm; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .asm)
    img=$OUT/$name.bin
    if ! nasm -f bin -Werror -I tests/asm/ -o "$img" "$src" >"$OUT/$name.nasm.log" 2>&1; then
        not_ok "nasm $name" "$(head -n 1 "$OUT/$name.nasm.log")"
        continue
    fi

    log=$OUT/$name.vireo.log
    rm -f "$log"
    if [ ! -x "$VIREO" ]; then
        not_ok "vireo $name" "$VIREO not built (run make)"
    else
        start=$(date +%s)
        if [ "$vireo_debugcon" = yes ]; then
            timeout -k 2 "$ASM_TIMEOUT" "$VIREO" -bios "$img" -nographic \
                -no-reboot -debugcon "file:$log" </dev/null >"$OUT/$name.vireo.out" 2>&1
            status=$?
        else
            timeout -k 2 "$ASM_TIMEOUT" "$VIREO" -bios "$img" -nographic \
                -no-reboot </dev/null >"$OUT/$name.vireo.out" 2>&1
            status=$?
            # No console: trust the exit status and synthesize the line.
            : >"$log"
            if [ "$status" -eq 1 ]; then echo "PASS $name" >>"$log"; fi
            case " $TRIPLE " in *" $name "*)
                [ "$status" -eq 0 ] && echo "TRIPLE $name" >>"$log";;
            esac
        fi
        verdict vireo "$name" "$status" "$log" "$(xfail_vireo "$name")"
    fi

    log=$OUT/$name.qemu.log
    rm -f "$log"
    if [ "$have_qemu" = no ]; then
        ok "qemu $name # SKIP $QEMU not available"
        continue
    fi
    reason=$(skip_qemu "$name")
    if [ -n "$reason" ]; then
        ok "qemu $name # SKIP $reason"
        continue
    fi
    timeout -k 2 "$ASM_TIMEOUT" "$QEMU" -accel tcg -bios "$img" -nographic \
        -no-reboot -nic none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -debugcon "file:$log" -display none -serial none -monitor none \
        </dev/null >"$OUT/$name.qemu.out" 2>&1
    status=$?
    [ -f "$log" ] || : >"$log"
    verdict qemu "$name" "$status" "$log" "$(xfail_qemu "$name")"
done

# ---- Multiboot kernels (tests/asm/multiboot/, see mb.inc) ------------------
# Booted with -kernel instead of -bios: *_elf.asm become ELF32 executables
# (nasm -f elf32, ld), the others flat binaries with the header's address
# fields.  Two modules and a command line go with them; the program checks
# what it was given and reports like the programs above.
MB_APPEND="hello=world mbtest"
MB_INITRD="$OUT/mb_mod1 argA,$OUT/mb_mod2"
printf 'MODULE-ONE' >"$OUT/mb_mod1"
printf 'MODULE-TWO-xyz' >"$OUT/mb_mod2"
for src in tests/asm/multiboot/*.asm; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .asm)
    img=$OUT/$name.mb
    case $name in
    *_elf)
        if ! command -v ld >/dev/null 2>&1; then
            ok "vireo $name # SKIP ld (binutils) not available"
            continue
        fi
        if ! nasm -f elf32 -Werror -I tests/asm/multiboot/ -o "$OUT/$name.o" "$src" \
                >"$OUT/$name.nasm.log" 2>&1 ||
           ! ld -m elf_i386 -n -Ttext=0x100000 -e _start --no-warn-rwx-segments \
                -o "$img" "$OUT/$name.o" >>"$OUT/$name.nasm.log" 2>&1; then
            not_ok "build $name" "$(head -n 1 "$OUT/$name.nasm.log")"
            continue
        fi;;
    *)
        if ! nasm -f bin -Werror -I tests/asm/multiboot/ -o "$img" "$src" \
                >"$OUT/$name.nasm.log" 2>&1; then
            not_ok "nasm $name" "$(head -n 1 "$OUT/$name.nasm.log")"
            continue
        fi;;
    esac

    log=$OUT/$name.vireo.log
    rm -f "$log"
    if [ ! -x "$VIREO" ]; then
        not_ok "vireo $name" "$VIREO not built (run make)"
    else
        timeout -k 2 "$ASM_TIMEOUT" "$VIREO" -kernel "$img" -append "$MB_APPEND" \
            -initrd "$MB_INITRD" -m 128 -nographic -no-reboot \
            -debugcon "file:$log" </dev/null >"$OUT/$name.vireo.out" 2>&1
        status=$?
        [ -f "$log" ] || : >"$log"
        verdict vireo "$name" "$status" "$log" ""
    fi

    log=$OUT/$name.qemu.log
    rm -f "$log"
    if [ "$have_qemu" = no ]; then
        ok "qemu $name # SKIP $QEMU not available"
        continue
    fi
    timeout -k 2 "$ASM_TIMEOUT" "$QEMU" -accel tcg -kernel "$img" \
        -append "$MB_APPEND" -initrd "$MB_INITRD" -m 128 -nographic \
        -no-reboot -nic none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -debugcon "file:$log" -display none -serial none -monitor none \
        </dev/null >"$OUT/$name.qemu.out" 2>&1
    status=$?
    [ -f "$log" ] || : >"$log"
    verdict qemu "$name" "$status" "$log" ""
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

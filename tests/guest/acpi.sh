#!/bin/sh
# Guest test: Debian's SeaBIOS takes Vireo's ACPI tables (machine/acpi.c)
# through fw_cfg and its linker/loader, as it does on QEMU.  From its debug
# log (-debugcon, port 0x402):
#   - it saw etc/table-loader and moved the PIIX4 PM block to 0x600, the
#     address the FADT gives ("Moving pm_base to 0x600"), and uses the PM
#     timer at 0x608 (PM_TMR_BLK);
#   - the loader ran and left an RSDP it could follow to the FADT through
#     the XSDT ("table(50434146)=... (via xsdt)"; 0x50434146 is "FACP");
#   - it parsed our DSDT, of the length iasl produced
#     ("ACPI: parse DSDT at ... (len N)");
#   - it found the devices the DSDT declares and it looks up there: the
#     PNP0501 UART ("Found 1 serial ports") and the PNP0303 keyboard
#     ("PS2 keyboard initialized");
#   - no warning or internal error, and the boot still reaches
#     "No bootable device".
# Prints one line per check and "N passed, N failed".
set -u
VIREO=${VIREO:-build/vireo}
AML=build/acpi/dsdt.aml
OUT=build/tests/guest/acpi
LOG=$OUT/seabios.log
mkdir -p "$OUT"
pass=0
fail=0

check() {
    name=$1
    shift
    if "$@"; then
        echo "ok - $name"
        pass=$((pass + 1))
    else
        echo "not ok - $name"
        fail=$((fail + 1))
    fi
}

rm -f "$LOG"
"$VIREO" -m 128 -icount shift=0 -no-reboot -serial null -display none \
    -debugcon "file:$LOG" </dev/null >"$OUT/stdout" 2>"$OUT/stderr" &
pid=$!
i=0
while [ "$i" -lt 60 ]; do
    grep -q "No bootable device" "$LOG" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
    i=$((i + 1))
done
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
echo "stopped after ${i}s"

has() {
    grep -qE "$1" "$LOG" 2>/dev/null
}

dsdt_len_matches() {
    want=$(wc -c <"$AML")
    got=$(sed -n 's/^ACPI: parse DSDT at 0x[0-9a-f]* (len \([0-9]*\))$/\1/p' "$LOG")
    echo "    DSDT: iasl made $want bytes, SeaBIOS parsed ${got:-none}"
    [ -n "$got" ] && [ "$got" -eq "$want" ]
}

no_warnings() {
    if grep -inE 'warn|internal error|fail.*acpi|acpi.*fail|no acpi' "$LOG"; then
        return 1
    fi
    return 0
}

check "table-loader seen: pm_base moved to 0x600" has '^Moving pm_base to 0x600$'
check "PM timer at PM_TMR_BLK 0x608" has '^Using pmtimer, ioport 0x608$'
check "FADT found through the RSDP and XSDT" has '^table\(50434146\)=0x[0-9a-f]+ \(via xsdt\)$'
check "DSDT parsed, length as built" dsdt_len_matches
check "DSDT's PNP0501 UART found" has '^Found 1 serial ports$'
check "DSDT's PNP0303 keyboard found" has '^PS2 keyboard initialized$'
check "no warnings or errors in the SeaBIOS log" no_warnings
check "boot still reaches 'No bootable device'" has 'No bootable device'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

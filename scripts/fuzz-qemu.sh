#!/usr/bin/env bash
# Runs QEMU's own generic-fuzz target against dbnic: libFuzzer drives MMIO
# to the device's BARs, config space and the DMA the device does, through
# the QEMU glue (qemu-device/dbnic_pci.c) that tests/fuzz's target of the
# core cannot reach.  Builds qemu-fuzz-x86_64 first (scripts/build-qemu.sh
# --fuzz: clang, ASan, UBSan).
#
#   scripts/fuzz-qemu.sh [SECONDS]     default 1800 (make fuzz-qemu)
#
# The corpus persists in $DBNIC_CACHE/fuzz-qemu/corpus, so later runs start
# from what earlier runs found; crashes are saved as crash-* files beside
# it.  Prints the executions, executions per second and new coverage, and
# exits non-zero on any crash, leak, ASan or UBSan report, or an input
# that runs longer than 30 s (an unbounded loop in the device).
. "$(dirname "$0")/lib.sh"

secs=${1:-1800}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -eq 0 ]; then
	die "usage: $0 [SECONDS] (a positive number, got '$secs')"
fi

"$DBNIC_TOP/scripts/build-qemu.sh" --fuzz
FUZZ_BIN=$QEMU_BUILD-fuzz/qemu-fuzz-x86_64
out=$DBNIC_CACHE/fuzz-qemu
mkdir -p "$out/corpus"
logf=$out/run-$(date +%Y%m%d-%H%M%S).log

# A q35 machine with two dbnic devices on one QEMU hub and nothing else:
# a frame one of them sends (ETH_TX, through net_tx_pkt) reaches the
# other's receive path (net_rx_pkt, RSS, the core's RX), so both halves of
# the port's glue see what the fuzzer writes.  The fuzzer may touch only
# the devices' own regions (BARs, MSI-X table and PBA, config space).
# generic-fuzz adds -display none, accel=qtest and -m 512M itself.
export QEMU_FUZZ_ARGS="-M q35 -nodefaults -netdev hubport,id=n0,hubid=0 -netdev hubport,id=n1,hubid=0 -device dbnic,id=dbnic0,netdev=n0 -device dbnic,id=dbnic1,netdev=n1 ${QEMU_FIRMWARE_ARGS[*]}"
export QEMU_FUZZ_OBJECTS='dbnic*'

log "generic-fuzz on dbnic for $secs s (log: $logf)"
rc=0
(cd "$out" && "$FUZZ_BIN" --fuzz-target=generic-fuzz \
	-max_total_time="$secs" -print_final_stats=1 -close_fd_mask=1 \
	-timeout=30 \
	-artifact_prefix="$out/" corpus) > "$logf" 2>&1 || rc=$?

# libFuzzer's final stats: stat::number_of_executed_units, average_exec_per_sec.
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -n1)
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logf" | tail -n1)
cov=$(grep -o 'cov: [0-9]*' "$logf" | tail -n1 || true)
crashes=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$logf" || true)
echo "generic-fuzz: ${execs:-?} executions in $secs s, ${eps:-?} exec/s, ${cov:-cov: ?}, corpus $(find "$out/corpus" -type f | wc -l) inputs, $crashes crash reports"
if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
	grep -E -A30 'ERROR: |runtime error:' "$logf" | head -n 60 >&2 || true
	die "generic-fuzz found a problem (status $rc; log: $logf; inputs: $out/crash-*)"
fi

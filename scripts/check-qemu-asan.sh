#!/usr/bin/env bash
# The qtest of the QEMU glue (tests/qtest/dbnic-test.c) against a QEMU
# built with AddressSanitizer, LeakSanitizer and UBSan
# (scripts/build-qemu.sh --asan, in $QEMU_BUILD-asan): a use after free,
# an overflow or a leak in the glue or the core, e.g. when the device is
# unplugged with jobs in flight (/dbnic/unplug-in-flight), fails its case.
# Too slow to build for the test command (a second QEMU build); run it
# after changes to realize, unrealize or what the core allocates.
#
# usage: scripts/check-qemu-asan.sh [QTEST-PATH...]   (default: every case)
#
# Each case runs in its own process, like scripts/test.sh runs the qtest.
# QEMU and the qtest binary are both built with the sanitizers, and a
# report from either fails the case.  Leaks whose stack has no dbnic
# frame are QEMU's own: counted, but they do not fail the run (so leaks
# do not change the exit status; this script reads the reports).
. "$(dirname "$0")/lib.sh"

"$DBNIC_TOP/scripts/build-qemu.sh" --asan
B=$QEMU_BUILD-asan
QTEST=$B/tests/qtest/dbnic-test
export QTEST_QEMU_BINARY=$B/qemu-system-x86_64
export DBNIC_QTEST_ARGS="${QEMU_FIRMWARE_ARGS[*]}"
# Sanitizer reports go to files, one per process, so that QEMU's and the
# test's can be told apart from the TAP output.
out=$DBNIC_CACHE/logs/qemu-asan
rm -rf "$out"
mkdir -p "$out"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$out/asan"
export LSAN_OPTIONS="exitcode=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$out/ubsan"

cases=("$@")
if [ ${#cases[@]} = 0 ]; then
	mapfile -t cases < <("$QTEST" -l | grep '^/')
fi
p=0 f=0 other=0
for t in "${cases[@]}"; do
	rc=0
	rm -f "$out"/asan.* "$out"/ubsan.*
	timeout 300 "$QTEST" -p "$t" --tap > "$out/case.log" 2>&1 || rc=$?
	reports=("$out"/asan.* "$out"/ubsan.*)
	ours=0
	for r in "${reports[@]}"; do
		[ -f "$r" ] || continue
		# Warnings only (ASan and QEMU's coroutines): not a finding.
		grep -q 'ERROR: \|runtime error' "$r" || { rm -f "$r"; continue; }
		# A report naming dbnic (the device, its core or its qtest) is
		# ours; the rest is QEMU's.
		if grep -q 'dbnic' "$r"; then
			ours=1
			log "$t: sanitizer report with dbnic frames ($r):"
			cat "$r" >&2
		elif grep -q 'ERROR: LeakSanitizer' "$r" && ! grep -q 'ERROR: AddressSanitizer' "$r"; then
			other=$((other + 1))
			log "$t: leak report without dbnic frames (QEMU's own): $(grep -c '^Direct leak\|^Indirect leak' "$r") leaks"
		else
			ours=1
			log "$t: sanitizer report ($r):"
			cat "$r" >&2
		fi
		mv "$r" "$out/${t//\//_}.${r##*/}"
	done
	if [ $ours = 0 ] && [ $rc = 0 ] && grep -q '^ok ' "$out/case.log"; then
		echo "ok $t"
		p=$((p + 1))
	else
		echo "not ok $t (status $rc)"
		grep -E 'ERROR|Bail out|kill_qemu' "$out/case.log" | head -n 5 || true
		f=$((f + 1))
	fi
done
log "qemu-asan: $p passed, $f failed; $other reports of QEMU's own leaks; reports in $out"
[ "$f" = 0 ] && [ "$p" -gt 0 ]

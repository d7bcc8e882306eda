#!/usr/bin/env bash
# The whole test suite, set-up included:
#   0. tests of the scripts (errors name their line; shellcheck clean)
#   1. host unit tests of the device core (ASan + UBSan)
#   2. a short libFuzzer run of the core
#   3. the qtest of the QEMU glue (tests/qtest/dbnic-test.c, TAP)
#   4. KUnit suites of the driver, in the test kernel under QEMU
#   5. end-to-end guest tests: the driver on the emulated device
#      (4 and 5 run DBNIC_TEST_JOBS guests at a time, default 3, started
#      first: they run while 0-3 do)
# Ends with one line "N passed, N failed" over all suites; exits non-zero
# if anything failed or a suite produced no results.
#
#   scripts/test.sh                 everything
#   DBNIC_FUZZ_TIME=60 scripts/test.sh   a longer fuzz run (default 15 s)
#   DBNIC_TEST_JOBS=1 scripts/test.sh    one guest at a time
. "$(dirname "$0")/lib.sh"

PASSED=0
FAILED=0
LOGDIR=$DBNIC_CACHE/logs/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$LOGDIR"

tally() {	# suite passed failed
	log "suite $1: $2 passed, $3 failed"
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
}

# "<word>: N passed, N failed" -> "N N"; nothing if the line is missing.
counts() {
	sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$1" | tail -n1
}

# watchdogs SUITE LOG: one more check per guest run: no kernel watchdog
# reported anything, and (with kmemleak in the kernel) the leak scan ran.
watchdogs() {
	local reports
	reports=$(kernel_reports "$2")
	if [ -n "$reports" ]; then
		log "$1: kernel watchdog reports (log: $2):"
		printf '%s\n' "$reports" | head -n 20 >&2
		tally "$1 watchdogs" 0 1
	elif grep -q '^CONFIG_DEBUG_KMEMLEAK=y' "$KERNEL_BUILD/.config" &&
	     ! tr -d '\r' < "$2" | grep -q '^DBNIC-KMEMLEAK scanned: 0 leaks'; then
		log "$1: the guest did not finish its kmemleak scan (log: $2)"
		tally "$1 watchdogs" 0 1
	else
		tally "$1 watchdogs" 1 0
	fi
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
	exit
}

"$DBNIC_TOP/scripts/build-all.sh"

# --- 4, 5. guests: KUnit and the end-to-end tests, started -----------------
# Every guest run is its own QEMU with its own log, so DBNIC_TEST_JOBS of
# them (default 3) run at once: much of a run is idle guest time (boot,
# the kmemleak scan's 5 s wait, tests that wait for timeouts) or one busy
# vCPU of two, which the other runs fill.  On the 2-core machine the
# suite took 9 min 40 s with 2 at a time and 8 min 33 s with 3 (quiet
# host, 2026-11-29, 905 checks either way).  A test that boots several guests ("# run-guest:
# --guests N" in its header) takes N of those slots (all of them if N is
# more); one whose header has a "# test.sh: alone" line (it checks
# guest-clock deadlines, which a host shared with another guest
# stretches) takes them all.  Results are reported in a fixed order once
# all have finished.
JOBS=${DBNIC_TEST_JOBS:-3}
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "DBNIC_TEST_JOBS=$JOBS: want a number of guests"
dbnic_ko_adds "$MODULE_BUILD"
MODS=("${KO_ADDS[@]}"
      --add "$DBNIC_TOP/tests/guest/lib.sh:/dbnic/lib.sh"
      --add "$DBNIC_TOP/tests/guest/user-lib.sh:/dbnic/user-lib.sh"
      --add "$DBNIC_TOP/tests/guest/net-lib.sh:/dbnic/net-lib.sh"
      --add "$DBNIC_TOP/tests/guest/rdma-lib.sh:/dbnic/rdma-lib.sh"
      --add "$DBNIC_TOP/tests/guest/rdma-isolation.sh:/dbnic/rdma-isolation.sh"
      --add "$RDMA_TESTS_BUILD/dbnic-rdma-isolation:/dbnic/dbnic-rdma-isolation"
      --add "$DBNIC_TOP/tests/guest/rdma-reliability.sh:/dbnic/rdma-reliability.sh"
      --add "$RDMA_TESTS_BUILD/dbnic-rc-xfer:/dbnic/dbnic-rc-xfer"
      --add "$RDMA_TESTS_BUILD/dbnic-roce-inject:/dbnic/dbnic-roce-inject"
      --add "$DBNIC_CACHE/build/user/dbnic-tool:/dbnic/dbnic-tool"
      --add "$DBNIC_CACHE/build/user/dbnic-test-tool:/dbnic/dbnic-test-tool"
      --add "$DBNIC_CACHE/build/user/dbnic-loadtest:/dbnic/dbnic-loadtest"
      --add "$KERNEL_SRC/tools/testing/selftests/net/netdevice.sh:/dbnic/selftests/net/netdevice.sh")

# run_guest_opts SCRIPT: the launcher options its header asks for.
run_guest_opts() { sed -n '1,/^[^#]/s/^# run-guest: //p' "$1"; }
# host_check_cmd SCRIPT: the host-side check its header asks for with a
# "# host-check: COMMAND" line: the run's frames are recorded
# (run-guest.sh --pcap NAME.pcap/ in the log directory) and, once the run
# has ended, COMMAND (its first word a path in the repository, the rest
# its arguments) runs in that directory; its "DBNIC-TEST" lines, in
# NAME.host.log, count with the run's, and one that ends non-zero with no
# "not ok" line, or prints no result, is a failure.  E.g. the tshark check
# of e2e-rxe-interop.sh's RoCE frames.
host_check_cmd() { sed -n '1,/^[^#]/s/^# host-check: //p' "$1"; }

# guest_start NAME SCRIPT: one guest run in the background; its launcher
# output goes to NAME.out, its status to NAME.rc, the guests' serial logs
# to NAME.log (guest 0) and NAME.log.gI (guest I, with --guests).  Sets
# GUEST_PID.
guest_start() {
	local name=$1 script=$2 topts=() hc=()
	read -ra topts <<<"$(run_guest_opts "$script")" || true
	read -ra hc <<<"$(host_check_cmd "$script")" || true
	[ ${#hc[@]} = 0 ] || topts+=(--pcap "$LOGDIR/$name.pcap")
	(
		: > "$LOGDIR/$name.out"
		for try in 1 2; do
			rc=0
			"$DBNIC_TOP/scripts/run-guest.sh" -q --dbnic 1 --timeout 300 \
				--log "$LOGDIR/$name.log" "${MODS[@]}" "${topts[@]}" \
				--script "$script" >> "$LOGDIR/$name.out" 2>&1 || rc=$?
			{ [ "$rc" = 124 ] && [ "$try" = 1 ] && console_stalled "$name"; } || break
			for l in "$LOGDIR/$name".log "$LOGDIR/$name".log.g[0-9]; do
				[ ! -e "$l" ] || mv "$l" "$LOGDIR/$name.stalled.log${l#"$LOGDIR/$name.log"}"
			done
			echo "[dbnic] $name: timed out with a guest's console silent since user space started (the serial stall, see build-initramfs.sh); its logs kept as $name.stalled.log*; once more" >> "$LOGDIR/$name.out"
		done
		echo "$rc" > "$LOGDIR/$name.rc"
		if [ ${#hc[@]} -gt 0 ]; then
			rc=0
			(cd "$LOGDIR/$name.pcap" && "$DBNIC_TOP/${hc[0]}" "${hc[@]:1}") \
				> "$LOGDIR/$name.host.log" 2>&1 || rc=$?
			echo "$rc" > "$LOGDIR/$name.host.rc"
		fi
	) &
	GUEST_PID=$!
}

# console_stalled NAME: did a guest of the run NAME never show user
# space's first console line?  That is the guest's serial transmit
# stalling for user space (seen once in about 500 runs, the kernel's own
# lines still coming through), not the test: test.sh runs it once more.
# Any other timeout counts as it is.
console_stalled() {
	local l
	for l in "$LOGDIR/$1".log "$LOGDIR/$1".log.g[0-9]; do
		[ -e "$l" ] || continue
		grep -aq '^dbnic-guest: userspace up' "$l" || return 0
	done
	return 1
}

# The slots that running guest runs hold: launcher PID -> guests.
declare -A SLOTS=()
# slots_free N: wait until N more guests fit beside the running ones.
slots_free() {
	local p used
	while :; do
		used=0
		for p in "${!SLOTS[@]}"; do
			if kill -0 "$p" 2>/dev/null; then
				used=$((used + SLOTS[$p]))
			else
				unset "SLOTS[$p]"
			fi
		done
		[ $((used + $1)) -gt "$JOBS" ] || return 0
		sleep 0.5
	done
}

# guest_slots SCRIPT: how many slots its run takes.
guest_slots() {
	local n=1
	[[ " $(run_guest_opts "$1") " =~ \ --guests[\ =]([0-9]+)\  ]] && n=${BASH_REMATCH[1]}
	grep -q '^# test.sh: alone' "$1" && n=$JOBS
	[ "$n" -le "$JOBS" ] || n=$JOBS
	echo "$n"
}

GUESTS=(kunit)
for t in "$DBNIC_TOP"/tests/guest/e2e-*.sh; do
	GUESTS+=("$(basename "$t" .sh)")
done
# guest_script NAME: the script a guest run executes.
guest_script() {
	if [ "$1" = kunit ]; then
		echo "$DBNIC_TOP/tests/guest/kunit.sh"
	else
		echo "$DBNIC_TOP/tests/guest/$1.sh"
	fi
}

# Start order: runs of several guests first, then the others, each group
# longest first by the times the last suite's launcher printed ("after
# 113.1s"), so that the slots finish together instead of one idling at
# the end (without a last suite, in name order); the alone runs last.
# Results are still reported in name order (GUESTS).
PREV=$(find "$DBNIC_CACHE/logs" -maxdepth 1 -name 'test-*' -type d ! -path "$LOGDIR" |
	sort | tail -n 1)
START=()
while read -r _ _ name; do START+=("$name"); done < <(
	for name in "${GUESTS[@]}"; do
		secs=0
		if [ -n "$PREV" ] && [ -f "$PREV/$name.out" ]; then
			secs=$(sed -n 's/.* after \([0-9]*\)\.[0-9]s .*/\1/p' "$PREV/$name.out" | head -n 1)
		fi
		n=$(guest_slots "$(guest_script "$name")")
		# Alone runs last (they wait for the host tests), then the
		# runs of several guests, each group longest first.
		echo "$((n == JOBS ? 0 : n)) ${secs:-0} $name"
	done | sort -k1,1nr -k2,2nr -k3,3)
log "guest runs: ${#GUESTS[@]}, $JOBS at a time${PREV:+, longest first (times of ${PREV##*/})}, beside the host tests"
# The scheduler runs in the background while steps 0-3 run in the
# foreground: the guests' idle time (boots, the kmemleak wait, timeouts
# waited for) takes the host tests.  A run that needs every slot ("alone":
# it checks guest-clock deadlines) waits for the host tests to end
# (HOST_DONE), so it still has the machine to itself.
HOST_DONE=$LOGDIR/.host-done
(
	for name in "${START[@]}"; do
		script=$(guest_script "$name")
		n=$(guest_slots "$script")
		if [ "$n" = "$JOBS" ]; then
			while [ ! -e "$HOST_DONE" ]; do sleep 0.5; done
		fi
		slots_free "$n"
		guest_start "$name" "$script"
		SLOTS[$GUEST_PID]=$n
	done
	wait
) &
GUEST_SCHED=$!

# --- 0. the scripts themselves -------------------------------------------
if "$DBNIC_TOP/tests/scripts/run.sh" > "$LOGDIR/scripts.log" 2>&1; then :; fi
cat "$LOGDIR/scripts.log"
read -r p f <<<"$(counts "$LOGDIR/scripts.log")" || true
if [ -n "${p:-}" ]; then tally scripts "$p" "$f"; else tally scripts 0 1; fi

# --- 1. host unit tests ------------------------------------------------
HOSTOUT=$DBNIC_CACHE/build/host
if make -s -C "$DBNIC_TOP/tests/host" OUT="$HOSTOUT" check 2>&1 | tee "$LOGDIR/host.log"; then :; fi
read -r p f <<<"$(counts "$LOGDIR/host.log")" || true
if [ -n "${p:-}" ]; then tally host "$p" "$f"; else tally host 0 1; fi

# --- 2. fuzz -------------------------------------------------------------
if make -s -C "$DBNIC_TOP/tests/host" OUT="$HOSTOUT" fuzz-run \
	FUZZ_TIME="${DBNIC_FUZZ_TIME:-15}" > "$LOGDIR/fuzz.log" 2>&1; then
	tally fuzz 1 0
else
	tail -n 40 "$LOGDIR/fuzz.log"
	tally fuzz 0 1
fi

# --- 3. qtest of the QEMU glue -------------------------------------------
# Built by build-qemu.sh inside QEMU's tree.  A failed g_assert ends the
# whole process, so each case runs on its own and prints its TAP line.
QTEST=$QEMU_BUILD/tests/qtest/dbnic-test
export QTEST_QEMU_BINARY=$QEMU_BIN
export DBNIC_QTEST_ARGS="${QEMU_FIRMWARE_ARGS[*]}"
p=0
f=0
: > "$LOGDIR/qtest.log"
# Each case twice: the engine in QEMU's main loop, and in an IOThread.
for engine in main thread; do
	for t in $("$QTEST" -l | grep '^/'); do
		rc=0
		DBNIC_QTEST_ENGINE=$engine timeout 120 "$QTEST" -p "$t" --tap \
			> "$LOGDIR/qtest-case.log" 2>&1 || rc=$?
		cat "$LOGDIR/qtest-case.log" >> "$LOGDIR/qtest.log"
		if [ $rc -eq 0 ] && grep -q '^ok ' "$LOGDIR/qtest-case.log"; then
			echo "ok $t ($engine)"
			p=$((p + 1))
		else
			echo "not ok $t ($engine, status $rc)"
			grep -E 'ERROR|Bail out' "$LOGDIR/qtest-case.log" | head -n 3 || true
			f=$((f + 1))
		fi
	done
done
rm -f "$LOGDIR/qtest-case.log"
[ "$p" -gt 0 ] || f=$((f + 1))
tally qtest "$p" "$f"
touch "$HOST_DONE"

# --- 4, 5. the guests' results ----------------------------------------------
wait "$GUEST_SCHED"

# guest_status NAME: the run's exit status; its launcher output shown.
guest_status() {
	cat "$LOGDIR/$1.out" >&2
	cat "$LOGDIR/$1.rc" 2>/dev/null || echo 125
}

# KUnit: parsed by the kernel's own kunit.py.
rc=$(guest_status kunit)
if /usr/bin/python3 "$KERNEL_SRC/tools/testing/kunit/kunit.py" parse \
	--json="$LOGDIR/kunit.json" "$LOGDIR/kunit.log" > "$LOGDIR/kunit.parsed" 2>&1 &&
   [ "$rc" -eq 0 ]; then kunit_ok=1; else kunit_ok=0; fi
cat "$LOGDIR/kunit.parsed"
read -r p f <<<"$(/usr/bin/python3 - "$LOGDIR/kunit.json" <<'PY'
import json, sys
def walk(t):
    p = f = 0
    for c in t.get("test_cases", []):
        if c["status"] == "PASS": p += 1
        elif c["status"] != "SKIP": f += 1
    for g in t.get("sub_groups", []):
        a, b = walk(g); p += a; f += b
    return p, f
try:
    print(*walk(json.load(open(sys.argv[1]))))
except Exception:
    print(0, 0)
PY
)"
# A run that crashed, timed out or printed no cases counts as a failure.
if [ "$kunit_ok" = 0 ] || [ "${p:-0}" = 0 ]; then f=$((${f:-0} + 1)); fi
tally kunit "${p:-0}" "$f"
watchdogs kunit "$LOGDIR/kunit.log"

# guest_logs NAME: the serial logs of the run: NAME.log, then NAME.log.gI
# of its other guests.
guest_logs() {
	local l
	echo "$LOGDIR/$1.log"
	for l in "$LOGDIR/$1".log.g[0-9]; do
		[ ! -e "$l" ] || echo "$l"
	done
}

# The end-to-end tests: "DBNIC-TEST ok|not ok" lines in their logs, every
# guest's.  A test asks for launcher options (device properties, a root
# port, host actions, several guests) with a "# run-guest: OPTIONS" line
# in its header, e.g. "# run-guest: --dbnic-opts msix-vectors=4"
# (e2e-user-storm.sh), "# run-guest: --guests 2 --nic dbnic --host-actions"
# (e2e-net-dbnic.sh).
for name in "${GUESTS[@]:1}"; do
	rc=$(guest_status "$name")
	mapfile -t logs < <(guest_logs "$name")
	p=0 f=0
	for l in "${logs[@]}"; do
		g=${l##*.log}
		tr -d '\r' < "$l" | grep -E '^DBNIC-TEST ' | sed "s/^/${g:+${g#.}| }/" || true
		p=$((p + $(tr -d '\r' < "$l" | grep -c '^DBNIC-TEST ok ' || true)))
		f=$((f + $(tr -d '\r' < "$l" | grep -c '^DBNIC-TEST not ok ' || true)))
	done
	if [ "$rc" -ne 0 ] && [ "$f" = 0 ]; then
		log "$name: guest exited with status $rc; logs: ${logs[*]}"
		for l in "${logs[@]}"; do
			[ ${#logs[@]} = 1 ] || echo "== $l"
			# A hung guest dumped its stacks before the kill
			# (build-initramfs.sh): those, else the log's end.
			if grep -aq 'DBNIC-HANG: ' "$l"; then
				tr -d '\r' < "$l" | sed -n '/DBNIC-HANG: still running/,$p' | head -n 300
			else
				tail -n 30 "$l"
			fi
		done
		f=1
	fi
	# The guest run must have counted checks of its own.
	[ "$p" -gt 0 ] || f=$((f + 1))
	# The host-side check of the run's frames ("# host-check:").
	if [ -e "$LOGDIR/$name.host.rc" ]; then
		h=$LOGDIR/$name.host.log
		grep -E '^DBNIC-TEST ' "$h" | sed 's/^/host| /' || true
		hp=$(grep -c '^DBNIC-TEST ok ' "$h" || true)
		hf=$(grep -c '^DBNIC-TEST not ok ' "$h" || true)
		if [ $((hp + hf)) = 0 ] || { [ "$(cat "$LOGDIR/$name.host.rc")" != 0 ] && [ "$hf" = 0 ]; }; then
			log "$name: the host check failed with no result (log: $h):"
			tail -n 10 "$h" >&2
			hf=$((hf + 1))
		fi
		p=$((p + hp)) f=$((f + hf))
	fi
	tally "$name" "$p" "$f"
	for l in "${logs[@]}"; do
		g=${l##*.log}
		watchdogs "$name${g:+ ${g#.}}" "$l"
	done
done

log "logs: $LOGDIR"
finish

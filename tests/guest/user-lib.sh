# Shell helpers shared by the user-space guest tests (e2e-user-*.sh),
# which run dbnic-tool (the user's tool) and dbnic-test-tool (attacks and
# holds: evil, hold, memlock) in the guest.  Source after lib.sh; expects
# $DIR (where the test files are) and sets TOOL and TEST_TOOL.  $dbg is
# the device's debugfs directory once load_dbnic has run.

TOOL=$DIR/dbnic-tool
# shellcheck disable=SC2034  # used by the scripts that source this file
TEST_TOOL=$DIR/dbnic-test-tool

first() {
	for p in "$@"; do
		[ -e "$p" ] && { echo "$p"; return; }
	done
}

counter() { awk -v n="$1" '$1 == n { print $2 }' "$dbg/counters"; }

# field FILE NAME: the word after NAME in FILE.
field() { awk -v n="$2" '{ for (i = 1; i < NF; i++) if ($i == n) print $(i + 1) }' "$1"; }

users_field() { awk -v n="$1" '$1 == "device" { for (i = 1; i < NF; i++) if ($i == n) print $(i + 1) }' "$dbg/users"; }

wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$1" ]
}

# verdicts FILE: the tool's PASS/FAIL lines, one check each.
verdicts() {
	cat "$1"
	while read -r verdict rest; do
		case $verdict in
		PASS) t_ok "$rest" ;;
		FAIL) t_fail "$rest" "failed" ;;
		esac
	done < "$1"
}

# result NAME PID OUTPUT: the process's status as one check.
result() {
	if wait "$2"; then
		t_ok "$1"
	else
		t_fail "$1" "exit $?: $(tail -n 5 "$3" | tr '\n' ' ')"
	fi
	cat "$3"
}

# delta NAME BEFORE: how much a counter moved.
delta() { echo $(( $(counter "$1") - $2 )); }

# at_least NAME BEFORE MIN
at_least() {
	d=$(delta "$1" "$2")
	if [ "$d" -ge "$3" ]; then
		t_ok "counter $1 moved by $d (>= $3)"
	else
		t_fail "counter $1 moved by >= $3" "moved by $d"
	fi
}

# attack NAME ARGS...: run the attacker; its checks, then its status.
attack() {
	name=$1
	shift
	"$TEST_TOOL" evil "$@" > /tmp/e.out 2>&1
	rc=$?
	verdicts /tmp/e.out
	if [ $rc -eq 0 ]; then t_ok "$name: refused"; else t_fail "$name: refused" "exit $rc"; fi
}

# load_dbnic: insmod the driver (ending the test if that fails) and set dbg.
load_dbnic() {
	echo "== load"
	if ! dbnic_load; then
		t_fail "load dbnic" "insmod failed"
		dmesg | tail -n 30
		t_done
		exit 1
	fi
	t_ok "load dbnic"
	dbg=$(first /sys/kernel/debug/dbnic/0000:*)
}

# wait_exit PID SECS: true once PID has exited (reap it with wait), false
# if it still runs after SECS seconds.  For processes a broken driver
# would leave running for ever.
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# result_within NAME PID SECS OUTPUT: like result, but a process still
# running after SECS seconds fails the check and is killed.
result_within() {
	if wait_exit "$2" "$3"; then
		result "$1" "$2" "$4"
	else
		kill -9 "$2" 2>/dev/null
		wait "$2" 2>/dev/null
		t_fail "$1" "still running after $3 s: $(tail -n 3 "$4" | tr '\n' ' ')"
	fi
}

# since_mark: the kernel log after the last "dbnic-e2e: mark" line.
since_mark() {
	dmesg | awk '/dbnic-e2e: mark/ { buf = ""; next } { buf = buf $0 "\n" }
		END { printf "%s", buf }'
}

# secs_of ERE: the timestamp (seconds) of the first line since the mark
# that matches ERE; nothing if there is none.
secs_of() {
	since_mark | grep -E "$1" | head -n 1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'
}

# start_users COPY-OPTIONS...: the three processes revoked_users checks:
# p1 busy posting, p2 idle until /tmp/go, pc copying with COPY-OPTIONS;
# returns once each has its context and mappings (its ids file).
# shellcheck disable=SC2034  # p1, p2 and pc are the caller's
start_users() {
	rm -f /tmp/go
	"$TEST_TOOL" hold --busy --size 16K --depth 4 --verify --ids /tmp/h1.ids > /tmp/h1.out 2>&1 &
	p1=$!
	"$TEST_TOOL" hold --wait-file /tmp/go --size 16K --ids /tmp/h2.ids > /tmp/h2.out 2>&1 &
	p2=$!
	"$TOOL" copy "$@" --verify --ids /tmp/c.ids > /tmp/c.out 2>&1 &
	pc=$!
	wait_file /tmp/h1.ids && wait_file /tmp/h2.ids && wait_file /tmp/c.ids
}

# revoked_users BUSY IDLE COPY: the device went (unplug, reset) under three
# processes: BUSY (output /tmp/h1.out) sees SIGBUS, then ENODEV; IDLE
# (/tmp/h2.out) the same once /tmp/go lets it touch its mapping; COPY
# (/tmp/c.out) is killed by SIGBUS.
revoked_users() {
	result_within "busy process: SIGBUS, then ENODEV" "$1" 30 /tmp/h1.out
	touch /tmp/go
	result_within "idle process: SIGBUS on access, ENODEV from ioctl" "$2" 30 /tmp/h2.out
	if wait_exit "$3" 30; then
		wait "$3"
		rc=$?
	else
		kill -9 "$3"
		wait "$3"
		rc=running
	fi
	tail -n 3 /tmp/c.out
	# 128 + SIGBUS (7): killed by its first access to a revoked mapping.
	if [ "$rc" = 135 ]; then t_ok "copy killed by SIGBUS"; else t_fail "copy killed by SIGBUS" "exit $rc"; fi
}

# dmatest (the kernel's dmatest module) on every channel of device $1.
DMATEST_PARAMS=/sys/module/dmatest/parameters

# dmatest_start PCI [ITERATIONS]: 1 thread a channel, 16 KiB buffers;
# ITERATIONS 0 (the default) runs until dmatest_stop.
dmatest_start() {
	modprobe dmatest
	echo "${2:-0}" > $DMATEST_PARAMS/iterations
	echo 1 > $DMATEST_PARAMS/threads_per_chan
	echo 16384 > $DMATEST_PARAMS/test_buf_size
	echo 0 > $DMATEST_PARAMS/dmatest
	echo 5000 > $DMATEST_PARAMS/timeout
	echo "$1" > $DMATEST_PARAMS/device
	echo 1 > $DMATEST_PARAMS/run
}

dmatest_stop() {
	echo 0 > $DMATEST_PARAMS/run
	cat $DMATEST_PARAMS/wait > /dev/null
	modprobe -r dmatest
}

# dmatest_clean NAME PCI: 200 iterations a channel to the end; the check
# NAME passes when every summary line reports 0 failures.
dmatest_clean() {
	echo "dbnic-e2e: mark dmatest again" > /dev/kmsg
	dmatest_start "$2" 200
	cat $DMATEST_PARAMS/wait > /dev/null
	modprobe -r dmatest
	sums=$(since_mark | grep -E 'dmatest: .*summary')
	echo "$sums"
	if [ -n "$sums" ] && ! echo "$sums" | grep -qv ' 0 failures'; then
		t_ok "$1"
	else
		t_fail "$1" "$(echo "$sums" | tr '\n' ' ')"
	fi
}

# shellcheck shell=sh
# Guest side of scripts/bench.sh (busybox sh, files in $DBNIC_DIR, /dbnic):
# loads the dbnic modules, runs the kernel benchmark (debugfs "bench") and, when
# dbnic-bench was added, the user-space one, and when dbnic-loadtest was
# added, the doorbell store latency idle and under load.  Each table is
# printed between "DBNIC-BENCH-BEGIN <name>" and "DBNIC-BENCH-END <name>"
# lines, raw samples as CSV between "DBNIC-CSV-BEGIN <name>" and
# "DBNIC-CSV-END <name>", for the host to cut out of the serial log.
#
#   sh bench.sh [KERNEL-PARAMS [USER-ARGS [DBLAT-SAMPLES]]]
#
# KERNEL-PARAMS is written to debugfs "bench" first (e.g. "iters=5000");
# USER-ARGS are passed to dbnic-bench (with -c, its raw samples);
# DBLAT-SAMPLES is the number of doorbell stores per phase (1000).
DIR=${DBNIC_DIR:-/dbnic}
rc=0
. "$DIR/lib.sh"

if ! dbnic_load; then
	dmesg | tail -n 30
	exit 1
fi
dbg=
for d in /sys/kernel/debug/dbnic/0000:*; do
	[ -d "$d" ] && { dbg=$d; break; }
done
if [ -z "$dbg" ] || [ ! -e "$dbg/bench" ]; then
	echo "no debugfs bench file"
	dmesg | tail -n 30
	exit 1
fi
echo "guest: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
# Kernel messages on the console would land in the middle of the tables:
# keep them in dmesg, which is checked at the end.
echo 1 > /proc/sys/kernel/printk

if [ -n "${1:-}" ] && ! echo "$1" > "$dbg/bench"; then
	echo "bad kernel benchmark parameters: $1"
	exit 1
fi
echo "DBNIC-BENCH-BEGIN kernel"
cat "$dbg/bench" || rc=1
echo "DBNIC-BENCH-END kernel"

if [ -x "$DIR/dbnic-bench" ]; then
	echo "DBNIC-BENCH-BEGIN user"
	# shellcheck disable=SC2086  # USER-ARGS are words
	"$DIR/dbnic-bench" ${2:-} -c || rc=1
	echo "DBNIC-BENCH-END user"
fi

if [ -x "$DIR/dbnic-loadtest" ]; then
	echo "DBNIC-BENCH-BEGIN dblat"
	"$DIR/dbnic-loadtest" dblat -n "${3:-1000}" -c || rc=1
	echo "DBNIC-BENCH-END dblat"
fi

# A benchmark that upset the kernel is not a result.
if dmesg | grep -qE 'WARNING:|BUG:|Oops|soft lockup|hung task'; then
	echo "kernel log has warnings:"
	dmesg | grep -E -A5 'WARNING:|BUG:|Oops|soft lockup|hung task' | head -n 40
	rc=1
fi
exit $rc

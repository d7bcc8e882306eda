# run-guest: --root-port
# End-to-end test: user mappings are made at fault time and revoked by
# removal and reset; faults must race with the revoke as often as the
# test can make them.  While the device is unbound and bound again, and
# reset, four times in turn:
#  - three processes post copies without pause (doorbell and priority
#    pages, both paths) and must see SIGBUS, then ENODEV from an ioctl;
#  - four more loop copies of 2 s, each a new open, mmap and first
#    touch (a fresh fault of the doorbell and priority pages) until told
#    to stop.  A revoke kills the copies it catches with SIGBUS, so that
#    processes exit (unmapping their VMAs) while the revoke still zaps
#    the other files' mappings: the race that broke x86 PAT tracking
#    when ->mmap() remapped whole VMAs.  Copies may fail while the
#    device is away, but must never hang nor see bad data.
# No kernel report may follow (KASAN, lockdep, the host's kernel_reports
# checks the serial log), nor any x86 PAT complaint (freed a memory type
# it does not hold, a failed reservation, a mapping of the wrong type),
# which PAT only prints at info level.  Then the device works and
# unloads.  Runs in the guest (busybox sh) behind a pcie-root-port with
# the dbnic modules, lib.sh, user-lib.sh and dbnic-tool in $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
DRV=/sys/bus/pci/drivers/dbnic
ROUNDS=4
HOLDERS="1 2 3"
LOOPERS="1 2 3 4"

# looper N PATH: copies, each its own open and first faults, until
# /tmp/stop; counts the good ones in /tmp/loop.N.ok.
looper() {
	ok=0
	while [ ! -e /tmp/stop ]; do
		if [ ! -c /dev/dbnic0 ]; then
			sleep 0.05
		elif "$TOOL" copy --size 16K --depth 8 --time 2 --path "$2" --verify > /tmp/loop."$1".out 2>&1; then
			ok=$((ok + 1))
			echo $ok > /tmp/loop."$1".ok
		elif grep -q 'data differs' /tmp/loop."$1".out; then
			echo "looper $1: bad data" >> /tmp/loop.bad
		fi
	done
}

load_dbnic
pci=$(basename "$(first "$DRV"/0000:*)")
dev=/sys/bus/pci/devices/$pci
echo "device $pci"
rm -f /tmp/stop /tmp/loop.*
for n in $LOOPERS; do
	if [ $((n % 2)) = 0 ]; then path=ring; else path=prio; fi
	looper "$n" "$path" &
	eval "l$n=\$!"
done

round=1
while [ $round -le $ROUNDS ]; do
	echo "== round $round"
	pids=
	for n in $HOLDERS; do
		rm -f /tmp/r"$n".ids
		"$TEST_TOOL" hold --busy --size 16K --depth 4 --verify --ids /tmp/r"$n".ids > /tmp/r"$n".out 2>&1 &
		pids="$pids $!"
	done
	for n in $HOLDERS; do wait_file /tmp/r"$n".ids; done
	echo "dbnic-e2e: mark round $round" > /dev/kmsg
	if [ $((round % 2)) = 1 ]; then
		echo "$pci" > "$DRV/unbind"
		t_check "round $round: unbound under users" test ! -e "$DRV/$pci"
		echo "$pci" > "$DRV/bind"
		t_check "round $round: bound again" test -e "$DRV/$pci"
	else
		if echo 1 > "$dev/reset"; then t_ok "round $round: reset under users"; else t_fail "round $round: reset under users" "write failed"; fi
	fi
	n=1
	for p in $pids; do
		result_within "round $round: process $n: SIGBUS, then ENODEV" "$p" 30 /tmp/r"$n".out
		n=$((n + 1))
	done
	round=$((round + 1))
done

echo "== loopers"
touch /tmp/stop
for n in $LOOPERS; do
	eval "p=\$l$n"
	if wait_exit "$p" 60; then
		t_ok "looper $n stopped ($(cat /tmp/loop."$n".ok 2>/dev/null || echo 0) good copies)"
	else
		t_fail "looper $n stopped" "still running after 60 s: $(tail -n 3 /tmp/loop."$n".out | tr '\n' ' ')"
		kill -9 "$p"
	fi
done
t_check "no looper saw bad data" test ! -e /tmp/loop.bad

echo "== after"
i=0
while [ ! -c /dev/dbnic0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "copy after the races, verified" "$TOOL" copy --size 64K --count 100 --verify
t_check "priority-path copy after the races" "$TOOL" copy --size 16K --count 50 --path prio --verify
t_check "no context left" test "$(users_field contexts)" = 0
pat=$(dmesg | grep -E 'x86/PAT: .*(freeing invalid memtype|failed|expected mapping type|map pfn RAM)' || true)
if [ -z "$pat" ]; then
	t_ok "no x86 PAT complaint"
else
	t_fail "no x86 PAT complaint" "$(echo "$pat" | head -n 3 | tr '\n' ' ')"
fi

echo "== unload"
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
dmesg | grep -i -E 'dbnic|PAT' | tail -n 30
t_done

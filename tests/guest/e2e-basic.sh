# End-to-end test of the driver on one emulated dbnic device.  Runs in the
# guest (busybox sh) with the dbnic modules and lib.sh in $DBNIC_DIR (/dbnic):
# load, capability line, self-test (NOP and COPY through the ring and
# the priority area, data verified in the kernel), counters, policy
# switch, unload, reload, unload, and a clean kernel log.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
DBG=/sys/kernel/debug/dbnic

# first GLOB: the first existing path the glob names, or nothing.
first() {
	for p in "$@"; do
		[ -e "$p" ] && { echo "$p"; return; }
	done
}

# counter NAME: the value of one device counter.
counter() {
	awk -v n="$1" '$1 == n { print $2 }' "$dbg/counters"
}

# selftest NAME: run the self-test once; one check per case, and the
# verdict line.
selftest() {
	t_report "$1" "$dbg/selftest"
}

echo "== load"
if ! dbnic_load; then
	t_fail "load dbnic" "insmod failed"
	dmesg | tail -n 30
	t_done
	exit 1
fi
t_ok "load dbnic"

bound=0
for p in /sys/bus/pci/drivers/dbnic/0000:*; do
	[ -e "$p" ] && bound=$((bound + 1))
done
if [ "$bound" -eq 1 ]; then
	t_ok "driver bound to the device"
else
	t_fail "driver bound to the device" "$bound devices bound"
	dmesg | grep -i dbnic
fi

cap=$(dmesg | grep -E 'dbnic [0-9a-f:.]+: dbnic v1\.[0-9]+: [0-9]+ doorbell pages, [0-9]+ prio slots/page, .*features ' | tail -n 1)
if [ -n "$cap" ]; then
	t_ok "capability line"
	echo "$cap"
	# A v1.2 device: async events through the event queue, not ERR.
	case $cap in
	*features*eq*", event queue") t_ok "event queue in use" ;;
	*) t_fail "event queue in use" "$cap" ;;
	esac
else
	t_fail "capability line" "not in dmesg"
	dmesg | grep -i dbnic
fi

dbg=$(first "$DBG"/0000:*)
if [ -z "$dbg" ]; then
	t_fail "debugfs directory" "no $DBG/<pci-name>"
	t_dmesg_clean "dmesg clean"
	t_done
	exit 1
fi
t_ok "debugfs directory"

echo "== selftest"
selftest "selftest"
cat "$dbg/queue"

echo "== selftest x10"
fails=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	last=$(tail -n 1 "$dbg/selftest")
	[ "$last" = "selftest: PASS" ] || { fails=$((fails + 1)); echo "run $i: $last"; }
done
if [ $fails -eq 0 ]; then t_ok "selftest x10"; else t_fail "selftest x10" "$fails runs failed"; fi

echo "== counters"
cat "$dbg/counters"
for c in ring_fetch prio_exec completions admin_cmds interrupts bytes; do
	v=$(counter $c)
	if [ -n "$v" ] && [ "$v" -gt 0 ]; then t_ok "counter $c moved ($v)"; else t_fail "counter $c moved" "value '$v'"; fi
done
# Not here: desc_error (the self-test's COMPARE mismatch is an error CQE),
# prio_fallback and prio_torn (a priority write that stalls for the flush
# timeout falls back, and its tail is torn; the ring copy runs).
for c in db_bad db_not_owner prio_stale access_fault; do
	v=$(counter $c)
	if [ "$v" = 0 ]; then t_ok "counter $c is 0"; else t_fail "counter $c is 0" "value '$v'"; fi
done
# Each self-test overflows the CQ of a queue of its own on purpose ("cq
# error"), and the driver logs each CQ error it handles: one each, no
# other overflow.
v=$(counter cq_overflow)
n=$(dmesg | grep -c ': CQ [0-9]* in error, queue stopped')
if [ "$v" = "$n" ]; then
	t_ok "counter cq_overflow ($v) = CQ errors the driver handled"
else
	t_fail "counter cq_overflow = CQ errors the driver handled" "$v vs $n"
fi

echo "== policy"
cat "$dbg/policy"
echo ring > "$dbg/policy"
if grep -q '\[ring\]' "$dbg/policy"; then t_ok "policy set to ring"; else t_fail "policy set to ring" "$(cat "$dbg/policy")"; fi
if echo bogus > "$dbg/policy" 2>/dev/null; then t_fail "policy refuses bogus" "accepted"; else t_ok "policy refuses bogus"; fi
echo fit > "$dbg/policy"

echo "== unload, reload"
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
if [ -e "$DBG" ]; then t_fail "debugfs removed" "$DBG still there"; else t_ok "debugfs removed"; fi
if dbnic_load; then
	t_ok "load dbnic again"
	dbg=$(first "$DBG"/0000:*)
	if [ -n "$dbg" ]; then
		selftest "selftest after reload"
	else
		t_fail "selftest after reload" "no debugfs directory"
	fi
	if dbnic_unload; then t_ok "unload dbnic again"; else t_fail "unload dbnic again" "rmmod failed"; fi
else
	t_fail "load dbnic again" "insmod failed"
fi

echo "== kernel log"
dmesg | grep -i dbnic
t_dmesg_clean "dmesg clean"
t_done

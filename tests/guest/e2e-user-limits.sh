# End-to-end test of the per-user limits of /dev/dbnic<N>: one user
# (uid 65534, no capabilities) may hold max_user_contexts contexts (the
# module parameter; EUSERS past it) and another user can still open the
# device; the rings of a queue pair count against RLIMIT_MEMLOCK (VmPin)
# like registered memory, and a queue pair whose rings pass the limit is
# refused.  Then the parameter: a lower value applies to the next open.
# Runs in the guest (busybox sh) with dbnic.ko, lib.sh, user-lib.sh and
# dbnic-tool in $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
PARAM=/sys/module/dbnic/parameters/max_user_contexts

load_dbnic
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "max_user_contexts parameter" test -f $PARAM
max=$(cat $PARAM 2>/dev/null || echo 16)
echo "max_user_contexts $max"
# Other users may open the device (what a udev rule would grant).
chmod 666 /dev/dbnic0

echo "== default limit ($max)"
"$TOOL" limits --max-ctx "$max" > /tmp/l.out 2>&1
rc=$?
verdicts /tmp/l.out
if [ $rc -eq 0 ]; then t_ok "limits: default"; else t_fail "limits: default" "exit $rc"; fi
cat "$dbg/users"
t_check "no context left" test "$(users_field contexts)" = 0
t_check "no page pinned" test "$(users_field pinned_pages)" = 0

echo "== limit 3"
echo 3 > $PARAM
"$TOOL" limits --max-ctx 3 > /tmp/l.out 2>&1
rc=$?
verdicts /tmp/l.out
if [ $rc -eq 0 ]; then t_ok "limits: 3"; else t_fail "limits: 3" "exit $rc"; fi
echo "$max" > $PARAM
t_check "no context left" test "$(users_field contexts)" = 0

echo "== memory cgroup"
# A process's rings (here 1 MiB + 128 KiB: sq_log 12, 256-byte slots)
# are charged to its memory cgroup as kernel memory.  Needs CONFIG_MEMCG.
CG=/sys/fs/cgroup
mkdir -p $CG
mount -t cgroup2 none $CG 2>/dev/null
if grep -qw memory $CG/cgroup.controllers 2>/dev/null; then
	echo +memory > $CG/cgroup.subtree_control
	mkdir -p $CG/dbnic
	kmem() { awk '$1 == "kernel" { print $2 }' $CG/dbnic/memory.stat; }
	rm -f /tmp/m.ids
	(
		# This subshell ($$ would be the test's shell).
		sh -c 'echo $PPID' > $CG/dbnic/cgroup.procs
		before=$(kmem)
		echo "$before" > /tmp/m.before
		exec "$TOOL" hold --wait-file /tmp/never --sq-log 12 --size 16K --ids /tmp/m.ids
	) > /tmp/m.out 2>&1 &
	pm=$!
	wait_file /tmp/m.ids
	before=$(cat /tmp/m.before)
	during=$(kmem)
	echo "cgroup kernel memory: $before before, $during while holding the queue"
	if [ $((during - before)) -ge $((1024 * 1024)) ]; then
		t_ok "rings charged to the memory cgroup ($((during - before)) bytes)"
	else
		t_fail "rings charged to the memory cgroup" "kernel memory grew by $((during - before)) bytes"
	fi
	kill $pm
	wait $pm
else
	echo "skipped: no memory controller (the test kernel lacks CONFIG_MEMCG)"
fi

if rmmod dbnic; then t_ok "rmmod dbnic"; else t_fail "rmmod dbnic" "rmmod failed"; fi
t_dmesg_clean "dmesg clean"
t_done

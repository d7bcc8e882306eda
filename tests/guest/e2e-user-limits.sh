# End-to-end test of the per-user limits of /dev/dbnic<N>: one user
# (uid 65534, no capabilities) may hold max_user_contexts contexts (the
# module parameter; EUSERS past it) and another user can still open the
# device; the rings of a queue pair count against RLIMIT_MEMLOCK (VmPin)
# like registered memory, and a queue pair whose rings pass the limit is
# refused.  Then the parameter: a lower value applies to the next open.
# Runs in the guest (busybox sh) with the dbnic modules, lib.sh, user-lib.sh and
# dbnic-tool and dbnic-test-tool in $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
PARAM=/sys/module/dbnic_cdev/parameters/max_user_contexts

load_dbnic
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "max_user_contexts parameter" test -f $PARAM
max=$(cat $PARAM 2>/dev/null || echo 16)
echo "max_user_contexts $max"
# Other users may open the device (what a udev rule would grant).
chmod 666 /dev/dbnic0

echo "== default limit ($max)"
"$TEST_TOOL" limits --max-ctx "$max" > /tmp/l.out 2>&1
rc=$?
verdicts /tmp/l.out
if [ $rc -eq 0 ]; then t_ok "limits: default"; else t_fail "limits: default" "exit $rc"; fi
cat "$dbg/users"
t_check "no context left" test "$(users_field contexts)" = 0
t_check "no page pinned" test "$(users_field pinned_pages)" = 0

echo "== limit 3"
echo 3 > $PARAM
"$TEST_TOOL" limits --max-ctx 3 > /tmp/l.out 2>&1
rc=$?
verdicts /tmp/l.out
if [ $rc -eq 0 ]; then t_ok "limits: 3"; else t_fail "limits: 3" "exit $rc"; fi
echo "$max" > $PARAM
t_check "no context left" test "$(users_field contexts)" = 0

echo "== memory cgroup"
# A process's rings are charged to its memory cgroup as kernel memory
# (CONFIG_MEMCG, __GFP_ACCOUNT).  Two holders that differ only in the size
# of their queue pair's rings (sq_log 1 and 12) are measured in a cgroup
# of their own; their kernel memory differs by what the rings take.
CG=/sys/fs/cgroup
mkdir -p $CG
mount -t cgroup2 none $CG 2>/dev/null
# What the rings of a queue pair take: the driver picks the slot stride
# (log2 bytes) and the CQ size; a CQE is 16 bytes; each ring is whole
# pages (dma_alloc_coherent).
ring_bytes() {
	geo=$("$TOOL" info --qp --sq-log "$1")
	stride=$(echo "$geo" | sed -n 's/.* stride \([0-9]*\).*/\1/p')
	cq_log=$(echo "$geo" | sed -n 's/.* cq_log \([0-9]*\).*/\1/p')
	echo $(((((1 << $1) << stride) + 4095) / 4096 * 4096 + ((16 << cq_log) + 4095) / 4096 * 4096))
}
# The cgroup's kernel memory while a holder with sq_log $1 holds its queue.
held_kmem() {
	rm -f /tmp/m.ids
	(
		# This subshell ($$ would be the test's shell).
		sh -c 'echo $PPID' > $CG/dbnic/cgroup.procs
		exec "$TEST_TOOL" hold --wait-file /tmp/never --sq-log "$1" --size 16K --ids /tmp/m.ids
	) > /tmp/m.out 2>&1 &
	pm=$!
	wait_file /tmp/m.ids
	# memory.stat is flushed when enough has changed, or every 2 s.
	sleep 2
	awk '$1 == "kernel" { print $2 }' $CG/dbnic/memory.stat
	kill $pm
	wait $pm
}
if grep -qw memory $CG/cgroup.controllers 2>/dev/null; then
	echo +memory > $CG/cgroup.subtree_control
	mkdir -p $CG/dbnic
	small=$(held_kmem 1)
	big=$(held_kmem 12)
	want=$(($(ring_bytes 12) - $(ring_bytes 1)))
	echo "cgroup kernel memory: $small with sq_log 1, $big with sq_log 12; rings differ by $want"
	# 90%: the stat is flushed in batches; uncharged rings give ~0.
	if [ $((big - small)) -ge $((want * 9 / 10)) ]; then
		t_ok "rings charged to the memory cgroup ($((big - small)) bytes, rings $want)"
	else
		t_fail "rings charged to the memory cgroup" "kernel memory differs by $((big - small)) bytes, the rings by $want"
	fi
else
	# The test kernel has CONFIG_MEMCG (scripts/guest-kernel.config).
	t_fail "rings charged to the memory cgroup" "no memory controller in $CG/cgroup.controllers"
fi

if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_dmesg_clean "dmesg clean"
t_done

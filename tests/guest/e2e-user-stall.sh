# End-to-end test: ioctls stuck in a page fault must not hold up the
# device's removal.  dbnic-test-tool stall makes two ioctls fault on pages
# that userfaultfd holds back (the buffer of a REG_MR, which the driver
# pins; the argument of another ioctl, which it copies in), as a buffer
# backed by FUSE or a userfaultfd manager can do for ever.  The unbind
# must finish while they wait; once the faults are resolved, both ioctls
# fail with ENODEV.  The device then binds again and works.
# Needs CONFIG_USERFAULTFD in the test kernel; without it every check is
# reported as failed, naming the missing option.
# Runs in the guest (busybox sh) with the dbnic modules, lib.sh, user-lib.sh and
# dbnic-tool and dbnic-test-tool in $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
DRV=/sys/bus/pci/drivers/dbnic

load_dbnic
pci=$(basename "$(first "$DRV"/0000:*)")

echo "== ioctls stuck in faults"
rm -f /tmp/go /tmp/s.ids
"$TEST_TOOL" stall --wait-file /tmp/go --ids /tmp/s.ids > /tmp/s.out 2>&1 &
ps=$!
if ! wait_file /tmp/s.ids; then
	cat /tmp/s.out
	touch /tmp/go
	wait $ps
	if [ $? -eq 77 ]; then
		t_fail "ioctls stuck in user faults" "the test kernel lacks CONFIG_USERFAULTFD"
	else
		t_fail "ioctls stuck in user faults" "they never faulted"
	fi
	t_done
	exit 1
fi
cat /tmp/s.ids

echo "== unbind while they wait"
echo "$pci" > "$DRV/unbind" &
pu=$!
# Without the fix the unbind waits for the faults, i.e. for ever.
if wait_exit $pu 60; then
	t_ok "unbind finishes while ioctls wait on user faults"
else
	t_fail "unbind finishes while ioctls wait on user faults" "still waiting after 60 s"
fi
touch /tmp/go
wait $pu
if wait_exit $ps 60; then
	wait $ps
	rc=$?
else
	kill -9 $ps
	wait $ps
	rc=running
fi
verdicts /tmp/s.out
if [ "$rc" = 0 ]; then t_ok "the stuck ioctls end with ENODEV"; else t_fail "the stuck ioctls end with ENODEV" "exit $rc"; fi

echo "== bind again"
if echo "$pci" > "$DRV/bind"; then t_ok "bind again"; else t_fail "bind again" "write failed"; fi
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "copy after rebind, verified" "$TOOL" copy --size 64K --count 100 --verify
cat "$dbg/users"
t_check "no context left" test "$(users_field contexts)" = 0
t_check "no page pinned" test "$(users_field pinned_pages)" = 0
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_dmesg_clean "dmesg clean"
t_done

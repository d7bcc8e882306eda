# End-to-end test: admin commands that time out still name memory the
# device may use.  The device answers REG_MR 30 s late (test-only
# properties, below), and runs the commands behind it only then; the
# driver gives up after 300 ms (admin_timeout_ms).  A process registers
# 256 KiB, then creates a queue pair: both fail with ETIMEDOUT (its
# CREATE_CQ waits behind the REG_MR), but while the commands are in
# flight the pages stay pinned (the process's VmPin) and the driver lists
# both as held (debugfs "admin").  When the late answers come, the driver
# destroys what they made (DEREG_MR of the live key, DESTROY_CQ: the
# device runs CREATE_CTX, REG_MR, CREATE_CQ, DEREG_MR and DESTROY_CQ, not
# only the first three) and only then unpins and frees, while the process
# still has its context open.  Runs in the guest (busybox sh) with
# the dbnic modules, lib.sh, dbnic-tool and dbnic-test-tool in $DBNIC_DIR.
#
# run-guest: --dbnic-opts admin-delay-ms=30000,admin-delay-ops=0x80
# (0x80: opcode 7, REG_MR, which probe never uses; read by scripts/test.sh)
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
PARAM=/sys/module/dbnic_core/parameters/admin_timeout_ms

# admin_text: debugfs "admin" on one line.
admin_text() { tr '\n' ' ' < "$dbg/admin" 2>&1; }

# admin_field NAME: a count of debugfs "admin".
admin_field() { awk -v n="$1" '$1 == n { print $2 }' "$dbg/admin" 2>/dev/null; }

load_dbnic
if [ -w "$PARAM" ]; then
	t_ok "admin_timeout_ms is a module parameter"
else
	t_fail "admin_timeout_ms is a module parameter" "no $PARAM"
fi
before=$(counter admin_cmds)
echo 300 > "$PARAM"

echo "== REG_MR and CREATE_QP time out"
rm -f /tmp/go /tmp/l.ids
"$TEST_TOOL" late --size 256K --wait-file /tmp/go --ids /tmp/l.ids > /tmp/l.out 2>&1 &
pl=$!
if wait_file /tmp/l.ids; then
	t_ok "both commands returned"
else
	t_fail "both commands returned" "no /tmp/l.ids"
fi
cat /tmp/l.ids
cat "$dbg/admin" 2>&1
vmpin=$(field /tmp/l.ids vmpin)
if [ "${vmpin:-0}" -ge 256 ]; then
	t_ok "pages stay pinned while REG_MR is in flight (VmPin $vmpin kB)"
else
	t_fail "pages stay pinned while REG_MR is in flight" "VmPin '${vmpin}' kB"
fi
if grep -q "^hold .* op REG_MR .* pages 64 " "$dbg/admin" 2>/dev/null; then
	t_ok "the registration's 64 pages are held"
else
	t_fail "the registration's 64 pages are held" "$(admin_text)"
fi
if grep -q "^hold .* op CREATE_CQ " "$dbg/admin" 2>/dev/null; then
	t_ok "the queue pair's rings are held"
else
	t_fail "the queue pair's rings are held" "$(admin_text)"
fi

echo "== the late answers"
# The answers come 30 s after REG_MR was posted: wait for the device to
# have run REG_MR and CREATE_CQ (CREATE_CTX before them makes 3), then
# for the driver to settle them; bounds only for a broken device.
end=$(($(date +%s) + 120))
while [ "$(delta admin_cmds "$before")" -lt 3 ] && [ "$(date +%s)" -lt $end ]; do
	sleep 0.2
done
while [ -f "$dbg/admin" ] && [ "$(admin_field holds)" != 0 ] &&
	[ "$(date +%s)" -lt $end ]; do
	sleep 0.2
done
cat "$dbg/admin" 2>&1
if [ "$(admin_field holds)" = 0 ] && [ "$(admin_field released)" = 2 ]; then
	t_ok "both holds released after the late answers"
else
	t_fail "both holds released after the late answers" "$(admin_text)"
fi
# The process is still there with its context: without the driver's
# DEREG_MR the late key would stay live over unpinned pages.
ran=$(delta admin_cmds "$before")
if [ "$ran" = 5 ]; then
	t_ok "CREATE_CTX, REG_MR, CREATE_CQ, then DEREG_MR and DESTROY_CQ of what they made ($ran admin commands)"
else
	t_fail "CREATE_CTX, REG_MR, CREATE_CQ, then DEREG_MR and DESTROY_CQ of what they made" "$ran admin commands ran, want 5"
fi
echo 5000 > "$PARAM"
touch /tmp/go
wait $pl
rc=$?
verdicts /tmp/l.out
if [ $rc -eq 0 ]; then t_ok "late: process saw what it expected"; else t_fail "late: process saw what it expected" "exit $rc"; fi

echo "== the device still works"
# Without REG_MR, which stays slow.
t_check "a queue pair after the late answers" "$TOOL" info --qp
t_check "no context left" test "$(users_field contexts)" = 0
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_dmesg_clean "dmesg clean"
t_done

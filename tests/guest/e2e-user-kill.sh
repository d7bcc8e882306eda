# End-to-end test: processes killed in the middle of their work.  Runs in
# the guest (busybox sh) with the dbnic modules, lib.sh and dbnic-tool in
# $DBNIC_DIR (/dbnic).  A process with many large copies in flight is
# killed (SIGKILL); its context, queues and pinned pages must go (debugfs
# users), and the next process gets the same doorbell page.  Then many
# short-lived processes are killed at random points of their set-up and
# work.  The device keeps working and the kernel log stays clean.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"

load_dbnic

for round in 1 2 3; do
	echo "== kill mid-flight, round $round"
	rm -f /tmp/k.ids
	"$TOOL" copy --size 1M --depth 16 --count 1000000 --path auto --sges 4 \
		--ids /tmp/k.ids > /tmp/k.out 2>&1 &
	pk=$!
	wait_file /tmp/k.ids
	ctx=$(field /tmp/k.ids ctx)
	sleep 1
	cat "$dbg/users"
	pinned=$(users_field pinned_pages)
	if [ "$(users_field contexts)" = 1 ] && [ "$pinned" -gt 0 ]; then
		t_ok "round $round: a context with $pinned pinned pages"
	else
		t_fail "round $round: a context with pinned pages" "$(head -n 1 "$dbg/users")"
	fi
	kill -9 $pk
	wait $pk
	cat "$dbg/users"
	t_check "round $round: no context left" test "$(users_field contexts)" = 0
	t_check "round $round: no page pinned" test "$(users_field pinned_pages)" = 0
	again=$("$TOOL" info | awk '{ print $2 }')
	if [ "$again" = "$ctx" ]; then
		t_ok "round $round: the next process gets context $ctx again"
	else
		t_fail "round $round: the next process gets the same context" "$ctx then '$again'"
	fi
done

echo "== kill at random points"
i=0
while [ $i -lt 20 ]; do
	"$TOOL" copy --size 2M --depth 4 --count 20 --sges 7 --quiet > /dev/null 2>&1 &
	p=$!
	# 0..190 ms: before open, in registration, with copies in flight.
	sleep "0.$(( (i * 37) % 20 ))"
	kill -9 $p 2>/dev/null
	wait $p
	i=$((i + 1))
done
cat "$dbg/users"
t_check "no context left after 20 kills" test "$(users_field contexts)" = 0
t_check "no page pinned after 20 kills" test "$(users_field pinned_pages)" = 0
t_check "copy after the kills, verified" "$TOOL" copy --size 128K --count 300 --verify

echo "== counters"
cat "$dbg/counters"
v=$(counter access_fault)
if [ "$v" = 0 ]; then t_ok "counter access_fault is 0"; else t_fail "counter access_fault is 0" "value '$v'"; fi
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi

echo "== kernel log"
dmesg | grep -i dbnic | tail -n 20
t_dmesg_clean "dmesg clean"
t_done

# End-to-end test: a hostile process against a victim, both through
# /dev/dbnic0 (user/dbnic-tool).  Runs in the guest (busybox sh) with
# the dbnic modules, lib.sh and dbnic-tool in $DBNIC_DIR (/dbnic).  While the victim
# copies with verification, the attacker rings the victim's queue and CQ
# through its own doorbell page, writes a priority descriptor naming the
# victim's queue, DMAs through the victim's key, outside its own
# registrations and with key 0, and writes torn priority descriptors.
# Each attack must be refused and counted by the device (db_not_owner,
# access_fault, prio_torn, prio_stale), and the victim must finish
# with every byte right.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"

load_dbnic

echo "== victim"
"$TOOL" copy --time 8 --size 64K --depth 8 --path auto --verify \
	--ids /tmp/v.ids > /tmp/v.out 2>&1 &
pv=$!
if ! wait_file /tmp/v.ids; then
	t_fail "victim started" "no ids"
	cat /tmp/v.out
	t_done
	exit 1
fi
cat /tmp/v.ids
vq=$(field /tmp/v.ids qid)
vc=$(field /tmp/v.ids cqn)
vk=$(field /tmp/v.ids dst_key)
va=$(field /tmp/v.ids dst_addr)
vs=$(field /tmp/v.ids src_key)

echo "== ring another context's queue"
b_owner=$(counter db_not_owner)
attack "evil-qid" --evil-qid "$vq" --evil-cqn "$vc"
# Two DB_SQ, one DB_CQ, one priority descriptor: all through the page of
# the attacker's context, naming the victim's queue or CQ.
at_least db_not_owner "$b_owner" 4

echo "== foreign, stale, made-up keys; memory outside registrations"
b_access=$(counter access_fault)
attack "evil-key" --evil-key --key "$vk" --addr "$va"
at_least access_fault "$b_access" 9
attack "evil-key with the victim's source key" --evil-key --key "$vs"

echo "== torn priority descriptors"
sleep 0.05
b_torn=$(counter prio_torn)
b_stale=$(counter prio_stale)
attack "torn" --torn
# Datasheet 3.2, each assembly counted once: a partial copy whose index
# DB_SQ covers is stale; words of two posts are torn; a write without
# header is torn when flushed.
at_least prio_stale "$b_stale" 1
at_least prio_torn "$b_torn" 2

echo "== the victim"
result "victim finished, every copy verified" $pv /tmp/v.out
n=$(sed -n 's/^copy: \([0-9]*\) ops.*/\1/p' /tmp/v.out)
if [ -n "$n" ] && [ "$n" -gt 0 ]; then t_ok "victim progressed ($n copies)"; else t_fail "victim progressed" "'$n'"; fi
if grep -q 'errors 0, data errors 0' /tmp/v.out; then t_ok "victim saw no error"; else t_fail "victim saw no error" "$(tail -n 1 /tmp/v.out)"; fi

echo "== counters"
cat "$dbg/counters"
cat "$dbg/users"
t_check "no context left" test "$(users_field contexts)" = 0
t_check "no page pinned" test "$(users_field pinned_pages)" = 0
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi

echo "== kernel log"
dmesg | grep -i dbnic | tail -n 20
t_dmesg_clean "dmesg clean"
t_done

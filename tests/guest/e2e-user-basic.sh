# End-to-end test of user-space submission (/dev/dbnic<N>, user/) on one
# emulated dbnic.  Runs in the guest (busybox sh) with the dbnic modules, lib.sh
# and dbnic-tool in $DBNIC_DIR (/dbnic): the device node, two processes
# copying and filling at once through their own doorbell pages (ring,
# priority and auto paths, data verified), mmap and fork rules, the
# RLIMIT_MEMLOCK accounting of registrations, and that everything is
# given back when the processes end.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"

load_dbnic
t_check "/dev/dbnic0 is a character device" test -c /dev/dbnic0
t_check "debugfs users file" test -f "$dbg/users"
dmesg | grep -i 'user-space submission'

echo "== info"
t_check "dbnic-tool info --qp" "$TOOL" info --qp
"$TOOL" info --qp | tee /tmp/info.out
t_check "no context left after info" test "$(users_field contexts)" = 0

echo "== three processes at once"
# Each keeps its context after its run until /tmp/go exists: a fast
# device must not let one finish before the count below.
rm -f /tmp/go
"$TOOL" copy --size 256K --count 300 --depth 8 --path prio --verify \
	--ids /tmp/a.ids --wait-file /tmp/go > /tmp/a.out 2>&1 &
pa=$!
"$TOOL" copy --size 64K --count 800 --depth 16 --path ring --sges 5 \
	--verify --ids /tmp/b.ids --wait-file /tmp/go > /tmp/b.out 2>&1 &
pb=$!
"$TOOL" fill --size 128K --count 400 --depth 4 --path auto --sges 3 \
	--verify --ids /tmp/c.ids --wait-file /tmp/go > /tmp/c.out 2>&1 &
pc=$!
wait_file /tmp/a.ids && wait_file /tmp/b.ids && wait_file /tmp/c.ids
cat "$dbg/users"
if [ "$(users_field contexts)" = 3 ]; then
	t_ok "three contexts while running"
else
	t_fail "three contexts while running" "$(head -n 1 "$dbg/users")"
fi
touch /tmp/go
result "copy through the priority area, verified" $pa /tmp/a.out
result "copy through the ring, 5 SGEs, verified" $pb /tmp/b.out
result "fill, auto path, verified" $pc /tmp/c.out
ca=$(field /tmp/a.ids ctx) cb=$(field /tmp/b.ids ctx) cc=$(field /tmp/c.ids ctx)
if [ -n "$ca" ] && [ "$ca" != "$cb" ] && [ "$cb" != "$cc" ] && [ "$ca" != "$cc" ]; then
	t_ok "each process has its own context ($ca $cb $cc)"
else
	t_fail "each process has its own context" "'$ca' '$cb' '$cc'"
fi
np=$(sed -n 's/.*ran from prio \([0-9]*\),.*/\1/p' /tmp/a.out)
if [ -n "$np" ] && [ "$np" -gt 0 ]; then t_ok "priority path ran ($np)"; else t_fail "priority path ran" "'$np'"; fi
nr=$(sed -n 's/.*ran from prio \([0-9]*\),.*/\1/p' /tmp/b.out)
if [ "$nr" = 0 ]; then t_ok "ring path only on the ring queue"; else t_fail "ring path only on the ring queue" "'$nr' ran from prio"; fi

echo "== a large copy"
t_check "copy 4 MiB x 8, 7 SGEs, verified" "$TOOL" copy --size 4M --count 8 \
	--depth 2 --sges 7 --verify

echo "== bad input gets a reason, not just the usage text"
# usage_error NAME PATTERN ARGS...: dbnic-tool exits 2 and its message
# matches PATTERN (what is wrong and what is allowed).
usage_error() {
	name=$1 pat=$2
	shift 2
	"$TOOL" "$@" > /tmp/u.out 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$pat" /tmp/u.out; then
		t_ok "$name"
	else
		t_fail "$name" "exit $rc: $(head -n 2 /tmp/u.out | tr '\n' ' ')"
	fi
}
max=$(sed -n 's/.* max_xfer \([0-9]*\) .*/\1/p' /tmp/info.out)
usage_error "copy --size 0: says the minimum" "size 0: must be at least 1" \
	copy --size 0
usage_error "copy --size 100G: names QUERY's max_xfer ($max)" \
	"at most $max bytes per descriptor (QUERY max_xfer)" copy --size 100G
usage_error "copy --size 12x: not a number" "size '12x': not a number" \
	copy --size 12x
usage_error "copy --path foo: lists the paths" "must be ring, prio or auto" \
	copy --path foo
usage_error "unknown command is named" "unknown command 'frob'" frob

echo "== mmap, ioctl and fork rules"
"$TOOL" copy --time 3 --size 16K --verify --ids /tmp/v.ids > /tmp/v.out 2>&1 &
pv=$!
wait_file /tmp/v.ids
vq=$(field /tmp/v.ids qid)
vk=$(field /tmp/v.ids dst_key)
"$TEST_TOOL" evil --evil-mmap --evil-qid "$vq" --key "$vk" > /tmp/m.out 2>&1
rc=$?
cat /tmp/m.out
verdicts /tmp/m.out
if [ $rc -eq 0 ]; then t_ok "evil-mmap: all refused"; else t_fail "evil-mmap: all refused" "exit $rc"; fi
result "victim of evil-mmap unaffected" $pv /tmp/v.out

echo "== RLIMIT_MEMLOCK"
"$TEST_TOOL" memlock > /tmp/l.out 2>&1
rc=$?
verdicts /tmp/l.out
if [ $rc -eq 0 ]; then t_ok "memlock accounting"; else t_fail "memlock accounting" "exit $rc"; fi

echo "== all given back"
cat "$dbg/users"
t_check "no context left" test "$(users_field contexts)" = 0
t_check "no page pinned" test "$(users_field pinned_pages)" = 0
cat "$dbg/counters"
for c in db_not_owner access_fault cq_overflow; do
	v=$(counter $c)
	if [ "$v" = 0 ]; then t_ok "counter $c is 0"; else t_fail "counter $c is 0" "value '$v'"; fi
done
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_check "/dev/dbnic0 removed" test ! -e /dev/dbnic0

echo "== kernel log"
dmesg | grep -i dbnic
t_dmesg_clean "dmesg clean"
t_done

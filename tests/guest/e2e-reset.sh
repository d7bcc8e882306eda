# run-guest: --root-port
# test.sh: alone (its "within a second" checks run on the guest's clock)
# End-to-end test: a function reset of the device (sysfs "reset", a
# secondary bus reset of its root port) while processes hold mappings and
# post copies and the kernel's dmatest runs on every channel.  The driver
# must take the device down before the reset and bring it up after:
# user mappings revoked (a busy process gets SIGBUS, an idle one SIGBUS
# on its next access, both ENODEV from ioctls), dmatest sees errors
# within a second of the reset, and then new opens, copies and a new
# dmatest run work.  The kernel log must stay clean.
# Runs in the guest (busybox sh) behind a pcie-root-port (the line
# above asks scripts/test.sh for it) with the dbnic modules, lib.sh, user-lib.sh
# and dbnic-tool in $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
DRV=/sys/bus/pci/drivers/dbnic

load_dbnic
pci=$(basename "$(first "$DRV"/0000:*)")
dev=/sys/bus/pci/devices/$pci
echo "device $pci, reset methods: $(cat "$dev/reset_method" 2>/dev/null)"
t_check "device can be reset" test -w "$dev/reset"

echo "== users"
start_users --time 60 --size 64K --depth 8
cat /tmp/h1.ids /tmp/h2.ids /tmp/c.ids
dmatest_start "$pci"
sleep 1
cat "$dbg/users"

# The mappings must carry no x86 PAT reservation of their own (VM_PAT,
# "ar" in smaps' VmFlags): revoking zaps them while the processes it
# kills unmap them, and a VM_PAT VMA then trips untrack_pfn()'s warning
# and leaks its reservation.  The priority areas keep write-combining
# through the driver's own reservation of them instead.
echo "== mappings"
nmap=0
npat=0
for p in $p1 $p2 $pc; do
	n=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { d = / \/dev\/dbnic/; if (d) m++ }
		d && /^VmFlags:/ && / ar( |$)/ { a++ }
		END { print m + 0, a + 0 }' "/proc/$p/smaps")
	echo "pid $p: dbnic mappings, with VM_PAT: $n"
	nmap=$((nmap + ${n% *}))
	npat=$((npat + ${n#* }))
done
t_check "processes map the device" test "$nmap" -gt 0
t_check "no mapping has a PAT reservation (VM_PAT)" test "$npat" = 0
pat=/sys/kernel/debug/x86/pat_memtype_list
if [ -r $pat ]; then
	bar=$(awk 'NR == 3 { print $1 }' "$dev/resource")
	ctx=$(field /tmp/h2.ids ctx)
	prio=$(printf '0x%016x' $((bar + ctx * 8192 + 4096)))
	grep -F "$prio" $pat
	t_check "priority area of context $ctx reserved write-combining" \
		grep -q "mem $prio-.* write-combining" $pat
else
	echo "no $pat (PAT off): memory types not checked"
fi

echo "== reset"
echo "dbnic-e2e: mark reset" > /dev/kmsg
if echo 1 > "$dev/reset"; then t_ok "reset with users"; else t_fail "reset with users" "write failed"; fi
revoked_users "$p1" "$p2" "$pc"

# dmatest's first failed transaction after the reset began.
i=0
while [ -z "$(secs_of 'dmatest: .*result #')" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t0=$(secs_of 'function reset: stopping')
t1=$(secs_of 'dmatest: .*result #')
echo "reset began at ${t0:-?} s, first dmatest error at ${t1:-?} s"
if [ -n "$t0" ] && [ -n "$t1" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1) }'; then
	t_ok "dmatest sees an error within a second of the reset"
else
	t_fail "dmatest sees an error within a second of the reset" "reset at ${t0:-never}, error at ${t1:-never}"
fi
dmatest_stop
since_mark | grep -E 'dmatest: .*(summary|result)' | head -n 8

echo "== after the reset"
t_check "/dev/dbnic0 back" test -c /dev/dbnic0
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "no context left from before" test "$(users_field contexts)" = 0
t_check "copy after the reset, verified" "$TOOL" copy --size 64K --count 200 --verify
t_check "priority-path copy after the reset" "$TOOL" copy --size 16K --count 50 --path prio --verify
dmatest_clean "dmatest after the reset: no failures" "$pci"

echo "== a second reset, idle"
echo "dbnic-e2e: mark reset 2" > /dev/kmsg
if echo 1 > "$dev/reset"; then t_ok "idle reset"; else t_fail "idle reset" "write failed"; fi
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "copy after the second reset" "$TOOL" copy --size 64K --count 50 --verify

echo "== unload"
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
dmesg | grep -i -E 'dbnic|reset' | tail -n 30
t_dmesg_clean "dmesg clean"
t_done

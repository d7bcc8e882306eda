# End-to-end test: the device goes away under processes that have it open
# and mapped.  Runs in the guest (busybox sh) with the dbnic modules, lib.sh and
# dbnic-tool in $DBNIC_DIR (/dbnic).  rmmod is refused while a file is
# open (module reference); unbinding the PCI device revokes the mappings:
# a process busy posting gets SIGBUS, an idle one gets SIGBUS on its next
# access and ENODEV from ioctls, and all close cleanly.  The device then
# binds again and works; a copy running during a second unbind dies
# without harm to the kernel.  The kernel log must stay clean.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
DRV=/sys/bus/pci/drivers/dbnic

load_dbnic
pci=$(basename "$(first "$DRV"/0000:*)")
echo "device $pci"

echo "== processes holding mappings"
rm -f /tmp/go
"$TEST_TOOL" hold --busy --size 16K --depth 4 --verify --ids /tmp/h1.ids > /tmp/h1.out 2>&1 &
p1=$!
"$TEST_TOOL" hold --wait-file /tmp/go --size 16K --ids /tmp/h2.ids > /tmp/h2.out 2>&1 &
p2=$!
wait_file /tmp/h1.ids && wait_file /tmp/h2.ids
cat /tmp/h1.ids /tmp/h2.ids
sleep 0.5

# An open file pins dbnic_cdev.ko, which pins dbnic_core.ko.
for m in dbnic_cdev dbnic_core; do
	if rmmod "$m" 2>/dev/null; then
		t_fail "rmmod $m refused while /dev/dbnic0 is open" "rmmod succeeded"
	else
		t_ok "rmmod $m refused while /dev/dbnic0 is open"
	fi
	t_check "$m still loaded" grep -q "^$m " /proc/modules
done

echo "== unbind under them"
if echo "$pci" > "$DRV/unbind"; then t_ok "unbind with mapped users"; else t_fail "unbind with mapped users" "write failed"; fi
t_check "/dev/dbnic0 gone" test ! -e /dev/dbnic0
result "busy process: SIGBUS, then ENODEV" $p1 /tmp/h1.out
touch /tmp/go
result "idle process: SIGBUS on access, ENODEV from ioctl" $p2 /tmp/h2.out
t_dmesg_clean "dmesg clean after unbind"

echo "== bind again"
if echo "$pci" > "$DRV/bind"; then t_ok "bind again"; else t_fail "bind again" "write failed"; fi
t_check "/dev/dbnic0 back" test -c /dev/dbnic0
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "copy after rebind, verified" "$TOOL" copy --size 64K --count 200 --verify

echo "== unbind during a copy"
"$TOOL" copy --time 30 --size 256K --depth 8 --verify --ids /tmp/c.ids > /tmp/c.out 2>&1 &
pc=$!
wait_file /tmp/c.ids
sleep 1
echo "$pci" > "$DRV/unbind"
wait $pc
rc=$?
tail -n 3 /tmp/c.out
# 128 + SIGBUS (7): killed by its first access to a revoked mapping.
if [ $rc -eq 135 ]; then t_ok "copy killed by SIGBUS"; else t_fail "copy killed by SIGBUS" "exit $rc"; fi
t_dmesg_clean "dmesg clean after the second unbind"
echo "$pci" > "$DRV/bind"
t_check "/dev/dbnic0 back again" test -c /dev/dbnic0
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "copy after the second rebind" "$TOOL" copy --size 64K --count 50 --path prio --verify

echo "== unload"
cat "$dbg/users"
t_check "no context left" test "$(users_field contexts)" = 0
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
if dbnic_load && dbnic_unload; then t_ok "load, unload again"; else t_fail "load, unload again" "failed"; fi

echo "== kernel log"
dmesg | grep -i dbnic | tail -n 30
t_dmesg_clean "dmesg clean"
t_done

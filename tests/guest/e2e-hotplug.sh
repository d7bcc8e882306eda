# run-guest: --root-port --host-actions
# End-to-end test: hot-unplug (QMP device_del, driven by the launcher on
# the host when this script prints "DBNIC-HOST unplug dbnic0") while
# processes hold mappings and post copies and dmatest runs.  The guest's
# pciehp removes the device: the driver's remove must finish, a busy
# process gets SIGBUS then ENODEV, an idle one SIGBUS on its next access,
# dmatest sees its transactions fail; QEMU then unrealizes the device
# and must keep running.  A device_add ("DBNIC-HOST plug dbnic0") must
# bring up a working device.  The kernel log must stay clean: not
# checked here, but on the host, by scripts/test.sh's watchdogs over the
# serial log (kernel_reports in scripts/lib.sh), which alone knows the
# one report that is the kernel's own (Linux 6.12's pciehp lockdep report
# on every hot-unplug), so t_dmesg_clean would fail on it.
# Needs CONFIG_HOTPLUG_PCI_PCIE in the test kernel.
# Runs in the guest (busybox sh) behind a pcie-root-port with the dbnic modules,
# lib.sh, user-lib.sh and dbnic-tool in $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
DRV=/sys/bus/pci/drivers/dbnic
PARAMS=/sys/module/dmatest/parameters

load_dbnic
pci=$(basename "$(first "$DRV"/0000:*)")
dev=/sys/bus/pci/devices/$pci
# Its hot-plug slot: pciehp powers it off after the removal, and only
# that makes QEMU delete the device (and free its id for device_add).
slot=
for s in /sys/bus/pci/slots/*; do
	[ "$(cat "$s/address" 2>/dev/null)" = "${pci%.*}" ] && slot=$s
done
echo "device $pci, slot ${slot:-none}"

echo "== users"
start_users --time 120 --size 256K --depth 16
modprobe dmatest
echo 0 > $PARAMS/iterations
echo 1 > $PARAMS/threads_per_chan
echo 0 > $PARAMS/dmatest
echo "$pci" > $PARAMS/device
echo 1 > $PARAMS/run
sleep 1
cat "$dbg/users"

echo "== unplug"
echo "dbnic-e2e: mark unplug" > /dev/kmsg
echo "DBNIC-HOST unplug dbnic0"
# pciehp waits 5 s after the attention button before it removes.  The
# driver fails dmatest's transactions, then gives clients a few seconds
# to release their channels (and DMA mappings): stop dmatest, as a
# client should on such errors.
i=0
while [ -z "$(secs_of 'dmatest: .*result #')" ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -n "$(secs_of 'dmatest: .*result #')" ]; then
	t_ok "dmatest sees its transactions fail"
else
	t_fail "dmatest sees its transactions fail" "no error result"
fi
echo 0 > $PARAMS/run
cat $PARAMS/wait > /dev/null
modprobe -r dmatest
since_mark | grep -E 'dmatest: .*(summary|result)' | head -n 6
i=0
while [ -e "$dev" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e "$dev" ]; then
	t_ok "device removed by hot-unplug"
else
	t_fail "device removed by hot-unplug" "still there after 60 s (does the kernel have CONFIG_HOTPLUG_PCI_PCIE?)"
fi
t_check "/dev/dbnic0 gone" test ! -e /dev/dbnic0
revoked_users "$p1" "$p2" "$pc"

i=0
while [ "$(cat "$slot/power" 2>/dev/null)" != 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
t_check "slot powered off" test "$(cat "$slot/power" 2>/dev/null)" = 0

echo "== plug"
echo "dbnic-e2e: mark plug" > /dev/kmsg
echo "DBNIC-HOST plug dbnic0"
i=0
while [ -z "$(first "$DRV"/0000:*)" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
pci=$(basename "$(first "$DRV"/0000:*)")
if [ -n "$pci" ]; then t_ok "device back and bound ($pci)"; else t_fail "device back and bound" "not after 60 s"; fi
i=0
while [ ! -c /dev/dbnic0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
t_check "copy on the new device, verified" "$TOOL" copy --size 64K --count 200 --verify
t_check "no context left" test "$(users_field contexts)" = 0

echo "== unload"
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
dmesg | grep -i -E 'dbnic|pciehp' | tail -n 30
t_done

# End-to-end test of the driver's layout: a core and one auxiliary driver
# per function.  Runs in the guest (busybox sh) with the dbnic modules,
# lib.sh, user-lib.sh and dbnic-tool in $DBNIC_DIR (/dbnic).  The core
# adds one auxiliary device per function (dbnic_core.dma.<id>,
# dbnic_core.cdev.<id>), each bound by its own module; unloading one
# function leaves the other working, and loading it again brings it
# back; unloading the core removes the auxiliary devices.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
AUX=/sys/bus/auxiliary/devices
CHANNELS=2	# the core's dma_queues default

# aux_dev FN: the auxiliary device of function FN, or nothing.
aux_dev() { first "$AUX"/dbnic_core."$1".*; }

# aux_driver FN: the name of the driver bound to FN's device, or nothing.
aux_driver() {
	d=$(aux_dev "$1")
	[ -n "$d" ] && [ -e "$d/driver" ] && basename "$(readlink -f "$d/driver")"
}

# check_bound FN DRIVER: FN's auxiliary device exists, is a child of the
# PCI device and is bound by DRIVER (<module>.<name>).
check_bound() {
	d=$(aux_dev "$1")
	if [ -z "$d" ]; then
		t_fail "$1: auxiliary device" "no $AUX/dbnic_core.$1.*"
		return
	fi
	t_ok "$1: auxiliary device ${d##*/}"
	case $(readlink -f "$d") in
	*/"$pci"/*) t_ok "$1: child of $pci" ;;
	*) t_fail "$1: child of $pci" "$(readlink -f "$d")" ;;
	esac
	drv=$(aux_driver "$1")
	if [ "$drv" = "$2" ]; then t_ok "$1: bound by $2"; else t_fail "$1: bound by $2" "driver '$drv'"; fi
}

# nchans: the dmaengine channels of the device.
nchans() {
	n=0
	for c in /sys/class/dma/dma*chan*; do
		[ -e "$c" ] || continue
		case $(readlink -f "$c/device") in
		*/"$pci") n=$((n + 1)) ;;
		esac
	done
	echo $n
}

copy_ok() {
	t_check "$1" "$TOOL" copy --size 64K --count 50 --path prio --verify
}

load_dbnic
pci=
for p in /sys/bus/pci/drivers/dbnic/0000:*; do
	[ -e "$p" ] && pci=${p##*/}
done
t_check "PCI device bound to dbnic" test -n "$pci"
ls -l "$AUX"

echo "== every function bound by its own driver"
check_bound dma dbnic_dma.dma
check_bound cdev dbnic_cdev.cdev
t_check "$CHANNELS dmaengine channels" test "$(nchans)" = $CHANNELS
t_check "/dev/dbnic0" test -c /dev/dbnic0
t_check "debugfs dma file" test -f "$dbg/dma"
copy_ok "user copy"

echo "== unload dbnic_dma: the cdev works on"
t_check "rmmod dbnic_dma" rmmod dbnic_dma
t_check "no dmaengine channel" test "$(nchans)" = 0
t_check "dma: device stays, unbound" sh -c "test -n '$(aux_dev dma)' && test -z '$(aux_driver dma)'"
t_check "debugfs dma file gone" test ! -e "$dbg/dma"
check_bound cdev dbnic_cdev.cdev
copy_ok "user copy without dbnic_dma"

echo "== load dbnic_dma again: the channels are back"
t_check "insmod dbnic_dma" insmod "$DIR/dbnic_dma.ko"
check_bound dma dbnic_dma.dma
t_check "$CHANNELS dmaengine channels again" test "$(nchans)" = $CHANNELS
if [ -e "$dbg/dma_selftest" ]; then
	t_report "dma_selftest after reload" "$dbg/dma_selftest"
else
	t_fail "dma_selftest after reload" "no $dbg/dma_selftest"
fi

echo "== unload dbnic_cdev: the channels work on"
t_check "rmmod dbnic_cdev" rmmod dbnic_cdev
t_check "/dev/dbnic0 gone" test ! -e /dev/dbnic0
t_check "cdev: device stays, unbound" sh -c "test -n '$(aux_dev cdev)' && test -z '$(aux_driver cdev)'"
t_check "$CHANNELS dmaengine channels without dbnic_cdev" test "$(nchans)" = $CHANNELS
if [ -e "$dbg/dma_sync_test" ]; then
	t_report "dma_sync_test without dbnic_cdev" "$dbg/dma_sync_test"
else
	t_fail "dma_sync_test without dbnic_cdev" "no $dbg/dma_sync_test"
fi
t_check "insmod dbnic_cdev" insmod "$DIR/dbnic_cdev.ko"
check_bound cdev dbnic_cdev.cdev
t_check "/dev/dbnic0 back" test -c /dev/dbnic0
copy_ok "user copy after reload"

echo "== unbind and bind the PCI device: functions and test files come back"
DRV=/sys/bus/pci/drivers/dbnic
t_check "unbind" sh -c "echo $pci > $DRV/unbind"
t_check "no auxiliary device while unbound" test -z "$(first "$AUX"/dbnic_core.*)"
t_check "bind" sh -c "echo $pci > $DRV/bind"
check_bound dma dbnic_dma.dma
check_bound cdev dbnic_cdev.cdev
dbg=$(first /sys/kernel/debug/dbnic/0000:*)
# dbnic_test.ko adds its files to a device bound after it was loaded.
if [ -e "$dbg/selftest" ]; then
	t_report "selftest after rebind" "$dbg/selftest"
else
	t_fail "selftest after rebind" "no $dbg/selftest"
fi
copy_ok "user copy after rebind"

echo "== unload: the core removes the auxiliary devices"
t_check "rmmod dbnic_core refused while functions are loaded" sh -c '! rmmod dbnic_core 2>/dev/null'
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_check "no auxiliary device left" test -z "$(first "$AUX"/dbnic_core.*)"

echo "== kernel log"
dmesg | grep -i dbnic | tail -n 30
t_dmesg_clean "dmesg clean"
t_done

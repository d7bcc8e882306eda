# Runs in the guest for scripts/demo.sh.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
echo "== lspci: the dbnic device"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1234:0xdb1c" ] &&
		echo "$(basename "$d") vendor 0x1234 device 0xdb1c"
done
echo "== load the dbnic modules"
dbnic_load || exit 1
dmesg | grep 'dbnic' | tail -n 3
echo "== selftest: NOP and copy through the ring and the priority area"
cat /sys/kernel/debug/dbnic/*/selftest
echo "== user space: a process copies through its own doorbell page"
/dbnic/dbnic-tool copy --size 64K --count 200 --path prio --verify
echo "== device counters"
cat /sys/kernel/debug/dbnic/*/counters

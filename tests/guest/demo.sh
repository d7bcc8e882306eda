# Runs in the guest for scripts/demo.sh: in each of two guests (run-guest.sh
# --guests 2 --nic dbnic) or, with --shell, in the one guest.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
# Guest 0 (or the only guest) shows the device and its engine; the
# network part needs both.
if [ "${NET_GUEST:-0}" = 0 ]; then
	echo "== lspci: the dbnic device"
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x1234:0xdb1c" ] &&
			echo "$(basename "$d") vendor 0x1234 device 0xdb1c"
	done
fi
echo "== load the dbnic modules"
dbnic_load || exit 1
dmesg | grep 'dbnic' | tail -n 3
if [ "${NET_GUEST:-0}" = 0 ]; then
	echo "== selftest: NOP and copy through the ring and the priority area"
	cat /sys/kernel/debug/dbnic/*/selftest
	echo "== user space: a process copies through its own doorbell page"
	/dbnic/dbnic-tool copy --size 64K --count 200 --path prio --verify
	echo "== device counters"
	cat /sys/kernel/debug/dbnic/*/counters
fi
[ -n "$NET_GUEST" ] || exit 0

echo "== two guests on one network, each through its dbnic (dbnic_eth.ko)"
peer=$((1 - NET_GUEST))
net_up
net_ping "$peer" 4
net_ping "$peer" 6
echo "== 4 MiB from guest 1 to guest 0 through nc, sha256 on both ends"
net_xfer "4 MiB g1->g0, sha256 of both ends" 1 0 4
if [ "$NET_GUEST" = 0 ]; then
	echo "== guest 0's ethtool -S: its ACKs went inline through the priority area (txN_inline); the device ran them with no host-memory read (dev_eth_tx_inline), or from their ring copy when it found one torn (txN_prio_ring)"
	/usr/sbin/ethtool -S "$NET_IF" | grep -E '^ *(tx[0-9]+_(packets|ring|inline|prio_ring)|rx[0-9]+_packets|dev_eth_(tx|tx_inline|rx)):'
fi
t_done

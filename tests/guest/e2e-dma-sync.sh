# End-to-end test of dmaengine_terminate_sync() on a slow device: with
# the PCIe timing model at 100 ms per DMA round trip, 128 memcpys of
# 1 MiB take longer than any fixed wait (about 14 s per channel).  The
# driver's debugfs dma_sync_test issues them, calls terminate_sync,
# reuses the destination, and proves with a fenced memcpy behind them
# that the device wrote nothing there after terminate_sync returned.
# Then the driver must unload cleanly.  Runs in the guest (busybox sh)
# with the dbnic modules and lib.sh in $DBNIC_DIR.
#
# run-guest: --dbnic-opts dma-latency-ns=100000000
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"

if ! dbnic_load; then
	t_fail "load dbnic" "insmod failed"
	t_done
	exit 1
fi
t_ok "load dbnic"
dbg=
for d in /sys/kernel/debug/dbnic/0000:*; do
	[ -d "$d" ] && dbg=$d
done
if [ -f "$dbg/dma_sync_test" ]; then
	t_report "dma_sync_test" "$dbg/dma_sync_test"
else
	t_fail "dma_sync_test" "no $dbg/dma_sync_test"
fi
awk '/^channel / || /^dma_(in_flight|terminated|failed) /' "$dbg/dma"
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_dmesg_clean "dmesg clean"
t_done

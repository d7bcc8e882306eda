# run-guest: --guests 2 --nic dbnic --dbnic-opts roce=on --timeout 300 --append dma_debug=off
# librdmacm's rping between two guests on dbnic (issue 9): rdma_cm over
# the kernel's CM (GSI QP), then RDMA READ and WRITE of each ping's
# buffer; -V checks every ping's data.  Over IPv4 with 1 KiB pings, and
# over IPv6.
#
# DMA-API debugging is off in these two guests, and only here.  rping
# registers its send and receive buffers, two 16-byte fields of one
# struct, as two memory regions; ib_umem_get() maps each with
# dma_map_sgtable() (bidirectional, no DMA_ATTR_SKIP_CPU_SYNC), and
# CONFIG_DMA_API_DEBUG reports the second mapping of that cache line
# ("cacheline tracking EEXIST, overlapping mappings aren't supported").
# Every HCA driver that DMA-maps user memory through ib_umem meets it
# with rping; rxe does not map. It is reported once per boot, after
# which DMA-API debugging is silent, so it would hide every later
# report in the same guest: rping gets guests of its own rather than
# make that report noise in e2e-rdma.sh. KASAN, lockdep and kmemleak
# stay on.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
. "$DIR/rdma-lib.sh"

RDMA_DEV=dbnic0
peer=$((1 - NET_GUEST))
insmod "$DIR/dbnic_core.ko" && insmod "$DIR/dbnic_eth.ko"
net_up
net_ping "$peer" 4
net_ping "$peer" 6
if ! out=$(insmod "$DIR/dbnic_rdma.ko" 2>&1); then
	t_fail "dbnic_rdma loaded" "$out"
	NET_BROKEN=1
fi
if rdma_gid_index "$RDMA_DEV" 4 > /dev/null && rdma_gid_index "$RDMA_DEV" 6 > /dev/null; then
	t_ok "GIDs of this guest's IPv4 and IPv6 addresses"
else
	t_fail "GIDs of this guest's IPv4 and IPv6 addresses" "$(cat /sys/class/infiniband/$RDMA_DEV/ports/1/gids/* | tr '\n' ' ')"
	NET_BROKEN=1
fi
srv=$(net_ip4 "$RDMA_SERVER")
srv6=$(net_ip6 "$RDMA_SERVER")
rdma_pair "rping -V -C 10 -S 1024" cm:7174 \
	"rping -s -V -C 10 -S 1024 -a $srv" "rping -c -V -C 10 -S 1024 -a $srv"
rdma_pair "rping IPv6 -v -V -C 10" cm:7174 \
	"rping -s -v -V -C 10 -a $srv6" "rping -c -v -V -C 10 -a $srv6"
t_dmesg_clean "dmesg clean"
t_done

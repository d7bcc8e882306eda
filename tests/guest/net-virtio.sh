# run-guest: --guests 2 --nic virtio --timeout 600
# End-to-end network test between two guests, on QEMU's virtio-net: the
# reference NIC that proves the harness (net-lib.sh, run-guest.sh
# --guests) before the dbnic netdev tests use it, and the one they are
# compared with.  Both guests run this script (busybox sh) with lib.sh and
# net-lib.sh in $DBNIC_DIR (/dbnic), each taking its part by its index:
# addresses up, ping over IPv4 and IPv6 both ways, iperf3 TCP for 3 s in
# each direction (guest 0 serves), 8 MiB through nc from guest 1 to
# guest 0 with the sha256 of both ends compared by guest 0, and a clean
# kernel log.  Every guest's checks count.
#
# Not in the suite (scripts/test.sh runs tests/guest/e2e-*.sh): since
# e2e-net-dbnic.sh proves the same harness on dbnic, this reference run
# (about 90 s of two of the suite's slots) is run by hand (README,
# "Tests between guests"); `make bench` compares dbnic with virtio-net.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"

# Two guests: each one's peer is the other.
peer=$((1 - NET_GUEST))

net_up
net_ping "$peer" 4
net_ping "$peer" 6
net_iperf "net: iperf3 TCP g1->g0" 0 1 3
net_iperf "net: iperf3 TCP g0->g1" 0 1 3 -R
net_xfer "net: 8 MiB g1->g0, sha256 of both ends" 1 0 8
t_dmesg_clean "dmesg clean"
t_done

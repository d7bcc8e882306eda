# run-guest: --guests 2 --nic dbnic --dbnic-opts roce=on --timeout 600
# End-to-end test of the RDMA function (dbnic_rdma.ko, datasheet 11)
# through Debian's unmodified ibverbs-utils, perftest and rdmacm-utils
# over rdma-core 56.1 with the dbnic provider (scripts/build-rdma-core.sh).
# Two guests, each with one dbnic (roce=on) on the launcher's network;
# both run this script (busybox sh), guest 0 serves and guest 1 is the
# client of each tool pair (rdma-lib.sh).
#
# Checks, in order:
#  - ibv_devices lists dbnic0; ibv_devinfo -v: port 1 active, Ethernet;
#    the kernel's GID cache holds this guest's IPv4 and IPv6 addresses;
#    `rdma link` shows the port on the netdev;
#  - within each guest (loopback inside the device): ibv_rc_pingpong with
#    data checked, DBNIC_PRIORITY=always: the device ran WQEs from the
#    priority lane (prio_exec) and looped packets back (roce_loopback);
#    64-byte inline SENDs of our own (dbnic-rdma-isolation inline): under
#    always they left from the priority lane with no read of host memory
#    (roce_tx_inline), under never from the ring; data checked both ways;
#    a pingpong server killed with SIGKILL leaves no QP, CQ or MR of its
#    own behind (`rdma resource`);
#  - between the guests: ibv_rc_pingpong (64 B; 64 KiB = 64 packets at
#    path MTU 1024; 4 KiB over IPv6) and ibv_ud_pingpong with data
#    checked (-c); the six perftests; pingpong and two perftests under
#    each posting policy, the sender's counters showing the path: with
#    DBNIC_PRIORITY=never its device ran nothing from the priority lane
#    and fetched its WQEs from the ring, with always and auto it copied
#    every WQE; ib_send_lat in event mode (-e: completion channel);
#  - rdma_cm (the kernel's CM over the GSI QP): ib_send_bw -R and
#    ib_write_lat -R; rping -V over IPv4 (1 KiB) and IPv6, with DMA-API
#    debugging muted for the device while it runs (see there why);
#  - no RoCE packet was dropped as malformed, with a bad ICRC, for no QP
#    or out of sequence, and no QP went to ERR on its own;
#  - dmesg clean on both (the suite's kmemleak scan follows).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
. "$DIR/rdma-lib.sh"

PP_N=${PP_N:-20}
BW_N=${BW_N:-100}
LAT_N=${LAT_N:-100}
RDMA_DEV=dbnic0
peer=$((1 - NET_GUEST))

insmod "$DIR/dbnic_core.ko" && insmod "$DIR/dbnic_eth.ko"
net_up
# The netdev posts its small frames (the tools' TCP exchange) through the
# priority area too, and prio_exec counts the device's whole: with its
# inline path off, prio_exec counts the RDMA WQEs alone.
/usr/sbin/ethtool --set-priv-flags "$NET_IF" inline-prio off
net_ping "$peer" 4
net_ping "$peer" 6

if ! out=$(insmod "$DIR/dbnic_rdma.ko" 2>&1); then
	t_fail "dbnic_rdma loaded" "$out"
	NET_BROKEN=1
fi
end=$(($(net_now) + 10))
while ! rdma link show "$RDMA_DEV/1" > /dev/null 2>&1 && [ "$(net_now)" -lt "$end" ]; do
	sleep 0.2
done
out=$(rdma link show "$RDMA_DEV/1" 2>&1)
echo "$out"
case $out in
*"netdev $NET_IF"*) t_ok "rdma link: $RDMA_DEV/1 on $NET_IF" ;;
*) t_fail "rdma link: $RDMA_DEV/1 on $NET_IF" "$out" ;;
esac

rdma_check_port "$RDMA_DEV"
d="-d $RDMA_DEV"
ip4=$(net_ip4 "$NET_GUEST")

# --- within this guest: the device loops its own packets back ---------------
if [ "$NET_BROKEN" != 1 ]; then
	s0=$(stats)
	p0=$(stat prio_exec "$s0") l0=$(stat roce_loopback "$s0")
	c="env DBNIC_PRIORITY=always ibv_rc_pingpong $d -g $gid4 -c -n $PP_N -s 4096 -p 18600"
	sh -c "$c" > /tmp/lo-srv.out 2>&1 &
	srv=$!
	rdma_wait_listen tcp:18600 "$srv"
	if timeout 60 sh -c "$c $ip4" > /tmp/lo-cli.out 2>&1 && wait "$srv"; then
		t_ok "loopback: ibv_rc_pingpong -c -s 4096 within guest $NET_GUEST"
	else
		kill "$srv" 2>/dev/null
		t_fail "loopback: ibv_rc_pingpong -c -s 4096 within guest $NET_GUEST" "$(cat /tmp/lo-srv.out /tmp/lo-cli.out | tail -n 4 | tr '\n' ' ')"
	fi
	s1=$(stats)
	p1=$(stat prio_exec "$s1") l1=$(stat roce_loopback "$s1")
	echo "loopback: prio_exec +$((p1 - p0)), roce_loopback +$((l1 - l0))"
	# 2 x PP_N messages of 4 packets each way, and their ACKs.
	t_check "loopback: the device looped the packets back ($((l1 - l0)))" [ $((l1 - l0)) -ge $((8 * PP_N)) ]
	# Each side posts PP_N sends; a copy may fall back to its ring copy
	# (prio_fallback), so most, not all, ran from the lane.
	t_check "loopback: DBNIC_PRIORITY=always ran WQEs from the priority lane ($((p1 - p0)))" \
		[ $((p1 - p0)) -ge "$PP_N" ]

	# Inline SENDs (64 bytes in the WQE, source not registered) through
	# the loopback: under always the device ran them from the priority
	# lane and read nothing from host memory (roce_tx_inline counts
	# them); under never they came from the ring, data intact as well.
	for pol in always never; do
		s0=$(stats)
		out=$(env DBNIC_PRIORITY=$pol timeout 60 "$DIR/dbnic-rdma-isolation" inline "$RDMA_DEV" "$gid4" "$PP_N" 2>&1)
		rc=$?
		s1=$(stats)
		i=$(($(stat roce_tx_inline "$s1") - $(stat roce_tx_inline "$s0")))
		e=$(($(stat prio_exec "$s1") - $(stat prio_exec "$s0")))
		echo "$out" | sed 's/^/  inl| /'
		echo "inline ($pol): roce_tx_inline +$i, prio_exec +$e"
		t_check "loopback: $PP_N inline SENDs ($pol) arrived intact ($(echo "$out" | tail -n 1))" [ "$rc" = 0 ]
		case $pol in
		always) t_check "loopback: inline SENDs (always) left from the priority lane, no host read (roce_tx_inline +$i)" \
			[ "$i" -ge $((PP_N / 2)) ] ;;
		never) t_check "loopback: inline SENDs (never) came from the ring (roce_tx_inline +$i, prio_exec +$e)" \
			[ "$i" -eq 0 -a "$e" -eq 0 ] ;;
		esac
	done

	# SIGKILL in the middle of a run: the kernel destroys what the
	# process had; only the kernel's own objects stay.
	ibv_rc_pingpong -d "$RDMA_DEV" -g "$gid4" -n 100000 -p 18601 > /dev/null 2>&1 &
	srv=$!
	rdma_wait_listen tcp:18601 "$srv"
	timeout 60 ibv_rc_pingpong -d "$RDMA_DEV" -g "$gid4" -n 100000 -p 18601 "$ip4" > /dev/null 2>&1 &
	cli=$!
	sleep 3
	kill -9 "$srv" "$cli" 2>/dev/null
	wait "$srv" "$cli" 2>/dev/null
	sleep 1
	left=$(rdma resource show qp 2>&1 | grep -v 'comm \[' || true)
	left="$left$(rdma resource show mr 2>&1 | grep -v 'comm \[' || true)"
	left="$left$(rdma resource show cq 2>&1 | grep -v 'comm \[' || true)"
	rdma resource show
	t_check "SIGKILL: no QP, CQ or MR of the killed processes is left ($left)" [ -z "$left" ]
fi

# prio_back [SNAPSHOT]: priority copies that did not run from the lane
# (datasheet 3.2: each counted in exactly one of these).
prio_back() {
	echo $(($(stat prio_fallback "$1") + $(stat prio_torn "$1") + $(stat prio_stale "$1")))
}
# prio_pair POLICY N NAME CMD [inline]: a tool pair with DBNIC_PRIORITY=
# POLICY on both ends, the client sending N WQEs one at a time; the
# sender (the client) checks which path its device ran (datasheet 3.2,
# 11.3):
#  - never: nothing ran from the priority lane or fell back from it, and
#    the device fetched at least N WQEs from the ring;
#  - always, and auto (a lone WQE, which is how these tools post, is
#    copied as under always): at least N copies, each counted once, as
#    run from the lane or fallen back to its ring copy (a 10 ms flush
#    timeout when the vCPU is descheduled in the middle of a copy);
#    under always at least half ran from the lane;
#  - inline: the messages' data was inline in WQEs that ran from the
#    priority lane, so the device read nothing from host memory for at
#    least half of them (roce_tx_inline).
# The netdev's own frames (the tools' TCP exchange) go through the ring:
# they add to ring_fetch under every policy.
prio_pair() {
	_pp_s0=$(stats)
	rdma_pair "$3 ($1)" tcp:18515 "env DBNIC_PRIORITY=$1 $4" "env DBNIC_PRIORITY=$1 $4 $srv"
	[ "$NET_GUEST" = "$RDMA_CLIENT" ] || return 0
	_pp_s1=$(stats)
	_pp_f=$(($(stat prio_exec "$_pp_s1") - $(stat prio_exec "$_pp_s0")))
	_pp_r=$(($(stat ring_fetch "$_pp_s1") - $(stat ring_fetch "$_pp_s0")))
	_pp_b=$(($(prio_back "$_pp_s1") - $(prio_back "$_pp_s0")))
	_pp_i=$(($(stat roce_tx_inline "$_pp_s1") - $(stat roce_tx_inline "$_pp_s0")))
	echo "$3 ($1): prio_exec +$_pp_f, ring_fetch +$_pp_r, copies that fell back +$_pp_b, roce_tx_inline +$_pp_i"
	case $1 in
	never) t_check "$3 (never): no WQE from the priority lane, $_pp_r from the ring" \
		[ "$_pp_f" -eq 0 -a "$_pp_b" -eq 0 -a "$_pp_r" -ge "$2" ] ;;
	always) t_check "$3 (always): every WQE copied ($_pp_f ran from the priority lane, $_pp_b fell back)" \
		[ $((_pp_f + _pp_b)) -ge "$2" -a "$_pp_f" -ge $(($2 / 2)) ] ;;
	auto) t_check "$3 (auto): every lone WQE copied ($_pp_f ran from the priority lane, $_pp_b fell back)" \
		[ $((_pp_f + _pp_b)) -ge "$2" ] ;;
	esac
	[ "$5" != inline ] ||
		t_check "$3 ($1): inline data sent from the priority lane, no host read ($_pp_i)" \
			[ "$_pp_i" -ge $(($2 / 2)) ]
}

srv=$(net_ip4 "$RDMA_SERVER")
# --- between the guests -----------------------------------------------------
# Pingpong under each posting policy, data checked (-c).
prio_pair never "$PP_N" "ibv_rc_pingpong -s 64" "ibv_rc_pingpong $d -g $gid4 -c -n $PP_N -s 64"
prio_pair always "$PP_N" "ibv_rc_pingpong -s 65536" "ibv_rc_pingpong $d -g $gid4 -c -n $PP_N -s 65536"
prio_pair auto "$PP_N" "ibv_rc_pingpong IPv6 -s 4096" "ibv_rc_pingpong $d -g $gid6 -c -n $PP_N -s 4096"
c="ibv_ud_pingpong $d -g $gid4 -c -n $PP_N -s 1024"
rdma_pair "ibv_ud_pingpong -s 1024" tcp:18515 "$c" "$c $srv"

# The six perftests.  perftest turns inline off on a device it does not
# know, -I too ("Device not recognized to implement inline feature").
# -F: no cpufreq warning (a guest has no cpufreq).
prio_pair never "$BW_N" "ib_send_bw -s 4096" "ib_send_bw $d -x $gid4 -F -n $BW_N -s 4096"
# -e: completions through a completion channel (ibv_req_notify_cq), which
# perftest re-arms before it polls what woke it.
prio_pair always "$LAT_N" "ib_send_lat -e -s 64" "ib_send_lat $d -x $gid4 -F -n $LAT_N -s 64 -e"
prio_pair auto "$BW_N" "ib_write_bw -s 4096" "ib_write_bw $d -x $gid4 -F -n $BW_N -s 4096"
prio_pair always "$LAT_N" "ib_write_lat -s 64" "ib_write_lat $d -x $gid4 -F -n $LAT_N -s 64"
prio_pair auto "$BW_N" "ib_read_bw -s 4096" "ib_read_bw $d -x $gid4 -F -n $BW_N -s 4096"
prio_pair never "$LAT_N" "ib_read_lat -s 64" "ib_read_lat $d -x $gid4 -F -n $LAT_N -s 64"

# rdma_cm (perftest -R): the kernel's CM over the GSI QP (QP1, its MADs
# as UD packets), addresses and routes resolved from the netdev.
rdma_pair "ib_send_bw -R -s 4096" cm:18515 "ib_send_bw $d -R -F -n $BW_N -s 4096" \
	"ib_send_bw $d -R -F -n $BW_N -s 4096 $srv"
rdma_pair "ib_write_lat -R -s 64" cm:18515 "ib_write_lat $d -R -F -n $LAT_N -s 64" \
	"ib_write_lat $d -R -F -n $LAT_N -s 64 $srv"

# rping (librdmacm): rdma_cm, then RDMA READ and WRITE of each ping's
# buffer; -V checks every ping's data.  Last, and with DMA-API debugging
# muted for the dbnic device while it runs: rping registers its send and
# receive buffers, two 16-byte fields of one struct, as two memory
# regions; ib_umem_get() maps each with dma_map_sgtable() (bidirectional,
# no DMA_ATTR_SKIP_CPU_SYNC), and CONFIG_DMA_API_DEBUG reports the second
# mapping of that cache line ("cacheline tracking EEXIST, overlapping
# mappings aren't supported").  Every HCA driver that DMA-maps user
# memory through ib_umem meets it with rping (rxe maps nothing).  So
# DMA-API debugging must have found nothing up to here (its error
# count), then its driver filter mutes the device for rping alone; KASAN,
# lockdep and kmemleak stay on.
DMA_API=/sys/kernel/debug/dma-api
e=$(cat "$DMA_API/error_count" 2>/dev/null || echo missing)
t_check "DMA-API debugging found nothing before rping (error_count $e)" [ "$e" = 0 ]
echo none > "$DMA_API/driver_filter"
rdma_pair "rping -V -C 10 -S 1024" cm:7174 \
	"rping -s -V -C 10 -S 1024 -a $srv" "rping -c -V -C 10 -S 1024 -a $srv"
rdma_pair "rping IPv6 -v -V -C 10" cm:7174 \
	"rping -s -v -V -C 10 -a $(net_ip6 "$RDMA_SERVER")" "rping -c -v -V -C 10 -a $(net_ip6 "$RDMA_SERVER")"
echo > "$DMA_API/driver_filter"
echo 1 > "$DMA_API/num_errors"

s1=$(stats)
for n in roce_rx_bad_hdr roce_rx_bad_icrc roce_rx_no_qp roce_rx_seq roce_qp_err; do
	v=$(stat $n "$s1")
	t_check "counter $n is 0 ($v)" [ "$v" = 0 ]
done
# Isolation between processes and guests (issue 9); after the counter
# checks above, as its attacks move QPs to ERR on purpose.
. "$DIR/rdma-isolation.sh" && rdma_isolation "$RDMA_DEV" "$gid4"
rdma statistic show link "$RDMA_DEV/1"
t_dmesg_clean "dmesg clean"
t_done

# run-guest: --guests 2 --nic dbnic --dbnic-opts roce=on --host-actions --timeout 420
# The emulated port's fault injection (datasheet 11.11), set while the
# guest runs: guest 0 asks the launcher for QMP qom-set (run-guest.sh
# --host-actions, "DBNIC-HOST qom-set dbnic0 PROP VALUE") and watches its
# own device's counters in `rdma statistic` (the driver shows the
# ROCE_FAULT_* counters there).  Traffic is ibv_ud_pingpong within guest
# 0, looped back inside the device: UD needs no retransmission, so a
# duplicate is simply a second packet.  Guest 1 only gives guest 0 its
# network (net-lib.sh needs two guests) and ends after the set-up.
#
# Checks, on guest 0:
#  - faults off (the default): a data-checked pingpong, no fault counted;
#  - qom-set roce-tx-dup 1000000: every packet the port sends is sent
#    twice, so roce_fault_tx_dup grows by the packets sent and the port
#    takes twice as many (roce_tx_pkts);
#  - qom-set roce-tx-dup 0: it stops; a data-checked pingpong again, and
#    roce_fault_tx_dup does not move.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
. "$DIR/rdma-lib.sh"

PP_N=${PP_N:-20}
RDMA_DEV=dbnic0
d="-d $RDMA_DEV"

insmod "$DIR/dbnic_core.ko" && insmod "$DIR/dbnic_eth.ko"
net_up
if ! out=$(insmod "$DIR/dbnic_rdma.ko" 2>&1); then
	t_fail "dbnic_rdma loaded" "$out"
	NET_BROKEN=1
fi
net_barrier "rdma fault: set up"
if [ "$NET_GUEST" != 0 ]; then
	# Guest 0 works alone from here, on loopback: nothing needs us.
	t_dmesg_clean "dmesg clean"
	t_done
	exit
fi

end=$(($(net_now) + 10))
while ! rdma link show "$RDMA_DEV/1" > /dev/null 2>&1 && [ "$(net_now)" -lt "$end" ]; do
	sleep 0.2
done
gid4=$(rdma_gid_index "$RDMA_DEV" 4) || NET_BROKEN=1
ip4=$(net_ip4 "$NET_GUEST")
t_check "rdma_statistic shows roce_fault_tx_dup" [ "$(stat roce_fault_tx_dup)" != -1 ]

# pingpong PORT N [-c]: one ibv_ud_pingpong of N 1 KiB messages within
# this guest; its status (the client's and the server's).
pingpong() {
	_c="ibv_ud_pingpong $d -g $gid4 -n $2 -s 1024 -p $1 $3"
	sh -c "$_c" > /tmp/pp-srv.out 2>&1 &
	_srv=$!
	rdma_wait_listen "tcp:$1" "$_srv"
	if timeout 60 sh -c "$_c $ip4" > /tmp/pp-cli.out 2>&1 && wait "$_srv"; then
		return 0
	fi
	kill "$_srv" 2>/dev/null
	wait "$_srv" 2>/dev/null
	cat /tmp/pp-srv.out /tmp/pp-cli.out | tail -n 4
	return 1
}

# qom_set PROP VALUE: ask the launcher, then wait (up to 60 s of probe
# pingpongs) until the device behaves as asked: roce_fault_tx_dup moves
# under a probe when VALUE is not 0, stands still when it is.
qom_set() {
	echo "DBNIC-HOST qom-set $RDMA_DEV $1 $2"
	_q_end=$(($(net_now) + 60))
	_q_port=18700
	while [ "$(net_now)" -lt "$_q_end" ]; do
		_q0=$(stat roce_fault_tx_dup)
		pingpong "$_q_port" 2 > /dev/null
		_q1=$(stat roce_fault_tx_dup)
		_q_port=$((_q_port + 1))
		if [ "$2" = 0 ]; then
			[ "$_q1" = "$_q0" ] && return 0
		else
			[ "$_q1" -gt "$_q0" ] && return 0
		fi
	done
	return 1
}

if [ "$NET_BROKEN" != 1 ]; then
	s0=$(stats)
	out=$(pingpong 18600 "$PP_N" -c)
	rc=$?
	t_check "faults off: ibv_ud_pingpong -c within guest 0 ($out)" [ "$rc" = 0 ]
	s1=$(stats)
	for n in roce_fault_rx_drop roce_fault_rx_dup roce_fault_rx_reorder \
		roce_fault_rx_delay roce_fault_rx_corrupt roce_fault_tx_drop \
		roce_fault_tx_dup roce_fault_tx_reorder roce_fault_tx_delay \
		roce_fault_tx_corrupt roce_fault_hold_full; do
		v=$(stat $n "$s1")
		t_check "faults off: $n is 0 ($v)" [ "$v" = 0 ]
	done

	# Not under t_check: its output must reach the console, unquoted.
	if qom_set roce-tx-dup 1000000; then
		t_ok "qom-set roce-tx-dup 1000000 took effect"
	else
		t_fail "qom-set roce-tx-dup 1000000 took effect" "roce_fault_tx_dup did not move in 60 s"
	fi
	s0=$(stats)
	pingpong 18610 "$PP_N" > /dev/null
	s1=$(stats)
	dup=$(($(stat roce_fault_tx_dup "$s1") - $(stat roce_fault_tx_dup "$s0")))
	tx=$(($(stat roce_tx_pkts "$s1") - $(stat roce_tx_pkts "$s0")))
	echo "tx dup 100%: roce_fault_tx_dup +$dup, roce_tx_pkts +$tx"
	# UD: each message is one packet; both ends send PP_N at least.
	t_check "tx dup 100%: every packet duplicated (dup +$dup >= $PP_N)" [ "$dup" -ge "$PP_N" ]
	t_check "tx dup 100%: the port sent each twice (tx_pkts +$tx = 2 x $dup)" [ "$tx" -eq $((2 * dup)) ]

	if qom_set roce-tx-dup 0; then
		t_ok "qom-set roce-tx-dup 0 took effect"
	else
		t_fail "qom-set roce-tx-dup 0 took effect" "roce_fault_tx_dup still moved after 60 s"
	fi
	s0=$(stats)
	out=$(pingpong 18620 "$PP_N" -c)
	rc=$?
	t_check "faults off again: ibv_ud_pingpong -c within guest 0 ($out)" [ "$rc" = 0 ]
	s1=$(stats)
	dup=$(($(stat roce_fault_tx_dup "$s1") - $(stat roce_fault_tx_dup "$s0")))
	t_check "faults off again: roce_fault_tx_dup stands still (+$dup)" [ "$dup" = 0 ]
fi
rdma statistic show link "$RDMA_DEV/1"
t_dmesg_clean "dmesg clean"
t_done

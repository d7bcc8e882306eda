# shellcheck shell=sh
# Guest side of scripts/bench.sh's RDMA benchmarks (busybox sh): two
# guests (scripts/run-guest.sh --guests 2 --nic dbnic --nic2 virtio
# --dbnic-opts roce=on[,timing=...]), each with a dbnic on the guests'
# network and a virtio-net NIC on a second one, both running this script
# with lib.sh, net-lib.sh, rdma-lib.sh and the dbnic modules in
# $DBNIC_DIR (/dbnic).  Guest 0 serves, guest 1 is the client of each
# perftest pair (rdma-lib.sh's rdma_pair).  Numbers, not pass/fail: the
# status is non-zero only when a dbnic benchmark did not run, or did not
# run the way its mode says.
#
#   sh bench-rdma.sh MODES [LAT-N [BW-N [BIG-N [TIMEOUT [ROUNDS [TESTS [LOSS]]]]]]]
#
# MODES, any of: "always" and "never" (dbnic0, the provider's
# DBNIC_PRIORITY on both ends: every WQE copied into the priority area,
# or only rung through the doorbell and fetched from the ring), "rxe"
# (Linux's soft RoCE on the virtio-net NIC, rdma link add rxe0).  The
# benchmarks, each run once per mode before the next one (the modes of
# one pair see the host's load of the same minute):
#   ib_send_lat, ib_write_lat  64 B, 4 KiB, 64 KiB; LAT-N (200) iterations
#   ib_send_bw                 64 B, 4 KiB, 64 KiB; BW-N (200) iterations
#   ib_write_bw                1 MiB; BIG-N (20) iterations
# ROUNDS (1) times each, the modes still taking turns (one table line
# per round: scripts/bench-report.py takes their median); all with -F
# (a guest has no cpufreq) and -x the GID of the NIC's IPv4
# address (RoCE v2).  Each pair may take TIMEOUT (60) s; one that does
# not finish, or fails, is "n/a" with the reason (rxe under TCG
# retransmits: its 64 KiB pingpongs have stalled before).
# TESTS, the benchmarks to run as TOOL:SIZE words, of those above ("-" or
# none: all).  LOSS (scripts/bench.sh's loss rows, issue 10): the share
# of the packets each guest transmits that the network loses, in percent.
# dbnic's loss is the device's fault injection, set by the host on both
# guests' ports (roce-tx-drop, datasheet 11.11): this script only checks
# that its own port dropped some.  rxe's is netem on this guest's
# virtio-net NIC, set up here once the peer answers on it:
#   tc qdisc add dev IF root netem loss LOSS%
# With LOSS given (0 too), each guest prints the counters that explain
# the recovery, its own, between "DBNIC-BENCH-BEGIN rdma-counters" and
# "DBNIC-BENCH-END rdma-counters": "dbnic0 NAME VALUE" (the counters of
# 11.9 named in LOSS_STATS below, since boot), "rxe0 NAME VALUE" (rxe's
# counters that are not 0) and "qdisc IF sent N dropped N" (IF's root
# qdisc: netem's count when LOSS is not 0).
#
# Guest 1 prints, per mode, one table between "DBNIC-BENCH-BEGIN
# rdma-MODE" and "DBNIC-BENCH-END rdma-MODE": "#" lines (the commands),
# then one line per benchmark:
#   ib_send_lat 64 typ=T avg=A min=M   t_typical, t_avg, t_min, usec
#   ib_send_bw 64 bw=B mpps=M      BW average, MB/s, and MsgRate, Mpps
#   ib_send_lat 65536 n/a REASON
# and for dbnic modes the client's device counters over the mode's
# benchmarks (prio_exec, ring_fetch, prio_fallback + prio_torn +
# prio_stale as prio_back).  Each dbnic pair is checked on the client
# (the sender of every benchmark): with "never" its device ran nothing
# from the priority lane and fetched at least the iterations from the
# ring; with "always" every WQE was copied into the priority area (each
# copy then ran from the lane or fell back to its ring copy, counted:
# datasheet 3.2) and at least one ran from the lane.  At depth most
# copies fall back: a copy never overtakes its QP's earlier WQEs (11.3),
# and a bandwidth test keeps the send queue full.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
. "$DIR/rdma-lib.sh"
ETHTOOL=/usr/sbin/ethtool
# iproute2's tc: busybox's tc applet has no netem (and busybox sh would
# run its applet for a bare "tc").
TC=/usr/sbin/tc
MODES=${1:-always never rxe}
LAT_N=${2:-200}
BW_N=${3:-200}
BIG_N=${4:-20}
RDMA_TIMEOUT=${5:-60}
ROUNDS=${6:-1}
TESTS=${7:--}
LOSS=${8:-}
[ "$TESTS" = - ] && TESTS="ib_send_lat:64 ib_send_lat:4096 ib_send_lat:65536
	ib_write_lat:64 ib_write_lat:4096 ib_write_lat:65536
	ib_send_bw:64 ib_send_bw:4096 ib_send_bw:65536 ib_write_bw:1048576"
# dbnic's counters that show a loss and its recovery (datasheet 11.9-11.11):
# packets sent and received, dropped by the fault injector, sent again,
# and why (timer, sequence NAK), the responder's duplicates and PSNs
# ahead, NAKs, WQEs whose retries ran out.
LOSS_STATS="roce_tx_pkts roce_rx_pkts roce_fault_tx_drop roce_retx_pkts roce_retry_timeout
	roce_retry_seq roce_rx_dup roce_rx_seq roce_nak_tx roce_nak_rx roce_retry_exc"
peer=$((1 - NET_GUEST))
status=0

# The second network's address plan (run-guest.sh --nic2): guest I is
# 10.78.0.<I+1>/24 on the NIC with MAC dbnic_mac2.
ip4b() { echo "10.78.0.$(($1 + 1))"; }

# Kernel messages would land in the middle of the tables (dmesg keeps them).
echo 1 > /proc/sys/kernel/printk

# stat NAME: this guest's dbnic0 counter NAME (datasheet 11.9) as `rdma
# statistic` shows it.
stat() {
	rdma statistic show link dbnic0/1 2>/dev/null |
		tr ' ' '\n' | awk -v n="$1" 'f { print; exit } $0 == n { f = 1 }'
}
prio_back() {
	echo $(($(stat prio_fallback) + $(stat prio_torn) + $(stat prio_stale)))
}

# --- set-up: dbnic (RDMA on dbnic0), then rxe on the virtio-net NIC -----------
for ko in dbnic_core dbnic_eth dbnic_rdma; do
	insmod "$DIR/$ko.ko" || { echo "insmod $ko.ko failed"; dmesg | tail -n 30; exit 1; }
done
net_up || exit 1
# The netdev's own frames (the tools' TCP exchange, barriers) go through
# the ring: prio_exec then counts RDMA WQEs alone.
$ETHTOOL --set-priv-flags "$NET_IF" inline-prio off || exit 1
echo "guest: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

MAC2=$(net_param dbnic_mac2) || MAC2=
IF2=
case " $MODES " in
*" rxe "*)
	[ -n "$MAC2" ] || { echo "no dbnic_mac2 on the kernel command line (run-guest.sh --nic2 virtio)"; exit 1; }
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address" 2>/dev/null)" = "$MAC2" ] && IF2=${d##*/}
	done
	[ -n "$IF2" ] || { echo "no interface with MAC $MAC2"; exit 1; }
	ip link set "$IF2" up && ip addr add "$(ip4b "$NET_GUEST")/24" dev "$IF2" || exit 1
	# rdma_rxe and what it needs: the bench kernel's own modules when
	# bench.sh put them in kmod/ (in load order), else the image's.
	if [ -d "$DIR/kmod" ]; then
		for ko in "$DIR"/kmod/*.ko; do
			# NN-name.ko; one already loaded (a dependency the
			# kernel asked for) stays.
			m=${ko##*/}
			m=${m#*-}
			[ -d "/sys/module/$(echo "${m%.ko}" | tr - _)" ] && continue
			insmod "$ko" || { echo "insmod $ko failed"; exit 1; }
		done
	else
		modprobe rdma_rxe || exit 1
	fi
	rdma link add rxe0 type rxe netdev "$IF2" || exit 1
	;;
esac
rdma link show
net_wait_peer "$peer" || { echo "guest $peer does not answer on $NET_IF"; exit 1; }
ping -c 1 "$(net_ip4 "$peer")" > /dev/null
if [ -n "$IF2" ]; then
	_end=$(($(net_now) + 30))
	until ping -c 1 -W 1 "$(ip4b "$peer")" > /dev/null 2>&1; do
		[ "$(net_now)" -lt "$_end" ] || { echo "guest $peer does not answer on $IF2"; exit 1; }
	done
	# The lossy network for rxe: netem drops LOSS% of what this guest
	# sends on IF2 (RoCE and the tools' TCP exchange alike).
	if [ -n "$LOSS" ] && [ "$LOSS" != 0 ]; then
		$TC qdisc add dev "$IF2" root netem loss "$LOSS%" || { echo "netem on $IF2 failed"; exit 1; }
		$TC qdisc show dev "$IF2"
	fi
fi

# Per mode: the device, its GID index, the server's address, the env.
gid_dbnic=$(rdma_gid_of dbnic0 "::ffff:$(net_ip4 "$NET_GUEST")") || { echo "dbnic0 has no GID for $(net_ip4 "$NET_GUEST")"; exit 1; }
if [ -n "$IF2" ]; then
	gid_rxe=$(rdma_gid_of rxe0 "::ffff:$(ip4b "$NET_GUEST")") || { echo "rxe0 has no GID for $(ip4b "$NET_GUEST")"; exit 1; }
fi
net_barrier "rdma bench: set up" || exit 1

# run_one MODE TOOL SIZE N: one pair; on the client, its table line.
run_one() {
	case $1 in
	rxe) _dev=rxe0 _gid=$gid_rxe _srv=$(ip4b "$RDMA_SERVER") _env= ;;
	*) _dev=dbnic0 _gid=$gid_dbnic _srv=$(net_ip4 "$RDMA_SERVER") _env="env DBNIC_PRIORITY=$1 " ;;
	esac
	_c="$_env$2 -d $_dev -x $_gid -F -n $4 -s $3"
	tab=/tmp/bench-rdma.$1.tab
	if [ "$NET_GUEST" = "$RDMA_CLIENT" ] && [ "$1" != rxe ]; then
		_f0=$(stat prio_exec) _r0=$(stat ring_fetch) _b0=$(prio_back)
	fi
	# rdma_pair leaves the client's status in _rp_rc, if it ran the tool.
	_rp_rc=
	rdma_pair "$2 -s $3 ($1)" tcp:18515 "$_c" "$_c $_srv"
	_ok=$?
	[ "$NET_GUEST" = "$RDMA_CLIENT" ] || return 0
	grep -q " $2 -d " "$tab.cmds" 2>/dev/null ||
		echo "# $_c $_srv   (guest 0: $_c)" | sed 's/ -s [0-9]*/ -s SIZE/g' >> "$tab.cmds"
	# perftest 4.5's result line: the size first.  Latency: #bytes
	# #iterations t_min t_max t_typical t_avg t_stdev p99 p99.9; bandwidth:
	# #bytes #iterations BW_peak BW_average MsgRate.
	_line=
	[ "$_ok" = 0 ] && _line=$(awk -v s="$3" '$1 == s && NF >= 5 && $2 ~ /^[0-9]+$/' /tmp/rdma-cli.out | tail -n 1)
	if [ -z "$_line" ]; then
		_why=$(grep -v '^ *$' /tmp/rdma-cli.out | tail -n 1 | tr -s ' \t' ' ' | cut -c1-80)
		case $_rp_rc in
		124|143) _why="did not finish in $RDMA_TIMEOUT s" ;;
		# The client did not run it: the server's guest said it failed
		# (its log has the tool's words) or never answered.
		'') _why="not run: the server did not start (guest 0's log)" ;;
		*) _why="status $_rp_rc: ${_why:-no output}" ;;
		esac
		echo "$2 $3 n/a $_why" >> "$tab"
		[ "$1" = rxe ] || status=1
	else
		case $2 in
		*_lat) echo "$_line" | awk -v t="$2" '{ printf "%s %s typ=%s avg=%s min=%s\n", t, $1, $5, $6, $3 }' >> "$tab" ;;
		*) echo "$_line" | awk -v t="$2" '{ printf "%s %s bw=%s mpps=%s\n", t, $1, $4, $5 }' >> "$tab" ;;
		esac
	fi
	[ "$1" = rxe ] && return 0
	# The policy took effect: the client's device counters.
	_f=$(($(stat prio_exec) - _f0)) _r=$(($(stat ring_fetch) - _r0)) _b=$(($(prio_back) - _b0))
	echo "$2 -s $3 ($1): prio_exec +$_f, ring_fetch +$_r, prio_back +$_b"
	echo "$_f $_r $_b" >> "/tmp/bench-rdma.$1.cnt"
	[ -n "$_line" ] || return 0
	case $1 in
	never) _pol=$([ "$_f" -eq 0 ] && [ "$_b" -eq 0 ] && [ "$_r" -ge "$4" ] && echo ok) ;;
	always) _pol=$([ "$_f" -gt 0 ] && [ $((_f + _b)) -ge "$4" ] && echo ok) ;;
	*) _pol=ok ;;
	esac
	if [ "$_pol" != ok ]; then
		echo "$2 $3 policy $1 did not take effect: prio_exec +$_f, ring_fetch +$_r, prio_back +$_b ($4 iterations)" >> "$tab"
		t_fail "$2 -s $3: DBNIC_PRIORITY=$1 took effect" "prio_exec +$_f, ring_fetch +$_r, prio_back +$_b"
		status=1
	fi
}

for mode in $MODES; do
	: > "/tmp/bench-rdma.$mode.tab"
	: > "/tmp/bench-rdma.$mode.cnt"
done
for t in $TESTS; do
	tool=${t%:*} size=${t#*:}
	case $tool:$size in
	*_lat:*) n=$LAT_N ;;
	*:1048576) n=$BIG_N ;;
	*) n=$BW_N ;;
	esac
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		for mode in $MODES; do
			run_one "$mode" "$tool" "$size" "$n"
			# A pair that failed on the way (barrier lost) stops the run.
			[ "$NET_BROKEN" = 1 ] && { status=1; break 3; }
		done
		round=$((round + 1))
	done
done

if [ "$NET_GUEST" = "$RDMA_CLIENT" ]; then
	for mode in $MODES; do
		echo "DBNIC-BENCH-BEGIN rdma-$mode"
		cat "/tmp/bench-rdma.$mode.tab.cmds" 2>/dev/null
		cat "/tmp/bench-rdma.$mode.tab"
		[ "$mode" = rxe ] ||
			awk '{ f += $1; r += $2; b += $3 }
			     END { print "counters prio_exec=" f + 0 " ring_fetch=" r + 0 " prio_back=" b + 0 }' \
				"/tmp/bench-rdma.$mode.cnt"
		echo "DBNIC-BENCH-END rdma-$mode"
	done
	if [ -n "$IF2" ]; then
		rdma statistic show link rxe0/1 2>&1 |
			awk '{ for (i = 3; i < NF; i += 2) if ($(i + 1) != 0) print "rxe counter:", $i, $(i + 1) }'
	fi
fi
# The loss rows' counters, on both guests (each sends, and loses, its
# share).  A dbnic port that dropped nothing did not get its loss.
if [ -n "$LOSS" ]; then
	echo "DBNIC-BENCH-BEGIN rdma-counters"
	case " $MODES " in
	*" always "*|*" never "*)
		for c in $LOSS_STATS; do
			echo "dbnic0 $c $(stat "$c")"
		done
		;;
	esac
	if [ -n "$IF2" ]; then
		rdma statistic show link rxe0/1 2>&1 |
			awk '{ for (i = 3; i < NF; i += 2) if ($(i + 1) != 0) print "rxe0", $i, $(i + 1) }'
		# "Sent B bytes P pkt (dropped D, ...": the root qdisc's own
		# count (netem's under loss; at 0 the default qdisc's).
		$TC -s qdisc show dev "$IF2" | awk -v i="$IF2" '$1 == "Sent" { d = $7; sub(/,/, "", d)
			print "qdisc", i, "sent", $4, "dropped", d; exit }'
	fi
	echo "DBNIC-BENCH-END rdma-counters"
	case " $MODES " in
	*" always "*|*" never "*)
		if [ "$LOSS" != 0 ] && [ "$(stat roce_fault_tx_drop)" = 0 ]; then
			t_fail "dbnic0 lost $LOSS% of its packets" "roce_fault_tx_drop 0 (the device's roce-tx-drop not set?)"
			status=1
		fi
		;;
	esac
fi
[ "$NET_BROKEN" = 1 ] && status=1
exit $status

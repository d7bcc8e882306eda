# shellcheck shell=sh
# Guest side of scripts/bench.sh's netdev benchmarks (busybox sh): two
# guests on the launcher's network (scripts/run-guest.sh --guests 2 --nic
# dbnic|virtio), both running this script with lib.sh and net-lib.sh (and
# for dbnic the modules, for pktgen the bench kernel's pktgen.ko) in
# $DBNIC_DIR (/dbnic).  Guest 1 is the sender: it pings guest 0, runs the
# iperf3 clients against guest 0's server and pktgen towards guest 0.
# Numbers, not pass/fail: the status is non-zero only when a benchmark did
# not run.
#
#   sh bench-net.sh MODES [PINGS [IPERF-SECS [PKTGEN-SECS [ROUNDS]]]]
#
# MODES: "inline ring" on dbnic (the "inline-prio" private flag on, and
# off, in the same two guests: each benchmark runs once per mode before
# the next one), "virtio" on virtio-net.  At the end guest 1 prints, per
# mode, one table between "DBNIC-BENCH-BEGIN net-MODE" and
# "DBNIC-BENCH-END net-MODE" (a word and a number per line, the commands
# as "#" lines) and its ping round-trip times as CSV between
# "DBNIC-CSV-BEGIN ping-MODE" and "DBNIC-CSV-END ping-MODE"; the tools'
# own output comes as they run.  With ROUNDS (1) above 1 each benchmark
# runs that many times per mode, the modes still taking turns: the table
# then has one line per round (bench-report.py takes their median), and
# the ping figures come from all rounds' RTTs.
#
#   ping: PINGS (200) echo requests 10 ms apart, 56 data bytes (98-byte
#         frames, inline on dbnic); median and p99 of the RTTs
#   iperf3: TCP, guest 1 to guest 0, IPERF-SECS (4) s after one left
#         out (-O 1), one stream and four (-P 4); the receiver's rate
#   pktgen: guest 1's kernel sends 64-byte frames (pkt_size 60 + the
#         4-byte FCS the wire adds) to guest 0's UDP discard port for
#         PKTGEN-SECS (3) s; its packets per second.  The bench kernel's
#         own pktgen.ko: the guest image's modules are the debug test
#         kernel's (same release string, other structure layouts).
#
# On dbnic the table also has the sender's frames, and of them those
# posted inline through the priority area (driver tx*_inline, device
# dev_eth_tx_inline) during the mode: proof that the flag did what its
# mode says.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
ETHTOOL=/usr/sbin/ethtool
MODES=${1:-}
PINGS=${2:-200}
SECS=${3:-4}
PG_SECS=${4:-3}
ROUNDS=${5:-1}
round=1
PG=/proc/net/pktgen
peer=$((1 - NET_GUEST))
# net-lib.sh's functions set plain (global) variables, rc, m, n among
# them: this script's own have other names.
status=0

# Kernel messages would land in the middle of the tables (dmesg keeps them).
echo 1 > /proc/sys/kernel/printk
if [ "$NET_NIC" = dbnic ]; then
	for ko in dbnic_core dbnic_eth; do
		insmod "$DIR/$ko.ko" || { echo "insmod $ko.ko failed"; dmesg | tail -n 30; exit 1; }
	done
fi
net_up || exit 1
echo "guest: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), $NET_IF ($(net_driver "$NET_IF"))"
net_wait_peer "$peer" || { echo "guest $peer does not answer"; exit 1; }
peer_ip=$(net_ip4 "$peer")
# Its MAC, for pktgen: ARP learnt it for the ping above.
peer_mac=$(awk -v ip="$peer_ip" '$1 == ip { print $4 }' /proc/net/arp)

# note TEXT: a "#" line of this mode's table (a command it ran), also shown
# where it runs; in the first round only.
note() {
	echo "# $*"
	if [ "$round" = 1 ]; then echo "# $*" >> /tmp/bench-net.tab; fi
}

# stat_sum NAME-REGEX: the sum of the ethtool -S counters whose names match.
stat_sum() {
	$ETHTOOL -S "$NET_IF" | awk -v re="^$1\$" '{ sub(":", "", $1) } $1 ~ re { s += $2 } END { print s + 0 }'
}

# pktgen_run SECS: guest 1's pktgen towards guest 0 for SECS seconds;
# prints its result and "pktgen_pps N" (nothing if it did not run).
pktgen_run() {
	if [ ! -d "$PG" ] && ! insmod "$DIR/pktgen.ko"; then
		echo "pktgen: no $DIR/pktgen.ko, or it did not load"
		return 1
	fi
	echo "rem_device_all" > "$PG/kpktgend_0"
	echo "add_device $NET_IF" > "$PG/kpktgend_0" || return 1
	for cmd in "count 0" "pkt_size 60" "clone_skb 0" "delay 0" \
		"dst $peer_ip" "dst_mac $peer_mac" "udp_dst_min 9" "udp_dst_max 9"; do
		echo "$cmd" > "$PG/$NET_IF" || { echo "pktgen: '$cmd' refused"; return 1; }
	done
	note "pktgen: kpktgend_0 add_device $NET_IF; count 0, pkt_size 60, clone_skb 0, delay 0, dst $peer_ip, dst_mac $peer_mac, udp_dst 9; start, stop after $1 s"
	# "start" returns when the run stops.
	echo start > "$PG/pgctrl" &
	spid=$!
	sleep "$1"
	echo stop > "$PG/pgctrl"
	wait "$spid"
	out=$(cat "$PG/$NET_IF")
	echo "$out"
	pps=$(echo "$out" | sed -n 's/^ *\([0-9][0-9]*\)pps .*/\1/p' | head -n 1)
	echo "rem_device_all" > "$PG/kpktgend_0"
	[ -n "$pps" ] || return 1
	echo "pktgen_pps $pps" >> /tmp/bench-net.tab
}

# iperf_rate FILE: the receiver's rate in Mbit/s of net_iperf's output
# (-f m; with -P 4 the last receiver line is the [SUM]).
iperf_rate() {
	awk '/ receiver$/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") r = $(i - 1) } END { if (r != "") print r }' "$1"
}

# mode_start MODE / mode_end MODE: around each benchmark of MODE: set
# the flag on both guests, and count the sender's frames and inline posts.
mode_start() {
	case $1 in
	inline) flag=on ;;
	ring) flag=off ;;
	*) flag= ;;
	esac
	if [ -n "$flag" ] && ! $ETHTOOL --set-priv-flags "$NET_IF" inline-prio $flag; then
		echo "ethtool --set-priv-flags $NET_IF inline-prio $flag failed"
		status=1
	fi
	net_barrier "$1: flags set" || return 1
	if [ "$NET_NIC" = dbnic ]; then
		f0=$(stat_sum 'tx[0-9]+_packets')
		i0=$(stat_sum 'tx[0-9]+_inline')
		d0=$(stat_sum dev_eth_tx_inline)
	fi
	ln -sf "/tmp/bench-net.$1.tab" /tmp/bench-net.tab
}
mode_end() {
	net_barrier "$1: done" || return 1
	[ "$NET_NIC" = dbnic ] || return 0
	echo "$(($(stat_sum 'tx[0-9]+_packets') - f0)) $(($(stat_sum 'tx[0-9]+_inline') - i0)) $(($(stat_sum dev_eth_tx_inline) - d0))" \
		>> "/tmp/bench-net.$1.cnt"
}

# ping: guest 1 pings guest 0.
bench_ping() {
	[ "$NET_GUEST" = 1 ] || return 0
	note "ping -c $PINGS -i 0.01 -W 2 $peer_ip"
	ping -c "$PINGS" -i 0.01 -W 2 "$peer_ip" > /tmp/ping.out 2>&1
	tail -n 2 /tmp/ping.out
	# The RTTs in ms, of every round.
	sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' /tmp/ping.out > /tmp/ping.rtt
	[ -s /tmp/ping.rtt ] || return 1
	cat /tmp/ping.rtt >> "/tmp/ping.$1"
}

# ping_stats MODE: the mode's ping lines, from the RTTs of every round.
ping_stats() {
	sort -n "/tmp/ping.$1" > /tmp/ping.rtt
	n=$(wc -l < /tmp/ping.rtt)
	[ "$n" -gt 0 ] || return 0
	# Nearest rank: the sample at or below which half (99 %) lie.
	awk -v n="$n" '
		NR == int((n + 1) / 2) { printf "ping_med_us %.0f\n", $1 * 1000 }
		NR == int((99 * n + 99) / 100) { printf "ping_p99_us %.0f\n", $1 * 1000 }
	' /tmp/ping.rtt
	echo "ping_samples $n"
}

# iperf3 with P streams (both guests): guest 1's client to guest 0's server.
bench_iperf() {
	[ "$NET_GUEST" = 1 ] &&
		note "iperf3 -c $peer_ip -p $NET_IPERF_PORT -t $SECS -O 1 -f m -P $2 (guest 0: iperf3 -s -1 -p $NET_IPERF_PORT)"
	# -O 1: the first second (connection set-up, slow start: seconds on
	# a loaded host) is left out of the rate.
	net_iperf "bench: $1 iperf3 TCP -P $2" 0 1 "$SECS" -O 1 -f m -P "$2" > /tmp/iperf.out
	cat /tmp/iperf.out
	[ "$NET_GUEST" = 1 ] || return 0
	r=$(iperf_rate /tmp/iperf.out)
	[ -n "$r" ] || return 1
	echo "iperf_P$2_Mbps $r" >> /tmp/bench-net.tab
}

# pktgen: guest 1's.
bench_pktgen() {
	[ "$NET_GUEST" = 1 ] || return 0
	pktgen_run "$PG_SECS"
}

# Each benchmark runs once per mode before the next begins: the modes of
# one guest pair see the host's load of the same minute.
for mode in $MODES; do
	: > "/tmp/bench-net.$mode.tab"
	: > "/tmp/bench-net.$mode.cnt"
	: > "/tmp/ping.$mode"
done
for bench in ping iperf1 iperf4 pktgen; do
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		for mode in $MODES; do
			mode_start "$mode" || { status=1; break 3; }
			case $bench in
			ping) bench_ping "$mode" ;;
			iperf1) bench_iperf "$mode" 1 ;;
			iperf4) bench_iperf "$mode" 4 ;;
			pktgen) bench_pktgen ;;
			esac || status=1
			mode_end "$mode" || { status=1; break 3; }
		done
		round=$((round + 1))
	done
done

if [ "$NET_GUEST" = 1 ]; then
	for mode in $MODES; do
		ping_stats "$mode" >> "/tmp/bench-net.$mode.tab"
		if [ "$NET_NIC" = dbnic ]; then
			awk '{ f += $1; i += $2; d += $3 }
			     END { print "tx_frames " f + 0; print "tx_inline " i + 0; print "dev_tx_inline " d + 0 }' \
				"/tmp/bench-net.$mode.cnt" >> "/tmp/bench-net.$mode.tab"
		fi
		echo "DBNIC-BENCH-BEGIN net-$mode"
		cat "/tmp/bench-net.$mode.tab"
		echo "DBNIC-BENCH-END net-$mode"
		echo "DBNIC-CSV-BEGIN ping-$mode"
		echo "sample,rtt_us"
		awk '{ printf "%d,%.0f\n", NR - 1, $1 * 1000 }' "/tmp/ping.$mode"
		echo "DBNIC-CSV-END ping-$mode"
	done
fi
[ "$NET_BROKEN" = 1 ] && status=1
if [ "$NET_GUEST" = 1 ] && ! t_done; then status=1; fi
exit $status

# run-guest: --guests 2 --nic dbnic --host-actions --timeout 600
# End-to-end test of the Ethernet function (dbnic_eth.ko) between two
# guests, each with one dbnic on the launcher's network (run-guest.sh
# --guests 2 --nic dbnic; net-lib.sh gives the addresses, the barriers
# and the transfers).  Both guests run this script and take their part
# by index; each checks its own side, and a transfer's receiver compares
# the sha256 of both ends.  Device counters (dev_*) are per device, so
# each guest reads its own.
#
# Checks, in order:
#  - ping over IPv4 and IPv6 both ways; iperf3 TCP and UDP for 2 s in
#    both directions at once (--bidir), each receiver moving data;
#  - every posting policy (the private flag inline-prio on both ends):
#    8 MiB through nc with the sha256 of both ends compared, with the
#    flag on (guest 1 sends) and off (guest 0 sends).  The receiver's
#    ACKs are the small frames: with the flag on they were posted inline
#    through the priority area (txN_inline), and the device ran each
#    from the priority lane with no host-memory read (dev_eth_tx_inline)
#    or, torn or stale, from its ring copy (txN_prio_ring); with it off,
#    nothing was posted inline and the device ran nothing inline: every
#    frame went through the ring;
#  - the second transfer runs at MTU 9000 on both ends: an 8900-byte ping
#    and the transfer make no IP fragments, and the receiver got jumbo
#    frames;
#  - in its middle the launcher pulls guest 0's cable and puts it back
#    (set_link, asked for with "DBNIC-HOST link dbnic0 off|on"): the
#    carrier drops and returns, the transfer completes with the right
#    sha256, what the device took while its link was down it dropped and
#    counted (dev_eth_tx_drop), none sent, and it dropped nothing once
#    the link was back;
#  - the whole dbnic stack unloaded and loaded again on guest 1 while
#    guest 0 keeps pinging it (100 a second): the new netdev comes up,
#    the pings arrive at it and are answered again;
#  - no error completions; dmesg clean on both (the suite's kmemleak
#    scan follows the script in each guest).
# 8 MiB per transfer: the test kernel's debug options hold TCP to about
# 1 MiB/s under TCG, and the suite has 10 minutes.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
ETHTOOL=/usr/sbin/ethtool
MIB=8
# Two guests: each one's peer is the other.
peer=$((1 - NET_GUEST))

# load: the core and the Ethernet function, the only ones this test needs.
load() { insmod "$DIR/dbnic_core.ko" && insmod "$DIR/dbnic_eth.ko"; }

# snap FILE: this guest's ethtool -S, once the counters are still (two
# readings 0.2 s apart that agree, at most 25 tries), so that the
# driver's counters (at posting) and the device's (at execution) are
# compared with no frame between the two.
snap() {
	$ETHTOOL -S "$NET_IF" > "$1"
	i=0
	while [ $i -lt 25 ]; do
		sleep 0.2
		$ETHTOOL -S "$NET_IF" > "$1.again"
		cmp -s "$1" "$1.again" && break
		mv "$1.again" "$1"
		i=$((i + 1))
	done
	rm -f "$1.again"
}
# of FILE PATTERN: the sum of FILE's counters whose name matches PATTERN
# (an awk regular expression; per-queue counters are summed).
of() { awk -v p="$2" '$1 ~ p { s += $2 } END { print s + 0 }' "$1"; }
# delta A B PATTERN: how much those counters grew from snapshot A to B.
delta() { echo $(($(of "$2" "$3") - $(of "$1" "$3"))); }

# wait_carrier VALUE: waits (NET_TIMEOUT) until this guest's carrier
# reads VALUE.
wait_carrier() {
	end=$(($(net_now) + NET_TIMEOUT))
	while [ "$(cat "/sys/class/net/$NET_IF/carrier" 2>/dev/null)" != "$1" ]; do
		[ "$(net_now)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# check NAME CONDITION...: t_check of a test(1) condition, with the
# values in its name's failure line.
check() {
	name=$1
	shift
	if [ "$@" ]; then t_ok "$name"; else t_fail "$name" "false: $*"; fi
}

# phase NAME: a heading in the log, with the guest's uptime (where the
# test's time goes).
phase() { echo "== $1 (at $(cut -d' ' -f1 /proc/uptime) s)"; }

phase "load, up, ping"
t_check "insmod dbnic_core, dbnic_eth" load
net_up
net_ping "$peer" 4
net_ping "$peer" 6
phase "iperf3"
# Both directions at once (--bidir): half the runs, each direction
# checked.
net_iperf "iperf3 TCP g1<->g0" 0 1 2 --bidir
net_iperf "iperf3 UDP g1<->g0" 0 1 2 --bidir -u -b 10M

# --- Every posting policy, MTU 9000, link down and up ----------------------------
# policy_checks FLAG TO A B: where this guest's frames went between
# snapshots A and B of a transfer to guest TO with inline-prio FLAG on
# both ends.
policy_checks() {
	flag=$1 to=$2
	inl=$(delta "$3" "$4" '^tx[0-9]+_inline:')
	fb=$(delta "$3" "$4" '^tx[0-9]+_prio_ring:')
	ring=$(delta "$3" "$4" '^tx[0-9]+_ring:')
	dinl=$(delta "$3" "$4" '^dev_eth_tx_inline:')
	dtx=$(delta "$3" "$4" '^dev_eth_tx:')
	echo "inline-prio $flag (g$NET_GUEST): posted inline $inl, ring $ring, fallback $fb; device ran $dtx, $dinl of them inline from the priority lane"
	grep -E '^ *(tx|dev)' "$4" | grep -v ': 0$'
	if [ "$flag" = on ]; then
		if [ "$NET_GUEST" = "$to" ]; then
			check "inline-prio on: the receiver's ACKs posted inline" "$inl" -gt 100
		else
			check "inline-prio on: the sender's data frames on the ring" "$ring" -gt 100
		fi
		check "inline-prio on: every inline frame ran from the priority lane with no host-memory read, or fell back" \
			$((dinl + fb)) -eq "$inl"
		check "inline-prio on: frames ran from the priority lane" "$dinl" -gt 0
	else
		check "inline-prio off: nothing posted inline" "$inl" -eq 0
		check "inline-prio off: the device ran nothing inline" "$dinl" -eq 0
		check "inline-prio off: every frame on the ring" "$ring" -gt 100
	fi
}
# set_policy FLAG: inline-prio FLAG on this guest's netdev.
set_policy() {
	$ETHTOOL --set-priv-flags "$NET_IF" inline-prio "$1"
	t_check "inline-prio $1: the flag reads back" \
		sh -c "$ETHTOOL --show-priv-flags $NET_IF | grep -q '^inline-prio *: $1\$'"
}

# inline-prio on (the default), MTU 1500: guest 1 sends.
phase "inline-prio on"
set_policy on
net_barrier "inline-prio on: set on both ends"
snap /tmp/on.0
net_xfer "inline-prio on: $MIB MiB g1->g0, sha256 of both ends" 1 0 "$MIB"
snap /tmp/on.1
policy_checks on 0 /tmp/on.0 /tmp/on.1

# inline-prio off and MTU 9000: guest 0 sends, and its link goes down and
# comes back in the middle (one transfer for the three: the suite's time).
# frags: this guest's IP fragments made so far (FragCreates).
frags() {
	awk '/^Ip:/ { if (n++) { for (i = 1; i <= NF; i++) if (h[i] == "FragCreates") print $i }
		else for (i = 1; i <= NF; i++) h[i] = $i }' /proc/net/snmp
}
phase "inline-prio off, MTU 9000, link down/up"
set_policy off
t_check "MTU 9000: set" ip link set "$NET_IF" mtu 9000
wait_carrier 1
net_barrier "inline-prio off, MTU 9000: set on both ends"
f0=$(frags)
t_check "MTU 9000: ping -s 8900 g$NET_GUEST->g$peer" ping -c 3 -W 5 -s 8900 "$(net_ip4 "$peer")"

# link_cycle: guest 0's side, beside its transfer: once 2 MiB of it have
# left, the launcher pulls the cable (set_link off) and puts it back a
# second after the carrier dropped; the outcome goes to /tmp/link.*.
link_cycle() {
	sys=/sys/class/net/$NET_IF
	tx0=$(cat "$sys/statistics/tx_bytes")
	end=$(($(net_now) + NET_TIMEOUT))
	while [ $(($(cat "$sys/statistics/tx_bytes") - tx0)) -lt 2097152 ]; do
		if [ "$(net_now)" -ge "$end" ]; then
			echo "the transfer did not start" > /tmp/link.err
			return
		fi
		sleep 0.1
	done
	[ -e /tmp/net-xfer.rc ] && echo "the transfer had ended" > /tmp/link.err
	cat "$sys/carrier_changes" > /tmp/link.changes0
	$ETHTOOL -S "$NET_IF" > /tmp/link.0
	echo "DBNIC-HOST link dbnic0 off"
	if wait_carrier 0; then echo ok > /tmp/link.down; fi
	$ETHTOOL -S "$NET_IF" > /tmp/link.1
	sleep 1
	$ETHTOOL -S "$NET_IF" > /tmp/link.2
	echo "DBNIC-HOST link dbnic0 on"
	if wait_carrier 1; then echo ok > /tmp/link.up; fi
	cat "$sys/carrier_changes" > /tmp/link.changes1
	$ETHTOOL -S "$NET_IF" > /tmp/link.3
}
rm -f /tmp/link.* /tmp/net-xfer.rc
if [ "$NET_GUEST" = 0 ]; then
	link_cycle &
	lpid=$!
fi
snap /tmp/off.0
net_xfer "inline-prio off, MTU 9000, link down/up: $MIB MiB g0->g1, sha256 of both ends" 0 1 "$MIB"
snap /tmp/off.1
policy_checks off 1 /tmp/off.0 /tmp/off.1
f1=$(frags)
check "MTU 9000: no IP fragments ($f0 -> $f1)" "$f1" -eq "$f0"
if [ "$NET_GUEST" = 1 ]; then
	pk=$(delta /tmp/off.0 /tmp/off.1 '^rx[0-9]+_packets:')
	by=$(delta /tmp/off.0 /tmp/off.1 '^rx[0-9]+_bytes:')
	# 8 MiB in 1500-byte frames would average under 1500 bytes a frame.
	check "MTU 9000: jumbo frames received ($by bytes in $pk frames)" "$by" -gt $((pk * 4000))
else
	wait "$lpid"
	if [ -e /tmp/link.err ]; then
		t_fail "link down/up: in the middle of the transfer" "$(cat /tmp/link.err)"
	else
		t_ok "link down/up: in the middle of the transfer"
	fi
	check "link down/up: the carrier dropped" -e /tmp/link.down
	check "link down/up: the carrier returned" -e /tmp/link.up
	c0=$(cat /tmp/link.changes0 2>/dev/null) c1=$(cat /tmp/link.changes1 2>/dev/null)
	check "link down/up: two carrier changes (${c0:-?} -> ${c1:-?})" "${c1:-0}" -eq $((${c0:-0} + 2))
	# Frames the driver posted before it stopped sending (the carrier
	# drops, then the kernel's queue discipline stops) ran with the link
	# down: dropped, and counted.  How many is a race (the time the
	# guest takes to see the LINK event), often none: the count is shown,
	# not checked; tests/host/test_eth.c checks it frame by frame.
	if [ ! -e /tmp/link.3 ]; then
		t_fail "link down/up: the device's counters" "the link was not cycled"
	else
		drop=$(delta /tmp/link.0 /tmp/link.1 '^dev_eth_tx_drop:')
		# What the device took with the carrier down, until the link came
		# back, it dropped and counted: none of it was sent.
		tx2=$(delta /tmp/link.1 /tmp/link.2 '^dev_eth_tx:')
		drop2=$(delta /tmp/link.1 /tmp/link.2 '^dev_eth_tx_drop:')
		# With the link back it drops nothing.
		drop3=$(delta /tmp/link.3 /tmp/off.1 '^dev_eth_tx_drop:')
		echo "link down/up: $drop frames dropped as the link went down; with the carrier down $tx2 taken, $drop2 dropped; $drop3 dropped after it came back"
		grep -E '^ *dev_eth' /tmp/link.3
		check "link down/up: with the carrier down the device sent nothing ($tx2 taken, $drop2 dropped)" "$drop2" -eq "$tx2"
		check "link down/up: it dropped nothing once the link was back" "$drop3" -eq 0
	fi
fi
t_check "MTU 1500 again" ip link set "$NET_IF" mtu 1500
wait_carrier 1
$ETHTOOL --set-priv-flags "$NET_IF" inline-prio on

# --- Unload and reload on guest 1 while guest 0 keeps sending ---------------------
# flood: guest 0 pings guest 1 100 times a second (1000 bytes), in rounds
# of 50, one line per round in /tmp/flood.n (the replies it got), until
# /tmp/flood.stop exists.  A new ping each round: one whose peer vanished
# may end early or fail, the next starts again.
flood() {
	while [ ! -e /tmp/flood.stop ]; do
		ping -c 50 -i 0.01 -W 1 -s 1000 "$(net_ip4 1)" 2>&1 |
			grep -c 'bytes from' >> /tmp/flood.n
	done
}
phase "reload"
net_barrier "reload: ready"
if [ "$NET_GUEST" = 0 ]; then
	rm -f /tmp/flood.n /tmp/flood.stop
	flood &
	fpid=$!
	net_barrier "reload: flooding"
	net_barrier "reload: reloaded"
	# The flood is answered again: a round that began after guest 1 came
	# back got replies.
	n=$(wc -l < /tmp/flood.n)
	end=$(($(net_now) + NET_TIMEOUT))
	while [ "$(awk -v n="$n" 'NR > n + 1 && $1 > 0 { f = 1 } END { print f + 0 }' /tmp/flood.n)" = 0 ] &&
	      [ "$(net_now)" -lt "$end" ]; do
		sleep 0.2
	done
	touch /tmp/flood.stop
	wait "$fpid"
	echo "flood rounds (replies of 50): $(tr '\n' ' ' < /tmp/flood.n)"
	check "reload: guest 1 answers the flood again" \
		"$(awk -v n="$n" 'NR > n + 1 && $1 > 0 { f = 1 } END { print f + 0 }' /tmp/flood.n)" = 1
	net_barrier "reload: done"
else
	net_barrier "reload: flooding"
	rx=/sys/class/net/$NET_IF/statistics/rx_packets
	r0=$(cat "$rx")
	end=$(($(net_now) + NET_TIMEOUT))
	while [ $(($(cat "$rx") - r0)) -lt 50 ] && [ "$(net_now)" -lt "$end" ]; do
		sleep 0.1
	done
	check "reload: the flood arrives" $(($(cat "$rx") - r0)) -ge 50
	t_check "reload: rmmod dbnic_eth under the flood" rmmod dbnic_eth
	t_check "reload: rmmod dbnic_core under the flood" rmmod dbnic_core
	t_check "reload: insmod dbnic_core, dbnic_eth under the flood" load
	net_up "reload: the new netdev is up"
	rx=/sys/class/net/$NET_IF/statistics/rx_packets
	end=$(($(net_now) + NET_TIMEOUT))
	while [ "$(cat "$rx")" -lt 50 ] && [ "$(net_now)" -lt "$end" ]; do
		sleep 0.1
	done
	check "reload: the flood arrives at the new netdev ($(cat "$rx") frames)" "$(cat "$rx")" -ge 50
	net_barrier "reload: reloaded"
	net_barrier "reload: done"
fi

phase "end"
snap /tmp/end
grep -E '_(errors|drops):' /tmp/end | grep -v ': 0$'
check "no error completions" "$(of /tmp/end '_errors:')" -eq 0
t_dmesg_clean "dmesg clean"
t_done

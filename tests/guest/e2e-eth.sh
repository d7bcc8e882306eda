# run-guest: --dbnic 2 --mem 1024 --root-port --netdev hubport,id=n0,hubid=0 --netdev hubport,id=n1,hubid=0
# End-to-end test of the Ethernet function (dbnic_eth.ko) with no second
# guest: two dbnic devices of ONE guest on one QEMU hub, the second
# interface moved into a network namespace, so that frames go out of one
# device and into the other through QEMU's network.  Needs Debian's ip
# (iproute2, network namespaces) and ethtool in the guest image
# (scripts/build-initramfs.sh packs them); busybox's ping.
#
# What needs two guests is e2e-net-dbnic.sh's: transfers with their
# sha256, every posting policy (inline-prio on and off, with the
# device's inline counters), MTU 9000 traffic, link down and up, reload
# under traffic.  This test keeps what one guest shows on its own.
#
# Checks: the kernel's net/netdevice.sh selftest passes on both
# interfaces (see below); the netdevs come up with carrier; ethtool -i/-l/-g/-k and the
# private flag answer; ping both ways; -L/-G work on the running
# interface (closed and reopened) and it still pings; MTU 9000 is taken
# and 9001 refused; no error completions or drops; a function reset of
# one device (its root port's bus reset) takes its netdev away and
# brings a new one that pings; unloading leaves dmesg clean.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
IP=/usr/bin/ip		# Debian's: busybox's ip has no netns
ETHTOOL=/usr/sbin/ethtool
NS=peer
A_IP=10.77.0.1
B_IP=10.77.0.2

insmod "$DIR/dbnic_core.ko" || { t_fail "insmod dbnic_core" "failed"; t_done; }
insmod "$DIR/dbnic_eth.ko" || { t_fail "insmod dbnic_eth" "failed"; t_done; }

# The two netdevs of dbnic_eth, by driver.
ifs=
for d in /sys/class/net/*; do
	n=${d##*/}
	[ "$($ETHTOOL -i "$n" 2>/dev/null | sed -n 's/^driver: //p')" = dbnic_eth ] &&
		ifs="$ifs $n"
done
# shellcheck disable=SC2086  # the two names, split
set -- $ifs
if [ $# -ne 2 ]; then
	t_fail "two dbnic_eth netdevs" "found: $ifs"
	t_done
fi
t_ok "two dbnic_eth netdevs"
A=$1
B=$2

# in_ns CMD...: run CMD in the peer's namespace.
in_ns() { $IP netns exec $NS "$@"; }

# sum_of [ns] IF PATTERN: the sum of the per-queue counters matching it.
sum_of() {
	sum_ns=
	if [ "$1" = ns ]; then
		sum_ns=in_ns
		shift
	fi
	$sum_ns $ETHTOOL -S "$1" |
		awk -v p="$2" '$1 ~ p { s += $2 } END { print s + 0 }'
}

# The kernel's own selftest of a network interface (tools/testing/
# selftests/net/netdevice.sh, packed by test.sh from the kernel source):
# on every Ethernet interface that is down it brings the link up, sets a
# MAC address while up, turns every changeable offload off, on and back,
# reads ethtool -d and -S, and takes the link down.  Any FAIL line fails
# the check ("XFAIL": ethtool -d, which dbnic does not offer).  It gives
# both interfaces the same address: each gets its own back afterwards.
NETDEVICE_SH=$DIR/selftests/net/netdevice.sh
if [ -f "$NETDEVICE_SH" ]; then
	out=$(sh "$NETDEVICE_SH" 2>&1)
	rc=$?
	echo "$out" | grep -E '^(PASS|FAIL|SKIP|XFAIL):'
	npass=$(echo "$out" | grep -c '^PASS:')
	fails=$(echo "$out" | grep '^FAIL:' | tr '\n' ';')
	if [ $rc -eq 0 ] && [ -z "$fails" ] && [ "$npass" -ge 20 ]; then
		t_ok "kernel selftest net/netdevice.sh ($npass PASS)"
	else
		t_fail "kernel selftest net/netdevice.sh" "exit $rc, $npass PASS, FAIL: $fails"
	fi
	for n in "$A" "$B"; do
		$IP link set dev "$n" address "$($ETHTOOL -P "$n" | sed 's/.*: //')"
	done
else
	t_fail "kernel selftest net/netdevice.sh" "$NETDEVICE_SH is missing"
fi

t_check "netns add" $IP netns add $NS
t_check "move $B into $NS" $IP link set "$B" netns $NS
$IP addr add $A_IP/24 dev "$A"
$IP link set "$A" up
in_ns $IP addr add $B_IP/24 dev "$B"
in_ns $IP link set "$B" up
in_ns $IP link set lo up

# Carrier comes from the device's LINK state (datasheet 10.1).
i=0
while [ "$(cat /sys/class/net/"$A"/carrier 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_check "carrier on $A" [ "$(cat /sys/class/net/"$A"/carrier)" = 1 ]

t_check "ethtool -i" sh -c "$ETHTOOL -i $A | grep -q '^bus-info: 0000:'"
t_check "ethtool -l" sh -c "$ETHTOOL -l $A | grep -q '^Combined:'"
t_check "ethtool -g" sh -c "$ETHTOOL -g $A | grep -q '^TX:'"
t_check "ethtool -k tso on" sh -c "$ETHTOOL -k $A | grep -q '^tcp-segmentation-offload: on'"
t_check "private flag inline-prio" sh -c "$ETHTOOL --show-priv-flags $A | grep -q '^inline-prio *: on'"
$ETHTOOL -l "$A"
$ETHTOOL -g "$A"

t_check "ping $B_IP" ping -c 3 -W 5 $B_IP
t_check "ping $A_IP from $NS" in_ns ping -c 3 -W 5 $A_IP

# --- ethtool -L / -G on a running interface (closed and reopened) -------
nq=$($ETHTOOL -l "$A" | awk '/^Combined:/ { n = $2 } END { print n }')
t_check "ethtool -L combined 1" $ETHTOOL -L "$A" combined 1
t_check "ethtool -L: one queue pair" \
	sh -c "$ETHTOOL -S $A | grep -q tx0_ring && ! $ETHTOOL -S $A | grep -q tx1_ring"
t_check "ethtool -G rx 128 tx 512" $ETHTOOL -G "$A" rx 128 tx 512
t_check "ethtool -G: sizes read back" \
	sh -c "$ETHTOOL -g $A | sed -n '/^Current/,\$p' | grep -q '^TX:[[:space:]]*512'"
t_check "ping after -L/-G" ping -c 3 -W 5 $B_IP
t_check "ethtool -L combined $nq" $ETHTOOL -L "$A" combined "$nq"
t_check "ethtool -G rx 256 tx 256" $ETHTOOL -G "$A" rx 256 tx 256

# --- MTU 9000 -------------------------------------------------------------
t_check "MTU 9000 on $A" $IP link set "$A" mtu 9000
t_check "MTU 9000 on $B" in_ns $IP link set "$B" mtu 9000
t_check "MTU 9000: mtu reads 9000" [ "$(cat /sys/class/net/"$A"/mtu)" = 9000 ]
t_check "MTU 9001 refused" sh -c "! $IP link set $A mtu 9001 2>/dev/null"

t_check "no error completions or drops" \
	[ $(($(sum_of "$A" '_(errors|drops):') + $(sum_of ns "$B" '_(errors|drops):'))) -eq 0 ]
$ETHTOOL -S "$A"

# --- function reset: the netdev goes with the device and comes back -------
pci=$(readlink -f "/sys/class/net/$A/device/..")
t_check "function reset of $A's device" sh -c "echo 1 > $pci/reset"
i=0
A2=
while [ -z "$A2" ] && [ $i -lt 100 ]; do
	for d in /sys/class/net/*; do
		[ "$(readlink -f "$d/device/.." 2>/dev/null)" = "$pci" ] && A2=${d##*/}
	done
	[ -n "$A2" ] || sleep 0.1
	i=$((i + 1))
done
t_check "netdev back after the reset" [ -n "$A2" ]
$IP addr add $A_IP/24 dev "$A2"
$IP link set "$A2" up
i=0
while [ "$(cat /sys/class/net/"$A2"/carrier 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_check "ping after the reset" ping -c 3 -W 5 $B_IP

in_ns $IP link set "$B" netns 1
$IP netns del $NS
t_check "rmmod dbnic_eth" rmmod dbnic_eth
t_check "rmmod dbnic_core" rmmod dbnic_core
t_dmesg_clean "dmesg clean"
t_done

# Shell helpers (busybox sh) for tests between guests on the launcher's
# network (scripts/run-guest.sh --guests N [--nic dbnic|virtio]).  Source
# after lib.sh: every check prints the usual "DBNIC-TEST ok|not ok" line.
#
# Every guest runs the same script; each learns from the kernel command
# line who it is (dbnic_guest=I dbnic_guests=N dbnic_nic=MODEL
# dbnic_mac=MAC, set by the launcher) and takes its part by its index.
# The address plan (this file is its one place): guest I is 10.77.0.<I+1>/24
# and fd77::<I+1, hex>/64 on its NIC, the one whose MAC the launcher gave.
#
# Guests meet through the network itself: guest 0 coordinates every
# barrier (net_barrier), and a transfer's receiver gives the verdict
# (net_xfer).  Every wait has a deadline (NET_TIMEOUT seconds, default
# 90), so a peer that died or never came costs a bounded time; after a
# failed wait the network counts as broken (NET_BROKEN=1) and later steps
# fail at once, with a reason, instead of each waiting again.
#
# TCP ports: 7700 arrivals at guest 0's barrier, 7701 its releases, 7702
# a transfer's data, 7703 a transfer's sum; 5201 iperf3.

NET_TIMEOUT=${NET_TIMEOUT:-90}
NET_BROKEN=0
NET_BARRIER_PORT=7700
NET_RELEASE_PORT=7701
NET_XFER_PORT=7702
NET_SUM_PORT=7703
NET_IPERF_PORT=5201

# net_param NAME: the value of NAME=VALUE on the kernel command line.
net_param() {
	read -r cmdline < /proc/cmdline
	for w in $cmdline; do
		case $w in
		"$1"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	return 1
}

NET_GUEST=$(net_param dbnic_guest) || NET_GUEST=
NET_GUESTS=$(net_param dbnic_guests) || NET_GUESTS=
NET_NIC=$(net_param dbnic_nic) || NET_NIC=
NET_MAC=$(net_param dbnic_mac) || NET_MAC=
NET_IF=

# net_ip4 I, net_ip6 I: guest I's addresses (no prefix length).
net_ip4() { echo "10.77.0.$(($1 + 1))"; }
net_ip6() { printf 'fd77::%x\n' "$(($1 + 1))"; }

# net_log MSG: a line of this guest's network log (on stderr, which the
# serial log has too, so that helpers whose output is captured can log).
net_log() { echo "net[g$NET_GUEST]: $*" >&2; }

# net_now: seconds since boot (the guest's clock; deadlines only).
net_now() { cut -d. -f1 /proc/uptime; }

# net_broken NAME: fails check NAME at once when an earlier wait failed.
net_broken() {
	[ "$NET_BROKEN" = 1 ] || return 1
	t_fail "$1" "not run: the network failed earlier"
	return 0
}

# net_find_if: the interface with this guest's MAC; fails if none.
net_find_if() {
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address" 2>/dev/null)" = "$NET_MAC" ] || continue
		basename "$d"
		return 0
	done
	return 1
}

# net_driver IF: the name of the driver bound to IF's device.
net_driver() {
	basename "$(readlink "/sys/class/net/$1/device/driver")"
}

# net_up: finds this guest's NIC (waiting up to 30 s for a driver to
# create it), checks that its driver is the model's (virtio_net, or a
# dbnic one), gives it this guest's addresses and brings it up.  IPv6
# duplicate address detection is off on it, so that its address works at
# once.  One check, NAME (default "net: up"); call it again for a NIC
# whose driver was reloaded.
# shellcheck disable=SC2120  # NAME is optional
net_up() {
	up_name=${1:-net: up}
	if [ -z "$NET_GUEST" ] || [ -z "$NET_MAC" ]; then
		t_fail "$up_name" "no dbnic_guest/dbnic_mac on the kernel command line (run-guest.sh --guests N)"
		NET_BROKEN=1
		return 1
	fi
	end=$(($(net_now) + 30))
	while ! NET_IF=$(net_find_if); do
		if [ "$(net_now)" -ge "$end" ]; then
			t_fail "$up_name" "no interface with MAC $NET_MAC after 30 s; interfaces: $(cd /sys/class/net && echo *)"
			NET_BROKEN=1
			return 1
		fi
		sleep 0.2
	done
	drv=$(net_driver "$NET_IF")
	case $NET_NIC:$drv in
	virtio:virtio_net|dbnic:dbnic*) ;;
	*)
		t_fail "$up_name" "$NET_IF ($NET_MAC) is driven by '$drv', not by the $NET_NIC driver"
		NET_BROKEN=1
		return 1
		;;
	esac
	ip4=$(net_ip4 "$NET_GUEST")
	ip6=$(net_ip6 "$NET_GUEST")
	echo 0 > "/proc/sys/net/ipv6/conf/$NET_IF/accept_dad"
	if ! out=$(ip link set "$NET_IF" up 2>&1 &&
		ip addr add "$ip4/24" dev "$NET_IF" 2>&1 &&
		ip addr add "$ip6/64" dev "$NET_IF" 2>&1); then
		t_fail "$up_name" "$out"
		NET_BROKEN=1
		return 1
	fi
	end=$(($(net_now) + 10))
	while [ "$(cat "/sys/class/net/$NET_IF/carrier" 2>/dev/null)" != 1 ]; do
		if [ "$(net_now)" -ge "$end" ]; then
			t_fail "$up_name" "$NET_IF has no carrier after 10 s"
			NET_BROKEN=1
			return 1
		fi
		sleep 0.2
	done
	net_log "guest $NET_GUEST of $NET_GUESTS: $NET_IF ($drv, $NET_MAC) $ip4/24 $ip6/64"
	t_ok "$up_name"
}

# net_wait_peer I [4|6]: waits (NET_TIMEOUT) until guest I answers a ping
# over IPv4 (default) or IPv6.  Fails without a check line: the caller
# says what it was waiting for.
net_wait_peer() {
	if [ "${2:-4}" = 6 ]; then ip=$(net_ip6 "$1"); else ip=$(net_ip4 "$1"); fi
	end=$(($(net_now) + NET_TIMEOUT))
	until ping -c 1 -W 1 "$ip" > /dev/null 2>&1; do
		if [ "$(net_now)" -ge "$end" ]; then
			net_log "guest $1 ($ip) did not answer for $NET_TIMEOUT s"
			NET_BROKEN=1
			return 1
		fi
	done
}

# net_ping I [4|6]: one check: guest I becomes reachable (net_wait_peer),
# then answers all of 5 pings.  Every guest may ping any other.
net_ping() {
	v=${2:-4}
	name="net: ping IPv$v g$NET_GUEST->g$1"
	net_broken "$name" && return 1
	if [ "$v" = 6 ]; then ip=$(net_ip6 "$1"); else ip=$(net_ip4 "$1"); fi
	if ! net_wait_peer "$1" "$v"; then
		t_fail "$name" "$ip does not answer"
		return 1
	fi
	out=$(ping -c 5 -i 0.2 -W 2 "$ip" 2>&1)
	echo "$out" | tail -n 2
	case $out in
	*" 5 packets received"*) t_ok "$name" ;;
	*) t_fail "$name" "$(echo "$out" | grep 'packets transmitted')"; return 1 ;;
	esac
}

# net_wait_listen PORT: waits (NET_TIMEOUT) until a local TCP socket
# listens on PORT (state 0A in /proc/net/tcp or tcp6).
net_wait_listen() {
	hex=$(printf ':%04X ' "$1")
	end=$(($(net_now) + NET_TIMEOUT))
	until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { f = 1 } END { exit !f }'; do
		if [ "$(net_now)" -ge "$end" ]; then
			net_log "nothing listens on port $1 after $NET_TIMEOUT s"
			return 1
		fi
		sleep 0.1
	done
}

# net_msg_send IP PORT MSG: sends the line MSG to the listener at IP:PORT
# (net_msg_recv), retrying until one accepts it or NET_TIMEOUT ends.
net_msg_send() {
	end=$(($(net_now) + NET_TIMEOUT))
	until printf '%s\n' "$3" | nc "$1" "$2" > /dev/null 2>&1; do
		if [ "$(net_now)" -ge "$end" ]; then
			net_log "could not send '$3' to $1:$2 for $NET_TIMEOUT s"
			return 1
		fi
		sleep 0.2
	done
}

# net_msg_recv PORT: waits (NET_TIMEOUT) for one net_msg_send to PORT and
# prints its line.  busybox nc -l -e: the message's reader is the
# connection's only user, so it ends when the sender's data does (a plain
# "nc -l" would also wait for its own stdin to end).
net_msg_recv() {
	f=/tmp/net-msg.$1
	rm -f "$f"
	if ! timeout "$NET_TIMEOUT" nc -l -p "$1" -e sh -c "cat > $f" < /dev/null > /dev/null 2>&1 ||
	   [ ! -s "$f" ]; then
		net_log "no message on port $1 for $NET_TIMEOUT s"
		return 1
	fi
	head -n 1 "$f"
}

# net_barrier NAME: returns once every guest has called net_barrier NAME.
# Guest 0 collects one arrival from each other guest, then releases each;
# a guest that arrives at a different barrier breaks it.  Fails (and
# marks the network broken) when a guest does not come in time.
net_barrier() {
	[ "$NET_BROKEN" = 1 ] && return 1
	if [ "$NET_GUEST" = 0 ]; then
		n=1
		while [ "$n" -lt "$NET_GUESTS" ]; do
			if ! m=$(net_msg_recv "$NET_BARRIER_PORT"); then
				net_log "barrier $1: only $n of $NET_GUESTS guests came"
				NET_BROKEN=1
				return 1
			fi
			if [ "${m% *}" != "$1" ]; then
				net_log "barrier $1: guest ${m##* } is at barrier '${m% *}'"
				NET_BROKEN=1
				return 1
			fi
			n=$((n + 1))
		done
		g=1
		while [ "$g" -lt "$NET_GUESTS" ]; do
			net_msg_send "$(net_ip4 "$g")" "$NET_RELEASE_PORT" "$1" || { NET_BROKEN=1; return 1; }
			g=$((g + 1))
		done
	else
		if ! net_msg_send "$(net_ip4 0)" "$NET_BARRIER_PORT" "$1 $NET_GUEST" ||
		   ! m=$(net_msg_recv "$NET_RELEASE_PORT"); then
			net_log "barrier $1: guest 0 did not release it"
			NET_BROKEN=1
			return 1
		fi
		if [ "$m" != "$1" ]; then
			net_log "barrier $1: guest 0 released '$m'"
			NET_BROKEN=1
			return 1
		fi
	fi
	net_log "barrier $1: all $NET_GUESTS guests"
}

# net_iperf NAME SERVER CLIENT SECONDS [IPERF3-CLIENT-ARGS...]: iperf3
# between two guests, every guest calls it.  Guest SERVER runs a one-test
# server, guest CLIENT runs "iperf3 -c SERVER -t SECONDS ARGS" (-R: the
# server sends; --bidir: both) and gives the check: iperf3 succeeded and
# each receiver moved data.  Its "receiver" lines (the rates) are in the
# log.
net_iperf() {
	name=$1 srv=$2 cli=$3 secs=$4
	shift 4
	if [ "$NET_BROKEN" = 1 ]; then
		[ "$NET_GUEST" != "$cli" ] || net_broken "$name"
		return 1
	fi
	if [ "$NET_GUEST" = "$srv" ]; then
		rm -f /tmp/net-iperf.srv
		timeout $((secs + NET_TIMEOUT)) iperf3 -s -1 -p "$NET_IPERF_PORT" \
			> /tmp/net-iperf.srv 2>&1 &
		spid=$!
		net_wait_listen "$NET_IPERF_PORT" || NET_BROKEN=1
		net_barrier "$name ready"
		net_barrier "$name done"
		# A one-test server ends by itself after its test; one whose
		# client never came is stopped.
		i=0
		while kill -0 "$spid" 2> /dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill "$spid" 2> /dev/null
		if ! wait "$spid"; then
			net_log "iperf3 server for $name failed:"
			cat /tmp/net-iperf.srv
		fi
	elif [ "$NET_GUEST" = "$cli" ]; then
		if ! net_barrier "$name ready"; then
			t_fail "$name" "the server's guest did not get ready"
			return 1
		fi
		rc=0
		out=$(timeout $((secs + NET_TIMEOUT)) iperf3 -c "$(net_ip4 "$srv")" \
			-p "$NET_IPERF_PORT" -t "$secs" "$@" 2>&1) || rc=$?
		echo "$out" | grep -E 'sender|receiver|error'
		# Every receiver's bytes (two with --bidir): the first that
		# got none, else the first.
		rx=$(echo "$out" | awk '/ receiver$/ { if (r == "" || $5 + 0 == 0 && z == 0) r = $5 " " $6; if ($5 + 0 == 0) z = 1 } END { print r }')
		case $rc:$rx in
		0:0.00\ *|0:0\ *|0:) t_fail "$name" "no data moved: $rx" ;;
		0:*) t_ok "$name" ;;
		*) t_fail "$name" "iperf3 status $rc: $(echo "$out" | tail -n 2 | tr '\n' ' ')" ;;
		esac
		net_barrier "$name done"
	else
		net_barrier "$name ready"
		net_barrier "$name done"
	fi
}

# net_xfer_data MIB: the bytes net_xfer sends: /tmp/net-xfer.blk (random,
# 1 MiB less one byte) repeated, cut at MIB MiB.  An odd period: no two
# TCP segments of a transfer carry the same bytes, so a stale or misplaced
# buffer cannot go unnoticed; and the guest's CPU is spent on the network,
# not on /dev/urandom.
net_xfer_data() {
	n=0
	while [ $n -le "$1" ]; do
		cat /tmp/net-xfer.blk
		n=$((n + 1))
	done | head -c $(($1 * 1048576))
}

# net_xfer NAME FROM TO MIB: guest FROM sends MIB MiB (net_xfer_data) to
# guest TO through busybox nc; every guest calls it.  The sender hashes
# the data (sha256) before it sends, the receiver as it receives (nothing
# is stored); each prints its sum, the sender sends its own to the
# receiver, which compares the two and gives the check.  (The receiver's
# sum also comes back to the sender on the data connection, for its log.)
# The transfer has NET_TIMEOUT s plus 4 s per MiB (TCG with the debug
# kernel on a loaded 2-core host moves about 1 MiB/s).
net_xfer() {
	name=$1 from=$2 to=$3 mib=$4
	limit=$((NET_TIMEOUT + 4 * mib))
	if [ "$NET_BROKEN" = 1 ]; then
		[ "$NET_GUEST" != "$to" ] || net_broken "$name"
		return 1
	fi
	if [ "$NET_GUEST" = "$to" ]; then
		rm -f /tmp/net-xfer.recv
		# The data connection's reader hashes it and echoes the sum.
		timeout "$limit" nc -l -p "$NET_XFER_PORT" \
			-e sh -c "sha256sum | tee /tmp/net-xfer.recv" < /dev/null > /dev/null 2>&1 &
		rpid=$!
		net_wait_listen "$NET_XFER_PORT" || NET_BROKEN=1
		if ! net_barrier "$name listening"; then
			kill "$rpid" 2> /dev/null
			t_fail "$name" "the sender's guest did not come"
			return 1
		fi
		wait "$rpid"
		got=$(cut -d' ' -f1 /tmp/net-xfer.recv 2>/dev/null)
		net_log "$name: received from g$from, sha256 ${got:-none}"
		if ! sent=$(net_msg_recv "$NET_SUM_PORT"); then
			t_fail "$name" "the sender's sum did not come"
			NET_BROKEN=1
		elif [ -n "$got" ] && [ "$got" = "$sent" ]; then
			t_ok "$name"
		else
			t_fail "$name" "sha256 sent $sent, received ${got:-nothing}"
		fi
	elif [ "$NET_GUEST" = "$from" ]; then
		head -c 1048575 /dev/urandom > /tmp/net-xfer.blk
		sent=$(net_xfer_data "$mib" | sha256sum | cut -d' ' -f1)
		if ! net_barrier "$name listening"; then
			net_log "$name: the receiver's guest did not get ready"
			return 1
		fi
		start=$(cut -d' ' -f1 /proc/uptime)
		# busybox sh has no PIPESTATUS: nc's status goes through a file.
		net_xfer_data "$mib" | {
			timeout "$limit" nc "$(net_ip4 "$to")" "$NET_XFER_PORT"
			echo $? > /tmp/net-xfer.rc
		} > /tmp/net-xfer.echo
		end=$(cut -d' ' -f1 /proc/uptime)
		rc=$(cat /tmp/net-xfer.rc)
		net_log "$name: sent $mib MiB to g$to in $(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }') s, nc status $rc, sha256 $sent; receiver's: $(cut -d' ' -f1 /tmp/net-xfer.echo)"
		# The receiver reports the failure: its sum cannot match this.
		[ "$rc" = 0 ] || sent="none (nc status $rc)"
		net_msg_send "$(net_ip4 "$to")" "$NET_SUM_PORT" "$sent" || NET_BROKEN=1
	fi
	net_barrier "$name done"
}

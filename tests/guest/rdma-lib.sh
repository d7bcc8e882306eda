# Shell helpers (busybox sh) for RDMA tests between guests: Debian's
# ibverbs-utils, perftest and rdmacm-utils over the guest image's rdma-core
# (scripts/build-rdma-core.sh).  Source after lib.sh and net-lib.sh; every
# guest runs the same script (net-lib.sh's model) and the tool pairs run
# server on guest RDMA_SERVER (0), client on guest RDMA_CLIENT (1).
#
# Each pair is one check on each side ("NAME (server)", "NAME (client)"),
# and the client logs "rdma-time: NAME: S s" (the guest's clock, which
# run-guest.sh keeps at the host's rate).  Before and after each pair the
# client sends a marker ping (rdma_mark).

RDMA_SERVER=${RDMA_SERVER:-0}
RDMA_CLIENT=${RDMA_CLIENT:-1}
# The server's "listening" message to the client (net-lib.sh's ports are
# 7700-7703).
RDMA_READY_PORT=7704
# Seconds one tool may take (either side) before it is killed and fails;
# below net-lib.sh's NET_TIMEOUT, which the client's next barrier waits
# for a server whose client failed.
RDMA_TIMEOUT=${RDMA_TIMEOUT:-60}

# rdma_gid_of DEV ADDR: the GID index of DEV's port 1 that holds ADDR
# (as ibv_devinfo prints it: "::ffff:10.77.0.2" or "fd77::2") as RoCE v2,
# waiting up to 10 s for the kernel's GID cache to take it in.  Read from
# ibv_devinfo -v, which lists only the valid entries (a grep over sysfs
# reads all of rxe's 1024: 12 s under TCG).  Fails without a check line.
rdma_gid_of() {
	_rg_end=$(($(net_now) + 10))
	while :; do
		# "GID[  1]:		::ffff:10.77.0.2, RoCE v2"
		_rg_i=$(ibv_devinfo -v -d "$1" 2>/dev/null | awk -v w="$2" '
			$1 ~ /^GID\[/ {
				line = $0
				sub(/^[^[]*\[ */, "", line)
				idx = line; sub(/\].*/, "", idx)
				addr = line; sub(/^[^:]*:[ \t]*/, "", addr)
				if (addr == w ", RoCE v2") { print idx; exit }
			}')
		if [ -n "$_rg_i" ]; then
			echo "$_rg_i"
			return 0
		fi
		[ "$(net_now)" -lt "$_rg_end" ] || break
		sleep 0.2
	done
	net_log "$1 has no RoCE v2 GID $2"
	return 1
}

# rdma_gid_index DEV 4|6: rdma_gid_of for this guest's IPv4 (as a
# v4-mapped GID) or IPv6 address (net-lib.sh's plan).
rdma_gid_index() {
	if [ "$2" = 6 ]; then
		rdma_gid_of "$1" "$(net_ip6 "$NET_GUEST")"
	else
		rdma_gid_of "$1" "::ffff:$(net_ip4 "$NET_GUEST")"
	fi
}

# rdma_check_port DEV: the checks every RDMA test starts with: ibv_devices
# lists DEV, ibv_devinfo -v shows its port 1 active on Ethernet, and the
# kernel's GID cache holds this guest's IPv4 and IPv6 addresses, whose
# GID indices it leaves in gid4 and gid6 (NET_BROKEN=1 when they are
# missing: the pairs that follow need them).
rdma_check_port() {
	_rc_out=$(ibv_devices 2>&1)
	echo "$_rc_out"
	case $_rc_out in
	*"$1"*) t_ok "ibv_devices lists $1" ;;
	*) t_fail "ibv_devices lists $1" "$_rc_out" ;;
	esac
	_rc_out=$(ibv_devinfo -v -d "$1" 2>&1)
	echo "$_rc_out" | grep -E 'hca_id|vendor|transport|state|link_layer|active_mtu|max_qp:|GID\['
	if echo "$_rc_out" | grep -q 'state:.*PORT_ACTIVE' &&
		echo "$_rc_out" | grep -q 'link_layer:.*Ethernet'; then
		t_ok "ibv_devinfo -v: port 1 active, Ethernet"
	else
		t_fail "ibv_devinfo -v: port 1 active, Ethernet" "$(echo "$_rc_out" | tail -n 5 | tr '\n' ' ')"
	fi
	if gid4=$(rdma_gid_index "$1" 4) && gid6=$(rdma_gid_index "$1" 6); then
		t_ok "GIDs of this guest's IPv4 ($gid4) and IPv6 ($gid6) addresses"
	else
		t_fail "GIDs of this guest's IPv4 and IPv6 addresses" "$(cat /sys/class/infiniband/"$1"/ports/1/gids/* | tr '\n' ' ')"
		NET_BROKEN=1
	fi
}

# rdma_mark begin|end: the client's marker ping to the server around each
# pair, so that a capture of the run (run-guest.sh --pcap) can be cut into
# each command's frames.  busybox has no UDP sender, so the marker is one
# ICMP echo request whose payload (after busybox ping's 8-byte time stamp)
# is the byte 0xb0 (begin) or 0xe0 (end) repeated, 1000 + the pair's index
# bytes long (RDMA_PAIRS; the client logs "rdma-mark: INDEX NAME").  The
# ping waits for its reply, so no RDMA frame overtakes it.  A lost marker
# only costs the capture its cut.
RDMA_PAIRS=0
rdma_mark() {
	if [ "$1" = begin ]; then _rm_p=b0; else _rm_p=e0; fi
	ping -c 1 -W 2 -p "$_rm_p" -s $((1000 + RDMA_PAIRS)) "$(net_ip4 "$RDMA_SERVER")" > /dev/null 2>&1 || true
}

# rdma_wait_listen tcp:PORT|cm:PORT PID: waits (NET_TIMEOUT) until the
# server PID listens: a TCP socket on PORT (the tools that swap their QP
# numbers over TCP), or an rdma_cm ID in state LISTEN on PORT (rping,
# ucmatose, perftest -R).  Fails at once when PID has ended.
rdma_wait_listen() {
	_rw_port=${1#*:}
	_rw_hex=$(printf ':%04X ' "$_rw_port")
	_rw_end=$(($(net_now) + NET_TIMEOUT))
	while :; do
		case $1 in
		tcp:*)
			cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
				awk -v p="$_rw_hex" 'index($2 " ", p) && $4 == "0A" { f = 1 } END { exit !f }' &&
				return 0
			;;
		cm:*)
			rdma resource show cm_id 2>/dev/null | grep 'state LISTEN' |
				grep -q ":$_rw_port\( \|$\)" && return 0
			;;
		esac
		if ! kill -0 "$2" 2>/dev/null; then
			net_log "the server ended before it listened on $1"
			return 1
		fi
		if [ "$(net_now)" -ge "$_rw_end" ]; then
			net_log "nothing listens on $1 after $NET_TIMEOUT s"
			return 1
		fi
		sleep 0.1
	done
}

# rdma_pair NAME LISTEN SERVER-CMD CLIENT-CMD: runs SERVER-CMD (a shell
# command) on guest RDMA_SERVER and, once it listens (rdma_wait_listen
# LISTEN), CLIENT-CMD on guest RDMA_CLIENT; every guest calls it.  Each
# side passes when its command exits 0 within RDMA_TIMEOUT; each prints
# its command's output.  The server tells the client when it listens
# (one message to RDMA_READY_PORT, the pair's index; "fail" when it did
# not come up): half of a net_barrier, which matters at 20-odd pairs
# under TCG.  The next pair's message waits for this pair's server to end
# (by itself, or killed by its timeout when its client failed).  Other
# guests do nothing.  Variables are _rp_-prefixed: busybox sh functions
# share the caller's.
rdma_pair() {
	_rp_name=$1 _rp_listen=$2 _rp_srv=$3 _rp_cli=$4
	RDMA_PAIRS=$((RDMA_PAIRS + 1))
	if [ "$NET_BROKEN" = 1 ]; then
		case $NET_GUEST in
		"$RDMA_SERVER") net_broken "$_rp_name (server)" ;;
		"$RDMA_CLIENT") net_broken "$_rp_name (client)" ;;
		esac
		return 1
	fi
	if [ "$NET_GUEST" = "$RDMA_SERVER" ]; then
		net_log "$_rp_name: server at $(cut -d' ' -f1 /proc/uptime) s: $_rp_srv"
		timeout "$RDMA_TIMEOUT" sh -c "$_rp_srv" > /tmp/rdma-srv.out 2>&1 &
		_rp_pid=$!
		_rp_cip=$(net_ip4 "$RDMA_CLIENT")
		if ! rdma_wait_listen "$_rp_listen" "$_rp_pid"; then
			kill "$_rp_pid" 2> /dev/null
			wait "$_rp_pid"
			cat /tmp/rdma-srv.out
			t_fail "$_rp_name (server)" "did not listen ($_rp_listen)"
			net_msg_send "$_rp_cip" "$RDMA_READY_PORT" fail
			return 1
		fi
		net_log "$_rp_name: server listens at $(cut -d' ' -f1 /proc/uptime) s"
		if ! net_msg_send "$_rp_cip" "$RDMA_READY_PORT" "$RDMA_PAIRS"; then
			NET_BROKEN=1
			kill "$_rp_pid" 2> /dev/null
		fi
		_rp_rc=0
		wait "$_rp_pid" || _rp_rc=$?
		net_log "$_rp_name: server ended at $(cut -d' ' -f1 /proc/uptime) s"
		sed 's/^/  srv| /' /tmp/rdma-srv.out
		if [ "$_rp_rc" = 0 ]; then
			t_ok "$_rp_name (server)"
		else
			t_fail "$_rp_name (server)" "status $_rp_rc: $(tail -n 3 /tmp/rdma-srv.out | tr '\n' ' ')"
		fi
	elif [ "$NET_GUEST" = "$RDMA_CLIENT" ]; then
		if ! _rp_m=$(net_msg_recv "$RDMA_READY_PORT"); then
			t_fail "$_rp_name (client)" "the server's guest did not get ready"
			NET_BROKEN=1
			return 1
		fi
		if [ "$_rp_m" != "$RDMA_PAIRS" ]; then
			t_fail "$_rp_name (client)" "the server says '$_rp_m', not pair $RDMA_PAIRS ready"
			[ "$_rp_m" = fail ] || NET_BROKEN=1
			return 1
		fi
		net_log "$_rp_name: client: $_rp_cli"
		echo "rdma-mark: $RDMA_PAIRS $_rp_name (at $(cut -d' ' -f1 /proc/uptime) s)"
		rdma_mark begin
		_rp_t0=$(cut -d' ' -f1 /proc/uptime)
		_rp_rc=0
		timeout "$RDMA_TIMEOUT" sh -c "$_rp_cli" > /tmp/rdma-cli.out 2>&1 || _rp_rc=$?
		_rp_t1=$(cut -d' ' -f1 /proc/uptime)
		rdma_mark end
		sed 's/^/  cli| /' /tmp/rdma-cli.out
		echo "rdma-time: $_rp_name: $(echo "$_rp_t0 $_rp_t1" | awk '{ printf "%.1f", $2 - $1 }') s"
		if [ "$_rp_rc" = 0 ]; then
			t_ok "$_rp_name (client)"
		else
			t_fail "$_rp_name (client)" "status $_rp_rc: $(tail -n 3 /tmp/rdma-cli.out | tr '\n' ' ')"
		fi
	fi
}

# stat NAME [SNAPSHOT]: this guest's device counter NAME (datasheet 11.9,
# section 2) on RDMA_DEV (default dbnic0), as `rdma statistic` shows it
# now, or as SNAPSHOT (the output of stats) showed it; -1 if it has none.
# One `rdma statistic` costs about half a second under TCG with the debug
# kernel: take a snapshot to read several.
stats() { rdma statistic show link "${RDMA_DEV:-dbnic0}/1" 2>/dev/null; }
stat() {
	if [ $# -gt 1 ]; then echo "$2"; else stats; fi |
		tr ' ' '\n' | awk -v n="$1" 'f { print; f = 2; exit } $0 == n { f = 1 }
			END { if (f != 2) print -1 }'
}

# run-guest: --guests 2 --nic dbnic --timeout 300
# The issue's bulk transfer: 256 MiB from guest 1 to guest 0 through nc
# over the dbnic netdev, with the sha256 of both ends compared by the
# receiver (net_xfer's rules; net-lib.sh), at MTU 9000 with TSO and
# checksum offload on (the driver's defaults).
#
# NOT in the suite (scripts/test.sh runs tests/guest/e2e-*.sh): on the
# test kernel (KASAN, lockdep, kmemleak) the two guests spend about 0.5
# CPU-seconds of the host per MiB, over 2 minutes of a 2-core host for
# the transfer alone; on the bench kernel the whole run is about 37
# CPU-seconds.  `make bench` (scripts/bench.sh, section 5) runs it on
# the bench kernel and reports its time and rate; a wrong sum fails it.
#
# Why it is built this way: under TCG the guests' own CPU, not the
# device, sets the rate, and what costs is system calls and frames per
# byte.
#   - No shell pipeline and no nc copy loop: busybox nc copies 1 KiB per
#     poll/read/write, three calls a KiB.  With -e, nc only connects; the
#     sender's "cat" then writes the files to the socket with sendfile()
#     (1 MiB per call), and the receiver's sha256sum reads the socket
#     itself.
#   - MTU 9000: a sixth of the frames, interrupts and receive work of 1500.
#   - The data is a random block of 1 MiB less one byte, repeated, then
#     cut by a shorter last file (net_xfer_data's odd period: no two
#     segments carry the same bytes), so it needs no generator process.
#   - The sender hashes the same files while it sends them.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"

MIB=256
MTU=9000

peer=$((1 - NET_GUEST))

insmod "$DIR/dbnic_core.ko" || t_fail "insmod dbnic_core" "failed"
insmod "$DIR/dbnic_eth.ko" || t_fail "insmod dbnic_eth" "failed"
net_up
if [ "$NET_BROKEN" != 1 ]; then
	# 256 buffers ran dry at every scheduling hiccup of a loaded host.
	t_check "net: 1024 RX buffers by default (ethtool -g)" sh -c \
		"/usr/sbin/ethtool -g $NET_IF | sed -n '/^Current/,\$p' | grep -q '^RX:[[:space:]]*1024\$'"
	t_check "net: MTU $MTU" /usr/bin/ip link set "$NET_IF" mtu $MTU
fi
# Both ends at the jumbo MTU before the connection's MSS is chosen.
net_wait_peer "$peer" || t_fail "net: g$NET_GUEST reaches g$peer" "no answer"
net_barrier "bulk mtu"

name="net: $MIB MiB g1->g0 through nc at MTU $MTU, sha256 of both ends"
limit=$((NET_TIMEOUT + 2 * MIB))
if [ "$NET_BROKEN" = 1 ]; then
	[ "$NET_GUEST" != 0 ] || net_broken "$name"
elif [ "$NET_GUEST" = 0 ]; then
	rm -f /tmp/bulk.recv
	timeout "$limit" nc -l -p "$NET_XFER_PORT" \
		-e sh -c "sha256sum > /tmp/bulk.recv" < /dev/null > /dev/null 2>&1 &
	rpid=$!
	net_wait_listen "$NET_XFER_PORT" || NET_BROKEN=1
	if net_barrier "bulk listening"; then
		start=$(cut -d' ' -f1 /proc/uptime)
		wait "$rpid"
		end=$(cut -d' ' -f1 /proc/uptime)
		got=$(cut -d' ' -f1 /tmp/bulk.recv 2>/dev/null)
		net_log "bulk: received in $(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }') s, sha256 ${got:-none}"
		if ! sent=$(net_msg_recv "$NET_SUM_PORT"); then
			t_fail "$name" "the sender's sum did not come"
			NET_BROKEN=1
		elif [ -n "$got" ] && [ "$got" = "$sent" ]; then
			t_ok "$name"
		else
			t_fail "$name" "sha256 sent $sent, received ${got:-nothing}"
		fi
	else
		kill "$rpid" 2> /dev/null
		t_fail "$name" "the sender's guest did not come"
	fi
else
	head -c 1048575 /dev/urandom > /tmp/bulk.blk
	head -c "$MIB" /tmp/bulk.blk > /tmp/bulk.end
	files=
	n=0
	while [ $n -lt $MIB ]; do
		files="$files /tmp/bulk.blk"
		n=$((n + 1))
	done
	files="$files /tmp/bulk.end"	# MIB MiB in all
	# The sender's sum, of the same files, while they are sent: the
	# guest's second vCPU hashes as the first sends.
	# shellcheck disable=SC2086  # the file names, split
	cat $files | sha256sum > /tmp/bulk.sum &
	hpid=$!
	if net_barrier "bulk listening"; then
		start=$(cut -d' ' -f1 /proc/uptime)
		rc=0
		# shellcheck disable=SC2086
		timeout "$limit" nc "$(net_ip4 0)" "$NET_XFER_PORT" -e cat $files || rc=$?
		end=$(cut -d' ' -f1 /proc/uptime)
		wait "$hpid"
		sent=$(cut -d' ' -f1 /tmp/bulk.sum)
		net_log "bulk: sent $MIB MiB in $(echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }') s, nc status $rc, sha256 $sent"
		# The receiver reports the failure: its sum cannot match this.
		[ "$rc" = 0 ] || sent="none (nc status $rc)"
		net_msg_send "$(net_ip4 0)" "$NET_SUM_PORT" "$sent" || NET_BROKEN=1
	fi
fi
net_barrier "bulk done"
/usr/sbin/ethtool -S "$NET_IF" 2>/dev/null | grep -E 'dev_eth|_bytes|_packets' | grep -v ': 0$'
t_dmesg_clean "dmesg clean"
t_done

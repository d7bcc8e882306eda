# run-guest: --guests 2 --nic virtio --timeout 600
# RDMA between two guests over Linux's soft RoCE (rxe) on virtio-net: the
# reference for dbnic's RDMA tests (issue 9) with no dbnic code in the
# path.  It proves the guest image's RDMA user space (rdma-core 56.1 from
# scripts/build-rdma-core.sh under Debian bookworm's unmodified tools),
# times each tool under TCG, and with run-guest.sh --pcap it records rxe's
# RoCEv2 frames: the wire library's test vectors.  Both guests run this
# script (busybox sh) with lib.sh, net-lib.sh and rdma-lib.sh in
# $DBNIC_DIR (/dbnic); guest 0 serves, guest 1 is the client.
#
# Steps: addresses up and pings both ways (which also fill the neighbour
# tables rdma_cm and the kernel's AH resolution use); rdma_rxe on the NIC;
# ibv_devices and ibv_devinfo -v; ibv_rc_pingpong (64 B, 4 KiB: one and
# four packets at path MTU 1024; and 4 KiB over the IPv6 GIDs) and
# ibv_ud_pingpong (64 B, 1 KiB), data checked (-c); the six perftests
# (send/write/read, bw/lat) and the same with -R (rdma_cm); rping -V
# (data checked), ucmatose and udaddy; a clean kernel log.
#
# Not in the suite (scripts/test.sh runs tests/guest/e2e-*.sh): run it by
# hand, like net-virtio.sh:
#   scripts/run-guest.sh -q --guests 2 --nic virtio --timeout 600 \
#       --add tests/guest/lib.sh:/dbnic/lib.sh \
#       --add tests/guest/net-lib.sh:/dbnic/net-lib.sh \
#       --add tests/guest/rdma-lib.sh:/dbnic/rdma-lib.sh \
#       [--pcap DIR] --script tests/guest/rdma-rxe.sh
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/net-lib.sh"
. "$DIR/rdma-lib.sh"

peer=$((1 - NET_GUEST))
# Which pairs: "full" (the default; every tool, 21 pairs) or "quick"
# (run-guest.sh --append dbnic_rdma=quick): the set of issue 9's
# e2e-rdma-2g.sh (design section 6.4) at small counts, 11 pairs, to
# measure what that test costs under TCG.
RDMA_SET=$(net_param dbnic_rdma) || RDMA_SET=full
# Iterations and sizes.  Under TCG with the debug kernel one rxe message
# costs 10-60 ms (more at higher load; see the rdma-time lines).
if [ "$RDMA_SET" = quick ]; then
	PP_N=10 BW_N=20 LAT_N=20 RPING_C=5
else
	PP_N=20 BW_N=100 LAT_N=100 RPING_C=10
fi
BW_SIZE=4096
LAT_SIZE=64
# full_only: true in the full set.
full_only() { [ "$RDMA_SET" != quick ]; }

net_up
net_log "network up at $(cut -d' ' -f1 /proc/uptime) s"
net_ping "$peer" 4
net_ping "$peer" 6

RDMA_DEV=rxe0
if ! out=$(modprobe rdma_rxe 2>&1 && rdma link add "$RDMA_DEV" type rxe netdev "$NET_IF" 2>&1); then
	t_fail "rxe: link added on $NET_IF" "$out"
	NET_BROKEN=1
else
	t_ok "rxe: link added on $NET_IF"
fi
rdma link show
net_log "rxe up at $(cut -d' ' -f1 /proc/uptime) s"

rdma_check_port "$RDMA_DEV"
net_log "devices and GIDs checked at $(cut -d' ' -f1 /proc/uptime) s"
srv=$(net_ip4 "$RDMA_SERVER")
srv6=$(net_ip6 "$RDMA_SERVER")
d="-d $RDMA_DEV"

# Pingpongs: the TCP exchange (port 18515) is over IPv4; -g picks the GID
# the QPs use, so "IPv6" is RoCEv2 over IPv6.  4 KiB is four packets at
# path MTU 1024 (netdev MTU 1500).
for sz in 64 4096; do
	[ "$sz" = 4096 ] || full_only || continue
	c="ibv_rc_pingpong $d -g $gid4 -c -n $PP_N -s $sz"
	rdma_pair "ibv_rc_pingpong -s $sz" tcp:18515 "$c" "$c $srv"
done
if full_only; then
	c="ibv_rc_pingpong $d -g $gid6 -c -n $PP_N -s 4096"
	rdma_pair "ibv_rc_pingpong IPv6 -s 4096" tcp:18515 "$c" "$c $srv"
fi
# UD messages fit one packet: at most the path MTU.
for sz in 64 1024; do
	[ "$sz" = 1024 ] || full_only || continue
	c="ibv_ud_pingpong $d -g $gid4 -c -n $PP_N -s $sz"
	rdma_pair "ibv_ud_pingpong -s $sz" tcp:18515 "$c" "$c $srv"
done

# perftest: -F: no cpufreq warning (a guest has no cpufreq).  -R:
# rdma_cm connects the QPs (its GSI MADs, address and route resolution)
# and picks the GID from the address; the quick set has it for
# ib_send_bw and ib_write_lat only.
for R in "" "-R "; do
	if [ -n "$R" ]; then L=cm:18515; else L=tcp:18515; fi
	for t in send write read; do
		if [ -z "$R" ] || full_only || [ "$t" = send ]; then
			c="ib_${t}_bw $d ${R:--x $gid4 }-F -n $BW_N -s $BW_SIZE"
			rdma_pair "ib_${t}_bw $R-s $BW_SIZE" "$L" "$c" "$c $srv"
		fi
		if [ -z "$R" ] || full_only || [ "$t" = write ]; then
			c="ib_${t}_lat $d ${R:--x $gid4 }-F -n $LAT_N -s $LAT_SIZE"
			rdma_pair "ib_${t}_lat $R-s $LAT_SIZE" "$L" "$c" "$c $srv"
		fi
	done
done

# librdmacm's examples: rping checks every ping's data (-V); -v prints it
# (only at the default size: 1 KiB lines would flood the log).
rdma_pair "rping -V -C $RPING_C -S 1024" cm:7174 \
	"rping -s -V -C $RPING_C -S 1024 -a $srv" "rping -c -V -C $RPING_C -S 1024 -a $srv"
if full_only; then
	rdma_pair "rping IPv6 -v -V -C $RPING_C" cm:7174 \
		"rping -s -v -V -C $RPING_C -a $srv6" "rping -c -v -V -C $RPING_C -a $srv6"
	rdma_pair "ucmatose" cm:7471 "ucmatose -b $srv" "ucmatose -s $srv"
	rdma_pair "udaddy" cm:7174 "udaddy -b $srv" "udaddy -s $srv"
fi

# rxe's counters (retransmissions, sequence errors, drops) for the log.
# "link rxe0/1 name value name value ...": the non-zero ones.
rdma statistic show link "$RDMA_DEV/1" 2>&1 |
	awk '{ for (i = 3; i < NF; i += 2) if ($(i + 1) != 0) print "rxe counter:", $i, $(i + 1) }'
# The link's removal is part of the test (its teardown in a clean kernel
# log); a script that sources this one for more pairs sets RDMA_KEEP=1.
[ -n "$RDMA_KEEP" ] || rdma link delete "$RDMA_DEV" 2>/dev/null
t_dmesg_clean "dmesg clean"
t_done

# Issue 9's isolation test (busybox sh), sourced by e2e-rdma.sh after
# lib.sh, net-lib.sh and rdma-lib.sh: rdma_isolation DEV GIDX, called by
# both guests.  It uses rdma-lib.sh's `stat NAME` (a device counter).
# /dbnic/dbnic-rdma-isolation (tests/rdma/dbnic-rdma-isolation.c) does the
# attacks; its header says what each mode proves.
#
# On guest RDMA_SERVER two victim processes run RC traffic in loopback,
# each on its own context and doorbell page, checking every byte.  Then:
#  - a third process rings DB_SQ, DB_QP_RQ and DB_CQ of every queue
#    number from its own page: the device counts them in db_not_owner
#    (datasheet 3.1, 11.3), at least 3 for each victim QP (its send
#    queue twice, its receive ring once); then it writes a complete
#    SEND WQE for every queue number into its own priority slots: at
#    least one counted for each victim QP (3.2);
#  - a third process posts WQEs and a RECV on its own QPs whose SGEs
#    name the victims' lkeys (and an MR of another PD): each completes
#    with IBV_WC_LOC_PROT_ERR (11.4 check 4, 11.5) and nothing of the
#    victims' reaches it;
#  - from guest RDMA_CLIENT, RDMA WRITEs on RC QPs connected to a QP of
#    the attacker's own on this guest (a peer process), with a guessed
#    rkey, a victim's real rkey and its stale rkey: each completes with
#    IBV_WC_REM_ACCESS_ERR at the attacker, and this guest's roce_rx_rkey
#    counted each (11.8);
#  - then the victims run 10 more rounds and exit 0 only when every
#    round's data was intact, no WC error happened, and the buffers the
#    attackers aimed at hold their pattern.
# It moves the attackers' QPs to ERR (roce_qp_err), so it runs after
# e2e-rdma.sh's checks that those counters are 0.
RDMA_ISO_BIN=${DBNIC_DIR:-/dbnic}/dbnic-rdma-isolation
RDMA_ISO_PORT=18700

# rdma_iso_run NAME CMD...: CMD (RDMA_TIMEOUT), its output indented; a
# check that it exited 0.
rdma_iso_run() {
	_ri_name=$1
	shift
	_ri_rc=0
	timeout "$RDMA_TIMEOUT" "$@" > /tmp/iso.out 2>&1 || _ri_rc=$?
	sed 's/^/  iso| /' /tmp/iso.out
	if [ "$_ri_rc" = 0 ]; then
		t_ok "$_ri_name"
	else
		t_fail "$_ri_name" "status $_ri_rc: $(grep FAIL /tmp/iso.out | head -n 3 | tr '\n' ' ')"
	fi
}

rdma_isolation() {
	_ri_dev=$1 _ri_gidx=$2
	_ri_srv=$(net_ip4 "$RDMA_SERVER")
	if [ "$NET_GUEST" = "$RDMA_SERVER" ] && [ "$NET_BROKEN" != 1 ]; then
		_ri_t0=$(cut -d' ' -f1 /proc/uptime)
		rm -f /tmp/iso-v1.info /tmp/iso-v2.info /tmp/iso-stop
		for _ri_v in 1 2; do
			timeout 120 "$RDMA_ISO_BIN" victim "$_ri_dev" "$_ri_gidx" \
				/tmp/iso-v$_ri_v.info /tmp/iso-stop > /tmp/iso-v$_ri_v.out 2>&1 &
			eval "_ri_pid$_ri_v=\$!"
		done
		_ri_end=$(($(net_now) + 30))
		while ! [ -f /tmp/iso-v1.info ] || ! [ -f /tmp/iso-v2.info ]; do
			[ "$(net_now)" -lt "$_ri_end" ] || break
			sleep 0.2
		done
		# 2 victims with 2 QPs each.
		_ri_n0=$(stat db_not_owner)
		rdma_iso_run "isolation: doorbells from a foreign page" "$RDMA_ISO_BIN" doorbells "$_ri_dev"
		_ri_n=$(($(stat db_not_owner) - _ri_n0))
		t_check "isolation: doorbells for the victims' queues from a foreign page counted (db_not_owner +$_ri_n)" \
			[ "$_ri_n" -ge 12 ]
		_ri_n0=$(stat db_not_owner)
		rdma_iso_run "isolation: priority WQEs from a foreign page" "$RDMA_ISO_BIN" prio "$_ri_dev"
		_ri_n=$(($(stat db_not_owner) - _ri_n0))
		t_check "isolation: priority WQEs for the victims' queues from a foreign page counted (db_not_owner +$_ri_n)" \
			[ "$_ri_n" -ge 4 ]
		rdma_iso_run "isolation: WQEs naming the victims' lkeys refused" \
			"$RDMA_ISO_BIN" lkeys "$_ri_dev" "$_ri_gidx" /tmp/iso-v1.info /tmp/iso-v2.info
		_ri_r0=$(stat roce_rx_rkey)
	fi
	rdma_pair "isolation: remote attacker's RDMA WRITEs refused" tcp:$RDMA_ISO_PORT \
		"$RDMA_ISO_BIN peer $_ri_dev $_ri_gidx $RDMA_ISO_PORT /tmp/iso-v1.info /tmp/iso-v2.info" \
		"$RDMA_ISO_BIN remote $_ri_dev $_ri_gidx $_ri_srv $RDMA_ISO_PORT"
	[ "$NET_GUEST" = "$RDMA_SERVER" ] && [ "$NET_BROKEN" != 1 ] || return 0
	# 3 WRITEs at each of 2 victims.
	_ri_r=$(($(stat roce_rx_rkey) - _ri_r0))
	t_check "isolation: the responder counted the bad rkeys (roce_rx_rkey +$_ri_r)" [ "$_ri_r" -ge 6 ]
	touch /tmp/iso-stop
	for _ri_v in 1 2; do
		_ri_rc=0
		eval "wait \$_ri_pid$_ri_v" || _ri_rc=$?
		sed 's/^/  iso| /' /tmp/iso-v$_ri_v.out
		t_check "isolation: victim $_ri_v's data and progress unaffected (status $_ri_rc)" [ "$_ri_rc" = 0 ]
	done
	echo "rdma-time: isolation: $(echo "$_ri_t0 $(cut -d' ' -f1 /proc/uptime)" | awk '{ printf "%.1f", $2 - $1 }') s"
}

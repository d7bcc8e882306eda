#!/usr/bin/env bash
# Benchmarks of the doorbell and DMA engines.  They print numbers and never
# fail on speed; the exit status is non-zero only when a benchmark did not
# run (build failure, guest crash, error completions).
#
#   1. host micro-benchmark of the device core (tests/bench/bench_core.c):
#      the emulator's own cost per descriptor, ring vs priority path
#   2. host memcpy bandwidth (tests/bench/bench_memcpy.c), the physical
#      limit of emulated DMA
#   3. guest benchmarks, PCIe timing model off: the driver's debugfs
#      "bench" (kernel queue) and, when user/ builds it, dbnic-bench
#   4. the same with the timing model on (the gen3x8 profile, see
#      MODELS below)
#
# Each table comes with the command that produced it.  Guests run under
# TCG: guest numbers are emulator numbers.
#
#   5. netdev: two guests on one QEMU network (run-guest.sh --guests 2),
#      guest 1 sending to guest 0 (tests/guest/bench-net.sh): ping RTT
#      (median, p99), iperf3 TCP with one stream and four, pktgen
#      64-byte frames per second; first on dbnic (dbnic_eth.ko) with the
#      "inline-prio" private flag on, then off (ring only) in the same
#      two guests, then on virtio-net.  About 100 s (load 15) to 200 s
#      (load 45).  Then the issue's bulk transfer, tests/guest/net-bulk.sh:
#      256 MiB from guest 1 to guest 0 through nc at MTU 9000, sha256
#      of both ends compared (a mismatch fails the run): its time and
#      rate.  About 90 s at load 30.  Too slow for the test kernel's
#      debug options under TCG, so the suite does not run it.
#
#   6. RDMA: two guests, each with a dbnic (roce=on) on the guests'
#      network and a virtio-net NIC on a second one (run-guest.sh
#      --nic2 virtio), guest 1 the client of Debian's perftest 4.5
#      against guest 0 (tests/guest/bench-rdma.sh): ib_send_lat and
#      ib_write_lat (t_typical, t_avg) and ib_send_bw (BW average) at
#      64 B, 4 KiB and 64 KiB, ib_write_bw at 1 MiB; each on dbnic with
#      the provider's DBNIC_PRIORITY=always, with never, and on Linux's
#      soft RoCE (rxe) over the virtio-net NIC, the three taking turns,
#      in the same two guests.  The sender's device counters (prio_exec,
#      ring_fetch) must show that each policy took effect, or the step
#      fails.  Then the dbnic rows again in a second pair with the
#      timing model on (the first of MODELS) on both dbnics.  rxe under TCG retransmits:
#      a size it does not finish within the pair's time limit is "n/a"
#      with the reason, not a failure.  Three rounds: about 200 s
#      and 150 s for the two pairs (bench kernel, load 4-7).
#      Then RDMA on a lossy network (issue 10): ib_write_bw 1 MiB and
#      ib_send_lat 64 B, dbnic (DBNIC_PRIORITY=never: the ring, which
#      retransmissions read again) and rxe taking turns in the same two
#      guests, at each loss of DBNIC_BENCH_RDMA_LOSS (0, 1 and 5%), one
#      pair of guests per rate.  Each guest loses that share of the
#      packets it transmits: dbnic's port through the device's fault
#      injection (roce-tx-drop in ppm on both dbnics, datasheet 11.11),
#      rxe's virtio-net NIC through netem (tc qdisc ... netem loss P%,
#      set up by tests/guest/bench-rdma.sh).  One boot per rate rather
#      than changing the rate at run time (QMP qom-set through
#      run-guest.sh --host-actions): the property is on the QEMU command
#      line, so it holds from the first packet on both ports, and nothing
#      depends on the launcher following the serial console in time (the
#      guest cannot read the rate back: no register shows it).  A boot
#      costs about 30 s under TCG.  Both guests print the counters that
#      explain the recovery (dbnic's retransmission and fault counters,
#      rxe's, netem's drops).  ib_send_lat at 5% keeps perftest's default
#      QP timeout (14: 67 ms): its lost packets wait for the timer, and
#      that shows in its figures.  2 to 4 min (one round, load 3.5-18).
#
# Each guest run also times doorbell stores, idle and while another
# context streams 1 MiB COPYs (user/dbnic-loadtest dblat).  At the end
# (7.) one table of ratios, each between two numbers of this run
# (scripts/bench-report.py): priority vs ring QD1 latency per model, dbnic
# vs host memcpy bandwidth, doorbell latency loaded vs idle, dbnic inline
# and ring only vs virtio-net and vs each other, dbnic's RDMA (always,
# never; timing model off and on) vs rxe; the raw samples as one
# CSV file and latency CDFs drawn by gnuplot (paths printed at the end,
# in the run's log directory).  gnuplot-nox (Debian) is the one package
# only the benchmarks need: scripts/setup-host.sh --bench, run first,
# installs it.
#
#   scripts/bench.sh
#   DBNIC_BENCH_PARAMS="iters=5000 qd=32"   debugfs bench parameters
#                                           (default "iters=10000")
#   DBNIC_BENCH_USER_ARGS="-n 5000"         dbnic-bench arguments
#                                           (default "-n 10000")
#   DBNIC_BENCH_MODEL="timing=gen3x8,dma-latency-ns=..."   step 4, once
#   DBNIC_BENCH_MODELS="M1 M2 ..."          step 4 once per model
#   DBNIC_BENCH_SKIP_BUILD=1                skip scripts/build-all.sh and the
#                                           bench kernel and module builds
#   DBNIC_BENCH_ONLY=net                    only the netdev benchmarks (5.)
#                                           and their ratios
#   DBNIC_BENCH_ONLY=rdma                   only the RDMA benchmarks (6.)
#                                           and their ratios
#   DBNIC_BENCH_ONLY=rdma-loss              only the RDMA loss rows (6.)
#   DBNIC_BENCH_RDMA_LOSS="0 1 5"           loss rates, percent of the
#                                           packets each guest transmits
#                                           (0 to 100, one boot each)
#   DBNIC_BENCH_RDMA_LOSS_ROUNDS=1          rounds of the loss rows
#                                           (default 1)
#   DBNIC_BENCH_RDMA_ITERS="200 200 20"     perftest iterations (-n): the
#                                           latency tests, ib_send_bw,
#                                           ib_write_bw 1 MiB
#   DBNIC_BENCH_RDMA_TIMEOUT=45             seconds a perftest pair may take
#                                           (default 45)
#   DBNIC_BENCH_RDMA_ROUNDS=1               each RDMA benchmark once per mode
#                                           (default 3, the modes taking
#                                           turns; the report takes the
#                                           rounds' median)
#   DBNIC_BENCH_RDMA_MODEL_RXE=1            rxe in the timing-model pair too
#                                           (default 0: that pair runs the
#                                           dbnic rows only, and its ratios
#                                           use the first pair's rxe, which
#                                           the dbnic model does not touch)
#   DBNIC_BENCH_NET_PINGS=200               pings per mode (10 ms apart)
#   DBNIC_BENCH_NET_SECS=4                  seconds per iperf3 run
#   DBNIC_BENCH_PKTGEN_SECS=3               seconds of pktgen per mode
#   DBNIC_BENCH_NET_ROUNDS=3                each netdev benchmark 3 times
#                                           per mode (default 1), the
#                                           modes taking turns; reports
#                                           the rounds' median (ping: of
#                                           all rounds' RTTs)
#
# Guests boot the bench kernel (scripts/build-kernel.sh --bench, built
# here): the test kernel's configuration without its debug block (KASAN,
# lockdep, kmemleak, debugobjects, DMA-API debug), which multiply what
# every driver path costs (a QD1 ring round trip: ~10 us with them,
# ~1.4 us without).  The module is built against it (build-module.sh
# --bench); scripts/test.sh and CI never build or boot this kernel.
#   DBNIC_BENCH_KERNEL=test                 boot the test kernel (debug
#                                           options) with build/module
#                                           instead: to try the steps while
#                                           the bench kernel builds; its
#                                           numbers are not the benchmark's
#   DBNIC_BENCH_DBLAT=500                   doorbell stores per phase
#                                           (default 1000)
. "$(dirname "$0")/lib.sh"

# The timing model of step 4 is the datasheet's gen3x8 profile (docs/
# hardware.md section 9: posted write 250 ns, DMA read round trip 500 ns,
# 100 ns per descriptor, 160 ps per byte), in virtual time.  The guest
# runs without -icount here, so guest numbers still carry the emulator's
# own cost; for exact, repeatable model times boot with
# scripts/run-guest.sh --timing gen3x8 (adds -icount shift=0,sleep=off).
MODELS=${DBNIC_BENCH_MODELS:-${DBNIC_BENCH_MODEL:-timing=gen3x8}}
# 10000 samples a row: a guest run still takes well under a minute, and
# medians move less with the host's load.
PARAMS=${DBNIC_BENCH_PARAMS-iters=10000}
USER_ARGS=${DBNIC_BENCH_USER_ARGS--n 10000}
DBLAT=${DBNIC_BENCH_DBLAT:-1000}
[[ $DBLAT =~ ^[1-9][0-9]*$ ]] || die "DBNIC_BENCH_DBLAT=$DBLAT: want a number of samples"
ONLY=${DBNIC_BENCH_ONLY:-}
case $ONLY in
''|net|rdma|rdma-loss) ;;
*) die "DBNIC_BENCH_ONLY=$ONLY: want net, rdma or rdma-loss (or nothing: every benchmark)" ;;
esac
# perftest iterations: 200 latency samples and 200 messages take rxe a
# few seconds at 64 KiB under TCG; 20 MiB for ib_write_bw.
read -r RDMA_LAT_N RDMA_BW_N RDMA_BIG_N <<< "${DBNIC_BENCH_RDMA_ITERS:-200 200 20}"
RDMA_TIMEOUT=${DBNIC_BENCH_RDMA_TIMEOUT:-45}
RDMA_MODEL_RXE=${DBNIC_BENCH_RDMA_MODEL_RXE:-0}
# Three rounds: a median of three t_typical moves less with the host's
# scheduling than one (at load 5-8, one round's dbnic t_typical ranged
# from 100 us to 1.9 ms between neighbouring rows).
RDMA_ROUNDS=${DBNIC_BENCH_RDMA_ROUNDS:-3}
# perftest refuses fewer than 5 iterations.
for v in RDMA_LAT_N RDMA_BW_N RDMA_BIG_N; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]] || [ "${!v}" -lt 5 ]; then
		die "DBNIC_BENCH_RDMA_ITERS: $v=${!v}: want a number, at least 5 (perftest's minimum)"
	fi
done
[[ $RDMA_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "DBNIC_BENCH_RDMA_TIMEOUT=$RDMA_TIMEOUT: want seconds"
[[ $RDMA_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "DBNIC_BENCH_RDMA_ROUNDS=$RDMA_ROUNDS: want a positive number"
RDMA_LOSS=${DBNIC_BENCH_RDMA_LOSS:-0 1 5}
RDMA_LOSS_ROUNDS=${DBNIC_BENCH_RDMA_LOSS_ROUNDS:-1}
[[ $RDMA_LOSS_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "DBNIC_BENCH_RDMA_LOSS_ROUNDS=$RDMA_LOSS_ROUNDS: want a positive number"
for p in $RDMA_LOSS; do
	if ! [[ $p =~ ^[0-9]+(\.[0-9]+)?$ ]] || awk -v p="$p" 'BEGIN { exit !(p > 100) }'; then
		die "DBNIC_BENCH_RDMA_LOSS: $p: want percentages, 0 to 100"
	fi
done
# The loss rows' dbnic mode: the ring only, as the policy most like a
# driver without a priority lane.
RDMA_LOSS_MODE=never
# 200 pings: a p99 with two samples above it, in 2 s.  4 s of iperf3
# (after a first second that bench-net.sh leaves out) and 3 s of pktgen:
# under TCG the rates settle within a second.
NET_PINGS=${DBNIC_BENCH_NET_PINGS:-200}
NET_SECS=${DBNIC_BENCH_NET_SECS:-4}
PKTGEN_SECS=${DBNIC_BENCH_PKTGEN_SECS:-3}
NET_ROUNDS=${DBNIC_BENCH_NET_ROUNDS:-1}
for v in NET_PINGS NET_SECS PKTGEN_SECS NET_ROUNDS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "DBNIC_BENCH_$v=${!v}: want a positive number"
done
LOGDIR=$DBNIC_CACHE/logs/bench-$(date +%Y%m%d-%H%M%S)
HOSTOUT=$DBNIC_CACHE/build/host
mkdir -p "$LOGDIR"
status=0

# Paths relative to the repository read better in the printed commands.
rel() { local p=$1; printf '%s' "${p#"$DBNIC_TOP"/}"; }

# A command line as one would type it: words quoted only when needed.
show_cmd() {
	local w out=
	for w in "$@"; do
		if [[ $w =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
			out+="$w "
		elif [[ ! $w =~ [\"\$\`\\!] ]]; then
			out+="\"$w\" "
		else
			out+="'${w//\'/\'\\\'\'}' "
		fi
	done
	printf '%s' "${out% }"
}

section() {	# title command...
	local title=$1
	shift
	printf '\n=== %s\n$ %s\n' "$title" "$*"
}

# gnuplot for the CDFs: the only package the benchmarks add.
"$DBNIC_TOP/scripts/setup-host.sh" --bench >&2
if [ "${DBNIC_BENCH_SKIP_BUILD:-0}" != 1 ]; then
	"$DBNIC_TOP/scripts/build-all.sh" >&2
	"$DBNIC_TOP/scripts/build-kernel.sh" --bench >&2
	"$DBNIC_TOP/scripts/build-module.sh" --bench >&2
fi
BENCH_KERNEL_NAME="bench kernel" BENCH_KERNEL_NOTE="no debug options"
if [ "${DBNIC_BENCH_KERNEL:-bench}" = test ]; then
	KERNEL_BENCH_BUILD=$KERNEL_BUILD
	KERNEL_BENCH_IMAGE=$KERNEL_IMAGE
	MODULE_BENCH_BUILD=$MODULE_BUILD
	BENCH_KERNEL_NAME="TEST KERNEL"
	BENCH_KERNEL_NOTE="DBNIC_BENCH_KERNEL=test: debug options on, not the benchmark's numbers"
fi
if [ ! -f "$KERNEL_BENCH_IMAGE" ] || [ ! -f "$MODULE_BENCH_BUILD/dbnic_core.ko" ]; then
	die "no bench kernel or module: run scripts/build-kernel.sh --bench and scripts/build-module.sh --bench"
fi
# run-guest.sh boots this kernel instead of the test kernel.
export DBNIC_KERNEL=$KERNEL_BENCH_IMAGE

# The user-space benchmark, built by user/Makefile (static, for the
# busybox guest) where scripts/build-user.sh puts it.
USER_OUT=$DBNIC_CACHE/build/user
USER_BENCH=
if [ -n "$ONLY" ]; then
	:	# the netdev and RDMA benchmarks use none of user/
elif [ -f "$DBNIC_TOP/user/dbnic-bench.c" ]; then
	if make -s -C "$DBNIC_TOP/user" O="$USER_OUT" all >&2 &&
	   [ -x "$USER_OUT/dbnic-bench" ]; then
		USER_BENCH=$USER_OUT/dbnic-bench
	else
		log "user/dbnic-bench did not build"
		status=1
	fi
fi
USER_LOADTEST=
if [ -n "$ONLY" ]; then
	:
elif [ -x "$USER_OUT/dbnic-loadtest" ]; then
	USER_LOADTEST=$USER_OUT/dbnic-loadtest
elif [ -f "$DBNIC_TOP/user/dbnic-loadtest.c" ]; then
	log "user/dbnic-loadtest did not build"
	status=1
fi

# Guest numbers depend on how busy the host is: say so with them.
printf 'host: %s, %s CPUs, load average %s (at start)\n' "$(uname -r)" "$(nproc)" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'guest kernel: %s %s, %s (%s; every guest command below runs with DBNIC_KERNEL set to it)\n' \
	"$BENCH_KERNEL_NAME" "$(cat "$KERNEL_BENCH_BUILD/include/config/kernel.release")" "$KERNEL_BENCH_IMAGE" "$BENCH_KERNEL_NOTE"

# --- 1, 2: host ----------------------------------------------------------
# The host benchmarks (1., 2.).
host_bench() {
	section "host: device core, ns of emulator work per descriptor (QD1, DMA = memcpy)" \
		"make -s -C tests/host OUT=$HOSTOUT bench"
	if ! make -s -C "$DBNIC_TOP/tests/host" OUT="$HOSTOUT" bench 2>&1 | tee "$LOGDIR/host-core.log"; then
		status=1
	fi

	section "host: memcpy bandwidth, the limit of emulated DMA (the device copies through a 4 KiB bounce buffer)" \
		"make -s -C tests/host OUT=$HOSTOUT bench-memcpy"
	if ! make -s -C "$DBNIC_TOP/tests/host" OUT="$HOSTOUT" bench-memcpy 2>&1 | tee "$LOGDIR/host-memcpy.log"; then
		status=1
	fi
}

# --- 3, 4: guest -----------------------------------------------------------
# cut NAME LOG: the lines of one table from a serial log, without the raw
# samples (scripts/bench-report.py reads those).
cut_table() {
	tr -d '\r' < "$2" | sed -n "/^DBNIC-BENCH-BEGIN $1\$/,/^DBNIC-BENCH-END $1\$/p" |
		sed '1d;$d' | sed '/^DBNIC-CSV-BEGIN /,/^DBNIC-CSV-END /d'
}

guest_bench() {	# tag model-opts
	local opts=$2 log=$LOGDIR/guest-$1.log rc=0 what load skew
	RUNS+=("$1=$opts")
	local cmd=("$DBNIC_TOP/scripts/run-guest.sh" -q --dbnic 1 --timeout 1800
		   --log "$log")
	[ -n "$opts" ] && cmd+=(--dbnic-opts "$opts")
	dbnic_ko_adds "$MODULE_BENCH_BUILD"
	cmd+=("${KO_ADDS[@]}"
	      --add "$DBNIC_TOP/tests/guest/lib.sh:/dbnic/lib.sh"
	      --add "$DBNIC_TOP/tests/guest/bench.sh:/dbnic/bench.sh")
	[ -n "$USER_BENCH" ] && cmd+=(--add "$USER_BENCH:/dbnic/dbnic-bench")
	[ -n "$USER_LOADTEST" ] && cmd+=(--add "$USER_LOADTEST:/dbnic/dbnic-loadtest")
	# Parameters are words of letters, digits, = and -: single quotes do.
	local gcmd="sh bench.sh '$PARAMS' '$USER_ARGS' '$DBLAT'"
	cmd+=(-- "$gcmd")

	log "guest run, timing model ${opts:-off} (log: $log)"
	load=$(cut -d' ' -f1 /proc/loadavg)
	"${cmd[@]}" || rc=$?
	[ -f "$log" ] || echo "(run-guest.sh wrote no log)" > "$log"
	what="timing model ${opts:-off}"
	local shown=("${cmd[@]}")
	shown[0]=$(rel "${shown[0]}")

	section "guest kernel: debugfs bench, $what" "$(show_cmd "${shown[@]}")"
	echo "# in the guest: echo '$PARAMS' > /sys/kernel/debug/dbnic/<pci>/bench; cat that file"
	tr -d '\r' < "$log" | grep -m1 '^guest: ' || true
	echo "host load average before the run: $load"
	if skew=$(clock_skew "$log"); then
		echo "WARNING: guest clock off ($skew): the times below are scaled by it"
	fi
	if ! cut_table kernel "$log" | grep -q .; then
		echo "(no result; guest status $rc, log $log)"
		tr -d '\r' < "$log" | tail -n 20
		status=1
		return
	fi
	cut_table kernel "$log"
	if [ -n "$USER_BENCH" ]; then
		section "guest user space: dbnic-bench, $what" \
			"(same guest run) # in the guest: /dbnic/dbnic-bench $USER_ARGS"
		if cut_table user "$log" | grep -q .; then
			cut_table user "$log"
		else
			echo "(no result)"
			status=1
		fi
	fi
	if [ -n "$USER_LOADTEST" ]; then
		section "guest user space: doorbell store latency, idle and loaded, $what" \
			"(same guest run) # in the guest: /dbnic/dbnic-loadtest dblat -n $DBLAT"
		if cut_table dblat "$log" | grep -q .; then
			cut_table dblat "$log"
		else
			echo "(no result)"
			status=1
		fi
	fi
	if [ $rc -ne 0 ]; then
		echo "(guest exited with status $rc; log $log)"
		tr -d '\r' < "$log" | grep -A40 '^kernel log has warnings' || true
		status=1
	fi
}

# --- 5: netdev, two guests --------------------------------------------------
# The bench kernel's own pktgen.ko goes into the guests: the image's
# modules are the test kernel's, whose release string is the same (so
# modprobe would take it) but whose structures are not (lockdep, KASAN).
PKTGEN_KO=
case $(grep -E '^(# )?CONFIG_NET_PKTGEN[ =]' "$KERNEL_BENCH_BUILD/.config" 2>/dev/null) in
CONFIG_NET_PKTGEN=m)
	PKTGEN_KO=$KERNEL_BENCH_BUILD/net/core/pktgen.ko
	if [ ! -f "$PKTGEN_KO" ]; then
		log "the bench kernel has CONFIG_NET_PKTGEN=m but no $PKTGEN_KO: no pktgen numbers"
		PKTGEN_KO=
	fi
	;;
CONFIG_NET_PKTGEN=y) ;;
*) log "the bench kernel has no pktgen (CONFIG_NET_PKTGEN is not set; scripts/guest-kernel.config wants =m): no pktgen numbers" ;;
esac

# clock_skew LOG: the guest kernel's warning that its TSC frequency came
# from the PIT although the HPET measured another (Linux then trusts the
# PIT).  Under TCG on a loaded host the PIT's is the wrong one: the
# guest's clock then runs several times too fast or too slow (seen: PIT
# values 0.1 to 0.25 of the HPET's, uptimes 3 to 7 times the wall-clock
# time), and every time, rate and RTT the guest measures is off by that
# factor.  Prints the warning; fails when there is none.
clock_skew() {
	tr -d '\r' 2>/dev/null < "$1" | grep -m1 -o 'PIT calibration deviates.*'
}

net_bench() {	# tag nic modes
	local nic=$2 modes=$3 log=$LOGDIR/guest-$1.log rc=0 load t0 mode ko try skew
	local cmd=("$DBNIC_TOP/scripts/run-guest.sh" -q --guests 2 --nic "$nic"
		   --timeout 900 --log "$log")
	if [ "$nic" = dbnic ]; then
		for ko in dbnic_core dbnic_eth; do
			cmd+=(--add "$MODULE_BENCH_BUILD/$ko.ko:/dbnic/$ko.ko")
		done
	fi
	[ -n "$PKTGEN_KO" ] && cmd+=(--add "$PKTGEN_KO:/dbnic/pktgen.ko")
	cmd+=(--add "$DBNIC_TOP/tests/guest/lib.sh:/dbnic/lib.sh"
	      --add "$DBNIC_TOP/tests/guest/net-lib.sh:/dbnic/net-lib.sh"
	      --add "$DBNIC_TOP/tests/guest/bench-net.sh:/dbnic/bench-net.sh"
	      -- "sh bench-net.sh '$modes' $NET_PINGS $NET_SECS $PKTGEN_SECS $NET_ROUNDS")
	log "guest pair on $nic, modes: $modes (logs: $log, $log.g1)"
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$SECONDS
	# A pair whose guest's clock is off measured nothing: boot it again
	# (up to three times; the logs of the pair put aside stay).
	for try in 1 2 3; do
		rc=0
		"${cmd[@]}" || rc=$?
		skew=$(clock_skew "$log" || clock_skew "$log.g1") || break
		if [ $try = 3 ]; then
			log "guest clock off in three boots ($skew): these numbers are scaled by it"
			status=1
			break
		fi
		log "guest clock off ($skew): numbers discarded (logs kept as $log.skew$try*), booting again"
		mv "$log" "$log.skew$try"
		mv "$log.g1" "$log.skew$try.g1"
		load=$(cut -d' ' -f1 /proc/loadavg)
	done
	NET_TIME+=("$nic: $((SECONDS - t0)) s$([ "$try" = 1 ] || echo " ($try boots)")")
	local shown=("${cmd[@]}")
	shown[0]=$(rel "${shown[0]}")
	for mode in $modes; do
		section "guest netdev: $nic, mode $mode (guest 1 sends to guest 0; the commands are the table's # lines)" \
			"$(show_cmd "${shown[@]}")"
		echo "host load average before the run: $load"
		[ -z "$skew" ] || echo "WARNING: guest clock off ($skew)"
		if cut_table "net-$mode" "$log.g1" | grep -q .; then
			cut_table "net-$mode" "$log.g1"
		else
			echo "(no result; guest status $rc, logs $log, $log.g1)"
			status=1
		fi
	done
	if [ $rc -ne 0 ]; then
		echo "(guests exited with status $rc; logs $log, $log.g1)"
		tr -d '\r' < "$log.g1" | grep -E 'DBNIC-TEST not ok|failed|refused|no pktgen' || true
		status=1
	fi
}

# --- 6: RDMA, two guests with dbnic and virtio-net -------------------------
# rxe's module and those it needs, from the bench kernel's tree (the
# image's are the test kernel's, see PKTGEN_KO): KMODS, in load order.
# crc32_generic too: rxe asks the crypto API for "crc32", which would
# otherwise make the guest's modprobe load the test kernel's.
KMODS=()
kmod_add() {	# NAME
	local name=$1 path dep
	for path in "${KMODS[@]}"; do
		[ "$(basename "$path" .ko | tr - _)" = "$name" ] && return 0
	done
	path=$(awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); sub(/\.o$/, "", b); gsub(/-/, "_", b)
		if (b == n) { sub(/\.o$/, ".ko"); print; exit } }' "$KERNEL_BENCH_BUILD/modules.order" 2>/dev/null)
	# Built in (or not a module of this kernel): nothing to load.
	[ -n "$path" ] || return 0
	[ -f "$KERNEL_BENCH_BUILD/$path" ] || die "the bench kernel lists $path but has no such file"
	for dep in $(/sbin/modinfo -F depends "$KERNEL_BENCH_BUILD/$path" | tr , ' '); do
		kmod_add "$dep"
	done
	KMODS+=("$KERNEL_BENCH_BUILD/$path")
}

# rdma_bench TAG DBNIC-OPTS MODES [LOSS]: one pair of guests; with LOSS
# (percent), the loss rows: their benchmarks, rounds and counters.
rdma_bench() {
	local opts=$2 modes=$3 loss=${4:-} log=$LOGDIR/guest-$1.log rc=0 load t0 mode i=0 ko skew
	local gargs="$RDMA_LAT_N $RDMA_BW_N $RDMA_BIG_N $RDMA_TIMEOUT $RDMA_ROUNDS" what=
	if [ -n "$loss" ]; then
		gargs="$RDMA_LAT_N $RDMA_BW_N $RDMA_BIG_N $RDMA_TIMEOUT $RDMA_LOSS_ROUNDS 'ib_write_bw:1048576 ib_send_lat:64' $loss"
		what=" under loss $loss%"
	fi
	local cmd=("$DBNIC_TOP/scripts/run-guest.sh" -q --guests 2 --nic dbnic --nic2 virtio
		   --dbnic-opts "$opts" --timeout 900 --log "$log")
	for ko in dbnic_core dbnic_eth dbnic_rdma; do
		cmd+=(--add "$MODULE_BENCH_BUILD/$ko.ko:/dbnic/$ko.ko")
	done
	if [[ " $modes " == *" rxe "* ]]; then
		for ko in "${KMODS[@]}"; do
			i=$((i + 1))
			cmd+=(--add "$ko:/dbnic/kmod/$(printf %02d $i)-${ko##*/}")
		done
	fi
	cmd+=(--add "$DBNIC_TOP/tests/guest/lib.sh:/dbnic/lib.sh"
	      --add "$DBNIC_TOP/tests/guest/net-lib.sh:/dbnic/net-lib.sh"
	      --add "$DBNIC_TOP/tests/guest/rdma-lib.sh:/dbnic/rdma-lib.sh"
	      --add "$DBNIC_TOP/tests/guest/bench-rdma.sh:/dbnic/bench-rdma.sh"
	      -- "sh bench-rdma.sh '$modes' $gargs")
	log "RDMA guest pair$what, dbnic $opts, modes: $modes (logs: $log, $log.g1)"
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$SECONDS
	"${cmd[@]}" || rc=$?
	RDMA_TIME+=("$1: $((SECONDS - t0)) s")
	local shown=("${cmd[@]}")
	shown[0]=$(rel "${shown[0]}")
	for mode in $modes; do
		section "guest RDMA$what: $mode, dbnic $opts (guest 1 is perftest's client; the commands are the table's # lines)" \
			"$(show_cmd "${shown[@]}")"
		echo "host load average before the run: $load; the pair's run took $((SECONDS - t0)) s"
		if skew=$(clock_skew "$log" || clock_skew "$log.g1"); then
			echo "WARNING: guest clock off ($skew)"
		fi
		if cut_table "rdma-$mode" "$log.g1" | grep -q .; then
			cut_table "rdma-$mode" "$log.g1"
		else
			echo "(no result; guest status $rc, logs $log, $log.g1)"
			status=1
		fi
	done
	if [ -n "$loss" ]; then
		section "guest RDMA$what: counters since boot, both guests (dbnic's, rxe's, netem's)" \
			"(same guest run) # in each guest: rdma statistic show link dbnic0/1; rdma statistic show link rxe0/1; tc -s qdisc show dev IF"
		for i in 0 1; do
			local f=$log
			[ $i = 0 ] || f=$log.g$i
			if cut_table rdma-counters "$f" | grep -q .; then
				cut_table rdma-counters "$f" | sed "s/^/guest $i: /"
			else
				echo "guest $i: (no counters; guest status $rc, log $f)"
				status=1
			fi
		done
	fi
	if [ $rc -ne 0 ]; then
		echo "(guests exited with status $rc; logs $log, $log.g1)"
		tr -d '\r' < "$log.g1" | grep -E 'DBNIC-TEST not ok|failed|did not take effect' || true
		tr -d '\r' < "$log" | grep -E 'DBNIC-TEST not ok|failed' || true
		status=1
	fi
}

RUNS=()
NET_TIME=()
RDMA_TIME=()
if [ -z "$ONLY" ]; then
	host_bench
	guest_bench model-off ""
	n=0
	for model in $MODELS; do
		n=$((n + 1))
		guest_bench "model-on-$n" "$model"
	done
fi
if [ "$ONLY" != net ] && [ ! -f "$MODULE_BENCH_BUILD/dbnic_rdma.ko" ]; then
	log "no $MODULE_BENCH_BUILD/dbnic_rdma.ko (the kernel has no CONFIG_INFINIBAND?): no RDMA benchmarks"
	status=1
elif [ "$ONLY" != net ]; then
	kmod_add rdma_rxe
	kmod_add crc32_generic
	[ ${#KMODS[@]} -gt 0 ] || log "the bench kernel has rdma_rxe built in (or not at all): the guests' modprobe decides"
fi
if [ "$ONLY" != net ] && [ -f "$MODULE_BENCH_BUILD/dbnic_rdma.ko" ] && [ "$ONLY" != rdma-loss ]; then
	rdma_bench rdma roce=on "always never rxe"
	# The timing model: the first of MODELS, on both guests' dbnics.
	read -r rdma_model _ <<< "$MODELS"
	if [ "$RDMA_MODEL_RXE" = 1 ]; then
		rdma_bench rdma-model "roce=on,$rdma_model" "always never rxe"
	else
		rdma_bench rdma-model "roce=on,$rdma_model" "always never"
	fi
fi
# The loss rows: netem for rxe is the bench kernel's module (the image's
# is the test kernel's, see PKTGEN_KO).
if [ "$ONLY" != net ] && [ -f "$MODULE_BENCH_BUILD/dbnic_rdma.ko" ]; then
	if grep -qx 'CONFIG_NET_SCH_NETEM=[ym]' "$KERNEL_BENCH_BUILD/.config"; then
		kmod_add sch_netem
		for p in $RDMA_LOSS; do
			rdma_bench "rdma-loss-$p" \
				"roce=on,roce-tx-drop=$(awk -v p="$p" 'BEGIN { printf "%d", p * 10000 + 0.5 }')" \
				"$RDMA_LOSS_MODE rxe" "$p"
		done
	else
		log "the bench kernel has no netem (CONFIG_NET_SCH_NETEM; scripts/guest-kernel.config wants =m): no RDMA loss rows"
		status=1
	fi
	log "RDMA benchmarks: ${RDMA_TIME[*]} (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
fi
if [ "$ONLY" = rdma ] || [ "$ONLY" = rdma-loss ]; then
	report=(--no-plot)
	[ "$ONLY" = rdma ] && report+=(--rdma)
	report+=(--rdma-loss)
	section "summary: ratios of this run" \
		"scripts/bench-report.py ${report[*]} $(rel "$LOGDIR")"
	/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" "${report[@]}" "$LOGDIR" || status=1
	log "logs: $LOGDIR"
	exit $status
fi
net_bench net-dbnic dbnic "inline ring"
net_bench net-virtio virtio virtio

# The 256 MiB transfer: a test (DBNIC-TEST lines, all must pass) whose
# time is the figure; run as scripts/test.sh runs a guest test.
bulk_bench() {
	local log=$LOGDIR/guest-net-bulk.log rc=0 load t0 ko
	local cmd=("$DBNIC_TOP/scripts/run-guest.sh" -q --guests 2 --nic dbnic
		   --timeout 900 --log "$log")
	for ko in dbnic_core dbnic_eth; do
		cmd+=(--add "$MODULE_BENCH_BUILD/$ko.ko:/dbnic/$ko.ko")
	done
	cmd+=(--add "$DBNIC_TOP/tests/guest/lib.sh:/dbnic/lib.sh"
	      --add "$DBNIC_TOP/tests/guest/net-lib.sh:/dbnic/net-lib.sh"
	      --script "$DBNIC_TOP/tests/guest/net-bulk.sh")
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$SECONDS
	"${cmd[@]}" > "$LOGDIR/guest-net-bulk.out" 2>&1 || rc=$?
	local shown=("${cmd[@]}")
	shown[0]=$(rel "${shown[0]}")
	section "guest netdev: 256 MiB through nc between two guests on dbnic, MTU 9000, sha256 of both ends" \
		"$(show_cmd "${shown[@]}")"
	echo "host load average before the run: $load; the pair's run took $((SECONDS - t0)) s"
	tr -d '\r' < "$log" | grep -E '^DBNIC-TEST|bulk: received' || true
	tr -d '\r' < "$log.g1" 2>/dev/null | grep -E 'bulk: sent' || true
	tr -d '\r' < "$log" | sed -n 's/.*bulk: received in \([0-9.]*\) s.*/\1/p' |
		awk '$1 > 0 { printf "256 MiB in %.1f s (guest 0 clock): %.1f MiB/s\n", $1, 256 / $1 }'
	if [ $rc -ne 0 ] || tr -d '\r' < "$log" | grep -q '^DBNIC-TEST not ok' ||
		! tr -d '\r' < "$log" | grep -q '^DBNIC-TEST ok net: 256 MiB'; then
		echo "(the transfer failed: status $rc; logs $log, $log.g1, $LOGDIR/guest-net-bulk.out)"
		status=1
	fi
}
bulk_bench
log "netdev benchmarks: ${NET_TIME[*]} (load average now $(cut -d' ' -f1-3 /proc/loadavg))"

# --- 7: the ratios, the raw samples and the CDFs --------------------------
section "summary: ratios of this run" \
	"scripts/bench-report.py --net --rdma --rdma-loss $(rel "$LOGDIR") $(show_cmd "${RUNS[@]}")"
if ! /usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --net --rdma --rdma-loss "$LOGDIR" "${RUNS[@]}"; then
	status=1
fi

log "logs: $LOGDIR"
exit $status

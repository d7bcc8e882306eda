#!/usr/bin/env bash
# Boots a test guest (QEMU q35 + the test kernel + the base initramfs) with
# N dbnic devices, runs a command in it and exits with the command's status.
#
# usage: scripts/run-guest.sh [options] [--] [COMMAND...]
#
#   --dbnic N           add N devices: -device dbnic,id=dbnicI (I = 0..N-1)
#   --dbnic-opts OPTS   append ",OPTS" to every dbnic -device
#   --engine MODE       where each dbnic's engine runs: "thread" (default),
#                       its own IOThread (-object iothread,id=dbnic-ioI),
#                       off the BQL, so doorbell writes get in while it
#                       works; "main", QEMU's main loop under the BQL
#                       (deterministic with -icount)
#   --timing PROFILE    the PCIe timing model (docs/hardware.md section 9):
#                       timing=PROFILE on every dbnic, and unless PROFILE
#                       is "off", -icount shift=N,sleep=off and -rtc
#                       clock=vm, so that virtual time, and with it every
#                       modelled latency, repeats exactly from run to run
#                       (TCG then runs the vCPUs in one thread), and the
#                       engine in the main loop (--engine main).
#                       PROFILE: off, gen3x8;
#                       --dbnic-opts may override single figures
#                       (e.g. dma-latency-ns=1000)
#   --icount-shift N    with --timing: one guest instruction per 2^N ns
#                       of virtual time (default 0: 1 ns)
#   --root-port         put each dbnic behind its own PCIe root port
#                       (-device pcie-root-port,id=rpI): a slot that can
#                       be reset (secondary bus reset) and hot-plugged
#   --qmp PATH          a QMP socket at PATH (unix, server) for the host
#                       side of a test; see scripts/qmp.py
#   --host-actions      let the guest ask for hot-plug, PCIe errors or link
#                       changes: a line
#                       "DBNIC-HOST unplug dbnicI" makes the launcher send
#                       QMP device_del for that device, "DBNIC-HOST plug
#                       dbnicI" device_add with its original options,
#                       "DBNIC-HOST aer dbnicI ERROR" injects the PCIe
#                       error ERROR (a name that QEMU's HMP command
#                       pcie_aer_inject_error knows, e.g. BAD_TLP,
#                       POISON_TLP, MALF_TLP) into that device,
#                       "DBNIC-HOST link dbnicI off|on" sends QMP set_link
#                       for that device's NIC (its cable pulled or put
#                       back: the device's link, and with it the guest's
#                       carrier, follows).
#                       "DBNIC-HOST qom-set dbnicI PROP VALUE" sends QMP
#                       qom-set of a fault injection property (datasheet
#                       11.11: roce-rx-*, roce-tx-*, roce-fault-*) with
#                       VALUE, a decimal number.
#                       Only these five, only for the launcher's own dbnic
#                       devices; the guest polls sysfs or dmesg for the
#                       outcome.
#                       Implies a QMP socket (--qmp, or a private one).
#                       What was sent and answered is logged to stderr.
#   --guests N          boot N guests (1 to 8, default 1) on one QEMU
#                       network; see "Several guests" below
#   --nic MODEL         with --guests 2 or more, the NIC that joins each
#                       guest to that network: dbnic (default: device dbnic0
#                       gets it; implies --dbnic 1 if none) or virtio
#                       (virtio-net-pci, to compare against)
#   --nic2 MODEL        with --guests 2 or more, a second network between
#                       the guests (netdev m0, its own sockets), joined by
#                       one more NIC in each guest: virtio (virtio-net-pci;
#                       the only model), MAC 52:54:00:78:00:<I+1>, kernel
#                       command line "dbnic_nic2=virtio dbnic_mac2=MAC".
#                       For comparisons in the same guests: dbnic on one
#                       network, Linux's soft RoCE (rxe) on the other
#   --netdev SPEC       add -netdev SPEC (repeatable).  A netdev whose id is
#                       nI is attached to device dbnicI (netdev=nI); other
#                       ids are left for --qemu-arg devices to use.  A
#                       dbnic that gets no network this way (nor the
#                       guests' one) is wired to a private unix socket
#                       that nothing connects to (-netdev stream,
#                       server=on, id unwiredI): a port whose frames go
#                       nowhere, and QEMU does not warn "nic dbnicI has
#                       no peer".
#   --pcap DIR          record every frame of each guest's networks to
#                       pcap files in DIR (made if missing): guest G's
#                       netdev ID to DIR/gG-ID.pcap (QEMU's -object
#                       filter-dump on the netdev; both directions, whole
#                       frames).  Covers the guests' network n0 and every
#                       --netdev; not the unwired sockets.  For wire
#                       captures (RoCE vectors, interop traces); files are
#                       overwritten by the next run
#   --add HOST[:GUEST]  put a host file or directory into the guest (repeat-
#                       able).  GUEST defaults to /dbnic/<name>; a GUEST
#                       ending in / is a directory to put <name> in.
#   --script FILE       run FILE (a shell script) instead of COMMAND
#   --log FILE          serial log (default $GUEST_DIR/logs/<time>-<pid>.log)
#   --timeout SECONDS   kill the guest after this long (default 300; 0: none;
#                       --shell has none)
#   --mem MB            guest memory (default 512)
#   --smp N             guest CPUs (default 2)
#   --append ARGS       extra kernel command line (after the defaults, so
#                       e.g. loglevel=8 wins)
#   --qemu-arg ARG      one extra QEMU argument (repeatable, e.g.
#                       --qemu-arg -device --qemu-arg virtio-net-pci,netdev=x)
#   --shell             interactive shell on the serial console after the
#                       command (if any; no COMMAND implies --shell); quit
#                       with "exit" (or poweroff -f) or ctrl-a x
#   -q, --quiet         do not copy the serial console to the terminal
#   -h, --help          this text
#
# Several guests (--guests N): N QEMUs boot the same kernel and the same
# payload and run the same COMMAND or --script, each on its own serial
# log: guest 0's is the --log FILE, guest I's FILE.gI.  They share one
# Ethernet segment made of QEMU's own unix stream sockets in the run's
# temporary directory (-netdev stream): guest 0 listens, guest I connects
# and reconnects every 100 ms until guest 0 is up.  With two guests the
# two NICs are the two ends of one socket; with more, guest 0's QEMU is
# the hub (-netdev hubport) that every other guest's socket joins.  In
# every guest the network is netdev n0 (not to be given with --netdev);
# guest I's NIC has MAC 52:54:00:77:00:<I+1, two hex digits> and its
# kernel command line says
#     dbnic_guest=I dbnic_guests=N dbnic_nic=MODEL dbnic_mac=MAC
# (tests/guest/net-lib.sh reads it and gives guest I 10.77.0.<I+1>/24 and
# fd77::<I+1>/64).  Without -q every log line is shown as it comes with a
# "gI| " prefix; with --shell guest 0 has the console and the others run
# COMMAND without a shell and are stopped when guest 0 ends.  --timeout is
# for the run as a whole; --qmp PATH is guest 0's socket, PATH.gI guest
# I's; --host-actions act on the guest that asked.  The exit status is 0
# when every guest's command exited 0; else 124 if any guest timed out,
# 125 if any ended without its exit marker (see below), or the status of
# the first guest whose command failed.  Each guest's outcome is logged.
#
# COMMAND (all words joined with spaces) is a shell script body run by the
# guest's busybox sh in /dbnic, where --add files land by default.  The
# guest has proc, sys, devtmpfs, debugfs, tmpfs /tmp, lo up, and the test
# kernel's modules (modprobe dmatest, modprobe rdma_rxe); out-of-tree
# modules are loaded with insmod, or --add them under
# /lib/modules/<release>/extra/ to make them modprobe-able.
#
# Exit status: the command's status, read from the "DBNIC-GUEST-EXIT=<n>"
# line that the guest's /init prints before powering off; 124 when the
# timeout hit; 125 when the guest ended without that line (kernel panic
# (panic=-1 with -no-reboot ends QEMU at once), QEMU error, crash); 0 when
# you leave a --shell with ctrl-a x.
#
# Environment: QEMU (default $QEMU_BIN), DBNIC_DEVICE (device type, default
# "dbnic"; e.g. DBNIC_DEVICE=e1000e tests the launcher without it),
# DBNIC_ACCEL (default tcg), DBNIC_KERNEL (default $KERNEL_IMAGE),
# DBNIC_INITRD (default $GUEST_DIR/base.cpio.gz).
#
# examples:
#   scripts/run-guest.sh -- 'uname -a; modprobe dmatest; lsmod'
#   scripts/run-guest.sh --dbnic 2 --netdev user,id=n0 \
#       --add build/dbnic_core.ko --add tests/guest/t1.sh -- 'insmod dbnic_core.ko && sh t1.sh'
#   scripts/run-guest.sh --shell --add build/dbnic_core.ko
. "$(dirname "$0")/lib.sh"

usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; }
# Bad usage: what is wrong and what is allowed, exit status 2.
bad_usage() { printf '[dbnic] run-guest.sh: %s (see --help)\n' "$*" >&2; exit 2; }

ndbnic=0 dbnic_opts='' logfile='' timeout=300 mem=512 smp=2 shell=0 quiet=0
script='' append='' root_port=0 qmp='' host_actions=0 engine=thread engine_set=0
timing='' icount_shift=0 nguests=1 nic=dbnic nic_set=0 pcap='' nic2=''
netdevs=() adds=() qemu_extra=()
while [ $# -gt 0 ]; do
	# Accept --opt=value as well as --opt value.
	case $1 in
	--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
	esac
	# An option that takes a value must have one.
	case $1 in
	--dbnic|--dbnic-opts|--engine|--timing|--icount-shift|--guests|--nic|--nic2|--netdev|--pcap|--add|--script|--log|--timeout|--mem|--smp|--append|--qemu-arg)
		[ $# -ge 2 ] || bad_usage "$1 wants a value" ;;
	esac
	case $1 in
	--dbnic) ndbnic=$2; shift ;;
	--dbnic-opts) dbnic_opts=$2; shift ;;
	--engine) engine=$2; engine_set=1; shift ;;
	--timing) timing=$2; shift ;;
	--icount-shift) icount_shift=$2; shift ;;
	--root-port) root_port=1 ;;
	--guests) nguests=$2; shift ;;
	--nic) nic=$2; nic_set=1; shift ;;
	--nic2) nic2=$2; shift ;;
	--qmp) qmp=$2; shift ;;
	--host-actions) host_actions=1 ;;
	--netdev) netdevs+=("$2"); shift ;;
	--pcap) pcap=$2; shift ;;
	--add) adds+=("$2"); shift ;;
	--script) script=$2; shift ;;
	--log) logfile=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--append) append="$append $2"; shift ;;
	--qemu-arg) qemu_extra+=("$2"); shift ;;
	--shell) shell=1 ;;
	-q|--quiet) quiet=1 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) bad_usage "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
[[ $ndbnic =~ ^[0-9]+$ ]] || bad_usage "--dbnic wants a number, got '$ndbnic'"
case $engine in thread|main) ;; *) bad_usage "--engine wants thread or main, got '$engine'" ;; esac
[[ $timeout =~ ^[0-9]+$ ]] || bad_usage "--timeout wants seconds, got '$timeout'"
if ! [[ $mem =~ ^[0-9]+$ ]] || [ "$mem" -lt 128 ]; then
	bad_usage "--mem wants megabytes, at least 128, got '$mem'"
fi
case $timing in
''|off|gen3x8) ;;
*) bad_usage "--timing wants off or gen3x8, got '$timing'" ;;
esac
# Determinism needs the engine in the main loop, where -icount runs the
# device's virtual-clock timers at exact instruction counts.
if [ -n "$timing" ] && [ "$timing" != off ]; then
	[ "$engine_set" = 1 ] && [ "$engine" = thread ] &&
		bad_usage "--timing $timing runs the engine in the main loop (deterministic); drop --engine thread"
	engine=main
fi
# QEMU takes shifts up to 10 (1 us per instruction).
[[ $icount_shift =~ ^([0-9]|10)$ ]] || bad_usage "--icount-shift wants 0 to 10, got '$icount_shift'"
# The test kernel is built with CONFIG_NR_CPUS=4.
[[ $smp =~ ^[1-4]$ ]] || bad_usage "--smp wants 1 to 4 CPUs, got '$smp'"
[ -z "$script" ] || [ -f "$script" ] || bad_usage "--script $script: no such file"
[ -n "$script" ] && [ $# -gt 0 ] && bad_usage "give --script FILE or COMMAND, not both"
# Nothing to run: a shell, as that is all the guest could do.
[ -z "$script" ] && [ $# -eq 0 ] && shell=1
[[ $nguests =~ ^[1-8]$ ]] || bad_usage "--guests wants 1 to 8, got '$nguests'"
if [ -n "$pcap" ]; then
	mkdir -p "$pcap" 2>/dev/null || bad_usage "--pcap $pcap: cannot make that directory"
fi
case $nic in dbnic|virtio) ;; *) bad_usage "--nic wants dbnic or virtio, got '$nic'" ;; esac
case $nic2 in ''|virtio) ;; *) bad_usage "--nic2 wants virtio, got '$nic2'" ;; esac
if [ "$nguests" = 1 ]; then
	[ $nic_set = 1 ] && bad_usage "--nic joins guests: it wants --guests 2 or more"
	[ -n "$nic2" ] && bad_usage "--nic2 joins guests: it wants --guests 2 or more"
else
	for spec in "${netdevs[@]}"; do
		[[ ,$spec, == *,id=n0,* ]] &&
			bad_usage "--guests $nguests joins the guests through netdev n0; give yours another id"
		[ -n "$nic2" ] && [[ ,$spec, == *,id=m0,* ]] &&
			bad_usage "--nic2 joins the guests through netdev m0; give yours another id"
	done
	# The network needs a NIC in every guest.
	[ "$nic" = dbnic ] && [ "$ndbnic" = 0 ] && ndbnic=1
fi

QEMU=${QEMU:-$QEMU_BIN}
DBNIC_DEVICE=${DBNIC_DEVICE:-dbnic}
DBNIC_ACCEL=${DBNIC_ACCEL:-tcg}
DBNIC_KERNEL=${DBNIC_KERNEL:-$KERNEL_IMAGE}
DBNIC_INITRD=${DBNIC_INITRD:-$GUEST_DIR/base.cpio.gz}
if [ -n "$timing" ] && [ "$timing" != off ] && [ "$DBNIC_ACCEL" != tcg ]; then
	bad_usage "--timing $timing needs -icount, which only TCG has (DBNIC_ACCEL=$DBNIC_ACCEL)"
fi
[ -x "$QEMU" ] || die "no QEMU at $QEMU: run scripts/build-qemu.sh (or set QEMU=)"
[ -f "$DBNIC_KERNEL" ] || die "no kernel at $DBNIC_KERNEL: run scripts/build-kernel.sh"
[ -f "$DBNIC_INITRD" ] || die "no initramfs at $DBNIC_INITRD: run scripts/build-initramfs.sh"

if [ -z "$logfile" ]; then
	mkdir -p "$GUEST_DIR/logs"
	# Keep the 50 newest default logs, with their other guests' logs.
	{ ls -1t "$GUEST_DIR/logs"/*.log 2>/dev/null || true; } |
		tail -n +50 | while IFS= read -r old; do
			rm -f "$old" "$old".g[0-9] "$old".threads "$old".g[0-9].threads
		done
	logfile=$GUEST_DIR/logs/$(date +%Y%m%d-%H%M%S)-$$.log
fi
mkdir -p "$(dirname "$logfile")"

# guest_log G: guest G's serial log.
guest_log() {
	if [ "$1" = 0 ]; then echo "$logfile"; else echo "$logfile.g$1"; fi
}
# guest_qmp G: guest G's QMP socket, or nothing.
guest_qmp() {
	if [ -z "$qmp" ] || [ "$1" = 0 ]; then echo "$qmp"; else echo "$qmp.g$1"; fi
}
# Messages about one guest name it when there are several.
gname() { if [ "$nguests" = 1 ]; then echo guest; else echo "guest $1"; fi; }
for ((g = 0; g < nguests; g++)); do
	: > "$(guest_log "$g")"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dbnic-run.XXXXXX")
# Per guest: QEMU's PID while it runs, its status, whether it timed out,
# the host-actions follower's PID; and the log followers (-q off, several
# guests).
qpids=() qrcs=() timed=() apids=() tpids=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	local p
	for p in "${apids[@]}" "${tpids[@]}"; do
		[ -z "$p" ] || kill "$p" 2>/dev/null || true
	done
	# Never leave a QEMU behind, whatever ended the launcher.
	stop_guests
	rm -rf "$tmp"
}
# stop_guests: TERM, then a second later KILL, for every QEMU still running.
stop_guests() {
	local g p alive=0
	for g in "${!qpids[@]}"; do
		p=${qpids[$g]}
		if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
			alive=1
		fi
	done
	[ $alive = 1 ] || return 0
	sleep 1
	for g in "${!qpids[@]}"; do
		p=${qpids[$g]}
		[ -z "$p" ] || kill -KILL "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The per-run payload: a second cpio appended to the base image. -------
root=$tmp/root
mkdir -p "$root/dbnic"
for spec in "${adds[@]}"; do
	host=$spec guest=
	# HOST:GUEST only when what follows the last colon is an absolute path.
	if [[ $spec == *:/* ]]; then host=${spec%:*} guest=${spec##*:}; fi
	[ -e "$host" ] || die "--add: $host does not exist"
	case $guest in
	'') guest=/dbnic/$(basename "$host") ;;
	*/) guest=$guest$(basename "$host") ;;
	esac
	# /bin, /sbin, /lib and /lib64 are symlinks into /usr in the base
	# image; a directory entry for them would not replace the link, but
	# going through /usr keeps the payload simple.
	case $guest in
	/bin/*|/sbin/*|/lib/*|/lib64/*) guest=/usr$guest ;;
	esac
	mkdir -p "$root$(dirname "$guest")"
	cp -RL "$host" "$root$guest"
done
if [ -n "$script" ]; then
	cp "$script" "$root/dbnic/cmd"
elif [ $# -gt 0 ]; then
	printf '%s\n' "$*" > "$root/dbnic/cmd"
fi
(cd "$root" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 > "$tmp/payload.cpio.gz"
# Linux unpacks concatenated (compressed) cpio archives one after another.
cat "$DBNIC_INITRD" "$tmp/payload.cpio.gz" > "$tmp/initrd"
# The shell is asked for by one more file, only in the guest that gets the
# console: guest 0.
if [ $shell = 1 ]; then
	mkdir -p "$tmp/shellroot/dbnic"
	touch "$tmp/shellroot/dbnic/.shell"
	(cd "$tmp/shellroot" && echo dbnic/.shell | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 | cat "$tmp/initrd" - > "$tmp/initrd-shell"
fi

# --- QEMU command line. ---------------------------------------------------
if declare -p QEMU_FIRMWARE_ARGS >/dev/null 2>&1; then
	if [[ $(declare -p QEMU_FIRMWARE_ARGS) == "declare -a"* ]]; then
		fw=("${QEMU_FIRMWARE_ARGS[@]}")
	else
		# shellcheck disable=SC2128  # a plain string set in the environment
		read -ra fw <<< "$QEMU_FIRMWARE_ARGS"
	fi
else
	# Debian's seabios, qemu-system-data and ipxe-qemu firmware.
	fw=(-L /usr/share/seabios -L /usr/share/qemu -L /usr/lib/ipxe/qemu)
fi

# loglevel=5 puts WARN, BUG and oops reports on the console (and so in the
# log) but not the boot chatter; panic=-1 reboots at once, which
# -no-reboot turns into QEMU exiting.
# no_timer_check: under TCG on a loaded host the kernel's check that the
# 8254 timer reaches the IO-APIC can time out, and the boot panics ("IO-APIC
# + timer doesn't work"); virtual machines skip that check.
cmdline_base="console=ttyS0,115200 loglevel=5 panic=-1 no_timer_check rdinit=/init"
# tsc_early_khz: under TCG without -icount the guest's TSC is the host's
# (QEMU reads the host TSC), but the guest measures its rate against the
# emulated PIT, and a vCPU descheduled during that measurement on a loaded
# host gets a rate several times off (the console says "PIT calibration
# deviates from HPET"): the guest's clock then runs that many times too
# fast, and so do its sleeps, timeouts and benchmark figures.  The host
# kernel knows the rate: x86 Linux derives bogomips from it (bogomips =
# tsc_khz / 500) when its clocksource is a constant-rate TSC.  Anything
# else (another clocksource, no bogomips line), another accelerator or
# -icount (virtual TSC): the guest calibrates as before.
host_tsc_khz() {
	local b
	[ "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)" = tsc ] ||
		return 0
	grep -qw constant_tsc /proc/cpuinfo || return 0
	b=$(sed -n 's/^bogomips[[:space:]]*: *\([0-9]*\)\.\([0-9]\{2\}\).*/\1\2/p;T;q' /proc/cpuinfo 2>/dev/null) || return 0
	[[ $b =~ ^[1-9][0-9]*$ ]] || return 0
	# 100 * bogomips * 500 / 100: kHz; plausible from 100 MHz to 10 GHz.
	b=$((b * 5))
	[ "$b" -ge 100000 ] && [ "$b" -le 10000000 ] && echo "$b"
	return 0
}
if [ "$DBNIC_ACCEL" = tcg ] && { [ -z "$timing" ] || [ "$timing" = off ]; } &&
	[ "$(uname -m)" = x86_64 ]; then
	khz=$(host_tsc_khz)
	[ -n "$khz" ] && cmdline_base+=" tsc_early_khz=$khz"
	# A guest that hangs is killed at the timeout, and its serial log would
	# end wherever it stopped.  The guest's /init dumps its blocked tasks
	# and CPUs this many seconds after boot, 30 s before the kill (the test
	# kernel has no hung-task detector), so the log says where it hung.
	# Only in wall-clock time (under -icount the guest's clock is not), and
	# not with --shell, which has no timeout.
	if [ "$shell" = 0 ] && [ "$timeout" -gt 60 ]; then
		cmdline_base+=" dbnic_hang_dump=$((timeout - 30))"
	fi
fi

# guest_mac G: guest G's MAC on the guests' network (locally administered);
# guest_mac2 G: on the second network (--nic2).
guest_mac() { printf '52:54:00:77:00:%02x' "$(($1 + 1))"; }
guest_mac2() { printf '52:54:00:78:00:%02x' "$(($1 + 1))"; }

# guest_net G: fills net_args with guest G's end of the guests' network,
# netdev n0 (see "Several guests" in the help).  The socket to guest J
# (J >= 1) is $tmp/net-J.sock; guest 0 listens on every one of them.
# Why unix stream sockets: they need no host network set-up (no ports,
# no multicast route), are private to this run, and never drop a frame:
# a full socket makes QEMU queue and resume, where a datagram or
# multicast segment would lose it.
guest_net() {
	local g=$1
	net_args=()
	guest_segment "$g" n0 net 0
	# virtio-net without its option ROM: the guest boots with -kernel,
	# and iPXE in SeaBIOS would only slow the boot.
	if [ "$nic" = virtio ]; then
		net_args+=(-device "virtio-net-pci,id=net0,netdev=n0,mac=$(guest_mac "$g"),romfile=")
	fi
	# The second network (--nic2): the same topology on its own sockets
	# ($tmp/net2-J.sock) and hub.
	if [ -n "$nic2" ]; then
		guest_segment "$g" m0 net2 1
		net_args+=(-device "virtio-net-pci,id=net2,netdev=m0,mac=$(guest_mac2 "$g"),romfile=")
	fi
}

# guest_segment G ID PREFIX HUB: appends to net_args guest G's end of one
# network between the guests: netdev ID, sockets $tmp/PREFIX-J.sock, hub
# HUB (more than two guests).
guest_segment() {
	local g=$1 id=$2 pre=$3 hub=$4 j path px=
	# The hub's own netdev ids: lJ and hJ on the first network, m0lJ and
	# m0hJ on the second.
	[ "$hub" = 0 ] || px=$id
	# A client that starts first, or whose server went away, retries.
	if [ "$g" -gt 0 ]; then
		path=$tmp/$pre-$g.sock
		net_args+=(-netdev "stream,id=$id,server=off,reconnect-ms=100,addr.type=unix,addr.path=${path//,/,,}")
	elif [ "$nguests" = 2 ]; then
		path=$tmp/$pre-1.sock
		net_args+=(-netdev "stream,id=$id,server=on,addr.type=unix,addr.path=${path//,/,,}")
	else
		# A hub floods every frame to all its other ports: the NIC's
		# and one socket per other guest (a star; no loops).
		for ((j = 1; j < nguests; j++)); do
			path=$tmp/$pre-$j.sock
			net_args+=(-netdev "stream,id=${px}l$j,server=on,addr.type=unix,addr.path=${path//,/,,}"
				-netdev "hubport,id=${px}h$j,hubid=$hub,netdev=${px}l$j")
		done
		net_args+=(-netdev "hubport,id=$id,hubid=$hub")
	fi
}

# guest_args G: fills args with guest G's QEMU command line, and devspec
# with its dbnic devices' options (for --host-actions).
declare -A devspec=()
guest_args() {
	local g=$1 glog gqmp cmdline initrd=$tmp/initrd name=dbnic-guest i id dev spec wired path
	glog=$(guest_log "$g")
	gqmp=$(guest_qmp "$g")
	cmdline=$cmdline_base
	net_args=()
	if [ "$nguests" -gt 1 ]; then
		cmdline+=" dbnic_guest=$g dbnic_guests=$nguests dbnic_nic=$nic dbnic_mac=$(guest_mac "$g")"
		[ -n "$nic2" ] && cmdline+=" dbnic_nic2=$nic2 dbnic_mac2=$(guest_mac2 "$g")"
		name=dbnic-guest$g
		guest_net "$g"
	fi
	cmdline+=$append
	[ $shell = 1 ] && [ "$g" = 0 ] && initrd=$tmp/initrd-shell
	# QEMU option values escape a comma by doubling it.
	local qlog=${glog//,/,,}
	# debug-threads names QEMU's threads (CPU 0/TCG, IO dbnic-io0) for
	# perf, gdb and the thread dump of a guest that timed out.
	args=(-M q35 -accel "$DBNIC_ACCEL" -m "$mem" -smp "$smp"
		-name "$name,debug-threads=on"
		-nodefaults -no-reboot -display none "${fw[@]}"
		-kernel "$DBNIC_KERNEL" -initrd "$initrd" -append "$cmdline")
	# Under icount virtual time advances by instructions, and with sleep=off
	# it jumps to the next timer when the guest idles: a run's timings no
	# longer depend on the host's speed or load.
	# The RTC follows virtual time too, or its host-clock interrupts would
	# land at different instructions in each run.
	if [ -n "$timing" ] && [ "$timing" != off ]; then
		args+=(-icount "shift=$icount_shift,sleep=off" -rtc clock=vm)
	fi
	if [ $shell = 1 ] && [ "$g" = 0 ]; then
		# The -nographic arrangement (console and monitor muxed on stdio,
		# ctrl-a x quits), plus a log file; ^C goes to the guest.
		args+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$qlog"
			-serial chardev:con -mon chardev=con)
	elif [ $quiet = 1 ] || [ "$nguests" -gt 1 ]; then
		args+=(-chardev "file,id=con,path=$qlog" -serial chardev:con -monitor none)
	else
		args+=(-chardev "stdio,id=con,signal=off,logfile=$qlog"
			-serial chardev:con -monitor none)
	fi

	args+=("${net_args[@]}")
	local ids=()
	for spec in "${netdevs[@]}"; do
		args+=(-netdev "$spec")
		[[ ,$spec, =~ ,id=([^,]*), ]] && ids+=("${BASH_REMATCH[1]}")
	done
	# The guests' network joins dbnic0 when the NIC is dbnic.
	[ "$nguests" -gt 1 ] && [ "$nic" = dbnic ] && ids+=(n0)
	if [ -n "$pcap" ]; then
		local dumps=("${ids[@]}") pf
		[ "$nguests" -gt 1 ] && [ "$nic" = virtio ] && dumps+=(n0)
		[ -n "$nic2" ] && dumps+=(m0)
		for id in "${dumps[@]}"; do
			pf=$pcap/g$g-$id.pcap
			args+=(-object "filter-dump,id=dump-$id,netdev=$id,file=${pf//,/,,}")
		done
	fi
	# q35 hot-plugs through ACPI by default, which the test kernel leaves out
	# (no HOTPLUG_PCI_ACPI): root ports then use native PCIe hot-plug (pciehp).
	if [ $root_port = 1 ] && [ "$ndbnic" -gt 0 ]; then
		args+=(-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off)
	fi
	for ((i = 0; i < ndbnic; i++)); do
		dev="$DBNIC_DEVICE,id=dbnic$i"
		if [ $root_port = 1 ]; then
			args+=(-device "pcie-root-port,id=rp$i,bus=pcie.0,chassis=$((i + 1)),slot=$((i + 1))")
			dev+=",bus=rp$i"
		fi
		wired=0
		for id in "${ids[@]}"; do
			[ "$id" = "n$i" ] && dev+=",netdev=n$i" && wired=1
		done
		# A NIC with no backend makes QEMU warn at start ("has no
		# peer"); a listening socket that nobody joins is a backend
		# that takes nothing in and lets nothing out.
		if [ $wired = 0 ] && [ "$DBNIC_DEVICE" = dbnic ]; then
			path=$tmp/unwired-$g-$i.sock
			args+=(-netdev "stream,id=unwired$i,server=on,addr.type=unix,addr.path=${path//,/,,}")
			dev+=",netdev=unwired$i"
		fi
		if [ "$nguests" -gt 1 ] && [ "$nic" = dbnic ] && [ "$i" = 0 ]; then
			dev+=",mac=$(guest_mac "$g")"
		fi
		if [ "$engine" = thread ] && [ "$DBNIC_DEVICE" = dbnic ]; then
			args+=(-object "iothread,id=dbnic-io$i")
			dev+=",iothread=dbnic-io$i"
		fi
		[ -n "$timing" ] && dev+=",timing=$timing"
		[ -n "$dbnic_opts" ] && dev+=",$dbnic_opts"
		devspec[$g:dbnic$i]=$dev
		args+=(-device "$dev")
	done
	if [ -n "$gqmp" ]; then
		rm -f "$gqmp"
		args+=(-qmp "unix:${gqmp//,/,,},server=on,wait=off")
	fi
	args+=("${qemu_extra[@]}")
}
if [ $host_actions = 1 ] && [ -z "$qmp" ]; then qmp=$tmp/qmp.sock; fi

# device_add arguments as QMP JSON, from a -device option string.  QMP
# wants typed values: numbers and on/off become JSON numbers and booleans.
qmp_device_args() {
	/usr/bin/python3 -c 'import json, sys
d = {}
for kv in sys.argv[1].replace(",,", "\0").split(","):
    k, _, v = kv.partition("=")
    if "=" not in kv and not d:
        k, v = "driver", kv
    v = v.replace("\0", ",")
    if v.isdigit():
        v = int(v)
    elif v in ("on", "off"):
        v = v == "on"
    d[k] = v
print(json.dumps(d))' "$1"
}

# host_actions PID G: the host side of --host-actions for guest G: follow
# its serial log, act on its requests through its QMP socket.  Ends when
# QEMU (PID) has ended.
host_actions() {
	local line act id err out try up g=$2 glog gqmp spec
	local fault_prop='roce-(rx|tx)-(drop|dup|reorder|delay|corrupt)|roce-fault-(seed|delay-us|reorder-us)'
	glog=$(guest_log "$g")
	gqmp=$(guest_qmp "$g")
	tail -n +1 -F --pid="$1" "$glog" 2>/dev/null | while IFS= read -r line; do
		[[ $line =~ DBNIC-HOST\ (unplug|plug|aer|link|qom-set)\ (dbnic[0-9]+)(\ ([A-Z_]+|on|off|($fault_prop)\ [0-9]{1,20}))? ]] || continue
		act=${BASH_REMATCH[1]} id=${BASH_REMATCH[2]} err=${BASH_REMATCH[4]}
		spec=${devspec[$g:$id]:-}
		if [ -z "$spec" ]; then
			log "host action $act $id: no such device"
			continue
		fi
		if [ "$act" = qom-set ]; then
			# Only the fault injector's figures (datasheet 11.11).
			if ! [[ $err =~ ^($fault_prop)\ ([0-9]+)$ ]]; then
				log "host action qom-set $id: wants a fault property and a number, got '$err'"
				continue
			fi
			log "host action: qom-set $id $err: $("$DBNIC_TOP/scripts/qmp.py" "$gqmp" qom-set "{\"path\": \"/machine/peripheral/$id\", \"property\": \"${err%% *}\", \"value\": ${err##* }}" 2>&1 || true)"
			continue
		fi
		if [ "$act" = aer ]; then
			# HMP reports its errors in the text it returns.
			log "host action: pcie_aer_inject_error $id $err: $("$DBNIC_TOP/scripts/qmp.py" "$gqmp" human-monitor-command "{\"command-line\": \"pcie_aer_inject_error $id $err\"}" 2>&1 || true)"
			continue
		fi
		if [ "$act" = link ]; then
			case $err in
			on) up=true ;;
			off) up=false ;;
			*) log "host action link $id: wants on or off, got '$err'"; continue ;;
			esac
			log "host action: set_link $id $err: $("$DBNIC_TOP/scripts/qmp.py" "$gqmp" set_link "{\"name\": \"$id\", \"up\": $up}" 2>&1 || true)"
			continue
		fi
		if [ "$act" = unplug ]; then
			log "host action: device_del $id: $("$DBNIC_TOP/scripts/qmp.py" "$gqmp" device_del "{\"id\": \"$id\"}" 2>&1 || true)"
			continue
		fi
		# The guest sees the device gone before it has powered the slot
		# off, and only that makes QEMU delete it: until then its id is
		# taken.  Try again for up to 30 s.
		for ((try = 0; try < 60; try++)); do
			out=$("$DBNIC_TOP/scripts/qmp.py" "$gqmp" device_add "$(qmp_device_args "$spec")" 2>&1) && break
			[[ $out == *"Duplicate device ID"* ]] || break
			sleep 0.5
		done
		log "host action: device_add $id: $out"
	done
}

# qemu_threads PID: what each of QEMU's threads was doing, for a guest
# that hung: name, state and kernel wait channel from /proc, and with gdb
# installed (it is not a dependency) every thread's backtrace.
qemu_threads() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s state %s wchan %s\n' "${t##*/}" "$(cat "$t/comm")" \
			"$(sed 's/.*) //' "$t/stat" | cut -d' ' -f1)" "$(cat "$t/wchan")"
	done
	if command -v gdb > /dev/null; then
		timeout 60 gdb -p "$1" -batch -nx -ex 'thread apply all bt' < /dev/null
	fi
}

# --- Run. -----------------------------------------------------------------
# start_guest G: guest G's QEMU in the background (the launcher enforces
# the timeout; the guest gets no input), with its host-actions follower.
start_guest() {
	local g=$1
	guest_args "$g"
	printf '%q ' "$QEMU" "${args[@]}" > "$tmp/cmd.$g"
	log "qemu: $(cat "$tmp/cmd.$g")"
	if [ $quiet = 1 ] || [ "$nguests" -gt 1 ]; then
		"$QEMU" "${args[@]}" < /dev/null > /dev/null &
	else
		"$QEMU" "${args[@]}" < /dev/null &
	fi
	qpids[g]=$!
	qrcs[g]='' timed[g]=0 apids[g]=''
	if [ $host_actions = 1 ]; then
		host_actions "${qpids[$g]}" "$g" &
		apids[g]=$!
	fi
	# Several guests' consoles, line by line with their prefix.
	if [ $quiet = 0 ] && [ "$nguests" -gt 1 ] && [ $shell = 0 ]; then
		tail -n +1 -F --pid="${qpids[$g]}" "$(guest_log "$g")" 2>/dev/null |
			sed -u "s/^/g$g| /" &
		tpids+=($!)
	fi
}

# reap_guest G: collect guest G's status once its QEMU has ended.
reap_guest() {
	local g=$1
	wait "${qpids[$g]}" && qrcs[g]=0 || qrcs[g]=$?
	qpids[g]=''
	if [ -n "${apids[$g]}" ]; then
		# Its tail ends by itself within a second of QEMU.
		wait "${apids[$g]}" 2>/dev/null || true
		apids[g]=''
	fi
}

start=$(date +%s.%N)
if [ $shell = 1 ]; then
	# The other guests first (guest 0 may wait for them), then guest 0 on
	# the terminal; whatever of theirs still runs after it ends is stopped.
	for ((g = 1; g < nguests; g++)); do start_guest "$g"; done
	guest_args 0
	printf '%q ' "$QEMU" "${args[@]}" > "$tmp/cmd.0"
	log "qemu: $(cat "$tmp/cmd.0")"
	timed[0]=0
	"$QEMU" "${args[@]}" && qrcs[0]=0 || qrcs[0]=$?
	for ((g = 1; g < nguests; g++)); do
		if kill -0 "${qpids[$g]}" 2>/dev/null; then
			log "$(gname "$g") still running: stopped"
		fi
	done
	stop_guests
	for ((g = 1; g < nguests; g++)); do reap_guest "$g"; done
else
	# Guest 0 first: with several, it is the listening end of the network.
	for ((g = 0; g < nguests; g++)); do start_guest "$g"; done
	deadline=$(( $(date +%s) + timeout ))
	while :; do
		running=0
		for ((g = 0; g < nguests; g++)); do
			[ -n "${qpids[$g]}" ] || continue
			if kill -0 "${qpids[$g]}" 2>/dev/null; then
				running=1
			else
				reap_guest "$g"
			fi
		done
		[ $running = 1 ] || break
		if [ "$timeout" -gt 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then
			for ((g = 0; g < nguests; g++)); do
				[ -n "${qpids[$g]}" ] || continue
				timed[g]=1
				qemu_threads "${qpids[$g]}" > "$(guest_log "$g").threads" 2>&1 || true
				kill -TERM "${qpids[$g]}" 2>/dev/null || true
			done
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				running=0
				for ((g = 0; g < nguests; g++)); do
					if [ -n "${qpids[$g]}" ] && kill -0 "${qpids[$g]}" 2>/dev/null; then
						running=1
					fi
				done
				[ $running = 1 ] || break
				sleep 0.5
			done
			for ((g = 0; g < nguests; g++)); do
				[ -n "${qpids[$g]}" ] || continue
				kill -KILL "${qpids[$g]}" 2>/dev/null || true
				reap_guest "$g"
			done
			break
		fi
		sleep 0.1
	done
	for p in "${tpids[@]}"; do wait "$p" 2>/dev/null || true; done
	tpids=()
fi
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
elapsed=$(printf '%.1f' "$elapsed")

# --- Result. --------------------------------------------------------------
# guest_result G: guest G's outcome, logged, as an exit status (see the
# help's "Exit status").
guest_result() {
	local g=$1 glog rc who
	glog=$(guest_log "$g")
	who=$(gname "$g")
	rc=$(tr -d '\r' < "$glog" | sed -n 's/^DBNIC-GUEST-EXIT=\([0-9]\{1,3\}\)$/\1/p' | tail -n1)
	if [ "${timed[$g]}" = 1 ]; then
		log "$who timed out after ${timeout}s (log: $glog; QEMU's threads: $glog.threads)"
		return 124
	fi
	# A panic wins over the marker: one after the command (say, while the
	# guest powered off) is still a kernel bug the run must not hide.
	if grep -aq 'Kernel panic - not syncing' "$glog"; then
		log "$who kernel panicked after ${elapsed}s (log: $glog):"
		grep -a -A3 'Kernel panic - not syncing' "$glog" | tr -d '\r' | head -n4 >&2
		return 125
	fi
	if [ -z "$rc" ]; then
		if [ $shell = 1 ] && [ "$g" = 0 ] && [ "${qrcs[$g]}" = 0 ]; then
			log "left the guest (ctrl-a x) after ${elapsed}s (log: $glog)"
			return 0
		else
			log "$who ended without an exit marker after ${elapsed}s; qemu status ${qrcs[$g]} (log: $glog)"
			tail -n 5 "$glog" | tr -d '\r' >&2
		fi
		return 125
	fi
	log "$who exit status $rc after ${elapsed}s (log: $glog)"
	return "$rc"
}

status=0 any_timeout=0 any_lost=0
for ((g = 0; g < nguests; g++)); do
	rc=0
	guest_result "$g" || rc=$?
	# --shell: the others' outcome is only shown.
	[ $shell = 1 ] && [ "$g" -gt 0 ] && continue
	case $rc in
	0) ;;
	124) any_timeout=1 ;;
	125) any_lost=1 ;;
	*) [ "$status" != 0 ] || status=$rc ;;
	esac
done
if [ $any_timeout = 1 ]; then
	exit 124
elif [ $any_lost = 1 ]; then
	exit 125
fi
exit "$status"

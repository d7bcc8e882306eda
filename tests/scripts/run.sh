#!/usr/bin/env bash
# Tests of the project's own scripts: a failure is never silent, set-up
# helpers survive a fresh machine's answers, long steps show progress, and
# every shell script is shellcheck-clean.  Runs on the host in seconds.
# Prints "scripts: N passed, N failed" (the line scripts/test.sh counts).
. "$(dirname "$0")/../../scripts/lib.sh"

PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbnic-scripts.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() {
	FAILED=$((FAILED + 1)); echo "not ok - $1"
	[ -z "${2:-}" ] || sed 's/^/#   /' "$2"
}

# none_bad NAME PROBLEM...: passes when no problem is listed.
none_bad() {
	local name=$1
	shift
	if [ $# -eq 0 ]; then
		ok "$name"
	else
		printf '%s\n' "$@" > "$TMP/err"
		not_ok "$name" "$TMP/err"
	fi
}

# A command that fails under lib.sh's -e is reported with its file, line
# and text, with the function that ran it, and the script exits non-zero.
cat > "$TMP/fails.sh" <<EOT
. "$DBNIC_TOP/scripts/lib.sh"
inner() { ls /dbnic/no/such/path >/dev/null; }
outer() { inner; }
outer
echo "not reached"
EOT
cat > "$TMP/subst.sh" <<EOT
. "$DBNIC_TOP/scripts/lib.sh"
value=\$(ls /dbnic/no/such/path)
echo "not reached \$value"
EOT
rc=0 rc2=0
bash "$TMP/fails.sh" > "$TMP/out" 2> "$TMP/err" || rc=$?
bash "$TMP/subst.sh" >> "$TMP/out" 2>> "$TMP/err" || rc2=$?
if [ $rc -eq 2 ] && [ $rc2 -eq 2 ] && ! grep -q 'not reached' "$TMP/out" &&
   grep -q "fails.sh:2: command failed with status 2: ls /dbnic/no/such/path" "$TMP/err" &&
   grep -q 'called from inner() at .*fails.sh:3$' "$TMP/err" &&
   grep -q 'called from outer() at .*fails.sh:4$' "$TMP/err" &&
   grep -q "subst.sh:2: command failed with status 2: value=\$(ls /dbnic/no/such/path)" "$TMP/err"; then
	ok "a failing command names its file, line, text and callers"
else
	not_ok "a failing command names its file, line, text and callers (status $rc, $rc2)" "$TMP/err"
fi

# A failure that is an answer (inside a command substitution whose result
# is tested, or guarded by ||) prints nothing.
cat > "$TMP/answers.sh" <<EOT
. "$DBNIC_TOP/scripts/lib.sh"
for f in \$(ls /dbnic/no/such/path 2>/dev/null); do :; done
case \$(readlink /dbnic/no/such/link) in *x) ;; esac
grep -q never /dev/null || true
echo 'done'
EOT
rc=0
bash "$TMP/answers.sh" > "$TMP/out" 2> "$TMP/err" || rc=$?
if [ $rc -eq 0 ] && grep -qx 'done' "$TMP/out" && ! grep -q error "$TMP/err"; then
	ok "a failure that is tested is not reported as an error"
else
	not_ok "a failure that is tested is not reported as an error (status $rc)" "$TMP/err"
fi

# A package that is not installed has no version; asking is not fatal.
# (On a fresh machine linux-source-6.12 is such a package, and asking for
# its version killed build-kernel.sh without a word.)
rc=0
v=$(pkg_version dbnic-no-such-package) || rc=$?
if [ $rc -eq 0 ] && [ -z "$v" ] && [ -n "$(pkg_version bash)" ]; then
	ok "pkg_version: empty for a missing package, a version for bash"
else
	not_ok "pkg_version: status $rc, version '$v' for a missing package"
fi

# Every script that runs on the host goes through lib.sh (and its trap),
# and none asks dpkg-query itself.
bad=()
for f in "$DBNIC_TOP"/scripts/*.sh "$DBNIC_TOP"/tests/scripts/*.sh; do
	[ "${f##*/}" = lib.sh ] && continue
	grep -q '^\. .*lib\.sh"$' "$f" || bad+=("${f#"$DBNIC_TOP"/} does not source lib.sh")
	[ "$f" -ef "$0" ] && continue
	grep -q 'dpkg-query' "$f" && bad+=("${f#"$DBNIC_TOP"/} calls dpkg-query (use pkg_version)")
done
none_bad "every host script sources lib.sh" "${bad[@]}"

# A long step prints a progress line at least every DBNIC_PROGRESS_SECS,
# and its status comes back.
tail_line() { tail -n1 "$1"; }
rc=0
# shellcheck disable=SC2016  # $i expands in the child shell
DBNIC_PROGRESS_SECS=1 run_logged "$TMP/step.log" "test step" tail_line \
	bash -c 'for i in 1 2 3 4; do echo "step $i"; sleep 1; done; exit 3' \
	2> "$TMP/err" || rc=$?
n=$(grep -c '^\[dbnic\] test step: step [0-9], [0-9]* s$' "$TMP/err" || true)
if [ $rc -eq 3 ] && [ "$n" -ge 2 ]; then
	ok "run_logged: $n progress lines in 4 s, status 3 returned"
else
	not_ok "run_logged: $n progress lines, status $rc (want >= 2 and 3)" "$TMP/err"
fi

# The launcher refuses bad options with a reason and status 2, before it
# looks for QEMU or a kernel.
bad=()
while IFS='|' read -r want args; do
	rc=0
	# shellcheck disable=SC2086  # the arguments are split on purpose
	"$DBNIC_TOP/scripts/run-guest.sh" $args > "$TMP/out" 2>&1 || rc=$?
	if [ $rc -ne 2 ] || ! grep -qF -- "$want" "$TMP/out"; then
		bad+=("run-guest.sh $args: status $rc, said: $(head -n1 "$TMP/out")")
	fi
done <<'EOT'
--mem wants a value|--mem
--mem wants megabytes, at least 128, got '12'|--mem 12
--smp wants 1 to 4 CPUs, got '9'|--smp 9
--dbnic wants a number, got 'two'|--dbnic two
--script /dbnic/no/such: no such file|--script /dbnic/no/such
unknown option --bogus|--bogus
--timing wants off or gen3x8, got 'gen9'|--timing gen9
--icount-shift wants 0 to 10, got '11'|--timing gen3x8 --icount-shift 11
--guests wants 1 to 8, got '9'|--guests 9
--nic wants dbnic or virtio, got 'e1000'|--guests 2 --nic e1000
--nic joins guests: it wants --guests 2 or more|--nic virtio
--nic wants dbnic or virtio, got 'e1000'|--guests 2 --nic dbnic,e1000
--nic dbnic,virtio: one model, or one per guest (3)|--guests 3 --nic dbnic,virtio
joins the guests through netdev n0; give yours another id|--guests 2 --netdev user,id=n0
EOT
none_bad "run-guest.sh: bad options get a reason and status 2" "${bad[@]}"

# Several guests (--guests N): each QEMU gets its own log, MAC, index and
# end of the network; the run's status is 0 only when every guest's is,
# a timeout or a lost guest wins over a command's status.  A fake QEMU
# plays each guest: it writes the exit marker that FAKE_QEMU_RCS (one
# word per guest: a status, "none" for no marker, "hang") gives it.
cat > "$TMP/fake-qemu" <<'EOT'
#!/bin/bash
log='' g=0
while [ $# -gt 0 ]; do
	case $1 in
	-chardev) [[ $2 =~ path=([^,]*) ]] && log=${BASH_REMATCH[1]} ;;
	-append) [[ $2 =~ dbnic_guest=([0-9]+) ]] && g=${BASH_REMATCH[1]} ;;
	esac
	shift
done
read -ra rcs <<< "$FAKE_QEMU_RCS"
case ${rcs[$g]} in
none) ;;
hang) sleep 30 ;;
*) printf 'DBNIC-GUEST-EXIT=%s\r\n' "${rcs[$g]}" >> "$log" ;;
esac
EOT
chmod +x "$TMP/fake-qemu"
: > "$TMP/kernel"
: > "$TMP/initrd"
bad=()
# fake_run RCS OPTIONS...: the launcher's status with these guests.
fake_run() {
	local rcs=$1 rc=0
	shift
	FAKE_QEMU_RCS=$rcs QEMU=$TMP/fake-qemu DBNIC_KERNEL=$TMP/kernel DBNIC_INITRD=$TMP/initrd \
		"$DBNIC_TOP/scripts/run-guest.sh" -q --log "$TMP/g.log" "$@" -- true \
		> "$TMP/out" 2>&1 || rc=$?
	echo "$rc"
}
[ "$(fake_run "0 0" --guests 2)" = 0 ] || bad+=("two guests exit 0: status $(fake_run "0 0" --guests 2)")
[ "$(fake_run "0 3" --guests 2)" = 3 ] || bad+=("guest 1 exits 3: status not 3")
[ "$(fake_run "4 0 5" --guests 3)" = 4 ] || bad+=("guests exit 4, 0, 5: status not 4")
[ "$(fake_run "0 none" --guests 2)" = 125 ] || bad+=("guest 1 without a marker: status not 125")
[ "$(fake_run "3 hang" --guests 2 --timeout 1)" = 124 ] || bad+=("guest 1 hangs: status not 124")
[ -e "$TMP/g.log.g1.threads" ] || bad+=("the hung guest 1's threads were not dumped to g.log.g1.threads")
fake_run "0 0" --guests 2 --nic virtio > /dev/null
for want in "-name dbnic-guest0" "-name dbnic-guest1" \
	"dbnic_guest=0\\\\ dbnic_guests=2\\\\ dbnic_nic=virtio\\\\ dbnic_mac=52:54:00:77:00:01" \
	"dbnic_guest=1\\\\ dbnic_guests=2\\\\ dbnic_nic=virtio\\\\ dbnic_mac=52:54:00:77:00:02" \
	"path=$TMP/g.log " "path=$TMP/g.log.g1 " \
	"stream\\\\,id=n0\\\\,server=on\\\\,addr.type=unix\\\\,addr.path=.*/net-1.sock" \
	"stream\\\\,id=n0\\\\,server=off\\\\,reconnect-ms=100\\\\,addr.type=unix\\\\,addr.path=.*/net-1.sock" \
	"virtio-net-pci\\\\,id=net0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:01" \
	"virtio-net-pci\\\\,id=net0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:02"; do
	grep -q -- "$want" "$TMP/out" || bad+=("--guests 2 --nic virtio: no '$want' in the QEMU command lines")
done
fake_run "0 0 0" --guests 3 > /dev/null
for want in "hubport\\\\,id=h2\\\\,hubid=0\\\\,netdev=l2" "hubport\\\\,id=n0\\\\,hubid=0" \
	"dbnic\\\\,id=dbnic0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:03"; do
	grep -q -- "$want" "$TMP/out" || bad+=("--guests 3: no '$want' in the QEMU command lines")
done
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "run-guest.sh --guests: per-guest logs, MACs, indexes, network ends; the status of all" "${bad[@]}"

# --nic2 virtio: a second network between the guests (netdev m0, its own
# sockets and, beyond two guests, its own hub), a virtio-net NIC on it in
# every guest, and its MAC on the kernel command line; the first network
# stays as it was.
bad=()
fake_run "0 0" --guests 2 --nic2 virtio > /dev/null
for want in "dbnic_nic2=virtio\\\\ dbnic_mac2=52:54:00:78:00:01" \
	"dbnic_nic2=virtio\\\\ dbnic_mac2=52:54:00:78:00:02" \
	"stream\\\\,id=m0\\\\,server=on\\\\,addr.type=unix\\\\,addr.path=.*/net2-1.sock" \
	"stream\\\\,id=m0\\\\,server=off\\\\,reconnect-ms=100\\\\,addr.type=unix\\\\,addr.path=.*/net2-1.sock" \
	"virtio-net-pci\\\\,id=net2\\\\,netdev=m0\\\\,mac=52:54:00:78:00:02" \
	"stream\\\\,id=n0\\\\,server=on\\\\,addr.type=unix\\\\,addr.path=.*/net-1.sock" \
	"dbnic\\\\,id=dbnic0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:02"; do
	grep -q -- "$want" "$TMP/out" || bad+=("--guests 2 --nic2 virtio: no '$want' in the QEMU command lines")
done
fake_run "0 0 0" --guests 3 --nic2 virtio > /dev/null
for want in "hubport\\\\,id=h2\\\\,hubid=0\\\\,netdev=l2" "hubport\\\\,id=m0h2\\\\,hubid=1\\\\,netdev=m0l2" \
	"hubport\\\\,id=m0\\\\,hubid=1"; do
	grep -q -- "$want" "$TMP/out" || bad+=("--guests 3 --nic2 virtio: no '$want' in the QEMU command lines")
done
[ "$(fake_run "0" --nic2 virtio)" = 2 ] || bad+=("--nic2 with one guest: status not 2")
[ "$(fake_run "0 0" --guests 2 --nic2 dbnic)" = 2 ] || bad+=("--nic2 dbnic: status not 2")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "run-guest.sh --nic2 virtio: a second network and NIC in every guest" "${bad[@]}"

# --nic dbnic,virtio: a model per guest (interop runs): guest 0's dbnic0
# and guest 1's virtio-net NIC are on the network, each with its own MAC
# and model on its kernel command line, each recorded by --pcap.
bad=()
fake_run "0 0" --guests 2 --nic dbnic,virtio --pcap "$TMP/pcap" > /dev/null
for want in "dbnic_guest=0\\\\ dbnic_guests=2\\\\ dbnic_nic=dbnic\\\\ dbnic_mac=52:54:00:77:00:01" \
	"dbnic_guest=1\\\\ dbnic_guests=2\\\\ dbnic_nic=virtio\\\\ dbnic_mac=52:54:00:77:00:02" \
	"dbnic\\\\,id=dbnic0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:01" \
	"virtio-net-pci\\\\,id=net0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:02" \
	"filter-dump\\\\,id=dump-n0\\\\,netdev=n0\\\\,file=$TMP/pcap/g0-n0.pcap" \
	"filter-dump\\\\,id=dump-n0\\\\,netdev=n0\\\\,file=$TMP/pcap/g1-n0.pcap"; do
	grep -q -- "$want" "$TMP/out" || bad+=("--guests 2 --nic dbnic,virtio: no '$want' in the QEMU command lines")
done
for nowant in "virtio-net-pci\\\\,id=net0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:01" \
	"dbnic\\\\,id=dbnic0\\\\,netdev=n0\\\\,mac=52:54:00:77:00:02"; do
	if grep -q -- "$nowant" "$TMP/out"; then
		bad+=("--guests 2 --nic dbnic,virtio: '$nowant' in the QEMU command lines")
	fi
done
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "run-guest.sh --nic dbnic,virtio: guest 0 on dbnic, guest 1 on virtio-net, one network" "${bad[@]}"

# A dbnic that no --netdev (nor the guests' network) wires gets a socket
# nothing joins, so that QEMU has no NIC without a peer to warn about;
# one that is wired keeps its netdev.
bad=()
fake_run "0" --dbnic 2 --netdev hubport,id=n1,hubid=0 > /dev/null
for want in "stream\\\\,id=unwired0\\\\,server=on\\\\,addr.type=unix" \
	"dbnic\\\\,id=dbnic0\\\\,netdev=unwired0" "dbnic\\\\,id=dbnic1\\\\,netdev=n1\\\\,"; do
	grep -q -- "$want" "$TMP/out" || bad+=("--dbnic 2 --netdev ...id=n1: no '$want' in the QEMU command line")
done
grep -q unwired1 "$TMP/out" && bad+=("--dbnic 2 --netdev ...id=n1: dbnic1 got a socket beside its netdev n1")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "run-guest.sh: a dbnic with no network gets an unjoined socket, one with a netdev keeps it" "${bad[@]}"

# --pcap DIR: a filter-dump per guest on the guests' network (virtio or
# dbnic) and on every --netdev, never on an unwired socket.
bad=()
fake_run "0 0" --guests 2 --nic virtio --pcap "$TMP/pcap" > /dev/null
for want in "filter-dump\\\\,id=dump-n0\\\\,netdev=n0\\\\,file=$TMP/pcap/g0-n0.pcap" \
	"filter-dump\\\\,id=dump-n0\\\\,netdev=n0\\\\,file=$TMP/pcap/g1-n0.pcap"; do
	grep -q -- "$want" "$TMP/out" || bad+=("--guests 2 --nic virtio --pcap: no '$want' in the QEMU command lines")
done
[ -d "$TMP/pcap" ] || bad+=("--pcap $TMP/pcap: the directory was not made")
fake_run "0" --dbnic 2 --netdev hubport,id=n1,hubid=0 --pcap "$TMP/pcap" > /dev/null
grep -q -- "filter-dump\\\\,id=dump-n1\\\\,netdev=n1\\\\,file=$TMP/pcap/g0-n1.pcap" "$TMP/out" ||
	bad+=("--netdev ...id=n1 --pcap: no filter-dump on n1")
grep -q -- "netdev=unwired0\\\\,file" "$TMP/out" && bad+=("--pcap: a filter-dump on the unwired socket")
[ "$(fake_run "0" --pcap /proc/no/such/dir)" = 2 ] || bad+=("--pcap to a directory that cannot be made: status not 2")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "run-guest.sh --pcap: a filter-dump on each guest's network and each --netdev" "${bad[@]}"

# --host-actions "DBNIC-HOST pause gN SECONDS" / "cont gN": guest 1 asks
# for guest 0 to be stopped and resumed, through guest 0's QMP socket (a
# fake QEMU for each guest; guest 0's records each QMP command).  The
# first pause ends by its timer, the second by "cont" (its 3 s timer
# must not send a second one), a pause of a guest that does not exist or
# for no time is refused; each is logged.
cat > "$TMP/fake-qemu-qmp" <<'EOT'
#!/bin/bash
log='' g=0 qmp=''
while [ $# -gt 0 ]; do
	case $1 in
	-chardev) [[ $2 =~ path=([^,]*) ]] && log=${BASH_REMATCH[1]} ;;
	-append) [[ $2 =~ dbnic_guest=([0-9]+) ]] && g=${BASH_REMATCH[1]} ;;
	-qmp) [[ $2 =~ ^unix:([^,]*) ]] && qmp=${BASH_REMATCH[1]} ;;
	esac
	shift
done
if [ "$g" = 0 ]; then
	/usr/bin/python3 -c 'import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(4)
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    f.write(b"{\"QMP\": {}}\n")
    f.flush()
    for line in f:
        cmd = json.loads(line)["execute"]
        if cmd != "qmp_capabilities":
            with open(sys.argv[2], "a") as out:
                out.write(cmd + "\n")
        f.write(b"{\"return\": {}}\n")
        f.flush()
    c.close()' "$qmp" "$FAKE_QMP_LOG" &
	sleep 12
	kill $!
else
	sleep 1
	for req in "pause g0 1" "" "" "" "pause g0 3" "cont g0" "pause g5 1" "pause g0 0" "" "" ""; do
		[ -z "$req" ] || printf 'DBNIC-HOST %s\r\n' "$req" >> "$log"
		sleep 1
	done
fi
printf 'DBNIC-GUEST-EXIT=0\r\n' >> "$log"
EOT
chmod +x "$TMP/fake-qemu-qmp"
bad=()
rc=0
FAKE_QMP_LOG=$TMP/qmp.log QEMU=$TMP/fake-qemu-qmp DBNIC_KERNEL=$TMP/kernel DBNIC_INITRD=$TMP/initrd \
	"$DBNIC_TOP/scripts/run-guest.sh" -q --log "$TMP/g.log" --guests 2 --host-actions -- true \
	> "$TMP/out" 2>&1 || rc=$?
[ $rc = 0 ] || bad+=("status $rc")
got=''
[ ! -f "$TMP/qmp.log" ] || got=$(tr '\n' ' ' < "$TMP/qmp.log")
[ "$got" = "stop cont stop cont " ] ||
	bad+=("guest 0's QMP commands: '$got', want 'stop cont stop cont '")
for want in "host action: stop guest 0 for up to 1 s (asked by guest 1): {}" \
	"host action: cont guest 0 after 1 s: {}" \
	"host action: stop guest 0 for up to 3 s (asked by guest 1): {}" \
	"host action: cont guest 0 (asked by guest 1): {}" \
	"host action pause g5 (asked by guest 1): no such guest" \
	"host action pause g0: wants 1 to 600 seconds, got '0'"; do
	grep -qF -- "$want" "$TMP/out" || bad+=("no '$want' in the launcher's output")
done
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "run-guest.sh --host-actions: pause gN SECONDS and cont gN through guest N's QMP" "${bad[@]}"

# The kernel's watchdogs: every kind of report is found in a serial log
# (with its CRs), and an ordinary log has none.
printf '%s\r\n' '[    1.0] DMA-API: preallocated 65536 debug entries' \
	'DBNIC-TEST ok copy 4096' 'guest: 3 passed, 0 failed' \
	'DBNIC-KMEMLEAK scanned: 0 leaks' > "$TMP/clean.log"
printf '%s\r\n' '[    2.0] BUG: KASAN: slab-use-after-free in dbnic_reap+0x1/0x2' \
	'[    2.1] WARNING: possible circular locking dependency detected' \
	'[    2.2] BUG: sleeping function called from invalid context at x.c:1' \
	'[    2.3] ODEBUG: free active (active state 0) object: x type: timer_list' \
	'[    2.4] WARNING: CPU: 0 PID: 1 at kernel/dma/debug.c:1 check_unmap+0x1' \
	'kmemleak: unreferenced object 0xffff888003c1e000 (size 64):' \
	'[    2.5] INFO: task insmod:80 blocked for more than 120 seconds.' \
	> "$TMP/bad.log"
clean=$(kernel_reports "$TMP/clean.log")
n=$(kernel_reports "$TMP/bad.log" | wc -l)
if [ -z "$clean" ] && [ "$n" -eq 7 ]; then
	ok "kernel_reports: 7 of 7 watchdog reports, none in a clean log"
else
	printf 'clean log gave: %s\n' "$clean" > "$TMP/err"
	not_ok "kernel_reports: $n of 7 reports found" "$TMP/err"
fi

# The one known report of the kernel's own (pciehp's lock order) is left
# out; the same shape of report naming other locks is not.
lockdep_block() {	# lock-a lock-b
	printf '%s\r\n' '[    3.0] ======================================================' \
		'[    3.0] WARNING: possible circular locking dependency detected' \
		'[    3.0] 6.12.117 #1 Not tainted' \
		"[    3.0] irq/24-pciehp/48 is trying to acquire lock:" \
		"[    3.0] ffffffff8 ($1){+.+.}-{4:4}, at: pciehp_unconfigure_device+0x1/0x2" \
		'[    3.0] but task is already holding lock:' \
		"[    3.0] ffff8880 ($2){++++}-{4:4}, at: pciehp_ist+0x1/0x2" \
		'[    3.0] Call Trace:' '[    3.0]  <TASK>' '[    3.0]  dump_stack_lvl+0x1/0x2' \
		'[    3.0]  </TASK>'
}
{ lockdep_block pci_rescan_remove_lock '&ctrl->reset_lock'
  printf '%s\r\n' 'DBNIC-TEST ok after the unplug'; } > "$TMP/pciehp.log"
{ lockdep_block pci_rescan_remove_lock '&uf->lock'; } > "$TMP/ours.log"
known=$(kernel_reports "$TMP/pciehp.log" 2> "$TMP/note")
ours=$(kernel_reports "$TMP/ours.log" 2>/dev/null)
if [ -z "$known" ] && grep -q 'pciehp lockdep report' "$TMP/note" &&
   [ "$(printf '%s\n' "$ours" | grep -c 'circular locking')" = 1 ]; then
	ok "kernel_reports: pciehp's own lockdep report left out (noted), others kept"
else
	printf 'pciehp log gave: %s\nother lock gave: %s\n' "$known" "$ours" > "$TMP/err"
	not_ok "kernel_reports: pciehp's own lockdep report left out (noted), others kept" "$TMP/err"
fi

# make bench's closing table: scripts/bench-report.py finds its numbers in
# the tables of a guest's serial log (CRs, raw samples in between, and an
# extra column as a later kernel bench may print) and divides the right
# ones; a number it cannot find is a failure, not a blank.
mkdir -p "$TMP/bench"
printf '%s\n' 'size      memcpy_MB/s  bounce4k_MB/s' '1 MiB           40000          30000' \
	> "$TMP/bench/host-memcpy.log"
sed 's/$/\r/' > "$TMP/bench/guest-m0.log" <<'EOT'
DBNIC-BENCH-BEGIN kernel
op   bytes  ring_med  prio_med   saved_ns  dev_saved_ns prio%
nop      0     20000     10000      10000         10000   100
copy    64     40000     30000      10000         10000   100

size      descs copies     qd1_us   qd1_MB/s   qdN_MB/s memcpy_MB/s data
1 MiB         1     64        149       7015      10000         317 ok
DBNIC-BENCH-END kernel
DBNIC-BENCH-BEGIN user
op   bytes  ring_med  prio_med   saved_ns prio%
nop      0     30000     15000      15000   100
DBNIC-CSV-BEGIN qd1
op,bytes,path,pair,ns
nop,0,ring,0,30000
nop,0,prio,0,15000
DBNIC-CSV-END qd1
copy    64     50000     25000      25000   100
DBNIC-BENCH-END user
DBNIC-BENCH-BEGIN dblat
phase   samples    min_ns  median_ns    p90_ns    p99_ns    max_ns
idle          2      1000      10000     11000     12000     13000
loaded        2      1000      20000     21000     60000     70000
DBNIC-BENCH-END dblat
EOT
rc=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot "$TMP/bench" m0= \
	> "$TMP/out" 2>&1 || rc=$?
cp "$TMP/bench/guest-m0.log" "$TMP/bench/guest-m1.log"
sed -i '/^1 MiB/d' "$TMP/bench/guest-m1.log"
rc1=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot "$TMP/bench" m1= \
	> "$TMP/out1" 2>&1 || rc1=$?
want=("QD1 latency, NOP, kernel: priority / ring .* 0.50$"
      "QD1 latency, COPY 64 B, kernel: priority / ring .* 0.75$"
      "QD1 latency, NOP, user space: priority / ring .* 0.50$"
      "QD1 latency, COPY 64 B, user space: priority / ring .* 0.50$"
      "1 MiB COPY bandwidth at depth (kernel): dbnic / host memcpy .* 0.25$"
      "doorbell store latency, median: loaded / idle .* 2.00$"
      "doorbell store latency, p99: loaded / idle .* 5.00$"
      "^dbnic vs virtio-net .* n/a: "
      "^raw samples: .*samples.csv (2 rows)$")
bad=()
for w in "${want[@]}"; do grep -q -- "$w" "$TMP/out" || bad+=("no line matching: $w"); done
[ $rc -eq 0 ] || bad+=("status $rc")
[ $rc1 -eq 1 ] && grep -q '^missing: 1 MiB COPY bandwidth' "$TMP/out1" ||
	bad+=("a missing number: status $rc1, $(tail -n 1 "$TMP/out1")")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "bench-report.py: ratios from a guest log's tables, a missing one fails" "${bad[@]}"

# The netdev rows (--net): the numbers of guest 1's tables in the two guest
# pairs' logs (tests/guest/bench-net.sh), each mode against the others, a
# number of several rounds their median; the ping RTT samples go into
# samples.csv; a mode without its table fails.
mkdir -p "$TMP/net"
sed 's/$/\r/' > "$TMP/net/guest-net-dbnic.log.g1" <<'EOT'
DBNIC-BENCH-BEGIN net-inline
# ping -c 2 -i 0.01 -W 2 10.77.0.1
ping_med_us 400
ping_p99_us 900
iperf_P1_Mbps 200
iperf_P4_Mbps 300
pktgen_pps 70000
pktgen_pps 50000
pktgen_pps 10
tx_inline 900
DBNIC-BENCH-END net-inline
DBNIC-CSV-BEGIN ping-inline
sample,rtt_us
0,400
1,900
DBNIC-CSV-END ping-inline
DBNIC-BENCH-BEGIN net-ring
ping_med_us 500
ping_p99_us 1000
iperf_P1_Mbps 160
iperf_P4_Mbps 250
pktgen_pps 40000
DBNIC-BENCH-END net-ring
EOT
sed 's/$/\r/' > "$TMP/net/guest-net-virtio.log.g1" <<'EOT'
DBNIC-BENCH-BEGIN net-virtio
ping_med_us 250
ping_p99_us 500
iperf_P1_Mbps 800
iperf_P4_Mbps 1200
pktgen_pps 100000
DBNIC-BENCH-END net-virtio
EOT
rc=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot --net "$TMP/net" \
	> "$TMP/out" 2>&1 || rc=$?
want=("^pktgen 64 B frames TX: dbnic inline / virtio-net .* 0.50$"
      "^pktgen 64 B frames TX: dbnic ring only / virtio-net .* 0.40$"
      "^pktgen 64 B frames TX: dbnic inline / ring only .* 1.25$"
      "^iperf3 TCP, 1 stream: dbnic inline / ring only .* 1.25$"
      "^iperf3 TCP, 4 streams: dbnic ring only / virtio-net .* 0.21$"
      "^ping RTT median: dbnic inline / virtio-net .* 1.60$"
      "^ping RTT p99: dbnic inline / ring only .* 0.90$"
      "^raw samples: .*samples.csv (2 rows)$")
bad=()
for w in "${want[@]}"; do grep -q -- "$w" "$TMP/out" || bad+=("no line matching: $w"); done
grep -q '^net,ping,inline,1,900000$' "$TMP/net/samples.csv" || bad+=("no ping sample in samples.csv")
[ $rc -eq 0 ] || bad+=("status $rc")
sed -i '/net-virtio/,$d' "$TMP/net/guest-net-virtio.log.g1"
rc1=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot --net "$TMP/net" \
	> "$TMP/out1" 2>&1 || rc1=$?
[ $rc1 -eq 1 ] && grep -q '^missing: pktgen 64 B frames TX: dbnic inline / virtio-net' "$TMP/out1" ||
	bad+=("a missing virtio-net table: status $rc1, $(tail -n 1 "$TMP/out1")")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "bench-report.py --net: dbnic inline, ring only and virtio-net against each other" "${bad[@]}"

# The RDMA rows (--rdma): guest 1's tables in the two guest pairs' logs
# (tests/guest/bench-rdma.sh), dbnic always and never against rxe, timing
# model off and on (the second pair without rxe takes the first's), a
# number of several rounds their median; an
# rxe benchmark that did not run is "n/a" with its reason, a dbnic one
# missing fails.
mkdir -p "$TMP/rdma"
{
	for mode in always never rxe; do
		echo "DBNIC-BENCH-BEGIN rdma-$mode"
		echo "# env DBNIC_PRIORITY=$mode ib_send_lat -d dbnic0 -x 1 -F -n 200 -s SIZE 10.77.0.1"
		for t in ib_send_lat ib_write_lat; do
			for sz in 64 4096 65536; do
				case $mode in always) v=10 ;; never) v=20 ;; rxe) v=40 ;; esac
				if [ $mode = rxe ] && [ $sz = 65536 ]; then
					echo "$t $sz n/a did not finish in 60 s"
				else
					echo "$t $sz typ=$v.00 avg=99.00 min=$v.00"
				fi
			done
		done
		for sz in 64 4096 65536 1048576; do
			t=ib_send_bw
			[ $sz = 1048576 ] && t=ib_write_bw
			case $mode in always) v=3 ;; never) v=2 ;; rxe) v=1 ;; esac
			# rxe's 64 B rate below BW average's two decimals: MsgRate's.
			if [ $mode = rxe ] && [ $sz = 64 ]; then
				echo "$t $sz bw=0.00 mpps=0.000500"
			else
				echo "$t $sz bw=${v}00.00 mpps=$v.000000"
			fi
			# Three rounds: their median.
			if [ $mode = always ] && [ $sz = 1048576 ]; then
				echo "$t $sz bw=700.00 mpps=7.000000"
				echo "$t $sz bw=500.00 mpps=5.000000"
			fi
		done
		[ $mode = rxe ] || echo "counters prio_exec=100 ring_fetch=100 prio_back=0"
		echo "DBNIC-BENCH-END rdma-$mode"
	done
} | sed 's/$/\r/' > "$TMP/rdma/guest-rdma.log.g1"
sed '/rdma-rxe/,$d; s/typ=10.00/typ=5.00/' "$TMP/rdma/guest-rdma.log.g1" > "$TMP/rdma/guest-rdma-model.log.g1"
rc=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot --rdma "$TMP/rdma" \
	> "$TMP/out" 2>&1 || rc=$?
want=("^ib_send_lat 64 B, t_typical: dbnic always / rxe  *rdma  .* 0.25$"
      "^ib_send_lat 64 B, t_typical: dbnic always / rxe  *rdma-model  .* 0.12$"
      "^ib_write_lat 4 KiB, t_typical: dbnic never / rxe  *rdma .* 0.50$"
      "^ib_send_bw 64 KiB, BW average: dbnic always / rxe  *rdma .* 3.00$"
      "^ib_write_bw 1 MiB, BW average: dbnic never / rxe  *rdma-model .* 2.00$"
      "^ib_write_bw 1 MiB, BW average: dbnic always / rxe  *rdma  *500 MB/s .* 5.00$"
      "^ib_send_lat 64 KiB, t_typical: dbnic always / rxe .* n/a (rxe: did not finish in 60 s)$"
      "^ib_send_lat 64 B (us) *40 *10 *20 *0.25 *0.50 *40 *5 *20 *0.12 *0.50$"
      "^ib_send_bw 64 B, BW average: dbnic never / rxe  *rdma .* 4000.00$"
      "^ib_send_bw 64 B (MB/s) *<0.01 *300 *200 *6000.00 *4000.00 "
      "^n/a: ib_write_lat 64 KiB, rxe, timing model off: did not finish in 60 s$")
bad=()
for w in "${want[@]}"; do grep -q -- "$w" "$TMP/out" || bad+=("no line matching: $w"); done
[ $rc -eq 0 ] || bad+=("status $rc")
sed -i '/rdma-never/,/rdma-never/{/ib_send_bw 4096/d}' "$TMP/rdma/guest-rdma-model.log.g1"
rc1=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot --rdma "$TMP/rdma" \
	> "$TMP/out1" 2>&1 || rc1=$?
[ $rc1 -eq 1 ] && grep -q '^missing: ib_send_bw 4 KiB, BW average: dbnic never / rxe (rdma-model)' "$TMP/out1" ||
	bad+=("a missing dbnic number: status $rc1, $(tail -n 1 "$TMP/out1")")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "bench-report.py --rdma: dbnic always and never against rxe, timing model off and on" "${bad[@]}"

# The RDMA loss rows (--rdma-loss): one guest pair per rate, its log's
# name the rate; guest 1's rdma-never and rdma-rxe tables, both guests'
# counters.  A column per rate in numeric order (10 after 5), dbnic
# against rxe (medians of the rounds, t_min their smallest), the counters
# as guest 0 / guest 1, rxe's unprinted zeros as 0; an rxe figure that
# did not run is n/a with its reason, a dbnic one missing fails.
mkdir -p "$TMP/loss"
for r in 0 1 5 10; do
	{
		echo "DBNIC-BENCH-BEGIN rdma-never"
		echo "# env DBNIC_PRIORITY=never ib_write_bw -d dbnic0 -x 1 -F -n 20 -s SIZE 10.77.0.1"
		echo "ib_write_bw 1048576 bw=$((100 - r)).00 mpps=0.000100"
		echo "ib_send_lat 64 typ=$((100 + r)).00 avg=$((200 + r)).00 min=$((50 + r)).00"
		if [ $r = 5 ]; then
			echo "ib_send_lat 64 typ=300.00 avg=900.00 min=40.00"
			echo "ib_send_lat 64 typ=120.00 avg=600.00 min=60.00"
		fi
		echo "counters prio_exec=0 ring_fetch=100 prio_back=0"
		echo "DBNIC-BENCH-END rdma-never"
		echo "DBNIC-BENCH-BEGIN rdma-rxe"
		echo "ib_write_bw 1048576 bw=$((50 - r)).00 mpps=0.000050"
		if [ $r = 5 ]; then
			echo "ib_send_lat 64 n/a did not finish in 45 s"
		else
			echo "ib_send_lat 64 typ=400.00 avg=800.00 min=300.00"
		fi
		echo "DBNIC-BENCH-END rdma-rxe"
		echo "DBNIC-BENCH-BEGIN rdma-counters"
		echo "dbnic0 roce_fault_tx_drop $((3 * r))"
		echo "dbnic0 roce_retx_pkts $((7 * r))"
		echo "rxe0 completer_retry_err $((2 * r))"
		echo "qdisc eth1 sent 1000 dropped $r"
		echo "DBNIC-BENCH-END rdma-counters"
	} | sed 's/$/\r/' > "$TMP/loss/guest-rdma-loss-$r.log.g1"
	{
		echo "DBNIC-BENCH-BEGIN rdma-counters"
		echo "dbnic0 roce_fault_tx_drop $((2 * r))"
		echo "dbnic0 roce_retx_pkts $((5 * r))"
		echo "qdisc eth1 sent 900 dropped $((r + 1))"
		echo "DBNIC-BENCH-END rdma-counters"
	} | sed 's/$/\r/' > "$TMP/loss/guest-rdma-loss-$r.log"
done
rc=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot --rdma-loss "$TMP/loss" \
	> "$TMP/out" 2>&1 || rc=$?
# The rows under each figure's line, in order: rxe, dbnic, the ratio.
awk '/^ib_/ { f = $0; next } /^  / { sub(/^  /, ""); print f " | " $0 }' "$TMP/out" |
	tr -s ' ' > "$TMP/rows"
want=("^loss *0% *1% *5% *10%$"
      "^ib_write_bw 1 MiB, BW average (MB/s) | rxe 50 49 45 40$"
      "^ib_write_bw 1 MiB, BW average (MB/s) | dbnic never 100 99 95 90$"
      "^ib_write_bw 1 MiB, BW average (MB/s) | dbnic / rxe 2.00 2.02 2.11 2.25$"
      "^ib_send_lat 64 B, t_typical (us) | rxe 400 400 n/a 400$"
      "^ib_send_lat 64 B, t_typical (us) | dbnic never 100 101 120 110$"
      "^ib_send_lat 64 B, t_typical (us) | dbnic / rxe 0.25 0.25 - 0.28$"
      "^ib_send_lat 64 B, t_min (us) | dbnic never 50 51 40 60$"
      "^ib_send_lat 64 B, t_avg (us) | dbnic never 200 201 600 210$"
      "^dbnic0 roce_fault_tx_drop *0/0 *2/3 *10/15 *20/30$"
      "^dbnic0 roce_retx_pkts *0/0 *5/7 *25/35 *50/70$"
      "^dbnic0 roce_retry_timeout *- *- *- *-$"
      "^rxe's NIC, netem dropped *1/0 *2/1 *6/5 *11/10$"
      "^rxe0 completer_retry_err *0/0 *0/2 *0/10 *0/20$"
      "^n/a: ib_send_lat 64 B, rxe, loss 5%: did not finish in 45 s$")
bad=()
for w in "${want[@]}"; do
	grep -q -- "$w" "$TMP/out" "$TMP/rows" || bad+=("no line matching: $w")
done
[ $rc -eq 0 ] || bad+=("status $rc")
# A dbnic figure that did not run fails the report.
sed -i 's,^ib_send_lat 64 typ=101.00.*,ib_send_lat 64 n/a status 1: timeout,' "$TMP/loss/guest-rdma-loss-1.log.g1"
rc1=0
/usr/bin/python3 "$DBNIC_TOP/scripts/bench-report.py" --no-plot --rdma-loss "$TMP/loss" \
	> "$TMP/out1" 2>&1 || rc1=$?
[ $rc1 -eq 1 ] && grep -q '^missing: ib_send_lat 64 B t_typical, dbnic never, loss 1%' "$TMP/out1" ||
	bad+=("a dbnic figure that did not run: status $rc1, $(tail -n 1 "$TMP/out1")")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "bench-report.py --rdma-loss: dbnic against rxe per loss rate, both guests' counters" "${bad[@]}"

# The bench kernel's fragment (kernel_bench_fragment, build-kernel.sh
# --bench) is the test kernel's with exactly the debug block's options
# switched off: every other line is the same, so the two kernels cannot
# drift apart, and the watchdogs that distort timings are all in the block.
frag=$DBNIC_TOP/scripts/guest-kernel.config
bad=()
kernel_bench_fragment "$frag" > "$TMP/bench.config" 2> "$TMP/err" ||
	bad+=("kernel_bench_fragment failed: $(cat "$TMP/err")")
sed -n '/^# >>> debug block begin$/,/^# <<< debug block end$/p' "$frag" |
	grep -E '^CONFIG_[A-Za-z0-9_]+=' > "$TMP/block.on" || true
sed 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/# \1 is not set/' "$TMP/block.on" > "$TMP/block.off"
{ diff "$frag" "$TMP/bench.config" || true; } > "$TMP/diff"
sed -n 's/^< //p' "$TMP/diff" > "$TMP/removed"
sed -n 's/^> //p' "$TMP/diff" > "$TMP/added"
[ -s "$TMP/block.on" ] || bad+=("no CONFIG_ lines in the debug block")
cmp -s "$TMP/removed" "$TMP/block.on" ||
	bad+=("lines changed are not the debug block's: $(tr '\n' ' ' < "$TMP/removed")")
cmp -s "$TMP/added" "$TMP/block.off" ||
	bad+=("the block's lines are not turned off: $(tr '\n' ' ' < "$TMP/added")")
[ "$(wc -l < "$frag")" = "$(wc -l < "$TMP/bench.config")" ] || bad+=("line count differs")
for o in KASAN PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK DEBUG_OBJECTS DMA_API_DEBUG; do
	grep -qx "# CONFIG_$o is not set" "$TMP/bench.config" || bad+=("CONFIG_$o not off in the bench fragment")
done
# The benchmarks read the driver's debugfs file: that stays.
grep -qx 'CONFIG_DEBUG_FS=y' "$TMP/bench.config" || bad+=("CONFIG_DEBUG_FS not kept")
# build-kernel.sh applies the same text (and the test kernel the fragment
# as it is), printed without building (a throwaway cache: nothing is built).
DBNIC_CACHE=$TMP/cache "$DBNIC_TOP/scripts/build-kernel.sh" --bench --print-fragment \
	> "$TMP/printed" 2> "$TMP/err" || bad+=("build-kernel.sh --bench --print-fragment failed")
cmp -s "$TMP/printed" "$TMP/bench.config" || bad+=("build-kernel.sh --bench applies another fragment")
DBNIC_CACHE=$TMP/cache "$DBNIC_TOP/scripts/build-kernel.sh" --print-fragment \
	> "$TMP/printed" 2> "$TMP/err" || bad+=("build-kernel.sh --print-fragment failed")
cmp -s "$TMP/printed" "$frag" || bad+=("the test kernel's fragment is not guest-kernel.config as it is")
# Without one well-formed block there is no bench kernel, not a debug one.
grep -v '^# [<>]\{3\} debug block' "$frag" > "$TMP/nomark.config"
{ cat "$frag"; sed -n '/^# >>> debug block begin$/,/^# <<< debug block end$/p' "$frag"; } \
	> "$TMP/twice.config"
grep -v '^# <<< debug block end$' "$frag" > "$TMP/noend.config"
for f in nomark twice noend; do
	kernel_bench_fragment "$TMP/$f.config" > /dev/null 2>&1 &&
		bad+=("kernel_bench_fragment accepted a fragment with markers: $f")
done
none_bad "bench kernel fragment: the test fragment with exactly its debug block off" "${bad[@]}"

# roce-pcap.py tshark-check: rxe's frames (the host tests' vectors,
# tests/host/roce_rxe_vectors.h) written as a capture pass every check
# (tshark decodes each as BTH, scripts/roce-icrc.lua finds each ICRC
# good and equal to zlib's); the same capture with one payload bit
# flipped fails the ICRC check and the command's status (tshark 4.0 does
# not check ICRCs itself).  tshark comes from scripts/setup-host.sh.
bad=()
/usr/bin/python3 - "$DBNIC_TOP/tests/host/roce_rxe_vectors.h" "$TMP/rxe.pcap" <<'PY'
import re, struct, sys
src = open(sys.argv[1]).read()
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, m in enumerate(re.finditer(r"uint8_t rxe_\w+\[\d+\] = \{([^}]*)\}", src)):
        d = bytes(int(x, 16) for x in re.findall(r"0x[0-9a-f]{2}", m.group(1)))
        f.write(struct.pack("<IIII", i, 0, len(d), len(d)) + d)
PY
rc=0
/usr/bin/python3 "$DBNIC_TOP/scripts/roce-pcap.py" tshark-check --senders 2 --l3 IPv4,IPv6 \
	"$TMP/rxe.pcap" > "$TMP/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || bad+=("rxe's frames: status $rc")
grep -q '^DBNIC-TEST ok rxe.pcap: tshark decodes all 16 RoCE frames as InfiniBand BTH' "$TMP/out" ||
	bad+=("rxe's frames: not all 16 decoded")
grep -q '^DBNIC-TEST ok rxe.pcap: every RoCE frame.s ICRC is valid' "$TMP/out" ||
	bad+=("rxe's frames: an ICRC found bad")
rc=0
/usr/bin/python3 "$DBNIC_TOP/scripts/roce-pcap.py" corrupt "$TMP/rxe.pcap" "$TMP/bad.pcap" > /dev/null &&
	/usr/bin/python3 "$DBNIC_TOP/scripts/roce-pcap.py" tshark-check "$TMP/bad.pcap" \
		>> "$TMP/out" 2>&1 || rc=$?
[ $rc -eq 1 ] || bad+=("one bit flipped: status $rc, not 1")
grep -q '^DBNIC-TEST not ok bad.pcap: every RoCE frame.s ICRC is valid.*bad ICRC in 1 frames' "$TMP/out" ||
	bad+=("one bit flipped: no bad ICRC reported")
[ ${#bad[@]} -eq 0 ] || cat "$TMP/out" >&2
none_bad "roce-pcap.py tshark-check: rxe's frames pass, one flipped bit fails the ICRC check" "${bad[@]}"

# Lint: host scripts as bash, guest scripts as busybox sh
# (tests/guest/.shellcheckrc).
if ! command -v shellcheck >/dev/null; then
	echo "shellcheck missing: run scripts/setup-host.sh" > "$TMP/err"
	not_ok "shellcheck" "$TMP/err"
elif (cd "$DBNIC_TOP" && shellcheck -x -P SCRIPTDIR scripts/*.sh tests/scripts/*.sh \
	tests/guest/*.sh) > "$TMP/err" 2>&1; then
	ok "shellcheck: scripts/, tests/scripts/, tests/guest/"
else
	not_ok "shellcheck: scripts/, tests/scripts/, tests/guest/" "$TMP/err"
fi

echo "scripts: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || exit 1

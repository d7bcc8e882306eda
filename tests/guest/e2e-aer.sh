# run-guest: --root-port --host-actions
# test.sh: alone (its "within a second" checks run on the guest's clock)
# End-to-end test: PCIe errors (AER), injected by the host into the
# device (the launcher runs QEMU's pcie_aer_inject_error when this script
# prints "DBNIC-HOST aer dbnic0 ERROR") while processes hold mappings and
# post copies and the kernel's dmatest runs on every channel.
#  - A correctable error (BAD_TLP) is logged and counted, nothing else:
#    the processes keep running, copies keep completing, dmatest sees no
#    failure, the driver's error_detected is not called.
#  - An uncorrectable non-fatal error (POISON_TLP), then a fatal one
#    (MALF_TLP, which makes the host reset the link) go through the
#    driver's error_detected, slot_reset and resume: user mappings revoked
#    (a busy process gets SIGBUS, an idle one SIGBUS on its next access,
#    both ENODEV from ioctls), dmatest sees errors within a second of the
#    error, and afterwards new opens, copies and a dmatest run work.
# The kernel log must stay clean (the AER reports themselves are info and
# error lines, no warning or trace).  Needs CONFIG_PCIEAER in the test
# kernel and the device's AER capability (datasheet section 1); without
# either, the injected errors never reach the driver and the checks fail.
# Runs in the guest (busybox sh) behind a pcie-root-port with the dbnic modules,
# lib.sh, user-lib.sh and dbnic-tool in $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
DRV=/sys/bus/pci/drivers/dbnic

load_dbnic
pci=$(basename "$(first "$DRV"/0000:*)")
dev=/sys/bus/pci/devices/$pci
echo "device $pci"
if [ ! -r "$dev/aer_dev_correctable" ]; then
	# Nothing below can work: errors would never reach the driver.
	t_fail "device has AER (the kernel found its capability)" "no $dev/aer_dev_correctable"
	t_done
	exit 1
fi
t_ok "device has AER (the kernel found its capability)"
# Its root port, which receives the error messages.
rp=$(dirname "$(readlink -f "$dev")")
t_check "root port has AER" test -r "$rp/aer_rootport_total_err_fatal"

# aer_total FILE: the TOTAL_ERR_* line of one of the device's AER
# statistics files (aer_dev_correctable, _nonfatal).  The kernel cannot
# read a device's error status after a fatal error, so those are counted
# only at the root port (aer_rootport_total_err_fatal).
aer_total() { awk '$1 ~ /^TOTAL_ERR_/ { print $2 }' "$dev/$1"; }

# wait_log ERE SECS: wait until a kernel log line since the mark matches
# ERE, at most SECS seconds of wall time (reading the log of a debug
# kernel under load takes a while, so count time, not tries).
wait_log() {
	end=$(($(date +%s) + $2))
	while [ -z "$(secs_of "$1")" ] && [ "$(date +%s)" -lt $end ]; do
		sleep 0.2
	done
}

# inject ERROR SEVERITY: ask the host to inject ERROR, wait up to 20 s
# for the root port to report it with SEVERITY (an ERE).
inject() {
	echo "DBNIC-HOST aer dbnic0 $1"
	wait_log 'error message received from' 20
	if [ -n "$(secs_of "$2 error message received from $pci")" ]; then
		t_ok "$1: reported by the root port, as $2"
	else
		t_fail "$1: reported by the root port, as $2" "$(since_mark | grep 'error message received' | head -n 1)"
	fi
}

# recovered KIND STATS BEFORE: the driver went through error_detected,
# slot_reset and resume; dmatest saw an error within a second of the
# report; the statistics file STATS (a TOTAL_ERR_* file, or a number)
# counted the error.
recovered() {
	wait_log 'recovered from the PCI error' 30
	since_mark | grep -E 'dbnic|AER|dmatest: .*result' | head -n 20
	t_check "$1: error_detected called" test -n "$(secs_of 'dbnic .*PCI error \(channel state')"
	t_check "$1: resume called (recovered)" test -n "$(secs_of 'dbnic .*recovered from the PCI error')"
	t_check "$1: AER recovery successful" test -n "$(secs_of 'device recovery successful')"
	t0=$(secs_of 'error message received from')
	t1=$(secs_of 'dmatest: .*result #')
	echo "error reported at ${t0:-?} s, first dmatest error at ${t1:-?} s"
	if [ -n "$t0" ] && [ -n "$t1" ] && awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 1) }'; then
		t_ok "$1: dmatest sees an error within a second"
	else
		t_fail "$1: dmatest sees an error within a second" "error at ${t0:-never}, dmatest error at ${t1:-never}"
	fi
	case $2 in
	aer_dev_*) n=$(aer_total "$2") ;;
	*) n=$(cat "$2") ;;
	esac
	t_check "$1: counted in ${2##*/} ($3 -> $n)" test "$n" -gt "$3"
}

# works_again KIND: the device is usable after the recovery.
works_again() {
	t_check "$1: /dev/dbnic0 there" test -c /dev/dbnic0
	dbg=$(first /sys/kernel/debug/dbnic/0000:*)
	t_check "$1: no context left from before" test "$(users_field contexts)" = 0
	t_check "$1: copy afterwards, verified" "$TOOL" copy --size 64K --count 200 --verify
	t_check "$1: priority-path copy afterwards" "$TOOL" copy --size 16K --count 50 --path prio --verify
}

echo "== users"
start_users --time 120 --size 64K --depth 8
dmatest_start "$pci"
sleep 1
cat "$dbg/users"

echo "== correctable error"
echo "dbnic-e2e: mark correctable" > /dev/kmsg
cor=$(aer_total aer_dev_correctable)
done0=$(counter completions)
inject BAD_TLP Correctable
# Give a wrong reaction time to show, and the copies time to go on.
sleep 2
since_mark | grep -E 'dbnic|AER|dmatest' | head -n 10
n=$(aer_total aer_dev_correctable)
t_check "correctable: counted in aer_dev_correctable ($cor -> $n)" test "$n" -gt "$cor"
t_check "correctable: error_detected not called" test -z "$(secs_of 'PCI error \(channel state')"
t_check "correctable: no dmatest failure" test -z "$(secs_of 'dmatest: .*result #')"
t_check "correctable: busy process still running" kill -0 "$p1"
t_check "correctable: idle process still running" kill -0 "$p2"
t_check "correctable: copy still running" kill -0 "$pc"
at_least completions "$done0" 10

echo "== uncorrectable, non-fatal error"
echo "dbnic-e2e: mark non-fatal" > /dev/kmsg
nf=$(aer_total aer_dev_nonfatal)
inject POISON_TLP 'Uncorrectable \(Non-Fatal\)'
revoked_users "$p1" "$p2" "$pc"
recovered non-fatal aer_dev_nonfatal "$nf"
dmatest_stop
works_again non-fatal

echo "== uncorrectable, fatal error"
start_users --time 120 --size 64K --depth 8
dmatest_start "$pci"
sleep 1
echo "dbnic-e2e: mark fatal" > /dev/kmsg
fa=$(cat "$rp/aer_rootport_total_err_fatal")
inject MALF_TLP 'Uncorrectable \(Fatal\)'
revoked_users "$p1" "$p2" "$pc"
recovered fatal "$rp/aer_rootport_total_err_fatal" "$fa"
dmatest_stop
works_again fatal

dmatest_clean "dmatest after the errors: no failures" "$pci"

echo "== unload"
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
dmesg | grep -i -E 'dbnic|AER' | tail -n 30
t_dmesg_clean "dmesg clean"
t_done

# run-guest: --dbnic-opts msix-vectors=4
# End-to-end test: what an unprivileged process can make the device and
# the kernel do (issue 6, section 2).  Runs in the guest (busybox sh) with
# the dbnic modules, lib.sh, user-lib.sh and dbnic-test-tool in $DBNIC_DIR (/dbnic), on
# a device with 4 MSI-X vectors, so that the driver has no vector to
# spare for user CQs (v1.1 drivers then put them on the kernel queue's).
#  1. A process loops DB_CQ with ARM over one unconsumed CQE: no MSI may
#     reach the host (user CQs have no vector).
#  2. A process overflows a CQ of 2 entries with a send queue of 4096
#     (DB_SQ to 4096, then 8192): the CQ enters its error state once, the
#     driver tells the process, and vector 0 is not stormed.
# Interrupts are counted from /proc/interrupts (every dbnic line).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"

# irqs: interrupts taken on every dbnic vector, all CPUs.
irqs() {
	awk '/dbnic/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i }
	     END { print s + 0 }' /proc/interrupts
}

# bounded NAME BEFORE MAX: at most MAX interrupts since BEFORE.
bounded() {
	d=$(( $(irqs) - $2 ))
	if [ "$d" -le "$3" ]; then
		t_ok "$1: $d interrupts (<= $3)"
	else
		t_fail "$1: at most $3 interrupts" "$d"
	fi
}

load_dbnic
grep dbnic /proc/interrupts
cat "$dbg/users"
t_check "user CQs get no interrupt vector" \
	test "$(users_field cq_vector)" = 65535

echo "== DB_CQ with ARM over an unconsumed CQE, 100000 times"
b=$(irqs)
"$TEST_TOOL" storm --arm --count 100000 > /tmp/s.out 2>&1
rc=$?
verdicts /tmp/s.out
t_check "storm --arm exit status" test $rc -eq 0
# Creating and destroying the context and queue: a few admin interrupts.
bounded "arm loop" "$b" 50

echo "== CQ overflow: sq log 12, cq log 1, DB_SQ to 4096 then 8192"
b=$(irqs)
b_ovf=$(counter cq_overflow)
b_ev=$(counter events)
"$TEST_TOOL" storm --cq-overflow > /tmp/o.out 2>&1
rc=$?
verdicts /tmp/o.out
t_check "storm --cq-overflow exit status" test $rc -eq 0
bounded "CQ overflow" "$b" 50
t_check "one CQ entered the error state" test "$(delta cq_overflow "$b_ovf")" -eq 1
t_check "one event for it" test "$(delta events "$b_ev")" -eq 1
t_check "the driver logged it once" \
	test "$(dmesg | grep -c 'in error (overflow): its queue is stopped')" -eq 1

echo "== the kernel's queue still works"
if [ -e "$dbg/selftest" ]; then
	t_report "selftest" "$dbg/selftest"
fi

echo "== counters"
grep dbnic /proc/interrupts
cat "$dbg/counters"
t_check "no context left" test "$(users_field contexts)" = 0
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_dmesg_clean "dmesg clean"
t_done

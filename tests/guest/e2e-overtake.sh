# End-to-end test of goal 1 of issue 7: the priority path overtakes queued
# ring work while the engine is busy (datasheet sections 3.2, 5 and 8.4).
# A queue announces 16 ring COPYs of 1 MiB with one DB_SQ, then writes a
# complete priority NOP for the next index, right after the doorbell and
# once the first ring CQE is there, 32 runs or more each; the NOP must
# complete before every COPY that had not started when its last store was
# issued (see dbnic-loadtest.c for how that is known).  Order, not time.
# Runs in the guest (busybox sh) with the dbnic modules, lib.sh, user-lib.sh and
# dbnic-loadtest in $DBNIC_DIR (/dbnic).  It repeats runs that prove
# nothing (up to 256 a case), which on a debug kernel and a busy host
# took 150 s: hence a longer timeout than the default 300 s.
# run-guest: --timeout 900
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"

load_dbnic
before_fb=$(counter prio_fallback)

echo "== overtaking under load"
"$DIR/dbnic-loadtest" order -r 32 > /tmp/o.out 2>&1
rc=$?
verdicts /tmp/o.out
if [ $rc -eq 0 ]; then t_ok "dbnic-loadtest order"; else t_fail "dbnic-loadtest order" "exit $rc"; fi

echo "== afterwards"
cat "$dbg/counters"
echo "prio_fallback moved by $(delta prio_fallback "$before_fb")"
for c in db_not_owner access_fault cq_overflow; do
	v=$(counter $c)
	if [ "$v" = 0 ]; then t_ok "counter $c is 0"; else t_fail "counter $c is 0" "value '$v'"; fi
done
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_dmesg_clean "dmesg clean"
t_done

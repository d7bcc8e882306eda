# Smoke test of the driver's debugfs "bench" (not a timed test: no
# number is judged): with small parameters every row of every table is
# there and carries numbers, no descriptor failed, the bandwidth copies
# arrived intact, bad parameters are refused, the kernel queue still
# works afterwards (it was in polling mode during the run) and the kernel
# log is clean.  Runs in the guest with the dbnic modules and lib.sh in /dbnic.
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"

if ! dbnic_load; then
	t_fail "load dbnic" "insmod failed"
	t_done
	exit 1
fi
dbg=
for d in /sys/kernel/debug/dbnic/0000:*; do
	[ -d "$d" ] && { dbg=$d; break; }
done
if [ -z "$dbg" ] || [ ! -e "$dbg/bench" ]; then
	t_fail "debugfs bench file" "missing"
	t_done
	exit 1
fi
t_ok "debugfs bench file"

if echo "bogus=1" > "$dbg/bench" 2>/dev/null; then
	t_fail "unknown parameter refused" "write succeeded"
else
	t_ok "unknown parameter refused"
fi
if echo "qd=0" > "$dbg/bench" 2>/dev/null; then
	t_fail "out-of-range parameter refused" "write succeeded"
else
	t_ok "out-of-range parameter refused"
fi
t_check "parameters accepted" sh -c "echo 'iters=200 qd=8 copy=128 bw_mib=1 max_kib=256 dither=16' > $dbg/bench"

out=$(cat "$dbg/bench")
echo "$out"

# rows OP BYTES: the four latency rows (ring/prio x qd 1/8) with numbers.
rows() {
	n=$(echo "$out" | grep -cE "^$1 +$2 (ring|prio) +(1|8) +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$")
	if [ "$n" -eq 4 ]; then
		t_ok "latency rows: $1"
	else
		t_fail "latency rows: $1" "$n of 4"
	fi
}
rows nop 0
rows copy 128

ab=$(echo "$out" | grep -cE '^(nop|copy) +[0-9]+ +[0-9]+ +[0-9]+ +-?[0-9]+ +-?[0-9]+ +-?[0-9]+ +[0-9]+$')
if [ "$ab" -eq 2 ]; then t_ok "paired ring/prio rows"; else t_fail "paired ring/prio rows" "$ab of 2"; fi

# 4 KiB, 16 KiB, 64 KiB, 256 KiB, all with data "ok".
bw=$(echo "$out" | grep -cE '^[0-9]+ KiB +1 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ ok$')
if [ "$bw" -eq 4 ]; then t_ok "bandwidth rows, data intact"; else t_fail "bandwidth rows, data intact" "$bw of 4"; fi

if echo "$out" | grep -qE 'error completions|stalled|post failed|MISMATCH'; then
	t_fail "no failed descriptors" "$(echo "$out" | grep -E 'error completions|stalled|post failed|MISMATCH' | head -n 2 | tr '\n' ' ')"
else
	t_ok "no failed descriptors"
fi

# Interrupt mode is back: the self-test waits for interrupts.
last=$(tail -n 1 "$dbg/selftest")
if [ "$last" = "selftest: PASS" ]; then
	t_ok "selftest after bench"
else
	t_fail "selftest after bench" "$last"
fi
t_check "defaults restored" sh -c "echo defaults > $dbg/bench"
t_check "unload dbnic" dbnic_unload
t_dmesg_clean "dmesg clean"
t_done

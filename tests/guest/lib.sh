# Shell helpers for tests that run inside the guest (busybox sh).
# Each check prints one result line that scripts/test.sh counts:
#   DBNIC-TEST ok <name>
#   DBNIC-TEST not ok <name>: <why>
# t_done prints a summary and exits non-zero if any check failed.

T_FAILED=0
T_PASSED=0

t_ok() {
	T_PASSED=$((T_PASSED + 1))
	echo "DBNIC-TEST ok $1"
}

t_fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "DBNIC-TEST not ok $1: $2"
}

# t_check NAME CMD...: passes when CMD exits 0.
t_check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		t_ok "$name"
	else
		t_fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"
	fi
}

# The kernel log must be free of warnings, bugs and oopses.
t_dmesg_clean() {
	bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|UBSAN|KASAN' || true)
	if [ -z "$bad" ]; then
		t_ok "${1:-dmesg clean}"
	else
		t_fail "${1:-dmesg clean}" "$(echo "$bad" | head -n 3 | tr '\n' ' ')"
		dmesg | tail -n 60
	fi
}

# t_report PREFIX FILE: read a debugfs self-test report (FILE is e.g.
# $dbg/selftest) and turn it into checks: each "case: ok", "case: ok (..)"
# passes, "case: FAIL (..)" fails, "case: skipped (..)" is only shown, any
# other line fails, and the last line must be "<report>: PASS".
t_report() {
	prefix=$1
	name=$(basename "$2")
	out=$(cat "$2")
	echo "$out"
	set -f
	old_ifs=$IFS
	IFS='
'
	for line in $out; do
		case $line in
		"$name: "*) ;;
		*": ok") t_ok "$prefix ${line%: ok}" ;;
		*": ok ("*) t_ok "$prefix ${line%%: ok (*}" ;;
		*": skipped ("*) ;;
		*": FAIL"*) t_fail "$prefix ${line%%: FAIL*}" "${line#*: FAIL }" ;;
		*) t_fail "$prefix" "unexpected line: $line" ;;
		esac
	done
	IFS=$old_ifs
	set +f
	last=$(echo "$out" | tail -n 1)
	if [ "$last" = "$name: PASS" ]; then
		t_ok "$prefix: PASS"
	else
		t_fail "$prefix: PASS" "last line: $last"
	fi
}

t_done() {
	echo "guest: $T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}

# The driver is a core and one module per function (README.md, "Layout"),
# loaded in this order and unloaded in the reverse; dbnic_dma.ko only if
# it was built (the kernel tree has virt-dma), dbnic_test.ko (the
# debugfs selftest and bench files) if present.
DBNIC_MODULES="dbnic_core dbnic_dma dbnic_cdev dbnic_eth dbnic_test"

# dbnic_load [CORE_PARAM=VALUE...]: insmod dbnic_core.ko with these
# parameters, then the function modules and dbnic_test.ko from
# ${DIR:-/dbnic}.  On failure, unloads what it loaded and fails.
# shellcheck disable=SC2120  # the parameters are optional
dbnic_load() {
	for _m in $DBNIC_MODULES; do
		[ "$_m" = dbnic_core ] || [ -f "${DIR:-/dbnic}/$_m.ko" ] || continue
		if [ "$_m" = dbnic_core ]; then
			insmod "${DIR:-/dbnic}/$_m.ko" "$@"
		else
			insmod "${DIR:-/dbnic}/$_m.ko"
		fi || { echo "dbnic_load: insmod $_m.ko failed"; dbnic_unload; return 1; }
	done
}

# dbnic_unload: rmmod every loaded dbnic module, functions before the
# core (dbnic_dma before dbnic_cdev, as the core removes them).  Fails if
# any rmmod fails (a module in use); the others are unloaded anyway.
dbnic_unload() {
	_rc=0
	for _m in dbnic_kunit dbnic_test dbnic_rdma dbnic_eth dbnic_dma dbnic_cdev dbnic_core; do
		grep -q "^$_m " /proc/modules || continue
		rmmod "$_m" || _rc=1
	done
	return $_rc
}

# Runs in the guest (busybox sh): loads the dbnic modules and dbnic_kunit.ko, whose
# suites run at load, and prints their results as one KTAP document for
# the host's "kunit.py parse".  The results come from debugfs
# (CONFIG_KUNIT_DEBUGFS): the console's loglevel hides KUnit's own KTAP.
# dbnic_kunit.ko tests the pure logic of the core and of the functions
# (dbnic_cdev.ko, dbnic_dma.ko, dbnic_eth.ko), so all of them are loaded first.
# Exits non-zero if a module does not load or a suite failed.
DIR=${DBNIC_DIR:-/dbnic}
KUNIT_DIR=/sys/kernel/debug/kunit
. "$DIR/lib.sh"

dbnic_load || { echo "kunit.sh: dbnic_load failed"; exit 1; }
insmod "$DIR/dbnic_kunit.ko" || { echo "kunit.sh: insmod dbnic_kunit.ko failed"; exit 1; }

suites=
for d in "$KUNIT_DIR"/dbnic_*; do
	[ -f "$d/results" ] && suites="$suites $d"
done
if [ -z "$suites" ]; then
	echo "kunit.sh: no dbnic suites in $KUNIT_DIR"
	exit 1
fi

# Each results file is a KTAP document of one suite ("KTAP version 1",
# "1..1", the suite, "ok 1 <suite>"); nest them all under one plan.
n=$(echo "$suites" | wc -w)
echo "KTAP version 1"
echo "1..$n"
i=0
for d in $suites; do
	i=$((i + 1))
	awk -v i="$i" 'NR <= 2 { next }
		/^(not )?ok 1 / { sub(/ok 1 /, "ok " i " ") }
		{ print }' "$d/results"
done

rc=0
cat "$KUNIT_DIR"/dbnic_*/results | grep -q '^ *not ok' && rc=1
rmmod dbnic_kunit || rc=1
dbnic_unload || rc=1
exit $rc

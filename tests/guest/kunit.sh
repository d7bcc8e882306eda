# Runs in the guest (busybox sh): loads the dbnic modules and dbnic_kunit.ko, whose
# suites run at load, and prints their results as one KTAP document for
# the host's "kunit.py parse".  The results come from debugfs
# (CONFIG_KUNIT_DEBUGFS): the console's loglevel hides KUnit's own KTAP.
# dbnic_kunit.ko tests the pure logic of the core and of the functions
# (dbnic_cdev.ko, dbnic_dma.ko, dbnic_eth.ko), so all of them are loaded
# first; dbnic_rdma_kunit.ko drives the RDMA function through the kernel's
# verbs on the running device.
# Exits non-zero if a module does not load or a suite failed.
DIR=${DBNIC_DIR:-/dbnic}
KUNIT_DIR=/sys/kernel/debug/kunit
. "$DIR/lib.sh"

dbnic_load || { echo "kunit.sh: dbnic_load failed"; exit 1; }
insmod "$DIR/dbnic_kunit.ko" || { echo "kunit.sh: insmod dbnic_kunit.ko failed"; exit 1; }

# The RDMA suite (dbnic_rdma_kunit.ko, when the kernel has the RDMA core)
# loops RC traffic through the port: it needs dbnic_rdma.ko and a RoCE v2
# GID, that is an address on the dbnic netdev (192.0.2.1, TEST-NET-1,
# as the IPv4-mapped GID ::ffff:c000:0201).
if [ -f "$DIR/dbnic_rdma_kunit.ko" ]; then
	ifc=
	for d in /sys/class/net/*; do
		case $(readlink "$d/device/driver") in
		*/dbnic_eth.*) ifc=${d##*/} ;;
		esac
	done
	[ -n "$ifc" ] || { echo "kunit.sh: no dbnic netdev"; exit 1; }
	if ! ip link set "$ifc" up || ! ip addr add 192.0.2.1/24 dev "$ifc"; then
		echo "kunit.sh: no address on $ifc"
		exit 1
	fi
	insmod "$DIR/dbnic_rdma.ko" || { echo "kunit.sh: insmod dbnic_rdma.ko failed"; exit 1; }
	# The GID cache fills from a work item once the address is there.
	i=0
	while ! grep -qs ':ffff:c000:0201$' /sys/class/infiniband/dbnic0/ports/1/gids/* &&
		[ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	insmod "$DIR/dbnic_rdma_kunit.ko" ||
		{ echo "kunit.sh: insmod dbnic_rdma_kunit.ko failed"; exit 1; }
fi

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
# A skipped RDMA suite (no device, no GID) would pass unseen: it is a
# failure of this run.
if [ -f "$DIR/dbnic_rdma_kunit.ko" ] &&
   grep -qs '# SKIP' "$KUNIT_DIR/dbnic_rdma/results"; then
	echo "kunit.sh: the dbnic_rdma suite skipped"
	rc=1
fi
grep -q '^dbnic_rdma_kunit ' /proc/modules && { rmmod dbnic_rdma_kunit || rc=1; }
rmmod dbnic_kunit || rc=1
dbnic_unload || rc=1
exit $rc

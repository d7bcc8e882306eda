#!/usr/bin/env bash
# Builds the dbnic kernel modules out of tree: dbnic_core.ko, dbnic_cdev.ko,
# dbnic_dma.ko (when the kernel tree has virt-dma), dbnic_eth.ko,
# dbnic_rdma.ko (when the kernel has the RDMA core), dbnic_test.ko, plus
# dbnic_kunit.ko when the target kernel has CONFIG_KUNIT (see drivers/Kbuild
# and README.md for what each is).  drivers/ and include/ are
# copied (changed files only, so rebuilds stay incremental) into a build
# directory under the cache; the clone never gets build products.
#
#   scripts/build-module.sh              against the test kernel ($KERNEL_BUILD)
#   scripts/build-module.sh --bench      against the benchmark kernel
#                                        (scripts/build-kernel.sh --bench)
#   KDIR=/usr/src/linux-headers-6.12.117+deb12-amd64 scripts/build-module.sh
#   C=1 scripts/build-module.sh          also run sparse on recompiled files
#                                        (C=2: on every file)
#   CHECKPATCH=1 scripts/build-module.sh also run checkpatch --strict
#   scripts/build-module.sh clean        remove this kernel's build (KDIR= or
#                                        --bench as above)
#
# Output: $MODULE_BUILD/*.ko for the test kernel, $MODULE_BENCH_BUILD/*.ko
# for the bench kernel, $MODULE_BUILD/<kernelrelease>/*.ko for any other
# KDIR; objects are in the src/drivers/ directory beside them.
# W=1 is always on; set W= to override.
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --bench ]; then
	KDIR=$KERNEL_BENCH_BUILD
	shift
fi
KDIR=${KDIR:-$KERNEL_BUILD}
[ -f "$KDIR/Makefile" ] || die "no kernel build tree at $KDIR (run scripts/build-kernel.sh, or set KDIR)"
[ -f "$KDIR/include/config/kernel.release" ] ||
	die "$KDIR is not a configured and prepared kernel tree"
release=$(cat "$KDIR/include/config/kernel.release")

# Same release string as the test kernel, so the bench kernel's module has
# its own directory, not $MODULE_BUILD/<release>.
kdir_real=$(cd "$KDIR" && pwd -P)
if [ "$kdir_real" = "$(mkdir -p "$KERNEL_BUILD" && cd "$KERNEL_BUILD" && pwd -P)" ]; then
	out=$MODULE_BUILD
elif [ -d "$KERNEL_BENCH_BUILD" ] && [ "$kdir_real" = "$(cd "$KERNEL_BENCH_BUILD" && pwd -P)" ]; then
	out=$MODULE_BENCH_BUILD
else
	out=$MODULE_BUILD/$release
fi
src=$out/src

if [ "${1:-}" = clean ]; then
	# Only this kernel's build: other kernels' live under $MODULE_BUILD too.
	log "removing $src and $out/*.ko"
	rm -rf "$src"
	rm -f "$out"/dbnic*.ko
	exit 0
fi

# Copy $1/* to $2/, rewriting only files whose content changed (a fresh
# mtime makes make rebuild exactly those), and drop sources that are gone;
# subdirectories likewise.
sync_dir() {
	local from=$1 to=$2 f name
	mkdir -p "$to"
	for f in "$from"/*; do
		name=${f##*/}
		if [ -d "$f" ]; then
			sync_dir "$f" "$to/$name"
		elif [ -f "$f" ]; then
			cmp -s "$f" "$to/$name" || cp "$f" "$to/$name"
		fi
	done
	for f in "$to"/*.[ch] "$to"/Kbuild "$to"/Makefile "$to"/Kconfig; do
		[ -f "$f" ] || continue
		name=${f##*/}
		[ -f "$from/$name" ] || rm -f "$f" "${f%.[ch]}.o"
	done
}
sync_dir "$DBNIC_TOP/drivers" "$src/drivers"
sync_dir "$DBNIC_TOP/include" "$src/include"

kunit=no
grep -qx 'CONFIG_KUNIT=[ym]' "$KDIR/include/config/auto.conf" 2>/dev/null && kunit=yes

log "building dbnic for $release in $src/drivers (KUnit tests: $kunit)"
make -C "$KDIR" M="$src/drivers" -j"$JOBS" W="${W-1}" ${C:+C=$C} modules

# The modules also land at the top of the output directory, where the
# guest scripts (scripts/test.sh, scripts/demo.sh) pick them up
# (tests/guest/lib.sh: dbnic_load).  dbnic_dma.ko only where the tree has
# virt-dma, dbnic_rdma.ko only where the kernel has CONFIG_INFINIBAND
# (drivers/Kbuild); every other one must be there.
rm -f "$out"/dbnic*.ko
for ko in dbnic_core.ko dbnic_cdev.ko dbnic_dma.ko dbnic_eth.ko dbnic_rdma.ko dbnic_test.ko \
	  $([ $kunit = yes ] && echo dbnic_kunit.ko dbnic_rdma_kunit.ko); do
	if [ ! -f "$src/drivers/$ko" ]; then
		case $ko in
		dbnic_dma.ko) log "no $ko (no virt-dma in $KDIR's source tree)" ;;
		dbnic_rdma.ko|dbnic_rdma_kunit.ko) log "no $ko (no CONFIG_INFINIBAND in $KDIR)" ;;
		*) die "$ko was not built" ;;
		esac
		continue
	fi
	cp "$src/drivers/$ko" "$out/$ko"
	log "built $out/$ko"
done

if [ "${CHECKPATCH:-0}" = 1 ]; then
	checkpatch=$KERNEL_SRC/scripts/checkpatch.pl
	[ -x "$checkpatch" ] || checkpatch=$KDIR/scripts/checkpatch.pl
	[ -x "$checkpatch" ] || die "no checkpatch.pl in $KERNEL_SRC or $KDIR"
	log "checkpatch --strict"
	"$checkpatch" --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
		-f "$DBNIC_TOP"/drivers/*/*.[ch] || die "checkpatch found problems"
fi

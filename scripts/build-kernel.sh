#!/usr/bin/env bash
# Builds the guest test kernel: Debian's linux-source-6.12, tinyconfig plus
# scripts/guest-kernel.config, into $KERNEL_BUILD (bzImage and modules).
# The top-level Kconfig is grafted into the tree (drivers/dma/dbnic/Kconfig)
# so that the dbnic options can select the auxiliary bus and the
# dmaengine core they need.
# The build tree stays usable for out-of-tree modules:
#   make -C "$KERNEL_BUILD" M=/path/to/module
#
#   scripts/build-kernel.sh            build (no-op when nothing changed)
#   FORCE=1 scripts/build-kernel.sh    run make even if the stamp matches
#   scripts/build-kernel.sh --bench    build the benchmark kernel instead,
#                                      into $KERNEL_BENCH_BUILD: the same
#                                      fragment with its debug block (KASAN,
#                                      lockdep, kmemleak, ...) switched off
#                                      (kernel_bench_fragment in lib.sh)
#   scripts/build-kernel.sh [--bench] --print-fragment
#                                      print the fragment applied, build nothing
#
# Steps rerun only when their inputs change: the source tree when the
# package version changes, the configuration (and the build) when the
# fragment, the top-level Kconfig or the version changes.  A requested =y/=m option that does not
# reach the final .config is an error, not a warning.
. "$(dirname "$0")/lib.sh"

FRAGMENT=$DBNIC_TOP/scripts/guest-kernel.config
flavour=test print=0
for arg in "$@"; do
	case "$arg" in
	--bench) flavour=bench ;;
	--print-fragment) print=1 ;;
	*) die "unknown argument: $arg (see the comment at the top of $0)" ;;
	esac
done
KLOG=$DBNIC_CACHE/kernel-build.log
if [ $flavour = bench ]; then
	# Everything below works on the bench tree; the fragment is derived
	# afresh on every run, so the two kernels differ only by the block.
	KERNEL_BUILD=$KERNEL_BENCH_BUILD
	KERNEL_IMAGE=$KERNEL_BENCH_IMAGE
	KLOG=$DBNIC_CACHE/kernel-bench-build.log
	mkdir -p "$KERNEL_BUILD"
	kernel_bench_fragment "$FRAGMENT" > "$KERNEL_BUILD/bench-kernel.config.new"
	mv "$KERNEL_BUILD/bench-kernel.config.new" "$KERNEL_BUILD/bench-kernel.config"
	FRAGMENT=$KERNEL_BUILD/bench-kernel.config
fi
if [ $print = 1 ]; then
	cat "$FRAGMENT"
	exit 0
fi
TARBALL=/usr/src/$LINUX_SOURCE_PKG.tar.xz
# Objects in a whole build of this configuration, for the progress line
# until a build of this tree has counted them itself.
KERNEL_OBJS_ESTIMATE=2500
KMAKE=(make -C "$KERNEL_SRC" O="$KERNEL_BUILD" -j"$JOBS"
	CC="ccache gcc" HOSTCC="ccache gcc")

# Progress of a kernel build: objects compiled so far against the count
# the last complete build of this tree compiled (an estimate before then).
OBJCOUNT=$KERNEL_BUILD/.dbnic-objcount
kernel_progress() {
	local built total
	built=$(grep -cE '^  (CC|AS)( \[M\])? ' "$1" || true)
	total=$(cat "$OBJCOUNT" 2>/dev/null || echo "$KERNEL_OBJS_ESTIMATE")
	[ "$built" -le "$total" ] || total=$built
	printf '%s/%s objects (%s%%)' "$built" "$total" $((100 * built / total))
}

# One build at a time: the test suite and a developer may both call this,
# and two makes in one tree corrupt it.
mkdir -p "$(dirname "$KERNEL_BUILD")"
exec 9> "$KERNEL_BUILD.lock"
flock 9

# 1. The source package (bookworm-security carries 6.12 for bookworm).
ver=$(pkg_version "$LINUX_SOURCE_PKG")
if [ -z "$ver" ] || [ ! -f "$TARBALL" ]; then
	log "installing $LINUX_SOURCE_PKG"
	"$DBNIC_TOP/scripts/apt.sh" update-if-old
	"$DBNIC_TOP/scripts/apt.sh" install "$LINUX_SOURCE_PKG"
	ver=$(pkg_version "$LINUX_SOURCE_PKG")
	[ -n "$ver" ] || die "$LINUX_SOURCE_PKG did not install"
fi

# 2. The source tree, keyed on the package version.  A new version also
# wipes the build tree: tar keeps old mtimes, so make could miss changes.
if ! stamp_ok "$KERNEL_SRC/.dbnic-src" "$ver"; then
	log "extracting $LINUX_SOURCE_PKG $ver into $KERNEL_SRC"
	rm -rf "$KERNEL_SRC" "$KERNEL_SRC.new" "$KERNEL_BUILD"
	mkdir -p "$KERNEL_SRC.new"
	tar -xJf "$TARBALL" -C "$KERNEL_SRC.new" --strip-components=1
	stamp_set "$KERNEL_SRC.new/.dbnic-src" "$ver"
	mv "$KERNEL_SRC.new" "$KERNEL_SRC"
fi

# 3. Graft the top-level Kconfig into the tree, so that the kernel's own
# configuration has the CONFIG_DBNIC* options and they select what the
# modules need (AUXILIARY_BUS, DMA_ENGINE and DMA_VIRTUAL_CHANNELS, hidden
# symbols a fragment cannot set).  Only the Kconfig: the tree does not
# build the driver; scripts/build-module.sh builds the modules, out of
# tree, against this tree.
KCONFIG_SRC=$DBNIC_TOP/Kconfig
graft=$KERNEL_SRC/drivers/dma/dbnic
mkdir -p "$graft"
cmp -s "$KCONFIG_SRC" "$graft/Kconfig" || cp "$KCONFIG_SRC" "$graft/Kconfig"
grep -qx 'source "drivers/dma/dbnic/Kconfig"' "$KERNEL_SRC/drivers/dma/Kconfig" ||
	printf '\nsource "drivers/dma/dbnic/Kconfig"\n' >> "$KERNEL_SRC/drivers/dma/Kconfig"

# 4. Configuration, keyed on version, fragment and the grafted Kconfig.
key="$ver $(cat "$FRAGMENT" "$KCONFIG_SRC" | sha256sum | cut -d' ' -f1)"

# Every CONFIG_X=y|m|value line of the fragment must appear verbatim in
# the final .config; "is not set" lines must not come out enabled.
check_config() {
	local cfg=$KERNEL_BUILD/.config bad=() line sym
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$cfg" ||
				bad+=("$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo absent))")
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			grep -qE "^$sym=" "$cfg" && bad+=("$line (got: $(grep -E "^$sym=" "$cfg"))")
			;;
		esac
	done < "$FRAGMENT"
	if [ ${#bad[@]} -gt 0 ]; then
		printf '[dbnic] error: fragment option not in the final .config: %s\n' "${bad[@]}" >&2
		die "fix scripts/guest-kernel.config (missing dependency or selector?; $flavour kernel)"
	fi
}

if ! stamp_ok "$KERNEL_BUILD/.dbnic-config" "$key" || [ ! -f "$KERNEL_BUILD/.config" ]; then
	log "configuring $flavour kernel: tinyconfig + $(basename "$FRAGMENT")"
	mkdir -p "$KERNEL_BUILD"
	rm -f "$KERNEL_BUILD/.dbnic-config" "$KERNEL_BUILD/.dbnic-build"
	# ARCH=x86_64 so tinyconfig starts 64-bit (plain ARCH=x86 defaults to
	# i386); later makes read 64BIT from .config.
	"${KMAKE[@]}" -s ARCH=x86_64 tinyconfig
	"$KERNEL_SRC/scripts/kconfig/merge_config.sh" -m -O "$KERNEL_BUILD" \
		"$KERNEL_BUILD/.config" "$FRAGMENT" > "$KERNEL_BUILD/merge_config.log"
	"${KMAKE[@]}" -s olddefconfig
	check_config
	stamp_set "$KERNEL_BUILD/.dbnic-config" "$key"
fi

# 5. Build.  The stamp skips even make's tree walk on a warm rerun.
if [ "${FORCE:-0}" = 1 ] || ! stamp_ok "$KERNEL_BUILD/.dbnic-build" "$key" ||
   [ ! -f "$KERNEL_IMAGE" ] || [ ! -f "$KERNEL_BUILD/Module.symvers" ]; then
	klog=$KLOG
	log "building $flavour kernel $ver (bzImage modules, -j$JOBS, ccache, log: $klog)"
	start=$SECONDS
	if ! run_logged "$klog" "building kernel" kernel_progress \
		"${KMAKE[@]}" bzImage modules; then
		grep -E 'error|Error' "$klog" | tail -n 40 >&2 || true
		die "kernel build failed (log: $klog)"
	fi
	grep -A4 'warning:' "$klog" >&2 || true
	# Only a build from scratch tells how many objects a whole build has.
	n=$(grep -cE '^  (CC|AS)( \[M\])? ' "$klog" || true)
	[ -f "$OBJCOUNT" ] || echo "$n" > "$OBJCOUNT"
	stamp_set "$KERNEL_BUILD/.dbnic-build" "$key"
	log "kernel built in $((SECONDS - start)) s"
fi
log "$flavour kernel $(cat "$KERNEL_BUILD/include/config/kernel.release"): $KERNEL_IMAGE"

#!/usr/bin/env bash
# Builds qemu-system-x86_64 with the dbnic device grafted in.
#   1. fetch-qemu.sh puts Debian's QEMU source in $QEMU_SRC;
#   2. qemu-device/* and include/dbnic_hw.h are copied to hw/misc/dbnic/
#      and QEMU's build files are told about that directory (once);
#      tests/qtest/dbnic-test.c joins QEMU's x86_64 qtests the same way;
#   3. configure runs once per (version, flags); ninja builds the binary
#      and the qtest.
# A warm rerun only copies changed files and lets ninja do the rest.
#
#   scripts/build-qemu.sh          qemu-system-x86_64 in $QEMU_BUILD
#   scripts/build-qemu.sh --fuzz   qemu-fuzz-x86_64 (libFuzzer, ASan, UBSan,
#                                  clang) in $QEMU_BUILD-fuzz, for QEMU's
#                                  generic-fuzz target (scripts/fuzz-qemu.sh)
#   scripts/build-qemu.sh --asan   qemu-system-x86_64 and the dbnic qtest
#                                  with ASan (LeakSanitizer) and UBSan in
#                                  $QEMU_BUILD-asan, for make check-qemu-asan
. "$(dirname "$0")/lib.sh"

fuzz=0 asan=0
case ${1:-} in
'') ;;
--fuzz) fuzz=1 ;;
--asan) asan=1 ;;
*) die "usage: $0 [--fuzz|--asan]" ;;
esac

# Overridable so the graft can be tried with a stand-in device.
DEVICE_DIR=${DBNIC_QEMU_DEVICE_DIR:-$DBNIC_TOP/qemu-device}
HW_H=${DBNIC_HW_H:-$DBNIC_TOP/include/dbnic_hw.h}
QTEST=$DBNIC_TOP/tests/qtest/dbnic-test.c

# One build at a time: two runs would fight over the same tree.
exec 9>"$DBNIC_CACHE/qemu.lock"
flock 9

"$DBNIC_TOP/scripts/fetch-qemu.sh"

# --- graft ----------------------------------------------------------------
[ -f "$DEVICE_DIR/meson.build" ] || die "no device sources in $DEVICE_DIR"
[ -f "$HW_H" ] || die "missing $HW_H"
dest=$QEMU_SRC/hw/misc/dbnic
mkdir -p "$dest"
# Copies, not symlinks: the cache outlives the clone.  Copy only what
# changed, so ninja sees old timestamps on the rest.
want=(trace.h)
for f in "$DEVICE_DIR"/* "$HW_H"; do
	[ -f "$f" ] || continue
	b=${f##*/}
	want+=("$b")
	cmp -s "$f" "$dest/$b" || { cp "$f" "$dest/$b"; log "graft: $b"; }
done
for f in "$dest"/*; do
	[[ " ${want[*]} " == *" ${f##*/} "* ]] || { rm -f "$f"; log "graft: removed ${f##*/}"; }
done
# QEMU's convention: each trace-events dir has a trace.h naming its group.
if [ ! -f "$DEVICE_DIR/trace.h" ]; then
	th='#include "trace/trace-hw_misc_dbnic.h"'
	[ "$(cat "$dest/trace.h" 2>/dev/null)" = "$th" ] ||
		printf '%s\n' "$th" > "$dest/trace.h"
fi

# Hook the directory into QEMU's build, each edit once.
grep -qx "subdir('dbnic')" "$QEMU_SRC/hw/misc/meson.build" ||
	printf "\nsubdir('dbnic')\n" >> "$QEMU_SRC/hw/misc/meson.build"
grep -qx 'source dbnic/Kconfig' "$QEMU_SRC/hw/misc/Kconfig" ||
	printf '\nsource dbnic/Kconfig\n' >> "$QEMU_SRC/hw/misc/Kconfig"
if ! grep -q "^ *'hw/misc/dbnic',$" "$QEMU_SRC/meson.build"; then
	sed -i "s|^\( *\)'hw/misc/macio',$|&\n\1'hw/misc/dbnic',|" "$QEMU_SRC/meson.build"
	grep -q "^ *'hw/misc/dbnic',$" "$QEMU_SRC/meson.build" ||
		die "could not add hw/misc/dbnic to trace_events_subdirs"
fi

# The glue's qtest: a file of QEMU's tests/qtest, in the x86_64 list when
# the device is built.  It includes hw/misc/dbnic/dbnic_hw.h from above.
[ -f "$QTEST" ] || die "missing $QTEST"
cmp -s "$QTEST" "$QEMU_SRC/tests/qtest/dbnic-test.c" ||
	{ cp "$QTEST" "$QEMU_SRC/tests/qtest/dbnic-test.c"; log "graft: tests/qtest/dbnic-test.c"; }
qline="qtests_x86_64 += config_all_devices.has_key('CONFIG_DBNIC') ? ['dbnic-test'] : []"
if ! grep -qxF "$qline" "$QEMU_SRC/tests/qtest/meson.build"; then
	sed -i "s|^qtests_x86_64 = qtests_i386\$|&\n$qline|" "$QEMU_SRC/tests/qtest/meson.build"
	grep -qxF "$qline" "$QEMU_SRC/tests/qtest/meson.build" ||
		die "could not add dbnic-test to QEMU's qtests"
fi

# --- configure ------------------------------------------------------------
# configure hard-codes the compiler in its meson cross file, so meson does
# not add ccache by itself; name it in --cc.
cc=cc
command -v ccache >/dev/null && cc="ccache cc"
FLAGS=(
	--cc="$cc"
	--target-list=x86_64-softmmu
	--disable-docs
	--without-default-features
	--enable-slirp
	--enable-fdt=system
	# --without-default-features turns KVM off too; keep it for DBNIC_ACCEL=kvm.
	--enable-kvm
	--disable-install-blobs
	# Debian's python; the one on PATH may be a pyenv without our modules.
	--python=/usr/bin/python3
)
TARGETS=(qemu-system-x86_64 tests/qtest/dbnic-test)
if [ $fuzz = 1 ]; then
	# QEMU's fuzzers need clang's libFuzzer (libclang-rt-14-dev).
	ccc=clang cxx=clang++
	command -v ccache >/dev/null && ccc="ccache clang" cxx="ccache clang++"
	ff=("--cc=$ccc" "--cxx=$cxx")
	for f in "${FLAGS[@]}"; do
		case $f in --cc=*|--enable-kvm) ;; *) ff+=("$f") ;; esac
	done
	FLAGS=("${ff[@]}" --enable-fuzzing --enable-asan --enable-ubsan)
	QEMU_BUILD=$QEMU_BUILD-fuzz
	QEMU_BIN=$QEMU_BUILD/qemu-fuzz-x86_64
	TARGETS=(qemu-fuzz-x86_64)
fi
if [ $asan = 1 ]; then
	# Too slow for the test command; a leak in unrealize shows here.
	FLAGS+=(--enable-asan --enable-ubsan)
	QEMU_BUILD=$QEMU_BUILD-asan
	QEMU_BIN=$QEMU_BUILD/qemu-system-x86_64
fi
key="$(cat "$DBNIC_CACHE/src/qemu.version") ${FLAGS[*]}"
STAMP=$QEMU_BUILD/.dbnic-configured
if ! stamp_ok "$STAMP" "$key" || [ ! -f "$QEMU_BUILD/build.ninja" ]; then
	# A fresh directory is simpler than reconfiguring; ccache keeps it cheap.
	log "configuring qemu in $QEMU_BUILD"
	rm -rf "$QEMU_BUILD"
	mkdir -p "$QEMU_BUILD"
	(cd "$QEMU_BUILD" && "$QEMU_SRC/configure" "${FLAGS[@]}") > "$QEMU_BUILD.configure.log" 2>&1 ||
		{ tail -n 30 "$QEMU_BUILD.configure.log" >&2; die "qemu configure failed (log: $QEMU_BUILD.configure.log)"; }
	stamp_set "$STAMP" "$key"
fi

# --- build ----------------------------------------------------------------
# The output goes to a log (ninja may rerun meson, which is chatty);
# warnings are shown, and the tail of the log when the build fails.
ninja_build qemu "$QEMU_BUILD.build.log" "$QEMU_BUILD" "${TARGETS[@]}"
[ -x "$QEMU_BIN" ] || die "no $QEMU_BIN after the build"
if [ $fuzz = 0 ]; then
	[ -x "$QEMU_BUILD/tests/qtest/dbnic-test" ] ||
		die "no $QEMU_BUILD/tests/qtest/dbnic-test after the build"
	"$QEMU_BIN" -device help | grep -q '"dbnic' || die "$QEMU_BIN has no dbnic device"
fi
log "qemu: $QEMU_BIN"

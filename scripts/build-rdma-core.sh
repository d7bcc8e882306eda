#!/usr/bin/env bash
# Builds the guest's RDMA user space: rdma-core $RDMA_CORE_VERSION
# (versions.env) with the dbnic verbs provider grafted in, and Debian
# bookworm's RDMA tools, for scripts/build-initramfs.sh to pack.
#   1. rdma-core's upstream tarball: `apt-get source --download-only
#      --tar-only` through scripts/apt.sh (the trixie deb-src entry), into
#      $RDMA_CORE_SRC; a stamp records what was extracted, so a rerun does
#      not touch apt at all.
#   2. The graft, when user/rdma-core/providers/dbnic/ exists: that
#      directory becomes providers/dbnic/ with include/dbnic_hw.h beside
#      its sources, include/dbnic_abi.h becomes kernel-headers/rdma/
#      dbnic-abi.h, and two build files learn about them (each edit once,
#      checked).  A tree grafted before the provider existed (or after it
#      went) is re-extracted, so it never holds a stale one.
#   3. cmake (once per version and flags) + ninja build only what the
#      guest needs: libibverbs, librdmacm, libibumad, the rxe, mlx5, efa
#      (and dbnic) providers.  Debian's perftest links libmlx5, libefa and
#      libibumad, so those are built from the same tree.
#   4. Those directories' install rules run with DESTDIR into a fresh
#      $RDMA_CORE_STAGE (stripped), which replaces the old one whole.
#   5. Debian bookworm's perftest, ibverbs-utils and rdmacm-utils binaries
#      (and libpci3, which perftest links): `apt-get download` and
#      `dpkg-deb -x` into $RDMA_TOOLS_ROOT, not installed on the host (they
#      would pull the host's libibverbs 44 in for nothing).  They run over
#      the staged 56.1 libraries (the libraries' ABI is versioned symbols;
#      build-initramfs.sh's ldd check refuses a missing version).
#   6. Our own test programs, tests/rdma/*.c, built against the stage
#      into $RDMA_TESTS_BUILD (scripts/test.sh passes them to the guests).
# A warm rerun copies what changed and lets ninja do the rest: seconds.
#
#   scripts/build-rdma-core.sh
#
# Environment: DBNIC_RDMA_PROVIDER_DIR (default user/rdma-core/providers/
# dbnic) and DBNIC_ABI_H (default include/dbnic_abi.h) name the provider
# to graft, so the graft can be tried with a stand-in.
. "$(dirname "$0")/lib.sh"

PROVIDER_DIR=${DBNIC_RDMA_PROVIDER_DIR:-$DBNIC_TOP/user/rdma-core/providers/dbnic}
HW_H=$DBNIC_TOP/include/dbnic_hw.h
ABI_H=${DBNIC_ABI_H:-$DBNIC_TOP/include/dbnic_abi.h}
UPSTREAM=${RDMA_CORE_VERSION%-*}
DL=$DBNIC_CACHE/src/dl
SRC_STAMP=$DBNIC_CACHE/src/rdma-core.version
# The tools and libpci3 (a dependency of perftest that the host may lack).
TOOL_PKGS=(perftest ibverbs-utils rdmacm-utils libpci3)

# One build at a time: two runs would fight over the same trees.
mkdir -p "$DBNIC_CACHE/src" "$DBNIC_CACHE/build"
exec 9>"$DBNIC_CACHE/rdma-core.lock"
flock 9

graft=0
if [ -d "$PROVIDER_DIR" ]; then
	graft=1
	[ -f "$PROVIDER_DIR/CMakeLists.txt" ] || die "no CMakeLists.txt in $PROVIDER_DIR"
	[ -f "$ABI_H" ] || die "missing $ABI_H (the provider's kernel ABI)"
	[ -f "$HW_H" ] || die "missing $HW_H"
fi

# --- 1. source ------------------------------------------------------------
src_key="$RDMA_CORE_VERSION graft=$graft"
if stamp_ok "$SRC_STAMP" "$src_key" && [ -d "$RDMA_CORE_SRC" ]; then
	log "rdma-core source: $RDMA_CORE_VERSION in $RDMA_CORE_SRC"
else
	mkdir -p "$DL"
	tarball=$DL/rdma-core_$UPSTREAM.orig.tar.gz
	if [ ! -f "$tarball" ]; then
		"$DBNIC_TOP/scripts/apt.sh" update-if-old
		log "downloading rdma-core=$RDMA_CORE_VERSION source (upstream tarball)"
		# apt checks the tarball against the signed Sources index.
		(cd "$DL" && "$DBNIC_TOP/scripts/apt.sh" source --download-only --tar-only \
			"rdma-core=$RDMA_CORE_VERSION") ||
			die "could not download rdma-core=$RDMA_CORE_VERSION (is the pin in scripts/versions.env still in trixie?)"
		[ -f "$tarball" ] || die "apt-get source gave no $tarball"
	fi
	# Extract next to the old tree and swap, so a failure leaves no half tree.
	log "extracting $tarball into $RDMA_CORE_SRC"
	rm -rf "$RDMA_CORE_SRC.new" "$RDMA_CORE_SRC.old"
	mkdir -p "$RDMA_CORE_SRC.new"
	tar -xzf "$tarball" -C "$RDMA_CORE_SRC.new" --strip-components=1
	[ -f "$RDMA_CORE_SRC.new/CMakeLists.txt" ] || die "$tarball has no CMakeLists.txt at its top"
	rm -f "$SRC_STAMP"
	[ ! -d "$RDMA_CORE_SRC" ] || mv "$RDMA_CORE_SRC" "$RDMA_CORE_SRC.old"
	mv "$RDMA_CORE_SRC.new" "$RDMA_CORE_SRC"
	rm -rf "$RDMA_CORE_SRC.old"
	stamp_set "$SRC_STAMP" "$src_key"
fi

# --- 2. graft -------------------------------------------------------------
# copy_changed SRC DST: copy only when the content differs, so ninja sees
# old timestamps on what did not change.
copy_changed() {
	cmp -s "$1" "$2" || { cp "$1" "$2"; log "graft: ${2#"$RDMA_CORE_SRC"/}"; }
}
if [ $graft = 1 ]; then
	dest=$RDMA_CORE_SRC/providers/dbnic
	mkdir -p "$dest"
	want=(dbnic_hw.h)
	for f in "$PROVIDER_DIR"/*; do
		[ -f "$f" ] || continue
		want+=("${f##*/}")
		copy_changed "$f" "$dest/${f##*/}"
	done
	copy_changed "$HW_H" "$dest/dbnic_hw.h"
	for f in "$dest"/*; do
		[[ " ${want[*]} " == *" ${f##*/} "* ]] || { rm -f "$f"; log "graft: removed ${f##*/}"; }
	done
	# The kernel ABI header, where rdma-core keeps the kernel's own.
	copy_changed "$ABI_H" "$RDMA_CORE_SRC/kernel-headers/rdma/dbnic-abi.h"

	# The provider's directory, after rxe's.
	top=$RDMA_CORE_SRC/CMakeLists.txt
	if ! grep -qx 'add_subdirectory(providers/dbnic)' "$top"; then
		sed -i 's|^add_subdirectory(providers/rxe)$|&\nadd_subdirectory(providers/dbnic)|' "$top"
		[ "$(grep -cx 'add_subdirectory(providers/dbnic)' "$top")" = 1 ] ||
			die "could not add providers/dbnic after providers/rxe in $top"
	fi
	# rdma/dbnic-abi.h in two lists of kernel-headers/CMakeLists.txt:
	# publish_internal_headers(rdma ...) copies it to the build's include
	# directory (as <rdma/dbnic-abi.h>), rdma_kernel_provider_abi(...) makes
	# <kernel-abi/dbnic-abi.h> from it, the _STRUCT_ macros that
	# DECLARE_DRV_CMD needs.  Each list gets it after rdma/cxgb4-abi.h.
	kh=$RDMA_CORE_SRC/kernel-headers/CMakeLists.txt
	if ! grep -qx '  rdma/dbnic-abi.h' "$kh"; then
		sed -i -e '/^publish_internal_headers(rdma$/,/^  )$/s|^  rdma/cxgb4-abi.h$|&\n  rdma/dbnic-abi.h|' \
			-e '/^rdma_kernel_provider_abi($/,/^  )$/s|^  rdma/cxgb4-abi.h$|&\n  rdma/dbnic-abi.h|' "$kh"
		[ "$(grep -cx '  rdma/dbnic-abi.h' "$kh")" = 2 ] ||
			die "could not add rdma/dbnic-abi.h to both header lists of $kh"
	fi
fi

# --- 3. configure and build -------------------------------------------------
FLAGS=(
	-G Ninja
	# Debian's layout, so the staged files land where its tools look.
	-DCMAKE_INSTALL_PREFIX=/usr
	-DCMAKE_INSTALL_SYSCONFDIR=/etc
	-DCMAKE_INSTALL_RUNDIR=/run
	-DCMAKE_INSTALL_LIBDIR=lib/x86_64-linux-gnu
	-DCMAKE_BUILD_TYPE=RelWithDebInfo
	# No cython or pandoc needed; valgrind annotations off, so the build
	# does not depend on whether the host has valgrind's headers.
	-DNO_PYVERBS=1
	-DNO_MAN_PAGES=1
	-DENABLE_VALGRIND=0
)
command -v ccache >/dev/null && FLAGS+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache)
PABI=34	# checked below
TARGETS=(ibverbs rdmacm rspreload ibumad "rxe-rdmav$PABI" mlx5 efa)
# The directories whose install rules stage the guest's files.
INSTALL_DIRS=(kernel-headers libibverbs librdmacm libibumad providers/rxe providers/mlx5 providers/efa)
if [ $graft = 1 ]; then
	TARGETS+=("dbnic-rdmav$PABI")
	INSTALL_DIRS+=(providers/dbnic)
fi

key="$RDMA_CORE_VERSION ${FLAGS[*]}"
STAMP=$RDMA_CORE_BUILD/.dbnic-configured
if ! stamp_ok "$STAMP" "$key" || [ ! -f "$RDMA_CORE_BUILD/build.ninja" ]; then
	# A fresh directory is simpler than reconfiguring; ccache keeps it cheap.
	log "configuring rdma-core in $RDMA_CORE_BUILD"
	rm -rf "$RDMA_CORE_BUILD"
	mkdir -p "$RDMA_CORE_BUILD"
	(cd "$RDMA_CORE_BUILD" && cmake "${FLAGS[@]}" "$RDMA_CORE_SRC") > "$RDMA_CORE_BUILD.configure.log" 2>&1 ||
		{ tail -n 30 "$RDMA_CORE_BUILD.configure.log" >&2; die "rdma-core cmake failed (log: $RDMA_CORE_BUILD.configure.log)"; }
	stamp_set "$STAMP" "$key"
fi
# The provider ABI version (in the plugins' file names) is rdma-core's.
grep -qx "set(IBVERBS_PABI_VERSION \"$PABI\")" "$RDMA_CORE_SRC/CMakeLists.txt" ||
	die "rdma-core's provider ABI is not $PABI: update PABI in $0"

# ninja reruns cmake by itself when a CMakeLists.txt changed (the graft).
ninja_build rdma-core "$RDMA_CORE_BUILD.build.log" "$RDMA_CORE_BUILD" "${TARGETS[@]}"

# --- 4. stage ---------------------------------------------------------------
# Each directory's own install rules (cmake_install.cmake, without its
# subdirectories), into a fresh tree: what the guest gets is exactly what
# this build made, never a leftover.
log "staging into $RDMA_CORE_STAGE"
rm -rf "$RDMA_CORE_STAGE.new"
for d in "${INSTALL_DIRS[@]}"; do
	DESTDIR=$RDMA_CORE_STAGE.new cmake -DCMAKE_INSTALL_LOCAL_ONLY=1 -DCMAKE_INSTALL_DO_STRIP=1 \
		-P "$RDMA_CORE_BUILD/$d/cmake_install.cmake" > "$RDMA_CORE_BUILD.install.log" 2>&1 ||
		{ cat "$RDMA_CORE_BUILD.install.log" >&2; die "installing $d failed"; }
done
libdir=$RDMA_CORE_STAGE.new/usr/lib/x86_64-linux-gnu
need=(libibverbs.so.1 librdmacm.so.1 libibumad.so.3 libmlx5.so.1 libefa.so.1)
for p in rxe mlx5 efa; do need+=("libibverbs/lib$p-rdmav$PABI.so"); done
[ $graft = 0 ] || need+=("libibverbs/libdbnic-rdmav$PABI.so")
for f in "${need[@]}"; do
	[ -e "$libdir/$f" ] || die "staging: no $f in $libdir"
done
rm -rf "$RDMA_CORE_STAGE"
mv "$RDMA_CORE_STAGE.new" "$RDMA_CORE_STAGE"

# --- 5. Debian's tools --------------------------------------------------------
# Whatever bookworm's index has now (the binaries need only the libraries'
# versioned symbols, which build-initramfs.sh checks); the versions got
# are recorded in $RDMA_TOOLS_ROOT.versions and the stamp.
tools_stamp=$RDMA_TOOLS_ROOT.stamp
tools_key="${TOOL_PKGS[*]}"
if stamp_ok "$tools_stamp" "$tools_key" && [ -d "$RDMA_TOOLS_ROOT" ]; then
	log "rdma tools: $(tr '\n' ' ' < "$RDMA_TOOLS_ROOT.versions")in $RDMA_TOOLS_ROOT"
else
	"$DBNIC_TOP/scripts/apt.sh" update-if-old
	debs=$DBNIC_CACHE/src/dl/rdma-tools
	rm -rf "$debs"
	mkdir -p "$debs"
	log "downloading ${TOOL_PKGS[*]} (bookworm .debs, not installed)"
	(cd "$debs" && "$DBNIC_TOP/scripts/apt.sh" download "${TOOL_PKGS[@]}") ||
		die "apt-get download ${TOOL_PKGS[*]} failed"
	rm -rf "$RDMA_TOOLS_ROOT.new"
	mkdir -p "$RDMA_TOOLS_ROOT.new"
	: > "$RDMA_TOOLS_ROOT.versions.new"
	for p in "${TOOL_PKGS[@]}"; do
		deb=$(find "$debs" -maxdepth 1 -name "${p}_*.deb" | head -n1)
		[ -n "$deb" ] || die "apt-get download gave no $p"
		dpkg-deb -x "$deb" "$RDMA_TOOLS_ROOT.new"
		echo "$p=$(dpkg-deb -f "$deb" Version)" >> "$RDMA_TOOLS_ROOT.versions.new"
	done
	rm -rf "$RDMA_TOOLS_ROOT"
	mv "$RDMA_TOOLS_ROOT.new" "$RDMA_TOOLS_ROOT"
	mv "$RDMA_TOOLS_ROOT.versions.new" "$RDMA_TOOLS_ROOT.versions"
	stamp_set "$tools_stamp" "$tools_key"
	log "rdma tools: $(tr '\n' ' ' < "$RDMA_TOOLS_ROOT.versions")in $RDMA_TOOLS_ROOT"
fi

# --- 6. our own RDMA test programs -------------------------------------------
# tests/rdma/*.c against the staged libibverbs and the kernel's uverbs ABI
# as rdma-core 56.1 carries it (kernel-headers/), with dbnic_hw.h and
# dbnic_abi.h from include/; scripts/test.sh passes them into the guests.
mkdir -p "$RDMA_TESTS_BUILD"
for c in "$DBNIC_TOP"/tests/rdma/*.c; do
	[ -f "$c" ] || continue
	bin=$RDMA_TESTS_BUILD/$(basename "$c" .c)
	if [ "$bin" -nt "$c" ] && [ "$bin" -nt "$HW_H" ] && [ "$bin" -nt "$ABI_H" ] &&
		[ "$bin" -nt "$RDMA_CORE_STAGE/usr/lib/x86_64-linux-gnu/libibverbs.so.1" ]; then
		continue
	fi
	log "building ${c#"$DBNIC_TOP"/}"
	${CC:-cc} -O2 -g -std=gnu11 -Wall -Wextra -Werror \
		-I"$DBNIC_TOP/include" -I"$RDMA_CORE_STAGE/usr/include" \
		-I"$RDMA_CORE_SRC/kernel-headers" "$c" \
		-L"$RDMA_CORE_STAGE/usr/lib/x86_64-linux-gnu" -libverbs -o "$bin.new" ||
		die "building $c failed"
	mv "$bin.new" "$bin"
done
log "rdma-core: $RDMA_CORE_STAGE; test programs: $RDMA_TESTS_BUILD"

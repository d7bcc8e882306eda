#!/usr/bin/env bash
# Installs the Debian packages that building and testing dbnic needs.
# Everything here comes from Debian's archive by package name; nothing in
# /etc/apt is changed (see scripts/apt.sh).  The list is printed first so
# the user sees what the set-up installs.
#
#   scripts/setup-host.sh           what building and testing need
#   scripts/setup-host.sh --bench   that, plus what only `make bench`
#                                   needs (BENCH_PKGS: gnuplot-nox, for
#                                   the latency CDFs)
. "$(dirname "$0")/lib.sh"

# Build tools and libraries for QEMU, the kernel, host tests and the guest.
# iperf3, ethtool and iproute2's ip are packed into the guest image
# (build-initramfs.sh):
# Debian's binaries with their libraries.  iperf3 asks by debconf whether
# to start a daemon; scripts/apt.sh installs with
# DEBIAN_FRONTEND=noninteractive, which takes the default (no) unasked.
PKGS=(
	build-essential ccache pkg-config ninja-build dpkg-dev
	python3-venv
	libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev zlib1g-dev
	flex bison bc cpio xz-utils kmod libelf-dev libssl-dev
	sparse shellcheck
	busybox-static
	iperf3 ethtool iproute2
	seabios qemu-system-data ipxe-qemu
	clang libclang-rt-14-dev
	# rdma-core 56.1 (scripts/build-rdma-core.sh, the guest's libibverbs,
	# librdmacm and providers): cmake and ninja-build build it, python3
	# runs its build helpers (above through python3-venv); libnl-3-dev and
	# libnl-route-3-dev give libibverbs netlink device discovery and
	# neighbour resolution, as Debian builds it.  Not needed: cython3
	# (NO_PYVERBS), pandoc (NO_MAN_PAGES), libudev-dev (only rdma-ndd),
	# libsystemd-dev (optional: daemons' socket activation).
	cmake libnl-3-dev libnl-route-3-dev
	# tshark checks the RoCE frames a guest test recorded (test.sh's
	# "# host-check:", scripts/roce-pcap.py tshark-check).  Its
	# wireshark-common asks by debconf whether non-root users may
	# capture; DEBIAN_FRONTEND=noninteractive (scripts/apt.sh) takes the
	# default (no) unasked.
	tshark
)
# From bookworm-backports: QEMU 10.0 needs meson >= 1.5.
BPO_PKGS=(meson python3-pycotap)
# Only for scripts/bench.sh: gnuplot without X11 draws its CDFs (SVG).
BENCH_PKGS=(gnuplot-nox)
case ${1:-} in
'') ;;
--bench) PKGS+=("${BENCH_PKGS[@]}") ;;
*) die "unknown argument '$1': none, or --bench" ;;
esac

missing=()
for p in "${PKGS[@]}"; do
	[ -n "$(pkg_version "$p")" ] || missing+=("$p")
done
meson_ok=0
if command -v meson >/dev/null &&
   dpkg --compare-versions "$(meson --version)" ge 1.5; then
	[ -n "$(pkg_version python3-pycotap)" ] && meson_ok=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $meson_ok -eq 1 ]; then
	log "host packages: all present"
	exit 0
fi

"$DBNIC_TOP/scripts/apt.sh" update-if-old
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	"$DBNIC_TOP/scripts/apt.sh" install "${missing[@]}"
fi
if [ $meson_ok -eq 0 ]; then
	log "installing from bookworm-backports: ${BPO_PKGS[*]}"
	"$DBNIC_TOP/scripts/apt.sh" install -t bookworm-backports "${BPO_PKGS[@]}"
fi

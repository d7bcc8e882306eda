# shellcheck shell=bash
# Common settings for every dbnic script.  Source it; do not run it.
set -euo pipefail

DBNIC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything fetched or built from upstream lives outside the clone.
DBNIC_CACHE=${DBNIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dbnic}
mkdir -p "$DBNIC_CACHE"
# shellcheck source=versions.env
. "$DBNIC_TOP/scripts/versions.env"

log() { printf '[dbnic] %s\n' "$*" >&2; }
die() { printf '[dbnic] error: %s\n' "$*" >&2; exit 1; }

# Run as root directly, or through sudo when we are not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Parallel jobs: all cores (2 on the reference machine).
JOBS=${JOBS:-$(nproc)}

# Stamp files make every step idempotent: a step reruns only when its
# inputs (passed as the key) change.
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" > "$1"; }

# Where builds land (all under the cache, never in the clone).
export CCACHE_DIR=${CCACHE_DIR:-$DBNIC_CACHE/ccache}
QEMU_SRC=$DBNIC_CACHE/src/qemu
QEMU_BUILD=$DBNIC_CACHE/build/qemu
QEMU_BIN=$QEMU_BUILD/qemu-system-x86_64
KERNEL_SRC=$DBNIC_CACHE/src/linux
KERNEL_BUILD=$DBNIC_CACHE/build/linux
KERNEL_IMAGE=$KERNEL_BUILD/arch/x86/boot/bzImage
GUEST_DIR=$DBNIC_CACHE/guest
MODULE_BUILD=$DBNIC_CACHE/build/module

# Our QEMU is built with --disable-install-blobs, so its firmware (BIOS,
# option ROMs) comes from Debian's seabios, qemu-system-data and ipxe-qemu.
# shellcheck disable=SC2034  # used by the scripts that source this file
QEMU_FIRMWARE_ARGS=(-L /usr/share/seabios -L /usr/share/qemu -L /usr/lib/ipxe/qemu)

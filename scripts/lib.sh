# shellcheck shell=bash
# Common settings for every dbnic script.  Source it; do not run it.
#
# -E makes the ERR trap below fire inside functions, command substitutions
# and subshells too, so no failure under -e is silent: each one names the
# command, the file and the line (and the call chain), then the script
# exits with the command's status.
set -Eeuo pipefail

dbnic_on_err() {	# status line file command
	local i
	# Once per shell: with -E a failure inside a function fires again as
	# the function returns.  A subshell reports for itself, then its parent
	# for the command that ran it.
	[ "${DBNIC_ERR_PID:-}" = "$BASHPID" ] && return
	# Only failures that end the script: a command substitution does not
	# inherit -e, so a failure inside one is an answer, not an error,
	# until the command that used it fails in turn.
	[[ $- == *e* ]] || return 0
	DBNIC_ERR_PID=$BASHPID
	printf '[dbnic] error: %s:%s: command failed with status %s: %s\n' \
		"$3" "$2" "$1" "$4" >&2
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		printf '[dbnic]   called from %s() at %s:%s\n' "${FUNCNAME[$i]}" \
			"${BASH_SOURCE[$((i + 1))]}" "${BASH_LINENO[$i]}" >&2
	done
}
trap 'dbnic_on_err "$?" "$LINENO" "${BASH_SOURCE[0]:-$0}" "$BASH_COMMAND"' ERR

DBNIC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything fetched or built from upstream lives outside the clone.
DBNIC_CACHE=${DBNIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dbnic}
mkdir -p "$DBNIC_CACHE"
# shellcheck source=versions.env
. "$DBNIC_TOP/scripts/versions.env"

log() { printf '[dbnic] %s\n' "$*" >&2; }
die() { printf '[dbnic] error: %s\n' "$*" >&2; exit 1; }

# run_logged LOG LABEL PROBE CMD...: runs CMD with its output in LOG and,
# every DBNIC_PROGRESS_SECS (20) seconds while it runs, prints
# "[dbnic] LABEL: <PROBE LOG>, N s" so that a long build shows signs of
# life.  PROBE is a function that reads LOG and prints the progress so far
# (ninja's [n/m], the kernel's objects built).  Returns CMD's status.
run_logged() {
	local logf=$1 label=$2 probe=$3 pid rc=0 t0=$SECONDS
	shift 3
	"$@" > "$logf" 2>&1 &
	pid=$!
	while ! wait_for "$pid" "${DBNIC_PROGRESS_SECS:-20}"; do
		log "$label: $("$probe" "$logf"), $((SECONDS - t0)) s"
	done
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || log "$label: '$*' failed with status $rc (log: $logf)"
	return "$rc"
}

# ninja's own "[n/m]" status, the last one in LOG (a run_logged probe).
ninja_progress() {
	local p
	p=$(grep -o '^\[[0-9]*/[0-9]*\]' "$1" | tail -n1 || true)
	printf '%s' "${p:-[starting]}"
}

# ninja_build WHAT LOG DIR TARGET...: ninja -C DIR -jJOBS TARGET... with
# its output in LOG (ninja may rerun meson or cmake, which are chatty) and
# progress lines meanwhile; shows the warnings, and on failure the tail
# of the log without ninja's status lines, then dies.
ninja_build() {
	local what=$1 blog=$2 dir=$3
	shift 3
	log "building $* (-j$JOBS, log: $blog)"
	if ! run_logged "$blog" "building $what" ninja_progress \
		ninja -C "$dir" -j"$JOBS" "$@"; then
		grep -v '^\[[0-9]*/[0-9]*\] ' "$blog" | tail -n 60 >&2
		die "$what build failed (log: $blog)"
	fi
	grep -A4 'warning:' "$blog" >&2 || true
}

# wait_for PID SECS: true once PID has exited, false after SECS seconds.
wait_for() {
	local i
	for ((i = 0; i < $2 * 4; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.25
	done
	! kill -0 "$1" 2>/dev/null
}

# pkg_version PKG: the installed version of Debian package PKG, or nothing
# when it is not installed.  dpkg-query fails for a package it has never
# seen; here that is an answer, not an error.
pkg_version() {
	{ dpkg-query -W -f '${Status} ${Version}' "$1" 2>/dev/null || true; } |
		sed -n 's/^install ok installed //p'
}

# kernel_reports LOG: the lines of a guest's serial log in which one of the
# kernel's watchdogs reported (KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# debugobjects, DMA-API debug through WARN, kmemleak as printed by the
# guest's /init, UBSAN, oopses, hung tasks).  Any such line fails a run.
KERNEL_REPORT_RE='BUG: |WARNING: |ODEBUG: |UBSAN: |unreferenced object 0x|general protection fault|Kernel panic|Oops: |INFO: task .* blocked for more than'
#
# One report is the kernel's own and is left out, with a note on stderr:
# Linux 6.12's pciehp takes pci_rescan_remove_lock and ctrl->reset_lock in
# both orders, and lockdep says so at the first hot-unplug of any device,
# with no dbnic module loaded too (seen with a bare QMP device_del).  Only
# a lockdep block (header to "</TASK>") that names both locks is left out;
# lockdep turns itself off after it, so a run's later lock bugs go unseen.
kernel_reports() {
	tr -d '\r' < "$1" | awk '
		/WARNING: possible circular locking dependency detected/ {
			blk = 1; buf = ""
		}
		blk {
			buf = buf $0 "\n"
			if ($0 ~ /<\/TASK>/) {
				blk = 0
				if (buf ~ /ctrl->reset_lock/ && buf ~ /pci_rescan_remove_lock/)
					print "[dbnic] note: the kernel'"'"'s pciehp lockdep report (reset_lock vs pci_rescan_remove_lock) left out" > "/dev/stderr"
				else
					printf "%s", buf
			}
			next
		}
		{ print }
		END { if (blk) printf "%s", buf }' |
		{ grep -E "$KERNEL_REPORT_RE" || true; }
}

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
# Paths relative to the cache, and no working directory in the hash, so
# that a second cache (DBNIC_CACHE=... with CCACHE_DIR shared, as a
# parallel worktree uses) gets hits from the first.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$DBNIC_CACHE}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
# shellcheck disable=SC2034  # used by the scripts that source this file
{
QEMU_SRC=$DBNIC_CACHE/src/qemu
QEMU_BUILD=$DBNIC_CACHE/build/qemu
QEMU_BIN=$QEMU_BUILD/qemu-system-x86_64
KERNEL_SRC=$DBNIC_CACHE/src/linux
KERNEL_BUILD=$DBNIC_CACHE/build/linux
KERNEL_IMAGE=$KERNEL_BUILD/arch/x86/boot/bzImage
# The benchmark kernel (scripts/build-kernel.sh --bench): the test kernel's
# configuration without its debug block, and the module built against it
# (scripts/build-module.sh --bench).  Only scripts/bench.sh uses them.
KERNEL_BENCH_BUILD=$DBNIC_CACHE/build/linux-bench
KERNEL_BENCH_IMAGE=$KERNEL_BENCH_BUILD/arch/x86/boot/bzImage
GUEST_DIR=$DBNIC_CACHE/guest
MODULE_BUILD=$DBNIC_CACHE/build/module
MODULE_BENCH_BUILD=$DBNIC_CACHE/build/module-bench
# rdma-core (scripts/build-rdma-core.sh): its source with the dbnic
# provider grafted in, its build, the install staged for the guest image
# (Debian's layout under it), and Debian's RDMA tools unpacked from their
# .debs (usr/bin/ib_send_bw, ...).
RDMA_CORE_SRC=$DBNIC_CACHE/src/rdma-core-${RDMA_CORE_VERSION%-*}
RDMA_CORE_BUILD=$DBNIC_CACHE/build/rdma-core
RDMA_CORE_STAGE=$RDMA_CORE_BUILD/stage
RDMA_TOOLS_ROOT=$DBNIC_CACHE/build/rdma-tools
# tests/rdma/*.c, built by build-rdma-core.sh against the staged libibverbs.
RDMA_TESTS_BUILD=$DBNIC_CACHE/build/rdma-tests

# dbnic_ko_adds DIR: set KO_ADDS to the run-guest.sh options that put
# every dbnic module scripts/build-module.sh left in DIR (dbnic_core.ko,
# the function modules, dbnic_test.ko, dbnic_kunit.ko) at /dbnic/ in the
# guest, where tests/guest/lib.sh's dbnic_load finds them.
dbnic_ko_adds() {
	local ko
	KO_ADDS=()
	[ -f "$1/dbnic_core.ko" ] || die "no $1/dbnic_core.ko (run scripts/build-module.sh)"
	for ko in "$1"/dbnic*.ko; do
		KO_ADDS+=(--add "$ko:/dbnic/${ko##*/}")
	done
}
}

# kernel_bench_fragment FRAGMENT: prints the Kconfig fragment of the
# benchmark kernel, derived from the test kernel's: every CONFIG_X=... line
# between "# >>> debug block begin" and "# <<< debug block end" becomes
# "# CONFIG_X is not set" (so build-kernel.sh checks that it is off, not
# merely unrequested); every other line is copied as it is.  Fails when
# the markers are missing, repeated or unbalanced: without them the bench
# kernel would silently be the debug kernel.
kernel_bench_fragment() {
	awk '
		/^# >>> debug block begin$/ {
			if (inblk || seen) { bad = 1; exit }
			inblk = 1; seen = 1; print; next
		}
		/^# <<< debug block end$/ {
			if (!inblk) { bad = 1; exit }
			inblk = 0; print; next
		}
		inblk && /^CONFIG_[A-Za-z0-9_]+=/ {
			sub(/=.*/, ""); print "# " $0 " is not set"; next
		}
		{ print }
		END { if (bad || inblk || !seen) exit 1 }' "$1" ||
		{ log "$1: no single well-formed debug block"; return 1; }
}

# Our QEMU is built with --disable-install-blobs, so its firmware (BIOS,
# option ROMs) comes from Debian's seabios, qemu-system-data and ipxe-qemu.
# shellcheck disable=SC2034  # used by the scripts that source this file
QEMU_FIRMWARE_ARGS=(-L /usr/share/seabios -L /usr/share/qemu -L /usr/lib/ipxe/qemu)

#!/usr/bin/env bash
# Builds the base guest userspace, $GUEST_DIR/base.cpio.gz: busybox-static
# with its applet links, an /init, the test kernel's modules (so that
# `modprobe dmatest` works), Debian's iperf3 and ethtool, the RDMA user
# space (below), and any extra Debian binaries, with their shared
# libraries.  Per-run files (the driver, test scripts, the command)
# go into a second cpio that scripts/run-guest.sh appends at boot.
#
#   scripts/build-initramfs.sh          build (no-op when nothing changed)
#   GUEST_EXTRA_BINARIES="/usr/sbin/ethtool /usr/bin/iperf3" \
#       scripts/build-initramfs.sh      also pack these host binaries
#
# Run scripts/build-kernel.sh first: the modules come from $KERNEL_BUILD;
# and scripts/build-rdma-core.sh: rdma-core's libraries and providers from
# $RDMA_CORE_STAGE, Debian's RDMA tools from $RDMA_TOOLS_ROOT.
. "$(dirname "$0")/lib.sh"

# Host binaries every image has: the network tests' (tests/guest/
# net-lib.sh, e2e-eth.sh) traffic generator, NIC tool and Debian's ip
# (network namespaces, which busybox's ip lacks), from the iperf3, ethtool
# and iproute2 packages (scripts/setup-host.sh installs them).
# iproute2's rdma (rdma link/resource/statistic) is the host's too, and
# its tc: netem's loss on a virtio-net NIC for rxe (the RDMA bench's loss
# rows), which busybox's tc applet cannot set up (no netem).
GUEST_BINARIES="/usr/bin/iperf3 /usr/sbin/ethtool /usr/bin/ip /usr/bin/rdma /usr/sbin/tc"
# RDMA: the libraries, providers (lib*-rdmav34.so) and their
# /etc/libibverbs.d/*.driver files that scripts/build-rdma-core.sh staged
# (rdma-core 56.1, the dbnic provider grafted in), and Debian bookworm's
# tools from perftest, ibverbs-utils and rdmacm-utils, unpacked there from
# their .debs.  Every library the tools need is resolved against the
# staged 56.1 ones first (RDMA_LIBPATH), never the host's; a symbol
# version the staged libraries lack fails the build (add_closure).
RDMA_TOOLS="ibv_devices ibv_devinfo ibv_rc_pingpong ibv_ud_pingpong ibv_srq_pingpong
	ib_send_lat ib_send_bw ib_write_lat ib_write_bw ib_read_lat ib_read_bw
	rping ucmatose udaddy"
RDMA_LIBDIR=usr/lib/x86_64-linux-gnu
RDMA_LIBPATH=$RDMA_CORE_STAGE/$RDMA_LIBDIR:$RDMA_TOOLS_ROOT/$RDMA_LIBDIR
# Dynamically linked host binaries (or shared objects, e.g. rdma-core
# provider plugins) to copy into the image with their library closure.
# Empty by default; rdma-core tools and perftest go here.
# A tool named like a busybox applet (ip, tc, ping) must be called by its
# full path in the guest: busybox-static's sh prefers its own applets.
GUEST_EXTRA_BINARIES=${GUEST_EXTRA_BINARIES:-}

BASE=$GUEST_DIR/base.cpio.gz
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing: run scripts/setup-host.sh (busybox-static)"
[ -f "$KERNEL_BUILD/Module.symvers" ] || die "no kernel build in $KERNEL_BUILD: run scripts/build-kernel.sh"
if [ ! -d "$RDMA_CORE_STAGE/etc/libibverbs.d" ] || [ ! -f "$RDMA_TOOLS_ROOT.versions" ]; then
	die "no rdma-core in $RDMA_CORE_STAGE or no RDMA tools in $RDMA_TOOLS_ROOT: run scripts/build-rdma-core.sh"
fi
RELEASE=$(cat "$KERNEL_BUILD/include/config/kernel.release")

# guest_path FILE: where a host file goes in the guest: the same path, or
# for a file of the staged rdma-core or the unpacked tools, its path in
# that tree.
guest_path() {
	case $1 in
	"$RDMA_CORE_STAGE"/*) echo "${1#"$RDMA_CORE_STAGE"}" ;;
	"$RDMA_TOOLS_ROOT"/*) echo "${1#"$RDMA_TOOLS_ROOT"}" ;;
	*) echo "$1" ;;
	esac
}

# Copy a file to its guest path (guest_path) under the staging root.
# Symlinked paths are stored as the file they point to, under the name
# asked for.
STAGE=
copy_file() {
	local src=$1 dst
	dst=$STAGE$(guest_path "$1")
	mkdir -p "$(dirname "$dst")"
	# --remove-destination: never write through a link already there
	# (a busybox applet link named like the binary).
	cp -L --remove-destination --preserve=mode "$src" "$dst"
}

# add_binary PATH: copy a dynamically linked ELF executable or shared
# object and everything it needs at run time (add_closure).  Static
# binaries just copy.
add_binary() {
	local bin=$1 lib
	[ -f "$bin" ] || die "add_binary: $bin not found"
	copy_file "$bin"
	# The real tool replaces a busybox applet link of the same name.  But
	# Debian's busybox-static ash runs its own applets before searching
	# PATH, so such a tool must be called by its full path (/usr/bin/ip).
	for lib in "$STAGE"/usr/{bin,sbin}/"$(basename "$bin")"; do
		case $(readlink "$lib" 2>/dev/null) in *busybox) rm -f "$lib" ;; esac
	done
	if "$BUSYBOX" --list | grep -qxF "$(basename "$bin")"; then
		log "note: $(basename "$bin") is also a busybox applet; in the guest call it as $bin"
	fi
	add_closure "$bin"
}

# add_closure PATH: copy what PATH needs at run time: its DT_NEEDED
# closure as ldd resolves it (the staged rdma-core libraries first, see
# RDMA_LIBPATH) and the dynamic loader, each unless already there.  Fails
# on a library not found, or one that lacks a symbol version PATH needs
# (ldd says "version `X' not found").
add_closure() {
	local bin=$1 lib out
	out=$(LD_LIBRARY_PATH=$RDMA_LIBPATH ldd "$bin" 2>/dev/null || true)
	if echo "$out" | grep -q 'not found'; then
		die "add_closure: $bin has unresolved libraries or versions: $(echo "$out" | grep 'not found' | tr -d '\t' | tr '\n' ' ')"
	fi
	# ldd lines: "libx.so => /path (0x..)" or "/lib64/ld-linux-x86-64.so.2 (0x..)";
	# "statically linked" and "not a dynamic executable" have no path.
	for lib in $(echo "$out" | awk '/=> \// {print $3} /^\t\// {print $1}'); do
		[ -e "$STAGE$(guest_path "$lib")" ] || copy_file "$lib"
	done
}

# PID 1.  Prints the guest command's status as DBNIC-GUEST-EXIT=<n>, which
# run-guest.sh looks for in the serial log, then powers the machine off.
write_init() {
	cat > "$STAGE/init" <<'EOF'
#!/bin/sh
# PID 1 of the dbnic test guest (generated by scripts/build-initramfs.sh).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root DBNIC_GUEST=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
ip link set lo up
hostname dbnic-guest
# Modules that the per-run payload placed under extra/ become modprobe-able.
[ -d "/lib/modules/$(uname -r)/extra" ] && depmod -a
echo "dbnic-guest: userspace up at $(cut -d' ' -f1 /proc/uptime)s"

# The payload: /dbnic/cmd is the command (a shell script), /dbnic/.shell
# asks for an interactive shell afterwards.  No payload: just a shell.
cd /dbnic 2>/dev/null || cd /
# kmemleak (when the kernel has it): what boot allocated is not the run's.
KMEMLEAK=/sys/kernel/debug/kmemleak
[ -w "$KMEMLEAK" ] && echo clear > "$KMEMLEAK"
# dbnic_hang_dump=SECONDS (run-guest.sh, from the kernel command line):
# a run still going at that uptime is about to be killed for its timeout;
# put the blocked tasks' and the CPUs' stacks on the console first.  All of it
# goes through printk, which writes the UART by polling: a hang can be
# the serial tty's own transmit stalling (seen once in about 500 runs:
# user space's output stopped at its first line), and then whatever is
# written to the tty stays in its buffer.
case "$dbnic_hang_dump" in
[1-9]*)
	(
		# Seconds since QEMU started, near enough: the boot counts.
		up=$(cut -d. -f1 /proc/uptime)
		[ "$up" -ge "$dbnic_hang_dump" ] || sleep $((dbnic_hang_dump - up))
		echo 8 > /proc/sys/kernel/printk
		echo on > /proc/sys/kernel/printk_devkmsg
		# One record per write, and a record holds one line.
		kmsg() { while IFS= read -r l; do echo "DBNIC-HANG: $l" > /dev/kmsg; done; }
		{
			echo "still running after ${dbnic_hang_dump}s: blocked tasks, CPUs, user processes"
			cat /proc/tty/driver/serial
			grep ttyS /proc/interrupts
		} | kmsg
		echo w > /proc/sysrq-trigger
		echo l > /proc/sysrq-trigger
		# 'w' shows only uninterruptible sleepers: every user process's
		# kernel stack too (an insmod may wait interruptibly).
		for p in /proc/[0-9]*; do
			# Kernel threads have an empty command line (and proc
			# files a size of 0, so test what reads back).
			c=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)
			[ -n "$c" ] || continue
			echo "${p#/proc/} $c($(sed -n 's/^State:[[:space:]]*//p' "$p/status" 2>/dev/null))"
			cat "$p/stack" 2>/dev/null
		done | kmsg
	) &
	;;
esac
rc=0
if [ -f /dbnic/cmd ]; then
	sh /dbnic/cmd
	rc=$?
fi
# An object is reported once it is older than 5 s and unreferenced in a
# scan; the host fails the run on any "unreferenced object" line.
if [ -w "$KMEMLEAK" ] && [ ! -e /dbnic/.shell ]; then
	sleep 5
	echo scan > "$KMEMLEAK"
	echo scan > "$KMEMLEAK"
	sed 's/^/kmemleak: /' "$KMEMLEAK"
	echo "DBNIC-KMEMLEAK scanned: $(grep -c '^unreferenced object' "$KMEMLEAK") leaks"
fi
if [ -e /dbnic/.shell ] || [ ! -f /dbnic/cmd ]; then
	# cttyhack gives the shell a controlling tty: job control and ^C work.
	setsid cttyhack sh -l
	rc=$?
fi
sync
printf '\nDBNIC-GUEST-EXIT=%d\n' "$rc"
# Let the 8250 drain its transmit buffer before the machine goes away.
sleep 0.1
poweroff -f
# No ACPI power-off?  A reboot also ends QEMU (it runs with -no-reboot).
reboot -f
EOF
	chmod 755 "$STAGE/init"
}

# gen_init_cpio (from the kernel tree) writes archives without needing
# root: /dev/console must exist before devtmpfs is mounted, or init
# starts without stdin/stdout.
GEN_INIT_CPIO=$KERNEL_BUILD/usr/gen_init_cpio
cpio_list() {
	local root=$1 p
	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort) | while IFS= read -r p; do
		p=${p#.}
		if [ -L "$root$p" ]; then
			echo "slink $p $(readlink "$root$p") 0777 0 0"
		elif [ -d "$root$p" ]; then
			echo "dir $p $(stat -c %a "$root$p") 0 0"
		else
			echo "file $p $root$p $(stat -c %a "$root$p") 0 0"
		fi
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
}

# Inputs that change the image: this script (it holds /init), busybox,
# the kernel's modules, and the extra binaries.
inputs() {
	sha256sum "$0" "$BUSYBOX"
	echo "$RELEASE"
	(cd "$KERNEL_BUILD" && sed 's/\.o$/.ko/' modules.order | xargs -r sha256sum)
	local b
	for b in $GUEST_BINARIES $GUEST_EXTRA_BINARIES; do stat -L -c '%n %s %Y' "$b"; done
	# The RDMA trees are rebuilt whole (new timestamps): their content.
	(cd "$RDMA_CORE_STAGE" && find etc "$RDMA_LIBDIR" \( -type f -o -type l \) -print0 |
		LC_ALL=C sort -z | xargs -0 -r sha256sum)
	cat "$RDMA_TOOLS_ROOT.versions"
}
# One build at a time (the test suite and a developer may both run this),
# and not while build-kernel.sh is changing the modules.
mkdir -p "$GUEST_DIR"
exec 9> "$GUEST_DIR/base.lock"
flock 9
exec 8> "$KERNEL_BUILD.lock"
flock -s 8

key=$(inputs | sha256sum | cut -d' ' -f1)
if stamp_ok "$GUEST_DIR/base.stamp" "$key" && [ -f "$BASE" ]; then
	log "guest base image up to date: $BASE ($(du -h "$BASE" | cut -f1))"
	exit 0
fi

log "building guest base image for kernel $RELEASE"
STAGE=$(mktemp -d "$GUEST_DIR/stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# Debian's merged /usr layout, so that library paths from ldd land where
# the loader searches.
mkdir -p "$STAGE"/usr/{bin,sbin,lib,lib64} "$STAGE"/{dev,proc,sys,tmp,run,root,etc,dbnic,mnt}
ln -s usr/bin "$STAGE/bin"
ln -s usr/sbin "$STAGE/sbin"
ln -s usr/lib "$STAGE/lib"
ln -s usr/lib64 "$STAGE/lib64"
chmod 1777 "$STAGE/tmp"

cp "$BUSYBOX" "$STAGE/usr/bin/busybox"
# Relative links: an absolute one would point at the host's busybox
# whenever something on the host follows it.
for a in $("$BUSYBOX" --list-full); do
	case $a in
	linuxrc) continue ;;
	bin/*|usr/bin/*) target=busybox ;;
	*) target=../bin/busybox ;;
	esac
	[ -e "$STAGE/$a" ] || [ -L "$STAGE/$a" ] || ln -s "$target" "$STAGE/$a"
done

cat > "$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
cat > "$STAGE/etc/group" <<'EOF'
root:x:0:
EOF
cat > "$STAGE/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost
EOF
echo 'hosts: files dns' > "$STAGE/etc/nsswitch.conf"
# Login shells (--shell) get a prompt that says where you are.
echo 'PS1="dbnic-guest:\w# "' > "$STAGE/etc/profile"
write_init

# The test kernel's modules, with modules.dep for modprobe.
make -s -C "$KERNEL_BUILD" modules_install INSTALL_MOD_PATH="$STAGE/usr" \
	INSTALL_MOD_STRIP=1 > /dev/null
rm -f "$STAGE/usr/lib/modules/$RELEASE/build"

for b in $GUEST_BINARIES $GUEST_EXTRA_BINARIES; do
	log "adding $b"
	add_binary "$b"
done

# rdma-core as staged: its libraries with their symlinks (the plugins of
# mlx5 and efa in libibverbs/ link to the shared libraries), and the
# .driver files that tell libibverbs which plugins to load.
log "adding rdma-core from $RDMA_CORE_STAGE"
mkdir -p "$STAGE/etc" "$STAGE/$RDMA_LIBDIR"
cp -a "$RDMA_CORE_STAGE/etc/libibverbs.d" "$STAGE/etc/"
cp -a "$RDMA_CORE_STAGE/$RDMA_LIBDIR/." "$STAGE/$RDMA_LIBDIR/"
rm -rf "$STAGE/$RDMA_LIBDIR/pkgconfig"
for lib in "$RDMA_CORE_STAGE/$RDMA_LIBDIR"/lib*.so.* "$RDMA_CORE_STAGE/$RDMA_LIBDIR"/libibverbs/*.so; do
	[ -L "$lib" ] || add_closure "$lib"
done
# glibc loads libgcc_s.so.1 by dlopen() to unwind a thread in
# pthread_exit() or pthread_cancel() (rping's threads end so), so ldd does
# not list it.
add_binary /lib/x86_64-linux-gnu/libgcc_s.so.1
log "adding RDMA tools from $RDMA_TOOLS_ROOT ($(tr '\n' ' ' < "$RDMA_TOOLS_ROOT.versions"))"
for b in $RDMA_TOOLS; do
	add_binary "$RDMA_TOOLS_ROOT/usr/bin/$b"
done

[ -x "$GEN_INIT_CPIO" ] || die "$GEN_INIT_CPIO missing (kernel build incomplete?)"
cpio_list "$STAGE" > "$GUEST_DIR/base.list"
"$GEN_INIT_CPIO" -t 0 "$GUEST_DIR/base.list" | gzip -9 -n > "$BASE.new"
mv "$BASE.new" "$BASE"
stamp_set "$GUEST_DIR/base.stamp" "$key"
log "guest base image: $BASE ($(du -h "$BASE" | cut -f1))"

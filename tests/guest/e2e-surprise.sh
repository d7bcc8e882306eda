# run-guest: --root-port
# End-to-end test: the device goes away without warning.  QEMU has no
# surprise removal as such, but a root port whose slot power the guest
# turns off (Slot Control's Power Controller Control, written behind
# pciehp's back, power indicator left on so that QEMU does not unplug)
# disables the device at once: its BARs read nothing, config space reads
# all ones, it answers no admin command and does no DMA, as after a
# surprise removal.  The driver must notice: an open(), which runs an
# admin command, fails with ENODEV, not with ETIMEDOUT after the admin
# timeout (datasheet 2.1), and the driver's remove finishes without
# waiting out every timeout.  The kernel log is checked on the host
# (kernel_reports).  Runs in the guest (busybox sh) behind a
# pcie-root-port with the dbnic modules, lib.sh, user-lib.sh and dbnic-tool in
# $DBNIC_DIR (/dbnic).
DIR=${DBNIC_DIR:-/dbnic}
. "$DIR/lib.sh"
. "$DIR/user-lib.sh"
DRV=/sys/bus/pci/drivers/dbnic
PCI_EXP_SLTCTL=24		# offset in the PCIe capability
PCI_EXP_SLTCTL_PCC=1024		# 1: power off

# cfg_byte FILE OFFSET, cfg_word FILE OFFSET: config space reads.
cfg_byte() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
cfg_word() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }

# cfg_write_word FILE OFFSET VALUE: one 2-byte config write (one Slot
# Control command), little-endian.
cfg_write_word() {
	# shellcheck disable=SC2059  # the format is the two bytes' escapes
	printf "\\$(printf %o $(($3 & 255)))\\$(printf %o $(($3 >> 8)))" |
		dd of="$1" bs=2 seek=$(($2 / 2)) count=1 conv=notrunc 2>/dev/null
}

# pcie_cap FILE: offset of the PCI Express capability (ID 0x10).
pcie_cap() {
	p=$(cfg_byte "$1" 52)
	n=0
	while [ "${p:-0}" -ne 0 ] && [ $n -lt 48 ]; do
		[ "$(cfg_byte "$1" "$p")" -eq 16 ] && { echo "$p"; return; }
		p=$(cfg_byte "$1" $((p + 1)))
		n=$((n + 1))
	done
}

load_dbnic
pci=$(basename "$(first "$DRV"/0000:*)")
dev=/sys/bus/pci/devices/$pci
rp=$(dirname "$(readlink -f "$dev")")
cap=$(pcie_cap "$rp/config")
echo "device $pci behind $(basename "$rp"), its PCIe capability at ${cap:-none}"
if [ -z "$cap" ]; then
	t_fail "root port has a PCIe capability" "not found"
	t_done
	exit 1
fi
sltctl=$((cap + PCI_EXP_SLTCTL))
t_check "device answers while powered" "$TOOL" info

echo "== slot power off"
echo "dbnic-e2e: mark surprise" > /dev/kmsg
ctl=$(cfg_word "$rp/config" $sltctl)
cfg_write_word "$rp/config" $sltctl $((ctl | PCI_EXP_SLTCTL_PCC))
vendor=$(cfg_word "$dev/config" 0)
if [ "$vendor" = 65535 ]; then
	t_ok "device gone (config space reads all ones)"
else
	t_fail "device gone (config space reads all ones)" "vendor ID $vendor"
fi

# open() creates a context through the admin queue.
"$TOOL" info > /tmp/info.out 2>&1
rc=$?
cat /tmp/info.out
if [ $rc -ne 0 ] && grep -q 'No such device' /tmp/info.out; then
	t_ok "open of a gone device fails with ENODEV"
else
	t_fail "open of a gone device fails with ENODEV" "exit $rc: $(tr '\n' ' ' < /tmp/info.out)"
fi
n=$(since_mark | grep -c 'timed out' || true)
t_check "no admin command waited for its timeout ($n did)" test "$n" = 0

echo "== unbind"
echo "$pci" > "$DRV/unbind"
t_check "driver unbound from the gone device" test ! -e "$DRV/$pci"
t_check "/dev/dbnic0 gone" test ! -e /dev/dbnic0
n=$(since_mark | grep -c 'timed out' || true)
t_check "remove waited for no admin timeout ($n did)" test "$n" = 0
dmesg | tail -n 20

# The device stays powered off: QEMU cannot power it on again cleanly
# here (pciehp has seen the card go; the slot stays disabled, and a
# rescan finds nothing), so the test ends with the module's unload.

echo "== unload"
if dbnic_unload; then t_ok "unload dbnic"; else t_fail "unload dbnic" "rmmod failed"; fi
t_done

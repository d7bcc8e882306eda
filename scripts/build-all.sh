#!/usr/bin/env bash
# Everything the demo and the tests need, from nothing, idempotently:
# host packages, QEMU with the dbnic device, the test kernel, the driver
# modules, rdma-core with the dbnic provider (about 20 s cold) and the
# guest image.  Warm reruns take seconds.
. "$(dirname "$0")/lib.sh"

step() {
	local t0=$SECONDS
	log "== $1"
	"$DBNIC_TOP/scripts/$1"
	log "== $1 done in $((SECONDS - t0)) s"
}

step setup-host.sh
step build-qemu.sh
step build-kernel.sh
step build-module.sh
step build-user.sh
step build-rdma-core.sh
step build-initramfs.sh

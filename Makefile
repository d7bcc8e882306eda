# Convenience targets; each is one script under scripts/.
.PHONY: all demo shell test host-test fuzz fuzz-qemu check-qemu-asan qemu kernel module rdma-core initramfs clean-build \
	bench

all:
	./scripts/build-all.sh

demo:
	./scripts/demo.sh

shell:
	./scripts/demo.sh --shell

test:
	./scripts/test.sh

# Benchmarks: numbers, not pass/fail (host, guest, timing model off/on).
bench:
	./scripts/bench.sh

# Quick loop for device-core work: no guest, no QEMU build.
host-test:
	$(MAKE) -C tests/host check

fuzz:
	$(MAKE) -C tests/host fuzz-run FUZZ_TIME=$${FUZZ_TIME:-600}

# QEMU's generic-fuzz against the device through its glue (30 minutes).
fuzz-qemu:
	./scripts/fuzz-qemu.sh $${FUZZ_TIME:-1800}

# The glue's qtest under ASan/LSan/UBSan (a second QEMU build; not in test).
check-qemu-asan:
	./scripts/check-qemu-asan.sh

qemu:
	./scripts/build-qemu.sh

kernel:
	./scripts/build-kernel.sh

module:
	./scripts/build-module.sh

# rdma-core with the dbnic provider, and Debian's RDMA tools (the image's).
rdma-core:
	./scripts/build-rdma-core.sh

initramfs:
	./scripts/build-initramfs.sh

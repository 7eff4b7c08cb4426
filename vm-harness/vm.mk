# VM targets (included by the top-level Makefile).  Need root, the Debian packages of
# `make deps-apt`, and network access to the Debian archive on the first run (debootstrap and
# the kernel .deb are cached in $(VM_CACHE_DIR); `make distclean` removes them).
#   make vm-demo         build the OSTree disk (or reuse it while its inputs are unchanged), boot it
#                        under QEMU with FIRMWARE=bios|uefi|secureboot (default bios), print
#                        `ostree admin status` and `mokutil --sb-state` from inside the guest
#   make vm-test         the boot scenarios (plain baseline, first boot, offline update + rollback with
#                        systemctl reboot, GRUB menu, broken ostree=, dracut, failed finalization,
#                        boot counting: bad update, kernel panic, power cut;
#                        UEFI first boot and staged upgrade, Secure Boot with Debian's signed
#                        chain and with the harness's own key);
#                        also builds the update disk and the plain-root disk they need
#   make vm-image        build (or reuse) every disk vm-test uses, without booting
#   make vm-libvirt-config configure libvirt for root without systemd (a prerequisite of vm-test and
#                        vm-demo; `make deps` installs it); the harness starts libvirtd itself
#                        when it is not running and stops it afterwards
#   make vm-libvirt-setup  the same, and start libvirtd now (left running)
#
# Variables (environment or make command line; the README lists them too):
#   VM_REUSE_IMAGE=auto|1|0   auto (default): reuse the built image while its inputs (dist/src,
#                             boot/, vm-harness/guest/, the image recipe, the cached downloads,
#                             Node, package-lock.json, GRUB, OSTREE_CLI) are unchanged; 1: reuse
#                             whatever was built, unchecked; 0: always rebuild
#   VM_ACCEL=tcg|kvm          QEMU accelerator (default tcg: on these machines a KVM guest hangs)
#   VM_BACKEND=auto|qemu|virt-install   auto: virt-install when libvirt is installed (the harness
#                             starts libvirtd if needed), else plain QEMU; qemu: never touch libvirt
#   FIRMWARE=bios|uefi|secureboot  vm-demo (and `main.js boot`): the guest's firmware (firmware.ts):
#                             SeaBIOS; OVMF; OVMF with Secure Boot and Microsoft's keys enrolled
#   VM_CPU=MODEL              QEMU -cpu model (qemu backend; default: QEMU's own)
#   VM_BOOT_TIMEOUT=300       seconds one boot may take before the guest is killed
#   VM_SCENARIOS=0,1,...,10,u1,... vm-test: run only these scenarios (0-7: BIOS, scenarios.ts;
#                             8-10: boot counting and automatic rollback, scenarios-bootcount.ts,
#                             9 and 10 continue from 8's disk;
#                             u0-u4: UEFI and Secure Boot, scenarios-uefi.ts: u0 plain root under
#                             UEFI, u1 UEFI first boot, u2 UEFI staged upgrade + reboot, u3 Secure
#                             Boot with Debian's signed shim/GRUB/kernel, u4 Secure Boot with the
#                             harness's own key enrolled as db; sd1-sd3: systemd-boot under UEFI,
#                             scenarios-sdboot.ts: sd1 `bootctl install` + first boot through
#                             systemd-boot, sd2 staged upgrade blessed by systemd-bless-boot, sd3
#                             counted rollback of an update whose health check fails; each needs
#                             the ones before it; a1-a3: the update agent, scenarios-agent.ts:
#                             a1 `ostree-agent` finds release 2 through nginx on the guest's
#                             loopback, stages it, reboots in its window, judges it good; a2 (after
#                             a1) release 3 fails to finalize, is rolled back and then refused;
#                             a3 (after a2; VM_SCENARIOS=a3 runs a1-a2's boots too) FleetLock: etcd
#                             (the host's binary, on a small disk) and fleetlock-server in the guest,
#                             `forget 3`, the agent takes the slot, reboots into 3, gives it back;
#                             r1: incremental deploy across reboots, scenarios-recycle.ts (a parked
#                             spare patched into the next deployment, booted, compared with a
#                             fresh checkout of its commit, rolled back);
#                             i1-i6: Ignition, scenarios-ignition.ts: i1 the
#                             Fedora CoreOS walkthrough's first boot (SSH as core, podman, curl),
#                             i2 reboot without Ignition + staged upgrade, i3 the upgrade kept
#                             Ignition's files, i4 bad configs stop the boot, i5 first-boot timing
#                             against the image's normal (initramfs-tools) boot, with the guest's
#                             breakdown, i6 i1's walkthrough with plain QEMU whatever VM_BACKEND
#                             says; i2 and i3 continue from i1)
#   VM_IGNITION_TIMING_ROUNDS=1  vm-test: rounds of i5 (baseline, Ignition first boot, second boot)
#   VM_IGNITION_COMPRESS=lz4  the Ignition initramfs's compressor (lz4, zstd, gzip, cat = none)
#   VM_TIMING_ROUNDS=2        vm-test: first boots per disk and firmware for the OSTree-vs-plain
#                             boot time (BIOS: 0 and 1; UEFI: u0 and u1)
#   VM_VERBOSE=1              print every command the harness runs (default: one line per phase)
#   VM_WORK_DIR=DIR           images and runs (default vm-harness/out; `make clean` removes it)
#   VM_CACHE_DIR=DIR          downloads (default /var/cache/ostree-ts-vm, shared by checkouts)
#   OSTREE_CLI=ours|upstream  which `ostree` builds the image on the host (upstream: /usr/bin/ostree,
#                             the oracle, to debug the pipeline); the guest always runs ours
VM_CACHE_DIR ?= /var/cache/ostree-ts-vm
VM_WORK_DIR ?= $(CURDIR)/vm-harness/out
VM_HARNESS := $(NODE) dist/vm-harness/main.js

.PHONY: vm-image vm-demo vm-test vm-libvirt-config vm-libvirt-setup
FIRMWARE ?= bios

vm-image: build
	VM_CACHE_DIR=$(VM_CACHE_DIR) VM_WORK_DIR=$(VM_WORK_DIR) $(VM_HARNESS) image

vm-demo: build vm-libvirt-config
	FIRMWARE=$(FIRMWARE) VM_CACHE_DIR=$(VM_CACHE_DIR) VM_WORK_DIR=$(VM_WORK_DIR) $(VM_HARNESS) demo

# Without VM_SCENARIOS, the scenarios run as two groups at once, one per core (a TCG guest keeps
# one core busy, and one after the other they take longer than CI allows): the disks and the
# downloads are made first, then group A in VM_WORK_DIR and group B in VM_WORK_DIR/group-b (its
# own copies of the disks), their lines prefixed [A] and [B].  libvirtd is started once here for
# both (two harness runs starting it at the same moment would race) and stopped at the end.  test/vm-harness/groups.test.ts
# checks that the two groups hold every scenario.  With VM_SCENARIOS: one run, as listed.
VM_GROUP_A := 0,1,2,3,4,5,6,7,8,9,10,u0,u1,u2,u3,u4,sd1,sd2,sd3,f1,r1
VM_GROUP_B := l1,l2,a1,a2,a3,i1,i2,i3,i4,i5,i6
vm-test: build vm-libvirt-config
ifeq ($(strip $(VM_SCENARIOS)),)
	VM_CACHE_DIR=$(VM_CACHE_DIR) VM_WORK_DIR=$(VM_WORK_DIR) $(VM_HARNESS) image
	@set -o pipefail; \
	started=""; \
	if [ "$${VM_BACKEND:-auto}" != qemu ] && command -v libvirtd >/dev/null && ! virsh -c qemu:///system version >/dev/null 2>&1; then \
		echo "vm-test: starting libvirtd for both groups (stopped again at the end)"; \
		mkdir -p /var/log/libvirt /var/lib/libvirt; libvirtd -d -p /run/libvirtd.pid && started=yes; \
		for i in $$(seq 30); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.5; done; \
	fi; \
	( VM_SCENARIOS=$(VM_GROUP_A) VM_CACHE_DIR=$(VM_CACHE_DIR) VM_WORK_DIR=$(VM_WORK_DIR) $(VM_HARNESS) test 2>&1 | sed -u 's/^/[A] /' ) & a=$$!; \
	( VM_SCENARIOS=$(VM_GROUP_B) VM_CACHE_DIR=$(VM_CACHE_DIR) VM_WORK_DIR=$(VM_WORK_DIR)/group-b $(VM_HARNESS) test 2>&1 | sed -u 's/^/[B] /' ) & b=$$!; \
	wait $$a; ra=$$?; wait $$b; rb=$$?; \
	if [ -n "$$started" ] && [ -f /run/libvirtd.pid ]; then kill "$$(cat /run/libvirtd.pid)" 2>/dev/null; fi; \
	echo "vm-test: group A ($(VM_GROUP_A)) exit $$ra, group B ($(VM_GROUP_B)) exit $$rb"; \
	[ $$ra -eq 0 ] && [ $$rb -eq 0 ]
else
	VM_CACHE_DIR=$(VM_CACHE_DIR) VM_WORK_DIR=$(VM_WORK_DIR) $(VM_HARNESS) test
endif

# libvirt for virt-install, as measured on these machines (the packages are in APT_PACKAGES, with
# no libvirt-daemon-system: it pulls in systemd): a libvirt-qemu user/group (libvirtd refuses to
# start without them), QEMU as root (else libvirt re-probes QEMU on every call), file stdio
# handler (no virtlogd needed).  The harness starts libvirtd itself (vm-harness/libvirt.ts).
vm-libvirt-config: deps-apt
	@getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
	@getent passwd libvirt-qemu >/dev/null || useradd --system -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
	@mkdir -p /etc/libvirt /var/log/libvirt /var/lib/libvirt /run/libvirt && touch /etc/libvirt/qemu.conf
	@sed -i -e '/^#\?user = /c user = "root"' -e '/^#\?group = /c group = "root"' -e '/^#\?stdio_handler = /c stdio_handler = "file"' /etc/libvirt/qemu.conf
	@grep -q '^user = "root"' /etc/libvirt/qemu.conf || echo 'user = "root"' >> /etc/libvirt/qemu.conf
	@grep -q '^group = "root"' /etc/libvirt/qemu.conf || echo 'group = "root"' >> /etc/libvirt/qemu.conf
	@grep -q '^stdio_handler = "file"' /etc/libvirt/qemu.conf || echo 'stdio_handler = "file"' >> /etc/libvirt/qemu.conf

vm-libvirt-setup: vm-libvirt-config
	pgrep -x libvirtd >/dev/null || libvirtd -d
	for i in 1 2 3 4 5 6 7 8 9 10; do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
	virsh -c qemu:///system version
	@echo "libvirt is up (left running): vm-demo and vm-test use virt-install (VM_BACKEND=qemu to force plain QEMU)"

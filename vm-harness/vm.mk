# VM targets (included by the top-level Makefile).  Need root, the Debian packages of
# `make deps-apt`, and network access to the Debian archive on the first run (debootstrap and
# the kernel .deb are cached in $(VM_CACHE_DIR)).
#   make vm-image        build the OSTree disk, the plain-root disk and the update disk
#   make vm-demo         build, boot the OSTree disk under QEMU, print `ostree admin status` from the guest
#   make vm-test         the boot scenarios (plain baseline, first boot, offline update + rollback with
#                        systemctl reboot, GRUB menu, broken ostree=, dracut, failed finalization)
#   make vm-libvirt-setup  install and start libvirt so the harness uses virt-install
# Variables: OSTREE_CLI=ours|upstream (host side; the guest always runs ours), VM_BACKEND=auto|qemu|virt-install,
# VM_ACCEL=tcg|kvm, VM_REUSE_IMAGE=1 (vm-test/vm-demo reuse an image built before).
VM_CACHE_DIR ?= /var/cache/ostree-ts-vm
VM_HARNESS := $(NODE) dist/vm-harness/main.js

.PHONY: vm-image vm-demo vm-test vm-libvirt-setup

vm-image: build
	VM_CACHE_DIR=$(VM_CACHE_DIR) $(VM_HARNESS) image

vm-demo: build
	VM_CACHE_DIR=$(VM_CACHE_DIR) $(VM_HARNESS) demo

vm-test: build
	VM_CACHE_DIR=$(VM_CACHE_DIR) $(VM_HARNESS) test

# libvirt for virt-install, as measured on these machines: no libvirt-daemon-system (it pulls in
# systemd as a dependency), a libvirt-qemu user/group, QEMU as root (else libvirt re-probes QEMU
# on every call), file stdio handler (no virtlogd needed), libvirtd started by hand.
vm-libvirt-setup:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends virtinst libvirt-daemon libvirt-clients
	getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
	getent passwd libvirt-qemu >/dev/null || useradd --system -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
	mkdir -p /etc/libvirt && touch /etc/libvirt/qemu.conf
	sed -i -e '/^#\?user = /c user = "root"' -e '/^#\?group = /c group = "root"' -e '/^#\?stdio_handler = /c stdio_handler = "file"' /etc/libvirt/qemu.conf
	grep -q '^user = "root"' /etc/libvirt/qemu.conf || echo 'user = "root"' >> /etc/libvirt/qemu.conf
	grep -q '^group = "root"' /etc/libvirt/qemu.conf || echo 'group = "root"' >> /etc/libvirt/qemu.conf
	grep -q '^stdio_handler = "file"' /etc/libvirt/qemu.conf || echo 'stdio_handler = "file"' >> /etc/libvirt/qemu.conf
	mkdir -p /var/log/libvirt /var/lib/libvirt /run/libvirt
	pgrep -x libvirtd >/dev/null || libvirtd -d
	for i in 1 2 3 4 5 6 7 8 9 10; do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done
	virsh -c qemu:///system version
	@echo "libvirt is up: vm-demo and vm-test now use virt-install (VM_BACKEND=qemu to force plain QEMU)"

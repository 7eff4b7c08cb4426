#!/bin/bash
# dracut module "ignition-ostree": what Debian's Ignition (30ignition) needs to provision an OSTree
# deployment on its first boot, in the order Fedora CoreOS uses:
#   sysroot.mount -> ostree-prepare-root.service (98ostree, Before=initrd-root-fs.target)
#   -> ignition-mount -> ignition-ostree-populate-var -> ignition-files (writes /sysroot/etc of the
#   chosen deployment and the stateroot's /var) -> ignition-ostree-presets -> ignition-complete.target
# and, when any of it fails, Ignition's own error lines on the console before the emergency shell.
# Installed as /usr/lib/dracut/modules.d/40ignition-ostree/.

# Only when asked for (dracut --add ignition-ostree).
check() {
    return 255
}

depends() {
    echo ignition ostree systemd
    return 0
}

# A unit that runs only on Ignition boots: ignition-complete.target is pulled in by Ignition's
# generator only when the command line has ignition.firstboot.
first_boot_unit() {
    inst_simple "$moddir/$1" "$systemdsystemunitdir/$1"
    mkdir -p "$initdir/$systemdsystemunitdir/ignition-complete.target.requires"
    ln_r "$systemdsystemunitdir/$1" "$systemdsystemunitdir/ignition-complete.target.requires/$1"
}

# The emergency target's shell when the initramfs is built without dracut's hook machinery
# (dracut-systemd, which brings dracut's own emergency.service): systemd's emergency.service, with
# sulogin forced as dracut's shell is (the initramfs has no root password to ask for).
emergency_shell() {
    [[ -e "$initdir/$systemdsystemunitdir/emergency.service" ]] && return 0
    inst_multiple "$systemdsystemunitdir/emergency.service" "$systemdutildir/systemd-sulogin-shell" sulogin
    mkdir -p "$initdir/$systemdsystemunitdir/emergency.service.d"
    printf '[Service]\nEnvironment=SYSTEMD_SULOGIN_FORCE=1\n' > "$initdir/$systemdsystemunitdir/emergency.service.d/ignition-ostree.conf"
}

install() {
    inst_multiple systemd-tmpfiles systemctl journalctl sed
    inst_script "$moddir/ignition-ostree-presets.sh" /usr/libexec/ignition-ostree-presets
    inst_script "$moddir/ignition-ostree-show-failure.sh" /usr/libexec/ignition-ostree-show-failure
    first_boot_unit ignition-ostree-populate-var.service
    first_boot_unit ignition-ostree-presets.service
    first_boot_unit ignition-ostree-preload.service
    inst_simple "$moddir/ignition-ostree-show-failure.service" "$systemdsystemunitdir/ignition-ostree-show-failure.service"
    emergency_shell
    mkdir -p "$initdir/$systemdsystemunitdir/emergency.target.wants"
    ln_r "$systemdsystemunitdir/ignition-ostree-show-failure.service" \
        "$systemdsystemunitdir/emergency.target.wants/ignition-ostree-show-failure.service"
}

installkernel() {
    # Ignition's qemu platform reads its config from fw_cfg (/sys/firmware/qemu_fw_cfg).
    instmods qemu_fw_cfg
}

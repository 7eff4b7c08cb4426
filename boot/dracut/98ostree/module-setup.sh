#!/bin/bash
# dracut module "ostree" (Fedora family): run ostree-prepare-root in the initramfs after the root
# filesystem is mounted at /sysroot and before initrd-root-fs.target.
# Installed as /usr/lib/dracut/modules.d/98ostree/{module-setup.sh,ostree-prepare-root.service}.

# Only when asked for (dracut -a ostree, or add_dracutmodules+=" ostree " in dracut.conf.d).
check() {
    if [[ -x "$systemdutildir"/systemd ]] && [[ -x /usr/lib/ostree/ostree-prepare-root ]]; then
        return 255
    fi
    return 1
}

depends() {
    echo systemd
    return 0
}

install() {
    inst_script /usr/lib/ostree/ostree-prepare-root
    # prepare-root is a POSIX sh script: besides shell builtins it needs mount (bind/move/remount), mkdir
    # and rmdir (its scratch mount point), and readlink (error messages).
    inst_multiple sh mount readlink mkdir rmdir
    # With busybox there, prepare-root makes all its mounts with one `busybox mount -a -T` instead of
    # one util-linux mount per mount point (as in the initramfs-tools image, whose hook always has it).
    inst_multiple -o busybox
    inst_simple "${moddir}/ostree-prepare-root.service" \
        "${systemdsystemunitdir}/ostree-prepare-root.service"
    mkdir -p "${initdir}${systemdsystemconfdir}/initrd-root-fs.target.wants"
    ln_r "${systemdsystemunitdir}/ostree-prepare-root.service" \
        "${systemdsystemconfdir}/initrd-root-fs.target.wants/ostree-prepare-root.service"
}

installkernel() {
    # /usr is an overlay after `ostree admin unlock --hotfix`.
    instmods overlay
}

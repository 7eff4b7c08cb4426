#!/bin/sh
# ostree-remount: after the real root is up, keep the OSTree mounts in the state they need.
# Installed as /usr/lib/ostree/ostree-remount (run by ostree-remount.service).
#  - /sysroot becomes recursively private, so mounts under /var do not propagate into the
#    stateroot path;
#  - when / is writable: /sysroot and /var are made writable too (a `ro` root mounted by the
#    initramfs and then remounted rw by systemd-remount-fs leaves the bind mounts read-only).
set -u
RUNDIR=${OSTREE_REMOUNT_RUN:-/run}
: > "$RUNDIR/ostree-booted" 2>/dev/null

mount --make-rprivate /sysroot 2>/dev/null || echo "ostree-remount: cannot make /sysroot private" >&2

opts_of() { findmnt -n -o OPTIONS --mountpoint "$1" 2>/dev/null; }
is_ro() { case ",$(opts_of "$1")," in *,ro,*) return 0 ;; *) return 1 ;; esac; }
is_mountpoint() { findmnt -n --mountpoint "$1" >/dev/null 2>&1; }

if is_ro /; then
	exit 0
fi
if [ -e "$RUNDIR/ostree-sysroot-ro.stamp" ]; then
	rm -f "$RUNDIR/ostree-sysroot-ro.stamp"
	if is_mountpoint /etc && is_ro /etc; then
		mount -o remount,rw /etc && echo "Remounted rw: /etc"
	fi
else
	if is_mountpoint /sysroot && is_ro /sysroot; then
		mount -o remount,rw /sysroot && echo "Remounted rw: /sysroot"
	fi
fi
if is_mountpoint /var && is_ro /var; then
	mount -o remount,rw /var && echo "Remounted rw: /var"
fi
exit 0

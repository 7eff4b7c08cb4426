#!/bin/sh
# ostree-remount: after the real root is up, keep the OSTree mounts in the state they need.
# Installed as /usr/lib/ostree/ostree-remount (run by ostree-remount.service).
#  - /sysroot becomes recursively private (systemd made every mount shared when it started),
#    so mounts under /var do not propagate into the stateroot path;
#  - when / is writable: /sysroot and /var are made writable too (a `ro` root mounted by the
#    initramfs and then remounted rw by systemd-remount-fs leaves the bind mounts read-only).
# It runs before local-fs.target, so every unit needing /var waits for it: it reads
# /proc/self/mountinfo with shell builtins and starts `mount` only for what has to change.
#
# Environment (for tests): OSTREE_REMOUNT_RUN (/run), OSTREE_REMOUNT_MOUNTINFO
# (/proc/self/mountinfo), OSTREE_REMOUNT_MOUNT (the mount command, default mount).
set -u
RUNDIR=${OSTREE_REMOUNT_RUN:-/run}
MOUNTINFO=${OSTREE_REMOUNT_MOUNTINFO:-/proc/self/mountinfo}
MOUNT=${OSTREE_REMOUNT_MOUNT:-mount}
: > "$RUNDIR/ostree-booted" 2>/dev/null

# shellcheck disable=SC2086
$MOUNT --make-rprivate /sysroot 2>/dev/null || echo "ostree-remount: cannot make /sysroot private" >&2

# One pass over mountinfo sets mode_root, mode_etc, mode_sysroot and mode_var to "ro" or "rw"
# for the topmost mount on /, /etc, /sysroot and /var (read-only when either the mount or its
# filesystem is); each stays "" for a path that is not a mount point.
# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT MOUNT-OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
mode_root="" mode_etc="" mode_sysroot="" mode_var=""
while read -r _id _parent _dev _root mp opts rest; do
	case "$mp" in /|/etc|/sysroot|/var) ;; *) continue ;; esac
	case ",$opts,${rest##* }," in
	*,ro,*) state=ro ;;
	*) state=rw ;;
	esac
	case "$mp" in
	/) mode_root=$state ;;
	/etc) mode_etc=$state ;;
	/sysroot) mode_sysroot=$state ;;
	/var) mode_var=$state ;;
	esac
done < "$MOUNTINFO"

remount_rw() {
	# shellcheck disable=SC2086
	$MOUNT -o remount,rw "$1" && echo "Remounted rw: $1"
}

[ "$mode_root" = ro ] && exit 0
if [ -e "$RUNDIR/ostree-sysroot-ro.stamp" ]; then
	rm -f "$RUNDIR/ostree-sysroot-ro.stamp"
	[ "$mode_etc" = ro ] && remount_rw /etc
else
	[ "$mode_sysroot" = ro ] && remount_rw /sysroot
fi
[ "$mode_var" = ro ] && remount_rw /var
exit 0

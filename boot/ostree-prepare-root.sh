#!/bin/sh
# ostree-prepare-root: turn the mounted physical root into the booted deployment.
#
# Usage: ostree-prepare-root [SYSROOT]      (SYSROOT defaults to /sysroot)
#
# Runs in the initramfs after the physical root filesystem is mounted at SYSROOT.
# Reads `ostree=/ostree/boot.B/<stateroot>/<bootcsum>/<serial>` from the kernel command line,
# resolves it to the deployment directory, and rearranges the mounts so that SYSROOT is the
# deployment (with /usr read-only) and the physical root is at SYSROOT/sysroot.  The caller
# (initramfs-tools init, dracut) then switches root into SYSROOT.
#
# Environment (for tests and special set-ups):
#   OSTREE_PREPARE_ROOT_CMDLINE   file to read the command line from (default /proc/cmdline)
#   OSTREE_PREPARE_ROOT_RUN       runtime directory (default /run)
#   OSTREE_PREPARE_ROOT_ON_ERROR  shell | exit  (default: shell when run from initramfs-tools,
#                                 exit otherwise).  "shell" prints the error, offers a rescue
#                                 shell that gives up after ostree.rescue_timeout=N seconds
#                                 (default 60), then powers the machine off.
#   OSTREE_PREPARE_ROOT_MOUNT_VAR 1 to bind the stateroot's var onto /var here (normally the
#                                 systemd generator's var.mount does it)
#   OSTREE_PREPARE_ROOT_DRY_RUN   1 to only resolve and print the deployment path, mount nothing
#   OSTREE_PREPARE_ROOT_TMP       scratch mount point used while moving mounts (/sysroot.tmp)

set -u

PROG=ostree-prepare-root
CMDLINE_FILE=${OSTREE_PREPARE_ROOT_CMDLINE:-/proc/cmdline}
RUNDIR=${OSTREE_PREPARE_ROOT_RUN:-/run}

log() {
	echo "$PROG: $*" >&2
}

# Prefer busybox applets when available: in the initramfs, klibc's mount lacks --move/--bind.
if command -v busybox >/dev/null 2>&1 && busybox mount --help >/dev/null 2>&1; then
	MOUNT="busybox mount"
else
	MOUNT="mount"
fi

do_mount() {
	# shellcheck disable=SC2086
	$MOUNT "$@"
}

cmdline_value() {
	# First token of the command line that starts with "$1=", printed without the key.
	for tok in $CMDLINE; do
		case "$tok" in
		"$1"=*) echo "${tok#*=}"; return 0 ;;
		esac
	done
	return 1
}

rescue_and_poweroff() {
	t=$(cmdline_value ostree.rescue_timeout 2>/dev/null) || t=60
	case "$t" in ''|*[!0-9]*) t=60 ;; esac
	echo "$PROG: cannot boot this deployment; starting a rescue shell for ${t}s, then powering off" >&2
	if [ "$t" -gt 0 ] && [ -c /dev/console ]; then
		# SIGKILL: an interactive shell ignores SIGTERM.
		if command -v timeout >/dev/null 2>&1; then
			timeout -s KILL "$t" sh -i </dev/console >/dev/console 2>&1
		elif command -v busybox >/dev/null 2>&1; then
			busybox timeout -s KILL "$t" sh -i </dev/console >/dev/console 2>&1
		fi
	fi
	echo "$PROG: giving up; powering off" >&2
	sync
	poweroff -f 2>/dev/null || busybox poweroff -f 2>/dev/null
	# Last resort: the sysrq "o" (power off) trigger.
	echo o > /proc/sysrq-trigger 2>/dev/null
	sleep 5
	exit 1
}

fatal() {
	log "error: $*"
	if [ "$ON_ERROR" = shell ]; then
		rescue_and_poweroff
	fi
	exit 1
}

# List what `ostree=` could have pointed at, for the error messages.
describe_bootlinks() {
	found=""
	for l in "$SYSROOT"/ostree/boot.?/*/*/*; do
		[ -e "$l" ] || [ -L "$l" ] || continue
		found="$found ${l#"$SYSROOT"}"
	done
	if [ -n "$found" ]; then
		echo "boot links found:$found"
	elif [ -d "$SYSROOT/ostree" ]; then
		echo "no boot links under $SYSROOT/ostree/boot.[01]"
	else
		echo "$SYSROOT has no ostree directory: is root= the right filesystem?"
	fi
}

if [ -z "${OSTREE_PREPARE_ROOT_ON_ERROR:-}" ]; then
	if [ -e /scripts/functions ] || [ "$$" = 1 ]; then ON_ERROR=shell; else ON_ERROR=exit; fi
else
	ON_ERROR=$OSTREE_PREPARE_ROOT_ON_ERROR
fi

SYSROOT=${1:-/sysroot}
START=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)

# 1. /proc and the command line.
if [ "$CMDLINE_FILE" = /proc/cmdline ] && [ ! -e /proc/cmdline ]; then
	mkdir -p /proc && do_mount -t proc proc /proc || fatal "cannot mount /proc"
fi
[ -r "$CMDLINE_FILE" ] || fatal "cannot read the kernel command line from $CMDLINE_FILE"
CMDLINE=$(cat "$CMDLINE_FILE")

[ -d "$SYSROOT" ] || fatal "the root filesystem mount point $SYSROOT does not exist"
SYSROOT=$(cd "$SYSROOT" && pwd -P) || fatal "cannot resolve $SYSROOT"

OSTREE_TARGET=$(cmdline_value ostree) ||
	fatal "no ostree= argument on the kernel command line (it was: $CMDLINE); $(describe_bootlinks)"

case "$OSTREE_TARGET" in
/ostree/boot.[01]/*/*/*) ;;
/*) log "warning: ostree=$OSTREE_TARGET is not of the form /ostree/boot.B/STATEROOT/BOOTCSUM/SERIAL" ;;
*) fatal "ostree=$OSTREE_TARGET is not an absolute path; $(describe_bootlinks)" ;;
esac

LINK="$SYSROOT$OSTREE_TARGET"
if [ ! -L "$LINK" ]; then
	if [ -e "$LINK" ]; then
		fatal "ostree=$OSTREE_TARGET: $LINK is not a symbolic link to a deployment; $(describe_bootlinks)"
	fi
	fatal "ostree=$OSTREE_TARGET: $LINK does not exist; $(describe_bootlinks)"
fi
DEPLOY=$(readlink -f "$LINK") || DEPLOY=""
if [ -z "$DEPLOY" ] || [ ! -d "$DEPLOY" ]; then
	fatal "ostree=$OSTREE_TARGET: the link points to $(readlink "$LINK"), which is not a directory; $(describe_bootlinks)"
fi
case "$DEPLOY" in
"$SYSROOT"/ostree/deploy/*/deploy/*) ;;
*) fatal "ostree=$OSTREE_TARGET resolves to $DEPLOY, outside $SYSROOT/ostree/deploy/*/deploy/" ;;
esac
[ -d "$DEPLOY/usr" ] || fatal "deployment $DEPLOY has no usr directory"

log "deployment: ${DEPLOY#"$SYSROOT"}"
if [ "${OSTREE_PREPARE_ROOT_DRY_RUN:-0}" = 1 ]; then
	echo "$DEPLOY"
	exit 0
fi

# 2. Mount propagation: moving mounts requires private parents.
do_mount --make-rprivate / 2>/dev/null || log "warning: cannot make / private"

# 3. The deployment becomes a mount point of its own.
do_mount --bind "$DEPLOY" "$DEPLOY" || fatal "cannot bind-mount $DEPLOY"

# 4. /boot on the root filesystem (the loader link lives there): make it visible in the deployment.
if [ -L "$SYSROOT/boot/loader" ] && [ -d "$DEPLOY/boot" ]; then
	do_mount --bind "$SYSROOT/boot" "$DEPLOY/boot" || fatal "cannot bind-mount $SYSROOT/boot onto $DEPLOY/boot"
fi

# 5. /usr: read-only, or the hotfix overlay after `ostree admin unlock --hotfix`.
if [ -d "$DEPLOY/.usr-ovl-work" ]; then
	do_mount -t overlay overlay \
		-o "lowerdir=$DEPLOY/usr,upperdir=$DEPLOY/.usr-ovl-upper,workdir=$DEPLOY/.usr-ovl-work" \
		"$DEPLOY/usr" || fatal "cannot mount the hotfix overlay on $DEPLOY/usr"
	log "/usr: hotfix overlay (writable)"
else
	do_mount --bind "$DEPLOY/usr" "$DEPLOY/usr" || fatal "cannot bind-mount $DEPLOY/usr"
	do_mount -o remount,bind,ro "$DEPLOY/usr" || fatal "cannot make $DEPLOY/usr read-only"
fi

# 6. /var, only when asked (the systemd generator normally writes var.mount).
if [ "${OSTREE_PREPARE_ROOT_MOUNT_VAR:-0}" = 1 ] || [ -e "$RUNDIR/ostree/initramfs-mount-var" ]; then
	do_mount --bind "$DEPLOY/../../var" "$DEPLOY/var" || fatal "cannot bind-mount the stateroot var onto $DEPLOY/var"
fi

# 7. Tell userspace this is an OSTree boot.
mkdir -p "$RUNDIR" 2>/dev/null
: > "$RUNDIR/ostree-booted" && chmod 0640 "$RUNDIR/ostree-booted" || log "warning: cannot create $RUNDIR/ostree-booted"

# 8. Rearrange: deployment -> SYSROOT, physical root -> SYSROOT/sysroot.
[ -d "$DEPLOY/sysroot" ] || fatal "deployment $DEPLOY has no sysroot directory"
TMP=${OSTREE_PREPARE_ROOT_TMP:-/sysroot.tmp}
[ "$SYSROOT" = "$TMP" ] && TMP=$TMP.2
mkdir -p "$TMP" || fatal "cannot create $TMP"
do_mount --move "$DEPLOY" "$TMP" || fatal "cannot move $DEPLOY to $TMP"
do_mount --move "$SYSROOT" "$TMP/sysroot" || fatal "cannot move $SYSROOT to $TMP/sysroot"
do_mount --move "$TMP" "$SYSROOT" || fatal "cannot move $TMP to $SYSROOT"
rmdir "$TMP" 2>/dev/null

do_mount --make-private "$SYSROOT/sysroot" 2>/dev/null || log "warning: cannot make $SYSROOT/sysroot private"
END=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)
if [ -n "$START" ] && [ -n "$END" ]; then
	log "done in $(awk -v a="$START" -v b="$END" 'BEGIN { printf "%d", (b - a) * 1000 }') ms"
fi
exit 0

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
# Boot time: under emulation (TCG) every program the initramfs starts costs tens of
# milliseconds, so this script uses shell builtins wherever it can (read, cd -P/pwd -P, case,
# arithmetic) and starts only the mount commands it needs.
#
# /var: the stateroot's var is bound onto the deployment's /var here, in the initramfs, so that
# systemd finds it mounted (the var.mount that ostree-system-generator writes then only
# describes it) instead of mounting it in the middle of local-fs.target, where every unit that
# needs /var waits for it.  Not done when the deployment's /etc/fstab mounts /var itself or the
# command line has systemd.volatile (the generator leaves var.mount out, or it is skipped,
# in those cases too).
#
# Environment (for tests and special set-ups):
#   OSTREE_PREPARE_ROOT_CMDLINE   file to read the command line from (default /proc/cmdline)
#   OSTREE_PREPARE_ROOT_RUN       runtime directory (default /run)
#   OSTREE_PREPARE_ROOT_ON_ERROR  shell | exit  (default: shell when run from initramfs-tools,
#                                 exit otherwise).  "shell" prints the error, offers a rescue
#                                 shell that gives up after ostree.rescue_timeout=N seconds
#                                 (default 60), then powers the machine off.
#   OSTREE_PREPARE_ROOT_MOUNT_VAR 1: always bind the stateroot's var onto /var (also when
#                                 RUNDIR/ostree/initramfs-mount-var exists, as upstream); 0: never
#                                 (leave it to the generator's var.mount); unset: as described above
#   OSTREE_PREPARE_ROOT_DRY_RUN   1 to only resolve and print the deployment path, mount nothing
#   OSTREE_PREPARE_ROOT_TMP       scratch mount point the deployment is assembled on (/sysroot.tmp)
#   OSTREE_PREPARE_ROOT_MOUNT     the mount command ("busybox mount" mounts everything with one
#                                 `mount -a -T`; anything else runs once per mount)

set -u

PROG=ostree-prepare-root
CMDLINE_FILE=${OSTREE_PREPARE_ROOT_CMDLINE:-/proc/cmdline}
RUNDIR=${OSTREE_PREPARE_ROOT_RUN:-/run}

log() {
	echo "$PROG: $*" >&2
}

# In the initramfs klibc's mount lacks --bind/--move: use busybox's when there is a busybox
# (initramfs-tools' hook always adds one; it always has the mount applet).
# OSTREE_PREPARE_ROOT_MOUNT overrides the choice (tests).
if [ -n "${OSTREE_PREPARE_ROOT_MOUNT:-}" ]; then
	MOUNT=$OSTREE_PREPARE_ROOT_MOUNT
elif command -v busybox >/dev/null 2>&1; then
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
	cmdline_lookup "$1" || return 1
	echo "$cmdline_found"
}

# Sets $cmdline_found like cmdline_value prints it, without the subshell a $(...) costs.
cmdline_lookup() {
	for tok in $CMDLINE; do
		case "$tok" in
		"$1"=*) cmdline_found=${tok#*=}; return 0 ;;
		esac
	done
	return 1
}

# Sets $resolved to the physical path of directory $1 (every symlink resolved, as readlink -f)
# with builtins only; the working directory is left as it was (initramfs-tools sources us).
resolve_dir() {
	resolved=""
	_cwd=$PWD
	cd -P "$1" 2>/dev/null || return 1
	resolved=$PWD
	cd "$_cwd" 2>/dev/null || cd /
	return 0
}

# Sets $uptime_cs to the uptime in centiseconds ("12.34" -> 1234), "" when unknown; no
# program, no subshell.
uptime_cs() {
	uptime_cs=""
	[ -r /proc/uptime ] || return 0
	read -r up _ < /proc/uptime || return 0
	case "$up" in *.??) uptime_cs=$(( ${up%.*} * 100 + 1${up#*.} - 100 )) ;; esac
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

# Whether any mount has shared propagation (then moving mounts needs `--make-rprivate /` first:
# systemd in a dracut initramfs makes everything shared; initramfs-tools leaves it private).
any_shared_mount() {
	[ -r /proc/self/mountinfo ] || return 0
	while read -r line; do
		case "$line" in *" shared:"*) return 0 ;; esac
	done < /proc/self/mountinfo
	return 1
}

# Whether the fstab file $1 has an entry for /var (mount point compared without repeated or
# trailing slashes).
fstab_mounts_var() {
	[ -r "$1" ] || return 1
	while read -r _spec file _rest; do
		case "$_spec" in ''|'#'*) continue ;; esac
		case "$file" in /*) ;; *) continue ;; esac
		while :; do
			case "$file" in
			*//*) file=${file%%//*}/${file#*//} ;;
			?*/) file=${file%/} ;;
			*) break ;;
			esac
		done
		[ "$file" = /var ] && return 0
	done < "$1"
	return 1
}

# Whether to bind the stateroot's var onto /var here (see the header).
want_var_mount() {
	case "${OSTREE_PREPARE_ROOT_MOUNT_VAR:-}" in
	1) return 0 ;;
	0) return 1 ;;
	esac
	[ -e "$RUNDIR/ostree/initramfs-mount-var" ] && return 0
	case " $CMDLINE " in *" systemd.volatile "*|*" systemd.volatile="*) return 1 ;; esac
	! fstab_mounts_var "$DEPLOY/etc/fstab"
}

# Where PLAN's target $1 ends up once every line has run (the last line moves TMP to SYSROOT).
final_target() {
	case "$1" in
	"$TMP") final=$SYSROOT ;;
	"$TMP"/*) final=$SYSROOT${1#"$TMP"} ;;
	*) final=$1 ;;
	esac
}

# Whether $1 is a mount point (builtins only: /proc/self/mountinfo).
is_mount_point() {
	while read -r _id _parent _dev _root mp _rest; do
		[ "$mp" = "$1" ] && return 0
	done < /proc/self/mountinfo
	return 1
}

# Calls "$@" once per line of PLAN with the line's fields appended (no subshell, no pipe).
for_each_planned() {
	_ifs=$IFS
	set -f
	IFS='
'
	for _line in $PLAN; do
		IFS=' '
		# shellcheck disable=SC2086
		"$@" $_line
		IFS='
'
	done
	IFS=$_ifs
	set +f
}

mount_one() { # SOURCE TARGET TYPE OPTIONS
	case "$4" in
	bind) do_mount --bind "$1" "$2" ;;
	move) do_mount --move "$1" "$2" ;;
	*) do_mount -t "$3" -o "$4" "$1" "$2" ;;
	esac || fatal "cannot mount $1 on $2"
}

check_one() { # SOURCE TARGET TYPE OPTIONS
	final_target "$2"
	is_mount_point "$final" || fatal "the mounts planned in $table did not all happen: $final is not a mount point (line: $1 $2)"
}

# Every line of PLAN with one `busybox mount -a -T TABLE`: one program instead of one per
# mount, which under emulation saves about 50 ms a mount.  mount -a goes on after a failed
# line, so each planned mount is then looked for in /proc/self/mountinfo.
mount_plan_at_once() {
	table="$RUNDIR/ostree/prepare-root.fstab"
	[ -d "$RUNDIR/ostree" ] || mkdir -p "$RUNDIR/ostree" || fatal "cannot create $RUNDIR/ostree"
	printf '%s' "$PLAN" > "$table" || fatal "cannot write $table"
	busybox mount -a -T "$table" || log "warning: busybox mount -a -T $table failed; looking for each mount"
	for_each_planned check_one
}

mount_plan_one_by_one() {
	for_each_planned mount_one
}

if [ -z "${OSTREE_PREPARE_ROOT_ON_ERROR:-}" ]; then
	if [ -e /scripts/functions ] || [ "$$" = 1 ]; then ON_ERROR=shell; else ON_ERROR=exit; fi
else
	ON_ERROR=$OSTREE_PREPARE_ROOT_ON_ERROR
fi

SYSROOT=${1:-/sysroot}
uptime_cs
START=$uptime_cs

# 1. /proc and the command line.
if [ "$CMDLINE_FILE" = /proc/cmdline ] && [ ! -e /proc/cmdline ]; then
	mkdir -p /proc && do_mount -t proc proc /proc || fatal "cannot mount /proc"
fi
[ -r "$CMDLINE_FILE" ] || fatal "cannot read the kernel command line from $CMDLINE_FILE"
CMDLINE=""
while IFS= read -r line || [ -n "$line" ]; do
	CMDLINE=${CMDLINE:+"$CMDLINE "}$line
done < "$CMDLINE_FILE"

[ -d "$SYSROOT" ] || fatal "the root filesystem mount point $SYSROOT does not exist"
resolve_dir "$SYSROOT" || fatal "cannot resolve $SYSROOT"
SYSROOT=$resolved

cmdline_lookup ostree ||
	fatal "no ostree= argument on the kernel command line (it was: $CMDLINE); $(describe_bootlinks)"
OSTREE_TARGET=$cmdline_found

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
# The link's target, every symlink resolved (as readlink -f, but a builtin).
resolve_dir "$LINK" || resolved=""
DEPLOY=$resolved
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
[ -d "$DEPLOY/sysroot" ] || fatal "deployment $DEPLOY has no sysroot directory"
STATEROOT_VAR="${DEPLOY%/deploy/*}/var"
MOUNT_VAR=no
if want_var_mount; then
	# Without either directory, leave /var to var.mount: systemd then says what is missing.
	if [ ! -d "$STATEROOT_VAR" ]; then
		log "warning: the stateroot has no var directory (${STATEROOT_VAR#"$SYSROOT"}); not mounting /var"
	elif [ ! -d "$DEPLOY/var" ]; then
		log "warning: the deployment has no var directory; not mounting /var"
	else
		MOUNT_VAR=yes
	fi
fi

# 2. Mount propagation: moving mounts requires private parents.
if any_shared_mount; then
	do_mount --make-rprivate / 2>/dev/null || log "warning: cannot make / private"
fi

# 3-8. The mounts, planned first (one line each: SOURCE TARGET TYPE OPTIONS, fstab syntax),
#    then made.  The deployment is assembled on a scratch mount point outside the physical root
#    (so that the physical root can then be moved under it):
#      deployment -> TMP; /boot (the loader link lives there) -> TMP/boot; /usr -> TMP/usr
#      (read-only, or the hotfix overlay after `ostree admin unlock --hotfix`); the stateroot's
#      var -> TMP/var; physical root -> TMP/sysroot; TMP -> SYSROOT.
TMP=${OSTREE_PREPARE_ROOT_TMP:-/sysroot.tmp}
[ "$SYSROOT" = "$TMP" ] && TMP=$TMP.2
MADE_TMP=no
if [ ! -d "$TMP" ]; then
	mkdir -p "$TMP" || fatal "cannot create $TMP"
	MADE_TMP=yes
fi

PLAN=""
plan() {
	case "$1$2$4" in
	*[[:space:]]*) fatal "cannot mount $1 on $2: the path holds white space" ;;
	esac
	PLAN="$PLAN$1 $2 $3 $4 0 0
"
}
plan "$DEPLOY" "$TMP" none bind
if [ -L "$SYSROOT/boot/loader" ] && [ -d "$DEPLOY/boot" ]; then
	plan "$SYSROOT/boot" "$TMP/boot" none bind
fi
USR_RO=no
if [ -d "$DEPLOY/.usr-ovl-work" ]; then
	plan overlay "$TMP/usr" overlay "lowerdir=$DEPLOY/usr,upperdir=$DEPLOY/.usr-ovl-upper,workdir=$DEPLOY/.usr-ovl-work"
	log "/usr: hotfix overlay (writable)"
else
	plan "$DEPLOY/usr" "$TMP/usr" none bind
	USR_RO=yes
fi
if [ "$MOUNT_VAR" = yes ]; then
	plan "$STATEROOT_VAR" "$TMP/var" none bind
fi
plan "$SYSROOT" "$TMP/sysroot" none move
plan "$TMP" "$SYSROOT" none move

if [ "$MOUNT" = "busybox mount" ]; then
	mount_plan_at_once
else
	mount_plan_one_by_one
fi
if [ "$USR_RO" = yes ]; then
	do_mount -o remount,bind,ro "$SYSROOT/usr" || fatal "cannot make $DEPLOY/usr read-only"
fi
[ "$MADE_TMP" = no ] || rmdir "$TMP" 2>/dev/null

# Tell userspace this is an OSTree boot (mode 0640, as upstream's) ...
[ -d "$RUNDIR" ] || mkdir -p "$RUNDIR" 2>/dev/null
(umask 027 && : > "$RUNDIR/ostree-booted") 2>/dev/null || log "warning: cannot create $RUNDIR/ostree-booted"
# ... and that /var is already bound (upstream's marker): the generator then has nothing to do.
if [ "$MOUNT_VAR" = yes ]; then
	[ -d "$RUNDIR/ostree" ] || mkdir -p "$RUNDIR/ostree" 2>/dev/null
	: > "$RUNDIR/ostree/initramfs-mount-var" 2>/dev/null || log "warning: cannot create $RUNDIR/ostree/initramfs-mount-var"
fi

uptime_cs
END=$uptime_cs
if [ -n "$START" ] && [ -n "$END" ]; then
	log "done in $(( (END - START) * 10 )) ms"
fi
exit 0

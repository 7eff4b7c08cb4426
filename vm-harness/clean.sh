#!/bin/bash
# Remove what the build, the VM harness and the benchmarks made, whatever it holds: `make clean`
# and `make distclean` call this with the paths to remove.  Plain `rm -rf` is not enough:
#  - ostree sets the immutable bit on every deployment directory (the harness's sysroot, the
#    benchmark's admin image), and rm fails with "Operation not permitted": clear it (chattr -i,
#    root only) and remove again;
#  - an interrupted run can leave a filesystem mounted below a path (the benchmark loop-mounts an
#    ext4 image, and may leave it frozen) or a loop device attached to an image file: thaw,
#    unmount (lazily if busy) and detach those first, so nothing is removed through a mount.
# Usage: clean.sh PATH...   (missing paths are skipped; a path may be a file or a directory)
set -u

status=0

# Mount points at or below $1, deepest first (mountinfo escapes spaces and such as \040).
mounts_below() {
	local dir=$1
	awk '{ print $5 }' /proc/self/mountinfo | while read -r m; do
		m=$(printf '%b' "$m")
		case "$m" in "$dir" | "$dir"/*) echo "$m" ;; esac
	done | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

# Loop devices whose backing file is at or below $1.
loops_below() {
	local dir=$1
	losetup -n -l -O NAME,BACK-FILE 2>/dev/null | while read -r dev file; do
		file=${file% (deleted)}
		case "$file" in "$dir" | "$dir"/*) echo "$dev" ;; esac
	done
}

remove() {
	local p=$1 real size
	[ -e "$p" ] || [ -L "$p" ] || return 0
	real=$(realpath -e "$p" 2>/dev/null || echo "$p")
	case "$real" in
	/ | /usr | /etc | /var | /home | /root | /boot | /dev | /proc | /sys | /run | /tmp | /var/tmp | /var/cache)
		echo "clean: refusing to remove $real" >&2; status=1; return ;;
	esac
	if [ -d "$real" ] && [ ! -L "$p" ]; then
		while read -r m; do
			[ -n "$m" ] || continue
			fsfreeze -u "$m" 2>/dev/null
			echo "clean: unmounting $m"
			umount "$m" 2>/dev/null || umount -l "$m" || { echo "clean: cannot unmount $m" >&2; status=1; return; }
		done < <(mounts_below "$real")
	fi
	while read -r dev; do
		[ -n "$dev" ] || continue
		echo "clean: detaching $dev"
		losetup -d "$dev" || status=1
	done < <(loops_below "$real")
	size=$(du -sh "$p" 2>/dev/null | cut -f1)
	if ! rm -rf "$p" 2>/dev/null; then
		# Deployments carry the immutable bit: clear it on what is left, then remove again.
		chattr -R -f -i "$p" 2>/dev/null
		if ! rm -rf "$p"; then
			echo "clean: cannot remove $p (immutable files need root: run this as root)" >&2
			status=1
			return
		fi
	fi
	echo "clean: removed $p${size:+ ($size)}"
}

for p in "$@"; do
	remove "$p"
done
exit $status

#!/bin/sh
# Only for OSTREE_CLI=upstream (the oracle): upstream ostree's grub2 backend runs
# $OSTREE_GRUB2_EXEC -o <sysroot>/boot/loader.B/grub.cfg.  This writes the same kind of
# grub.cfg our grub2 backend writes (one menuentry per BLS entry, newest first, /boot prefix,
# serial + console terminal) from the entries next to the target.
set -eu
[ "$1" = -o ] || { echo "usage: $0 -o OUTPUT" >&2; exit 1; }
out=$2
dir=$(dirname "$out")
prefix=${OSTREE_BOOT_PARTITION-/boot}
tmp="$out.tmp"
{
	echo "# Generated from $dir/entries by the vm-harness oracle generator"
	echo "serial --unit=0 --speed=115200"
	echo "terminal_input serial console"
	echo "terminal_output serial console"
	echo "default=0"
	echo "timeout=${OSTREE_GRUB_TIMEOUT:-3}"
	for f in $(ls -v -r "$dir"/entries/*.conf 2>/dev/null); do
		title=$(sed -n 's/^title //p' "$f")
		linux=$(sed -n 's/^linux //p' "$f")
		initrd=$(sed -n 's/^initrd //p' "$f")
		options=$(sed -n 's/^options //p' "$f")
		echo
		echo "menuentry '$title' {"
		printf '\tlinux %s%s %s\n' "$prefix" "$linux" "$options"
		[ -z "$initrd" ] || printf '\tinitrd %s%s\n' "$prefix" "$initrd"
		echo "}"
	done
} > "$tmp"
mv "$tmp" "$out"

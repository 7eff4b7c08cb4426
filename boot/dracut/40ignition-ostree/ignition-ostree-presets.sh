#!/bin/sh
# ignition-ostree-presets ROOT: `systemctl --root=ROOT preset` for every unit named in Ignition's
# preset file (ROOT/etc/systemd/system-preset/20-ignition.preset: lines "enable UNIT" or
# "disable UNIT").  Nothing to do without the file.
set -eu
root=$1
file=$root/etc/systemd/system-preset/20-ignition.preset
[ -e "$file" ] || exit 0
units=""
while read -r verb unit _rest; do
	case "$verb" in
	enable|disable) units="$units $unit" ;;
	esac
done < "$file"
[ -n "$units" ] || exit 0
echo "ignition-ostree-presets: systemctl preset$units"
# shellcheck disable=SC2086
exec systemctl --root="$root" preset $units

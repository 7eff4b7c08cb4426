#!/bin/sh
# Which first-boot unit failed, and Ignition's error lines from the journal of those units (the
# files and mount stages log to stdout at info priority; fetch-offline logs its errors itself).
# Silent when nothing of Ignition failed (the emergency target was reached for another reason).
failed=""
for u in ignition-fetch-offline ignition-fetch ignition-kargs ignition-disks ignition-mount ignition-files \
	ignition-remount-sysroot ignition-ostree-populate-var ignition-ostree-presets; do
	systemctl -q is-failed "$u.service" && failed="$failed $u.service"
done
[ -n "$failed" ] || exit 0
echo "ignition-ostree: Ignition failed ($failed ); this node is not provisioned and stops here."
echo "ignition-ostree: Ignition's errors:"
for u in $failed; do
	journalctl -b --no-pager -o cat -u "$u"
done | sed -n -e '/CRITICAL\|ERROR\|[Ee]rror\|[Ff]ailed\|invalid\|unsupported\|not fully simplified\|not absolute/s/^/ignition-ostree:   /p'
echo "ignition-ostree: fix the config and boot again (the first-boot stamp /boot/ignition.firstboot is still there)."
exit 0

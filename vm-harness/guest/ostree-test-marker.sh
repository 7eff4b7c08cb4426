#!/bin/sh
# Test instrumentation baked into the VM image (not part of the product): prints a "booted"
# marker and the state of the OSTree boot to the serial console, then runs the scenario script
# passed by the harness through fw_cfg (opt/ostree-ts/script), if any.  Without a script the
# guest powers off.  Every section is framed so the harness can parse the serial log:
#   @@OSTREE-TEST BEGIN <name>  ...  @@OSTREE-TEST END <name> rc=<n>
exec >/dev/ttyS0 2>&1
section() { # name command...
	name=$1; shift
	echo "@@OSTREE-TEST BEGIN $name"
	"$@"
	rc=$?
	echo "@@OSTREE-TEST END $name rc=$rc"
}
echo "@@OSTREE-TEST BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
section cmdline cat /proc/cmdline
section status ostree admin status
section findmnt-usr findmnt -n -r -o TARGET,SOURCE,FSTYPE,OPTIONS /usr
section findmnt-var findmnt -n -r -o TARGET,SOURCE,FSTYPE,OPTIONS /var
section findmnt-sysroot findmnt -n -r -o TARGET,SOURCE,FSTYPE,OPTIONS /sysroot
section ostree-booted ls -l /run/ostree-booted
section var-unit sh -c "systemctl show -p FragmentPath -p ActiveState var.mount; ls /run/ostree/initramfs-mount-var /run/systemd/generator/var.mount 2>&1"
section failed-units systemctl --no-pager --no-legend --failed
modprobe qemu_fw_cfg 2>/dev/null
script=/sys/firmware/qemu_fw_cfg/by_name/opt/ostree-ts/script/raw
if [ -r "$script" ]; then
	cp "$script" /run/ostree-test-script

	echo "@@OSTREE-TEST BEGIN script"
	sh /run/ostree-test-script
	rc=$?
	echo "@@OSTREE-TEST END script rc=$rc"
	# The script decides how the boot ends: after `touch /run/ostree-test-keep-running` (e.g.
	# before `systemctl reboot`) the marker leaves the shutdown to it; otherwise power off.
	if [ -e /run/ostree-test-keep-running ]; then
		echo "@@OSTREE-TEST SCRIPT-ENDS-BOOT"
		exit 0
	fi
fi
echo "@@OSTREE-TEST POWEROFF"
systemctl --no-block start poweroff.target

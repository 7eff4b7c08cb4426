#!/bin/sh
# ostree-boot-complete: report a finalization that failed during the previous shutdown.
# Installed as /usr/lib/ostree/ostree-boot-complete (run by ostree-boot-complete.service).
STAMP=${OSTREE_BOOT_COMPLETE_STAMP:-/boot/ostree/finalize-failure.stamp}
[ -e "$STAMP" ] || exit 0
msg=$(cat "$STAMP" 2>/dev/null)
rm -f "$STAMP"
echo "error: ostree-finalize-staged.service failed on previous boot: ${msg:-(no message recorded)}" >&2
exit 1

#!/bin/sh
# ostree-finalize-hold: keep /boot busy until SIGTERM, so that an automounted /boot is still
# mounted when ostree-finalize-staged.service (ordered before this unit's stop) runs at
# shutdown.  Installed as /usr/lib/ostree/ostree-finalize-hold.
cd /boot || exit 1
trap 'exit 0' TERM INT
while :; do
	sleep 3600 &
	wait $!
done

#!/bin/sh
# After removing hsmwatch: systemd forgets the unit. The user, the configuration and
# /var/lib/hsmwatch (the store) stay, as an operator expects of a removal (deb: purge
# removes the configuration).
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0

#!/bin/sh
# Before removing hsmwatch (deb: remove; rpm: 0 packages left), not before an upgrade:
# stop and disable the service.
set -e
case "$1" in
  remove|purge|0)
    if [ -d /run/systemd/system ]; then
      systemctl disable --now hsmwatch.service >/dev/null 2>&1 || true
    fi
    ;;
esac
exit 0

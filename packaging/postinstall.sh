#!/bin/sh
# After installing or upgrading hsmwatch (deb: configure; rpm: 1 or 2): the service's
# own system user, the configuration readable by it only, systemd told of the unit.
set -e
if ! getent group hsmwatch >/dev/null 2>&1; then
  groupadd --system hsmwatch
fi
if ! getent passwd hsmwatch >/dev/null 2>&1; then
  useradd --system --gid hsmwatch --home-dir /var/lib/hsmwatch --no-create-home \
    --shell /usr/sbin/nologin --comment "hsmwatch HSM monitoring" hsmwatch
fi
chown root:hsmwatch /etc/hsmwatch /etc/hsmwatch/hsmwatch.yml
chmod 0750 /etc/hsmwatch
chmod 0640 /etc/hsmwatch/hsmwatch.yml
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  # An upgrade restarts a running daemon on the new binary; a first install leaves it
  # to the operator, who edits the configuration first.
  if systemctl is-active --quiet hsmwatch.service; then
    systemctl restart hsmwatch.service || true
  else
    echo "hsmwatch: edit /etc/hsmwatch/hsmwatch.yml, then: systemctl enable --now hsmwatch"
  fi
fi
exit 0

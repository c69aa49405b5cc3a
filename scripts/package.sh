#!/usr/bin/env bash
# Builds hsmwatch's .deb and .rpm into dist/ with nfpm (packaging/nfpm.yaml): the binary
# with its version stamped, man pages generated from the commands, bash/zsh/fish
# completions, the default configuration, the systemd unit and contrib/'s definitions.
#
#   scripts/package.sh          build the packages
#   scripts/package.sh --test   build, then install the .deb (dpkg -i), check it
#                               (hsmwatch version, the configuration, systemd-analyze
#                               verify on the unit, rpm -qpl on the .rpm) and purge it
#
#   HSMWATCH_VERSION=1.2.0   the version (default: the latest v* tag, else
#                            0.0.0~gitDATE.COMMIT)
#   SOURCE_DATE_EPOCH        the build date (default: now)
# scripts/test.sh runs it with --test, as root (dpkg).
set -euo pipefail
cd "$(dirname "$0")/.."

# nfpm through the Go module proxy, at a release built with this Go.
nfpm_version=v2.48.0
nfpm() { go run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$nfpm_version" "$@"; }

version=${HSMWATCH_VERSION:-}
if [ -z "$version" ]; then
  if tag=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
    version=${tag#v}
  else
    version="0.0.0~git$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || date -u +%Y%m%d).$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  fi
fi
version=${version//-/.}   # a .deb's version may not hold "-" outside the revision
build_date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
arch=$(go env GOARCH)
# The commit, stamped too: Go's own VCS stamping misses it in a git worktree.
commit=$(git rev-parse HEAD 2>/dev/null || true)
if [ -n "$commit" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-modified"
fi

rm -rf build dist
mkdir -p build/man build/completions dist
pkg=github.com/hsmwatch/hsmwatch/internal/version
echo "== building hsmwatch $version ($arch, $build_date)"
go build -trimpath -ldflags "-s -w -X $pkg.version=$version -X $pkg.date=$build_date${commit:+ -X $pkg.commit=$commit}" -o build/hsmwatch ./cmd/hsmwatch
build/hsmwatch man build/man >/dev/null
gzip -9n build/man/*.1
for sh in bash zsh fish; do
  build/hsmwatch completion "$sh" >"build/completions/hsmwatch.$sh"
done
mv build/completions/hsmwatch.zsh build/completions/_hsmwatch

for p in deb rpm; do
  HSMWATCH_VERSION=$version HSMWATCH_ARCH=$arch nfpm package --config packaging/nfpm.yaml --packager "$p" --target dist/
done
ls -l dist/

[ "${1:-}" = "--test" ] || exit 0

deb=$(ls dist/*.deb)
rpmfile=$(ls dist/*.rpm)
echo "== installing $deb"
cleanup() { dpkg --purge hsmwatch >/dev/null 2>&1 || true; }
trap cleanup EXIT
dpkg -i "$deb"

fail() { echo "package test: $*" >&2; exit 1; }
out=$(hsmwatch version)
echo "$out"
printf '%s\n' "$out" | grep -qx "hsmwatch $version" || fail "hsmwatch version does not say $version"
hsmwatch --version | grep -qx "hsmwatch $version" || fail "hsmwatch --version does not say $version"
hsmwatch check snmp -V | grep -q "^hsmwatch check snmp $version " || fail "check snmp -V"
getent passwd hsmwatch >/dev/null || fail "no user hsmwatch"
[ "$(stat -c '%U:%G %a' /etc/hsmwatch/hsmwatch.yml)" = "root:hsmwatch 640" ] || fail "/etc/hsmwatch/hsmwatch.yml: $(stat -c '%U:%G %a' /etc/hsmwatch/hsmwatch.yml)"
dpkg-query -W -f='${Conffiles}\n' hsmwatch | grep -q /etc/hsmwatch/hsmwatch.yml || fail "the configuration is no conffile"
hsmwatch config check /etc/hsmwatch/hsmwatch.yml
for f in /usr/share/man/man1/hsmwatch.1.gz /usr/share/man/man1/hsmwatch-check-snmp.1.gz \
  /usr/share/bash-completion/completions/hsmwatch /usr/share/zsh/vendor-completions/_hsmwatch \
  /usr/share/fish/vendor_completions.d/hsmwatch.fish /usr/share/hsmwatch/icinga2/hsmwatch.conf \
  /usr/share/hsmwatch/nagios/hsmwatch.cfg /usr/share/hsmwatch/grafana/hsmwatch-fleet.json \
  /usr/share/hsmwatch/prometheus/hsmwatch-rules.yml /usr/share/doc/hsmwatch/copyright; do
  [ -s "$f" ] || fail "$f is missing"
done
zcat /usr/share/man/man1/hsmwatch-serve.1.gz | grep -q '^\.TH "HSMWATCH" "1"' || fail "hsmwatch-serve.1 is no man page"
bash -c 'source /usr/share/bash-completion/completions/hsmwatch && complete -p hsmwatch' >/dev/null || fail "the bash completion does not load"
unit=/usr/lib/systemd/system/hsmwatch.service
for d in User=hsmwatch StateDirectory=hsmwatch ProtectSystem=strict NoNewPrivileges=yes \
  CapabilityBoundingSet=CAP_NET_BIND_SERVICE AmbientCapabilities=CAP_NET_BIND_SERVICE; do
  grep -qx "$d" "$unit" || fail "the unit lacks $d"
done
echo "== systemd-analyze verify"
systemd-analyze verify /usr/lib/systemd/system/hsmwatch.service
echo "== systemd-analyze security (exposure of the unit)"
systemd-analyze security --offline=true /usr/lib/systemd/system/hsmwatch.service 2>/dev/null | tail -n 1 || true

if command -v rpm >/dev/null 2>&1; then
  echo "== rpm -qpl $rpmfile"
  files=$(rpm -qpl "$rpmfile")
  for f in /usr/bin/hsmwatch /etc/hsmwatch/hsmwatch.yml /usr/lib/systemd/system/hsmwatch.service \
    /usr/share/man/man1/hsmwatch.1.gz /usr/share/zsh/site-functions/_hsmwatch /usr/share/licenses/hsmwatch/LICENSE; do
    printf '%s\n' "$files" | grep -qx "$f" || fail "the rpm lacks $f"
  done
  rpm -qpc "$rpmfile" | grep -qx /etc/hsmwatch/hsmwatch.yml || fail "the rpm's configuration is no %config"
  rpm -qp --scripts "$rpmfile" | grep -q useradd || fail "the rpm does not create the user"
fi

echo "== removing the package"
dpkg --purge hsmwatch
[ ! -e /usr/bin/hsmwatch ] || fail "/usr/bin/hsmwatch is still there after dpkg --purge"
trap - EXIT
echo "package test passed"

#!/usr/bin/env bash
# The project's test command (README, "Test"). It installs what the tests need, then runs
# gofmt, go vet, staticcheck, a check that go.mod and go.sum are tidy, the whole test
# suite under the race detector, every parser's fuzz target for a bounded time, and each
# benchmark once so that none of them rots.
#
#   FUZZTIME=10s   how long each fuzz target runs (0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
# Screenshots of the dashboard's browser test are kept here (a CI job can archive it).
export HSMWATCH_ARTIFACTS=${HSMWATCH_ARTIFACTS:-$PWD/artifacts}

step() { printf '\n== %s\n' "$*"; }

step "tools"
if ! command -v go >/dev/null 2>&1; then
  echo "go is not installed: install Go $(sed -n 's/^go //p' go.mod) or later (https://go.dev/dl/)" >&2
  exit 1
fi
go version
# Debian packages the tests use as real peers: net-snmp's tools, agent and trap daemon
# (snmp, snmpd, snmptrapd), SoftHSM2 and OpenSC's pkcs11-tool for the PKCS#11 checks, gcc
# for the test PKCS#11 module, PostgreSQL (the store's tests start their own server from
# its binaries), Chromium for the dashboard's browser test, Prometheus for promtool (the
# daemon's /metrics test lints the exposition with it; contrib/'s tests check the alerting
# rules and the dashboard with it), npm to install axe-core for the dashboard's
# accessibility checks (only where the machine has no npm: Debian's npm conflicts with a
# Node.js installed from elsewhere, which brings its own), rpm to list the .rpm that scripts/package.sh builds. Tests that need
# one of them fail, never skip, under CI=true. rsyslog and syslog-ng's libraries
# (libivykis0, libnet1, libpcre3) are the peers of the ingest harness (go run ./bench/ingest),
# which runs a private instance of each; syslog-ng-core itself conflicts with rsyslog, so the
# harness unpacks it ("apt-get download", "dpkg -x") rather than installing it.
packages=(snmp snmpd snmptrapd softhsm2 opensc gcc postgresql chromium prometheus rpm rsyslog libivykis0 libnet1 libpcre3)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
go mod download
# axe-core, which the dashboard's browser tests load into the page (the version their
# axeVersion names), in the user's cache where they look for it.
axe_version=$(sed -n 's/^const axeVersion = "\(.*\)"/\1/p' internal/web/dashboard/console_browser_test.go)
axe_dir="${XDG_CACHE_HOME:-$HOME/.cache}/hsmwatch/axe-core-$axe_version"
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  npm install --prefix "$axe_dir" --no-audit --no-fund "axe-core@$axe_version"
fi
export HSMWATCH_AXE="$axe_dir/node_modules/axe-core/axe.min.js"

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi

step "go vet"
go vet ./...

# staticcheck through the Go module proxy, at a release that knows the Go version of
# go.mod (2026.2.2 for Go 1.26); any finding fails the run.
staticcheck_version=v0.8.2
step "staticcheck $staticcheck_version"
go run "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version" ./...

step "go mod tidy"
# -diff prints what tidying would change and exits non-zero, without touching the files.
if ! go mod tidy -diff; then
  echo "go.mod/go.sum are not tidy: run go mod tidy and commit the result" >&2
  exit 1
fi

step "go test -race"
go test -race -count=1 ./...

# The .deb and .rpm (nfpm), installed with dpkg -i, checked (hsmwatch version,
# systemd-analyze verify on the unit, rpm -qpl) and purged again.
step "packages"
./scripts/package.sh --test

# fuzz_target runs one fuzz target. Go's fuzzer sometimes ends a run whose time is up
# with "context deadline exceeded" while a worker is still busy, having found nothing
# (no failing input written under testdata/fuzz): that run is tried once more. A found
# failure, which writes its input there, fails the script at once.
fuzz_target() {
  local pkg=$1 dir=$2 target=$3 out
  for try in 1 2; do
    if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s "$pkg" 2>&1); then
      printf '%s\n' "$out" | tail -n 2
      return 0
    fi
    printf '%s\n' "$out"
    if [ "$try" = 1 ] && printf '%s' "$out" | grep -q 'context deadline exceeded' &&
      ! printf '%s' "$out" | grep -q 'Failing input written to'; then
      echo "-- $target: the fuzzer's time ran out mid-run without a failing input; once more"
      continue
    fi
    return 1
  done
}

if [ "$fuzztime" != "0" ]; then
  step "fuzz ($fuzztime per target)"
  for pkg in $(go list ./...); do
    dir=$(go list -f '{{.Dir}}' "$pkg")
    for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
      echo "-- $pkg $target"
      # Minimising each new interesting input may take up to a minute by default, past
      # the fuzz time; on a loaded machine the run then ends in "context deadline
      # exceeded". Bounding it keeps the run within its time.
      fuzz_target "$pkg" "$dir" "$target"
    done
  done
fi

step "benchmarks (one iteration each, to keep them working; see bench/README.md to measure)"
# Only a failure's output is shown: the figures of one iteration mean nothing.
if ! out=$(go test -run '^$' -bench . -benchtime 1x ./... 2>&1); then
  printf '%s\n' "$out" | grep -v '^Benchmark' >&2
  exit 1
fi

step "all tests passed"

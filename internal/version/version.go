// Package version tells which hsmwatch this is: the version, the commit, the build date and
// the Go version, read from the module's build information. A release build may set the
// version and the date with the linker (scripts/package.sh does):
//
//	go build -ldflags "-X github.com/hsmwatch/hsmwatch/internal/version.version=1.2.0
//	  -X github.com/hsmwatch/hsmwatch/internal/version.date=2026-12-07T10:00:00Z" ./cmd/hsmwatch
package version

import (
	"fmt"
	"runtime/debug"
)

// Written only by the linker's -X (never by code): a Go string variable is the one thing
// -ldflags can set. Empty means "read it from the build information".
var (
	version string
	commit  string
	date    string
)

// Info describes one build. A field the binary does not record is "unknown".
type Info struct {
	Version   string // the linker's version, else the main module's (a tag or a pseudo-version), else "(devel)"
	Commit    string // the VCS revision, "-modified" after it when the tree had changes
	Date      string // the linker's date, else the commit's time (RFC 3339)
	GoVersion string
}

// Get returns this binary's build.
func Get() Info { return From(debug.ReadBuildInfo, version, commit, date) }

// From builds an Info from a build-information reader and linker overrides (empty when
// not set); Get's seam for tests.
func From(read func() (*debug.BuildInfo, bool), ldVersion, ldCommit, ldDate string) Info {
	i := Info{Version: "unknown", Commit: "unknown", Date: "unknown", GoVersion: "unknown"}
	if bi, ok := read(); ok && bi != nil {
		if bi.Main.Version != "" {
			i.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if s.Value != "" {
					i.Commit = s.Value
				}
			case "vcs.time":
				if s.Value != "" {
					i.Date = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && i.Commit != "unknown" {
			i.Commit += "-modified"
		}
	}
	if ldVersion != "" {
		i.Version = ldVersion
	}
	if ldCommit != "" {
		i.Commit = ldCommit
	}
	if ldDate != "" {
		i.Date = ldDate
	}
	return i
}

// Short is one line: "1.2.0 (commit 0123abc, built 2026-12-07T10:00:00Z, go1.26.8)".
func (i Info) Short() string {
	return fmt.Sprintf("%s (commit %s, built %s, %s)", i.Version, i.Commit, i.Date, i.GoVersion)
}

// Long is what `hsmwatch version` prints: one "key: value" line each.
func (i Info) Long() string {
	return fmt.Sprintf("hsmwatch %s\ncommit: %s\nbuilt: %s\ngo: %s\n", i.Version, i.Commit, i.Date, i.GoVersion)
}

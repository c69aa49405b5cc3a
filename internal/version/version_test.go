package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261207-abc"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-07T05:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	read := func() (*debug.BuildInfo, bool) { return bi, true }
	got := From(read, "", "", "")
	want := Info{Version: "v0.0.0-20261207-abc", Commit: "abc123-modified", Date: "2026-12-07T05:00:00Z", GoVersion: "go1.26.8"}
	if got != want {
		t.Errorf("from build info: %+v, want %+v", got, want)
	}
	got = From(read, "1.2.0", "feed", "2026-12-08T00:00:00Z")
	want = Info{Version: "1.2.0", Commit: "feed", Date: "2026-12-08T00:00:00Z", GoVersion: "go1.26.8"}
	if got != want {
		t.Errorf("linker overrides: %+v, want %+v", got, want)
	}
	none := From(func() (*debug.BuildInfo, bool) { return nil, false }, "", "", "")
	if none != (Info{"unknown", "unknown", "unknown", "unknown"}) {
		t.Errorf("no build info: %+v", none)
	}
	if s := got.Short(); s != "1.2.0 (commit feed, built 2026-12-08T00:00:00Z, go1.26.8)" {
		t.Errorf("Short: %q", s)
	}
	if l := got.Long(); !strings.HasPrefix(l, "hsmwatch 1.2.0\ncommit: feed\n") {
		t.Errorf("Long: %q", l)
	}
}

// The test binary has build information: Get reads it (the Go version at least).
func TestGet(t *testing.T) {
	if g := Get(); !strings.HasPrefix(g.GoVersion, "go") {
		t.Errorf("Get: %+v", g)
	}
}

package daemon

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// sources and sinks build a configuration's sections from specs written in Go.
func sources(t testing.TB, items ...config.Item) config.Entries {
	t.Helper()
	return section(t, component.SourceRole, items)
}

func sinks(t testing.TB, items ...config.Item) config.Entries {
	t.Helper()
	return section(t, component.SinkRole, items)
}

func section(t testing.TB, role component.Role, items []config.Item) config.Entries {
	t.Helper()
	es, err := config.Section(role, items...)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// metricValue reads one series (name and labels as exposed) from a /metrics body.
func metricValue(t testing.TB, body, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", series, body)
	return 0
}

// waitServing waits until d's Run has started its sources and its HTTP server (a reload
// before that is refused: the daemon is not running yet).
func waitServing(t testing.TB, d *Daemon) {
	t.Helper()
	testutil.WaitFor(t, "the daemon to serve", 20*time.Second, func() bool {
		resp, err := http.Get("http://" + d.Addr().String() + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

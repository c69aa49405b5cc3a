package snmpcheck

import (
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/snmp/poller"
)

func items() []poller.Item {
	return []poller.Item{
		{Title: "battery", Key: "battery", Value: 90, Text: "90%", Unit: "%", State: poller.StateOK, Status: check.OK},
		{Title: "temperature", Key: "temp", Value: 70, Text: "70°C", Warn: "60", State: poller.StateWarning, Status: check.Warning},
		{Title: "NTLS status", Key: "ntls", Value: 2, Text: "notRunning(2)", Crit: "2:2", State: poller.StateCritical, Status: check.Critical},
		{Title: "errors", Instance: "p1", Key: "errors:p1", State: poller.StatePending, Status: check.OK, Reason: "needs two readings"},
	}
}

// The problems come worst first, the OK items are counted, pending items are neither.
func TestJudge(t *testing.T) {
	r := &poller.Result{Status: check.Critical, Items: items()}
	res := judge(r, "lunaA (luna-network)", Options{Verbose: check.Verbose})
	want := "lunaA (luna-network): NTLS status is notRunning(2) (critical when " // the range's wording is the poller's
	if res.Status != check.Critical || !strings.HasPrefix(res.Summary, want) ||
		!strings.Contains(res.Summary, "; temperature is 70°C (warning when ") || !strings.HasSuffix(res.Summary, "; 1 more OK") {
		t.Errorf("got %v %q", res.Status, res.Summary)
	}
	if len(res.Long) != 5 || res.Long[0] != "OK: battery is 90%" || res.Long[3] != "PENDING: errors p1 is pending: needs two readings" ||
		res.Long[4] != "Rates need the counters of the previous run: give --state-file FILE" {
		t.Errorf("long %q", res.Long)
	}
	// Perfdata: known items only, ':' in keys as '_', percentages bounded 0..100.
	if len(res.Perf) != 3 || res.Perf[0].Label != "battery" || res.Perf[0].UOM != "%" || *res.Perf[0].Max != 100 || res.Perf[2].Label != "ntls" {
		t.Errorf("perf %+v", res.Perf)
	}
	quiet := judge(&poller.Result{Status: check.OK, Items: items()[:1]}, "d (dinamo)", Options{StateFile: "x"})
	if quiet.Summary != "d (dinamo): 1 health item OK" || len(quiet.Long) != 0 {
		t.Errorf("got %q %q", quiet.Summary, quiet.Long)
	}
}

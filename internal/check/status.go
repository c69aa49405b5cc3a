// Package check holds the conventions every hsmwatch Nagios/Icinga check shares (memory,
// token, snmp, log), after the Monitoring Plugins Development Guidelines:
// https://www.monitoring-plugins.org/doc/guidelines.html
//
//   - Status: the four states and their exit codes (OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3).
//   - Range and Threshold: the range syntax of -w and -c (10, 10:, ~:10, 10:20, @10:20).
//   - Perfdata: 'label'=value[UOM];[warn];[crit];[min];[max], quoted and trimmed.
//   - Result: what a check found; Write prints "STATUS: summary | perfdata", then the long
//     text, on standard output, and returns the exit code.
//   - Timeout: -t N[:STATE]; Run runs the probe under a watchdog that answers when the
//     deadline passes even if the probe is stuck in C code forever.
//   - Trace: the -v, -vv, -vvv output, safe to write from the probe's goroutine.
//
// A check prints on standard output only, never on standard error; a usage error is UNKNOWN.
package check

import (
	"fmt"
	"strings"
)

// Status is a plugin state; its numeric value is the exit code.
type Status int

// The plugin states, numbered as their exit codes.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

// String returns the state as plugins print it: OK, WARNING, CRITICAL or UNKNOWN.
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	case Unknown:
		return "UNKNOWN"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// ParseStatus reads a state name (ok, warning, critical, unknown, any case; the
// abbreviations warn and crit; or the digits 0 to 3).
func ParseStatus(s string) (Status, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ok", "0":
		return OK, nil
	case "warning", "warn", "1":
		return Warning, nil
	case "critical", "crit", "2":
		return Critical, nil
	case "unknown", "3":
		return Unknown, nil
	}
	return Unknown, fmt.Errorf("state %q: use ok, warning, critical or unknown", s)
}

// severity orders the states for Worst: OK < UNKNOWN < WARNING < CRITICAL (the order of
// the Monitoring Plugins' max_state_alt), so that one critical item is never hidden by
// another item that could not be checked.
func (s Status) severity() int {
	switch s {
	case OK:
		return 0
	case Unknown:
		return 1
	case Warning:
		return 2
	case Critical:
		return 3
	}
	return 1
}

// Worst returns the most severe of the states (OK < UNKNOWN < WARNING < CRITICAL); OK when
// there are none.
func Worst(states ...Status) Status {
	w := OK
	for _, s := range states {
		if s.severity() > w.severity() {
			w = s
		}
	}
	return w
}

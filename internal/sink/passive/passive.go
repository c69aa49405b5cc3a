// Package passive reports hsmwatch's alarms to Icinga 2 or Nagios as passive check
// results: every HSM (an Icinga or Nagios host of the same name) has one service, by
// default "hsmwatch", whose state is its worst open alarm: CRITICAL for a critical or
// major alarm, WARNING for a minor or warning one, OK when none is open. Each change of a
// host's alarms sends that host's result again, through the Icinga 2 API
// (POST /v1/actions/process-check-result, kind icinga) or the Nagios command file
// (PROCESS_SERVICE_CHECK_RESULT, kind nagios).
//
// The sink runs on its own queue (internal/sink/queue.go): a failed send is retried with
// the sinks' back-off, and a host whose result could not be sent is sent again with the
// next batch, so the monitoring system ends with the current state.
package passive

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Result is one passive check result: a host's service and its plugin state.
type Result struct {
	Host, Service string
	Status        int    // 0 OK, 1 WARNING, 2 CRITICAL
	Output        string // one line, the plugin output
	Alarms        int    // open alarms, the performance data
	Time          time.Time
}

// statusNames are the plugin states by exit status.
var statusNames = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// sender delivers results; the Icinga 2 API or the Nagios command file.
type sender interface {
	send(ctx context.Context, rs []Result) error
}

// maxOutput bounds a result's text: a Nagios command line must stay below PIPE_BUF (4096
// bytes on Linux) to reach the pipe in one piece.
const maxOutput = 2048

// tracker keeps the open alarms of every host and the hosts whose result is not sent yet.
type tracker struct {
	name    string
	service string
	out     sender
	now     func() time.Time

	mu      sync.Mutex
	open    map[string]map[string]state.Alarm // host -> alarm id -> alarm
	pending map[string]bool                   // hosts to send
	sent    atomic.Int64
}

func newTracker(name, service string, s sender) *tracker {
	if service == "" {
		service = "hsmwatch"
	}
	return &tracker{name: name, service: service, out: s, now: time.Now,
		open: map[string]map[string]state.Alarm{}, pending: map[string]bool{}}
}

// Name implements component.Sink.
func (t *tracker) Name() string { return t.name }

// Write implements component.Sink: the batch's alarm changes update the hosts' open
// alarms, then every host they touched (and any whose result failed before) is sent.
// Applying a batch twice (the queue's retry) gives the same state.
func (t *tracker) Write(ctx context.Context, batch []component.Item) error {
	t.mu.Lock()
	for _, it := range batch {
		d := it.Decision
		if d.Alarm != nil && (d.Change == state.Opened || d.Change == state.Repeated) {
			t.set(*d.Alarm)
		}
		if d.Change == state.Cleared && d.Alarm != nil {
			t.del(*d.Alarm)
		}
		for _, a := range append(append([]state.Alarm(nil), d.AlsoCleared...), d.Matured...) {
			t.del(a)
		}
		for _, m := range d.Moved {
			t.del(m.From)
			if m.To.Cleared.IsZero() {
				t.set(m.To)
			}
		}
	}
	t.mu.Unlock()
	return t.flush(ctx)
}

// OpenAlarms implements component.AlarmAware: the alarms open when the sink starts are
// sent as the hosts' state (a failure is retried with the next batch).
func (t *tracker) OpenAlarms(ctx context.Context, open []state.Alarm) {
	t.mu.Lock()
	for _, a := range open {
		t.set(a)
	}
	t.mu.Unlock()
	_ = t.flush(ctx)
}

func (t *tracker) set(a state.Alarm) {
	if t.open[a.Host] == nil {
		t.open[a.Host] = map[string]state.Alarm{}
	}
	t.open[a.Host][alarmID(a)] = a
	t.pending[a.Host] = true
}

func (t *tracker) del(a state.Alarm) {
	delete(t.open[a.Host], alarmID(a))
	t.pending[a.Host] = true
}

func alarmID(a state.Alarm) string {
	if a.ID != "" {
		return a.ID
	}
	return a.Host + "/" + a.Key
}

// flush sends the pending hosts' results; those not sent stay pending.
func (t *tracker) flush(ctx context.Context) error {
	t.mu.Lock()
	hosts := make([]string, 0, len(t.pending))
	for h := range t.pending {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	rs := make([]Result, 0, len(hosts))
	for _, h := range hosts {
		rs = append(rs, t.result(h))
		if len(t.open[h]) == 0 {
			delete(t.open, h)
		}
	}
	t.mu.Unlock()
	if len(rs) == 0 {
		return nil
	}
	if err := t.out.send(ctx, rs); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	t.mu.Lock()
	for _, r := range rs {
		// A host changed again while its result was on the way stays pending.
		if cur := t.result(r.Host); cur.Status == r.Status && cur.Output == r.Output {
			delete(t.pending, r.Host)
		}
	}
	t.mu.Unlock()
	t.sent.Add(int64(len(rs)))
	return nil
}

// result is a host's state: its worst open alarm first, then the others, most serious
// first and oldest first within a level.
func (t *tracker) result(host string) Result {
	open := make([]state.Alarm, 0, len(t.open[host]))
	for _, a := range t.open[host] {
		open = append(open, a)
	}
	slices.SortFunc(open, func(a, b state.Alarm) int {
		if d := event.LevelRank(b.Level) - event.LevelRank(a.Level); d != 0 {
			return d
		}
		if c := a.Opened.Compare(b.Opened); c != 0 {
			return c
		}
		return strings.Compare(alarmID(a), alarmID(b))
	})
	r := Result{Host: host, Service: t.service, Alarms: len(open), Time: t.now()}
	if len(open) == 0 {
		r.Output = "OK - no open alarm on " + host
		return r
	}
	r.Status = status(open[0].Level)
	var b strings.Builder
	fmt.Fprintf(&b, "%s - %d open alarm", statusNames[r.Status], len(open))
	if len(open) > 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " on %s:", host)
	for i, a := range open {
		if i > 0 {
			b.WriteString(";")
		}
		title := a.Title
		if title == "" {
			title = a.Message
		}
		fmt.Fprintf(&b, " [%s] %s (%s)", a.Level, oneLine(title), a.Rule)
	}
	r.Output = cut(b.String(), maxOutput)
	return r
}

// status maps an alarm level to a plugin state.
func status(level string) int {
	switch r := event.LevelRank(level); {
	case r >= event.LevelRank("major"):
		return 2
	case r >= event.LevelRank("warning"):
		return 1
	default:
		return 0
	}
}

// oneLine keeps text on one line: a newline would end a Nagios command.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
}

// cut shortens s to at most n bytes, not inside a character, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "") + "..."
}

// Figures implements component.Instrumented.
func (t *tracker) Figures() []component.Figure {
	return []component.Figure{{Name: "passive_results_total", Help: "Passive check results sent to Icinga 2 or Nagios.", Counter: true,
		Labels: map[string]string{"target": t.name}, Read: func() float64 { return float64(t.sent.Load()) }}}
}

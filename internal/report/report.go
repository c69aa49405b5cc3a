// Package report turns the state of a scan into what an operator reads first: the alarms
// still open (and those open so long they are stale), the most frequent significant
// events, repeats and storms, and for Dinamo logs the integrity findings and sessions.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/termsafe"
)

// Report is the report's content; its JSON form is stable like the event schema.
type Report struct {
	// At is the end of the record: the latest event time seen. Ages and staleness are
	// measured from it, so an old export reads as it did when it was written.
	At              time.Time       `json:"at"`
	StaleAfter      time.Duration   `json:"-"`
	Events          int64           `json:"events"`
	Unparsed        int64           `json:"unparsed"`
	Ignored         int64           `json:"ignored"`
	AlarmsOpened    int64           `json:"alarms_opened"`
	AlarmsCleared   int64           `json:"alarms_cleared"`
	Stale           []state.Alarm   `json:"stale_alarms"`
	Active          []state.Alarm   `json:"active_alarms"` // open and not stale
	Frequent        []state.Count   `json:"frequent_significant"`
	Repeats         []state.Repeat  `json:"repeats"`
	Storms          []state.Storm   `json:"storms"`
	Findings        []state.Finding `json:"dinamo_findings"`
	FindingsDropped int64           `json:"dinamo_findings_dropped,omitempty"`
	Sessions        []state.Session `json:"dinamo_sessions"`
	SessionsEvicted int64           `json:"dinamo_sessions_evicted,omitempty"`
}

// Options bound the lists.
type Options struct {
	Top        int           // most frequent events and repeats shown (default 10)
	StaleAfter time.Duration // as configured in the tracker (for the text)
}

// Build collects the report from a tracker that has seen the whole record.
func Build(tr *state.Tracker, o Options) Report {
	if o.Top <= 0 {
		o.Top = 10
	}
	r := Report{At: tr.Now(), StaleAfter: o.StaleAfter}
	r.AlarmsOpened, r.AlarmsCleared = tr.AlarmTotals()
	stale := map[string]bool{}
	for _, a := range tr.Stale(r.At) {
		r.Stale = append(r.Stale, a)
		stale[a.Host+"\x00"+a.Key] = true
	}
	for _, a := range tr.Active() {
		if !stale[a.Host+"\x00"+a.Key] {
			r.Active = append(r.Active, a)
		}
	}
	for _, c := range tr.Counts() {
		r.Events += c.Count
		if c.Rule == "(unparsed)" {
			r.Unparsed += c.Count
		}
		if c.Significant && len(r.Frequent) < o.Top {
			r.Frequent = append(r.Frequent, c)
		}
	}
	for _, n := range tr.Ignored() {
		r.Ignored += n
		r.Events += n
	}
	r.Repeats = tr.Repeats()
	if len(r.Repeats) > o.Top {
		r.Repeats = r.Repeats[:o.Top]
	}
	r.Storms = tr.Storms()
	r.Findings, r.FindingsDropped = tr.Findings()
	r.Sessions, r.SessionsEvicted = tr.Sessions()
	return r
}

// WriteJSON writes the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for a terminal, most urgent first.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	at := "no event carried a time"
	if !r.At.IsZero() {
		at = r.At.Format(time.RFC3339)
	}
	p("hsmwatch report: %d events (%d unparsed, %d ignored), end of record %s\n", r.Events, r.Unparsed, r.Ignored, at)
	p("alarms: %d opened, %d cleared, %d still open (%d stale)\n", r.AlarmsOpened, r.AlarmsCleared,
		len(r.Active)+len(r.Stale), len(r.Stale))
	r.alarms(p, fmt.Sprintf("STALE ALARMS (open %s or more, never cleared)", human(r.StaleAfter)), r.Stale)
	r.alarms(p, "ACTIVE ALARMS", r.Active)
	r.frequent(p)
	r.repeatsAndStorms(p)
	r.dinamo(p)
	return tw.Flush()
}

type printer func(format string, args ...any)

func (r Report) alarms(p printer, title string, as []state.Alarm) {
	p("\n%s: %d\n", title, len(as))
	if len(as) == 0 {
		return
	}
	p("HOST\tLEVEL\tOPENED\tAGE\tASSERTS\tKEY\tTITLE\tFIRST SEEN AT\n")
	for _, a := range as {
		title := a.Title
		if a.Flapping {
			title += " [flapping]"
		}
		if !a.ClearHeld.IsZero() {
			title += " [clear held]"
		}
		p("%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", dash(a.Host), dash(a.Level), stamp(a.Opened), human(r.At.Sub(a.Opened)),
			a.Asserts, dash(a.Key), dash(title), dash(a.Input))
	}
}

func (r Report) frequent(p printer) {
	p("\nMOST FREQUENT SIGNIFICANT EVENTS: %d\n", len(r.Frequent))
	if len(r.Frequent) == 0 {
		return
	}
	p("COUNT\tHOST\tLEVEL\tRULE\tFIRST\tLAST\tEXAMPLE\n")
	for _, c := range r.Frequent {
		p("%d\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Count, dash(c.Host), dash(c.Level), dash(c.Rule), stamp(c.First), stamp(c.Last), clip(c.Example, 80))
	}
}

func (r Report) repeatsAndStorms(p printer) {
	if len(r.Repeats) > 0 {
		p("\nREPEATED MESSAGES (counted once per dedup window): %d\n", len(r.Repeats))
		p("COUNT\tHOST\tFIRST\tLAST\tMESSAGE\n")
		for _, x := range r.Repeats {
			p("%d\t%s\t%s\t%s\t%s\n", x.Count, dash(x.Host), stamp(x.First), stamp(x.Last), clip(x.Message, 80))
		}
	}
	if len(r.Storms) > 0 {
		p("\nSTORMS (events over the per-host limit): %d\n", len(r.Storms))
		p("HOST\tSTART\tEND\tSUPPRESSED\n")
		for _, s := range r.Storms {
			p("%s\t%s\t%s\t%d\n", dash(s.Host), stamp(s.Start), stamp(s.End), s.Suppressed)
		}
	}
}

func (r Report) dinamo(p printer) {
	if len(r.Findings) == 0 && len(r.Sessions) == 0 {
		return
	}
	p("\nDINAMO LOG INTEGRITY: %d findings\n", len(r.Findings)+int(r.FindingsDropped))
	if len(r.Findings) > 0 {
		p("KIND\tTIME\tSTREAM\tAT\tDETAIL\n")
		for _, f := range r.Findings {
			detail := f.Note
			if f.Kind == state.FindingTruncated {
				detail = fmt.Sprintf("cleared by %s from %s: %s", dash(f.By), dash(f.Client), f.Note)
			}
			p("%s\t%s\t%s\t%s\t%s\n", f.Kind, stamp(f.Time), dash(f.Stream), dash(f.Input), dash(detail))
		}
	}
	if r.FindingsDropped > 0 {
		p("(%d more findings not kept)\n", r.FindingsDropped)
	}
	p("\nDINAMO SESSIONS: %d\n", len(r.Sessions)+int(r.SessionsEvicted))
	if len(r.Sessions) > 0 {
		p("CID\tCLIENT\tUSER\tAUTH\tFIRST\tLAST\tEVENTS\tKEYS\tOPERATIONS\n")
		for _, s := range r.Sessions {
			p("%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", dash(s.CID), dash(s.ClientIP), dash(s.User), dash(s.Auth),
				stamp(s.First), stamp(s.Last), s.Events, dash(strings.Join(s.Keys, ",")), operations(s.Operations))
		}
	}
	if r.SessionsEvicted > 0 {
		p("(%d older sessions not kept)\n", r.SessionsEvicted)
	}
}

// operations lists a session's operations as "name×count", most frequent first.
func operations(ops map[string]int64) string {
	type op struct {
		name string
		n    int64
	}
	var list []op
	for k, v := range ops {
		list = append(list, op{strings.TrimPrefix(k, "dinamo."), v})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].name < list[j].name
	})
	parts := make([]string, len(list))
	for i, o := range list {
		parts[i] = fmt.Sprintf("%s×%d", o.name, o.n)
	}
	return dash(strings.Join(parts, " "))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02 15:04:05")
}

// human writes a duration the way an operator says it: 3d4h, 2h5m, 40s.
func human(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// dash is s for a column of the report, or "-" when empty; control characters (tab
// included: it separates the columns) are escaped.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return termsafe.String(s)
}

func clip(s string, n int) string {
	s = termsafe.String(strings.ReplaceAll(s, "\t", " "))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

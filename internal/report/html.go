package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// The HTML report is one self-contained file for an auditor or an incident review: the
// text report's facts, and what a table cannot show, drawn as inline SVG: each host's
// events over time by level, and every alarm's span from opening to clear. No script, no
// style sheet or font from elsewhere (its Content-Security-Policy forbids any load), no
// build step: html/template escapes every text from the logs.

//go:embed report.html.tmpl
var htmlFiles embed.FS

// Timeline collects, while a scan runs, what the HTML report draws and the tracker does
// not keep: every event's host, time and level, and every alarm's span. Feed it each
// event with the tracker's decision (scan.Options.Observed).
type Timeline struct {
	points map[string][]point
	spans  []Span
	open   map[string]int // host NUL key -> index in spans
}

type point struct {
	at    int64 // Unix seconds
	level int   // event.LevelRank
}

// Span is one alarm from its opening to its clear (Cleared zero: still open at the end).
type Span struct {
	Host, Key, Title, Level string
	Opened, Cleared         time.Time
	ClearedBy               string
}

// NewTimeline returns an empty Timeline.
func NewTimeline() *Timeline {
	return &Timeline{points: map[string][]point{}, open: map[string]int{}}
}

// Observe records ev and what the tracker decided about it.
func (t *Timeline) Observe(ev *event.Event, d state.Decision) {
	if d.Ignored {
		return
	}
	if !ev.Time.IsZero() {
		t.points[ev.Host] = append(t.points[ev.Host], point{at: ev.Time.Unix(), level: event.LevelRank(ev.Level)})
	}
	for _, m := range d.Moved {
		if i, ok := t.open[m.From.Host+"\x00"+m.From.Key]; ok {
			delete(t.open, m.From.Host+"\x00"+m.From.Key)
			t.spans[i].Host, t.spans[i].Key = m.To.Host, m.To.Key
			t.open[m.To.Host+"\x00"+m.To.Key] = i
		}
	}
	if d.Alarm != nil {
		a := d.Alarm
		ref := a.Host + "\x00" + a.Key
		switch d.Change {
		case state.Opened:
			t.open[ref] = len(t.spans)
			t.spans = append(t.spans, Span{Host: a.Host, Key: a.Key, Title: a.Title, Level: a.Level, Opened: a.Opened})
		case state.Repeated:
			if i, ok := t.open[ref]; ok && event.LevelRank(a.Level) > event.LevelRank(t.spans[i].Level) {
				t.spans[i].Level = a.Level
			}
		case state.Cleared:
			t.clear(*a)
		}
	}
	for _, as := range [][]state.Alarm{d.AlsoCleared, d.Matured} {
		for _, a := range as {
			t.clear(a)
		}
	}
}

func (t *Timeline) clear(a state.Alarm) {
	ref := a.Host + "\x00" + a.Key
	if i, ok := t.open[ref]; ok {
		t.spans[i].Cleared, t.spans[i].ClearedBy = a.Cleared, a.ClearedBy
		delete(t.open, ref)
	}
}

// Spans returns the alarms' spans in the order they opened.
func (t *Timeline) Spans() []Span { return t.spans }

// HTMLOptions are what the HTML report needs besides the report.
type HTMLOptions struct {
	// Timeline, when set, gives the drawings; without it the report has the tables only.
	Timeline *Timeline
	// Rules give each frequent event its rule's meaning and action.
	Rules interface {
		Rule(id string) (*classify.Rule, bool)
	}
	// Title heads the page (default "hsmwatch report").
	Title string
	// Inputs are the files the report was made from, listed under the title.
	Inputs []string
}

// Layout of the drawings, in SVG user units.
const (
	chartWidth   = 960
	labelWidth   = 170
	timelineRows = 56
	buckets      = 120
	spanRow      = 18
	maxSpans     = 300
)

// levelNames are the levels from the most serious, as drawn and in the legend.
var levelNames = []string{"critical", "major", "minor", "warning", "info", "debug"}

type htmlView struct {
	Title, At, StaleAfter string
	Inputs                []string
	R                     Report
	Still                 int
	Levels                []string
	From, To              string
	Hosts                 []hostView
	SpanChart             *spanChart
	Stale, Active         []alarmRow
	Frequent              []frequentRow
	Repeats               []state.Repeat
	Storms                []state.Storm
	Findings              []findingRow
	Sessions              []sessionRow
	SessionsTotal         int
	FindingsTotal         int
}

type hostView struct {
	Host   string
	Total  int
	Counts []levelCount
	Bars   []bar
	Width  int
	Height int
	Ticks  []tick
}

type levelCount struct {
	Level string
	N     int
}

type bar struct {
	X, Y, W, H float64
	Level      string
	Tip        string
}

type tick struct {
	X     float64
	Label string
}

type spanChart struct {
	Width, Height int
	Rows          []spanRowView
	Ticks         []tick
	More          int
}

type spanRowView struct {
	Y          float64
	Label      string
	X, W       float64
	Level      string
	Open       bool
	Tip        string
	LabelY     float64
	Background bool
}

type alarmRow struct {
	Host, Level, Opened, Age, Key, Title, Input string
	Asserts                                     int64
}

type frequentRow struct {
	state.Count
	FirstS, LastS, Meaning, Action string
}

type findingRow struct {
	Kind, Time, Stream, At, Detail string
}

type sessionRow struct {
	CID, Client, User, Auth, First, Last, Keys, Ops string
	Events                                          int64
}

// WriteHTML writes the report as one self-contained HTML page.
func (r Report) WriteHTML(w io.Writer, o HTMLOptions) error {
	tmpl, err := template.New("report.html.tmpl").Funcs(template.FuncMap{
		"stamp": stamp, "dash": func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		},
	}).ParseFS(htmlFiles, "report.html.tmpl")
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	v := htmlView{Title: o.Title, Inputs: o.Inputs, R: r, Levels: levelNames, StaleAfter: human(r.StaleAfter),
		Still: len(r.Active) + len(r.Stale), FindingsTotal: len(r.Findings) + int(r.FindingsDropped),
		SessionsTotal: len(r.Sessions) + int(r.SessionsEvicted), Repeats: r.Repeats, Storms: r.Storms}
	if v.Title == "" {
		v.Title = "hsmwatch report"
	}
	v.At = "no event carried a time"
	if !r.At.IsZero() {
		v.At = r.At.Format(time.RFC3339)
	}
	row := func(a state.Alarm) alarmRow {
		title := a.Title
		if a.Flapping {
			title += " [flapping]"
		}
		if !a.ClearHeld.IsZero() {
			title += " [clear held]"
		}
		return alarmRow{Host: a.Host, Level: a.Level, Opened: stamp(a.Opened), Age: human(r.At.Sub(a.Opened)), Key: a.Key,
			Title: title, Input: a.Input, Asserts: a.Asserts}
	}
	for _, a := range r.Stale {
		v.Stale = append(v.Stale, row(a))
	}
	for _, a := range r.Active {
		v.Active = append(v.Active, row(a))
	}
	for _, c := range r.Frequent {
		fr := frequentRow{Count: c, FirstS: stamp(c.First), LastS: stamp(c.Last)}
		if o.Rules != nil {
			if rule, ok := o.Rules.Rule(c.Rule); ok {
				fr.Meaning, fr.Action = rule.Meaning, rule.Action
			}
		}
		v.Frequent = append(v.Frequent, fr)
	}
	for _, f := range r.Findings {
		detail := f.Note
		if f.Kind == state.FindingTruncated {
			detail = fmt.Sprintf("cleared by %s from %s: %s", nonEmpty(f.By), nonEmpty(f.Client), f.Note)
		}
		v.Findings = append(v.Findings, findingRow{Kind: f.Kind, Time: stamp(f.Time), Stream: f.Stream, At: f.Input, Detail: detail})
	}
	for _, s := range r.Sessions {
		v.Sessions = append(v.Sessions, sessionRow{CID: s.CID, Client: s.ClientIP, User: s.User, Auth: s.Auth,
			First: stamp(s.First), Last: stamp(s.Last), Events: s.Events, Keys: strings.Join(s.Keys, ","), Ops: operations(s.Operations)})
	}
	if o.Timeline != nil {
		v.draw(o.Timeline, r.At)
	}
	return tmpl.Execute(w, v)
}

func nonEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// draw lays out the timelines and the alarms' spans over the record's time range.
func (v *htmlView) draw(t *Timeline, end time.Time) {
	var lo, hi int64 = math.MaxInt64, math.MinInt64
	for _, ps := range t.points {
		for _, p := range ps {
			lo, hi = min(lo, p.at), max(hi, p.at)
		}
	}
	for _, s := range t.spans {
		lo = min(lo, s.Opened.Unix())
		hi = max(hi, s.Opened.Unix())
	}
	if lo > hi {
		return
	}
	if !end.IsZero() {
		hi = max(hi, end.Unix())
	}
	if hi == lo {
		hi = lo + 60
	}
	v.From, v.To = stamp(time.Unix(lo, 0).UTC()), stamp(time.Unix(hi, 0).UTC())
	plot := float64(chartWidth - labelWidth)
	x := func(at int64) float64 { return labelWidth + plot*float64(at-lo)/float64(hi-lo) }
	ticks := axis(lo, hi, x)
	hosts := make([]string, 0, len(t.points))
	for h := range t.points {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	span := float64(hi-lo) / buckets
	for _, h := range hosts {
		ps := t.points[h]
		counts := make([][6]int, buckets)
		per := map[string]int{}
		for _, p := range ps {
			b := min(buckets-1, int(float64(p.at-lo)/span))
			l := levelIndex(p.level)
			counts[b][l]++
			per[levelNames[l]]++
		}
		peak := 1
		for _, c := range counts {
			n := 0
			for _, k := range c {
				n += k
			}
			peak = max(peak, n)
		}
		hv := hostView{Host: h, Total: len(ps), Width: chartWidth, Height: timelineRows + 18, Ticks: ticks}
		for _, l := range levelNames {
			if per[l] > 0 {
				hv.Counts = append(hv.Counts, levelCount{Level: l, N: per[l]})
			}
		}
		w := plot / buckets
		for i, c := range counts {
			y := float64(timelineRows)
			for l := len(levelNames) - 1; l >= 0; l-- { // the serious on top
				if c[l] == 0 {
					continue
				}
				hgt := math.Max(1, float64(timelineRows-4)*float64(c[l])/float64(peak))
				y -= hgt
				from := time.Unix(lo+int64(float64(i)*span), 0).UTC()
				hv.Bars = append(hv.Bars, bar{X: labelWidth + float64(i)*w, Y: y, W: math.Max(1, w-0.5), H: hgt, Level: levelNames[l],
					Tip: fmt.Sprintf("%s: %d %s from %s", h, c[l], levelNames[l], stamp(from))})
			}
		}
		v.Hosts = append(v.Hosts, hv)
	}
	spans := t.spans
	sc := &spanChart{Width: chartWidth, Ticks: ticks}
	if len(spans) > maxSpans {
		sc.More = len(spans) - maxSpans
		spans = spans[len(spans)-maxSpans:]
	}
	for i, s := range spans {
		y := float64(i * spanRow)
		until := hi
		open := s.Cleared.IsZero()
		if !open {
			until = s.Cleared.Unix()
		}
		x0, x1 := x(s.Opened.Unix()), x(until)
		state := "open at the end of the record"
		if !open {
			state = fmt.Sprintf("cleared %s by %s after %s", stamp(s.Cleared), nonEmpty(s.ClearedBy), human(s.Cleared.Sub(s.Opened)))
		}
		sc.Rows = append(sc.Rows, spanRowView{Y: y + 3, LabelY: y + 13, Label: clipRunes(s.Host+" "+s.Key, 28), X: x0,
			W: math.Max(2, x1-x0), Level: s.Level, Open: open, Background: i%2 == 0,
			Tip: fmt.Sprintf("%s %s (%s, %s): opened %s, %s", s.Host, s.Key, s.Title, s.Level, stamp(s.Opened), state)})
	}
	sc.Height = len(sc.Rows)*spanRow + 18
	if len(sc.Rows) > 0 {
		v.SpanChart = sc
	}
}

// axis returns about six ticks between lo and hi at round times.
func axis(lo, hi int64, x func(int64) float64) []tick {
	steps := []int64{60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400, 30 * 86400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if (hi-lo)/s <= 6 {
			step = s
			break
		}
	}
	layout := "15:04"
	if step >= 86400 {
		layout = "Jan 2"
	} else if hi-lo > 86400 {
		layout = "Jan 2 15:04"
	}
	var out []tick
	for at := (lo/step + 1) * step; at < hi; at += step {
		if x(at) > chartWidth-30 { // its label would be cut at the right edge
			break
		}
		out = append(out, tick{X: x(at), Label: time.Unix(at, 0).UTC().Format(layout)})
	}
	return out
}

// levelIndex maps event.LevelRank to levelNames' index (unknown levels count as debug).
func levelIndex(rank int) int {
	for i, l := range levelNames {
		if event.LevelRank(l) == rank {
			return i
		}
	}
	return len(levelNames) - 1
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

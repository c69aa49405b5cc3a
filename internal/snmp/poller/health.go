package poller

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// Item states as they are written (JSON, events, text).
const (
	StateOK       = "ok"
	StateWarning  = "warning"
	StateCritical = "critical"
	StateUnknown  = "unknown" // the agent did not give what the item needs
	StatePending  = "pending" // a rate waiting for its second reading
)

// Item is one health item of one poll: a value judged against its thresholds.
type Item struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Instance string `json:"instance,omitempty"` // the row (partition label, HSM serial)
	// Key names the item within its HSM: the id, or id:instance. It is the alarm key.
	Key   string  `json:"key"`
	Value float64 `json:"value"`
	// Text is the value as people read it: "37.5%", "notRunning(2)", "0.193/s".
	Text string `json:"text,omitempty"`
	Unit string `json:"unit,omitempty"`
	Warn string `json:"warn,omitempty"`
	Crit string `json:"crit,omitempty"`
	// State is ok, warning, critical, unknown or pending; Status the same as a plugin
	// status (pending is OK there: a rate not yet known says nothing bad).
	State  string       `json:"state"`
	Status check.Status `json:"-"`
	// Reason says why the state is unknown or pending.
	Reason  string `json:"reason,omitempty"`
	Storage bool   `json:"storage,omitempty"`

	th check.Threshold
}

// Known reports whether the item has a value that was judged.
func (it *Item) Known() bool { return it.State != StateUnknown && it.State != StatePending }

// Threshold returns the ranges the item was judged by.
func (it *Item) Threshold() check.Threshold { return it.th }

// Describe writes the item for a sentence: "partition storage used par0 is 84.4%".
func (it *Item) Describe() string {
	name := it.Title
	if it.Instance != "" {
		name += " " + it.Instance
	}
	switch it.State {
	case StateUnknown:
		return name + " is unknown: " + it.Reason
	case StatePending:
		return name + " is pending: " + it.Reason
	}
	return name + " is " + it.Text
}

// Limit says what range the state broke: "warning when above 80", or "" when ok.
func (it *Item) Limit() string {
	switch it.State {
	case StateWarning:
		return "warning when " + describeRange(it.Warn)
	case StateCritical:
		return "critical when " + describeRange(it.Crit)
	}
	return ""
}

// describeRange writes a Monitoring Plugins range as the condition that alerts.
func describeRange(s string) string {
	r, err := check.ParseRange(s)
	if err != nil {
		return s
	}
	n := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch {
	case r.Inside && r.Start == r.End:
		return "equal to " + n(r.Start)
	case r.Inside:
		return fmt.Sprintf("between %s and %s", startText(r.Start), endText(r.End))
	case r.Start == r.End:
		return "not " + n(r.Start)
	case r.Start == 0 && !math.IsInf(r.End, 1):
		return "above " + n(r.End)
	case math.IsInf(r.End, 1):
		return "below " + n(r.Start)
	case math.IsInf(r.Start, -1):
		return "above " + n(r.End)
	}
	return fmt.Sprintf("outside %s..%s", n(r.Start), n(r.End))
}

func startText(v float64) string {
	if math.IsInf(v, -1) {
		return "-inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func endText(v float64) string {
	if math.IsInf(v, 1) {
		return "inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// evaluation is what health evaluation needs from the poller.
type evaluation struct {
	plan       *plan
	snap       *snapshot
	thresholds map[string]Thresholds
	prev       map[string]reading // counter readings of the last poll, by item key
	next       map[string]reading // filled with this poll's readings
	restarted  bool
	now        time.Time
}

// items evaluates every health item of the profile.
func (ev *evaluation) items() ([]Item, error) {
	var out []Item
	for i := range ev.plan.profile.Health {
		h := &ev.plan.profile.Health[i]
		th, warn, crit, err := h.withThresholds(ev.thresholds)
		if err != nil {
			return nil, err
		}
		base := Item{ID: h.ID, Title: h.Title, Unit: h.Unit, Warn: warn, Crit: crit, Storage: h.Storage, th: th}
		out = append(out, ev.item(h, base)...)
	}
	return out, nil
}

// item evaluates one spec: one item for a scalar, one per row for table columns.
func (ev *evaluation) item(h *HealthSpec, base Item) []Item {
	objs := map[string]*object{}
	for _, ref := range h.objects() {
		o, why := ev.plan.object(ref)
		if o == nil {
			if h.Optional {
				return nil
			}
			base.Key = base.ID
			return []Item{unknown(base, why)}
		}
		objs[ref] = o
	}
	first := h.Value
	if first == "" {
		first = h.Total
	}
	rows := []string{"0"}
	column := objs[first].entry.Kind == mib.KindColumn
	if column {
		rows = ev.snap.rows(objs[first].oid)
		if len(rows) == 0 {
			if h.Optional {
				return nil
			}
			base.Key = base.ID
			return []Item{unknown(base, "the agent returned no row of "+objs[first].entry.FullName())}
		}
	}
	var out []Item
	for _, row := range rows {
		it := base
		if column {
			it.Instance = indexText(row)
			if h.Label != "" {
				if v, ok := ev.snap.get(objs[h.Label].oid + "." + row); ok && v.str != "" {
					it.Instance = v.str
				}
			}
		}
		it.Key = it.ID
		if it.Instance != "" {
			it.Key += ":" + it.Instance
		}
		read := func(ref string) (value, bool) {
			o := objs[ref]
			inst := "0"
			if o.entry.Kind == mib.KindColumn {
				inst = row
			}
			v, ok := ev.snap.get(o.oid + "." + inst)
			return v, ok && v.isNum
		}
		missing := func(ref string) []Item {
			if h.Optional && !column {
				return nil
			}
			return []Item{unknown(it, "the agent did not return "+objs[ref].entry.FullName()+" as a number")}
		}
		switch h.Compute {
		case ComputeValue:
			v, ok := read(h.Value)
			if !ok {
				out = append(out, missing(h.Value)...)
				continue
			}
			it.Value = v.num
			it.Text = formatValue(v.num, h.Unit)
			if e := objs[h.Value].entry; len(e.Enums) > 0 && v.num == math.Trunc(v.num) {
				it.Text = e.Value(int64(v.num))
			}
		case ComputeRatio, ComputeFreeRatio:
			total, ok := read(h.Total)
			if !ok {
				out = append(out, missing(h.Total)...)
				continue
			}
			var used float64
			if h.Compute == ComputeRatio {
				v, ok := read(h.Value)
				if !ok {
					out = append(out, missing(h.Value)...)
					continue
				}
				used = v.num
			} else {
				free, bad := 0.0, ""
				for _, f := range h.Free {
					v, ok := read(f)
					if !ok {
						bad = f
						break
					}
					free += v.num
				}
				if bad != "" {
					out = append(out, missing(bad)...)
					continue
				}
				used = total.num - free
			}
			switch {
			case total.num <= 0:
				out = append(out, unknown(it, objs[h.Total].entry.FullName()+" is "+total.str+": no percentage of it"))
				continue
			case used < 0 || used > total.num:
				out = append(out, unknown(it, fmt.Sprintf("%s of %s in use makes no sense", formatValue(used, ""), total.str)))
				continue
			}
			it.Value = 100 * used / total.num
			it.Text = formatValue(it.Value, "%")
		case ComputeRate, ComputeGrowth:
			v, ok := read(h.Value)
			if !ok || v.num < 0 {
				out = append(out, missing(h.Value)...)
				continue
			}
			cur := reading{Value: v.u64, Time: ev.now}
			if h.Compute == ComputeRate {
				cur.Bits = v.bits()
			}
			ev.next[it.Key] = cur
			var prev *reading
			if p, ok := ev.prev[it.Key]; ok {
				prev = &p
			}
			rate, why := rateFrom(prev, cur, ev.restarted)
			if why != "" {
				it.State, it.Status, it.Reason = StatePending, check.OK, why
				out = append(out, it)
				continue
			}
			it.Value = rate
			it.Text = formatValue(rate, h.Unit)
		}
		it.Status = it.th.Evaluate(it.Value)
		it.State = stateOf(it.Status)
		out = append(out, it)
	}
	return out
}

func unknown(it Item, why string) Item {
	it.State, it.Status, it.Reason = StateUnknown, check.Unknown, why
	return it
}

func stateOf(s check.Status) string {
	switch s {
	case check.OK:
		return StateOK
	case check.Warning:
		return StateWarning
	case check.Critical:
		return StateCritical
	}
	return StateUnknown
}

// formatValue writes a value with its unit: percentages with one decimal, rates with
// up to three, counts as integers.
func formatValue(v float64, unit string) string {
	switch unit {
	case "%":
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + "%"
	case "/s":
		return strconv.FormatFloat(round3(v), 'f', -1, 64) + "/s"
	case "":
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatFloat(v, 'f', 0, 64)
		}
		return strconv.FormatFloat(round3(v), 'f', -1, 64)
	}
	return strconv.FormatFloat(round3(v), 'f', -1, 64) + " " + unit
}

// round3 keeps three significant decimals of small numbers, one of large ones.
func round3(v float64) float64 {
	if math.Abs(v) >= 100 {
		return math.Round(v*10) / 10
	}
	return math.Round(v*1000) / 1000
}

// worst is the status of a set of items, pending counted as OK.
func worst(items []Item) check.Status {
	st := make([]check.Status, 0, len(items))
	for i := range items {
		st = append(st, items[i].Status)
	}
	return check.Worst(st...)
}

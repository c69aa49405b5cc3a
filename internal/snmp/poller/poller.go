package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// Options configure a Poller.
type Options struct {
	Target Target
	// Profile is a profile name; empty or "auto" detects it at the first poll.
	Profile string
	// MIB names the objects; nil means mib.Builtin() (no Dinamo objects, no partition
	// table: load the MIB files for those).
	MIB *mib.Table
	// Profiles are the profiles to choose from; nil means ShippedProfiles().
	Profiles Profiles
	// Thresholds override the profiles' defaults, by health item id.
	Thresholds map[string]Thresholds
	// Interval between polls of Run; zero means the profile's.
	Interval time.Duration
	// Now is the clock of results, rates and events; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Poller polls one HSM. It keeps what rates and alarms need between polls: the last
// counter readings and uptimes, and the last state of every health item. Poll may be
// called from several goroutines; polls of one Poller run one at a time.
type Poller struct {
	opts     Options
	table    *mib.Table
	profiles Profiles
	log      *slog.Logger

	mu       sync.Mutex
	client   *gosnmp.GoSNMP
	det      *Detection
	plans    map[string]*plan
	readings map[string]reading
	uptimes  map[string]uint64
	alarms   alarmStates
	host     string
}

// New checks the options and returns a Poller; nothing is sent before the first Poll.
func New(o Options) (*Poller, error) {
	if err := o.Target.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Target.address(), err) // Validate names no secret
	}
	p := &Poller{opts: o, table: o.MIB, profiles: o.Profiles, log: o.Logger,
		plans: map[string]*plan{}, readings: map[string]reading{}, uptimes: map[string]uint64{}, alarms: alarmStates{}}
	if p.table == nil {
		p.table = mib.Builtin()
	}
	if p.profiles == nil {
		p.profiles = ShippedProfiles()
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.opts.Now == nil {
		p.opts.Now = time.Now
	}
	switch o.Profile {
	case "", "auto":
	default:
		if _, ok := p.profiles[o.Profile]; !ok {
			return nil, fmt.Errorf("profile %q: use auto or one of %v", o.Profile, p.profiles.Names())
		}
		p.det = &Detection{Profile: o.Profile, Reason: "set in the configuration"}
	}
	if err := checkThresholdIDs(p.profiles, o.Thresholds); err != nil {
		return nil, err
	}
	return p, nil
}

// Close releases the socket.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		return nil
	}
	err := p.client.Close()
	p.client = nil
	return err
}

// Interval is the time between two polls of Run: the configured one, else the
// detected profile's (60 s for Luna: its agent caches its tables that long), else 60 s.
func (p *Poller) Interval() time.Duration {
	if p.opts.Interval > 0 {
		return p.opts.Interval
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.det != nil {
		return time.Duration(p.profiles[p.det.Profile].Interval)
	}
	return time.Minute
}

// Result is what one poll found.
type Result struct {
	Time      time.Time  `json:"time"`
	Target    string     `json:"target"` // the target without secrets
	Host      string     `json:"host"`
	Profile   string     `json:"profile"`
	Detection *Detection `json:"detection,omitempty"`
	Identity  []Field    `json:"identity,omitempty"`
	Items     []Item     `json:"items"`
	Views     []View     `json:"views,omitempty"`
	Samples   []Sample   `json:"samples,omitempty"`
	// Events are the state changes of this poll (raises and clears), classified by the
	// caller with the rule catalog.
	Events []event.Event `json:"events"`
	Notes  []string      `json:"notes,omitempty"`
	// Status is the worst item's (pending counted as OK); UNKNOWN when the poll failed or
	// the profile's objects need a MIB that is not loaded.
	Status   check.Status  `json:"-"`
	State    string        `json:"state"`
	Duration time.Duration `json:"duration_ns"`
	// Requests counts the PDUs sent (retries included), Variables the values read.
	Requests  int    `json:"requests"`
	Variables int    `json:"variables"`
	Error     string `json:"error,omitempty"`
}

// Field is a labelled value of the HSM's identity.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// View is a table as read.
type View struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Poll asks the HSM once and judges the answers. On failure the error is an *Error
// saying what to check, and the Result still carries the snmp_response event when the
// agent just stopped answering.
func (p *Poller) Poll(ctx context.Context) (*Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	now := p.opts.Now()
	t := &p.opts.Target
	res := &Result{Time: now, Target: t.String(), Host: p.hostName(), Status: check.Unknown, State: StateUnknown}
	defer func() { res.Duration = time.Since(start) }()
	if p.client == nil {
		c, err := t.client()
		if err == nil {
			c.Context = ctx
			err = c.Connect()
		}
		if err != nil {
			return p.fail(ctx, res, t.pollError("connect", err))
		}
		p.client = c
	}
	requests := 0
	p.client.OnSent = func(*gosnmp.GoSNMP) { requests++ }
	defer func() { p.client.OnSent = nil }()
	if p.det == nil {
		d, err := detect(ctx, p.client, p.table)
		if err != nil {
			res.Requests = requests
			return p.fail(ctx, res, t.pollError("detecting the profile", err))
		}
		p.det = &d
		p.log.Debug("snmp poll: profile detected", "hsm", t.address(), "profile", d.Profile, "reason", d.Reason)
	}
	res.Detection = p.det
	res.Profile = p.det.Profile
	pl := p.plan(p.det.Profile)
	snap, err := fetch(ctx, p.client, pl)
	res.Requests = requests
	if err != nil {
		return p.fail(ctx, res, t.pollError("polling", err))
	}
	res.Variables = len(snap.vars)
	p.judge(res, pl, snap, now)
	return res, nil
}

// plan returns the profile's resolved plan, made once per Poller.
func (p *Poller) plan(name string) *plan {
	if pl, ok := p.plans[name]; ok {
		return pl
	}
	pl := newPlan(p.profiles[name], p.table)
	p.plans[name] = pl
	return pl
}

// hostName is the name events carry: the configured one, else the sysName last read,
// else the address.
func (p *Poller) hostName() string {
	switch {
	case p.opts.Target.Name != "":
		return p.opts.Target.Name
	case p.host != "":
		return p.host
	}
	return p.opts.Target.address()
}

// fail records a failed poll: the error in the result, and the snmp_response alarm when
// the agent just stopped answering (not when the caller gave up: that says nothing
// about the HSM).
func (p *Poller) fail(ctx context.Context, res *Result, err *Error) (*Result, error) {
	res.Error = err.Error()
	res.Status, res.State = check.Unknown, StateUnknown
	p.log.Warn("snmp poll failed", "hsm", err.Addr, "kind", err.Kind, "err", err.Error())
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return res, err
	}
	profile := ""
	if p.det != nil {
		profile = p.det.Profile
	}
	src := eventSource{host: res.Host, addr: p.opts.Target.address(), profile: profile, now: res.Time}
	if prev, news := p.alarms.change(MetricResponse, StateCritical); news {
		res.Events = append(res.Events, src.responseEvent(false, prev, err.Error()))
	}
	return res, err
}

// judge turns a snapshot into the result: identity, views, health items, samples and
// the events of what changed.
func (p *Poller) judge(res *Result, pl *plan, snap *snapshot, now time.Time) {
	res.Notes = append(res.Notes, pl.notes...)
	res.Identity = p.identity(pl, snap)
	for _, f := range res.Identity {
		if f.Label == "host" && f.Value != "" {
			p.host = f.Value
		}
	}
	res.Host = p.hostName()
	res.Views = p.views(pl, snap)

	uptimes := p.readUptimes(pl, snap)
	why, restarted := uptimeWentBack(p.uptimes, uptimes)
	p.uptimes = uptimes
	if restarted {
		res.Notes = append(res.Notes, "the HSM restarted ("+why+"): rates start again at the next poll")
	}
	ev := &evaluation{plan: pl, snap: snap, thresholds: p.opts.Thresholds, prev: p.readings,
		next: map[string]reading{}, restarted: restarted, now: now}
	items, err := ev.items()
	if err != nil { // a threshold override that does not parse: New checked the ids only
		res.Notes = append(res.Notes, err.Error())
	}
	p.readings = ev.next
	res.Items = items
	res.Status = worst(items)
	if !pl.mibReady() {
		res.Status = check.Unknown
	}
	res.State = stateOf(res.Status)
	res.Samples = samples(p.table, snap, items)

	src := eventSource{host: res.Host, addr: p.opts.Target.address(), profile: res.Profile, now: now}
	if prev, news := p.alarms.change(MetricResponse, StateOK); news {
		res.Events = append(res.Events, src.responseEvent(true, prev, ""))
	}
	if restarted {
		res.Events = append(res.Events, src.restartEvent(why))
	}
	for i := range items {
		it := &items[i]
		if !it.Known() {
			continue
		}
		if prev, news := p.alarms.change(it.Key, it.State); news {
			res.Events = append(res.Events, src.itemEvent(it, prev))
		}
	}
}

// identity reads the profile's identity objects (a column: its first row).
func (p *Poller) identity(pl *plan, snap *snapshot) []Field {
	var out []Field
	for _, l := range pl.profile.Identity {
		o, _ := pl.object(l.Object)
		if o == nil {
			continue
		}
		inst := ".0"
		if o.entry.Kind == mib.KindColumn {
			rows := snap.rows(o.oid)
			if len(rows) == 0 {
				continue
			}
			inst = "." + rows[0]
		}
		if v, ok := snap.get(o.oid + inst); ok {
			out = append(out, Field{Label: l.Label, Value: show(o.entry, v)})
		}
	}
	return out
}

// views reads the profile's tables as they are, one row per index of the first column.
func (p *Poller) views(pl *plan, snap *snapshot) []View {
	var out []View
	for _, vs := range pl.profile.Views {
		v := View{Title: vs.Title}
		var cols []*object
		for _, c := range vs.Columns {
			if o, _ := pl.object(c.Object); o != nil {
				cols = append(cols, o)
				v.Columns = append(v.Columns, c.Label)
			}
		}
		if len(cols) == 0 {
			continue
		}
		for _, row := range snap.rows(cols[0].oid) {
			r := make([]string, len(cols))
			for i, c := range cols {
				if val, ok := snap.get(c.oid + "." + row); ok {
					r[i] = show(c.entry, val)
				}
			}
			v.Rows = append(v.Rows, r)
		}
		out = append(out, v)
	}
	return out
}

// show writes a value for people: an enumeration by its name.
func show(e *mib.Entry, v value) string {
	if v.isNum && len(e.Enums) > 0 && v.num == float64(int64(v.num)) {
		return e.Value(int64(v.num))
	}
	return v.str
}

// readUptimes reads the uptime objects: scalars by name, columns by name and row.
func (p *Poller) readUptimes(pl *plan, snap *snapshot) map[string]uint64 {
	out := map[string]uint64{}
	for _, ref := range pl.profile.Uptime {
		o, _ := pl.object(ref)
		if o == nil {
			continue
		}
		if o.entry.Kind != mib.KindColumn {
			if v, ok := snap.get(o.oid + ".0"); ok && v.isNum {
				out[o.entry.Name] = v.u64
			}
			continue
		}
		for _, row := range snap.rows(o.oid) {
			if v, ok := snap.get(o.oid + "." + row); ok && v.isNum {
				out[o.entry.Name+"."+indexText(row)] = v.u64
			}
		}
	}
	return out
}

// Run polls until ctx ends, every Interval, and hands each result to handle (in this
// goroutine: a slow handler delays the next poll, it never overlaps it).
func (p *Poller) Run(ctx context.Context, handle func(*Result, error)) error {
	for {
		res, err := p.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		handle(res, err)
		timer := time.NewTimer(p.Interval())
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

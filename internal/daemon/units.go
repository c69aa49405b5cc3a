package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"github.com/hsmwatch/hsmwatch/internal/sink/metrics"
)

// unit is one configured source or sink, built from one entry of the configuration by
// its kind. A reload compares entries with the running units by id and spec: the same
// spec keeps the unit as it runs, a changed spec is applied in place where the unit can
// (component.Reconfigurer: listeners keep their sockets, so no datagram falls in a gap)
// or else replaces it, a new id starts a unit, and an id no longer configured stops one.
type unit struct {
	id    string // the entry's kind and id: "files:/var/log/messages", "syslog:udp://:514"
	spec  string // the entry's settings (JSON), compared by a reload
	name  string // in logs
	owner string // its metrics' owner in the registry: id and a generation

	src   component.Source // a source, or
	queue *sink.Queue      // a sink behind its queue

	cancel context.CancelFunc
	done   chan struct{}
}

// value is the source or the sink, for its optional behaviours.
func (u *unit) value() any {
	if u.queue != nil {
		return u.queue.Sink()
	}
	return u.src
}

// plan is one configuration entry before anything is built: comparing plans with the
// running units opens no socket and reads no secret.
type plan struct {
	id, spec string
	build    func() (*unit, error)
	// reconfigure applies the entry to a running unit of the same id in place; it
	// returns false when the unit cannot take it (it is then replaced).
	reconfigure func(u *unit) (bool, error)
}

// plans turns configured entries into plans; env is what their constructors get.
func plans(entries []config.Entry, mibs []string, env component.Env, queue sink.QueueOptions) []plan {
	ps := make([]plan, 0, len(entries))
	for _, e := range entries {
		s := spec(e.Spec)
		if e.Kind.UsesMIBs {
			s = spec(e.Spec, mibs) // a changed MIB list rebuilds what names OIDs
		}
		ps = append(ps, plan{id: e.ID(), spec: s,
			build: func() (*unit, error) { return buildUnit(e, env, queue) },
			reconfigure: func(u *unit) (bool, error) {
				r, ok := u.value().(component.Reconfigurer)
				if !ok {
					return false, nil
				}
				return true, r.Reconfigure(e.Spec, env)
			}})
	}
	return ps
}

func buildUnit(e config.Entry, env component.Env, queue sink.QueueOptions) (*unit, error) {
	if e.Kind.Role == component.SinkRole {
		s, err := e.Kind.Sink(e.Spec, env)
		if err != nil {
			return nil, err
		}
		return &unit{name: s.Name(), queue: sink.NewQueue(s, queue)}, nil
	}
	s, err := e.Kind.Source(e.Spec, env)
	if err != nil {
		return nil, err
	}
	return &unit{name: s.Name(), src: s}, nil
}

// spec renders an entry's settings for comparison.
func spec(v ...any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v) // unreachable for configuration structs; still comparable
	}
	return string(b)
}

// generations numbers the builds of one daemon, so that a replacement's metrics never
// share an owner with those of the unit it replaces.
type generations struct{ n atomic.Int64 }

// build makes the unit of p, with its id, spec and owner filled in.
func (g *generations) build(p plan) (*unit, error) {
	u, err := p.build()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.id, err)
	}
	u.id, u.spec, u.owner = p.id, p.spec, fmt.Sprintf("%s#%d", p.id, g.n.Add(1))
	if u.name == "" {
		u.name = p.id
	}
	return u, nil
}

// start registers the unit's figures and runs it in a goroutine of its own until ctx
// ends or stop is called.
func (u *unit) start(ctx context.Context, emit component.Emit, reg *metrics.Registry, log *slog.Logger) {
	var figures []component.Figure
	if in, ok := u.value().(component.Instrumented); ok {
		figures = in.Figures()
	}
	if u.queue != nil {
		figures = append(figures, u.queue.Figures()...)
	}
	for _, f := range figures {
		if f.Each != nil {
			reg.SeriesOf(u.owner, f.Name, f.Help, f.Counter, f.Labels, f.EachLabel, f.Each)
			continue
		}
		reg.FuncOf(u.owner, f.Name, f.Help, f.Counter, f.Labels, f.Read)
	}
	ctx, u.cancel = context.WithCancel(ctx)
	u.done = make(chan struct{})
	go func() {
		defer close(u.done)
		var err error
		if u.queue != nil {
			err = u.queue.Run(ctx)
		} else {
			err = u.src.Run(ctx, emit)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("stopped with an error", "unit", u.name, "err", err)
		}
	}()
}

// stop ends the unit, waits for it, releases what it holds and takes its figures off
// /metrics.
func (u *unit) stop(reg *metrics.Registry) {
	if u.cancel != nil {
		u.cancel()
		<-u.done
	}
	u.release()
	reg.Forget(u.owner)
}

// release frees what the constructor opened; for a unit that never ran too.
func (u *unit) release() {
	switch c := u.value().(type) {
	case component.Closer:
		c.Close()
	case interface{ Close() error }:
		_ = c.Close()
	}
}

// commit persists what the unit's acknowledged records moved (a follower's offsets),
// once the pipeline has flushed its last records.
func (u *unit) commit() {
	if c, ok := u.value().(component.Committer); ok {
		c.Commit()
	}
}

// change is what a reload does to one list of units.
type change struct {
	next     []*unit // the list after the reload, in the configuration's order
	started  []*unit // built for the reload, to start
	stopped  []*unit // replaced or no longer configured, to stop
	inPlace  int
	failures []error
}

// diff compares plans with the running units. It builds the new and the replacing units
// first: one whose build fails leaves the unit it would have replaced running, and when
// a new entry (a new id: a listener given another address) fails to build, the running
// units of its kind that the configuration no longer names keep running too, for one
// of them is its predecessor. In-place
// changes are applied here; a refused one leaves the unit as it was.
func (g *generations) diff(running []*unit, plans []plan) change {
	old := make(map[string]*unit, len(running))
	for _, u := range running {
		old[u.id] = u
	}
	var c change
	failedKinds := map[string]bool{}
	for _, p := range plans {
		u, ok := old[p.id]
		delete(old, p.id)
		if ok && u.spec == p.spec {
			c.next = append(c.next, u)
			continue
		}
		if ok {
			applied, err := p.reconfigure(u)
			switch {
			case applied && err != nil:
				c.failures = append(c.failures, fmt.Errorf("%s: settings not applied, the old ones stay: %w", p.id, err))
				c.next = append(c.next, u)
				continue
			case applied:
				u.spec = p.spec
				c.inPlace++
				c.next = append(c.next, u)
				continue
			}
		}
		nu, err := g.build(p)
		if err != nil {
			if ok {
				c.next = append(c.next, u)
				err = fmt.Errorf("%w (the running one stays)", err)
			} else {
				failedKinds[kindOf(p.id)] = true
			}
			c.failures = append(c.failures, err)
			continue
		}
		if ok {
			c.stopped = append(c.stopped, u)
		}
		c.next = append(c.next, nu)
		c.started = append(c.started, nu)
	}
	for _, u := range running { // in their order, for the log
		if _, gone := old[u.id]; !gone {
			continue
		}
		if failedKinds[kindOf(u.id)] {
			// An entry of this kind whose id changed (a listener moved to another port)
			// could not start: the one it was meant to replace keeps running.
			c.next = append(c.next, u)
			c.failures = append(c.failures, fmt.Errorf("%s: kept running: a new %s entry could not start", u.id, kindOf(u.id)))
			continue
		}
		c.stopped = append(c.stopped, u)
	}
	return c
}

// kindOf is the kind part of a unit's id ("syslog" of "syslog:udp://:514").
func kindOf(id string) string {
	k, _, _ := strings.Cut(id, ":")
	return k
}

// names lists the units' names (for the log).
func names(us []*unit) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.name
	}
	return out
}

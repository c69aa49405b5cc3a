package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/hsmwatch/hsmwatch/internal/pipeline"
)

// unit is one configured source or sink, built from one entry of the configuration. A
// reload compares entries with the running units by id and spec: the same spec keeps the
// unit as it runs, a changed spec is applied in place where the unit can (listeners keep
// their sockets, so no datagram falls in a gap) or else replaces it, a new id starts a
// unit, and an id no longer configured stops one.
type unit struct {
	id    string // what the entry is about: "file:/var/log/messages", "syslog:udp://:514"
	spec  string // the entry's settings (JSON), compared by a reload
	name  string // in logs, and the label of its metrics
	owner string // its metrics' owner in the registry: id and a generation

	src  pipeline.Source                 // a source that emits records, or
	run  func(ctx context.Context) error // a loop of its own (polls, probes, traps, a sink's deliveries)
	sink pipeline.Sink                   // set for sinks
	obj  any                             // the concrete value, for addresses and in-place changes

	// release frees what the build opened (sockets), once the unit stopped or when it is
	// dropped without having run; it must tolerate a Run that already closed them.
	release func()
	// flushed runs once the pipeline has flushed the unit's last records after it
	// stopped: a follower commits the offsets those acknowledgements moved.
	flushed func()

	cancel context.CancelFunc
	done   chan struct{}
}

// plan is one configuration entry before anything is built: comparing plans with the
// running units opens no socket and reads no secret.
type plan struct {
	id, spec string
	build    func(owner string) (*unit, error)
	// reconfigure applies the entry to the running unit of the same id in place; nil:
	// a changed entry replaces the unit.
	reconfigure func(u *unit) error
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

func (g *generations) owner(id string) string { return fmt.Sprintf("%s#%d", id, g.n.Add(1)) }

// build makes the unit of p, with its id, spec and owner filled in.
func (g *generations) build(p plan) (*unit, error) {
	owner := g.owner(p.id)
	u, err := p.build(owner)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.id, err)
	}
	u.id, u.spec, u.owner = p.id, p.spec, owner
	if u.name == "" {
		u.name = p.id
	}
	return u, nil
}

// start runs the unit in a goroutine of its own until ctx ends or stop is called.
func (u *unit) start(ctx context.Context, emit pipeline.Emit, log *slog.Logger) {
	if u.src == nil && u.run == nil {
		return
	}
	ctx, u.cancel = context.WithCancel(ctx)
	u.done = make(chan struct{})
	go func() {
		defer close(u.done)
		var err error
		if u.src != nil {
			err = u.src.Run(ctx, emit)
		} else {
			err = u.run(ctx)
		}
		if err != nil && ctx.Err() == nil {
			log.Error("stopped with an error", "unit", u.name, "err", err)
		}
	}()
}

func (u *unit) started() bool { return u.done != nil }

// stop ends the unit, waits for it, and releases what it holds.
func (u *unit) stop() {
	if u.cancel != nil {
		u.cancel()
		<-u.done
	}
	if u.release != nil {
		u.release()
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
// first: one whose build fails leaves the unit it would have replaced running. In-place
// changes are applied here; a refused one leaves the unit as it was.
func (g *generations) diff(running []*unit, plans []plan) change {
	old := make(map[string]*unit, len(running))
	for _, u := range running {
		old[u.id] = u
	}
	var c change
	for _, p := range plans {
		u, ok := old[p.id]
		delete(old, p.id)
		switch {
		case ok && u.spec == p.spec:
			c.next = append(c.next, u)
		case ok && p.reconfigure != nil:
			if err := p.reconfigure(u); err != nil {
				c.failures = append(c.failures, fmt.Errorf("%s: settings not applied, the old ones stay: %w", p.id, err))
			} else {
				u.spec = p.spec
				c.inPlace++
			}
			c.next = append(c.next, u)
		default:
			nu, err := g.build(p)
			if err != nil {
				if ok {
					c.next = append(c.next, u)
					err = fmt.Errorf("%w (the running one stays)", err)
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
	}
	for _, u := range running { // in their order, for the log
		if _, gone := old[u.id]; gone {
			c.stopped = append(c.stopped, u)
		}
	}
	return c
}

// names lists the units' names (for the log).
func names(us []*unit) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.name
	}
	return out
}

// Package component is the contract between the daemon and its parts. Every kind of
// source (followed files, syslog listeners, named pipes, the trap receiver, SNMP pollers,
// PKCS#11 probes) and of sink (webhooks, Alertmanager, syslog forwarding, SNMP
// notifications, standard output) is a package that registers a Kind here: the YAML
// section it reads, its configuration type with defaults and checks, a sample
// configuration and a constructor. The daemon builds what the configuration names from
// the registry and holds no code of its own for any kind.
//
// The flow a record takes:
//
//	Source.Run --Emit(Record)--> pipeline (classify, state) --> store (durable; acks)
//	       --> one bounded queue per sink (internal/sink) --> Sink.Write
package component

import (
	"context"
	"net"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Record is one event on its way through the pipeline.
type Record struct {
	Event *event.Event
	// Key identifies the record across restarts: a source that reads the same input
	// again after a crash (a file from its last committed offset) gives the same record
	// the same key, and the store keeps it once. Sources whose input cannot be read
	// twice (syslog over the network, traps, polls) leave it empty.
	Key string
	// Ack, when set, is called once the record is durable (the store has committed it).
	// A source commits its checkpoint then. Acks of one source are called in the order
	// its records were emitted.
	Ack func()
}

// Emit hands one record to the pipeline. It blocks while the pipeline's queue is full
// (back-pressure: a source slows down rather than an event being dropped) and returns
// ctx.Err() when ctx ends. The pipeline owns the record's event once Emit returns.
type Emit func(ctx context.Context, r Record) error

// Source reads the outside world.
type Source interface {
	// Name identifies the source in metrics and logs ("file:/var/log/messages").
	Name() string
	// Run reads until ctx ends (then it returns nil) or a fatal error.
	Run(ctx context.Context, emit Emit) error
}

// Item is one classified event with what the state made of it.
type Item struct {
	Record   Record
	Decision state.Decision
	// Replayed is set by the durable sink for a record it already held (a line read
	// again after a crash, under the same Key): the other sinks had it before and do not
	// get it again.
	Replayed bool
}

// Sink acts on classified events, a batch at a time, in the order they were emitted.
type Sink interface {
	Name() string
	// Write delivers one batch. For the store, nil means committed. For every other
	// sink Write runs on that sink's own queue (internal/sink): an error makes the queue
	// retry the batch with the shared back-off, and a slow Write holds up nothing else.
	Write(ctx context.Context, batch []Item) error
}

// The optional behaviours a source or sink may have; the daemon looks for them.
type (
	// Reconfigurer takes changed settings of the same entry on the running unit (a
	// listener keeps its socket, so no datagram falls in a gap). An error leaves the
	// unit as it was; a unit without it is replaced by a new one.
	Reconfigurer interface {
		Reconfigure(spec Spec, env Env) error
	}
	// Committer persists what the acknowledged records moved (a follower's offsets);
	// the daemon calls it once the pipeline has flushed the unit's last records.
	Committer interface{ Commit() }
	// Runner is a sink's loop of its own (deliveries, re-sends), run beside its queue.
	Runner interface {
		Run(ctx context.Context) error
	}
	// Closer releases what the constructor opened (sockets), once the unit stopped or
	// when it is dropped without having run. It must tolerate a Run that closed them.
	Closer interface{ Close() }
	// Listener names the addresses a source is bound to ("syslog" and "traps" listen).
	Listener interface{ Addrs() []net.Addr }
	// Instrumented lists the unit's own figures for /metrics.
	Instrumented interface{ Figures() []Figure }
	// Spooler is a sink whose Write already is a durable queue (the webhook's disk
	// spool): it is written on the pipeline's goroutine, and its Runner delivers.
	Spooler interface{ Spooled() bool }
	// Adopter takes what is still queued in the sink a reload replaces.
	Adopter interface{ Adopt(prev Sink) }
	// AlarmKeeper is a sink that keeps the alarms' state itself and re-sends it on its
	// own (Alertmanager): its queue hands it the repeats of acknowledged alarms, which
	// the queue keeps from every other sink, so that it can mark their alerts.
	AlarmKeeper interface{ KeepsAlarms() bool }
	// AlarmAware is a sink that reports alarms (Alertmanager, webhooks, SNMP
	// notifications): when it starts (the daemon's start, a reload that adds or
	// replaces it, a restart) it is told every alarm open at that moment, between two
	// batches, so that an alarm opened before it ran is never missing downstream. Its
	// queue calls OpenAlarms in order with the batches, with its own context (a
	// spooled sink: on the pipeline's goroutine, so it must not block on the network).
	AlarmAware interface {
		OpenAlarms(ctx context.Context, open []state.Alarm)
	}
)

// Muted reports whether the sinks' queues keep it from a sink: the event is silenced (an
// operator's silence or a maintenance window), or it repeats an acknowledged alarm and
// the sink does not keep alarm state (keepsAlarms false). The store has it all the same.
func (it Item) Muted(keepsAlarms bool) bool {
	d := it.Decision
	if d.Silenced {
		return true
	}
	return d.Acknowledged && d.Change == state.Repeated && !keepsAlarms
}

// Figure is one of a unit's own metrics, read at each scrape. Name is exported as
// hsmwatch_<Name>; Labels name the instance ({source="file:/var/log/x"}).
type Figure struct {
	Name, Help string
	Counter    bool
	Labels     map[string]string
	Read       func() float64
	// Each, when set instead of Read, gives one series per value of the label EachLabel
	// (added to Labels), such as the messages limited per syslog origin. The source
	// bounds how many values it returns: each is a series on /metrics.
	Each      func() map[string]float64
	EachLabel string
}

// ParseFailuresHelp is the help of hsmwatch_parse_failures_total, which several kinds
// export: one family has one help text.
const ParseFailuresHelp = "Input a source could not parse (unparsed events, refused datagrams)."

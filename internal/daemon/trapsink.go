package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/sender"
)

// trapQueue bounds the notifications waiting to be sent.
const trapQueue = 10000

// trapSink sends the Luna notifications of the pipeline's events (sinks.snmp_traps) from
// a goroutine of its own: an NMS that is slow to acknowledge informs never holds up the
// pipeline. When its queue is full, notifications are counted as skipped (the events are
// in the store; only the notification is missed) and logged.
type trapSink struct {
	s       *sender.Sink
	ch      chan *event.Event
	skipped atomic.Int64
	log     *slog.Logger
}

func (d *Daemon) buildTrapSink(targets []config.TrapTarget, table *mib.Table) (*trapSink, error) {
	var ts []notify.Target
	for i, t := range targets {
		nt := notify.Target{Addr: t.Address, Inform: t.Inform, Timeout: 5 * time.Second, Retries: 2}
		switch {
		case t.User != nil || t.Version == "3":
			if t.User == nil {
				return nil, fmt.Errorf("sinks.snmp_traps[%d]: version 3 needs a user", i)
			}
			u, err := d.user(*t.User)
			if err != nil {
				return nil, fmt.Errorf("sinks.snmp_traps[%d]: %w", i, err)
			}
			nt.Version, nt.User = gosnmp.Version3, &u
		default:
			c, err := d.secret(t.CommunityFile, t.CommunityEnv)
			if err != nil || c == "" {
				return nil, fmt.Errorf("sinks.snmp_traps[%d]: give community_file or community_env (err: %v)", i, err)
			}
			nt.Version, nt.Community = gosnmp.Version2c, c
		}
		ts = append(ts, nt)
	}
	s, err := sender.New(sender.Config{Targets: ts, MIB: table, Logger: d.log})
	if err != nil {
		return nil, fmt.Errorf("sinks.snmp_traps: %w", err)
	}
	return &trapSink{s: s, ch: make(chan *event.Event, trapQueue), log: d.log}, nil
}

func (t *trapSink) Name() string { return "snmp-traps" }

// Write queues the events that carry a Luna notification category and that the state
// lets through (not ignored, not a repeat, not held by a storm).
func (t *trapSink) Write(_ context.Context, batch []pipeline.Item) error {
	for _, it := range batch {
		if !it.Decision.Emit() || sender.Category(it.Record.Event) == "" {
			continue
		}
		select {
		case t.ch <- it.Record.Event:
		default:
			if t.skipped.Add(1) == 1 {
				t.log.Warn("SNMP notification queue full: notifications skipped (counted)")
			}
		}
	}
	return nil
}

// adopt takes the notifications still queued in prev, a sink a reload replaced.
func (t *trapSink) adopt(prev *trapSink) {
	for {
		select {
		case ev := <-prev.ch:
			select {
			case t.ch <- ev:
			default:
				t.skipped.Add(1)
			}
		default:
			return
		}
	}
}

// Run sends until ctx ends.
func (t *trapSink) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-t.ch:
			if err := t.s.Send(ctx, ev); err != nil && ctx.Err() == nil {
				t.log.Debug("SNMP notification not sent", "err", err)
			}
		}
	}
}

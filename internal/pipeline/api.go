// Package pipeline connects the daemon's stages: sources emit records, the pipeline
// parses nothing itself (sources hand over parsed events), classifies them, keeps the
// state, and hands each event to the sinks. This file is the contract every source and
// sink of "hsmwatch serve" is written against.
package pipeline

import (
	"context"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Record is one event on its way through the pipeline.
type Record struct {
	Event *event.Event
	// Key identifies the record across restarts: a source that reads the same input
	// again after a crash (a file from its last committed offset) gives the same record
	// the same key, and the store keeps it once. Sources whose input cannot be read
	// twice (syslog over the network, traps) leave it empty.
	Key string
	// Ack, when set, is called once the record is durable (the store has committed it).
	// A source commits its checkpoint then. Acks of one source are called in the order
	// its records were emitted.
	Ack func()

	// do, on a record the pipeline makes itself (Do), runs on the pipeline's goroutine
	// once every record queued before it has been flushed; done is closed then.
	do   func()
	done chan struct{}
}

// Emit hands one record to the pipeline. It blocks while the pipeline's queue is full
// (back-pressure: a source slows down rather than an event being dropped) and returns
// ctx.Err() when ctx ends. The pipeline owns the record's event once Emit returns.
type Emit func(ctx context.Context, r Record) error

// Source reads the outside world: followed files, syslog listeners, named pipes, the trap
// receiver, pollers, PKCS#11 probes.
type Source interface {
	// Name identifies the source in metrics and logs ("file:/var/log/messages").
	Name() string
	// Run reads until ctx ends (then it returns nil) or a fatal error.
	Run(ctx context.Context, emit Emit) error
}

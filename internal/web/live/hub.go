// Package live pushes the pipeline's events and alarm changes to browsers as they happen,
// over Server-Sent Events (GET /api/stream).
//
// The Hub is a component.Sink: after each batch is stored, Write encodes the batch once
// and hands it to every connected browser without waiting for any of them. Each browser
// has a bounded queue of batches; one whose queue is full (a slow reader, a stalled
// network) is disconnected and counted, never waited for: the pipeline must not slow
// down because somebody left a dashboard open over a bad link. A browser that was
// disconnected reconnects by itself (EventSource) and reloads what it shows from the
// JSON API, so it misses nothing for long.
//
// The stream (one SSE message per batch):
//
//	retry: 3000
//
//	id: 42
//	event: batch
//	data: {"events":[{...}],"alarms":[{...}]}
//
//	: ping
//
// Each event is its schema v1 object with the store's "site" key first, as /api/events
// gives it (without "id": the stream does not know the row's id); each alarm is a
// state.Alarm with "site" (as /api/alarms, without "id"). Ids increase by one per batch
// for the whole hub, so a client sees the batches in the order the pipeline wrote them
// and can tell when it missed some. Comments (": ping") are heartbeats that keep proxies
// from closing an idle stream.
//
// Shut down by cancelling the context given to Run before shutting down the HTTP server:
// streams never go idle, so http.Server.Shutdown would otherwise wait for them forever.
package live

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Options configure a Hub. Zero fields take their defaults.
type Options struct {
	// Site is the daemon's site, written on every event and alarm as the API does.
	// Default "default" (store.DefaultSite).
	Site string
	// Logger receives connects, disconnects and dropped clients. Default slog.Default().
	Logger *slog.Logger
	// ClientBuffer is how many batches may wait for one browser before it is dropped as
	// too slow. Default 64.
	ClientBuffer int
	// MaxClients bounds the open streams; more are refused with 503. Default 100.
	MaxClients int
	// MaxPerAddress bounds the open streams of one client address (the host part of the
	// remote address); more are refused with 503. Default 8.
	MaxPerAddress int
	// Heartbeat is the interval of the keep-alive comments. Default 15s.
	Heartbeat time.Duration
	// WriteTimeout bounds one write to one browser; a write that takes longer ends that
	// stream. Default 10s.
	WriteTimeout time.Duration
	// Retry is the reconnection delay browsers are told. Default 3s.
	Retry time.Duration
}

func (o Options) withDefaults() Options {
	if o.Site == "" {
		o.Site = "default"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ClientBuffer <= 0 {
		o.ClientBuffer = 64
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 100
	}
	if o.MaxPerAddress <= 0 {
		o.MaxPerAddress = 8
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 3 * time.Second
	}
	return o
}

// Hub fans batches out to the connected browsers. Its methods are safe for concurrent
// use; ServeHTTP serves the stream.
type Hub struct {
	opts Options

	mu      sync.Mutex
	clients map[*client]struct{}
	perAddr map[string]int // open streams by client address
	seq     uint64         // the id of the last batch published
	closed  bool
	done    chan struct{} // closed by Run when its context ends
	streams sync.WaitGroup

	published, dropped, refused atomic.Int64
	// refusalLog lets one refusal log through per interval: a client retrying in a loop
	// must not flood the log.
	refusalLog rate.Sometimes
}

// client is one open stream.
type client struct {
	remote string
	addr   string        // remote's host part
	queue  chan []byte   // SSE frames, ready to write
	kicked chan struct{} // closed when the client is dropped as too slow
}

// New returns a hub; serve its streams with ServeHTTP and call Run for its lifetime.
func New(opts Options) *Hub {
	return &Hub{opts: opts.withDefaults(), clients: map[*client]struct{}{}, perAddr: map[string]int{},
		done: make(chan struct{}), refusalLog: rate.Sometimes{Interval: 10 * time.Second}}
}

// Stats counts what the hub did.
type Stats struct {
	Clients   int   // streams open now
	Published int64 // batches handed to the streams
	Dropped   int64 // streams ended because the browser read too slowly (queue full or write timed out)
	Refused   int64 // streams refused: too many, or the hub was shutting down
}

// Stats returns the counters so far.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	n := len(h.clients)
	h.mu.Unlock()
	return Stats{Clients: n, Published: h.published.Load(), Dropped: h.dropped.Load(), Refused: h.refused.Load()}
}

// Name implements component.Sink.
func (h *Hub) Name() string { return "live" }

// Write implements component.Sink: it publishes the batch's events and the alarm changes
// their decisions carry. It never blocks on a browser and never fails.
func (h *Hub) Write(_ context.Context, batch []component.Item) error {
	if len(batch) == 0 || !h.listened() {
		return nil // nobody to tell: spare the encoding
	}
	h.publish(encodeBatch(h.opts.Site, batch))
	return nil
}

func (h *Hub) listened() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients) > 0 && !h.closed
}

// publish numbers one encoded batch and queues it for every client; a client whose queue
// is full is dropped. Numbering and queuing happen under one lock, so every client gets
// the batches in the order of their ids.
func (h *Hub) publish(data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.seq++
	frame := sseFrame(h.seq, "batch", data)
	for c := range h.clients {
		select {
		case c.queue <- frame:
		default:
			h.drop(c)
			close(c.kicked)
			h.dropped.Add(1)
			h.opts.Logger.Warn("live: browser too slow, stream dropped (it will reconnect and reload)",
				"remote", c.remote, "queued_batches", len(c.queue))
		}
	}
	h.published.Add(1)
}

// SetMaxPerAddress changes the bound on the open streams of one client address (a
// reload of http.max_streams_per_address; 0: the default). Streams open beyond a lower
// bound stay; new ones wait for room.
func (h *Hub) SetMaxPerAddress(n int) {
	if n <= 0 {
		n = Options{}.withDefaults().MaxPerAddress
	}
	h.mu.Lock()
	h.opts.MaxPerAddress = n
	h.mu.Unlock()
}

// join registers a stream; it fails when the hub is closed or full, or the client's
// address has its share of streams open.
func (h *Hub) join(remote string) (*client, bool) {
	addr := remote
	if host, _, err := net.SplitHostPort(remote); err == nil {
		addr = host
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	maxPer := h.opts.MaxPerAddress
	var why string
	switch {
	case h.closed:
	case len(h.clients) >= h.opts.MaxClients:
		why = "too many open"
	case h.perAddr[addr] >= maxPer:
		why = "too many open from this address"
	default:
		c := &client{remote: remote, addr: addr, queue: make(chan []byte, h.opts.ClientBuffer), kicked: make(chan struct{})}
		h.clients[c] = struct{}{}
		h.perAddr[addr]++
		h.streams.Add(1)
		return c, true
	}
	n := h.refused.Add(1)
	if why != "" {
		h.refusalLog.Do(func() {
			h.opts.Logger.Warn("live: stream refused: "+why, "remote", remote, "max_clients", h.opts.MaxClients,
				"max_per_address", maxPer, "refused_total", n)
		})
	}
	return nil, false
}

// drop removes a client from the books; the caller holds mu.
func (h *Hub) drop(c *client) {
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	if h.perAddr[c.addr]--; h.perAddr[c.addr] <= 0 {
		delete(h.perAddr, c.addr)
	}
}

// leave unregisters a stream (a dropped one is already gone).
func (h *Hub) leave(c *client) {
	h.mu.Lock()
	h.drop(c)
	h.mu.Unlock()
	h.streams.Done()
}

// Run serves until ctx ends, then ends every stream, refuses new ones, and returns once
// the streams' handlers have returned (each within WriteTimeout).
func (h *Hub) Run(ctx context.Context) error {
	<-ctx.Done()
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
	h.mu.Unlock()
	h.streams.Wait()
	return nil
}

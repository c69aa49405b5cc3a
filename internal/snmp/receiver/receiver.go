// Package snmptrap receives SNMP notifications (v1 and v2c traps, v2c informs, v3 traps
// and informs with USM) and turns each into an event of source snmp-trap.
//
// It is our own receive loop, not gosnmp's TrapListener (the project's design notes, "Dependencies"): a
// large socket buffer, a bounded queue and a pool of workers keep a burst from being
// lost while the handler works; communities are checked per source, v3 users against
// engine-ID allow-lists, a minimum security level and a replay window; informs are
// acknowledged; every refused datagram is counted by reason and logged at most once per
// peer per minute; a panic costs one datagram, never the receiver.
//
// Reconfigure (reconfigure.go) applies a reloaded configuration to the running socket:
// closing and binding it again would lose the notifications that arrive in between.
package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/peerlog"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

const (
	// maxDatagram holds any UDP payload, so that no notification is silently truncated.
	maxDatagram = 65535
	// maxQueuedBytes bounds the memory of the queue whatever the datagram sizes: a
	// flood of 64 KiB datagrams is dropped (and counted) rather than allowed to take
	// gigabytes.
	maxQueuedBytes = 64 << 20
)

// Receiver reads SNMP notifications from one UDP socket.
type Receiver struct {
	conn net.PacketConn
	// set is what decides about a datagram; Reconfigure swaps it whole. A worker loads it
	// once per datagram, so each is handled under one set of settings, and the hot path
	// costs one atomic load.
	set      atomic.Pointer[settings]
	reconfMu sync.Mutex // one Reconfigure at a time
	started  startedWith
	engineID []byte
	boots    uint32
	start    time.Time
	salt     usm.Salter
	workers  int
	queue    int
	log      *slog.Logger
	peers    *peerlog.Limiter
	replay   *replayWindow
	count    counters
	queued   atomic.Int64 // bytes waiting in the queue
	running  atomic.Bool
}

// settings is the part of a Config a Reconfigure changes, ready for use. It is never
// modified once stored.
type settings struct {
	communities []communityRule
	users       map[string]*userKeys
	engines     map[string]bool // every sender engine ID some user allows
	minLevel    Level
	names       *namer
	prepare     func(*event.Event)
}

// startedWith is what New was given of the settings a Reconfigure may not change, as
// written in the Config (zero values included), to compare a new Config with.
type startedWith struct {
	addr        string
	conn        net.PacketConn // the adopted Config.Conn, or nil
	readBuffer  int
	engineID    []byte
	engineBoots uint32
}

// newSettings derives what cfg (checked by checkConfig) says about admitting and naming
// notifications; the v3 keys are localized to ownEngine and to the senders' engine IDs.
func newSettings(cfg Config, ownEngine []byte) (*settings, error) {
	st := &settings{minLevel: cfg.MinLevel, prepare: cfg.Prepare, communities: compileCommunities(cfg.Communities)}
	table := cfg.MIB
	if table == nil {
		table = mib.Builtin()
	}
	st.names = newNamer(table)
	var err error
	if st.users, st.engines, err = localizeUsers(cfg.Users, ownEngine); err != nil {
		return nil, err
	}
	return st, nil
}

// packet is one datagram waiting for a worker.
type packet struct {
	data []byte
	peer netip.AddrPort
	at   time.Time
}

// New checks cfg, derives the v3 keys and opens the socket (Addr) or adopts cfg.Conn.
// Run reads from it; Close releases it when Run is never called.
func New(cfg Config) (*Receiver, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, fmt.Errorf("snmptrap: %w", err)
	}
	r := &Receiver{workers: cfg.Workers, queue: cfg.Queue, log: cfg.Logger, replay: newReplayWindow(), start: time.Now(),
		started: startedWith{addr: cfg.Addr, conn: cfg.Conn, readBuffer: cfg.ReadBuffer,
			engineID: append([]byte(nil), cfg.EngineID...), engineBoots: cfg.EngineBoots}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.workers <= 0 {
		r.workers = defaultWorkers
	}
	if r.queue <= 0 {
		r.queue = defaultQueue
	}
	r.peers = peerlog.New(r.log, "snmptrap: ", peerlog.DefaultEvery)
	if err := r.listen(cfg); err != nil {
		return nil, err
	}
	r.engineID = cfg.EngineID
	if r.engineID == nil {
		r.engineID = defaultEngineID(r.conn.LocalAddr())
	}
	r.boots = cfg.EngineBoots
	if r.boots == 0 {
		r.boots = bootsFromClock(r.start)
	}
	st, err := newSettings(cfg, r.engineID)
	if err != nil {
		r.conn.Close()
		return nil, fmt.Errorf("snmptrap: %w", err)
	}
	r.set.Store(st)
	r.salt.Seed()
	return r, nil
}

func (r *Receiver) listen(cfg Config) error {
	if cfg.Conn != nil {
		r.conn = cfg.Conn
	} else {
		if cfg.Addr == "" {
			return errors.New("snmptrap: config has neither Conn nor Addr")
		}
		conn, err := net.ListenPacket("udp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("snmptrap: listen on %s: %w", cfg.Addr, err)
		}
		r.conn = conn
	}
	size := cfg.ReadBuffer
	if size <= 0 {
		size = defaultReadBuffer
	}
	if got, err := setReadBuffer(r.conn, size); err != nil {
		r.log.Warn("snmptrap: cannot set the socket receive buffer", "want", size, "err", err)
	} else if got < size {
		// Linux reports twice what it grants (bookkeeping), so a warning means less
		// than half of what was asked for.
		r.log.Info("snmptrap: socket receive buffer smaller than asked; raise net.core.rmem_max to absorb larger bursts",
			"want", size, "got", got)
	}
	return nil
}

// bootsFromClock is an snmpEngineBoots that grows across restarts without a state file:
// the seconds since 2024-01-01 (it reaches 2^31-1 in 2092). RFC 3414 only needs boots to
// grow whenever engine time restarts from zero, so that messages of an earlier run
// cannot be replayed to this one.
func bootsFromClock(now time.Time) uint32 {
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := int64(now.Sub(epoch) / time.Second)
	return uint32(min(max(s, 1), usm.MaxBoots-1))
}

// defaultEngineID is an RFC 3411 engine ID of the enterprise-0, text format (4) holding
// "hsmwatch-trapd", the host name and the port, so that it stays the same across restarts
// and differs between receivers (senders configure it for informs).
func defaultEngineID(addr net.Addr) []byte {
	id := []byte{0x80, 0x00, 0x00, 0x00, 0x04}
	text := "hsmwatch-trapd"
	if h, err := os.Hostname(); err == nil && h != "" {
		text += ":" + h
	}
	if u, ok := addr.(*net.UDPAddr); ok {
		text += fmt.Sprintf(":%d", u.Port)
	}
	if len(text) > 27 {
		text = text[len(text)-27:] // keep the port and the end of the host name
	}
	return append(id, text...)
}

// Addr is the address the receiver reads from.
func (r *Receiver) Addr() net.Addr { return r.conn.LocalAddr() }

// EngineID is the receiver's own (inform-authoritative) SNMPv3 engine ID.
func (r *Receiver) EngineID() []byte { return append([]byte(nil), r.engineID...) }

// Close releases the socket of a receiver that is not running; Run closes it itself.
func (r *Receiver) Close() error { return r.conn.Close() }

// bootsTime returns the receiver's snmpEngineBoots and snmpEngineTime.
func (r *Receiver) bootsTime() (uint32, uint32) {
	return r.boots, uint32(min(time.Since(r.start)/time.Second, usm.MaxBoots))
}

// Run reads notifications until ctx ends (then it returns nil, after the workers have
// finished what was already read) or the socket fails, calling emit with one event per
// accepted notification. emit is never called concurrently and owns the event. A
// receiver runs once; Run closes the socket when it returns.
func (r *Receiver) Run(ctx context.Context, emit func(*event.Event)) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("snmptrap: Run called twice")
	}
	defer r.conn.Close()
	// Closing the socket is the one way to interrupt a blocked read.
	stop := context.AfterFunc(ctx, func() { r.conn.Close() })
	defer stop()
	queue := make(chan packet, r.queue)
	var wg sync.WaitGroup
	var emitMu sync.Mutex
	for range r.workers {
		wg.Go(func() {
			for p := range queue {
				r.queued.Add(-int64(len(p.data)))
				r.process(p, func(ev *event.Event) {
					emitMu.Lock()
					defer emitMu.Unlock()
					emit(ev)
				})
			}
		})
	}
	err := r.read(ctx, queue)
	close(queue)
	wg.Wait()
	return err
}

// Pending reports whether datagrams wait in the queue for a worker: an emit that sees
// none is the last of a burst (for now), and a writer can flush then.
func (r *Receiver) Pending() bool { return r.queued.Load() > 0 }

// read is the receive loop: it does nothing but copy each datagram into the queue, so
// that the socket is drained as fast as the kernel fills it.
func (r *Receiver) read(ctx context.Context, queue chan<- packet) error {
	buf := make([]byte, maxDatagram)
	udp, _ := r.conn.(*net.UDPConn)
	for {
		var n int
		var peer netip.AddrPort
		var err error
		if udp != nil {
			n, peer, err = udp.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			n, a, err = r.conn.ReadFrom(buf)
			peer = addrPort(a)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("snmptrap: socket closed: %w", err)
			}
			// Not expected on a UDP socket; a pause keeps a persistent error from
			// spinning a core.
			r.log.Warn("snmptrap: receive failed", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		r.count.packets.Add(1)
		if r.queued.Load()+int64(n) > maxQueuedBytes {
			r.reject(ReasonQueueFull, peer, nil)
			continue
		}
		p := packet{data: append([]byte(nil), buf[:n]...), peer: peer, at: time.Now()}
		select {
		case queue <- p:
			r.queued.Add(int64(n))
		default:
			r.reject(ReasonQueueFull, peer, nil)
		}
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	if a != nil {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			return ap
		}
	}
	return netip.AddrPort{}
}

// process handles one datagram: the answer (an inform's Response, a Report) goes back
// to the peer, the event (prepared by the settings' Prepare) to emit. A panic while
// decoding costs this datagram only.
func (r *Receiver) process(p packet, emit func(*event.Event)) {
	st := r.set.Load()
	res, ok := r.handleSafely(st, p)
	if !ok {
		return
	}
	if res.reply != nil {
		if _, err := r.conn.WriteTo(res.reply, net.UDPAddrFromAddrPort(p.peer)); err != nil {
			r.peers.Log(p.peer.Addr().String(), "cannot answer", "err", err)
		}
	}
	if res.ev != nil {
		r.count.events.Add(1)
		if st.prepare != nil {
			st.prepare(res.ev)
		}
		emit(res.ev)
	}
}

func (r *Receiver) handleSafely(st *settings, p packet) (res result, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			r.reject(ReasonPanic, p.peer, fmt.Errorf("panic: %v", v))
			ok = false
		}
	}()
	return r.handle(st, p.data, p.peer, p.at), true
}

// reject counts a refused datagram and logs it, at most once per peer per minute. err
// never carries a community or passphrase: the callers build it from header fields.
func (r *Receiver) reject(reason Reason, peer netip.AddrPort, err error) result {
	r.count.rejected[reason].Add(1)
	args := []any{"reason", reason.String()}
	if err != nil {
		args = append(args, "err", err.Error())
	}
	r.peers.Log(peer.Addr().Unmap().String(), "notification refused", args...)
	return result{}
}

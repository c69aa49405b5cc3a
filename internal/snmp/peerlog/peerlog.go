// Package peerlog limits log lines about misbehaving peers: a flood of bad packets from
// one address yields one line per peer per interval, so that an attacker cannot fill the
// disk or hide other lines, while every packet is still counted by its caller.
package peerlog

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Limiter remembers when each peer was last logged about. The zero value is not usable:
// call New.
type Limiter struct {
	log    *slog.Logger
	prefix string
	every  time.Duration
	max    int

	mu   sync.Mutex
	last map[string]time.Time
}

// DefaultEvery is the interval between two lines about one peer.
const DefaultEvery = time.Minute

// maxPeers bounds the memory: beyond it, entries older than the interval are dropped,
// and when every entry is recent the whole map is (a spoofed-source flood).
const maxPeers = 4096

// New returns a limiter writing to log at level Warn, each message prefixed.
func New(log *slog.Logger, prefix string, every time.Duration) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if every <= 0 {
		every = DefaultEvery
	}
	return &Limiter{log: log, prefix: prefix, every: every, max: maxPeers, last: map[string]time.Time{}}
}

// Host is the address a limiter keys on: the IP of a UDP peer, without its port, since a
// sender changes ports between packets.
func Host(peer net.Addr) string {
	switch p := peer.(type) {
	case *net.UDPAddr:
		return p.IP.String()
	case nil:
		return "unknown"
	}
	if ap, err := netip.ParseAddrPort(peer.String()); err == nil {
		return ap.Addr().String()
	}
	return peer.String()
}

// Log writes msg with args about host unless a line about host was written during the
// last interval; it reports whether it wrote.
func (l *Limiter) Log(host, msg string, args ...any) bool {
	now := time.Now()
	l.mu.Lock()
	if t, ok := l.last[host]; ok && now.Sub(t) < l.every {
		l.mu.Unlock()
		return false
	}
	if len(l.last) >= l.max {
		for h, t := range l.last {
			if now.Sub(t) >= l.every {
				delete(l.last, h)
			}
		}
		if len(l.last) >= l.max {
			clear(l.last)
		}
	}
	l.last[host] = now
	l.mu.Unlock()
	l.log.Warn(l.prefix+msg, append([]any{"peer", host}, args...)...)
	return true
}

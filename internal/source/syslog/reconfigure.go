package syslog

import (
	"errors"
	"fmt"
)

// ErrNotReconfigurable marks a Reconfigure refused because a setting that cannot change
// on running sockets changed: a listen address or the Name. The server runs on as it
// was; the setting needs a new Server (a restart).
var ErrNotReconfigurable = errors.New("cannot change on a running server")

// Reconfigure applies cfg (a configuration reload) to the running server without closing
// a socket or a connection: a UDP socket closed and bound again would lose the datagrams
// that arrive in between, and senders would have to reconnect. It is safe to call while
// Run runs, from any goroutine.
//
// Refused, with an error that wraps ErrNotReconfigurable and names the field, leaving
// everything as it was: a change of UDP, TCP or TLS (compared as written in the Config,
// so "127.0.0.1:0" stays "127.0.0.1:0"; a listener added or removed counts as a change)
// or of Name (it labels the metrics). A cfg that New would refuse is refused too, as is
// TLS material that does not load: CertFile, KeyFile and ClientCAFile are read again at
// every call, since rotating a certificate is the main reason to reload, and when any of
// them fails the old certificate stays in use.
//
// Applied when the call returns:
//   - Format, Location and MaxMessage: to every message whose first byte is read
//     afterwards, on UDP and on the TCP and TLS connections already open;
//   - the certificate and ClientCAFile: to every TLS handshake that starts afterwards;
//     connections already established keep theirs and stay open;
//   - MaxConns, MaxConnsPerIP: to connections accepted afterwards; open connections over
//     a lowered limit stay open (each new connection evicts one over MaxConns);
//   - IdleTimeout, FrameTimeout: from each connection's next read (a read already
//     waiting keeps its deadline);
//   - Rate, Burst, MaxSenders: the per-origin buckets are kept (an origin in the middle of
//     a flood does not get a fresh burst from a reload), each capped at the new burst and
//     refilling at the new rate; a negative Rate turns the limit off, a Rate set again
//     turns it back on with the buckets it had;
//   - LimitReport: the next summary comes one new interval after the call;
//   - UDPBuffer: asked of the kernel again on the running socket when it changed (what
//     is already queued stays); what the kernel grants shows in Stats.
//
// Logger is ignored: the server keeps the logger it was made with.
func (s *Server) Reconfigure(cfg Config) error {
	if err := fill(&cfg); err != nil {
		return fmt.Errorf("%s: reconfigure: %w", s.name, err)
	}
	s.reconfMu.Lock()
	defer s.reconfMu.Unlock()
	old := s.config()
	for _, f := range []struct{ name, old, new string }{
		{"name", old.Name, cfg.Name}, {"udp", old.UDP, cfg.UDP}, {"tcp", old.TCP, cfg.TCP}, {"tls", old.TLS, cfg.TLS},
	} {
		if f.old != f.new {
			return fmt.Errorf("%s: reconfigure: %s %q -> %q: %w (it needs a new server)", s.name, f.name, f.old, f.new, ErrNotReconfigurable)
		}
	}
	if cfg.TLS != "" {
		tc, err := serverTLS(cfg)
		if err != nil {
			return fmt.Errorf("%s: reconfigure: tls %s: %w (the running certificate stays)", s.name, cfg.TLS, err)
		}
		s.tlsConf.Store(tc)
	}
	// Nothing below can fail: the change is all or nothing.
	cfg.Logger = old.Logger
	s.conns.set(cfg.MaxConns, cfg.MaxConnsPerIP)
	if cfg.Rate >= 0 {
		s.limit.set(cfg.Rate, cfg.Burst, cfg.MaxSenders)
	}
	if s.udp != nil && cfg.UDPBuffer != old.UDPBuffer {
		s.setUDPBuffer(cfg.UDPBuffer)
	}
	s.cur.Store(&cfg)
	select {
	case s.reconf <- struct{}{}:
	default: // reportLimits has a wake-up pending already
	}
	s.log.Info("reconfigured", "format", cfg.Format, "max_message", cfg.MaxMessage, "max_conns", cfg.MaxConns,
		"max_conns_per_ip", cfg.MaxConnsPerIP, "idle_timeout", cfg.IdleTimeout, "rate", cfg.Rate, "burst", cfg.Burst,
		"udp_buffer", cfg.UDPBuffer, "tls_reloaded", cfg.TLS != "")
	return nil
}

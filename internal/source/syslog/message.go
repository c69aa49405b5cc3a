package syslog

import (
	"bytes"
	"context"
	"net/netip"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// origin says where a message came from.
type origin struct {
	proto  string // "udp", "tcp", "tls"
	peer   netip.AddrPort
	input  string // "tcp://192.0.2.1:40000", made once per connection
	peerCN string // the TLS client certificate's subject CN, if any
	host   string // peer's address as text, made once per peer
}

// addr is the peer's address as text ("192.0.2.1").
func (o *origin) addr() string {
	if o.host == "" {
		o.host = o.peer.Addr().String()
	}
	return o.host
}

// handle turns one received message into an event and emits it, unless its origin (the
// host the message names, else the sender's address) is over its rate: then it is only
// counted. cut is the number of bytes the message lost to MaxMessage; cfg is the
// settings the caller read the message with (p is its parser).
func (s *Server) handle(ctx context.Context, emit component.Emit, cfg *Config, p *liveparse.Parser, o *origin, msg []byte, cut int64) error {
	s.count.messages.Add(1)
	s.count.bytes.Add(uint64(len(msg)))
	// A datagram or an octet-counted frame may end with the line break the sender
	// wrote to its file, and C senders may include the string's NUL.
	msg = bytes.TrimRight(msg, "\r\n\x00")
	ev := &event.Event{}
	parsed := p.Into(string(msg), ev)
	if ev.Host == "" {
		// The message names no host (unparsed, or a header without one): the sender's
		// address is the best name there is.
		ev.Host = o.addr()
	}
	if cfg.Rate >= 0 && !s.limit.allow(ev.Host) {
		s.count.limited.Add(1)
		return nil
	}
	if !parsed {
		s.count.parseFailures.Add(1)
	}
	ev.Input = o.input
	ev.Fields.SetString("peer", o.peer.String())
	if o.peerCN != "" {
		ev.Fields.SetString("peer_cn", o.peerCN)
	}
	if cut > 0 {
		ev.Fields.SetInt("truncated_bytes", cut)
		s.count.truncated.Add(1)
	}
	return s.send(ctx, emit, ev)
}

// send emits ev; Emit is called by one goroutine at a time.
func (s *Server) send(ctx context.Context, emit component.Emit, ev *event.Event) error {
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	if err := emit(ctx, component.Record{Event: ev}); err != nil {
		return err
	}
	s.count.events.Add(1)
	return nil
}

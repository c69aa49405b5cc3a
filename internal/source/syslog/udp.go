package syslog

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// maxDatagram holds any UDP payload, so that a datagram is never cut by the read
// itself; MaxMessage then decides what is kept.
const maxDatagram = 65535

// udpBatch is how many datagrams one read takes (recvmmsg on Linux): a burst costs one
// system call per batch rather than one per line, which was a sixth of the daemon's CPU
// per line at 30,000 lines/s (BenchmarkServeUDPSQLite in internal/daemon).
const udpBatch = 32

// batchReader reads several datagrams at once: golang.org/x/net's ipv4 and ipv6
// PacketConn, whose Message types are the same.
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchReader wraps the socket by its family (an IPv6 socket takes IPv4 senders too).
func newBatchReader(c *net.UDPConn) batchReader {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		return ipv6.NewPacketConn(c)
	}
	return ipv4.NewPacketConn(c)
}

// serveUDP reads one message per datagram (RFC 5426) until the socket is closed.
// Messages are handled on this goroutine: while the pipeline pushes back, datagrams wait
// in the socket buffer, and those that overflow it are counted from SO_RXQ_OVFL.
func (s *Server) serveUDP(ctx context.Context, emit component.Emit, fail func(error)) {
	cfg := s.config()
	p, _ := liveparse.New(cfg.Format, cfg.Location) // the format was checked by New
	r := newBatchReader(s.udp)
	msgs := make([]ipv4.Message, udpBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, maxDatagram)}
		msgs[i].OOB = make([]byte, oobSize)
	}
	var o origin
	o.proto = "udp"
	for {
		n, err := r.ReadBatch(msgs, 0)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.count.readErrors.Add(1)
			s.warn("udp-read", "UDP read failed", "error", err)
			if !sleep(ctx, 10*time.Millisecond) { // a persistent error must not spin
				return
			}
			continue
		}
		for i := range msgs[:n] {
			if now := s.config(); now != cfg { // a Reconfigure: its settings apply from this datagram
				cfg = now
				p, _ = liveparse.New(cfg.Format, cfg.Location) // checked by Reconfigure
			}
			if err := s.datagram(ctx, emit, cfg, p, &o, &msgs[i]); err != nil {
				if ctx.Err() == nil {
					fail(err)
				}
				return
			}
		}
	}
}

// datagram counts one datagram read and hands its message on.
func (s *Server) datagram(ctx context.Context, emit component.Emit, cfg *Config, p *liveparse.Parser, o *origin, m *ipv4.Message) error {
	s.count.packets.Add(1)
	if drops, ok := kernelDrops(m.OOB[:m.NN]); ok {
		s.count.noteKernelDrops(drops)
	}
	var peer netip.AddrPort
	if a, ok := m.Addr.(*net.UDPAddr); ok {
		peer = a.AddrPort()
	}
	if peer = unmap(peer); o.peer != peer {
		o.peer, o.input, o.host = peer, peerInput("udp", peer.String()), ""
	}
	msg, cut := m.Buffers[0][:m.N], int64(0)
	if m.N > cfg.MaxMessage {
		msg, cut = msg[:cfg.MaxMessage], int64(m.N-cfg.MaxMessage)
	}
	return s.handle(ctx, emit, cfg, p, o, msg, cut)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

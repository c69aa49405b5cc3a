package syslog

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// maxDatagram holds any UDP payload, so that a datagram is never cut by the read
// itself; MaxMessage then decides what is kept.
const maxDatagram = 65535

// serveUDP reads one message per datagram (RFC 5426) until the socket is closed.
// Messages are handled on this goroutine: while the pipeline pushes back, datagrams wait
// in the socket buffer, and those that overflow it are counted from SO_RXQ_OVFL.
func (s *Server) serveUDP(ctx context.Context, emit component.Emit, fail func(error)) {
	cfg := s.config()
	p, _ := liveparse.New(cfg.Format, cfg.Location) // the format was checked by New
	buf := make([]byte, maxDatagram)
	oob := make([]byte, oobSize)
	var o origin
	o.proto = "udp"
	for {
		n, oobn, _, peer, err := s.udp.ReadMsgUDPAddrPort(buf, oob)
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
		s.count.packets.Add(1)
		if drops, ok := kernelDrops(oob[:oobn]); ok {
			s.count.noteKernelDrops(drops)
		}
		if peer = unmap(peer); o.peer != peer {
			o.peer, o.input, o.host = peer, peerInput("udp", peer.String()), ""
		}
		if now := s.config(); now != cfg { // a Reconfigure: its settings apply from this datagram
			cfg = now
			p, _ = liveparse.New(cfg.Format, cfg.Location) // checked by Reconfigure
		}
		msg, cut := buf[:n], int64(0)
		if n > cfg.MaxMessage {
			msg, cut = msg[:cfg.MaxMessage], int64(n-cfg.MaxMessage)
		}
		if err := s.handle(ctx, emit, cfg, p, &o, msg, cut); err != nil {
			if ctx.Err() == nil {
				fail(err)
			}
			return
		}
	}
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

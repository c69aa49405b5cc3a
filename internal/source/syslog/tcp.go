package syslog

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// connReadBuf is each connection's read buffer. Messages longer than it are gathered
// in the frame reader's own buffer, up to MaxMessage.
const connReadBuf = 16 << 10

// connLimit counts open connections in all and per sender address.
type connLimit struct {
	mu            sync.Mutex
	max, maxPerIP int
	open          int
	perIP         map[string]int
}

func (l *connLimit) admit(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.max || l.perIP[ip] >= l.maxPerIP {
		return false
	}
	l.open++
	l.perIP[ip]++
	return true
}

// set changes the limits (a Reconfigure). Connections already open stay open when they
// are over a lowered limit; new ones are refused until enough have closed.
func (l *connLimit) set(max, maxPerIP int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max, l.maxPerIP = max, maxPerIP
}

func (l *connLimit) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

// serveStream accepts TCP or TLS connections until the listener is closed.
func (s *Server) serveStream(ctx context.Context, ln net.Listener, proto string, emit component.Emit, fail func(error), wg *sync.WaitGroup) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little, then go on; the
			// listener itself is fine.
			s.count.acceptErrors.Add(1)
			s.warn("accept-"+proto, "accepting a connection failed", "proto", proto, "error", err)
			if !sleep(ctx, 50*time.Millisecond) {
				return
			}
			continue
		}
		peer := addrPort(c.RemoteAddr())
		ip := peer.Addr().String()
		if !s.conns.admit(ip) {
			s.count.connsRejected.Add(1)
			cfg := s.config()
			s.warn("conn-limit", "connection refused: too many open connections", "peer", peer.String(),
				"max", cfg.MaxConns, "max_per_ip", cfg.MaxConnsPerIP)
			c.Close()
			continue
		}
		s.count.connsAccepted.Add(1)
		s.count.connsOpen.Add(1)
		wg.Go(func() {
			if s.connDone != nil {
				defer s.connDone()
			}
			defer s.count.connsOpen.Add(-1)
			defer s.conns.release(ip)
			s.serveConn(ctx, c, proto, peer, emit, fail)
		})
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return unmap(ta.AddrPort())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return unmap(ap)
}

// unmap writes an IPv4 peer of a dual-stack socket ("[::ffff:192.0.2.1]:514") as IPv4,
// so that it has one name in events, in the rate limit and in the connection limit.
func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// serveConn reads the messages of one connection until it closes, idles out, or ctx ends.
func (s *Server) serveConn(ctx context.Context, c net.Conn, proto string, peer netip.AddrPort, emit component.Emit, fail func(error)) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // unblocks the read at shutdown
	defer stop()
	o := &origin{proto: proto, peer: peer, input: peerInput(proto, peer.String())}
	log := s.log.With("peer", peer.String(), "proto", proto)
	if tc, ok := c.(*tls.Conn); ok {
		_ = tc.SetDeadline(time.Now().Add(handshakeTimeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			if ctx.Err() == nil {
				s.count.tlsFailures.Add(1)
				s.warn("tls-handshake", "TLS handshake failed", "peer", peer.String(), "error", err)
			}
			return
		}
		_ = tc.SetDeadline(time.Time{})
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			o.peerCN = certs[0].Subject.CommonName
		}
	}
	log.Debug("connection opened")
	cfg := s.config()
	p, _ := liveparse.New(cfg.Format, cfg.Location) // the format was checked by New or Reconfigure
	fr := newFrameReader(bufio.NewReaderSize(&idleReader{c: c, s: s}, connReadBuf), cfg.MaxMessage)
	// Each frame is read and parsed with the settings in force when its first byte
	// arrived: a Reconfigure applies from the next message, on connections already open.
	fr.begin = func() {
		if now := s.config(); now != cfg {
			cfg = now
			p, _ = liveparse.New(cfg.Format, cfg.Location)
			fr.max = cfg.MaxMessage
		}
	}
	for {
		msg, cut, _, err := fr.next()
		if len(msg) > 0 || cut > 0 {
			s.count.frames.Add(1)
			if herr := s.handle(ctx, emit, cfg, p, o, msg, cut); herr != nil {
				if ctx.Err() == nil {
					fail(herr)
				}
				return
			}
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF), ctx.Err() != nil, errors.Is(err, net.ErrClosed):
			log.Debug("connection closed")
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.count.idleTimeouts.Add(1)
			log.Debug("connection idle: closed", "idle_timeout", s.config().IdleTimeout)
		default:
			s.count.readErrors.Add(1)
			log.Debug("connection read failed", "error", err)
		}
		return
	}
}

// idleReader gives every read of a connection the idle timeout in force as its
// deadline, or none when the timeout is off (negative). A Reconfigure's timeout applies
// from each connection's next read; a read already waiting keeps its deadline.
type idleReader struct {
	c     net.Conn
	s     *Server
	armed bool // a deadline is set
}

func (r *idleReader) Read(p []byte) (int, error) {
	if idle := r.s.config().IdleTimeout; idle > 0 {
		if err := r.c.SetReadDeadline(time.Now().Add(idle)); err != nil {
			return 0, err
		}
		r.armed = true
	} else if r.armed {
		if err := r.c.SetReadDeadline(time.Time{}); err != nil {
			return 0, err
		}
		r.armed = false
	}
	return r.c.Read(p)
}

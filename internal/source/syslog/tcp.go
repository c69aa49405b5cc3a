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
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// connReadBuf is each connection's read buffer. Messages longer than it are gathered
// in the frame reader's own buffer, up to MaxMessage.
const connReadBuf = 16 << 10

// conn is one open TCP or TLS connection in the connection table.
type conn struct {
	ip string
	c  net.Conn
	// last is when the connection last finished a message (or opened), in Unix
	// nanoseconds: how long it has been idle, for eviction. Bytes that do not finish a
	// message do not count, so a trickle cannot look busy.
	last atomic.Int64
}

// connLimit is the table of open connections, counted in all and per sender address.
// When it is full, a new connection evicts the one idle longest (see admit), so that
// stalled or trickling connections cannot lock real senders out.
type connLimit struct {
	mu            sync.Mutex
	max, maxPerIP int
	open          map[*conn]struct{}
	perIP         map[string]int
}

// admit enters c from ip in the table. When the table is full, the connection that has
// gone longest without finishing a message is removed from it and returned as evicted
// (the caller closes it), and c takes its place. c is refused (ok false) when its address
// has maxPerIP connections open already, or when the table is still full after an
// eviction (a lowered MaxConns: one eviction per new connection).
func (l *connLimit) admit(ip string, c *conn) (evicted *conn, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[ip] >= l.maxPerIP {
		return nil, false
	}
	if len(l.open) >= l.max {
		for o := range l.open {
			if evicted == nil || o.last.Load() < evicted.last.Load() {
				evicted = o
			}
		}
		if evicted != nil {
			l.removeLocked(evicted)
		}
		if len(l.open) >= l.max {
			return evicted, false
		}
	}
	l.open[c] = struct{}{}
	l.perIP[ip]++
	return evicted, true
}

// set changes the limits (a Reconfigure). Connections already open stay open when they
// are over a lowered limit; each new one evicts one until the table fits.
func (l *connLimit) set(max, maxPerIP int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max, l.maxPerIP = max, maxPerIP
}

// release removes c from the table, unless an eviction did already.
func (l *connLimit) release(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeLocked(c)
}

func (l *connLimit) removeLocked(c *conn) {
	if _, ok := l.open[c]; !ok {
		return
	}
	delete(l.open, c)
	if l.perIP[c.ip]--; l.perIP[c.ip] <= 0 {
		delete(l.perIP, c.ip)
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
		cn := &conn{ip: ip, c: c}
		cn.last.Store(time.Now().UnixNano())
		evicted, ok := s.conns.admit(ip, cn)
		if evicted != nil {
			s.count.connsEvicted.Add(1)
			s.warn("conn-evict", "connection table full: closed the connection idle longest", "evicted_peer", evicted.c.RemoteAddr().String(),
				"idle", time.Since(time.Unix(0, evicted.last.Load())).Round(time.Millisecond), "new_peer", peer.String(), "max", s.config().MaxConns)
			evicted.c.Close() // its goroutine ends with net.ErrClosed
		}
		if !ok {
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
			defer s.conns.release(cn)
			s.serveConn(ctx, cn, proto, peer, emit, fail)
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
func (s *Server) serveConn(ctx context.Context, cn *conn, proto string, peer netip.AddrPort, emit component.Emit, fail func(error)) {
	c := cn.c
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
	dr := &deadlineReader{c: c, s: s, last: time.Now()}
	fr := newFrameReader(bufio.NewReaderSize(dr, connReadBuf), cfg.MaxMessage)
	// Each frame is read and parsed with the settings in force when its first byte
	// arrived: a Reconfigure applies from the next message, on connections already open.
	fr.begin = func() {
		dr.frameStart, dr.inFrame = time.Now(), true
		if now := s.config(); now != cfg {
			cfg = now
			p, _ = liveparse.New(cfg.Format, cfg.Location)
			fr.max = cfg.MaxMessage
		}
	}
	for {
		msg, cut, _, err := fr.next()
		if dr.inFrame && err == nil {
			now := time.Now()
			dr.last, dr.inFrame = now, false
			cn.last.Store(now.UnixNano())
		}
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
		case errors.Is(err, os.ErrDeadlineExceeded) && dr.inFrame:
			s.count.frameTimeouts.Add(1)
			log.Debug("message not finished in time: connection closed", "frame_timeout", s.config().FrameTimeout)
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

// deadlineReader gives every read of a connection a deadline from the settings in
// force, counted from fixed points so that a trickle of bytes cannot push it back:
//   - inside a message (its first byte has arrived): FrameTimeout after that first
//     byte, so a sender must finish a message it started;
//   - in any case: IdleTimeout after the connection last finished a message (or opened).
//
// A negative timeout is off; with both off a read has no deadline. A Reconfigure's
// timeouts apply from each connection's next read.
type deadlineReader struct {
	c          net.Conn
	s          *Server
	last       time.Time // the last message finished, or the connection opened
	frameStart time.Time // the current message's first byte, while inFrame
	inFrame    bool
	armed      bool // a deadline is set
}

func (r *deadlineReader) Read(p []byte) (int, error) {
	cfg := r.s.config()
	var dl time.Time
	if cfg.IdleTimeout > 0 {
		dl = r.last.Add(cfg.IdleTimeout)
	}
	if r.inFrame && cfg.FrameTimeout > 0 {
		if f := r.frameStart.Add(cfg.FrameTimeout); dl.IsZero() || f.Before(dl) {
			dl = f
		}
	}
	switch {
	case !dl.IsZero():
		if err := r.c.SetReadDeadline(dl); err != nil {
			return 0, err
		}
		r.armed = true
	case r.armed:
		if err := r.c.SetReadDeadline(time.Time{}); err != nil {
			return 0, err
		}
		r.armed = false
	}
	return r.c.Read(p)
}

// Package syslog receives syslog over the network for "hsmwatch serve": UDP (RFC 5426),
// TCP (RFC 6587, octet counting and newline framing, told apart per frame as rsyslog
// does) and TLS (RFC 5425). Messages in RFC 5424, RFC 3164 and the Luna formats are
// parsed by internal/parse ("auto" by default); every message becomes an event, parsed
// or not, with fields.peer naming the sender.
//
// What protects the daemon: a token bucket per origin, the host the message names
// (limit.go: beyond the rate
// messages are dropped, counted, and reported by one summary event per interval; the
// only place messages are dropped on purpose), a maximum message size (longer ones are
// cut and say so in fields.truncated_bytes), limits on connections in all and per
// address (a full table evicts the connection idle longest), idle, unfinished-message
// and TLS handshake timeouts that a trickle of bytes cannot extend, and a large UDP receive buffer whose
// overflows the kernel reports and Stats counts.
//
// Network input cannot be read twice: records carry no Key and no Ack.
//
// Reconfigure applies a reloaded configuration to the running sockets (reconfigure.go):
// closing and binding a UDP socket again would lose the datagrams that arrive in between.
package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// Defaults of Config.
const (
	DefaultMaxMessage    = 64 << 10
	DefaultMaxConns      = 512
	DefaultMaxConnsPerIP = 32
	DefaultIdleTimeout   = time.Hour
	DefaultFrameTimeout  = 30 * time.Second
	// DefaultRate and DefaultBurst are per origin (the host a message names). A Luna
	// appliance logs a few lines a second when busy and about a thousand in an NTLS
	// connection storm; a fleet of a few hundred HSMs and their client hosts logs a few
	// thousand a second in all. 5,000/s per origin never limits a normal fleet, even
	// one whose lines all name a single relay, and keeps one runaway origin to a tenth
	// of what the daemon takes in losslessly (50,000/s over UDP); a burst of 50,000 lets
	// a rebooting rack or a storm of ten seconds through whole.
	DefaultRate        = 5000
	DefaultBurst       = 50_000
	DefaultLimitReport = 10 * time.Second
	DefaultMaxSenders  = 10_000
	DefaultUDPBuffer   = 32 << 20
	// handshakeTimeout bounds a TLS handshake, so a client that connects and says
	// nothing does not hold a connection slot for the whole idle timeout.
	handshakeTimeout = 10 * time.Second
)

// Config describes the listeners of one syslog source. At least one of UDP, TCP and TLS
// is set.
type Config struct {
	// Name identifies the source in logs and metrics. Default: "syslog".
	Name string
	// UDP, TCP and TLS are listen addresses ("0.0.0.0:514", "[::]:6514", ":1514");
	// empty ones are not opened.
	UDP, TCP, TLS string
	// CertFile and KeyFile are the PEM server certificate (chain) and key for TLS.
	CertFile, KeyFile string
	// ClientCAFile, when set, makes TLS require a client certificate signed by one of
	// its PEM certificates.
	ClientCAFile string
	// Format is the parse format (see parse.Formats); "" means auto.
	Format string
	// Location is the zone of timestamps without an offset (RFC 3164); nil: local.
	Location *time.Location
	// MaxMessage is the longest message kept whole, in bytes; longer ones are cut.
	MaxMessage int
	// MaxConns and MaxConnsPerIP limit open TCP and TLS connections, in all and per
	// sender address. A connection beyond MaxConnsPerIP is closed at once (and
	// counted); one beyond MaxConns evicts the open connection that has gone longest
	// without finishing a message (counted too), so that stalled connections cannot
	// lock real senders out.
	MaxConns, MaxConnsPerIP int
	// IdleTimeout closes a TCP or TLS connection that finished no message for that
	// long: bytes that do not finish a message do not extend it. Negative: never (TCP
	// keepalive still finds peers that are gone).
	IdleTimeout time.Duration
	// FrameTimeout closes a connection that started a message (its first byte came)
	// and did not finish it within that time. Negative: never.
	FrameTimeout time.Duration
	// Rate (messages per second) and Burst are each origin's token bucket: the host the
	// message names, or the sender's address when it names none (limit.go). A negative
	// Rate turns the limit off.
	Rate  float64
	Burst int
	// LimitReport is how often a summary event reports the messages that were limited.
	LimitReport time.Duration
	// MaxSenders bounds the origins with a bucket of their own; others share one.
	MaxSenders int
	// UDPBuffer is the UDP socket receive buffer asked for, in bytes.
	UDPBuffer int
	Logger    *slog.Logger
}

// Server is a component.Source: the listeners of one Config.
type Server struct {
	name string // Config.Name, fixed for the server's life: it labels metrics
	// cur is the Config in force, defaults filled in. Reconfigure replaces it whole and
	// never changes a Config once stored, so a reader loads it once per message and
	// sees one consistent set of settings.
	cur      atomic.Pointer[Config]
	reconfMu sync.Mutex    // one Reconfigure at a time
	reconf   chan struct{} // wakes reportLimits after a Reconfigure (capacity 1)
	// tlsConf is what new TLS handshakes use (certificate, client CAs): the listener
	// asks for it per handshake, so a Reconfigure rotates the certificate without
	// touching the listener or the connections already open.
	tlsConf atomic.Pointer[tls.Config]
	log     *slog.Logger
	udp     *net.UDPConn
	tcp     net.Listener
	tls     net.Listener
	limit   *limiter // always there; used while the Config's Rate is not negative
	conns   connLimit
	count   counters
	emitMu  sync.Mutex // Emit is called from every connection: one at a time
	ran     atomic.Bool
	udpBuf  atomic.Int64 // receive buffer the kernel granted
	warnAt  sync.Map     // kind -> time.Time: throttles repeated warnings
	closeMu sync.Once

	// connDone, when set (by tests), is called when a connection's goroutine ends, so a
	// test can wait for it rather than sleep.
	connDone func()
}

var _ component.Source = (*Server)(nil)

// New checks cfg and opens its sockets, so that a port in use or a bad certificate is
// reported at start. Run serves them; Close releases them if Run is never called.
func New(cfg Config) (*Server, error) {
	if err := fill(&cfg); err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	s := &Server{name: cfg.Name, log: cfg.Logger, reconf: make(chan struct{}, 1)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("source", cfg.Name)
	s.conns = connLimit{max: cfg.MaxConns, maxPerIP: cfg.MaxConnsPerIP, open: map[*conn]struct{}{}, perIP: map[string]int{}}
	// The limiter exists even while the limit is off, so that a Reconfigure can turn it
	// on; with the limit off nothing calls allow, and it holds no bucket.
	s.limit = newLimiter(max(cfg.Rate, 0), cfg.Burst, cfg.MaxSenders, time.Now)
	if cfg.TLS != "" {
		tc, err := serverTLS(cfg)
		if err != nil {
			return nil, fmt.Errorf("syslog: tls %s: %w", cfg.TLS, err)
		}
		s.tlsConf.Store(tc)
	}
	s.cur.Store(&cfg)
	if err := s.listen(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func fill(cfg *Config) error {
	if cfg.UDP == "" && cfg.TCP == "" && cfg.TLS == "" {
		return errors.New("no listen address (udp, tcp or tls)")
	}
	if cfg.TLS != "" && (cfg.CertFile == "" || cfg.KeyFile == "") {
		return errors.New("tls needs a certificate and a key file")
	}
	if _, err := liveparse.New(cfg.Format, cfg.Location); err != nil {
		return err
	}
	if cfg.Name == "" {
		cfg.Name = "syslog"
	}
	setDefault(&cfg.MaxMessage, DefaultMaxMessage)
	setDefault(&cfg.MaxConns, DefaultMaxConns)
	setDefault(&cfg.MaxConnsPerIP, DefaultMaxConnsPerIP)
	setDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	setDefault(&cfg.FrameTimeout, DefaultFrameTimeout)
	setDefault(&cfg.Burst, DefaultBurst)
	setDefault(&cfg.LimitReport, DefaultLimitReport)
	setDefault(&cfg.MaxSenders, DefaultMaxSenders)
	setDefault(&cfg.UDPBuffer, DefaultUDPBuffer)
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	return nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

func serverTLS(cfg Config) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", cfg.ClientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// config returns the settings in force; callers must not change what it points to.
func (s *Server) config() *Config { return s.cur.Load() }

func (s *Server) listen() error {
	cfg := s.config()
	if a := cfg.UDP; a != "" {
		ua, err := net.ResolveUDPAddr("udp", a)
		if err != nil {
			return fmt.Errorf("syslog: udp %s: %w", a, err)
		}
		if s.udp, err = net.ListenUDP("udp", ua); err != nil {
			return fmt.Errorf("syslog: udp %s: %w", a, err)
		}
		s.setUDPBuffer(cfg.UDPBuffer)
	}
	if a := cfg.TCP; a != "" {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("syslog: tcp %s: %w", a, err)
		}
		s.tcp = ln
	}
	if a := cfg.TLS; a != "" {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("syslog: tls %s: %w", a, err)
		}
		s.tls = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12,
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return s.tlsConf.Load(), nil }})
	}
	return nil
}

// setUDPBuffer asks the kernel for a UDP receive buffer of size bytes and notes what it
// granted. Less than asked is logged, not an error: the socket works, with less room for
// bursts.
func (s *Server) setUDPBuffer(size int) {
	got, err := tuneUDP(s.udp, size)
	s.udpBuf.Store(int64(got))
	if err != nil || got < size {
		s.log.Warn("UDP receive buffer smaller than asked (raise net.core.rmem_max)",
			"asked", size, "granted", got, "error", err)
	}
}

// Name identifies the source.
func (s *Server) Name() string { return s.name }

// UDPAddr, TCPAddr and TLSAddr return the bound addresses (nil when not listening):
// with port 0 in the Config, the port the system chose.
func (s *Server) UDPAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// TCPAddr: see UDPAddr.
func (s *Server) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// TLSAddr: see UDPAddr.
func (s *Server) TLSAddr() net.Addr {
	if s.tls == nil {
		return nil
	}
	return s.tls.Addr()
}

// Close releases the sockets. Run does it itself when it returns.
func (s *Server) Close() {
	s.closeMu.Do(func() {
		if s.udp != nil {
			s.udp.Close()
		}
		if s.tcp != nil {
			s.tcp.Close()
		}
		if s.tls != nil {
			s.tls.Close()
		}
	})
}

// Run serves the listeners until ctx ends (then it returns nil, with every socket and
// connection closed) or the pipeline fails an emit for another reason.
func (s *Server) Run(ctx context.Context, emit component.Emit) error {
	if !s.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("%s: Run called twice", s.name)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(ctx, s.Close)
	defer stop()
	defer s.Close()
	fail := func(err error) { cancel(err) }
	var wg sync.WaitGroup
	if s.udp != nil {
		wg.Go(func() { s.serveUDP(ctx, emit, fail) })
	}
	if s.tcp != nil {
		wg.Go(func() { s.serveStream(ctx, s.tcp, "tcp", emit, fail, &wg) })
	}
	if s.tls != nil {
		wg.Go(func() { s.serveStream(ctx, s.tls, "tls", emit, fail, &wg) })
	}
	wg.Go(func() { s.reportLimits(ctx, emit, fail) })
	<-ctx.Done()
	s.Close()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// warn logs msg at most once a minute per kind: a misbehaving peer must not flood the
// daemon's own log either. The counters in Stats hold every occurrence.
func (s *Server) warn(kind, msg string, args ...any) {
	now := time.Now()
	if last, ok := s.warnAt.Load(kind); ok && now.Sub(last.(time.Time)) < time.Minute {
		return
	}
	s.warnAt.Store(kind, now)
	s.log.Warn(msg, args...)
}

// peerInput names a transport and a peer in Input ("udp://192.0.2.1:514").
func peerInput(proto, peer string) string {
	var b strings.Builder
	b.Grow(len(proto) + 3 + len(peer))
	b.WriteString(proto)
	b.WriteString("://")
	b.WriteString(peer)
	return b.String()
}

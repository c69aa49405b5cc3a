package syslog

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil/sourcetest"

	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// wait bounds every wait of these tests.
const wait = 20 * time.Second

type harness struct {
	*sourcetest.Runner
	t     *testing.T
	s     *Server
	conns chan struct{} // one per connection goroutine that ended
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, s: s, conns: make(chan struct{}, 2048)}
	s.connDone = func() { h.conns <- struct{}{} }
	h.Runner = sourcetest.Start(t, s, 1<<14, wait, func(r component.Record) {
		if r.Key != "" || r.Ack != nil {
			t.Errorf("network record with a key or an ack: %+v", r)
		}
	})
	return h
}

func (h *harness) take(n int) []*event.Event {
	h.t.Helper()
	recs := h.Take(n)
	out := make([]*event.Event, len(recs))
	for i, r := range recs {
		out[i] = r.Event
	}
	return out
}

func (h *harness) connEnded() {
	h.t.Helper()
	select {
	case <-h.conns:
	case <-time.After(wait):
		h.t.Fatal("the connection did not end")
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func local() Config { return Config{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0"} }

const (
	msg5424 = `<165>1 2026-11-22T05:31:30.123+01:00 myLuna NTLS 1234 ID47 [ex@32473 a="1"] NTLS is online`
	msg3164 = `<38>Nov 22 05:31:30 myDinamo sshd[99]: Accepted publickey for admin`
)

func TestUDP(t *testing.T) {
	h := start(t, local())
	c, err := net.Dial("udp", h.s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []string{msg5424 + "\n", msg3164, "no header at all\x00"} {
		if _, err := c.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	evs := h.take(3)
	peer := c.LocalAddr().String()
	if ev := evs[0]; ev.Source != event.SourceRFC5424 || ev.Host != "myLuna" || ev.Process != "NTLS" ||
		ev.Message != "NTLS is online" || ev.Fields.Text("peer") != peer || ev.Input != "udp://"+peer {
		t.Errorf("RFC 5424: %+v", ev)
	}
	if ev := evs[1]; ev.Source != event.SourceRFC3164 || ev.Host != "myDinamo" || ev.PID != 99 {
		t.Errorf("RFC 3164: %+v", ev)
	}
	if ev := evs[2]; ev.Source != event.SourceUnparsed || ev.Host != "127.0.0.1" || ev.Raw != "no header at all" {
		t.Errorf("unparsed: %+v", ev)
	}
	h.Stop() // counters are final once Run has returned
	st := h.s.Stats()
	if st.Packets != 3 || st.Events != 3 || st.ParseFailures != 1 || st.KernelDrops != 0 || st.UDPBuffer == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTCPFramings(t *testing.T) {
	h := start(t, local())
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	luna := "2026 Nov 22 05:31:30 myLuna local5 info NTLS[1234]: info : 0 : NTLS is online"
	multi := "<13>1 - host app - - - first line\nsecond line"
	stream := msg3164 + "\n" + // newline framing
		fmt.Sprintf("%d %s", len(msg5424), msg5424) + // octet counting, no newline after
		luna + "\r\n" + // starts with digits, newline framed
		fmt.Sprintf("%d %s", len(multi), multi) // a newline inside an octet-counted frame
	// Written in small pieces: frames cross reads.
	for i := 0; i < len(stream); i += 7 {
		if _, err := c.Write([]byte(stream[i:min(i+7, len(stream))])); err != nil {
			t.Fatal(err)
		}
	}
	evs := h.take(4)
	if evs[0].Host != "myDinamo" || evs[1].Host != "myLuna" || evs[1].Source != event.SourceRFC5424 {
		t.Errorf("first two: %+v %+v", evs[0], evs[1])
	}
	if ev := evs[2]; ev.Source != event.SourceLunaSyslog || ev.Raw != luna {
		t.Errorf("Luna line over TCP: %+v", ev)
	}
	if ev := evs[3]; ev.Message != "first line\nsecond line" {
		t.Errorf("multi-line message: %q", ev.Message)
	}
	if ev := evs[0]; ev.Fields.Text("peer") != c.LocalAddr().String() || !strings.HasPrefix(ev.Input, "tcp://127.0.0.1:") {
		t.Errorf("peer %q input %q", ev.Fields.Text("peer"), ev.Input)
	}
}

func TestMaxMessage(t *testing.T) {
	cfg := local()
	cfg.MaxMessage = 100
	h := start(t, cfg)
	long := "<13>" + strings.Repeat("x", 196) // 200 bytes
	u, err := net.Dial("udp", h.s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.Write([]byte(long)); err != nil {
		t.Fatal(err)
	}
	ev := h.take(1)[0]
	if len(ev.Raw) != 100 || ev.Fields.Text("truncated_bytes") != "100" {
		t.Errorf("UDP: %d bytes kept, truncated_bytes %q", len(ev.Raw), ev.Fields.Text("truncated_bytes"))
	}
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%d %s%s\n%s\n", len(long), long, long, msg3164)
	evs := h.take(3)
	for i, ev := range evs[:2] {
		if len(ev.Raw) != 100 || ev.Fields.Text("truncated_bytes") != "100" {
			t.Errorf("TCP %d: %d bytes kept, truncated_bytes %q", i, len(ev.Raw), ev.Fields.Text("truncated_bytes"))
		}
	}
	if evs[2].Host != "myDinamo" {
		t.Errorf("the message after the long ones: %+v", evs[2])
	}
	if st := h.s.Stats(); st.Truncated != 3 {
		t.Errorf("truncated %d", st.Truncated)
	}
}

// sendUDP sends n messages naming host from the local address from.
func sendUDP(t *testing.T, to net.Addr, from, host string, n int) {
	t.Helper()
	la, err := net.ResolveUDPAddr("udp", from+":0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", la, to.(*net.UDPAddr))
	if err != nil {
		t.Fatalf("sending from %s: %v", from, err)
	}
	defer c.Close()
	for i := range n {
		if _, err := fmt.Fprintf(c, "<13>Nov 22 05:31:30 %s app: message %d", host, i); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFloodLimit: one origin over its rate is limited and reported, per origin (the host
// the message names), not per sender address: another origin sent from the same address
// (a relay's) at a calm rate loses nothing.
func TestFloodLimit(t *testing.T) {
	cfg := local()
	cfg.Rate, cfg.Burst, cfg.LimitReport = 1, 5, 50*time.Millisecond
	h := start(t, cfg)
	const flood, calm = 100, 3
	sendUDP(t, h.s.UDPAddr(), "127.0.0.1", "flooder", flood)
	sendUDP(t, h.s.UDPAddr(), "127.0.0.1", "calm", calm)

	var fromFlood, fromCalm, limited int
	var summaries []*event.Event
	deadline := time.After(wait)
	for fromFlood+limited < flood || fromCalm < calm {
		select {
		case r := <-h.Recs:
			ev := r.Event
			switch {
			case ev.Source == SourceSelf:
				summaries = append(summaries, ev)
				if ev.Fields.Text("origin") != "flooder" || ev.Host == "" {
					t.Errorf("summary: %+v", ev)
				}
				f, _ := ev.Fields.Get("limited")
				limited += int(f.Int)
			case ev.Host == "flooder":
				fromFlood++
			case ev.Host == "calm":
				fromCalm++
			default:
				t.Fatalf("unexpected event %+v", ev)
			}
		case <-deadline:
			t.Fatalf("flood %d + limited %d of %d, calm %d of %d (kernel drops %d)", fromFlood, limited, flood,
				fromCalm, calm, h.s.Stats().KernelDrops)
		}
	}
	// Five at once, then one a second: the flood took well under a few seconds.
	if fromFlood < 5 || fromFlood > 10 {
		t.Errorf("%d of the flood passed with burst 5 and rate 1/s", fromFlood)
	}
	if fromCalm != calm {
		t.Errorf("the calm origin lost messages: %d of %d", fromCalm, calm)
	}
	totals := h.s.limit.limitedTotals()
	h.Stop()
	st := h.s.Stats()
	if int(st.Limited) != limited || st.LimitReports != uint64(len(summaries)) || st.KernelDrops != 0 {
		t.Errorf("stats %+v, summaries report %d limited in %d events", st, limited, len(summaries))
	}
	if len(totals) != 1 || int(totals["flooder"]) != limited {
		t.Errorf("limited by origin %v, want flooder %d", totals, limited)
	}
	if !strings.Contains(summaries[0].Message, "flooder") {
		t.Errorf("summary message %q", summaries[0].Message)
	}
}

// TestRelayNotLimitedAsOneSender: a relay forwards a fleet from one address, each origin
// at its burst: per origin, every message passes, where a bucket per sender address
// would have let one burst through for the whole fleet.
func TestRelayNotLimitedAsOneSender(t *testing.T) {
	cfg := local()
	cfg.Rate, cfg.Burst, cfg.LimitReport = 1, 20, time.Hour
	h := start(t, cfg)
	const origins, each = 40, 20
	for i := range origins {
		sendUDP(t, h.s.UDPAddr(), "127.0.0.1", fmt.Sprintf("hsm%02d", i), each)
	}
	got := map[string]int{}
	for _, ev := range h.take(origins * each) {
		got[ev.Host]++
	}
	for i := range origins {
		if host := fmt.Sprintf("hsm%02d", i); got[host] != each {
			t.Errorf("%s: %d of %d messages", host, got[host], each)
		}
	}
	if st := h.s.Stats(); st.Limited != 0 || st.Messages != origins*each {
		t.Errorf("stats %+v", st)
	}
}

// TestLimiterBounded: beyond maxSenders origins share one bucket, and at most
// maxOriginSeries origins have a series of their own on /metrics.
func TestLimiterBounded(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(1, 1, 2, func() time.Time { return now })
	origin := func(i int) string { return fmt.Sprintf("hsm%d", i) }
	for i := 1; i <= 4; i++ {
		if !l.allow(origin(i)) && i <= 3 {
			t.Errorf("origin %d refused its first message", i)
		}
	}
	if len(l.buckets) != 2 {
		t.Fatalf("%d buckets with a maximum of 2", len(l.buckets))
	}
	// Origins 3 and 4 share the overflow bucket: 4 was limited.
	rep := l.report()
	if len(rep) != 1 || rep[0].Origin != "" || rep[0].Limited != 1 {
		t.Fatalf("report %+v", rep)
	}
	now = now.Add(time.Hour)
	if l.report(); len(l.buckets) != 0 {
		t.Errorf("quiet origins' buckets kept: %d", len(l.buckets))
	}

	l = newLimiter(1, 1, 10*maxOriginSeries, func() time.Time { return now })
	for i := range 2 * maxOriginSeries {
		l.allow(origin(i))
		l.allow(origin(i)) // over the burst of 1: limited
	}
	totals := l.limitedTotals()
	if len(totals) != maxOriginSeries+1 || totals[otherOrigins] != maxOriginSeries || totals[origin(0)] != 1 {
		t.Errorf("%d series, %v under %s, want %d and %d", len(totals), totals[otherOrigins], otherOrigins,
			maxOriginSeries+1, maxOriginSeries)
	}
}

// TestKernelDropsCounted: while the pipeline does not take events, the reader stops and
// the socket's buffer fills; the datagrams the kernel drops are counted exactly: sent
// minus read.
func TestKernelDropsCounted(t *testing.T) {
	s, err := New(Config{UDP: "127.0.0.1:0", Rate: -1, UDPBuffer: 64 << 10,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		t.Skip("kernel drop counts are read on Linux")
	}
	gate := make(chan struct{})
	var received atomic.Int64
	markers := make(chan struct{}, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(ctx context.Context, r component.Record) error {
			<-gate // the pipeline pushes back until the test opens the gate
			received.Add(1)
			if strings.Contains(r.Event.Message, "marker") {
				markers <- struct{}{}
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		s.Close()
		<-done
	})
	waitFor(t, "the UDP socket", func() bool { return s.UDPAddr() != nil })
	c, err := net.DialUDP("udp", nil, s.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line := "<13>Nov 22 05:31:30 hsm app: " + strings.Repeat("x", 200)
	sent := 0
	for range 5000 {
		if _, err := c.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	// The reader holds one message in the closed gate; the rest of the 5000 fill the
	// 64 KiB buffer and overflow it.
	waitFor(t, "kernel drops", func() bool { return s.Stats().KernelDrops > 0 })
	close(gate)
	// A marker after the flood: once it arrives, every datagram queued before it was
	// read (a socket's queue is in order). It may be dropped too, while the queue drains:
	// it is sent again until one arrives, and every copy counts as sent.
	deadline := time.Now().Add(wait)
	for arrived := false; !arrived; {
		if time.Now().After(deadline) {
			t.Fatal("no marker arrived")
		}
		if _, err := c.Write([]byte("<13>Nov 22 05:31:30 hsm app: marker")); err != nil {
			t.Fatal(err)
		}
		sent++
		select {
		case <-markers:
			arrived = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Markers sent just before the one that arrived may still be on their way.
	waitFor(t, "the last markers", func() bool {
		st := s.Stats()
		return int(st.Messages)+int(st.KernelDrops) >= sent
	})
	st := s.Stats()
	if st.KernelDrops == 0 || int(st.KernelDrops) != sent-int(received.Load()) || st.Messages != uint64(received.Load()) {
		t.Errorf("sent %d, received %d, kernel drops %d (messages %d): drops are not sent - received",
			sent, received.Load(), st.KernelDrops, st.Messages)
	}
	t.Logf("sent %d, received %d, kernel drops %d, buffer %d bytes", sent, received.Load(), st.KernelDrops, st.UDPBuffer)
}

func TestConnLimits(t *testing.T) {
	cfg := local()
	cfg.MaxConnsPerIP = 2
	h := start(t, cfg)
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", h.s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := dial(), dial()
	for _, c := range []net.Conn{a, b} {
		fmt.Fprintf(c, "%s\n", msg3164)
	}
	h.take(2) // both served
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(wait))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("third connection: %v, want it closed", err)
	}
	if st := h.s.Stats(); st.ConnsRejected != 1 || st.ConnsOpen != 2 {
		t.Errorf("stats %+v", st)
	}
	a.Close()
	h.connEnded()
	c := dial()
	fmt.Fprintf(c, "%s\n", msg3164)
	h.take(1)
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

func TestIdleTimeout(t *testing.T) {
	cfg := local()
	cfg.IdleTimeout = 50 * time.Millisecond
	h := start(t, cfg)
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	if st := h.s.Stats(); st.IdleTimeouts != 1 {
		t.Errorf("idle timeouts %d", st.IdleTimeouts)
	}
}

// TestShutdown: Run returns with a connection open and idle, and closes it.
func TestShutdown(t *testing.T) {
	h := start(t, local())
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s\n", msg3164)
	h.take(1)
	h.Stop()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("connection after shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", h.s.TCPAddr().String()); err == nil {
		t.Error("the listener still accepts after Run returned")
	}
}

func TestEmitErrorStopsRun(t *testing.T) {
	s, err := New(Config{UDP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("pipeline closed")
	done := make(chan error, 1)
	go func() {
		done <- s.Run(context.Background(), func(context.Context, component.Record) error { return boom })
	}()
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg3164)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not stop on an emit error")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{TLS: "127.0.0.1:0"},
		{UDP: "127.0.0.1:0", Format: "nope"},
		{TLS: "127.0.0.1:0", CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"},
		{TCP: "256.0.0.1:0"},
	} {
		if s, err := New(cfg); err == nil {
			s.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as PEM files.
func writeCert(t *testing.T, dir, name string, client bool) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := writeCert(t, dir, "server", false)
	h := start(t, Config{TLS: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile})
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c, err := tls.Dial("tcp", h.s.TLSAddr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%d %s%s\n", len(msg5424), msg5424, msg3164)
	evs := h.take(2)
	if evs[0].Host != "myLuna" || evs[1].Host != "myDinamo" || !strings.HasPrefix(evs[0].Input, "tls://") {
		t.Errorf("events %+v %+v", evs[0], evs[1])
	}
	if _, ok := evs[0].Fields.Get("peer_cn"); ok {
		t.Error("peer_cn without a client certificate")
	}
}

func TestTLSClientCA(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := writeCert(t, dir, "server", false)
	caFile, clientKey, _ := writeCert(t, dir, "hsm-client", true)
	h := start(t, Config{TLS: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile})
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	// Without a client certificate: refused and counted.
	c, err := tls.Dial("tcp", h.s.TLSAddr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err == nil {
		// TLS 1.3 finishes the client's side before the server has checked: the refusal
		// shows at the first read.
		_ = c.SetReadDeadline(time.Now().Add(wait))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil {
		t.Fatal("a client without a certificate was served")
	}
	h.connEnded()
	if st := h.s.Stats(); st.TLSFailures != 1 {
		t.Errorf("TLS failures %d", st.TLSFailures)
	}

	pair, err := tls.LoadX509KeyPair(caFile, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err = tls.Dial("tcp", h.s.TLSAddr().String(), &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair},
		MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s\n", msg3164)
	if ev := h.take(1)[0]; ev.Fields.Text("peer_cn") != "hsm-client" {
		t.Errorf("peer_cn %q", ev.Fields.Text("peer_cn"))
	}
}

// TestLogger sends with util-linux logger, the way an operator would test a listener.
func TestLogger(t *testing.T) {
	logger, err := exec.LookPath("logger")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("logger (util-linux) is not installed")
		}
		t.Skip("logger (util-linux) is not installed")
	}
	h := start(t, local())
	hostname, _ := os.Hostname()
	_, udpPort, _ := net.SplitHostPort(h.s.UDPAddr().String())
	_, tcpPort, _ := net.SplitHostPort(h.s.TCPAddr().String())
	for _, tc := range []struct {
		name   string
		args   []string
		source string
	}{
		{"udp rfc5424", []string{"--rfc5424", "-d", "-P", udpPort}, event.SourceRFC5424},
		{"udp rfc3164", []string{"--rfc3164", "-d", "-P", udpPort}, event.SourceRFC3164},
		{"tcp rfc5424 newline", []string{"--rfc5424", "-T", "-P", tcpPort}, event.SourceRFC5424},
		{"tcp rfc5424 octet counting", []string{"--rfc5424", "--octet-count", "-T", "-P", tcpPort}, event.SourceRFC5424},
		{"tcp rfc3164 octet counting", []string{"--rfc3164", "--octet-count", "-T", "-P", tcpPort}, event.SourceRFC3164},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "hsmwatch test " + tc.name
			args := append([]string{"-n", "127.0.0.1", "-t", "hsmtest", "-p", "local5.warning"}, tc.args...)
			out, err := exec.Command(logger, append(args, text)...).CombinedOutput()
			if err != nil {
				t.Fatalf("logger %v: %v: %s", args, err, out)
			}
			ev := h.take(1)[0]
			if ev.Source != tc.source || ev.Message != text || ev.Process != "hsmtest" ||
				ev.Facility != "local5" || ev.Severity != "warning" {
				t.Errorf("event %+v", ev)
			}
			if hostname != "" && !strings.EqualFold(ev.Host, hostname) && !strings.HasPrefix(strings.ToLower(hostname), strings.ToLower(ev.Host)) {
				t.Errorf("host %q, this machine is %q", ev.Host, hostname)
			}
		})
	}
}

// TestDualStackPeer: an IPv4 sender to a dual-stack socket is named as IPv4.
func TestDualStackPeer(t *testing.T) {
	if _, err := net.ListenPacket("udp", "[::]:0"); err != nil {
		t.Skipf("no IPv6 on this machine: %v", err)
	}
	h := start(t, Config{UDP: "[::]:0", TCP: "[::]:0"})
	_, udpPort, _ := net.SplitHostPort(h.s.UDPAddr().String())
	_, tcpPort, _ := net.SplitHostPort(h.s.TCPAddr().String())
	u, err := net.Dial("udp4", "127.0.0.1:"+udpPort)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	c, err := net.Dial("tcp4", "127.0.0.1:"+tcpPort)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := u.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "hello\n")
	for _, ev := range h.take(2) {
		if ev.Host != "127.0.0.1" || !strings.HasPrefix(ev.Fields.Text("peer"), "127.0.0.1:") ||
			!strings.Contains(ev.Input, "://127.0.0.1:") {
			t.Errorf("host %q peer %q input %q", ev.Host, ev.Fields.Text("peer"), ev.Input)
		}
	}
}

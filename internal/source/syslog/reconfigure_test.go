package syslog

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
	"github.com/hsmwatch/hsmwatch/internal/testutil/sourcetest"
)

// line is message n of stream name: RFC 3164, with no offset in its timestamp.
func line(name string, n int) string {
	return fmt.Sprintf("<13>Nov 22 05:31:30 myhost app: %s %d", name, n)
}

// fits tells whether an event was parsed with phase ph's settings: RFC 3164 in the
// phase's zone for even phases, unparsed (the RFC 5424 parser) for odd ones.
func fits(ph int, ev *event.Event) bool {
	if ph%2 == 1 {
		return ev.Source == event.SourceUnparsed
	}
	_, off := ev.Time.Zone()
	return ev.Source == event.SourceRFC3164 && off == ph*3600
}

func phaseConfig(base Config, i int) Config {
	cfg := base
	if i%2 == 0 {
		cfg.Format, cfg.Location = event.SourceRFC3164, time.FixedZone("phase"+strconv.Itoa(i), i*3600)
	} else {
		cfg.Format = event.SourceRFC5424 // the RFC 3164 lines become unparsed
	}
	return cfg
}

// rotate writes a new certificate and key over certFile and keyFile, as a certificate
// manager does (rename over the old files), and returns it.
func rotate(t *testing.T, dir, certFile, keyFile string, i int) *x509.Certificate {
	t.Helper()
	sub := filepath.Join(dir, "new"+strconv.Itoa(i))
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	c, k, cert := writeCert(t, sub, "server", false)
	if err := os.Rename(c, certFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(k, keyFile); err != nil {
		t.Fatal(err)
	}
	return cert
}

// handshake makes a new TLS connection that trusts cert only, and checks that the server
// presents it.
func handshake(t *testing.T, addr string, cert *x509.Certificate) *tls.Conn {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("a new handshake: %v", err)
	}
	if got := c.ConnectionState().PeerCertificates[0]; !got.Equal(cert) {
		t.Fatalf("the server presented %q serial %v, want serial %v", got.Subject.CommonName, got.SerialNumber, cert.SerialNumber)
	}
	return c
}

// TestReconfigureWhileSending streams numbered messages over UDP, TCP and TLS while the
// format, the zone and the TLS certificate change four times: every message arrives
// exactly once, every message sent after a call returned is parsed with its settings,
// the TLS connection opened before the first rotation keeps working, and each new
// handshake gets the certificate just installed.
func TestReconfigureWhileSending(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls.key")
	cert0 := rotate(t, dir, certFile, keyFile, 0)
	base := Config{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", TLS: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile,
		Rate: -1} // one loopback sender for three streams: no rate limit in this test
	h := start(t, phaseConfig(base, 0))

	u, err := net.Dial("udp", h.s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	old := handshake(t, h.s.TLSAddr().String(), cert0) // kept open across every rotation
	t.Cleanup(func() { old.Close() })
	// At most 64 messages unanswered a stream: a moderate pace for UDP on loopback, the
	// socket buffer never fills.
	streams := []*sourcetest.Stream{
		sourcetest.NewStream("udp", 64, wait, func(n int) error { _, err := u.Write([]byte(line("udp", n))); return err }),
		sourcetest.NewStream("tcp", 64, wait, func(n int) error { _, err := fmt.Fprintf(c, "%s\n", line("tcp", n)); return err }),
		sourcetest.NewStream("tls", 64, wait, func(n int) error {
			l := line("tls", n)
			_, err := fmt.Fprintf(old, "%d %s", len(l), l) // octet counting
			return err
		}),
	}
	byName := map[string]*sourcetest.Stream{}
	for _, st := range streams {
		byName[st.Name] = st
	}

	// The collector files each event under its stream and number.
	var strays atomic.Int64
	collect := sourcetest.Collect(t, h.Recs, func(r component.Record) {
		f := strings.Fields(r.Event.Raw)
		if len(f) < 2 {
			strays.Add(1)
			return
		}
		n, err := strconv.Atoi(f[len(f)-1])
		st := byName[f[len(f)-2]]
		if err != nil || st == nil {
			strays.Add(1)
			return
		}
		st.Add(n, r.Event)
	})
	// On a failure, the senders stop before their sockets close (cleanups run last
	// first) and the collector goes away.
	send := sourcetest.Send(t, streams...)
	// settle waits for the messages of this phase: some sent after the call (at least 30
	// per stream), all of them arrived.
	settle := func() {
		t.Helper()
		for _, st := range streams {
			st.Settle(t, 30)
		}
	}
	settle()
	const calls = 4
	for i := 1; i <= calls; i++ {
		cfg, cert := phaseConfig(base, i), rotate(t, dir, certFile, keyFile, i)
		if err := h.s.Reconfigure(cfg); err != nil {
			t.Fatalf("Reconfigure %d: %v", i, err)
		}
		for _, st := range streams {
			st.NextPhase()
		}
		fresh := handshake(t, h.s.TLSAddr().String(), cert)
		fresh.Close()
		settle()
	}
	send()
	for _, st := range streams {
		st.WaitAll(t)
	}
	h.Stop() // nothing can be emitted any more: a late duplicate would be in h.Recs now
	collect()

	// Every message is parsed with the settings of the phase it was sent in or, when it
	// was sent around a call, with those just before or just after it.
	for _, st := range streams {
		st.Check(t, fits)
	}
	if n := strays.Load(); n != 0 {
		t.Errorf("%d events of no stream", n)
	}
	if st := h.s.Stats(); st.KernelDrops != 0 || st.ConnsAccepted != calls+2 || st.TLSFailures != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestReconfigureRefused: a changed address or name, a bad format and TLS material that
// does not load are refused, and the server keeps every setting it had: the format, the
// certificate for new handshakes, the connections.
func TestReconfigureRefused(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := writeCert(t, dir, "server", false)
	otherCert, _, _ := writeCert(t, dir, "other", false)
	notPEM := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := Config{Name: "syslog:test", UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", TLS: "127.0.0.1:0",
		CertFile: certFile, KeyFile: keyFile, Format: event.SourceRFC3164}
	h := start(t, good)
	old := handshake(t, h.s.TLSAddr().String(), cert)
	defer old.Close()

	change := func(f func(*Config)) Config {
		cfg := good
		cfg.Format = event.SourceRFC5424 // would show if anything were applied
		f(&cfg)
		return cfg
	}
	for _, tc := range []struct {
		name     string
		cfg      Config
		inPlace  bool   // refused as a setting that needs a new server
		mentions string // the error names the field
	}{
		{"udp moved", change(func(c *Config) { c.UDP = "127.0.0.1:1" }), true, "udp"},
		{"udp removed", change(func(c *Config) { c.UDP = "" }), true, "udp"},
		{"tcp moved", change(func(c *Config) { c.TCP = "[::1]:0" }), true, "tcp"},
		{"tls removed", change(func(c *Config) { c.TLS, c.CertFile, c.KeyFile = "", "", "" }), true, "tls"},
		{"tls moved", change(func(c *Config) { c.TLS = "127.0.0.2:0" }), true, "tls"},
		{"renamed", change(func(c *Config) { c.Name = "syslog:other" }), true, "name"},
		{"unknown format", change(func(c *Config) { c.Format = "nope" }), false, "nope"},
		{"no listener", change(func(c *Config) { c.UDP, c.TCP, c.TLS = "", "", "" }), false, "listen"},
		{"certificate missing", change(func(c *Config) { c.CertFile = filepath.Join(dir, "gone.pem") }), false, "gone.pem"},
		{"certificate not PEM", change(func(c *Config) { c.CertFile = notPEM }), false, "tls"},
		{"key of another certificate", change(func(c *Config) { c.CertFile = otherCert }), false, "tls"},
		{"client CAs not PEM", change(func(c *Config) { c.ClientCAFile = notPEM }), false, "garbage.pem"},
	} {
		sourcetest.Refused(t, tc.name, h.s.Reconfigure(tc.cfg), ErrNotReconfigurable, tc.inPlace, tc.mentions)
	}
	// The certificate file is overwritten with garbage (a botched rotation): refused,
	// and the certificate loaded before stays in use.
	if err := os.WriteFile(certFile, []byte("truncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Reconfigure(good); err == nil {
		t.Error("a certificate file that does not load was accepted")
	}

	fresh := handshake(t, h.s.TLSAddr().String(), cert)
	defer fresh.Close()
	u, err := net.Dial("udp", h.s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := u.Write([]byte(msg3164)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []io.Writer{c, old, fresh} {
		fmt.Fprintf(w, "%s\n", msg3164)
	}
	for _, ev := range h.take(4) {
		if ev.Source != event.SourceRFC3164 || ev.Host != "myDinamo" {
			t.Errorf("after the refusals: %s", ev.AppendJSON(nil))
		}
	}
	if h.s.Name() != "syslog:test" {
		t.Errorf("name %q", h.s.Name())
	}
}

// TestReconfigureLimits: lowered connection limits refuse new connections and keep the
// open ones; a rate limit turned on by a reload limits and reports at the new interval
// (the old one was an hour); a new MaxMessage and idle timeout apply to a connection
// opened before the call.
func TestReconfigureLimits(t *testing.T) {
	cfg := local()
	cfg.MaxConnsPerIP, cfg.Rate, cfg.LimitReport = 2, -1, time.Hour
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
	h.take(2)

	cfg.MaxConnsPerIP = 1
	if err := h.s.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	third := dial()
	_ = third.SetReadDeadline(time.Now().Add(wait))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("a connection over the lowered limit: %v, want it closed", err)
	}
	for _, c := range []net.Conn{a, b} {
		fmt.Fprintf(c, "%s\n", msg3164)
	}
	h.take(2) // both open connections still served
	if st := h.s.Stats(); st.ConnsRejected != 1 || st.ConnsOpen != 2 {
		t.Errorf("stats %+v", st)
	}

	// The rate limit, off until now.
	cfg.Rate, cfg.Burst, cfg.LimitReport = 1, 3, 20*time.Millisecond
	if err := h.s.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	u, err := net.Dial("udp", h.s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	const flood = 10
	before := h.s.Stats().Messages
	for i := range flood {
		if _, err := fmt.Fprintf(u, "<13>Nov 22 05:31:30 flood app: %d", i); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, "the flood read", wait, func() bool { return h.s.Stats().Messages == before+flood })
	var passed, reported int64
	for passed+reported < flood {
		ev := h.take(1)[0]
		if ev.Source == SourceSelf {
			f, _ := ev.Fields.Get("limited")
			reported += f.Int
			if !strings.Contains(ev.Message, "burst 3") {
				t.Errorf("summary %q", ev.Message)
			}
			continue
		}
		passed++
	}
	if passed < 3 || passed > 5 {
		t.Errorf("%d of %d passed with burst 3 and 1/s", passed, flood)
	}

	// MaxMessage and the idle timeout, on connection a, opened before.
	cfg.Rate, cfg.MaxMessage, cfg.IdleTimeout = -1, 100, 50*time.Millisecond
	if err := h.s.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(a, "<13>%s\n", strings.Repeat("x", 196))
	if ev := h.take(1)[0]; len(ev.Raw) != 100 || ev.Fields.Text("truncated_bytes") != "100" {
		t.Errorf("%d bytes kept, truncated_bytes %q", len(ev.Raw), ev.Fields.Text("truncated_bytes"))
	}
	_ = a.SetReadDeadline(time.Now().Add(wait))
	if _, err := a.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("connection a, idle after the new timeout: %v, want EOF", err)
	}
	if st := h.s.Stats(); st.IdleTimeouts != 1 {
		t.Errorf("idle timeouts %d", st.IdleTimeouts)
	}
}

package syslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// trickle writes one byte to each of conns every tick until stop is closed: senders
// that start a message and never finish it, each keeping its connection busy.
func trickle(conns []net.Conn, tick time.Duration, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			for _, c := range conns {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = c.Write([]byte("x")) // evicted connections fail: fine
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	return &wg
}

// waitFor polls cond until it holds or wait has passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStalledConnectionsDoNotLockOut: 512 connections (the default MaxConns, from 16
// addresses at the default 32 each) start a message and trickle one byte at a time;
// a well-behaved sender connecting afterwards still gets in, and every line it sends
// is received.
func TestStalledConnectionsDoNotLockOut(t *testing.T) {
	h := start(t, Config{TCP: "127.0.0.1:0", Rate: -1})
	addr := h.s.TCPAddr().String()
	var stalled []net.Conn
	for i := range DefaultMaxConns {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i/DefaultMaxConnsPerIP))}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "<13>Nov 22 05:31:30 stalled "); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
	}
	waitFor(t, "512 open connections", func() bool { return h.s.Stats().ConnsOpen == DefaultMaxConns })
	stop := make(chan struct{})
	wg := trickle(stalled, 10*time.Millisecond, stop)
	defer wg.Wait()
	defer close(stop)

	good, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	const lines = 200
	w := bufio.NewWriter(good)
	for i := range lines {
		fmt.Fprintf(w, "<38>Nov 22 05:31:30 myLuna app: line %d\n", i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The evicted connection's unfinished message is emitted as it stands, as at any
	// connection's end: lines+1 events.
	evs := h.take(lines + 1)
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.Message]++
	}
	for i := range lines {
		if m := fmt.Sprintf("line %d", i); seen[m] != 1 {
			t.Errorf("%q received %d times", m, seen[m])
		}
	}
	st := h.s.Stats()
	if st.ConnsEvicted != 1 || st.ConnsRejected != 0 {
		t.Errorf("evicted %d rejected %d, want 1 and 0", st.ConnsEvicted, st.ConnsRejected)
	}
}

// TestFrameTimeout: a message started and trickled one byte at a time is cut off
// FrameTimeout after its first byte, although bytes keep coming.
func TestFrameTimeout(t *testing.T) {
	cfg := local()
	cfg.FrameTimeout = 200 * time.Millisecond
	h := start(t, cfg)
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s\n", msg3164) // a whole message first: it is received
	h.take(1)
	stop := make(chan struct{})
	wg := trickle([]net.Conn{c}, 5*time.Millisecond, stop)
	h.connEnded()
	close(stop)
	wg.Wait()
	if st := h.s.Stats(); st.FrameTimeouts != 1 || st.IdleTimeouts != 0 {
		t.Errorf("frame timeouts %d idle timeouts %d, want 1 and 0", st.FrameTimeouts, st.IdleTimeouts)
	}
}

// TestIdleTimeoutNotExtendedByTrickle: newlines between messages (bytes that finish no
// message) do not push the idle timeout back.
func TestIdleTimeoutNotExtendedByTrickle(t *testing.T) {
	cfg := local()
	cfg.IdleTimeout = 200 * time.Millisecond
	cfg.FrameTimeout = -1
	h := start(t, cfg)
	c, err := net.Dial("tcp", h.s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if _, err := c.Write([]byte("\n")); err != nil && !errors.Is(err, net.ErrClosed) {
					return
				}
			}
		}
	})
	h.connEnded()
	close(stop)
	wg.Wait()
	if st := h.s.Stats(); st.IdleTimeouts != 1 {
		t.Errorf("idle timeouts %d, want 1", st.IdleTimeouts)
	}
}

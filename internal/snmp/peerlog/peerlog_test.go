package peerlog

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

func TestOneLinePerPeerPerInterval(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), "x: ", time.Hour)
	for range 5 {
		l.Log("10.0.0.1", "bad")
	}
	if !l.Log("10.0.0.2", "bad") {
		t.Error("a second peer was not logged")
	}
	if n := strings.Count(buf.String(), "x: bad"); n != 2 {
		t.Errorf("%d lines:\n%s", n, buf.String())
	}
	l.max = 3
	for _, h := range []string{"a", "b", "c", "d"} {
		l.Log(h, "bad")
	}
	if len(l.last) > 3 {
		t.Errorf("%d peers remembered, bound 3", len(l.last))
	}
}

func TestHost(t *testing.T) {
	if h := Host(&net.UDPAddr{IP: net.ParseIP("192.0.2.1"), Port: 5}); h != "192.0.2.1" {
		t.Errorf("Host = %q", h)
	}
	if h := Host(nil); h != "unknown" {
		t.Errorf("Host(nil) = %q", h)
	}
}

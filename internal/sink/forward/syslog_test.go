package forward

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

func sample() *event.Event {
	return &event.Event{Time: time.Date(2026, 11, 22, 10, 2, 0, 0, time.UTC), Host: "lunaA", Source: "luna-syslog",
		Process: "ipmievd", PID: 1234, Message: "Power Supply sensor PSU2_Status . - Failure detected Asserted",
		Component: "ipmi", Class: "unexpected", Rule: "luna.ipmi.psu-discrete-state", Level: "critical",
		Notification: "powerSupplyAttentionNotify", Assert: event.True}
}

// What we send reads back with the project's own RFC 5424 parser, classification included.
func TestFormatRoundTrip(t *testing.T) {
	line := string(Format(sample()))
	want := `<162>1 2026-11-22T10:02:00Z lunaA ipmievd 1234 luna.ipmi.psu-discrete-state [hsmwatch@32473 level="critical" component="ipmi" class="unexpected" notification="powerSupplyAttentionNotify" source="luna-syslog" assert="true"] Power Supply sensor PSU2_Status . - Failure detected Asserted`
	if line != want {
		t.Fatalf("got\n%s\nwant\n%s", line, want)
	}
	p, err := parse.New("rfc5424", parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	parse.Into(p, line, &ev)
	if ev.Source != event.SourceRFC5424 || ev.Host != "lunaA" || ev.Process != "ipmievd" || ev.Severity != "crit" ||
		ev.Message != sample().Message || ev.Fields.Text("sd.hsmwatch@32473.level") != "critical" {
		t.Fatalf("parsed back: %+v fields %v", ev, ev.Fields)
	}
}

// FuzzFormat: whatever the event holds, the message is valid RFC 5424 for our parser.
func FuzzFormat(f *testing.F) {
	f.Add("lunaA", "ipmievd", "msg", "luna.x", "critical", "a\"b]c\\")
	f.Fuzz(func(t *testing.T, host, proc, msg, rule, level, comp string) {
		ev := &event.Event{Time: time.Unix(1764000000, 0).UTC(), Host: host, Process: proc, Message: msg, Rule: rule, Level: level, Component: comp}
		p, _ := parse.New("rfc5424", parse.Options{})
		var got event.Event
		parse.Into(p, string(Format(ev)), &got)
		if got.Source != event.SourceRFC5424 || got.Fields.Text("sd_error") != "" {
			t.Fatalf("%q does not parse: %s %v", Format(ev), got.Reason, got.Fields)
		}
	})
}

// Over TCP the messages are octet-counted; a dropped connection is re-made.
func TestTCPOctetCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 10)
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn, first bool) {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					n, err := r.ReadString(' ')
					if err != nil {
						return
					}
					size, _ := strconv.Atoi(strings.TrimSpace(n))
					buf := make([]byte, size)
					if _, err := io.ReadFull(r, buf); err != nil {
						return
					}
					got <- string(buf)
					if first {
						return // drop the first connection after one message
					}
				}
			}(c, i == 0)
		}
	}()
	s, err := New(Config{Address: "tcp://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items := []component.Item{{Record: component.Record{Event: sample()}}}
	for i := 0; i < 3; i++ {
		// After the server drops the first connection a write may still succeed into the
		// dead socket's buffer; keep writing until three messages arrived.
		if err := s.Write(context.Background(), items); err != nil {
			t.Logf("write %d: %v", i, err)
		}
	}
	deadline := time.After(10 * time.Second)
	n := 0
	for n < 2 {
		select {
		case m := <-got:
			if !strings.HasPrefix(m, "<162>1 ") {
				t.Fatalf("frame %q", m)
			}
			n++
		case <-deadline:
			t.Fatalf("received %d messages", n)
		case <-time.After(100 * time.Millisecond):
			s.Write(context.Background(), items)
		}
	}
}

func TestNewRefusesBadAddress(t *testing.T) {
	for _, a := range []string{"514", "http://x:514", "tcp://nohost"} {
		if _, err := New(Config{Address: a}); err == nil {
			t.Errorf("accepted %q", a)
		}
	}
}

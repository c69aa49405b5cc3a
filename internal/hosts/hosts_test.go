package hosts

import (
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

func trapFrom(peer, host, oid string) *event.Event {
	ev := &event.Event{Host: host, Input: peer}
	ev.Fields.SetString("trap_oid", oid)
	return ev
}

func TestHostNames(t *testing.T) {
	h := New()
	h.Learn("10.0.0.5:161", "dinamo", "TCA5822466")
	h.Learn("127.0.0.1:1611", "dinamo", "dinamo-lab")
	h.Learn("127.0.0.1:1612", "luna-network", "luna-lab")
	h.Learn("10.0.0.9", "generic", "router")
	for _, c := range []struct{ peer, host, oid, want string }{
		{"10.0.0.5:40000", "10.0.0.5", ".1.3.6.1.4.1.41054.3.0.17", "TCA5822466"},                // the Dinamo polled there
		{"127.0.0.1:40000", "127.0.0.1", ".1.3.6.1.4.1.41054.3.0.1", "dinamo-lab"},               // two HSMs share the address: by vendor
		{"10.0.0.9:162", "10.0.0.9", ".1.3.6.1.6.3.1.1.5.3", "router"},                           // the only one there
		{"10.0.0.7:162", "10.0.0.7", ".1.3.6.1.4.1.41054.3.0.1", "10.0.0.7"},                     // nobody polled there
		{"127.0.0.1:40000", "myLuna", ".1.3.6.1.4.1.12383.3.1.2.0.1", "myLuna"},                  // ssLogReference named it
		{"[::ffff:10.0.0.5]:40000", "::ffff:10.0.0.5", ".1.3.6.1.4.1.41054.3.0.2", "TCA5822466"}, // IPv4-mapped sender
	} {
		ev := trapFrom(c.peer, c.host, c.oid)
		h.Name(ev)
		if ev.Host != c.want {
			t.Errorf("trap from %s (host %s): %q, want %q", c.peer, c.host, ev.Host, c.want)
		}
	}
}

// TestDinamoLogNamedByAddress: a Dinamo event log record names its HSM by address (its
// trailer); the Dinamo polled there names it, the address stays in hsm_address. Another
// vendor's HSM at the address, or a record naming a host, changes nothing.
func TestDinamoLogNamedByAddress(t *testing.T) {
	b := New()
	b.Learn("10.1.2.3:161", "dinamo", "TCA0041054")
	b.Learn("10.1.2.4:161", "luna-network", "luna1")
	cases := []struct{ host, want, addr string }{
		{"10.1.2.3", "TCA0041054", "10.1.2.3"},
		{"10.1.2.4", "10.1.2.4", ""},
		{"dinamo-a", "dinamo-a", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		ev := &event.Event{Source: event.SourceDinamoLog, Host: c.host}
		b.Name(ev)
		if ev.Host != c.want || ev.Fields.Text("hsm_address") != c.addr {
			t.Errorf("%q: host %q hsm_address %q, want %q %q", c.host, ev.Host, ev.Fields.Text("hsm_address"), c.want, c.addr)
		}
	}
}

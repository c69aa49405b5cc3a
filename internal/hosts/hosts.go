// Package hosts attributes events that name no host of their own to the HSM a poller
// found at the sender's address (component.Hosts): the poll source teaches it, the trap
// receiver asks it.
package hosts

import (
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Book attributes the traps that carry no host name of their own (a Dinamo's: only
// Luna traps name their host, in ssLogReference) to the HSM a poller found at the same
// address, so that an HSM's traps, events and figures are one HSM on the dashboard and
// in the API rather than a name and an IP address.
type Book struct {
	mu   sync.Mutex
	byIP map[netip.Addr]map[string]string // address -> vendor ("dinamo", "luna", "generic") -> host
}

// New returns an empty book.
func New() *Book { return &Book{byIP: map[netip.Addr]map[string]string{}} }

// vendor is the family of a poll profile.
func vendor(profile string) string {
	switch {
	case profile == "dinamo":
		return "dinamo"
	case strings.HasPrefix(profile, "luna"):
		return "luna"
	}
	return "generic"
}

// Learn records that the poller of target ("HOST:PORT" or "HOST") found host, with
// profile. A target given by name is resolved at each poll (cheap next to the poll).
func (h *Book) Learn(target, profile, host string) {
	if host == "" {
		return
	}
	addr := target
	if a, _, err := net.SplitHostPort(target); err == nil {
		addr = a
	}
	ips := []netip.Addr{}
	if ip, err := netip.ParseAddr(addr); err == nil {
		ips = append(ips, ip)
	} else if found, err := net.LookupHost(addr); err == nil {
		for _, s := range found {
			if ip, err := netip.ParseAddr(s); err == nil {
				ips = append(ips, ip)
			}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ip := range ips {
		m := h.byIP[ip.Unmap()]
		if m == nil {
			m = map[string]string{}
			h.byIP[ip.Unmap()] = m
		}
		m[vendor(profile)] = host
	}
}

// Name renames ev's host when it is only the sender's address and a poller knows the
// HSM there: the one of the trap's vendor, else the only one at that address. The
// address stays in the event's input and its "peer" field. A Dinamo event log record
// names its HSM by address too (its trailer's "<hsm address:port>"): the Dinamo polled at
// that address gives it its name, the address stays in the field hsm_address.
func (h *Book) Name(ev *event.Event) {
	if ev.Source == event.SourceDinamoLog {
		ip, err := netip.ParseAddr(ev.Host)
		if err != nil {
			return
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if host, ok := h.byIP[ip.Unmap()]["dinamo"]; ok {
			ev.Fields.SetString("hsm_address", ev.Host)
			ev.Host = host
		}
		return
	}
	if !addrLike(ev.Input) {
		return // a file's "path:line": most events, and a failed parse would allocate its error
	}
	peer, err := netip.ParseAddrPort(ev.Input)
	if err != nil || ev.Host != peer.Addr().String() {
		return // the trap named its host, or came from elsewhere
	}
	v := "luna"
	if strings.HasPrefix(ev.Fields.Text("trap_oid"), ".1.3.6.1.4.1.41054.") {
		v = "dinamo"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.byIP[peer.Addr().Unmap()]
	if host, ok := m[v]; ok {
		ev.Host = host
		return
	}
	if len(m) == 1 {
		for _, host := range m {
			ev.Host = host
		}
	}
}

// addrLike tells whether s may be an "address:port" (a digit or an IPv6 bracket first).
func addrLike(s string) bool {
	return s != "" && (s[0] == '[' || '0' <= s[0] && s[0] <= '9')
}

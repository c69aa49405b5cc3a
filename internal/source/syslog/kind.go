package syslog

import (
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Spec is one sources.syslog listener: udp://, tcp:// or tls:// HOST:PORT.
type Spec struct {
	Listen   string  `yaml:"listen"`
	Cert     string  `yaml:"cert"`
	Key      string  `yaml:"key"`
	ClientCA string  `yaml:"client_ca"`
	Rate     float64 `yaml:"rate"` // messages per second per origin (the host a message names) before limiting
}

// ID is the address: a changed rate or certificate is applied on the open socket.
func (s *Spec) ID() string { return s.Listen }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	scheme, _, ok := strings.Cut(s.Listen, "://")
	switch {
	case !ok:
		return []component.Problem{component.Problemf("listen", "want udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT, not %q", s.Listen)}
	case scheme != "udp" && scheme != "tcp" && scheme != "tls":
		return []component.Problem{component.Problemf("listen", "unknown scheme %q: want udp, tcp or tls", scheme)}
	case scheme == "tls" && (s.Cert == "" || s.Key == ""):
		return []component.Problem{component.Problemf("", "a tls listener needs cert and key")}
	}
	_, port, err := net.SplitHostPort(strings.TrimPrefix(s.Listen, scheme+"://"))
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return []component.Problem{component.Problemf("listen", "want %s://HOST:PORT with a port number, not %q", scheme, s.Listen)}
	}
	return nil
}

func (s *Spec) config(log *slog.Logger) Config {
	scheme, addr, _ := strings.Cut(s.Listen, "://")
	c := Config{Name: "syslog:" + s.Listen, CertFile: s.Cert, KeyFile: s.Key, ClientCAFile: s.ClientCA, Rate: s.Rate, Logger: log}
	switch scheme {
	case "udp":
		c.UDP = addr
	case "tcp":
		c.TCP = addr
	case "tls":
		c.TLS = addr
	}
	return c
}

const sampleConfig = `# Syslog listeners: UDP, TCP (octet counting or newline framing) and TLS. Point a Luna
# appliance here with "syslog remotehost add".
# rate limits each origin, the host a message names (the sender's address when it names
# none), so that a relay forwarding a whole fleet is not limited as one sender: default
# 5000 messages/s per origin with a burst of 50000, well above a fleet's normal rate;
# -1 turns it off. What it drops is counted per origin (hsmwatch_syslog_limited_origin_total)
# and reported by a warning event every 10 s. UDP: the socket asks for a 32 MiB receive
# buffer; datagrams the kernel drops when it is full are counted
# (hsmwatch_syslog_kernel_drops_total).
- listen: udp://0.0.0.0:514
  rate: 5000
- listen: tls://0.0.0.0:6514
  cert: /etc/hsmwatch/tls.crt
  key: /etc/hsmwatch/tls.key
  client_ca: /etc/hsmwatch/clients.pem   # optional: require client certificates
`

func init() {
	component.Register(component.Kind{Role: component.SourceRole, Key: "syslog",
		Doc: "receives syslog over UDP, TCP and TLS", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Source: func(sp component.Spec, env component.Env) (component.Source, error) {
			srv, err := New(sp.(*Spec).config(env.Logger))
			if err != nil {
				return nil, err
			}
			return listener{srv, env.Logger}, nil
		}})
}

// listener is a Server as the daemon runs it.
type listener struct {
	*Server
	log *slog.Logger
}

// Reconfigure implements component.Reconfigurer on the open sockets.
func (l listener) Reconfigure(sp component.Spec, _ component.Env) error {
	return l.Server.Reconfigure(sp.(*Spec).config(l.log))
}

// Addrs implements component.Listener.
func (l listener) Addrs() []net.Addr {
	var out []net.Addr
	for _, a := range []net.Addr{l.UDPAddr(), l.TCPAddr(), l.TLSAddr()} {
		if a != nil {
			out = append(out, a)
		}
	}
	return out
}

// Figures implements component.Instrumented.
func (l listener) Figures() []component.Figure {
	lb := map[string]string{"source": l.Name()}
	st := l.Stats
	return []component.Figure{
		{Name: "packets_read_total", Help: "Datagrams or messages read by a network source.", Counter: true, Labels: lb, Read: func() float64 { return float64(st().Messages) }},
		{Name: "parse_failures_total", Help: component.ParseFailuresHelp, Counter: true, Labels: lb, Read: func() float64 { return float64(st().ParseFailures) }},
		{Name: "syslog_limited_total", Help: "Syslog messages dropped by the per-origin rate limit.", Counter: true, Labels: lb, Read: func() float64 { return float64(st().Limited) }},
		{Name: "syslog_limited_origin_total", Help: "Syslog messages dropped by the rate limit, by origin (the host the message names; at most 100 origins, the rest under \"(other)\").",
			Counter: true, Labels: lb, EachLabel: "origin", Each: l.limit.limitedTotals},
		{Name: "syslog_connections_rejected_total", Help: "TCP and TLS syslog connections refused (too many from one address).", Counter: true, Labels: lb, Read: func() float64 { return float64(st().ConnsRejected) }},
		{Name: "syslog_connections_evicted_total", Help: "TCP and TLS syslog connections closed, idle longest, to make room in a full connection table.", Counter: true, Labels: lb, Read: func() float64 { return float64(st().ConnsEvicted) }},
		{Name: "syslog_kernel_drops_total", Help: "UDP datagrams the kernel dropped (buffer full).", Counter: true, Labels: lb, Read: func() float64 { return float64(st().KernelDrops) }},
	}
}

package forward

import (
	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Spec is one sinks.syslog entry.
type Spec struct {
	Address string `yaml:"address"` // udp://, tcp:// or tls:// HOST:PORT
}

// ID is the address.
func (s *Spec) ID() string { return s.Address }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	if _, err := New(Config{Address: s.Address}); err != nil {
		return []component.Problem{component.Problemf("address", "%v", err)}
	}
	return nil
}

const sampleConfig = `# Forwarding to a SIEM as RFC 5424 syslog, the classification as structured data.
- address: tcp://siem.example:514
`

func init() {
	component.Register(component.Kind{Role: component.SinkRole, Key: "syslog",
		Doc: "forwards events as RFC 5424 syslog (UDP, TCP, TLS)", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Sink: func(sp component.Spec, _ component.Env) (component.Sink, error) {
			return New(Config{Address: sp.(*Spec).Address})
		}})
}

// Figures implements component.Instrumented.
func (s *Sink) Figures() []component.Figure {
	return []component.Figure{{Name: "syslog_forwarded_total", Help: "Events forwarded as RFC 5424 syslog.", Counter: true,
		Labels: map[string]string{"target": s.cfg.Address}, Read: func() float64 { return float64(s.Sent()) }}}
}

package fifo

import (
	"log/slog"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Spec is one sources.fifos entry.
type Spec struct {
	Path   string `yaml:"path"`
	Format string `yaml:"format"`
}

// ID is the pipe's path: a changed format applies without closing it (a closed read end
// would give the writer EPIPE).
func (s *Spec) ID() string { return s.Path }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	if s.Path == "" {
		return []component.Problem{component.Problemf("path", "required")}
	}
	return nil
}

func (s *Spec) config(log *slog.Logger) Config {
	return Config{Path: s.Path, Format: s.Format, Logger: log}
}

const sampleConfig = `# Named pipes, as rsyslog's ompipe writes them (the way the Luna trap agent reads
# syslog); created when missing.
- path: /run/hsmwatch/luna.pipe
  format: auto
`

func init() {
	component.Register(component.Kind{Role: component.SourceRole, Key: "fifos",
		Doc: "reads named pipes", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Source: func(sp component.Spec, env component.Env) (component.Source, error) {
			r, err := New(sp.(*Spec).config(env.Logger))
			if err != nil {
				return nil, err
			}
			return pipe{r, env.Logger}, nil
		}})
}

type pipe struct {
	*Reader
	log *slog.Logger
}

// Reconfigure implements component.Reconfigurer on the open pipe.
func (p pipe) Reconfigure(sp component.Spec, _ component.Env) error {
	return p.Reader.Reconfigure(sp.(*Spec).config(p.log))
}

// Figures implements component.Instrumented.
func (p pipe) Figures() []component.Figure {
	l := map[string]string{"source": p.Name()}
	return []component.Figure{
		{Name: "lines_read_total", Help: "Lines read by a log source.", Counter: true, Labels: l, Read: func() float64 { return float64(p.Stats().Lines) }},
		{Name: "parse_failures_total", Help: component.ParseFailuresHelp, Counter: true, Labels: l, Read: func() float64 { return float64(p.Stats().ParseFailures) }},
	}
}

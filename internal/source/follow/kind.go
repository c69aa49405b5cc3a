package follow

import (
	"path/filepath"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Spec is one sources.files entry.
type Spec struct {
	Path   string `yaml:"path"` // a path or a glob
	Format string `yaml:"format"`
	Start  string `yaml:"start"` // beginning (default) or end, for a file without checkpoint
	// Host names the HSM of the lines that name none (a Dinamo's records without
	// trailer, bare ALM lines), as scan's --default-host does.
	Host string `yaml:"host"`
}

// ID is the path: a changed format or start replaces the follower, which reads on from
// the offsets its predecessor committed.
func (s *Spec) ID() string { return s.Path }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	var ps []component.Problem
	if s.Path == "" {
		ps = append(ps, component.Problemf("path", "required"))
	}
	if s.Start != "" && s.Start != "beginning" && s.Start != "end" {
		ps = append(ps, component.Problemf("start", "want beginning or end, not %q", s.Start))
	}
	return ps
}

const sampleConfig = `# Log files followed through rotation; offsets are checkpointed in state_dir and
# committed once the store holds the lines, so a restart reads nothing twice.
- path: /var/log/luna/messages*     # a path or a glob
  format: auto                      # auto, luna-syslog, rfc3164, rfc5424, luna-alarm, dinamo-log
  start: beginning                  # where a file without checkpoint is read from: beginning or end
`

func init() {
	component.Register(component.Kind{Role: component.SourceRole, Key: "files",
		Doc: "follows log files (globs, rotation, checkpoints)", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Source: func(sp component.Spec, env component.Env) (component.Source, error) {
			s := sp.(*Spec)
			return New(Config{Path: s.Path, Format: s.Format, Start: s.Start, Host: s.Host,
				StateDir: filepath.Join(env.StateDir, "checkpoints"), Hosts: env.Hosts, Logger: env.Logger})
		}})
}

// Figures implements component.Instrumented.
func (f *Follower) Figures() []component.Figure {
	l := map[string]string{"source": f.Name()}
	return []component.Figure{
		{Name: "lines_read_total", Help: "Lines read by a log source.", Counter: true, Labels: l, Read: func() float64 { return float64(f.Stats().Lines) }},
		{Name: "parse_failures_total", Help: component.ParseFailuresHelp, Counter: true, Labels: l, Read: func() float64 { return float64(f.Stats().ParseFailures) }},
	}
}

package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Spec is one sinks.webhooks entry.
type Spec struct {
	URL      string `yaml:"url"`
	MinLevel string `yaml:"min_level"`
}

// ID is a digest of the URL (a URL may carry a token, and ids appear in logs). The spool
// folder is named after it, so a reload that changes the minimum level or reorders the
// list hands the spool to the sink with the same URL, which delivers what is left.
func (s *Spec) ID() string {
	sum := sha256.Sum256([]byte(s.URL))
	return "webhook-" + hex.EncodeToString(sum[:8])
}

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	var ps []component.Problem
	if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ps = append(ps, component.Problemf("url", "want an http:// or https:// URL"))
	}
	if s.MinLevel != "" && event.LevelRank(s.MinLevel) == 0 {
		ps = append(ps, component.Problemf("min_level", "want critical, major, minor, warning, info or debug, not %q", s.MinLevel))
	}
	return ps
}

const sampleConfig = `# Webhooks: events as JSON, spooled to disk first and delivered in order with retries,
# so a target down for an hour or a restart loses nothing. min_level defaults to the
# events an operator must see.
- url: https://hooks.example/hsm
  min_level: major
`

func init() {
	component.Register(component.Kind{Role: component.SinkRole, Key: "webhooks",
		Doc: "posts events as JSON, through a disk spool", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Sink: func(sp component.Spec, env component.Env) (component.Sink, error) {
			s := sp.(*Spec)
			if env.StateDir == "" {
				return nil, fmt.Errorf("webhook: no state_dir for its spool")
			}
			return New(Config{URL: s.URL, MinLevel: s.MinLevel, SpoolDir: filepath.Join(env.StateDir, "spool", s.ID()), Logger: env.Logger})
		}})
}

// Spooled implements component.Spooler: Write puts a batch in the disk spool, Run
// delivers it.
func (s *Sink) Spooled() bool { return true }

package alertmanager

import (
	"net/url"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Spec is one sinks.alertmanager entry.
type Spec struct {
	URL string `yaml:"url"`
}

// ID is the URL.
func (s *Spec) ID() string { return s.URL }

// Check implements component.Checker.
func (s *Spec) Check() []component.Problem {
	if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []component.Problem{component.Problemf("url", "want the Alertmanager's http:// or https:// URL")}
	}
	return nil
}

const sampleConfig = `# Alertmanager (API v2): an alarm that opens fires an alert, its clear resolves it.
- url: http://127.0.0.1:9093
`

func init() {
	component.Register(component.Kind{Role: component.SinkRole, Key: "alertmanager",
		Doc: "fires and resolves Alertmanager alerts from alarms", Sample: sampleConfig,
		New: func() component.Spec { return &Spec{} },
		Sink: func(sp component.Spec, env component.Env) (component.Sink, error) {
			return New(Config{URL: sp.(*Spec).URL, Logger: env.Logger})
		}})
}

// Package alertmanager sends hsmwatch's alarms to a Prometheus Alertmanager (API v2): an
// alarm that opens becomes a firing alert, and the alert resolves when the alarm clears
// (endsAt set to the clear's time), never by silence. Alertmanager forgets an alert that is
// not re-sent within its resolve_timeout, so the open alarms are re-sent on a timer; a
// resolution is sent until the Alertmanager has taken it.
//
// Operator actions (internal/actions): an event under a silence or a maintenance window
// never reaches this sink; an alarm an operator acknowledged is re-sent with the label
// acknowledged="true" from the acknowledgement on (route it to a receiver without
// repeat_interval, or inhibit on it). The label is part of the alert's identity: the
// unlabelled alert ends at the Alertmanager after its resolve_timeout. A manually closed
// alarm is resolved like a cleared one.
package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/redact"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Config is one Alertmanager.
type Config struct {
	URL string // base URL: http://alertmanager:9093
	// Resend is how often open alarms are sent again (default 1m; keep it below the
	// Alertmanager's resolve_timeout, 5m by default).
	Resend time.Duration
	// Backoff paces the retries of a failed post (the sinks' shared policy).
	Backoff sink.Backoff
	Timeout time.Duration // per request (default 10s)
	// GeneratorURL links an alert back to hsmwatch's dashboard (optional).
	GeneratorURL string
	Client       *http.Client
	Logger       *slog.Logger
}

// Alert is the API v2 postable alert.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Sink keeps the alerts to send.
type Sink struct {
	cfg  Config
	mu   sync.Mutex
	open map[string]Alert // by host + key
	done []Alert          // resolutions not yet accepted
	wake chan struct{}

	sent, failures int64
}

// New checks cfg.
func New(cfg Config) (*Sink, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("alertmanager: %q is not an http(s) URL", cfg.URL)
	}
	if cfg.Resend <= 0 {
		cfg.Resend = time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sink{cfg: cfg, open: map[string]Alert{}, wake: make(chan struct{}, 1)}, nil
}

// KeepsAlarms implements component.AlarmKeeper: the sink re-sends the open alerts
// itself, so it takes the repeats of acknowledged alarms to label their alerts.
func (s *Sink) KeepsAlarms() bool { return true }

// Name implements component.Sink.
func (s *Sink) Name() string { return "alertmanager " + redact.URL(s.cfg.URL) }

// Write implements component.Sink: alarm changes update the alerts, and a change wakes Run.
func (s *Sink) Write(_ context.Context, batch []component.Item) error {
	changed := false
	s.mu.Lock()
	for _, it := range batch {
		d := it.Decision
		if d.Alarm != nil && (d.Change == state.Opened || d.Change == state.Repeated) {
			al := s.alert(*d.Alarm, it.Record.Event.Message)
			if d.Acknowledged {
				// An operator acknowledged the alarm: its alert carries
				// acknowledged="true", so that a route or an inhibit rule can stop the
				// repeats; the alert stays firing until the alarm clears.
				al.Labels["acknowledged"] = "true"
				if prev, ok := s.open[id(*d.Alarm)]; ok {
					al.Annotations["description"] = prev.Annotations["description"]
				}
			}
			s.open[id(*d.Alarm)] = al
			changed = true
		}
		var closed []state.Alarm
		if d.Change == state.Cleared && d.Alarm != nil {
			closed = append(closed, *d.Alarm)
		}
		closed = append(append(closed, d.AlsoCleared...), d.Matured...)
		for _, m := range d.Moved { // the alert under the old host/key resolves, the alarm fires under the new
			closed = append(closed, m.From)
			if m.To.Cleared.IsZero() {
				s.open[id(m.To)] = s.alert(m.To, m.To.Message)
			}
		}
		for _, a := range closed {
			s.resolve(a)
			changed = true
		}
	}
	s.mu.Unlock()
	if changed {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// OpenAlarms implements component.AlarmAware: the alarms open when the sink starts
// (opened before it ran, or before a restart) fire as alerts and are re-sent with the
// others.
func (s *Sink) OpenAlarms(_ context.Context, open []state.Alarm) {
	if len(open) == 0 {
		return
	}
	s.mu.Lock()
	for _, a := range open {
		if _, ok := s.open[id(a)]; !ok {
			s.open[id(a)] = s.alert(a, a.Message)
		}
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func id(a state.Alarm) string { return a.Host + "\x00" + a.Key }

func (s *Sink) alert(a state.Alarm, message string) Alert {
	labels := map[string]string{"alertname": a.Rule, "host": a.Host, "alarm_key": a.Key,
		"component": a.Component, "severity": a.Level}
	if a.Notification != "" {
		labels["notification"] = a.Notification
	}
	return Alert{Labels: labels, StartsAt: a.Opened, GeneratorURL: s.cfg.GeneratorURL,
		Annotations: map[string]string{"summary": a.Title, "description": message}}
}

// resolve turns an open alert into a resolution (endsAt = when the alarm cleared).
func (s *Sink) resolve(a state.Alarm) {
	al, ok := s.open[id(a)]
	if !ok {
		al = s.alert(a, a.Message)
	}
	delete(s.open, id(a))
	al.EndsAt = a.Cleared
	if al.EndsAt.IsZero() {
		al.EndsAt = time.Now()
	}
	s.done = append(s.done, al)
}

// Run sends the alerts on every change and every Resend until ctx ends; a failed post
// is tried again with the sinks' shared back-off rather than at the next resend.
func (s *Sink) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Resend)
	defer t.Stop()
	failures := 0
	for {
		var retry <-chan time.Time
		if s.flush(ctx) {
			failures = 0
		} else {
			retry = time.After(s.cfg.Backoff.Wait(failures))
			failures++
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		case <-retry:
		}
	}
}

// flush posts the open alerts and the pending resolutions; resolutions leave the queue
// only once accepted. It reports whether nothing is left to retry.
func (s *Sink) flush(ctx context.Context) bool {
	s.mu.Lock()
	alerts := make([]Alert, 0, len(s.open)+len(s.done))
	for _, a := range s.open {
		alerts = append(alerts, a)
	}
	nDone := len(s.done)
	alerts = append(alerts, s.done...)
	s.mu.Unlock()
	if len(alerts) == 0 {
		return true
	}
	if err := s.post(ctx, alerts); err != nil {
		s.mu.Lock()
		s.failures++
		s.mu.Unlock()
		s.cfg.Logger.Warn("alertmanager post failed; retrying with back-off", "url", redact.URL(s.cfg.URL), "alerts", len(alerts), "err", err)
		return false
	}
	s.mu.Lock()
	s.done = s.done[nDone:]
	s.sent += int64(len(alerts))
	s.mu.Unlock()
	return true
}

func (s *Sink) post(ctx context.Context, alerts []Alert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.endpoint(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request to %s: %w", redact.URL(s.cfg.URL), redact.Error(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return redact.Error(err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errors.New(resp.Status + ": " + strings.TrimSpace(string(msg)))
	}
	return nil
}

// endpoint is the API v2 alerts URL under the configured base URL, whose query (if
// any) is kept.
func (s *Sink) endpoint() string {
	u, err := url.Parse(s.cfg.URL)
	if err != nil {
		return strings.TrimSuffix(s.cfg.URL, "/") + "/api/v2/alerts"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/alerts"
	u.RawPath = ""
	return u.String()
}

// Counts returns the alerts posted and the failed posts.
func (s *Sink) Counts() (sent, failures int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent, s.failures
}

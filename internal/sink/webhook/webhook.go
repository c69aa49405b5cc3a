// Package webhook posts events as JSON to an HTTP endpoint. Every batch is first written
// to a spool folder (one file per batch, fsynced, renamed into place), then delivered in
// order by a background loop that retries with exponential back-off while the target is
// down; a batch leaves the spool only when the target answered 2xx. So a target that is
// down for an hour, or a daemon restarted meanwhile, loses nothing: the spool is delivered
// after the restart. A target that refuses a batch for good (4xx other than 408 and 429)
// gets it moved to spool/rejected/, logged, never dropped silently.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/redact"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

// Config is one webhook.
type Config struct {
	URL      string
	SpoolDir string
	// MinLevel keeps events of this level or above (critical, major, minor, warning,
	// info, debug); empty sends the significant events only (event.Significant).
	MinLevel string
	Timeout  time.Duration // per request (default 10s)
	// Backoff paces the retries: the sinks' shared policy, from 1s to 1m by default.
	Backoff sink.Backoff
	Client  *http.Client
	Logger  *slog.Logger
}

// Stats counts deliveries.
type Stats struct {
	Spooled, Delivered, Retries, Rejected, Pending int64
}

// Sink spools and delivers.
type Sink struct {
	cfg    Config
	seq    atomic.Int64
	wake   chan struct{}
	mu     sync.Mutex // serialises spool writes
	closed chan struct{}

	spooled, delivered, retries, rejected atomic.Int64
}

// New opens (creating) the spool folder; Run delivers.
func New(cfg Config) (*Sink, error) {
	if cfg.URL == "" || cfg.SpoolDir == "" {
		return nil, errors.New("webhook: URL and spool folder are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = time.Second
	}
	if cfg.Backoff.Max <= 0 {
		cfg.Backoff.Max = time.Minute
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(cfg.SpoolDir, "rejected"), 0o700); err != nil {
		return nil, fmt.Errorf("webhook %s: spool: %w", redact.URL(cfg.URL), err)
	}
	s := &Sink{cfg: cfg, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	files, err := s.pending()
	if err != nil {
		return nil, err
	}
	if n := len(files); n > 0 {
		last, _ := strconv.ParseInt(strings.TrimSuffix(files[n-1], ".json"), 10, 64)
		s.seq.Store(last)
		s.wake <- struct{}{}
	}
	return s, nil
}

// Name implements component.Sink.
func (s *Sink) Name() string { return "webhook " + redact.URL(s.cfg.URL) }

// Write spools the batch's events that pass the level filter and are not repeats
// (state.Decision.Emit); delivery happens in Run.
func (s *Sink) Write(_ context.Context, batch []component.Item) error {
	var body bytes.Buffer
	body.WriteString(`{"events":[`)
	n := 0
	for _, it := range batch {
		ev := it.Record.Event
		if !it.Decision.Emit() || (!s.wanted(ev.Level, ev.Significant()) && !s.closesWanted(it.Decision)) {
			continue
		}
		if n > 0 {
			body.WriteByte(',')
		}
		body.Write(ev.AppendJSON(nil))
		n++
	}
	if n == 0 {
		return nil
	}
	body.WriteString("]}\n")
	if err := s.spool(body.Bytes()); err != nil {
		return err
	}
	s.spooled.Add(int64(n))
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// closesWanted reports whether d closes an alarm this webhook reports: the clear of an
// alarm it was told of passes whatever the clearing event's own level.
func (s *Sink) closesWanted(d state.Decision) bool {
	if d.Change == state.Cleared && d.Alarm != nil && s.wanted(d.Alarm.Level, true) {
		return true
	}
	for _, as := range [][]state.Alarm{d.AlsoCleared, d.Matured} {
		for _, a := range as {
			if s.wanted(a.Level, true) {
				return true
			}
		}
	}
	return false
}

// OpenAlarms implements component.AlarmAware: when the sink starts, the alarms open then
// (of its levels) are spooled as one document, {"events":[],"open_alarms":[...]}, before
// any later batch, so that a target learns of an alarm opened before the sink ran.
func (s *Sink) OpenAlarms(_ context.Context, open []state.Alarm) {
	var keep []state.Alarm
	for _, a := range open {
		if s.wanted(a.Level, true) {
			keep = append(keep, a)
		}
	}
	if len(keep) == 0 {
		return
	}
	doc, err := json.Marshal(struct {
		Events     []json.RawMessage `json:"events"`
		OpenAlarms []state.Alarm     `json:"open_alarms"`
	}{Events: []json.RawMessage{}, OpenAlarms: keep})
	if err == nil {
		err = s.spool(append(doc, '\n'))
	}
	if err != nil {
		s.cfg.Logger.Error("webhook: the open alarms could not be spooled", "url", redact.URL(s.cfg.URL), "alarms", len(keep), "err", err)
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sink) wanted(level string, significant bool) bool {
	if s.cfg.MinLevel == "" {
		return significant
	}
	return event.LevelRank(level) >= event.LevelRank(s.cfg.MinLevel)
}

// spool writes one batch file durably: temp file, fsync, rename.
func (s *Sink) spool(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := fmt.Sprintf("%020d.json", s.seq.Add(1))
	tmp := filepath.Join(s.cfg.SpoolDir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("webhook spool: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.cfg.SpoolDir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("webhook spool: %w", err)
	}
	return nil
}

// pending lists the spooled batch files in order.
func (s *Sink) pending() ([]string, error) {
	ents, err := os.ReadDir(s.cfg.SpoolDir)
	if err != nil {
		return nil, fmt.Errorf("webhook spool: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// Run delivers the spool in order until ctx ends.
func (s *Sink) Run(ctx context.Context) error {
	attempt := 0
	for {
		files, err := s.pending()
		if err != nil {
			return err
		}
		for len(files) > 0 {
			ok, err := s.deliver(ctx, files[0])
			if ctx.Err() != nil {
				return nil
			}
			if !ok {
				s.retries.Add(1)
				wait := s.cfg.Backoff.Wait(attempt)
				attempt++
				s.cfg.Logger.Warn("webhook delivery failed; retrying", "url", redact.URL(s.cfg.URL), "batch", files[0], "retry_in", wait, "err", err)
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
				continue
			}
			attempt = 0
			files = files[1:]
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		}
	}
}

// deliver posts one batch file; ok means it left the spool (delivered or rejected).
func (s *Sink) deliver(ctx context.Context, name string) (bool, error) {
	path := filepath.Join(s.cfg.SpoolDir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	// A stop lets the post in flight finish (within Timeout): cut short, the target may
	// have taken the batch while the file stays in the spool, and the batch would be
	// posted twice (by the next start, or by the sink a reload puts in this one's place).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.cfg.URL, bytes.NewReader(data))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hsmwatch")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return false, fmt.Errorf("post: %w", redact.Error(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	var batch struct{ Events []json.RawMessage }
	_ = json.Unmarshal(data, &batch) // our own file; only for the counters
	n := int64(len(batch.Events))
	switch {
	case resp.StatusCode/100 == 2:
		s.delivered.Add(n)
		return true, os.Remove(path)
	case resp.StatusCode/100 == 4 && resp.StatusCode != 408 && resp.StatusCode != 429:
		s.rejected.Add(n)
		s.cfg.Logger.Error("webhook target rejected a batch; kept in the spool's rejected folder", "url", redact.URL(s.cfg.URL), "status", resp.StatusCode, "batch", name)
		return true, os.Rename(path, filepath.Join(s.cfg.SpoolDir, "rejected", name))
	}
	return false, fmt.Errorf("status %s", resp.Status)
}

// Stats returns the counters; Pending counts the batch files waiting.
func (s *Sink) Stats() Stats {
	files, _ := s.pending()
	return Stats{Spooled: s.spooled.Load(), Delivered: s.delivered.Load(), Retries: s.retries.Load(),
		Rejected: s.rejected.Load(), Pending: int64(len(files))}
}

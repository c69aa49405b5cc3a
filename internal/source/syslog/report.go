package syslog

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// SourceSelf is the event source of what hsmwatch reports about itself: here the
// summary of messages dropped by the rate limit.
const SourceSelf = event.SourceSelf

// reportTop is how many senders a summary names.
const reportTop = 5

// reportLimits emits, every LimitReport, one event saying how many messages the rate
// limit dropped and from whom, when it dropped any. It runs while the limit is off too:
// a Reconfigure may turn it on, and drops counted before it was turned off are still
// reported. A Reconfigure wakes it, so that a shorter interval applies at once rather
// than after the old one.
func (s *Server) reportLimits(ctx context.Context, emit component.Emit, fail func(error)) {
	every := s.config().LimitReport
	tick := time.NewTicker(every)
	defer tick.Stop()
	host, _ := os.Hostname()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.reconf:
			if cfg := s.config(); cfg.LimitReport != every {
				every = cfg.LimitReport
				tick.Reset(every)
			}
			continue
		case <-tick.C:
		}
		senders := s.limit.report()
		if len(senders) == 0 {
			continue
		}
		if err := s.send(ctx, emit, s.limitEvent(host, s.config(), senders)); err != nil {
			if ctx.Err() == nil {
				fail(err)
			}
			return
		}
		s.count.limitReports.Add(1)
	}
}

// limitEvent is the summary of one interval's drops, described with the settings cfg.
func (s *Server) limitEvent(host string, cfg *Config, origins []limitedOrigin) *event.Event {
	var total uint64
	for _, l := range origins {
		total += l.Limited
	}
	var b strings.Builder
	fmt.Fprintf(&b, "syslog rate limit: %d messages dropped from %d origin", total, len(origins))
	if len(origins) > 1 {
		b.WriteByte('s')
	}
	if cfg.Rate >= 0 {
		fmt.Fprintf(&b, " in the last %s (over %g/s, burst %d):", cfg.LimitReport, cfg.Rate, cfg.Burst)
	} else { // drops counted before a Reconfigure turned the limit off
		fmt.Fprintf(&b, " in the last %s (the limit is off now):", cfg.LimitReport)
	}
	for i, l := range origins {
		if i == reportTop {
			fmt.Fprintf(&b, " and %d more", len(origins)-reportTop)
			break
		}
		name := "others beyond the origin table"
		if l.Origin != "" {
			name = l.Origin
		}
		fmt.Fprintf(&b, " %s %d", name, l.Limited)
		if i < len(origins)-1 && i < reportTop-1 {
			b.WriteByte(',')
		}
	}
	ev := &event.Event{Time: time.Now(), Host: host, Source: SourceSelf, Process: "hsmwatch",
		Severity: "warning", Level: "warning", Message: b.String(), Input: s.name}
	ev.Raw = ev.Message
	ev.Fields.SetInt("limited", int64(total))
	ev.Fields.SetInt("limited_origins", int64(len(origins)))
	if o := origins[0].Origin; o != "" {
		ev.Fields.SetString("origin", o)
		ev.Fields.SetInt("origin_limited", int64(origins[0].Limited))
	}
	ev.Fields.SetFloat("interval_s", cfg.LimitReport.Seconds())
	return ev
}

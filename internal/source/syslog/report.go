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
func (s *Server) limitEvent(host string, cfg *Config, senders []limitedSender) *event.Event {
	var total uint64
	for _, l := range senders {
		total += l.Limited
	}
	var b strings.Builder
	fmt.Fprintf(&b, "syslog rate limit: %d messages dropped from %d sender", total, len(senders))
	if len(senders) > 1 {
		b.WriteByte('s')
	}
	if cfg.Rate >= 0 {
		fmt.Fprintf(&b, " in the last %s (over %g/s, burst %d):", cfg.LimitReport, cfg.Rate, cfg.Burst)
	} else { // drops counted before a Reconfigure turned the limit off
		fmt.Fprintf(&b, " in the last %s (the limit is off now):", cfg.LimitReport)
	}
	for i, l := range senders {
		if i == reportTop {
			fmt.Fprintf(&b, " and %d more", len(senders)-reportTop)
			break
		}
		name := "others beyond the sender table"
		if l.Addr.IsValid() {
			name = l.Addr.Unmap().String()
		}
		fmt.Fprintf(&b, " %s %d", name, l.Limited)
		if i < len(senders)-1 && i < reportTop-1 {
			b.WriteByte(',')
		}
	}
	ev := &event.Event{Time: time.Now(), Host: host, Source: SourceSelf, Process: "hsmwatch",
		Severity: "warning", Level: "warning", Message: b.String(), Input: s.name}
	ev.Raw = ev.Message
	ev.Fields.SetInt("limited", int64(total))
	ev.Fields.SetInt("limited_senders", int64(len(senders)))
	if a := senders[0].Addr; a.IsValid() {
		ev.Fields.SetString("peer", a.Unmap().String())
		ev.Fields.SetInt("peer_limited", int64(senders[0].Limited))
	}
	ev.Fields.SetFloat("interval_s", cfg.LimitReport.Seconds())
	return ev
}

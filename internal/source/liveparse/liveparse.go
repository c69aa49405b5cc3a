// Package liveparse parses the lines of inputs that are read while they are written
// (followed files, syslog listeners, named pipes). parse.New fixes the "now" used to
// infer a missing year when the parser is made, which is right for an exported file but
// wrong for a daemon that runs across New Year: this wrapper renews the parser's reference
// time as the clock moves on.
package liveparse

import (
	"fmt"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

// renewEvery is how stale the reference time may get. A year-less timestamp is placed
// within a day of the reference, so a minute is far inside what inference tolerates.
const renewEvery = time.Minute

// Parser is one goroutine's parser (parsers keep no shared state, but the renewal does).
type Parser struct {
	format string
	loc    *time.Location
	p      parse.Parser
	made   time.Time
	now    func() time.Time
}

// New checks format (one of parse.Formats(); "" means auto) and returns a parser whose
// timestamps without an offset are read in loc (nil: the local zone).
func New(format string, loc *time.Location) (*Parser, error) {
	if format == "" {
		format = parse.Auto
	}
	lp := &Parser{format: format, loc: loc, now: time.Now}
	if err := lp.renew(lp.now()); err != nil {
		return nil, err
	}
	return lp, nil
}

func (lp *Parser) renew(now time.Time) error {
	p, err := parse.New(lp.format, parse.Options{Location: lp.loc, Reference: now})
	if err != nil {
		return fmt.Errorf("format: %w", err)
	}
	lp.p, lp.made = p, now
	return nil
}

// Into parses line into ev as parse.Into does: a line no format understands becomes an
// unparsed event that keeps the raw text. It reports whether the line was parsed.
func (lp *Parser) Into(line string, ev *event.Event) bool {
	if now := lp.now(); now.Sub(lp.made) >= renewEvery || now.Before(lp.made) {
		_ = lp.renew(now) // the format was accepted by New: it cannot fail now
	}
	parse.Into(lp.p, line, ev)
	return ev.Source != event.SourceUnparsed
}

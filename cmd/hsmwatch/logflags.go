package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/spf13/pflag"
)

// logSettings are --log-level and --log-format. They are pflag values: a bad value is a
// flag error naming the flag (a usage error, an UNKNOWN for a check), and a good one takes
// effect in the logger a.log that every command already holds, with no hook to run.
type logSettings struct {
	level slog.LevelVar
	json  atomic.Bool
}

// newLogger returns the logger whose level and format follow s.
func (s *logSettings) newLogger(w io.Writer) *slog.Logger {
	o := &slog.HandlerOptions{Level: &s.level}
	return slog.New(formatHandler{json: &s.json, text: slog.NewTextHandler(w, o), js: slog.NewJSONHandler(w, o)})
}

func (s *logSettings) register(fs *pflag.FlagSet) {
	fs.Var(levelFlag{&s.level}, "log-level", "log level: debug, info, warn or error")
	fs.Var(formatFlag{&s.json}, "log-format", "log format on standard error: text (key=value) or json (one object a line)")
}

type levelFlag struct{ v *slog.LevelVar }

func (f levelFlag) String() string {
	if f.v == nil {
		return "info"
	}
	return strings.ToLower(f.v.Level().String())
}
func (f levelFlag) Type() string { return "level" }
func (f levelFlag) Set(s string) error {
	switch strings.ToLower(s) {
	case "debug":
		f.v.Set(slog.LevelDebug)
	case "info":
		f.v.Set(slog.LevelInfo)
	case "warn", "warning":
		f.v.Set(slog.LevelWarn)
	case "error":
		f.v.Set(slog.LevelError)
	default:
		return fmt.Errorf("give debug, info, warn or error")
	}
	return nil
}

type formatFlag struct{ json *atomic.Bool }

func (f formatFlag) String() string {
	if f.json != nil && f.json.Load() {
		return "json"
	}
	return "text"
}
func (f formatFlag) Type() string { return "format" }
func (f formatFlag) Set(s string) error {
	switch s {
	case "text":
		f.json.Store(false)
	case "json":
		f.json.Store(true)
	default:
		return fmt.Errorf("give text or json")
	}
	return nil
}

// formatHandler writes each record with the text or the JSON handler, whichever
// --log-format chose; both share the level.
type formatHandler struct {
	json     *atomic.Bool
	text, js slog.Handler
}

func (h formatHandler) pick() slog.Handler {
	if h.json.Load() {
		return h.js
	}
	return h.text
}
func (h formatHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.pick().Enabled(ctx, l)
}
func (h formatHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.pick().Handle(ctx, r)
}
func (h formatHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return formatHandler{json: h.json, text: h.text.WithAttrs(as), js: h.js.WithAttrs(as)}
}
func (h formatHandler) WithGroup(name string) slog.Handler {
	return formatHandler{json: h.json, text: h.text.WithGroup(name), js: h.js.WithGroup(name)}
}

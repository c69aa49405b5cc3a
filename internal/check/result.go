package check

import (
	"github.com/hsmwatch/hsmwatch/internal/termsafe"

	"fmt"
	"io"
	"strings"
)

// Result is what a check found.
type Result struct {
	Status Status
	// Summary is the text of the first line, after "STATUS: ".
	Summary string
	Perf    []Perfdata
	// Long holds the lines written after the first one (Nagios' long output).
	Long []string
}

// Unknownf returns an UNKNOWN result; the message should say what to do about it.
func Unknownf(format string, args ...any) Result {
	return Result{Status: Unknown, Summary: fmt.Sprintf(format, args...)}
}

// Line returns the first line: "STATUS: summary", then " | " and the perfdata when there is
// any. A '|' in the summary would start the perfdata early, so it is written as '/'; line
// breaks become spaces.
func (r Result) Line() string {
	st := r.Status
	if st < OK || st > Unknown {
		st = Unknown
	}
	var b strings.Builder
	b.WriteString(st.String())
	b.WriteString(": ")
	b.WriteString(clean(r.Summary, true))
	sep := " | "
	for _, p := range r.Perf {
		if p.Validate() != nil {
			continue
		}
		b.WriteString(sep)
		b.WriteString(p.String())
		sep = " "
	}
	return b.String()
}

// Write prints the plugin output (the first line, then the long text) and returns the exit
// code: the status, or UNKNOWN for a status out of range.
func (r Result) Write(w io.Writer) int {
	var b strings.Builder
	b.WriteString(r.Line())
	b.WriteByte('\n')
	for _, p := range r.Perf {
		if err := p.Validate(); err != nil {
			fmt.Fprintf(&b, "perfdata left out: %s\n", clean(err.Error(), true))
		}
	}
	for _, l := range r.Long {
		b.WriteString(clean(l, false))
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(w, b.String())
	if r.Status < OK || r.Status > Unknown {
		return int(Unknown)
	}
	return int(r.Status)
}

// clean makes s safe for a monitoring system and a terminal: '|' as '/', line breaks
// as spaces when oneLine, and every other control character (ESC, CR, C1) escaped.
func clean(s string, oneLine bool) string {
	s = strings.ReplaceAll(s, "|", "/")
	if oneLine {
		s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	}
	return termsafe.Text(s)
}

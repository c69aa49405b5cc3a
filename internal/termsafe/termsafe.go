// Package termsafe escapes what a terminal would act on in text that came from outside
// (a log line, a host name, a trap varbind): C0 controls (ESC starts colour and cursor
// sequences, CR rewrites the line), DEL, C1 controls (U+0080 to U+009F; CSI is one) and
// bytes that are not UTF-8. They are written as Go escapes (\x1b, \r, \u009b), so what
// was there stays visible and nothing is run.
package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// String escapes every control character of s, tab and newline included: for one field
// of a line whose separators the caller writes itself.
func String(s string) string { return escape(s, false) }

// Text is String keeping newlines and tabs: for free text of several lines.
func Text(s string) string { return escape(s, true) }

func escape(s string, keepLayout bool) string {
	if safe(s, keepLayout) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLayout && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func safe(s string, keepLayout bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && !(keepLayout && (c == '\n' || c == '\t')) || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			return !strings.ContainsFunc(s[i:], func(r rune) bool { return r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) }) && utf8.ValidString(s[i:]) && safeASCII(s[i:], keepLayout)
		}
	}
	return true
}

// safeASCII checks the ASCII controls of s (after the first non-ASCII byte).
func safeASCII(s string, keepLayout bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && !(keepLayout && (c == '\n' || c == '\t')) || c == 0x7f {
			return false
		}
	}
	return true
}

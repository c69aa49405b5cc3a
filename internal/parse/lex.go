package parse

import "time"

// Small allocation-free scanners shared by the parsers. Each takes the line and a
// position and returns the value and the position after it; ok is false when the text
// there is not what was asked for.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isLetter(c byte) bool { c |= 0x20; return c >= 'a' && c <= 'z' }

// skipSpaces returns the position of the first byte at or after i that is not a space
// or tab. Luna appliances pad fields with runs of spaces; snmptrapd squeezes them.
func skipSpaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// token returns the run of bytes at i up to the next space or tab.
func token(s string, i int) (string, int) {
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], j
}

// digits reads between min and max decimal digits at i.
func digits(s string, i, min, max int) (int, int, bool) {
	n, j := 0, i
	for j < len(s) && j-i < max && isDigit(s[j]) {
		n = n*10 + int(s[j]-'0')
		j++
	}
	if j-i < min {
		return 0, i, false
	}
	return n, j, true
}

// hexValue reads exactly n hexadecimal digits at i.
func hexValue(s string, i, n int) (uint64, int, bool) {
	if i+n > len(s) {
		return 0, i, false
	}
	var v uint64
	for j := i; j < i+n; j++ {
		c := s[j]
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, i, false
		}
		v = v<<4 | uint64(d)
	}
	return v, i + n, true
}

// monthAt reads a three-letter English month name (any case) at i.
func monthAt(s string, i int) (time.Month, int, bool) {
	if i+3 > len(s) {
		return 0, i, false
	}
	a, b, c := s[i]|0x20, s[i+1]|0x20, s[i+2]|0x20
	var m time.Month
	switch {
	case a == 'j' && b == 'a' && c == 'n':
		m = time.January
	case a == 'f' && b == 'e' && c == 'b':
		m = time.February
	case a == 'm' && b == 'a' && c == 'r':
		m = time.March
	case a == 'a' && b == 'p' && c == 'r':
		m = time.April
	case a == 'm' && b == 'a' && c == 'y':
		m = time.May
	case a == 'j' && b == 'u' && c == 'n':
		m = time.June
	case a == 'j' && b == 'u' && c == 'l':
		m = time.July
	case a == 'a' && b == 'u' && c == 'g':
		m = time.August
	case a == 's' && b == 'e' && c == 'p':
		m = time.September
	case a == 'o' && b == 'c' && c == 't':
		m = time.October
	case a == 'n' && b == 'o' && c == 'v':
		m = time.November
	case a == 'd' && b == 'e' && c == 'c':
		m = time.December
	default:
		return 0, i, false
	}
	return m, i + 3, true
}

// clockAt reads HH:MM:SS with an optional fraction (.123456) at i.
func clockAt(s string, i int) (h, m, sec, nsec, next int, ok bool) {
	if h, i, ok = digits(s, i, 1, 2); !ok || h > 23 || i >= len(s) || s[i] != ':' {
		return 0, 0, 0, 0, i, false
	}
	if m, i, ok = digits(s, i+1, 2, 2); !ok || m > 59 || i >= len(s) || s[i] != ':' {
		return 0, 0, 0, 0, i, false
	}
	if sec, i, ok = digits(s, i+1, 2, 2); !ok || sec > 60 {
		return 0, 0, 0, 0, i, false
	}
	if sec == 60 {
		sec = 59 // a leap second; time.Date would roll it into the next minute
	}
	if i < len(s) && s[i] == '.' {
		nsec, i = fraction(s, i+1)
	}
	return h, m, sec, nsec, i, true
}

// fraction reads the digits of a decimal fraction of a second as nanoseconds.
func fraction(s string, i int) (int, int) {
	n, scale := 0, 1000000000
	for i < len(s) && isDigit(s[i]) {
		if scale > 1 {
			scale /= 10
			n += int(s[i]-'0') * scale
		}
		i++
	}
	return n, i
}

// rfc3339At reads an RFC 3339 timestamp (2026-11-22T05:31:30.123+01:00 or ...Z) at i.
func rfc3339At(s string, i int, loc *time.Location) (time.Time, int, bool) {
	year, j, ok := digits(s, i, 4, 4)
	if !ok || j >= len(s) || s[j] != '-' {
		return time.Time{}, i, false
	}
	mon, j, ok := digits(s, j+1, 2, 2)
	if !ok || j >= len(s) || s[j] != '-' {
		return time.Time{}, i, false
	}
	day, j, ok := digits(s, j+1, 2, 2)
	if !ok || j >= len(s) || (s[j] != 'T' && s[j] != 't' && s[j] != ' ') || !validDate(year, time.Month(mon), day) {
		return time.Time{}, i, false
	}
	h, m, sec, nsec, j, ok := clockAt(s, j+1)
	if !ok {
		return time.Time{}, i, false
	}
	if j+1 < len(s) && s[j] == ',' && isDigit(s[j+1]) {
		nsec, j = fraction(s, j+1) // "12:00:00,123": log4j and Python logging
	}
	zone := loc
	switch {
	case j < len(s) && (s[j] == 'Z' || s[j] == 'z'):
		zone = time.UTC
		j++
	case j < len(s) && (s[j] == '+' || s[j] == '-'):
		off, k, ok := zoneOffsetAt(s, j)
		if !ok {
			return time.Time{}, i, false
		}
		zone, j = fixedZone(off), k
	}
	return time.Date(year, time.Month(mon), day, h, m, sec, nsec, zone), j, true
}

// zoneOffsetAt reads a zone offset "+01:00" or "+0100" (journalctl -o short-iso, date
// +%z) at i and returns it in seconds. Anything else after the sign is not an offset.
func zoneOffsetAt(s string, i int) (int, int, bool) {
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return 0, i, false
	}
	oh, j, ok := digits(s, i+1, 2, 2)
	if !ok || oh > 23 {
		return 0, i, false
	}
	if j < len(s) && s[j] == ':' {
		j++
	}
	om, j, ok := digits(s, j, 2, 2)
	if !ok || om > 59 || (j < len(s) && isDigit(s[j])) {
		return 0, i, false
	}
	off := (oh*60 + om) * 60
	if s[i] == '-' {
		off = -off
	}
	return off, j, true
}

// quarterZones holds the zones of the offsets in quarter hours from -14:00 to +14:00
// (every offset in use), made once so that reading an offset allocates nothing.
var quarterZones = func() (z [113]*time.Location) {
	for q := range z {
		off := (q - 56) * 15 * 60
		if off == 0 {
			z[q] = time.UTC
			continue
		}
		z[q] = time.FixedZone("", off)
	}
	return z
}()

// fixedZone returns a zone for an offset; UTC itself for 0 so that times compare and
// print as UTC ("Z").
func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if off%(15*60) == 0 && off >= -14*3600 && off <= 14*3600 {
		return quarterZones[off/(15*60)+56]
	}
	return time.FixedZone("", off)
}

package parse

import (
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// The BSD-style header shared by Luna appliance log files and RFC 3164:
//
//	[<PRI>]TIMESTAMP HOST [FACILITY] [SEVERITY] PROCESS[ ][[PID]]: MESSAGE
//
// TIMESTAMP is year first (Luna: "2012 Feb 29 12:05:01"), month first ("Feb 29 12:05:01",
// "Feb 29 2012 12:05:01") or RFC 3339 (rsyslog's high-precision file format). Any run
// of spaces separates fields: Luna pads days ("Apr  3"), snmptrapd squeezes them.

type headerMode uint8

const (
	allowPRI      headerMode = 1 << iota // <PRI> may lead the line
	allowYearLead                        // "2012 Feb 29 ..."
	allowMonth                           // "Feb 29 ..."
	allowRFC3339                         // "2012-02-29T12:05:01Z"
)

// headerInfo tells the caller which variant the line used.
type headerInfo struct {
	pri      bool
	yearLead bool
	keywords bool // a facility or severity keyword followed the host
}

func parseHeader(line string, ev *event.Event, o Options, format string, mode headerMode) (headerInfo, error) {
	var info headerInfo
	i := 0
	if mode&allowPRI != 0 && len(line) > 0 && line[0] == '<' {
		f, s, j, ok := priAt(line, 0)
		if !ok {
			return info, fail(format, "invalid <PRI> at the start of the line")
		}
		ev.Facility, ev.Severity, info.pri, i = f, s, true, j
	}
	t, i, err := timestampAt(line, i, o, format, mode, &info)
	if err != nil {
		return info, err
	}
	ev.Time = t
	i = skipSpaces(line, i)
	z := i
	i = zoneTokenAt(line, i, ev, o)
	zoned := i > z
	host, j := token(line, i)
	if host == "" {
		return info, fail(format, "no host after the timestamp")
	}
	facility, severity := facilitySeverity(host)
	switch {
	case facility != "":
		// "Dec 21 06:54:23 daemon.crit apcupsd[10]: ...": logread's header has no host.
		ev.Facility, ev.Severity, i = facility, severity, skipSpaces(line, j)
	case levelWord(host) != "":
		// "Mar 01 12:00:00 ERROR ...": the sender wrote a level where the host stands.
		ev.Severity, i = levelWord(host), skipSpaces(line, j)
	case host == "," || !hasAlnum(host):
		// "2016-09-28 04:30:31, Info  CBS  ...": a comma after the time (Windows' CBS
		// log) separates it from the level, as ";" or "|" do in other logs; no host
		i = skipSpaces(line, j)
	case strings.IndexByte(host, ',') >= 0:
		// "2024-03-01 12:00:00.1 UTC,"app","db",42,...": CSV columns (PostgreSQL's
		// csvlog), no host and no process: the record is the message
		ev.Message = line[i:]
		decodeMessage(ev)
		return info, nil
	case notHost(host):
		// A tag ("[hsm]") or a process ("sshd[42]:") right after the time: no host.
	case proseWord(host) && !tagAt(line, skipSpaces(line, j)):
		// "Feb 19 18:25:07 failed to initialize device ...": a line with no host whose
		// message starts with a word no host is named; a tag behind it would make it one.
	case zoned && spacedOff(line, i) && !tagAt(line, skipSpaces(line, j)):
		// "2018-02-12 20:51:49 +0100  Power failure.": after a zone offset, a wider gap
		// than the header's one space and no tag behind the word, the word is the
		// message's (apcupsd's event file), not a host. (Luna's headers space their
		// fields widely too, but have no offset.)
	default:
		ev.Host, i = host, skipSpaces(line, j)
		i = keywordsAt(line, i, ev, &info)
	}
	if sev, j := levelTag(line, i); sev != "" {
		// "2013-03-28 12:49:30 GMT PANIC: WAL contains ...": the sender's level where a
		// process would stand, not a process
		ev.Severity, i = sev, j
	} else if w, _ := token(line, i); !strings.HasSuffix(w, ":") || !errorCode(w[:len(w)-1]) {
		i = processAt(line, i, ev) // not "ORA-07445: ...": an error's code stays in the message
	}
	ev.Message = line[i:]
	decodeMessage(ev)
	return info, nil
}

// levelTag reads a level word in capitals and a colon at i ("PANIC: ", "ERROR: "): its
// severity and where the message starts after it, or "".
func levelTag(line string, i int) (string, int) {
	w, j := token(line, i)
	if len(w) < 4 || w[len(w)-1] != ':' || w[0] < 'A' || w[0] > 'Z' {
		return "", i
	}
	w = w[:len(w)-1]
	if sev := levelWord(w); sev != "" && strings.ToUpper(w) == w {
		return sev, skipSpaces(line, j)
	}
	return "", i
}

func timestampAt(line string, i int, o Options, format string, mode headerMode, info *headerInfo) (time.Time, int, error) {
	if i >= len(line) {
		return time.Time{}, i, fail(format, "no timestamp")
	}
	c := line[i]
	switch {
	case isDigit(c) && i+4 < len(line) && line[i+4] == '-' && mode&allowRFC3339 != 0:
		t, j, ok := rfc3339At(line, i, o.Location)
		if !ok {
			return t, i, fail(format, "invalid RFC 3339 timestamp")
		}
		return t, j, nil
	case isDigit(c) && mode&allowYearLead != 0:
		year, j, ok := digits(line, i, 4, 4)
		if !ok || j >= len(line) || !isSpace(line[j]) {
			return time.Time{}, i, fail(format, "timestamp does not start with a four-digit year")
		}
		m, j, ok := monthAt(line, skipSpaces(line, j))
		if !ok {
			return time.Time{}, i, fail(format, "no month name after the year")
		}
		info.yearLead = true
		return dayClock(line, j, year, m, o, format)
	case mode&allowMonth != 0:
		m, j, ok := monthAt(line, i)
		if !ok {
			return time.Time{}, i, fail(format, "timestamp does not start with a month name")
		}
		return dayClock(line, j, 0, m, o, format)
	}
	return time.Time{}, i, fail(format, "no timestamp of this format at the start of the line")
}

// dayClock reads " DD [YYYY ]HH:MM:SS" after the month. year 0 means "infer it".
func dayClock(line string, i, year int, m time.Month, o Options, format string) (time.Time, int, error) {
	if i >= len(line) || !isSpace(line[i]) {
		return time.Time{}, i, fail(format, "no space after the month")
	}
	day, j, ok := digits(line, skipSpaces(line, i), 1, 2)
	if !ok || j >= len(line) || !isSpace(line[j]) {
		return time.Time{}, i, fail(format, "no day of the month")
	}
	j = skipSpaces(line, j)
	if year == 0 {
		// "Feb 29 2012 12:05:01": some forwarders put the year after the day.
		if y, k, ok := digits(line, j, 4, 4); ok && k < len(line) && isSpace(line[k]) {
			year, j = y, skipSpaces(line, k)
		}
	}
	h, mi, s, ns, j, ok := clockAt(line, j)
	if !ok || (j < len(line) && !isSpace(line[j])) {
		return time.Time{}, i, fail(format, "no HH:MM:SS time after the date")
	}
	checkYear := year
	if checkYear == 0 {
		checkYear = 2000 // a leap year: Feb 29 is valid until the year is inferred
	}
	if !validDate(checkYear, m, day) {
		return time.Time{}, i, fail(format, "no such date: "+m.String()[:3]+" "+strconv.Itoa(day))
	}
	if year == 0 {
		return dateWithoutYear(m, day, h, mi, s, ns, o.Reference, o.Location), j, nil
	}
	return time.Date(year, m, day, h, mi, s, ns, o.Location), j, nil
}

// zoneTokenAt reads a zone offset or name written as a word of its own after the time ("Mar
// 01 12:00:00 +0100 host ...", PostgreSQL's "2024-03-01 12:00:00.123 UTC [812] LOG:  ..."):
// a time written without an offset is then read in that zone (UTC and GMT; the other names
// are ambiguous, IST or CST, and leave the configured zone). The word is never the host.
// It returns i unchanged when no offset stands there.
func zoneTokenAt(line string, i int, ev *event.Event, o Options) int {
	off, j, ok := zoneOffsetAt(line, i)
	if !ok {
		off, j, ok = zoneNameAt(line, i)
	}
	if !ok || (j < len(line) && !isSpace(line[j])) {
		return i
	}
	if off == noOffset {
		return skipSpaces(line, j)
	}
	if t := ev.Time; t.Location() == o.Location {
		ev.Time = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), fixedZone(off))
	}
	return skipSpaces(line, j)
}

// proseWord reports whether word starts a sentence rather than names a host: the words a
// program's message begins with when it says what went wrong.
func proseWord(word string) bool {
	switch word {
	case "failed", "Failed", "FAILED", "unable", "Unable", "cannot", "Cannot", "could",
		"Could", "can't", "Can't", "not", "Not", "no", "No", "the", "The", "a", "A", "an", "An",
		"failure", "Failure", "lost", "Lost", "invalid", "Invalid":
		return true
	}
	return false
}

// spacedOff reports whether two or more spaces stand before i.
func spacedOff(line string, i int) bool {
	return i >= 2 && line[i-1] == ' ' && line[i-2] == ' '
}

// tagAt reports whether a process tag ("sshd:", "sshd[42]:") starts at i.
func tagAt(line string, i int) bool {
	var scratch event.Event
	return processAt(line, i, &scratch) > i
}

// notHost reports whether the word after the time cannot be a host name: a bracketed
// tag ("[hsm]", "[ntls]") or a process with its colon ("sshd[42]:", "kernel:").
func notHost(word string) bool {
	last := word[len(word)-1]
	return (word[0] == '[' && last == ']') || last == ':'
}

// keywordsAt consumes the facility and severity keywords of a Luna header. Luna writes
// them in several ways ("local4 notice", "authpriv authpriv info", "authpriv info
// authpriv info", none at all); the first facility and the first severity win.
func keywordsAt(line string, i int, ev *event.Event, info *headerInfo) int {
	seenFacility, seenSeverity := false, false
	for n := 0; n < 4; n++ {
		word, j := token(line, i)
		if j >= len(line) { // the last word is message text, never a keyword
			break
		}
		if f, s := facilitySeverity(word); f != "" {
			if !seenFacility {
				ev.Facility, seenFacility = f, true
			}
			if !seenSeverity {
				ev.Severity, seenSeverity = s, true
			}
			// not Luna's separate keywords: the line stays RFC 3164 (info.keywords unset)
			i = skipSpaces(line, j)
			continue
		} else if f := facilityKeyword(word); f != "" {
			if !seenFacility {
				ev.Facility, seenFacility = f, true
			}
		} else if s := severityKeyword(word); s != "" {
			if !seenSeverity {
				ev.Severity, seenSeverity = s, true
			}
		} else {
			break
		}
		info.keywords = true
		i = skipSpaces(line, j)
	}
	return i
}

// processAt reads "process:", "process[pid]:", "process [pid]:", "-process:" and
// multi-word names made of capitalised words ("Luna PED Client:"). When none of these
// is there the line has no process and the message starts at i.
func processAt(line string, i int, ev *event.Event) int {
	j := i
	for j < len(line) && line[j] != ':' && line[j] != '[' && !isSpace(line[j]) {
		j++
	}
	if j == i || j >= len(line) {
		return i
	}
	end := j // end of the name
	if isSpace(line[j]) {
		k := skipSpaces(line, j)
		if k < len(line) && line[k] == '[' {
			j = k // "NTLS [1234]:"
		} else if e, ok := capitalisedWords(line, i); ok {
			end, j = e, e
		} else {
			return i
		}
	}
	if line[j] == '[' {
		pid, k, ok := digits(line, j+1, 1, 10)
		if !ok || k >= len(line) || line[k] != ']' {
			return i
		}
		if k+1 >= len(line) || line[k+1] != ':' {
			return i
		}
		ev.PID, j = pid, k+1
	}
	name := line[i:end]
	if len(name) > 1 && name[0] == '-' {
		name = name[1:] // "-lunash": a login shell's argv[0]
	}
	if k := strings.IndexByte(name, '('); k > 0 && name[len(name)-1] == ')' && k < len(name)-2 {
		// "crond(pam_unix)[42]:": the program and, in brackets, the module that spoke. The
		// process keeps the name as written (the guide and the catalog's rules name
		// "crond(pam_unix)"); the parts go to fields.program and fields.subsystem.
		ev.Fields.SetString("program", name[:k])
		ev.Fields.SetString("subsystem", name[k+1:len(name)-1])
	}
	ev.Process = name
	j++ // the colon
	if j < len(line) && line[j] == ' ' {
		j++
	}
	return j
}

// capitalisedWords accepts up to four capitalised words ending at ':' or '[' and returns
// the end of the name.
func capitalisedWords(line string, i int) (int, bool) {
	words := 0
	for j := i; j < len(line) && j-i < 40; {
		c := line[j]
		if c < 'A' || c > 'Z' {
			return 0, false
		}
		for j < len(line) && line[j] != ' ' && line[j] != ':' && line[j] != '[' {
			j++
		}
		words++
		if j >= len(line) || words > 4 {
			return 0, false
		}
		if line[j] == ':' || line[j] == '[' {
			return j, words > 1
		}
		if j+1 < len(line) && line[j+1] == '[' {
			return j, words > 1
		}
		j++
	}
	return 0, false
}

// noOffset is zoneNameAt's offset for a zone name that does not say one unambiguously.
const noOffset = -1 << 30

// zoneNameAt reads a time zone's abbreviation at i (the common ones: "UTC", "CEST", "PDT"):
// its offset in seconds for UTC, GMT and Z, else noOffset.
func zoneNameAt(line string, i int) (int, int, bool) {
	w, j := token(line, i)
	switch w {
	case "UTC", "GMT", "Z":
		return 0, j, true
	case "CET", "CEST", "EET", "EEST", "WET", "WEST", "BST", "IST", "MSK", "EST", "EDT", "CST",
		"CDT", "MST", "MDT", "PST", "PDT", "AKST", "AKDT", "HST", "JST", "KST", "AEST", "AEDT",
		"ACST", "AWST", "NZST", "NZDT", "SGT", "HKT", "BRT", "ART":
		return noOffset, j, true
	}
	return 0, i, false
}

// hasAlnum reports whether s holds a letter or a digit: a word without one is a separator,
// never a host.
func hasAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if isLetter(s[i]) || isDigit(s[i]) {
			return true
		}
	}
	return false
}

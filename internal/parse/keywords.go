package parse

import "strings"

// Syslog facility and severity keywords: the guide's tables 1 and 2 and the names that
// rsyslog and RFC 5424 use. Severities are normalised to the RFC 5424 keywords
// (panic -> emerg, critical -> crit, error -> err, warn -> warning) so that one filter
// catches a warning whatever the appliance wrote; raw keeps the original.

// facilityKeyword returns the canonical facility for word, or "".
func facilityKeyword(word string) string {
	switch word {
	case "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
		"authpriv", "ftp", "ntp", "security", "console", "mark",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7":
		return word
	}
	return ""
}

// severityKeyword returns the normalised severity for word, or "".
func severityKeyword(word string) string {
	switch word {
	case "emerg", "panic":
		return "emerg"
	case "alert":
		return "alert"
	case "crit", "critical":
		return "crit"
	case "err", "error":
		return "err"
	case "warn", "warning":
		return "warning"
	case "notice":
		return "notice"
	case "info":
		return "info"
	case "debug":
		return "debug"
	}
	return ""
}

// facilitySeverity splits the "facility.severity" word that syslog daemons write when
// told to ("daemon.crit": syslog-ng's $FACILITY.$LEVEL, BusyBox and OpenWrt's logread,
// rsyslog's %syslogfacility-text%.%syslogseverity-text%), or returns "", "".
func facilitySeverity(word string) (facility, severity string) {
	k := strings.IndexByte(word, '.')
	if k <= 0 {
		return "", ""
	}
	f, s := facilityKeyword(word[:k]), severityKeyword(word[k+1:])
	if f == "" || s == "" {
		return "", ""
	}
	return f, s
}

// facilityName returns the keyword of an RFC 5424 facility number.
func facilityName(n int) string {
	switch n {
	case 0:
		return "kern"
	case 1:
		return "user"
	case 2:
		return "mail"
	case 3:
		return "daemon"
	case 4:
		return "auth"
	case 5:
		return "syslog"
	case 6:
		return "lpr"
	case 7:
		return "news"
	case 8:
		return "uucp"
	case 9:
		return "cron"
	case 10:
		return "authpriv"
	case 11:
		return "ftp"
	case 12:
		return "ntp"
	case 13:
		return "security"
	case 14:
		return "console"
	case 15:
		return "clock"
	case 16:
		return "local0"
	case 17:
		return "local1"
	case 18:
		return "local2"
	case 19:
		return "local3"
	case 20:
		return "local4"
	case 21:
		return "local5"
	case 22:
		return "local6"
	case 23:
		return "local7"
	}
	return ""
}

// severityName returns the keyword of an RFC 5424 severity number.
func severityName(n int) string {
	switch n {
	case 0:
		return "emerg"
	case 1:
		return "alert"
	case 2:
		return "crit"
	case 3:
		return "err"
	case 4:
		return "warning"
	case 5:
		return "notice"
	case 6:
		return "info"
	case 7:
		return "debug"
	}
	return ""
}

// priAt reads a <PRI> (0..191) at i and returns facility and severity names.
func priAt(s string, i int) (facility, severity string, next int, ok bool) {
	if i >= len(s) || s[i] != '<' {
		return "", "", i, false
	}
	n, j, ok := digits(s, i+1, 1, 3)
	if !ok || j >= len(s) || s[j] != '>' || n > 191 {
		return "", "", i, false
	}
	return facilityName(n / 8), severityName(n % 8), j + 1, true
}

// levelWord returns the normalised severity of a level word as applications write it
// (log4j, logback, java.util.logging, Python logging, Go loggers), in any case: FATAL and
// CRITICAL read crit, ERROR and SEVERE err, WARN and WARNING warning, INFO info, DEBUG,
// TRACE and FINE (FINER, FINEST) debug, OpenSSH's debug1 to debug3 debug, plus the syslog
// keywords. Anything else is "".
func levelWord(word string) string {
	if len(word) < 3 || len(word) > 13 {
		return ""
	}
	switch word[0] | 0x20 { // the first letters of the words below: most hosts stop here
	case 'a', 'c', 'd', 'e', 'f', 'i', 'n', 'p', 's', 't', 'w':
	default:
		return ""
	}
	var b [13]byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if (c < 'a' || c > 'z') && !(i == len(word)-1 && c >= '1' && c <= '3') {
			return "" // letters, but OpenSSH's debug1 to debug3
		}
		b[i] = c
	}
	switch string(b[:len(word)]) {
	case "emerg", "emergency", "panic":
		return "emerg"
	case "alert":
		return "alert"
	case "crit", "critical", "fatal":
		return "crit"
	case "err", "error", "severe":
		return "err"
	case "warn", "warning":
		return "warning"
	case "notice":
		return "notice"
	case "info", "informational", "information":
		return "info"
	case "debug", "trace", "fine", "finer", "finest", "debug1", "debug2", "debug3":
		return "debug"
	}
	return ""
}

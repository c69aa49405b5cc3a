package parse

import (
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// decodeLunalog reads a lunalog description (the guide's chapter 1, "lunalog"):
//
//	info : 0 : Command: hsm show : admin : 192.168.0.111/2719
//	error : 0xc0000002 : Fail to get response buffer: 192.168.0.100/40847 : RC_GENERAL_ERROR
//	debug : 0xc0000002 Unexpected read response in <state string>
//
// into fields.log_severity (the subsidiary severity), fields.error_code and
// fields.description; for NTLS and lunash also the client's address and application id
// (fields.client_ip, fields.app_id) and for lunash the command and account. Lines without
// the structure stay valid events with the message alone.
func decodeLunalog(ev *event.Event) bool {
	m := ev.Message
	sevWord, i := token(m, 0)
	sev := lunalogSeverity(sevWord)
	if sev == "" {
		return false
	}
	i = skipSpaces(m, i)
	if i >= len(m) || m[i] != ':' {
		return false
	}
	code, j := token(m, skipSpaces(m, i+1))
	if !isErrorCode(code) {
		return false
	}
	j = skipSpaces(m, j)
	if j < len(m) && m[j] == ':' {
		j = skipSpaces(m, j+1)
	}
	desc := m[j:]
	ev.Fields.SetString("log_severity", sev)
	ev.Fields.SetString("error_code", code)
	ev.Fields.SetString("description", desc)
	switch {
	case strings.EqualFold(ev.Process, "ntls"):
		clientAddress(ev, desc)
	case strings.EqualFold(ev.Process, "lunash"):
		lunashCommand(ev, desc)
	}
	return true
}

// lunalogSeverity returns the guide's table 4 keyword for word, or "".
func lunalogSeverity(word string) string {
	switch word {
	case "critical", "error", "warning", "audit", "info", "debug":
		return word
	case "warn":
		return "warning"
	}
	return ""
}

// isErrorCode accepts the Luna error codes "0" and "0x" followed by hexadecimal digits.
func isErrorCode(s string) bool {
	if s == "0" {
		return true
	}
	if len(s) < 3 || len(s) > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// clientAddress finds the last "<IPv4>/<application id>" that follows a colon and sets
// client_ip and app_id. NTLS puts it at the end, but also before a trailing RC_ code.
func clientAddress(ev *event.Event, desc string) (start int, ok bool) {
	for end := len(desc); end > 0; {
		slash := strings.LastIndexByte(desc[:end], '/')
		if slash < 0 {
			return 0, false
		}
		ipStart := slash
		for ipStart > 0 && (isDigit(desc[ipStart-1]) || desc[ipStart-1] == '.') {
			ipStart--
		}
		app, _, okApp := digits(desc, slash+1, 1, 10)
		if okApp && isIPv4(desc[ipStart:slash]) && precededByColon(desc, ipStart) {
			ev.Fields.SetString("client_ip", desc[ipStart:slash])
			ev.Fields.SetInt("app_id", int64(app))
			return ipStart, true
		}
		end = slash
	}
	return 0, false
}

func precededByColon(s string, i int) bool {
	for i > 0 && isSpace(s[i-1]) {
		i--
	}
	return i > 0 && s[i-1] == ':'
}

// isIPv4 accepts dotted quads.
func isIPv4(s string) bool {
	parts := 0
	for i := 0; i <= len(s); {
		n, j, ok := digits(s, i, 1, 3)
		if !ok || n > 255 {
			return false
		}
		parts++
		if j == len(s) {
			return parts == 4
		}
		if s[j] != '.' {
			return false
		}
		i = j + 1
	}
	return false
}

// lunashCommand reads "<command> : <account> : <ip>/<app>".
func lunashCommand(ev *event.Event, desc string) {
	ipStart, ok := clientAddress(ev, desc)
	if !ok {
		return
	}
	head := strings.TrimRight(desc[:ipStart], " :")
	sep := strings.LastIndex(head, " : ")
	if sep < 0 {
		return
	}
	command := strings.TrimSpace(head[:sep])
	command = strings.TrimPrefix(command, "Command: ")
	ev.Fields.SetString("command", command)
	ev.Fields.SetString("account", strings.TrimSpace(head[sep+3:]))
}

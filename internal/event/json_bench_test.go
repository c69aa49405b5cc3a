package event

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkAppendJSON encodes events shaped like the mixed corpus' (syslog noise,
// classified; the message a slice of the raw line): the JSON stage's cost per event.
func BenchmarkAppendJSON(b *testing.B) {
	raws := []string{
		"Nov 22 00:00:00 web00 sshd[1000]: Accepted publickey for deploy from 10.0.0.1 port 1000 ssh2: ED25519 SHA256:abcdef",
		"Nov 22 00:00:00 web31 systemd[1]: Started Session 1101 of User deploy.",
		"Nov 22 00:00:00 web22 CRON[1034]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
		"2026-11-22T00:00:00.039595+00:00 web35 postfix/smtpd[1085]: connect from unknown[10.5.0.66]",
		"Nov 22 00:00:00 web17 rsyslogd: [origin software=\"rsyslogd\"] rsyslogd was HUPed",
	}
	evs := make([]Event, len(raws))
	for i, raw := range raws {
		at := strings.Index(raw, "]: ")
		if at < 0 {
			at = strings.Index(raw, "d: ")
		}
		evs[i] = Event{Time: time.Date(2026, 11, 22, 0, 0, 0, i*39595000, time.UTC), Host: "web00", Source: SourceRFC3164,
			Process: "systemd", PID: 1000 + i, Message: raw[at+3:], Class: "unclassified", Rule: "floor.severity.none",
			Title: "Unclassified message", Level: "info", Input: "-:1234" + strings.Repeat("5", i), Raw: raw}
	}
	evs[0].Fields.SetString("user", "deploy")
	evs[0].Fields.SetString("src_ip", "10.0.0.1")
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = evs[i%len(evs)].AppendJSON(buf[:0])
	}
}

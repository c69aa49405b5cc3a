package parse

import "github.com/hsmwatch/hsmwatch/internal/event"

// rfc3164 reads BSD syslog as rsyslog writes it to files ("Nov 22 05:31:30 host sshd[42]:
// ..." or with an RFC 3339 timestamp) and forwards it ("<165>Feb 29 12:05:01 myLuna NTLS
// [1234]: ..."). A missing year is inferred from the reference time.
//
// It is our own parser rather than go-syslog's rfc3164 machine: that machine rejects the
// "NTLS [1234]:" tag with a space, the Luna keyword headers and the padded days Luna writes,
// and its year handling cannot read December lines in January.
type rfc3164 struct{ o Options }

func newRFC3164(o Options) *rfc3164 { return &rfc3164{o: o} }

func (p *rfc3164) Format() string { return event.SourceRFC3164 }

func (p *rfc3164) Parse(line string, ev *event.Event) error {
	if _, err := parseHeader(line, ev, p.o, event.SourceRFC3164, allowPRI|allowMonth|allowRFC3339); err != nil {
		return err
	}
	ev.Source = event.SourceRFC3164
	return nil
}

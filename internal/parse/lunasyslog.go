package parse

import "github.com/hsmwatch/hsmwatch/internal/event"

// lunaSyslog reads Luna appliance log files (the guide's chapter 1):
//
//	2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Power Supply sensor - ...
//	2012 Feb 29 12:05:01 myLuna local5 info NTLS [1234]: info : 0 : ...
//	Apr 13 14:17:15 172 -lunash: Command: ...        (older form: no year, no keywords)
type lunaSyslog struct{ o Options }

func newLunaSyslog(o Options) *lunaSyslog { return &lunaSyslog{o: o} }

func (p *lunaSyslog) Format() string { return event.SourceLunaSyslog }

func (p *lunaSyslog) Parse(line string, ev *event.Event) error {
	if _, err := parseHeader(line, ev, p.o, event.SourceLunaSyslog, allowYearLead|allowMonth); err != nil {
		return err
	}
	ev.Source = event.SourceLunaSyslog
	return nil
}

package parse

// Temporary stubs, replaced by dinamo.go, lunaalarm.go and rfc5424.go.

import "github.com/hsmwatch/hsmwatch/internal/event"

type stub struct{ name string }

func (p *stub) Format() string { return p.name }
func (p *stub) Parse(line string, ev *event.Event) error {
	return fail(p.name, "not implemented")
}

func newDinamo(o Options) *stub        { return &stub{event.SourceDinamoLog} }
func newLunaAlarm(o Options) *stub     { return &stub{event.SourceLunaAlarm} }
func newRFC5424(o Options) *stub       { return &stub{event.SourceRFC5424} }
func decodeAlarm(ev *event.Event) bool { return false }

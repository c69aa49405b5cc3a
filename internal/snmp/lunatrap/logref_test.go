package lunatrap

import (
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

func TestParseGuideShapes(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     Ref
	}{
		{"chapter 6 sub-system reference (date before file)",
			"[myLuna:192.168.0.101 / 2012 Feb 29 12:05:01 / messages / ipmievd[1234] / 1]",
			Ref{Host: "myLuna", IP: "192.168.0.101", File: "messages", Time: "2012 Feb 29 12:05:01", Process: "ipmievd", PID: 1234, Assert: event.True}},
		{"lsta trace log (file before date, no pid)",
			"[myLUT:192.168.0.58 / messages / 2012 Feb 29 12:05:00 / ipmievd / 1]",
			Ref{Host: "myLUT", IP: "192.168.0.58", File: "messages", Time: "2012 Feb 29 12:05:00", Process: "ipmievd", Assert: event.True}},
		{"trap log with squeezed spaces",
			"[myLUT:10.0.0.1 / messages / 2014 Apr 3 15:47:30 / ipmievd / 1]",
			Ref{Host: "myLUT", IP: "10.0.0.1", File: "messages", Time: "2014 Apr 3 15:47:30", Process: "ipmievd", Assert: event.True}},
		{"unsqueezed runs of spaces and a de-assert",
			"[ myLuna:10.0.0.1  /  messages /  2014 Apr  3 15:47:30 / NTLS[77]   / 0 ]",
			Ref{Host: "myLuna", IP: "10.0.0.1", File: "messages", Time: "2014 Apr 3 15:47:30", Process: "NTLS", PID: 77, Assert: event.False}},
		{"no IP, test marker",
			"***TEST : [myLuna / lunalogs / 2012 Feb 29 12:05:01 / kernel / 1]",
			Ref{Host: "myLuna", File: "lunalogs", Time: "2012 Feb 29 12:05:01", Process: "kernel", Assert: event.True, Test: true}},
		{"IPv6 address",
			"[myLuna:fe80::1 / messages / 2012 Feb 29 12:05:01 / smartd[5] / 1]",
			Ref{Host: "myLuna", IP: "fe80::1", File: "messages", Time: "2012 Feb 29 12:05:01", Process: "smartd", PID: 5, Assert: event.True}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Parse(c.in)
			if !ok || got != c.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", c.in, got, ok, c.want)
			}
		})
	}
}

func TestParseRejectsOtherShapes(t *testing.T) {
	for _, in := range []string{
		"", "[]", "no brackets / a / b / c / 1",
		"[myLuna:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 2]", // flag not 1|0
		"[myLuna:1.2.3.4 / messages / yesterday / ipmievd / 1]",            // no date
		"[myLuna:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / 1]",           // four elements
		"[:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]",       // no host
		"][myLuna:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1", // brackets reversed
	} {
		if r, ok := Parse(in); ok {
			t.Errorf("Parse(%q) accepted: %+v", in, r)
		}
	}
}

func TestFormatParseRoundTrip(t *testing.T) {
	for _, r := range []Ref{
		{Host: "myLuna", IP: "192.168.0.101", File: "messages", Time: "2012 Feb 29 12:05:01", Process: "ipmievd", PID: 1234, Assert: event.True},
		{Host: "hsm1", IP: "0.0.0.0", File: "lunalogs", Time: "2026 Nov 2 01:02:03", Process: "kernel", Assert: event.False, Test: true},
	} {
		s := Format(r)
		back, ok := Parse(s)
		if !ok || back != r {
			t.Errorf("%q came back as %+v, %v", s, back, ok)
		}
	}
	if got := Format(Ref{Host: "h", IP: "1.2.3.4", File: "messages", Time: "2012 Feb 29 12:05:01", Process: "NTLS", PID: 9, Assert: event.True}); got != "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / NTLS[9] / 1]" {
		t.Errorf("Format = %q", got)
	}
}

// FuzzParse: any text, no panic; whatever parses formats back to something that parses
// to the same reference.
func FuzzParse(f *testing.F) {
	f.Add("[myLuna:192.168.0.101 / 2012 Feb 29 12:05:01 / messages / ipmievd[1234] / 1]")
	f.Add("***TEST : [myLUT:192.168.0.58 / messages / 2012 Feb 29 12:05:00 / ipmievd / 0]")
	f.Add("[a:b / c / 2012 Feb 29 12:05:00 / d[99999999999999999999] / 1]")
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := Parse(s)
		if !ok {
			return
		}
		back, ok := Parse(Format(r))
		if !ok || back != r {
			t.Fatalf("%q parsed to %+v, which formats to %q and parses back to %+v, %v", s, r, Format(r), back, ok)
		}
	})
}

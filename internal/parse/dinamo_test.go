package parse

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// fieldsText renders fields in order as key=value, strings quoted, so that both the order
// and the kind of every field are compared.
func fieldsText(fs event.Fields) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		if f.Kind == event.KindString {
			b.WriteString(strconv.Quote(f.Str))
		} else {
			b.WriteString(f.String())
		}
	}
	return b.String()
}

func dinamoOptions() Options {
	return Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 5, 31, 0, 0, time.UTC)}
}

func parseDinamo(t *testing.T, line string) (event.Event, error) {
	t.Helper()
	var ev event.Event
	ev.Raw = line
	err := newDinamo(dinamoOptions()).Parse(line, &ev)
	return ev, err
}

// console returns the console form of a native line: the '|' becomes a space.
func console(line string) string { return strings.Replace(line, "|", " ", 1) }

type dinamoWant struct {
	time    time.Time
	host    string
	message string
	fields  string
}

func checkDinamo(t *testing.T, line string, want dinamoWant) {
	t.Helper()
	ev, err := parseDinamo(t, line)
	if err != nil {
		t.Errorf("%q: unexpected error %v", line, err)
		return
	}
	if ev.Source != event.SourceDinamoLog {
		t.Errorf("%q: source = %q, want %q", line, ev.Source, event.SourceDinamoLog)
	}
	if !ev.Time.Equal(want.time) || ev.Time.Location() != want.time.Location() {
		t.Errorf("%q: time = %v, want %v", line, ev.Time, want.time)
	}
	if ev.Host != want.host {
		t.Errorf("%q: host = %q, want %q", line, ev.Host, want.host)
	}
	if ev.Message != want.message {
		t.Errorf("%q: message = %q, want %q", line, ev.Message, want.message)
	}
	if got := fieldsText(ev.Fields); got != want.fields {
		t.Errorf("%q: fields\n got  %s\n want %s", line, got, want.fields)
	}
	if ev.Raw != line {
		t.Errorf("%q: raw changed to %q", line, ev.Raw)
	}
}

func TestDinamoFormat(t *testing.T) {
	p, err := New(event.SourceDinamoLog, dinamoOptions())
	if err != nil {
		t.Fatalf("New(%q): %v", event.SourceDinamoLog, err)
	}
	if _, ok := p.(*dinamo); !ok {
		t.Errorf("New(%q) returned %T, want *dinamo", event.SourceDinamoLog, p)
	}
	if got := p.Format(); got != event.SourceDinamoLog {
		t.Errorf("Format() = %q, want %q", got, event.SourceDinamoLog)
	}
}

func TestDinamoLines(t *testing.T) {
	at := func(h, m, s int) time.Time { return time.Date(2022, 1, 11, h, m, s, 0, time.UTC) }
	const session = `client_ip="172.17.0.1" hsm_address="172.17.0.2:4433"`
	tests := []struct {
		name string
		line string
		want dinamoWant
	}{
		{"log truncated",
			"2022/01/11 22:28:56 0000004C 0000017C A575C340 log truncated|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 28, 56), "172.17.0.2", "log truncated",
				`thread="0000004C" counter=380 cid="A575C340" ` + session + ` user="master"`}},
		{"master truncated log",
			"2022/01/11 22:28:56 0000004C 0000017D A575C340 master truncated log|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 28, 56), "172.17.0.2", "master truncated log",
				`thread="0000004C" counter=381 cid="A575C340" ` + session + ` user="master"`}},
		{"no trailer",
			"2022/01/11 22:31:54 00000052 00000198 000A3309 session thread up [2]",
			dinamoWant{at(22, 31, 54), "", "session thread up [2]",
				`thread="00000052" counter=408 cid="000A3309"`}},
		{"auth try, user -",
			"2022/01/11 22:31:54 00000052 00000199 EE4E6C03 172.17.0.1 auth try, c: 21, tls: y, 2|172.17.0.1 172.17.0.2:4433 -",
			dinamoWant{at(22, 31, 54), "172.17.0.2", "172.17.0.1 auth try, c: 21, tls: y, 2",
				`thread="00000052" counter=409 cid="EE4E6C03" ` + session + ` socket=21 tls=true`}},
		{"auth init",
			"2022/01/11 22:31:54 00000052 0000019A EE4E6C03 master auth init, c: 21|172.17.0.1 172.17.0.2:4433 -",
			dinamoWant{at(22, 31, 54), "172.17.0.2", "master auth init, c: 21",
				`thread="00000052" counter=410 cid="EE4E6C03" ` + session + ` socket=21`}},
		{"new key",
			"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 17), "172.17.0.2", "new key prodkey, t: 6, a: 0, c: 21",
				`thread="00000052" counter=418 cid="EE4E6C03" ` + session +
					` user="master" key_type=6 key_type_name="ALG_RSA_2048" attributes=0 socket=21`}},
		{"rsa with base64",
			"2022/01/11 22:32:32 00000052 000001A6 EE4E6C03 rsa prodkey!9FcLP5AfWsa/Xp+AXsMMpN7V8FSYfOpHk1+7hbW4OKM=, c: 21|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 32), "172.17.0.2", "rsa prodkey!9FcLP5AfWsa/Xp+AXsMMpN7V8FSYfOpHk1+7hbW4OKM=, c: 21",
				`thread="00000052" counter=422 cid="EE4E6C03" ` + session + ` user="master" socket=21`}},
		{"t:6 without spaces",
			"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t:6, a:0, c:21|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 17), "172.17.0.2", "new key prodkey, t:6, a:0, c:21",
				`thread="00000052" counter=418 cid="EE4E6C03" ` + session +
					` user="master" key_type=6 key_type_name="ALG_RSA_2048" attributes=0 socket=21`}},
		{"attributes out of order are emitted in fixed order",
			"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 x, tls:n, c:3, t:30|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 17), "172.17.0.2", "x, tls:n, c:3, t:30",
				`thread="00000052" counter=418 cid="EE4E6C03" ` + session +
					` user="master" key_type=30 key_type_name="ALG_ECC_SECP256R1" socket=3 tls=false`}},
		{"code 26 has two names: the first listed",
			"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 t: 26|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 17), "172.17.0.2", "t: 26",
				`thread="00000052" counter=418 cid="EE4E6C03" ` + session +
					` user="master" key_type=26 key_type_name="ALG_ECC_SECP192R1"`}},
		{"unknown algorithm code",
			"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key k, t: 17|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 17), "172.17.0.2", "new key k, t: 17",
				`thread="00000052" counter=418 cid="EE4E6C03" ` + session + ` user="master" key_type=17`}},
		{"not attributes: inside words, non-numeric, trailing garbage",
			"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 host:5, at: 3, c: x, t: 6x, tls: yes, a: -1|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 17), "172.17.0.2", "host:5, at: 3, c: x, t: 6x, tls: yes, a: -1",
				`thread="00000052" counter=418 cid="EE4E6C03" ` + session + ` user="master"`}},
		{"first occurrence of a key wins",
			"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 c: 1, c: 2|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 32, 17), "172.17.0.2", "c: 1, c: 2",
				`thread="00000052" counter=418 cid="EE4E6C03" ` + session + ` user="master" socket=1`}},
		{"runs of spaces between header fields and tabs",
			"2022/01/11  22:28:56 \t0000004C   0000017C  A575C340   log truncated|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 28, 56), "172.17.0.2", "log truncated",
				`thread="0000004C" counter=380 cid="A575C340" ` + session + ` user="master"`}},
		{"lower-case hex kept as written",
			"2022/01/11 22:28:56 0000004c ffffffff a575c340 log truncated|172.17.0.1 172.17.0.2:4433 master",
			dinamoWant{at(22, 28, 56), "172.17.0.2", "log truncated",
				`thread="0000004c" counter=4294967295 cid="a575c340" ` + session + ` user="master"`}},
		{"IPv6 client and bracketed IPv6 HSM address",
			"2022/01/11 22:28:56 0000004C 0000017C A575C340 log truncated|fe80::1 [fe80::2]:4433 master",
			dinamoWant{at(22, 28, 56), "fe80::2", "log truncated",
				`thread="0000004C" counter=380 cid="A575C340" client_ip="fe80::1" hsm_address="[fe80::2]:4433" user="master"`}},
		{"IPv6 in console form",
			"2022/01/11 22:28:56 0000004C 0000017C A575C340 log truncated ::ffff:10.0.0.1 10.0.0.2:4433 -",
			dinamoWant{at(22, 28, 56), "10.0.0.2", "log truncated",
				`thread="0000004C" counter=380 cid="A575C340" client_ip="::ffff:10.0.0.1" hsm_address="10.0.0.2:4433"`}},
		{"native trailer of another shape stays in the text",
			"2022/01/11 22:28:56 0000004C 0000017C A575C340 odd|hsm01 hsm01:4433 master",
			dinamoWant{at(22, 28, 56), "", "odd|hsm01 hsm01:4433 master",
				`thread="0000004C" counter=380 cid="A575C340"`}},
		{"console line ending in words is all text",
			"2022/01/11 22:31:54 00000052 0000019A EE4E6C03 master auth init, c: 21 now",
			dinamoWant{at(22, 31, 54), "", "master auth init, c: 21 now",
				`thread="00000052" counter=410 cid="EE4E6C03" socket=21`}},
		{"console port out of range is not a trailer",
			"2022/01/11 22:31:54 00000052 0000019A EE4E6C03 x 172.17.0.1 172.17.0.2:70000 -",
			dinamoWant{at(22, 31, 54), "", "x 172.17.0.1 172.17.0.2:70000 -",
				`thread="00000052" counter=410 cid="EE4E6C03"`}},
		{"trailer alone, empty text",
			"2022/01/11 22:31:54 00000052 0000019A EE4E6C03 |172.17.0.1 172.17.0.2:4433 -",
			dinamoWant{at(22, 31, 54), "172.17.0.2", "",
				`thread="00000052" counter=410 cid="EE4E6C03" ` + session}},
		{"'|' right after the cid as the spec's format summary writes it",
			"2022/01/11 22:31:54 00000052 00000198 000A3309|session thread up [2]",
			dinamoWant{at(22, 31, 54), "", "session thread up [2]",
				`thread="00000052" counter=408 cid="000A3309"`}},
		{"trailing spaces are dropped",
			"2022/01/11 22:31:54 00000052 00000198 000A3309 session thread up [2]   ",
			dinamoWant{at(22, 31, 54), "", "session thread up [2]",
				`thread="00000052" counter=408 cid="000A3309"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkDinamo(t, tc.line, tc.want)
		})
	}
}

// TestDinamoConsoleForm checks that the console form (the '|' replaced by a space) gives
// the same event as the native form.
func TestDinamoConsoleForm(t *testing.T) {
	lines := []string{
		"2022/01/11 22:28:56 0000004C 0000017C A575C340 log truncated|172.17.0.1 172.17.0.2:4433 master",
		"2022/01/11 22:28:56 0000004C 0000017D A575C340 master truncated log|172.17.0.1 172.17.0.2:4433 master",
		"2022/01/11 22:31:54 00000052 00000199 EE4E6C03 172.17.0.1 auth try, c: 21, tls: y, 2|172.17.0.1 172.17.0.2:4433 -",
		"2022/01/11 22:31:54 00000052 0000019B EE4E6C03 master auth ok, 172.17.0.1, 2|172.17.0.1 172.17.0.2:4433 -",
		"2022/01/11 22:31:54 00000052 0000019C EE4E6C03 172.17.0.1#21 probe|172.17.0.1 172.17.0.2:4433 master",
		"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21|172.17.0.1 172.17.0.2:4433 master",
		"2022/01/11 22:32:17 00000052 000001A3 EE4E6C03 R_COOR trying to setup EEFC642F1A9A3A5F 04|172.17.0.1 172.17.0.2:4433 master",
		"2022/01/11 22:32:32 00000052 000001A6 EE4E6C03 rsa prodkey!9FcLP5AfWsa/Xp+AXsMMpN7V8FSYfOpHk1+7hbW4OKM=, c: 21|172.17.0.1 172.17.0.2:4433 master",
	}
	for _, native := range lines {
		want, err := parseDinamo(t, native)
		if err != nil {
			t.Errorf("%q: %v", native, err)
			continue
		}
		if want.Host == "" || want.Fields.Text("client_ip") == "" {
			t.Errorf("%q: native form has no trailer (host %q)", native, want.Host)
		}
		c := console(native)
		if c == native {
			t.Fatalf("%q has no '|'", native)
		}
		checkDinamo(t, c, dinamoWant{want.Time, want.Host, want.Message, fieldsText(want.Fields)})
	}
	// And one console line spelled out in full.
	checkDinamo(t, "2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21 172.17.0.1 172.17.0.2:4433 master",
		dinamoWant{time.Date(2022, 1, 11, 22, 32, 17, 0, time.UTC), "172.17.0.2", "new key prodkey, t: 6, a: 0, c: 21",
			`thread="00000052" counter=418 cid="EE4E6C03" client_ip="172.17.0.1" hsm_address="172.17.0.2:4433" user="master" key_type=6 key_type_name="ALG_RSA_2048" attributes=0 socket=21`})
}

// specAttr is an independent reading of the attributes, to check the parser against.
var specAttr = regexp.MustCompile(`(?:^|[ ,])(t|a|c|tls): ?([0-9]+|[yn])(?:$|[ ,])`)

// TestDinamoSpecExamples parses every example line of the spec, in native and console
// form, and checks each value against what the line itself says.
func TestDinamoSpecExamples(t *testing.T) {
	n := 0
	for _, line := range specLines(t, "spec/dinamo-event-log.txt", "2022/01/11") {
		n++
		want := specExpectation(t, line)
		checkDinamo(t, line, want)
		if strings.Contains(line, "|") {
			checkDinamo(t, console(line), want)
		}
	}
	if n < 17 {
		t.Errorf("found %d example lines in the spec, want at least 17", n)
	}
}

func specExpectation(t *testing.T, line string) dinamoWant {
	t.Helper()
	w := strings.Fields(line)
	if len(w) < 6 {
		t.Fatalf("spec line too short: %q", line)
	}
	tm, err := time.ParseInLocation("2006/01/02 15:04:05", w[0]+" "+w[1], time.UTC)
	if err != nil {
		t.Fatalf("spec line %q: %v", line, err)
	}
	counter, err := strconv.ParseUint(w[3], 16, 32)
	if err != nil {
		t.Fatalf("spec line %q: counter: %v", line, err)
	}
	want := dinamoWant{time: tm}
	fields := []string{
		"thread=" + strconv.Quote(w[2]),
		"counter=" + strconv.FormatUint(counter, 10),
		"cid=" + strconv.Quote(w[4]),
	}
	text := line[len(strings.Join(w[:5], " "))+1:]
	if msg, trailer, ok := strings.Cut(text, "|"); ok {
		tw := strings.Fields(trailer)
		if len(tw) != 3 {
			t.Fatalf("spec line %q: trailer %q is not three words", line, trailer)
		}
		want.message = msg
		want.host = tw[1][:strings.LastIndexByte(tw[1], ':')]
		fields = append(fields, "client_ip="+strconv.Quote(tw[0]), "hsm_address="+strconv.Quote(tw[1]))
		if tw[2] != "-" {
			fields = append(fields, "user="+strconv.Quote(tw[2]))
		}
	} else {
		want.message = text
	}
	attrs := map[string]string{}
	for _, m := range specAttr.FindAllStringSubmatch(want.message, -1) {
		attrs[m[1]] = m[2]
	}
	if v, ok := attrs["t"]; ok {
		fields = append(fields, "key_type="+v)
		if v == "6" {
			fields = append(fields, `key_type_name="ALG_RSA_2048"`)
		}
	}
	if v, ok := attrs["a"]; ok {
		fields = append(fields, "attributes="+v)
	}
	if v, ok := attrs["c"]; ok {
		fields = append(fields, "socket="+v)
	}
	if v, ok := attrs["tls"]; ok {
		fields = append(fields, "tls="+strconv.FormatBool(v == "y"))
	}
	want.fields = strings.Join(fields, " ")
	return want
}

func TestDinamoErrors(t *testing.T) {
	tests := []struct{ line, reason string }{
		{"", "no yyyy/mm/dd date at the start of the line"},
		{"2022-01-11 22:28:56 0000004C 0000017C A575C340 log truncated", "no yyyy/mm/dd date"},
		{"2022/1/11 22:28:56 0000004C 0000017C A575C340 log truncated", "no yyyy/mm/dd date"},
		{"2022/02/30 22:28:56 0000004C 0000017C A575C340 log truncated", "no such date: 2022/02/30"},
		{"2022/13/01 22:28:56 0000004C 0000017C A575C340 log truncated", "no such date: 2022/13/01"},
		{"2021/02/29 22:28:56 0000004C 0000017C A575C340 log truncated", "no such date: 2021/02/29"},
		{"2022/01/11", "line ends after the date"},
		{"2022/01/11 25:28:56 0000004C 0000017C A575C340 log truncated", "no HH:MM:SS time after the date"},
		{"2022/01/11 22:28 0000004C 0000017C A575C340 log truncated", "no HH:MM:SS time after the date"},
		{"2022/01/11 22:28:56x 0000004C 0000017C A575C340 log truncated", "no HH:MM:SS time after the date"},
		{"2022/01/11 22:28:56", "line ends before the thread"},
		{"2022/01/11 22:28:56 0000004G 0000017C A575C340 log truncated", `thread is not 8 hexadecimal digits: "0000004G"`},
		{"2022/01/11 22:28:56 4C 0000017C A575C340 log truncated", `thread is not 8 hexadecimal digits: "4C"`},
		{"2022/01/11 22:28:56 0000004C0 0000017C A575C340 log truncated", `thread is not 8 hexadecimal digits: "0000004C0"`},
		{"2022/01/11 22:28:56 0000004C", "line ends after the thread"},
		{"2022/01/11 22:28:56 0000004C|x", "no space after the thread"},
		{"2022/01/11 22:28:56 0000004C 0000017Z A575C340 log truncated", `counter is not 8 hexadecimal digits: "0000017Z"`},
		{"2022/01/11 22:28:56 0000004C 0000017C", "line ends after the counter"},
		{"2022/01/11 22:28:56 0000004C 0000017C ", "line ends before the cid"},
		{"2022/01/11 22:28:56 0000004C 0000017C A575C34 log truncated", `cid is not 8 hexadecimal digits: "A575C34"`},
		{"2022/01/11 22:28:56 0000004C 0000017C -575C340 log truncated", `cid is not 8 hexadecimal digits: "-575C340"`},
		{"2022/01/11 22:28:56 0000004C 0000017C A575C340", "no event text after the cid"},
		{"2022/01/11 22:28:56 0000004C 0000017C A575C340   ", "no event text after the cid"},
		{"2022/01/11 22:28:56 0000004C 0000017C A575C340|", "no event text after the cid"},
	}
	p := newDinamo(dinamoOptions())
	for _, tc := range tests {
		var ev event.Event
		err := p.Parse(tc.line, &ev)
		if err == nil {
			t.Errorf("%q: no error, want one containing %q", tc.line, tc.reason)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Format != event.SourceDinamoLog {
			t.Errorf("%q: error %v (%T) is not a *parse.Error of format %q", tc.line, err, err, event.SourceDinamoLog)
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%q: error %q does not contain %q", tc.line, err.Error(), tc.reason)
		}
		Into(p, tc.line, &ev)
		if ev.Source != event.SourceUnparsed || ev.Raw != tc.line || ev.Reason != err.Error() {
			t.Errorf("%q: Into gave source %q raw %q reason %q, want unparsed with the raw line and %q",
				tc.line, ev.Source, ev.Raw, ev.Reason, err.Error())
		}
	}
}

func TestDinamoLocation(t *testing.T) {
	loc := time.FixedZone("BRT", -3*3600)
	var ev event.Event
	line := "2022/01/11 22:31:54 00000052 00000198 000A3309 session thread up [2]"
	if err := newDinamo(Options{Location: loc}).Parse(line, &ev); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if want := time.Date(2022, 1, 12, 1, 31, 54, 0, time.UTC); !ev.Time.Equal(want) || ev.Time.Location() != loc {
		t.Errorf("time = %v, want %v in BRT", ev.Time, want)
	}
	// A parser made without New has no location: it must not panic and uses time.Local.
	ev = event.Event{}
	if err := newDinamo(Options{}).Parse(line, &ev); err != nil {
		t.Fatalf("zero Options: %v", err)
	}
	if ev.Time.Location() != time.Local || ev.Time.Hour() != 22 {
		t.Errorf("zero Options: time = %v, want 22:31:54 local", ev.Time)
	}
}

func TestDinamoIPv6(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"::", true}, {"::1", true}, {"fe80::1", true}, {"1::", true},
		{"1:2:3:4:5:6:7:8", true}, {"1:2:3:4:5:6:7::", true}, {"::ffff:10.0.0.1", true},
		{"2001:db8:0:0:0:0:2:1", true}, {"1:2:3:4:5:6:1.2.3.4", true},
		{"", false}, {":", false}, {":::", false}, {"1:2:3:4:5:6:7", false},
		{"1:2:3:4:5:6:7:8:9", false}, {"1::2::3", false}, {"12345::1", false},
		{"1:", false}, {":1", false}, {"g::1", false}, {"10.0.0.1", false},
		{"::ffff:10.0.0", false}, {"1:2:3:4:5:6:7:1.2.3.4", false}, {"1:2:3:4:5:6:7:8::", false},
	}
	for _, tc := range tests {
		if got := dinamoIPv6(tc.s); got != tc.want {
			t.Errorf("dinamoIPv6(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestDinamoAlgorithm(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{0, "INVALID_OBJ_TYPE"}, {2, "ALG_3DES_112"}, {6, "ALG_RSA_2048"}, {10, "ALG_ARC4"},
		{16, "ALG_OBJ_BLOB_HOTP"}, {17, ""}, {26, "ALG_ECC_SECP192R1"}, {30, "ALG_ECC_SECP256R1"},
		{33, "ALG_ECC_X9_62_PRIME192V2"}, {51, "ALG_ECC_BRAINPOOL_P512T1"}, {52, ""},
		{90, "ALG_MAP_2_OBJ"}, {96, "ALG_HMAC_SHA2_512"}, {121, "ALG_RSA_1152"},
		{129, "ALG_RSA_3072"}, {250, "ALG_CMAC_AES"}, {251, "ALG_CMAC_DES"}, {-1, ""}, {1000, ""},
	}
	for _, tc := range tests {
		if got := dinamoAlgorithm(tc.code); got != tc.want {
			t.Errorf("dinamoAlgorithm(%d) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

var dinamoBenchLines = []string{
	"2022/01/11 22:31:54 00000052 00000199 EE4E6C03 172.17.0.1 auth try, c: 21, tls: y, 2|172.17.0.1 172.17.0.2:4433 -",
	"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21|172.17.0.1 172.17.0.2:4433 master",
	"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21 172.17.0.1 172.17.0.2:4433 master",
	"2022/01/11 22:31:54 00000052 00000198 000A3309 session thread up [2]",
}

func TestDinamoNoAllocations(t *testing.T) {
	p := newDinamo(dinamoOptions())
	var ev event.Event
	for _, line := range dinamoBenchLines {
		Into(p, line, &ev) // grows ev.Fields once
		if ev.Source != event.SourceDinamoLog {
			t.Fatalf("%q: %s", line, ev.Reason)
		}
		if n := testing.AllocsPerRun(100, func() { Into(p, line, &ev) }); n != 0 {
			t.Errorf("%q: %v allocations per line, want 0", line, n)
		}
	}
}

func BenchmarkDinamo(b *testing.B) {
	p := newDinamo(dinamoOptions())
	var ev event.Event
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Into(p, dinamoBenchLines[i%len(dinamoBenchLines)], &ev)
	}
}

package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestJSONRoundTrip(t *testing.T) {
	ev := Event{
		Time: time.Date(2012, 2, 29, 12, 5, 1, 250000000, time.FixedZone("", -5*3600)),
		Host: "myLuna", Source: SourceLunaSyslog, Facility: "local4", Severity: "notice",
		Process: "ipmievd", PID: 1234, Message: "Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)",
		Component: "ipmi", Class: "significant", Rule: "ipmi.threshold", Title: "Threshold Events",
		Level: "critical", Notification: "fanAttentionNotify", Assert: True, Test: true,
		Input: "messages:12", Raw: "raw \"quoted\" \\ line\twith\x01control",
	}
	ev.Fields.SetString("sensor", "Fan3B")
	ev.Fields.SetFloat("reading", 0.5)
	ev.Fields.SetInt("counter", 409)
	ev.Fields.SetBool("tls", true)
	out := ev.AppendJSON(nil)
	if !json.Valid(out) {
		t.Fatalf("invalid JSON: %s", out)
	}
	want := `{"time":"2012-02-29T12:05:01.25-05:00","host":"myLuna","source":"luna-syslog","facility":"local4","severity":"notice","process":"ipmievd","pid":1234,` +
		`"message":"Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)","component":"ipmi","class":"significant","rule":"ipmi.threshold",` +
		`"title":"Threshold Events","level":"critical","notification":"fanAttentionNotify","assert":true,"test":true,` +
		`"fields":{"sensor":"Fan3B","reading":0.5,"counter":409,"tls":true},"input":"messages:12","raw":"raw \"quoted\" \\ line\twith\u0001control"}`
	if string(out) != want {
		t.Errorf("JSON\n got  %s\n want %s", out, want)
	}
	var back Event
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(ev.Time) || back.Host != ev.Host || back.PID != 1234 || back.Assert != True || !back.Test ||
		back.Raw != ev.Raw || back.Fields.Text("sensor") != "Fan3B" || back.Fields.Text("counter") != "409" ||
		back.Fields.Text("reading") != "0.5" || back.Fields.Text("tls") != "true" {
		t.Errorf("round trip lost something: %+v", back)
	}
}

func TestJSONOmitsEmpty(t *testing.T) {
	ev := Event{Source: SourceUnparsed, Reason: "auto: empty line", Assert: False}
	if got, want := string(ev.AppendJSON(nil)), `{"source":"unparsed","assert":false,"reason":"auto: empty line","raw":""}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFieldsSetReplaces(t *testing.T) {
	var fs Fields
	fs.SetString("a", "1")
	fs.SetInt("b", 2)
	fs.SetInt("a", 3)
	if len(fs) != 2 || fs.Text("a") != "3" || fs[0].Key != "a" {
		t.Errorf("fields: %+v", fs)
	}
	if _, ok := fs.Get("zzz"); ok || fs.Text("zzz") != "" {
		t.Error("absent field found")
	}
}

// FuzzQuote checks the hand-written string encoder against encoding/json: any input,
// valid UTF-8 or not, must give a JSON string that decodes to the input with invalid bytes
// replaced by U+FFFD.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\r\t\x00\x1f", "\xff\xfe", "é€😀", "\u2028\u2029", "<>&"} {
		f.Add(s)
	}
	f.Add("0123456789abcdef0123456789abcdef\"x")
	f.Add("0123456789abcdef01234567\x7f\x80")
	f.Fuzz(func(t *testing.T, s string) {
		if n, want := plainLen(s), plainPrefix(s); n != want {
			t.Fatalf("%q: plain prefix of %d bytes, byte by byte %d", s, n, want)
		}
		out := appendQuoted(nil, s)
		if ref := referenceQuoted(nil, s); string(out) != string(ref) {
			t.Fatalf("%q encoded as %s, the reference encoder writes %s", s, out, ref)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q encoded as %s: %v", s, out, err)
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want && !invalidRunsDiffer(s, back) {
			t.Fatalf("%q came back as %q, want %q", s, back, want)
		}
	})
}

// plainPrefix is plainLen's definition, one byte at a time: the bytes a JSON string holds
// as they are, printable ASCII (DEL included) but the quote and the backslash.
func plainPrefix(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return i
		}
	}
	return len(s)
}

// invalidRunsDiffer accepts the one legitimate difference with strings.ToValidUTF8: it
// folds a run of invalid bytes into one U+FFFD, while the encoder (like encoding/json)
// writes one per byte.
func invalidRunsDiffer(s, back string) bool {
	return strings.ReplaceAll(back, "\ufffd", "") == strings.ReplaceAll(strings.ToValidUTF8(s, "\ufffd"), "\ufffd", "")
}

func TestJSONCleared(t *testing.T) {
	ev := Event{Host: "luna1", Level: "major", Assert: False, Cleared: "luna1/Fan1A", Raw: "x"}
	out := ev.AppendJSON(nil)
	if want := `{"host":"luna1","level":"major","assert":false,"cleared":"luna1/Fan1A","raw":"x"}`; string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
	var back Event
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Cleared != "luna1/Fan1A" || back.Assert != False {
		t.Errorf("round trip: %+v", back)
	}
}

// FuzzAppendTime checks the RFC 3339 writer against time.Time.AppendFormat with
// RFC3339Nano, for any instant and any zone offset (seconds included, which RFC 3339
// cannot show), in and beyond the years of four digits.
func FuzzAppendTime(f *testing.F) {
	f.Add(int64(0), int64(0), 0)
	f.Add(int64(1795305600), int64(39595000), 0)
	f.Add(int64(-62135596800), int64(1), -3600)
	f.Add(int64(253402300799), int64(999999999), 19800)
	f.Add(int64(-62135596801), int64(100), 30)
	f.Add(int64(951825901), int64(120000000), -12*3600-59)
	f.Fuzz(func(t *testing.T, sec, nsec int64, offset int) {
		offset %= 30 * 3600
		zones := []*time.Location{time.UTC, time.FixedZone("x", offset)}
		for _, loc := range zones {
			at := time.Unix(sec, nsec%1e9).In(loc)
			got := appendTime([]byte("x"), at)
			want := at.AppendFormat([]byte("x"), time.RFC3339Nano)
			if string(got) != string(want) {
				t.Fatalf("%d.%09d at offset %d: %s, AppendFormat writes %s", sec, nsec%1e9, offset, got, want)
			}
		}
	})
}

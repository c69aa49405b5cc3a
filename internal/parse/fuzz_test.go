package parse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// One fuzz target per parser. Each checks what must hold for any input: no panic, the raw
// line always kept (less a trailing CR), a reason on every unparsed event, and output that
// is valid JSON. Seeds are the golden inputs. The test command runs each for a bounded time.

func FuzzAuto(f *testing.F)       { fuzzParser(f, Auto) }
func FuzzLunaSyslog(f *testing.F) { fuzzParser(f, event.SourceLunaSyslog) }
func FuzzRFC3164(f *testing.F)    { fuzzParser(f, event.SourceRFC3164) }
func FuzzRFC5424(f *testing.F)    { fuzzParser(f, event.SourceRFC5424) }
func FuzzLunaAlarm(f *testing.F)  { fuzzParser(f, event.SourceLunaAlarm) }
func FuzzDinamoLog(f *testing.F)  { fuzzParser(f, event.SourceDinamoLog) }
func FuzzLunaAudit(f *testing.F)  { fuzzParser(f, event.SourceLunaAudit) }
func FuzzAppLog(f *testing.F)     { fuzzParser(f, event.SourceAppLog) }
func FuzzLogfmt(f *testing.F)     { fuzzParser(f, event.SourceLogfmt) }
func FuzzSyslogBody(f *testing.F) { fuzzParser(f, event.SourceSyslogBody) }
func FuzzJava(f *testing.F)       { fuzzParser(f, event.SourceJava) }
func FuzzDmesg(f *testing.F)      { fuzzParser(f, event.SourceKernel) }
func FuzzJSONLog(f *testing.F)    { fuzzParser(f, event.SourceJSON) }
func FuzzGoLog(f *testing.F)      { fuzzParser(f, event.SourceGoLog) }
func FuzzLogrus(f *testing.F)     { fuzzParser(f, event.SourceLogrus) }
func FuzzIPMISEL(f *testing.F)    { fuzzParser(f, event.SourceIPMISEL) }
func FuzzOpenSSL(f *testing.F)    { fuzzParser(f, event.SourceOpenSSL) }

func fuzzParser(f *testing.F, format string) {
	for _, line := range seedLines(f) {
		f.Add(line)
	}
	p, err := New(format, goldenOptions())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var ev event.Event
		Into(p, line, &ev)
		if ev.Raw != strings.TrimSuffix(line, "\r") {
			t.Fatalf("raw not kept: %q became %q", line, ev.Raw)
		}
		if ev.Source == "" {
			t.Fatalf("no source for %q", line)
		}
		if ev.Source == event.SourceUnparsed && ev.Reason == "" {
			t.Fatalf("unparsed without a reason: %q", line)
		}
		out := ev.AppendJSON(nil)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("invalid JSON for %q: %s", line, out)
		}
		var back event.Event
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("JSON does not read back for %q: %v", line, err)
		}
		if utf8.ValidString(ev.Raw) && back.Raw != ev.Raw {
			t.Fatalf("raw changed through JSON: %q became %q", ev.Raw, back.Raw)
		}
	})
}

func seedLines(f *testing.F) []string {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.log"))
	var lines []string
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines = append(lines, strings.Split(string(data), "\n")...)
	}
	return append(lines, "", "\xff\xfe", "<", "2012", "[", "k7pf0: ALM", "1,", "1,12/02/29 ",
		"2024-03-01 ", "a=", `a="`, "x: ", "x[1]:", "Caused by: ", `Exception in thread "`,
		"{", `{"`, `{"a":`, `{"a":[`, "2019/04/18 ", "WARN[", "WARN[1]", "[Feb22 ", "[ +", "[  +1.",
		" 1 | ", "1 | 03/01/2024 | ", "error:", "1:error:0000000", "1:error:00000000:",
		"1:X ", "1:X 07 Dec ", "1:X 07 Dec 2026 12:00:00.000 ")
}

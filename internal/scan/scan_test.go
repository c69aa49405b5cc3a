package scan

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/sink/jsonl"
)

const (
	lunaLine   = "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Power Supply sensor - Transition to Power Off"
	dinamoLine = "2022/01/11 22:31:54 00000052 0000019B EE4E6C03 master auth ok, 172.17.0.1, 2|172.17.0.1 172.17.0.2:4433 -"
	alarmLine  = "k7pf0: [HSM] ALM2007: HSM zeroized"
)

// collect is a sink that keeps copies of the events.
type collect struct{ events []event.Event }

func (c *collect) Write(ev *event.Event) error {
	cp := *ev
	cp.Fields = append(event.Fields(nil), ev.Fields...)
	c.events = append(c.events, cp)
	return nil
}
func (c *collect) Flush() error { return nil }

func utcOptions() Options {
	return Options{Location: time.UTC, Now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipBytes(t *testing.T, entries map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{"hsmlogs.txt", "older.txt.gz"} {
		data, ok := entries[name]
		if !ok {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCompressedInputs(t *testing.T) {
	text := lunaLine + "\n" + dinamoLine + "\n" + alarmLine + "\n"
	plain := writeFile(t, "a.log", []byte(text))
	gz := writeFile(t, "b.log.gz", gzipBytes(t, text))
	zipped := writeFile(t, "export.zip", zipBytes(t, map[string][]byte{
		"hsmlogs.txt": []byte(dinamoLine + "\n"), "older.txt.gz": gzipBytes(t, dinamoLine+"\n"+dinamoLine+"\n")}))
	var c collect
	sum, err := Run(context.Background(), utcOptions(), []string{plain, gz, zipped}, nil, &c)
	if err != nil || len(sum.Failed) != 0 {
		t.Fatalf("run: %v %v", err, sum.Failed)
	}
	if sum.Lines != 9 || len(c.events) != 9 {
		t.Fatalf("read %d lines, wrote %d events; want 9", sum.Lines, len(c.events))
	}
	wantSources := []string{"luna-syslog", "dinamo-log", "luna-alarm", "luna-syslog", "dinamo-log", "luna-alarm", "dinamo-log", "dinamo-log", "dinamo-log"}
	for i, ev := range c.events {
		if ev.Source != wantSources[i] {
			t.Errorf("event %d (%s): source %s, want %s", i, ev.Input, ev.Source, wantSources[i])
		}
	}
	if got := c.events[7].Input; got != zipped+":older.txt.gz:1" {
		t.Errorf("zip entry input = %q", got)
	}
	if sum.ByInput[zipped+":hsmlogs.txt"] != 1 || sum.BySource["dinamo-log"] != 5 {
		t.Errorf("summary counts: %v %v", sum.ByInput, sum.BySource)
	}
}

func TestZipFromStdin(t *testing.T) {
	data := zipBytes(t, map[string][]byte{"hsmlogs.txt": []byte(dinamoLine + "\n" + dinamoLine)})
	var c collect
	sum, err := Run(context.Background(), utcOptions(), []string{"-"}, bytes.NewReader(data), &c)
	if err != nil || len(sum.Failed) != 0 || len(c.events) != 2 || c.events[1].Input != "-:hsmlogs.txt:2" {
		t.Fatalf("err=%v failed=%v events=%d", err, sum.Failed, len(c.events))
	}
}

func TestDamagedLines(t *testing.T) {
	long := lunaLine + " " + strings.Repeat("x", 200*1024) // over the 64 KiB buffer
	huge := lunaLine + " " + strings.Repeat("y", 3<<20)    // over MaxLine
	text := lunaLine + "\r\n" + "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: bad \xff\xfe utf8\n" + long + "\n" + huge + "\n" + "\n" + lunaLine
	var out bytes.Buffer
	sum, err := Run(context.Background(), utcOptions(), []string{"-"}, strings.NewReader(text), jsonl.New(&out))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 6 || sum.Lines != 6 {
		t.Fatalf("%d JSON lines for 6 input lines", len(lines))
	}
	var evs []event.Event
	for i, l := range lines {
		var ev event.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		evs = append(evs, ev)
	}
	if evs[0].Raw != lunaLine || evs[0].Source != "luna-syslog" {
		t.Errorf("CRLF line: raw %q source %s", evs[0].Raw, evs[0].Source)
	}
	if evs[1].Source != "luna-syslog" || !strings.Contains(evs[1].Message, "bad \ufffd\ufffd utf8") {
		t.Errorf("invalid UTF-8 line: %+v", evs[1])
	}
	if len(evs[2].Raw) != len(long) || evs[2].Source != "luna-syslog" {
		t.Errorf("long line: raw of %d bytes, want %d", len(evs[2].Raw), len(long))
	}
	tb, ok := evs[3].Fields.Get("truncated_bytes")
	if !ok || len(evs[3].Raw) != 1<<20 || tb.Int != int64(len(huge)-(1<<20)) {
		t.Errorf("huge line: raw %d bytes, truncated_bytes %v", len(evs[3].Raw), tb)
	}
	if evs[4].Source != "unparsed" || evs[4].Reason == "" || evs[4].Input != "-:5" {
		t.Errorf("empty line: %+v", evs[4])
	}
	if evs[5].Raw != lunaLine {
		t.Errorf("last line without newline: %q", evs[5].Raw)
	}
}

func TestUnreadableInputIsNamedAndOthersGoOn(t *testing.T) {
	good := writeFile(t, "good.log", []byte(lunaLine+"\n"))
	badGzip := writeFile(t, "bad.gz", []byte{0x1f, 0x8b, 0, 0, 0})
	var c collect
	sum, err := Run(context.Background(), utcOptions(), []string{"/nonexistent/x.log", badGzip, good}, nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Failed) != 2 || len(c.events) != 1 {
		t.Fatalf("failed=%v events=%d", sum.Failed, len(c.events))
	}
	if !strings.Contains(sum.Failed[0].Error(), "/nonexistent/x.log") || !strings.Contains(sum.Failed[1].Error(), badGzip) {
		t.Errorf("errors do not name the inputs: %v", sum.Failed)
	}
	var w bytes.Buffer
	sum.WriteSummary(&w)
	if !strings.Contains(w.String(), "failed: open /nonexistent/x.log") {
		t.Errorf("summary: %s", w.String())
	}
}

func TestFilters(t *testing.T) {
	text := strings.Join([]string{
		"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: a",
		"2012 Feb 29 13:05:01 otherLuna local4 notice ipmievd: b",
		"2012 Mar 01 12:05:01 myLuna local4 notice ipmievd: c",
		alarmLine, // no host, no time
	}, "\n")
	for _, tc := range []struct {
		name string
		o    func(*Options)
		want string
	}{
		{"since", func(o *Options) { o.Since = time.Date(2012, 2, 29, 13, 0, 0, 0, time.UTC) }, "b c k7pf0:"},
		{"until", func(o *Options) { o.Until = time.Date(2012, 2, 29, 13, 5, 1, 0, time.UTC) }, "a k7pf0:"},
		{"host glob", func(o *Options) { o.Host = "MY*" }, "a c"},
		{"default host", func(o *Options) { o.Host = "pcie1"; o.DefaultHost = "pcie1" }, "k7pf0:"},
	} {
		o := utcOptions()
		tc.o(&o)
		var c collect
		if _, err := Run(context.Background(), o, []string{"-"}, strings.NewReader(text), &c); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range c.events {
			got = append(got, strings.Fields(ev.Message)[0])
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: kept %v, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2012-02-29T12:05:01Z":      time.Date(2012, 2, 29, 12, 5, 1, 0, time.UTC),
		"2012-02-29T12:05:01+02:00": time.Date(2012, 2, 29, 10, 5, 1, 0, time.UTC),
		"2012-02-29":                time.Date(2012, 2, 29, 0, 0, 0, 0, time.UTC),
		"2012-02-29 12:05:01":       time.Date(2012, 2, 29, 12, 5, 1, 0, time.UTC),
		"24h":                       now.Add(-24 * time.Hour),
	} {
		got, err := ParseTime(in, now, time.UTC)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseTime("yesterday", now, time.UTC); err == nil || !strings.Contains(err.Error(), `"yesterday"`) {
		t.Errorf("bad time error: %v", err)
	}
}

// genReader produces n copies of a line without holding them in memory.
type genReader struct {
	line []byte
	n    int
	off  int
}

func (g *genReader) Read(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		if g.n == 0 {
			if written == 0 {
				return 0, io.EOF
			}
			break
		}
		c := copy(p[written:], g.line[g.off:])
		written += c
		g.off += c
		if g.off == len(g.line) {
			g.off = 0
			g.n--
		}
	}
	return written, nil
}

// heapSink samples the live heap while events stream through.
type heapSink struct {
	n, maxHeap uint64
}

func (h *heapSink) Write(*event.Event) error {
	h.n++
	if h.n%50000 == 0 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > h.maxHeap {
			h.maxHeap = ms.HeapInuse
		}
	}
	return nil
}
func (h *heapSink) Flush() error { return nil }

// TestConstantMemory streams 256 MiB through the scanner and checks that the live heap
// stays small: memory must not grow with the size of the input.
func TestConstantMemory(t *testing.T) {
	line := []byte(lunaLine + " padding padding padding padding padding padding\n")
	n := (256 << 20) / len(line)
	var h heapSink
	sum, err := Run(context.Background(), utcOptions(), []string{"-"}, &genReader{line: line, n: n}, &h)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines != int64(n) {
		t.Fatalf("read %d lines of %d", sum.Lines, n)
	}
	if h.maxHeap > 32<<20 {
		t.Errorf("live heap reached %d MiB while scanning 256 MiB", h.maxHeap>>20)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, utcOptions(), []string{"-"}, &genReader{line: []byte(lunaLine + "\n"), n: 1 << 20}, &heapSink{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

package testutil

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// MixedLines returns n lines of the mixed corpus the benchmarks and bench/ harnesses
// use: nine tenths generic Linux syslog noise (NoiseLines, with their clock advancing one
// second every hundred lines from start, as a followed file's would) and one tenth HSM
// lines (hsm, in turn: the guide's examples, Dinamo and ALM lines, with their own times).
func MixedLines(hsm []string, n int, start time.Time) []string {
	noise := NoiseLines()
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		if i%10 == 9 && len(hsm) > 0 {
			out = append(out, hsm[(i/10)%len(hsm)])
			continue
		}
		t := start.Add(time.Duration(i/100) * time.Second)
		out = append(out, retime(noise[(i-i/10)%len(noise)], t))
	}
	return out
}

// retime replaces a noise line's leading time (rsyslog's traditional "Nov 22 05:31:30"
// or high-precision RFC 3339 form) with t.
func retime(line string, t time.Time) string {
	if len(line) > 15 && line[3] == ' ' && line[6] == ' ' {
		return t.Format(time.Stamp) + line[15:]
	}
	if sp := strings.IndexByte(line, ' '); sp > 0 {
		return t.Format("2006-01-02T15:04:05.000000-07:00") + line[sp:]
	}
	return line
}

// HSMLines reads the HSM half of the mixed corpus from the shared folder at dir
// (shared/ beside the checkout): the guide's examples from
// corpus/luna-guide-examples.jsonl, plus Dinamo and ALM lines.
func HSMLines(sharedDir string) ([]string, error) {
	name := sharedDir + "/corpus/luna-guide-examples.jsonl"
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var ex struct {
			Line string `json:"line"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		lines = append(lines, ex.Line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return append(lines,
		"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21|172.17.0.1 172.17.0.2:4433 master",
		"2022/01/11 22:28:56 0000004C 0000017D A575C340 master truncated log|172.17.0.1 172.17.0.2:4433 master",
		"2012 Feb 29 12:05:01 myLuna kern info kernel: k7pf0: [HSM] ALM2007: HSM zeroized",
		"[  812.345678] k7pf0: ALM0015: PCIe Link Failure"), nil
}

// WriteLines writes lines, one per line.
func WriteLines(w io.Writer, lines []string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

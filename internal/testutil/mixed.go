package testutil

import (
	"bufio"
	"io"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/benchcorpus"
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

// HSMLines reads the HSM half of the mixed corpus from the shared folder at sharedDir
// (shared/ beside the checkout): the generator of internal/benchcorpus, so that the store's
// figures and the scan's are about the same HSM lines.
func HSMLines(sharedDir string) ([]string, error) {
	return benchcorpus.HSMLines(sharedDir)
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

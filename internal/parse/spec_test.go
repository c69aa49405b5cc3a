package parse

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

func sharedPath(t testing.TB, rel string) string { t.Helper(); return testutil.SharedPath(t, rel) }

func readJSONL[T any](t testing.TB, rel string) []T { t.Helper(); return testutil.ReadJSONL[T](t, rel) }

// specLines returns the lines of a shared/ file that start with prefix (the log examples
// of a specification), without trailing carriage returns.
func specLines(tb testing.TB, rel, prefix string) []string {
	tb.Helper()
	f, err := os.Open(sharedPath(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimRight(sc.Text(), "\r"); strings.HasPrefix(line, prefix) {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestScanSample(t *testing.T) {
	sample := filepath.Join("..", "..", "examples", "hsm-fleet.log")
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	inputLines := strings.Count(string(data), "\n")
	code, out, errOut := runCLI(t, "", "scan", "--tz", "UTC", sample)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != inputLines {
		t.Fatalf("%d JSON lines for %d input lines", len(lines), inputLines)
	}
	sources := map[string]int{}
	for i, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("output line %d is not JSON: %v", i+1, err)
		}
		sources[v["source"].(string)]++
	}
	for _, s := range []string{"luna-syslog", "rfc3164", "rfc5424", "luna-alarm", "dinamo-log"} {
		if sources[s] == 0 {
			t.Errorf("the sample has no %s event: %v", s, sources)
		}
	}
	if sources["unparsed"] != 1 {
		t.Errorf("the sample has one deliberately damaged line; got %d unparsed", sources["unparsed"])
	}
	if !strings.Contains(errOut, "by source:") || !strings.Contains(errOut, "dinamo-log") {
		t.Errorf("summary missing from stderr: %s", errOut)
	}
}

func TestScanTableAndStdin(t *testing.T) {
	code, out, _ := runCLI(t, "2012 Feb 29 12:05:01 myLuna local5 crit NTLS [1234]: info : 0 : NTLS CRASH AND BURN\n",
		"scan", "-o", "table", "--tz", "UTC")
	if code != 0 || !strings.HasPrefix(out, "TIME") || !strings.Contains(out, "NTLS CRASH AND BURN") ||
		!strings.Contains(out, "2012-02-29T12:05:01Z") {
		t.Fatalf("exit %d, table:\n%s", code, out)
	}
}

func TestScanErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scan", "/no/such/file.log"}, 1, "/no/such/file.log"},
		{[]string{"scan", "--format", "cobol"}, 2, `unknown format "cobol"`},
		{[]string{"scan", "--since", "yesterday"}, 2, `--since: "yesterday" is not a time`},
		{[]string{"scan", "--output", "xml"}, 2, `--output "xml"`},
		{[]string{"scan", "--tz", "Mars/Olympus"}, 2, `--tz "Mars/Olympus"`},
		{[]string{"nosuchcommand"}, 2, "unknown command"},
	} {
		code, _, errOut := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

package state

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// specDinamoLines returns the native-format log lines of the Dinamo HSM event log
// specification, in the
// order the spec gives them: the truncation example, then the "Follow" session.
func specDinamoLines(t *testing.T) []string {
	t.Helper()
	fh, err := os.Open(testutil.SharedPath(t, "spec/dinamo-event-log.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "2022/01/11 ") {
			out = append(out, sc.Text())
		}
	}
	if len(out) != 17 {
		t.Fatalf("want the spec's 17 Dinamo lines, got %d", len(out))
	}
	return out
}

func TestDinamoSpecLog(t *testing.T) {
	f := newFeeder(t, Config{})
	for _, l := range specDinamoLines(t) {
		f.tr.Observe(f.event(l, time.Time{}))
	}
	findings, dropped := f.tr.Findings()
	if dropped != 0 {
		t.Fatalf("dropped %d", dropped)
	}
	// The spec shows the truncation (counter 17C, 17D) and later the follow session
	// starting at 198: 0x198-0x17D-1 = 26 events lie between them in the HSM's log.
	var kinds []string
	for _, fd := range findings {
		kinds = append(kinds, fd.Kind)
	}
	if strings.Join(kinds, ",") != "truncated,gap" {
		t.Fatalf("findings %v: %+v", kinds, findings)
	}
	tr, gap := findings[0], findings[1]
	if tr.By != "master" || tr.Client != "172.17.0.1" || tr.Time != time.Date(2022, 1, 11, 22, 28, 56, 0, time.UTC) || tr.To != 0x17C {
		t.Errorf("truncation: %+v", tr)
	}
	if gap.From != 0x17D || gap.To != 0x198 || gap.Missing != 26 || gap.Input != "test.log:3" {
		t.Errorf("gap: %+v", gap)
	}
	sessions, _ := f.tr.Sessions()
	var s *Session
	for i := range sessions {
		if sessions[i].CID == "EE4E6C03" {
			s = &sessions[i]
		}
	}
	if s == nil {
		t.Fatalf("no session EE4E6C03 in %+v", sessions)
	}
	if s.ClientIP != "172.17.0.1" || s.User != "master" || s.Auth != "ok" || s.Events != 14 {
		t.Errorf("session: %+v", s)
	}
	if strings.Join(s.Keys, ",") != "prodkey" || s.Operations["dinamo.probe"] != 6 || s.Operations["dinamo.new-key"] != 1 || s.Operations["dinamo.key-use"] != 1 {
		t.Errorf("session operations %v keys %v", s.Operations, s.Keys)
	}
	if !s.First.Equal(time.Date(2022, 1, 11, 22, 31, 54, 0, time.UTC)) || !s.Last.Equal(time.Date(2022, 1, 11, 22, 32, 32, 0, time.UTC)) {
		t.Errorf("session times %v %v", s.First, s.Last)
	}
}

func TestDinamoCounterReset(t *testing.T) {
	f := newFeeder(t, Config{})
	lines := []string{
		"2022/01/11 22:31:54 00000052 00000198 000A3309 session thread up [2]",
		"2022/01/11 22:31:55 00000052 00000199 000A3309 session thread up [2]",
		"2022/01/12 08:00:00 00000001 00000001 000A3309 session thread up [2]",
	}
	for _, l := range lines {
		f.tr.Observe(f.event(l, time.Time{}))
	}
	findings, _ := f.tr.Findings()
	if len(findings) != 1 || findings[0].Kind != FindingReset || findings[0].From != 0x199 || findings[0].To != 1 {
		t.Fatalf("findings: %+v", findings)
	}
}

func TestDinamoAuthFailureSession(t *testing.T) {
	f := newFeeder(t, Config{})
	for _, l := range []string{
		"2022/01/11 22:31:54 00000052 00000001 AB000001 10.0.0.9 auth try, c: 21, tls: y, 2|10.0.0.9 172.17.0.2:4433 -",
		"2022/01/11 22:31:54 00000052 00000002 AB000001 operator auth init, c: 21|10.0.0.9 172.17.0.2:4433 -",
		"2022/01/11 22:31:55 00000052 00000003 AB000001 operator auth failure|10.0.0.9 172.17.0.2:4433 -",
	} {
		f.tr.Observe(f.event(l, time.Time{}))
	}
	sessions, _ := f.tr.Sessions()
	if len(sessions) != 1 || sessions[0].Auth != "failed" || sessions[0].User != "operator" || sessions[0].ClientIP != "10.0.0.9" {
		t.Fatalf("sessions: %+v", sessions)
	}
	if fs, _ := f.tr.Findings(); len(fs) != 0 {
		t.Fatalf("contiguous counters gave findings: %+v", fs)
	}
}

// Two exports that number a session alike and open it in the same second list in the
// order of their streams, every time (the report is compared byte for byte).
func TestDinamoSessionsOrderedByStream(t *testing.T) {
	line := "2022/01/11 22:31:54 00000052 00000001 AB000001 10.0.0.9 auth try, c: 21, tls: y, 2|10.0.0.9 172.17.0.2:4433 -"
	for range 20 {
		f := newFeeder(t, Config{})
		for _, input := range []string{"zeta.log:1", "alpha.log:1", "mid.log:1"} {
			ev := f.event(line, time.Time{})
			ev.Input = input
			f.tr.Observe(ev)
		}
		sessions, _ := f.tr.Sessions()
		var got []string
		for _, s := range sessions {
			got = append(got, s.Stream)
		}
		if strings.Join(got, ",") != "alpha.log,mid.log,zeta.log" {
			t.Fatalf("sessions in the order %v", got)
		}
	}
}

// Memory follows MaxSessions, not the length of the log.
func TestDinamoSessionsBounded(t *testing.T) {
	f := newFeeder(t, Config{MaxSessions: 10})
	for i := 0; i < 1000; i++ {
		ev := f.event("2022/01/11 22:31:54 00000052 00000001 AB000001 10.0.0.9 auth try, c: 21, tls: y, 2|10.0.0.9 172.17.0.2:4433 -", time.Time{})
		ev.Fields.SetString("cid", fmt.Sprintf("%08X", i))
		ev.Fields.SetInt("counter", int64(i+1))
		ev.Time = t0.Add(time.Duration(i) * time.Second)
		f.tr.Observe(ev)
	}
	sessions, evicted := f.tr.Sessions()
	if len(sessions) > 10 || evicted < 990 {
		t.Fatalf("kept %d sessions, evicted %d", len(sessions), evicted)
	}
	if last := sessions[len(sessions)-1]; !last.First.Equal(t0.Add(999 * time.Second)) {
		t.Fatalf("the most recent session must be kept: %+v", last)
	}
}

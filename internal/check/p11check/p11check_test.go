package p11check_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/check/p11check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// token is an initialised token whose every figure is unavailable but the memory given.
func token(slot uint, label string, total, free pkcs11probe.Ulong) pkcs11probe.Token {
	u := pkcs11probe.Unavailable
	return pkcs11probe.Token{Slot: slot, Label: label, Flags: pkcs11probe.FlagTokenInitialized,
		Sessions: u, MaxSessions: u, RWSessions: u, MaxRWSessions: u, MinPINLen: u, MaxPINLen: u,
		TotalPublicMemory: u, FreePublicMemory: u, TotalPrivateMemory: total, FreePrivateMemory: free}
}

func output(r check.Result) string {
	var b strings.Builder
	r.Write(&b)
	return b.String()
}

func threshold(t *testing.T, warn, crit string) check.Threshold {
	t.Helper()
	th, err := check.ParseThreshold(warn, crit)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// p11memmon's line for one token, and its -v lines on the trace.
func TestMemoryResultOne(t *testing.T) {
	var trace strings.Builder
	tr := check.NewTrace(&trace, check.Verbose)
	s := &pkcs11probe.Session{Tokens: []pkcs11probe.Token{token(1, "TOKENHAGROUP", 14286412, 14242444)}}
	r := p11check.MemoryResult(tr, s, p11check.Memory{Which: "private"}, threshold(t, "75", "90"), false)
	if got, want := output(r), "OK: HSM memory usage is at 0% (43968 bytes in use) | used=43968B;;;0;14286412 usage=0.31%;75;90\n"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if !strings.Contains(trace.String(), "That means 43968 bytes of private memory are in use\n") {
		t.Errorf("trace: %s", trace.String())
	}
	// -m replaces the total; more free than that total is UNKNOWN and says to check -m.
	r = p11check.MemoryResult(nil, s, p11check.Memory{Which: "private", Total: 1000}, threshold(t, "75", "90"), false)
	if r.Status != check.Unknown || !strings.Contains(r.Summary, "than the 1000 bytes in total given with -m; check -m") || len(r.Perf) != 0 {
		t.Errorf("got %+v", r)
	}
}

// --all: the problems in the summary with the count of the others, names with the slot
// when labels repeat, every token in the long text, failed slots UNKNOWN.
func TestMemoryResultAll(t *testing.T) {
	s := &pkcs11probe.Session{
		Tokens: []pkcs11probe.Token{token(1, "a", 100, 5), token(2, "a", 100, 90), token(3, "b", 100, 80)},
		Failed: map[uint]error{7: errors.New("C_GetTokenInfo (slot 7) failed")},
	}
	r := p11check.MemoryResult(nil, s, p11check.Memory{Which: "private"}, threshold(t, "75", "90"), true)
	if r.Status != check.Critical {
		t.Errorf("status %v", r.Status)
	}
	want := "a@slot1: HSM memory usage is at 95% (95 bytes in use); slot 7: C_GetTokenInfo (slot 7) failed; 2 more tokens OK"
	if r.Summary != want {
		t.Errorf("summary\n got %s\nwant %s", r.Summary, want)
	}
	if len(r.Long) != 4 || r.Long[1] != "OK: a@slot2: HSM memory usage is at 10% (10 bytes in use)" || r.Long[3] != "UNKNOWN: slot 7: C_GetTokenInfo (slot 7) failed" {
		t.Errorf("long %q", r.Long)
	}
	if len(r.Perf) != 6 || r.Perf[0].Label != "a@slot1 used" || r.Perf[5].Label != "b usage" {
		t.Errorf("perf %+v", r.Perf)
	}
	s.Failed = nil
	s.Tokens = s.Tokens[1:]
	if r := p11check.MemoryResult(nil, s, p11check.Memory{Which: "private"}, threshold(t, "75", "90"), true); r.Summary != "HSM memory usage is fine on 2 tokens" {
		t.Errorf("summary %q", r.Summary)
	}
}

func TestTokenResult(t *testing.T) {
	locked := token(2, "B", pkcs11probe.Unavailable, pkcs11probe.Unavailable)
	locked.Flags |= pkcs11probe.FlagUserPINLocked
	s := &pkcs11probe.Session{Tokens: []pkcs11probe.Token{token(1, "", 100, 50), locked}}
	r := p11check.TokenResult(nil, s, pkcs11probe.DefaultThresholds(), true)
	if r.Status != check.Critical || r.Summary != "token B in slot 2: user PIN locked; 1 more token OK" {
		t.Errorf("got %v %q", r.Status, r.Summary)
	}
	if !strings.HasPrefix(r.Long[0], "token (no label) in slot 1: OK; model (none), serial (none)") {
		t.Errorf("long %q", r.Long)
	}
	for _, p := range r.Perf {
		if !strings.HasPrefix(p.Label, "@slot1 ") && !strings.HasPrefix(p.Label, "B ") {
			t.Errorf("perfdata label %q does not name its token", p.Label)
		}
	}
	one := p11check.TokenResult(nil, &pkcs11probe.Session{Tokens: s.Tokens[:1]}, pkcs11probe.DefaultThresholds(), false)
	if one.Status != check.OK || !strings.HasPrefix(one.Summary, "token (no label) in slot 1 is fine: ") {
		t.Errorf("got %v %q", one.Status, one.Summary)
	}
}

func TestTokenName(t *testing.T) {
	for _, c := range []struct {
		label string
		dup   bool
		want  string
	}{{"a=b|c", false, "a_b_c"}, {"x", true, "x@slot3"}, {"", false, "@slot3"}} {
		if got := p11check.TokenName(pkcs11probe.Token{Slot: 3, Label: c.label}, c.dup); got != c.want {
			t.Errorf("TokenName(%q, %v) = %q, want %q", c.label, c.dup, got, c.want)
		}
	}
	d := p11check.DuplicateLabels([]pkcs11probe.Token{{Label: "a"}, {Label: "b"}, {Label: "a"}})
	if len(d) != 1 || !d["a"] {
		t.Errorf("DuplicateLabels: %v", d)
	}
}

// Run: a selection that fails is UNKNOWN with its advice; a library that hangs is
// UNKNOWN at the timeout, naming the call.
func TestRun(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so, "token slot=1 label=A")
	to, err := check.ParseTimeout("5")
	if err != nil {
		t.Fatal(err)
	}
	eval := func(s *pkcs11probe.Session) check.Result { return check.Result{Summary: s.Tokens[0].Label} }
	r := p11check.Run(context.Background(), to, nil, f.Lib, pkcs11probe.Selection{Label: "A"}, eval)
	if r.Status != check.OK || r.Summary != "A" {
		t.Errorf("got %+v", r)
	}
	r = p11check.Run(context.Background(), to, nil, f.Lib, pkcs11probe.Selection{Label: "Z"}, eval)
	if r.Status != check.Unknown || !strings.HasPrefix(r.Summary, `no token labelled "Z"`) {
		t.Errorf("got %+v", r)
	}
	// The library runs in a child process, which must start before it can hang: a second
	// leaves room for that on a loaded machine.
	h := p11test.NewFake(t, so, "hang tokeninfo 5000", "token slot=3 label=L")
	short, err := check.ParseTimeout("1s")
	if err != nil {
		t.Fatal(err)
	}
	tr := check.NewTrace(&strings.Builder{}, 0)
	r = p11check.Run(context.Background(), short, tr, h.Lib, pkcs11probe.Selection{All: true}, eval)
	if r.Status != check.Unknown || !strings.Contains(r.Summary, "waiting for C_GetTokenInfo (slot 3) in "+h.Lib) {
		t.Errorf("got %+v", r)
	}
}

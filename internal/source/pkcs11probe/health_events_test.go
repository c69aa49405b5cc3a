package pkcs11probe

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// summary writes events as "host item state assert" lines, for comparison.
func summary(evs []event.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Host + " " + e.Fields.Text("item") + " " + e.Fields.Text("state"))
		if e.Assert == event.True {
			b.WriteString(" assert")
		} else {
			b.WriteString(" clear")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// A finding raises once when it goes bad, again when its state changes, and clears when
// it is fine again or no longer found; a token that disappears raises token.not_present;
// a failed probe raises library.failure, cleared by the next good one.
func TestHealthEvents(t *testing.T) {
	h := newHealthEvents("/lib.so")
	th := DefaultThresholds()
	tok := healthy()
	mem := func(free Ulong) Token {
		x := tok
		x.TotalPrivateMemory, x.FreePrivateMemory = 100, free
		return x
	}
	now := time.Now()
	steps := []struct {
		name string
		evs  []event.Event
		want string
	}{
		{"fine", h.report(now, Report{Tokens: []Token{mem(50)}}, th), ""},
		{"80%", h.report(now, Report{Tokens: []Token{mem(20)}}, th), "T T:memory.private warning assert\n"},
		{"still 80%", h.report(now, Report{Tokens: []Token{mem(19)}}, th), ""},
		{"95%", h.report(now, Report{Tokens: []Token{mem(5)}}, th), "T T:memory.private critical assert\n"},
		{"back", h.report(now, Report{Tokens: []Token{mem(60)}}, th), "T T:memory.private ok clear\n"},
		{"removed", h.report(now, Report{}, th), "T T:token.not_present unknown assert\n"},
		{"failed", h.failure(now, errors.New("boom")), "/lib.so /lib.so:library.failure critical assert\n"},
		{"failed again", h.failure(now, errors.New("boom")), ""},
		{"back with a locked PIN", h.report(now, Report{Tokens: []Token{func() Token {
			x := mem(60)
			x.Flags |= FlagUserPINLocked
			return x
		}()}}, th), "/lib.so /lib.so:library.failure ok clear\nT T:token.not_present ok clear\nT T:pin.user.locked critical assert\n"},
		{"PIN unlocked", h.report(now, Report{Tokens: []Token{mem(60)}}, th), "T T:pin.user.locked ok clear\n"},
	}
	for _, s := range steps {
		if got := summary(s.evs); got != s.want {
			t.Errorf("%s: got\n%swant\n%s", s.name, got, s.want)
		}
	}
	// a free slot (an uninitialised token never seen initialised) is no token to watch;
	// a watched token found uninitialised raises
	free := Token{Slot: 7}
	if evs := h.report(now, Report{Tokens: []Token{mem(60), free}}, th); len(evs) != 0 {
		t.Errorf("free slot: got\n%s", summary(evs))
	}
	zeroized := mem(60)
	zeroized.Flags &^= FlagTokenInitialized
	if got, want := summary(h.report(now, Report{Tokens: []Token{zeroized}}, th)), "T T:token.not_initialized critical assert\n"; !strings.Contains(got, want) {
		t.Errorf("token no longer initialised: got\n%swant it to contain\n%s", got, want)
	}
	ev := steps[3].evs[0]
	if ev.Source != event.SourcePKCS11 || ev.Fields.Text("family") != "memory" || ev.Fields.Text("finding") != "memory.private" ||
		ev.Fields.Text("previous") != "warning" || ev.Fields.Text("label") != "T" || !strings.Contains(ev.Message, "private memory 95% used") {
		t.Errorf("event %+v", ev)
	}
	if f, ok := ev.Fields.Get("percent"); !ok || f.Float != 95 {
		t.Errorf("percent %+v", f)
	}
}

func TestBackoff(t *testing.T) {
	for failed, want := range []time.Duration{0: time.Minute, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 4: 8 * time.Minute, 5: 10 * time.Minute, 6: 10 * time.Minute} {
		if got := backoff(time.Minute, failed); got != want {
			t.Errorf("backoff after %d failures: %v, want %v", failed, got, want)
		}
	}
	if got := backoff(time.Minute, 1000); got != 10*time.Minute {
		t.Errorf("backoff after 1000 failures: %v", got)
	}
}

// thresholds: overrides the defaults one range at a time; a bad range is a problem of the
// entry.
func TestSpecThresholds(t *testing.T) {
	s := &Spec{Library: "/x.so", Thresholds: ThresholdSpec{MemoryCritical: "50"}}
	if p := s.Check(); p != nil {
		t.Fatalf("problems %v", p)
	}
	th, _ := s.Thresholds.Thresholds()
	if th.Memory.Evaluate(60) != check.Critical || th.Memory.Evaluate(40) != check.OK || th.Sessions.Evaluate(90) != check.Warning {
		t.Errorf("thresholds %+v", th)
	}
	s.Thresholds.ClockWarning = "abc"
	if p := s.Check(); len(p) != 1 || p[0].Key != "thresholds" || !strings.Contains(p[0].Msg, "clock") {
		t.Errorf("problems %v", p)
	}
}

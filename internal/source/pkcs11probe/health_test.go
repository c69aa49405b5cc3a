package pkcs11probe

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/check"
)

// healthy is an initialised token with a user PIN that reports nothing else.
func healthy() Token {
	return Token{Slot: 1, Label: "T", Flags: FlagRNG | FlagLoginRequired | FlagUserPINInitialized | FlagTokenInitialized,
		Sessions: Unavailable, MaxSessions: Unavailable, RWSessions: Unavailable, MaxRWSessions: Unavailable,
		TotalPrivateMemory: Unavailable, FreePrivateMemory: Unavailable, TotalPublicMemory: Unavailable, FreePublicMemory: Unavailable}
}

func finding(t *testing.T, h Health, id string) Finding {
	t.Helper()
	for _, f := range h.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no finding %s among %v", id, ids(h))
	return Finding{}
}

func ids(h Health) []string {
	var out []string
	for _, f := range h.Findings {
		out = append(out, f.ID)
	}
	return out
}

func perfString(ps []check.Perfdata) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, " ")
}

func TestDefaultThresholds(t *testing.T) {
	th := DefaultThresholds()
	for _, c := range []struct {
		name string
		th   check.Threshold
		v    float64
		want check.Status
	}{
		{"memory", th.Memory, 75, check.OK}, {"memory", th.Memory, 75.01, check.Warning},
		{"memory", th.Memory, 90, check.Warning}, {"memory", th.Memory, 90.01, check.Critical},
		{"sessions", th.Sessions, 80, check.OK}, {"sessions", th.Sessions, 81, check.Warning}, {"sessions", th.Sessions, 96, check.Critical},
		{"clock", th.Clock, 60, check.OK}, {"clock", th.Clock, 61, check.Warning}, {"clock", th.Clock, 301, check.Critical},
	} {
		if got := c.th.Evaluate(c.v); got != c.want {
			t.Errorf("%s %v: %v, want %v", c.name, c.v, got, c.want)
		}
	}
}

func TestTokenHealthNothingReported(t *testing.T) {
	h := TokenHealth(healthy(), DefaultThresholds())
	want := []string{IDPIN, IDSessions, IDRWSessions, IDMemoryPrivate, IDMemoryPublic, IDClock}
	if h.Status != check.OK || !slices.Equal(ids(h), want) {
		t.Fatalf("status %v, findings %v; want OK, %v", h.Status, ids(h), want)
	}
	for _, f := range h.Findings[1:] {
		if !f.Info || f.Summary != "" || len(f.Perf) != 0 {
			t.Errorf("%s: want an Info finding without summary or figures: %+v", f.ID, f)
		}
	}
	if f := finding(t, h, IDMemoryPrivate); f.Status != check.Unknown || f.Text != "private memory: not reported" || f.Memory != nil {
		t.Errorf("private memory: %+v", f)
	}
	if f := finding(t, h, IDSessions); f.Status != check.Unknown || f.Text != "sessions in use: not reported (maximum unavailable)" {
		t.Errorf("sessions: %+v", f)
	}
	if f := finding(t, h, IDClock); f.Status != check.OK || f.Text != "clock: none on this token" {
		t.Errorf("clock: %+v", f)
	}
}

func TestTokenHealthPINFlags(t *testing.T) {
	for _, c := range []struct {
		flags  Flags
		status check.Status
		ids    []string
	}{
		{0, check.OK, []string{IDPIN}},
		{FlagUserPINCountLow, check.Warning, []string{"pin.user.count_low"}},
		{FlagUserPINFinalTry | FlagUserPINCountLow, check.Critical, []string{"pin.user.final_try", "pin.user.count_low"}},
		{FlagUserPINLocked, check.Critical, []string{"pin.user.locked"}},
		{FlagUserPINToBeChanged, check.Warning, []string{"pin.user.to_be_changed"}},
		{FlagSOPINCountLow, check.Warning, []string{"pin.so.count_low"}},
		{FlagSOPINFinalTry, check.Critical, []string{"pin.so.final_try"}},
		{FlagSOPINLocked | FlagUserPINCountLow, check.Critical, []string{"pin.so.locked", "pin.user.count_low"}},
		{FlagSOPINToBeChanged, check.Warning, []string{"pin.so.to_be_changed"}},
		{FlagErrorState, check.Critical, []string{IDErrorState, IDPIN}},
	} {
		tok := healthy()
		tok.Flags |= c.flags
		h := TokenHealth(tok, DefaultThresholds())
		var got []string
		for _, f := range h.Findings {
			if !f.Info {
				got = append(got, f.ID)
			}
		}
		if h.Status != c.status || !slices.Equal(got, c.ids) {
			t.Errorf("flags %v: %v %v, want %v %v", c.flags, h.Status, got, c.status, c.ids)
		}
	}
	tok := healthy()
	tok.Flags |= FlagUserPINLocked
	f := finding(t, TokenHealth(tok, DefaultThresholds()), "pin.user.locked")
	if f.Status != check.Critical || f.Summary != "user PIN locked" ||
		f.Text != "user PIN locked: applications cannot log in; the SO must reset the user PIN (C_InitPIN)" {
		t.Errorf("locked: %+v", f)
	}
	// No user PIN yet: said, not judged.
	tok = healthy()
	tok.Flags &^= FlagUserPINInitialized
	h := TokenHealth(tok, DefaultThresholds())
	if f := finding(t, h, IDUserPINNotInit); !f.Info || h.Status != check.OK {
		t.Errorf("user PIN not initialised: %v %+v", h.Status, f)
	}
	// Not initialised: that alone, CRITICAL, whatever else the flags say.
	tok = healthy()
	tok.Flags = FlagRNG | FlagSOPINLocked
	h = TokenHealth(tok, DefaultThresholds())
	if h.Status != check.Critical || !slices.Equal(ids(h), []string{IDNotInitialized}) {
		t.Errorf("not initialised: %v %v", h.Status, ids(h))
	}
}

func TestTokenHealthSessions(t *testing.T) {
	th := DefaultThresholds()
	for _, c := range []struct {
		n, max   Ulong
		status   check.Status
		info     bool
		text     string
		perfdata string
	}{
		{10, 100, check.OK, false, "sessions 10 of 100 (10.00%)", "sessions=10;;;0;100 sessions_usage=10%;80;95"},
		{80, 100, check.OK, false, "sessions 80 of 100 (80.00%)", "sessions=80;;;0;100 sessions_usage=80%;80;95"},
		{81, 100, check.Warning, false, "sessions 81 of 100 (81.00%)", "sessions=81;;;0;100 sessions_usage=81%;80;95"},
		{2, 3, check.OK, false, "sessions 2 of 3 (66.67%)", "sessions=2;;;0;3 sessions_usage=66.67%;80;95"},
		{100, 100, check.Critical, false, "sessions 100 of 100 (100.00%)", "sessions=100;;;0;100 sessions_usage=100%;80;95"},
		{5, 0, check.OK, true, "sessions in use: 5 (maximum unlimited)", "sessions=5;;;0"},
		{5, Unavailable, check.OK, true, "sessions in use: 5 (maximum unavailable)", "sessions=5;;;0"},
		{Unavailable, 100, check.Unknown, true, "sessions in use: not reported (maximum 100)", ""},
	} {
		tok := healthy()
		tok.Sessions, tok.MaxSessions = c.n, c.max
		h := TokenHealth(tok, th)
		f := finding(t, h, IDSessions)
		if f.Status != c.status || f.Info != c.info || f.Text != c.text || perfString(f.Perf) != c.perfdata {
			t.Errorf("%v of %v: %v info=%v %q %q", c.n, c.max, f.Status, f.Info, f.Text, perfString(f.Perf))
		}
		if want := c.status; c.info && h.Status != check.OK || !c.info && h.Status != want {
			t.Errorf("%v of %v: token status %v", c.n, c.max, h.Status)
		}
	}
	tok := healthy()
	tok.RWSessions, tok.MaxRWSessions = 9, 10
	f := finding(t, TokenHealth(tok, th), IDRWSessions)
	if f.Status != check.Warning || f.Summary != "read/write sessions 9 of 10" || perfString(f.Perf) != "rw_sessions=9;;;0;10 rw_sessions_usage=90%;80;95" {
		t.Errorf("rw sessions: %+v %s", f, perfString(f.Perf))
	}
}

func TestMemoryUsage(t *testing.T) {
	th := DefaultThresholds().Memory
	const max = Ulong(math.MaxUint64 - 1) // the largest figure that is not CK_UNAVAILABLE_INFORMATION
	for _, c := range []struct {
		total, free Ulong
		override    uint64
		problem     MemoryProblem
		status      check.Status
		used, whole uint64
		pct         float64
	}{
		{14286412, 14242444, 0, MemoryFine, check.OK, 43968, 0, 43968 * 100.0 / 14286412},
		{1000, 250, 0, MemoryFine, check.OK, 750, 75, 75},
		{1000, 249, 0, MemoryFine, check.Warning, 751, 75, 75.1},
		{1000, 100, 0, MemoryFine, check.Warning, 900, 90, 90},
		{1000, 99, 0, MemoryFine, check.Critical, 901, 90, 90.1},
		{3, 1, 0, MemoryFine, check.OK, 2, 66, 200.0 / 3},
		{3, 0, 0, MemoryFine, check.Critical, 3, 100, 100},
		{3, 3, 0, MemoryFine, check.OK, 0, 0, 0},
		{max, 0, 0, MemoryFine, check.Critical, uint64(max), 100, 100},
		{max, max - 1, 0, MemoryFine, check.OK, 1, 0, 100 / float64(max)},
		// Unavailable figures, a total of 0, more free than in total.
		{1000, Unavailable, 0, MemoryFreeUnavailable, check.Unknown, 0, 0, 0},
		{Unavailable, Unavailable, 0, MemoryFreeUnavailable, check.Unknown, 0, 0, 0},
		{Unavailable, 500, 0, MemoryTotalUnavailable, check.Unknown, 0, 0, 0},
		{0, 0, 0, MemoryTotalZero, check.Unknown, 0, 0, 0},
		{1000, 1001, 0, MemoryFreeAboveTotal, check.Unknown, 0, 0, 0},
		// A total given replaces the one reported, known or not.
		{Unavailable, 500, 1000, MemoryFine, check.OK, 500, 50, 50},
		{0, 500, 1000, MemoryFine, check.OK, 500, 50, 50},
		{1000, 900, 800, MemoryFreeAboveTotal, check.Unknown, 0, 0, 0},
		{Unavailable, Unavailable, 1000, MemoryFreeUnavailable, check.Unknown, 0, 0, 0},
	} {
		u := Memory{Kind: "private", Total: c.total, Free: c.free}.Usage(c.override, th)
		name := fmt.Sprintf("total %v free %v override %d", c.total, c.free, c.override)
		if u.Problem != c.problem || u.Status != c.status || u.Used != c.used || u.Whole != c.whole || math.Abs(u.Percent-c.pct) > 1e-9 {
			t.Errorf("%s: %+v", name, u)
		}
		if (u.Problem == MemoryFine) != (u.Reason() == "") {
			t.Errorf("%s: reason %q for problem %v", name, u.Reason(), u.Problem)
		}
		if u.Override != (c.override != 0 && c.free.Known()) || u.Reported != c.total {
			t.Errorf("%s: override %v reported %v", name, u.Override, u.Reported)
		}
	}
	u := Memory{Kind: "public", Total: 1000, Free: 1001}.Usage(0, th)
	if u.Reason() != "the token reports more free public memory (1001 bytes) than in total (1000 bytes)" {
		t.Errorf("reason %q", u.Reason())
	}
	u = Memory{Kind: "private", Total: 1000, Free: 900}.Usage(800, th)
	if u.Reason() != "the token reports more free private memory (900 bytes) than the 800 bytes in total given" {
		t.Errorf("reason %q", u.Reason())
	}
	// Ranges are the caller's: -w 50: -c 10: alerts below.
	low, _ := check.ParseThreshold("50:", "10:")
	if u := (Memory{Kind: "private", Total: 1000, Free: 600}).Usage(0, low); u.Status != check.Warning {
		t.Errorf("below 50%%: %v", u.Status)
	}
}

func TestTokenHealthMemory(t *testing.T) {
	th := DefaultThresholds()
	tok := healthy()
	tok.TotalPrivateMemory, tok.FreePrivateMemory = 1000, 50
	tok.TotalPublicMemory, tok.FreePublicMemory = 1000, 900
	h := TokenHealth(tok, th)
	priv, pub := finding(t, h, IDMemoryPrivate), finding(t, h, IDMemoryPublic)
	if h.Status != check.Critical || priv.Status != check.Critical || priv.Summary != "private memory 95% used" ||
		priv.Text != "private memory 95% used (950 of 1000 bytes)" || priv.Memory == nil || priv.Memory.Used != 950 {
		t.Errorf("private: %v %+v", h.Status, priv)
	}
	if got := perfString(priv.Perf); got != "private_used=950B;;;0;1000 private_usage=95%;75;90" {
		t.Errorf("private perfdata %s", got)
	}
	if pub.Status != check.OK || perfString(pub.Perf) != "public_used=100B;;;0;1000 public_usage=10%;75;90" {
		t.Errorf("public: %+v", pub)
	}
	// What cannot be judged is said, UNKNOWN and Info: it does not change the token's state.
	for _, c := range []struct {
		total, free Ulong
		text        string
	}{
		{0, 50, "private memory: the token reports a total of 0 bytes of private memory"},
		{1000, 1001, "private memory: the token reports more free private memory (1001 bytes) than in total (1000 bytes)"},
		{Unavailable, 50, "private memory: the token does not report its total private memory (CK_UNAVAILABLE_INFORMATION)"},
		{1000, Unavailable, "private memory: the token does not report its free private memory (CK_UNAVAILABLE_INFORMATION)"},
	} {
		tok := healthy()
		tok.TotalPrivateMemory, tok.FreePrivateMemory = c.total, c.free
		h := TokenHealth(tok, th)
		f := finding(t, h, IDMemoryPrivate)
		if h.Status != check.OK || !f.Info || f.Status != check.Unknown || f.Text != c.text || f.Memory == nil || len(f.Perf) != 0 {
			t.Errorf("%v/%v: %v %+v", c.total, c.free, h.Status, f)
		}
	}
}

func TestTokenHealthClock(t *testing.T) {
	read := time.Date(2025, 3, 1, 12, 0, 0, 400e6, time.UTC)
	for _, c := range []struct {
		offset time.Duration
		status check.Status
		text   string
		perf   string
	}{
		{0, check.OK, "clock in step with this host", "clock_drift=0s;60;300"},
		{60 * time.Second, check.OK, "clock 60s ahead of this host", "clock_drift=60s;60;300"},
		{-61 * time.Second, check.Warning, "clock 61s behind this host", "clock_drift=61s;60;300"},
		{301 * time.Second, check.Critical, "clock 301s ahead of this host", "clock_drift=301s;60;300"},
	} {
		tok := healthy()
		tok.Flags |= FlagClockOnToken
		tok.ReadAt = read
		tok.Clock = read.Truncate(time.Second).Add(c.offset)
		f := finding(t, TokenHealth(tok, DefaultThresholds()), IDClock)
		if f.Status != c.status || f.Summary != c.text || perfString(f.Perf) != c.perf || !strings.HasPrefix(f.Text, c.text+" (token ") {
			t.Errorf("offset %v: %+v", c.offset, f)
		}
	}
	tok := healthy()
	tok.Flags |= FlagClockOnToken
	tok.UTCTime, tok.ReadAt = "garbage", read
	f := finding(t, TokenHealth(tok, DefaultThresholds()), IDClock)
	if f.Status != check.Warning || f.Summary != "clock unreadable" || f.Text != `clock unreadable: the token gives "garbage", not YYYYMMDDhhmmss` {
		t.Errorf("unreadable: %+v", f)
	}
}

func TestSlotHealth(t *testing.T) {
	slot := uint(4)
	for _, c := range []struct {
		err error
		id  string
	}{
		{&CallError{Func: "C_GetTokenInfo", Slot: &slot, RV: RVTokenNotPresent}, IDNotPresent},
		{&CallError{Func: "C_GetTokenInfo", Slot: &slot, RV: 0x30}, IDUnreadable},
	} {
		h := SlotHealth(slot, c.err)
		if h.Status != check.Unknown || h.Token.Slot != slot || len(h.Findings) != 1 || h.Findings[0].ID != c.id ||
			h.Findings[0].Text != c.err.Error() || h.Findings[0].Info {
			t.Errorf("%v: %+v", c.err, h)
		}
	}
}

package pkcs11probe_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// The spec's Luna partition (p11memmon's verbose example) and a second token with every
// other figure set.
func TestProbeFake(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so,
		"cryptoki 2.1",
		"manufacturer Safenet,%20Inc.",
		"token slot=1 label=TOKENHAGROUP serial=7000123 model=LunaSA total_private=14286412 free_private=14242444",
		"token slot=7 label=Second%20token serial=9 flags=0x10044D sessions=3 max_sessions=100 rw_sessions=1 max_rw_sessions=infinite"+
			" min_pin=7 max_pin=64 total_public=1000 free_public=250 utc=2026112212000000 hw=7.3 fw=7.8",
		"token slot=9 label=absent present=0",
	)
	r, err := (&pkcs11probe.Prober{}).Probe(context.Background(), f.Lib)
	if err != nil {
		t.Fatal(err)
	}
	if r.Info.CryptokiVersion != "2.1" || r.Info.Manufacturer != "Safenet, Inc." || r.Info.Description != "fakep11 test module" {
		t.Errorf("info: %+v", r.Info)
	}
	if len(r.Tokens) != 2 {
		t.Fatalf("want the 2 tokens present, got %+v", r.Tokens)
	}
	a, b := r.Tokens[0], r.Tokens[1]
	if a.Slot != 1 || a.Label != "TOKENHAGROUP" || a.Serial != "7000123" || a.Model != "LunaSA" ||
		a.TotalPrivateMemory != 14286412 || a.FreePrivateMemory != 14242444 ||
		a.TotalPublicMemory.Known() || a.FreePublicMemory.Known() || !a.Initialized() || a.HasClock() ||
		a.SlotDescription != "fakep11 slot 1" || a.MaxSessions != 0 || pkcs11probe.Limit(a.MaxSessions) != "unlimited" {
		t.Errorf("token 1: %+v", a)
	}
	if b.Slot != 7 || b.Label != "Second token" || b.Sessions != 3 || b.MaxSessions != 100 || b.RWSessions != 1 ||
		b.MaxRWSessions != 0 || b.MinPINLen != 7 || b.MaxPINLen != 64 || b.TotalPublicMemory != 1000 ||
		b.FreePublicMemory != 250 || b.TotalPrivateMemory.Known() || b.HardwareVersion != "7.3" || b.FirmwareVersion != "7.8" {
		t.Errorf("token 7: %+v", b)
	}
	if !b.HasClock() || b.UTCTime != "2026112212000000" || !b.Clock.Equal(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("clock: %q %v", b.UTCTime, b.Clock)
	}
	if off, ok := b.ClockOffset(); !ok || off != b.Clock.Sub(b.ReadAt.Truncate(time.Second)) {
		t.Errorf("clock offset %v %v", off, ok)
	}
	// 0x10044D: CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_CLOCK_ON_TOKEN|CKF_TOKEN_INITIALIZED|CKF_SO_PIN_COUNT_LOW
	if got := strings.Join(b.Flags.Names(), "|"); got != "CKF_RNG|CKF_LOGIN_REQUIRED|CKF_USER_PIN_INITIALIZED|CKF_CLOCK_ON_TOKEN|CKF_TOKEN_INITIALIZED|CKF_SO_PIN_COUNT_LOW" {
		t.Errorf("flags: %s", got)
	}
	if p := b.PINProblems(); len(p) != 1 || p[0].Who != "SO" || p[0].Text != "PIN count low" || p[0].Critical {
		t.Errorf("PIN problems: %+v", p)
	}
	// The library was initialised, finalized and unloaded: nothing leaks.
	want := []string{"C_Initialize", "C_GetInfo", "C_GetSlotList", "C_GetSlotList", "C_GetSlotInfo", "C_GetTokenInfo_1",
		"C_GetSlotInfo", "C_GetTokenInfo_7", "C_Finalize", "unload"}
	if got := f.Calls(t); !slices.Equal(got, want) {
		t.Errorf("calls:\n got %v\nwant %v", got, want)
	}
	// JSON: unavailable figures are null, flags are names.
	js, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"total_public_memory":null`, `"total_private_memory":14286412`, `"CKF_TOKEN_INITIALIZED"`} {
		if !strings.Contains(string(js), s) {
			t.Errorf("JSON lacks %s: %s", s, js)
		}
	}
	if strings.Contains(string(js), `"clock"`) {
		t.Errorf("a token without clock has no clock in JSON: %s", js)
	}
}

func TestProbePINFlags(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so, "token slot=0 label=L flags=0x00FF0400")
	toks, err := pkcs11probe.Probe(context.Background(), f.Lib)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range toks[0].PINProblems() {
		got = append(got, p.Who+" "+p.Text+map[bool]string{true: " !", false: ""}[p.Critical])
	}
	want := []string{"SO PIN locked !", "user PIN locked !", "SO PIN final try !", "user PIN final try !",
		"SO PIN count low", "user PIN count low", "SO PIN to be changed", "user PIN to be changed"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestProbeInitFailure(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so, "init_rv 0x30", "token slot=0 label=L")
	_, err := pkcs11probe.Probe(context.Background(), f.Lib)
	var ce *pkcs11probe.CallError
	if !errors.As(err, &ce) || ce.Func != "C_Initialize" || ce.Name() != "CKR_DEVICE_ERROR" ||
		err.Error() != "C_Initialize returned CKR_DEVICE_ERROR (0x30)" {
		t.Fatalf("got %v", err)
	}
	// Not initialised, so not finalized; unloaded all the same.
	if got := f.Calls(t); !slices.Equal(got, []string{"C_Initialize", "unload"}) {
		t.Errorf("calls %v", got)
	}
}

func TestProbeTokenInfoFailure(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so, "token slot=0 label=good", "token slot=1 label=bad rv=0x30")
	r, err := (&pkcs11probe.Prober{}).Probe(context.Background(), f.Lib)
	if err != nil || len(r.Tokens) != 1 || r.Tokens[0].Label != "good" || len(r.Failed) != 1 ||
		r.Failed[1].Error() != "C_GetTokenInfo (slot 1) returned CKR_DEVICE_ERROR (0x30)" {
		t.Fatalf("one token failing must not hide the other: %+v %v", r, err)
	}
	f = p11test.NewFake(t, so, "token slot=4 label=bad rv=0x80000123")
	_, err = pkcs11probe.Probe(context.Background(), f.Lib)
	if err == nil || err.Error() != "C_GetTokenInfo (slot 4) returned 0x80000123 (vendor defined)" {
		t.Fatalf("got %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	d := t.TempDir()
	text := filepath.Join(d, "notalib.so")
	if err := os.WriteFile(text, []byte(strings.Repeat("not an ELF file, only text\n", 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	gcc := p11test.Need(t, "gcc")
	src := filepath.Join(d, "x.c")
	nop := filepath.Join(d, "nop.so")
	if err := os.WriteFile(src, []byte("int hello(void) { return 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-o", nop, src).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(d, "missing.so"), "cannot load the PKCS#11 library " + filepath.Join(d, "missing.so") + ": no such file"},
		{d, "it is a folder"},
		{text, "invalid ELF header"},
		{nop, "it has no C_GetFunctionList: not a PKCS#11 module"},
		{"", "no library given"},
	} {
		_, err := pkcs11probe.Open(c.path)
		var le *pkcs11probe.LoadError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q): %v, want a LoadError with %q", c.path, err, c.want)
		}
	}
}

// A library that hangs: Probe returns when its context ends, names the call, and the
// Prober refuses a second probe of that library while the first is stuck. When the call
// returns (this hang lasts 1.5 s), the stuck goroutine finalizes and unloads the library.
func TestProbeHang(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so, "hang tokeninfo 1500", "token slot=3 label=L")
	var pr pkcs11probe.Prober
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := pr.Probe(ctx, f.Lib)
	took := time.Since(start)
	var se *pkcs11probe.StuckError
	if !errors.As(err, &se) || se.Call != "C_GetTokenInfo (slot 3)" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if took > 1200*time.Millisecond {
		t.Errorf("Probe returned after %v; the context ended at 200ms", took)
	}
	_, err = pr.Probe(context.Background(), f.Lib)
	if !errors.As(err, &se) || se.Cause != nil || !strings.Contains(err.Error(), "an earlier probe is still blocked") {
		t.Fatalf("second probe: %v", err)
	}
	if call, busy := pr.Busy(f.Lib); !busy || call != "C_GetTokenInfo (slot 3)" {
		t.Errorf("Busy: %q %v", call, busy)
	}
	// Once the library returns, the goroutine finalizes and unloads it; wait for that (bounded).
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, busy := pr.Busy(f.Lib); !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the probe never ended: %v", f.Calls(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := f.Calls(t); !slices.Equal(got[len(got)-3:], []string{"hang", "C_Finalize", "unload"}) {
		t.Errorf("calls %v", got)
	}
}

func TestUlongAndRV(t *testing.T) {
	if pkcs11probe.Unavailable.Known() || pkcs11probe.Unavailable.String() != "unavailable" || pkcs11probe.Ulong(5).String() != "5" {
		t.Error("Ulong")
	}
	if pkcs11probe.Limit(pkcs11probe.Unavailable) != "unavailable" || pkcs11probe.Limit(10) != "10" {
		t.Error("Limit")
	}
	for rv, want := range map[uint]string{0x30: "CKR_DEVICE_ERROR (0x30)", 0xE0: "CKR_TOKEN_NOT_PRESENT (0xE0)",
		0x80000001: "0x80000001 (vendor defined)", 0x4242: "0x4242 (unknown)"} {
		if got := pkcs11probe.RVString(rv); got != want {
			t.Errorf("RVString(%#x) = %q, want %q", rv, got, want)
		}
	}
	if s := pkcs11probe.Flags(0x400 | 0x8000000).String(); s != "0x8000400 (CKF_TOKEN_INITIALIZED|0x8000000)" {
		t.Errorf("Flags.String: %s", s)
	}
}

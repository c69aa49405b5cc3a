package pkcs11probe_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

func tokenBySlot(t *testing.T, toks []pkcs11probe.Token, slot uint) pkcs11probe.Token {
	t.Helper()
	for _, tk := range toks {
		if tk.Slot == slot {
			return tk
		}
	}
	t.Fatalf("no token in slot %d: %+v", slot, toks)
	return pkcs11probe.Token{}
}

// What SoftHSM2 really reports: initialised tokens with their labels (two with the same
// one), a free uninitialised slot, no memory figures (CK_UNAVAILABLE_INFORMATION), no
// session count, no session limit (CK_EFFECTIVELY_INFINITE), no clock.
func TestProbeSoftHSM(t *testing.T) {
	s := p11test.NewSoftHSM(t)
	a := s.InitToken(t, "dup", "12345678", "1234")
	b := s.InitToken(t, "dup", "12345678", "1234")
	c := s.InitToken(t, "other one", "12345678", "1234")
	t.Setenv("SOFTHSM2_CONF", s.Conf)
	toks, err := pkcs11probe.Probe(context.Background(), s.Lib)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 4 {
		t.Fatalf("want 3 tokens and the free slot, got %d: %+v", len(toks), toks)
	}
	for slot, label := range map[uint]string{a: "dup", b: "dup", c: "other one"} {
		tk := tokenBySlot(t, toks, slot)
		if tk.Label != label || !tk.Initialized() || tk.Model != "SoftHSM v2" || tk.Manufacturer != "SoftHSM project" ||
			tk.TotalPrivateMemory.Known() || tk.FreePrivateMemory.Known() || tk.TotalPublicMemory.Known() || tk.FreePublicMemory.Known() ||
			tk.Sessions.Known() || tk.MaxSessions != 0 || tk.HasClock() || len(tk.PINProblems()) != 0 ||
			!tk.Flags.Has(pkcs11probe.FlagUserPINInitialized) || tk.Serial == "" {
			t.Errorf("slot %d: %+v", slot, tk)
		}
	}
	var free []pkcs11probe.Token
	for _, tk := range toks {
		if !tk.Initialized() {
			free = append(free, tk)
		}
	}
	// SoftHSM's free slot says its SO PIN is locked and to be changed: flags of a token that
	// has no PIN yet, which is why the checks skip uninitialised tokens.
	if len(free) != 1 || free[0].Label != "" ||
		free[0].Flags != pkcs11probe.FlagRNG|pkcs11probe.FlagLoginRequired|pkcs11probe.FlagRestoreKeyNotNeeded|
			pkcs11probe.FlagSOPINLocked|pkcs11probe.FlagSOPINToBeChanged {
		t.Errorf("free slot: %+v", free)
	}
}

// SoftHSM2's real lockout flags: a wrong PIN sets CKF_USER_PIN_COUNT_LOW (or
// CKF_SO_PIN_COUNT_LOW) and a good login clears it; SoftHSM has no retry limit, so it never
// sets FINAL_TRY or LOCKED however many wrong PINs it gets.
func TestSoftHSMFailedLogins(t *testing.T) {
	s := p11test.NewSoftHSM(t)
	slot := s.InitToken(t, "pins", "12345678", "1234")
	t.Setenv("SOFTHSM2_CONF", s.Conf)
	flags := func() pkcs11probe.Flags {
		toks, err := pkcs11probe.Probe(context.Background(), s.Lib)
		if err != nil {
			t.Fatal(err)
		}
		return tokenBySlot(t, toks, slot).Flags
	}
	lockout := pkcs11probe.FlagUserPINCountLow | pkcs11probe.FlagUserPINFinalTry | pkcs11probe.FlagUserPINLocked |
		pkcs11probe.FlagSOPINCountLow | pkcs11probe.FlagSOPINFinalTry | pkcs11probe.FlagSOPINLocked
	if f := flags(); f&lockout != 0 {
		t.Fatalf("fresh token: %v", f)
	}
	for i := 0; i < 12; i++ {
		if err := s.Login(t, slot, false, "9999"); err == nil || !strings.Contains(err.Error(), "CKR_PIN_INCORRECT") {
			t.Fatalf("a wrong PIN: %v", err)
		}
	}
	if f := flags(); f&lockout != pkcs11probe.FlagUserPINCountLow {
		t.Errorf("after 12 wrong user PINs: %v", f)
	}
	if err := s.Login(t, slot, false, "1234"); err != nil {
		t.Fatal(err)
	}
	if f := flags(); f&lockout != 0 {
		t.Errorf("after a good login: %v", f)
	}
	if err := s.Login(t, slot, true, "00000000"); err == nil || !strings.Contains(err.Error(), "CKR_PIN_INCORRECT") {
		t.Fatalf("a wrong SO PIN: %v", err)
	}
	if f := flags(); f&lockout != pkcs11probe.FlagSOPINCountLow {
		t.Errorf("after a wrong SO PIN: %v", f)
	}
}

func BenchmarkProbeFake(b *testing.B) {
	so := p11test.BuildFake(b)
	f := p11test.NewFake(b, so, "token slot=1 label=TOKENHAGROUP total_private=14286412 free_private=14242444")
	for b.Loop() {
		if _, err := pkcs11probe.Probe(context.Background(), f.Lib); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProbeSoftHSM(b *testing.B) {
	s := p11test.NewSoftHSM(b)
	s.InitToken(b, "bench", "12345678", "1234")
	b.Setenv("SOFTHSM2_CONF", s.Conf)
	for b.Loop() {
		if toks, err := pkcs11probe.Probe(context.Background(), s.Lib); err != nil || len(toks) != 2 {
			b.Fatal(toks, err)
		}
	}
}

// TestSpawnerEnv: a sources.pkcs11 entry's env reaches the probe child only: the token of
// a SoftHSM2 configuration named there is found, though this process's environment
// names none.
func TestSpawnerEnv(t *testing.T) {
	s := p11test.NewSoftHSM(t)
	s.InitToken(t, "by-env", "12345678", "1234")
	t.Setenv("SOFTHSM2_CONF", "/nonexistent/softhsm2.conf")
	rep, err := pkcs11probe.Spawner{Env: []string{"SOFTHSM2_CONF=" + s.Conf}}.ProbeReport(t.Context(), s.Lib)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, tk := range rep.Tokens {
		labels = append(labels, tk.Label)
	}
	if !strings.Contains(strings.Join(labels, ","), "by-env") {
		t.Errorf("tokens %q, want by-env from the child's SOFTHSM2_CONF", labels)
	}
	if _, err := (pkcs11probe.Spawner{}).ProbeReport(t.Context(), s.Lib); err == nil {
		t.Error("without env the child found a configuration: the test proves nothing")
	}
	sp := &pkcs11probe.Spec{Library: s.Lib, Env: map[string]string{"A=B": "x"}}
	if probs := sp.Check(); len(probs) != 1 || probs[0].Key != "env" {
		t.Errorf("a name with '=' in env: %v", probs)
	}
}

package pkcs11probe_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// TestMain gives Spawner an hsmwatch binary to run as the probe child.
func TestMain(m *testing.M) {
	os.Exit(p11test.ProbeMain(m))
}

// The report a child sends is the one Probe makes in process, failed slots included.
func TestSpawnerProbeReport(t *testing.T) {
	f := p11test.NewFake(t, p11test.BuildFake(t),
		"token slot=1 label=A serial=9 total_private=1000 free_private=100 flags=0x5040D utc=2024010203040500",
		"token slot=2 label=B rv=0xE0", "token slot=3 present=0")
	want, err := (&pkcs11probe.Prober{}).Probe(context.Background(), f.Lib)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pkcs11probe.Spawner{}.ProbeReport(context.Background(), f.Lib)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Tokens {
		want.Tokens[i].ReadAt, got.Tokens[i].ReadAt = time.Time{}, time.Time{}
		if !got.Tokens[i].Clock.Equal(want.Tokens[i].Clock) {
			t.Errorf("clock %v, want %v", got.Tokens[i].Clock, want.Tokens[i].Clock)
		}
		want.Tokens[i].Clock, got.Tokens[i].Clock = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got.Tokens, want.Tokens) || got.Info != want.Info || got.Library != f.Lib {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if len(got.Failed) != 1 || !pkcs11probe.IsRV(got.Failed[2], pkcs11probe.RVTokenNotPresent) {
		t.Errorf("failed %v, want slot 2 CKR_TOKEN_NOT_PRESENT", got.Failed)
	}
	// The probe's own error comes back as the error it was.
	bad := p11test.NewFake(t, p11test.BuildFake(t), "init_rv 0x30")
	_, err = pkcs11probe.Spawner{}.ProbeReport(context.Background(), bad.Lib)
	var ce *pkcs11probe.CallError
	if !errors.As(err, &ce) || ce.Func != "C_Initialize" || ce.RV != 0x30 {
		t.Errorf("init failure: %v", err)
	}
}

// A child that dies, exits early, writes garbage or hangs gives a ChildError or a
// StuckError, never a report.
func TestSpawnerFailures(t *testing.T) {
	so := p11test.BuildFake(t)
	script := func(body string) string {
		p := filepath.Join(t.TempDir(), "child.sh")
		if err := os.WriteFile(p, []byte("#!/bin/sh\ncat >/dev/null\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		sp   pkcs11probe.Spawner
		conf string
		want string
	}{
		{"segv", pkcs11probe.Spawner{}, "crash slotlist segv", "probe process killed by signal SIGSEGV in C_GetSlotList"},
		{"abort", pkcs11probe.Spawner{}, "crash info abort", "probe process killed by signal SIGABRT in C_GetInfo"},
		{"exit0", pkcs11probe.Spawner{}, "crash tokeninfo exit", "probe process exited with status 0 without a result in C_GetTokenInfo (slot 1)"},
		{"null", pkcs11probe.Spawner{}, "null tokeninfo", "probe process killed by signal SIGSEGV in C_GetTokenInfo (slot 1)"},
		{"garbage", pkcs11probe.Spawner{Exe: script(`echo '{"step":"C_Initialize"}'; echo 'hello from the vendor'`)}, "", `probe process wrote something other than the probe protocol: "hello from the vendor"`},
		{"silent", pkcs11probe.Spawner{Exe: script("exit 0")}, "", "probe process exited with status 0 without a result"},
		{"status", pkcs11probe.Spawner{Exe: script("exit 7")}, "", "probe process exited with status 7"},
	} {
		f := p11test.NewFake(t, so, c.conf, "token slot=1 label=A")
		_, err := c.sp.ProbeReport(context.Background(), f.Lib)
		var ce *pkcs11probe.ChildError
		if !errors.As(err, &ce) || err.Error() != "PKCS#11 library "+f.Lib+": "+c.want {
			t.Errorf("%s: got %v, want a ChildError %q", c.name, err, c.want)
		}
	}
	f := p11test.NewFake(t, so, "hang tokeninfo", "token slot=1 label=A")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := pkcs11probe.Spawner{}.ProbeReport(ctx, f.Lib)
	var se *pkcs11probe.StuckError
	if !errors.As(err, &se) || se.Call != "C_GetTokenInfo (slot 1)" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hang: returned after %v", d)
	}
	if calls := strings.Join(f.Calls(t), " "); strings.Contains(calls, "unload") {
		t.Errorf("hang: the killed child unloaded the library: %s", calls)
	}
}

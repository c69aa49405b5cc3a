package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// runCheck runs hsmwatch in this process and returns the exit status and standard output;
// a check must write nothing on standard error.
func runCheck(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	if errb.Len() > 0 {
		t.Errorf("hsmwatch %s wrote on standard error: %q", strings.Join(args, " "), errb.String())
	}
	return code, out.String()
}

func expect(t *testing.T, args []string, wantCode int, want string) {
	t.Helper()
	code, out := runCheck(t, args...)
	if code != wantCode || out != want {
		t.Errorf("hsmwatch %s\n got exit %d:\n%s\nwant exit %d:\n%s", strings.Join(args, " "), code, out, wantCode, want)
	}
}

// The spec: p11memmon against a Luna SA partition with 14286412 bytes of private memory of
// which 14242444 are free.
func TestCheckMemorySpecLuna(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so, "cryptoki 2.1",
		"token slot=1 label=TOKENHAGROUP total_private=14286412 free_private=14242444")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-l", "TOKENHAGROUP"}, 0,
		"OK: HSM memory usage is at 0% (43968 bytes in use) | used=43968B;;;0;14286412 usage=0.31%;75;90\n")
	// -v: p11memmon's step lines (without its banner), then the same final line.
	expect(t, []string{"check", "memory", "-p", f.Lib, "-l", "TOKENHAGROUP", "-v"}, 0,
		"Successfully loaded PKCS #11 library "+f.Lib+" with Cryptoki version 2.1\n"+
			"Successfully initialized the PKCS #11 library "+f.Lib+"\n"+
			"Found 1 slots with a token, looking for token TOKENHAGROUP\n"+
			"Found the token with label TOKENHAGROUP in slot 1\n"+
			"Token reports 14242444 bytes of 14286412 bytes private memory free\n"+
			"That means 43968 bytes of private memory are in use\n"+
			"Based on 14286412 bytes of private memory in total that means 0% is in use\n"+
			"Unloaded PKCS #11 library\n"+
			"OK: HSM memory usage is at 0% (43968 bytes in use) | used=43968B;;;0;14286412 usage=0.31%;75;90\n")
	// The same token by slot, with long options and p11memmon's explicit defaults.
	expect(t, []string{"check", "memory", "--library", f.Lib, "--slot", "1", "-w", "75", "-c", "90", "-t", "10"}, 0,
		"OK: HSM memory usage is at 0% (43968 bytes in use) | used=43968B;;;0;14286412 usage=0.31%;75;90\n")
	// The library was finalized and unloaded each time.
	calls := f.Calls(t)
	if n := strings.Count(strings.Join(calls, " "), "C_Finalize unload"); n != 3 {
		t.Errorf("want 3 finalize+unload, got calls %v", calls)
	}
}

func TestCheckMemoryStates(t *testing.T) {
	so := p11test.BuildFake(t)
	for _, c := range []struct {
		total, free string
		args        []string
		code        int
		want        string
	}{
		{"1000", "200", nil, 1, "WARNING: HSM memory usage is at 80% (800 bytes in use) | used=800B;;;0;1000 usage=80%;75;90"},
		{"1000", "50", nil, 2, "CRITICAL: HSM memory usage is at 95% (950 bytes in use) | used=950B;;;0;1000 usage=95%;75;90"},
		// The bounds belong to the range: exactly 75% is OK, exactly 90% a warning.
		{"1000", "250", nil, 0, "OK: HSM memory usage is at 75% (750 bytes in use) | used=750B;;;0;1000 usage=75%;75;90"},
		{"1000", "100", nil, 1, "WARNING: HSM memory usage is at 90% (900 bytes in use) | used=900B;;;0;1000 usage=90%;75;90"},
		// The exact percentage is compared; the text shows the whole number (floor).
		{"10000", "2495", nil, 1, "WARNING: HSM memory usage is at 75% (7505 bytes in use) | used=7505B;;;0;10000 usage=75.05%;75;90"},
		{"3", "0", nil, 2, "CRITICAL: HSM memory usage is at 100% (3 bytes in use) | used=3B;;;0;3 usage=100%;75;90"},
		{"3", "3", nil, 0, "OK: HSM memory usage is at 0% (0 bytes in use) | used=0B;;;0;3 usage=0%;75;90"},
		{"3", "1", nil, 0, "OK: HSM memory usage is at 66% (2 bytes in use) | used=2B;;;0;3 usage=66.67%;75;90"},
		// Ranges: -w 50: -c 10: alerts below (free memory style), @ inside.
		{"1000", "600", []string{"-w", "50:", "-c", "10:"}, 1, "WARNING: HSM memory usage is at 40% (400 bytes in use) | used=400B;;;0;1000 usage=40%;50:;10:"},
		{"1000", "600", []string{"-w", "", "-c", "@30:50"}, 2, "CRITICAL: HSM memory usage is at 40% (400 bytes in use) | used=400B;;;0;1000 usage=40%;;@30:50"},
		{"1000", "600", []string{"-w", "~:39.5", "-c", ""}, 1, "WARNING: HSM memory usage is at 40% (400 bytes in use) | used=400B;;;0;1000 usage=40%;~:39.5"},
		// -m replaces the total the token reports, known or not.
		{"14286412", "14242444", []string{"-m", "20000000", "-w", "25"}, 1, "WARNING: HSM memory usage is at 28% (5757556 bytes in use) | used=5757556B;;;0;20000000 usage=28.79%;25;90"},
		{"unavailable", "500", []string{"-m", "1000"}, 0, "OK: HSM memory usage is at 50% (500 bytes in use) | used=500B;;;0;1000 usage=50%;75;90"},
		{"0", "500", []string{"-m", "1000"}, 0, "OK: HSM memory usage is at 50% (500 bytes in use) | used=500B;;;0;1000 usage=50%;75;90"},
		// What cannot be checked is UNKNOWN, with what to do.
		{"1000", "unavailable", nil, 3, `UNKNOWN: token "T" does not report its free private memory (CK_UNAVAILABLE_INFORMATION), so its memory cannot be checked; hsmwatch check token checks what it does report`},
		{"unavailable", "unavailable", nil, 3, `UNKNOWN: token "T" does not report its free private memory (CK_UNAVAILABLE_INFORMATION), so its memory cannot be checked; hsmwatch check token checks what it does report`},
		{"unavailable", "500", nil, 3, `UNKNOWN: token "T" does not report its total private memory (CK_UNAVAILABLE_INFORMATION); give the real total with -m BYTES`},
		{"0", "0", nil, 3, `UNKNOWN: token "T" reports a total of 0 bytes of private memory; give the real total with -m BYTES`},
		{"1000", "1001", nil, 3, `UNKNOWN: token "T" reports more free private memory (1001 bytes) than in total (1000 bytes); give the real total with -m BYTES`},
		{"1000", "900", []string{"-m", "800"}, 3, `UNKNOWN: token "T" reports more free private memory (900 bytes) than the 800 bytes in total given with -m; check -m`},
		// Largest figures: no overflow (2^64-2 is the largest that is not CK_UNAVAILABLE_INFORMATION).
		{"18446744073709551614", "0", nil, 2, "CRITICAL: HSM memory usage is at 100% (18446744073709551614 bytes in use) | used=18446744073709552000B;;;0;18446744073709552000 usage=100%;75;90"},
		{"18446744073709551614", "18446744073709551613", nil, 0, "OK: HSM memory usage is at 0% (1 bytes in use) | used=1B;;;0;18446744073709552000 usage=0%;75;90"},
	} {
		f := p11test.NewFake(t, so, fmt.Sprintf("token slot=3 label=T total_private=%s free_private=%s total_public=77 free_public=7", c.total, c.free))
		args := append([]string{"check", "memory", "-p", f.Lib, "-l", "T"}, c.args...)
		expect(t, args, c.code, c.want+"\n")
	}
}

func TestCheckMemoryPublicAndAll(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so,
		"token slot=1 label=A total_private=1000 free_private=900 total_public=200 free_public=20",
		"token slot=2 label=B total_private=1000 free_private=50",
		"token slot=3 label=A total_private=1000 free_private=1000",
		"token slot=4 label=blank flags=0x5",
		"token slot=5 label=gone present=0")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "1", "--memory", "public"}, 1,
		"WARNING: HSM public memory usage is at 90% (180 bytes in use) | public_used=180B;;;0;200 public_usage=90%;75;90\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "0x1", "--memory", "both"}, 1,
		"WARNING: HSM memory usage is at 10% (100 bytes in use); HSM public memory usage is at 90% (180 bytes in use)"+
			" | used=100B;;;0;1000 usage=10%;75;90 public_used=180B;;;0;200 public_usage=90%;75;90\n")
	// One kind critical, the other unknown: CRITICAL (never hidden by what cannot be checked).
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "2", "--memory", "both"}, 2,
		`CRITICAL: HSM memory usage is at 95% (950 bytes in use); token "B" does not report its free public memory (CK_UNAVAILABLE_INFORMATION), so its memory cannot be checked; hsmwatch check token checks what it does report`+
			" | used=950B;;;0;1000 usage=95%;75;90\n")
	// --all: every initialised token (not slot 4), duplicate labels named by slot.
	expect(t, []string{"check", "memory", "-p", f.Lib, "--all"}, 2,
		"CRITICAL: B: HSM memory usage is at 95% (950 bytes in use); 2 more tokens OK"+
			" | 'A@slot1 used'=100B;;;0;1000 'A@slot1 usage'=10%;75;90 'B used'=950B;;;0;1000 'B usage'=95%;75;90 'A@slot3 used'=0B;;;0;1000 'A@slot3 usage'=0%;75;90\n"+
			"OK: A@slot1: HSM memory usage is at 10% (100 bytes in use)\n"+
			"CRITICAL: B: HSM memory usage is at 95% (950 bytes in use)\n"+
			"OK: A@slot3: HSM memory usage is at 0% (0 bytes in use)\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "--all", "-c", "99"}, 1,
		"WARNING: B: HSM memory usage is at 95% (950 bytes in use); 2 more tokens OK"+
			" | 'A@slot1 used'=100B;;;0;1000 'A@slot1 usage'=10%;75;99 'B used'=950B;;;0;1000 'B usage'=95%;75;99 'A@slot3 used'=0B;;;0;1000 'A@slot3 usage'=0%;75;99\n"+
			"OK: A@slot1: HSM memory usage is at 10% (100 bytes in use)\n"+
			"WARNING: B: HSM memory usage is at 95% (950 bytes in use)\n"+
			"OK: A@slot3: HSM memory usage is at 0% (0 bytes in use)\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "--all", "-w", "99", "-c", "99"}, 0,
		"OK: HSM memory usage is fine on 3 tokens"+
			" | 'A@slot1 used'=100B;;;0;1000 'A@slot1 usage'=10%;99;99 'B used'=950B;;;0;1000 'B usage'=95%;99;99 'A@slot3 used'=0B;;;0;1000 'A@slot3 usage'=0%;99;99\n"+
			"OK: A@slot1: HSM memory usage is at 10% (100 bytes in use)\n"+
			"OK: B: HSM memory usage is at 95% (950 bytes in use)\n"+
			"OK: A@slot3: HSM memory usage is at 0% (0 bytes in use)\n")
}

func TestCheckMemoryCannotCheck(t *testing.T) {
	so := p11test.BuildFake(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.so")
	expect(t, []string{"check", "memory", "-p", missing, "-l", "X"}, 3,
		"UNKNOWN: cannot load the PKCS#11 library "+missing+": no such file; check the path given with -p and that the library suits this system (ldd "+missing+")\n")
	text := filepath.Join(dir, "text.so")
	if err := os.WriteFile(text, []byte(strings.Repeat("just text\n", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCheck(t, "check", "memory", "-p", text, "-l", "X")
	if code != 3 || !strings.HasPrefix(out, "UNKNOWN: cannot load the PKCS#11 library "+text+": ") || !strings.Contains(out, "invalid ELF header") {
		t.Errorf("not a library: %d %q", code, out)
	}

	init := p11test.NewFake(t, so, "init_rv 0x30", "token slot=1 label=X")
	expect(t, []string{"check", "memory", "-p", init.Lib, "-l", "X"}, 3,
		"UNKNOWN: C_Initialize returned CKR_DEVICE_ERROR (0x30); check the library's configuration (Luna: Chrystoki.conf and the client certificate; SoftHSM: SOFTHSM2_CONF and its token folder) and that this user may read it\n")
	vendor := p11test.NewFake(t, so, "init_rv 0x80000042")
	expect(t, []string{"check", "memory", "-p", vendor.Lib, "-l", "X"}, 3,
		"UNKNOWN: C_Initialize returned 0x80000042 (vendor defined); check the library's configuration (Luna: Chrystoki.conf and the client certificate; SoftHSM: SOFTHSM2_CONF and its token folder) and that this user may read it\n")

	none := p11test.NewFake(t, so, "token slot=1 label=X present=0")
	expect(t, []string{"check", "memory", "-p", none.Lib, "-l", "X"}, 3,
		"UNKNOWN: the library "+none.Lib+" reports no slot with a token present; check that the HSM is reachable and that this client has a partition or token assigned (Luna: lunacm slot list; SoftHSM: softhsm2-util --show-slots)\n")

	f := p11test.NewFake(t, so,
		"token slot=1 label=A total_private=10 free_private=5 serial=S1",
		"token slot=2 label=A total_private=10 free_private=5 serial=S2",
		"token slot=3 label=b%20c total_private=10 free_private=5",
		"token slot=4 label=broken rv=0x30",
		"token slot=6 label=away present=0")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-l", "A"}, 3,
		`UNKNOWN: 2 tokens are labelled "A" (slot 1 serial S1, slot 2 serial S2); choose one with -s SLOT`+"\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-l", "a"}, 3,
		`UNKNOWN: no token labelled "a" among the 4 present (labels: "A", "A", "b c"); 1 could not be read (C_GetTokenInfo (slot 4) returned CKR_DEVICE_ERROR (0x30)); check -l (labels are case-sensitive)`+"\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-l", "b c"}, 0,
		"OK: HSM memory usage is at 50% (5 bytes in use) | used=5B;;;0;10 usage=50%;75;90\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "2", "-l", "A"}, 0,
		"OK: HSM memory usage is at 50% (5 bytes in use) | used=5B;;;0;10 usage=50%;75;90\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "3", "-l", "A"}, 3,
		`UNKNOWN: the token in slot 3 is labelled "b c", not "A"; check -l and -s`+"\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "9"}, 3,
		"UNKNOWN: there is no slot 9 (slots with a token: 1, 2, 3, 4); check -s\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "6"}, 3,
		"UNKNOWN: no token is present in slot 6 (slots with a token: 1, 2, 3, 4); check -s\n")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-s", "4"}, 3,
		"UNKNOWN: C_GetTokenInfo (slot 4) returned CKR_DEVICE_ERROR (0x30)\n")
}

func TestCheckUsageIsUnknown(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "memory", "-l", "X"}, "UNKNOWN: give the PKCS#11 library with -p LIBRARY (see hsmwatch check memory --help)"},
		{[]string{"check", "memory", "-p", "x.so"}, "UNKNOWN: say which token: -l LABEL, -s SLOT or --all (see hsmwatch check memory --help)"},
		{[]string{"check", "memory", "-p", "x.so", "--all", "-l", "X"}, "UNKNOWN: --all checks every token: give it without -l and -s (see hsmwatch check memory --help)"},
		{[]string{"check", "memory", "-p", "x.so", "-l", "X", "-w", "90:80"}, `UNKNOWN: warning threshold: range "90:80": start 90 is greater than end 80 (see hsmwatch check memory --help)`},
		{[]string{"check", "memory", "-p", "x.so", "-l", "X", "-c", "x"}, `UNKNOWN: critical threshold: range "x": "x" is not a number (see hsmwatch check memory --help)`},
		{[]string{"check", "memory", "-p", "x.so", "-l", "X", "-t", "0"}, `UNKNOWN: timeout "0": must be more than zero and at most a day (see hsmwatch check memory --help)`},
		{[]string{"check", "memory", "-p", "x.so", "-s", "one"}, `UNKNOWN: -s "one": give a slot number (as pkcs11-tool --list-slots shows it) (see hsmwatch check memory --help)`},
		{[]string{"check", "memory", "-p", "x.so", "-l", "X", "--memory", "all"}, `UNKNOWN: --memory "all": use private, public or both (see hsmwatch check memory --help)`},
		{[]string{"check", "memory", "-p", "x.so", "-l", "X", "-m", "-5"}, `UNKNOWN: invalid argument "-5" for "-m, --total" flag: strconv.ParseUint: parsing "-5": invalid syntax (see hsmwatch check memory --help)`},
		{[]string{"check", "memory", "--bogus"}, "UNKNOWN: unknown flag: --bogus (see hsmwatch check memory --help)"},
		{[]string{"check", "memory", "-p", "x.so", "-l", "X", "extra"}, `UNKNOWN: unexpected argument "extra" (see hsmwatch check memory --help)`},
		{[]string{"check", "token", "-p", "x.so", "-l", "X", "--clock-warning", "a"}, `UNKNOWN: clock: warning threshold: range "a": "a" is not a number (see hsmwatch check token --help)`},
		{[]string{"check", "token", "-p", "x.so", "-l", "X", "--sessions-critical", "5:1"}, `UNKNOWN: sessions: critical threshold: range "5:1": start 5 is greater than end 1 (see hsmwatch check token --help)`},
		{[]string{"check", "token", "-x"}, "UNKNOWN: unknown shorthand flag: 'x' in -x (see hsmwatch check token --help)"},
	} {
		expect(t, c.args, 3, c.want+"\n")
	}
}

// A library that never returns: the watchdog ends the check at -t with UNKNOWN (or the
// state given as -t N:STATE) and names the call, while the goroutine stays blocked in C.
func TestCheckHang(t *testing.T) {
	so := p11test.BuildFake(t)
	for _, c := range []struct {
		where, timeout string
		code           int
		want           string
	}{
		{"tokeninfo", "2", 3, "UNKNOWN: timed out after 2s waiting for C_GetTokenInfo (slot 1) in %s; check that the HSM answers (network, server list, client certificate) or raise -t\n"},
		{"init", "2000ms", 3, "UNKNOWN: timed out after 2s waiting for C_Initialize in %s; check that the HSM answers (network, server list, client certificate) or raise -t\n"},
		{"slotlist", "2:critical", 2, "CRITICAL: timed out after 2s waiting for C_GetSlotList in %s; check that the HSM answers (network, server list, client certificate) or raise -t\n"},
		{"finalize", "2", 3, "UNKNOWN: timed out after 2s waiting for C_Finalize in %s; check that the HSM answers (network, server list, client certificate) or raise -t\n"},
	} {
		// Timeouts of 2 s rather than tenths: the child that runs the library must reach
		// the hanging call first, which on a loaded machine under -race can take longer than
		// 0.3 s, and the message names the call the watchdog caught.
		for _, cmd := range []string{"memory", "token"} {
			// A copy of its own for each run: a library stuck in this process stays loaded.
			f := p11test.NewFake(t, so, "hang "+c.where, "token slot=1 label=X total_private=10 free_private=5")
			start := time.Now()
			code, out := runCheck(t, "check", cmd, "-p", f.Lib, "-l", "X", "-t", c.timeout)
			took := time.Since(start)
			if want := fmt.Sprintf(c.want, f.Lib); code != c.code || out != want {
				t.Errorf("hang %s, check %s: got %d %q, want %d %q", c.where, cmd, code, out, c.code, want)
			}
			if took < 2*time.Second || took > 10*time.Second {
				t.Errorf("hang %s, check %s: returned after %v, want about 2s", c.where, cmd, took)
			}
		}
	}
	// -v: the step lines stop where the library hung; nothing is written after the result.
	f := p11test.NewFake(t, so, "cryptoki 2.20", "hang tokeninfo", "token slot=1 label=X total_private=10 free_private=5")
	expect(t, []string{"check", "memory", "-p", f.Lib, "-l", "X", "-t", "2", "-v"}, 3,
		"Successfully loaded PKCS #11 library "+f.Lib+" with Cryptoki version 2.20\n"+
			"Successfully initialized the PKCS #11 library "+f.Lib+"\n"+
			"Found 1 slots with a token, looking for token X\n"+
			"UNKNOWN: timed out after 2s waiting for C_GetTokenInfo (slot 1) in "+f.Lib+"; check that the HSM answers (network, server list, client certificate) or raise -t\n")
	// A slow library within the timeout is fine: the watchdog does not fire early.
	slow := p11test.NewFake(t, so, "hang tokeninfo 300", "token slot=1 label=X total_private=10 free_private=5")
	expect(t, []string{"check", "memory", "-p", slow.Lib, "-l", "X", "-t", "5"}, 0,
		"OK: HSM memory usage is at 50% (5 bytes in use) | used=5B;;;0;10 usage=50%;75;90\n")
}

func TestCheckToken(t *testing.T) {
	so := p11test.BuildFake(t)
	// 0x40D is CKF_RNG, CKF_LOGIN_REQUIRED, CKF_USER_PIN_INITIALIZED, CKF_TOKEN_INITIALIZED.
	for _, c := range []struct {
		name, token string
		args        []string
		code        int
		summary     string
	}{
		{"healthy, nothing reported", "flags=0x40D", nil, 0, "token T in slot 1 is fine: no PIN lockout flags"},
		{"user count low", "flags=0x1040D", nil, 1, "token T in slot 1: user PIN count low"},
		{"user final try", "flags=0x3040D", nil, 2, "token T in slot 1: user PIN final try, user PIN count low"},
		{"user locked", "flags=0x4040D", nil, 2, "token T in slot 1: user PIN locked"},
		{"user to be changed", "flags=0x8040D", nil, 1, "token T in slot 1: user PIN to be changed"},
		{"SO count low", "flags=0x10040D", nil, 1, "token T in slot 1: SO PIN count low"},
		{"SO final try", "flags=0x20040D", nil, 2, "token T in slot 1: SO PIN final try"},
		{"SO locked", "flags=0x40040D", nil, 2, "token T in slot 1: SO PIN locked"},
		{"SO to be changed", "flags=0x80040D", nil, 1, "token T in slot 1: SO PIN to be changed"},
		{"error state", "flags=0x100040D", nil, 2, "token T in slot 1: in an error state"},
		{"not initialised", "flags=0x5", nil, 2, "token T in slot 1: not initialised"},
		{"sessions ok", "sessions=10 max_sessions=100 rw_sessions=1 max_rw_sessions=10", nil, 0,
			"token T in slot 1 is fine: no PIN lockout flags, sessions 10 of 100, read/write sessions 1 of 10"},
		{"sessions warning", "sessions=85 max_sessions=100", nil, 1, "token T in slot 1: sessions 85 of 100"},
		{"rw sessions critical", "sessions=5 max_sessions=100 rw_sessions=10 max_rw_sessions=10", nil, 2, "token T in slot 1: read/write sessions 10 of 10"},
		{"sessions custom", "sessions=50 max_sessions=100", []string{"--sessions-warning", "40"}, 1, "token T in slot 1: sessions 50 of 100"},
		{"memory", "total_private=1000 free_private=50 total_public=1000 free_public=900", nil, 2, "token T in slot 1: private memory 95% used"},
		{"memory unusable", "total_private=0 free_private=50", nil, 0, "token T in slot 1 is fine: no PIN lockout flags"},
		{"clock unreadable", "flags=0x44D utc=garbage", nil, 1, "token T in slot 1: clock unreadable"},
	} {
		f := p11test.NewFake(t, so, "token slot=1 label=T "+c.token)
		code, out := runCheck(t, append([]string{"check", "token", "-p", f.Lib, "-l", "T"}, c.args...)...)
		first, _, _ := strings.Cut(out, "\n")
		status, _, _ := strings.Cut(first, ": ")
		summary := strings.TrimPrefix(first, status+": ")
		summary, _, _ = strings.Cut(summary, " | ")
		if code != c.code || summary != c.summary || status != []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[c.code] {
			t.Errorf("%s: got %d %q\n%s", c.name, code, summary, out)
		}
	}
}

// The whole output of check token for a token with every figure, and its clock.
func TestCheckTokenFull(t *testing.T) {
	so := p11test.BuildFake(t)
	// The token's clock runs 120 s ahead of this host.
	utc := time.Now().UTC().Add(120*time.Second).Format("20060102150405") + "00"
	f := p11test.NewFake(t, so, "token slot=1 label=HSM%20A model=LunaSA serial=7001 manufacturer=Safenet hw=7.3 fw=7.8 flags=0x1044D"+
		" sessions=3 max_sessions=100 rw_sessions=1 max_rw_sessions=infinite total_private=14286412 free_private=14242444 utc="+utc)
	code, out := runCheck(t, "check", "token", "-p", f.Lib, "-s", "1")
	lines := strings.Split(out, "\n")
	if code != 1 || len(lines) != 10 {
		t.Fatalf("exit %d, %d lines:\n%s", code, len(lines), out)
	}
	// The clock drift is 120 s less the time between writing the configuration and reading
	// the token, give or take the clock's one-second resolution; check it is within 110 to
	// 121 s, then write it as 120 to compare the rest exactly.
	drift := regexp.MustCompile(`(clock |clock_drift=)(\d+)s`)
	for i := range lines {
		lines[i] = drift.ReplaceAllStringFunc(lines[i], func(m string) string {
			sub := drift.FindStringSubmatch(m)
			n, _ := strconv.Atoi(sub[2])
			if n < 110 || n > 121 {
				t.Errorf("clock drift %ds, want about 120s: %q", n, lines[i])
			}
			return sub[1] + "120s"
		})
	}
	got := strings.Join(lines, "\n")
	want := "WARNING: token HSM A in slot 1: user PIN count low, clock 120s ahead of this host" +
		" | sessions=3;;;0;100 sessions_usage=3%;80;95 rw_sessions=1;;;0 private_used=43968B;;;0;14286412 private_usage=0.31%;75;90 clock_drift=120s;60;300\n" +
		"token HSM A in slot 1: WARNING; model LunaSA, serial 7001, manufacturer Safenet, hardware 7.3, firmware 7.8\n" +
		"  flags: CKF_RNG, CKF_LOGIN_REQUIRED, CKF_USER_PIN_INITIALIZED, CKF_CLOCK_ON_TOKEN, CKF_TOKEN_INITIALIZED, CKF_USER_PIN_COUNT_LOW\n" +
		"  WARNING: user PIN count low: a wrong user PIN was given since the last good login; look for a misconfigured client\n" +
		"  OK: sessions 3 of 100 (3.00%)\n" +
		"  read/write sessions in use: 1 (maximum unlimited)\n" +
		"  OK: private memory 0% used (43968 of 14286412 bytes)\n" +
		"  public memory: not reported\n"
	if !strings.HasPrefix(got, want) {
		t.Errorf("got\n%s\nwant it to start with\n%s", got, want)
	}
	if !strings.HasPrefix(lines[8], "  WARNING: clock 120s ahead of this host (token ") || lines[9] != "" {
		t.Errorf("clock line: %q", lines[8])
	}
	// About 120 s is beyond a 100 s critical drift.
	code, out = runCheck(t, "check", "token", "-p", f.Lib, "-s", "1", "--clock-critical", "100")
	if code != 2 || !strings.Contains(out, "clock 1") || !strings.Contains(out, "s ahead of this host") {
		t.Errorf("clock critical: %d %s", code, out)
	}
}

func TestCheckTokenAll(t *testing.T) {
	so := p11test.BuildFake(t)
	f := p11test.NewFake(t, so,
		"token slot=1 label=A",
		"token slot=2 label=B flags=0x4040D",
		"token slot=3 label=free flags=0x5",
		"token slot=4 label=C rv=0xE0")
	code, out := runCheck(t, "check", "token", "-p", f.Lib, "--all")
	first, _, _ := strings.Cut(out, " | ")
	if code != 2 || first != "CRITICAL: token B in slot 2: user PIN locked; slot 4: C_GetTokenInfo (slot 4) returned CKR_TOKEN_NOT_PRESENT (0xE0); 1 more token OK" {
		t.Errorf("got %d\n%s", code, out)
	}
	if !strings.Contains(out, "\n  CRITICAL: user PIN locked: applications cannot log in; the SO must reset the user PIN (C_InitPIN)\n") {
		t.Errorf("long text lacks the advice:\n%s", out)
	}
	g := p11test.NewFake(t, so, "token slot=1 label=A", "token slot=3 label=free flags=0x5")
	code, out = runCheck(t, "check", "token", "-p", g.Lib, "--all")
	if first, _, _ := strings.Cut(out, " | "); code != 0 || first != "OK: 1 token is fine" {
		t.Errorf("got %d\n%s", code, out)
	}
	h := p11test.NewFake(t, so, "token slot=3 label=free flags=0x5")
	expect(t, []string{"check", "token", "-p", h.Lib, "--all"}, 3,
		"UNKNOWN: none of the 1 tokens present is initialised; initialise one, or check -p\n")
}

// SoftHSM2, as Debian ships it: real labels, a duplicate label, the memory it does not
// report (UNKNOWN), its free uninitialised slot, and the flag a wrong PIN really sets.
func TestCheckSoftHSM(t *testing.T) {
	s := p11test.NewSoftHSM(t)
	a := s.InitToken(t, "dup", "12345678", "1234")
	b := s.InitToken(t, "dup", "12345678", "1234")
	c := s.InitToken(t, "web keys", "12345678", "1234")
	t.Setenv("SOFTHSM2_CONF", s.Conf)

	unknown := `UNKNOWN: token "web keys" does not report its free private memory (CK_UNAVAILABLE_INFORMATION), so its memory cannot be checked; hsmwatch check token checks what it does report` + "\n"
	expect(t, []string{"check", "memory", "-p", s.Lib, "-l", "web keys"}, 3, unknown)
	expect(t, []string{"check", "memory", "-p", s.Lib, "-l", "web keys", "-v"}, 3,
		"Successfully loaded PKCS #11 library "+s.Lib+" with Cryptoki version 2.40\n"+
			"Successfully initialized the PKCS #11 library "+s.Lib+"\n"+
			"Found 4 slots with a token, looking for token web keys\n"+
			"Found the token with label web keys in slot "+fmt.Sprint(c)+"\n"+
			"Token does not report its free private memory\n"+
			"Unloaded PKCS #11 library\n"+unknown)
	// -m cannot help: the free figure is missing too.
	expect(t, []string{"check", "memory", "-p", s.Lib, "-l", "web keys", "-m", "1000000"}, 3, unknown)
	lo, hi := min(a, b), max(a, b)
	serial := func(slot uint) string {
		t.Helper()
		code, out := runCheck(t, "check", "token", "-p", s.Lib, "-s", fmt.Sprint(slot))
		_, rest, ok := strings.Cut(out, "serial ")
		if code != 0 || !ok {
			t.Fatalf("check token -s %d: %d %s", slot, code, out)
		}
		ser, _, _ := strings.Cut(rest, ",")
		return ser
	}
	expect(t, []string{"check", "memory", "-p", s.Lib, "-l", "dup"}, 3,
		fmt.Sprintf(`UNKNOWN: 2 tokens are labelled "dup" (slot %d serial %s, slot %d serial %s); choose one with -s SLOT`+"\n", lo, serial(lo), hi, serial(hi)))
	// The labels come in SoftHSM's slot order.
	code, out := runCheck(t, "check", "memory", "-p", s.Lib, "-l", "Dup")
	const pre, post = `UNKNOWN: no token labelled "Dup" among the 4 present (labels: `, "); check -l (labels are case-sensitive)\n"
	labels := strings.Split(strings.TrimSuffix(strings.TrimPrefix(out, pre), post), ", ")
	slices.Sort(labels)
	if code != 3 || !strings.HasPrefix(out, pre) || !strings.HasSuffix(out, post) || !slices.Equal(labels, []string{`"dup"`, `"dup"`, `"web keys"`}) {
		t.Errorf("label not found: %d %q", code, out)
	}
	code, out = runCheck(t, "check", "memory", "-p", s.Lib, "--all")
	if code != 3 || !strings.HasPrefix(out, `UNKNOWN: `) || strings.Count(out, "\nUNKNOWN: dup@slot") != 2 || strings.Count(out, "does not report its free private memory") != 6 {
		t.Errorf("--all: %d\n%s", code, out)
	}

	// check token: what SoftHSM reports is fine; what it does not report is said.
	expect(t, []string{"check", "token", "-p", s.Lib, "-l", "web keys"}, 0,
		fmt.Sprintf("OK: token web keys in slot %d is fine: no PIN lockout flags\n", c)+
			fmt.Sprintf("token web keys in slot %d: OK; model SoftHSM v2, serial %s, manufacturer SoftHSM project, hardware 2.6, firmware 2.6\n", c, serial(c))+
			"  flags: CKF_RNG, CKF_LOGIN_REQUIRED, CKF_USER_PIN_INITIALIZED, CKF_RESTORE_KEY_NOT_NEEDED, CKF_TOKEN_INITIALIZED\n"+
			"  OK: no PIN lockout flags\n"+
			"  sessions in use: not reported (maximum unlimited)\n"+
			"  read/write sessions in use: not reported (maximum unlimited)\n"+
			"  private memory: not reported\n"+
			"  public memory: not reported\n"+
			"  clock: none on this token\n")
	// A wrong user PIN: SoftHSM sets CKF_USER_PIN_COUNT_LOW (and never FINAL_TRY or LOCKED).
	if err := s.Login(t, c, false, "0000"); err == nil {
		t.Fatal("a wrong PIN logged in")
	}
	code, out = runCheck(t, "check", "token", "-p", s.Lib, "-l", "web keys")
	if first, _, _ := strings.Cut(out, "\n"); code != 1 || first != fmt.Sprintf("WARNING: token web keys in slot %d: user PIN count low", c) {
		t.Errorf("after a wrong PIN: %d\n%s", code, out)
	}
	code, out = runCheck(t, "check", "token", "-p", s.Lib, "--all")
	if first, _, _ := strings.Cut(out, "\n"); code != 1 || first != fmt.Sprintf("WARNING: token web keys in slot %d: user PIN count low; 2 more tokens OK", c) {
		t.Errorf("--all after a wrong PIN: %d\n%s", code, out)
	}
	// A good login clears it.
	if err := s.Login(t, c, false, "1234"); err != nil {
		t.Fatal(err)
	}
	if code, out = runCheck(t, "check", "token", "-p", s.Lib, "-l", "web keys"); code != 0 {
		t.Errorf("after a good login: %d\n%s", code, out)
	}
	// SoftHSM's free slot is not initialised (and claims its SO PIN is locked): --all skips
	// it, -s on it says it is not initialised.
	free := freeSlot(t, s.Lib)
	code, out = runCheck(t, "check", "token", "-p", s.Lib, "-s", fmt.Sprint(free))
	if first, _, _ := strings.Cut(out, "\n"); code != 2 || first != fmt.Sprintf("CRITICAL: token (no label) in slot %d: not initialised", free) {
		t.Errorf("free slot: %d\n%s", code, out)
	}
}

// freeSlot finds SoftHSM's uninitialised slot with pkcs11-tool, independently of hsmwatch.
func freeSlot(t *testing.T, lib string) uint {
	t.Helper()
	tool := p11test.Need(t, "pkcs11-tool")
	out, err := exec.Command(tool, "--module", lib, "--list-token-slots").CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool: %v %s", err, out)
	}
	// "Slot 3 (0x2): SoftHSM slot ID 0x2\n  token state:   uninitialized"
	var slot uint
	found := false
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Slot ") {
			_, rest, _ := strings.Cut(l, "(")
			hex, _, _ := strings.Cut(rest, ")")
			if _, err := fmt.Sscanf(hex, "0x%x", &slot); err != nil {
				t.Fatalf("pkcs11-tool line %q: %v", l, err)
			}
		}
		if strings.Contains(l, "uninitialized") {
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("pkcs11-tool shows no uninitialised slot:\n%s", out)
	}
	return slot
}

package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// A library that crashes, aborts, exits or leaves a function NULL takes down only the
// probe child: the check is UNKNOWN with one line naming the library and what happened,
// and the checks stay healthy afterwards.
func TestCheckLibraryCrash(t *testing.T) {
	so := p11test.BuildFake(t)
	tok := "token slot=1 label=X total_private=10 free_private=5"
	for _, c := range []struct {
		conf, want string
	}{
		{"crash tokeninfo segv", "UNKNOWN: PKCS#11 library %s: probe process killed by signal SIGSEGV in C_GetTokenInfo (slot 1)\n"},
		{"crash tokeninfo abort", "UNKNOWN: PKCS#11 library %s: probe process killed by signal SIGABRT in C_GetTokenInfo (slot 1)\n"},
		{"crash tokeninfo exit", "UNKNOWN: PKCS#11 library %s: probe process exited with status 0 without a result in C_GetTokenInfo (slot 1)\n"},
		{"crash init segv", "UNKNOWN: PKCS#11 library %s: probe process killed by signal SIGSEGV in C_Initialize\n"},
		{"null tokeninfo", "UNKNOWN: PKCS#11 library %s: probe process killed by signal SIGSEGV in C_GetTokenInfo (slot 1)\n"},
		{"crash finalize abort", "UNKNOWN: PKCS#11 library %s: probe process killed by signal SIGABRT in C_Finalize\n"},
	} {
		for _, cmd := range []string{"memory", "token"} {
			f := p11test.NewFake(t, so, c.conf, tok)
			code, out := runCheck(t, "check", cmd, "-p", f.Lib, "-l", "X", "-t", "10")
			if want := fmt.Sprintf(c.want, f.Lib); code != 3 || out != want {
				t.Errorf("%s, check %s: got %d %q, want 3 %q", c.conf, cmd, code, out, want)
			}
		}
	}
	// A library that hangs for ever: the child is killed at the timeout.
	f := p11test.NewFake(t, so, "hang tokeninfo", tok)
	start := time.Now()
	code, out := runCheck(t, "check", "token", "-p", f.Lib, "--all", "-t", "0.3")
	want := "UNKNOWN: timed out after 0.3s waiting for C_GetTokenInfo (slot 1) in " + f.Lib + "; check that the HSM answers (network, server list, client certificate) or raise -t\n"
	if code != 3 || out != want || time.Since(start) > 5*time.Second {
		t.Errorf("hang: got %d %q after %v, want 3 %q", code, out, time.Since(start), want)
	}
	// The same binary checks a healthy library right after.
	ok := p11test.NewFake(t, so, tok)
	expect(t, []string{"check", "memory", "-p", ok.Lib, "-l", "X"}, 0,
		"OK: HSM memory usage is at 50% (5 bytes in use) | used=5B;;;0;10 usage=50%;75;90\n")
}

// Package p11test gives tests PKCS#11 libraries to probe: fakep11, the small module under
// internal/source/pkcs11probe/testdata/fakep11 that reports the figures a test chooses (built
// with gcc into the test's temporary folder), and SoftHSM2 tokens in a temporary token
// folder. A missing tool (gcc, softhsm2-util, the SoftHSM library) fails the test when CI=true
// and skips it otherwise.
package p11test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

// ProbeMain is the TestMain of packages whose code runs PKCS#11 probe children
// (pkcs11probe.Spawner): it serves a child request when this process is one, else builds
// cmd/hsmwatch once, without -race, into a temporary folder, points
// pkcs11probe.ExeEnv at it, runs the tests and returns their exit status. A test binary
// as the child would do too, but under -race it starts slowly and sleeps a second at
// exit, more than the checks' short timeouts in tests allow.
func ProbeMain(m *testing.M) int {
	pkcs11probe.MaybeChild()
	dir, err := os.MkdirTemp("", "hsmwatch-probe-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "p11test:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	exe := filepath.Join(dir, "hsmwatch")
	cmd := exec.Command("go", "build", "-o", exe, "github.com/hsmwatch/hsmwatch/cmd/hsmwatch")
	cmd.Env = append(os.Environ(), "GOFLAGS=") // no -race inherited through GOFLAGS
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "p11test: building hsmwatch for the probe child: %v\n%s", err, out)
		return 1
	}
	if err := os.Setenv(pkcs11probe.ExeEnv, exe); err != nil {
		fmt.Fprintln(os.Stderr, "p11test:", err)
		return 1
	}
	return m.Run()
}

// Need returns the path of a program, or fails (CI=true) or skips the test without it.
func Need(t testing.TB, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Missing(t, "%s is not installed (Debian: apt-get install %s)", program, pkgOf(program))
	}
	return p
}

// Missing fails the test when CI=true, else skips it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func pkgOf(program string) string {
	switch program {
	case "softhsm2-util":
		return "softhsm2"
	case "pkcs11-tool":
		return "opensc"
	}
	return program
}

// dir returns the folder of this source file's package (internal/source/pkcs11probe/p11test).
func dir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the p11test sources")
	}
	return filepath.Dir(file)
}

// headers returns the folder holding pkcs11.h: the miekg/pkcs11 module, which ships the
// OASIS headers.
func headers(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/miekg/pkcs11").Output()
	d := strings.TrimSpace(string(out))
	if err != nil || d == "" {
		t.Fatalf("cannot find the miekg/pkcs11 module for pkcs11.h (run go mod download): %v", err)
	}
	if _, err := os.Stat(filepath.Join(d, "pkcs11.h")); err != nil {
		t.Fatalf("pkcs11.h: %v", err)
	}
	return d
}

// BuildFake compiles fakep11 into a new temporary folder and returns the library's path.
func BuildFake(t testing.TB) string {
	t.Helper()
	gcc := Need(t, "gcc")
	src := filepath.Join(dir(t), "..", "testdata", "fakep11", "fakep11.c")
	so := filepath.Join(t.TempDir(), "fakep11.so")
	cmd := exec.Command(gcc, "-std=gnu11", "-O1", "-Wall", "-shared", "-fPIC", "-fvisibility=hidden",
		"-I", headers(t), "-o", so, src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building fakep11: %v\n%s", err, out)
	}
	return so
}

// Fake is one copy of fakep11 with its own configuration and call log.
type Fake struct {
	Lib string // the library to load
	Log string // one line per call: C_Initialize, C_GetTokenInfo 1, ..., C_Finalize, unload
}

// NewFake copies the built library (BuildFake) into a new folder, beside a configuration made
// of the lines given (see testdata/fakep11/README.md) and a "log" line of its own. Each copy
// is a separate instance once loaded (its own path), so tests may run side by side.
func NewFake(t testing.TB, built string, config ...string) Fake {
	t.Helper()
	d := t.TempDir()
	f := Fake{Lib: filepath.Join(d, "fakep11.so"), Log: filepath.Join(d, "calls.log")}
	data, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Lib, data, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "log " + f.Log + "\n" + strings.Join(config, "\n") + "\n"
	if err := os.WriteFile(f.Lib+".conf", []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// Calls returns the calls the library logged so far.
func (f Fake) Calls(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(f.Log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(data), " ", "_"))
}

// SoftHSM is a SoftHSM2 installation with its own configuration and token folder.
type SoftHSM struct {
	Lib  string // libsofthsm2.so
	Conf string // the SOFTHSM2_CONF file
	util string
}

// softHSMLibs returns where Debian and others install the library.
func softHSMLibs() []string {
	return []string{
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
		"/usr/lib64/pkcs11/libsofthsm2.so",
	}
}

// SoftHSMLib returns the path of libsofthsm2.so (HSMWATCH_SOFTHSM_LIB overrides), or
// fails/skips the test.
func SoftHSMLib(t testing.TB) string {
	t.Helper()
	cands := softHSMLibs()
	if p := os.Getenv("HSMWATCH_SOFTHSM_LIB"); p != "" {
		cands = []string{p}
	}
	for _, p := range cands {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "libsofthsm2.so not found in %v (Debian: apt-get install softhsm2)", cands)
	return ""
}

// NewSoftHSM writes a SoftHSM2 configuration with an empty token folder under a temporary
// folder. Libraries loaded in this process read it only when SOFTHSM2_CONF names it
// (t.Setenv("SOFTHSM2_CONF", s.Conf)); subprocesses get it from Env.
func NewSoftHSM(t testing.TB) *SoftHSM {
	t.Helper()
	s := &SoftHSM{Lib: SoftHSMLib(t), util: Need(t, "softhsm2-util")}
	d := t.TempDir()
	tokens := filepath.Join(d, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	s.Conf = filepath.Join(d, "softhsm2.conf")
	conf := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(s.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Env returns the environment for a subprocess that uses this SoftHSM.
func (s *SoftHSM) Env() []string {
	return append(os.Environ(), "SOFTHSM2_CONF="+s.Conf)
}

// InitToken initialises a token in the first free slot and returns the slot it moved to.
func (s *SoftHSM) InitToken(t testing.TB, label, soPIN, pin string) uint {
	t.Helper()
	cmd := exec.Command(s.util, "--init-token", "--free", "--label", label, "--so-pin", soPIN, "--pin", pin)
	cmd.Env = s.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	// "The token has been initialized and is reassigned to slot 519413085"
	i := bytes.LastIndex(out, []byte("slot "))
	var slot uint
	if i < 0 {
		t.Fatalf("softhsm2-util said no slot: %s", out)
	}
	if _, err := fmt.Sscanf(string(out[i:]), "slot %d", &slot); err != nil {
		t.Fatalf("softhsm2-util: %v: %s", err, out)
	}
	return slot
}

// Login logs in to a token of this SoftHSM as the user (so false) or the SO (so true) with
// the PIN given, in this process (SOFTHSM2_CONF must name s.Conf), and returns the error:
// nil for a good PIN, CKR_PIN_INCORRECT for a bad one.
func (s *SoftHSM) Login(t testing.TB, slot uint, so bool, pin string) error {
	t.Helper()
	if os.Getenv("SOFTHSM2_CONF") != s.Conf {
		t.Fatal("Login needs t.Setenv(\"SOFTHSM2_CONF\", s.Conf)")
	}
	ctx := p11.New(s.Lib)
	if ctx == nil {
		t.Fatalf("cannot load %s", s.Lib)
	}
	defer ctx.Destroy()
	if err := ctx.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer ctx.Finalize()
	sh, err := ctx.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.CloseSession(sh)
	user := uint(p11.CKU_USER)
	if so {
		user = p11.CKU_SO
	}
	err = ctx.Login(sh, user, pin)
	if err == nil {
		_ = ctx.Logout(sh)
	}
	return err
}

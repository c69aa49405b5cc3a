package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestAlarmSignedIn: against a daemon with basic auth users (http.web_config_file),
// "hsmwatch alarm" signs in with --user and $HSMWATCH_PASSWORD, sends the CSRF token,
// and the action is recorded under the user, not --by; a viewer is refused.
func TestAlarmSignedIn(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("olga-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	vhash, err := bcrypt.GenerateFromPassword([]byte("vera-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webFile := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webFile, fmt.Appendf(nil, "basic_auth_users:\n  olga: %s\n  vera: %s\n", hash, vhash), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "app.log")
	fan := "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)\n"
	if err := os.WriteFile(logFile, []byte(fan), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, dir, fmt.Sprintf("state_dir: %s\nhttp:\n  listen: 127.0.0.1:0\n  web_config_file: %s\n  roles: {olga: operator}\nsources:\n  files:\n    - path: %s\n",
		filepath.Join(dir, "state"), webFile, logFile))
	var out, errb testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve", "--config", cfgPath}, strings.NewReader(""), &out, &errb) }()
	defer func() {
		cancel()
		if c := <-code; c != 0 {
			t.Errorf("serve exited %d: %s", c, errb.String())
		}
	}()
	var base string
	waitFor(t, 20*time.Second, "serve to listen", func() bool {
		h := httpAddrRE.FindStringSubmatch(errb.String())
		if h != nil {
			base = "http://" + h[1]
		}
		return h != nil
	}, errb.String)
	alarm := func(user, password string, args ...string) (int, string, string) {
		t.Helper()
		t.Setenv("HSMWATCH_PASSWORD", password)
		return runCLI(t, "", append(append([]string{"alarm"}, args...), "--url", base, "--by", "mallory", "--user", user)...)
	}
	var listOut string
	waitFor(t, 20*time.Second, "the fan alarm listed", func() bool {
		_, listOut, _ = alarm("vera", "vera-pw", "list")
		return strings.Contains(listOut, "Fan3B")
	}, func() string { return listOut + errb.String() })
	m := regexp.MustCompile(`(?m)^(\d+)\s+major\s+myLuna\s+Fan3B`).FindStringSubmatch(listOut)
	if m == nil {
		t.Fatalf("alarm list:\n%s", listOut)
	}
	if c, o, e := alarm("", "", "list"); c != 1 {
		t.Errorf("without signing in: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("olga", "wrong", "list"); c != 1 {
		t.Errorf("a wrong password: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("vera", "vera-pw", "ack", m[1], "--comment", "no"); c != 1 || !strings.Contains(e, "operator role") {
		t.Errorf("a viewer acknowledges: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("olga", "olga-pw", "ack", m[1], "--comment", "fan ordered"); c != 0 || !strings.Contains(o, "acknowledged by olga") {
		t.Errorf("the operator acknowledges: %d %q %q", c, o, e)
	}
	for _, secret := range []string{"olga-pw", "vera-pw"} {
		if strings.Contains(errb.String()+out.String(), secret) {
			t.Errorf("a password in the daemon's output: %q", secret)
		}
	}
}

package trapd_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/secretfile"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/snmp/trapd"
)

func write(t *testing.T, name, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadCommunityFile(t *testing.T) {
	var warn strings.Builder
	p := write(t, "communities", "# comment\nc1\n\nc2 10.0.0.0/8 192.0.2.7\n", 0o600)
	rules, err := trapd.ReadCommunityFile(p, &warn)
	if err != nil || len(rules) != 2 || warn.Len() != 0 {
		t.Fatalf("got %+v, %v, warning %q", rules, err, warn.String())
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	if rules[0].Communities[0] != "c1" || len(rules[0].Networks) != 0 || rules[1].Communities[0] != "c2" ||
		len(rules[1].Networks) != 2 || rules[1].Networks[0] != want[0] || rules[1].Networks[1] != want[1] {
		t.Errorf("rules %+v", rules)
	}
	bad := write(t, "bad", "secretcommunity 10.0.0.0/33\n", 0o600)
	_, err = trapd.ReadCommunityFile(bad, &warn)
	if err == nil || err.Error() != "--community-file "+bad+`:1: "10.0.0.0/33" is not a CIDR or an address` || strings.Contains(err.Error(), "secretcommunity") {
		t.Errorf("got %v", err)
	}
	open := write(t, "open", "secretcommunity\n", 0o644)
	_, err = trapd.ReadCommunityFile(open, &warn)
	if err == nil || err.Error() != "--community-file "+open+" is readable by others (mode -rw-r--r--): chmod 600 it" {
		t.Errorf("a community file others may read: %v", err)
	}
	empty := write(t, "empty", "# none\n", 0o600)
	if _, err := trapd.ReadCommunityFile(empty, &warn); err == nil || err.Error() != "--community-file "+empty+": no community" {
		t.Errorf("got %v", err)
	}
}

func TestReadUsersFile(t *testing.T) {
	var warn strings.Builder
	auth := write(t, "auth", "authpass1\n", 0o600)
	p := write(t, "users.yaml", "users:\n  - name: pete\n    auth_pass_file: "+auth+"\n    priv_pass_env: PRIV\n    engine_ids: [\"80001f8804646c756e6131\"]\n", 0o600)
	getenv := func(k string) string { return map[string]string{"PRIV": "privpass1"}[k] }
	users, err := trapd.ReadUsersFile(p, &warn, getenv)
	if err != nil || len(users) != 1 {
		t.Fatalf("got %+v, %v", users, err)
	}
	u := users[0]
	if u.Name != "pete" || u.AuthPass != "authpass1" || u.AuthProto != gosnmp.SHA || u.PrivPass != "privpass1" || u.PrivProto != gosnmp.AES || len(u.EngineIDs) != 1 {
		t.Errorf("user %+v", u)
	}
	_, err = trapd.ReadUsersFile(p, &warn, func(string) string { return "" })
	if err == nil || !strings.HasPrefix(err.Error(), "--users "+p+": user pete: priv_pass_env") {
		t.Errorf("missing variable: %v", err)
	}
	// The users file or a passphrase file it names that others may read is refused, with
	// the file and its mode, as every other secret file.
	if err := os.Chmod(auth, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = trapd.ReadUsersFile(p, &warn, getenv)
	if want := "--users " + p + ": user pete: auth_pass_file " + auth + " is readable by others (mode -rw-r-----): chmod 600 it"; err == nil || err.Error() != want || !errors.Is(err, secretfile.ErrOpenToOthers) {
		t.Errorf("open passphrase file: %v\nwant %q", err, want)
	}
	if err := os.Chmod(auth, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = trapd.ReadUsersFile(p, &warn, getenv)
	if want := "--users " + p + " is readable by others (mode -rw-r--r--): chmod 600 it"; err == nil || err.Error() != want || !errors.Is(err, secretfile.ErrOpenToOthers) {
		t.Errorf("open users file: %v\nwant %q", err, want)
	}
	if warn.Len() != 0 {
		t.Errorf("warnings %q: a refused file is an error, not a warning", warn.String())
	}
}

func TestWriteStats(t *testing.T) {
	var b strings.Builder
	trapd.WriteStats(&b, receiver.Stats{Packets: 5, Events: 2, Acknowledged: 1, Discoveries: 1, Rejected: map[string]uint64{"z": 1, "a": 0}})
	if want := "trapd: 5 datagrams, 2 events, 1 informs acknowledged, 1 discoveries, 1 refused a=0 z=1\n"; b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

// lockedBuilder is an output that Print's workers and the test may use at once.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A trap received is printed as one JSON line; Print ends with its context.
func TestPrint(t *testing.T) {
	r, err := receiver.New(receiver.Config{Addr: "127.0.0.1:0",
		Communities: []receiver.CommunityRule{{Communities: []string{"public"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuilder
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- trapd.Print(ctx, r, &out) }()
	port := r.Addr().(*net.UDPAddr).Port
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Community: "public", Version: gosnmp.Version2c, Timeout: time.Second}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	trap := gosnmp.SnmpTrap{Variables: []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.6.3.1.1.5.1"},
	}}
	if _, err := g.SendTrap(trap); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasSuffix(out.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Print: %v", err)
	}
	if got := out.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "{") {
		t.Errorf("output %q", got)
	}
	if s := r.Stats(); s.Events != 1 {
		t.Errorf("stats %+v", s)
	}
}

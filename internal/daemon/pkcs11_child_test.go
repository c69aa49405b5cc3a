package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// waitFor polls cond every 50 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A library that crashes, aborts, exits, leaves a function NULL or hangs takes down only
// the probe's child: the daemon counts and logs the failure, opens the library.failure
// alarm, and keeps storing the lines of its files meanwhile.
func TestPKCS11ProbeCrashes(t *testing.T) {
	so := p11test.BuildFake(t)
	for _, c := range []struct{ name, conf, logs string }{
		{"segv", "crash tokeninfo segv", "killed by signal SIGSEGV in C_GetTokenInfo (slot 1)"},
		{"abort", "crash tokeninfo abort", "killed by signal SIGABRT in C_GetTokenInfo (slot 1)"},
		{"exit0", "crash tokeninfo exit", "exited with status 0 without a result in C_GetTokenInfo (slot 1)"},
		{"null", "null tokeninfo", "killed by signal SIGSEGV in C_GetTokenInfo (slot 1)"},
		{"hang", "hang tokeninfo", "did not return from C_GetTokenInfo (slot 1)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := p11test.NewFake(t, so, c.conf, "token slot=1 label=TOK1 total_private=1000 free_private=500")
			dir := t.TempDir()
			logFile := filepath.Join(dir, "in.log")
			if err := os.WriteFile(logFile, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			// The hang is cut by the probe's timeout: max(interval, 10 s).
			cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
				Sources: sources(t,
					config.Item{Kind: "pkcs11", Spec: &pkcs11probe.Spec{Library: fake.Lib, Interval: config.Duration(100 * time.Millisecond)}},
					config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}})}
			logs := &testutil.SyncBuffer{}
			d, stop := runDaemon(t, Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			base := "http://" + d.Addr().String()
			for i := range 3 {
				msg := fmt.Sprintf("line %d while the probe fails", i)
				f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(f, "2012 Feb 29 12:05:01 myLuna local5 info NTLS [1234]: %s\n", msg)
				f.Close()
				waitFor(t, "the line "+msg, func() bool {
					p, err := d.Store().Events(context.Background(), store.EventFilter{Text: msg})
					return err == nil && len(p.Events) == 1
				})
			}
			waitFor(t, "the failure logged: "+c.logs, func() bool {
				return strings.Contains(logs.String(), "pkcs11 probe failed") && strings.Contains(logs.String(), c.logs)
			})
			waitFor(t, "the library.failure alarm", func() bool {
				as, err := d.Store().Alarms(context.Background(), store.AlarmFilter{Open: true, Host: fake.Lib})
				return err == nil && len(as) == 1 && as[0].Rule == "pkcs11probe.library" && as[0].Key == "pkcs11:"+fake.Lib+":library.failure"
			})
			if c.name != "hang" {
				waitFor(t, "two failures counted", func() bool {
					return metric(get(t, base+"/metrics"), `hsmwatch_pkcs11_probe_failures_total{source="pkcs11:`+fake.Lib+`"}`) >= 2
				})
			}
			stop()
		})
	}
}

// A token whose memory goes over 90 % opens a critical alarm; when it goes back under
// 75 %, the alarm clears.
func TestPKCS11MemoryAlarm(t *testing.T) {
	fake := p11test.NewFake(t, p11test.BuildFake(t), "token slot=1 label=TOK1 serial=77 total_private=1000 free_private=500")
	setFree := func(free int) {
		conf := fmt.Sprintf("log %s\ntoken slot=1 label=TOK1 serial=77 total_private=1000 free_private=%d\n", fake.Log, free)
		tmp := fake.Lib + ".conf.tmp"
		if err := os.WriteFile(tmp, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, fake.Lib+".conf"); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t, config.Item{Kind: "pkcs11", Spec: &pkcs11probe.Spec{Library: fake.Lib, Interval: config.Duration(100 * time.Millisecond)}})}
	d, stop := runDaemon(t, Options{Config: cfg})
	alarms := func() []store.Alarm {
		as, err := d.Store().Alarms(context.Background(), store.AlarmFilter{Host: "TOK1"})
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	waitFor(t, "a first probe", func() bool {
		return metric(get(t, "http://"+d.Addr().String()+"/metrics"), `hsmwatch_pkcs11_probes_total{source="pkcs11:`+fake.Lib+`"}`) >= 2
	})
	if as := alarms(); len(as) != 0 {
		t.Fatalf("alarms at 50 %%: %+v", as)
	}
	setFree(50) // 95 %
	waitFor(t, "the critical memory alarm", func() bool {
		as := alarms()
		return len(as) == 1 && as[0].Cleared.IsZero() && as[0].Rule == "pkcs11probe.memory.critical" && as[0].Level == "critical" &&
			as[0].Key == "pkcs11:TOK1:memory.private"
	})
	setFree(400) // 60 %
	waitFor(t, "the alarm cleared", func() bool {
		as := alarms()
		return len(as) == 1 && !as[0].Cleared.IsZero()
	})
	stop()
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metric returns the value of a series of /metrics, -1 while there is none.
func metric(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

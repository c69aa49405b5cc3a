package daemon

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
)

// A power supply that fails and recovers reaches a real Alertmanager endpoint as a firing
// then resolved alert, and a TCP syslog collector as RFC 5424 messages.
func TestAlertmanagerAndSyslogSinks(t *testing.T) {
	alerts := make(chan []map[string]any, 20)
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []map[string]any
		if r.URL.Path != "/api/v2/alerts" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		alerts <- body
	}))
	defer am.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	msgs := make(chan string, 20)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		sc := bufio.NewScanner(c)
		sc.Split(bufio.ScanWords) // frames are "LEN <PRI>1 ...": the PRI token marks one
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "<") {
				msgs <- sc.Text()
			}
		}
	}()

	dir := t.TempDir()
	logFile := filepath.Join(dir, "in.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: config.Sources{Files: []config.FileSource{{Path: logFile}}},
		Sinks: config.Sinks{Alertmanager: []config.Alertmanager{{URL: am.URL}},
			Syslog: []config.SyslogTarget{{Address: "tcp://" + ln.Addr().String()}}}}
	_, stop := runDaemon(t, Options{Config: cfg})
	appendTo := func(line string) {
		f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(line + "\n")
		f.Close()
	}
	appendTo("2026 Nov 22 10:02:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted")
	waitAlert := func(resolved bool) {
		deadline := time.After(20 * time.Second)
		for {
			select {
			case body := <-alerts:
				for _, a := range body {
					labels, _ := a["labels"].(map[string]any)
					_, hasEnd := a["endsAt"]
					if labels["alarm_key"] == "PSU2_Status" && labels["host"] == "lunaA" && hasEnd == resolved {
						return
					}
				}
			case <-deadline:
				t.Fatalf("no alert with resolved=%v", resolved)
			}
		}
	}
	waitAlert(false)
	appendTo("2026 Nov 22 10:04:00 lunaA local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Deasserted")
	waitAlert(true)
	select {
	case m := <-msgs:
		if !strings.HasPrefix(m, "<162>1") {
			t.Errorf("syslog message %q", m)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no syslog message forwarded")
	}
	stop()
}

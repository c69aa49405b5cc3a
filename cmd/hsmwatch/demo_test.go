package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestDemo starts hsmwatch demo, waits for its address and for /api/hsms to list the three
// simulated HSMs, then stops it by cancelling its context.
func TestDemo(t *testing.T) {
	var out, errb testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"demo"}, strings.NewReader(""), &out, &errb) }()
	addrRE := regexp.MustCompile(`dashboard and API at (http://[0-9.:]+)/`)
	var base string
	waitFor(t, 30*time.Second, "the demo's address", func() bool {
		m := addrRE.FindStringSubmatch(out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, func() string { return out.String() + errb.String() })
	var hosts []string
	waitFor(t, 45*time.Second, "three HSMs in /api/hsms", func() bool {
		c, body := getBody(t, base+"/api/hsms")
		if c != 200 {
			return false
		}
		var r struct {
			HSMs []struct {
				Host string `json:"host"`
			} `json:"hsms"`
		}
		if json.Unmarshal([]byte(body), &r) != nil {
			return false
		}
		hosts = hosts[:0]
		for _, h := range r.HSMs {
			hosts = append(hosts, h.Host)
		}
		return strings.Contains(strings.Join(hosts, " "), "luna-demo-1") &&
			strings.Contains(strings.Join(hosts, " "), "luna-demo-2") && len(hosts) >= 3
	}, func() string { return strings.Join(hosts, ",") + "\n" + errb.String() })
	t.Logf("hosts: %v", hosts)
	// The simulated Dinamo's health comes through the shipped stand-in MIB: without it
	// the poller cannot name its objects and every health item is unknown.
	var dinamo []string
	waitFor(t, 45*time.Second, "the Dinamo's battery and disk health figures", func() bool {
		_, body := getBody(t, base+"/api/hsms")
		var r struct {
			HSMs []struct {
				Host    string `json:"host"`
				Samples []struct {
					Metric string `json:"metric"`
				} `json:"samples"`
			} `json:"hsms"`
		}
		if json.Unmarshal([]byte(body), &r) != nil {
			return false
		}
		for _, h := range r.HSMs {
			if strings.HasPrefix(h.Host, "luna-") {
				continue
			}
			dinamo = dinamo[:0]
			for _, s := range h.Samples {
				dinamo = append(dinamo, s.Metric)
			}
			m := " " + strings.Join(dinamo, " ") + " "
			if strings.Contains(m, " health_battery ") && strings.Contains(m, " health_disk_used ") {
				return true
			}
		}
		return false
	}, func() string { return strings.Join(dinamo, ",") })
	if c, page := getBody(t, base+"/"); c != 200 || !strings.Contains(page, "<html") {
		t.Errorf("dashboard: %d %.200s", c, page)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("demo exited %d:\n%s", c, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop")
	}
}

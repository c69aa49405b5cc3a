package daemon

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// TestPKCS11Samples: a configured PKCS#11 library is probed and its token's figures show
// in /metrics and in /api/hsms, with the verdict of the health code "check token" uses:
// 60 % of the private memory in use is below p11memmon's 75 % warning.
func TestPKCS11Samples(t *testing.T) {
	fake := p11test.NewFake(t, p11test.BuildFake(t),
		"token slot=1 label=TOK1 serial=77 sessions=3 total_private=1000 free_private=400")
	dir := t.TempDir()
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(t, config.Item{Kind: "pkcs11", Spec: &pkcs11probe.Spec{Library: fake.Lib, Interval: config.Duration(time.Second)}})}
	d, stop := runDaemon(t, Options{Config: cfg})
	base := "http://" + d.Addr().String()
	get := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d:\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, h := get("/metrics"), get("/api/hsms")
		if strings.Contains(m, `hsmwatch_hsm_pkcs11_sessions{host="TOK1",library="`+fake.Lib+`",serial="77",slot="1"} 3`) &&
			strings.Contains(m, `hsmwatch_hsm_pkcs11_private_memory_free_bytes{host="TOK1"`) && strings.Contains(h, `"host":"TOK1"`) &&
			strings.Contains(m, `hsmwatch_hsm_pkcs11_private_memory_used_percent{host="TOK1",library="`+fake.Lib+`",serial="77",slot="1"} 60`) &&
			strings.Contains(m, `hsmwatch_hsm_pkcs11_token_status{host="TOK1",library="`+fake.Lib+`",serial="77",slot="1"} 0`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no token figures:\n%s\n%s", m, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
}

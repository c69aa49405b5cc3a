package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// testCert writes a self-signed certificate for 127.0.0.1 and its key; it returns their
// paths and a pool trusting it.
func testCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hsmwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// webClient makes requests to one daemon, as one user (none: no credentials).
type webClient struct {
	t          *testing.T
	c          *http.Client
	base       string
	user, pass string
}

func (w webClient) do(method, path, body string, hdr map[string]string) (int, string) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.base+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if w.user != "" {
		req.SetBasicAuth(w.user, w.pass)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (w webClient) csrf() string {
	w.t.Helper()
	code, body := w.do("GET", "/api/csrf", "", nil)
	var v struct {
		Token, User, Role string
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || code != 200 || v.User != w.user {
		w.t.Fatalf("csrf as %q: %d %s", w.user, code, body)
	}
	return v.Token
}

// TestHTTPWithoutWebConfig: today's default (loopback, no authentication) keeps working
// for scripts, but a cross-origin request (a page elsewhere posting no-cors) and a Host
// that is not ours (DNS rebinding) are refused.
func TestHTTPWithoutWebConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{File: filepath.Join(dir, "none.yaml"), StateDir: filepath.Join(dir, "state"),
		HTTP: config.HTTP{Listen: "127.0.0.1:0"}}
	d, _ := runDaemon(t, Options{Config: cfg, Load: func() (*config.Config, error) { return cfg, nil }})
	waitServing(t, d)
	w := webClient{t: t, c: http.DefaultClient, base: "http://" + d.Addr().String()}

	// What a browser sends for <form> or fetch(..., {mode: 'no-cors', method: 'POST'}).
	if code, body := w.do("POST", "/-/reload", "", map[string]string{"Origin": "http://evil.example",
		"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}); code != http.StatusForbidden {
		t.Errorf("cross-origin no-cors reload: %d %s", code, body)
	}
	if code, body := w.do("POST", "/api/silences", `{"host":"x","duration":"1h","comment":"c","by":"eve"}`,
		map[string]string{"Origin": "http://evil.example"}); code != http.StatusForbidden {
		t.Errorf("cross-origin silence: %d %s", code, body)
	}
	if code, body := w.do("GET", "/api/alarms", "", map[string]string{"Host": "rebind.evil.example:9841"}); code != http.StatusForbidden {
		t.Errorf("a foreign Host: %d %s", code, body)
	}
	if code, body := w.do("POST", "/-/reload", "", nil); code != 200 {
		t.Errorf("a script's reload: %d %s", code, body)
	}
	if code, body := w.do("POST", "/-/reload", "", map[string]string{"Origin": w.base}); code != 200 {
		t.Errorf("the page's reload: %d %s", code, body)
	}
	if code, body := w.do("GET", "/metrics", "", map[string]string{"Host": "localhost"}); code != 200 {
		t.Errorf("/metrics by localhost: %d %.80s", code, body)
	}
}

// TestHTTPWebConfig: TLS with a test certificate and basic auth users with bcrypt hashes
// from an exporter-toolkit web configuration file; a viewer reads but may not
// acknowledge; an operator acknowledges with the CSRF token, recorded under the name it
// authenticated with; without the token, or from another origin, it is refused.
func TestHTTPWebConfig(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testCert(t, dir)
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	webFile := filepath.Join(dir, "web.yml")
	web := fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  olga: %s\n  vera: %s\n",
		certFile, keyFile, hash("olga's secret"), hash("vera's secret"))
	if err := os.WriteFile(webFile, []byte(web), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "in.log")
	const fan = "2026 Nov 22 10:01:00 lunaA local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)\n"
	if err := os.WriteFile(logFile, []byte(fan), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"),
		HTTP:    config.HTTP{Listen: "127.0.0.1:0", WebConfigFile: webFile, Roles: map[string]string{"olga": "operator"}},
		Sources: sources(t, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}})}
	if err := cfg.CheckFiles(); err != nil {
		t.Fatal(err)
	}
	d, _ := runDaemon(t, Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "https://" + d.Addr().String()
	anon := webClient{t: t, c: c, base: base}
	olga := webClient{t: t, c: c, base: base, user: "olga", pass: "olga's secret"}
	vera := webClient{t: t, c: c, base: base, user: "vera", pass: "vera's secret"}

	testutil.WaitFor(t, "the daemon to serve over TLS", 20*time.Second, func() bool {
		resp, err := c.Get(base + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	})
	if resp, err := http.Get("http://" + d.Addr().String() + "/-/healthy"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered: %s", b)
		}
	}
	if code, _ := anon.do("GET", "/api/alarms", "", nil); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d", code)
	}
	if code, _ := (webClient{t: t, c: c, base: base, user: "olga", pass: "wrong"}).do("GET", "/metrics", "", nil); code != http.StatusUnauthorized {
		t.Errorf("a wrong password: %d", code)
	}
	if code, body := vera.do("GET", "/metrics", "", nil); code != 200 || !strings.Contains(body, "hsmwatch_") {
		t.Errorf("/metrics as vera: %d %.100s", code, body)
	}

	var alarm store.Alarm
	testutil.WaitFor(t, "the fan alarm", 20*time.Second, func() bool {
		as, err := d.Store().Alarms(context.Background(), store.AlarmFilter{Open: true, Host: "lunaA"})
		if err != nil || len(as) == 0 {
			return false
		}
		alarm = as[0]
		return true
	})
	ack := fmt.Sprintf("/api/alarms/%d/ack", alarm.ID)
	body := `{"comment":"fan ordered","by":"mallory"}`
	if code, resp := vera.do("POST", ack, body, map[string]string{"X-CSRF-Token": vera.csrf()}); code != http.StatusForbidden {
		t.Errorf("a viewer acknowledges: %d %s", code, resp)
	}
	if code, resp := olga.do("POST", ack, body, nil); code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d %s", code, resp)
	}
	tok := olga.csrf()
	if code, resp := olga.do("POST", ack, body, map[string]string{"X-CSRF-Token": tok, "Origin": "https://evil.example"}); code != http.StatusForbidden {
		t.Errorf("cross-origin with the token: %d %s", code, resp)
	}
	if code, resp := olga.do("POST", ack, body, map[string]string{"X-CSRF-Token": tok, "Host": "evil.example"}); code != http.StatusForbidden {
		t.Errorf("a foreign Host: %d %s", code, resp)
	}
	if code, resp := olga.do("POST", ack, body, map[string]string{"X-CSRF-Token": tok, "Origin": base}); code != 200 {
		t.Fatalf("the operator acknowledges: %d %s", code, resp)
	}
	got, err := d.Store().Alarm(context.Background(), alarm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Acknowledged == nil || got.Acknowledged.By != "olga" {
		t.Errorf("acknowledged by %+v, want olga (not the stated name)", got.Acknowledged)
	}
	for _, secret := range []string{"olga's secret", "vera's secret", "wrong"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a password in the log: %q", secret)
		}
	}
}

// TestHTTPWarnsWithoutAuthBeyondLoopback: listening on every interface without
// authentication is logged as a warning at start; on loopback it is not.
func TestHTTPWarnsWithoutAuthBeyondLoopback(t *testing.T) {
	for _, c := range []struct {
		listen string
		warn   bool
	}{{"0.0.0.0:0", true}, {"127.0.0.1:0", false}} {
		dir := t.TempDir()
		logs := &testutil.SyncBuffer{}
		cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: c.listen}}
		runDaemon(t, Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if got := strings.Contains(logs.String(), "without authentication"); got != c.warn {
			t.Errorf("%s: warned %v, want %v:\n%s", c.listen, got, c.warn, logs.String())
		}
	}
}

// TestReloadHTTP: a reload (the SIGHUP handler's Reload, and POST /-/reload) applies
// http.roles, http.hosts and the web configuration file's users to the running server; a
// change the listener cannot take (http.listen, another web configuration file, TLS
// turned on) refuses the reload, naming the key, and changes nothing.
func TestReloadHTTP(t *testing.T) {
	dir := t.TempDir()
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	webFile := filepath.Join(dir, "web.yml")
	writeWeb := func(text string) {
		t.Helper()
		if err := os.WriteFile(webFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	olgaHash, veraHash := hash("olga's secret"), hash("vera's secret")
	writeWeb("basic_auth_users:\n  olga: " + olgaHash + "\n")
	var mu sync.Mutex
	cur := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"),
		HTTP: config.HTTP{Listen: "127.0.0.1:0", WebConfigFile: webFile, Roles: map[string]string{"olga": "viewer"}}}
	load := func() (*config.Config, error) { mu.Lock(); defer mu.Unlock(); return cur, nil }
	set := func(h config.HTTP) {
		mu.Lock()
		defer mu.Unlock()
		c := *cur
		c.HTTP = h
		cur = &c
	}
	d, _ := runDaemon(t, Options{Config: cur, Load: load})
	base := "http://" + d.Addr().String()
	testutil.WaitFor(t, "the daemon to serve", 20*time.Second, func() bool {
		req, _ := http.NewRequest("GET", base+"/-/healthy", nil)
		req.SetBasicAuth("olga", "olga's secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	olga := webClient{t: t, c: http.DefaultClient, base: base, user: "olga", pass: "olga's secret"}
	vera := webClient{t: t, c: http.DefaultClient, base: base, user: "vera", pass: "vera's secret"}
	reloads := func() float64 {
		_, body := olga.do("GET", "/metrics", "", nil)
		return metricValue(t, body, "hsmwatch_reloads_total")
	}
	post := func(w webClient, hdr map[string]string) (int, string) {
		t.Helper()
		if hdr == nil {
			hdr = map[string]string{}
		}
		hdr["X-CSRF-Token"] = w.csrf()
		return w.do("POST", "/-/reload", "", hdr)
	}

	// olga is a viewer: refused; hsm-monitor.example is not one of our names: refused.
	if code, body := post(olga, nil); code != http.StatusForbidden {
		t.Fatalf("a viewer reloads: %d %s", code, body)
	}
	if code, body := olga.do("GET", "/api/alarms", "", map[string]string{"Host": "hsm-monitor.example"}); code != http.StatusForbidden {
		t.Fatalf("a name not in http.hosts: %d %s", code, body)
	}
	// The operator's change, applied by Reload (what SIGHUP calls): olga an operator,
	// hsm-monitor.example one of our names, vera a user of the web configuration file.
	writeWeb("basic_auth_users:\n  olga: " + olgaHash + "\n  vera: " + veraHash + "\n")
	set(config.HTTP{Listen: "127.0.0.1:0", WebConfigFile: webFile, Hosts: []string{"hsm-monitor.example"},
		Roles: map[string]string{"olga": "operator"}})
	before := reloads()
	if err := d.Reload(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := reloads(); got != before+1 {
		t.Errorf("reloads %v, want %v", got, before+1)
	}
	if code, body := olga.do("GET", "/api/alarms", "", map[string]string{"Host": "hsm-monitor.example"}); code != 200 {
		t.Errorf("http.hosts reloaded: %d %s", code, body)
	}
	if code, body := post(olga, nil); code != 200 {
		t.Errorf("olga an operator after the reload: %d %s", code, body)
	}
	if code, body := vera.do("GET", "/api/csrf", "", nil); code != 200 || !strings.Contains(body, `"role":"viewer"`) {
		t.Errorf("vera after the reload: %d %s", code, body)
	}
	if code, body := post(vera, nil); code != http.StatusForbidden {
		t.Errorf("vera, a viewer, reloads: %d %s", code, body)
	}
	// Through POST /-/reload: olga back to a viewer, vera an operator.
	set(config.HTTP{Listen: "127.0.0.1:0", WebConfigFile: webFile, Roles: map[string]string{"vera": "operator"}})
	if code, body := post(olga, nil); code != 200 {
		t.Fatalf("olga's reload: %d %s", code, body)
	}
	if code, body := post(olga, nil); code != http.StatusForbidden {
		t.Errorf("olga a viewer after her reload: %d %s", code, body)
	}
	if code, body := olga.do("GET", "/api/alarms", "", map[string]string{"Host": "hsm-monitor.example"}); code != http.StatusForbidden {
		t.Errorf("hsm-monitor.example dropped from http.hosts: %d %s", code, body)
	}
	if code, body := post(vera, nil); code != 200 {
		t.Errorf("vera an operator: %d %s", code, body)
	}

	// What the running listener cannot take: refused, naming the key, nothing changed.
	other := filepath.Join(dir, "other.yml")
	if err := os.WriteFile(other, []byte("basic_auth_users:\n  olga: "+olgaHash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, _ := testCert(t, dir)
	for _, tc := range []struct {
		name string
		h    config.HTTP
		web  string
		want string
	}{
		{"listen", config.HTTP{Listen: "127.0.0.1:9", WebConfigFile: webFile, Roles: map[string]string{"olga": "operator"}}, "",
			`http.listen changed from "127.0.0.1:0" to "127.0.0.1:9"`},
		{"web config file", config.HTTP{Listen: "127.0.0.1:0", WebConfigFile: other, Roles: map[string]string{"olga": "operator"}}, "",
			"http.web_config_file changed from"},
		{"no web config file", config.HTTP{Listen: "127.0.0.1:0", Roles: map[string]string{"olga": "operator"}}, "",
			"http.web_config_file changed from"},
		{"TLS on", config.HTTP{Listen: "127.0.0.1:0", WebConfigFile: webFile, Roles: map[string]string{"olga": "operator"}},
			"tls_server_config:\n  cert_file: " + certFile + "\n  key_file: " + keyFile + "\nbasic_auth_users:\n  olga: " + olgaHash + "\n  vera: " + veraHash + "\n",
			"http.web_config_file " + webFile + ": tls_server_config turns TLS on"},
	} {
		if tc.web != "" {
			writeWeb(tc.web)
		}
		set(tc.h)
		code, body := post(vera, nil)
		var answer struct{ Error string }
		_ = json.Unmarshal([]byte(body), &answer)
		if code != http.StatusBadRequest || !strings.HasPrefix(answer.Error, "reload refused, nothing changed: ") || !strings.Contains(answer.Error, tc.want) {
			t.Errorf("%s: %d %s; want 400 naming %q", tc.name, code, body, tc.want)
		}
		if code, body := post(olga, nil); code != http.StatusForbidden {
			t.Errorf("%s: olga made an operator by a refused reload: %d %s", tc.name, code, body)
		}
	}
}

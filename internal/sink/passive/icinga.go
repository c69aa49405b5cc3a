package passive

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/redact"
)

// IcingaConfig is one Icinga 2 API endpoint.
type IcingaConfig struct {
	URL      string // https://icinga.example:5665
	User     string // an ApiUser with permission actions/process-check-result
	Password string // read from the password file; never logged
	CAFile   string // the Icinga CA (its /var/lib/icinga2/certs/ca.crt); empty: the system's roots
	Service  string // the service on each HSM's host (default hsmwatch)
	Timeout  time.Duration
	Logger   *slog.Logger
}

// Icinga sends results through the Icinga 2 API.
type Icinga struct {
	*tracker
	cfg    IcingaConfig
	client *http.Client
}

// NewIcinga checks cfg and loads the CA.
func NewIcinga(cfg IcingaConfig) (*Icinga, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("icinga: want the API's https:// URL (https://icinga.example:5665), not %q", redact.URL(cfg.URL))
	}
	if cfg.User == "" || cfg.Password == "" {
		return nil, errors.New("icinga: the API user and its password file are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("icinga: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("icinga: ca_file %s: no PEM certificate in it", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	ic := &Icinga{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout,
		Transport: &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}}}
	ic.tracker = newTracker("icinga "+redact.URL(cfg.URL), cfg.Service, ic)
	return ic, nil
}

// icingaResult is the body of POST /v1/actions/process-check-result. The host and service
// names travel in filter_vars, never inside the filter's text.
type icingaResult struct {
	Type        string            `json:"type"`
	Filter      string            `json:"filter"`
	FilterVars  map[string]string `json:"filter_vars"`
	ExitStatus  int               `json:"exit_status"`
	Output      string            `json:"plugin_output"`
	Perfdata    []string          `json:"performance_data"`
	CheckSource string            `json:"check_source"`
	Start       int64             `json:"execution_start"`
	End         int64             `json:"execution_end"`
}

// send posts each result. A host or service Icinga does not know (404, or no object
// matched) is logged and skipped: retrying would not create it. Any other failure is
// returned and the queue retries.
func (ic *Icinga) send(ctx context.Context, rs []Result) error {
	var errs []error
	for _, r := range rs {
		body, err := json.Marshal(icingaResult{Type: "Service",
			Filter:     "host.name==hsmwatch_host && service.name==hsmwatch_service",
			FilterVars: map[string]string{"hsmwatch_host": r.Host, "hsmwatch_service": r.Service},
			ExitStatus: r.Status, Output: r.Output,
			Perfdata:    []string{fmt.Sprintf("alarms=%d;;;0", r.Alarms)},
			CheckSource: "hsmwatch", Start: r.Time.Unix(), End: r.Time.Unix()})
		if err != nil {
			return err
		}
		if err := ic.post(ctx, r, body); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (ic *Icinga) post(ctx context.Context, r Result, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(ic.cfg.URL, "/")+"/v1/actions/process-check-result", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("icinga request: %w", err)
	}
	req.SetBasicAuth(ic.cfg.User, ic.cfg.Password)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := ic.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s!%s: %w", r.Host, r.Service, redactErr(err, ic.cfg.Password))
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusOK:
		var out struct {
			Results []struct {
				Code   float64 `json:"code"`
				Status string  `json:"status"`
			} `json:"results"`
		}
		if json.Unmarshal(text, &out) == nil && len(out.Results) == 0 {
			ic.cfg.Logger.Warn("icinga knows no such service: define it (see contrib/icinga2/hsmwatch.conf)", "host", r.Host, "service", r.Service)
		}
		return nil
	case resp.StatusCode == http.StatusNotFound:
		ic.cfg.Logger.Warn("icinga knows no such service: define it (see contrib/icinga2/hsmwatch.conf)", "host", r.Host, "service", r.Service)
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s!%s: %s: check the API user %q, its password file and its permissions (actions/process-check-result)", r.Host, r.Service, resp.Status, ic.cfg.User)
	default:
		return fmt.Errorf("%s!%s: %s: %s", r.Host, r.Service, resp.Status, strings.TrimSpace(string(text[:min(len(text), 200)])))
	}
}

// redactErr keeps the password out of an error text, whatever a transport put there.
func redactErr(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "REDACTED"))
}

package redact

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok@hooks.example/x?key=abc":        "https://***@hooks.example/x?key=***",
		"http://hooks.example/x":                          "http://hooks.example/x",
		"http://am.example:9093":                          "http://am.example:9093",
		"http://am.example:9093/?token=s&team=ops#frag":   "http://am.example:9093/?token=***&team=***#***",
		"https://wrong@hooks.example/wrong?wrong":         "https://***@hooks.example/wrong?***",
		"postgres://hsm:pw@db.example/hsmwatch?sslmode=x": "postgres://***@db.example/hsmwatch?sslmode=***",
		"tcp://siem.example:514":                          "tcp://siem.example:514",
		"http://us er:p w@host/x?y=1":                     "http://***@host/x?***", // refused by url.Parse
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

// The text of a secret elsewhere in the URL (here the path) is left alone: only its
// place is masked.
func TestURLByPlaceNotByText(t *testing.T) {
	got := URL("https://public:public@public.example/public?k=public")
	if got != "https://***@public.example/public?k=***" {
		t.Fatalf("got %q", got)
	}
}

func TestErrorMasksNetHTTPURL(t *testing.T) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://ops:s3cret@127.0.0.1:1/api?token=t0k", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = http.DefaultClient.Do(req)
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	err = Error(err)
	msg := err.Error()
	if strings.Contains(msg, "s3cret") || strings.Contains(msg, "t0k") || !strings.Contains(msg, "127.0.0.1:1/api?token=***") {
		t.Fatalf("error %q", msg)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatal("the chain is lost")
	}
	if Error(nil) != nil {
		t.Fatal("nil")
	}
}

func TestValue(t *testing.T) {
	if Value("") != "" || Value("wrong") != Mask {
		t.Fatal(Value("wrong"))
	}
}

package syslog

import (
	"strings"
	"testing"
)

// A listen address is checked with the configuration, so that its file and line are
// named, rather than when the socket is opened.
func TestSpecCheckListen(t *testing.T) {
	for listen, want := range map[string]string{
		"udp://0.0.0.0:514":        "",
		"tcp://[::1]:6514":         "",
		"udp://127.0.0.1:notaport": "with a port number",
		"udp://127.0.0.1":          "with a port number",
		"udp://127.0.0.1:70000":    "with a port number",
		"0.0.0.0:514":              "want udp://HOST:PORT",
		"http://0.0.0.0:514":       "unknown scheme",
	} {
		problems := (&Spec{Listen: listen}).Check()
		switch {
		case want == "" && len(problems) > 0:
			t.Errorf("%s: %v", listen, problems)
		case want != "" && (len(problems) == 0 || !strings.Contains(problems[0].Msg, want)):
			t.Errorf("%s: problems %v, want one saying %q", listen, problems, want)
		}
	}
}

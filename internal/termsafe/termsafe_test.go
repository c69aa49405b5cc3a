package termsafe

import "testing"

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, str, text string }{
		{"plain host", "plain host", "plain host"},
		{"evil\x1b[31mred\rX", `evil\x1b[31mred\rX`, `evil\x1b[31mred\rX`},
		{"a\tb\nc", `a\tb\nc`, "a\tb\nc"},
		{"bell\x07 del\x7f", `bell\x07 del\x7f`, `bell\x07 del\x7f`},
		{"csi\u009b2J é", `csi\u009b2J é`, `csi\u009b2J é`},
		{"bad\xffutf8", `bad\xffutf8`, `bad\xffutf8`},
		{"ünïcode ok", "ünïcode ok", "ünïcode ok"},
	} {
		if got := String(c.in); got != c.str {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.str)
		}
		if got := Text(c.in); got != c.text {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.text)
		}
	}
}

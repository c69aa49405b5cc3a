package pkcs11probe_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/check"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// selectFake runs Select on a fake library made of config, at -v, and returns the session
// (closed), the trace written and the error.
func selectFake(t *testing.T, sel pkcs11probe.Selection, config ...string) (*pkcs11probe.Session, string, error) {
	t.Helper()
	f := p11test.NewFake(t, p11test.BuildFake(t), config...)
	var out strings.Builder
	tr := check.NewTrace(&out, check.Verbose)
	s, err := pkcs11probe.Select(context.Background(), tr, f.Lib, sel)
	s.Close()
	return s, strings.ReplaceAll(out.String(), f.Lib, "LIB"), err
}

func TestSelectByLabel(t *testing.T) {
	s, trace, err := selectFake(t, pkcs11probe.Selection{Label: "B"},
		"token slot=1 label=A", "token slot=4 label=B serial=42")
	if err != nil || len(s.Tokens) != 1 || s.Tokens[0].Slot != 4 || s.Tokens[0].Serial != "42" || s.Failed != nil {
		t.Fatalf("got %+v, %v", s, err)
	}
	for _, want := range []string{
		"Successfully initialized the PKCS #11 library LIB\n",
		"Found 2 slots with a token, looking for token B\n",
		"Found the token with label B in slot 4\n",
		"Unloaded PKCS #11 library\n",
	} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q:\n%s", want, trace)
		}
	}
}

func TestSelectErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		sel    pkcs11probe.Selection
		config []string
		want   string
	}{
		{"no label", pkcs11probe.Selection{Label: "Z"}, []string{"token slot=1 label=A", "token slot=2 label=B"},
			`no token labelled "Z" among the 2 present (labels: "A", "B"); check -l (labels are case-sensitive)`},
		{"twice", pkcs11probe.Selection{Label: "A"}, []string{"token slot=1 label=A serial=1", "token slot=2 label=A serial=2"},
			`2 tokens are labelled "A" (slot 1 serial 1, slot 2 serial 2); choose one with -s SLOT`},
		{"no slot", pkcs11probe.Selection{Slot: 5, HasSlot: true}, []string{"token slot=1 label=A", "token slot=7 label=B"},
			"there is no slot 5 (slots with a token: 1, 7); check -s"},
		{"wrong label", pkcs11probe.Selection{Slot: 1, HasSlot: true, Label: "B"}, []string{"token slot=1 label=A"},
			`the token in slot 1 is labelled "A", not "B"; check -l and -s`},
		{"none initialised", pkcs11probe.Selection{All: true}, []string{"token slot=1 label=A flags=0"},
			"none of the 1 tokens present is initialised; initialise one, or check -p"},
		{"init", pkcs11probe.Selection{All: true}, []string{"init_rv 0x30", "token slot=1 label=A"},
			"C_Initialize returned CKR_DEVICE_ERROR (0x30); check the library's configuration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := selectFake(t, c.sel, c.config...)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}

// --all keeps the initialised tokens and reports a slot that cannot be read apart.
func TestSelectAll(t *testing.T) {
	s, _, err := selectFake(t, pkcs11probe.Selection{All: true},
		"token slot=1 label=A", "token slot=2 label=blank flags=0", "token slot=3 label=bad rv=0x30")
	if err != nil || len(s.Tokens) != 1 || s.Tokens[0].Label != "A" {
		t.Fatalf("got %+v, %v", s, err)
	}
	if len(s.Failed) != 1 || s.Failed[3] == nil || !strings.Contains(s.Failed[3].Error(), "CKR_DEVICE_ERROR") {
		t.Errorf("failed slots: %v", s.Failed)
	}
}

func TestSelectMissingLibrary(t *testing.T) {
	s, err := pkcs11probe.Select(context.Background(), nil, "/nonexistent/lib.so", pkcs11probe.Selection{All: true})
	s.Close() // without a module, Close does nothing
	if err == nil || !strings.Contains(err.Error(), "check the path given with -p") || s.Module != nil {
		t.Fatalf("got %v", err)
	}
}

package store

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

func TestOpenNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		dsn, file string
	}{
		{dir, filepath.Join(dir, sqliteFile)},                                                  // an existing folder
		{"sqlite:" + filepath.Join(dir, "a.db"), filepath.Join(dir, "a.db")},                   // sqlite:PATH
		{filepath.Join(dir, "new", "sub") + "/", filepath.Join(dir, "new", "sub", sqliteFile)}, // a folder to create
		{filepath.Join(dir, "deep", "b.sqlite"), filepath.Join(dir, "deep", "b.sqlite")},
	} {
		st, err := Open(ctx, tc.dsn, Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("%s: %v", tc.dsn, err)
		}
		if st.Site() != DefaultSite {
			t.Errorf("site %q, want %q", st.Site(), DefaultSite)
		}
		st.Close()
		if _, err := os.Stat(tc.file); err != nil {
			t.Errorf("%s: the database is not at %s: %v", tc.dsn, tc.file, err)
		}
	}
	for _, bad := range []struct{ dsn, site, want string }{
		{"", "", "empty database name"},
		{"sqlite:", "", "empty database name"},
		{filepath.Join(dir, "what?.db"), "", "not supported in the path"},
		{dir, " padded", "site"},
		{dir, "bad\xff", "site"},
		{"postgres://nobody@/x?host=" + filepath.Join(dir, "no-such-socket") + "&connect_timeout=2", "", "connect"},
		{"postgresql://[bad", "", "postgres URL"},
		{"host=/tmp dbname=hsm", "", "key=value"},
	} {
		st, err := Open(ctx, bad.dsn, Options{Site: bad.site, Logger: testLogger(t)})
		if err == nil {
			st.Close()
			t.Errorf("%q site %q opened", bad.dsn, bad.site)
			continue
		}
		if !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error about %q", bad.dsn, err, bad.want)
		}
	}
}

func TestLikePattern(t *testing.T) {
	for in, want := range map[string]string{
		"plain":  "%plain%",
		"100%":   "%100!%%",
		"a_b":    "%a!_b%",
		"wow!":   "%wow!!%",
		`C:\x`:   `%C:\x%`,
		"":       "%%",
		"%_!%_!": "%!%!_!!!%!_!!%",
	} {
		if got := likePattern(in); got != want {
			t.Errorf("likePattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPGText(t *testing.T) {
	for in, want := range map[string]string{
		"ok é":        "ok é",
		"nul\x00x":    "nul\uFFFDx",
		"bad\xff\xfe": "bad\uFFFD\uFFFD",
	} {
		if got := pgText(in); got != want {
			t.Errorf("pgText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFieldsNonFinite(t *testing.T) {
	var fs event.Fields
	fs.SetFloat("nan", math.NaN())
	fs.SetFloat("inf", math.Inf(-1))
	got, err := decodeFields(encodeFields(fs, keepText))
	if err != nil {
		t.Fatal(err)
	}
	if got.Text("nan") != "NaN" || got.Text("inf") != "-Inf" {
		t.Errorf("non-finite floats: %+v", got)
	}
}

// FuzzFieldsRoundTrip: fields of every kind come back with the same keys, kinds, values
// and order (valid UTF-8, finite floats: what JSON can hold).
func FuzzFieldsRoundTrip(f *testing.F) {
	f.Add("sensor", "Fan3B", int64(-409), 0.5, true)
	f.Add("", "", int64(math.MaxInt64), 2.0, false)
	f.Add("k\"\\", "\u2028<>&", int64(math.MinInt64), 1e21, true)
	f.Add("k", "v", int64(0), math.Copysign(0, -1), false) // negative zero
	f.Fuzz(func(t *testing.T, k, s string, i int64, x float64, b bool) {
		if !utf8.ValidString(k) || !utf8.ValidString(s) || math.IsNaN(x) || math.IsInf(x, 0) {
			t.Skip()
		}
		var fs event.Fields
		fs = append(fs, event.Field{Key: k + "s", Kind: event.KindString, Str: s})
		fs.SetInt(k+"i", i)
		fs.SetFloat(k+"f", x)
		fs.SetBool(k+"b", b)
		got, err := decodeFields(encodeFields(fs, keepText))
		if err != nil {
			t.Fatalf("%+v: %v", fs, err)
		}
		if !reflect.DeepEqual(got, fs) {
			t.Fatalf("round trip\n got  %+v\n want %+v", got, fs)
		}
	})
}

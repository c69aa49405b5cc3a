package secretfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/secretfile"
)

func write(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFirstLine(t *testing.T) {
	var warn strings.Builder
	p := write(t, "s3cret\r\nsecond line\n", 0o600)
	got, err := secretfile.FirstLine(p, "--auth-pass-file", &warn)
	if err != nil || got != "s3cret" || warn.Len() != 0 {
		t.Errorf("got %q, %v, warning %q", got, err, warn.String())
	}
	open := write(t, "s3cret\n", 0o644)
	_, err = secretfile.FirstLine(open, "--auth-pass-file", &warn)
	if want := "--auth-pass-file " + open + " is readable by others (mode -rw-r--r--): chmod 600 it"; err == nil ||
		err.Error() != want || !errors.Is(err, secretfile.ErrOpenToOthers) || warn.Len() != 0 {
		t.Errorf("open file: %v, want %q (warning %q)", err, want, warn.String())
	}
	_, err = secretfile.Read(open, "--users", &warn)
	if want := "--users " + open + " is readable by others (mode -rw-r--r--): chmod 600 it"; err == nil || err.Error() != want {
		t.Errorf("users file open to others: %v, want %q", err, want)
	}
	empty := write(t, "\nnot the first line\n", 0o600)
	_, err = secretfile.FirstLine(empty, "--x-file", &warn)
	if err == nil || err.Error() != "--x-file "+empty+": the first line is empty" || strings.Contains(err.Error(), "not the first") {
		t.Errorf("empty first line: %v", err)
	}
}

func TestReadMissing(t *testing.T) {
	_, err := secretfile.Read(filepath.Join(t.TempDir(), "none"), "--users", &strings.Builder{})
	if err == nil || !strings.HasPrefix(err.Error(), "--users: ") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

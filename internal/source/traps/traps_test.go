package traps

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/secretfile"
)

func TestCommunitiesFromFileAndEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "communities")
	if err := os.WriteFile(file, []byte("# the NOC's\nfile-s3cret\n\n  second  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRAP_COMMUNITIES": "env-s3cret, other"}
	s := &Spec{Listen: "127.0.0.1:0", Communities: []string{"inline"}, CommunitiesFile: file, CommunitiesEnv: "TRAP_COMMUNITIES"}
	got, err := s.communities(func(k string) string { return env[k] })
	if want := []string{"inline", "file-s3cret", "second", "env-s3cret", "other"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v, want %q", got, err, want)
	}

	if _, err := (&Spec{CommunitiesEnv: "UNSET"}).communities(func(string) string { return "" }); err == nil ||
		err.Error() != "communities_env: environment variable UNSET is empty or not set" {
		t.Errorf("unset variable: %v", err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = (&Spec{CommunitiesFile: file}).communities(nil)
	if !errors.Is(err, secretfile.ErrOpenToOthers) || !strings.Contains(err.Error(), file) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a file others may read: %v", err)
	}
}

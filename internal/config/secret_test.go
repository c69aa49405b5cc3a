package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/secretfile"
)

// TestSecretFileOpenToOthersRefused: a passphrase or community file the group or others
// may read is refused with an error naming the file, never the secret.
func TestSecretFileOpenToOthersRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "community")
	if err := os.WriteFile(p, []byte("s3cret-community\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Secret("community", p, "", os.Getenv); err != nil || got != "s3cret-community" {
		t.Fatalf("0600: %q, %v", got, err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := Secret("community", p, "", os.Getenv)
	if err == nil || !errors.Is(err, secretfile.ErrOpenToOthers) || !strings.Contains(err.Error(), p) ||
		strings.Contains(err.Error(), "s3cret") {
		t.Errorf("0640: %v", err)
	}
	u := SNMPUser{Name: "pete", AuthPassFile: p}
	if _, err := u.TrapUser(os.Getenv); !errors.Is(err, secretfile.ErrOpenToOthers) {
		t.Errorf("TrapUser: %v", err)
	}
}

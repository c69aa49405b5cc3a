package daemon

import (
	"os"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// TestMain gives the pkcs11 probes an hsmwatch binary to run as their child.
func TestMain(m *testing.M) {
	os.Exit(p11test.ProbeMain(m))
}

package p11check_test

import (
	"os"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
)

// TestMain gives Run an hsmwatch binary to run as the probe child.
func TestMain(m *testing.M) {
	os.Exit(p11test.ProbeMain(m))
}

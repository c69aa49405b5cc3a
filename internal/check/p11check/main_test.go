package p11check_test

import (
	"os"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe"
)

// TestMain makes this test binary the probe child that Run starts.
func TestMain(m *testing.M) {
	pkcs11probe.MaybeChild()
	os.Exit(m.Run())
}

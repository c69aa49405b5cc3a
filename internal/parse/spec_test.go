package parse

import (
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

func sharedPath(t testing.TB, rel string) string { t.Helper(); return testutil.SharedPath(t, rel) }

func readJSONL[T any](t testing.TB, rel string) []T { t.Helper(); return testutil.ReadJSONL[T](t, rel) }

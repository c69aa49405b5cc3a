package main

import "testing"

func TestDSNHasPassword(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://hsm:s3cret@db/hsmwatch":          true,
		"postgres://db/hsmwatch?password=s3cret":     true,
		"postgres://hsm@db/hsmwatch?sslmode=disable": false,
		"sqlite:/var/lib/hsmwatch/hsmwatch.db":       false,
		"":                                           false,
	} {
		if got := dsnHasPassword(dsn); got != want {
			t.Errorf("%q: %v, want %v", dsn, got, want)
		}
	}
}

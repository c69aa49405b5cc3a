package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestCatalogFileIsGenerated: the checked-in catalog/pkcs11-ckr.yaml is what ckr.txt gives.
func TestCatalogFileIsGenerated(t *testing.T) {
	in, err := os.ReadFile("ckr.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../catalog/pkcs11-ckr.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("catalog/pkcs11-ckr.yaml is stale: run go generate ./internal/classify")
	}
}

// TestEveryStandardCode: every CKR_ of PKCS#11 3.0 is listed once, with the levels the
// issue names.
func TestEveryStandardCode(t *testing.T) {
	in, _ := os.ReadFile("ckr.txt")
	_, codes, err := parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 98 {
		t.Errorf("%d codes, want the 98 CKR_ values of pkcs11t.h 3.0", len(codes))
	}
	levels := map[string]string{}
	for _, c := range codes {
		if _, dup := levels[c.name]; dup {
			t.Errorf("%s listed twice", c.name)
		}
		levels[c.name] = c.level
	}
	for name, want := range map[string]string{"CKR_DEVICE_ERROR": "major", "CKR_DEVICE_REMOVED": "major",
		"CKR_TOKEN_NOT_PRESENT": "major", "CKR_PIN_LOCKED": "major", "CKR_PIN_INCORRECT": "warning", "CKR_OK": "none"} {
		if levels[name] != want {
			t.Errorf("%s: level %q, want %q", name, levels[name], want)
		}
	}
	out, _ := generate(in)
	if strings.Contains(string(out), "CKR_OK\\b") {
		t.Error("CKR_OK has a rule")
	}
}

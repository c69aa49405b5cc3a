package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// Secret reads a secret from a file (its first line) or an environment variable; ""
// when neither is given. The secret itself never appears in an error.
func Secret(file, env string, getenv func(string) string) (string, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		s, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSpace(s), nil
	case env != "":
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", env)
		}
		return v, nil
	}
	return "", nil
}

// USM reads the user's passphrases from their files or environment variables.
func (u SNMPUser) USM(getenv func(string) string) (usm.User, error) {
	out := usm.User{Name: u.Name, AuthProto: gosnmp.NoAuth, PrivProto: gosnmp.NoPriv}
	auth, err := Secret(u.AuthPassFile, u.AuthPassEnv, getenv)
	if err != nil {
		return out, fmt.Errorf("user %s: auth pass: %w", u.Name, err)
	}
	priv, err := Secret(u.PrivPassFile, u.PrivPassEnv, getenv)
	if err != nil {
		return out, fmt.Errorf("user %s: priv pass: %w", u.Name, err)
	}
	if auth != "" {
		p, err := usm.AuthProtocol(or(u.AuthProto, "SHA"))
		if err != nil {
			return out, fmt.Errorf("user %s: auth_proto: %w", u.Name, err)
		}
		out.AuthProto, out.AuthPass = p, auth
	}
	if priv != "" {
		if auth == "" {
			return out, fmt.Errorf("user %s: a privacy passphrase needs an authentication passphrase", u.Name)
		}
		p, err := usm.PrivProtocol(or(u.PrivProto, "AES"))
		if err != nil {
			return out, fmt.Errorf("user %s: priv_proto: %w", u.Name, err)
		}
		out.PrivProto, out.PrivPass = p, priv
	}
	return out, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

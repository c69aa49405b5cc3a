package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gosnmp/gosnmp"
	"github.com/spf13/pflag"
)

// secretFlag is one secret (a community, a passphrase) with its three sources: a file
// (--X-file), an environment variable, and the flag value itself. A flag value shows in
// process lists (ps, /proc/PID/cmdline), so the file and the environment are the safe
// forms; the flag is accepted for tests and warned about. The value never reaches a log,
// an error or the output.
type secretFlag struct {
	flag, env, what string
	value, file     string
}

func (s *secretFlag) register(fl *pflag.FlagSet, flag, env, what string) {
	s.flag, s.env, s.what = flag, env, what
	fl.StringVar(&s.value, flag, "", what+" (shows in process lists: prefer --"+flag+"-file or "+env+")")
	fl.StringVar(&s.file, flag+"-file", "", "read "+what+" from this file (first line)")
}

// get returns the secret: from the file, else the flag, else the environment; "" when
// none is given. Giving both the file and the flag is an error.
func (s *secretFlag) get(warn io.Writer) (string, error) {
	switch {
	case s.file != "" && s.value != "":
		return "", fmt.Errorf("give %s once: --%s-file or --%s", s.what, s.flag, s.flag)
	case s.file != "":
		return readSecretFile(s.file, "--"+s.flag+"-file", warn)
	case s.value != "":
		fmt.Fprintf(warn, "hsmwatch: warning: --%s shows in process lists; use --%s-file or %s\n", s.flag, s.flag, s.env)
		return s.value, nil
	}
	return os.Getenv(s.env), nil
}

// readSecretFile reads the first line of a secret file, warning when others may read it.
func readSecretFile(path, flag string, warn io.Writer) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(warn, "hsmwatch: warning: %s %s is readable by others (mode %v); chmod 600 it\n", flag, path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s %s: the first line is empty", flag, path)
	}
	return line, nil
}

// authProtocol reads an SNMPv3 authentication protocol name.
func authProtocol(s string) (gosnmp.SnmpV3AuthProtocol, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "MD5":
		return gosnmp.MD5, nil
	case "SHA", "SHA1":
		return gosnmp.SHA, nil
	case "SHA224":
		return gosnmp.SHA224, nil
	case "SHA256":
		return gosnmp.SHA256, nil
	case "SHA384":
		return gosnmp.SHA384, nil
	case "SHA512":
		return gosnmp.SHA512, nil
	}
	return 0, fmt.Errorf("authentication protocol %q: use MD5, SHA, SHA224, SHA256, SHA384 or SHA512", s)
}

// privProtocol reads an SNMPv3 privacy protocol name. AES192 and AES256 extend the key
// as Blumenthal's draft does, AES192C and AES256C as Reeder's (Cisco's) does: peers
// differ, check which one yours uses.
func privProtocol(s string) (gosnmp.SnmpV3PrivProtocol, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "DES":
		return gosnmp.DES, nil
	case "AES", "AES128":
		return gosnmp.AES, nil
	case "AES192":
		return gosnmp.AES192, nil
	case "AES256":
		return gosnmp.AES256, nil
	case "AES192C":
		return gosnmp.AES192C, nil
	case "AES256C":
		return gosnmp.AES256C, nil
	}
	return 0, fmt.Errorf("privacy protocol %q: use DES, AES, AES192, AES256, AES192C or AES256C", s)
}

// engineID reads an SNMPv3 engine ID in hex, with or without 0x (the Luna appliance's
// "sysconf snmp trap set -engineid" takes it without).
func engineID(s string) ([]byte, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	h = strings.ReplaceAll(h, ":", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) < 5 || len(b) > 32 {
		return nil, fmt.Errorf("engine ID %q: want 5 to 32 bytes in hex", s)
	}
	return b, nil
}

package usm

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// AuthProtocolNames and PrivProtocolNames list the protocol names every command,
// configuration file and simulator accepts, for help texts and errors.
const (
	AuthProtocolNames = "MD5, SHA, SHA224, SHA256, SHA384, SHA512"
	PrivProtocolNames = "DES, AES, AES192, AES256, AES192C, AES256C"
)

var (
	authByName = map[string]gosnmp.SnmpV3AuthProtocol{"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA1": gosnmp.SHA,
		"SHA224": gosnmp.SHA224, "SHA256": gosnmp.SHA256, "SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512}
	privByName = map[string]gosnmp.SnmpV3PrivProtocol{"DES": gosnmp.DES, "AES": gosnmp.AES, "AES128": gosnmp.AES,
		"AES192": gosnmp.AES192, "AES256": gosnmp.AES256, "AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C}
)

// protocolKey folds how people write a protocol name: "sha-256", " SHA256 ".
func protocolKey(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
}

// AuthProtocol reads an authentication protocol name (SHA1 is SHA).
func AuthProtocol(name string) (gosnmp.SnmpV3AuthProtocol, error) {
	if p, ok := authByName[protocolKey(name)]; ok {
		return p, nil
	}
	return 0, fmt.Errorf("authentication protocol %q: use %s", name, AuthProtocolNames)
}

// PrivProtocol reads a privacy protocol name (AES128 is AES). AES192 and AES256 extend
// the key as Blumenthal's draft does, AES192C and AES256C as Reeder's (Cisco's) does:
// peers differ, check which one yours uses.
func PrivProtocol(name string) (gosnmp.SnmpV3PrivProtocol, error) {
	if p, ok := privByName[protocolKey(name)]; ok {
		return p, nil
	}
	return 0, fmt.Errorf("privacy protocol %q: use %s", name, PrivProtocolNames)
}

// ParseEngineID reads an SNMPv3 engine ID in hex, with or without 0x and colons (the
// Luna appliance's "sysconf snmp trap set -engineid" takes it without): 5 to 32 bytes.
func ParseEngineID(s string) ([]byte, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	b, err := hex.DecodeString(strings.ReplaceAll(h, ":", ""))
	if err != nil || len(b) < 5 || len(b) > 32 {
		return nil, fmt.Errorf("engine ID %q: want 5 to 32 bytes in hex", s)
	}
	return b, nil
}
